package loadtest_test

import (
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/emulator"
	"github.com/funnel-personio/funnel-personio/dev/loadtest"
)

// TestRoutedRun: one company's 60 events spread by the applicant's answer
// over three job positions (1001 the default, 1003 and 1004 routed) arrive
// 20 at each, none lost or twice, and the company's budget holds whatever
// the position: no window carries more than its limit. The budget's margin
// is a second, the deployment's at Personio's 60 s window: a loaded
// machine can hold a request longer than 1/60 of this 2 s window between
// its take and its arrival (21 in a window at load 10 with the default).
func TestRoutedRun(t *testing.T) {
	cfg := loadtest.Config{Name: "routed-short", Events: []int{60}, RateLimit: 20, RateWindow: 2 * time.Second,
		BudgetMargin: time.Second, Routed: []int64{1001, 1003, 1004}, Pollers: 4}
	r, err := loadtest.Run(t.Context(), emulator.Kumo(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.Stalled != "" || r.Accepted != 60 || r.Delivered != 60 || r.Lost != 0 || r.Duplicates != 0 {
		t.Fatalf("accepted %d, delivered %d, lost %d, duplicates %d, stalled %q", r.Accepted, r.Delivered, r.Lost, r.Duplicates, r.Stalled)
	}
	if len(r.PerPosition) != 3 || r.PerPosition["1001"] != 20 || r.PerPosition["1003"] != 20 || r.PerPosition["1004"] != 20 {
		t.Errorf("applications per position: %v, want 20 each at 1001, 1003, 1004", r.PerPosition)
	}
	for company, windows := range r.PerWindow {
		for i, n := range windows {
			if n > cfg.RateLimit {
				t.Errorf("company %s: %d requests in window %d, past its limit %d", company, n, i, cfg.RateLimit)
			}
		}
	}
}
