package delivery_test

import (
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/delivery"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// TestFailedEventStaysPending: a delivery fails for good (the applicant's
// second application to the position, refused as a duplicate) and the
// outbound queue refuses its delivery.failed, as when the worker dies
// between its record and its publish. The record is at rest: nothing
// would say it again. The event, recorded in the same request as the
// record's change, stays pending with its id for the watch to publish;
// an event whose publish went through does not.
func TestFailedEventStaysPending(t *testing.T) {
	told := &testenv.Told{}
	p := newPipe(t, pipeOpts{worker: func(c *delivery.Config) { c.Notify = told }})
	w := p.worker()
	send := func(id string) {
		if r := p.post(t, p.event(id, "ada@example.com", "")); r.StatusCode != 202 {
			t.Fatalf("ingest %s: %d %s", id, r.StatusCode, r.Body)
		}
		p.drain(t, w, 10*time.Second, func() bool { return p.status(t, id).Terminal() })
	}
	send("evt_first")
	send("evt_second") // a duplicate: failed, told
	told.Refuse(1)
	send("evt_third") // a duplicate: failed, its event refused
	for _, id := range []string{"evt_second", "evt_third"} {
		if d := p.status(t, id); d.Status != lifecycle.StatusFailed || d.ReasonCode != lifecycle.ReasonDuplicate {
			t.Fatalf("%s: %s %s, want failed as a duplicate", id, d.Status, d.ReasonCode)
		}
	}
	if got := told.Take(); len(got) != 1 || got[0].DeliveryID != "evt_second" {
		t.Fatalf("published %+v, want evt_second's delivery.failed only", got)
	}
	var pending []outbound.Event
	if err := p.store.PendingEvents(t.Context(), func(pe store.Pending) error {
		e, err := outbound.Recorded(pe)
		pending = append(pending, e)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// The problem is the delivery's failing attempt, named by the number
	// of attempts before it.
	third := p.status(t, "evt_third")
	want := outbound.DeliveryEvent(outbound.DeliveryFailed, ws, funnel, "evt_third", len(third.Attempts)-1, lifecycle.ReasonDuplicate, time.Time{})
	if len(pending) != 1 || pending[0].ID != want.ID || pending[0].Type != outbound.DeliveryFailed {
		t.Errorf("pending %+v, want evt_third's delivery.failed (%s) only", pending, want.ID)
	}
}

// TestInvalidEventIsTold: an event put straight onto the queue whose ids
// can be read but which breaks the schema fails for good, and the
// workspace is told, as of any delivery that failed for good.
func TestInvalidEventIsTold(t *testing.T) {
	told := &testenv.Told{}
	p := newPipe(t, pipeOpts{worker: func(c *delivery.Config) { c.Notify = told }})
	if err := p.queue.Send(t.Context(), queue.Message{Group: ws, Body: []byte(`{"id":"evt_bad","workspace_id":"` + ws + `","funnel_id":"` + funnel + `","type":"x"}`)}); err != nil {
		t.Fatal(err)
	}
	w := p.worker()
	p.drain(t, w, 10*time.Second, func() bool { return p.status(t, "evt_bad").Terminal() })
	want := outbound.DeliveryEvent(outbound.DeliveryFailed, ws, funnel, "evt_bad", 0, lifecycle.ReasonInvalidEvent, time.Time{})
	if got := told.Take(); len(got) != 1 || got[0].ID != want.ID || got[0].ReasonCode != lifecycle.ReasonInvalidEvent {
		t.Errorf("published %+v, want evt_bad's delivery.failed (%s)", got, want.ID)
	}
	if err := p.store.PendingEvents(t.Context(), func(pe store.Pending) error {
		t.Errorf("an event left pending after its publish: %+v", pe)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
