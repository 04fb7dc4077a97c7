package watch_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/confirm"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/watch"
	"github.com/funnel-personio/funnel-personio/pkg/watchlambda"
)

// rechecker counts its runs and answers counts.
type rechecker struct {
	runs    int
	stopped bool
	counts  confirm.Counts
	err     error
}

func (r *rechecker) Run(_ context.Context, stop func() bool) (confirm.Counts, error) {
	r.runs++
	r.stopped = stop()
	return r.counts, r.err
}

// TestRunRechecks: a run rereads unconfirmed deliveries once, after its
// checks, reports what the rereads did and passes their error on.
func TestRunRechecks(t *testing.T) {
	f := newFakes()
	rc := &rechecker{counts: confirm.Counts{Checked: 3, Confirmed: 1, Refuted: 1, Left: 2}, err: errors.New("table down")}
	cfg := watchlambda.Config(settings.Default(), slog.New(slog.DiscardHandler))
	cfg.Rechecker = rc
	w, err := watch.New(cfg, f, f, f, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := w.Run(t.Context())
	if rc.runs != 1 || rc.stopped {
		t.Errorf("rechecker ran %d times (stopped at once: %v)", rc.runs, rc.stopped)
	}
	if r.Rechecked != 3 || r.ConfirmedByRead != 1 || r.RefutedByRead != 1 || r.RecheckLeft != 2 {
		t.Errorf("report %+v", r)
	}
	if !errors.Is(err, rc.err) {
		t.Errorf("error %v, want the rechecker's", err)
	}
}
