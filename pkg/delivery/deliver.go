package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/filefetch"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/mapping"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/routing"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// deliver does the work of one attempt and says where it ended: the
// integration, the connection and its token, the mapping, the company's
// budget, the files, the application.
func (j *job) deliver(ctx context.Context) result {
	w := j.w
	in, err := j.integration(ctx)
	switch {
	case errors.Is(err, failure.ErrNotFound):
		return result{status: lifecycle.StatusSkipped, code: lifecycle.ReasonNoIntegration, reason: "the funnel has no Personio integration"}
	case err != nil:
		return j.retryable(lifecycle.ReasonInternal, err)
	case !in.Integration.Enabled && !j.record.Test:
		// Only the editor's test endpoint makes test deliveries (their
		// records say so); a flag in an event's body counts for nothing.
		return result{status: lifecycle.StatusSkipped, code: lifecycle.ReasonDisabled, reason: "the integration is switched off"}
	case in.MappingErr != nil:
		return result{status: lifecycle.StatusFailed, code: lifecycle.ReasonMappingInvalid, reason: in.MappingErr.Error()}
	}
	j.choose(in.Integration)
	if in.Integration.UnpublishedMark(j.position) != nil {
		// Known to be unpublished: wait for it without asking Personio.
		return j.parkOnPosition(j.position)
	}
	conn, err := j.connection(ctx, in.Integration.ConnectionID)
	if errors.Is(err, failure.ErrNotFound) {
		return result{status: lifecycle.StatusFailed, code: lifecycle.ReasonConnectionMissing, reason: "connection " + in.Integration.ConnectionID + " does not exist"}
	} else if err != nil {
		return j.retryable(lifecycle.ReasonInternal, err)
	}
	if conn.Status == store.ConnectionNeedsAttention {
		// Personio refused these credentials: wait for new ones without
		// asking it again (and spending the company's budget on 401s).
		return result{status: lifecycle.StatusParked, code: lifecycle.ReasonAuth, reason: "the connection needs new credentials: " + conn.StatusReason, conn: conn.ID}
	}
	token, err := w.token(ctx, conn)
	if errors.Is(err, failure.ErrNotFound) {
		return result{status: lifecycle.StatusFailed, code: lifecycle.ReasonConnectionMissing, reason: "the connection's token is gone"}
	} else if err != nil {
		return j.retryable(lifecycle.ReasonInternal, err)
	}
	creds := personio.Credentials{CompanyID: conn.CompanyID, Token: token}
	mapped, err := in.Mapping.Apply(j.ev, mapping.Options{JobPositionID: j.position,
		RecruitingChannelID: in.Integration.RecruitingChannelID, Now: w.cfg.Now()})
	if err != nil {
		return result{status: lifecycle.StatusFailed, code: lifecycle.ReasonMappingFailed, reason: err.Error()}
	}
	mappedHash := application.EmailHash(w.cfg.HashKey, mapped.Application.Email)
	if !slices.Contains(j.hashes, mappedHash) {
		if erased, err := w.store.Erased(ctx, j.ev.WorkspaceID, mappedHash); err != nil {
			return j.retryable(lifecycle.ReasonInternal, err)
		} else if erased {
			return result{erased: true}
		}
	}
	if n := 1 + len(mapped.Files); n > w.cfg.Budget.Limit {
		return result{status: lifecycle.StatusFailed, code: lifecycle.ReasonTooManyFiles, emailHash: mappedHash,
			reason: fmt.Sprintf("the application needs %d requests (%d files and itself); Personio takes %d a window per account", n, len(mapped.Files), w.cfg.Budget.Limit)}
	}
	res := j.send(ctx, creds, conn, mapped)
	res.emailHash = mappedHash
	return res
}

// choose picks the attempt's position: the integration's routing table's
// position of the event's answer, or its default.
func (j *job) choose(in store.Integration) {
	var items []string
	if t := in.PositionRouting; t != nil {
		if a, ok := j.ev.Answer(t.Field()); ok {
			items = a.Value.Items()
		}
	}
	j.route = routing.Pick(in.PositionRouting, items, in.JobPositionID)
	j.position, j.routed = j.route.Position, in.Routed(j.route.Position)
}

// send takes the company's budget, uploads the files and creates the
// application.
func (j *job) send(ctx context.Context, creds personio.Credentials, conn store.Connection, mapped *mapping.Result) result {
	w := j.w
	var warnings []string
	for _, wr := range mapped.Warnings {
		warnings = append(warnings, wr.String())
	}
	// The whole application's requests at once: files and the create.
	j.marks.prepared = w.cfg.Now()
	if r := j.takeTurn(ctx, conn.CompanyID, 1+len(mapped.Files)); r != nil {
		return *r
	}
	j.marks.budget = w.cfg.Now()
	app := mapped.Application
	// The event's id goes with the application, so that HR (or a later
	// check) can tell which event an application came from.
	if !slices.Contains(app.Tags, j.ev.ID) {
		app.Tags = append(app.Tags, j.ev.ID)
	}
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
	if len(mapped.Files) > 0 && !j.tookAt.IsZero() {
		// The files went first: the create request reaches Personio
		// later than its unit was taken, so the application's units are
		// logged now instead (later than a request is safe, earlier is
		// not: Personio counts a request when it arrives).
		if err := w.store.MoveBudget(ctx, conn.CompanyID, 1+len(mapped.Files), j.tookAt, w.cfg.Now()); err != nil {
			j.log.WarnContext(ctx, "worker: move budget", "error", err.Error())
		}
	}
	err := w.personio.CreateApplication(ctx, creds, app)
	j.marks.created = w.cfg.Now()
	res := j.classify(ctx, err, conn)
	if res.status == lifecycle.StatusUnconfirmed {
		res = j.confirm(ctx, conn, app.Email, res)
	}
	res.warnings = append(warnings, res.warnings...)
	res.company = conn.CompanyID
	return res
}

// upload fetches one file and streams it on to Personio, one of at most
// Config.Transfers at a time in the worker. A file that can never be
// fetched or that Personio refuses is a warning: the application goes
// without it. Anything else ends the attempt.
func (j *job) upload(ctx context.Context, creds personio.Credentials, f mapping.FileUpload, conn store.Connection) (personio.FileRef, string, *result) {
	t0 := j.w.cfg.Now() // the wait for a transfer counts as download
	select {
	case j.w.transfers <- struct{}{}:
		defer func() { <-j.w.transfers }()
	case <-ctx.Done():
		r := j.retryable(lifecycle.ReasonFile, ctx.Err())
		return personio.FileRef{}, "", &r
	}
	file, err := j.w.files.Fetch(ctx, f.URL)
	t1 := j.w.cfg.Now()
	j.marks.download += t1.Sub(t0)
	if err == nil {
		defer file.Body.Close()
		var doc *personio.Document
		doc, err = j.w.personio.UploadDocument(ctx, creds, f.Filename, file.Body)
		j.marks.upload += j.w.cfg.Now().Sub(t1)
		if err == nil {
			return personio.FileRef{UUID: doc.UUID, OriginalFilename: f.Filename, Category: f.Category}, "", nil
		}
	}
	var fe *filefetch.Error
	var ve *personio.ValidationError
	switch {
	case errors.As(err, &fe) && fe.Permanent:
		return personio.FileRef{}, "file of " + f.FieldID + " not transferred: " + fe.Reason, nil
	case errors.As(err, &fe):
		// The download failed, before or while it was sent on: Personio
		// got no complete document.
		r := j.retryable(lifecycle.ReasonFile, fe)
		return personio.FileRef{}, "", &r
	case errors.As(err, &ve):
		return personio.FileRef{}, "file of " + f.FieldID + " refused by Personio: " + ve.Body.String(), nil
	case errors.As(err, new(*personio.TransportError)):
		// An upload whose answer was lost creates no application: its
		// outcome matters to no one (the next try uploads again).
		r := j.retryable(lifecycle.ReasonUnavailable, err)
		return personio.FileRef{}, "", &r
	}
	r := j.classify(ctx, err, conn)
	return personio.FileRef{}, "", &r
}

// connection is the integration's connection: as the claim read it with
// the integration, or read now.
func (j *job) connection(ctx context.Context, id string) (store.Connection, error) {
	if c := j.look.Connection; c != nil && c.ID == id {
		return *c, nil
	}
	return j.w.store.GetConnection(ctx, j.ev.WorkspaceID, id)
}

// integration is the funnel's integration as the claim read it, or, when
// the claim read nothing, as it is now.
func (j *job) integration(ctx context.Context) (integrationState, error) {
	switch {
	case !j.look.Read:
		return j.w.integration(ctx, j.ev.WorkspaceID, j.ev.FunnelID)
	case !j.look.Found:
		return integrationState{}, failure.New("worker: integration", failure.NotFound, nil)
	}
	return j.w.compiled(j.look.Integration), nil
}
