package operator

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"
)

// budgetCommand is `ops budget -company C`: a company's rate budget now.
var budgetCommand = subcommand{
	name: "budget",
	usage: `  budget -company C                          a company's rate budget now
`,
	flags: func(fs *flag.FlagSet, c *command) action {
		company := fs.String("company", "", "the Personio company id (required)")
		check := func() error {
			if *company == "" {
				return errors.New("-company is required")
			}
			return nil
		}
		return action{check: check, run: func(ctx context.Context, o *Operator) error {
			b, err := o.Budget(ctx, *company)
			if err != nil {
				return err
			}
			return c.print(b, func(w *tabwriter.Writer) { printBudget(w, b) })
		}}
	},
}

// printBudget writes a company's budget as a table.
func printBudget(w *tabwriter.Writer, b BudgetView) {
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
}
