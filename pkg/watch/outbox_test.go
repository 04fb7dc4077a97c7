package watch_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/store"
	"github.com/funnel-personio/funnel-personio/pkg/watch"
	"github.com/funnel-personio/funnel-personio/pkg/watchlambda"
)

// refused is a Personio whose feed lists position 1001 and which refuses
// every credential check.
type refused struct{ published }

func (refused) Verify(context.Context, personio.Credentials) error {
	return &personio.AuthError{Op: "verify"}
}

// TestAnEventNotPublishedGoesOutLater: the watch finds a connection's
// credentials refused and marks it needs_attention, but the outbound
// queue refuses the event (as when the producer dies between its write
// and its publish). Nothing else would ever say it: the connection's
// status has changed, the next check finds nothing new. The next run
// publishes the event recorded with the change, with the id the problem
// names, once.
func TestAnEventNotPublishedGoesOutLater(t *testing.T) {
	env := testenv.New(t)
	ctx := t.Context()
	st := env.Store
	if _, err := st.CreateConnection(ctx, store.Connection{WorkspaceID: "ws_a", ID: "con_1", Name: "Acme", CompanyID: "42", Status: store.ConnectionConnected}); err != nil {
		t.Fatal(err)
	}
	told := &testenv.Told{}
	cfg := watchlambda.Config(env.Settings, slog.New(slog.DiscardHandler))
	cfg.Interval, cfg.HealthInterval = cfg.Tick, cfg.Tick // every connection due in every run
	w, err := watch.New(cfg, st, token{}, refused{}, env.Queue, told)
	if err != nil {
		t.Fatal(err)
	}
	told.Refuse(1)
	if r, err := w.Run(ctx); err != nil || r.NeedsAttention != 1 {
		t.Fatalf("first run: %+v, %v; want the connection marked", r, err)
	}
	if got := told.Take(); len(got) != 0 {
		t.Fatalf("published %+v through a queue that refused it", got)
	}
	c, err := st.GetConnection(ctx, "ws_a", "con_1")
	if err != nil || c.Status != store.ConnectionNeedsAttention {
		t.Fatalf("connection %s, %v", c.Status, err)
	}
	want := outbound.ConnectionEvent(outbound.ConnectionNeedsAttention, c, lifecycle.ReasonAuth)
	r, err := w.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := told.Take(); len(got) != 1 || got[0].ID != want.ID || got[0].Type != want.Type || r.Resent != 1 {
		t.Fatalf("second run published %+v (resent %d), want %s %s once", got, r.Resent, want.Type, want.ID)
	}
	if _, err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if got := told.Take(); len(got) != 0 {
		t.Errorf("third run published %+v again: the event was not marked sent", got)
	}
}

// downQueue is an outbound queue that is down: every publish fails, as a
// retryable failure; it counts the tries.
type downQueue struct{ tries int }

func (q *downQueue) Publish(context.Context, outbound.Event) error {
	q.tries++
	return failure.New("outbound: publish", failure.Transient, errors.New("the queue is down"))
}

// TestResendStopsWhileTheQueueIsDown: while the outbound queue is down,
// a run tries one pending event and leaves the rest for the next run. A
// failing publish takes its retries' time, and the resend comes before
// every check of the run: one try per pending event would spend the run
// on a queue that is down (no connection checked, no position, nothing
// parked resumed) for as long as it is down, with more pending events
// each run.
func TestResendStopsWhileTheQueueIsDown(t *testing.T) {
	env := testenv.New(t)
	ctx := t.Context()
	st := env.Store
	c, err := st.CreateConnection(ctx, store.Connection{WorkspaceID: "ws_a", ID: "con_1", Name: "Acme", CompanyID: "42", Status: store.ConnectionConnected})
	if err != nil {
		t.Fatal(err)
	}
	var tell []store.Pending
	for i := range 3 {
		e := outbound.ConnectionEvent(outbound.ConnectionNeedsAttention, c, lifecycle.ReasonAuth)
		e.ID = fmt.Sprintf("msg_%d", i)
		tell = append(tell, outbound.Pending(e))
	}
	if _, err := st.UpdateConnection(ctx, c, tell...); err != nil {
		t.Fatal(err)
	}
	q := &downQueue{}
	cfg := watchlambda.Config(env.Settings, slog.New(slog.DiscardHandler))
	w, err := watch.New(cfg, st, token{}, published{}, env.Queue, q)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if q.tries != 1 {
		t.Errorf("a run tried %d publishes through a queue that is down, want 1 (the rest wait for the next run)", q.tries)
	}
}
