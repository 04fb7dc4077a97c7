package watch

import (
	"context"
	"errors"
	"strconv"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// jobsReader lists a company's jobs, published or not, through Personio's
// v2 API (read access).
type jobsReader interface {
	Jobs(ctx context.Context, rc personio.ReadCredentials) ([]personio.Job, error)
}

// readSecrets reads a connection's read-access client secret.
type readSecrets interface {
	ReadSecret(ctx context.Context, ws, connection string) (personio.Token, error)
}

// v2Site is the feed key's site for a company's jobs read through the v2
// API instead of a career site's feed.
const v2Site = "personio-api-v2"

// feedOf says which feed tells of an integration's position: with read
// access on its connection (and a Personio client that reads v2), the
// company's jobs from the v2 API, which shows every job with its status;
// otherwise the career site's feed, if the integration names one. The
// connections read are kept in conns. ok is false when nothing tells.
func (w *Watch) feedOf(ctx context.Context, in store.Integration, conns map[string]*store.Connection) (feedKey, *store.Connection, bool, error) {
	ck := in.WorkspaceID + "/" + in.ConnectionID
	c, ok := conns[ck]
	if !ok {
		got, err := w.store.GetConnection(ctx, in.WorkspaceID, in.ConnectionID)
		if errors.Is(err, failure.ErrNotFound) {
			conns[ck] = nil
			return feedKey{}, nil, false, nil
		} else if err != nil {
			return feedKey{}, nil, false, err
		}
		c, conns[ck] = &got, &got
	}
	switch {
	case c == nil:
		return feedKey{}, nil, false, nil
	case w.readsV2(*c):
		return feedKey{c.CompanyID, v2Site}, c, true, nil
	case in.CareerSite != "":
		return feedKey{c.CompanyID, in.CareerSite}, nil, true, nil
	}
	return feedKey{}, nil, false, nil
}

// readsV2 reports whether the watch can read the connection's jobs from
// the v2 API.
func (w *Watch) readsV2(c store.Connection) bool {
	_, jobs := w.personio.(jobsReader)
	_, secrets := w.vault.(readSecrets)
	return c.ReadClientID != "" && jobs && secrets
}

// published returns the ids of the positions the feed shows published.
// A feed switched off or gone, and read access that Personio refuses or
// that is gone, say nothing (nil map, nil error).
func (w *Watch) published(ctx context.Context, f *feed) (map[int64]bool, error) {
	if f.reader == nil {
		positions, err := w.personio.Positions(ctx, f.company, f.site, "")
		var fu *personio.FeedUnavailableError
		if errors.As(err, &fu) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		published := map[int64]bool{}
		for _, p := range positions {
			published[p.ID] = true
		}
		return published, nil
	}
	return w.publishedJobs(ctx, *f.reader)
}

// publishedJobs reads the company's jobs from the v2 API with the
// connection's read access.
func (w *Watch) publishedJobs(ctx context.Context, c store.Connection) (map[int64]bool, error) {
	secret, err := w.vault.(readSecrets).ReadSecret(ctx, c.WorkspaceID, c.ID)
	if errors.Is(err, failure.ErrNotFound) || err == nil && secret == "" {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	jobs, err := w.personio.(jobsReader).Jobs(ctx, personio.ReadCredentials{ClientID: c.ReadClientID, ClientSecret: secret})
	var refused *personio.ReadAccessError
	if errors.As(err, &refused) {
		w.cfg.Logger.WarnContext(ctx, "watch: read access refused", "workspace", c.WorkspaceID, "connection", c.ID, "error", err.Error())
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	published := map[int64]bool{}
	for _, j := range jobs {
		if id, err := strconv.ParseInt(j.ID, 10, 64); err == nil && j.Published() {
			published[id] = true
		}
	}
	return published, nil
}
