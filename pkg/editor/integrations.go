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
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/mapping"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

type integrationView struct {
	FunnelID            string          `json:"funnel_id"`
	ConnectionID        string          `json:"connection_id"`
	JobPositionID       int64           `json:"job_position_id"`
	RecruitingChannelID *int64          `json:"recruiting_channel_id"`
	Mapping             json.RawMessage `json:"mapping"`
	Enabled             bool            `json:"enabled"`
	Version             int64           `json:"version"`
	CreatedAt           time.Time       `json:"created_at"`
	UpdatedAt           time.Time       `json:"updated_at"`
}

func viewIntegration(in store.Integration) integrationView {
	return integrationView{FunnelID: in.FunnelID, ConnectionID: in.ConnectionID, JobPositionID: in.JobPositionID,
		RecruitingChannelID: in.RecruitingChannelID, Mapping: in.Mapping, Enabled: in.Enabled, Version: in.Version,
		CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt}
}

func etag(version int64) string { return `"v` + strconv.FormatInt(version, 10) + `"` }

// ifMatch reads the version of an If-Match header ("v3", W/"v3"); ok is
// false when there is none.
func ifMatch(r *apigw.Request) (version int64, ok bool, bad bool) {
	h := strings.TrimSpace(r.Header.Get("If-Match"))
	if h == "" {
		return 0, false, false
	}
	h = strings.Trim(strings.TrimPrefix(h, "W/"), `"`)
	n, err := strconv.ParseInt(strings.TrimPrefix(h, "v"), 10, 64)
	if err != nil || n < 1 {
		return 0, true, true
	}
	return n, true, false
}

func integrationResponse(status int, in store.Integration) apigw.Response {
	return apigw.JSON(status, viewIntegration(in), map[string]string{"ETag": etag(in.Version)})
}

// getIntegration handles GET /v1/funnels/{funnel_id}/integration (operation getIntegration).
func (e *Editor) getIntegration(ctx context.Context, r *apigw.Request) apigw.Response {
	in, err := e.store.GetIntegration(ctx, r.Claims.Workspace, r.Params["funnel_id"])
	if err != nil {
		return e.fail(ctx, "get integration", err)
	}
	return integrationResponse(http.StatusOK, in)
}

type integrationBody struct {
	ConnectionID        string          `json:"connection_id"`
	JobPositionID       int64           `json:"job_position_id"`
	RecruitingChannelID *int64          `json:"recruiting_channel_id"`
	Mapping             json.RawMessage `json:"mapping"`
	Enabled             *bool           `json:"enabled"`
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
	version, hasMatch, bad := ifMatch(r)
	if bad {
		return apigw.NewProblem(http.StatusBadRequest, "validation", "Invalid If-Match", `If-Match takes the ETag the integration was read with, such as "v3".`).Response()
	}
	cur, err := e.store.GetIntegration(ctx, ws, funnel)
	switch {
	case errors.Is(err, failure.ErrNotFound):
		if hasMatch {
			return errPrecondition.Response()
		}
	case err != nil:
		return e.fail(ctx, "put integration", err)
	case !hasMatch:
		return apigw.NewProblem(http.StatusPreconditionRequired, "precondition-required", "If-Match required",
			"This funnel has an integration already; send the ETag you read it with in If-Match, so that no one's change is lost.").Response()
	case version != cur.Version:
		return errPrecondition.Response()
	}
	if p := e.checkIntegration(ctx, ws, b); p != nil {
		return p.Response()
	}
	next := store.Integration{WorkspaceID: ws, FunnelID: funnel, ConnectionID: b.ConnectionID, JobPositionID: b.JobPositionID,
		RecruitingChannelID: b.RecruitingChannelID, Mapping: compactJSON(b.Mapping), Enabled: cur.Enabled, Version: cur.Version, CreatedAt: cur.CreatedAt}
	if b.Enabled != nil {
		next.Enabled = *b.Enabled
	}
	saved, err := e.store.PutIntegration(ctx, next)
	if errors.Is(err, failure.ErrConflict) {
		return errPrecondition.Response()
	}
	if err != nil {
		return e.fail(ctx, "put integration: save", err)
	}
	status := http.StatusOK
	if saved.Version == 1 {
		status = http.StatusCreated
	}
	return integrationResponse(status, saved)
}

// checkIntegration checks what the schema cannot: the connection exists
// in the workspace and the mapping is valid, every problem at once.
func (e *Editor) checkIntegration(ctx context.Context, ws string, b integrationBody) *apigw.Problem {
	var errs []apigw.FieldError
	if _, err := e.store.GetConnection(ctx, ws, b.ConnectionID); errors.Is(err, failure.ErrNotFound) {
		errs = append(errs, apigw.FieldError{Path: "/connection_id", Message: fmt.Sprintf("this workspace has no connection %q", b.ConnectionID)})
	} else if err != nil {
		return apigw.NewProblem(http.StatusServiceUnavailable, "unavailable", "Temporarily unavailable", "try again in a few seconds")
	}
	cfg, err := mapping.Parse(b.Mapping)
	if err != nil {
		errs = append(errs, apigw.FieldError{Path: "/mapping", Message: strings.TrimPrefix(err.Error(), "mapping: parse: ")})
	} else {
		var ce *mapping.ConfigError
		if err := mapping.Validate(*cfg, b.Funnel); errors.As(err, &ce) {
			for _, p := range ce.Problems {
				errs = append(errs, apigw.FieldError{Path: "/mapping/" + p.Path, Message: p.Message})
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	p := apigw.NewProblem(http.StatusUnprocessableEntity, "invalid-integration", "The integration cannot be saved", "fix every listed problem and save again")
	p.Errors = errs
	return p
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
	cur, err := e.store.GetIntegration(ctx, ws, funnel)
	if err != nil {
		return e.fail(ctx, "toggle integration", err)
	}
	version, hasMatch, bad := ifMatch(r)
	if bad || (hasMatch && version != cur.Version) {
		return errPrecondition.Response()
	}
	cur.Enabled = b.Enabled
	saved, err := e.store.PutIntegration(ctx, cur)
	if errors.Is(err, failure.ErrConflict) {
		return errPrecondition.Response()
	}
	if err != nil {
		return e.fail(ctx, "toggle integration: save", err)
	}
	return integrationResponse(http.StatusOK, saved)
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
	return apigw.JSON(http.StatusOK, map[string]any{"targets": mapping.Catalogue(), "transforms": mapping.Transforms, "sources": Sources}, nil)
}

var placeholder = regexp.MustCompile(`\{\{\s*([^{}]*?)\s*\}\}`)
