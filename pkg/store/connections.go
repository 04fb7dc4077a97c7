package store

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
)

// Connection states.
const (
	ConnectionConnected      = "connected"
	ConnectionNeedsAttention = "needs_attention"
)

// Connection is a Personio account of a workspace. The token is not here:
// it lives in Secrets Manager under SecretName.
type Connection struct {
	WorkspaceID  string `dynamodbav:"workspace_id"`
	ID           string `dynamodbav:"id"`
	Name         string `dynamodbav:"name"`
	CompanyID    string `dynamodbav:"company_id"`
	SecretName   string `dynamodbav:"secret_name"`
	Status       string `dynamodbav:"status"`
	StatusReason string `dynamodbav:"status_reason,omitempty"`
	// StatusSince is when the status last changed.
	StatusSince   time.Time `dynamodbav:"status_since,omitempty"`
	LastCheckedAt time.Time `dynamodbav:"last_checked_at"`
	CreatedAt     time.Time `dynamodbav:"created_at"`
	UpdatedAt     time.Time `dynamodbav:"updated_at"`
	// Version counts every change; CredentialsVersion only new
	// credentials (the token cached under it stays good until then).
	Version            int64 `dynamodbav:"version"`
	CredentialsVersion int64 `dynamodbav:"credentials_version"`
	// ReadClientID is the client id of the connection's read access
	// (Personio's v2 API), "" without it; the client secret lives in
	// Secrets Manager beside the token. ReadCheckedAt is when Personio
	// last accepted it.
	ReadClientID  string    `dynamodbav:"read_client_id,omitempty"`
	ReadCheckedAt time.Time `dynamodbav:"read_checked_at,omitempty"`
}

type connectionItem struct {
	PK      string `dynamodbav:"pk"`
	SK      string `dynamodbav:"sk"`
	WatchPK string `dynamodbav:"watch_pk"`
	WatchSK string `dynamodbav:"watch_sk"`
	Connection
}

func newConnectionItem(c Connection) connectionItem {
	return connectionItem{PK: wsKey(c.WorkspaceID), SK: connKey(c.ID), WatchPK: watchConnections, WatchSK: c.WorkspaceID + "#" + c.ID, Connection: c}
}

// CreateConnection stores a new connection (version 1); a connection with
// that id already in the workspace is a conflict.
func (s *Store) CreateConnection(ctx context.Context, c Connection) (Connection, error) {
	const op = "store: create connection"
	now := s.now().UTC()
	c.CreatedAt, c.UpdatedAt, c.Version, c.CredentialsVersion = now, now, 1, 1
	if c.StatusSince.IsZero() {
		c.StatusSince = now
	}
	return c, s.putIf(ctx, op, newConnectionItem(c), absent())
}

// GetConnection reads one connection of the workspace.
func (s *Store) GetConnection(ctx context.Context, ws, id string) (Connection, error) {
	var it connectionItem
	err := s.get(ctx, "store: get connection", wsKey(ws), connKey(id), &it)
	return it.Connection, err
}

// ListConnections lists the workspace's connections.
func (s *Store) ListConnections(ctx context.Context, ws string) ([]Connection, error) {
	var items []connectionItem
	if err := s.queryPrefix(ctx, "store: list connections", wsKey(ws), "CONN#", &items); err != nil {
		return nil, err
	}
	return unwrap(items, func(it connectionItem) Connection { return it.Connection }), nil
}

// UpdateConnection replaces a connection if its version is still
// c.Version; the stored one gets the next version. A conflict is
// failure.ErrConflict: whoever changed it first (new credentials, or
// another worker marking it) wins, and the caller reads it again. The
// events in tell (a change of status) are recorded pending in the same
// request (Pending), and only if the change is written.
func (s *Store) UpdateConnection(ctx context.Context, c Connection, tell ...Pending) (Connection, error) {
	const op = "store: update connection"
	expected := c.Version
	c.Version++
	c.UpdatedAt = s.now().UTC()
	return c, s.putTelling(ctx, op, newConnectionItem(c), expression.Name("version").Equal(expression.Value(expected)), tell)
}

// DeleteConnection deletes a connection of the workspace; a missing one is
// not found.
func (s *Store) DeleteConnection(ctx context.Context, ws, id string) error {
	return s.delete(ctx, "store: delete connection", wsKey(ws), connKey(id))
}

// get reads one item into v; a missing item is failure.ErrNotFound.
func (s *Store) get(ctx context.Context, op, pk, sk string, v any) error {
	_, err := s.getItem(ctx, op, pk, sk, v)
	return err
}

// getItem reads one item into v, strongly consistent, and returns it as
// stored; a missing item is failure.ErrNotFound.
func (s *Store) getItem(ctx context.Context, op, pk, sk string, v any) (map[string]types.AttributeValue, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: key(pk, sk), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, failure.Classify(op, err)
	}
	if len(out.Item) == 0 {
		return nil, failure.New(op, failure.NotFound, nil)
	}
	if err := attributevalue.UnmarshalMap(out.Item, v); err != nil {
		return nil, failure.New(op, failure.Invalid, err)
	}
	return out.Item, nil
}

// delete removes one item that must exist.
func (s *Store) delete(ctx context.Context, op, pk, sk string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(s.table), Key: key(pk, sk),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	})
	if isConflict(op, err) {
		return failure.New(op, failure.NotFound, err)
	}
	return failure.Classify(op, err)
}

// queryPrefix reads every item of a partition whose sort key starts with
// prefix, following pages.
func (s *Store) queryPrefix(ctx context.Context, op, pk, prefix string, out any) error {
	return s.queryPrefixWhere(ctx, op, pk, prefix, nil, out)
}

// queryPrefixWhere is queryPrefix keeping only the items that meet filter
// (nil: every item).
func (s *Store) queryPrefixWhere(ctx context.Context, op, pk, prefix string, filter *expression.ConditionBuilder, out any) error {
	kc := expression.Key(AttrPK).Equal(expression.Value(pk)).And(expression.Key(AttrSK).BeginsWith(prefix))
	b := expression.NewBuilder().WithKeyCondition(kc)
	if filter != nil {
		b = b.WithFilter(*filter)
	}
	expr, err := b.Build()
	if err != nil {
		return failure.New(op, failure.Invalid, err)
	}
	x := render(expr)
	var all []map[string]types.AttributeValue
	in := &dynamodb.QueryInput{
		TableName: aws.String(s.table), KeyConditionExpression: x.KeyCondition, FilterExpression: x.Filter,
		ExpressionAttributeNames: x.Names, ExpressionAttributeValues: x.Values,
		ConsistentRead: aws.Bool(true),
	}
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return failure.Classify(op, err)
		}
		all = append(all, page.Items...)
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	if err := attributevalue.UnmarshalListOfMaps(all, out); err != nil {
		return failure.New(op, failure.Invalid, err)
	}
	return nil
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: pk},
		AttrSK: &types.AttributeValueMemberS{Value: sk},
	}
}
