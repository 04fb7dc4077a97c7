package sim

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"sync"
	"time"
)

// Main is the simulator's command: `sim -seeds N` runs seeds 1..N (in
// parallel, one run a core), `sim -seed S -trace K` one seed with its last
// K steps. It prints each failing seed's report and, last, one line with
// the seeds, steps and violations, and returns the exit code (1 when any
// seed failed).
func Main(args []string, out io.Writer) int {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(out)
	seeds := fs.Int("seeds", 100, "run seeds 1 to N")
	first := fs.Uint64("from", 1, "the first seed of -seeds")
	seed := fs.Uint64("seed", 0, "run this one seed (with -trace)")
	trace := fs.Int("trace", 0, "keep the last K steps of a failing run")
	events := fs.Int("events", 0, "applications a run (default 12)")
	profile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *profile != "" {
		stop, err := startProfile(*profile)
		if err != nil {
			fmt.Fprintln(out, "sim:", err)
			return 2
		}
		defer stop()
	}
	if *seed != 0 {
		r := Run(Options{Seed: *seed, Trace: max(*trace, 1), Events: *events})
		fmt.Fprintln(out, r)
		fmt.Fprintf(out, "sim: 1 seeds, %d steps, %d violations\n", r.Steps, len(r.Violations))
		return min(len(r.Violations), 1)
	}
	t0 := time.Now()
	sum := Many(*first, *seeds, runtime.GOMAXPROCS(0), Options{Events: *events, Trace: *trace}, func(r Result) {
		if len(r.Violations) > 0 {
			fmt.Fprintln(out, r)
		}
	})
	fmt.Fprintf(out, "sim: %d seeds, %d steps, %d violations (%d seeds failed) in %s\n", sum.Seeds, sum.Steps, sum.Violations, sum.Failed,
		time.Since(t0).Round(time.Second))
	return min(sum.Failed, 1)
}

// startProfile writes a CPU profile to path until the returned stop is
// called.
func startProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// Summary adds up many runs.
type Summary struct {
	Seeds, Steps, Violations, Failed int
	// FirstFailed is the lowest failing seed (0: none).
	FirstFailed uint64
}

// Many runs seeds first..first+n-1 on workers goroutines, calling report
// (from one goroutine at a time) with each result in seed order.
func Many(first uint64, n, workers int, o Options, report func(Result)) Summary {
	results := make([]Result, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				ro := o
				ro.Seed = first + uint64(i)
				results[i] = Run(ro)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	var s Summary
	for _, r := range results {
		s.Seeds++
		s.Steps += r.Steps
		if len(r.Violations) > 0 {
			s.Violations += len(r.Violations)
			s.Failed++
			if s.FirstFailed == 0 {
				s.FirstFailed = r.Seed
			}
		}
		report(r)
	}
	return s
}
