package operator

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"
)

// dlqList is `ops dlq list`: the dead-letter queue's messages with their
// records.
var dlqList = subcommand{
	name:   "dlq list",
	queues: true,
	usage: `  dlq list [-limit N]                        messages in the dead-letter queue: delivery, workspace,
                                             funnel, the record's status and reason, receive count
`,
	flags: func(fs *flag.FlagSet, c *command) action {
		limit := fs.Int("limit", 1000, "list at most this many messages")
		return action{run: func(ctx context.Context, o *Operator) error {
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
		}}
	},
}
