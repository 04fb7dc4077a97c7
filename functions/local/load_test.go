package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/loadtest"
)

// TestStageLine: the stages that took time, in the pipeline's order, each
// with its mean and p99.
func TestStageLine(t *testing.T) {
	for _, tc := range []struct {
		name   string
		stages map[string]loadtest.Spread
		want   string
	}{
		{"none", nil, ""},
		{"in the stages' order, idle ones left out", map[string]loadtest.Spread{
			"create":   {Mean: 55.2, P99: 93.9},
			"ingest":   {Mean: 42.1, P99: 84.3},
			"download": {Mean: 0.1, P99: 0.2},
			"queue":    {Mean: 5.8, P99: 26.6},
		}, "ingest 42 / 84, queue 6 / 27, create 55 / 94"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := stageLine(tc.stages); got != tc.want {
				t.Errorf("stageLine = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestScenariosKeepTheirPromises holds every scenario's plan, with the
// flags `make load`, `make faults` and `make perf-report` give it, to the
// promise it makes of each company's Personio requests against its limit
// (the setup's credential check included): a scenario under the budget
// whose CVs bunch in a few workspaces, or a backlog that fits in a window,
// fails here before it misleads a figure.
func TestScenariosKeepTheirPromises(t *testing.T) {
	cases := []struct {
		name   string
		events int
		window time.Duration
	}{
		{"under-budget", 1000, time.Minute},
		{"quiet", 1000, 2 * time.Second},
		{"quiet", 1000, time.Minute},
		{"backlog", 1000, 6 * time.Second},
		{"backlog", 400, time.Minute},
		{"noisy", 5000, 2 * time.Second},
		{"shared", 3600, 6 * time.Second},
		{"companies", 1000, time.Minute},
		{"routed", 300, 2 * time.Second},
		{"ingest", 5000, time.Minute},
		{"faults", 10000, 6 * time.Second},
	}
	held := map[string]bool{}
	for _, tc := range cases {
		held[tc.name] = true
		t.Run(fmt.Sprintf("%s/%d/%s", tc.name, tc.events, tc.window), func(t *testing.T) {
			mk, ok := scenarios[tc.name]
			if !ok {
				t.Fatalf("no scenario %q", tc.name)
			}
			cfg := mk(tc.events, tc.window, 0)
			cfg.Name = tc.name
			if cfg.Promise == loadtest.NoPromise && !cfg.IngestOnly {
				t.Errorf("%s promises nothing of its companies' budgets", tc.name)
			}
			if err := cfg.CheckPlan(); err != nil {
				t.Error(err)
			}
		})
	}
	for name := range scenarios {
		if !held[name] {
			t.Errorf("scenario %q is not held to its promise here", name)
		}
	}
}
