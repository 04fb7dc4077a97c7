package delivery_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/delivery"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/routing"
)

// route gives the seed's funnel a routing table by q_position: Sales
// Manager (Hamburg) to 1003, Backend Engineer to 1002; 1001 is the
// default.
func (p *pipe) route(t *testing.T) {
	t.Helper()
	in, err := p.store.GetIntegration(t.Context(), ws, funnel)
	if err != nil {
		t.Fatal(err)
	}
	in.PositionRouting = &routing.Table{Source: "answers.q_position", Positions: map[string]int64{"Sales Manager (Hamburg)": 1003, "Backend Engineer": 1002}}
	if _, err := p.store.PutIntegration(t.Context(), in); err != nil {
		t.Fatal(err)
	}
}

// routedEvent is an event of email whose q_position answer is answer.
func routedEvent(id, email, answer string) []byte {
	b, _ := json.Marshal(map[string]any{"type": "application.submitted", "id": id, "occurred_at": time.Now().UTC().Format(time.RFC3339),
		"workspace_id": ws, "funnel_id": funnel, "contact": map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": email},
		"answers": []any{map[string]any{"field_id": "q_position", "label": "Position", "type": "choice", "value": answer}}})
	return b
}

// sendRouted posts a routed event and works the queue until it settles or
// parks.
func (p *pipe) sendRouted(t *testing.T, id, email, answer string) {
	t.Helper()
	if r := p.post(t, routedEvent(id, email, answer)); r.StatusCode != 202 {
		t.Fatalf("ingest %s: %d %s", id, r.StatusCode, r.Body)
	}
	w := p.worker()
	p.drain(t, w, 10*time.Second, func() bool { return p.status(t, id).Terminal() || p.status(t, id).Status == lifecycle.StatusParked })
}

// TestRoutedDelivery: three applications of one applicant answer the
// routing question with two positions' labels (in other case and spacing)
// and with an unknown answer; each arrives at its position (the unknown
// one at the default), and each record says which and why. Personio's
// duplicate check is per applicant and position: a fourth to a position
// the applicant has already applied to is refused, and its
// delivery.failed names that position.
func TestRoutedDelivery(t *testing.T) {
	rec := &testenv.Told{}
	p := newPipe(t, pipeOpts{worker: func(c *delivery.Config) { c.Notify = rec }})
	p.route(t)
	p.sandbox.Sandbox.SetPublished("42", 1002, true)
	for _, tc := range []struct {
		id, answer string
		position   int64
		why        string
	}{
		{"evt_sales", "Sales Manager (Hamburg)", 1003, "answer 'Sales Manager (Hamburg)' of q_position"},
		{"evt_backend", "  backend ENGINEER ", 1002, "answer 'Backend Engineer' of q_position"},
		{"evt_other", "Astronaut", 1001, "default position"},
	} {
		p.sendRouted(t, tc.id, "ada@example.com", tc.answer)
		d := p.status(t, tc.id)
		if d.Status != lifecycle.StatusDelivered || d.JobPositionID != tc.position || d.PositionReason != tc.why {
			t.Errorf("%s: %s to %d (%q), want delivered to %d (%q)", tc.id, d.Status, d.JobPositionID, d.PositionReason, tc.position, tc.why)
		}
	}
	got := map[int64]int{}
	for _, a := range p.sandbox.Sandbox.Applications("42") {
		got[a.Application.JobPositionID]++
	}
	if len(got) != 3 || got[1001] != 1 || got[1002] != 1 || got[1003] != 1 {
		t.Errorf("applications per position: %v, want one each at 1001, 1002, 1003", got)
	}
	p.sendRouted(t, "evt_sales_again", "ada@example.com", "sales manager (hamburg)")
	if d := p.status(t, "evt_sales_again"); d.Status != lifecycle.StatusFailed || d.ReasonCode != lifecycle.ReasonDuplicate || d.JobPositionID != 1003 {
		t.Errorf("a second application to 1003: %s %s to %d, want failed as a duplicate", d.Status, d.ReasonCode, d.JobPositionID)
	}
	if ev := rec.Take(); len(ev) != 1 || ev[0].Type != outbound.DeliveryFailed || ev[0].PositionID != 1003 {
		t.Errorf("told %+v, want one delivery.failed naming 1003", ev)
	}
	if !strings.Contains(p.logs.String(), `"position_reason":"answer 'Sales Manager (Hamburg)' of q_position"`) {
		t.Errorf("the delivery log line does not say why: %s", p.logs.String())
	}
}

// TestRoutedPositionParks: a routed position Personio no longer publishes
// parks only the applications routed to it, on a list of its own (the
// next one without asking Personio); the default's keep flowing. Erasing
// the parked applicant leaves nothing of them.
func TestRoutedPositionParks(t *testing.T) {
	p := newPipe(t, pipeOpts{})
	p.route(t)
	ctx := t.Context()
	p.sendRouted(t, "evt_backend_1", "b1@example.com", "Backend Engineer") // 1002 is unpublished
	p.sendRouted(t, "evt_default", "d1@example.com", "Office Manager")
	p.sendRouted(t, "evt_backend_2", "b2@example.com", "Backend Engineer")
	for id, want := range map[string]lifecycle.Status{"evt_backend_1": lifecycle.StatusParked, "evt_backend_2": lifecycle.StatusParked, "evt_default": lifecycle.StatusDelivered} {
		if d := p.status(t, id); d.Status != want {
			t.Errorf("%s: %s (%s), want %s", id, d.Status, d.Reason, want)
		}
	}
	in, _ := p.store.GetIntegration(ctx, ws, funnel)
	if in.UnpublishedMark(1002) == nil || in.UnpublishedNow() {
		t.Errorf("marks: routed %v, default %v; want 1002 only", in.RoutedUnpublished, in.Unpublished)
	}
	if n := p.sandbox.Sandbox.Stats().Requests["applications 400"] + p.sandbox.Sandbox.Stats().Requests["applications 422"]; n > 1 {
		t.Errorf("%d refused creates; the second application for 1002 should park without asking", n)
	}
	page, err := p.store.ListParkedOnRoutedPosition(ctx, ws, funnel, 1002, 10, "")
	if err != nil || len(page.Deliveries) != 2 {
		t.Fatalf("parked on 1002: %+v, %v", page.Deliveries, err)
	}
	if page, _ := p.store.ListParkedOnPosition(ctx, ws, funnel, 10, ""); len(page.Deliveries) != 0 {
		t.Errorf("parked on the default: %d, want none", len(page.Deliveries))
	}
	er, err := p.store.EraseApplicant(ctx, ws, application.EmailHash(p.cfg.HashKey, "b1@example.com"), time.Now().Add(time.Hour))
	if err != nil || er.Records != 1 {
		t.Fatalf("erase: %+v, %v", er, err)
	}
	if page, _ := p.store.ListParkedOnRoutedPosition(ctx, ws, funnel, 1002, 10, ""); len(page.Deliveries) != 1 || page.Deliveries[0].EventID != "evt_backend_2" {
		t.Errorf("parked on 1002 after the erasure: %+v", page.Deliveries)
	}
}
