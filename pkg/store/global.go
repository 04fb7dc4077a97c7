package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
)

// GlobalBudget is the budget every company's requests share, kept as
// lifecycle.GlobalBudget describes: a guard of conditional counters, one
// item per slot, and fair shares from the busy companies' items.
type GlobalBudget = lifecycle.GlobalBudget

// WithGlobal makes every take of a company's budget also take the global
// budget g, and count the company's budget as its fair share of g while
// many companies are busy. A zero g keeps no global budget.
func WithGlobal(g GlobalBudget) Option { return func(s *Store) { s.global = g } }

// GuardSlots is how many slots the guard cuts a window into.
const GuardSlots = lifecycle.GuardSlots

// globalKey is the partition of the global budget's items: the guard's
// slots (SLOT#<n>) and the busy companies (BUSY#<company>).
const globalKey = "GLOBAL"

// takeGlobal takes n units of the guard's slot at ms, or reports that the
// slot is full and when the next begins.
func (s *Store) takeGlobal(ctx context.Context, n int, ms int64) (bool, time.Time, error) {
	const op = "store: take global budget"
	slotMs := s.global.Slot().Milliseconds()
	slot := ms / slotMs
	update := expression.Add(expression.Name("count"), expression.Value(n)).
		Set(expression.Name(AttrTTL), expression.Value(time.UnixMilli(ms).Add(24*time.Hour).Unix()))
	cond := expression.AttributeNotExists(expression.Name("count")).
		Or(expression.Name("count").LessThanEqual(expression.Value(s.global.PerSlot() - n)))
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return false, time.Time{}, failure.New(op, failure.Invalid, err)
	}
	x := render(expr)
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(globalKey, "SLOT#"+strconv.FormatInt(slot, 10)),
		UpdateExpression: x.Update, ConditionExpression: x.Condition,
		ExpressionAttributeNames: x.Names, ExpressionAttributeValues: x.Values,
	})
	if isConflict(op, err) {
		return false, time.UnixMilli((slot + 1) * slotMs), nil
	}
	if err != nil {
		return false, time.Time{}, failure.Classify(op, err)
	}
	return true, time.Time{}, nil
}

// moveGlobal moves n units the guard counted in the slot of from to the
// slot of to, where the requests they stand for go out. The slot they go
// to takes them whether or not it has room (the requests are on their
// way): later takes in it find it fuller.
func (s *Store) moveGlobal(ctx context.Context, n int, from, to time.Time) error {
	const op = "store: move global budget"
	slotMs := s.global.Slot().Milliseconds()
	src, dst := millis(from)/slotMs, millis(to)/slotMs
	if src == dst {
		return nil
	}
	add := func(slot int64, d int, cond *expression.ConditionBuilder) error {
		update := expression.Add(expression.Name("count"), expression.Value(d)).
			Set(expression.Name(AttrTTL), expression.Value(time.UnixMilli(slot*slotMs).Add(24*time.Hour).Unix()))
		b := expression.NewBuilder().WithUpdate(update)
		if cond != nil {
			b = b.WithCondition(*cond)
		}
		expr, err := b.Build()
		if err != nil {
			return failure.New(op, failure.Invalid, err)
		}
		x := render(expr)
		_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(s.table), Key: key(globalKey, "SLOT#"+strconv.FormatInt(slot, 10)),
			UpdateExpression: x.Update, ConditionExpression: x.Condition,
			ExpressionAttributeNames: x.Names, ExpressionAttributeValues: x.Values,
		})
		if isConflict(op, err) {
			return nil // the slot holds fewer: it has ended and gone
		}
		return failure.Classify(op, err)
	}
	held := expression.Name("count").GreaterThanEqual(expression.Value(n))
	if err := add(src, -n, &held); err != nil {
		return err
	}
	return add(dst, n, nil)
}

// busyItem says a company is busy until a time (Unix ms): it took or
// waited for its budget within the last window.
type busyItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Until     int64  `dynamodbav:"until"`
	ExpiresAt int64  `dynamodbav:"expires_at"`
}

// busy is the busy companies as last read, kept for a second (at most a
// slot).
type busy struct {
	mu    sync.Mutex
	read  time.Time
	until map[string]int64
}

// share is the company's budget b while the global budget is kept: b, or
// the company's fair share of the global budget when that is less (never
// less than n, what the take needs). It notes the company as busy for a
// window when its note runs out within half of one.
func (s *Store) share(ctx context.Context, company string, n int, b Budget) (Budget, error) {
	if !s.global.On() {
		return b, nil
	}
	const op = "store: share of the global budget"
	now := s.now()
	ms, window := millis(now), s.global.Window.Milliseconds()
	s.busy.mu.Lock()
	stale := s.busy.until == nil || now.Sub(s.busy.read) >= min(s.global.Slot(), time.Second) || now.Before(s.busy.read)
	s.busy.mu.Unlock()
	if stale {
		var items []busyItem
		if err := s.queryPrefix(ctx, op, globalKey, "BUSY#", &items); err != nil {
			return b, err
		}
		m := make(map[string]int64, len(items))
		for _, it := range items {
			m[strings.TrimPrefix(it.SK, "BUSY#")] = it.Until
		}
		s.busy.mu.Lock()
		s.busy.until, s.busy.read = m, now
		s.busy.mu.Unlock()
	}
	s.busy.mu.Lock()
	noted := s.busy.until[company]
	s.busy.mu.Unlock()
	if noted < ms+window/2 {
		until := ms + window
		it := busyItem{PK: globalKey, SK: "BUSY#" + company, Until: until, ExpiresAt: time.UnixMilli(until).Add(24 * time.Hour).Unix()}
		if err := s.putIf(ctx, op, it, expression.AttributeNotExists(expression.Name("until")).
			Or(expression.Name("until").LessThan(expression.Value(until)))); err != nil && !errors.Is(err, failure.ErrConflict) {
			return b, err
		}
		s.busy.mu.Lock()
		s.busy.until[company] = until
		s.busy.mu.Unlock()
	}
	s.busy.mu.Lock()
	count := 0
	for _, until := range s.busy.until {
		if until > ms {
			count++
		}
	}
	s.busy.mu.Unlock()
	return s.global.Share(b, count, n), nil
}
