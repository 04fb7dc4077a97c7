package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// tenant is one customer: a workspace with its connection to its own
// company at Personio, its funnel's integration and its applicants.
type tenant struct {
	ws, funnel, company, subdomain string
	position                       int64
	// tag names its events (evt_<tag>NNN); first is its first
	// applicant's number (applicants are numbered across tenants).
	tag    string
	first  int
	events int
	conn   string
	token  string
	// createdAt is when its connection was created.
	createdAt time.Time
	// unpublished: the script unpublished the position at Personio.
	unpublished bool
	// rotatedAt is when its token was rotated at Personio with no new
	// credentials saved after (zero: never).
	rotatedAt time.Time
	// sites are its further integrations' career sites, each its own
	// feed, answering slowly (the noisy workspace's; none elsewhere).
	sites []string
}

// eventID is the id of applicant n's event.
func (t *tenant) eventID(n int) string { return fmt.Sprintf("evt_%s%03d", t.tag, n) }

// The other tenants: quiet is a workspace whose token is rotated at
// Personio and whose customer is away (no new credentials in the run);
// noisy one with many switched-on integrations on career sites of their
// own, whose feeds do not answer (each read waits the client's timeout,
// and the feed stays due), in some seeds.
const (
	otherEvents = 2
	// noisySites is how many more integrations the noisy workspace has,
	// in noisyShare of the seeds: twice the watch's share of a
	// workspace a run (WatchFeedsPerWorkspace), and, read one after
	// another at the client's timeout each, more than a run's time
	// (WatchTimeout).
	noisySites = 20
	noisyShare = 0.25
)

// tenants are the run's customers: the primary one (whose script is the
// customer's of script.go), the noisy one and the quiet one.
func tenants(noisy bool) []*tenant {
	ts := []*tenant{
		{ws: ws, funnel: funnel, company: company, subdomain: subdomain, position: position, tag: "sim", token: "token-0"},
		{ws: "ws_noisy", funnel: "fn_noisy", company: "43", subdomain: "noisy", position: 2001, tag: "noisy", first: 100, events: otherEvents, token: "token-43"},
		{ws: "ws_quiet", funnel: "fn_quiet", company: "44", subdomain: "quiet", position: 3001, tag: "quiet", first: 200, events: otherEvents, token: "token-44"},
	}
	if noisy {
		for k := range noisySites {
			ts[1].sites = append(ts[1].sites, fmt.Sprintf("noisy-site-%02d", k))
		}
	}
	return ts
}

// companies are the sandbox's: each tenant's, and one for each of the
// noisy workspace's career sites (whose feed lists its position).
func companies(ts []*tenant) []sandbox.Company {
	var out []sandbox.Company
	for _, t := range ts {
		out = append(out, sandbox.Company{ID: t.company, Token: t.token, Subdomain: t.subdomain,
			Positions: []sandbox.Position{{ID: t.position, Name: "Office Manager", Published: true}}})
		for k, site := range t.sites {
			out = append(out, sandbox.Company{ID: site, Token: "token-" + site, Subdomain: site,
				Positions: []sandbox.Position{{ID: t.position + int64(k) + 1, Name: "Clerk", Published: true}}})
		}
	}
	return out
}

// addSites writes the noisy workspace's further integrations, one a
// funnel, each naming its career site, as the editor saves them (the
// editor's own calls are the primary tenant's to make: these are the
// workspace's state as the run starts).
func (w *world) addSites(ctx context.Context, t *tenant) error {
	st := store.New(w.db, table, w.set.Retention, store.WithClock(w.s.Now))
	for k, site := range t.sites {
		in := store.Integration{WorkspaceID: t.ws, FunnelID: fmt.Sprintf("%s_%02d", t.funnel, k), ConnectionID: t.conn,
			JobPositionID: t.position + int64(k) + 1, Mapping: mappingDoc, Enabled: true, CareerSite: site}
		if _, err := st.PutIntegration(ctx, in); err != nil {
			return fmt.Errorf("sim: the noisy workspace's integration %d: %w", k, err)
		}
	}
	return nil
}

// tenantOf is the tenant of an event id.
func (w *world) tenantOf(id string) *tenant {
	if t := w.ledger.tenantOf[id]; t != nil {
		return t
	}
	return w.tenants[0]
}

// companies are the tenants' companies at Personio.
func (w *world) companies() []string {
	out := make([]string, len(w.tenants))
	for i, t := range w.tenants {
		out[i] = t.company
	}
	return out
}

// watchChecked notes a credential check of company's reaching Personio,
// when the watch asks it.
func (w *world) watchChecked(ctx context.Context, company string) {
	if a, ok := ctx.Value(actorKey{}).(*actor); ok && a.name == "watch" {
		w.checked[company] = w.s.Now()
	}
}
