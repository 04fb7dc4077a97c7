package delivery

import (
	"context"
	"errors"
	"strings"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/metrics"
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
		return result{status: store.StatusDelivered, code: store.ReasonDelivered, conn: conn.ID}
	case errors.As(err, &ae):
		if j.outcomeWasUnknown() {
			return result{status: store.StatusDelivered, code: store.ReasonAlreadyThere, reason: "an earlier attempt's answer was lost; Personio has the application", conn: conn.ID}
		}
		return result{status: store.StatusFailed, code: store.ReasonDuplicate, reason: err.Error()}
	case errors.As(err, &ve):
		return result{status: store.StatusFailed, code: store.ReasonPersonioValidation, reason: err.Error()}
	case errors.As(err, &auth), errors.As(err, &fd):
		code := store.ReasonAuth
		if fd != nil {
			code = store.ReasonFeatureDisabled
		}
		w.forgetToken(j.ev.WorkspaceID, conn.ID)
		j.needsAttention(ctx, conn, err)
		return result{status: store.StatusParked, code: code, reason: err.Error(), conn: conn.ID}
	case errors.As(err, &rl):
		until := w.cfg.Now().Add(w.cfg.RateLimitPause)
		if berr := w.store.BlockBudget(ctx, conn.CompanyID, until); berr != nil {
			j.log.WarnContext(ctx, "worker: block budget", "error", berr.Error())
		}
		return result{status: store.StatusQueued, code: store.ReasonRateLimited, reason: err.Error(), deferTo: until, company: conn.CompanyID}
	case errors.As(err, &te):
		return j.retryable(store.ReasonOutcomeUnknown, err)
	case personio.IsRetryable(err) || failure.IsRetryable(err):
		return j.retryable(store.ReasonUnavailable, err)
	}
	return result{status: store.StatusFailed, code: store.ReasonPersonioValidation, reason: err.Error()}
}

// outcomeWasUnknown reports whether an earlier attempt may have created
// the application without an answer.
func (j *job) outcomeWasUnknown() bool {
	if j.record.OutcomeUnknown || j.record.TakenOver {
		return true // recorded, or the last holder died while processing
	}
	for _, a := range j.record.Attempts {
		if a.ReasonCode == store.ReasonOutcomeUnknown {
			return true
		}
	}
	return false
}

// needsAttention marks the connection so the editor asks for new
// credentials.
func (j *job) needsAttention(ctx context.Context, conn store.Connection, cause error) {
	if conn.Status == store.ConnectionNeedsAttention {
		return
	}
	conn.Status, conn.StatusReason = store.ConnectionNeedsAttention, firstLine(cause.Error())
	if _, err := j.w.store.UpdateConnection(ctx, conn); err != nil && !errors.Is(err, failure.ErrConflict) {
		j.log.WarnContext(ctx, "worker: mark connection", "error", err.Error())
	}
	j.w.metrics.Count(metrics.ConnectionsNeedingAttention)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
