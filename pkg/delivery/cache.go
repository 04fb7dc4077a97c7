package delivery

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/funnel-personio/funnel-personio/pkg/mapping"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/phone"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// cache keeps what is dear to make, keyed by what makes it stale: a
// connection's token (a Secrets Manager read) under the connection's
// creation time and credentials' version (a connection deleted and created
// again under the same id starts its versions again), and a compiled
// mapping under a hash of the stored mapping document. The integration and the connection themselves are read for
// every event (one strongly consistent read each), so a saved change —
// the switch, the mapping, the position, the connection, new credentials —
// applies to the next event at once, and no delivery ends on a stale
// state. Entries are dropped TTL after they were made.
type cache struct {
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	// loads shares one Secrets Manager read among the concurrent misses of
	// one connection's credentials; other connections' loads go on beside
	// it, so a batch spanning ten connections does not read them one at a
	// time.
	loads    singleflight.Group
	tokens   map[string]cached[personio.Token]
	mappings map[string]cached[compiled]
}

type cached[T any] struct {
	value   T
	expires time.Time
}

// compiled is a mapping compiled, or why it cannot be.
type compiled struct {
	mapping *mapping.Mapping
	err     error
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
}

func newCache(ttl time.Duration, now func() time.Time) cache {
	return cache{ttl: ttl, now: now, tokens: map[string]cached[personio.Token]{}, mappings: map[string]cached[compiled]{}}
}

// tokenKey names a connection's credentials: the connection (its
// creation time tells a re-created one apart) and their version.
func tokenKey(conn store.Connection) string {
	return conn.WorkspaceID + "/" + conn.ID + "/" + strconv.FormatInt(conn.CreatedAt.UnixNano(), 10) + "/" + strconv.FormatInt(conn.CredentialsVersion, 10)
}

// mappingKey names a stored mapping document by its content.
func mappingKey(doc []byte) string {
	sum := sha256.Sum256(doc)
	return hex.EncodeToString(sum[:])
}

// lookup finds a live entry, dropping expired ones of the map as it goes
// now and then (every lookup that misses).
func lookup[T any](c *cache, m map[string]cached[T], key string) (T, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	e, ok := m[key]
	if ok && now.Before(e.expires) {
		return e.value, true
	}
	for k, e := range m {
		if !now.Before(e.expires) {
			delete(m, k)
		}
	}
	var zero T
	return zero, false
}

func keep[T any](c *cache, m map[string]cached[T], key string, v T) {
	c.mu.Lock()
	m[key] = cached[T]{value: v, expires: c.now().Add(c.ttl)}
	c.mu.Unlock()
}

// token reads the token of the connection as it is now (its version).
func (w *Worker) token(ctx context.Context, conn store.Connection) (personio.Token, error) {
	c := &w.cache
	key := tokenKey(conn)
	if t, ok := lookup(c, c.tokens, key); ok {
		return t, nil
	}
	// The records of a batch run concurrently: the first miss of these
	// credentials loads, the others share its answer.
	v, err, _ := c.loads.Do(key, func() (any, error) {
		if t, ok := lookup(c, c.tokens, key); ok {
			return t, nil
		}
		t, err := w.vault.Get(ctx, conn.WorkspaceID, conn.ID)
		if err != nil {
			return personio.Token(""), err
		}
		keep(c, c.tokens, key, t)
		return t, nil
	})
	return v.(personio.Token), err
}

// forgetToken drops a token Personio refused.
func (w *Worker) forgetToken(conn store.Connection) {
	w.cache.mu.Lock()
	delete(w.cache.tokens, tokenKey(conn))
	w.cache.mu.Unlock()
}

// integration reads a funnel's integration as it is now, with its mapping
// compiled (once per mapping document). The error is the store's
// (failure.ErrNotFound when the funnel has none).
func (w *Worker) integration(ctx context.Context, ws, funnel string) (integrationState, error) {
	in, err := w.store.GetIntegration(ctx, ws, funnel)
	if err != nil {
		return integrationState{}, err
	}
	return w.compiled(in), nil
}

// compiled is the integration with its mapping compiled (once per mapping
// document).
func (w *Worker) compiled(in store.Integration) integrationState {
	c := &w.cache
	key := mappingKey(in.Mapping)
	m, ok := lookup(c, c.mappings, key)
	if !ok {
		if cfg, err := mapping.Parse(in.Mapping); err != nil {
			m.err = err
		} else {
			m.mapping, m.err = mapping.Compile(*cfg, phone.E164)
		}
		keep(c, c.mappings, key, m)
	}
	return integrationState{Integration: in, Mapping: m.mapping, MappingErr: m.err}
}
