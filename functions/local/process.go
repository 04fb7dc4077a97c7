package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ownedEmulator is the AWS emulator serve started and stops: a child
// process in a process group of its own, so that a Ctrl-C in the
// terminal reaches serve first, which finishes the batches in hand and
// then stops the emulator cleanly; and with a parent-death signal, so
// that it stops cleanly (its state saved) even if serve is killed.
type ownedEmulator struct {
	Pid  int
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has ended
	err  error         // its exit, once done is closed
}

// startOwnedEmulator starts `local emulator -addr addr` with its state in
// dataDir and its output in dataDir/emulator.log, and waits until it
// answers. keep starts it in a session of its own instead, which outlives
// serve (stop it with kill).
func startOwnedEmulator(addr, dataDir string, keep bool) (*ownedEmulator, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, err
	}
	logf, err := os.OpenFile(filepath.Join(abs, "emulator.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(exe, "emulator", "-addr", addr)
	cmd.Env = append(os.Environ(), "KUMO_DATA_DIR="+abs)
	cmd.Stdout, cmd.Stderr = logf, logf
	if keep {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	}
	e := &ownedEmulator{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		// The parent-death signal follows the thread that started the
		// child, not the process: this goroutine keeps its thread until
		// the child has ended (a goroutine that ends locked takes its
		// thread with it, by then harmlessly).
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		e.err = cmd.Wait()
		close(e.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	e.Pid = cmd.Process.Pid
	_ = os.WriteFile(filepath.Join(abs, "emulator.pid"), []byte(strconv.Itoa(e.Pid)), 0o644)
	for range 200 {
		if answers(addr) {
			return e, nil
		}
		select {
		case <-e.done:
			return nil, fmt.Errorf("the emulator ended before it answered on %s (%v); see %s", addr, e.err, logf.Name())
		case <-time.After(50 * time.Millisecond):
		}
	}
	e.Stop()
	return nil, fmt.Errorf("the emulator did not answer on %s within 10 s; see %s", addr, logf.Name())
}

// Stop stops the emulator cleanly (SIGTERM: it finishes the requests in
// hand, puts messages in flight back and writes its state), killing it
// after 30 s.
func (e *ownedEmulator) Stop() {
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(30 * time.Second):
		_ = e.cmd.Process.Kill()
		<-e.done
	}
}

// errParentStopping is the cause of serve's stop when the process that
// started it is stopping or gone.
var errParentStopping = errors.New("the process that started it is stopping")

// stopWithParent cancels ctx when the process that started serve stops
// waiting for it as usual: it is gone (serve was re-parented), or it no
// longer catches one of SIGINT, SIGTERM and SIGHUP that it caught when
// serve started. GNU make, given such a signal, resets its handler and
// waits for its children to end without passing SIGINT or SIGHUP on; so
// `make run` stopped by a signal to make alone would otherwise leave make
// and serve running. Without /proc (not Linux) it watches nothing.
func stopWithParent(ctx context.Context, cancel context.CancelCauseFunc, every time.Duration) {
	ppid := os.Getppid()
	before, err := caughtSignals(ppid)
	if err != nil {
		return
	}
	fatal := uint64(1)<<(syscall.SIGINT-1) | 1<<(syscall.SIGTERM-1) | 1<<(syscall.SIGHUP-1)
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			now, err := caughtSignals(ppid)
			switch {
			case os.Getppid() != ppid || err != nil:
				cancel(fmt.Errorf("%w: pid %d has ended", errParentStopping, ppid))
				return
			case before&^now&fatal != 0:
				cancel(fmt.Errorf("%w: pid %d (%s) got a signal to stop", errParentStopping, ppid, processName(ppid)))
				return
			}
		}
	}()
}

// caughtSignals reads the mask of signals a process catches (SigCgt in
// /proc/<pid>/status).
func caughtSignals(pid int) (uint64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "SigCgt:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return 0, fmt.Errorf("no SigCgt for pid %d", pid)
}

// processName is a process's command name, for messages.
func processName(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}
