package delivery_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/delivery"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// bigEvent is a valid event of exactly application.MaxEventSize bytes.
func bigEvent(t *testing.T, id, email string) []byte {
	ev := map[string]any{"type": "application.submitted", "id": id, "occurred_at": time.Now().UTC().Format(time.RFC3339),
		"workspace_id": ws, "funnel_id": funnel, "contact": map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": email}}
	var answers []any
	for i := range 5 {
		answers = append(answers, map[string]any{"field_id": fmt.Sprintf("q_%d", i), "label": "Text", "type": "text", "value": strings.Repeat("x", 50000)})
	}
	ev["answers"] = answers
	b, _ := json.Marshal(ev)
	pad := application.MaxEventSize - len(b)
	answers[4].(map[string]any)["value"] = strings.Repeat("x", 50000+pad)
	b, _ = json.Marshal(ev)
	if len(b) != application.MaxEventSize {
		t.Fatalf("event of %d bytes", len(b))
	}
	if _, err := application.Parse(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMaxSizeEventDefers: an event of the largest size ingest accepts can
// still be deferred by a delayed copy (its defer token fits under SQS's
// limit), so waiting for budget does not burn its receives.
func TestMaxSizeEventDefers(t *testing.T) {
	budget := store.Budget{Limit: 1, Window: 2 * time.Second}
	p := newPipe(t, pipeOpts{worker: func(c *delivery.Config) { c.Budget = budget }})
	ctx := t.Context()
	if ok, _, err := p.store.TakeBudget(ctx, "42", 1, budget); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if r := p.post(t, bigEvent(t, "evt_big", "big@example.com")); r.StatusCode != 202 {
		t.Fatalf("ingest: %d %s", r.StatusCode, r.Body)
	}
	w := p.worker()
	p.drain(t, w, 20*time.Second, p.is(t, "evt_big", store.StatusDelivered))
	d := p.status(t, "evt_big")
	waited := false
	for _, a := range d.Attempts {
		waited = waited || a.ReasonCode == store.ReasonBudget
		if a.Outcome == store.StatusRetrying {
			t.Errorf("the wait burnt a receive: %+v", d.Attempts)
		}
	}
	if !waited || d.DeferToken == "" {
		t.Errorf("the event did not wait as a delayed copy: %+v", d.Attempts)
	}
	if m := (queue.Message{Body: bigEvent(t, "evt_x", "x@example.com"), Attributes: map[string]string{"defer_token": strings.Repeat("f", 64)}}); m.Size() > queue.MaxMessage {
		t.Errorf("a largest event with a defer token is %d bytes, over SQS's %d", m.Size(), queue.MaxMessage)
	}
}

// TestTooManyFiles: an application whose requests cannot fit in one
// window of the budget (sent straight to the queue, past ingest's check)
// fails at once with a reason that names Personio's limit, instead of
// waiting for a turn that never comes; 19 files still go.
func TestTooManyFiles(t *testing.T) {
	p := newPipe(t, pipeOpts{})
	ctx := t.Context()
	withFiles := func(id string, n int) []byte {
		var ev map[string]any
		_ = json.Unmarshal(p.event(id, id+"@example.com", ""), &ev)
		var files []any
		for i := range n {
			files = append(files, map[string]any{"field_id": fmt.Sprintf("q_f%d", i), "url": fmt.Sprintf("%s/f%d.pdf", p.files.URL, i), "filename": fmt.Sprintf("f%d.pdf", i)})
		}
		ev["files"] = files
		b, _ := json.Marshal(ev)
		return b
	}
	for id, n := range map[string]int{"evt_files19": 19, "evt_files20": 20, "evt_files25": 25} {
		if err := p.queue.Send(ctx, queue.Message{ID: id, Group: ws, Body: withFiles(id, n)}); err != nil {
			t.Fatal(err)
		}
	}
	p.drain(t, p.worker(), 20*time.Second, func() bool {
		return p.status(t, "evt_files19").Terminal() && p.status(t, "evt_files20").Terminal() && p.status(t, "evt_files25").Terminal()
	})
	if d := p.status(t, "evt_files19"); d.Status != store.StatusDelivered {
		t.Errorf("19 files: %s %s %s", d.Status, d.ReasonCode, d.Reason)
	}
	for _, id := range []string{"evt_files20", "evt_files25"} {
		if d := p.status(t, id); d.Status != store.StatusFailed || d.ReasonCode != store.ReasonTooManyFiles || !strings.Contains(d.Reason, "Personio takes 20") {
			t.Errorf("%s: %s %s %s", id, d.Status, d.ReasonCode, d.Reason)
		}
	}
}
