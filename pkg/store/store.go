// Package store keeps the system's state in one DynamoDB table:
// connections, funnel integrations with their mappings, delivery records
// (which double as idempotency claims), per-company rate budgets, and each
// workspace's own budgets (credential checks, test applications).
//
// Every key of workspace data starts with the workspace, and every method
// takes the workspace: one workspace cannot name another's items.
//
// A delivery's event (up to 256 KB) is kept in an item of its own beside
// its record and written once: DynamoDB bills a write by the size of the
// whole item, and the record is written at every state of the delivery,
// with each index that projects it.
//
//	item          pk                         sk                        indexes
//	connection    WS#<ws>                    CONN#<id>
//	integration   WS#<ws>                    FUNNEL#<funnel>
//	delivery      WS#<ws>                    DELIVERY#<event id>       delivery_log: WS#<ws>#FUNNEL#<f> / <created>#<event>, with the stage
//	                                                                   parked:    WS#<ws>#CONN#<c> (only while parked)
//	                                                                   parked:    WS#<ws>#FUNNEL#<f>#POSITION (parked on an unpublished position)
//	event         WS#<ws>                    EVENT#<event id>          none: no index holds it
//	budget        COMPANY#<company id>       BUDGET
//	global slot   GLOBAL                     SLOT#<n>                  (the global budget's guard: units taken in slot n)
//	busy company  GLOBAL                     BUSY#<company id>         (until when the company counts as busy)
//	erasure       WS#<ws>                    ERASED#<e-mail hash>
//	outbound      WS#<ws>                    OUTBOX#<event id>         watch: WATCH#OUTBOX / <at>#<event id> (only while pending)
//
// The delivery log index projects a record's keys and its stage (the
// status once the delivery rests, "active" while it is on its way), so
// that the claims, turns and retries of a delivery do not write it; a list
// reads its page's records from the table. See Table for what each index
// projects and why.
//
// Switched-on integrations and every connection are also in the watch
// index (watch_pk WATCH#INTEGRATION or WATCH#CONNECTION, watch_sk
// <ws>#<id>): what the watch checks (positions, credentials); so is every
// outbound event still pending (WATCH#OUTBOX, see Pending).
//
//	ws budget     WS#<ws>                    BUDGET#<name>
package store

import (
	"context"
	"errors"
	"slices"
	"strings"
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

// DynamoDB is the part of the DynamoDB client the store uses.
type DynamoDB interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

var _ DynamoDB = (*dynamodb.Client)(nil)

// Store is the DynamoDB adapter. It is safe for concurrent use.
type Store struct {
	db        DynamoDB
	table     string
	retention time.Duration
	now       func() time.Time
	// global is the budget every company's takes share (none when zero);
	// busy the busy companies as last read.
	global GlobalBudget
	busy   busy
	// budgets are the budget items this instance last wrote.
	budgets budgets
	keeping keeping
	// attempts are the attempts of the records this instance's held
	// claims last wrote.
	attempts attemptsSeen
	// connections are the connections the funnels' integrations named
	// when this instance's claims last read them.
	connections funnelConnections
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// New returns a Store on the table. Delivery records, with the applicant
// data they hold, expire retention after they were written
// (settings.Settings.Retention).
func New(db DynamoDB, table string, retention time.Duration, opts ...Option) *Store {
	s := &Store{db: db, table: table, retention: retention, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Table is the name of the store's table.
func (s *Store) Table() string { return s.table }

// Errors beyond failure's classes.
var (
	// ErrAlreadyDelivered is a claim on an event that was delivered.
	ErrAlreadyDelivered = errors.New("store: event already delivered")
	// ErrStaleCopy is a claim by a delayed copy of a message that is not
	// the one the record waits for (a newer deferral sent another), or
	// whose record is gone: the copy is dropped and nothing changes.
	ErrStaleCopy = errors.New("store: stale copy of a message")
)

func wsKey(ws string) string                  { return "WS#" + ws }
func connKey(id string) string                { return "CONN#" + id }
func funnelKey(id string) string              { return "FUNNEL#" + id }
func deliveryKey(eventID string) string       { return "DELIVERY#" + eventID }
func funnelIndexKey(ws, funnel string) string { return "WS#" + ws + "#FUNNEL#" + funnel }

// statusIndexKey names the list of a funnel's deliveries in one status
// (in cursors; it was by_status's key).
func statusIndexKey(ws, funnel string, s lifecycle.Status) string {
	return funnelIndexKey(ws, funnel) + "#STATUS#" + string(s)
}
func parkedKey(ws, conn string) string { return "WS#" + ws + "#CONN#" + conn }
func budgetKey(company string) string  { return "COMPANY#" + company }

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func isConflict(op string, err error) bool {
	return errors.Is(failure.Classify(op, err), failure.ErrConflict)
}

func isAlreadyEnabled(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && strings.Contains(strings.ToLower(ae.ErrorMessage()), "already enabled")
}

func millis(t time.Time) int64 { return t.UnixMilli() }

// built is a built expression's parts, as the SDK's inputs take them.
type built struct {
	Condition, Update, KeyCondition, Filter, Projection *string
	Names                                               map[string]string
	Values                                              map[string]types.AttributeValue
}

func render(e expression.Expression) built {
	return built{Condition: e.Condition(), Update: e.Update(), KeyCondition: e.KeyCondition(),
		Filter: e.Filter(), Projection: e.Projection(), Names: e.Names(), Values: e.Values()}
}

// putIf writes the item v if cond holds.
func (s *Store) putIf(ctx context.Context, op string, v any, cond expression.ConditionBuilder) error {
	p, err := s.conditionalPut(op, v, cond)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: p.TableName, Item: p.Item, ConditionExpression: p.ConditionExpression,
		ExpressionAttributeNames: p.ExpressionAttributeNames, ExpressionAttributeValues: p.ExpressionAttributeValues,
	})
	return failure.Classify(op, err)
}

// conditionalPut is the put of the item v if cond holds, as a single
// write or a transaction's part takes it.
func (s *Store) conditionalPut(op string, v any, cond expression.ConditionBuilder) (*types.Put, error) {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, failure.New(op, failure.Invalid, err)
	}
	expr, err := expression.NewBuilder().WithCondition(cond).Build()
	if err != nil {
		return nil, failure.New(op, failure.Invalid, err)
	}
	x := render(expr)
	return &types.Put{TableName: aws.String(s.table), Item: item, ConditionExpression: x.Condition,
		ExpressionAttributeNames: x.Names, ExpressionAttributeValues: x.Values}, nil
}

// absent is the condition that an item does not exist yet.
func absent() expression.ConditionBuilder {
	return expression.AttributeNotExists(expression.Name(AttrPK))
}

// unwrap maps stored items to what they hold.
func unwrap[I, T any](items []I, f func(I) T) []T {
	out := make([]T, 0, len(items))
	for _, it := range items {
		out = append(out, f(it))
	}
	return out
}
