package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/emulator"
	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/dev/sandbox/sandboxtest"
	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

func freeAddr(t *testing.T) string {
	addr, err := emulator.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

func buildLocal(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "local")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// startProc starts the binary and waits until it prints a line with ready.
func startProc(t *testing.T, bin string, env []string, ready string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if _, ok := awaitLine(out, func(l string) bool { return strings.Contains(l, ready) }, 60*time.Second); !ok {
		t.Fatalf("%s %v not ready", bin, args)
	}
	return cmd
}

// awaitLine reads lines until one satisfies ready (true) or the output
// ends or the time is up (false), and returns what it read; the rest of
// the output is read and dropped.
func awaitLine(out io.Reader, ready func(string) bool, within time.Duration) (string, bool) {
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	drain := func() {
		go func() {
			for range lines {
			}
		}()
	}
	var read strings.Builder
	deadline := time.After(within)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return read.String(), false
			}
			read.WriteString(l + "\n")
			if ready(l) {
				drain()
				return read.String(), true
			}
		case <-deadline:
			drain()
			return read.String(), false
		}
	}
}

// TestKilledMidDelivery: events are accepted, the functions process is
// killed (SIGKILL) while delivering and started again against the same
// emulator: every event ends delivered exactly once.
func TestKilledMidDelivery(t *testing.T) {
	bin := buildLocal(t)
	kumo := emulator.Kumo(t)
	sb := sandboxtest.Start(t, sandbox.Config{RateLimit: -1, Latency: 150 * time.Millisecond})
	api := freeAddr(t)
	env := []string{"AWS_ENDPOINT_URL=" + *kumo.BaseEndpoint, "AWS_REGION=eu-central-1", "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=x",
		"PERSONIO_BASE_URL=" + sb.URL, "TABLE_NAME=" + emulator.Name("restart"), "QUEUE_NAME=" + emulator.Name("events"),
		"SECRET_PREFIX=" + emulator.Name("fp"), "LOCAL_ADDR=" + api}
	serve := startProc(t, bin, env, "ready in", "serve")
	base := "http://" + api
	token, _ := localstack.NewDevAuth([]byte(localstack.DevJWTKey)).Mint("ws_demo", "advanced", time.Hour)
	call := func(method, path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	code, conn := call("POST", "/v1/connections", `{"name":"Acme","company_id":"42","access_token":"sandbox-token-42"}`)
	if code != 201 {
		t.Fatalf("connect: %d %v", code, conn)
	}
	code, _ = call("PUT", "/v1/funnels/fn_office/integration", `{"connection_id":"`+conn["id"].(string)+`","job_position_id":1001,"enabled":true,
		"mapping":{"version":1,"required":{"first_name":{"source":"contact.first_name"},"last_name":{"source":"contact.last_name"},"email":{"source":"contact.email"}}}}`)
	if code != 201 {
		t.Fatalf("integrate: %d", code)
	}
	const n = 30
	for i := range n {
		body := fmt.Sprintf(`{"type":"application.submitted","id":"evt_k%02d","occurred_at":"%s","workspace_id":"ws_demo","funnel_id":"fn_office","contact":{"first_name":"A","last_name":"B","email":"k%02d@example.com"}}`,
			i, time.Now().UTC().Format(time.RFC3339), i)
		if status, answer, err := localstack.PostEvent(t.Context(), base, localstack.DevWebhookSecret, fmt.Sprintf("msg_k%d", i), []byte(body)); err != nil || status != http.StatusAccepted {
			t.Fatalf("ingest %d: %d %s %v", i, status, answer, err)
		}
	}
	// Kill it while it delivers.
	for len(sb.Sandbox.Applications("42")) < 3 {
		time.Sleep(20 * time.Millisecond)
	}
	_ = serve.Process.Signal(syscall.SIGKILL)
	_ = serve.Wait()
	killedAt := len(sb.Sandbox.Applications("42"))
	startProc(t, bin, env, "ready in", "serve")
	deadline := time.Now().Add(3 * time.Minute)
	for len(sb.Sandbox.Applications("42")) < n && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
	}
	apps := sb.Sandbox.Applications("42")
	seen := map[string]int{}
	for _, a := range apps {
		seen[a.Application.Email]++
	}
	if len(seen) != n || len(apps) != n {
		t.Fatalf("%d applications, %d distinct, want %d exactly once (killed after %d)", len(apps), len(seen), n, killedAt)
	}
	t.Logf("killed after %d of %d deliveries; all %d delivered exactly once after the restart", killedAt, n, n)
}

// TestEmulatorKeepsState: the emulator stopped cleanly and started again
// on the same data folder still has the tables' items.
func TestEmulatorKeepsState(t *testing.T) {
	bin := buildLocal(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	env := []string{"KUMO_DATA_DIR=" + dir}
	emu := startProc(t, bin, env, "AWS emulator", "emulator", "-addr", addr)
	ctx := context.Background()
	st := testenv.On(t, emulator.Config("http://"+addr)).Store
	if _, err := st.CreateConnection(ctx, store.Connection{WorkspaceID: "ws_demo", ID: "con_1", Name: "Acme", CompanyID: "42"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutIntegration(ctx, store.Integration{WorkspaceID: "ws_demo", FunnelID: "fn_1", ConnectionID: "con_1", JobPositionID: 1001, Mapping: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateDelivery(ctx, store.Delivery{WorkspaceID: "ws_demo", FunnelID: "fn_1", EventID: "evt_1", Event: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // kumo writes to disk about once a second
	_ = emu.Process.Signal(syscall.SIGTERM)
	_ = emu.Wait()
	startProc(t, bin, env, "AWS emulator", "emulator", "-addr", addr)
	if c, err := st.GetConnection(ctx, "ws_demo", "con_1"); err != nil || c.Name != "Acme" {
		t.Errorf("connection after restart: %+v, %v", c, err)
	}
	if in, err := st.GetIntegration(ctx, "ws_demo", "fn_1"); err != nil || in.JobPositionID != 1001 {
		t.Errorf("integration after restart: %+v, %v", in, err)
	}
	if d, err := st.GetDelivery(ctx, "ws_demo", "evt_1"); err != nil || d.Status != lifecycle.StatusQueued {
		t.Errorf("delivery after restart: %+v, %v", d, err)
	}
}
