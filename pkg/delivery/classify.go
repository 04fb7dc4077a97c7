package delivery

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/metrics"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// classify turns Personio's answer into a result.
func (j *job) classify(ctx context.Context, err error, conn store.Connection) result {
	w := j.w
	var ae *personio.AlreadyExistsError
	var ve *personio.ValidationError
	var auth *personio.AuthError
	var fd *personio.FeatureDisabledError
	var rl *personio.RateLimitError
	var te *personio.TransportError
	switch {
	case err == nil:
		return result{status: lifecycle.StatusDelivered, code: lifecycle.ReasonDelivered, conn: conn.ID}
	case errors.As(err, &ae):
		if j.outcomeWasUnknown() {
			return result{status: lifecycle.StatusUnconfirmed, code: lifecycle.ReasonExistsUnconfirmed, conn: conn.ID,
				reason: "Personio already has an application for this e-mail and position, and an earlier attempt's answer was lost: it may be this one or an earlier application"}
		}
		return result{status: lifecycle.StatusFailed, code: lifecycle.ReasonDuplicate, reason: err.Error()}
	case errors.As(err, &ve) && ve.Body.HasReason(personio.ReasonPositionNotPublished):
		// Announced, not final: the position may be published again.
		j.positionUnpublished(ctx, conn)
		return j.parkOnPosition(j.position)
	case errors.As(err, &ve):
		return result{status: lifecycle.StatusFailed, code: lifecycle.ReasonPersonioValidation, reason: err.Error()}
	case errors.As(err, &auth), errors.As(err, &fd):
		code := lifecycle.ReasonAuth
		if fd != nil {
			code = lifecycle.ReasonFeatureDisabled
		}
		w.forgetToken(conn)
		// New credentials may have been entered while this was on its
		// way: then it is tried again with them, not parked.
		if cur, cerr := w.store.GetConnection(ctx, conn.WorkspaceID, conn.ID); cerr == nil && cur.CredentialsVersion != conn.CredentialsVersion {
			return j.retryable(lifecycle.ReasonCredentialsFixed, fmt.Errorf("the credentials were replaced while the application was sent: %w", err))
		}
		j.needsAttention(ctx, conn, err)
		return result{status: lifecycle.StatusParked, code: code, reason: err.Error(), conn: conn.ID}
	case errors.As(err, &rl):
		w.metrics.Count(metrics.RateLimited)
		until := w.cfg.Now().Add(w.cfg.RateLimitPause)
		if berr := w.store.BlockBudget(ctx, conn.CompanyID, until); berr != nil {
			j.log.WarnContext(ctx, "worker: block budget", "error", berr.Error())
		}
		return result{status: lifecycle.StatusQueued, code: lifecycle.ReasonRateLimited, reason: err.Error(), deferTo: until, company: conn.CompanyID}
	case errors.As(err, &te):
		return j.retryable(lifecycle.ReasonOutcomeUnknown, err)
	case personio.IsRetryable(err) || failure.IsRetryable(err):
		return j.retryable(lifecycle.ReasonUnavailable, err)
	}
	return result{status: lifecycle.StatusFailed, code: lifecycle.ReasonPersonioValidation, reason: err.Error()}
}

// outcomeWasUnknown reports whether an earlier attempt may have created
// the application without an answer.
func (j *job) outcomeWasUnknown() bool {
	if j.record.OutcomeUnknown || j.record.TakenOver {
		return true // recorded, or the last holder died while processing
	}
	for _, a := range j.record.Attempts {
		if a.ReasonCode == lifecycle.ReasonOutcomeUnknown {
			return true
		}
	}
	return false
}

// needsAttention marks the connection so the editor asks for new
// credentials. Of all the workers that find it at once, the one whose
// change lands (the others conflict on the version) tells the platform.
func (j *job) needsAttention(ctx context.Context, conn store.Connection, cause error) {
	if conn.Status == store.ConnectionNeedsAttention {
		return
	}
	conn.Status, conn.StatusReason, conn.StatusSince = store.ConnectionNeedsAttention, firstLine(cause.Error()), j.w.cfg.Now().UTC()
	e := outbound.ConnectionEvent(outbound.ConnectionNeedsAttention, conn, lifecycle.ReasonAuth)
	if _, err := j.w.store.UpdateConnection(ctx, conn, j.pending(e)...); err != nil {
		if !errors.Is(err, failure.ErrConflict) {
			j.log.WarnContext(ctx, "worker: mark connection", "error", err.Error())
		}
		return
	}
	j.w.metrics.Count(metrics.ConnectionsNeedingAttention)
	j.notify(ctx, e)
}

// positionUnpublished marks the integration's position as unpublished;
// the worker whose mark lands tells the platform.
func (j *job) positionUnpublished(ctx context.Context, conn store.Connection) {
	now := j.w.cfg.Now().UTC()
	mark := j.w.store.MarkPositionUnpublished
	if j.routed {
		mark = j.w.store.MarkRoutedPositionUnpublished
	}
	in := store.Integration{WorkspaceID: j.ev.WorkspaceID, FunnelID: j.ev.FunnelID, ConnectionID: conn.ID}
	e := outbound.PositionEvent(outbound.PositionUnpublished, in, j.position, now, now, lifecycle.ReasonPositionUnpublished)
	marked, err := mark(ctx, j.ev.WorkspaceID, j.ev.FunnelID, j.position, now, j.pending(e)...)
	if err != nil {
		j.log.WarnContext(ctx, "worker: mark position", "error", err.Error())
		return
	}
	if marked {
		j.notify(ctx, e)
	}
}

// parkOnPosition parks the delivery until the position is published again.
func (j *job) parkOnPosition(position int64) result {
	r := result{status: lifecycle.StatusParked, code: lifecycle.ReasonPositionUnpublished, parkOnPosition: true,
		reason: "job position " + strconv.FormatInt(position, 10) + " is not published in Personio"}
	if j.routed {
		r.routedPosition = position
	}
	return r
}

// pending is the event e as the change that makes its problem records it.
func (j *job) pending(e outbound.Event) []store.Pending { return j.w.teller.Pending(e) }

// notify tells the platform of an event its change recorded pending.
func (j *job) notify(ctx context.Context, e outbound.Event) { _ = j.w.teller.Tell(ctx, e) }

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
