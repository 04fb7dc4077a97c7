package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
)

// Status is where a delivery stands.
type Status string

// Delivery states. Delivered, Failed, Dead and Skipped are terminal;
// Parked waits for new credentials.
const (
	StatusQueued     Status = "queued"
	StatusProcessing Status = "processing"
	StatusRetrying   Status = "retrying"
	StatusDelivered  Status = "delivered"
	StatusFailed     Status = "failed"
	StatusParked     Status = "parked"
	StatusDead       Status = "dead"
	StatusSkipped    Status = "skipped"
)

// Statuses lists every status.
var Statuses = []Status{StatusQueued, StatusProcessing, StatusRetrying, StatusDelivered, StatusFailed, StatusParked, StatusDead, StatusSkipped}

// MaxAttempts bounds the attempts kept on a record.
const MaxAttempts = 25

// Attempt is one try at delivering.
type Attempt struct {
	At         time.Time `dynamodbav:"at" json:"at"`
	Outcome    Status    `dynamodbav:"outcome" json:"outcome"`
	ReasonCode Reason    `dynamodbav:"reason_code,omitempty" json:"reason_code,omitempty"`
	Reason     string    `dynamodbav:"reason,omitempty" json:"reason,omitempty"`
}

// Delivery is the record of one event's way to Personio. It holds the
// original event (the table is encrypted at rest) so that a failed
// delivery can be retried after the mapping or credentials are fixed; the
// applicant's e-mail is only in the event and as a keyed hash.
type Delivery struct {
	WorkspaceID   string     `dynamodbav:"workspace_id"`
	FunnelID      string     `dynamodbav:"funnel_id"`
	EventID       string     `dynamodbav:"event_id"`
	Status        Status     `dynamodbav:"status"`
	Test          bool       `dynamodbav:"test,omitempty"`
	ConnectionID  string     `dynamodbav:"connection_id,omitempty"`
	CompanyID     string     `dynamodbav:"company_id,omitempty"`
	OccurredAt    time.Time  `dynamodbav:"occurred_at"`
	CreatedAt     time.Time  `dynamodbav:"created_at"`
	UpdatedAt     time.Time  `dynamodbav:"updated_at"`
	DeliveredAt   *time.Time `dynamodbav:"delivered_at,omitempty"`
	NextAttemptAt *time.Time `dynamodbav:"next_attempt_at,omitempty"`
	ReasonCode    Reason     `dynamodbav:"reason_code,omitempty"`
	Reason        string     `dynamodbav:"reason,omitempty"`
	Warnings      []string   `dynamodbav:"warnings,omitempty"`
	Attempts      []Attempt  `dynamodbav:"attempts"`
	EmailHash     string     `dynamodbav:"email_hash,omitempty"`
	Event         []byte     `dynamodbav:"event,omitempty"`
	// DeferToken names the one delayed copy of the message that may go on
	// while the delivery waits for budget; other copies are dropped.
	DeferToken string `dynamodbav:"defer_token,omitempty"`
	ClaimOwner string `dynamodbav:"claim_owner,omitempty"`
	ClaimUntil int64  `dynamodbav:"claim_until,omitempty"` // Unix ms
	ExpiresAt  int64  `dynamodbav:"expires_at"`            // Unix s, the TTL
	// OutcomeUnknown is set for good once an attempt may have reached
	// Personio without an answer: Personio's "already exists" then means
	// delivered.
	OutcomeUnknown bool `dynamodbav:"outcome_unknown,omitempty"`
	// TakenOver is set by Claim when it took the claim from a holder
	// whose lease ran out while processing: that holder may have died
	// after its request reached Personio, so the outcome is unknown.
	TakenOver bool `dynamodbav:"-"`
}

// Terminal reports whether nothing more will happen to the delivery by
// itself.
func (d Delivery) Terminal() bool {
	switch d.Status {
	case StatusDelivered, StatusFailed, StatusDead, StatusSkipped:
		return true
	}
	return false
}

// DeliveryKey names a delivery: the workspace, the funnel (the list
// indexes are per funnel) and the event.
type DeliveryKey struct {
	Workspace, Funnel, Event string
}

// Key is the delivery's key.
func (d Delivery) Key() DeliveryKey {
	return DeliveryKey{Workspace: d.WorkspaceID, Funnel: d.FunnelID, Event: d.EventID}
}

type deliveryItem struct {
	PK       string `dynamodbav:"pk"`
	SK       string `dynamodbav:"sk"`
	GSI1PK   string `dynamodbav:"gsi1pk"`
	GSI1SK   string `dynamodbav:"gsi1sk"`
	GSI2PK   string `dynamodbav:"gsi2pk"`
	ParkedPK string `dynamodbav:"parked_pk,omitempty"`
	Delivery
}

func sortKey(d Delivery) string {
	return d.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000000Z") + "#" + d.EventID
}

// CreateDelivery records a new delivery (ingest's record of an accepted
// event). A record for the event id already in the workspace is a
// conflict: the event was accepted before.
func (s *Store) CreateDelivery(ctx context.Context, d Delivery) (Delivery, error) {
	const op = "store: create delivery"
	now := s.now().UTC()
	d.CreatedAt, d.UpdatedAt = now, now
	if d.Status == "" {
		d.Status = StatusQueued
	}
	d.ExpiresAt = now.Add(s.retention).Unix()
	if d.Attempts == nil {
		d.Attempts = []Attempt{}
	}
	item, err := attributevalue.MarshalMap(s.deliveryItem(d))
	if err != nil {
		return Delivery{}, failure.New(op, failure.Invalid, err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	return d, failure.Classify(op, err)
}

func (s *Store) deliveryItem(d Delivery) deliveryItem {
	it := deliveryItem{
		PK: wsKey(d.WorkspaceID), SK: deliveryKey(d.EventID),
		GSI1PK: funnelIndexKey(d.WorkspaceID, d.FunnelID), GSI1SK: sortKey(d),
		GSI2PK: statusIndexKey(d.WorkspaceID, d.FunnelID, d.Status), Delivery: d,
	}
	if d.Status == StatusParked && d.ConnectionID != "" {
		it.ParkedPK = parkedKey(d.WorkspaceID, d.ConnectionID)
	}
	return it
}

// GetDelivery reads one delivery of the workspace.
func (s *Store) GetDelivery(ctx context.Context, ws, eventID string) (Delivery, error) {
	var it deliveryItem
	err := s.get(ctx, "store: get delivery", wsKey(ws), deliveryKey(eventID), &it)
	return it.Delivery, err
}

// Claim takes the event for one worker for lease: it creates the record
// if there is none (events sent straight to the queue), and succeeds if
// the event is not delivered and no other worker holds an unexpired claim.
// A delivered event is ErrAlreadyDelivered; a claim held by another worker
// is failure.ErrConflict. The returned record is the claimed one.
func (s *Store) Claim(ctx context.Context, d Delivery, owner string, lease time.Duration) (Delivery, error) {
	const op = "store: claim delivery"
	now := s.now().UTC()
	if d.CreatedAt.IsZero() {
		d.CreatedAt = now
	}
	fresh := s.deliveryItem(Delivery{WorkspaceID: d.WorkspaceID, FunnelID: d.FunnelID, EventID: d.EventID, CreatedAt: d.CreatedAt, Status: StatusProcessing})
	update := expression.
		Set(expression.Name("claim_owner"), expression.Value(owner)).
		Set(expression.Name("claim_until"), expression.Value(millis(now.Add(lease)))).
		Set(expression.Name("status"), expression.Value(StatusProcessing)).
		Set(expression.Name("updated_at"), expression.Value(now)).
		Set(expression.Name("workspace_id"), expression.Value(d.WorkspaceID)).
		Set(expression.Name("funnel_id"), expression.Value(d.FunnelID)).
		Set(expression.Name("event_id"), expression.Value(d.EventID)).
		Set(expression.Name("created_at"), expression.IfNotExists(expression.Name("created_at"), expression.Value(d.CreatedAt))).
		Set(expression.Name("occurred_at"), expression.IfNotExists(expression.Name("occurred_at"), expression.Value(d.OccurredAt))).
		Set(expression.Name("expires_at"), expression.IfNotExists(expression.Name("expires_at"), expression.Value(now.Add(s.retention).Unix()))).
		Set(expression.Name(AttrGSI1PK), expression.Value(fresh.GSI1PK)).
		Set(expression.Name(AttrGSI1SK), expression.IfNotExists(expression.Name(AttrGSI1SK), expression.Value(fresh.GSI1SK))).
		Set(expression.Name(AttrGSI2PK), expression.Value(fresh.GSI2PK)).
		Set(expression.Name("attempts"), expression.IfNotExists(expression.Name("attempts"), expression.Value(&types.AttributeValueMemberL{Value: []types.AttributeValue{}}))).
		Remove(expression.Name(AttrParkedPK))
	if len(d.Event) > 0 {
		update = update.Set(expression.Name("event"), expression.IfNotExists(expression.Name("event"), expression.Value(d.Event)))
	}
	if d.EmailHash != "" {
		update = update.Set(expression.Name("email_hash"), expression.IfNotExists(expression.Name("email_hash"), expression.Value(d.EmailHash)))
	}
	if d.Test {
		update = update.Set(expression.Name("test"), expression.Value(true))
	}
	status := expression.Name("status")
	cond := expression.AttributeNotExists(expression.Name(AttrPK)).Or(
		status.NotEqual(expression.Value(StatusDelivered)).And(
			expression.AttributeNotExists(expression.Name("claim_until")).
				Or(expression.Name("claim_until").LessThan(expression.Value(millis(now)))).
				Or(expression.Name("claim_owner").Equal(expression.Value(owner)))))
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return Delivery{}, failure.New(op, failure.Invalid, err)
	}
	x := render(expr)
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(fresh.PK, fresh.SK),
		UpdateExpression: x.Update, ConditionExpression: x.Condition,
		ExpressionAttributeNames: x.Names, ExpressionAttributeValues: x.Values,
		// The old values tell a take-over; the new ones are the old with
		// this claim's changes.
		ReturnValues: types.ReturnValueAllOld,
	})
	if err != nil {
		if !isConflict(op, err) {
			return Delivery{}, failure.Classify(op, err)
		}
		cur, gerr := s.GetDelivery(ctx, d.WorkspaceID, d.EventID)
		if gerr == nil && cur.Status == StatusDelivered {
			return cur, ErrAlreadyDelivered
		}
		return cur, failure.New(op, failure.Conflict, errors.New("claimed by another worker"))
	}
	claimed := d
	claimed.Attempts = []Attempt{}
	if len(out.Attributes) > 0 {
		var it deliveryItem
		if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
			return Delivery{}, failure.New(op, failure.Invalid, err)
		}
		claimed = it.Delivery
		claimed.TakenOver = it.Status == StatusProcessing && it.ClaimOwner != owner
		if claimed.Attempts == nil {
			claimed.Attempts = []Attempt{}
		}
		if len(claimed.Event) == 0 {
			claimed.Event = d.Event
		}
		if claimed.EmailHash == "" {
			claimed.EmailHash = d.EmailHash
		}
		if claimed.OccurredAt.IsZero() {
			claimed.OccurredAt = d.OccurredAt
		}
		if claimed.ExpiresAt == 0 {
			claimed.ExpiresAt = now.Add(s.retention).Unix()
		}
	} else {
		claimed.CreatedAt = d.CreatedAt.UTC()
		claimed.ExpiresAt = now.Add(s.retention).Unix()
	}
	claimed.WorkspaceID, claimed.FunnelID, claimed.EventID = d.WorkspaceID, d.FunnelID, d.EventID
	claimed.Status, claimed.ClaimOwner, claimed.ClaimUntil, claimed.UpdatedAt = StatusProcessing, owner, millis(now.Add(lease)), now
	claimed.Test = claimed.Test || d.Test
	return claimed, nil
}

// Change is a state change of a delivery, with the attempt that led to it.
type Change struct {
	Status        Status
	ReasonCode    Reason
	Reason        string
	Warnings      []string
	NextAttemptAt *time.Time
	ConnectionID  string // for parking: whose credentials to wait for
	CompanyID     string
	// Attempt, if set, is appended to the record's attempts.
	Attempt *Attempt
	// Release drops the claim (every change but "still working" does).
	Release bool
	// DeferToken is set when a delayed copy of the message was sent; it
	// replaces the previous one.
	DeferToken string
	// OutcomeUnknown sets the record's OutcomeUnknown (it is never
	// cleared).
	OutcomeUnknown bool
}

// Record writes a state change made by the claim's owner. A change by a
// worker that no longer holds the claim is failure.ErrConflict, so a
// worker whose lease ran out cannot overwrite its successor's work.
func (s *Store) Record(ctx context.Context, k DeliveryKey, owner string, c Change) (Delivery, error) {
	const op = "store: record delivery"
	ws, funnel, eventID := k.Workspace, k.Funnel, k.Event
	now := s.now().UTC()
	update := expression.
		Set(expression.Name("status"), expression.Value(c.Status)).
		Set(expression.Name("updated_at"), expression.Value(now)).
		Set(expression.Name(AttrGSI2PK), expression.Value(statusIndexKey(ws, funnel, c.Status))).
		Set(expression.Name("reason_code"), expression.Value(c.ReasonCode)).
		Set(expression.Name("reason"), expression.Value(c.Reason))
	if c.Warnings != nil {
		update = update.Set(expression.Name("warnings"), expression.Value(c.Warnings))
	}
	if c.NextAttemptAt != nil {
		update = update.Set(expression.Name("next_attempt_at"), expression.Value(c.NextAttemptAt.UTC()))
	} else {
		update = update.Remove(expression.Name("next_attempt_at"))
	}
	if c.Status == StatusDelivered {
		update = update.Set(expression.Name("delivered_at"), expression.Value(now))
	}
	if c.ConnectionID != "" {
		update = update.Set(expression.Name("connection_id"), expression.Value(c.ConnectionID))
	}
	if c.CompanyID != "" {
		update = update.Set(expression.Name("company_id"), expression.Value(c.CompanyID))
	}
	if c.OutcomeUnknown {
		update = update.Set(expression.Name("outcome_unknown"), expression.Value(true))
	}
	if c.Status == StatusParked && c.ConnectionID != "" {
		update = update.Set(expression.Name(AttrParkedPK), expression.Value(parkedKey(ws, c.ConnectionID)))
	} else {
		update = update.Remove(expression.Name(AttrParkedPK))
	}
	if c.Attempt != nil {
		// Only the claim's owner writes, so reading the attempts and writing
		// them back with one more cannot lose another's attempt.
		cur, err := s.GetDelivery(ctx, ws, eventID)
		if err != nil {
			return Delivery{}, err
		}
		if cur.ClaimOwner != owner {
			return Delivery{}, failure.New(op, failure.Conflict, errors.New("the claim is held by another worker"))
		}
		update = update.Set(expression.Name("attempts"), expression.Value(appendAttempt(cur.Attempts, *c.Attempt)))
	}
	if c.DeferToken != "" {
		// The newest deferral's token stays until the next deferral: the
		// copy that carries it may come back after a retry, too.
		update = update.Set(expression.Name("defer_token"), expression.Value(c.DeferToken))
	}
	if c.Release {
		update = update.Remove(expression.Name("claim_owner")).Remove(expression.Name("claim_until"))
	}
	cond := expression.Name("claim_owner").Equal(expression.Value(owner))
	return s.update(ctx, op, ws, eventID, update, cond)
}

// Release drops a claim taken for a stale copy of a message and puts the
// delivery back to queued: the copy that goes on is still on its way.
// outcomeUnknown keeps on the record that the claim was taken over from a
// holder that died while processing (see Delivery.TakenOver).
func (s *Store) Release(ctx context.Context, k DeliveryKey, owner string, outcomeUnknown bool) error {
	ws, funnel, eventID := k.Workspace, k.Funnel, k.Event
	update := expression.Remove(expression.Name("claim_owner")).Remove(expression.Name("claim_until")).
		Set(expression.Name("status"), expression.Value(StatusQueued)).
		Set(expression.Name(AttrGSI2PK), expression.Value(statusIndexKey(ws, funnel, StatusQueued)))
	if outcomeUnknown {
		update = update.Set(expression.Name("outcome_unknown"), expression.Value(true))
	}
	_, err := s.update(ctx, "store: release claim", ws, eventID, update, expression.Name("claim_owner").Equal(expression.Value(owner)))
	return err
}

// appendAttempt adds an attempt, keeping the last MaxAttempts.
func appendAttempt(list []Attempt, a Attempt) []Attempt {
	list = append(list, a)
	if len(list) > MaxAttempts {
		list = list[len(list)-MaxAttempts:]
	}
	return list
}

// Requeue sets a failed, dead or parked delivery back to queued, for a
// retry from the editor or after new credentials; code says which (it
// becomes the record's reason code and its new attempt's). Any other
// status is failure.ErrConflict.
func (s *Store) Requeue(ctx context.Context, k DeliveryKey, code Reason) (Delivery, error) {
	const op = "store: requeue delivery"
	ws, funnel, eventID := k.Workspace, k.Funnel, k.Event
	now := s.now().UTC()
	cur, err := s.GetDelivery(ctx, ws, eventID)
	if err != nil {
		return Delivery{}, err
	}
	update := expression.
		Set(expression.Name("status"), expression.Value(StatusQueued)).
		Set(expression.Name("updated_at"), expression.Value(now)).
		Set(expression.Name(AttrGSI2PK), expression.Value(statusIndexKey(ws, funnel, StatusQueued))).
		Set(expression.Name("reason_code"), expression.Value(code)).Set(expression.Name("reason"), expression.Value("")).
		Set(expression.Name("attempts"), expression.Value(appendAttempt(cur.Attempts, Attempt{At: now, Outcome: StatusQueued, ReasonCode: code}))).
		Remove(expression.Name(AttrParkedPK)).Remove(expression.Name("claim_owner")).Remove(expression.Name("claim_until"))
	// Of two requeues, the first turns the status to queued and the
	// second's condition fails, so no attempt is lost.
	cond := expression.Name("status").In(expression.Value(StatusFailed), expression.Value(StatusDead), expression.Value(StatusParked))
	return s.update(ctx, op, ws, eventID, update, cond)
}

func (s *Store) update(ctx context.Context, op, ws, eventID string, update expression.UpdateBuilder, cond expression.ConditionBuilder) (Delivery, error) {
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return Delivery{}, failure.New(op, failure.Invalid, err)
	}
	x := render(expr)
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key(wsKey(ws), deliveryKey(eventID)),
		UpdateExpression: x.Update, ConditionExpression: x.Condition,
		ExpressionAttributeNames: x.Names, ExpressionAttributeValues: x.Values,
		ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return Delivery{}, failure.Classify(op, err)
	}
	var it deliveryItem
	if err := attributevalue.UnmarshalMap(out.Attributes, &it); err != nil {
		return Delivery{}, failure.New(op, failure.Invalid, err)
	}
	return it.Delivery, nil
}

// Page is one page of deliveries, newest first, with the cursor of the
// next page ("" at the end).
type Page struct {
	Deliveries []Delivery
	Next       string
}

// ListDeliveries lists a funnel's deliveries, newest first, optionally in
// one status, limit per page (1 to 100). cursor is a previous page's Next;
// a cursor of another list is failure.ErrInvalid.
func (s *Store) ListDeliveries(ctx context.Context, ws, funnel string, status Status, limit int, cursor string) (Page, error) {
	const op = "store: list deliveries"
	index, pkAttr, pk := IndexByFunnel, AttrGSI1PK, funnelIndexKey(ws, funnel)
	if status != "" {
		index, pkAttr, pk = IndexByStatus, AttrGSI2PK, statusIndexKey(ws, funnel, status)
	}
	return s.queryIndex(ctx, op, ws, index, pkAttr, pk, limit, cursor)
}

// ListParked lists the deliveries parked until the connection's
// credentials are replaced.
func (s *Store) ListParked(ctx context.Context, ws, connectionID string, limit int, cursor string) (Page, error) {
	return s.queryIndex(ctx, "store: list parked", ws, IndexParked, AttrParkedPK, parkedKey(ws, connectionID), limit, cursor)
}

func (s *Store) queryIndex(ctx context.Context, op, ws, index, pkAttr, pk string, limit int, cursor string) (Page, error) {
	limit = min(max(limit, 1), 100)
	kc := expression.Key(pkAttr).Equal(expression.Value(pk))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).Build()
	if err != nil {
		return Page{}, failure.New(op, failure.Invalid, err)
	}
	x := render(expr)
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(index),
		KeyConditionExpression: x.KeyCondition, ExpressionAttributeNames: x.Names,
		ExpressionAttributeValues: x.Values, ScanIndexForward: aws.Bool(false), Limit: aws.Int32(int32(limit)),
	}
	if cursor != "" {
		start, err := decodeCursor(cursor, ws, pkAttr, pk)
		if err != nil {
			return Page{}, failure.New(op, failure.Invalid, err)
		}
		in.ExclusiveStartKey = start
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return Page{}, failure.Classify(op, err)
	}
	var items []deliveryItem
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return Page{}, failure.New(op, failure.Invalid, err)
	}
	page := Page{Deliveries: make([]Delivery, 0, len(items))}
	for _, it := range items {
		page.Deliveries = append(page.Deliveries, it.Delivery)
	}
	if len(out.LastEvaluatedKey) > 0 {
		page.Next, err = encodeCursor(out.LastEvaluatedKey)
		if err != nil {
			return Page{}, failure.New(op, failure.Invalid, err)
		}
	}
	return page, nil
}

// A cursor is the page's last key (its string key attributes) as JSON,
// base64url-encoded. It is checked to belong to the same list, so a
// cursor cannot reach into another workspace.
func encodeCursor(k map[string]types.AttributeValue) (string, error) {
	m := map[string]string{}
	for name, v := range k {
		if sv, ok := v.(*types.AttributeValueMemberS); ok && keyAttrs[name] {
			m[name] = sv.Value
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

var keyAttrs = map[string]bool{AttrPK: true, AttrSK: true, AttrGSI1PK: true, AttrGSI1SK: true, AttrGSI2PK: true, AttrParkedPK: true}

func decodeCursor(c, ws, pkAttr, pk string) (map[string]types.AttributeValue, error) {
	bad := errors.New("the cursor is not one this list gave")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, bad
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil || m[AttrPK] != wsKey(ws) {
		return nil, bad
	}
	if v, ok := m[pkAttr]; ok && v != pk {
		return nil, bad
	}
	out := map[string]types.AttributeValue{}
	for name, v := range m {
		if !keyAttrs[name] {
			return nil, bad
		}
		out[name] = &types.AttributeValueMemberS{Value: v}
	}
	return out, nil
}

// EraseApplicant deletes every delivery record of the workspace whose
// e-mail hash is emailHash, with the events they hold, and returns how
// many were removed.
func (s *Store) EraseApplicant(ctx context.Context, ws, emailHash string) (int, error) {
	const op = "store: erase applicant"
	kc := expression.Key(AttrPK).Equal(expression.Value(wsKey(ws))).And(expression.Key(AttrSK).BeginsWith("DELIVERY#"))
	filter := expression.Name("email_hash").Equal(expression.Value(emailHash))
	expr, err := expression.NewBuilder().WithKeyCondition(kc).WithFilter(filter).
		WithProjection(expression.NamesList(expression.Name(AttrPK), expression.Name(AttrSK))).Build()
	if err != nil {
		return 0, failure.New(op, failure.Invalid, err)
	}
	x := render(expr)
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), KeyConditionExpression: x.KeyCondition, FilterExpression: x.Filter,
		ProjectionExpression: x.Projection, ExpressionAttributeNames: x.Names, ExpressionAttributeValues: x.Values,
	}
	n := 0
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return n, failure.Classify(op, err)
		}
		for _, k := range page.Items {
			if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: k}); err != nil {
				return n, failure.Classify(op, err)
			}
			n++
		}
		if len(page.LastEvaluatedKey) == 0 {
			return n, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}
