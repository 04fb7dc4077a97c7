package memdb_test

import (
	"errors"
	"strings"
	"testing"
	"time"

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

// TestLag: with Lag set, the reads DynamoDB serves eventually consistent
// (without ConsistentRead, and every read of an index) see each item as it
// was the lag ago — an update not yet, a delete not yet, a new item not
// yet —, consistent reads and the conditions of writes see it as it is,
// an index refuses a consistent read, and no lag asked for is the table
// as it is.
func TestLag(t *testing.T) {
	ctx := t.Context()
	db := memdb.New()
	if err := store.CreateTable(ctx, db, "t"); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)
	lag := time.Duration(0)
	db.Lag(func() time.Time { return now }, func() time.Duration { return lag }, 10*time.Second)
	parked := func(pk, sk, x string) map[string]types.AttributeValue {
		it := key(pk, sk)
		it[store.AttrParkedPK], it[store.AttrGSI1SK], it["x"] = s("p"), s(sk), s(x)
		return it
	}
	put := func(it map[string]types.AttributeValue) {
		t.Helper()
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: it}); err != nil {
			t.Fatal(err)
		}
	}
	put(parked("a", "1", "old")) // 09:00:00
	put(parked("a", "2", "gone"))
	now = now.Add(time.Second)
	put(parked("a", "1", "new")) // 09:00:01
	if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String("t"), Key: key("a", "2")}); err != nil {
		t.Fatal(err)
	}
	put(parked("a", "3", "born"))
	now = now.Add(500 * time.Millisecond)

	get := func(sk string, consistent bool) string {
		t.Helper()
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("t"), Key: key("a", sk), ConsistentRead: aws.Bool(consistent)})
		if err != nil {
			t.Fatal(err)
		}
		if out.Item == nil {
			return "-"
		}
		return out.Item["x"].(*types.AttributeValueMemberS).Value
	}
	query := func(index string, consistent *bool) string {
		t.Helper()
		in := &dynamodb.QueryInput{TableName: aws.String("t"), KeyConditionExpression: aws.String("pk = :a"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":a": s("a")}, ConsistentRead: consistent}
		if index != "" {
			in.IndexName, in.KeyConditionExpression = aws.String(index), aws.String(store.AttrParkedPK+" = :a")
			in.ExpressionAttributeValues = map[string]types.AttributeValue{":a": s("p")}
		}
		out, err := db.Query(ctx, in)
		if err != nil {
			return "error: " + err.Error()
		}
		var xs []string
		for _, it := range out.Items {
			xs = append(xs, it["x"].(*types.AttributeValueMemberS).Value)
		}
		return strings.Join(xs, " ")
	}
	lag = time.Second // sees 09:00:00.5
	tests := []struct{ name, got, want string }{
		{"get, eventually consistent: the old version", get("1", false), "old"},
		{"get, eventually consistent: deleted since, still there", get("2", false), "gone"},
		{"get, eventually consistent: written since, not there yet", get("3", false), "-"},
		{"get, consistent", get("1", true) + " " + get("2", true) + " " + get("3", true), "new - born"},
		{"query the table, eventually consistent", query("", nil), "old gone"},
		{"query the table, consistent", query("", aws.Bool(true)), "new born"},
		{"query an index", query(store.IndexParked, nil), "old gone"},
	}
	lag = 0
	tests = append(tests, struct{ name, got, want string }{"query an index, no lag", query(store.IndexParked, nil), "new born"})
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if got := query(store.IndexParked, aws.Bool(true)); !strings.Contains(got, "Consistent reads are not supported") {
		t.Errorf("a consistent read of an index: %q, want a validation error", got)
	}
	// A write's condition sees the table as it is, whatever the lag.
	lag = time.Second
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("t"), Item: parked("a", "3", "again"),
		ConditionExpression: aws.String("attribute_not_exists(pk)")})
	if !errors.Is(failure.Classify("op", err), failure.ErrConflict) {
		t.Errorf("a put conditioned on an item written 0.5 s ago: %v, want its condition to fail", err)
	}
}
