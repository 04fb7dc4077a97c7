package watch_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/funnel-personio/funnel-personio/dev/testenv"
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
