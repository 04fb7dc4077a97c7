package editor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/apigw"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/resume"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// connectionView is a connection as the API shows it: never the token,
// never the secret's name.
type connectionView struct {
	ID            string         `json:"id"`
	Name          string         `json:"name"`
	CompanyID     string         `json:"company_id"`
	Status        string         `json:"status"`
	StatusReason  string         `json:"status_reason,omitempty"`
	LastCheckedAt time.Time      `json:"last_checked_at"`
	ReadAccess    readAccessView `json:"read_access"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
}

func viewConnection(c store.Connection) connectionView {
	return connectionView{ID: c.ID, Name: c.Name, CompanyID: c.CompanyID, Status: c.Status, StatusReason: c.StatusReason,
		LastCheckedAt: c.LastCheckedAt, ReadAccess: viewReadAccess(c), CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// checkCredentials asks Personio about a pair for the workspace and says
// what the editor should show when it is refused. The workspace's own
// limit comes first, so that a workspace past it spends nothing of the
// company's budget; then a unit of the company's budget, which the
// worker shares, so that together they stay under Personio's limit.
// Personio counts only authenticated requests: when it did not recognise
// the pair (401), or the check never left, the unit is given back.
func (e *Editor) checkCredentials(ctx context.Context, ws string, creds personio.Credentials) *apigw.Problem {
	if p := e.takeWorkspace(ctx, ws, store.BudgetChecks, e.cfg.Checks, "credential checks"); p != nil {
		return p
	}
	ok, at, err := e.store.TakeBudget(ctx, creds.CompanyID, 1, e.cfg.Budget)
	if err == nil && !ok {
		p := apigw.NewProblem(http.StatusServiceUnavailable, "personio-rate-limited", "Personio is busy",
			"This Personio account's requests are at Personio's limit of 20 a minute; try again shortly. Nothing was saved.")
		p.Header = map[string]string{"Retry-After": strconv.Itoa(int(retryAfter(e.cfg.Now(), at) / time.Second))}
		return p
	}
	// Without the store the check still goes: a credential check is
	// worth more than an exact count.
	taken := err == nil
	err = e.personio.Verify(ctx, creds)
	if err == nil {
		return nil
	}
	var ae *personio.AuthError
	var fe *personio.FeatureDisabledError
	var ve *personio.ValidationError
	var rl *personio.RateLimitError
	if taken && (errors.As(err, &ae) || errors.As(err, &ve)) {
		if gerr := e.store.GiveBackBudget(ctx, creds.CompanyID, 1, at); gerr != nil {
			e.cfg.Logger.WarnContext(ctx, "editor: give back budget", "company_id", creds.CompanyID, "error", gerr.Error())
		}
	}
	switch {
	case errors.As(err, &ae), errors.As(err, &ve):
		return apigw.NewProblem(http.StatusUnprocessableEntity, "invalid-credentials", "Personio did not accept these credentials",
			"Check the Company ID and the access token under Settings > Integrations > API access data > Recruiting integrations in Personio. Nothing was saved.")
	case errors.As(err, &fe):
		return apigw.NewProblem(http.StatusUnprocessableEntity, "recruiting-disabled", "Recruiting is not enabled in Personio",
			fmt.Sprintf("Personio company %s does not have recruiting or its API enabled (%s). Nothing was saved.", creds.CompanyID, fe.Reason))
	case errors.As(err, &rl):
		p := apigw.NewProblem(http.StatusServiceUnavailable, "personio-rate-limited", "Personio is busy",
			"Personio allows 20 requests a minute per account; try again in a minute. Nothing was saved.")
		p.Header = map[string]string{"Retry-After": "60"}
		return p
	}
	e.cfg.Logger.WarnContext(ctx, "editor: personio unreachable", "company_id", creds.CompanyID, "error", err.Error())
	return apigw.NewProblem(http.StatusBadGateway, "personio-unavailable", "Personio could not be reached",
		"The connection could not be checked; try again later. Nothing was saved.")
}

// usableCredentials refuses, before anything is spent on it, a token that
// can never work: it travels to Personio as an HTTP header value, which
// cannot hold control characters. (A Company ID that can never work, such
// as 0, is refused by the document's schema.)
func usableCredentials(creds personio.Credentials) *apigw.Problem {
	var errs []apigw.FieldError
	if !printableASCII(string(creds.Token)) {
		errs = append(errs, apigw.FieldError{Path: "/access_token", Message: "access_token must be the token exactly as Personio shows it: printable characters only, without line breaks, tabs or other control characters"})
	}
	if len(errs) == 0 {
		return nil
	}
	p := apigw.NewProblem(http.StatusUnprocessableEntity, "invalid-input", "These credentials cannot be used",
		"Fix every listed field. Nothing was sent to Personio and nothing was saved.")
	p.Errors = errs
	return p
}

// printableASCII reports whether s is not empty and holds only printable
// ASCII characters (space to tilde).
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}

type credentialsBody struct {
	Name        string          `json:"name"`
	CompanyID   string          `json:"company_id"`
	AccessToken string          `json:"access_token"`
	ReadAccess  *readAccessBody `json:"read_access"`
}

// credentialsOf reads a body with credentials, or answers why it cannot
// be used.
func credentialsOf(r *apigw.Request) (credentialsBody, personio.Credentials, *apigw.Response) {
	var b credentialsBody
	if err := json.Unmarshal(r.Body, &b); err != nil {
		resp := badBody(err)
		return b, personio.Credentials{}, &resp
	}
	creds := personio.Credentials{CompanyID: b.CompanyID, Token: personio.Token(b.AccessToken)}
	if p := usableCredentials(creds); p != nil {
		resp := p.Response()
		return b, creds, &resp
	}
	// Personio's Company ID is an integer: "042" is company 42, checked,
	// stored and budgeted as "42".
	n, _ := strconv.ParseUint(b.CompanyID, 10, 63)
	b.CompanyID = strconv.FormatUint(n, 10)
	creds.CompanyID = b.CompanyID
	return b, creds, nil
}

// createConnection handles POST /v1/connections (operation createConnection).
func (e *Editor) createConnection(ctx context.Context, r *apigw.Request) apigw.Response {
	b, creds, resp := credentialsOf(r)
	if resp != nil {
		return *resp
	}
	ws := r.Claims.Workspace
	if b.ReadAccess != nil {
		if p := usableReadAccess(*b.ReadAccess); p != nil {
			return p.Response()
		}
	}
	if p := e.checkCredentials(ctx, ws, creds); p != nil {
		return p.Response()
	}
	if b.ReadAccess != nil {
		if p := e.checkReadAccess(ctx, ws, b.ReadAccess.credentials()); p != nil {
			return p.Response()
		}
	}
	id := e.newID("con")
	secret, err := e.vault.Create(ctx, ws, id, creds.Token)
	if err == nil && b.ReadAccess != nil {
		err = e.vault.PutReadSecret(ctx, ws, id, personio.Token(b.ReadAccess.ClientSecret))
	}
	if err != nil {
		return e.fail(ctx, "create connection: save token", err)
	}
	now := e.cfg.Now().UTC()
	conn := store.Connection{WorkspaceID: ws, ID: id, Name: b.Name, CompanyID: b.CompanyID,
		SecretName: secret, Status: store.ConnectionConnected, LastCheckedAt: now}
	if b.ReadAccess != nil {
		conn.ReadClientID, conn.ReadCheckedAt = b.ReadAccess.ClientID, now
	}
	c, err := e.store.CreateConnection(ctx, conn)
	if err != nil {
		// Do not leave a token behind that no connection names.
		if derr := e.vault.Delete(ctx, ws, id); derr != nil {
			e.cfg.Logger.ErrorContext(ctx, "editor: orphaned secret", "workspace", ws, "connection", id, "error", derr.Error())
		}
		return e.fail(ctx, "create connection", err)
	}
	return apigw.JSON(http.StatusCreated, viewConnection(c), map[string]string{"Location": "/v1/connections/" + id})
}

// listConnections handles GET /v1/connections (operation listConnections).
func (e *Editor) listConnections(ctx context.Context, r *apigw.Request) apigw.Response {
	list, err := e.store.ListConnections(ctx, r.Claims.Workspace)
	if err != nil {
		return e.fail(ctx, "list connections", err)
	}
	out := make([]connectionView, 0, len(list))
	for _, c := range list {
		out = append(out, viewConnection(c))
	}
	return apigw.JSON(http.StatusOK, map[string]any{"connections": out}, nil)
}

// getConnection handles GET /v1/connections/{connection_id} (operation getConnection).
func (e *Editor) getConnection(ctx context.Context, r *apigw.Request) apigw.Response {
	c, err := e.store.GetConnection(ctx, r.Claims.Workspace, r.Params["connection_id"])
	if err != nil {
		return e.fail(ctx, "get connection", err)
	}
	return apigw.JSON(http.StatusOK, viewConnection(c), nil)
}

// verifyConnection handles POST /v1/connections/{connection_id}/verify (operation verifyConnection).
func (e *Editor) verifyConnection(ctx context.Context, r *apigw.Request) apigw.Response {
	ws := r.Claims.Workspace
	c, err := e.store.GetConnection(ctx, ws, r.Params["connection_id"])
	if err != nil {
		return e.fail(ctx, "verify connection", err)
	}
	token, err := e.vault.Get(ctx, ws, c.ID)
	if err != nil {
		return e.fail(ctx, "verify connection: read token", err)
	}
	p := e.checkCredentials(ctx, ws, personio.Credentials{CompanyID: c.CompanyID, Token: token})
	was := c.Status
	switch {
	case p == nil:
		c.Status, c.StatusReason = store.ConnectionConnected, ""
	case p.Status == http.StatusUnprocessableEntity:
		c.Status, c.StatusReason = store.ConnectionNeedsAttention, p.Title
	default:
		return p.Response() // Personio unreachable: the status stays as it was.
	}
	now := e.cfg.Now().UTC()
	c.LastCheckedAt = now
	if c.Status != was {
		c.StatusSince = now
	}
	if p == nil && e.readAccessWorks(ctx, c) {
		c.ReadCheckedAt = now
	}
	var tell []outbound.Event
	switch {
	case was == store.ConnectionConnected && c.Status == store.ConnectionNeedsAttention:
		tell = append(tell, outbound.ConnectionEvent(outbound.ConnectionNeedsAttention, c, lifecycle.ReasonAuth))
	case was == store.ConnectionNeedsAttention && c.Status == store.ConnectionConnected:
		tell = append(tell, outbound.ConnectionEvent(outbound.ConnectionRestored, c, lifecycle.ReasonConnectionRestored))
	}
	c, err = e.store.UpdateConnection(ctx, c, e.teller.Pending(tell...)...)
	if err != nil {
		return e.fail(ctx, "verify connection: save", err)
	}
	for _, ev := range tell {
		_ = e.teller.Tell(ctx, ev)
	}
	header := map[string]string{}
	if was == store.ConnectionNeedsAttention && c.Status == store.ConnectionConnected {
		// The credentials work again (the account was fixed in Personio):
		// what waited for them goes on.
		resumed, err := e.resumeParked(ctx, ws, c.ID)
		if err != nil {
			return e.fail(ctx, "verify connection: resume parked deliveries", err)
		}
		header["X-Resumed-Deliveries"] = strconv.Itoa(resumed)
	}
	return apigw.JSON(http.StatusOK, viewConnection(c), header)
}

// replaceCredentials handles PUT /v1/connections/{connection_id}/credentials (operation replaceCredentials).
func (e *Editor) replaceCredentials(ctx context.Context, r *apigw.Request) apigw.Response {
	b, creds, resp := credentialsOf(r)
	if resp != nil {
		return *resp
	}
	ws := r.Claims.Workspace
	c, err := e.store.GetConnection(ctx, ws, r.Params["connection_id"])
	if err != nil {
		return e.fail(ctx, "replace credentials", err)
	}
	if p := e.checkCredentials(ctx, ws, creds); p != nil {
		return p.Response()
	}
	if err := e.vault.Put(ctx, ws, c.ID, creds.Token); err != nil {
		return e.fail(ctx, "replace credentials: save token", err)
	}
	was, now := c.Status, e.cfg.Now().UTC()
	c.CompanyID, c.Status, c.StatusReason, c.LastCheckedAt = b.CompanyID, store.ConnectionConnected, "", now
	c.CredentialsVersion++
	if was != c.Status {
		c.StatusSince = now
	}
	var tell []outbound.Event
	if was == store.ConnectionNeedsAttention {
		tell = append(tell, outbound.ConnectionEvent(outbound.ConnectionRestored, c, lifecycle.ReasonConnectionRestored))
	}
	if c, err = e.store.UpdateConnection(ctx, c, e.teller.Pending(tell...)...); err != nil {
		return e.fail(ctx, "replace credentials: save", err)
	}
	for _, ev := range tell {
		_ = e.teller.Tell(ctx, ev)
	}
	resumed, err := e.resumeParked(ctx, ws, c.ID)
	if err != nil {
		return e.fail(ctx, "replace credentials: resume parked deliveries", err)
	}
	return apigw.JSON(http.StatusOK, viewConnection(c), map[string]string{"X-Resumed-Deliveries": strconv.Itoa(resumed)})
}

// resumeParked sends every delivery parked on the connection's
// credentials back to the queue.
func (e *Editor) resumeParked(ctx context.Context, ws, connectionID string) (int, error) {
	return resume.Parked(ctx, e.store, e.queue, func(ctx context.Context, limit int, cursor string) (store.Page, error) {
		return e.store.ListParked(ctx, ws, connectionID, limit, cursor)
	}, lifecycle.ReasonCredentialsFixed)
}

// deleteConnection handles DELETE /v1/connections/{connection_id} (operation deleteConnection).
func (e *Editor) deleteConnection(ctx context.Context, r *apigw.Request) apigw.Response {
	ws, id := r.Claims.Workspace, r.Params["connection_id"]
	if _, err := e.store.GetConnection(ctx, ws, id); err != nil {
		return e.fail(ctx, "delete connection", err)
	}
	integrations, err := e.store.ListIntegrations(ctx, ws)
	if err != nil {
		return e.fail(ctx, "delete connection: integrations", err)
	}
	var funnels []string
	for _, in := range integrations {
		if in.ConnectionID == id && in.Enabled {
			funnels = append(funnels, in.FunnelID)
		}
	}
	if len(funnels) > 0 {
		slices.Sort(funnels)
		what := "Funnel " + funnels[0] + " sends"
		if len(funnels) > 1 {
			what = "Funnels " + strings.Join(funnels, ", ") + " send"
		}
		p := apigw.NewProblem(http.StatusConflict, "connection-in-use", "The connection is in use",
			what+" applications through this connection. Switch their integration off or choose another connection for them first; nothing was removed.")
		p.Params = map[string]any{"funnels": funnels}
		return p.Response()
	}
	if err := e.vault.Delete(ctx, ws, id); err != nil && !errors.Is(err, failure.ErrNotFound) {
		return e.fail(ctx, "delete connection: token", err)
	}
	if err := e.store.DeleteConnection(ctx, ws, id); err != nil {
		return e.fail(ctx, "delete connection", err)
	}
	return apigw.NoContent()
}

// renameConnection handles PATCH /v1/connections/{connection_id}
// (operation renameConnection): a new name, nothing else.
func (e *Editor) renameConnection(ctx context.Context, r *apigw.Request) apigw.Response {
	var b struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(r.Body, &b); err != nil {
		return badBody(err)
	}
	name := strings.TrimSpace(b.Name)
	if name == "" {
		return apigw.Invalid(apigw.MustBe("/name", "text of 1 to 100 characters, not only spaces", "")).Response()
	}
	c, err := e.store.GetConnection(ctx, r.Claims.Workspace, r.Params["connection_id"])
	if err != nil {
		return e.fail(ctx, "rename connection", err)
	}
	c.Name = name
	saved, err := e.store.UpdateConnection(ctx, c)
	if err != nil {
		return e.fail(ctx, "rename connection: save", err)
	}
	return apigw.JSON(http.StatusOK, viewConnection(saved), nil)
}

// listPositions handles GET /v1/connections/{connection_id}/positions (operation listPositions).
func (e *Editor) listPositions(ctx context.Context, r *apigw.Request) apigw.Response {
	c, err := e.store.GetConnection(ctx, r.Claims.Workspace, r.Params["connection_id"])
	if err != nil {
		return e.fail(ctx, "list positions", err)
	}
	rc, ok, err := e.readCredentials(ctx, c)
	if err != nil {
		return e.fail(ctx, "list positions: read access", err)
	}
	if ok {
		return e.listJobs(ctx, rc)
	}
	if !r.Query.Has("subdomain") {
		msg := "subdomain is required: " + positionParams["subdomain"] + " (with read access, the connection lists every job from Personio's API instead)"
		p := apigw.NewProblem(http.StatusBadRequest, "validation", "Invalid request", msg)
		p.Errors = []apigw.FieldError{{Path: "subdomain", Message: msg}}
		return p.Response()
	}
	positions, err := e.personio.Positions(ctx, c.CompanyID, r.Query.Get("subdomain"), r.Query.Get("language"))
	var fu *personio.FeedUnavailableError
	var ve *personio.ValidationError
	switch {
	case errors.As(err, &fu):
		return apigw.NewProblem(http.StatusUnprocessableEntity, "feed-unavailable", "No job positions feed",
			"Personio has no public job positions feed at \""+fu.Subdomain+".jobs.personio.de\". Enable the XML feed for your career site in Personio (Settings > Recruiting > Career page), check the subdomain, or copy the job position ID from the position's URL in Personio instead.").Response()
	case errors.As(err, &ve):
		// The document's parameters keep these out; should one get past
		// them, it is said in words, not as the client's reason code.
		p := apigw.NewProblem(http.StatusBadRequest, "validation", "Invalid request", "")
		for _, f := range ve.Body.Fields {
			msg := f.Field + " is not valid"
			if rule, ok := positionParams[f.Field]; ok {
				msg = f.Field + " must be " + rule
			}
			p.Errors = append(p.Errors, apigw.FieldError{Path: f.Field, Message: msg})
			p.Detail = strings.TrimPrefix(p.Detail+"; "+msg, "; ")
		}
		return p.Response()
	case err != nil:
		return apigw.NewProblem(http.StatusBadGateway, "personio-unavailable", "Personio could not be reached", "The job positions could not be read; try again later.").Response()
	}
	if positions == nil {
		positions = []personio.Position{}
	}
	return apigw.JSON(http.StatusOK, map[string]any{"positions": positions}, nil)
}

// positionParams says what the positions' parameters must be, as the
// document does.
var positionParams = map[string]string{
	"subdomain": "the subdomain of the company's Personio career page, the first part of its address (acme for acme.jobs.personio.de): 1 to 63 letters, digits or hyphens; in Personio, the address is under Settings > Recruiting > Career page",
	"language":  "one of de, en, fr, es, nl, it, pt",
}
