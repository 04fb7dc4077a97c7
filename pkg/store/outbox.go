package store

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
)

// Pending is an outbound event recorded in the same request as the change
// that makes its problem (a connection's status, a position's mark, a
// delivery that failed or went dead): a transactional outbox. The
// producer that won the change publishes it and then marks it Sent; one
// that dies, or whose publish fails, in between leaves it pending, and the
// watch publishes every pending event again (PendingEvents), with the same
// id, until it is marked sent. The store keeps Body as it is and never
// reads it.
type Pending struct {
	WorkspaceID string `dynamodbav:"workspace_id"`
	// ID is the event's id (its webhook-id).
	ID   string `dynamodbav:"event_id"`
	Body []byte `dynamodbav:"body"`
	// At is when the change recorded it.
	At time.Time `dynamodbav:"at"`
}

// watchOutbox is the watch index's partition of the pending events.
const watchOutbox = "WATCH#OUTBOX"

// pendingKeep is how long a sent event's item stays before its TTL
// removes it.
const pendingKeep = 24 * time.Hour

type pendingItem struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	WatchPK string `dynamodbav:"watch_pk"`
	WatchSK string `dynamodbav:"watch_sk"`
	Pending
}

func outboxKey(id string) string { return "OUTBOX#" + id }

// pendingPuts are the puts of the pending events' items (in the watch
// index, until sent).
func pendingPuts(table string, ps []Pending) ([]types.TransactWriteItem, error) {
	out := make([]types.TransactWriteItem, 0, len(ps))
	for _, p := range ps {
		item, err := attributevalue.MarshalMap(pendingItem{PK: wsKey(p.WorkspaceID), SK: outboxKey(p.ID), WatchPK: watchOutbox,
			WatchSK: sortableTime(p.At) + "#" + p.ID, Pending: p})
		if err != nil {
			return nil, err
		}
		out = append(out, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: item}})
	}
	return out, nil
}

// writeTelling writes w, whose condition decides, and the pending events
// in one transaction. A condition of w that does not hold is
// failure.ErrConflict, and nothing is written.
func (s *Store) writeTelling(ctx context.Context, op string, w types.TransactWriteItem, ps []Pending) error {
	puts, err := pendingPuts(s.table, ps)
	if err != nil {
		return failure.New(op, failure.Invalid, err)
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: append([]types.TransactWriteItem{w}, puts...)})
	return failure.Classify(op, err)
}

// putTelling writes the item v if cond holds, with the pending events
// (none: a plain conditional put).
func (s *Store) putTelling(ctx context.Context, op string, v any, cond expression.ConditionBuilder, ps []Pending) error {
	if len(ps) == 0 {
		return s.putIf(ctx, op, v, cond)
	}
	p, err := s.conditionalPut(op, v, cond)
	if err != nil {
		return err
	}
	return s.writeTelling(ctx, op, types.TransactWriteItem{Put: p}, ps)
}

// updateTelling applies a conditional update of the item pk, sk with the
// pending events (none: a plain conditional update).
func (s *Store) updateTelling(ctx context.Context, op, pk, sk string, x built, ps []Pending) error {
	if len(ps) == 0 {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key(pk, sk),
			UpdateExpression: x.Update, ConditionExpression: x.Condition, ExpressionAttributeNames: x.Names, ExpressionAttributeValues: x.Values})
		return failure.Classify(op, err)
	}
	return s.writeTelling(ctx, op, types.TransactWriteItem{Update: &types.Update{TableName: aws.String(s.table), Key: key(pk, sk),
		UpdateExpression: x.Update, ConditionExpression: x.Condition, ExpressionAttributeNames: x.Names, ExpressionAttributeValues: x.Values}}, ps)
}

// Sent marks a pending event published: it leaves the watch index, and
// its item expires a day later. An event already marked, or never
// recorded, is no error.
func (s *Store) Sent(ctx context.Context, ws, id string) error {
	const op = "store: outbound event sent"
	expr, err := expression.NewBuilder().
		WithUpdate(expression.Remove(expression.Name(AttrWatchPK)).Remove(expression.Name(AttrWatchSK)).
			Set(expression.Name(AttrTTL), expression.Value(s.now().Add(pendingKeep).Unix()))).
		WithCondition(expression.AttributeExists(expression.Name(AttrWatchPK))).Build()
	if err != nil {
		return failure.New(op, failure.Invalid, err)
	}
	x := render(expr)
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key(wsKey(ws), outboxKey(id)),
		UpdateExpression: x.Update, ConditionExpression: x.Condition, ExpressionAttributeNames: x.Names, ExpressionAttributeValues: x.Values})
	if err = failure.Classify(op, err); errors.Is(err, failure.ErrConflict) {
		return nil
	}
	return err
}

// PendingEvents calls f with every outbound event still pending, the
// oldest first, page by page; an error from f stops the walk.
func (s *Store) PendingEvents(ctx context.Context, f func(Pending) error) error {
	return watched(ctx, s, "store: pending outbound events", watchOutbox, func(it pendingItem) error { return f(it.Pending) })
}
