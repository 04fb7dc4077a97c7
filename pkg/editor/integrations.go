package editor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/apigw"
	"github.com/funnel-personio/funnel-personio/pkg/explain"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/mapping"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/resume"
	"github.com/funnel-personio/funnel-personio/pkg/routing"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

type integrationView struct {
	FunnelID            string          `json:"funnel_id"`
	ConnectionID        string          `json:"connection_id"`
	JobPositionID       int64           `json:"job_position_id"`
	RecruitingChannelID *int64          `json:"recruiting_channel_id"`
	Mapping             json.RawMessage `json:"mapping"`
	PositionRouting     *routing.Table  `json:"position_routing,omitempty"`
	Enabled             bool            `json:"enabled"`
	CareerSite          string          `json:"career_site,omitempty"`
	Issues              []issueView     `json:"issues"`
	Version             int64           `json:"version"`
	CreatedAt           time.Time       `json:"created_at"`
	UpdatedAt           time.Time       `json:"updated_at"`
	// Warnings, in the answer to a save only: what of the mapping may not
	// fit as it is, with the transform that makes it fit.
	Warnings []apigw.FieldError `json:"warnings,omitempty"`
}

// issueView is something open that keeps the integration's applications
// from Personio, with what to do.
type issueView struct {
	Kind       string           `json:"kind"`
	Since      time.Time        `json:"since"`
	PositionID int64            `json:"position_id,omitempty"`
	ReasonCode lifecycle.Reason `json:"reason_code"`
	Message    string           `json:"message"`
}

// Kinds of open issues.
const (
	issuePositionUnpublished = "position_unpublished"
	issueConnection          = "connection_needs_attention"
)

func viewIntegration(in store.Integration, conn *store.Connection, lang string) integrationView {
	v := integrationView{FunnelID: in.FunnelID, ConnectionID: in.ConnectionID, JobPositionID: in.JobPositionID,
		RecruitingChannelID: in.RecruitingChannelID, Mapping: in.Mapping, PositionRouting: in.PositionRouting, Enabled: in.Enabled,
		CareerSite: in.CareerSite, Issues: []issueView{}, Version: in.Version, CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt}
	v.Issues = append(v.Issues, positionIssues(in, lang)...)
	if conn != nil && conn.Status == store.ConnectionNeedsAttention {
		v.Issues = append(v.Issues, issueView{Kind: issueConnection, Since: conn.StatusSince,
			ReasonCode: lifecycle.ReasonAuth, Message: explain.Sentence(lifecycle.ReasonAuth, lang)})
	}
	return v
}

func etag(version int64) string { return `"v` + strconv.FormatInt(version, 10) + `"` }

// precondition is what an If-Match header asks, the same for PUT and
// PATCH: nothing (no header, or an empty one), any version ("*"), or one
// version ("v3", W/"v3" taken as "v3"). Anything else is malformed; the
// router refuses it by the document's pattern before a handler runs.
type precondition struct {
	given, any, malformed bool
	version               int64
}

// ifMatchPattern is the document's pattern of If-Match.
var ifMatchPattern = regexp.MustCompile(`^(\*|(W/)?"v[1-9][0-9]{0,18}")$`)

// ifMatch reads the request's If-Match.
func ifMatch(r *apigw.Request) precondition {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	switch {
	case h == "":
		return precondition{}
	case !ifMatchPattern.MatchString(h):
		return precondition{given: true, malformed: true}
	case h == "*":
		return precondition{given: true, any: true}
	}
	n, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(h, "W/"), `"v`), 10, 64)
	if err != nil {
		// Well-formed but past any version there can be: it matches none.
		n = 0
	}
	return precondition{given: true, version: n}
}

var errBadIfMatch = apigw.NewProblem(http.StatusBadRequest, "validation", "Invalid request",
	`If-Match must be the ETag the integration was read with, such as "v3", or *.`)

// check says whether the precondition holds for the funnel's integration
// (exists: whether there is one): nil, 400 when malformed, 412 when it
// does not match or there is no integration.
func (p precondition) check(cur store.Integration, exists bool) *apigw.Problem {
	switch {
	case p.malformed:
		return errBadIfMatch
	case p.given && !exists:
		return errPrecondition
	case p.given && !p.any && p.version != cur.Version:
		return errPrecondition
	}
	return nil
}

// integrationResponse answers the integration with its open issues (its
// connection read for them).
func (e *Editor) integrationResponse(ctx context.Context, r *apigw.Request, status int, in store.Integration) apigw.Response {
	return apigw.JSON(status, e.view(ctx, in, r.Header.Get("Accept-Language")), map[string]string{"ETag": etag(in.Version)})
}

// view is an integration as the API shows it, with its connection's
// state when the connection is there.
func (e *Editor) view(ctx context.Context, in store.Integration, lang string) integrationView {
	var conn *store.Connection
	if c, err := e.store.GetConnection(ctx, in.WorkspaceID, in.ConnectionID); err == nil {
		conn = &c
	}
	return viewIntegration(in, conn, lang)
}

// getIntegration handles GET /v1/funnels/{funnel_id}/integration (operation getIntegration).
func (e *Editor) getIntegration(ctx context.Context, r *apigw.Request) apigw.Response {
	in, err := e.store.GetIntegration(ctx, r.Claims.Workspace, r.Params["funnel_id"])
	if err != nil {
		return e.fail(ctx, "get integration", err)
	}
	return e.integrationResponse(ctx, r, http.StatusOK, in)
}

// listIntegrations handles GET /v1/integrations (operation
// listIntegrations): the workspace's integrations, or the funnel's.
func (e *Editor) listIntegrations(ctx context.Context, r *apigw.Request) apigw.Response {
	ws, funnel := r.Claims.Workspace, r.Query.Get("funnel_id")
	var list []store.Integration
	if funnel != "" {
		in, err := e.store.GetIntegration(ctx, ws, funnel)
		if err != nil && !errors.Is(err, failure.ErrNotFound) {
			return e.fail(ctx, "list integrations", err)
		}
		if err == nil {
			list = append(list, in)
		}
	} else {
		all, err := e.store.ListIntegrations(ctx, ws)
		if err != nil {
			return e.fail(ctx, "list integrations", err)
		}
		list = all
	}
	views := make([]integrationView, 0, len(list))
	for _, in := range list {
		views = append(views, e.view(ctx, in, r.Header.Get("Accept-Language")))
	}
	return apigw.JSON(http.StatusOK, map[string]any{"integrations": views}, nil)
}

type integrationBody struct {
	ConnectionID        string          `json:"connection_id"`
	JobPositionID       personioID      `json:"job_position_id"`
	RecruitingChannelID *personioID     `json:"recruiting_channel_id"`
	Mapping             json.RawMessage `json:"mapping"`
	PositionRouting     *routingBody    `json:"position_routing"`
	Enabled             *bool           `json:"enabled"`
	CareerSite          *string         `json:"career_site"`
	Funnel              *mapping.Funnel `json:"funnel"`
}

var errPrecondition = apigw.NewProblem(http.StatusPreconditionFailed, "precondition-failed", "The integration was changed meanwhile",
	"Someone saved this integration after you read it. Read it again (its ETag), apply your change and save with If-Match.")

// putIntegration handles PUT /v1/funnels/{funnel_id}/integration (operation putIntegration).
func (e *Editor) putIntegration(ctx context.Context, r *apigw.Request) apigw.Response {
	var b integrationBody
	if err := json.Unmarshal(r.Body, &b); err != nil {
		return badBody(err)
	}
	ws, funnel := r.Claims.Workspace, r.Params["funnel_id"]
	pre := ifMatch(r)
	if pre.malformed {
		return errBadIfMatch.Response()
	}
	cur, err := e.store.GetIntegration(ctx, ws, funnel)
	exists := err == nil
	if err != nil && !errors.Is(err, failure.ErrNotFound) {
		return e.fail(ctx, "put integration", err)
	}
	if p := pre.check(cur, exists); p != nil {
		return p.Response()
	}
	if exists && !pre.given {
		return apigw.NewProblem(http.StatusPreconditionRequired, "precondition-required", "If-Match required",
			"This funnel has an integration already; send the ETag you read it with in If-Match, so that no one's change is lost.").Response()
	}
	site := cur.CareerSite
	if b.CareerSite != nil {
		site = *b.CareerSite
	}
	warnings, p := e.checkIntegration(ctx, ws, b, site)
	if p != nil {
		return p.Response()
	}
	var channel *int64
	if b.RecruitingChannelID != nil {
		channel = new(int64(*b.RecruitingChannelID))
	}
	// A save clears the mark of an unpublished position: the customer
	// chose another one, or published it again and saved; the parked
	// applications go on (and park again if it is still unpublished).
	next := store.Integration{WorkspaceID: ws, FunnelID: funnel, ConnectionID: b.ConnectionID, JobPositionID: int64(b.JobPositionID),
		RecruitingChannelID: channel, Mapping: compactJSON(b.Mapping), PositionRouting: b.PositionRouting.table(), Enabled: cur.Enabled,
		CareerSite: site, Version: cur.Version, MarksRevision: cur.MarksRevision, CreatedAt: cur.CreatedAt}
	if b.Enabled != nil {
		next.Enabled = *b.Enabled
	}
	restored := e.restoredEvents(cur) // none if it does not exist
	saved, err := e.store.PutIntegration(ctx, next, e.teller.Pending(restored...)...)
	if errors.Is(err, failure.ErrConflict) {
		return errPrecondition.Response()
	}
	if err != nil {
		return e.fail(ctx, "put integration: save", err)
	}
	if exists {
		e.positionsRestored(ctx, cur, restored)
	}
	status := http.StatusOK
	if saved.Version == 1 {
		status = http.StatusCreated
	}
	v := e.view(ctx, saved, r.Header.Get("Accept-Language"))
	v.Warnings = warnings
	return apigw.JSON(status, v, map[string]string{"ETag": etag(saved.Version)})
}

// restoredEvents are the events of the unpublished positions of was (the
// default's, and each routed one's) that a save settles (another was
// chosen, or the integration was saved again): the save clears their
// marks.
func (e *Editor) restoredEvents(was store.Integration) []outbound.Event {
	var out []outbound.Event
	for _, p := range was.Positions() {
		if m := was.UnpublishedMark(p); m != nil {
			out = append(out, outbound.PositionEvent(outbound.PositionRestored, was, p, m.Since, e.cfg.Now(), lifecycle.ReasonPositionPublished))
		}
	}
	return out
}

// positionsRestored tells the events of the positions of was a save
// settled (restoredEvents, recorded with the save) and sends the
// applications parked on them on.
func (e *Editor) positionsRestored(ctx context.Context, was store.Integration, restored []outbound.Event) {
	for _, ev := range restored {
		_ = e.teller.Tell(ctx, ev)
	}
	if was.UnpublishedNow() {
		e.positionRestored(ctx, was, was.Unpublished.PositionID, func(ctx context.Context, limit int, cursor string) (store.Page, error) {
			return e.store.ListParkedOnPosition(ctx, was.WorkspaceID, was.FunnelID, limit, cursor)
		})
	}
	// Every routed position's parked list, marked or not: a save may drop
	// a position from the table, and nothing would look at its list again.
	for _, p := range was.Positions()[1:] {
		e.positionRestored(ctx, was, p, func(ctx context.Context, limit int, cursor string) (store.Page, error) {
			return e.store.ListParkedOnRoutedPosition(ctx, was.WorkspaceID, was.FunnelID, p, limit, cursor)
		})
	}
}

// positionRestored sends the applications parked on position (list) on.
func (e *Editor) positionRestored(ctx context.Context, was store.Integration, position int64, list resume.Lister) {
	if _, err := resume.Parked(ctx, e.store, e.queue, list, lifecycle.ReasonPositionPublished); err != nil {
		e.cfg.Logger.ErrorContext(ctx, "editor: resume the deliveries parked on a position", "workspace", was.WorkspaceID, "funnel", was.FunnelID,
			"position", position, "error", err.Error())
	}
}

// checkIntegration checks what the schema cannot: the connection exists
// in the workspace, the mapping and the position routing are valid, every
// problem at once; a valid mapping's warnings (a source that fits with a
// transform) come back to be answered with the saved integration.
func (e *Editor) checkIntegration(ctx context.Context, ws string, b integrationBody, careerSite string) ([]apigw.FieldError, *apigw.Problem) {
	var errs, warnings []apigw.FieldError
	var conn *store.Connection
	if c, err := e.store.GetConnection(ctx, ws, b.ConnectionID); errors.Is(err, failure.ErrNotFound) {
		errs = append(errs, apigw.FieldError{Path: "/connection_id", Message: fmt.Sprintf("this workspace has no connection %q", b.ConnectionID)})
	} else if err != nil {
		return nil, e.problem(ctx, "put integration: connection", err)
	} else {
		conn = &c
	}
	cfg, err := mapping.Parse(b.Mapping)
	if err != nil {
		errs = append(errs, decodeError("/mapping", err))
	} else {
		warned, err := mapping.Check(*cfg, b.Funnel)
		var ce *mapping.ConfigError
		if errors.As(err, &ce) {
			errs = append(errs, mappingErrors(ce.Problems)...)
		}
		warnings = mappingErrors(warned)
	}
	errs = append(errs, e.checkRouting(ctx, conn, b, careerSite)...)
	if len(errs) == 0 {
		return warnings, nil
	}
	p := apigw.NewProblem(http.StatusUnprocessableEntity, "invalid-integration", "The integration cannot be saved", "fix every listed problem and save again")
	p.Errors = errs
	return nil, p
}

// mappingErrors are a mapping's problems (or warnings) as the API lists
// them: at their JSON pointers, with code, params and both sentences.
func mappingErrors(problems []mapping.Problem) []apigw.FieldError {
	out := make([]apigw.FieldError, 0, len(problems))
	for _, p := range problems {
		fe := apigw.FieldError{Path: pointerOf("/mapping", p.Path), Message: p.Message, Code: p.Code, Params: p.Params}
		if p.Messages != nil {
			fe.Messages = map[string]string{"en": p.Messages.EN, "de": p.Messages.DE}
		}
		out = append(out, fe)
	}
	return out
}

func compactJSON(raw json.RawMessage) json.RawMessage {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return raw
	}
	b, _ := json.Marshal(v)
	return b
}

// toggleIntegration handles PATCH /v1/funnels/{funnel_id}/integration (operation toggleIntegration).
func (e *Editor) toggleIntegration(ctx context.Context, r *apigw.Request) apigw.Response {
	var b struct {
		Enabled bool `json:"enabled"`
	}
	if err := json.Unmarshal(r.Body, &b); err != nil {
		return badBody(err)
	}
	ws, funnel := r.Claims.Workspace, r.Params["funnel_id"]
	pre := ifMatch(r)
	if pre.malformed {
		return errBadIfMatch.Response()
	}
	cur, err := e.store.GetIntegration(ctx, ws, funnel)
	exists := err == nil
	if err != nil && (!errors.Is(err, failure.ErrNotFound) || !pre.given) {
		return e.fail(ctx, "toggle integration", err)
	}
	if p := pre.check(cur, exists); p != nil {
		return p.Response()
	}
	cur.Enabled = b.Enabled
	saved, err := e.store.PutIntegration(ctx, cur)
	if errors.Is(err, failure.ErrConflict) {
		return errPrecondition.Response()
	}
	if err != nil {
		return e.fail(ctx, "toggle integration: save", err)
	}
	return e.integrationResponse(ctx, r, http.StatusOK, saved)
}

// deleteIntegration handles DELETE /v1/funnels/{funnel_id}/integration (operation deleteIntegration).
func (e *Editor) deleteIntegration(ctx context.Context, r *apigw.Request) apigw.Response {
	if err := e.store.DeleteIntegration(ctx, r.Claims.Workspace, r.Params["funnel_id"]); err != nil {
		return e.fail(ctx, "delete integration", err)
	}
	return apigw.NoContent()
}

// Sources lists the source forms a mapping may use, for the editor.
var Sources = []string{"contact.first_name", "contact.last_name", "contact.full_name", "contact.email", "contact.phone",
	"answers.<field_id>", "files.<field_id>", "tracking.<key>", "event.occurred_at", "event.id", "event.funnel_id", "event.workspace_id"}

func (e *Editor) listTargets(_ context.Context, _ *apigw.Request) apigw.Response {
	return apigw.JSON(http.StatusOK, map[string]any{"targets": mapping.Catalogue(), "transforms": mapping.Transforms, "sources": Sources,
		"fits": mapping.Fits(), "kinds": mapping.Kinds(), "statuses": lifecycle.Statuses, "retryable": retryable}, nil)
}

var placeholder = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)
