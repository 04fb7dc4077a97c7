package loadtest

import (
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
)

// TestPlanSpreadsCVsWithinWorkspaces: each workspace gets the share of
// CVs among its own events, whatever the workspaces' number.
func TestPlanSpreadsCVsWithinWorkspaces(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    Config
		wantCV []int // CVs per workspace
	}{
		{"10 × 10 at 30 %", Config{Events: repeatN(10, 10), FileShare: 0.3}, repeatN(3, 10)},
		{"3 × 10 at 30 %", Config{Events: repeatN(10, 3), FileShare: 0.3}, repeatN(3, 3)},
		{"uneven", Config{Events: []int{1000, 5, 0}, FileShare: 0.2}, []int{200, 1, 0}},
		{"paced", Config{Events: []int{50, 10, 10}, FileShare: 0.3, Pace: time.Second}, []int{15, 3, 3}},
		{"none", Config{Events: repeatN(10, 4)}, repeatN(0, 4)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := make([]int, len(tc.cfg.Events))
			sent := make([]int, len(tc.cfg.Events))
			for _, e := range tc.cfg.Plan() {
				sent[e.Workspace]++
				if e.File {
					got[e.Workspace]++
				}
			}
			for i := range got {
				if got[i] != tc.wantCV[i] || sent[i] != tc.cfg.Events[i] {
					t.Errorf("workspace %d: %d events with %d CVs, want %d with %d", i, sent[i], got[i], tc.cfg.Events[i], tc.wantCV[i])
				}
			}
		})
	}
}

// TestCheckPlan: a plan that breaks its promise is refused with a
// sentence naming the company.
func TestCheckPlan(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string // "" when the plan keeps it
	}{
		{"under, 14 of 20", Config{Events: repeatN(10, 10), FileShare: 0.3, Promise: UnderBudget}, ""},
		{"under, 20 of 20", Config{Events: []int{19}, Promise: UnderBudget}, ""},
		{"under, with the check 21", Config{Events: []int{10, 10}, FileShare: 1, Promise: UnderBudget}, "company 1000 needs 21 requests in one window"},
		{"under at a lower limit", Config{Events: []int{3}, RateLimit: 3, Promise: UnderBudget}, "over its limit of 3"},
		{"paced, each window under", Config{Events: []int{0, 30}, Pace: time.Second, RateWindow: 2 * time.Second, FileShare: 1, Promise: UnderBudget}, ""},
		{"paced too fast", Config{Events: []int{0, 30}, Pace: 50 * time.Millisecond, RateWindow: 2 * time.Second, Promise: UnderBudget}, "company 1001 needs 31 requests"},
		{"backlog", Config{Events: []int{1000, 10}, Promise: FirstOver}, ""},
		{"a backlog that fits", Config{Events: []int{19}, Promise: FirstOver}, "company 1000 needs at most 20 requests in a window, within its limit"},
		{"all over", Config{Events: []int{24, 24}, RateLimit: 5, Promise: AllOver}, ""},
		{"no promise", Config{Events: []int{1000}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.CheckPlan()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("CheckPlan: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("CheckPlan = %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestKeptBudget: the report's sentence comes from the requests Personio
// received, per company, in sliding windows, the setup's check included.
func TestKeptBudget(t *testing.T) {
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	at := func(secs ...float64) []sandbox.Request {
		var out []sandbox.Request
		for _, s := range secs {
			out = append(out, sandbox.Request{At: t0.Add(time.Duration(s * float64(time.Second)))})
		}
		return out
	}
	burst := func(n int, from float64) []float64 {
		var out []float64
		for k := range n {
			out = append(out, from+float64(k)/10)
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		promise  Promise
		requests map[string][]sandbox.Request
		kept     bool
		want     string
	}{
		{"under", UnderBudget, map[string][]sandbox.Request{"1000": at(burst(14, 0)...), "1001": at(burst(12, 0)...)}, true,
			"every company under its budget in every window (at most 14 of 20)"},
		{"21 in a window", UnderBudget, map[string][]sandbox.Request{"1000": at(burst(21, 0)...), "1001": at(1)}, false,
			"company 1000 sent 21 requests in one window, over its limit of 20"},
		{"21 over two windows", UnderBudget, map[string][]sandbox.Request{"1000": at(append(burst(20, 0), 61)...), "1001": at(1)}, true,
			"at most 20 of 20"},
		{"a backlog beside quiet ones", FirstOver, map[string][]sandbox.Request{"1000": at(burst(20, 0)...), "1001": at(1, 2)}, true,
			"every company but the first under its budget in every window (at most 2 of 20)"},
		{"a backlog alone", FirstOver, map[string][]sandbox.Request{"1000": at(burst(20, 0)...)}, true, "one company, over its budget, as planned"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Events: []int{1, 1}, Promise: tc.promise}
			if len(tc.requests) == 1 {
				cfg.Events = []int{1}
			}
			b := cfg.keptBudget(func(c string) []sandbox.Request { return tc.requests[c] })
			if b.Kept != tc.kept || !strings.Contains(b.Sentence, tc.want) {
				t.Errorf("kept %v %q, want %v %q", b.Kept, b.Sentence, tc.kept, tc.want)
			}
		})
	}
}

func repeatN(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}
