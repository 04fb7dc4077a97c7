package localstack_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/dev/testenv"
)

// docBlock returns the first sh block of the section of page (a path
// from the module's root) whose heading starts with heading.
func docBlock(t *testing.T, page, heading string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../..", page))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut("\n"+string(b), "\n"+heading)
	if !ok {
		t.Fatalf("%s has no %q", page, heading)
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	block, _, ok2 := strings.Cut(rest, "\n```")
	if !ok || !ok2 {
		t.Fatalf("%q has no sh block", heading)
	}
	return block
}

// runBlock runs a documented block as it stands with bash -euo pipefail (an
// unset variable or a failing command fails it) against the stack, and
// returns what it printed.
func runBlock(t *testing.T, st *localstack.Stack, local, block string) (string, error) {
	t.Helper()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", block)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "API="+st.URL, "SANDBOX="+st.SandboxURL, "LOCAL="+local)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return out.String(), err
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		return out.String(), fmt.Errorf("the block hung")
	}
}

// buildLocal builds the local runner for the blocks ($LOCAL).
func buildLocal(t *testing.T) string {
	t.Helper()
	local := filepath.Join(t.TempDir(), "local")
	if out, err := exec.Command("go", "build", "-o", local, "../../functions/local").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return local
}

// TestReadmeEditorAPI runs the editor API's block (docs/editor-api.md) as it stands on
// a stack of its own: every variable it uses is defined, nothing is
// hard-coded that an earlier answer gives (the ETag), and each call
// answers as the comments say.
func TestReadmeEditorAPI(t *testing.T) {
	local := buildLocal(t)
	st, err := localstack.Start(context.Background(), testenv.LocalStack(t, &testenv.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	out, err := runBlock(t, st, local, docBlock(t, "docs/editor-api.md", "# The editor API"))
	if err != nil {
		t.Fatalf("the block failed: %v\n%s", err, out)
	}
	for _, want := range []string{`"status":"connected"`, `"positions":[{"id":1001`, "HTTP/1.1 201", `"enabled":true`, `"status":"delivered"`,
		"not-retryable", "X-Resumed-Deliveries: 0", `"removed":0`} {
		if !strings.Contains(out, want) {
			t.Errorf("the block did not print %q:\n%s", want, out)
		}
	}
	for _, never := range []string{"precondition", "problems/validation", "Traceback"} {
		if strings.Contains(out, never) {
			t.Errorf("the block printed %q:\n%s", never, out)
		}
	}
}

// TestReadmeWalkthrough starts the local stack in-process on free ports
// (kumo in-process) and runs the walk-through (docs/walkthrough.md) as it stands,
// twice against the same stack (the second run finds the first's account,
// integration and rotated token), then checks what each run printed and
// what arrived in the Personio sandbox field by field.
func TestReadmeWalkthrough(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("the walk-through needs curl")
	}
	local := buildLocal(t)
	logs := &testenv.Buffer{}
	st, err := localstack.Start(context.Background(), testenv.LocalStack(t, logs))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	block := docBlock(t, "docs/walkthrough.md", "# Walk-through")
	for run := 1; run <= 2; run++ {
		printed, err := runBlock(t, st, local, block)
		if err != nil {
			t.Fatalf("run %d: the walk-through failed: %v\n%s\nlogs:\n%s", run, err, printed, logs.String())
		}
		if !regexp.MustCompile(`(?m)^connected\ntrue\n1001\n[0-9]+\ntrue\n`).MatchString(printed) {
			t.Errorf("run %d: steps 3 to 10 did not print connected, true (read access), 1001, the version and true:\n%s", run, printed)
		}
		want := []string{"test application: delivered", `"status":"accepted"`,
			"application: delivered", `"email":"anna.vdberg+`, "routed application: delivered", "answer 'Sales Manager (Hamburg)' of q_position", "ID  ", "STATUS", "TRIES", "after the token changed: parked", "needs_attention",
			"X-Resumed-Deliveries: 1", "after new credentials: delivered"}
		for _, w := range want {
			if !strings.Contains(printed, w) {
				t.Errorf("run %d: the walk-through did not print %q:\n%s", run, w, printed)
			}
		}
		for _, never := range []string{"Traceback", "True", "no status in the answer", "no id in the answer"} {
			if strings.Contains(printed, never) {
				t.Errorf("run %d: the walk-through printed %q:\n%s", run, never, printed)
			}
		}
		if t.Failed() {
			t.Logf("run %d:\n%s", run, printed)
		}
	}
	annas, routed := 0, 0
	for _, r := range st.Sandbox.Applications("42") {
		a := r.Application
		if strings.HasPrefix(a.Email, "ben.sales+") {
			routed++
			if a.JobPositionID != 1003 {
				t.Errorf("the routed application went to %d, want 1003", a.JobPositionID)
			}
			continue
		}
		if !strings.HasPrefix(a.Email, "anna.vdberg+") || strings.Count(a.Email, "+") != 1 {
			continue
		}
		annas++
		if a.FirstName != "Anna" || a.LastName != "van der Berg" || a.JobPositionID != 1001 {
			t.Errorf("names or position: %+v", a)
		}
		attrs := map[string]string{}
		for _, at := range a.Attributes {
			attrs[at.ID] = at.Value
		}
		if attrs["phone"] != "+4915112345678" || attrs["gender"] != "female" || len(attrs) != 2 {
			t.Errorf("attributes: %+v", a.Attributes)
		}
		if len(a.Files) != 1 || a.Files[0].Category != "cv" || a.Files[0].OriginalFilename != "Lebenslauf.pdf" {
			t.Errorf("files: %+v", a.Files)
		}
		if a.Message != "Motivation: Ich liebe Ordnung.\n\nStart: 01.03.2027" {
			t.Errorf("message: %q", a.Message)
		}
	}
	if annas != 2 {
		t.Errorf("%d applications of the runs' applicants, want one a run", annas)
	}
	if routed != 2 {
		t.Errorf("%d routed applications, want one a run", routed)
	}
	if n := len(st.Sandbox.Applications("42")); n != 8 {
		t.Errorf("%d applications in the sandbox, want 8 (a run's test, real, routed, and after new credentials)", n)
	}
}
