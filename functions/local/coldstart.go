package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/funnel-personio/funnel-personio/dev/coldstart"
)

// runColdstart measures the functions' cold starts and sizes (make
// coldstart) and writes coldstart.{json,md} to -out. It fails when an
// arm64 binary is over its size target or a function calls out during
// its init.
func runColdstart(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("coldstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runs := fs.Int("runs", 20, "starts per function")
	only := fs.String("functions", "", "comma-separated functions (default all: api,ingest,worker,notifier,watch)")
	out := fs.String("out", ".data/coldstart", "folder for coldstart.json and coldstart.md")
	root := fs.String("root", ".", "the module's root")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fns := coldstart.Functions()
	if *only != "" {
		names := strings.Split(*only, ",")
		fns = slices.DeleteFunc(fns, func(f coldstart.Function) bool { return !slices.Contains(names, f.Name) })
	}
	results, err := coldstart.MeasureAll(ctx, fns, coldstart.Options{Root: *root, Runs: *runs, Sizes: true})
	if err != nil {
		fmt.Fprintf(stderr, "coldstart: %v\n", err)
		return 1
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintf(stderr, "coldstart: %v\n", err)
		return 1
	}
	if err := writeFile(filepath.Join(*out, "coldstart.json"), func(w io.Writer) error { return coldstart.WriteJSON(w, results) }); err != nil {
		fmt.Fprintf(stderr, "coldstart: %v\n", err)
		return 1
	}
	if err := writeFile(filepath.Join(*out, "coldstart.md"), func(w io.Writer) error { return coldstart.WriteMarkdown(w, results) }); err != nil {
		fmt.Fprintf(stderr, "coldstart: %v\n", err)
		return 1
	}
	_ = coldstart.WriteMarkdown(stdout, results)
	fmt.Fprintf(stdout, "\nreport: %s\n", filepath.Join(*out, "coldstart.json"))
	code := 0
	for i, r := range results {
		if max := fns[i].MaxArm64Bytes; max > 0 && r.Arm64Bytes > max {
			fmt.Fprintf(stderr, "coldstart: %s: the arm64 binary is %d bytes, over its target of %d\n", r.Function, r.Arm64Bytes, max)
			code = 1
		}
		if r.Connections > 0 {
			fmt.Fprintf(stderr, "coldstart: %s: its init connected out %d times\n", r.Function, r.Connections)
			code = 1
		}
	}
	return code
}

// writeFile creates path and writes it with write.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
