package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/delivery"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
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
	budget := store.Budget{Limit: 1, Window: 5 * time.Second}
	p := newPipe(t, pipeOpts{worker: func(c *delivery.Config) { c.Budget = budget }})
	ctx := t.Context()
	if r := p.post(t, bigEvent(t, "evt_big", "big@example.com")); r.StatusCode != 202 {
		t.Fatalf("ingest: %d %s", r.StatusCode, r.Body)
	}
	w := p.worker()
	// The budget is taken just before the worker sees the event, so that
	// it must wait its turn however slow the machine is.
	if ok, _, err := p.store.TakeBudget(ctx, "42", 1, budget); !ok || err != nil {
		t.Fatal(ok, err)
	}
	p.drain(t, w, 20*time.Second, p.is(t, "evt_big", lifecycle.StatusDelivered))
	d := p.status(t, "evt_big")
	waited := false
	for _, a := range d.Attempts {
		waited = waited || a.ReasonCode == lifecycle.ReasonBudget
		if a.Outcome == lifecycle.StatusRetrying {
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
	if d := p.status(t, "evt_files19"); d.Status != lifecycle.StatusDelivered {
		t.Errorf("19 files: %s %s %s", d.Status, d.ReasonCode, d.Reason)
	}
	for _, id := range []string{"evt_files20", "evt_files25"} {
		if d := p.status(t, id); d.Status != lifecycle.StatusFailed || d.ReasonCode != lifecycle.ReasonTooManyFiles || !strings.Contains(d.Reason, "Personio takes 20") {
			t.Errorf("%s: %s %s %s", id, d.Status, d.ReasonCode, d.Reason)
		}
	}
}

// TestFileURLsStayOut: a file URL's path and query (a pre-signed URL's
// signature is a credential; a path may name the applicant) never reach a
// delivery record or a log line, whether the download fails for a while
// or for good: only the host and what went wrong.
func TestFileURLsStayOut(t *testing.T) {
	p := newPipe(t, pipeOpts{maxReceive: 2})
	const query = "?X-Amz-Signature=5ecret5ig"
	p.logs.NeverHolds(t, "5ecret5ig", "anna-van-der-berg")
	if r := p.post(t, p.event("evt_url_down", "down@example.com", p.files.URL+"/down/anna-van-der-berg/cv.pdf"+query)); r.StatusCode != 202 {
		t.Fatalf("ingest: %d %s", r.StatusCode, r.Body)
	}
	if r := p.post(t, p.event("evt_url_gone", "gone@example.com", p.files.URL+"/missing.pdf"+query)); r.StatusCode != 202 {
		t.Fatalf("ingest: %d %s", r.StatusCode, r.Body)
	}
	p.drain(t, p.worker(), 20*time.Second, func() bool {
		return p.status(t, "evt_url_down").Status == lifecycle.StatusDead && p.status(t, "evt_url_gone").Terminal()
	})
	for _, id := range []string{"evt_url_down", "evt_url_gone"} {
		d := p.status(t, id)
		record, _ := json.Marshal(struct {
			R string
			W []string
			A []store.Attempt
		}{d.Reason, d.Warnings, d.Attempts})
		if strings.Contains(string(record), "5ecret5ig") || strings.Contains(string(record), "anna-van-der-berg") || strings.Contains(string(record), "missing.pdf") {
			t.Errorf("%s's record quotes the URL: %s", id, record)
		}
		if !strings.Contains(string(record), "127.0.0.1") {
			t.Errorf("%s's record does not name the host: %s", id, record)
		}
	}
}

// TestDeadline: a record that cannot finish before the invocation's
// deadline (a Personio that answers after 3 s, a 1.5 s invocation) stops
// at the deadline less the margin, records a retry (not "processing"),
// and the batch's answer comes back before the deadline, naming it.
func TestDeadline(t *testing.T) {
	p := newPipe(t, pipeOpts{sandbox: sandbox.Config{Latency: 3 * time.Second}, worker: func(c *delivery.Config) { c.DeadlineMargin = 500 * time.Millisecond }})
	if r := p.post(t, p.event("evt_deadline", "deadline@example.com", "")); r.StatusCode != 202 {
		t.Fatalf("ingest: %d %s", r.StatusCode, r.Body)
	}
	msgs, err := p.queue.Receive(t.Context(), 10, time.Second)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("receive: %d, %v", len(msgs), err)
	}
	deadline := time.Now().Add(1500 * time.Millisecond)
	ctx, cancel := context.WithDeadline(t.Context(), deadline)
	defer cancel()
	resp, err := p.worker().Handle(ctx, sqsEvent(msgs...))
	if err != nil || time.Now().After(deadline) {
		t.Fatalf("the batch answered at %s, after its deadline (%v)", time.Since(deadline), err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != msgs[0].ID {
		t.Errorf("the answer does not name the record to retry: %+v", resp)
	}
	d := p.status(t, "evt_deadline")
	if d.Status != lifecycle.StatusRetrying || d.NextAttemptAt == nil || d.ClaimOwner != "" || !strings.Contains(d.Reason, "time ran out") {
		t.Errorf("record: %s owner %q next %v %q", d.Status, d.ClaimOwner, d.NextAttemptAt, d.Reason)
	}
}
