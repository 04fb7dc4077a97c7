package outbound_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
)

type fakeQueue struct {
	refuse    bool
	published []string
}

func (q *fakeQueue) Publish(_ context.Context, e outbound.Event) error {
	if q.refuse {
		return errors.New("queue down")
	}
	q.published = append(q.published, e.ID)
	return nil
}

type fakeMarks struct{ sent []string }

func (m *fakeMarks) Sent(_ context.Context, ws, id string) error {
	m.sent = append(m.sent, ws+"/"+id)
	return nil
}

// TestTeller: the events to record go with the change only when a
// notifier is set; a told event is published, then marked sent; one the
// queue refuses is not marked (it stays pending) and its error comes back.
func TestTeller(t *testing.T) {
	e := outbound.DeliveryEvent(outbound.DeliveryFailed, "ws_a", "fn_1", "evt_1", 0, lifecycle.ReasonDuplicate, time.Unix(0, 0))
	off := outbound.NewTeller("test", nil, &fakeMarks{}, nil)
	if off.On() || off.Pending(e) != nil || off.Tell(t.Context(), e) != nil {
		t.Errorf("a teller without a notifier records or tells")
	}
	q, m := &fakeQueue{}, &fakeMarks{}
	on := outbound.NewTeller("test", q, m, nil)
	if ps := on.Pending(e); len(ps) != 1 || ps[0].ID != e.ID || ps[0].WorkspaceID != "ws_a" {
		t.Errorf("pending: %+v", ps)
	}
	if err := on.Tell(t.Context(), e); err != nil || len(q.published) != 1 || len(m.sent) != 1 || m.sent[0] != "ws_a/"+e.ID {
		t.Errorf("tell: %v, published %v, sent %v", err, q.published, m.sent)
	}
	q.refuse = true
	if err := on.Tell(t.Context(), e); err == nil || len(m.sent) != 1 {
		t.Errorf("a refused publish: %v, sent %v; want its error and no mark", err, m.sent)
	}
}
