package delivery

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/routing"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// job is one event on its way: one handling of one message.
type job struct {
	w    *Worker
	ev   *application.Event
	key  store.DeliveryKey
	body []byte
	// hashes are the keyed hashes of every address the event holds.
	hashes []string
	// position is the job position this attempt sends to, route why
	// (the default, or the answer that picked it); routed says it is a
	// routed position other than the default, whose mark and parked list
	// are its own.
	position int64
	route    routing.Choice
	routed   bool
	attempt  int
	receipt  string
	owner    string
	// deferToken is the delayed copy's token (nil for other messages).
	deferToken *string
	log        *slog.Logger
	record     store.Delivery // as claimed
	// look is the funnel's integration as the claim read it (if it did).
	look store.IntegrationLook
	// marks are where the handling spent its time.
	marks stages
	// tookAt is when the application's units of the budget were taken.
	tookAt time.Time
}

// result is where an attempt ended.
type result struct {
	status   lifecycle.Status
	code     lifecycle.Reason
	reason   string
	warnings []string
	conn     string    // parked on, or delivered through
	company  string    // the Personio company
	deferTo  time.Time // for budget waits: send a delayed copy
	retry    bool      // retry through the visibility timeout
	// emailHash is the hash of the address the mapping took.
	emailHash string
	// erased: the mapping took an erased applicant's address; nothing is
	// recorded and the record is deleted.
	erased bool
	// parkOnPosition parks on the unpublished position (routedPosition,
	// when that is a routed one).
	parkOnPosition bool
	routedPosition int64
	// applicationID is Personio's id of the delivered application, when
	// a read confirmed it.
	applicationID string
}

// run claims the event, takes it through every step (under work) and
// reports whether the message is done with. The outcome is recorded under
// ctx, which outlives work by the deadline margin.
func (j *job) run(ctx, work context.Context) bool {
	w := j.w
	j.hashes = j.ev.EmailHashes(w.cfg.HashKey)
	d := store.Delivery{WorkspaceID: j.ev.WorkspaceID, FunnelID: j.ev.FunnelID, EventID: j.ev.ID,
		OccurredAt: j.ev.OccurredAt, Event: j.body, EmailHashes: j.hashes}
	if j.deferToken != nil {
		// A delayed copy claims only if the record waits for it.
		d.DeferToken = *j.deferToken
		if d.DeferToken == "" {
			d.DeferToken = "-" // a copy with an empty token is no copy the record waits for
		}
	}
	// The claim is refused, in the same transaction, if an erasure
	// marker names an address of the event: an erased applicant's event
	// is dropped before anything of it is written (and whatever was
	// written of it before the erasure was seen is deleted).
	claimed, look, err := w.store.ClaimReading(work, d, j.owner, w.cfg.Lease)
	switch {
	case errors.Is(err, store.ErrErased):
		return j.forget(ctx)
	case errors.Is(err, store.ErrAlreadyDelivered):
		j.log.InfoContext(ctx, "delivery", "state", "already_delivered")
		return true
	case errors.Is(err, store.ErrStaleCopy):
		// A newer deferral sent the copy that goes on (or the record is
		// gone): this one is dropped and changes nothing.
		j.log.InfoContext(ctx, "delivery", "state", "stale_copy")
		return true
	case errors.Is(err, failure.ErrConflict):
		// Another worker holds the claim: look again when its lease ends,
		// not before, so that waiting does not use up the receives that
		// lead to the dead-letter queue.
		wait := time.UnixMilli(claimed.ClaimUntil).Sub(w.cfg.Now()) + w.jitter()
		_ = w.queue.Defer(ctx, j.receipt, min(max(wait, time.Second), w.cfg.Lease+time.Second))
		return false
	case err != nil:
		j.log.WarnContext(ctx, "worker: claim failed", "error", err.Error())
		_ = w.queue.Defer(ctx, j.receipt, w.backoff(j.attempt))
		return false
	}
	j.record, j.look = claimed, look
	j.marks.claimed = w.cfg.Now()
	r := j.deliver(work)
	if r.retry && errors.Is(work.Err(), context.DeadlineExceeded) {
		r.reason = "the worker's time ran out: " + r.reason
	}
	return j.finish(ctx, r)
}

// forget drops an erased applicant's event: the record is deleted (if a
// claim made one) and the message too. It reports whether that worked.
func (j *job) forget(ctx context.Context) bool {
	if err := j.w.store.Forget(ctx, j.key); err != nil {
		j.log.WarnContext(ctx, "worker: forget an erased applicant's record", "error", err.Error())
		return false
	}
	j.log.InfoContext(ctx, "delivery", "state", "erased")
	return true
}

func (j *job) retryable(code lifecycle.Reason, err error) result {
	return result{status: lifecycle.StatusRetrying, code: code, reason: err.Error(), retry: true}
}
