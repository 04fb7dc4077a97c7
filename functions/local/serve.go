package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/logging"

	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
)

const defaultEmulator = "127.0.0.1:4566"

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envOr("LOCAL_ADDR", "127.0.0.1:8080"), "API and ingest address")
	sandboxAddr := fs.String("sandbox-addr", envOr("SANDBOX_ADDR", "127.0.0.1:8090"), "Personio sandbox address (unless PERSONIO_BASE_URL is set)")
	emulatorAddr := fs.String("emulator-addr", envOr("LOCAL_EMULATOR_ADDR", defaultEmulator), "the AWS emulator's address (loopback), when no AWS_ENDPOINT_URL is set")
	dataDir := fs.String("data", envOr("KUMO_DATA_DIR", ".data/kumo"), "where a started emulator keeps its state")
	keepEmulator := fs.Bool("keep-emulator", false, "let the emulator serve starts outlive it (stop it with kill)")
	withParent := fs.Bool("stop-with-parent", false, "stop when the process that started serve is stopping (make run passes it)")
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
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	if *withParent {
		stopWithParent(ctx, stop, 200*time.Millisecond)
	}
	endpoint := os.Getenv("AWS_ENDPOINT_URL")
	emulatorNote := "AWS endpoint " + endpoint
	var emu *ownedEmulator
	if endpoint == "" && os.Getenv("AWS_ACCESS_KEY_ID") == "" {
		if !loopback("http://" + *emulatorAddr) {
			fmt.Fprintf(stderr, "local: the emulator's address %s is not a loopback address\n", *emulatorAddr)
			return 2
		}
		endpoint = "http://" + *emulatorAddr
		if answers(*emulatorAddr) {
			emulatorNote = "AWS emulator (kumo) on " + endpoint + ": one was already answering there, so this serve uses it and leaves it running"
		} else {
			if emu, err = startOwnedEmulator(*emulatorAddr, *dataDir, *keepEmulator); err != nil {
				fmt.Fprintf(stderr, "local: start the emulator: %v\n", err)
				return 1
			}
			if *keepEmulator {
				emulatorNote = fmt.Sprintf("AWS emulator (kumo) on %s, started, pid %d, state in %s (it outlives this process; stop it with: kill %d)", endpoint, emu.Pid, *dataDir, emu.Pid)
				emu = nil
			} else {
				emulatorNote = fmt.Sprintf("AWS emulator (kumo) on %s, started, pid %d, state in %s (it stops with this process)", endpoint, emu.Pid, *dataDir)
				defer func() {
					// On an early return; the way out after Ctrl-C stops it
					// before saying everything stopped.
					if emu != nil {
						fmt.Fprintf(stdout, "stopping the AWS emulator (pid %d): it saves its state…\n", emu.Pid)
						emu.Stop()
					}
				}()
				go func(e *ownedEmulator) {
					<-e.done
					stop(fmt.Errorf("the AWS emulator (pid %d) ended: %v", e.Pid, e.err))
				}(emu)
			}
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
	awsCfg.Logger = sdkLog{log}
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
	token, _ := stack.Auth.Mint("ws_demo", "advanced", 24*time.Hour)
	secret := stack.WebhookSecret()
	if secret != localstack.DevWebhookSecret {
		secret = "(yours, from " + varWebhookSecret + ")"
	}
	personioNote := "Personio: " + os.Getenv("PERSONIO_BASE_URL")
	if stack.SandboxURL != "" {
		// Not the token itself: it changes when regenerated (rotate-token),
		// and this banner would go on showing the old one.
		personioNote = "Personio sandbox on " + stack.SandboxURL + " (company 42; its current token at " + stack.SandboxURL +
			"/_sandbox/companies/42; what it received at /_sandbox/applications)"
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
Ctrl-C stops (nothing in flight is lost). make reset starts over with a clean state.
`, time.Since(started).Round(time.Millisecond), stack.URL, emulatorNote, personioNote, stack.URL, stack.Settings.WatchTick, token, secret, stack.URL)
	<-ctx.Done()
	code := 0
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		fmt.Fprintf(stdout, "stopping: %v\n", cause)
		if !errors.Is(cause, errParentStopping) {
			code = 1
		}
	}
	fmt.Fprintln(stdout, "stopping: finishing the batches in hand…")
	stack.Close()
	if emu != nil {
		fmt.Fprintf(stdout, "stopping the AWS emulator (pid %d): it saves its state…\n", emu.Pid)
		emu.Stop()
		emu = nil
	}
	fmt.Fprintln(stdout, "stopped: the local stack and everything it started are down.")
	return code
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
	state := "state in memory only (KUMO_DATA_DIR is not set)"
	if dir := os.Getenv("KUMO_DATA_DIR"); dir != "" {
		state = "state in " + dir
	}
	fmt.Fprintf(stdout, "AWS emulator (kumo) on http://%s, %s\n", ln.Addr(), state)
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

// sdkLog takes the AWS SDK's own log lines into the stack's log, at info
// level (-v shows them), instead of the SDK's plain lines on the terminal.
// Its one line in normal use, "failed to discard remaining HTTP response
// body", says a connection to the emulator is not reused after a request
// ended early; nothing is lost.
type sdkLog struct{ log *slog.Logger }

// Logf writes one SDK line.
func (l sdkLog) Logf(c logging.Classification, format string, v ...any) {
	l.log.Info("aws sdk: "+fmt.Sprintf(format, v...), "sdk_level", string(c))
}
