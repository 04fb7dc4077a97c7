package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/perfreport"
)

// runPerfReport runs the scenarios the performance page quotes
// (perfreport.Runs), keeps their trimmed reports under docs/perf/ and
// rewrites the page's tables from them; -render only rewrites the tables
// from the reports already there.
func runPerfReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("perf-report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	docs := fs.String("docs", "docs", "the docs folder: reports go to <docs>/perf/, the tables into <docs>/performance.md")
	only := fs.String("only", "", "comma-separated scenarios to run (default: every one the page quotes)")
	render := fs.Bool("render", false, "run nothing: rewrite the tables from the reports in <docs>/perf/")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	dir := filepath.Join(*docs, "perf")
	code := 0
	if !*render {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		for _, s := range perfreport.Runs {
			if *only != "" && !slices.Contains(strings.Split(*only, ","), s.Name) {
				continue
			}
			if err := perfRun(ctx, s, dir, stdout, stderr); err != nil {
				fmt.Fprintf(stderr, "perf-report: %s: %v\n", s.Name, err)
				code = 1
			}
		}
	}
	if err := writeTables(dir, *docs); err != nil {
		fmt.Fprintf(stderr, "perf-report: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "perf-report: %s and %s rewritten from %s\n", filepath.Join(*docs, "performance.md"), filepath.Join(*docs, "cost.md"), dir)
	return code
}

// perfRun runs one scenario and keeps its trimmed report in dir.
func perfRun(ctx context.Context, s perfreport.Scenario, dir string, stdout, stderr io.Writer) error {
	tmp, err := os.MkdirTemp("", "perf-"+s.Name+"-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	settle(ctx, stdout)
	m := perfreport.Machine{Cores: runtime.NumCPU(), CPU: cpuModel(), LoadBefore: loadAverage()}
	stop := sampleLoad(&m)
	code := runLoad(ctx, append(slices.Clone(s.Args), "-out", tmp), stdout, stderr)
	stop()
	if code != 0 {
		return fmt.Errorf("the run failed (exit %d): its report is not kept", code)
	}
	b, err := os.ReadFile(filepath.Join(tmp, s.Name+".json"))
	if err != nil {
		return err
	}
	f, err := perfreport.Trim(b)
	if err != nil {
		return err
	}
	return perfreport.Save(dir, perfreport.Run{Scenario: s.Name, Command: s.Command(), Date: time.Now().UTC().Format(time.DateOnly),
		Commit: commit(), Machine: m, Figures: f})
}

// writeTables rewrites the generated parts of docs's performance.md and
// cost.md from the reports in dir.
func writeTables(dir, docs string) error {
	pages, err := perfreport.Pages(dir)
	if err != nil {
		return err
	}
	for name, generated := range pages {
		page := filepath.Join(docs, name)
		b, err := os.ReadFile(page)
		if err != nil {
			return err
		}
		out, err := perfreport.Splice(b, generated)
		if err != nil {
			return fmt.Errorf("%s: %w", page, err)
		}
		if err := os.WriteFile(page, out, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// sampleLoad samples the 1-minute load average every 5 s into m's
// LoadDuring (the mean) and LoadMax until the returned func is called.
func sampleLoad(m *perfreport.Machine) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sum, n := 0.0, 0
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				if n == 0 {
					sum, n = loadAverage(), 1
				}
				m.LoadDuring = round1(sum / float64(n))
				return
			case <-tick.C:
			}
			l := loadAverage()
			sum, n = sum+l, n+1
			m.LoadMax = max(m.LoadMax, l)
		}
	}()
	return func() { close(done); wg.Wait() }
}

// Settling: a run starts once the machine's cores were at most
// quietBusy busy over a second (the run before it, its emulator's stop
// included, is over), or after settleMax of waiting; the run's load
// average says how quiet it was.
const (
	quietBusy = 0.10
	settleMax = 60 * time.Second
)

// settle waits until the machine is quiet (see quietBusy), and says so
// when it had to wait.
func settle(ctx context.Context, stdout io.Writer) {
	start := time.Now()
	for {
		busy, ok := busyOver(ctx, time.Second)
		if !ok || busy <= quietBusy {
			if waited := time.Since(start); ok && waited > 1500*time.Millisecond {
				fmt.Fprintf(stdout, "perf-report: waited %s for the machine to quieten (cores %.0f %% busy)\n", waited.Round(time.Second), 100*busy)
			}
			return
		}
		if time.Since(start) >= settleMax {
			fmt.Fprintf(stdout, "perf-report: the machine is still %.0f %% busy after %s: running anyway\n", 100*busy, settleMax)
			return
		}
	}
}

// busyOver is the share of the cores' time that was not idle over d,
// from /proc/stat (ok false where it cannot be read, or ctx ended).
func busyOver(ctx context.Context, d time.Duration) (busy float64, ok bool) {
	read := func() (idle, total uint64, ok bool) {
		b, err := os.ReadFile("/proc/stat")
		if err != nil {
			return 0, 0, false
		}
		return cpuTimes(b)
	}
	idle0, total0, ok0 := read()
	select {
	case <-ctx.Done():
		return 0, false
	case <-time.After(d):
	}
	idle1, total1, ok1 := read()
	if !ok0 || !ok1 || total1 <= total0 {
		return 0, false
	}
	return 1 - float64(idle1-idle0)/float64(total1-total0), true
}

// cpuTimes reads /proc/stat's first line, the time of all cores: idle
// (idle and iowait) and total (user, nice, system, idle, iowait, irq,
// softirq, steal; guest time is already in user and nice), in clock
// ticks.
func cpuTimes(stat []byte) (idle, total uint64, ok bool) {
	line, _, _ := strings.Cut(string(stat), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, 0, false
	}
	for i, s := range f[1:min(len(f), 9)] {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += n
		if i == 3 || i == 4 { // idle, iowait
			idle += n
		}
	}
	return idle, total, true
}

func round1(x float64) float64 { return float64(int(x*10+0.5)) / 10 }

// loadAverage is the machine's 1-minute load average (0 where
// /proc/loadavg is not there).
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _ := strconv.ParseFloat(strings.Fields(string(b) + " 0")[0], 64)
	return f
}

// cpuModel is the first processor's model name in /proc/cpuinfo ("" where
// it cannot be read).
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// commit is the checkout's short commit, with "+changes" when tracked
// files outside docs/ (which the runs themselves rewrite) differ from it.
func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if diff, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":(exclude)docs").Output(); err == nil && len(diff) > 0 {
		c += "+changes"
	}
	return c
}
