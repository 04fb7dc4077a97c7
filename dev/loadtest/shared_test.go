package loadtest

import (
	"slices"
	"testing"
	"time"
)

// TestInterleave: the workspaces take turns, and one with fewer events
// drops out when they are sent.
func TestInterleave(t *testing.T) {
	for _, tc := range []struct {
		events []int
		want   []int
	}{
		{nil, nil},
		{[]int{3}, []int{0, 0, 0}},
		{[]int{2, 2, 2}, []int{0, 1, 2, 0, 1, 2}},
		{[]int{1, 3, 0, 2}, []int{0, 1, 3, 1, 3, 1}},
	} {
		if got := interleave(tc.events); !slices.Equal(got, tc.want) {
			t.Errorf("interleave(%v) = %v, want %v", tc.events, got, tc.want)
		}
	}
}

// TestSharing: the most in any sliding window, and the shares counted
// only while every company was busy.
func TestSharing(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	at := func(secs ...float64) []time.Time {
		var out []time.Time
		for _, s := range secs {
			out = append(out, t0.Add(time.Duration(s*float64(time.Second))))
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		by        map[string][]time.Time
		most      int
		seconds   float64
		shares    map[string]int
		spreadPct float64
	}{
		{
			// b starts at 2 s and a ends at 8 s: a's 0 s and 1 s and b's
			// 9 s are outside; each sent 3 while both were busy.
			name: "equal while both busy",
			by:   map[string][]time.Time{"a": at(0, 1, 2, 5, 8), "b": at(2, 4, 7, 9)},
			most: 6, seconds: 6, shares: map[string]int{"a": 3, "b": 3},
		},
		{
			name: "one took twice the other's",
			by:   map[string][]time.Time{"a": at(0, 1, 2, 3, 4, 5), "b": at(0, 5), "c": at(0, 2.5, 5)},
			most: 11, seconds: 5, shares: map[string]int{"a": 6, "b": 2, "c": 3}, spreadPct: 63.6,
		},
		{
			name: "a company never busy: no shares",
			by:   map[string][]time.Time{"a": at(0, 1), "b": nil},
			most: 2, shares: map[string]int{},
		},
		{
			name: "never all busy at once",
			by:   map[string][]time.Time{"a": at(0, 1), "b": at(7, 8)},
			most: 2, shares: map[string]int{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sharing(tc.by, 100, 6*time.Second)
			if s.Limit != 100 || s.MostInAWindow != tc.most || s.Seconds != tc.seconds {
				t.Errorf("limit %d, most in a window %d, seconds %.1f; want 100, %d, %.1f", s.Limit, s.MostInAWindow, s.Seconds, tc.most, tc.seconds)
			}
			if len(s.Shares) != len(tc.shares) {
				t.Errorf("shares %v, want %v", s.Shares, tc.shares)
			}
			for c, n := range tc.shares {
				if s.Shares[c] != n {
					t.Errorf("shares %v, want %v", s.Shares, tc.shares)
				}
			}
			if got := 100 * s.Spread; got < tc.spreadPct-0.1 || got > tc.spreadPct+0.1 {
				t.Errorf("spread %.1f %%, want %.1f %%", got, tc.spreadPct)
			}
		})
	}
}
