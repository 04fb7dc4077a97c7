package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestRunUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"nope"}, 2, `unknown command "nope"`},
		{[]string{"help"}, 0, "sandbox"},
		{[]string{"sandbox", "-rate-limit", "x"}, 2, "invalid value"},
		{[]string{"sandbox", "-seed", "/does/not/exist.json"}, 1, "load seed"},
		{[]string{"sandbox", "-addr", "256.0.0.1:1"}, 1, "listen"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out strings.Builder
			code := run(context.Background(), tt.args, &out, &out)
			if code != tt.code || !strings.Contains(out.String(), tt.out) {
				t.Errorf("run(%q) = %d, %q; want %d with %q", tt.args, code, out.String(), tt.code, tt.out)
			}
		})
	}
}

// TestSandboxCommand starts the sandbox subcommand on a free port, creates
// an application through it and stops it as Ctrl-C would.
func TestSandboxCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"sandbox", "-addr", "127.0.0.1:0"}, pw, io.Discard) }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	url := regexp.MustCompile(`http://127\.0\.0\.1:\d+`).FindString(line)
	if url == "" {
		t.Fatalf("no address in %q", line)
	}
	req, _ := http.NewRequest(http.MethodPost, url+"/v1/recruiting/applications",
		strings.NewReader(`{"first_name":"A","last_name":"B","email":"a@example.com","job_position_id":1001}`))
	req.Header.Set("Authorization", "Bearer sandbox-token-42")
	req.Header.Set("X-Company-ID", "42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create = %d, want 201", resp.StatusCode)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("exit code %d after Ctrl-C", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the sandbox did not stop")
	}
}

// TestEmulatorBanner: the emulator says where its state is, also when it
// keeps it in memory only (the load runs).
func TestEmulatorBanner(t *testing.T) {
	for _, c := range []struct{ dir, want string }{
		{"", "state in memory only (KUMO_DATA_DIR is not set)"},
		{t.TempDir(), "state in "},
	} {
		t.Setenv("KUMO_DATA_DIR", c.dir)
		ctx, cancel := context.WithCancel(context.Background())
		pr, pw := io.Pipe()
		done := make(chan int, 1)
		go func() { done <- run(ctx, []string{"emulator", "-addr", "127.0.0.1:0"}, pw, io.Discard) }()
		line, err := bufio.NewReader(pr).ReadString('\n')
		go func() { _, _ = io.Copy(io.Discard, pr) }()
		cancel()
		<-done
		if err != nil || !strings.Contains(line, c.want+c.dir) || strings.Contains(line, `""`) {
			t.Errorf("KUMO_DATA_DIR=%q: the emulator says %q; want %q", c.dir, line, c.want+c.dir)
		}
	}
}
