package delivery

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// job is one event on its way: one handling of one message.
type job struct {
	w       *Worker
	ev      *application.Event
	key     store.DeliveryKey
	body    []byte
	attempt int
	receipt string
	owner   string
	// deferToken is the delayed copy's token (nil for other messages).
	deferToken *string
	log        *slog.Logger
	record     store.Delivery // as claimed
}

// result is where an attempt ended.
type result struct {
	status   store.Status
	code     store.Reason
	reason   string
	warnings []string
	conn     string    // parked on, or delivered through
	company  string    // the Personio company
	deferTo  time.Time // for budget waits: send a delayed copy
	retry    bool      // retry through the visibility timeout
}

// run claims the event, takes it through every step and reports whether
// the message is done with.
func (j *job) run(ctx context.Context) bool {
	w := j.w
	claimed, err := w.store.Claim(ctx, store.Delivery{WorkspaceID: j.ev.WorkspaceID, FunnelID: j.ev.FunnelID, EventID: j.ev.ID,
		OccurredAt: j.ev.OccurredAt, Test: j.ev.Test, Event: j.body, EmailHash: application.EmailHash(w.cfg.HashKey, j.ev.Contact.Email)}, j.owner, w.cfg.Lease)
	switch {
	case errors.Is(err, store.ErrAlreadyDelivered):
		j.log.InfoContext(ctx, "delivery", "state", "already_delivered")
		return true
	case errors.Is(err, failure.ErrConflict):
		// Another worker holds the claim: look again when its lease ends,
		// not before, so that waiting does not use up the receives that
		// lead to the dead-letter queue.
		wait := time.Until(time.UnixMilli(claimed.ClaimUntil)) + jitter()
		_ = w.queue.Defer(ctx, j.receipt, min(max(wait, time.Second), w.cfg.Lease+time.Second))
		return false
	case err != nil:
		j.log.WarnContext(ctx, "worker: claim failed", "error", err.Error())
		_ = w.queue.Defer(ctx, j.receipt, w.backoff(j.attempt))
		return false
	}
	j.record = claimed
	if j.deferToken != nil && *j.deferToken != claimed.DeferToken {
		// A stale copy: a newer deferral sent the copy that goes on.
		if err := w.store.Release(ctx, j.key, j.owner, claimed.TakenOver); err != nil {
			return false
		}
		return true
	}
	return j.finish(ctx, j.deliver(ctx))
}

func (j *job) retryable(code store.Reason, err error) result {
	return result{status: store.StatusRetrying, code: code, reason: err.Error(), retry: true}
}
