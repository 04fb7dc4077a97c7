package operator

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
)

// dlqRedrive is `ops dlq redrive`: the dead-letter queue's messages back
// to the queue, with progress until done.
var dlqRedrive = subcommand{
	name:   "dlq redrive",
	queues: true,
	usage: `  dlq redrive [-rate N] [-mode M]            move them back to the queue and report until done
                                             (M: auto, move-task or copy; auto uses SQS's message
                                             move task, or copies where the endpoint has none)
`,
	flags: func(fs *flag.FlagSet, c *command) action {
		rate := fs.Int("rate", 0, "at most this many messages a second (0: SQS chooses; a copy goes as fast as it can)")
		mode := fs.String("mode", ModeAuto, "auto, move-task or copy")
		return action{run: func(ctx context.Context, o *Operator) error {
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
		}}
	},
}
