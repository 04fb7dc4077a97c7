package resume_test

import (
	"context"
	"errors"
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/resume"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// events keeps events by id and counts requeues.
type events struct {
	kept     map[string][]byte
	requeued int
}

func (e *events) Event(_ context.Context, _, id string) ([]byte, error) {
	if b, ok := e.kept[id]; ok {
		return b, nil
	}
	return nil, failure.New("store: read event", failure.NotFound, nil)
}

func (e *events) Requeue(context.Context, store.DeliveryKey, store.Reason) (store.Delivery, error) {
	e.requeued++
	return store.Delivery{}, nil
}

type sent []queue.Message

func (s *sent) Send(_ context.Context, m queue.Message) error { *s = append(*s, m); return nil }

// TestOne: a delivery goes on with the event its record holds, or the one
// kept apart; without either it cannot (expired or erased), and nothing
// is sent or marked.
func TestOne(t *testing.T) {
	for _, tc := range []struct {
		name     string
		d        store.Delivery
		kept     map[string][]byte
		wantBody string
		wantErr  error
	}{
		{"the event kept apart", store.Delivery{WorkspaceID: "ws", EventID: "evt_1"}, map[string][]byte{"evt_1": []byte(`{"kept":1}`)}, `{"kept":1}`, nil},
		{"an old record's own event", store.Delivery{WorkspaceID: "ws", EventID: "evt_1", Event: []byte(`{"old":1}`)}, nil, `{"old":1}`, nil},
		{"no event any more", store.Delivery{WorkspaceID: "ws", EventID: "evt_1"}, nil, "", resume.ErrExpired},
	} {
		st, q := &events{kept: tc.kept}, &sent{}
		err := resume.One(t.Context(), st, q, tc.d, store.ReasonRetryRequested)
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.wantErr)
		}
		switch {
		case tc.wantBody == "" && (len(*q) != 0 || st.requeued != 0):
			t.Errorf("%s: sent %d, requeued %d; want nothing", tc.name, len(*q), st.requeued)
		case tc.wantBody != "" && (len(*q) != 1 || string((*q)[0].Body) != tc.wantBody || (*q)[0].Group != "ws" || st.requeued != 1):
			t.Errorf("%s: sent %+v, requeued %d; want %s once", tc.name, *q, st.requeued, tc.wantBody)
		}
	}
}
