// Package backoff says how long to wait before trying again: exponential
// in the number of tries, capped, with equal jitter (a delay drawn from the
// upper half of the exponential step), so that tries woken together
// spread out and the shortest total wait is known.
//
// It is for the worker's retries (pkg/delivery) and the outbound events'
// (pkg/outbound).
package backoff

import (
	"math/rand/v2"
	"time"
)

// Range is the window the delay before try n+1 (n ≥ 1) is drawn from: the
// upper half of base·2ⁿ⁻¹, capped at most.
func Range(base, most time.Duration, n int) (lo, hi time.Duration) {
	d := base << min(max(n, 1)-1, 20)
	if d <= 0 || d > most {
		d = most
	}
	return d / 2, d
}

// Delay is a delay before try n+1 drawn from Range.
func Delay(base, most time.Duration, n int) time.Duration {
	lo, hi := Range(base, most, n)
	return lo + time.Duration(rand.Int64N(int64(hi-lo)+1))
}
