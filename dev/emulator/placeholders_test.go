package emulator

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestFixPlaceholders: every expression and every names and values map,
// at the top and nested in a transaction, gets fixed-width placeholders on
// one line; other members stay as they are.
func TestFixPlaceholders(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"update with remove",
			`{"UpdateExpression":"SET #1 = :10, #10 = :1\nREMOVE #2","ExpressionAttributeNames":{"#1":"a","#10":"b","#2":"c"},"ExpressionAttributeValues":{":1":{"S":"x"},":10":{"N":"1"}},"TableName":"t#1"}`,
			`{"ExpressionAttributeNames":{"#n001":"a","#n002":"c","#n010":"b"},"ExpressionAttributeValues":{":v001":{"S":"x"},":v010":{"N":"1"}},"TableName":"t#1","UpdateExpression":"SET #n001 = :v010, #n010 = :v001 REMOVE #n002"}`},
		{"a transaction's items",
			`{"TransactItems":[{"Put":{"ConditionExpression":"attribute_not_exists(#0)","ExpressionAttributeNames":{"#0":"pk"}}}]}`,
			`{"TransactItems":[{"Put":{"ConditionExpression":"attribute_not_exists(#n000)","ExpressionAttributeNames":{"#n000":"pk"}}}]}`},
		{"a value that looks like a placeholder stays",
			`{"Item":{"pk":{"S":"#1"}},"ConditionExpression":"attribute_not_exists(pk)"}`,
			`{"ConditionExpression":"attribute_not_exists(pk)","Item":{"pk":{"S":"#1"}}}`},
		{"a number keeps its digits",
			`{"ExpressionAttributeValues":{":0":{"N":"12345678901234567890.5"}},"FilterExpression":"#0 > :0","ExpressionAttributeNames":{"#0":"n"}}`,
			`{"ExpressionAttributeNames":{"#n000":"n"},"ExpressionAttributeValues":{":v000":{"N":"12345678901234567890.5"}},"FilterExpression":"#n000 \u003e :v000"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FixPlaceholders([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	if _, err := FixPlaceholders([]byte("{")); err == nil {
		t.Error("a broken body was read")
	}
}

// FuzzFixPlaceholders: any body either is refused or comes back as JSON
// that reads again.
func FuzzFixPlaceholders(f *testing.F) {
	f.Add([]byte(`{"UpdateExpression":"SET #1 = :10","ExpressionAttributeNames":{"#1":"a"}}`))
	f.Add([]byte(`[1,"#2",{"FilterExpression":":3"}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		out, err := FixPlaceholders(body)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("%q became invalid JSON %q", body, out)
		}
	})
}

// FuzzNeedsFix: a body needsFix passes on unchanged holds nothing kumo
// misreads: once decoded, no string or key in it has a newline or a
// placeholder of two or more digits.
func FuzzNeedsFix(f *testing.F) {
	f.Add([]byte(`{"UpdateExpression":"SET #1 = :1","ExpressionAttributeNames":{"#1":"a"}}`))
	f.Add([]byte(`{"UpdateExpression":"SET #1 = :10"}`))
	f.Add([]byte(`{"UpdateExpression":"SET #1\nREMOVE #2"}`))
	f.Add([]byte(`{"UpdateExpression":"SET #\u0031\u0030 = :1"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var doc any
		if needsFix(body) || json.Unmarshal(body, &doc) != nil {
			return
		}
		var walk func(v any)
		check := func(s string) {
			if strings.Contains(s, "\n") || longPlaceholderRE.MatchString(s) {
				t.Fatalf("%q passes unchanged, but holds %q", body, s)
			}
		}
		walk = func(v any) {
			switch n := v.(type) {
			case string:
				check(n)
			case []any:
				for _, e := range n {
					walk(e)
				}
			case map[string]any:
				for k, e := range n {
					check(k)
					walk(e)
				}
			}
		}
		walk(doc)
	})
}

// TestNeedsFix: the requests the builder writes with fewer than ten
// placeholders on one line pass unchanged; the rest are fixed.
func TestNeedsFix(t *testing.T) {
	for body, want := range map[string]bool{
		`{"UpdateExpression":"SET #0 = :0, #1 = :1","ExpressionAttributeNames":{"#0":"a","#1":"b"}}`:    false,
		`{"ConditionExpression":"attribute_not_exists(#0)","Item":{"pk":{"S":"a b"}}}`:                  false,
		`{"Item":{"at":{"S":"2026-12-08T03:30:45Z"}},"ConditionExpression":"attribute_not_exists(#0)"}`: false,
		`{"Item":{"q":{"S":"say \"hi\""}},"ConditionExpression":"attribute_not_exists(#0)"}`:            false,
		`{"UpdateExpression":"SET #1 =\t:10"}`:                                                          true,
		`{"ExpressionAttributeNames":{"#12":"a"}}`:                                                      true,
		`{"UpdateExpression":"SET #1 = :10"}`:                                                           true,
		`{"UpdateExpression":"SET #1 = :1\nREMOVE #2"}`:                                                 true,
		`{"UpdateExpression":"SET #\u0031\u0030 = :1"}`:                                                 true,
	} {
		if got := needsFix([]byte(body)); got != want {
			t.Errorf("needsFix(%s) = %v, want %v", body, got, want)
		}
	}
}

// TestElevenPlaceholdersOnKumo: an update with more than ten of the
// builder's placeholders (#1 a prefix of #10) writes every attribute on
// kumo, through Placeholders.
func TestElevenPlaceholdersOnKumo(t *testing.T) {
	ctx := context.Background()
	db := dynamodb.NewFromConfig(Kumo(t))
	table := Name("placeholders")
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatal(err)
	}
	u := expression.Remove(expression.Name("gone"))
	for i := range 12 {
		u = u.Set(expression.Name("a"+strconv.Itoa(i)), expression.Value(i))
	}
	e, err := expression.NewBuilder().WithUpdate(u).Build()
	if err != nil {
		t.Fatal(err)
	}
	key := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}}
	if _, err := db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key,
		UpdateExpression: e.Update(), ExpressionAttributeNames: e.Names(), ExpressionAttributeValues: e.Values()}); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 12 {
		name := "a" + strconv.Itoa(i)
		n, ok := got.Item[name].(*types.AttributeValueMemberN)
		if !ok || n.Value != strconv.Itoa(i) {
			t.Errorf("%s = %v, want %d", name, got.Item[name], i)
		}
	}
	if len(got.Item) != 13 {
		t.Errorf("the item has %d attributes, want 13: %v", len(got.Item), got.Item)
	}
}
