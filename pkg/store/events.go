package store

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
)

// eventKey is the sort key of the item that keeps a delivery's event.
func eventKey(eventID string) string { return "EVENT#" + eventID }

// eventItem keeps a delivery's event as the funnel sent it (up to 256 KB),
// apart from its record: it is written once and never rewritten, so a
// state change of the delivery writes only the small record (DynamoDB
// bills a write by the size of the whole item). It carries no index key,
// so no index holds it; it carries the e-mail hashes of the addresses in
// the event, so that an erasure finds it even without its record, and the
// record's TTL.
type eventItem struct {
	PK          string   `dynamodbav:"pk"`
	SK          string   `dynamodbav:"sk"`
	Event       []byte   `dynamodbav:"event"`
	EmailHashes []string `dynamodbav:"email_hashes,stringset,omitempty"`
	ExpiresAt   int64    `dynamodbav:"expires_at"`
}

// keepEvent writes the event's item (again, if it is there: the same
// bytes).
func (s *Store) keepEvent(ctx context.Context, op string, d Delivery) error {
	item, err := eventItemOf(d)
	if err != nil {
		return failure.New(op, failure.Invalid, err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item})
	return failure.Classify(op+": keep the event", err)
}

// eventItemOf is the item that keeps d's event.
func eventItemOf(d Delivery) (map[string]types.AttributeValue, error) {
	return attributevalue.MarshalMap(eventItem{PK: wsKey(d.WorkspaceID), SK: eventKey(d.EventID), Event: d.Event,
		EmailHashes: d.EmailHashes, ExpiresAt: d.ExpiresAt})
}

// Event reads the event a delivery keeps, for sending it again. An event
// no longer kept (expired or erased) is failure.ErrNotFound.
func (s *Store) Event(ctx context.Context, ws, eventID string) ([]byte, error) {
	var it eventItem
	if err := s.get(ctx, "store: read event", wsKey(ws), eventKey(eventID), &it); err != nil {
		return nil, err
	}
	return it.Event, nil
}

// forgetEvent deletes a delivery's event item, if there is one.
func (s *Store) forgetEvent(ctx context.Context, op, ws, eventID string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(wsKey(ws), eventKey(eventID))})
	return failure.Classify(op+": forget the event", err)
}

// keeping remembers the claims that wrote their record's event item and
// have yet to mark the record (event_kept): the claim's owner's next
// Record marks it, so the mark costs no write of its own. A process that
// dies before loses the mark; the next claim writes the item again.
type keeping struct {
	mu      sync.Mutex
	pending map[string]bool
}

func keepingKey(k DeliveryKey, owner string) string {
	return k.Workspace + "\x00" + k.Event + "\x00" + owner
}

func (p *keeping) add(k DeliveryKey, owner string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.pending == nil {
		p.pending = map[string]bool{}
	}
	p.pending[keepingKey(k, owner)] = true
}

// take reports whether the owner's claim has a mark to write, and forgets
// it.
func (p *keeping) take(k DeliveryKey, owner string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	kk := keepingKey(k, owner)
	had := p.pending[kk]
	delete(p.pending, kk)
	return had
}
