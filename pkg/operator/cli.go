package operator

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
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

// Usage is the command's help.
const Usage = `usage: ops COMMAND [flags]

The platform team's command: the same settings and AWS credentials as the
functions (TABLE_NAME, QUEUE_URL, DLQ_URL, BUDGET_*; AWS_PROFILE or the
default chain; AWS_ENDPOINT_URL for the local stack's emulator).

commands:
  dlq list [-limit N]                        messages in the dead-letter queue: delivery, workspace,
                                             funnel, the record's status and reason, receive count
  dlq redrive [-rate N] [-mode M]            move them back to the queue and report until done
                                             (M: auto, move-task or copy; auto uses SQS's message
                                             move task, or copies where the endpoint has none)
  replay -workspace W [-funnel F] [-status S] [-since T] [-dry-run]
                                             queue again the deliveries that match, as the editor's
                                             retry does (S: failed, dead, parked, or a comma list;
                                             default failed,dead; T: RFC 3339 time or a duration ago)
  connections -needs-attention               connections whose deliveries wait parked, and how many
  budget -company C                          a company's rate budget now
  erase -workspace W -key-env NAME < address erase an applicant's records written under a retired
                                             e-mail hash key (the key in the variable NAME; the
                                             address on standard input, never printed)

flags of every command:
  -json              JSON for scripts instead of a table
  -table NAME        the table (default TABLE_NAME)
  -queue URL|NAME    the queue (default QUEUE_URL)
  -dlq URL|NAME      the dead-letter queue (default DLQ_URL, else the queue's redrive policy)
  -audit-log FILE    also append the audit lines (JSON, one per change) to FILE

Every change is logged to stderr as a JSON line with the caller's AWS identity.
`

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
	cmd, rest := args[0], args[1:]
	if cmd == "dlq" {
		if len(rest) == 0 {
			fmt.Fprint(stderr, "ops: dlq list or dlq redrive\n\n"+Usage)
			return 2
		}
		cmd, rest = "dlq "+rest[0], rest[1:]
	}
	c := &command{name: cmd, stdout: stdout, stderr: stderr, build: build}
	fs := flag.NewFlagSet("ops "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&c.json, "json", false, "JSON for scripts")
	fs.StringVar(&c.target.Table, "table", "", "the table (default TABLE_NAME)")
	fs.StringVar(&c.target.Queue, "queue", "", "the queue, by URL or name (default QUEUE_URL)")
	fs.StringVar(&c.target.DLQ, "dlq", "", "the dead-letter queue, by URL or name (default DLQ_URL, else the queue's redrive policy)")
	fs.StringVar(&c.auditFile, "audit-log", "", "also append the audit lines to this file")
	var run func(context.Context, *Operator) error
	switch cmd {
	case "dlq list":
		limit := fs.Int("limit", 1000, "list at most this many messages")
		c.target.NeedQueues = true
		run = func(ctx context.Context, o *Operator) error {
			dl, err := o.ListDeadLetters(ctx, *limit)
			if err != nil {
				return err
			}
			return c.print(dl, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "DELIVERY\tWORKSPACE\tFUNNEL\tSTATUS\tREASON\tATTEMPTS\tRECEIVES\tSENT\n")
				for _, m := range dl.Messages {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%s\n", dash(m.Delivery), dash(m.Workspace), dash(m.Funnel), or(string(m.Status), "(no record)"),
						dash(string(m.ReasonCode)), m.Attempts, m.ReceiveCount, stamp(m.SentAt))
				}
				more := ""
				if dl.Truncated {
					more = " (the listing stopped at -limit)"
				}
				fmt.Fprintf(w, "\n%d listed of about %d in the dead-letter queue%s\n", len(dl.Messages), dl.Approximate, more)
			})
		}
	case "dlq redrive":
		rate := fs.Int("rate", 0, "at most this many messages a second (0: SQS chooses; a copy goes as fast as it can)")
		mode := fs.String("mode", ModeAuto, "auto, move-task or copy")
		c.target.NeedQueues = true
		run = func(ctx context.Context, o *Operator) error {
			progress := func(p Progress) {
				w := c.stdout
				if c.json {
					w = c.stderr
				}
				fmt.Fprintf(w, "redrive (%s): %s, moved %d of %d\n", p.Mode, p.Status, p.Moved, p.ToMove)
			}
			res, err := o.Redrive(ctx, RedriveOptions{Rate: *rate, Mode: *mode}, progress)
			if perr := c.print(res, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "redrive by %s: %s, %d of %d messages moved back to the queue", res.Mode, res.Status, res.Moved, res.ToMove)
				if res.Failed > 0 {
					fmt.Fprintf(w, ", %d not moved or not deleted from the dead-letter queue", res.Failed)
				}
				fmt.Fprintln(w)
				if res.Note != "" {
					fmt.Fprintf(w, "note: %s\n", res.Note)
				}
			}); err == nil {
				err = perr
			}
			return err
		}
	case "replay":
		var f ReplayFilter
		var statuses, since string
		fs.StringVar(&f.Workspace, "workspace", "", "the workspace (required)")
		fs.StringVar(&f.Funnel, "funnel", "", "one funnel (default: every funnel with an integration)")
		fs.StringVar(&statuses, "status", "", "failed, dead, parked, or a comma list (default failed,dead)")
		fs.StringVar(&since, "since", "", "only deliveries created since: an RFC 3339 time, or a duration ago such as 24h")
		fs.BoolVar(&f.DryRun, "dry-run", false, "list what would be queued again; change nothing")
		c.target.NeedQueues = true
		c.check = func() error {
			if f.Workspace == "" {
				return errors.New("-workspace is required")
			}
			for _, s := range strings.Split(statuses, ",") {
				if s = strings.TrimSpace(s); s != "" {
					f.Statuses = append(f.Statuses, lifecycle.Status(s))
				}
			}
			if since != "" {
				t, err := parseSince(since, time.Now())
				if err != nil {
					return err
				}
				f.Since = t
			}
			return nil
		}
		run = func(ctx context.Context, o *Operator) error {
			res, err := o.Replay(ctx, f)
			if err != nil && len(res.Deliveries) == 0 {
				return err
			}
			if perr := c.print(res, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "DELIVERY\tFUNNEL\tSTATUS\tREASON\tCREATED\tOUTCOME\n")
				for _, d := range res.Deliveries {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Funnel, d.Status, dash(string(d.ReasonCode)), stamp(d.CreatedAt), d.Outcome)
				}
				verb := "queued again"
				if res.DryRun {
					verb = "would be queued again (dry run: nothing was changed)"
				}
				fmt.Fprintf(w, "\n%d matched in workspace %s (funnels %s; %s): %d %s, %d skipped, %d failed\n", len(res.Deliveries), res.Workspace,
					or(strings.Join(res.Funnels, ", "), "none"), statusList(res.Statuses), res.Queued, verb, res.Skipped, res.Failed)
			}); err == nil {
				err = perr
			}
			return err
		}
	case "connections":
		needs := fs.Bool("needs-attention", false, "connections whose deliveries wait parked (required)")
		c.check = func() error {
			if !*needs {
				return errors.New("-needs-attention is required: listing every connection of every workspace is not offered")
			}
			return nil
		}
		run = func(ctx context.Context, o *Operator) error {
			list, err := o.NeedsAttention(ctx)
			if err != nil {
				return err
			}
			return c.print(list, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "WORKSPACE\tCONNECTION\tCOMPANY\tSTATUS\tWAITING\tOLDEST\tNAME\n")
				total := 0
				for _, x := range list {
					total += x.Waiting
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", x.Workspace, x.Connection, dash(x.CompanyID), x.Status, x.Waiting, stamp(x.Oldest), dash(x.Name))
				}
				fmt.Fprintf(w, "\n%d connections with parked deliveries, %d deliveries waiting\n", len(list), total)
			})
		}
	case "budget":
		company := fs.String("company", "", "the Personio company id (required)")
		c.check = func() error {
			if *company == "" {
				return errors.New("-company is required")
			}
			return nil
		}
		run = func(ctx context.Context, o *Operator) error {
			b, err := o.Budget(ctx, *company)
			if err != nil {
				return err
			}
			return c.print(b, func(w *tabwriter.Writer) {
				in := func(t time.Time) string {
					if d := t.Sub(b.At); d > 0 {
						return fmt.Sprintf("%s (in %s)", stamp(t), d.Round(time.Second))
					}
					return "now"
				}
				fmt.Fprintf(w, "company\t%s\n", b.Company)
				fmt.Fprintf(w, "used\t%d of %d in the last %s\n", b.Used, b.Limit, time.Duration(b.Window*float64(time.Second)))
				line := "no one waits"
				if b.LineEnds != nil {
					line = fmt.Sprintf("%d units, the line ends %s", b.Reserved, in(*b.LineEnds))
				}
				fmt.Fprintf(w, "reserved turns\t%s\n", line)
				blocked := "no"
				if b.BlockedUntil != nil {
					blocked = "after a 429, until " + in(*b.BlockedUntil)
				}
				fmt.Fprintf(w, "blocked\t%s\n", blocked)
				fmt.Fprintf(w, "next free slot\t%s\n", in(b.NextFree))
			})
		}
	case "erase":
		ws := fs.String("workspace", "", "the workspace (required)")
		keyEnv := fs.String("key-env", "", "the variable that holds the retired hash key (required)")
		var key, email string
		c.check = func() error {
			if *ws == "" || *keyEnv == "" {
				return errors.New("-workspace and -key-env are required")
			}
			if key = os.Getenv(*keyEnv); key == "" {
				return fmt.Errorf("%s is not set", *keyEnv)
			}
			line, err := bufio.NewReader(stdin).ReadString('\n')
			if email = strings.TrimSpace(line); email == "" {
				return fmt.Errorf("no address on standard input (%v)", err)
			}
			return nil
		}
		run = func(ctx context.Context, o *Operator) error {
			e, err := o.EraseWithKey(ctx, *ws, email, []byte(key))
			if err != nil {
				return err
			}
			return c.print(e, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "removed %d delivery records kept under the retired key in workspace %s (%d still had a copy on its way, which the worker drops)\n",
					e.Records, *ws, e.QueuedCopies)
			})
		}
	default:
		fmt.Fprintf(stderr, "ops: unknown command %q\n\n%s", strings.Join(args[:min(2, len(args))], " "), Usage)
		return 2
	}
	if err := fs.Parse(rest); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ops %s: unexpected %q\n", cmd, fs.Args())
		return 2
	}
	if c.check != nil {
		if err := c.check(); err != nil {
			fmt.Fprintf(stderr, "ops %s: %v\n", cmd, err)
			return 2
		}
	}
	return c.run(ctx, run)
}

// command is one run of the command line.
type command struct {
	name           string
	json           bool
	target         Target
	auditFile      string
	stdout, stderr io.Writer
	build          Builder
	check          func() error
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
