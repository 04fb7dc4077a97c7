package runbook_test

import (
	"bytes"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
)

// steps are the runbook's runnable blocks in the order TestRunbook runs
// them; a block the runbook gains must be added here (and run).
var steps = []string{"local", "dead-letters", "redrive", "attention", "replay", "budget"}

// TestRunbookBlocksAreRun: every runnable block of the runbook is one
// TestRunbook runs.
func TestRunbookBlocksAreRun(t *testing.T) {
	got := slices.Sorted(maps.Keys(runbookBlocks(t)))
	want := slices.Sorted(slices.Values(steps))
	if !slices.Equal(got, want) {
		t.Errorf("the runbook's runnable blocks are %v; TestRunbook runs %v", got, want)
	}
}

// TestRunbook runs the runbook's blocks as they stand, with bash and the
// operator command built from this tree, against the local stack on kumo
// (in-process): each after making the state it is for. Personio answers
// 500 until three applications are dead in the dead-letter queue; the
// listing names them without applicant data; the redrive moves them back
// and each arrives once. A regenerated token parks an application; the
// connections listing shows it waiting. A broken mapping fails two; after
// the fix, the dry run lists them and changes nothing, the replay sends
// them, and each arrives once.
func TestRunbook(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal("the runbook needs bash")
	}
	blocks := runbookBlocks(t)
	ops := buildOps(t)
	logs := &testenv.Buffer{}
	st := startStack(t, logs, nil)
	const ws, funnel = "ws_demo", "fn_office"
	conn := st.connect(t, ws, funnel)
	run := func(name string) string {
		t.Helper()
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", blocks["local"]+"\n"+blocks[name])
		cmd.Dir = "../.."
		cmd.Env = append(os.Environ(), "OPS="+ops, "AWS_ENDPOINT_URL="+*st.aws.BaseEndpoint, "AWS_REGION="+st.aws.Region,
			"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_PROFILE=", "TABLE_NAME="+st.Settings.Table, "QUEUE_URL="+st.Queue.URL(), "DLQ_URL=")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		done := make(chan error, 1)
		go func() { done <- cmd.Run() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("runbook block %q failed: %v\n%s", name, err, out.String())
			}
		case <-time.After(2 * time.Minute):
			_ = cmd.Process.Kill()
			t.Fatalf("runbook block %q hung:\n%s", name, out.String())
		}
		t.Logf("runbook block %q:\n%s", name, out.String())
		for tag := range map[string]bool{"dead": true, "parked": true, "failed": true} {
			for i := range 3 {
				first, last, email := applicant(tag, i)
				if strings.Contains(out.String(), email) || strings.Contains(out.String(), first) || strings.Contains(out.String(), last) {
					t.Errorf("block %q shows applicant data", name)
				}
			}
		}
		return out.String()
	}
	want := func(name, out string, wants ...string) {
		t.Helper()
		for _, w := range wants {
			if !strings.Contains(out, w) {
				t.Errorf("block %q did not print %q", name, w)
			}
		}
	}

	run("local")

	// Personio is down: three applications end dead in the dead-letter queue.
	st.Sandbox.SetFaults(sandbox.Faults{Error500: 1})
	var dead []string
	for i := range 3 {
		dead = append(dead, st.send(t, ws, funnel, "dead", i))
	}
	st.waitStatus(t, ws, dead, lifecycle.StatusDead, time.Minute)
	deadline := time.Now().Add(time.Minute)
	for out := ""; !strings.Contains(out, "3 listed of about 3"); {
		if time.Now().After(deadline) {
			t.Fatalf("the dead-letter queue never held the three:\n%s", out)
		}
		time.Sleep(500 * time.Millisecond)
		out = run("dead-letters")
	}
	out := run("dead-letters")
	for _, id := range dead {
		want("dead-letters", out, id)
	}
	want("dead-letters", out, "retries.exhausted", ws, funnel)

	// Personio is back: the redrive, then each arrives once.
	st.Sandbox.SetFaults(sandbox.Faults{})
	want("redrive", run("redrive"), "redrive by copy: COMPLETED, 3 of 3 messages moved back to the queue", "no SQS message move tasks",
		"0 listed of about 0 in the dead-letter queue", `"msg":"operator: dlq redrive finished"`)
	st.waitStatus(t, ws, dead, lifecycle.StatusDelivered, time.Minute)

	// The customer regenerates the token: an application parks.
	newToken := st.Sandbox.RotateToken("42")
	parked := []string{st.send(t, ws, funnel, "parked", 0)}
	st.waitStatus(t, ws, parked, lifecycle.StatusParked, 30*time.Second)
	want("attention", run("attention"), conn, "needs_attention", "1 connections with parked deliveries, 1 deliveries waiting")
	if code, _, b := st.call(t, ws, "PUT", "/v1/connections/"+conn+"/credentials", `{"company_id":"42","access_token":"`+newToken+`"}`, nil); code != 200 {
		t.Fatalf("new credentials: %d %s", code, b)
	}
	st.waitStatus(t, ws, parked, lifecycle.StatusDelivered, 30*time.Second)

	// A broken mapping fails two; the customer fixes it; the replay.
	st.integrate(t, ws, funnel, conn, "answers.q_email")
	var failed []string
	for i := range 2 {
		failed = append(failed, st.send(t, ws, funnel, "failed", i))
	}
	st.waitStatus(t, ws, failed, lifecycle.StatusFailed, 30*time.Second)
	st.integrate(t, ws, funnel, conn, "contact.email")
	out = run("replay")
	want("replay", out, "2 would be queued again (dry run: nothing was changed)", "2 queued again", `"msg":"operator: replay"`)
	for _, id := range failed {
		want("replay", out, id)
	}
	st.waitStatus(t, ws, failed, lifecycle.StatusDelivered, 30*time.Second)

	want("budget", run("budget"), "company         42", "used")

	time.Sleep(time.Second) // a second copy of anything would have arrived by now
	got := st.arrivals()
	for _, tag := range []string{"dead", "parked", "failed"} {
		for i := range map[string]int{"dead": 3, "parked": 1, "failed": 2}[tag] {
			if _, _, email := applicant(tag, i); got[email] != 1 {
				t.Errorf("%s arrived %d times, want once", email, got[email])
			}
		}
	}
}
