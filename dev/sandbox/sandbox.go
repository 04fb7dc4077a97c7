// Package sandbox is a local Personio Recruiting API that follows the
// published contract strictly: authentication before validation, every
// validation rule and reason code of the spec, one application per e-mail
// and position, document limits, the per-company rate limit with its
// lock-out, and the career site's XML feed. It serves the read-only v2
// Recruiting API too (client-credential tokens with scopes and expiry,
// applications with their ids, candidates and jobs, cursor pagination).
// Latency and faults (500s, slow answers, dropped connections, lost
// answers to created applications) can be injected, and a read-only view
// shows what it received.
//
// It is for tests, the local stack (`make run`, `make sandbox`) and the
// load runs: a Personio to send real-shaped requests to without a
// Personio account.
package sandbox

import (
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

// Defaults of Config.
const (
	DefaultRateLimit  = 20
	DefaultIPLimit    = 2000
	DefaultRateWindow = 60 * time.Second
	DefaultLockout    = 60 * time.Second
	DefaultSlowDelay  = 30 * time.Second
)

// Config configures a Sandbox. The zero value is Personio's behaviour with
// an empty seed.
type Config struct {
	Seed Seed
	// RateLimit is the number of requests a company may make in any
	// RateWindow, both endpoints together (default 20; negative: no limit).
	RateLimit int
	// IPLimit is the number of requests one IP address may make in any
	// RateWindow, across companies (default 2,000; negative: no limit).
	// A request over it is answered 429 and not counted.
	IPLimit int
	// RateWindow is the sliding window of the rate limits (default 60 s).
	RateWindow time.Duration
	// Lockout is how long every request of a company answers 429 after it
	// went over the limit (default 60 s).
	Lockout time.Duration
	// Latency is added to every API answer.
	Latency time.Duration
	// Faults are injected at random into API requests that passed
	// authentication and the rate limit.
	Faults Faults
	// RandSeed seeds the fault dice, so runs repeat (default 1).
	RandSeed uint64
	// Now is the clock (default time.Now); application dates are compared
	// with its date in UTC.
	Now func() time.Time
	// Logger receives one line per request (default: discard).
	Logger *slog.Logger

	// LoseAnswers is the share (0 to 1) of created applications (v1, 201)
	// whose answer is lost: the application is created, then the
	// connection is closed with no answer, so the client cannot know the
	// outcome.
	LoseAnswers float64
	// TokenTTL is how long a v2 access token lives (default 24 h).
	TokenTTL time.Duration
	// TokenRateLimit is the number of v2 token requests a company's
	// credentials may make in any RateWindow (default 150, Personio's
	// documented limit; negative: no limit).
	TokenRateLimit int
	// ReadRateLimit is the number of v2 reads a company may make in any
	// RateWindow (0: no limit; Personio documents none for the v2
	// Recruiting endpoints).
	ReadRateLimit int
	// ReadFaults are injected at random into authenticated v2 reads; only
	// Error500, Burst429 and BurstFor apply.
	ReadFaults Faults
}

// Faults are the shares (0 to 1) of API requests that fail on purpose.
type Faults struct {
	// Error500 requests are answered 500 before anything is processed.
	Error500 float64 `json:"error_500"`
	// Slow requests are processed, then answered after SlowDelay, past a
	// client's timeout: the client cannot know the outcome.
	Slow float64 `json:"slow"`
	// SlowDelay is how late a slow answer comes (default 30 s).
	SlowDelay time.Duration `json:"slow_delay"`
	// Drop requests are processed, then the connection is closed with no
	// answer: the client cannot know the outcome.
	Drop float64 `json:"drop"`
	// Burst429 requests start a burst of 429s: the request and every
	// request of its company for BurstFor are answered 429 before
	// anything is processed, however few requests the company made.
	Burst429 float64 `json:"burst_429"`
	// BurstFor is how long a burst lasts (default: the Lockout).
	BurstFor time.Duration `json:"burst_for"`
}

// Sandbox is the local Personio. It is an http.Handler.
type Sandbox struct {
	cfg Config
	mux *http.ServeMux

	mu          sync.Mutex
	companies   map[string]*company
	bySubdomain map[string]*company
	rng         *rand.Rand
	faults      Faults
	received    []Received
	log         []Request
	stats       Stats
	// byIP holds the times of each address's admitted requests in the
	// last window.
	byIP map[string][]time.Time
	// tokens are the v2 access tokens given out.
	tokens map[string]issuedToken
	// nextID numbers applications and candidates.
	nextID int64
	// started is when the sandbox was built (the jobs' creation time).
	started time.Time
}

// withDefaults fills in the zero fields of the config.
func (cfg Config) withDefaults() Config {
	if cfg.RateLimit == 0 {
		cfg.RateLimit = DefaultRateLimit
	}
	if cfg.IPLimit == 0 {
		cfg.IPLimit = DefaultIPLimit
	}
	if cfg.RateWindow <= 0 {
		cfg.RateWindow = DefaultRateWindow
	}
	if cfg.Lockout <= 0 {
		cfg.Lockout = DefaultLockout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RandSeed == 0 {
		cfg.RandSeed = 1
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = DefaultTokenTTL
	}
	if cfg.TokenRateLimit == 0 {
		cfg.TokenRateLimit = DefaultTokenRateLimit
	}
	return cfg
}

// New builds a Sandbox from the config.
func New(cfg Config) (*Sandbox, error) {
	if err := cfg.Seed.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Sandbox{
		cfg:         cfg,
		companies:   map[string]*company{},
		bySubdomain: map[string]*company{},
		rng:         rand.New(rand.NewPCG(cfg.RandSeed, cfg.RandSeed^0x9e3779b97f4a7c15)),
		stats:       newStats(),
		byIP:        map[string][]time.Time{},
		tokens:      map[string]issuedToken{},
		nextID:      500000,
		started:     cfg.Now(),
	}
	s.setFaultsLocked(cfg.Faults)
	for _, c := range cfg.Seed.Companies {
		cs := newCompany(c)
		s.companies[c.ID] = cs
		if c.Subdomain != "" {
			s.bySubdomain[strings.ToLower(c.Subdomain)] = cs
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/recruiting/applications", s.api("applications", s.createApplication))
	mux.HandleFunc("POST /v1/recruiting/applications/documents", s.api("documents", s.uploadDocument))
	mux.HandleFunc("POST /v2/auth/token", s.issueToken)
	mux.HandleFunc("GET /v2/recruiting/applications", s.read("applications", s.listApplications))
	mux.HandleFunc("GET /v2/recruiting/applications/{id}", s.read("application", s.getApplication))
	mux.HandleFunc("GET /v2/recruiting/candidates", s.read("candidates", s.listCandidates))
	mux.HandleFunc("GET /v2/recruiting/jobs", s.read("jobs", s.listJobs))
	mux.HandleFunc("GET /v2/recruiting/jobs/{id}", s.read("job", s.getJob))
	mux.HandleFunc("GET /xml", s.feedByHost)
	mux.HandleFunc("GET /careers/{subdomain}/xml", s.feedByPath)
	mux.HandleFunc("GET /_sandbox/applications", s.viewApplications)
	mux.HandleFunc("GET /_sandbox/stats", s.viewStats)
	mux.HandleFunc("GET /_sandbox/requests", s.viewRequests)
	mux.HandleFunc("GET /_sandbox/companies/{id}", s.viewCompany)
	mux.HandleFunc("POST /_sandbox/companies/{id}/rotate-token", s.rotateToken)
	mux.HandleFunc("POST /_sandbox/companies/{id}/positions/{position}/{state}", s.setPublished)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, http.StatusNotFound, "Not Found", "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	s.mux = mux
	return s, nil
}

// ServeHTTP answers one request.
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// SetFaults changes the injected faults while the sandbox runs.
func (s *Sandbox) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setFaultsLocked(f)
}

// SetReadFaults changes the faults injected into v2 reads while the
// sandbox runs (Config.ReadFaults).
func (s *Sandbox) SetReadFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.ReadFaults = f
}

func (s *Sandbox) setFaultsLocked(f Faults) {
	if f.SlowDelay <= 0 {
		f.SlowDelay = DefaultSlowDelay
	}
	s.faults = f
}

// handlerFunc handles an authenticated API request for a company. It
// returns the status it answered and the reason codes it gave, for the
// stats.
type handlerFunc func(w http.ResponseWriter, r *http.Request, c *company) (status int, reasons []string)

// fault is what the dice chose for one request.
type fault int

const (
	faultNone fault = iota
	fault500
	faultSlow
	faultDrop
	fault429
	// faultLost is a created application whose answer is lost
	// (Config.LoseAnswers).
	faultLost
)

// api wraps an endpoint with Personio's order of checks: latency, the
// address's limit (429), authentication (401), the company's rate limit
// (429), injected faults, the company's features (403), then the endpoint
// itself.
func (s *Sandbox) api(endpoint string, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !sleep(r, s.cfg.Latency) {
			return
		}
		if !s.admitAddress(r) {
			s.record(endpoint, "", http.StatusTooManyRequests, nil, faultNone)
			s.mu.Lock()
			s.stats.OverIPLimit++
			s.mu.Unlock()
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		c := s.authenticate(r)
		if c == nil {
			s.record(endpoint, "", http.StatusUnauthorized, nil, faultNone)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		f, limited := s.admit(c)
		if limited {
			s.record(endpoint, c.ID, http.StatusTooManyRequests, nil, f)
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		if f == fault500 {
			s.record(endpoint, c.ID, http.StatusInternalServerError, nil, f)
			writeProblem(w, http.StatusInternalServerError, "Internal Server Error", "injected fault")
			return
		}
		rec := &recorder{ResponseWriter: w, header: http.Header{}}
		var status int
		var reasons []string
		if reason := c.disabledReason(); reason != "" {
			status, reasons = http.StatusForbidden, []string{reason}
			writeProblem(rec, status, "Forbidden", reason)
		} else {
			status, reasons = h(rec, r, c)
		}
		if endpoint == "applications" && status == http.StatusCreated && s.loseAnswer() {
			f = faultLost
		}
		s.record(endpoint, c.ID, status, reasons, f)
		switch f {
		case faultDrop, faultLost:
			if hj, ok := w.(http.Hijacker); ok {
				if conn, _, err := hj.Hijack(); err == nil {
					_ = conn.Close()
					return
				}
			}
		case faultSlow:
			if !sleep(r, s.currentFaults().SlowDelay) {
				return
			}
		}
		rec.flush()
	}
}

// loseAnswer rolls the dice of Config.LoseAnswers.
func (s *Sandbox) loseAnswer() bool {
	if s.cfg.LoseAnswers <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.Float64() < s.cfg.LoseAnswers
}

func (s *Sandbox) currentFaults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// authenticate returns the company whose id and token the request carries,
// or nil.
func (s *Sandbox) authenticate(r *http.Request) *company {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	id := r.Header.Get("X-Company-ID")
	if !ok || token == "" || id == "" {
		return nil
	}
	s.mu.Lock()
	c := s.companies[id]
	var want string
	if c != nil {
		want = c.Token
	}
	s.mu.Unlock()
	if c == nil || subtle.ConstantTimeCompare([]byte(token), []byte(want)) != 1 {
		return nil
	}
	return c
}

// admitAddress applies the limit on all requests from one IP address,
// across companies (Personio's API terms: 2,000 a minute).
func (s *Sandbox) admitAddress(r *http.Request) bool {
	if s.cfg.IPLimit < 0 {
		return true
	}
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		ip = r.RemoteAddr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	times := s.byIP[ip]
	cut := 0
	for cut < len(times) && !times[cut].After(now.Add(-s.cfg.RateWindow)) {
		cut++
	}
	times = times[cut:]
	if len(times) >= s.cfg.IPLimit {
		s.byIP[ip] = times
		return false
	}
	s.byIP[ip] = append(times, now)
	return true
}

// admit applies the company's rate limit and rolls the fault dice.
func (s *Sandbox) admit(c *company) (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	if now.Before(c.lockedUntil) { // a lock-out or a burst of 429s
		return faultNone, true
	}
	if s.cfg.RateLimit > 0 && !c.take(now, s.cfg.RateLimit, s.cfg.RateWindow, s.cfg.Lockout) {
		return faultNone, true
	}
	f := s.faults
	x := s.rng.Float64()
	switch {
	case x < f.Error500:
		return fault500, false
	case x < f.Error500+f.Slow:
		return faultSlow, false
	case x < f.Error500+f.Slow+f.Drop:
		return faultDrop, false
	case x < f.Error500+f.Slow+f.Drop+f.Burst429:
		burst := f.BurstFor
		if burst <= 0 {
			burst = s.cfg.Lockout
		}
		c.lockedUntil = now.Add(burst)
		return fault429, true
	}
	return faultNone, false
}

// sleep waits d or until the client goes away; it reports whether to go on.
func sleep(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// recorder holds an answer back, so that a fault can drop or delay it.
type recorder struct {
	http.ResponseWriter
	header http.Header
	status int
	body   []byte
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body = append(r.body, b...)
	return len(b), nil
}
func (r *recorder) flush() {
	for k, v := range r.header {
		r.ResponseWriter.Header()[k] = v
	}
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.ResponseWriter.WriteHeader(r.status)
	_, _ = r.ResponseWriter.Write(r.body)
}

// errorItem is one entry of an error_response, in either shape.
type errorItem struct {
	Field  string            `json:"field,omitempty"`
	Errors []personio.Reason `json:"errors,omitempty"`
	ID     string            `json:"id,omitempty"`
	Status string            `json:"status,omitempty"`
	Title  string            `json:"title,omitempty"`
	Detail string            `json:"detail,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	writeBody(w, v)
}

// writeBody writes v as JSON after the status line.
func writeBody(w http.ResponseWriter, v any) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeProblem answers with the problem-shaped error_response.
func writeProblem(w http.ResponseWriter, status int, title, detail string) {
	writeJSON(w, status, map[string][]errorItem{"errors": {{
		ID: newUUID(), Status: itoa(status), Title: title, Detail: detail,
	}}})
}

// writeFieldErrors answers with the field-shaped error_response.
func writeFieldErrors(w http.ResponseWriter, status int, errs fieldErrors) {
	items := make([]errorItem, 0, len(errs))
	for _, f := range errs {
		items = append(items, errorItem{Field: f.Field, Errors: f.Reasons})
	}
	writeJSON(w, status, map[string][]errorItem{"errors": items})
}

// RotateToken gives a company a new token and returns it, as a customer
// who regenerates the access token in Personio does: the old one stops
// working at once. An unknown company gives "".
func (s *Sandbox) RotateToken(company string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.companies[company]
	if c == nil {
		return ""
	}
	c.Token = "sandbox-token-" + c.ID + "-" + newUUID()[:8]
	c.rotations++
	return c.Token
}

// TokenState is what Personio's settings show of a company's recruiting
// access token: the token, and how often it was regenerated since the
// sandbox started (0: the seed's).
type TokenState struct {
	CompanyID string `json:"company_id"`
	Token     string `json:"token"`
	Rotations int    `json:"rotations"`
}

// Token returns a company's token state; ok is false for a company the
// sandbox does not have.
func (s *Sandbox) Token(company string) (TokenState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.companies[company]
	if c == nil {
		return TokenState{}, false
	}
	return TokenState{CompanyID: c.ID, Token: c.Token, Rotations: c.rotations}, true
}

// viewCompany answers GET /_sandbox/companies/{id}: the company's current
// token, as a customer copies it from Personio's settings (help article,
// step 5), read-only like the sandbox's other views.
func (s *Sandbox) viewCompany(w http.ResponseWriter, r *http.Request) {
	st, ok := s.Token(r.PathValue("id"))
	if !ok {
		writeProblem(w, http.StatusNotFound, "Not Found", "no such company")
		return
	}
	writeJSON(w, http.StatusOK, st)
}

// SetPublished publishes or unpublishes one of a company's job positions,
// as a recruiter does in Personio: the career site's feed lists it or not,
// and applications for it are taken or refused (errors.job-position.not-
// published). It reports whether the company has the position.
func (s *Sandbox) SetPublished(company string, position int64, published bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.companies[company]
	if c == nil {
		return false
	}
	p, ok := c.positions[position]
	if !ok {
		return false
	}
	p.Published = published
	c.positions[position] = p
	return true
}

// setPublished is SetPublished over HTTP: POST
// /_sandbox/companies/{id}/positions/{position}/publish or …/unpublish.
func (s *Sandbox) setPublished(w http.ResponseWriter, r *http.Request) {
	position, err := strconv.ParseInt(r.PathValue("position"), 10, 64)
	state := r.PathValue("state")
	if err != nil || (state != "publish" && state != "unpublish") {
		writeProblem(w, http.StatusNotFound, "Not Found", "POST /_sandbox/companies/{id}/positions/{position}/publish or /unpublish")
		return
	}
	if !s.SetPublished(r.PathValue("id"), position, state == "publish") {
		writeProblem(w, http.StatusNotFound, "Not Found", "no such company or position")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"company_id": r.PathValue("id"), "position_id": position, "published": state == "publish"})
}

// rotateToken is RotateToken over HTTP, the sandbox's only control
// endpoint, for tests and demos.
func (s *Sandbox) rotateToken(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	token := s.RotateToken(id)
	if token == "" {
		writeProblem(w, http.StatusNotFound, "Not Found", "no such company")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"company_id": id, "token": token})
}
