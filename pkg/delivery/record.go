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
	change := store.Change{Status: r.status, ReasonCode: r.code, Reason: r.reason, Warnings: r.warnings, CompanyID: r.company, EmailHash: r.emailHash,
		PersonioApplicationID: r.applicationID, Position: j.position,
		Attempt: &store.Attempt{At: now, Outcome: r.status, ReasonCode: r.code, Reason: r.reason},
		// Kept for later attempts: this one may not get to ask Personio.
		OutcomeUnknown: j.record.TakenOver || r.code == lifecycle.ReasonOutcomeUnknown}
	if r.status == lifecycle.StatusParked {
		change.ConnectionID, change.ParkOnPosition = r.conn, r.parkOnPosition
	}
	done := true
	var metric metrics.Name
	switch {
	case r.retry && j.attempt >= w.cfg.MaxReceiveCount:
		// The last try: the message goes to the dead-letter queue.
		change.Status, change.ReasonCode = lifecycle.StatusDead, lifecycle.ReasonExhausted
		if change.OutcomeUnknown || j.outcomeWasUnknown() {
			// Said as surely as it is known: Personio may have it.
			change.ReasonCode = lifecycle.ReasonExhaustedUnknown
		}
		change.Attempt.Outcome, change.Attempt.ReasonCode = lifecycle.StatusDead, change.ReasonCode
		done, metric = false, metrics.Dead
	case r.retry:
		wait := w.backoff(j.attempt)
		next := now.Add(wait)
		change.NextAttemptAt = &next
		if err := w.queue.Defer(ctx, j.receipt, wait); err != nil {
			j.log.WarnContext(ctx, "worker: defer", "error", err.Error())
		}
		done, metric = false, metrics.Retried
	case !r.deferTo.IsZero():
		// Waiting for budget is no failed try: a delayed copy goes back on
		// the queue, so waiting does not use up the receive count.
		wait := r.deferTo.Sub(now) + w.jitter()
		next := now.Add(wait)
		change.NextAttemptAt = &next
		change.DeferToken = w.newToken()
		if err := w.queue.Send(ctx, queue.Message{ID: j.ev.ID, Group: j.ev.WorkspaceID, Body: j.body, Delay: min(wait.Truncate(time.Second), queue.MaxDelay),
			Attributes: map[string]string{deferAttribute: change.DeferToken}}); err != nil {
			j.log.WarnContext(ctx, "worker: defer by copy", "error", err.Error())
			_ = w.queue.Defer(ctx, j.receipt, min(wait, queue.MaxVisibility))
			done = false
		}
		metric = metrics.Deferred
	case r.status == lifecycle.StatusDelivered:
		metric = metrics.Delivered
		if !j.ev.OccurredAt.IsZero() {
			w.metrics.Milliseconds(metrics.EndToEndLatency, now.Sub(j.ev.OccurredAt))
		}
	case r.status == lifecycle.StatusUnconfirmed:
		metric = metrics.Unconfirmed
	case r.status == lifecycle.StatusParked:
		metric = metrics.Parked
	case r.status == lifecycle.StatusFailed:
		metric = metrics.Failed
	case r.status == lifecycle.StatusSkipped:
		metric = metrics.Skipped
	}
	if _, err := w.store.Record(ctx, j.key, j.owner, change); err != nil {
		// The claim was lost (the lease ran out) or the table failed: let
		// the message come back; the next claim sorts it out.
		j.log.WarnContext(ctx, "worker: record", "error", err.Error(), "state", string(change.Status))
		return false
	}
	j.marks.recorded = w.cfg.Now()
	var turn *time.Time
	if j.holdsTurn() {
		turn = j.record.NextAttemptAt
	}
	j.log.InfoContext(ctx, "delivery", "state", string(change.Status), "reason_code", string(change.ReasonCode), "reason", change.Reason, j.marks.attr(turn))
	if metric != "" {
		w.metrics.Count(metric)
	}
	// A delivery that failed for good or went to the dead-letter queue
	// is a problem of its own; this attempt's number tells it from an
	// earlier failure of the same delivery that was retried since.
	var t outbound.Type
	switch change.Status {
	case lifecycle.StatusFailed:
		t = outbound.DeliveryFailed
	case lifecycle.StatusDead:
		t = outbound.DeliveryDead
	}
	if t != "" {
		j.notify(ctx, outbound.DeliveryEvent(t, j.ev.WorkspaceID, j.ev.FunnelID, j.ev.ID, len(j.record.Attempts), change.ReasonCode, now))
	}
	return done
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
