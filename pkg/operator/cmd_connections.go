package operator

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
)

// connectionsCommand is `ops connections -needs-attention`: the
// connections whose deliveries wait parked.
var connectionsCommand = subcommand{
	name: "connections",
	usage: `  connections -needs-attention               connections whose deliveries wait parked, and how many
`,
	flags: func(fs *flag.FlagSet, c *command) action {
		needs := fs.Bool("needs-attention", false, "connections whose deliveries wait parked (required)")
		check := func() error {
			if !*needs {
				return errors.New("-needs-attention is required: listing every connection of every workspace is not offered")
			}
			return nil
		}
		return action{check: check, run: func(ctx context.Context, o *Operator) error {
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
		}}
	},
}
