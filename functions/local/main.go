// Command local runs funnel-personio on one machine. Subcommands:
//
//	serve       the whole pipeline (default; what `make run` starts)
//	emulator    the AWS emulator (kumo) alone, in a process of its own
//	sandbox     the Personio sandbox alone
//	token       mint a dev JWT for a workspace and plan
//	send FILE   sign an event file and post it to ingest
//	deliveries  list a funnel's deliveries
//	load        a load or fault run (make load, make faults)
//	coldstart   the functions' cold starts and sizes (make coldstart)
//	reset       delete the local AWS state (make reset)
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: local [command] [flags]

commands:
  serve       the whole pipeline: API, ingest, queue, worker, Personio sandbox (default)
  emulator    the AWS emulator (kumo) on -addr, state in KUMO_DATA_DIR
  sandbox     the Personio sandbox alone (see 'local sandbox -h')
  token       mint a dev JWT: local token -workspace ws_demo -plan advanced
  send FILE   sign an event file and post it to ingest: local send -new-id events/ingest/event.json
  deliveries  list a funnel's deliveries: local deliveries -funnel fn_office
  load        a load or fault run against an in-process stack: local load -scenario backlog
  perf-report the scenarios docs/performance.md quotes, their reports in docs/perf/ and the page's tables
  coldstart   the functions' cold starts and sizes, from the module's root: local coldstart -runs 20
  reset       delete the local AWS state (.data/kumo) to start over (make reset); stop serve first
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a subcommand and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return runServe(ctx, args, stdout, stderr)
	case "emulator":
		return runEmulator(ctx, args, stdout, stderr)
	case "sandbox":
		return runSandbox(ctx, args, stdout, stderr)
	case "token":
		return runToken(args, stdout, stderr)
	case "send":
		return runSend(ctx, args, stdout, stderr)
	case "deliveries":
		return runDeliveries(ctx, args, stdout, stderr)
	case "load":
		return runLoad(ctx, args, stdout, stderr)
	case "perf-report":
		return runPerfReport(ctx, args, stdout, stderr)
	case "coldstart":
		return runColdstart(ctx, args, stdout, stderr)
	case "reset":
		return runReset(ctx, args, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "local: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
}
