package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/dev/sandbox"
)

// runSandbox serves the Personio sandbox on -addr until ctx ends.
func runSandbox(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "address to listen on (only this one)")
	seedFile := fs.String("seed", "", "JSON seed file (default: the built-in seed, company 42 and 43)")
	var cfg sandbox.Config
	fs.IntVar(&cfg.RateLimit, "rate-limit", sandbox.DefaultRateLimit, "requests per window per company (negative: no limit)")
	fs.DurationVar(&cfg.RateWindow, "rate-window", sandbox.DefaultRateWindow, "rate limit window")
	fs.DurationVar(&cfg.Lockout, "lockout", sandbox.DefaultLockout, "how long a company gets 429 after going over")
	fs.DurationVar(&cfg.Latency, "latency", 0, "latency added to every API answer")
	fs.Float64Var(&cfg.Faults.Error500, "fault-500", 0, "share of API requests answered 500")
	fs.Float64Var(&cfg.Faults.Slow, "fault-slow", 0, "share of API requests answered after -slow-delay")
	fs.DurationVar(&cfg.Faults.SlowDelay, "slow-delay", sandbox.DefaultSlowDelay, "delay of a slow answer")
	fs.Float64Var(&cfg.Faults.Drop, "fault-drop", 0, "share of API requests whose connection is dropped after processing")
	fs.Float64Var(&cfg.Faults.Burst429, "fault-429", 0, "share of API requests that start a burst of 429s lasting -burst-for")
	fs.DurationVar(&cfg.Faults.BurstFor, "burst-for", 0, "how long a burst of 429s lasts (default: -lockout)")
	fs.Float64Var(&cfg.LoseAnswers, "lose-answers", 0, "share of created applications whose answer is lost (created, then the connection dropped)")
	fs.IntVar(&cfg.ReadRateLimit, "read-rate-limit", 0, "v2 reads per window per company (0: no limit; Personio documents none)")
	fs.Uint64Var(&cfg.RandSeed, "rand-seed", 1, "seed of the fault dice")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg.Seed = sandbox.DefaultSeed()
	if *seedFile != "" {
		seed, err := sandbox.LoadSeed(*seedFile)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		cfg.Seed = seed
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	cfg.Logger = logger
	sb, err := sandbox.New(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "sandbox: listen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Personio sandbox on http://%s (companies %v; view at /_sandbox/applications)\n", ln.Addr(), sb.Companies())
	if err := localstack.Serve(ctx, ln, sb); err != nil {
		fmt.Fprintf(stderr, "sandbox: %v\n", err)
		return 1
	}
	return 0
}
