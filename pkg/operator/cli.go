package operator

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
)

// subcommand is one of ops' commands: its name, its lines of the help,
// whether it needs the queues, and its flags, which it declares on the
// flag set and which give what it checks and runs. Each lives in a file
// of its own (cmd_*.go); subcommands lists them.
type subcommand struct {
	name   string
	usage  string // its lines of Usage, aligned with the others
	queues bool   // it needs the queue and the dead-letter queue
	flags  func(fs *flag.FlagSet, c *command) action
}

// action is what a subcommand does once its flags are parsed: check them
// (a usage error, nil: fine) and run against the operator.
type action struct {
	check func() error
	run   func(context.Context, *Operator) error
}

// subcommands is every command of ops, in the order the help lists them.
var subcommands = []subcommand{dlqList, dlqRedrive, replayCommand, connectionsCommand, budgetCommand, eraseCommand}

// Usage is the command's help.
var Usage = func() string {
	var b strings.Builder
	b.WriteString(`usage: ops COMMAND [flags]

The platform team's command: the same settings and AWS credentials as the
functions (TABLE_NAME, QUEUE_URL, DLQ_URL, BUDGET_*; AWS_PROFILE or the
default chain; AWS_ENDPOINT_URL for the local stack's emulator).

commands:
`)
	for _, s := range subcommands {
		b.WriteString(s.usage)
	}
	b.WriteString(`
flags of every command:
  -json              JSON for scripts instead of a table
  -table NAME        the table (default TABLE_NAME)
  -queue URL|NAME    the queue (default QUEUE_URL)
  -dlq URL|NAME      the dead-letter queue (default DLQ_URL, else the queue's redrive policy)
  -audit-log FILE    also append the audit lines (JSON, one per change) to FILE

Every change is logged to stderr as a JSON line with the caller's AWS identity.
`)
	return b.String()
}()

// Main runs the command line args (without the program's name), printing
// results to stdout and audit lines and errors to stderr, and returns the
// exit code: 0 done, 1 failed, 2 a usage error.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, build Builder) int {
	return MainWithInput(ctx, args, os.Stdin, stdout, stderr, build)
}

// MainWithInput is Main with standard input given (erase reads the
// address from it).
func MainWithInput(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, build Builder) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stdout, Usage)
		return 0
	}
	name, rest := args[0], args[1:]
	if name == "dlq" {
		if len(rest) == 0 {
			fmt.Fprint(stderr, "ops: dlq list or dlq redrive\n\n"+Usage)
			return 2
		}
		name, rest = "dlq "+rest[0], rest[1:]
	}
	sub, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "ops: unknown command %q\n\n%s", strings.Join(args[:min(2, len(args))], " "), Usage)
		return 2
	}
	c := &command{name: name, stdin: stdin, stdout: stdout, stderr: stderr, build: build}
	c.target.NeedQueues = sub.queues
	fs := c.flagSet()
	act := sub.flags(fs, c)
	if err := fs.Parse(rest); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ops %s: unexpected %q\n", name, fs.Args())
		return 2
	}
	if act.check != nil {
		if err := act.check(); err != nil {
			fmt.Fprintf(stderr, "ops %s: %v\n", name, err)
			return 2
		}
	}
	return c.run(ctx, act.run)
}

// lookup finds a subcommand by name ("dlq list").
func lookup(name string) (subcommand, bool) {
	for _, s := range subcommands {
		if s.name == name {
			return s, true
		}
	}
	return subcommand{}, false
}

// flagSet returns the command's flag set with the flags of every command.
func (c *command) flagSet() *flag.FlagSet {
	fs := flag.NewFlagSet("ops "+c.name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.BoolVar(&c.json, "json", false, "JSON for scripts")
	fs.StringVar(&c.target.Table, "table", "", "the table (default TABLE_NAME)")
	fs.StringVar(&c.target.Queue, "queue", "", "the queue, by URL or name (default QUEUE_URL)")
	fs.StringVar(&c.target.DLQ, "dlq", "", "the dead-letter queue, by URL or name (default DLQ_URL, else the queue's redrive policy)")
	fs.StringVar(&c.auditFile, "audit-log", "", "also append the audit lines to this file")
	return fs
}

// command is one run of the command line.
type command struct {
	name           string
	json           bool
	target         Target
	auditFile      string
	stdin          io.Reader
	stdout, stderr io.Writer
	build          Builder
}

func (c *command) run(ctx context.Context, run func(context.Context, *Operator) error) int {
	audit := c.stderr
	if c.auditFile != "" {
		f, err := os.OpenFile(c.auditFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			fmt.Fprintf(c.stderr, "ops %s: %v\n", c.name, err)
			return 1
		}
		defer f.Close()
		audit = io.MultiWriter(c.stderr, f)
	}
	c.target.Audit = slog.New(slog.NewJSONHandler(audit, nil)).With("command", c.name)
	o, err := c.build(ctx, c.target)
	if err != nil {
		fmt.Fprintf(c.stderr, "ops %s: %v\n", c.name, err)
		return 1
	}
	if err := run(ctx, o); err != nil {
		fmt.Fprintf(c.stderr, "ops %s: %v\n", c.name, err)
		return 1
	}
	return 0
}

// print writes v as JSON, or as the table table writes.
func (c *command) print(v any, table func(*tabwriter.Writer)) error {
	if c.json {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	w := tabwriter.NewWriter(c.stdout, 0, 2, 2, ' ', 0)
	table(w)
	return w.Flush()
}

// parseSince reads an RFC 3339 time, or a duration ago ("24h", "90m").
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("-since %q is neither an RFC 3339 time (2026-11-30T08:00:00Z) nor a duration ago (24h)", s)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func dash(s string) string { return or(s, "-") }

func or(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}

func statusList(ss []lifecycle.Status) string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = string(s)
	}
	return strings.Join(out, ", ")
}
