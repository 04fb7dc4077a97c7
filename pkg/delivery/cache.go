package delivery

import (
	"context"
	"sync"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/mapping"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// cache keeps connections' tokens and funnels' integrations (with their
// compiled mappings) for a while, so that a batch does not read them once
// per record.
type cache struct {
	ttl time.Duration
	now func() time.Time

	mu           sync.Mutex
	loadMu       sync.Mutex // one load at a time: concurrent misses share it
	tokens       map[string]cachedToken
	integrations map[string]integrationState
}

type cachedToken struct {
	token   personio.Token
	expires time.Time
}

// integrationState is a funnel's integration as the worker uses it: the
// stored integration, its compiled mapping, or why the mapping cannot be
// used.
type integrationState struct {
	Integration store.Integration
	Mapping     *mapping.Mapping
	// MappingErr is set when the stored mapping does not compile; the
	// delivery fails with it (the editor validates mappings when saved,
	// so this means a mapping saved by an older version).
	MappingErr error
	expires    time.Time
}

func newCache(ttl time.Duration, now func() time.Time) cache {
	return cache{ttl: ttl, now: now, tokens: map[string]cachedToken{}, integrations: map[string]integrationState{}}
}

// token reads a connection's token, cached for the TTL.
func (w *Worker) token(ctx context.Context, ws, conn string) (personio.Token, error) {
	c := &w.cache
	key := ws + "/" + conn
	found := func(now time.Time) (personio.Token, bool) {
		c.mu.Lock()
		defer c.mu.Unlock()
		t, ok := c.tokens[key]
		return t.token, ok && now.Before(t.expires)
	}
	now := c.now()
	if t, ok := found(now); ok {
		return t, nil
	}
	// The records of a batch run concurrently: the first miss loads, the
	// others find it cached.
	c.loadMu.Lock()
	defer c.loadMu.Unlock()
	if t, ok := found(now); ok {
		return t, nil
	}
	t, err := w.vault.Get(ctx, ws, conn)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.tokens[key] = cachedToken{token: t, expires: now.Add(c.ttl)}
	c.mu.Unlock()
	return t, nil
}

// forgetToken drops a token Personio refused.
func (w *Worker) forgetToken(ws, conn string) {
	w.cache.mu.Lock()
	delete(w.cache.tokens, ws+"/"+conn)
	w.cache.mu.Unlock()
}

// integration reads a funnel's integration with its compiled mapping,
// cached for the TTL. The error is the store's (failure.ErrNotFound when
// the funnel has none).
func (w *Worker) integration(ctx context.Context, ws, funnel string) (integrationState, error) {
	c := &w.cache
	key := ws + "/" + funnel
	now := c.now()
	c.mu.Lock()
	st, ok := c.integrations[key]
	c.mu.Unlock()
	if ok && now.Before(st.expires) {
		return st, nil
	}
	in, err := w.store.GetIntegration(ctx, ws, funnel)
	if err != nil {
		return integrationState{}, err
	}
	st = integrationState{Integration: in, expires: now.Add(c.ttl)}
	if cfg, err := mapping.Parse(in.Mapping); err != nil {
		st.MappingErr = err
	} else {
		st.Mapping, st.MappingErr = mapping.Compile(*cfg)
	}
	c.mu.Lock()
	c.integrations[key] = st
	c.mu.Unlock()
	return st, nil
}
