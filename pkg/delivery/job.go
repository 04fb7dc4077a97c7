package delivery

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/filefetch"
	"github.com/funnel-personio/funnel-personio/pkg/mapping"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// job is one event on its way.
type job struct {
	w       *Worker
	ev      *application.Event
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
	code     string
	reason   string
	warnings []string
	conn     string    // parked on, or delivered through
	company  string    // the Personio company
	deferTo  time.Time // for budget waits: send a delayed copy
	retry    bool      // retry through the visibility timeout
}

// run takes the event through every step and reports whether the message
// is done with.
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
		wait := time.Until(time.UnixMilli(claimed.ClaimUntil)) + time.Duration(1+mrandIntN(1000))*time.Millisecond
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
		if err := w.store.Release(ctx, j.ev.WorkspaceID, j.ev.FunnelID, j.ev.ID, j.owner, claimed.TakenOver); err != nil {
			return false
		}
		return true
	}
	return j.finish(ctx, j.deliver(ctx))
}

// deliver does the work and says where it ended.
func (j *job) deliver(ctx context.Context) result {
	w := j.w
	in, m, mapErr, err := w.integration(ctx, j.ev.WorkspaceID, j.ev.FunnelID)
	switch {
	case errors.Is(err, failure.ErrNotFound):
		return result{status: store.StatusSkipped, code: ReasonNoIntegration, reason: "the funnel has no Personio integration"}
	case err != nil:
		return j.retryable(ReasonInternal, err)
	case !in.Enabled && !j.ev.Test:
		return result{status: store.StatusSkipped, code: ReasonDisabled, reason: "the integration is switched off"}
	case mapErr != nil:
		return result{status: store.StatusFailed, code: ReasonMappingInvalid, reason: mapErr.Error()}
	}
	conn, err := w.store.GetConnection(ctx, j.ev.WorkspaceID, in.ConnectionID)
	if errors.Is(err, failure.ErrNotFound) {
		return result{status: store.StatusFailed, code: ReasonConnectionMissing, reason: "connection " + in.ConnectionID + " does not exist"}
	} else if err != nil {
		return j.retryable(ReasonInternal, err)
	}
	token, err := w.token(ctx, j.ev.WorkspaceID, conn.ID)
	if errors.Is(err, failure.ErrNotFound) {
		return result{status: store.StatusFailed, code: ReasonConnectionMissing, reason: "the connection's token is gone"}
	} else if err != nil {
		return j.retryable(ReasonInternal, err)
	}
	creds := personio.Credentials{CompanyID: conn.CompanyID, Token: token}
	mapped, err := m.Apply(j.ev, mapping.Options{JobPositionID: in.JobPositionID, RecruitingChannelID: in.RecruitingChannelID, Now: w.cfg.Now()})
	if err != nil {
		return result{status: store.StatusFailed, code: ReasonMappingFailed, reason: err.Error()}
	}
	var warnings []string
	for _, wr := range mapped.Warnings {
		warnings = append(warnings, wr.String())
	}
	// The whole application's requests at once: files and the create. A
	// delayed copy comes back at its turn in the company's line (or, when
	// the turn is more than the queue's 15 min delay away, early: then it
	// waits again) and takes; anyone else joins the end of the line when
	// there is no room or others are waiting.
	take := w.store.TakeOrReserve
	if j.deferToken != nil {
		if turn := j.record.NextAttemptAt; turn != nil {
			// Copies are sent with their delay rounded down to whole
			// seconds and wait here for the rest, so they take at their
			// turn, not up to a second late.
			switch d := turn.Sub(w.cfg.Now()); {
			case d > time.Second:
				return result{status: store.StatusQueued, code: ReasonBudget, reason: "waiting for the company's rate budget", deferTo: *turn, company: conn.CompanyID}
			case d > 0:
				select {
				case <-ctx.Done():
					return j.retryable(ReasonInternal, ctx.Err())
				case <-time.After(d):
				}
			}
		}
		take = w.store.Take
	}
	ok, at, err := take(ctx, conn.CompanyID, 1+len(mapped.Files), w.cfg.Budget)
	switch {
	case err != nil:
		return j.retryable(ReasonInternal, err)
	case !ok:
		return result{status: store.StatusQueued, code: ReasonBudget, reason: "waiting for the company's rate budget", deferTo: at, company: conn.CompanyID}
	}
	app := mapped.Application
	for _, f := range mapped.Files {
		ref, warning, res := j.upload(ctx, creds, f, conn)
		if res != nil {
			res.warnings = append(warnings, res.warnings...)
			return *res
		}
		if warning != "" {
			warnings = append(warnings, warning)
			continue
		}
		app.Files = append(app.Files, ref)
	}
	err = w.personio.CreateApplication(ctx, creds, app)
	res := j.classify(ctx, err, conn)
	res.warnings = append(warnings, res.warnings...)
	res.company = conn.CompanyID
	return res
}

// upload fetches one file and uploads it. A file that can never be
// fetched or that Personio refuses is a warning: the application goes
// without it. Anything else ends the attempt.
func (j *job) upload(ctx context.Context, creds personio.Credentials, f mapping.FileUpload, conn store.Connection) (personio.FileRef, string, *result) {
	file, err := j.w.files.Fetch(ctx, f.URL)
	var fe *filefetch.Error
	if errors.As(err, &fe) && fe.Permanent {
		return personio.FileRef{}, "file of " + f.FieldID + " not transferred: " + fe.Reason, nil
	} else if err != nil {
		r := j.retryable(ReasonFile, err)
		return personio.FileRef{}, "", &r
	}
	doc, err := j.w.personio.UploadDocument(ctx, creds, f.Filename, bytes.NewReader(file.Data))
	var ve *personio.ValidationError
	if errors.As(err, &ve) {
		return personio.FileRef{}, "file of " + f.FieldID + " refused by Personio: " + ve.Body.String(), nil
	} else if err != nil {
		r := j.classify(ctx, err, conn)
		return personio.FileRef{}, "", &r
	}
	return personio.FileRef{UUID: doc.UUID, OriginalFilename: f.Filename, Category: f.Category}, "", nil
}

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
		return result{status: store.StatusDelivered, code: ReasonDelivered, conn: conn.ID}
	case errors.As(err, &ae):
		if j.outcomeWasUnknown() {
			return result{status: store.StatusDelivered, code: ReasonAlreadyThere, reason: "an earlier attempt's answer was lost; Personio has the application", conn: conn.ID}
		}
		return result{status: store.StatusFailed, code: ReasonDuplicate, reason: err.Error()}
	case errors.As(err, &ve):
		return result{status: store.StatusFailed, code: ReasonPersonioValidation, reason: err.Error()}
	case errors.As(err, &auth), errors.As(err, &fd):
		code := ReasonAuth
		if fd != nil {
			code = ReasonFeatureDisabled
		}
		w.forgetToken(j.ev.WorkspaceID, conn.ID)
		j.needsAttention(ctx, conn, err)
		return result{status: store.StatusParked, code: code, reason: err.Error(), conn: conn.ID}
	case errors.As(err, &rl):
		until := w.cfg.Now().Add(w.cfg.RateLimitPause)
		if berr := w.store.Block(ctx, conn.CompanyID, until); berr != nil {
			j.log.WarnContext(ctx, "worker: block budget", "error", berr.Error())
		}
		return result{status: store.StatusQueued, code: ReasonRateLimited, reason: err.Error(), deferTo: until, company: conn.CompanyID}
	case errors.As(err, &te):
		return j.retryable(ReasonOutcomeUnknown, err)
	case personio.IsRetryable(err) || failure.IsRetryable(err):
		return j.retryable(ReasonUnavailable, err)
	}
	return result{status: store.StatusFailed, code: ReasonPersonioValidation, reason: err.Error()}
}

func (j *job) retryable(code string, err error) result {
	return result{status: store.StatusRetrying, code: code, reason: err.Error(), retry: true}
}

// outcomeWasUnknown reports whether an earlier attempt may have created
// the application without an answer.
func (j *job) outcomeWasUnknown() bool {
	if j.record.OutcomeUnknown || j.record.TakenOver {
		return true // recorded, or the last holder died while processing
	}
	for _, a := range j.record.Attempts {
		if a.ReasonCode == ReasonOutcomeUnknown {
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
	j.w.metric("ConnectionsNeedingAttention", 1, "Count")
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// finish records the result and disposes of the message.
func (j *job) finish(ctx context.Context, r result) bool {
	w := j.w
	now := w.cfg.Now().UTC()
	change := store.Change{Status: r.status, ReasonCode: r.code, Reason: r.reason, Warnings: r.warnings, CompanyID: r.company,
		Release: true, Attempt: &store.Attempt{At: now, Outcome: r.status, ReasonCode: r.code, Reason: r.reason},
		// Kept for later attempts: this one may not get to ask Personio.
		OutcomeUnknown: j.record.TakenOver || r.code == ReasonOutcomeUnknown}
	if r.status == store.StatusParked {
		change.ConnectionID = r.conn
	}
	done := true
	metric := ""
	switch {
	case r.retry && j.attempt >= w.cfg.MaxReceiveCount:
		// The last try: the message goes to the dead-letter queue.
		change.Status, change.ReasonCode = store.StatusDead, ReasonExhausted
		change.Attempt.Outcome = store.StatusDead
		done, metric = false, "Dead"
	case r.retry:
		wait := w.backoff(j.attempt)
		next := now.Add(wait)
		change.NextAttemptAt = &next
		if err := w.queue.Defer(ctx, j.receipt, wait); err != nil {
			j.log.WarnContext(ctx, "worker: defer", "error", err.Error())
		}
		done, metric = false, "Retried"
	case !r.deferTo.IsZero():
		// Waiting for budget is no failed try: a delayed copy goes back on
		// the queue, so waiting does not use up the receive count.
		wait := r.deferTo.Sub(now) + time.Duration(1+mrandIntN(1000))*time.Millisecond
		next := now.Add(wait)
		change.NextAttemptAt = &next
		change.DeferToken = newToken()
		if err := w.queue.Send(ctx, queue.Message{ID: j.ev.ID, Group: j.ev.WorkspaceID, Body: j.body, Delay: min(wait.Truncate(time.Second), 15*time.Minute),
			Attributes: map[string]string{deferAttribute: change.DeferToken}}); err != nil {
			j.log.WarnContext(ctx, "worker: defer by copy", "error", err.Error())
			_ = w.queue.Defer(ctx, j.receipt, min(wait, 12*time.Hour))
			done = false
		}
		metric = "Deferred"
	case r.status == store.StatusDelivered:
		metric = "Delivered"
		if !j.ev.OccurredAt.IsZero() {
			w.metric("EndToEndLatency", float64(now.Sub(j.ev.OccurredAt).Milliseconds()), "Milliseconds")
		}
	case r.status == store.StatusParked:
		metric = "Parked"
	case r.status == store.StatusFailed:
		metric = "Failed"
	case r.status == store.StatusSkipped:
		metric = "Skipped"
	}
	if _, err := w.store.Record(ctx, j.ev.WorkspaceID, j.ev.FunnelID, j.ev.ID, j.owner, change); err != nil {
		// The claim was lost (the lease ran out) or the table failed: let
		// the message come back; the next claim sorts it out.
		j.log.WarnContext(ctx, "worker: record", "error", err.Error(), "state", string(change.Status))
		return false
	}
	j.log.InfoContext(ctx, "delivery", "state", string(change.Status), "reason_code", change.ReasonCode, "reason", change.Reason)
	if metric != "" {
		w.metric(metric, 1, "Count")
	}
	return done
}
