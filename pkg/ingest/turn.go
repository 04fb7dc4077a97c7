package ingest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// companies remembers which Personio company a funnel's events go to (""
// for none: no integration, switched off, or a connection that needs new
// credentials), for Config.CacheTTL. A stale answer costs little: a turn
// reserved in a line the event does not need (it goes at that turn all
// the same), or an event sent at once that the worker puts in line.
type companies struct {
	ttl time.Duration
	mu  sync.Mutex
	m   map[string]companyEntry
}

type companyEntry struct {
	company string
	expires time.Time
}

// company is the funnel's company as the worker would find it.
func (h *Handler) company(ctx context.Context, ws, funnel string) (string, error) {
	c := &h.companies
	k, now := ws+"/"+funnel, h.now()
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.company, nil
	}
	company := ""
	in, err := h.store.GetIntegration(ctx, ws, funnel)
	switch {
	case errors.Is(err, failure.ErrNotFound):
	case err != nil:
		return "", err
	case in.Enabled && !in.UnpublishedNow():
		conn, err := h.store.GetConnection(ctx, ws, in.ConnectionID)
		switch {
		case errors.Is(err, failure.ErrNotFound):
		case err != nil:
			return "", err
		case conn.Status != store.ConnectionNeedsAttention:
			company = conn.CompanyID
		}
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) > maxCompanies {
		c.m = map[string]companyEntry{}
	}
	c.m[k] = companyEntry{company: company, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return company, nil
}

// maxCompanies bounds the remembered funnels (the map starts afresh past it).
const maxCompanies = 10000

// turn reserves the event's turn in its company's line when others wait
// or the company's budget has no room now (zero: the event goes at once).
// The turn is for the application and every file it carries (the mapping
// may send fewer: then the turn is a little longer than needed). A failure
// here loses nothing: the event goes at once and its worker joins the
// line, as it does for every event that comes without a turn.
func (h *Handler) turn(ctx context.Context, ev *application.Event) time.Time {
	if h.cfg.Budget.Limit < 1 {
		return time.Time{}
	}
	company, err := h.company(ctx, ev.WorkspaceID, ev.FunnelID)
	if err != nil || company == "" {
		if err != nil {
			h.log.WarnContext(ctx, "ingest: read the funnel's company", "event_id", ev.ID, "error", err.Error())
		}
		return time.Time{}
	}
	at, err := h.store.ReserveTurn(ctx, company, min(1+len(ev.Files), h.cfg.Budget.Limit), h.cfg.Budget)
	if err != nil {
		h.log.WarnContext(ctx, "ingest: reserve a turn", "event_id", ev.ID, "error", err.Error())
		return time.Time{}
	}
	return at
}
