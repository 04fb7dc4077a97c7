package sandbox

import (
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

// company is a seeded company with what it has received. Its fields are
// guarded by the Sandbox's mutex, except the seed data, which never
// changes.
type company struct {
	Company
	positions map[int64]Position
	channels  map[int64]bool
	postings  map[string]Posting
	attrs     map[string]CustomAttribute
	phases    map[int64]bool

	documents   map[string]personio.Document
	applicants  map[applicantKey]bool
	rotations   int         // times the token was regenerated
	window      []time.Time // times of the requests in the current rate window
	lockedUntil time.Time

	candidates      map[string]candidate // by normalised e-mail
	tokenWindow     []time.Time          // times of the token requests in the window
	tokenSlowUntil  time.Time            // over the token limit: one a second until then
	tokenSlowLast   time.Time            // the last token request admitted while slow
	readWindow      []time.Time          // times of the v2 reads in the window
	readLockedUntil time.Time            // end of a burst of 429s on reads
}

type applicantKey struct {
	position int64
	email    string
}

func newCompany(c Company) *company {
	cs := &company{
		Company:    c,
		positions:  map[int64]Position{},
		channels:   map[int64]bool{},
		postings:   map[string]Posting{},
		attrs:      map[string]CustomAttribute{},
		phases:     map[int64]bool{},
		documents:  map[string]personio.Document{},
		applicants: map[applicantKey]bool{},
		candidates: map[string]candidate{},
	}
	for _, p := range c.Positions {
		cs.positions[p.ID] = p
	}
	for _, ch := range c.Channels {
		cs.channels[ch] = true
	}
	for _, p := range c.Postings {
		cs.postings[p.ID] = p
	}
	for _, a := range c.Attributes {
		cs.attrs[a.ID] = a
	}
	for _, p := range c.CustomPhases {
		cs.phases[p] = true
	}
	return cs
}

// disabledReason is the 403 reason for a company without the features, or
// "".
func (c *company) disabledReason() string {
	switch {
	case c.RecruitingDisabled:
		return personio.ReasonRecruitingDisabled
	case c.PublicAPIDisabled:
		return personio.ReasonPublicAPIDisabled
	}
	return ""
}

// take admits one request under the rate limit: at most limit requests in
// any window; the request that goes over locks the company out for
// lockout. It reports whether the request may go on.
func (c *company) take(now time.Time, limit int, window, lockout time.Duration) bool {
	if now.Before(c.lockedUntil) {
		return false
	}
	cut := 0
	for cut < len(c.window) && !c.window[cut].After(now.Add(-window)) {
		cut++
	}
	c.window = c.window[cut:]
	if len(c.window) >= limit {
		c.lockedUntil = now.Add(lockout)
		return false
	}
	c.window = append(c.window, now)
	return true
}

func newUUID() string { return uuid.NewString() }

func itoa(n int) string { return strconv.Itoa(n) }

func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
