package memdb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestLagForgetsOldVersions: the versions Lag keeps are those a lagging
// read can still see: items written once and deleted long ago (claims,
// leases, erased records) leave nothing behind, so that a long run's
// memory follows its table and its last keep of writes, not every key it
// ever wrote.
func TestLagForgetsOldVersions(t *testing.T) {
	ctx := context.Background()
	db := New()
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("t"),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}, {AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}, {AttributeName: aws.String("sk"), AttributeType: types.ScalarAttributeTypeS}},
	}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	const keep = 10 * time.Second
	lag := keep
	db.Lag(func() time.Time { return now }, func() time.Duration { return lag }, keep)
	k := func(i int) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}, "sk": &types.AttributeValueMemberS{Value: fmt.Sprint(i)}}
	}
	const n = 5000
	for i := range n {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: k(i)}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("t"), Key: k(i)}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Second)
	}
	if got := len(db.tables["t"].past); got > n/2 {
		t.Errorf("%d keys' versions kept after %d keys written and deleted, one a second, with a lag of at most %s", got, n, keep)
	}
	// What a lagging read sees is still the table as it was then.
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: k(n)}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(5 * time.Second)
	if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("t"), Key: k(n)}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Second)
	lag = 3 * time.Second
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: k(n)})
	if err != nil || out.Item == nil {
		t.Errorf("a read %s behind missed the item deleted 2 s ago: %v, %v", lag, out.Item, err)
	}
}
