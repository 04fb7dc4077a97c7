package delivery

import (
	"context"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// takeTurn takes n units of the company's budget for this attempt, or says
// when the attempt is to come back (nil: taken, go on).
//
// A delayed copy comes back at its turn in the company's line (or, when
// the turn is more than the queue's 15 min delay away, early: then it
// waits again) and takes; anyone else joins the end of the line when
// there is no room or others are waiting, so a newcomer never goes before
// the line.
func (j *job) takeTurn(ctx context.Context, company string, n int) *result {
	w := j.w
	wait := func(at time.Time) *result {
		return &result{status: store.StatusQueued, code: store.ReasonBudget, reason: "waiting for the company's rate budget", deferTo: at, company: company}
	}
	take := w.store.TakeBudgetOrJoinLine
	if j.deferToken != nil {
		if turn := j.record.NextAttemptAt; turn != nil {
			// Copies are sent with their delay rounded down to whole
			// seconds and wait here for the rest, so they take at their
			// turn, not up to a second late.
			switch d := turn.Sub(w.cfg.Now()); {
			case d > time.Second:
				return wait(*turn)
			case d > 0:
				select {
				case <-ctx.Done():
					r := j.retryable(store.ReasonInternal, ctx.Err())
					return &r
				case <-time.After(d):
				}
			}
		}
		take = w.store.TakeBudget
	}
	ok, at, err := take(ctx, company, n, w.cfg.Budget)
	switch {
	case err != nil:
		r := j.retryable(store.ReasonInternal, err)
		return &r
	case !ok:
		return wait(at)
	}
	return nil
}
