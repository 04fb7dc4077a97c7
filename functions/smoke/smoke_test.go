package smoke

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/coldstart"
	"github.com/funnel-personio/funnel-personio/dev/testenv"
)

// rie finds aws-lambda-rie: AWS_LAMBDA_RIE, then .tools/bin (make test
// installs it there from the Go module proxy).
func rie(t *testing.T) string {
	for _, p := range []string{os.Getenv("AWS_LAMBDA_RIE"), "../../.tools/bin/aws-lambda-rie"} {
		if p != "" {
			if _, err := os.Stat(p); err == nil {
				abs, _ := filepath.Abs(p)
				return abs
			}
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("aws-lambda-rie is not installed: `make test` installs it into .tools/bin")
	}
	t.Skip("aws-lambda-rie not installed: `make test` installs it into .tools/bin")
	return ""
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestBinariesUnderRIE builds each function as `make build` does, but for
// this machine's architecture (coldstart.Build), with the environment
// the cold-start measurement gives them (coldstart.Environment), runs it under the emulator (one at a time:
// its runtime API is fixed at 127.0.0.1:9001) and checks its answer.
func TestBinariesUnderRIE(t *testing.T) {
	emu := rie(t)
	cases := []struct {
		fn, event, want string
	}{
		{"api", "../../events/api/list-targets.json", `"statusCode":200`},
		{"ingest", "../../events/ingest/application-submitted.json", `"statusCode":401`}, // the sample's signature is not fresh
		{"worker", "../../events/worker/batch.json", `"batchItemFailures"`},
		{"notifier", "../../events/notifier/batch.json", `"batchItemFailures"`}, // the endpoint is unreachable: tried again
		{"watch", "../../events/watch/scheduled.json", `"errorMessage"`},        // the table is unreachable: the run fails, said so
	}
	for _, c := range cases {
		t.Run(c.fn, func(t *testing.T) {
			bin := filepath.Join(t.TempDir(), "bootstrap")
			if err := coldstart.Build(context.Background(), "../..", c.fn, runtime.GOARCH, bin); err != nil {
				t.Fatal(err)
			}
			info, _ := os.Stat(bin)
			addr := freePort(t)
			cmd := exec.Command(emu, "--runtime-interface-emulator-address", addr, bin)
			cmd.Env = append(os.Environ(), coldstart.Environment("http://127.0.0.1:1")...)
			logs := &testenv.Buffer{}
			cmd.Stdout, cmd.Stderr = logs, logs
			start := time.Now()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
			event, err := os.ReadFile(c.event)
			if err != nil {
				t.Fatal(err)
			}
			url := "http://" + addr + "/2015-03-31/functions/function/invocations"
			var body []byte
			for deadline := time.Now().Add(20 * time.Second); ; {
				resp, err := http.Post(url, "application/json", bytes.NewReader(event))
				if err == nil {
					body, _ = io.ReadAll(resp.Body)
					resp.Body.Close()
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no answer: %v\n%s", err, logs.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			first := time.Since(start)
			if !strings.Contains(strings.ReplaceAll(string(body), " ", ""), c.want) {
				t.Fatalf("answer %s, want %s\nlogs:\n%s", body, c.want, logs.String())
			}
			init := regexp.MustCompile(`Init Duration: ([0-9.]+) ms`).FindStringSubmatch(logs.String())
			initMs := "?"
			if init != nil {
				initMs = init[1]
			}
			t.Logf("%s: binary %.1f MB, process start to first answer %s, init %s ms", c.fn, float64(info.Size())/1e6, first.Round(time.Millisecond), initMs)
		})
	}
}
