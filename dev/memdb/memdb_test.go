package memdb_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/funnel-personio/funnel-personio/dev/memdb"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": s(pk), "sk": s(sk)}
}

// TestTransactionsAreAllOrNothing: a transaction whose one check fails
// writes nothing and says which item failed; one whose checks hold writes
// every item. (The store's suite holds memdb to every other behaviour the
// store relies on, beside kumo and DynamoDB Local.)
func TestTransactionsAreAllOrNothing(t *testing.T) {
	ctx := t.Context()
	db := memdb.New()
	if err := store.CreateTable(ctx, db, "t"); err != nil {
		t.Fatal(err)
	}
	put := func(pk, sk string) types.TransactWriteItem {
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String("t"), Item: key(pk, sk)}}
	}
	absent := func(pk, sk string) types.TransactWriteItem {
		return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String("t"), Key: key(pk, sk),
			ConditionExpression: aws.String("attribute_not_exists(pk)")}}
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: key("a", "marker")}); err != nil {
		t.Fatal(err)
	}
	_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{put("a", "1"), absent("a", "marker")}})
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) || len(tc.CancellationReasons) != 2 || aws.ToString(tc.CancellationReasons[1].Code) != "ConditionalCheckFailed" ||
		aws.ToString(tc.CancellationReasons[0].Code) != "None" {
		t.Fatalf("err %v, want a cancellation naming the second item", err)
	}
	if !errors.Is(failure.Classify("op", err), failure.ErrConflict) {
		t.Errorf("a cancelled transaction is classified %v, want a conflict", failure.Classify("op", err))
	}
	got, _ := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: key("a", "1")})
	if got.Item != nil {
		t.Fatal("a cancelled transaction wrote its put")
	}
	if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{put("a", "1"), absent("a", "other")}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: key("a", "1")}); got.Item == nil {
		t.Fatal("a transaction whose checks hold did not write")
	}
}

// TestExpressionErrorsAreValidation: an expression memdb cannot read is a
// ValidationException, as DynamoDB answers, never a silent match.
func TestExpressionErrorsAreValidation(t *testing.T) {
	ctx := t.Context()
	db := memdb.New()
	if err := store.CreateTable(ctx, db, "t"); err != nil {
		t.Fatal(err)
	}
	for name, cond := range map[string]string{
		"undefined value": "a = :nope",
		"undefined name":  "#nope = :v",
		"dangling and":    "a = :v AND",
		"unknown func":    "frobnicate(a)",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: key("a", "1"),
				ConditionExpression: aws.String(cond), ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("x")}})
			if err == nil || !errors.Is(failure.Classify("op", err), failure.ErrInvalid) {
				t.Errorf("err %v, want a validation error", err)
			}
		})
	}
}

// TestWatchSeesEveryWrite: a view kept from Watch alone (puts, updates,
// deletes, a transaction's writes; refused writes and cancelled
// transactions write nothing) ends equal to the table.
func TestWatchSeesEveryWrite(t *testing.T) {
	ctx := t.Context()
	db := memdb.New()
	if err := store.CreateTable(ctx, db, "t"); err != nil {
		t.Fatal(err)
	}
	view := map[string]map[string]types.AttributeValue{}
	writes := 0
	db.Watch(func(table, pk, sk string, it map[string]types.AttributeValue) {
		writes++
		if it == nil {
			delete(view, table+"/"+pk+"/"+sk)
			return
		}
		view[table+"/"+pk+"/"+sk] = it
	})
	tn := aws.String("t")
	absent := aws.String("attribute_not_exists(pk)")
	steps := []func() error{
		func() error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: tn, Item: key("a", "1")})
			return err
		},
		func() error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: tn, Item: key("a", "2")})
			return err
		},
		func() error {
			_, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: tn, Key: key("a", "1"), UpdateExpression: aws.String("SET v = :v"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("x")}})
			return err
		},
		func() error {
			_, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: tn, Key: key("a", "2")})
			return err
		},
		func() error {
			_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: tn, Item: key("a", "1"), ConditionExpression: absent})
			return ignoreRefused(err)
		},
		func() error {
			_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: tn, Item: key("b", "1")}},
				{Delete: &types.Delete{TableName: tn, Key: key("a", "1")}},
			}})
			return err
		},
		func() error {
			_, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: tn, Item: key("c", "1")}},
				{Put: &types.Put{TableName: tn, Item: key("b", "1"), ConditionExpression: absent}},
			}})
			return ignoreRefused(err)
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	items := db.Items("t")
	if len(view) != len(items) || writes != 6 {
		t.Fatalf("the view holds %d items after %d writes, the table %d (want 6 writes)", len(view), writes, len(items))
	}
	for _, it := range items {
		pk, sk := it["pk"].(*types.AttributeValueMemberS).Value, it["sk"].(*types.AttributeValueMemberS).Value
		if _, ok := view["t/"+pk+"/"+sk]; !ok {
			t.Errorf("the view lacks %s/%s", pk, sk)
		}
	}
}

// ignoreRefused treats a refused condition or a cancelled transaction as
// the step's expected answer.
func ignoreRefused(err error) error {
	if errors.Is(failure.Classify("op", err), failure.ErrConflict) {
		return nil
	}
	if err == nil {
		return errors.New("a write whose condition fails was not refused")
	}
	return err
}
