package delivery

import (
	"context"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
)

// takeTurn takes n units of the company's budget for this attempt, or says
// when the attempt is to come back (nil: taken, go on).
//
// An event that holds a turn in the company's line — a delayed copy the
// record waits for, or an event ingest sent delayed to the turn it
// reserved (its record says so) — comes back at its turn (or, when the
// turn is more than the queue's 15 min delay away, early: then it waits
// again) and takes; anyone else joins the end of the line when there is
// no room or others are waiting, so a newcomer never goes before the line.
func (j *job) takeTurn(ctx context.Context, company string, n int) *result {
	w := j.w
	wait := func(at time.Time) *result {
		return &result{status: lifecycle.StatusQueued, code: lifecycle.ReasonBudget, reason: lifecycle.BudgetWait, deferTo: at, company: company}
	}
	take := w.store.TakeBudgetOrJoinLine
	held := j.holdsTurn()
	if held {
		if turn := j.record.NextAttemptAt; turn != nil {
			// Copies are sent with their delay rounded down to whole
			// seconds and wait here for the rest, so they take at their
			// turn, not up to a second late.
			switch d := turn.Sub(w.cfg.Now()); {
			case d > time.Second:
				return wait(*turn)
			case d > 0:
				if r := j.sleep(ctx, d); r != nil {
					return r
				}
			}
		}
		take = w.store.TakeBudget
	}
	for try := 1; ; try++ {
		ok, at, err := take(ctx, company, n, w.cfg.Budget)
		switch {
		case err != nil:
			r := j.retryable(lifecycle.ReasonInternal, err)
			return &r
		case ok:
			j.tookAt = at
			return nil
		}
		// At its turn, the units of the turns before it may leave the
		// window a little later than the line planned (each was taken
		// as its holder got to it, a few milliseconds after its turn):
		// wait for them here rather than go round the queue again.
		d := at.Sub(w.cfg.Now())
		switch {
		case !held:
			return wait(at)
		case d > time.Second || try == maxTurnTries:
			// No room at its turn for longer (a block after a 429, or a
			// window fuller than the line planned): a fresh turn at the
			// end of the line, not the first free moment, which every
			// other holder of a turn in the block would go for too.
			held, take = false, w.store.TakeBudgetOrJoinLine
			continue
		}
		if r := j.sleep(ctx, max(d, time.Millisecond)); r != nil {
			return r
		}
	}
}

// maxTurnTries bounds the takes at a turn before the attempt goes round
// the queue again.
const maxTurnTries = 5

// sleep waits d, or says why the attempt cannot.
func (j *job) sleep(ctx context.Context, d time.Duration) *result {
	if err := j.w.cfg.Sleep(ctx, d); err != nil {
		r := j.retryable(lifecycle.ReasonInternal, err)
		return &r
	}
	return nil
}

// holdsTurn reports whether the event holds a turn in its company's line:
// the record waits for this very copy, or the record (written by ingest or
// by an earlier attempt) says it waits for the budget until a turn.
func (j *job) holdsTurn() bool {
	return j.deferToken != nil || j.record.ReasonCode == lifecycle.ReasonBudget && j.record.NextAttemptAt != nil
}
