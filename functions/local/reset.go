package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// runReset deletes the local AWS state (`make reset`), so that the next
// `make run` starts from nothing: the emulator's folder, with every
// connection, integration, delivery record, stored token and queued
// message. It refuses while an emulator runs on that state, which would
// write it back. The Personio sandbox keeps nothing on disk: every start
// of the stack begins from its seed.
func runReset(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("reset", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data", envOr("KUMO_DATA_DIR", ".data/kumo"), "the emulator's state")
	emulatorAddr := fs.String("emulator-addr", envOr("LOCAL_EMULATOR_ADDR", defaultEmulator), "the emulator's address")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if answers(*emulatorAddr) {
		fmt.Fprintf(stderr, "reset: an AWS emulator answers on %s (a make run?); stop it first (Ctrl-C in its terminal), then run make reset again. Nothing was deleted.\n", *emulatorAddr)
		return 1
	}
	if pid, ok := runningPid(filepath.Join(*dataDir, "emulator.pid")); ok {
		fmt.Fprintf(stderr, "reset: the emulator that keeps its state in %s still runs (pid %d); stop it first (kill %d). Nothing was deleted.\n", *dataDir, pid, pid)
		return 1
	}
	if _, err := os.Stat(*dataDir); os.IsNotExist(err) {
		fmt.Fprintf(stdout, "reset: nothing to delete: %s does not exist; the next make run starts with a clean state.\n", *dataDir)
		return 0
	}
	if err := os.RemoveAll(*dataDir); err != nil {
		fmt.Fprintf(stderr, "reset: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "reset: deleted %s, the local AWS state: every connection, integration and delivery record, the stored access tokens and the queued messages. "+
		"The Personio sandbox starts from its seed (company 42, token sandbox-token-42) with every make run.\n", *dataDir)
	return 0
}

// runningPid reads an emulator's pid file and reports whether that
// process still runs and is an emulator (a pid may have been reused).
func runningPid(file string) (int, bool) {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(string(b))
	if err != nil || pid <= 0 || syscall.Kill(pid, 0) != nil {
		return 0, false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return pid, err != nil || bytes.Contains(cmdline, []byte("emulator"))
}
