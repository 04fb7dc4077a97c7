package sandbox

import (
	"encoding/xml"
	"net/http"
	"slices"
	"strings"

	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

// feedByHost is GET /xml on a career-site host: the subdomain is the first
// label of the Host header (acme.jobs.personio.de, acme.localhost).
func (s *Sandbox) feedByHost(w http.ResponseWriter, r *http.Request) {
	host := r.Host
	if i := strings.LastIndexByte(host, ':'); i > strings.LastIndexByte(host, ']') {
		host = host[:i]
	}
	sub, _, _ := strings.Cut(host, ".")
	s.feed(w, r, sub)
}

// feedByPath is GET /careers/{subdomain}/xml, for clients that cannot use
// a host per company (WithFeedURL("http://127.0.0.1:8090/careers/{subdomain}/xml")).
func (s *Sandbox) feedByPath(w http.ResponseWriter, r *http.Request) {
	s.feed(w, r, r.PathValue("subdomain"))
}

// feed answers the published positions of the company at the subdomain, or
// 404 when no company has a feed there.
func (s *Sandbox) feed(w http.ResponseWriter, r *http.Request, subdomain string) {
	lang := r.URL.Query().Get("language")
	if !slices.Contains(personio.FeedLanguages, lang) {
		http.Error(w, "language must be one of de, en, fr, es, nl, it, pt", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	c := s.bySubdomain[strings.ToLower(subdomain)]
	var published []Position
	if c != nil {
		for _, p := range c.Positions {
			if cur := c.positions[p.ID]; cur.Published {
				published = append(published, cur)
			}
		}
	}
	s.mu.Unlock()
	if c == nil {
		http.Error(w, "no career site feed here", http.StatusNotFound)
		return
	}
	feed := personio.Feed{}
	for _, p := range published {
		feed.Positions = append(feed.Positions, personio.Position{
			ID: p.ID, Name: p.Name, Office: p.Office, Department: p.Department,
			EmploymentType: "permanent", Schedule: "full-time", Seniority: "experienced",
			YearsOfExperience: "2-5", CreatedAt: "2026-01-05T09:00:00+0100",
			Descriptions: []personio.JobDescription{{Name: "Description", Value: p.Name + " at " + p.Office}},
		})
	}
	out, err := xml.MarshalIndent(feed, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(out)
}
