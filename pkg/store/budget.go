package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
)

// Budget is a rate limit kept in the table and shared by every function
// instance (lifecycle.Budget: at most Limit units in any Window).
type Budget = lifecycle.Budget

// WorkspaceBudget names one of a workspace's own budgets.
type WorkspaceBudget string

// A workspace's budgets.
const (
	// BudgetChecks counts the workspace's credential checks (each may be
	// a request to Personio).
	BudgetChecks WorkspaceBudget = "checks"
	// BudgetTests counts the workspace's test applications.
	BudgetTests WorkspaceBudget = "tests"
	// BudgetReadChecks counts the workspace's checks of read access
	// (each a request to Personio's v2 API, outside the company's v1
	// budget).
	BudgetReadChecks WorkspaceBudget = "read-checks"
)

// budgetAt is where a budget's item lives, and whose it is: a company's
// (which the global budget applies to) or a workspace's.
type budgetAt struct{ pk, sk, company string }

func companyBudget(company string) budgetAt { return budgetAt{budgetKey(company), "BUDGET", company} }

func workspaceBudget(ws string, name WorkspaceBudget) budgetAt {
	return budgetAt{wsKey(ws), "BUDGET#" + string(name), ""}
}

// budgetItem is a budget's sliding log: the times (Unix ms) of the
// units taken in the last window, a block after a 429, and the end of
// the line of reserved turns (see TakeBudgetOrJoinLine).
type budgetItem struct {
	PK           string  `dynamodbav:"pk"`
	SK           string  `dynamodbav:"sk"`
	Log          []int64 `dynamodbav:"log"`
	BlockedUntil int64   `dynamodbav:"blocked_until"`
	Tail         int64   `dynamodbav:"tail"`
	Version      int64   `dynamodbav:"version"`
	ExpiresAt    int64   `dynamodbav:"expires_at"`
	// exists says the item is in the table (read or written by this
	// instance); not stored.
	exists bool
}

// maxTakeTries bounds the optimistic retries of one take under contention.
const maxTakeTries = 50

// TakeBudget takes n units of the company's budget at once (an
// application with its files), if the last window leaves room for all n. It never takes
// part of n. When there is no room it returns false and the time at which
// n units will be free. Concurrent takers are serialised by a conditional
// write on the company's item, so the budget is never exceeded.
func (s *Store) TakeBudget(ctx context.Context, company string, n int, b Budget) (bool, time.Time, error) {
	return s.take(ctx, "store: take budget", companyBudget(company), n, b, takeNow, 0)
}

// TakeIdleBudget takes n units of the company's budget only if it is idle:
// no one waits in line, nothing blocks it, and after the n units at least
// keep units stay free in the window. It never joins the line. It is for
// work that can wait a day (a connection's health check), so that it never
// takes a unit an application could use.
func (s *Store) TakeIdleBudget(ctx context.Context, company string, n, keep int, b Budget) (bool, error) {
	ok, _, err := s.take(ctx, "store: take idle budget", companyBudget(company), n, b, takeIfIdle, keep)
	return ok, err
}

// TakeWorkspaceBudget takes n units of one of the workspace's own budgets,
// as TakeBudget does for a company: all n or none, and when there is no
// room, false and the time at which n units will be free. It is kept in
// the table, so that the limit holds across every instance of the API.
func (s *Store) TakeWorkspaceBudget(ctx context.Context, ws string, name WorkspaceBudget, n int, b Budget) (bool, time.Time, error) {
	return s.take(ctx, "store: take workspace budget", workspaceBudget(ws, name), n, b, takeNow, 0)
}

// TakeBudgetOrJoinLine is TakeBudget for a newcomer that joins the
// company's line: it takes n units now only if there is room and no one is
// waiting; otherwise
// it reserves the next turn at the end of the line and returns false and
// the turn's time. Turns are spaced n × Window/Limit apart, so that a
// backlog wakes one application at a time at the pace the budget allows
// instead of all at once, and a later newcomer never goes before an
// earlier one. Whoever comes back at its turn calls TakeBudget.
func (s *Store) TakeBudgetOrJoinLine(ctx context.Context, company string, n int, b Budget) (bool, time.Time, error) {
	return s.take(ctx, "store: take or reserve budget", companyBudget(company), n, b, takeOrJoinLine, 0)
}

// ReserveTurn is for an event that no worker has seen yet (ingest): when
// no one waits in the company's line and n units are free now, it changes
// nothing and returns the zero time (the event goes at once, and its
// worker takes as a newcomer); otherwise it reserves the next turn at the
// end of the line, as TakeBudgetOrJoinLine does, and returns the turn's
// time. It never takes units: whoever comes back at the turn calls
// TakeBudget. So a backlog's event is sent with its turn's delay and
// received once, at its turn, instead of being received, sent back as a
// delayed copy and received again.
func (s *Store) ReserveTurn(ctx context.Context, company string, n int, b Budget) (time.Time, error) {
	_, at, err := s.take(ctx, "store: reserve turn", companyBudget(company), n, b, reserveOnly, 0)
	return at, err
}

// The modes of a take, as lifecycle names them.
const (
	takeNow        = lifecycle.TakeNow
	takeOrJoinLine = lifecycle.TakeOrJoinLine
	takeIfIdle     = lifecycle.TakeIfIdle
	reserveOnly    = lifecycle.ReserveOnly
)

// take applies lifecycle.Decide to the budget's item as one conditional
// write on its version, and asks again on a conflict. Takes of one budget
// in this instance go one at a time, each from the item as this instance
// last wrote it (no read when no other instance wrote since): concurrent
// records of one batch do not race each other round the version check.
func (s *Store) take(ctx context.Context, op string, where budgetAt, n int, b Budget, mode lifecycle.TakeMode, keep int) (bool, time.Time, error) {
	if n < 1 || n > b.Limit {
		return false, time.Time{}, failure.New(op, failure.Invalid, fmt.Errorf("cannot take %d of a budget of %d", n, b.Limit))
	}
	if where.company != "" {
		var err error
		if b, err = s.share(ctx, where.company, n, b); err != nil {
			return false, time.Time{}, err
		}
	}
	d, now, err := s.decide(ctx, op, where, n, b, mode, keep)
	if err != nil || !d.Taken {
		return false, d.At, err
	}
	return s.takeGlobalAfter(ctx, where, n, now)
}

// decide applies lifecycle.Decide to the budget's item under its lock and
// returns the decision and the time it was taken at.
func (s *Store) decide(ctx context.Context, op string, where budgetAt, n int, b Budget, mode lifecycle.TakeMode, keep int) (lifecycle.Take, time.Time, error) {
	defer s.budgets.lock(where)()
	for try := 0; try < maxTakeTries; try++ {
		it, cached, err := s.budgetItemOf(ctx, op, where, mode == reserveOnly)
		if err != nil {
			return lifecycle.Take{}, time.Time{}, err
		}
		now := s.now()
		st, lent := it.state(), 0
		if cached && mode == reserveOnly {
			st, lent = s.budgets.withLent(where, st, now)
		}
		d := lifecycle.Decide(st, now, n, b, mode, keep)
		if !d.Write {
			if mode == reserveOnly {
				s.budgets.lend(where, n)
			}
			return d, now, nil
		}
		if lent > 0 {
			// The events let go on this item may have filled the window:
			// decide a turn from the item as the table has it, never from
			// the units counted here.
			s.budgets.forget(where)
			continue
		}
		next := it.with(d.Next, now)
		err = s.putVersioned(ctx, op, next, it.exists, it.Version)
		if err == nil {
			s.budgets.put(where, next)
			return d, now, nil
		}
		s.budgets.forget(where)
		if !errors.Is(err, failure.ErrConflict) {
			return lifecycle.Take{}, time.Time{}, err
		}
		if cached {
			continue // another instance wrote since: read it
		}
		// Another worker took first: read again after a short, jittered
		// pause.
		if err := pause(ctx, try); err != nil {
			return lifecycle.Take{}, time.Time{}, err
		}
	}
	return lifecycle.Take{}, time.Time{}, failure.New(op, failure.Throttled, errors.New("too many concurrent takers"))
}

// takeGlobalAfter takes the global guard's units after a company's units
// were taken at now (a company's item sees far more contention than a
// slot), outside the company's lock (the next take of the company need
// not wait for it). A full slot gives the company's units back.
func (s *Store) takeGlobalAfter(ctx context.Context, where budgetAt, n int, now time.Time) (bool, time.Time, error) {
	if where.company == "" || !s.global.On() {
		return true, now, nil
	}
	ok, nextSlot, err := s.takeGlobal(ctx, n, millis(now))
	if err != nil || !ok {
		if gerr := s.GiveBackBudget(ctx, where.company, n, now); gerr != nil && err == nil {
			err = gerr
		}
		return false, nextSlot, err
	}
	return true, now, nil
}

// budgetItemOf is the budget's item as this instance last wrote it, with
// recent as this instance read it less than budgetReadTTL ago, or as the
// table has it (cached false); a missing item is the zero item.
func (s *Store) budgetItemOf(ctx context.Context, op string, where budgetAt, recent bool) (budgetItem, bool, error) {
	if it, ok := s.budgets.get(where); ok {
		return it, true, nil
	}
	if it, ok := s.budgets.recent(where, s.now()); ok && recent {
		return it, true, nil
	}
	var it budgetItem
	err := s.get(ctx, op, where.pk, where.sk, &it)
	if err != nil && !errors.Is(err, failure.ErrNotFound) {
		return it, false, err
	}
	it.PK, it.SK = where.pk, where.sk
	it.exists = err == nil
	s.budgets.noteRead(where, it, s.now())
	return it, false, nil
}

// state is the item's budget as lifecycle sees it.
func (it budgetItem) state() lifecycle.BudgetLog {
	return lifecycle.BudgetLog{Log: it.Log, BlockedUntil: it.BlockedUntil, Tail: it.Tail}
}

// with is the item that records st at now: the next version, kept a day
// past now or past the line's end.
func (it budgetItem) with(st lifecycle.BudgetLog, now time.Time) budgetItem {
	expires := now.Add(24 * time.Hour).Unix()
	if st.Tail > 0 {
		expires = max(expires, time.UnixMilli(st.Tail).Add(24*time.Hour).Unix())
	}
	return budgetItem{PK: it.PK, SK: it.SK, Log: st.Log, BlockedUntil: st.BlockedUntil, Tail: st.Tail,
		Version: it.Version + 1, ExpiresAt: expires, exists: true}
}

// pause waits a short, jittered time before the try-th retry of a
// conditional write that lost to another writer.
func pause(ctx context.Context, try int) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(time.Duration(1+rand.IntN(5*(try+1))) * time.Millisecond):
		return nil
	}
}

// GiveBackBudget returns n units that TakeBudget took from the company's
// budget at the time it returned, for requests that never counted at
// Personio (it counts only requests that pass authentication: a check
// that Personio answered 401 cost the company nothing). Units that have
// left the window already, or were never taken, are not given back twice.
func (s *Store) GiveBackBudget(ctx context.Context, company string, n int, at time.Time) error {
	return s.shift(ctx, "store: give back budget", companyBudget(company), n, at, time.Time{})
}

// MoveBudget moves n units the company's budget took at from to the time
// to: an application whose files went first sends its create request
// later than its units were taken, and Personio counts each request when
// it arrives. A unit logged later than its request is safe (it leaves the
// window later than at Personio); one logged earlier is not. Units that
// have left the window already are not put back. The global guard's
// units move with them.
func (s *Store) MoveBudget(ctx context.Context, company string, n int, from, to time.Time) error {
	err := s.shift(ctx, "store: move budget", companyBudget(company), n, from, to)
	if err != nil || !s.global.On() {
		return err
	}
	return s.moveGlobal(ctx, n, from, to)
}

// shift takes up to n units logged at from off the budget's log and,
// unless to is zero, logs as many at to (lifecycle.Shift), under the
// budget's lock.
func (s *Store) shift(ctx context.Context, op string, where budgetAt, n int, from, to time.Time) error {
	defer s.budgets.lock(where)()
	for try := 0; try < maxTakeTries; try++ {
		it, cached, err := s.budgetItemOf(ctx, op, where, false)
		if err != nil || !it.exists {
			return err
		}
		st, found := lifecycle.Shift(it.state(), n, from, to)
		if found == 0 {
			return nil
		}
		next := it
		next.Log, next.Version = st.Log, it.Version+1
		err = s.putVersioned(ctx, op, next, true, it.Version)
		if err == nil {
			s.budgets.put(where, next)
			return nil
		}
		s.budgets.forget(where)
		if !errors.Is(err, failure.ErrConflict) {
			return err
		}
		if cached {
			continue // another instance wrote since: read it
		}
		if err := pause(ctx, try); err != nil {
			return err
		}
	}
	return failure.New(op, failure.Throttled, errors.New("too many concurrent takers"))
}

// BlockBudget empties the company's budget until the given time (after a 429,
// Personio wants 60 s of quiet).
func (s *Store) BlockBudget(ctx context.Context, company string, until time.Time) error {
	const op = "store: block budget"
	where := companyBudget(company)
	defer s.budgets.forget(where)
	update := expression.Set(expression.Name("blocked_until"), expression.Value(millis(until))).
		Set(expression.Name("version"), expression.Plus(expression.IfNotExists(expression.Name("version"), expression.Value(0)), expression.Value(1))).
		Set(expression.Name("expires_at"), expression.Value(until.Add(24*time.Hour).Unix())).
		Set(expression.Name("log"), expression.IfNotExists(expression.Name("log"), expression.Value([]int64{})))
	cond := expression.AttributeNotExists(expression.Name("blocked_until")).Or(expression.Name("blocked_until").LessThan(expression.Value(millis(until))))
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return failure.New(op, failure.Invalid, err)
	}
	x := render(expr)
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(where.pk, where.sk),
		UpdateExpression: x.Update, ConditionExpression: x.Condition,
		ExpressionAttributeNames: x.Names, ExpressionAttributeValues: x.Values,
	})
	if isConflict(op, err) {
		return nil // already blocked as long or longer
	}
	return failure.Classify(op, err)
}

// putVersioned writes the item if its version is still old (or, if it did
// not exist, if it still does not).
func (s *Store) putVersioned(ctx context.Context, op string, v any, exists bool, old int64) error {
	cond := absent()
	if exists {
		cond = expression.Name("version").Equal(expression.Value(old))
	}
	return s.putIf(ctx, op, v, cond)
}

// budgets keeps each budget item as this instance last wrote it, and a
// lock per budget (by hash, 64 of them), so that one instance's takes of a
// budget go one at a time, each a conditional write of the item it knows:
// one request instead of a read, a write and retries. A write that finds
// the item changed by another instance reads it again. It also keeps each
// item as this instance last read it, for ReserveTurn (see budgetReadTTL).
type budgets struct {
	locks [256]sync.Mutex
	mu    sync.Mutex
	items map[budgetAt]budgetItem
	read  map[budgetAt]readBudget
	// lent counts the units ReserveTurn let go at once since the item
	// kept here was read or written: their workers take them soon, so a
	// cached item no longer shows the room it had (withLent).
	lent map[budgetAt]int
}

// budgetReadTTL is how long ReserveTurn decides from a budget's item as
// this instance read it instead of reading it again: ingest reads a
// company's budget once a second, not once an event. The events it lets
// go at once meanwhile count as taken on that item (budgets.lent): once
// they would fill the window, ingest reads the item again and reserves a
// turn from it, so a backlog's first second gets turns too. A line another
// instance starts within that second is not seen until then: those events
// go at once, and their workers join the line themselves (a delayed copy
// each, a second receive). A turn reserved from a stale item is a
// conditional write that fails and reads again.
const budgetReadTTL = time.Second

// readBudget is a budget's item as read at a time.
type readBudget struct {
	it budgetItem
	at time.Time
}

func (b *budgets) recent(where budgetAt, now time.Time) (budgetItem, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.read[where]
	return r.it, ok && now.Sub(r.at) < budgetReadTTL && !now.Before(r.at)
}

// withLent is st with the units let go since the item was read or
// written counted as taken at now, and how many they are.
func (b *budgets) withLent(where budgetAt, st lifecycle.BudgetLog, now time.Time) (lifecycle.BudgetLog, int) {
	b.mu.Lock()
	n := b.lent[where]
	b.mu.Unlock()
	st.Log = slices.Clone(st.Log)
	for range n {
		st.Log = append(st.Log, now.UnixMilli())
	}
	return st, n
}

// lend counts n units let go at once on the item kept for where.
func (b *budgets) lend(where budgetAt, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lent = bounded(b.lent)
	b.lent[where] += n
}

func (b *budgets) noteRead(where budgetAt, it budgetItem, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.lent, where)
	b.read = bounded(b.read)
	b.read[where] = readBudget{it: it, at: now}
}

func (b *budgets) lock(where budgetAt) func() {
	h := fnv.New32a()
	_, _ = h.Write([]byte(where.pk + "/" + where.sk))
	m := &b.locks[h.Sum32()%uint32(len(b.locks))]
	m.Lock()
	return m.Unlock
}

func (b *budgets) get(where budgetAt) (budgetItem, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	it, ok := b.items[where]
	return it, ok
}

func (b *budgets) put(where budgetAt, it budgetItem) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.items = bounded(b.items)
	b.items[where] = it
	delete(b.lent, where)
}

func (b *budgets) forget(where budgetAt) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.items, where)
	delete(b.read, where)
	delete(b.lent, where)
}

// bounded is m, or a new map when m is nil or holds maxKnownBudgets
// entries.
func bounded[V any](m map[budgetAt]V) map[budgetAt]V {
	if m == nil || len(m) >= maxKnownBudgets {
		return map[budgetAt]V{}
	}
	return m
}

// maxKnownBudgets bounds the items kept (the map starts afresh past it).
const maxKnownBudgets = 10000
