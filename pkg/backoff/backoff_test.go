package backoff_test

import (
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/backoff"
)

func TestRange(t *testing.T) {
	for _, c := range []struct {
		n      int
		lo, hi time.Duration
	}{
		{0, 5 * time.Second, 10 * time.Second}, // as the first
		{1, 5 * time.Second, 10 * time.Second},
		{2, 10 * time.Second, 20 * time.Second},
		{4, 40 * time.Second, 80 * time.Second},
		{8, 450 * time.Second, 900 * time.Second}, // capped at 15 min
		{100, 450 * time.Second, 900 * time.Second},
	} {
		lo, hi := backoff.Range(10*time.Second, 15*time.Minute, c.n)
		if lo != c.lo || hi != c.hi {
			t.Errorf("try %d: [%v, %v], want [%v, %v]", c.n, lo, hi, c.lo, c.hi)
		}
		for range 50 {
			if d := backoff.Delay(10*time.Second, 15*time.Minute, c.n); d < lo || d > hi {
				t.Fatalf("try %d: %v outside [%v, %v]", c.n, d, lo, hi)
			}
		}
	}
}
