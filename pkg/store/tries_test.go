package store_test

import (
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// TestTries: the worker's tries are the entries with an outcome and the
// 429s; being queued (first, again on request, for the budget) is none.
func TestTries(t *testing.T) {
	q := store.Attempt{Outcome: store.StatusQueued}
	for _, c := range []struct {
		name     string
		attempts []store.Attempt
		want     int
	}{
		{"none", nil, 0},
		{"queued only", []store.Attempt{q}, 0},
		{"first try", []store.Attempt{q, {Outcome: store.StatusDelivered}}, 1},
		{"429 then delivered", []store.Attempt{q, {Outcome: store.StatusQueued, ReasonCode: store.ReasonRateLimited}, {Outcome: store.StatusDelivered}}, 2},
		{"parked, sent again on request, delivered", []store.Attempt{q, {Outcome: store.StatusParked}, q, {Outcome: store.StatusDelivered}}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := store.Tries(c.attempts); got != c.want {
				t.Errorf("%d tries, want %d", got, c.want)
			}
		})
	}
}
