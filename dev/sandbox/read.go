package sandbox

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

// Defaults of the v2 side of Config.
const (
	// DefaultTokenTTL is how long a v2 access token lives (Personio: 24 h).
	DefaultTokenTTL = 24 * time.Hour
	// DefaultTokenRateLimit is Personio's documented limit of the v2
	// authentication endpoint: 150 token requests a minute.
	DefaultTokenRateLimit = 150
)

// ReadClient is an API credential of a company for the v2 Recruiting read
// endpoints, with the scopes the customer gave it.
type ReadClient struct {
	ID     string   `json:"id"`
	Secret string   `json:"secret"`
	Scopes []string `json:"scopes,omitempty"`
}

// issuedToken is a v2 access token the sandbox gave out.
type issuedToken struct {
	company *company
	scopes  []string
	expires time.Time
}

// candidate is a person who applied to a company, by e-mail address.
type candidate struct {
	id        string
	email     string
	first     string
	last      string
	createdAt time.Time
}

// readClient returns the company and client with the id, or nils.
func (s *Sandbox) readClient(id string) (*company, *ReadClient) {
	for _, c := range s.companies {
		for i := range c.ReadClients {
			if c.ReadClients[i].ID == id {
				return c, &c.ReadClients[i]
			}
		}
	}
	return nil, nil
}

// oauthError answers a refused token request as Personio does: 400 with an
// OAuth 2.0 error code.
func oauthError(w http.ResponseWriter, code, description string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": description})
}

// issueToken is POST /v2/auth/token (client credentials).
func (s *Sandbox) issueToken(w http.ResponseWriter, r *http.Request) {
	if !sleep(r, s.cfg.Latency) {
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, "invalid_request", "the body is not form data")
		return
	}
	id, secret, grant := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"), r.PostForm.Get("grant_type")
	if id == "" || secret == "" || grant == "" {
		s.countRead("token", http.StatusBadRequest)
		oauthError(w, "invalid_request", "grant_type, client_id and client_secret are required")
		return
	}
	if grant != "client_credentials" {
		s.countRead("token", http.StatusBadRequest)
		oauthError(w, "unsupported_grant_type", "only client_credentials is supported")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, client := s.readClient(id)
	switch {
	case client == nil:
		s.countReadLocked("token", http.StatusBadRequest)
		oauthError(w, "invalid_client", "unknown client")
		return
	case subtle.ConstantTimeCompare([]byte(secret), []byte(client.Secret)) != 1:
		s.countReadLocked("token", http.StatusBadRequest)
		oauthError(w, "unauthorized_client", "wrong client secret")
		return
	}
	now := s.cfg.Now()
	if !c.takeToken(now, s.cfg.TokenRateLimit, s.cfg.RateWindow) {
		s.countReadLocked("token", http.StatusTooManyRequests)
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	scopes := client.Scopes
	if want := strings.Fields(r.PostForm.Get("scope")); len(want) > 0 {
		for _, sc := range want {
			if !slices.Contains(client.Scopes, sc) {
				s.countReadLocked("token", http.StatusBadRequest)
				oauthError(w, "invalid_scope", "the client lacks the scope "+sc)
				return
			}
		}
		scopes = want
	}
	token := "sandbox-v2-" + newUUID()
	s.tokens[token] = issuedToken{company: c, scopes: scopes, expires: now.Add(s.cfg.TokenTTL)}
	s.countReadLocked("token", http.StatusOK)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": token, "token_type": "Bearer",
		"expires_in": int64(s.cfg.TokenTTL / time.Second), "scope": strings.Join(scopes, " "),
	})
}

// takeToken admits one token request under the limit of the v2
// authentication endpoint, as Personio documents it: 150 a minute; over
// that, requests are accepted at one a second for the next 60 s, then the
// limit is reset.
func (c *company) takeToken(now time.Time, limit int, window time.Duration) bool {
	if limit < 0 {
		return true
	}
	if now.Before(c.tokenSlowUntil) {
		if now.Sub(c.tokenSlowLast) < time.Second {
			return false
		}
		c.tokenSlowLast = now
		return true
	}
	if !c.tokenSlowUntil.IsZero() {
		c.tokenWindow, c.tokenSlowUntil = nil, time.Time{} // the slow minute is over: reset
	}
	cut := 0
	for cut < len(c.tokenWindow) && !c.tokenWindow[cut].After(now.Add(-window)) {
		cut++
	}
	c.tokenWindow = c.tokenWindow[cut:]
	if len(c.tokenWindow) >= limit {
		c.tokenSlowUntil, c.tokenSlowLast = now.Add(window), now
		return false
	}
	c.tokenWindow = append(c.tokenWindow, now)
	return true
}

// readHandler handles an authenticated v2 read for a company.
type readHandler func(w http.ResponseWriter, r *http.Request, c *company) int

// v2problem answers with the problem shape Personio's v2 API uses.
func v2problem(w http.ResponseWriter, status int, title, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	writeBody(w, map[string]any{
		"personio_trace_id": newUUID(),
		"timestamp":         time.Now().UTC().Format(time.RFC3339),
		"errors":            []map[string]string{{"title": title, "detail": detail}},
	})
}

// read wraps a v2 read with its checks: latency, the bearer token (401
// unknown or expired, 403 without personio:recruiting:read), the account's
// v2 availability (404), the company's read limit (429), injected read
// faults, then the endpoint.
func (s *Sandbox) read(endpoint string, h readHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !sleep(r, s.cfg.Latency) {
			return
		}
		status, c := s.admitRead(r)
		switch status {
		case http.StatusUnauthorized:
			v2problem(w, status, "Unauthorized", "the access token is unknown or expired")
		case http.StatusForbidden:
			v2problem(w, status, "Forbidden", "the access token lacks the scope "+personio.ScopeRecruitingRead)
		case http.StatusNotFound:
			v2problem(w, status, "Not Found", "The endpoint with "+r.URL.Path+" was not found.")
		case http.StatusTooManyRequests:
			w.WriteHeader(status)
		case http.StatusInternalServerError:
			v2problem(w, status, "Internal Server Error", "injected fault")
		}
		if status != 0 {
			s.countRead(endpoint, status)
			return
		}
		status = h(w, r, c)
		s.countRead(endpoint, status)
	}
}

// admitRead authenticates a v2 read and applies the limits and faults; it
// returns the status to refuse it with, or 0 and the company.
func (s *Sandbox) admitRead(r *http.Request) (int, *company) {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	t, ok := s.tokens[token]
	switch {
	case !ok || !now.Before(t.expires):
		return http.StatusUnauthorized, nil
	case !slices.Contains(t.scopes, personio.ScopeRecruitingRead):
		return http.StatusForbidden, nil
	case t.company.ReadUnavailable:
		return http.StatusNotFound, nil
	case now.Before(t.company.readLockedUntil):
		return http.StatusTooManyRequests, nil
	}
	c := t.company
	if s.cfg.ReadRateLimit > 0 && !c.takeRead(now, s.cfg.ReadRateLimit, s.cfg.RateWindow) {
		return http.StatusTooManyRequests, nil
	}
	f := s.cfg.ReadFaults
	x := s.rng.Float64()
	switch {
	case x < f.Error500:
		return http.StatusInternalServerError, nil
	case x < f.Error500+f.Burst429:
		burst := f.BurstFor
		if burst <= 0 {
			burst = s.cfg.Lockout
		}
		c.readLockedUntil = now.Add(burst)
		return http.StatusTooManyRequests, nil
	}
	return 0, c
}

// takeRead admits one read under the company's read limit.
func (c *company) takeRead(now time.Time, limit int, window time.Duration) bool {
	cut := 0
	for cut < len(c.readWindow) && !c.readWindow[cut].After(now.Add(-window)) {
		cut++
	}
	c.readWindow = c.readWindow[cut:]
	if len(c.readWindow) >= limit {
		return false
	}
	c.readWindow = append(c.readWindow, now)
	return true
}

// countRead counts one answered v2 request in the stats.
func (s *Sandbox) countRead(endpoint string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.countReadLocked(endpoint, status)
}

func (s *Sandbox) countReadLocked(endpoint string, status int) {
	s.stats.Requests["v2 "+endpoint+" "+strconv.Itoa(status)]++
	if status == http.StatusTooManyRequests {
		s.stats.RateLimited++
	}
	if status == http.StatusOK {
		s.stats.Reads++
	}
}

// pageParams reads limit and cursor: limit 1 to 200 (default 100), the
// cursor an opaque offset. ok is false when either is invalid.
func pageParams(r *http.Request) (limit, offset int, ok bool) {
	limit = 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return 0, 0, false
		}
		limit = n
	}
	if v := r.URL.Query().Get("cursor"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(v, "cur_"))
		if err != nil {
			return 0, 0, false
		}
		n, err := strconv.Atoi(string(b))
		if err != nil || n < 0 {
			return 0, 0, false
		}
		offset = n
	}
	return limit, offset, true
}

// writePage answers one page of items from offset, with the link to the
// next page when there is one.
func writePage[T any](w http.ResponseWriter, r *http.Request, items []T, limit, offset int) int {
	offset = min(offset, len(items))
	end := min(offset+limit, len(items))
	meta := map[string]any{}
	if end < len(items) {
		q := r.URL.Query()
		q.Set("cursor", "cur_"+base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end))))
		meta["links"] = map[string]any{"next": map[string]string{"href": r.URL.Path + "?" + q.Encode()}}
	}
	page := items[offset:end]
	if page == nil {
		page = []T{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"_data": page, "_meta": meta})
	return http.StatusOK
}

// readApplication is an application in a v2 answer.
type readApplication struct {
	ID        string            `json:"id"`
	Candidate map[string]string `json:"candidate"`
	Job       map[string]string `json:"job"`
	Status    string            `json:"status"`
	CreatedAt string            `json:"created_at"`
	UpdatedAt string            `json:"updated_at"`
}

func (c *company) asRead(a Received) readApplication {
	cand := c.candidates[normEmail(a.Application.Email)]
	at := a.ReceivedAt.UTC().Format(time.RFC3339Nano)
	return readApplication{
		ID: a.ID, Candidate: map[string]string{"id": cand.id},
		Job:    map[string]string{"id": strconv.FormatInt(a.Application.JobPositionID, 10)},
		Status: "active", CreatedAt: at, UpdatedAt: at,
	}
}

// listApplications is GET /v2/recruiting/applications: newest first,
// filtered by candidate.email and updated_at.gt or .lt.
func (s *Sandbox) listApplications(w http.ResponseWriter, r *http.Request, c *company) int {
	limit, offset, ok := pageParams(r)
	gt, lt, okTime := updatedFilter(r)
	if !ok || !okTime {
		v2problem(w, http.StatusBadRequest, "Bad Request", "invalid limit, cursor or updated_at filter")
		return http.StatusBadRequest
	}
	email := normEmail(r.URL.Query().Get("candidate.email"))
	s.mu.Lock()
	var items []readApplication
	for i := len(s.received) - 1; i >= 0; i-- {
		a := s.received[i]
		if a.CompanyID != c.ID || (email != "" && normEmail(a.Application.Email) != email) ||
			(!gt.IsZero() && !a.ReceivedAt.After(gt)) || (!lt.IsZero() && !a.ReceivedAt.Before(lt)) {
			continue
		}
		items = append(items, c.asRead(a))
	}
	s.mu.Unlock()
	return writePage(w, r, items, limit, offset)
}

// updatedFilter reads updated_at.gt and updated_at.lt, which are mutually
// exclusive.
func updatedFilter(r *http.Request) (gt, lt time.Time, ok bool) {
	q := r.URL.Query()
	var err error
	if v := q.Get("updated_at.gt"); v != "" {
		if gt, err = time.Parse(time.RFC3339, v); err != nil {
			return gt, lt, false
		}
	}
	if v := q.Get("updated_at.lt"); v != "" {
		if lt, err = time.Parse(time.RFC3339, v); err != nil {
			return gt, lt, false
		}
	}
	return gt, lt, gt.IsZero() || lt.IsZero()
}

// getApplication is GET /v2/recruiting/applications/{id}.
func (s *Sandbox) getApplication(w http.ResponseWriter, r *http.Request, c *company) int {
	id := r.PathValue("id")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.received {
		if a.CompanyID == c.ID && a.ID == id {
			writeJSON(w, http.StatusOK, c.asRead(a))
			return http.StatusOK
		}
	}
	v2problem(w, http.StatusNotFound, "Not Found", "no application "+id)
	return http.StatusNotFound
}

// listCandidates is GET /v2/recruiting/candidates, filtered by email.
func (s *Sandbox) listCandidates(w http.ResponseWriter, r *http.Request, c *company) int {
	limit, offset, ok := pageParams(r)
	if _, _, okTime := updatedFilter(r); !ok || !okTime {
		v2problem(w, http.StatusBadRequest, "Bad Request", "invalid limit, cursor or updated_at filter")
		return http.StatusBadRequest
	}
	email := normEmail(r.URL.Query().Get("email"))
	s.mu.Lock()
	var items []map[string]string
	for _, cand := range c.candidates {
		if email != "" && cand.email != email {
			continue
		}
		at := cand.createdAt.UTC().Format(time.RFC3339Nano)
		items = append(items, map[string]string{"id": cand.id, "email": cand.email, "first_name": cand.first,
			"last_name": cand.last, "created_at": at, "updated_at": at})
	}
	s.mu.Unlock()
	slices.SortFunc(items, func(a, b map[string]string) int { return strings.Compare(b["id"], a["id"]) })
	return writePage(w, r, items, limit, offset)
}

// readJob is a job in a v2 answer.
type readJob struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Status     string            `json:"status"`
	Department map[string]string `json:"department,omitempty"`
	Office     map[string]string `json:"office,omitempty"`
	CreatedAt  string            `json:"created_at"`
	UpdatedAt  string            `json:"updated_at"`
}

func (s *Sandbox) asJob(p Position) readJob {
	at := s.started.UTC().Format(time.RFC3339)
	j := readJob{ID: strconv.FormatInt(p.ID, 10), Name: p.Name, Status: "draft", CreatedAt: at, UpdatedAt: at}
	if p.Published {
		j.Status = "published"
	}
	if p.Department != "" {
		j.Department = map[string]string{"id": "dep-" + strings.ToLower(p.Department), "name": p.Department}
	}
	if p.Office != "" {
		j.Office = map[string]string{"id": "office-" + strings.ToLower(p.Office), "name": p.Office}
	}
	return j
}

// listJobs is GET /v2/recruiting/jobs: every job, published or not.
func (s *Sandbox) listJobs(w http.ResponseWriter, r *http.Request, c *company) int {
	limit, offset, ok := pageParams(r)
	if !ok {
		v2problem(w, http.StatusBadRequest, "Bad Request", "invalid limit or cursor")
		return http.StatusBadRequest
	}
	s.mu.Lock()
	items := make([]readJob, 0, len(c.positions))
	for _, p := range c.positions {
		items = append(items, s.asJob(p))
	}
	s.mu.Unlock()
	slices.SortFunc(items, func(a, b readJob) int { return strings.Compare(a.ID, b.ID) })
	return writePage(w, r, items, limit, offset)
}

// getJob is GET /v2/recruiting/jobs/{id}.
func (s *Sandbox) getJob(w http.ResponseWriter, r *http.Request, c *company) int {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	p, ok := c.positions[id]
	s.mu.Unlock()
	if err != nil || !ok {
		v2problem(w, http.StatusNotFound, "Not Found", "no job "+r.PathValue("id"))
		return http.StatusNotFound
	}
	writeJSON(w, http.StatusOK, s.asJob(p))
	return http.StatusOK
}

// noteCandidate records the applicant of a new application as a candidate
// of the company, once per e-mail address; the caller holds the mutex.
func (s *Sandbox) noteCandidate(c *company, app personio.Application, now time.Time) {
	email := normEmail(app.Email)
	if _, ok := c.candidates[email]; ok {
		return
	}
	s.nextID++
	c.candidates[email] = candidate{id: strconv.FormatInt(s.nextID, 10), email: email, first: app.FirstName, last: app.LastName, createdAt: now}
}
