package personio

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ScopeRecruitingRead is the scope an API credential needs for the v2
// Recruiting read endpoints.
const ScopeRecruitingRead = "personio:recruiting:read"

// maxReadPages bounds how many pages one listing follows.
const maxReadPages = 20

// tokenMargin is how long before its expiry a cached access token is no
// longer used.
const tokenMargin = 60 * time.Second

// ReadCredentials are an API credential the customer creates in Personio
// (Settings > Integrations > API credentials) for the v2 Recruiting read
// endpoints. The secret is write-only like a Token: it prints, logs and
// encodes as "[redacted]".
type ReadCredentials struct {
	// ClientID is the credential's client id.
	ClientID string
	// ClientSecret is the credential's client secret.
	ClientSecret Token
}

// Validate reports missing parts before any request is made; the error
// never contains the secret.
func (rc ReadCredentials) Validate() error {
	var errs FieldErrors
	if strings.TrimSpace(rc.ClientID) == "" {
		errs = append(errs, FieldError{Field: "read_access.client_id", Reasons: []Reason{{Reason: ReasonRequiredAttribute}}})
	}
	if len(rc.ClientSecret) == 0 {
		errs = append(errs, FieldError{Field: "read_access.client_secret", Reasons: []Reason{{Reason: ReasonRequiredAttribute}}})
	}
	if len(errs) == 0 {
		return nil
	}
	return &ValidationError{Op: "personio: check read credentials", Body: ErrorBody{Fields: errs}}
}

// cacheKey identifies the credential without holding its secret: a new
// secret for the same client id is a new key, so a replaced secret never
// reuses the old token.
func (rc ReadCredentials) cacheKey() string {
	sum := sha256.Sum256([]byte(rc.ClientID + "\x00" + string(rc.ClientSecret)))
	return hex.EncodeToString(sum[:])
}

// ReadApplication is an application as the v2 Recruiting API shows it:
// ids, status and times only (the API returns no custom attributes or
// tags, and this client keeps no candidate data).
type ReadApplication struct {
	ID          string    `json:"id"`
	CandidateID string    `json:"candidate_id"`
	JobID       string    `json:"job_id"`
	Status      string    `json:"status,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Job is a job (position) as the v2 Recruiting API lists it, published or
// not. Its ID is the job position id v1 applications name.
type Job struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Status     string `json:"status"`
	Department string `json:"department,omitempty"`
	Office     string `json:"office,omitempty"`
}

// Published reports whether the job is published on the career site.
func (j Job) Published() bool { return j.Status == "published" }

// Read-access refusal reasons (ReadAccessError.Reason).
const (
	// ReadRefusedCredentials: Personio does not know the client id and
	// secret.
	ReadRefusedCredentials = "read.credentials-refused"
	// ReadMissingScope: the credential lacks personio:recruiting:read.
	ReadMissingScope = "read.missing-scope"
	// ReadUnavailable: the account does not offer the v2 Recruiting API
	// (Personio answers 404 to its endpoints).
	ReadUnavailable = "read.unavailable"
)

// ReadAccessError is a refusal of the read credentials: unknown client id
// or secret, a missing scope, or an account without the v2 Recruiting API.
// Permanent until the customer changes the credential in Personio.
type ReadAccessError struct {
	Op     string
	Reason string
	Body   ErrorBody
}

func (e *ReadAccessError) Error() string {
	switch e.Reason {
	case ReadRefusedCredentials:
		return e.Op + ": Personio does not recognise the client id and secret"
	case ReadMissingScope:
		return e.Op + ": the API credential lacks the scope " + ScopeRecruitingRead
	default:
		return e.Op + ": Personio offers no Recruiting API v2 for this account"
	}
}

// Retryable returns false.
func (e *ReadAccessError) Retryable() bool { return false }

// tokenCache holds v2 access tokens by credential until shortly before they
// expire.
type tokenCache struct {
	mu     sync.Mutex
	tokens map[string]cachedToken
}

type cachedToken struct {
	token   Token
	expires time.Time
}

func (tc *tokenCache) get(key string, now time.Time) (Token, bool) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	t, ok := tc.tokens[key]
	if !ok || !now.Before(t.expires) {
		return "", false
	}
	return t.token, true
}

func (tc *tokenCache) put(key string, t cachedToken) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.tokens == nil {
		tc.tokens = map[string]cachedToken{}
	}
	tc.tokens[key] = t
}

func (tc *tokenCache) drop(key string) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	delete(tc.tokens, key)
}

// AccessToken obtains a v2 access token for the credential (POST
// /v2/auth/token, client credentials, scope personio:recruiting:read), or
// returns the cached one while it is valid. A refused credential or scope
// is a ReadAccessError.
//
// Personio API docs: https://developer.personio.de/reference/post_v2-auth-token
func (c *Client) AccessToken(ctx context.Context, rc ReadCredentials) (Token, error) {
	const op = "personio: obtain access token"
	if err := rc.Validate(); err != nil {
		return "", err
	}
	key := rc.cacheKey()
	if t, ok := c.tokens.get(key, time.Now()); ok {
		return t, nil
	}
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {rc.ClientID},
		"client_secret": {string(rc.ClientSecret)},
		"scope":         {ScopeRecruitingRead},
	}
	status, header, body, err := c.sendV2(ctx, op, "", http.MethodPost, "/v2/auth/token", "application/x-www-form-urlencoded", []byte(form.Encode()))
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", tokenError(op, status, header, body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := decodeJSON(body, &tr); err != nil || tr.AccessToken == "" || tr.ExpiresIn <= 0 {
		if err == nil {
			err = errors.New("no access token or expiry in answer")
		}
		return "", &UnexpectedResponseError{Op: op, StatusCode: status, Err: err}
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	c.tokens.put(key, cachedToken{token: Token(tr.AccessToken), expires: time.Now().Add(life - min(tokenMargin, life/2))})
	return Token(tr.AccessToken), nil
}

// tokenError classifies a refused token request: Personio answers 400 with
// an OAuth error code.
func tokenError(op string, status int, header http.Header, body []byte) error {
	if status != http.StatusBadRequest && status != http.StatusUnauthorized {
		return readError(op, status, header, body)
	}
	var oe struct {
		Error string `json:"error"`
	}
	_ = decodeJSON(body, &oe)
	switch oe.Error {
	case "invalid_scope":
		return &ReadAccessError{Op: op, Reason: ReadMissingScope}
	case "invalid_client", "unauthorized_client", "invalid_grant", "":
		return &ReadAccessError{Op: op, Reason: ReadRefusedCredentials}
	}
	return &UnexpectedResponseError{Op: op, StatusCode: status, Err: fmt.Errorf("token request refused: %s", oe.Error)}
}

// readError turns a non-success answer of a v2 read into the typed error
// for its status.
func readError(op string, status int, header http.Header, body []byte) error {
	switch {
	case status == http.StatusUnauthorized:
		return &ReadAccessError{Op: op, Reason: ReadRefusedCredentials, Body: ParseErrorBody(body)}
	case status == http.StatusForbidden:
		return &ReadAccessError{Op: op, Reason: ReadMissingScope, Body: ParseErrorBody(body)}
	case status == http.StatusNotFound:
		return &ReadAccessError{Op: op, Reason: ReadUnavailable, Body: ParseErrorBody(body)}
	}
	return errorFor(op, status, header, body)
}

// CheckReadAccess checks a read credential while reading as little as
// possible: an access token, then one page of one job. It returns nil when
// both work, a ReadAccessError when Personio refuses the credential, its
// scope or the endpoint, and the other typed errors otherwise.
func (c *Client) CheckReadAccess(ctx context.Context, rc ReadCredentials) error {
	_, _, err := c.jobsPage(ctx, rc, 1, "")
	return err
}

// ApplicationQuery selects applications to read.
type ApplicationQuery struct {
	// Email is the candidate's e-mail address (filter candidate.email).
	Email string
	// JobID keeps only applications for this job (filtered here: the API
	// has no job filter).
	JobID string
}

// Applications reads every application matching the query, following the
// cursor over at most 20 pages of 200.
//
// Personio API docs: https://developer.personio.de/reference/get_v2-recruiting-applications
func (c *Client) Applications(ctx context.Context, rc ReadCredentials, q ApplicationQuery) ([]ReadApplication, error) {
	const op = "personio: list applications"
	params := url.Values{"limit": {"200"}}
	if q.Email != "" {
		params.Set("candidate.email", q.Email)
	}
	var out []ReadApplication
	next := "/v2/recruiting/applications?" + params.Encode()
	for page := 0; next != "" && page < maxReadPages; page++ {
		var doc struct {
			Data []struct {
				ID        idRef     `json:"id"`
				Candidate idRef     `json:"candidate"`
				Job       idRef     `json:"job"`
				Status    string    `json:"status"`
				CreatedAt time.Time `json:"created_at"`
				UpdatedAt time.Time `json:"updated_at"`
			} `json:"_data"`
			Meta pageMeta `json:"_meta"`
		}
		if err := c.readJSON(ctx, op, rc, next, &doc); err != nil {
			return nil, err
		}
		for _, a := range doc.Data {
			if q.JobID != "" && string(a.Job) != q.JobID {
				continue
			}
			out = append(out, ReadApplication{ID: string(a.ID), CandidateID: string(a.Candidate), JobID: string(a.Job),
				Status: a.Status, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt})
		}
		next = doc.Meta.next()
	}
	return out, nil
}

// Jobs reads every job of the company, published or not, following the
// cursor over at most 20 pages of 200.
//
// Personio API docs: https://developer.personio.de/reference/get_v2-recruiting-jobs
func (c *Client) Jobs(ctx context.Context, rc ReadCredentials) ([]Job, error) {
	var out []Job
	cursor := ""
	for page := 0; page < maxReadPages; page++ {
		jobs, next, err := c.jobsPage(ctx, rc, 200, cursor)
		if err != nil {
			return nil, err
		}
		out = append(out, jobs...)
		if next == "" {
			break
		}
		cursor = next
	}
	return out, nil
}

// jobsPage reads one page of jobs; next is the path of the next page, or "".
func (c *Client) jobsPage(ctx context.Context, rc ReadCredentials, limit int, next string) ([]Job, string, error) {
	const op = "personio: list jobs"
	if next == "" {
		next = "/v2/recruiting/jobs?limit=" + strconv.Itoa(limit)
	}
	var doc struct {
		Data []struct {
			ID         idRef    `json:"id"`
			Name       string   `json:"name"`
			Status     string   `json:"status"`
			Department namedRef `json:"department"`
			Office     namedRef `json:"office"`
		} `json:"_data"`
		Meta pageMeta `json:"_meta"`
	}
	if err := c.readJSON(ctx, op, rc, next, &doc); err != nil {
		return nil, "", err
	}
	jobs := make([]Job, 0, len(doc.Data))
	for _, j := range doc.Data {
		jobs = append(jobs, Job{ID: string(j.ID), Name: j.Name, Status: j.Status, Department: j.Department.Name, Office: j.Office.Name})
	}
	return jobs, doc.Meta.next(), nil
}

// pageMeta is the _meta of a v2 page.
type pageMeta struct {
	Links struct {
		Next struct {
			Href string `json:"href"`
		} `json:"next"`
	} `json:"links"`
}

// next returns the path and query of the next page, or "" on the last.
func (m pageMeta) next() string {
	href := m.Links.Next.Href
	if href == "" {
		return ""
	}
	u, err := url.Parse(href)
	if err != nil {
		return ""
	}
	return u.RequestURI()
}

// idRef reads an id given as a JSON string or number, or an object with
// an id.
type idRef string

func (r *idRef) UnmarshalJSON(b []byte) error {
	var obj struct {
		ID scalarID `json:"id"`
	}
	if len(b) > 0 && b[0] == '{' {
		if err := decodeJSON(b, &obj); err != nil {
			return err
		}
		*r = idRef(obj.ID)
		return nil
	}
	var s scalarID
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	*r = idRef(s)
	return nil
}

// scalarID reads a JSON string or number as a string.
type scalarID string

func (s *scalarID) UnmarshalJSON(b []byte) error {
	*s = scalarID(scalarString(b))
	return nil
}

// namedRef reads {"id":…, "name":…}, or null.
type namedRef struct {
	Name string `json:"name"`
}

// readJSON GETs a v2 path with the credential's access token and decodes
// the answer. A 401 with a cached token drops it and tries once more with
// a new one (the token may have expired early).
func (c *Client) readJSON(ctx context.Context, op string, rc ReadCredentials, pathQuery string, v any) error {
	for attempt := 0; ; attempt++ {
		token, err := c.AccessToken(ctx, rc)
		if err != nil {
			return err
		}
		status, header, body, err := c.sendV2(ctx, op, token, http.MethodGet, pathQuery, "", nil)
		if err != nil {
			return err
		}
		if status == http.StatusUnauthorized && attempt == 0 {
			c.tokens.drop(rc.cacheKey())
			continue
		}
		if status != http.StatusOK {
			return readError(op, status, header, body)
		}
		if err := decodeJSON(body, v); err != nil {
			return &UnexpectedResponseError{Op: op, StatusCode: status, Err: err}
		}
		return nil
	}
}

// sendV2 sends one v2 request: a bearer token when given, no company
// header (the token names the company).
func (c *Client) sendV2(ctx context.Context, op string, token Token, method, pathQuery, contentType string, body []byte) (int, http.Header, []byte, error) {
	ctx, cancel := c.bound(ctx)
	defer cancel()
	ref, err := url.Parse(pathQuery)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s: build request: %w", op, err)
	}
	u := *c.baseURL
	u.Path = strings.TrimRight(u.Path, "/") + ref.Path
	u.RawQuery = ref.RawQuery
	req, err := http.NewRequestWithContext(ctx, method, u.String(), strings.NewReader(string(body)))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s: build request: %w", op, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+string(token))
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Personio-Partner-ID", c.partnerID)
	req.Header.Set("X-Personio-App-ID", c.appID)
	req.Header.Set("User-Agent", c.userAgent)
	return c.roundTrip(op, req)
}
