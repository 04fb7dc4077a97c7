package store_test

import (
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// TestTries: the worker's tries are the entries with an outcome and the
// 429s; being queued (first, again on request, for the budget) is none.
func TestTries(t *testing.T) {
	q := store.Attempt{Outcome: lifecycle.StatusQueued}
	for _, c := range []struct {
		name     string
		attempts []store.Attempt
		want     int
	}{
		{"none", nil, 0},
		{"queued only", []store.Attempt{q}, 0},
		{"first try", []store.Attempt{q, {Outcome: lifecycle.StatusDelivered}}, 1},
		{"429 then delivered", []store.Attempt{q, {Outcome: lifecycle.StatusQueued, ReasonCode: lifecycle.ReasonRateLimited}, {Outcome: lifecycle.StatusDelivered}}, 2},
		{"parked, sent again on request, delivered", []store.Attempt{q, {Outcome: lifecycle.StatusParked}, q, {Outcome: lifecycle.StatusDelivered}}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := store.Tries(c.attempts); got != c.want {
				t.Errorf("%d tries, want %d", got, c.want)
			}
		})
	}
}
