package watch

import (
	"context"

	"github.com/funnel-personio/funnel-personio/pkg/confirm"
)

// Rechecker rereads Personio's applications for the deliveries that
// stayed unconfirmed on connections with read access (package confirm).
type Rechecker interface {
	Run(ctx context.Context, stop func() bool) (confirm.Counts, error)
}

// recheck runs the rereads, if the watch has a Rechecker, until start's
// deadline.
func (w *Watch) recheck(ctx, start context.Context, r *Report) error {
	if w.cfg.Rechecker == nil {
		return nil
	}
	c, err := w.cfg.Rechecker.Run(ctx, func() bool { return ended(start) })
	r.Rechecked, r.ConfirmedByRead, r.RefutedByRead, r.RecheckLeft = c.Checked, c.Confirmed, c.Refuted, c.Left
	return err
}
