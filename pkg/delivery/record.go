package delivery

import (
	"context"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/metrics"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// finish records the result and disposes of the message: it reports
// whether the message is done with (delete it).
func (j *job) finish(ctx context.Context, r result) bool {
	w := j.w
	if r.erased {
		return j.forget(ctx)
	}
	now := w.cfg.Now().UTC()
	r = j.unknownStop(r)
	change := j.change(r, now)
	done, metric := j.next(ctx, r, &change, now)
	e := j.problem(change, now)
	if e != nil {
		change.Tell = j.pending(*e)
	}
	if _, err := w.store.Record(ctx, j.key, j.owner, change); err != nil {
		// The claim was lost (the lease ran out) or the table failed: let
		// the message come back; the next claim sorts it out.
		j.log.WarnContext(ctx, "worker: record", "error", err.Error(), "state", string(change.Status))
		return false
	}
	j.recorded(ctx, change, metric, now)
	if e != nil {
		j.notify(ctx, *e)
	}
	return done
}

// change is what the attempt's result r records at now.
func (j *job) change(r result, now time.Time) store.Change {
	change := store.Change{Status: r.status, ReasonCode: r.code, Reason: r.reason, Warnings: r.warnings, CompanyID: r.company, EmailHash: r.emailHash,
		PersonioApplicationID: r.applicationID,
		Attempt:               &store.Attempt{At: now, Outcome: r.status, ReasonCode: r.code, Reason: r.reason},
		// Kept for later attempts: this one may not get to ask Personio.
		OutcomeUnknown: j.record.TakenOver || r.code == lifecycle.ReasonOutcomeUnknown}
	if r.status == lifecycle.StatusParked {
		change.ConnectionID, change.ParkOnPosition, change.RoutedPosition = r.conn, r.parkOnPosition, r.routedPosition
	}
	if j.position != 0 {
		change.Position, change.PositionReason = j.position, j.route.Reason()
	}
	return change
}

// next decides what comes after the attempt: the dead-letter queue after
// the last try, a retry with backoff, a delayed copy for a budget's turn,
// or nothing (an outcome); it says whether the message is done and which
// metric counts the attempt, and completes the change to record.
func (j *job) next(ctx context.Context, r result, change *store.Change, now time.Time) (bool, metrics.Name) {
	w := j.w
	switch {
	case r.retry && j.attempt >= w.cfg.MaxReceiveCount:
		// The last try: the message goes to the dead-letter queue.
		change.Status, change.ReasonCode = lifecycle.StatusDead, lifecycle.ReasonExhausted
		if change.OutcomeUnknown || j.outcomeWasUnknown() {
			// Said as surely as it is known: Personio may have it.
			change.ReasonCode = lifecycle.ReasonExhaustedUnknown
		}
		change.Attempt.Outcome, change.Attempt.ReasonCode = lifecycle.StatusDead, change.ReasonCode
		return false, metrics.Dead
	case r.retry:
		wait := w.backoff(j.attempt)
		next := now.Add(wait)
		change.NextAttemptAt = &next
		if err := w.queue.Defer(ctx, j.receipt, wait); err != nil {
			j.log.WarnContext(ctx, "worker: defer", "error", err.Error())
		}
		return false, metrics.Retried
	case !r.deferTo.IsZero():
		return j.deferByCopy(ctx, r.deferTo, change, now), metrics.Deferred
	}
	return true, outcomeMetric[r.status]
}

// outcomeMetric counts an attempt that ended with an outcome.
var outcomeMetric = map[lifecycle.Status]metrics.Name{
	lifecycle.StatusDelivered:   metrics.Delivered,
	lifecycle.StatusUnconfirmed: metrics.Unconfirmed,
	lifecycle.StatusParked:      metrics.Parked,
	lifecycle.StatusFailed:      metrics.Failed,
	lifecycle.StatusSkipped:     metrics.Skipped,
}

// deferByCopy sends a delayed copy of the message for the budget's turn
// at deferTo: waiting for budget is no failed try, so waiting does not
// use up the receive count. It reports whether the message is done (the
// copy went); if not, the message itself comes back later.
func (j *job) deferByCopy(ctx context.Context, deferTo time.Time, change *store.Change, now time.Time) bool {
	w := j.w
	wait := deferTo.Sub(now) + w.jitter()
	next := now.Add(wait)
	change.NextAttemptAt = &next
	change.DeferToken = w.newToken()
	if err := w.queue.Send(ctx, queue.Message{ID: j.ev.ID, Group: j.ev.WorkspaceID, Body: j.body, Delay: min(wait.Truncate(time.Second), queue.MaxDelay),
		Attributes: map[string]string{deferAttribute: change.DeferToken}}); err != nil {
		j.log.WarnContext(ctx, "worker: defer by copy", "error", err.Error())
		_ = w.queue.Defer(ctx, j.receipt, min(wait, queue.MaxVisibility))
		return false
	}
	return true
}

// recorded logs and counts the change the attempt recorded.
func (j *job) recorded(ctx context.Context, change store.Change, metric metrics.Name, now time.Time) {
	w := j.w
	j.marks.recorded = w.cfg.Now()
	var turn *time.Time
	if j.holdsTurn() {
		turn = j.record.NextAttemptAt
	}
	j.log.InfoContext(ctx, "delivery", "state", string(change.Status), "reason_code", string(change.ReasonCode), "reason", change.Reason,
		"position", change.Position, "position_reason", change.PositionReason, j.marks.attr(turn))
	if metric != "" {
		w.metrics.Count(metric)
	}
	if change.Status == lifecycle.StatusDelivered && !j.ev.OccurredAt.IsZero() {
		w.metrics.Milliseconds(metrics.EndToEndLatency, now.Sub(j.ev.OccurredAt))
	}
}

// problem is the event of a change that tells the workspace of a delivery
// that failed for good or went to the dead-letter queue (nil: none).
func (j *job) problem(change store.Change, now time.Time) *outbound.Event {
	// A delivery that failed for good or went to the dead-letter queue
	// is a problem of its own; this attempt's number tells it from an
	// earlier failure of the same delivery that was retried since.
	t := outbound.DeliveryType(change.Status)
	if t == "" {
		return nil
	}
	e := outbound.DeliveryEvent(t, j.ev.WorkspaceID, j.ev.FunnelID, j.ev.ID, len(j.record.Attempts), change.ReasonCode, now)
	e.PositionID = j.position
	return &e
}

// unknownStop says an attempt that ends without asking Personio, after
// an earlier one may have created the application, as unconfirmed: the
// record never says skipped or failed while Personio may have the
// applicant (lifecycle.ReasonStoppedUnknown). A park or a retry comes back
// and asks again; a duplicate or Personio's own refusal was Personio's
// answer.
func (j *job) unknownStop(r result) result {
	stops := r.status == lifecycle.StatusSkipped ||
		r.status == lifecycle.StatusFailed && r.code != lifecycle.ReasonDuplicate && r.code != lifecycle.ReasonPersonioValidation
	if !stops || !j.outcomeWasUnknown() {
		return r
	}
	r.reason = "an earlier try's answer was lost, then: " + r.reason
	r.status, r.code = lifecycle.StatusUnconfirmed, lifecycle.ReasonStoppedUnknown
	return r
}
