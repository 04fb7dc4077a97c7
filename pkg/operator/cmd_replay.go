package operator

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
)

// replayCommand is `ops replay`: the deliveries that match queued again,
// as the editor's retry does.
var replayCommand = subcommand{
	name:   "replay",
	queues: true,
	usage: `  replay -workspace W [-funnel F] [-status S] [-since T] [-dry-run]
                                             queue again the deliveries that match, as the editor's
                                             retry does (S: failed, dead, parked, or a comma list;
                                             default failed,dead; T: RFC 3339 time or a duration ago)
`,
	flags: func(fs *flag.FlagSet, c *command) action {
		var f ReplayFilter
		var statuses, since string
		fs.StringVar(&f.Workspace, "workspace", "", "the workspace (required)")
		fs.StringVar(&f.Funnel, "funnel", "", "one funnel (default: every funnel with an integration)")
		fs.StringVar(&statuses, "status", "", "failed, dead, parked, or a comma list (default failed,dead)")
		fs.StringVar(&since, "since", "", "only deliveries created since: an RFC 3339 time, or a duration ago such as 24h")
		fs.BoolVar(&f.DryRun, "dry-run", false, "list what would be queued again; change nothing")
		check := func() error {
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
		return action{check: check, run: func(ctx context.Context, o *Operator) error { return c.replay(ctx, o, f) }}
	},
}

// replay queues again what f matches and prints each delivery's outcome.
func (c *command) replay(ctx context.Context, o *Operator, f ReplayFilter) error {
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
