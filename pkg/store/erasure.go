package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
)

// erasedKey is the sort key of an erasure marker.
func erasedKey(emailHash string) string { return "ERASED#" + emailHash }

// erasureItem marks an applicant's e-mail hash as erased in a workspace.
// It holds nothing but the keyed hash, and lives longer than any copy of
// an event can (queue and dead-letter retention).
type erasureItem struct {
	PK        string    `dynamodbav:"pk"`
	SK        string    `dynamodbav:"sk"`
	ErasedAt  time.Time `dynamodbav:"erased_at"`
	ExpiresAt int64     `dynamodbav:"expires_at"`
}

// Erasure is what an erasure covered.
type Erasure struct {
	// Records is how many delivery records were deleted, with the
	// application data they held.
	Records int
	// QueuedCopies is how many of them still had their event on the
	// queue or in the dead-letter queue (queued, processing, retrying or
	// dead): each copy is dropped when it comes, unread.
	QueuedCopies int
}

// EraseApplicant erases an applicant from a workspace: it first marks the
// e-mail hash as erased until the given time (so that a copy of an event
// still on the queue, in the dead-letter queue or sent again is refused
// from now on), then deletes every delivery record that holds the hash
// with its event, and every kept event that holds it (one whose record was
// never written).
// An empty hash is failure.ErrInvalid: it would match every record without
// an address.
func (s *Store) EraseApplicant(ctx context.Context, ws, emailHash string, until time.Time) (Erasure, error) {
	const op = "store: erase applicant"
	var e Erasure
	if emailHash == "" {
		return e, failure.New(op, failure.Invalid, errors.New("no e-mail hash"))
	}
	now := s.now().UTC()
	if err := s.putIf(ctx, op, erasureItem{PK: wsKey(ws), SK: erasedKey(emailHash), ErasedAt: now, ExpiresAt: until.Unix()},
		expression.AttributeNotExists(expression.Name(AttrPK)).Or(expression.Name(AttrTTL).LessThan(expression.Value(until.Unix())))); err != nil &&
		!errors.Is(err, failure.ErrConflict) {
		return e, err
	}
	if err := s.eraseItems(ctx, op, ws, deliveryKey(""), emailHash, &e); err != nil {
		return e, err
	}
	return e, s.eraseItems(ctx, op, ws, eventKey(""), emailHash, &e)
}

// eraseItems deletes the workspace's items under the sort key prefix that
// hold the e-mail hash: records (with their events, counted in e) or
// events.
func (s *Store) eraseItems(ctx context.Context, op, ws, prefix, emailHash string, e *Erasure) error {
	kc := expression.Key(AttrPK).Equal(expression.Value(wsKey(ws))).And(expression.Key(AttrSK).BeginsWith(prefix))
	// email_hash: records written before email_hashes.
	filter := expression.Name("email_hash").Equal(expression.Value(emailHash)).
		Or(expression.Contains(expression.Name("email_hashes"), emailHash))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).WithFilter(filter).
		WithProjection(expression.NamesList(expression.Name(AttrPK), expression.Name(AttrSK), expression.Name("status"))).Build()
	if err != nil {
		return failure.New(op, failure.Invalid, err)
	}
	x := render(expr)
	// Consistent: a record written a moment before the marker must be
	// found, or the erasure answers without it (an eventually consistent
	// read may not see it yet).
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), KeyConditionExpression: x.KeyCondition, FilterExpression: x.Filter,
		ProjectionExpression: x.Projection, ExpressionAttributeNames: x.Names, ExpressionAttributeValues: x.Values,
		ConsistentRead: aws.Bool(true),
	}
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return failure.Classify(op, err)
		}
		for _, it := range page.Items {
			if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table),
				Key: map[string]types.AttributeValue{AttrPK: it[AttrPK], AttrSK: it[AttrSK]}}); err != nil {
				return failure.Classify(op, err)
			}
			if prefix != deliveryKey("") {
				continue
			}
			sk, _ := it[AttrSK].(*types.AttributeValueMemberS)
			if sk == nil {
				return failure.New(op, failure.Invalid, errors.New("a record without its sort key"))
			}
			if err := s.forgetEvent(ctx, op, ws, strings.TrimPrefix(sk.Value, deliveryKey(""))); err != nil {
				return err
			}
			e.Records++
			if st, ok := it["status"].(*types.AttributeValueMemberS); ok && lifecycle.Status(st.Value).MayHaveACopy() {
				e.QueuedCopies++
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// Erased reports whether any of the e-mail hashes is marked as erased in
// the workspace (empty hashes are skipped).
func (s *Store) Erased(ctx context.Context, ws string, emailHashes ...string) (bool, error) {
	const op = "store: erased"
	now := s.now().Unix()
	for _, h := range emailHashes {
		if h == "" {
			continue
		}
		var it erasureItem
		err := s.get(ctx, op, wsKey(ws), erasedKey(h), &it)
		switch {
		case errors.Is(err, failure.ErrNotFound):
			continue
		case err != nil:
			return false, err
		case it.ExpiresAt > now:
			return true, nil
		}
	}
	return false, nil
}

// Forget deletes a delivery record with the event kept for it, whoever
// holds its claim: for an erased applicant's event that came back from the
// queue and was claimed before the erasure was seen.
func (s *Store) Forget(ctx context.Context, k DeliveryKey) error {
	const op = "store: forget delivery"
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(wsKey(k.Workspace), deliveryKey(k.Event))})
	if err != nil {
		return failure.Classify(op, err)
	}
	return s.forgetEvent(ctx, op, k.Workspace, k.Event)
}
