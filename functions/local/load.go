package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/emulator"
	"github.com/funnel-personio/funnel-personio/dev/loadtest"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
)

// scenarios are the load runs `make load` knows.
var scenarios = map[string]func(events int, window time.Duration, latency time.Duration) loadtest.Config{
	// companies: the events spread over -companies workspaces, each with
	// a company of its own, all sent at once (a scaled-down peak).
	"companies": func(n int, w, l time.Duration) loadtest.Config {
		return loadtest.Config{Events: repeat(max(n/companies, 1), companies), Latency: l, RateWindow: w, FileShare: 0.3, Promise: loadtest.UnderBudget}
	},
	// shared: -companies companies, each with a backlog of its share of
	// the events, all at once, needing more than the global budget gives:
	// a company's limit 5 and the global budget 528 a window (11 × 48: the
	// stack's 20 and 2,000 scaled down, so that 150 busy companies want
	// 1.56 times the 480 the global budget lets them share, as 150 want
	// 1.66 times the 1,810 on AWS).
	"shared": func(n int, w, l time.Duration) loadtest.Config {
		return loadtest.Config{Events: repeat(max(n/companies, 1), companies), Latency: l, RateWindow: w, RateLimit: 5, GlobalLimit: 11 * 48, Promise: loadtest.AllOver}
	},
	"under-budget": func(n int, w, l time.Duration) loadtest.Config {
		return loadtest.Config{Events: repeat(10, 10), Latency: l, FileShare: 0.3, RateWindow: w, TargetP99: 250 * time.Millisecond, Promise: loadtest.UnderBudget}
	},
	"backlog": func(n int, w, l time.Duration) loadtest.Config {
		return loadtest.Config{Events: []int{n}, Latency: l, RateWindow: w, TargetBudgetUse: 0.95, Promise: loadtest.FirstOver}
	},
	// noisy: a backlog of n for the first workspace, then 10 quiet
	// workspaces' 100 events one every 300 ms; quiet: the same quiet
	// events alone, the baseline.
	"noisy": func(n int, w, l time.Duration) loadtest.Config {
		return loadtest.Config{Events: append([]int{n}, repeat(10, 10)...), Latency: l, RateWindow: w, FileShare: 0.3, Pace: 300 * time.Millisecond,
			Promise: loadtest.FirstOver}
	},
	"quiet": func(n int, w, l time.Duration) loadtest.Config {
		return loadtest.Config{Events: append([]int{0}, repeat(10, 10)...), Latency: l, RateWindow: w, FileShare: 0.3, Pace: 300 * time.Millisecond,
			TargetP99: 150 * time.Millisecond, Promise: loadtest.UnderBudget}
	},
	// routed: one company's backlog of n, each applicant's answer
	// picking one of three job positions (1001, the default, 1003, 1004):
	// the budget is the company's whatever the position.
	"routed": func(n int, w, l time.Duration) loadtest.Config {
		return loadtest.Config{Events: []int{n}, Latency: l, RateWindow: w, Routed: []int64{1001, 1003, 1004}, Promise: loadtest.FirstOver}
	},
	"ingest": func(n int, w, l time.Duration) loadtest.Config {
		return loadtest.Config{Events: repeat(n/10, 10), FileShare: 0.3, IngestOnly: true, Senders: 16}
	},
	"faults": func(n int, w, l time.Duration) loadtest.Config {
		return loadtest.Config{Events: repeat(n/10, 10), Latency: l, FileShare: 0.2, RateWindow: w, Restarts: 2,
			PersonioTimeout: 2 * time.Second, Faults: loadtest.FaultMix, Promise: loadtest.AllOver}
	},
}

// companies is the -companies flag: how many workspaces the companies
// scenario spreads its events over.
var companies = 100

func repeat(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("scenario", "under-budget", "under-budget, backlog, noisy (runs quiet first), quiet, companies, shared, routed, ingest or faults")
	events := fs.Int("events", 1000, "events of the backlog (backlog, noisy) or in all (ingest, faults)")
	window := fs.Duration("window", 60*time.Second, "Personio's rate window (20 requests per window); shorter windows make long runs short")
	latency := fs.Duration("latency", 50*time.Millisecond, "latency the Personio sandbox adds")
	out := fs.String("out", ".data/load", "folder for <scenario>.json and <scenario>.html")
	timeout := fs.Duration("timeout", 60*time.Minute, "bound of the run")
	pollers := fs.Int("pollers", settings.Default().WorkerConcurrency, "queue pollers feeding the worker (each hands it batches of 10; default: the stack's worker concurrency)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of this process (the stack, not the emulator) to the file")
	fs.IntVar(&companies, "companies", companies, "workspaces (each with its own company) of the companies scenario")
	readAccess := fs.Bool("read-access", true, "faults: give every connection read access (Personio's v2 API, which the run's sandbox offers), so that an \"already exists\" after a lost answer is settled by a read")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	mk, ok := scenarios[*name]
	if !ok {
		fmt.Fprintf(stderr, "load: unknown scenario %q\n", *name)
		return 2
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "load: cpu profile: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	// one runs a scenario on an emulator of its own (a process: the fault
	// campaign stops and starts it on its state).
	one := func(name string) (*loadtest.Report, error) {
		cfg := scenarios[name](*events, *window, *latency)
		cfg.Name, cfg.Timeout, cfg.Progress, cfg.Pollers = name, *timeout, stdout, *pollers
		emu, dir, err := loadEmulator(name, name == "faults")
		if err != nil {
			return nil, err
		}
		if dir != "" {
			defer os.RemoveAll(dir)
		}
		defer emu.Stop()
		if name == "faults" {
			cfg.RestartEmulator, cfg.ReadAccess = emu.Restart, *readAccess
		} else {
			cfg.EmulatorPID = emu.Pid
		}
		return loadtest.Run(ctx, emu.Config(), cfg)
	}
	// The noisy scenario's figure is a ratio: the quiet workspaces beside
	// the backlog against the same quiet workspaces alone, run just before
	// on the same machine.
	var alone *loadtest.Report
	if *name == "noisy" {
		var err error
		if alone, err = one("quiet"); err != nil {
			fmt.Fprintf(stderr, "load: %v\n", err)
			return 1
		}
		writeReport(*out, alone)
		fmt.Fprintf(stdout, "quiet (alone, before noisy): p99 %.0f ms\n\n", alone.QuietP99)
	}
	r, err := one(*name)
	if err != nil {
		fmt.Fprintf(stderr, "load: %v\n", err)
		return 1
	}
	cfg := mk(*events, *window, *latency)
	if alone != nil && alone.QuietP99 > 0 {
		r.QuietAloneP99, r.QuietRatio = alone.QuietP99, r.QuietP99/alone.QuietP99
	}
	writeReport(*out, r)
	if cfg.IngestOnly {
		fmt.Fprintf(stdout, "\n%s: %d/%d events accepted in %.1f s: %.0f events/s (no worker)\nreport: %s\n", r.Name, r.Accepted, r.Events, r.Seconds,
			r.IngestPerSec, filepath.Join(*out, *name+".json"))
		if r.CPU != nil {
			fmt.Fprintf(stdout, "%s: %s\n", r.Name, r.CPU.Sentence(0, r.Accepted))
		}
		return 0
	}
	fmt.Fprintf(stdout, "\n%s: log lines %d, with a token/e-mail/name %d\n", r.Name, r.LogLines, r.Leaks)
	fmt.Fprintf(stdout, "%s: %d/%d delivered, lost %d, duplicates %d, 429s %d, p50 %.0f ms, p95 %.0f ms, p99 %.0f ms, ingest %.0f events/s, deliver %.1f events/s\n",
		r.Name, r.Delivered, r.Accepted, r.Lost, r.Duplicates, r.RateLimited, r.P50, r.P95, r.P99, r.IngestPerSec, r.DeliverPerSec)
	fmt.Fprintf(stdout, "%s: budget use: %s\n%s: final states: %s\nreport: %s\n", r.Name, r.BudgetUseText(), r.Name, r.StatesText(),
		filepath.Join(*out, *name+".html"))
	if len(r.PerPosition) > 0 {
		fmt.Fprintf(stdout, "%s: applications per position: %s\n", r.Name, loadtest.PerPositionText(r.PerPosition))
	}
	if len(r.BudgetWrites) > 0 {
		var most string
		for c := range r.BudgetWrites {
			if most == "" || r.BudgetWrites[c] > r.BudgetWrites[most] {
				most = c
			}
		}
		fmt.Fprintf(stdout, "%s: budget item writes: company %s %d in the run (at most %.0f a second); queue at most %v\n", r.Name, most,
			r.BudgetWrites[most], r.BudgetWritesPerSec[most], r.QueueMax)
	}
	if r.AWS != nil && r.AWS.Error == "" {
		fmt.Fprintf(stdout, "%s: %s\n", r.Name, r.AWS.Cost.Summary(8))
	}
	if r.Budget != nil {
		fmt.Fprintf(stdout, "%s: %s\n", r.Name, r.Budget.Sentence)
	}
	if r.CPU != nil {
		fmt.Fprintf(stdout, "%s: %s\n", r.Name, r.CPU.Sentence(r.Delivered, r.Accepted))
	}
	if r.QuietP99 > 0 {
		fmt.Fprintf(stdout, "%s: quiet workspaces' p99 %.0f ms\n", r.Name, r.QuietP99)
	}
	if r.QuietRatio > 0 {
		fmt.Fprintf(stdout, "%s: beside the backlog that is %.2f× their p99 alone (%.0f ms; target ≤ 2×)\n", r.Name, r.QuietRatio, r.QuietAloneP99)
	}
	if line := stageLine(r.Stages); line != "" {
		fmt.Fprintf(stdout, "%s: where the time goes, mean / p99 ms: %s\n", r.Name, line)
	}
	if line := stageLine(r.QuietStages); line != "" {
		fmt.Fprintf(stdout, "%s: the quiet workspaces' time, mean / p99 ms: %s\n", r.Name, line)
	}
	if s := r.Shared; s != nil {
		fmt.Fprintf(stdout, "%s: global budget %d a window, at most %d in any window; while all %d companies had a backlog (%.0f s) each sent %.1f on average, the farthest %.1f %% from it\n",
			r.Name, s.Limit, s.MostInAWindow, len(s.Shares), s.Seconds, s.Mean, 100*s.Spread)
	}
	if r.ReceivesPerEvent > 0 {
		fmt.Fprintf(stdout, "%s: %.2f receives per event\n", r.Name, r.ReceivesPerEvent)
	}
	if r.Unconfirmed > 0 {
		fmt.Fprintf(stdout, "%s: %d events recorded unconfirmed (Personio had them after a lost answer)\n", r.Name, r.Unconfirmed)
	}
	if r.Misrecorded > 0 || r.Untagged > 0 {
		fmt.Fprintf(stdout, "%s: %d events in Personio not recorded as delivered: %q; %d applications without their event's tag\n", r.Name, r.Misrecorded, r.Wrong, r.Untagged)
	}
	if r.Lost > 0 || r.Duplicates > 0 || r.Leaks > 0 || r.Misrecorded > 0 || r.Untagged > 0 || r.Budget != nil && !r.Budget.Kept {
		return 1
	}
	return 0
}

// loadEmulator starts `local emulator` on a free port; with persist its
// state goes to a new temporary folder (returned) every 10 s, so that it
// can be stopped and started again (writing kumo's whole state every
// second would cost a core once it holds thousands of deliveries).
func loadEmulator(name string, persist bool) (*emulator.Process, string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, "", err
	}
	addr, err := emulator.FreeAddr()
	if err != nil {
		return nil, "", err
	}
	dir, env := "", []string{"KUMO_DATA_DIR="}
	if persist {
		if dir, err = os.MkdirTemp("", "load-"+name+"-kumo-"); err != nil {
			return nil, "", err
		}
		env = []string{"KUMO_DATA_DIR=" + dir, "KUMO_PERSIST_FLUSH_INTERVAL_MS=10000"}
	}
	p, err := emulator.StartProcess([]string{exe, "emulator", "-addr", addr}, env, addr)
	return p, dir, err
}

// writeReport writes a run's report to dir: <name>.json and its page,
// <name>.html.
func writeReport(dir string, r *loadtest.Report) {
	b, _ := json.MarshalIndent(r, "", "  ")
	_ = os.WriteFile(filepath.Join(dir, r.Name+".json"), b, 0o644)
	if f, err := os.Create(filepath.Join(dir, r.Name+".html")); err == nil {
		_ = loadtest.WriteHTML(f, r)
		f.Close()
	}
}

// stageLine is each stage's mean and p99 that took any time, in the
// stages' order ("" without stages).
func stageLine(stages map[string]loadtest.Spread) string {
	var parts []string
	for _, name := range loadtest.Stages {
		if sp, ok := stages[name]; ok && sp.P99 >= 0.5 {
			parts = append(parts, fmt.Sprintf("%s %.0f / %.0f", name, sp.Mean, sp.P99))
		}
	}
	return strings.Join(parts, ", ")
}
