package main

import (
	"testing"

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
