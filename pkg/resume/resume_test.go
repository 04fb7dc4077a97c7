package resume_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/resume"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

type fakeQueue struct {
	sent []queue.Message
	err  error
}

func (q *fakeQueue) Send(_ context.Context, m queue.Message) error {
	if q.err != nil {
		return q.err
	}
	q.sent = append(q.sent, m)
	return nil
}

type fakeStore struct {
	marked []lifecycle.Reason
	err    error
}

func (s *fakeStore) Event(context.Context, string, string) ([]byte, error) {
	return nil, failure.New("store: read event", failure.NotFound, nil)
}

func (s *fakeStore) Requeue(_ context.Context, _ store.DeliveryKey, code lifecycle.Reason) (store.Delivery, error) {
	if s.err != nil {
		return store.Delivery{}, s.err
	}
	s.marked = append(s.marked, code)
	return store.Delivery{Status: lifecycle.StatusQueued}, nil
}

// TestOne: the stored event goes to the queue (grouped by its
// workspace) before the record is marked; a record without its event
// sends nothing; a failed send marks nothing; a mark refused because the
// record moved on is not an error.
func TestOne(t *testing.T) {
	d := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_1", Status: lifecycle.StatusDead, Event: []byte(`{"id":"evt_1"}`)}
	sendErr := failure.New("queue: send", failure.Transient, errors.New("reset"))
	for _, c := range []struct {
		name       string
		d          store.Delivery
		queueErr   error
		storeErr   error
		want       error
		sent, mark int
	}{
		{name: "sent and marked", d: d, sent: 1, mark: 1},
		{name: "no event", d: store.Delivery{WorkspaceID: "ws_a", EventID: "evt_2", Status: lifecycle.StatusFailed}, want: resume.ErrExpired},
		{name: "no event is not found", d: store.Delivery{WorkspaceID: "ws_a", EventID: "evt_2", Status: lifecycle.StatusFailed}, want: failure.ErrNotFound},
		{name: "send fails", d: d, queueErr: sendErr, want: failure.ErrTransient},
		{name: "a worker moved it on", d: d, storeErr: failure.New("store: requeue", failure.Conflict, nil), sent: 1},
		{name: "mark fails", d: d, storeErr: failure.New("store: requeue", failure.Throttled, nil), want: failure.ErrThrottled, sent: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, st := &fakeQueue{err: c.queueErr}, &fakeStore{err: c.storeErr}
			err := resume.One(t.Context(), st, q, c.d, lifecycle.ReasonReplayed)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
			if len(q.sent) != c.sent || len(st.marked) != c.mark {
				t.Errorf("sent %d, marked %d; want %d, %d", len(q.sent), len(st.marked), c.sent, c.mark)
			}
			if len(q.sent) == 1 && (q.sent[0].Group != "ws_a" || q.sent[0].ID != "evt_1" || string(q.sent[0].Body) != `{"id":"evt_1"}`) {
				t.Errorf("sent %+v", q.sent[0])
			}
			if len(st.marked) == 1 && st.marked[0] != lifecycle.ReasonReplayed {
				t.Errorf("marked with %s", st.marked[0])
			}
		})
	}
}

// TestOneOnTheEmulator: on kumo, a dead delivery is sent again: the
// queue holds its event once and the record is queued with the reason and
// an attempt saying so; a second resume of the same delivery sends the
// event again but changes nothing on the record (the worker's claim keeps
// it from being delivered twice).
func TestOneOnTheEmulator(t *testing.T) {
	env := testenv.New(t)
	ctx := t.Context()
	d, err := env.Store.CreateDelivery(ctx, store.Delivery{WorkspaceID: "ws_r", FunnelID: "fn_r", EventID: "evt_r1", Status: lifecycle.StatusDead,
		Event: []byte(`{"id":"evt_r1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if err := resume.One(ctx, env.Store, env.Queue, d, lifecycle.ReasonReplayed); err != nil {
		t.Fatal(err)
	}
	got, err := env.Store.GetDelivery(ctx, "ws_r", "evt_r1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != lifecycle.StatusQueued || got.ReasonCode != lifecycle.ReasonReplayed || len(got.Attempts) != 1 || got.Attempts[0].ReasonCode != lifecycle.ReasonReplayed {
		t.Errorf("record after resume: %s %s %+v", got.Status, got.ReasonCode, got.Attempts)
	}
	if err := resume.One(ctx, env.Store, env.Queue, d, lifecycle.ReasonReplayed); err != nil {
		t.Errorf("a second resume: %v", err)
	}
	msgs, err := env.Queue.Receive(ctx, 10, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || string(msgs[0].Body) != `{"id":"evt_r1"}` {
		t.Errorf("queue holds %d messages: %+v", len(msgs), msgs)
	}
	if again, _ := env.Store.GetDelivery(ctx, "ws_r", "evt_r1"); len(again.Attempts) != 1 {
		t.Errorf("the second resume wrote an attempt: %+v", again.Attempts)
	}
}

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

func (e *events) Requeue(context.Context, store.DeliveryKey, lifecycle.Reason) (store.Delivery, error) {
	e.requeued++
	return store.Delivery{}, nil
}

type sent []queue.Message

func (s *sent) Send(_ context.Context, m queue.Message) error { *s = append(*s, m); return nil }

// TestOneReadsTheKeptEvent: a delivery goes on with the event its record holds, or the one
// kept apart; without either it cannot (expired or erased), and nothing
// is sent or marked.
func TestOneReadsTheKeptEvent(t *testing.T) {
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
		err := resume.One(t.Context(), st, q, tc.d, lifecycle.ReasonRetryRequested)
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
