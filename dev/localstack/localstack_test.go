package localstack_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/dev/testenv"
)

// readmeBlock returns the sh block of the README's quickstart.
func readmeBlock(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "## Quickstart")
	if !ok {
		t.Fatal("the README has no quickstart")
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	block, _, ok2 := strings.Cut(rest, "\n```")
	if !ok || !ok2 {
		t.Fatal("the quickstart has no sh block")
	}
	return block
}

// TestReadmeWalkthrough starts the local stack in-process on free ports
// (kumo in-process) and runs the README's walk-through as it stands, then
// checks what arrived in the Personio sandbox field by field.
func TestReadmeWalkthrough(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("the walk-through needs curl")
	}
	local := filepath.Join(t.TempDir(), "local")
	if out, err := exec.Command("go", "build", "-o", local, "../../functions/local").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ctx := context.Background()
	logs := &testenv.Buffer{}
	st, err := localstack.Start(ctx, testenv.LocalStack(t, logs))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cmd := exec.Command("bash", "-euo", "pipefail", "-c", readmeBlock(t))
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "API="+st.URL, "SANDBOX="+st.SandboxURL, "LOCAL="+local)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	done := make(chan error, 1)
	go func() { done <- cmd.Run() }()
	select {
	case err = <-done:
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("the walk-through hung:\n%s", out.String())
	}
	if err != nil {
		t.Fatalf("the walk-through failed: %v\n%s\nlogs:\n%s", err, out.String(), logs.String())
	}
	for _, want := range []string{"connected", "1001", "True", "test application: delivered", `"status":"accepted"`,
		`"email":"anna.vdberg@example.com"`, "after the token changed: parked", "needs_attention", "X-Resumed-Deliveries: 1",
		"after new credentials: delivered"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the walk-through did not print %q:\n%s", want, out.String())
		}
	}
	var anna *struct{ first, last, email string }
	for _, r := range st.Sandbox.Applications("42") {
		a := r.Application
		if a.Email != "anna.vdberg@example.com" {
			continue
		}
		anna = &struct{ first, last, email string }{a.FirstName, a.LastName, a.Email}
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
	if anna == nil {
		t.Fatal("the application never arrived")
	}
	if n := len(st.Sandbox.Applications("42")); n != 3 {
		t.Errorf("%d applications in the sandbox, want 3 (test, real, after new credentials)", n)
	}
}
