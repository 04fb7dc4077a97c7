package main

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestReset: `local reset` (make reset) deletes the local AWS state and
// says what that was; it refuses, deleting nothing, while an emulator
// answers on its address or the emulator of that state still runs.
func TestReset(t *testing.T) {
	for _, c := range []struct {
		name    string
		state   bool   // a state folder with files
		listen  bool   // something answers on the emulator's address
		pidFile string // the state's emulator.pid: "self" names this process
		code    int
		says    string
		kept    bool
	}{
		{name: "state", state: true, code: 0, says: "reset: deleted DIR, the local AWS state: every connection, integration and delivery record, the stored access tokens and the queued messages."},
		{name: "no state", code: 0, says: "reset: nothing to delete: DIR does not exist"},
		{name: "an emulator answers", state: true, listen: true, code: 1, says: "stop it first (Ctrl-C in its terminal), then run make reset again. Nothing was deleted.", kept: true},
		{name: "its emulator runs elsewhere", state: true, pidFile: "self", code: 0, says: "reset: deleted DIR"},
		{name: "a stale pid file", state: true, pidFile: "99999999", code: 0, says: "reset: deleted DIR"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "kumo")
			if c.state {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				_ = os.WriteFile(filepath.Join(dir, "dynamodb.json"), []byte("{}"), 0o644)
				if c.pidFile == "self" {
					// This test binary runs, but it is no emulator: a pid
					// reused by another program does not block a reset.
					c.pidFile = strconv.Itoa(os.Getpid())
				}
				if c.pidFile != "" {
					_ = os.WriteFile(filepath.Join(dir, "emulator.pid"), []byte(c.pidFile), 0o644)
				}
			}
			addr := freeAddr(t)
			if c.listen {
				ln, err := net.Listen("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
			}
			var stdout, stderr strings.Builder
			code := run(t.Context(), []string{"reset", "-data", dir, "-emulator-addr", addr}, &stdout, &stderr)
			out := stdout.String() + stderr.String()
			if code != c.code || !strings.Contains(out, strings.ReplaceAll(c.says, "DIR", dir)) {
				t.Errorf("exit %d, %q; want %d saying %q", code, out, c.code, c.says)
			}
			if _, err := os.Stat(dir); (err == nil) != c.kept {
				t.Errorf("the state is there: %v, want %v", err == nil, c.kept)
			}
		})
	}
}
