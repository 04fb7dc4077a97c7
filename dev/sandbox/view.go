package sandbox

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

// maxRequestLog bounds the request log kept for the view.
const maxRequestLog = 200_000

// Received is an application the sandbox accepted.
type Received struct {
	// ID is Personio's application id, as the v2 API shows it.
	ID         string    `json:"id"`
	CompanyID  string    `json:"company_id"`
	ReceivedAt time.Time `json:"received_at"`
	// Phase is where the application was created: "system:<id>" or
	// "custom:<id>", or "" for the position's initial phase.
	Phase       string               `json:"phase,omitempty"`
	Application personio.Application `json:"application"`
}

// Request is one API request as the sandbox answered it.
type Request struct {
	At        time.Time `json:"at"`
	Endpoint  string    `json:"endpoint"` // applications or documents
	CompanyID string    `json:"company_id,omitempty"`
	Status    int       `json:"status"`
	Reasons   []string  `json:"reasons,omitempty"`
	Fault     string    `json:"fault,omitempty"` // 500, slow, drop, 429 (the start of a burst)
}

// Stats counts what the sandbox answered.
type Stats struct {
	// Requests counts API requests by "endpoint status", e.g.
	// "applications 201".
	Requests map[string]int `json:"requests"`
	// Reasons counts every reason code given.
	Reasons map[string]int `json:"reasons"`
	// Faults counts injected faults by kind.
	Faults map[string]int `json:"faults"`
	// RateLimited counts 429 answers; OverIPLimit those of them that went
	// over the limit of one IP address.
	RateLimited int `json:"rate_limited"`
	OverIPLimit int `json:"over_ip_limit"`
	// Applications and Documents count what was accepted.
	Applications int `json:"applications"`
	Documents    int `json:"documents"`
	// Reads counts v2 requests answered 200 (tokens and reads).
	Reads int `json:"reads"`
}

func newStats() Stats {
	return Stats{Requests: map[string]int{}, Reasons: map[string]int{}, Faults: map[string]int{}}
}

var faultNames = map[fault]string{fault500: "500", faultSlow: "slow", faultDrop: "drop", fault429: "429", faultLost: "lost"}

// record counts one answered request.
func (s *Sandbox) record(endpoint, companyID string, status int, reasons []string, f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests[endpoint+" "+strconv.Itoa(status)]++
	for _, r := range reasons {
		s.stats.Reasons[r]++
	}
	if f != faultNone {
		s.stats.Faults[faultNames[f]]++
	}
	switch {
	case status == http.StatusTooManyRequests:
		s.stats.RateLimited++
	case status == http.StatusCreated:
		s.stats.Applications++
	}
	if len(s.log) < maxRequestLog {
		s.log = append(s.log, Request{At: s.cfg.Now(), Endpoint: endpoint, CompanyID: companyID, Status: status, Reasons: reasons, Fault: faultNames[f]})
	}
}

// Applications returns the applications accepted for a company ("" for
// every company), oldest first.
func (s *Sandbox) Applications(companyID string) []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Received
	for _, r := range s.received {
		if companyID == "" || r.CompanyID == companyID {
			out = append(out, r)
		}
	}
	return out
}

// Requests returns the API requests answered for a company ("" for all),
// oldest first.
func (s *Sandbox) Requests(companyID string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, r := range s.log {
		if companyID == "" || r.CompanyID == companyID {
			out = append(out, r)
		}
	}
	return out
}

// Arrived is how many applications the sandbox accepted, every company's
// (len(Applications("")) without copying them).
func (s *Sandbox) Arrived() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.received)
}

// Stats returns a copy of the counters.
func (s *Sandbox) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := newStats()
	for k, v := range s.stats.Requests {
		out.Requests[k] = v
	}
	for k, v := range s.stats.Reasons {
		out.Reasons[k] = v
	}
	for k, v := range s.stats.Faults {
		out.Faults[k] = v
	}
	out.RateLimited, out.OverIPLimit, out.Applications, out.Documents = s.stats.RateLimited, s.stats.OverIPLimit, s.stats.Applications, s.stats.Documents
	return out
}

func (s *Sandbox) viewApplications(w http.ResponseWriter, r *http.Request) {
	apps := s.Applications(r.URL.Query().Get("company"))
	if apps == nil {
		apps = []Received{}
	}
	writeJSON(w, http.StatusOK, apps)
}

func (s *Sandbox) viewRequests(w http.ResponseWriter, r *http.Request) {
	reqs := s.Requests(r.URL.Query().Get("company"))
	if reqs == nil {
		reqs = []Request{}
	}
	writeJSON(w, http.StatusOK, reqs)
}

func (s *Sandbox) viewStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

// Companies returns the ids of the seeded companies, sorted.
func (s *Sandbox) Companies() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := make([]string, 0, len(s.companies))
	for id := range s.companies {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
