package watch_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/store"
	"github.com/funnel-personio/funnel-personio/pkg/watch"
	"github.com/funnel-personio/funnel-personio/pkg/watchlambda"
)

// published is a Personio whose feed lists position 1001 and whose
// credential checks pass.
type published struct{}

func (published) Positions(context.Context, string, string, string) ([]personio.Position, error) {
	return []personio.Position{{ID: 1001}}, nil
}
func (published) Verify(context.Context, personio.Credentials) error { return nil }

type token struct{}

func (token) Get(context.Context, string, string) (personio.Token, error) { return "token", nil }

// TestStrandedParksAreSwept: a delivery parked on a connection that works
// (a worker read the connection as needing attention, the customer saved
// new credentials and their resume ran, then the worker recorded its
// park), and one parked on a position that is published and unmarked (the
// watch cleared the mark and resumed, then a worker that read the mark
// before parked): nothing would ever wake either. The watch's next run
// sweeps both back to the queue.
func TestStrandedParksAreSwept(t *testing.T) {
	env := testenv.New(t)
	ctx := t.Context()
	st := env.Store
	conn, err := st.CreateConnection(ctx, store.Connection{WorkspaceID: "ws_a", ID: "con_1", Name: "Acme", CompanyID: "42", Status: store.ConnectionConnected})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutIntegration(ctx, store.Integration{WorkspaceID: "ws_a", FunnelID: "fn_1", ConnectionID: conn.ID, JobPositionID: 1001,
		Enabled: true, CareerSite: "acme", Mapping: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	park := func(id string, onPosition bool) {
		d := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: id, Event: []byte(`{"id":"` + id + `"}`)}
		if _, err := st.Claim(ctx, d, "w", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Record(ctx, d.Key(), "w", store.Change{Status: lifecycle.StatusParked, ConnectionID: conn.ID, ParkOnPosition: onPosition,
			ReasonCode: lifecycle.ReasonAuth}); err != nil {
			t.Fatal(err)
		}
	}
	park("evt_conn", false)
	park("evt_position", true)
	cfg := watchlambda.Config(env.Settings, slog.New(slog.DiscardHandler))
	cfg.Interval, cfg.HealthInterval = cfg.Tick, 1000*cfg.Tick // every position and sweep due, no health check
	w, err := watch.New(cfg, st, token{}, published{}, env.Queue, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := w.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"evt_conn", "evt_position"} {
		d, err := st.GetDelivery(ctx, "ws_a", id)
		if err != nil || d.Status != lifecycle.StatusQueued {
			t.Errorf("%s: %s (%v), want queued again by the sweep (report %+v)", id, d.Status, err, r)
		}
	}
	if r.Resumed != 2 {
		t.Errorf("resumed %d, want 2", r.Resumed)
	}
}
