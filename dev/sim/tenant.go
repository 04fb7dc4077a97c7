package sim

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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
// when the watch asks it, or the editor as the customer saves
// credentials (the connection's last check then, from which the watch
// counts its interval).
func (w *world) watchChecked(ctx context.Context, company string) {
	if a, ok := ctx.Value(actorKey{}).(*actor); ok && (a.name == "watch" || a.name == "editor") {
		w.checked[company] = w.s.Now()
	}
}

// livenessBound is how long company's connection may go without a
// credential check, from the watch's documented bounds: its
// HealthInterval and a tick, after which it is overdue and due in every
// run, and a tick for the next run to start; and a tick more for each
// watch run that crashed from last on (a Lambda instance that died; a run
// that times out is no excuse: the watch bounds its own runs), and for
// each of the watch's checks of company's credentials from last on whose
// answer never came (a 500, a lost answer): such a check learns nothing
// ("Personio unreachable: nothing learnt" in package watch), leaves the
// connection's last check as it was, and the connection is due again in
// the next run, as what a run left undone is.
func (w *world) livenessBound(company string, last time.Time) time.Duration {
	n := since(w.crashed, last) + since(w.unanswered[company], last)
	return w.set.HealthInterval + time.Duration(2+n)*w.set.WatchTick
}

// since counts the times at or after last.
func since(ts []time.Time, last time.Time) int {
	n := 0
	for _, at := range ts {
		if !at.Before(last) {
			n++
		}
	}
	return n
}

// watchUnanswered notes a credential check of company's by the watch
// whose answer never came.
func (w *world) watchUnanswered(ctx context.Context, company string) {
	if a, ok := ctx.Value(actorKey{}).(*actor); ok && a.name == "watch" {
		w.unanswered[company] = append(w.unanswered[company], w.s.Now())
	}
}

// noteCrash notes a watch run that crashed, when its actor did.
func (w *world) noteCrash(ctx context.Context) {
	if a, ok := ctx.Value(actorKey{}).(*actor); ok && a.crashed && !a.timedOut {
		w.crashed = append(w.crashed, w.s.Now())
	}
}

// liveness holds the watch's liveness: every tenant's connection has its
// credentials checked (by the watch, or as the customer saves them) at
// least once every livenessBound,
// and one whose token was rotated at Personio (no new credentials since)
// is marked needs_attention within livenessBound of the rotation.
func (w *world) liveness() []string {
	now := w.s.Now()
	var v []string
	for _, t := range w.tenants {
		if t.conn == "" {
			continue
		}
		last := t.createdAt
		if c := w.checked[t.company]; c.After(last) {
			last = c
		}
		if bound := w.livenessBound(t.company, last); now.Sub(last) > bound {
			v = append(v, fmt.Sprintf("the watch's liveness: %s's credentials were not checked from %s to %s (bound %s)",
				t.ws, last.Format("15:04:05.000"), now.Format("15:04:05.000"), bound))
		}
		if bound := w.livenessBound(t.company, t.rotatedAt); !t.rotatedAt.IsZero() && now.Sub(t.rotatedAt) > bound && w.connectionStatus(t) != store.ConnectionNeedsAttention {
			v = append(v, fmt.Sprintf("the watch's liveness: %s's token was rotated at Personio at %s; at %s its connection is %q, not needs_attention (bound %s)",
				t.ws, t.rotatedAt.Format("15:04:05.000"), now.Format("15:04:05.000"), w.connectionStatus(t), bound))
		}
	}
	return v
}

// connectionStatus is the tenant's connection's status as the table has
// it ("" if it has none).
func (w *world) connectionStatus(t *tenant) string {
	for _, k := range w.tv.items[t.conn] {
		sk, _ := k.it["sk"].(*types.AttributeValueMemberS)
		st, _ := k.it["status"].(*types.AttributeValueMemberS)
		if sk != nil && st != nil && sk.Value == "CONN#"+t.conn {
			return st.Value
		}
	}
	return ""
}

// isolated holds "one workspace never sees another's data": every
// application at a tenant's company comes from an event of that tenant's
// workspace.
func (w *world) isolated() []string {
	var v []string
	for _, a := range w.pv.apps {
		id := eventOf(a.Application.Tags)
		if t := w.ledger.tenantOf[id]; t != nil && a.CompanyID != t.company {
			v = append(v, fmt.Sprintf("one workspace never sees another's data: %s of %s reached Personio at company %s, not %s",
				id, t.ws, a.CompanyID, t.company))
		}
	}
	return v
}

// isolatedTable holds it for the table at the end: every item of a
// tenant's event (its record, its kept event) is in its workspace's
// partition.
func (w *world) isolatedTable() []string {
	var v []string
	for _, id := range sortedKeys(w.ledger.tenantOf) {
		t := w.ledger.tenantOf[id]
		for _, k := range w.tv.items[id] {
			if pk, _, _ := strings.Cut(k.key, "\x00"); pk != "WS#"+t.ws {
				v = append(v, fmt.Sprintf("one workspace never sees another's data: an item of %s of %s is in the partition %s", id, t.ws, pk))
			}
		}
	}
	return v
}
