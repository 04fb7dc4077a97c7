package watch_test

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/store"
	"github.com/funnel-personio/funnel-personio/pkg/watch"
	"github.com/funnel-personio/funnel-personio/pkg/watchlambda"
)

// TestOneWorkspaceDoesNotStopTheWatch: workspace A has 50 switched-on
// integrations on distinct career sites whose feeds each take Personio's
// whole timeout to answer; B has one integration and one connection. In
// one run of the watch function's length, B's credentials are checked
// and B's feed is read, A's feeds take no more than their workspace's
// share, the run ends before its deadline, and the next runs read A's
// other feeds, the least recently checked first, until each has been
// read. The clock is synctest's: the feeds' slowness costs no real time.
func TestOneWorkspaceDoesNotStopTheWatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := settings.Default()
		f := newFakes()
		for i := range 50 {
			f.integrate("ws_a", "con_a", "a-"+strconv.Itoa(i))
		}
		f.integrate("ws_b", "con_b", "b")
		f.connect("ws_a", "con_a", "1")
		f.connect("ws_b", "con_b", "2")
		f.slow = s.PersonioTimeout
		cfg := watchlambda.Config(s, slog.New(slog.DiscardHandler))
		cfg.Interval, cfg.HealthInterval = cfg.Tick, cfg.Tick // every feed and connection due in every run
		w, err := watch.New(cfg, f, f, f, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		readOnce := map[string]int{}
		for run := 1; len(readOnce) < 51; run++ { // B's feed and A's 50
			if run > 6 {
				t.Fatalf("after %d runs, %d of 51 feeds read", run-1, len(readOnce))
			}
			f.reset()
			start := time.Now()
			ctx, cancel := context.WithTimeout(t.Context(), s.WatchTimeout())
			r, err := w.Run(ctx)
			cancel()
			if err != nil {
				t.Errorf("run %d: %v", run, err)
			}
			if took := time.Since(start); took >= s.WatchTimeout() {
				t.Errorf("run %d took %s, past its deadline", run, took)
			}
			if !f.verified["con_b"] {
				t.Errorf("run %d: B's connection was not checked (%+v)", run, r)
			}
			if f.read["b"] != 1 {
				t.Errorf("run %d: B's feed read %d times", run, f.read["b"])
			}
			a := 0
			for site := range f.read {
				if strings.HasPrefix(site, "a-") {
					a++
					if readOnce[site] > 0 {
						t.Errorf("run %d read %s again before every other feed of A was read", run, site)
					}
				}
			}
			for site := range f.read {
				readOnce[site]++
			}
			if a > cfg.FeedsPerWorkspace {
				t.Errorf("run %d read %d of A's feeds, more than its share %d", run, a, cfg.FeedsPerWorkspace)
			}
			time.Sleep(cfg.Tick - time.Since(start))
		}
	})
}

// TestWatchEndsAtItsDeadline: with more slow feeds than a run can read
// (no workspace share to stop them first), the run starts no read after
// its deadline less a Personio timeout, ends within the deadline, says
// how many feeds it left, and the next run reads those first.
func TestWatchEndsAtItsDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := settings.Default()
		f := newFakes()
		for i := range 80 {
			f.integrate("ws_a", "con_a", "a-"+strconv.Itoa(i))
		}
		f.connect("ws_a", "con_a", "1")
		f.slow = s.PersonioTimeout
		cfg := watchlambda.Config(s, slog.New(slog.DiscardHandler))
		cfg.Interval, cfg.HealthInterval, cfg.FeedsPerWorkspace = cfg.Tick, cfg.Tick, 80
		w, err := watch.New(cfg, f, f, f, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.reset()
		start := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), s.WatchTimeout())
		r, err := w.Run(ctx)
		cancel()
		if err != nil || time.Since(start) >= s.WatchTimeout() {
			t.Fatalf("run: %v after %s", err, time.Since(start))
		}
		first := f.read
		if r.FeedsLeft == 0 || r.Feeds+r.FeedsLeft != 80 || len(first) != r.Feeds {
			t.Fatalf("read %d (%d in full), left %d of 80", r.Feeds, len(first), r.FeedsLeft)
		}
		time.Sleep(cfg.Tick - time.Since(start))
		f.reset()
		ctx, cancel = context.WithTimeout(t.Context(), s.WatchTimeout())
		_, err = w.Run(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		for i := range 80 {
			if site := "a-" + strconv.Itoa(i); first[site] == 0 && f.read[site] == 0 {
				t.Errorf("the next run did not read %s, which the first left (it read %d feeds)", site, len(f.read))
			}
		}
	})
}

// fakes is the watch's store, vault and Personio in memory: feeds answer
// after slow (or when the request's context ends, with its error), and
// every credential check succeeds.
type fakes struct {
	slow time.Duration

	mu           sync.Mutex
	integrations []store.Integration
	connections  map[string]store.Connection
	read         map[string]int  // feeds read in full this run, by site
	verified     map[string]bool // connections checked this run
}

func newFakes() *fakes {
	return &fakes{connections: map[string]store.Connection{}}
}

func (f *fakes) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.read, f.verified = map[string]int{}, map[string]bool{}
}

func (f *fakes) integrate(ws, conn, site string) {
	f.integrations = append(f.integrations, store.Integration{WorkspaceID: ws, FunnelID: "fn_" + site, ConnectionID: conn,
		JobPositionID: 1001, Enabled: true, CareerSite: site})
}

func (f *fakes) connect(ws, id, company string) {
	f.connections[id] = store.Connection{WorkspaceID: ws, ID: id, CompanyID: company, Status: store.ConnectionConnected}
}

func (f *fakes) WatchedIntegrations(_ context.Context, fn func(store.Integration) error) error {
	f.mu.Lock()
	list := append([]store.Integration(nil), f.integrations...)
	f.mu.Unlock()
	for _, in := range list {
		if err := fn(in); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakes) WatchedConnections(_ context.Context, fn func(store.Connection) error) error {
	f.mu.Lock()
	var list []store.Connection
	for _, c := range f.connections {
		list = append(list, c)
	}
	f.mu.Unlock()
	for _, c := range list {
		if err := fn(c); err != nil {
			return err
		}
	}
	return nil
}

func (f *fakes) GetConnection(_ context.Context, _, id string) (store.Connection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.connections[id]
	if !ok {
		return c, failure.New("fake: get connection", failure.NotFound, nil)
	}
	return c, nil
}

func (f *fakes) UpdateConnection(_ context.Context, c store.Connection, _ ...store.Pending) (store.Connection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c.Version++
	f.connections[c.ID] = c
	return c, nil
}

func (f *fakes) MarkPositionChecked(_ context.Context, ws, funnel string, at time.Time) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, in := range f.integrations {
		if in.WorkspaceID == ws && in.FunnelID == funnel {
			f.integrations[i].PositionCheckedAt = at
		}
	}
	return nil
}

func (f *fakes) MarkPositionUnpublished(context.Context, string, string, int64, time.Time, ...store.Pending) (bool, error) {
	return false, nil
}

func (f *fakes) MarkPositionPublished(context.Context, string, string, store.PositionMark, ...store.Pending) (bool, error) {
	return false, nil
}

func (f *fakes) MarkRoutedPositionUnpublished(context.Context, string, string, int64, time.Time, ...store.Pending) (bool, error) {
	return false, nil
}

func (f *fakes) MarkRoutedPositionPublished(context.Context, string, string, store.PositionMark, ...store.Pending) (bool, error) {
	return false, nil
}

func (f *fakes) PendingEvents(context.Context, func(store.Pending) error) error { return nil }

func (f *fakes) Sent(context.Context, string, string) error { return nil }

func (f *fakes) ListParkedOnRoutedPosition(context.Context, string, string, int64, int, string) (store.Page, error) {
	return store.Page{}, nil
}

func (f *fakes) TakeIdleBudget(context.Context, string, int, int, store.Budget) (bool, error) {
	return true, nil
}

func (f *fakes) ListParked(context.Context, string, string, int, string) (store.Page, error) {
	return store.Page{}, nil
}

func (f *fakes) ListParkedOnPosition(context.Context, string, string, int, string) (store.Page, error) {
	return store.Page{}, nil
}

func (f *fakes) Event(context.Context, string, string) ([]byte, error) { return nil, nil }

func (f *fakes) Requeue(context.Context, store.DeliveryKey, lifecycle.Reason) (store.Delivery, error) {
	return store.Delivery{}, nil
}

func (f *fakes) Get(context.Context, string, string) (personio.Token, error) { return "token", nil }

func (f *fakes) Positions(ctx context.Context, _, site, _ string) ([]personio.Position, error) {
	wait := f.slow
	if site == "b" {
		wait = time.Second
	}
	select {
	case <-time.After(wait):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.read[site]++
	return []personio.Position{{ID: 1001}}, nil
}

func (f *fakes) Verify(ctx context.Context, creds personio.Credentials) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for id, c := range f.connections {
		if c.CompanyID == creds.CompanyID {
			f.verified[id] = true
		}
	}
	return nil
}
