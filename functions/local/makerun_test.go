package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMakeRunStops starts `make run` as a person does and stops it by a
// signal to one process of its tree: make, serve or the emulator, or the
// whole foreground process group (Ctrl-C in a terminal). It says first
// that it compiles. Whichever gets
// it, every process ends (make, serve, the emulator; no shell is left
// between make and serve). The banner says the emulator was started by
// this serve, not that it was already running.
func TestMakeRunStops(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	// A child started by a process that ignores SIGINT (a background job
	// of a shell without job control) inherits that; make would then not
	// catch it, as it does in a terminal. Catching SIGINT and SIGQUIT here
	// while the test runs gives the children the defaults: exec resets
	// caught signals.
	caught := make(chan os.Signal, 1)
	signal.Notify(caught, syscall.SIGINT, syscall.SIGQUIT)
	defer signal.Stop(caught)
	bin := filepath.Join(t.TempDir(), "local")
	for _, c := range []struct {
		name   string
		target string // make, serve, emulator or group
		sig    syscall.Signal
	}{
		{"SIGINT to make alone", "make", syscall.SIGINT},
		{"SIGTERM to make alone", "make", syscall.SIGTERM},
		{"SIGHUP to make alone", "make", syscall.SIGHUP},
		{"Ctrl-C in the terminal", "group", syscall.SIGINT},
		{"SIGINT to serve", "serve", syscall.SIGINT},
		{"SIGKILL to serve", "serve", syscall.SIGKILL},
		{"SIGTERM to the emulator", "emulator", syscall.SIGTERM},
	} {
		t.Run(c.name, func(t *testing.T) {
			mk, banner := startMakeRun(t, bin)
			// A cold clone compiles for minutes: the first line says so.
			if !strings.HasPrefix(banner, "make run: compiling") {
				t.Errorf("make run does not begin by saying it compiles:\n%s", banner)
			}
			for _, want := range []string{", started, pid ", "(it stops with this process)"} {
				if !strings.Contains(banner, want) {
					t.Errorf("the banner does not say %q:\n%s", want, banner)
				}
			}
			if strings.Contains(banner, "already") {
				t.Errorf("the banner says the emulator it started was already running:\n%s", banner)
			}
			serve := children(mk.Process.Pid)
			if len(serve) != 1 || !strings.Contains(cmdline(serve[0]), "serve") {
				t.Fatalf("make's children: %v (%q); want serve alone, no shell between", serve, cmdlines(serve))
			}
			emu := children(serve[0])
			if len(emu) != 1 || !strings.Contains(cmdline(emu[0]), "emulator") {
				t.Fatalf("serve's children: %v (%q); want the emulator", emu, cmdlines(emu))
			}
			pids := map[string]int{"make": mk.Process.Pid, "serve": serve[0], "emulator": emu[0]}
			target := pids[c.target]
			if c.target == "group" {
				target = -mk.Process.Pid
			}
			if err := syscall.Kill(target, c.sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { _ = mk.Wait(); close(done) }()
			deadline := time.After(40 * time.Second)
			for name, pid := range pids {
				for alive(pid) {
					select {
					case <-deadline:
						t.Fatalf("%s (pid %d) still runs 40 s after %s", name, pid, c.name)
					case <-time.After(50 * time.Millisecond):
					}
				}
			}
			<-done
		})
	}
}

// startMakeRun runs `make run` on free ports with its state in a folder of
// the test's, in a process group of its own (as a terminal's foreground
// job), and returns once the stack prints that it is ready, with what it
// printed. Whatever still runs at the end of the test is killed.
func startMakeRun(t *testing.T, bin string) (*exec.Cmd, string) {
	t.Helper()
	root, _ := filepath.Abs("../..")
	mk := exec.Command("make", "--no-print-directory", "-C", root, "run", "LOCAL_BIN="+bin)
	env := []string{"LOCAL_ADDR=" + freeAddr(t), "SANDBOX_ADDR=" + freeAddr(t), "LOCAL_EMULATOR_ADDR=" + freeAddr(t),
		"KUMO_DATA_DIR=" + filepath.Join(t.TempDir(), "kumo")}
	for _, kv := range os.Environ() {
		// Not the AWS environment of whoever runs the tests, nor an outer
		// make's flags (make test runs these tests).
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "MAKE") && !strings.HasPrefix(kv, "MFLAGS=") {
			env = append(env, kv)
		}
	}
	mk.Env = env
	mk.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, _ := mk.StdoutPipe()
	mk.Stderr = mk.Stdout
	if err := mk.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-mk.Process.Pid, syscall.SIGKILL) })
	// The first build may compile for a while.
	banner, ok := awaitLine(out, func(l string) bool { return strings.HasPrefix(l, "Ctrl-C stops") }, 3*time.Minute)
	if !ok {
		t.Fatalf("make run not ready:\n%s", banner)
	}
	return mk, banner
}

// children are the pids of a process's children, started by any of its
// threads.
func children(pid int) []int {
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	var out []int
	for _, file := range files {
		b, _ := os.ReadFile(file)
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

func cmdline(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.ReplaceAll(string(b), "\x00", " ")
}

func cmdlines(pids []int) []string {
	var out []string
	for _, p := range pids {
		out = append(out, cmdline(p))
	}
	return out
}

// alive reports whether a process runs (a zombie, ended but not yet
// reaped, does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}

// TestMakeHelpListsEveryTarget: `make` alone prints the targets instead of
// running the test suite, every target of the Makefile is among them, and
// the Commands table of docs/contributing.md lists each one.
func TestMakeHelpListsEveryTarget(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	root, _ := filepath.Abs("../..")
	mf, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, line := range strings.Split(string(mf), "\n") {
		if rest, ok := strings.CutPrefix(line, ".PHONY:"); ok {
			targets = append(targets, strings.Fields(rest)...)
		}
	}
	if len(targets) < 15 {
		t.Fatalf(".PHONY names %d targets: %q", len(targets), targets)
	}
	cmd := exec.Command("make", "--no-print-directory", "-C", root)
	cmd.Env = append(os.Environ(), "MAKEFLAGS=", "MAKELEVEL=")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil || time.Since(start) > 10*time.Second {
		t.Fatalf("make alone: %v after %s\n%s", err, time.Since(start), out)
	}
	readme, err := os.ReadFile(filepath.Join(root, "docs", "contributing.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, commands, _ := strings.Cut(string(readme), "\n## Commands\n")
	commands, _, _ = strings.Cut(commands, "\n## ")
	for _, target := range targets {
		if !regexp.MustCompile(`(?m)^  `+regexp.QuoteMeta(target)+`[ ,]`).Match(out) &&
			!regexp.MustCompile(`(?m)^  [a-z-]+, `+regexp.QuoteMeta(target)+` `).Match(out) {
			t.Errorf("make alone does not list %q:\n%s", target, out)
		}
		if !strings.Contains(commands, "| `make "+target+"` |") {
			t.Errorf("the Commands table of docs/contributing.md does not list make %s", target)
		}
	}
}
