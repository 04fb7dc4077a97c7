package memdb

import (
	"time"
)

// Lag has the reads DynamoDB serves eventually consistent see the table as
// it was a while ago: GetItem, BatchGetItem, Query and Scan without
// ConsistentRead, and every read of a global secondary index (which
// DynamoDB cannot read consistently). Each such read asks lag how far
// behind it is (0: as of the call) and sees, for every item, the version
// written last at or before now() minus that; an item deleted since is
// still there, one written since is not yet. Writes, their conditions and
// transactions always see the table as it is, as DynamoDB's do. keep is
// the longest lag asked for: older versions are dropped.
//
// Both functions are called under the DB's lock, in the order of the
// calls, so a seeded lag keeps a simulation deterministic. Lag must be
// set before the first write.
func (db *DB) Lag(now func() time.Time, lag func() time.Duration, keep time.Duration) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.lag = &lagging{now: now, lag: lag, keep: keep}
}

// lagging is what Lag set.
type lagging struct {
	now  func() time.Time
	lag  func() time.Duration
	keep time.Duration
}

// version is an item as it was from since on (nil: absent).
type version struct {
	since time.Time
	it    item
}

// remember notes the write of it (nil: a delete) under the key, with the
// version it replaces when it is the key's first.
func (db *DB) remember(t *table, pk, sk string, it item) {
	if db.lag == nil {
		return
	}
	if t.past == nil {
		t.past = map[[2]string][]version{}
	}
	k := [2]string{pk, sk}
	vs := t.past[k]
	if len(vs) == 0 {
		vs = append(vs, version{it: t.get(pk, sk)})
	}
	now := db.lag.now()
	vs = append(vs, version{since: now, it: it})
	// Keep the newest version at or before the oldest moment a read can
	// ask for, and every one after it.
	oldest := now.Add(-db.lag.keep)
	for len(vs) > 1 && !vs[1].since.After(oldest) {
		vs = vs[1:]
	}
	t.past[k] = vs
	if len(t.past) >= 2*max(t.swept, 512) {
		t.forget(oldest)
	}
}

// forget drops the versions of the keys not written since oldest: every
// read sees them as they are now. It runs when past has doubled since the
// last time, so that past follows the writes of the last keep, not every
// key ever written.
func (t *table) forget(oldest time.Time) {
	for k, vs := range t.past {
		if !vs[len(vs)-1].since.After(oldest) {
			delete(t.past, k)
		}
	}
	t.swept = len(t.past)
}

// asOf is the moment an eventually consistent read sees (the zero time:
// now, no lag set or none asked for).
func (db *DB) asOf(consistent bool) time.Time {
	if db.lag == nil || consistent {
		return time.Time{}
	}
	d := db.lag.lag()
	if d <= 0 {
		return time.Time{}
	}
	return db.lag.now().Add(-min(d, db.lag.keep))
}

// itemAt is the item under the key as of at (the zero time: now).
func (t *table) itemAt(pk, sk string, at time.Time) item {
	vs := t.past[[2]string{pk, sk}]
	if at.IsZero() || len(vs) == 0 {
		return t.get(pk, sk)
	}
	var it item
	for _, v := range vs {
		if v.since.After(at) {
			break
		}
		it = v.it
	}
	return it
}

// itemsAt calls f with every item of the table as of at (the zero time:
// now), in no order.
func (t *table) itemsAt(at time.Time, f func(item)) {
	if at.IsZero() || len(t.past) == 0 {
		for _, byPK := range t.items {
			for _, it := range byPK {
				f(it)
			}
		}
		return
	}
	for pk, byPK := range t.items {
		for sk, it := range byPK {
			if _, ok := t.past[[2]string{pk, sk}]; !ok {
				f(it)
			}
		}
	}
	for k := range t.past {
		if it := t.itemAt(k[0], k[1], at); it != nil {
			f(it)
		}
	}
}
