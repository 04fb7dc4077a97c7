package loadtest_test

import (
	"context"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/emulator"
	"github.com/funnel-personio/funnel-personio/dev/loadtest"
	"github.com/funnel-personio/funnel-personio/dev/localstack"
)

// emulatorAddrEnv makes the test binary serve the AWS emulator instead of
// running tests: the campaign restarts it as a process of its own.
const emulatorAddrEnv = "LOADTEST_EMULATOR_ADDR"

func TestMain(m *testing.M) {
	if addr := os.Getenv(emulatorAddrEnv); addr != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
		defer stop()
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			err = localstack.ServeEmulator(ctx, ln)
		}
		if err != nil {
			os.Stderr.WriteString("emulator: " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestFaultCampaignShort is the fault campaign's short version: 500
// events over 5 companies with Personio answering 30 % of requests with
// 500s, slow answers past the client's timeout, dropped connections
// and 429 bursts, the worker side killed and started again twice
// mid-run and the AWS emulator (a process of its own) stopped and started
// again once. It is bounded by progress, not time: it runs until every
// event is final, and fails only if nothing progressed for a while (no
// application arrived and no record changed state; loadtest.Config.Stall),
// so a loaded machine makes it slower, never red. Nothing may be lost or
// delivered twice in the sandbox, and every event must end in a terminal
// state with its reason (delivered, failed, or dead: in the DLQ), and
// every event Personio has must be recorded as delivered.
func TestFaultCampaignShort(t *testing.T) {
	var progress *os.File
	if testing.Verbose() {
		progress = os.Stderr
	}
	cfg := loadtest.Config{Name: "faults-short", Events: []int{100, 100, 100, 100, 100}, FileShare: 0.2,
		Latency: 10 * time.Millisecond, Faults: loadtest.FaultMix,
		RateLimit: 20, RateWindow: 2 * time.Second, Restarts: 2, PersonioTimeout: 2 * time.Second,
		// Every connection with read access: each "already exists" after
		// a lost answer is settled by a read, none left unconfirmed.
		ReadAccess: true,
		// Four pollers, not the stack's twenty: under -race beside the
		// other packages, more only add contention.
		Pollers: 4}
	if progress != nil {
		cfg.Progress = progress
	}
	addr, err := emulator.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	// The child is this test binary, built with -race when make test runs
	// it; kumo has data races of its own (DescribeTable writes a table's
	// counts under a read lock while its snapshotter encodes them), which
	// would end the emulator with the race detector's exit status 66. The
	// reports still print; the exit status is left alone.
	emu, err := emulator.StartProcess([]string{os.Args[0]}, []string{emulatorAddrEnv + "=" + addr,
		"KUMO_DATA_DIR=" + filepath.Join(t.TempDir(), "kumo"), "GORACE=exitcode=0"}, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = emu.Stop() })
	cfg.RestartEmulator = emu.Restart
	r, err := loadtest.Run(t.Context(), emu.Config(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", struct {
		Accepted, Delivered, Lost, Duplicates, Unconfirmed, ConfirmedByRead int
		States                                                              map[string]int
		Seconds                                                             float64
		Restarts                                                            []string
	}{r.Accepted, r.Delivered, r.Lost, r.Duplicates, r.Unconfirmed, r.ConfirmedByRead, r.States, r.Seconds, r.Restarts})
	if r.Unconfirmed != 0 || r.ConfirmedByRead == 0 {
		t.Errorf("%d unconfirmed, %d confirmed by a read: with read access every lost answer is settled by a read", r.Unconfirmed, r.ConfirmedByRead)
	}
	for _, w := range r.Wrong {
		t.Log("misrecorded:", w)
	}
	if r.Stalled != "" {
		t.Errorf("the run stalled: %s", r.Stalled)
	}
	if len(r.Restarts) != 3 {
		t.Errorf("restarts: %q, want the worker side twice and the emulator once", r.Restarts)
	}
	if r.LogLines == 0 || r.Leaks != 0 {
		t.Errorf("%d of %d log lines hold a token, e-mail or name", r.Leaks, r.LogLines)
	}
	checkAWSCounted(t, r)
	final := r.States["delivered"] + r.States["unconfirmed"] + r.States["failed"] + r.States["dead"] + r.States["skipped"]
	if r.Misrecorded != 0 || r.Untagged != 0 {
		t.Errorf("%d events Personio has are not recorded as delivered or unconfirmed; %d applications lack their event's tag", r.Misrecorded, r.Untagged)
	}
	if r.Accepted != 500 || r.Lost != 0 || r.Duplicates != 0 || final != 500 {
		t.Errorf("accepted %d, lost %d, duplicates %d, states %v", r.Accepted, r.Lost, r.Duplicates, r.States)
		for _, s := range r.Stuck {
			t.Log(s)
		}
	}
}

// checkAWSCounted: the report has what the stack asked of AWS, counted by
// the meter, and its cost.
func checkAWSCounted(t *testing.T, r *loadtest.Report) {
	t.Helper()
	if r.AWS == nil || r.AWS.Error != "" {
		t.Fatalf("no AWS use in the report: %+v", r.AWS)
	}
	u, c := r.AWS.Usage, r.AWS.Cost
	calls := map[string]int64{}
	for _, q := range u.Requests {
		calls[q.Caller+" "+q.Service+" "+q.Operation] += q.Calls
	}
	invoked := map[string]int64{}
	for _, f := range u.Functions {
		invoked[f.Name] = f.Invocations
	}
	t.Logf("AWS: %s", c.Summary(8))
	if calls["ingest SQS SendMessage"] < int64(r.Accepted) || calls["worker DynamoDB UpdateItem"] == 0 || calls["worker-source SQS DeleteMessage"] == 0 ||
		invoked["ingest"] < int64(r.Accepted) || invoked["worker"] == 0 || u.LogBytes == 0 {
		t.Errorf("counted %v, invocations %v, %d log bytes: want ingest's sends and invocations for each accepted event, the worker's claims, the deletes",
			calls, invoked, u.LogBytes)
	}
	if c.USDPerMillion <= 0 || c.Requests < 5 || c.Services[0].USDPerMillion <= 0 {
		t.Errorf("cost %+v", c)
	}
}
