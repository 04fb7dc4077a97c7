package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
)

const defaultEmulator = "127.0.0.1:4566"

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envOr("LOCAL_ADDR", "127.0.0.1:8080"), "API and ingest address")
	sandboxAddr := fs.String("sandbox-addr", envOr("SANDBOX_ADDR", "127.0.0.1:8090"), "Personio sandbox address (unless PERSONIO_BASE_URL is set)")
	dataDir := fs.String("data", envOr("KUMO_DATA_DIR", ".data/kumo"), "where a started emulator keeps its state")
	verbose := fs.Bool("v", false, "log every state change to stderr")
	latency := fs.Duration("sandbox-latency", 0, "latency the Personio sandbox adds to every answer")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	started := time.Now()
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	// The dev keys are public: anywhere but a local emulator, refuse them
	// before anything is started or called.
	keys, err := keysFor(os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "local: %v\n", err)
		return 1
	}
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	emulatorNote := "AWS endpoint " + endpoint
	if endpoint == "" && os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		endpoint = "http://" + defaultEmulator
		if !answers(defaultEmulator) {
			pid, err := startEmulator(*dataDir)
			if err != nil {
				fmt.Fprintf(stderr, "local: start the emulator: %v\n", err)
				return 1
			}
			emulatorNote = fmt.Sprintf("AWS emulator (kumo) on %s, pid %d, state in %s (it outlives this process; stop it with: kill %d)", endpoint, pid, *dataDir, pid)
		} else {
			emulatorNote = "AWS emulator (kumo) already running on " + endpoint
		}
		os.Setenv("AWS_ENDPOINT_URL", endpoint)
		setDefault("AWS_REGION", "eu-central-1")
		setDefault("AWS_ACCESS_KEY_ID", "local")
		setDefault("AWS_SECRET_ACCESS_KEY", "local")
	}
	awsCfg, err := awsclient.Load(ctx, config.WithSharedConfigFiles(nil), config.WithSharedCredentialsFiles(nil))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	cfg := localstack.Config{Addr: *addr, AWS: awsCfg, SandboxAddr: *sandboxAddr, Logger: log,
		PersonioBaseURL: os.Getenv("PERSONIO_BASE_URL"), PersonioFeedURL: os.Getenv("PERSONIO_FEED_URL"),
		Table: os.Getenv("TABLE_NAME"), QueueName: os.Getenv("QUEUE_NAME"), SecretPrefix: os.Getenv("SECRET_PREFIX"),
		JWTKey: []byte(keys.JWT), WebhookSecret: keys.WebhookSecret, HashKey: []byte(keys.Hash), Notifications: stdout}
	cfg.Sandbox.Latency = *latency
	if hosts := os.Getenv("FILE_HOSTS"); hosts != "" {
		cfg.FileHosts = strings.Split(hosts, ",")
	}
	stack, err := localstack.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "local: %v\n", err)
		return 1
	}
	defer stack.Close()
	token, _ := stack.Auth.Mint("ws_demo", "advanced", 24*time.Hour)
	secret := stack.WebhookSecret()
	if secret != localstack.DevWebhookSecret {
		secret = "(yours, from " + varWebhookSecret + ")"
	}
	personioNote := "Personio: " + os.Getenv("PERSONIO_BASE_URL")
	if stack.SandboxURL != "" {
		personioNote = "Personio sandbox on " + stack.SandboxURL + " (company 42, token sandbox-token-42; view /_sandbox/applications)"
	}
	fmt.Fprintf(stdout, "Setup page: %s/  (the help article's steps in a browser)\n\n", stack.URL)
	fmt.Fprintf(stdout, `funnel-personio local stack, ready in %s
  API and ingest   %s  (editor API /v1/…, POST /v1/events)
  %s
  %s
  worker           polling the queue
  notifications    outbound events to %s/_notifications, printed here as they arrive
  watch            every %s (positions against career-site feeds, credentials)

JWT (workspace ws_demo, plan advanced, 24 h):
  export TOKEN=%s
Webhook signing secret (ingest):
  %s

Next: follow the README's walk-through, e.g.
  curl -s -H "Authorization: Bearer $TOKEN" %s/v1/personio/targets | head -c 300
Ctrl-C stops (nothing in flight is lost).
`, time.Since(started).Round(time.Millisecond), stack.URL, emulatorNote, personioNote, stack.URL, stack.Settings.WatchTick, token, secret, stack.URL)
	<-ctx.Done()
	fmt.Fprintln(stdout, "stopping: finishing the batches in hand…")
	return 0
}

// answers reports whether something listens on addr.
func answers(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// startEmulator starts `local emulator` as a process of its own (a new
// session, so a crash or Ctrl-C of serve leaves the AWS state running, as
// in AWS) and waits until it answers.
func startEmulator(dataDir string) (int, error) {
	exe, err := os.Executable()
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return 0, err
	}
	abs, _ := filepath.Abs(dataDir)
	logf, err := os.OpenFile(filepath.Join(abs, "emulator.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(exe, "emulator", "-addr", defaultEmulator)
	cmd.Env = append(os.Environ(), "KUMO_DATA_DIR="+abs)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	_ = os.WriteFile(filepath.Join(abs, "emulator.pid"), []byte(fmt.Sprint(cmd.Process.Pid)), 0o644)
	for range 100 {
		if answers(defaultEmulator) {
			return cmd.Process.Pid, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cmd.Process.Pid, fmt.Errorf("the emulator did not answer on %s; see %s", defaultEmulator, logf.Name())
}

func runEmulator(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", defaultEmulator, "address to listen on")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "emulator: listen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "AWS emulator (kumo) on http://%s, state in %q\n", ln.Addr(), os.Getenv("KUMO_DATA_DIR"))
	if err := localstack.ServeEmulator(ctx, ln); err != nil {
		fmt.Fprintf(stderr, "emulator: %v\n", err)
		return 1
	}
	return 0
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func setDefault(name, v string) {
	if os.Getenv(name) == "" {
		os.Setenv(name, v)
	}
}
