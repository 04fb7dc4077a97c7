package watch_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/routing"
	"github.com/funnel-personio/funnel-personio/pkg/store"
	"github.com/funnel-personio/funnel-personio/pkg/watch"
	"github.com/funnel-personio/funnel-personio/pkg/watchlambda"
)

// feed is a Personio whose feed lists the positions set, and whose
// credential checks pass.
type feed struct {
	mu        sync.Mutex
	positions []int64
}

func (f *feed) set(ids ...int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.positions = ids
}

func (f *feed) Positions(context.Context, string, string, string) ([]personio.Position, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []personio.Position
	for _, id := range f.positions {
		out = append(out, personio.Position{ID: id})
	}
	return out, nil
}
func (f *feed) Verify(context.Context, personio.Credentials) error { return nil }

// TestRoutedPositionUnpublished: an integration routes answers to 1002 and
// 1003, 1001 is its default. The feed stops listing 1003: the watch marks
// 1003 alone and says so once, naming it; the application parked on 1003
// stays parked while those parked on 1001 and 1002 (published, unmarked)
// are swept back to the queue. 1003 listed again: its mark goes, the
// platform hears it, and its application goes on.
func TestRoutedPositionUnpublished(t *testing.T) {
	env := testenv.New(t)
	ctx := t.Context()
	st := env.Store
	conn, err := st.CreateConnection(ctx, store.Connection{WorkspaceID: "ws_a", ID: "con_1", Name: "Acme", CompanyID: "42", Status: store.ConnectionConnected})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutIntegration(ctx, store.Integration{WorkspaceID: "ws_a", FunnelID: "fn_1", ConnectionID: conn.ID, JobPositionID: 1001,
		Enabled: true, CareerSite: "acme", Mapping: []byte(`{}`), PositionRouting: &routing.Table{Source: "answers.q_position",
			Positions: map[string]int64{"Backend Engineer": 1002, "Sales Manager (Hamburg)": 1003}}}); err != nil {
		t.Fatal(err)
	}
	park := func(id string, routed int64) {
		d := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: id, Event: []byte(`{"id":"` + id + `"}`)}
		if _, err := st.Claim(ctx, d, "w", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Record(ctx, d.Key(), "w", store.Change{Status: lifecycle.StatusParked, ParkOnPosition: true, RoutedPosition: routed,
			ReasonCode: lifecycle.ReasonPositionUnpublished}); err != nil {
			t.Fatal(err)
		}
	}
	park("evt_default", 0)
	park("evt_backend", 1002)
	park("evt_sales", 1003)
	f, n := &feed{}, &testenv.Told{}
	f.set(1001, 1002)
	cfg := watchlambda.Config(env.Settings, slog.New(slog.DiscardHandler))
	cfg.Interval, cfg.HealthInterval = cfg.Tick, 1000*cfg.Tick // every position due, no health check
	w, err := watch.New(cfg, st, token{}, f, env.Queue, n)
	if err != nil {
		t.Fatal(err)
	}
	status := func(id string) lifecycle.Status {
		d, err := st.GetDelivery(ctx, "ws_a", id)
		if err != nil {
			t.Fatal(err)
		}
		return d.Status
	}
	r, err := w.Run(ctx)
	if err != nil || r.Unpublished != 1 || r.Resumed != 2 {
		t.Fatalf("run: %+v, %v; want 1 unpublished, 2 resumed", r, err)
	}
	in, _ := st.GetIntegration(ctx, "ws_a", "fn_1")
	if in.UnpublishedMark(1003) == nil || in.UnpublishedMark(1001) != nil || in.UnpublishedMark(1002) != nil {
		t.Errorf("marks: %v %v, want 1003 only", in.RoutedUnpublished, in.Unpublished)
	}
	for id, want := range map[string]lifecycle.Status{"evt_default": lifecycle.StatusQueued, "evt_backend": lifecycle.StatusQueued, "evt_sales": lifecycle.StatusParked} {
		if got := status(id); got != want {
			t.Errorf("%s: %s, want %s", id, got, want)
		}
	}
	if ev := n.Take(); len(ev) != 1 || ev[0].Type != outbound.PositionUnpublished || ev[0].PositionID != 1003 {
		t.Errorf("told %+v, want one position_unpublished of 1003", ev)
	}
	if r, err := w.Run(ctx); err != nil || r.Unpublished != 0 || r.Resumed != 0 {
		t.Errorf("the run after: %+v, %v; want nothing new", r, err)
	}
	if ev := n.Take(); len(ev) != 0 {
		t.Errorf("told again: %+v", ev)
	}
	f.set(1001, 1002, 1003)
	r, err = w.Run(ctx)
	if err != nil || r.Republished != 1 || r.Resumed != 1 {
		t.Fatalf("run: %+v, %v; want 1 republished, 1 resumed", r, err)
	}
	if got := status("evt_sales"); got != lifecycle.StatusQueued {
		t.Errorf("evt_sales: %s, want queued again", got)
	}
	if ev := n.Take(); len(ev) != 1 || ev[0].Type != outbound.PositionRestored || ev[0].PositionID != 1003 {
		t.Errorf("told %+v, want one position_restored of 1003", ev)
	}
}
