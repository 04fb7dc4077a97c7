package watch_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

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

// staleWatch is the store with a watch index that lags: it lists the
// integrations as they were at snapshot (an eventually consistent read,
// or a run whose feed reads took a while).
type staleWatch struct {
	*store.Store
	snapshot []store.Integration
}

func (s *staleWatch) WatchedIntegrations(_ context.Context, f func(store.Integration) error) error {
	for _, in := range s.snapshot {
		if err := f(in); err != nil {
			return err
		}
	}
	return nil
}

// TestRestoredNamesTheMarkItClears: the watch lists an integration whose
// position was marked unpublished at t1; before it acts, the mark is
// cleared (its position.restored told) and the position marked again at
// t2 (a new problem, its position.unpublished told). The watch finds the
// position published and clears the mark: the restored event it tells
// must settle the mark it cleared, t2's. Named after t1's, it repeats the
// id of the restored event already told, the receiver drops it, and t2's
// problem is never settled.
func TestRestoredNamesTheMarkItClears(t *testing.T) {
	env := testenv.New(t)
	ctx := t.Context()
	st := env.Store
	if _, err := st.CreateConnection(ctx, store.Connection{WorkspaceID: "ws_a", ID: "con_1", Name: "Acme", CompanyID: "42", Status: store.ConnectionConnected}); err != nil {
		t.Fatal(err)
	}
	in, err := st.PutIntegration(ctx, store.Integration{WorkspaceID: "ws_a", FunnelID: "fn_1", ConnectionID: "con_1", JobPositionID: 1001,
		Enabled: true, CareerSite: "acme", Mapping: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	t1 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	t2 := t1.Add(time.Minute)
	if ok, err := st.MarkPositionUnpublished(ctx, "ws_a", "fn_1", 1001, t1); !ok || err != nil {
		t.Fatalf("mark at t1: %v, %v", ok, err)
	}
	stale, err := st.GetIntegration(ctx, "ws_a", "fn_1")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := st.MarkPositionPublished(ctx, "ws_a", "fn_1", store.PositionMark{PositionID: 1001, Since: t1}); !ok || err != nil {
		t.Fatalf("clear t1's mark: %v, %v", ok, err)
	}
	if ok, err := st.MarkPositionUnpublished(ctx, "ws_a", "fn_1", 1001, t2); !ok || err != nil {
		t.Fatalf("mark at t2: %v, %v", ok, err)
	}
	told := &testenv.Told{}
	cfg := watchlambda.Config(env.Settings, slog.New(slog.DiscardHandler))
	cfg.Interval, cfg.HealthInterval = cfg.Tick, 1000*cfg.Tick // every position due, no health check
	view := &staleWatch{Store: st, snapshot: []store.Integration{stale}}
	w, err := watch.New(cfg, view, token{}, published{}, env.Queue, told)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	want, wrong := outbound.PositionEvent(outbound.PositionRestored, in, 1001, t2, t2, lifecycle.ReasonPositionPublished),
		outbound.PositionEvent(outbound.PositionRestored, in, 1001, t1, t1, lifecycle.ReasonPositionPublished)
	now, err := st.GetIntegration(ctx, "ws_a", "fn_1")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range told.Take() {
		if e.Type == outbound.PositionRestored && e.ID == wrong.ID && now.UnpublishedMark(1001) == nil {
			t.Fatalf("the watch cleared t2's mark and told the restored event of t1's (%s), not t2's (%s)", wrong.ID, want.ID)
		}
	}
	// The next look, at the integration as it is, settles t2's mark.
	view.snapshot = []store.Integration{now}
	if r, err := w.Run(ctx); err != nil || r.Republished != 1 {
		t.Fatalf("the next run: %+v, %v; want t2's mark cleared", r, err)
	}
	if got := told.Take(); len(got) != 1 || got[0].ID != want.ID {
		t.Errorf("the next run told %+v, want t2's restored event %s", got, want.ID)
	}
}
