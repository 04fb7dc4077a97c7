package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
)

// MaxAttempts bounds the attempts kept on a record.
const MaxAttempts = 25

// Attempt is one try at delivering.
type Attempt struct {
	At         time.Time        `dynamodbav:"at" json:"at"`
	Outcome    lifecycle.Status `dynamodbav:"outcome" json:"outcome"`
	ReasonCode lifecycle.Reason `dynamodbav:"reason_code,omitempty" json:"reason_code,omitempty"`
	Reason     string           `dynamodbav:"reason,omitempty" json:"reason,omitempty"`
}

// Tries counts the worker's tries to deliver among attempts: an entry
// with an outcome, or a 429 from Personio (recorded as queued again);
// being queued, sent again on request or waiting for the rate budget is
// no try.
func Tries(attempts []Attempt) int {
	n := 0
	for _, a := range attempts {
		if lifecycle.IsTry(a.Outcome, a.ReasonCode) {
			n++
		}
	}
	return n
}

// Delivery is the record of one event's way to Personio. The original
// event is kept beside it (the table is encrypted at rest; see eventItem)
// so that a failed delivery can be retried after the mapping or
// credentials are fixed; the applicant's e-mail is only in the event and
// as keyed hashes (of every address the event holds, and of the one the
// mapping took), for erasure.
type Delivery struct {
	WorkspaceID   string           `dynamodbav:"workspace_id"`
	FunnelID      string           `dynamodbav:"funnel_id"`
	EventID       string           `dynamodbav:"event_id"`
	Status        lifecycle.Status `dynamodbav:"status"`
	Test          bool             `dynamodbav:"test,omitempty"`
	ConnectionID  string           `dynamodbav:"connection_id,omitempty"`
	CompanyID     string           `dynamodbav:"company_id,omitempty"`
	OccurredAt    time.Time        `dynamodbav:"occurred_at"`
	CreatedAt     time.Time        `dynamodbav:"created_at"`
	UpdatedAt     time.Time        `dynamodbav:"updated_at"`
	DeliveredAt   *time.Time       `dynamodbav:"delivered_at,omitempty"`
	NextAttemptAt *time.Time       `dynamodbav:"next_attempt_at,omitempty"`
	ReasonCode    lifecycle.Reason `dynamodbav:"reason_code,omitempty"`
	Reason        string           `dynamodbav:"reason,omitempty"`
	Warnings      []string         `dynamodbav:"warnings,omitempty"`
	Attempts      []Attempt        `dynamodbav:"attempts"`
	EmailHashes   []string         `dynamodbav:"email_hashes,stringset,omitempty"`
	// PersonioApplicationID is Personio's id of the delivered
	// application, when a read of Personio's v2 API confirmed it.
	PersonioApplicationID string `dynamodbav:"personio_application_id,omitempty"`
	// JobPositionID is the position the last attempt sent to (0 before
	// an attempt chose one), and PositionReason why: "default position",
	// or the answer that picked it ("answer 'Sales' of q_position").
	JobPositionID  int64  `dynamodbav:"job_position_id,omitempty"`
	PositionReason string `dynamodbav:"position_reason,omitempty"`
	// MappedEmailHash is the keyed hash of the address the mapping took
	// (one of EmailHashes): whose applications a read of Personio looks at.
	MappedEmailHash string `dynamodbav:"mapped_email_hash,omitempty"`
	// Event is the event as the funnel sent it: written by CreateDelivery
	// (and by Claim for an event that came straight to the queue) into an
	// item of its own, read with Store.Event. A record read back carries
	// it only if it was written before events were kept apart.
	Event []byte `dynamodbav:"-"`
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
func (d Delivery) Terminal() bool { return d.Status.Terminal() }

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
	PK     string `dynamodbav:"pk"`
	SK     string `dynamodbav:"sk"`
	GSI1PK string `dynamodbav:"gsi1pk"`
	GSI1SK string `dynamodbav:"gsi1sk"`
	// Stage is stageOf(lifecycle.Status): what the delivery log index keeps.
	Stage    string `dynamodbav:"stage"`
	ParkedPK string `dynamodbav:"parked_pk,omitempty"`
	// EventKept says the event's item was written.
	EventKept bool `dynamodbav:"event_kept,omitempty"`
	// LegacyEvent is the event of a record written when records held it.
	LegacyEvent []byte `dynamodbav:"event,omitempty"`

	Delivery
}

// delivery is the record's delivery, with its event if the record holds
// one.
func (it deliveryItem) delivery() Delivery {
	d := it.Delivery
	if len(d.Event) == 0 {
		d.Event = it.LegacyEvent
	}
	return d
}

// stageActive is the stage of a delivery on its way.
const stageActive = "active"

// stageOf is what the delivery log index keeps of a status: the status
// itself once the delivery rests (delivered, unconfirmed, failed, parked,
// dead, skipped), and "active" while it is on its way (queued, processing,
// retrying). A delivery's claims, turns and retries go from one status on
// the way to another and leave its index entry as it is; the entry is
// written when the delivery is created and when it comes to rest.
func stageOf(s lifecycle.Status) string {
	if s.OnTheWay() {
		return stageActive
	}
	return string(s)
}

// setStatus is the one way an update writes a record's status: with its
// stage, and without gsi2pk, which marks a record last written by a
// version that kept no stage.
func setStatus(u expression.UpdateBuilder, s lifecycle.Status) expression.UpdateBuilder {
	return u.Set(expression.Name("status"), expression.Value(s)).
		Set(expression.Name(AttrStage), expression.Value(stageOf(s))).
		Remove(expression.Name(AttrGSI2PK))
}

func sortKey(d Delivery) string {
	return sortableTime(d.CreatedAt) + "#" + d.EventID
}

// sortableTime is t in UTC, with every digit of its fraction: as text it
// sorts as the times do.
func sortableTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z")
}

// CreateDelivery records a new delivery (ingest's record of an accepted
// event). A record for the event id already in the workspace is a
// conflict: the event was accepted before.
func (s *Store) CreateDelivery(ctx context.Context, d Delivery) (Delivery, error) {
	const op = "store: create delivery"
	now := s.now().UTC()
	d.CreatedAt, d.UpdatedAt = now, now
	if d.Status == "" {
		d.Status = lifecycle.StatusQueued
	}
	d.ExpiresAt = now.Add(s.retention).Unix()
	if d.Attempts == nil {
		d.Attempts = []Attempt{}
	}
	it := s.deliveryItem(d)
	it.EventKept = len(d.Event) > 0
	item, err := attributevalue.MarshalMap(it)
	if err != nil {
		return Delivery{}, failure.New(op, failure.Invalid, err)
	}
	put := &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(pk)")}
	writes := []types.TransactWriteItem{{Put: put}}
	if it.EventKept {
		// The event's item in the same transaction: a record never says
		// its event is kept before it is, and an erased applicant's event
		// is never written, not even for a moment.
		ev, err := eventItemOf(d)
		if err != nil {
			return Delivery{}, failure.New(op, failure.Invalid, err)
		}
		writes = append(writes, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: ev}})
	}
	hashes := slices.DeleteFunc(slices.Clone(d.EmailHashes), func(h string) bool { return h == "" })
	if len(hashes) == 0 && len(writes) == 1 {
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.TableName, Item: item, ConditionExpression: put.ConditionExpression})
		return d, failure.Classify(op, err)
	}
	// The record is written in one transaction with a check of the
	// applicant's erasure markers, so an erasure that lands before it is
	// never undone: the record and the event are refused (ErrErased). A
	// record already there (a repeat) is failure.ErrConflict.
	err = s.unlessErased(ctx, op, d.WorkspaceID, hashes, writes...)
	if err != nil && !errors.Is(err, ErrErased) {
		err = failure.Classify(op, err)
	}
	return d, err
}

// Withdraw deletes the record CreateDelivery wrote for d, with its event,
// if nothing wrote the record since (its updated_at is d's): ingest's way
// back when it cannot queue the event it recorded. A record written since
// (a worker claimed it) is failure.ErrConflict and stays.
func (s *Store) Withdraw(ctx context.Context, d Delivery) error {
	const op = "store: withdraw delivery"
	expr, err := expression.NewBuilder().WithCondition(expression.Name("updated_at").Equal(expression.Value(d.UpdatedAt))).Build()
	if err != nil {
		return failure.New(op, failure.Invalid, err)
	}
	x := render(expr)
	_, err = s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: key(wsKey(d.WorkspaceID), deliveryKey(d.EventID)),
		ConditionExpression: x.Condition, ExpressionAttributeNames: x.Names, ExpressionAttributeValues: x.Values})
	if err != nil {
		return failure.Classify(op, err)
	}
	return s.forgetEvent(ctx, op, d.WorkspaceID, d.EventID)
}

func (s *Store) deliveryItem(d Delivery) deliveryItem {
	it := deliveryItem{
		PK: wsKey(d.WorkspaceID), SK: deliveryKey(d.EventID),
		GSI1PK: funnelIndexKey(d.WorkspaceID, d.FunnelID), GSI1SK: sortKey(d),
		Stage: stageOf(d.Status), Delivery: d,
	}
	if d.Status == lifecycle.StatusParked && d.ConnectionID != "" {
		it.ParkedPK = parkedKey(d.WorkspaceID, d.ConnectionID)
	}
	return it
}

// GetDelivery reads one delivery of the workspace.
func (s *Store) GetDelivery(ctx context.Context, ws, eventID string) (Delivery, error) {
	var it deliveryItem
	err := s.get(ctx, "store: get delivery", wsKey(ws), deliveryKey(eventID), &it)
	return it.delivery(), err
}

// Claim takes the event for one worker for lease: it creates the record
// if there is none (events sent straight to the queue), and succeeds if
// the event is not delivered and no other worker holds an unexpired claim.
// A delivered event is ErrAlreadyDelivered; a claim held by another worker
// is failure.ErrConflict. The returned record is the claimed one.
//
// A delayed copy of a message names its defer token in d.DeferToken: it
// claims only if the record exists and waits for that very copy; any
// other copy is ErrStaleCopy and changes nothing. Claim never sets the
// record's Test flag: only the editor's test endpoint writes it.
func (s *Store) Claim(ctx context.Context, d Delivery, owner string, lease time.Duration) (Delivery, error) {
	claimed, _, err := s.claim(ctx, d, owner, lease, false)
	return claimed, err
}

// IntegrationLook is the funnel's integration as ClaimReading read it.
type IntegrationLook struct {
	Integration Integration
	// Read says whether the claim read it; Found whether the funnel has
	// one.
	Read, Found bool
	// Connection is the integration's connection, read in the same
	// request when this instance knew which one the integration names
	// (from its last read of it); nil when it was not read, is not
	// there, or is not the one the integration names now.
	Connection *Connection
}

// ClaimReading is Claim that reads the funnel's integration in the same
// request as its look at the record (a strongly consistent batch read),
// so that the worker need not read it again: one request less. The claim
// of an event without addresses does not look first (one conditional
// update) and reads nothing: then the look's Read is false.
func (s *Store) ClaimReading(ctx context.Context, d Delivery, owner string, lease time.Duration) (Delivery, IntegrationLook, error) {
	return s.claim(ctx, d, owner, lease, true)
}

// claim is Claim, reading the funnel's integration in the same request
// when read is set.
func (s *Store) claim(ctx context.Context, d Delivery, owner string, lease time.Duration, read bool) (Delivery, IntegrationLook, error) {
	const op = "store: claim delivery"
	now := s.now().UTC()
	if d.CreatedAt.IsZero() {
		d.CreatedAt = now
	}
	fresh := s.deliveryItem(Delivery{WorkspaceID: d.WorkspaceID, FunnelID: d.FunnelID, EventID: d.EventID, CreatedAt: d.CreatedAt, Status: lifecycle.StatusProcessing})
	was, look, existed, err := s.claimWrite(ctx, op, d, fresh, s.claimUpdate(d, fresh, owner, now, lease), claimCondition(d, owner, now), read)
	if errors.Is(err, ErrErased) {
		return Delivery{}, look, err
	}
	if err != nil {
		if !isConflict(op, err) {
			return Delivery{}, look, failure.Classify(op, err)
		}
		cur, err := s.claimRefused(ctx, op, d, owner, now)
		return cur, look, err
	}
	claimed := s.claimed(d, was, existed, owner, now, lease)
	if len(d.Event) > 0 && !was.EventKept && len(was.LegacyEvent) == 0 {
		// Ingest did not write the event (it came straight to the queue,
		// or ingest's write failed): it is kept now, and the owner's next
		// Record marks the record.
		if err := s.keepEvent(ctx, op, claimed); err != nil {
			return Delivery{}, look, err
		}
		s.keeping.add(d.Key(), owner)
	}
	s.attempts.put(d.Key(), owner, claimed.Attempts)
	return claimed, look, nil
}

// claimUpdate is the claim's update: the record in processing under the
// owner's lease, created with the event's fields if it is new, out of the
// parked index.
func (s *Store) claimUpdate(d Delivery, fresh deliveryItem, owner string, now time.Time, lease time.Duration) expression.UpdateBuilder {
	update := setStatus(expression.
		Set(expression.Name("claim_owner"), expression.Value(owner)).
		Set(expression.Name("claim_until"), expression.Value(millis(now.Add(lease)))), lifecycle.StatusProcessing).
		Set(expression.Name("updated_at"), expression.Value(now)).
		Set(expression.Name("workspace_id"), expression.Value(d.WorkspaceID)).
		Set(expression.Name("funnel_id"), expression.Value(d.FunnelID)).
		Set(expression.Name("event_id"), expression.Value(d.EventID)).
		Set(expression.Name("created_at"), expression.IfNotExists(expression.Name("created_at"), expression.Value(d.CreatedAt))).
		Set(expression.Name("occurred_at"), expression.IfNotExists(expression.Name("occurred_at"), expression.Value(d.OccurredAt))).
		Set(expression.Name("expires_at"), expression.IfNotExists(expression.Name("expires_at"), expression.Value(now.Add(s.retention).Unix()))).
		Set(expression.Name(AttrGSI1PK), expression.Value(fresh.GSI1PK)).
		Set(expression.Name(AttrGSI1SK), expression.IfNotExists(expression.Name(AttrGSI1SK), expression.Value(fresh.GSI1SK))).
		Set(expression.Name("attempts"), expression.IfNotExists(expression.Name("attempts"), expression.Value(&types.AttributeValueMemberL{Value: []types.AttributeValue{}}))).
		Remove(expression.Name(AttrParkedPK))
	if len(d.EmailHashes) > 0 {
		update = update.Add(expression.Name("email_hashes"), expression.Value(&types.AttributeValueMemberSS{Value: d.EmailHashes}))
	}
	return update
}

// claimCondition is what must hold for the claim: the record absent, or in
// a status lifecycle lets a claim leave with no lease in force but the
// owner's; a delayed copy's claim also needs its defer token.
func claimCondition(d Delivery, owner string, now time.Time) expression.ConditionBuilder {
	claimable := statusIn(lifecycle.Claim).And(
		expression.AttributeNotExists(expression.Name("claim_until")).
			Or(expression.Name("claim_until").LessThan(expression.Value(millis(now)))).
			Or(expression.Name("claim_owner").Equal(expression.Value(owner))))
	if d.DeferToken != "" {
		return claimable.And(expression.Name("defer_token").Equal(expression.Value(d.DeferToken)))
	}
	return expression.AttributeNotExists(expression.Name(AttrPK)).Or(claimable)
}

// claimed is the record as the claim left it: the one it found (was, if
// it existed) with the claim's fields, or a new one from d.
func (s *Store) claimed(d Delivery, was deliveryItem, existed bool, owner string, now time.Time, lease time.Duration) Delivery {
	claimed := d
	claimed.Attempts = []Attempt{}
	claimed.CreatedAt = d.CreatedAt.UTC()
	claimed.ExpiresAt = now.Add(s.retention).Unix()
	claimed.Test = false // a record Claim creates is never a test
	if existed {
		claimed = was.delivery()
		claimed.TakenOver = was.Status == lifecycle.StatusProcessing && was.ClaimOwner != owner
		if claimed.Attempts == nil {
			claimed.Attempts = []Attempt{}
		}
		if len(d.Event) > 0 {
			claimed.Event = d.Event
		}
		for _, h := range d.EmailHashes {
			if !slices.Contains(claimed.EmailHashes, h) {
				claimed.EmailHashes = append(claimed.EmailHashes, h)
			}
		}
		if claimed.OccurredAt.IsZero() {
			claimed.OccurredAt = d.OccurredAt
		}
		if claimed.ExpiresAt == 0 {
			claimed.ExpiresAt = now.Add(s.retention).Unix()
		}
	}
	claimed.WorkspaceID, claimed.FunnelID, claimed.EventID = d.WorkspaceID, d.FunnelID, d.EventID
	claimed.Status, claimed.ClaimOwner, claimed.ClaimUntil, claimed.UpdatedAt = lifecycle.StatusProcessing, owner, millis(now.Add(lease)), now
	return claimed
}

// ErrErased is a claim refused because an erasure marker names an
// address of the event: the applicant was erased; nothing was written.
var ErrErased = errors.New("store: the applicant was erased")

// claimWrite applies the claim. An event with addresses looks first, in
// one strongly consistent batch read, at the record as it is, the
// applicant's erasure markers and, with read, the funnel's integration
// and connection: a marker that holds refuses the claim (ErrErased) and
// nothing is written. The claim holds only if the record is still as read
// (what it found tells a take-over), and it is written in one transaction
// with a check of the markers (lifecycle.GuardNotErased): an erasure
// writes its marker before it deletes the applicant's records, so a
// marker that lands between the look and the claim, with the record not
// yet deleted, still refuses the claim, and a claim never writes an erased
// applicant's record (TestClaimErasedMarkerBeforeUpdate).
// Without addresses the claim is one conditional update that returns the
// record as it was. existed says whether there was a record.
func (s *Store) claimWrite(ctx context.Context, op string, d Delivery, fresh deliveryItem, update expression.UpdateBuilder,
	cond expression.ConditionBuilder, read bool) (was deliveryItem, look IntegrationLook, existed bool, err error) {
	hashes := slices.DeleteFunc(slices.Clone(d.EmailHashes), func(h string) bool { return h == "" })
	var raw map[string]types.AttributeValue
	if len(hashes) > 0 {
		raw, look, err = s.lookBeforeClaim(ctx, op, fresh, d.FunnelID, read)
		if err != nil {
			return was, look, false, err
		}
		if err := attributevalue.UnmarshalMap(raw, &was); err != nil {
			return was, look, false, failure.New(op, failure.Invalid, err)
		}
		cond = cond.And(unchanged(raw, "updated_at"))
	}
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return was, look, false, failure.New(op, failure.Invalid, err)
	}
	x := render(expr)
	u := &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key(fresh.PK, fresh.SK),
		UpdateExpression: x.Update, ConditionExpression: x.Condition, ExpressionAttributeNames: x.Names, ExpressionAttributeValues: x.Values}
	if len(hashes) > 0 {
		return was, look, raw != nil, s.unlessErased(ctx, op, d.WorkspaceID, hashes, types.TransactWriteItem{Update: &types.Update{
			TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression, ConditionExpression: u.ConditionExpression,
			ExpressionAttributeNames: u.ExpressionAttributeNames, ExpressionAttributeValues: u.ExpressionAttributeValues}})
	}
	u.ReturnValues = types.ReturnValueAllOld
	out, err := s.db.UpdateItem(ctx, u)
	if err != nil {
		return was, look, false, err
	}
	if err := attributevalue.UnmarshalMap(out.Attributes, &was); err != nil {
		return was, look, false, failure.New(op, failure.Invalid, err)
	}
	return was, look, len(out.Attributes) > 0, nil
}

// lookBeforeClaim reads, in one strongly consistent request, the record
// as it is before the claim (nil when there is none) and, with read, the
// funnel's integration and the connection it named when this instance
// last read it. The erasure markers are not read here: the claim's
// transaction checks them, and only that check holds.
func (s *Store) lookBeforeClaim(ctx context.Context, op string, fresh deliveryItem, funnel string, read bool) (
	raw map[string]types.AttributeValue, look IntegrationLook, err error) {
	keys := []map[string]types.AttributeValue{key(fresh.PK, fresh.SK)}
	read = read && funnel != ""
	conn, knows := s.connections.of(fresh.PK, funnel)
	knows = knows && read
	if read {
		keys = append(keys, key(fresh.PK, funnelKey(funnel)))
	}
	if knows {
		keys = append(keys, key(fresh.PK, connKey(conn)))
	}
	found, err := s.batchGet(ctx, op, keys)
	if err != nil {
		return nil, look, err
	}
	look.Read = read
	var c *Connection
	for _, it := range found {
		sk, _ := it[AttrSK].(*types.AttributeValueMemberS)
		switch {
		case sk == nil:
		case sk.Value == fresh.SK:
			raw = it
		case read && sk.Value == funnelKey(funnel):
			var in integrationItem
			if err := attributevalue.UnmarshalMap(it, &in); err != nil {
				return nil, look, failure.New(op, failure.Invalid, err)
			}
			look.Integration, look.Found = in.Integration, true
		case knows && sk.Value == connKey(conn):
			var ci connectionItem
			if err := attributevalue.UnmarshalMap(it, &ci); err != nil {
				return nil, look, failure.New(op, failure.Invalid, err)
			}
			c = &ci.Connection
		}
	}
	if look.Found {
		s.connections.put(fresh.PK, funnel, look.Integration.ConnectionID)
		if c != nil && c.ID == look.Integration.ConnectionID {
			look.Connection = c
		}
	}
	return raw, look, nil
}

// funnelConnections remembers which connection each funnel's integration
// named when this instance last read it, so that the next claim's read
// takes the connection with the integration (an integration that names
// another connection since costs a read of its own, once).
type funnelConnections struct {
	mu sync.Mutex
	m  map[string]string
}

func (f *funnelConnections) of(wsPK, funnel string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.m[wsPK+"/"+funnel]
	return c, ok && c != ""
}

func (f *funnelConnections) put(wsPK, funnel, conn string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil || len(f.m) >= maxKnownFunnels {
		f.m = map[string]string{}
	}
	f.m[wsPK+"/"+funnel] = conn
}

// maxKnownFunnels bounds the funnels remembered (the map starts afresh
// past it).
const maxKnownFunnels = 10000

// unlessErased writes w in one transaction with a check on each
// address's erasure marker: absent, or expired. A marker that holds is
// ErrErased, and nothing is written.
func (s *Store) unlessErased(ctx context.Context, op, ws string, hashes []string, w ...types.TransactWriteItem) error {
	items := slices.Clone(w)
	gone, err := expression.NewBuilder().WithCondition(expression.AttributeNotExists(expression.Name(AttrPK)).
		Or(expression.Name(AttrTTL).LessThanEqual(expression.Value(s.now().Unix())))).Build()
	if err != nil {
		return failure.New(op, failure.Invalid, err)
	}
	g := render(gone)
	for _, h := range hashes {
		items = append(items, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String(s.table),
			Key: key(wsKey(ws), erasedKey(h)), ConditionExpression: g.Condition, ExpressionAttributeNames: g.Names, ExpressionAttributeValues: g.Values}})
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var tc *types.TransactionCanceledException
	if errors.As(err, &tc) {
		for i, r := range tc.CancellationReasons {
			if i >= len(w) && aws.ToString(r.Code) == "ConditionalCheckFailed" {
				return ErrErased
			}
		}
	}
	return err
}

// claimRefused says why a claim's condition did not hold: the event was
// delivered, the copy is stale, or another worker holds the claim.
func (s *Store) claimRefused(ctx context.Context, op string, d Delivery, owner string, now time.Time) (Delivery, error) {
	cur, gerr := s.GetDelivery(ctx, d.WorkspaceID, d.EventID)
	// A copy that arrives while another worker holds the claim may be
	// the very copy that worker just sent and is about to write the
	// token of (it sends the copy, then records): it waits for the
	// claim like any message, and is judged stale only once the claim
	// is free. Dropping it then would leave the record waiting for a
	// copy that is gone.
	held := gerr == nil && cur.ClaimOwner != "" && cur.ClaimOwner != owner && cur.ClaimUntil >= millis(now)
	switch {
	case gerr == nil && cur.Status == lifecycle.StatusDelivered:
		return cur, ErrAlreadyDelivered
	case d.DeferToken != "" && !held && (errors.Is(gerr, failure.ErrNotFound) || gerr == nil && cur.DeferToken != d.DeferToken):
		return cur, ErrStaleCopy
	}
	return cur, failure.New(op, failure.Conflict, errors.New("claimed by another worker"))
}

// Change is a state change of a delivery, with the attempt that led to it.
type Change struct {
	Status        lifecycle.Status
	ReasonCode    lifecycle.Reason
	Reason        string
	Warnings      []string
	NextAttemptAt *time.Time
	ConnectionID  string // for parking: whose credentials to wait for
	// ParkOnPosition parks on the funnel's job position (unpublished)
	// instead of on the connection.
	ParkOnPosition bool
	// RoutedPosition, with ParkOnPosition, parks on that routed position
	// (not the default) instead: only its publication sends it on.
	RoutedPosition int64
	// Position and PositionReason, if set, say which position the attempt
	// chose and why.
	Position       int64
	PositionReason string
	CompanyID      string
	// Attempt, if set, is appended to the record's attempts.
	Attempt *Attempt
	// DeferToken is set when a delayed copy of the message was sent; it
	// replaces the previous one.
	DeferToken string
	// OutcomeUnknown sets the record's OutcomeUnknown (it is never
	// cleared).
	OutcomeUnknown bool
	// EmailHash, if set, is added to the record's e-mail hashes: the
	// hash of the address the mapping took.
	EmailHash string
	// PersonioApplicationID, if set, is Personio's id of the delivered
	// application.
	PersonioApplicationID string
	// Tell are outbound events recorded pending with the change (a
	// delivery that failed or went dead), in the same request (Pending).
	Tell []Pending
}

// Record writes a state change made by the claim's owner. A change by a
// worker that no longer holds the claim is failure.ErrConflict, so a
// worker whose lease ran out cannot overwrite its successor's work.
func (s *Store) Record(ctx context.Context, k DeliveryKey, owner string, c Change) (Delivery, error) {
	const op = "store: record delivery"
	on, ok := lifecycle.Outcome(c.Status)
	if !ok {
		return Delivery{}, failure.New(op, failure.Invalid, &lifecycle.ErrNotAllowed{From: lifecycle.StatusProcessing, On: lifecycle.Event(c.Status)})
	}
	update := recordUpdate(k, s.now().UTC(), c)
	known, ok := s.attempts.take(k, owner)
	if c.Attempt != nil {
		// Only the claim's owner writes, so reading the attempts and writing
		// them back with one more cannot lose another's attempt. The
		// attempts this instance's claim (or last record) left need no
		// read: nothing else changes them while the claim is held (see
		// attemptsSeen).
		if !ok {
			cur, err := s.GetDelivery(ctx, k.Workspace, k.Event)
			if err != nil {
				return Delivery{}, err
			}
			if cur.ClaimOwner != owner {
				return Delivery{}, failure.New(op, failure.Conflict, errors.New("the claim is held by another worker"))
			}
			known = cur.Attempts
		}
		update = update.Set(expression.Name("attempts"), expression.Value(appendAttempt(known, *c.Attempt)))
	}
	if s.keeping.take(k, owner) {
		update = update.Set(expression.Name("event_kept"), expression.Value(true))
	}
	cond := expression.Name("claim_owner").Equal(expression.Value(owner)).And(statusIn(on))
	if len(c.Tell) > 0 {
		return s.recordTelling(ctx, op, k, update, cond, c.Tell)
	}
	return s.update(ctx, op, k.Workspace, k.Event, update, cond)
}

// recordTelling writes a Record's update and its pending events in one
// transaction. A transaction returns no item: the Delivery returned holds
// its key only.
func (s *Store) recordTelling(ctx context.Context, op string, k DeliveryKey, update expression.UpdateBuilder, cond expression.ConditionBuilder, tell []Pending) (Delivery, error) {
	expr, err := expression.NewBuilder().WithUpdate(update).WithCondition(cond).Build()
	if err != nil {
		return Delivery{}, failure.New(op, failure.Invalid, err)
	}
	if err := s.updateTelling(ctx, op, wsKey(k.Workspace), deliveryKey(k.Event), render(expr), tell); err != nil {
		return Delivery{}, err
	}
	return Delivery{WorkspaceID: k.Workspace, FunnelID: k.Funnel, EventID: k.Event}, nil
}

// recordUpdate is what a Record of c writes at now (all but the attempts
// and the kept event's mark): the status and reason, the fields c sets,
// the parked index's key when it parks, and the claim gone: every change
// the owner records ends its handling.
func recordUpdate(k DeliveryKey, now time.Time, c Change) expression.UpdateBuilder {
	update := setStatus(expression.Set(expression.Name("updated_at"), expression.Value(now)), c.Status).
		Set(expression.Name("reason_code"), expression.Value(c.ReasonCode)).
		Set(expression.Name("reason"), expression.Value(c.Reason))
	set := func(name string, v any, when bool) {
		if when {
			update = update.Set(expression.Name(name), expression.Value(v))
		}
	}
	set("warnings", c.Warnings, c.Warnings != nil)
	set("delivered_at", now, c.Status == lifecycle.StatusDelivered)
	set("connection_id", c.ConnectionID, c.ConnectionID != "")
	set("company_id", c.CompanyID, c.CompanyID != "")
	set("outcome_unknown", true, c.OutcomeUnknown)
	set("personio_application_id", c.PersonioApplicationID, c.PersonioApplicationID != "")
	// The newest deferral's token stays until the next deferral: the copy
	// that carries it may come back after a retry, too.
	set("defer_token", c.DeferToken, c.DeferToken != "")
	if c.NextAttemptAt != nil {
		update = update.Set(expression.Name("next_attempt_at"), expression.Value(c.NextAttemptAt.UTC()))
	} else {
		update = update.Remove(expression.Name("next_attempt_at"))
	}
	if c.EmailHash != "" {
		update = update.Add(expression.Name("email_hashes"), expression.Value(&types.AttributeValueMemberSS{Value: []string{c.EmailHash}})).
			Set(expression.Name("mapped_email_hash"), expression.Value(c.EmailHash))
	}
	if c.Position != 0 {
		update = update.Set(expression.Name("job_position_id"), expression.Value(c.Position)).
			Set(expression.Name("position_reason"), expression.Value(c.PositionReason))
	}
	switch {
	case c.Status == lifecycle.StatusParked && c.ParkOnPosition && c.RoutedPosition != 0:
		update = update.Set(expression.Name(AttrParkedPK), expression.Value(routedParkedKey(k.Workspace, k.Funnel, c.RoutedPosition)))
	case c.Status == lifecycle.StatusParked && c.ParkOnPosition:
		update = update.Set(expression.Name(AttrParkedPK), expression.Value(positionParkedKey(k.Workspace, k.Funnel)))
	case c.Status == lifecycle.StatusParked && c.ConnectionID != "":
		update = update.Set(expression.Name(AttrParkedPK), expression.Value(parkedKey(k.Workspace, c.ConnectionID)))
	default:
		update = update.Remove(expression.Name(AttrParkedPK))
	}
	return update.Remove(expression.Name("claim_owner")).Remove(expression.Name("claim_until"))
}

// attemptsSeen remembers, for each claim of this instance that is held,
// the record's attempts as the claim's last write left them, so that the
// owner's Record appends to them without reading the record. While a
// claim is held nothing else changes its record's attempts: Record is
// conditional on the claim; another Claim sets attempts only where there
// are none, and one that takes the claim over makes this owner's Record
// fail; Requeue needs a failed, dead or parked record, and the claim made
// it processing (a Requeue of a record the owner parked without
// releasing drops the claim); an erasure deletes the record. A claim this
// instance does not remember (another instance made it, or the memory
// was cleared) reads the record, as before.
type attemptsSeen struct {
	mu   sync.Mutex
	seen map[string][]Attempt
}

// maxAttemptsSeen bounds the claims remembered (the memory starts afresh
// past it: claims ended without a Record, by an erasure or a lost lease,
// stay until then).
const maxAttemptsSeen = 10000

func (a *attemptsSeen) put(k DeliveryKey, owner string, attempts []Attempt) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.seen == nil || len(a.seen) >= maxAttemptsSeen {
		a.seen = map[string][]Attempt{}
	}
	a.seen[keepingKey(k, owner)] = slices.Clone(attempts)
}

// take returns the attempts remembered for the owner's claim, and forgets
// them.
func (a *attemptsSeen) take(k DeliveryKey, owner string) ([]Attempt, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	kk := keepingKey(k, owner)
	list, ok := a.seen[kk]
	delete(a.seen, kk)
	return list, ok
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
// status, or a record written since Requeue read it, is
// failure.ErrConflict.
func (s *Store) Requeue(ctx context.Context, k DeliveryKey, code lifecycle.Reason) (Delivery, error) {
	const op = "store: requeue delivery"
	ws, eventID := k.Workspace, k.Event
	now := s.now().UTC()
	var it deliveryItem
	raw, err := s.getItem(ctx, "store: get delivery", wsKey(ws), deliveryKey(eventID), &it)
	if err != nil {
		return Delivery{}, err
	}
	cur := it.delivery()
	update := setStatus(expression.Set(expression.Name("updated_at"), expression.Value(now)), lifecycle.StatusQueued).
		Set(expression.Name("reason_code"), expression.Value(code)).Set(expression.Name("reason"), expression.Value("")).
		Set(expression.Name("attempts"), expression.Value(appendAttempt(cur.Attempts, Attempt{At: now, Outcome: lifecycle.StatusQueued, ReasonCode: code}))).
		Remove(expression.Name(AttrParkedPK)).Remove(expression.Name("claim_owner")).Remove(expression.Name("claim_until"))
	// Of two requeues, the first turns the status to queued and the
	// second's condition fails, so no attempt is lost. The record must
	// also be as read (its updated_at as stored): the event is sent
	// before the mark (pkg/resume), and a worker that took it, failed
	// again and recorded so in between would otherwise lose its attempt
	// and be marked queued with its message gone.
	cond := statusIn(lifecycle.Requeue).And(unchanged(raw, "updated_at"))
	return s.update(ctx, op, ws, eventID, update, cond)
}

// statusIn is the condition that the record's status is one the
// lifecycle's event applies from (lifecycle.Table).
func statusIn(on lifecycle.Event) expression.ConditionBuilder {
	from := lifecycle.From(on)
	if len(from) == 0 {
		return expression.AttributeNotExists(expression.Name(AttrPK))
	}
	vals := make([]expression.OperandBuilder, 0, len(from)-1)
	for _, s := range from[1:] {
		vals = append(vals, expression.Value(s))
	}
	return expression.Name("status").In(expression.Value(from[0]), vals...)
}

// unchanged is the condition that the item's attribute is still what was
// read (raw), or still missing.
func unchanged(raw map[string]types.AttributeValue, attr string) expression.ConditionBuilder {
	if v, ok := raw[attr]; ok {
		return expression.Name(attr).Equal(expression.Value(v))
	}
	return expression.AttributeNotExists(expression.Name(attr))
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
	return it.delivery(), nil
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
//
// The delivery log index holds each delivery's keys and stage, not its
// record: the page's records are read from the table (BatchGetItem,
// strongly consistent), so a page shows each delivery as it is now, and a
// delivery erased since the index was written is left out. In one status,
// the index gives the deliveries in that status's stage (with those last
// written by the version before, which kept no stage), the records are
// held to the status, and pages of the index are read until the page is
// full or the index ends. While the index is being built (after a
// deploy that adds it), the list reads by_funnel instead (Retiring).
func (s *Store) ListDeliveries(ctx context.Context, ws, funnel string, status lifecycle.Status, limit int, cursor string) (Page, error) {
	const op = "store: list deliveries"
	list := funnelIndexKey(ws, funnel)
	if status != "" {
		list = statusIndexKey(ws, funnel, status)
	}
	before := ""
	if cursor != "" {
		var err error
		if before, err = decodeCursor(cursor, ws, list); err != nil {
			return Page{}, failure.New(op, failure.Invalid, err)
		}
	}
	kc := expression.Key(AttrGSI1PK).Equal(expression.Value(funnelIndexKey(ws, funnel)))
	if before != "" {
		kc = kc.And(expression.Key(AttrGSI1SK).LessThan(expression.Value(before)))
	}
	keep := func(it deliveryItem) bool { return status == "" || it.Status == status }
	b := expression.NewBuilder().WithKeyCondition(kc)
	if status != "" {
		b = b.WithFilter(expression.Name(AttrStage).Equal(expression.Value(stageOf(status))).
			Or(expression.AttributeNotExists(expression.Name(AttrStage))).
			Or(expression.AttributeExists(expression.Name(AttrGSI2PK))))
	}
	items, more, err := s.walkLog(ctx, op, IndexDeliveryLog, b, limit, s.records, keep)
	if unreadable(err, IndexDeliveryLog) {
		b = expression.NewBuilder().WithKeyCondition(kc)
		if status != "" {
			b = b.WithFilter(expression.Name("status").Equal(expression.Value(status)))
		}
		items, more, err = s.walkLog(ctx, op, IndexByFunnel, b, limit, asRecords, keep)
	}
	if err != nil {
		return Page{}, err
	}
	page := Page{Deliveries: unwrap(items, deliveryItem.delivery)}
	if more && len(items) > 0 {
		if page.Next, err = encodeCursor(ws, list, items[len(items)-1].GSI1SK); err != nil {
			return Page{}, failure.New(op, failure.Invalid, err)
		}
	}
	return page, nil
}

// walkLog reads an index of a funnel's deliveries newest first (the key
// condition and filter b) until it has limit records that keep, or the
// index ends; records turns a run of its entries into the records they
// stand for (those still there). It reports whether the index may hold
// more past the last record given.
func (s *Store) walkLog(ctx context.Context, op, index string, b expression.Builder, limit int,
	records func(context.Context, string, []deliveryItem) (map[string]deliveryItem, error), keep func(deliveryItem) bool) ([]deliveryItem, bool, error) {
	limit = min(max(limit, 1), 100)
	expr, err := b.Build()
	if err != nil {
		return nil, false, failure.New(op, failure.Invalid, err)
	}
	x := render(expr)
	// A filtered list may go through many entries to fill a page: each
	// round reads twice as many as the one before, up to 1,000.
	window := limit
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), IndexName: aws.String(index),
		KeyConditionExpression: x.KeyCondition, FilterExpression: x.Filter, ExpressionAttributeNames: x.Names,
		ExpressionAttributeValues: x.Values, ScanIndexForward: aws.Bool(false),
	}
	var out []deliveryItem
	for {
		in.Limit = aws.Int32(int32(window))
		res, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, false, failure.Classify(op, err)
		}
		var entries []deliveryItem
		if err := attributevalue.UnmarshalListOfMaps(res.Items, &entries); err != nil {
			return nil, false, failure.New(op, failure.Invalid, err)
		}
		for i := 0; i < len(entries); {
			// Read only as many as the page still needs.
			run := entries[i:min(i+limit-len(out), len(entries))]
			i += len(run)
			got, err := records(ctx, op, run)
			if err != nil {
				return nil, false, err
			}
			for _, e := range run {
				if it, ok := got[e.SK]; ok && keep(it) {
					out = append(out, it)
				}
			}
			if len(out) == limit {
				return out, i < len(entries) || len(res.LastEvaluatedKey) > 0, nil
			}
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, false, nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
		window = min(window*2, 1000)
	}
}

// asRecords is the records of an index that projects every attribute:
// its entries.
func asRecords(_ context.Context, _ string, entries []deliveryItem) (map[string]deliveryItem, error) {
	out := make(map[string]deliveryItem, len(entries))
	for _, e := range entries {
		out[e.SK] = e
	}
	return out, nil
}

// maxBatchTries bounds the BatchGetItem calls one read of records makes
// while DynamoDB leaves keys unprocessed (it does when throttled).
const maxBatchTries = 8

// records reads the delivery records of the workspace that entries name
// from the table, strongly consistent, by their sort key; a record that is
// gone is left out. entries are at most 100 (one BatchGetItem).
func (s *Store) records(ctx context.Context, op string, entries []deliveryItem) (map[string]deliveryItem, error) {
	out := make(map[string]deliveryItem, len(entries))
	keys := make([]map[string]types.AttributeValue, 0, len(entries))
	for _, e := range entries {
		keys = append(keys, key(e.PK, e.SK))
	}
	found, err := s.batchGet(ctx, op, keys)
	if err != nil {
		return nil, err
	}
	var items []deliveryItem
	if err := attributevalue.UnmarshalListOfMaps(found, &items); err != nil {
		return nil, failure.New(op, failure.Invalid, err)
	}
	for _, it := range items {
		out[it.SK] = it
	}
	return out, nil
}

// batchGet reads the items of keys (at most 100), strongly consistent, in
// one BatchGetItem and again for the keys DynamoDB leaves unprocessed (up
// to maxBatchTries calls); items that are not there are left out.
func (s *Store) batchGet(ctx context.Context, op string, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	var found []map[string]types.AttributeValue
	if len(keys) == 0 {
		return found, nil
	}
	req := map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}
	for try := 1; len(req) > 0; try++ {
		res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, failure.Classify(op, err)
		}
		found = append(found, res.Responses[s.table]...)
		if req = res.UnprocessedKeys; len(req) == 0 {
			break
		}
		if try == maxBatchTries {
			return nil, failure.New(op, failure.Throttled, errors.New("DynamoDB left items unread"))
		}
		select {
		case <-ctx.Done():
			return nil, failure.New(op, failure.Transient, ctx.Err())
		case <-time.After(time.Duration(25<<try) * time.Millisecond):
		}
	}
	return found, nil
}

// unreadable reports whether err says that the index cannot be read yet:
// DynamoDB answers a query of an index it is still building (backfilling)
// or does not have with a ValidationException that names it.
func unreadable(err error, index string) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationException" && strings.Contains(ae.ErrorMessage(), index)
}

// ListParked lists the deliveries parked until the connection's
// credentials are replaced.
func (s *Store) ListParked(ctx context.Context, ws, connectionID string, limit int, cursor string) (Page, error) {
	return s.queryIndex(ctx, "store: list parked", ws, IndexParked, AttrParkedPK, parkedKey(ws, connectionID), limit, cursor)
}

func (s *Store) queryIndex(ctx context.Context, op, ws, index, pkAttr, pk string, limit int, cursor string) (Page, error) {
	limit = min(max(limit, 1), 100)
	kc := expression.Key(pkAttr).Equal(expression.Value(pk))
	if cursor != "" {
		before, err := decodeCursor(cursor, ws, pk)
		if err != nil {
			return Page{}, failure.New(op, failure.Invalid, err)
		}
		kc = kc.And(expression.Key(AttrGSI1SK).LessThan(expression.Value(before)))
	}
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
		page.Deliveries = append(page.Deliveries, it.delivery())
	}
	if len(out.LastEvaluatedKey) > 0 && len(items) > 0 {
		if page.Next, err = encodeCursor(ws, pk, items[len(items)-1].GSI1SK); err != nil {
			return Page{}, failure.New(op, failure.Invalid, err)
		}
	}
	return page, nil
}

// A cursor is a position in a list, not an item: the list (its workspace
// and index key) and the sort key of the last delivery given (its created
// time and event id, which never change), as JSON, base64url-encoded. The
// next page is every delivery of the list older than that, so a cursor
// stays good while the worker writes records (a delivery that left the
// list or changed its status in between moves nothing), and it is checked
// to belong to the same list, so it cannot reach into another workspace.
type cursorPosition struct {
	Workspace string `json:"ws"`
	List      string `json:"list"`
	Before    string `json:"before"`
}

func encodeCursor(ws, list, before string) (string, error) {
	b, err := json.Marshal(cursorPosition{Workspace: ws, List: list, Before: before})
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func decodeCursor(c, ws, list string) (string, error) {
	bad := errors.New("the cursor is not one this list gave")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", bad
	}
	var p cursorPosition
	if err := json.Unmarshal(b, &p); err != nil || p.Workspace != ws || p.List != list || p.Before == "" {
		return "", bad
	}
	return p.Before, nil
}
