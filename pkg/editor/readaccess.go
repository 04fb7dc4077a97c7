package editor

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/apigw"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// readAccessBody is a connection's read access as the editor sends it:
// an API credential of Personio's v2 API. The secret is write-only.
type readAccessBody struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

func (b readAccessBody) credentials() personio.ReadCredentials {
	return personio.ReadCredentials{ClientID: b.ClientID, ClientSecret: personio.Token(b.ClientSecret)}
}

// readAccessView is what the API shows of a connection's read access:
// whether it is set and when Personio last accepted it, never the secret.
type readAccessView struct {
	Configured    bool       `json:"configured"`
	LastCheckedAt *time.Time `json:"last_checked_at,omitempty"`
}

func viewReadAccess(c store.Connection) readAccessView {
	if c.ReadClientID == "" {
		return readAccessView{}
	}
	at := c.ReadCheckedAt
	return readAccessView{Configured: true, LastCheckedAt: &at}
}

// usableReadAccess refuses, before anything is sent, a client id or secret
// that can never work: both travel as form values of printable text.
func usableReadAccess(b readAccessBody) *apigw.Problem {
	var errs []apigw.FieldError
	if !printableASCII(b.ClientID) {
		errs = append(errs, apigw.FieldError{Path: "/read_access/client_id", Message: "client_id must be the API credential's client ID exactly as Personio shows it: printable characters only"})
	}
	if !printableASCII(b.ClientSecret) {
		errs = append(errs, apigw.FieldError{Path: "/read_access/client_secret", Message: "client_secret must be the API credential's client secret exactly as Personio showed it: printable characters only"})
	}
	if len(errs) == 0 {
		return nil
	}
	p := apigw.NewProblem(http.StatusUnprocessableEntity, "invalid-input", "This read access cannot be used",
		"Fix every listed field. Nothing was sent to Personio and nothing was saved.")
	p.Errors = errs
	return p
}

// checkReadAccess asks Personio for a token and one page of one job with
// the credential, and says what the editor should show when it is
// refused. It counts against the workspace's read-access checks, which
// have the limit of its credential checks but a count of their own:
// Personio documents no per-company limit for its v2 reads, so a read
// check spends nothing of the company's v1 budget that the credential
// checks' limit protects, and setting read access does not take a
// credential check from the account's own setup.
func (e *Editor) checkReadAccess(ctx context.Context, ws string, rc personio.ReadCredentials) *apigw.Problem {
	if p := e.takeWorkspace(ctx, ws, store.BudgetReadChecks, e.cfg.Checks, "read-access checks"); p != nil {
		return p
	}
	err := e.personio.CheckReadAccess(ctx, rc)
	if err == nil {
		return nil
	}
	var ra *personio.ReadAccessError
	var rl *personio.RateLimitError
	switch {
	case errors.As(err, &ra) && ra.Reason == personio.ReadMissingScope:
		return apigw.NewProblem(http.StatusUnprocessableEntity, "read-access-scope-missing", "This API credential may not read recruiting data",
			"In Personio, under Settings > Integrations > API credentials, give this credential the scope "+personio.ScopeRecruitingRead+
				" (Recruiting: read), or create one that has it. Nothing was saved.")
	case errors.As(err, &ra) && ra.Reason == personio.ReadUnavailable:
		return apigw.NewProblem(http.StatusUnprocessableEntity, "read-access-unavailable", "Personio offers no recruiting API v2 for this account",
			"Personio answered that its recruiting endpoints do not exist for this account. Ask Personio's support to enable the Recruiting API v2; applications are delivered without read access. Nothing was saved.")
	case errors.As(err, &ra):
		return apigw.NewProblem(http.StatusUnprocessableEntity, "read-access-refused", "Personio did not accept this client ID and secret",
			"Check them under Settings > Integrations > API credentials in Personio. Personio shows a secret only once, when the credential is created: if it is lost, create a new credential. Nothing was saved.")
	case errors.As(err, &rl):
		p := apigw.NewProblem(http.StatusServiceUnavailable, "personio-rate-limited", "Personio is busy",
			"Personio refused more requests for now; try again in a minute. Nothing was saved.")
		p.Header = map[string]string{"Retry-After": "60"}
		return p
	}
	e.cfg.Logger.WarnContext(ctx, "editor: personio unreachable for read access", "error", err.Error())
	return apigw.NewProblem(http.StatusBadGateway, "personio-unavailable", "Personio could not be reached",
		"The read access could not be checked; try again later. Nothing was saved.")
}

// readAccessOf reads and checks the body of the read-access route.
func readAccessOf(r *apigw.Request) (readAccessBody, *apigw.Response) {
	var b readAccessBody
	if err := json.Unmarshal(r.Body, &b); err != nil {
		resp := badBody(err)
		return b, &resp
	}
	if p := usableReadAccess(b); p != nil {
		resp := p.Response()
		return b, &resp
	}
	return b, nil
}

// putReadAccess handles PUT /v1/connections/{connection_id}/read-access
// (operation putReadAccess): checks the credential with Personio, then
// keeps its secret beside the connection's token.
func (e *Editor) putReadAccess(ctx context.Context, r *apigw.Request) apigw.Response {
	b, resp := readAccessOf(r)
	if resp != nil {
		return *resp
	}
	ws := r.Claims.Workspace
	c, err := e.store.GetConnection(ctx, ws, r.Params["connection_id"])
	if err != nil {
		return e.fail(ctx, "set read access", err)
	}
	if p := e.checkReadAccess(ctx, ws, b.credentials()); p != nil {
		return p.Response()
	}
	if err := e.vault.PutReadSecret(ctx, ws, c.ID, personio.Token(b.ClientSecret)); err != nil {
		return e.fail(ctx, "set read access: save secret", err)
	}
	c.ReadClientID, c.ReadCheckedAt = b.ClientID, e.cfg.Now().UTC()
	if c, err = e.store.UpdateConnection(ctx, c); err != nil {
		return e.fail(ctx, "set read access: save", err)
	}
	return apigw.JSON(http.StatusOK, viewConnection(c), nil)
}

// deleteReadAccess handles DELETE /v1/connections/{connection_id}/read-access
// (operation deleteReadAccess): the secret is removed from Secrets Manager;
// ambiguous deliveries of the connection end unconfirmed again, and the
// position picker lists the career site's feed.
func (e *Editor) deleteReadAccess(ctx context.Context, r *apigw.Request) apigw.Response {
	ws := r.Claims.Workspace
	c, err := e.store.GetConnection(ctx, ws, r.Params["connection_id"])
	if err != nil {
		return e.fail(ctx, "remove read access", err)
	}
	if err := e.vault.PutReadSecret(ctx, ws, c.ID, ""); err != nil {
		return e.fail(ctx, "remove read access: secret", err)
	}
	c.ReadClientID, c.ReadCheckedAt = "", time.Time{}
	if c, err = e.store.UpdateConnection(ctx, c); err != nil {
		return e.fail(ctx, "remove read access: save", err)
	}
	return apigw.JSON(http.StatusOK, viewConnection(c), nil)
}

// readCredentials returns the connection's read credentials; ok is false
// when it has no read access.
func (e *Editor) readCredentials(ctx context.Context, c store.Connection) (personio.ReadCredentials, bool, error) {
	if c.ReadClientID == "" {
		return personio.ReadCredentials{}, false, nil
	}
	secret, err := e.vault.ReadSecret(ctx, c.WorkspaceID, c.ID)
	if err != nil || secret == "" {
		return personio.ReadCredentials{}, false, err
	}
	return personio.ReadCredentials{ClientID: c.ReadClientID, ClientSecret: secret}, true, nil
}

// readAccessWorks checks the connection's read access again, when it has
// one, for verifyConnection: a refusal leaves read_access.last_checked_at
// as it was (the editor shows how old it is), and is logged without the
// secret.
func (e *Editor) readAccessWorks(ctx context.Context, c store.Connection) bool {
	rc, ok, err := e.readCredentials(ctx, c)
	if err != nil || !ok {
		return false
	}
	if p := e.checkReadAccess(ctx, c.WorkspaceID, rc); p != nil {
		e.cfg.Logger.WarnContext(ctx, "editor: read access refused", "workspace", c.WorkspaceID, "connection", c.ID, "problem", p.Title)
		return false
	}
	return true
}

// jobPosition is a job from Personio's v2 API as the position picker
// shows it.
type jobPosition struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Department string `json:"department,omitempty"`
	Office     string `json:"office,omitempty"`
	Published  bool   `json:"published"`
}

// listJobs answers the position picker from Personio's v2 jobs: every
// job, unpublished ones marked.
func (e *Editor) listJobs(ctx context.Context, rc personio.ReadCredentials) apigw.Response {
	jobs, err := e.personio.Jobs(ctx, rc)
	if err != nil {
		if p := e.readRefusal(err); p != nil {
			return p.Response()
		}
		return apigw.NewProblem(http.StatusBadGateway, "personio-unavailable", "Personio could not be reached", "The job positions could not be read; try again later.").Response()
	}
	out := make([]jobPosition, 0, len(jobs))
	for _, j := range jobs {
		id, err := strconv.ParseInt(j.ID, 10, 64)
		if err != nil {
			continue // not a position v1 can deliver to
		}
		out = append(out, jobPosition{ID: id, Name: j.Name, Department: j.Department, Office: j.Office, Published: j.Published()})
	}
	return apigw.JSON(http.StatusOK, map[string]any{"positions": out, "source": "personio_api"}, nil)
}

// readRefusal says in words that the stored read access no longer works,
// or nil for another error.
func (e *Editor) readRefusal(err error) *apigw.Problem {
	var ra *personio.ReadAccessError
	if !errors.As(err, &ra) {
		return nil
	}
	return apigw.NewProblem(http.StatusUnprocessableEntity, "read-access-refused", "Personio no longer accepts this connection's read access",
		"Check the API credential under Settings > Integrations > API credentials in Personio (it needs the scope "+personio.ScopeRecruitingRead+
			"), then enter it again, or remove the read access to list the career site's positions instead.")
}
