package loadtest_test

import (
	"os"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/emulator"
	"github.com/funnel-personio/funnel-personio/pkg/loadtest"
	"github.com/funnel-personio/funnel-personio/pkg/personio/sandbox"
)

// TestFaultCampaignShort is the fault campaign's short version: 500
// events over 5 companies with Personio answering 30 % of requests with
// 500s, slow answers past the client's timeout and dropped connections,
// and the worker side restarted twice mid-run. Nothing may be lost or
// delivered twice in the sandbox, and every event must end in a terminal
// state with its reason (delivered, failed, or dead: in the DLQ).
func TestFaultCampaignShort(t *testing.T) {
	var progress *os.File
	if testing.Verbose() {
		progress = os.Stderr
	}
	cfg := loadtest.Config{Name: "faults-short", Events: []int{100, 100, 100, 100, 100}, FileShare: 0.2,
		Latency: 10 * time.Millisecond, Faults: sandbox.Faults{Error500: 0.2, Slow: 0.05, SlowDelay: 3 * time.Second, Drop: 0.05},
		RateLimit: 20, RateWindow: 2 * time.Second, Restarts: 2, PersonioTimeout: 2 * time.Second, Timeout: 4 * time.Minute}
	if progress != nil {
		cfg.Progress = progress
	}
	r, err := loadtest.Run(t.Context(), emulator.Kumo(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", struct {
		Accepted, Delivered, Lost, Duplicates int
		States                                map[string]int
		Seconds                               float64
	}{r.Accepted, r.Delivered, r.Lost, r.Duplicates, r.States, r.Seconds})
	if r.LogLines == 0 || r.Leaks != 0 {
		t.Errorf("%d of %d log lines hold a token, e-mail or name", r.Leaks, r.LogLines)
	}
	final := r.States["delivered"] + r.States["failed"] + r.States["dead"] + r.States["skipped"]
	if r.Accepted != 500 || r.Lost != 0 || r.Duplicates != 0 || final != 500 {
		t.Errorf("accepted %d, lost %d, duplicates %d, states %v", r.Accepted, r.Lost, r.Duplicates, r.States)
		for _, s := range r.Stuck {
			t.Log(s)
		}
	}
}
