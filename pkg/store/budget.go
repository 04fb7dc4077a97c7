package store

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
)

// Budget is a per-company rate limit shared by every worker: at most
// Limit requests in any Window (Personio: 20 per 60 s).
type Budget struct {
	Limit  int
	Window time.Duration
}

// budgetItem is the company's sliding log: the times (Unix ms) of the
// requests taken in the last window, a block after a 429, and the end of
// the line of reserved turns (see TakeBudgetOrJoinLine).
type budgetItem struct {
	PK           string  `dynamodbav:"pk"`
	SK           string  `dynamodbav:"sk"`
	Log          []int64 `dynamodbav:"log"`
	BlockedUntil int64   `dynamodbav:"blocked_until"`
	Tail         int64   `dynamodbav:"tail"`
	Version      int64   `dynamodbav:"version"`
	ExpiresAt    int64   `dynamodbav:"expires_at"`
}

// maxTakeTries bounds the optimistic retries of one take under contention.
const maxTakeTries = 50

// TakeBudget takes n units of the company's budget at once (an
// application with its files), if the last window leaves room for all n. It never takes
// part of n. When there is no room it returns false and the time at which
// n units will be free. Concurrent takers are serialised by a conditional
// write on the company's item, so the budget is never exceeded.
func (s *Store) TakeBudget(ctx context.Context, company string, n int, b Budget) (bool, time.Time, error) {
	return s.take(ctx, "store: take budget", company, n, b, false)
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
	return s.take(ctx, "store: take or reserve budget", company, n, b, true)
}

func (s *Store) take(ctx context.Context, op, company string, n int, b Budget, reserve bool) (bool, time.Time, error) {
	if n < 1 || n > b.Limit {
		return false, time.Time{}, failure.New(op, failure.Invalid, fmt.Errorf("cannot take %d of a budget of %d", n, b.Limit))
	}
	for try := 0; try < maxTakeTries; try++ {
		var it budgetItem
		err := s.get(ctx, op, budgetKey(company), "BUDGET", &it)
		if err != nil && !errors.Is(err, failure.ErrNotFound) {
			return false, time.Time{}, err
		}
		exists := err == nil
		now := s.now()
		ms := millis(now)
		log := it.Log[:0:0]
		for _, t := range it.Log {
			if t > ms-b.Window.Milliseconds() {
				log = append(log, t)
			}
		}
		slices.Sort(log)
		next := budgetItem{PK: budgetKey(company), SK: "BUDGET", Log: log, BlockedUntil: it.BlockedUntil, Tail: it.Tail,
			Version: it.Version + 1, ExpiresAt: now.Add(24 * time.Hour).Unix()}
		// free is when n units are free: now, after a block, or when the
		// oldest entries have left the window.
		free := ms
		if len(log)+n > b.Limit {
			free = log[len(log)+n-b.Limit-1] + b.Window.Milliseconds() + 1
		}
		free = max(free, it.BlockedUntil)
		var at time.Time
		switch {
		case free <= ms && (!reserve || it.Tail <= ms):
			for range n {
				next.Log = append(next.Log, ms)
			}
		case !reserve:
			return false, time.UnixMilli(free), nil
		default:
			turn := max(free, it.Tail)
			next.Tail = turn + int64(n)*b.Window.Milliseconds()/int64(b.Limit)
			next.ExpiresAt = max(next.ExpiresAt, time.UnixMilli(next.Tail).Add(24*time.Hour).Unix())
			at = time.UnixMilli(turn)
		}
		if err := s.putVersioned(ctx, op, next, exists, it.Version); err == nil {
			if at.IsZero() {
				return true, now, nil
			}
			return false, at, nil
		} else if !errors.Is(err, failure.ErrConflict) {
			return false, time.Time{}, err
		}
		// Another worker took first: read again after a short, jittered
		// pause.
		select {
		case <-ctx.Done():
			return false, time.Time{}, ctx.Err()
		case <-time.After(time.Duration(1+rand.IntN(5*(try+1))) * time.Millisecond):
		}
	}
	return false, time.Time{}, failure.New(op, failure.Throttled, errors.New("too many concurrent takers"))
}

// BlockBudget empties the company's budget until the given time (after a 429,
// Personio wants 60 s of quiet).
func (s *Store) BlockBudget(ctx context.Context, company string, until time.Time) error {
	const op = "store: block budget"
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
		TableName: aws.String(s.table), Key: key(budgetKey(company), "BUDGET"),
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
