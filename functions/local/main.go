// Command local runs funnel-personio's parts on one machine. Subcommands:
//
//	sandbox   the Personio sandbox alone (go run ./functions/local sandbox -addr 127.0.0.1:8090)
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: local <command> [flags]

commands:
  sandbox   run the Personio sandbox alone (see 'local sandbox -h')
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches a subcommand and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "sandbox":
		return runSandbox(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "local: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}
