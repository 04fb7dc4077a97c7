package awsmeter_test

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/funnel-personio/funnel-personio/dev/awsmeter"
	"github.com/funnel-personio/funnel-personio/dev/emulator"
	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

func s(v string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: v} }

// find is the meter's count of one operation of one caller.
func find(u awsmeter.Usage, caller, service, op string) awsmeter.Request {
	for _, r := range u.Requests {
		if r.Caller == caller && r.Service == service && r.Operation == op {
			return r
		}
	}
	return awsmeter.Request{}
}

// TestDynamoDBUnits runs the same writes and reads on the table the store
// uses (its indexes) against both emulators: DynamoDB Local reports each
// call's units, kumo reports none and the meter computes them from item
// sizes. Both must come to DynamoDB's figures for each step. The delivery
// log index projects the stage only, so its entry is small (1 unit) and
// written only when the stage changes.
func TestDynamoDBUnits(t *testing.T) {
	big := strings.Repeat("x", 5000) // the item is about 5 KB: 5 write units, 2 strong read units
	key := map[string]types.AttributeValue{"pk": s("WS#a"), "sk": s("DELIVERY#e1")}
	missing := map[string]types.AttributeValue{"pk": s("WS#a"), "sk": s("DELIVERY#none")}
	update := func(expr string, values map[string]types.AttributeValue, rv types.ReturnValue) func(db *dynamodb.Client, table *string) error {
		return func(db *dynamodb.Client, table *string) error {
			_, err := db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: table, Key: key, UpdateExpression: aws.String(expr),
				ExpressionAttributeValues: values, ReturnValues: rv})
			return err
		}
	}
	steps := []struct {
		name               string
		call               func(db *dynamodb.Client, table *string) error
		op                 string
		read, write, index float64
	}{
		{"put: the table and the delivery log's small entry", func(db *dynamodb.Client, table *string) error {
			_, err := db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: table, Item: map[string]types.AttributeValue{"pk": s("WS#a"), "sk": s("DELIVERY#e1"),
				"gsi1pk": s("F"), "gsi1sk": s("1"), "stage": s("active"), "status": s("queued"), "big": s(big)}})
			return err
		}, "PutItem", 0, 6, 1},
		{"update of attributes no index projects (a claim): no index write", update("SET claim_owner = :s, note = :n",
			map[string]types.AttributeValue{":s": s("w1"), ":n": s("n")}, types.ReturnValueAllOld), "UpdateItem", 0, 5, 0},
		{"update setting the stage to the value it has: no index write", update("SET stage = :v",
			map[string]types.AttributeValue{":v": s("active")}, types.ReturnValueAllNew), "UpdateItem", 0, 5, 0},
		{"update changing the stage: the entry is written", update("SET stage = :v",
			map[string]types.AttributeValue{":v": s("delivered")}, types.ReturnValueNone), "UpdateItem", 0, 6, 1},
		{"update putting the item in the parked index (every attribute): a put there", update("SET parked_pk = :v",
			map[string]types.AttributeValue{":v": s("P")}, types.ReturnValueNone), "UpdateItem", 0, 10, 5},
		{"update taking it out again: a delete there", update("REMOVE parked_pk", nil, types.ReturnValueNone), "UpdateItem", 0, 10, 5},
		{"strongly consistent read", func(db *dynamodb.Client, table *string) error {
			_, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: table, Key: key, ConsistentRead: aws.Bool(true)})
			return err
		}, "GetItem", 2, 0, 0},
		{"eventually consistent read", func(db *dynamodb.Client, table *string) error {
			_, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: table, Key: key})
			return err
		}, "GetItem", 1, 0, 0},
		{"query of the delivery log: its small entries", func(db *dynamodb.Client, table *string) error {
			_, err := db.Query(t.Context(), &dynamodb.QueryInput{TableName: table, IndexName: aws.String(store.IndexDeliveryLog), KeyConditionExpression: aws.String("gsi1pk = :p"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":p": s("F")}})
			return err
		}, "Query", 0.5, 0, 0},
		{"strongly consistent batch read of the item and a missing one (which takes nothing)", func(db *dynamodb.Client, table *string) error {
			_, err := db.BatchGetItem(t.Context(), &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
				*table: {Keys: []map[string]types.AttributeValue{key, missing}, ConsistentRead: aws.Bool(true)}}})
			return err
		}, "BatchGetItem", 2, 0, 0},
		{"a write whose condition fails", func(db *dynamodb.Client, table *string) error {
			_, err := db.UpdateItem(t.Context(), &dynamodb.UpdateItemInput{TableName: table, Key: key, UpdateExpression: aws.String("SET note = :v"),
				ConditionExpression:       aws.String("attribute_not_exists(pk)"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":v": s("m")}})
			if err == nil {
				return fmt.Errorf("the condition held")
			}
			return nil
		}, "UpdateItem", 0, 5, 0},
		{"delete: the table and the delivery log's entry", func(db *dynamodb.Client, table *string) error {
			_, err := db.DeleteItem(t.Context(), &dynamodb.DeleteItemInput{TableName: table, Key: key})
			return err
		}, "DeleteItem", 0, 6, 1},
		{"read of a missing item", func(db *dynamodb.Client, table *string) error {
			_, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: table, Key: key, ConsistentRead: aws.Bool(true)})
			return err
		}, "GetItem", 1, 0, 0},
	}
	for name, backend := range map[string]func(testing.TB) aws.Config{"kumo": emulator.Kumo, "dynamodb-local": emulator.DynamoDBLocal} {
		t.Run(name, func(t *testing.T) {
			m := awsmeter.New()
			cfg := m.Config(backend(t))
			table := emulator.Name("meter")
			db := awsclient.DynamoDB(cfg)
			if err := store.CreateTable(t.Context(), db, table); err != nil {
				t.Fatal(err)
			}
			reported := name == "dynamodb-local"
			for _, st := range steps {
				m.Reset()
				if err := st.call(db, aws.String(table)); err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				r := find(m.Usage(), "", "DynamoDB", st.op)
				if r.ReadUnits != st.read || r.WriteUnits != st.write || r.IndexWriteUnits != st.index {
					t.Errorf("%s: read %v, write %v (indexes %v); want %v, %v (%v)", st.name, r.ReadUnits, r.WriteUnits, r.IndexWriteUnits,
						st.read, st.write, st.index)
				}
				// A failed condition has no answer to report units in.
				if want := reported && st.name != "a write whose condition fails"; (r.Reported == 1) != want {
					t.Errorf("%s: reported %d, want reported=%v", st.name, r.Reported, want)
				}
			}
		})
	}
}

// TestSQSChunks: each 64 KB of a message sent or received is a request;
// a receive that finds nothing is counted as empty; the requests are the
// caller's the context names.
func TestSQSChunks(t *testing.T) {
	m := awsmeter.New()
	q := sqs.NewFromConfig(m.Config(emulator.Kumo(t)))
	ctx := m.Caller(t.Context(), "worker")
	out, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(emulator.Name("meter"))})
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"small", strings.Repeat("x", 100<<10)} {
		if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: out.QueueUrl, MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: out.QueueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 0}); err != nil {
			t.Fatal(err)
		}
	}
	u := m.Usage()
	if r := find(u, "worker", "SQS", "SendMessage"); r.Calls != 2 || r.Chunks != 3 || r.Billed() != 3 {
		t.Errorf("sends: %+v, want 2 calls billed as 3 (1 + 2 chunks of 64 KB)", r)
	}
	recv := find(u, "worker", "SQS", "ReceiveMessage")
	if recv.Calls != 3 || recv.Empty != 1 || recv.Chunks != 4 {
		t.Errorf("receives: %+v, want 3 calls, the last empty: 1 + 2 chunks of messages and 1", recv)
	}
	if r := find(u, "", "SQS", "SendMessage"); r.Calls != 0 {
		t.Errorf("requests without a caller: %+v", r)
	}
}

// flaky answers the first request 500, every other one with body.
type flaky struct {
	calls int
	body  string
}

func (f *flaky) Do(r *http.Request) (*http.Response, error) {
	f.calls++
	status := http.StatusOK
	if f.calls == 1 {
		status = http.StatusInternalServerError
	}
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body: io.NopCloser(strings.NewReader(f.body)), Request: r}, nil
}

// TestAttemptsCountRetries: AWS bills each attempt; one call retried once
// is two.
func TestAttemptsCountRetries(t *testing.T) {
	m := awsmeter.New()
	cfg := emulator.Config("http://127.0.0.1:9")
	f := &flaky{body: `{"Item":{"pk":{"S":"a"}}}`}
	cfg.HTTPClient = f
	db := dynamodb.NewFromConfig(m.Config(cfg), func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
	if _, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String("t"), Key: map[string]types.AttributeValue{"pk": s("a")}}); err != nil {
		t.Fatal(err)
	}
	if r := find(m.Usage(), "", "DynamoDB", "GetItem"); r.Calls != 1 || r.Attempts != 2 || f.calls != 2 {
		t.Errorf("%+v after %d HTTP requests, want 1 call, 2 attempts", r, f.calls)
	}
}

// TestInvokeAndLog: invocations with their billed milliseconds, and the
// log's bytes and lines.
func TestInvokeAndLog(t *testing.T) {
	m := awsmeter.New()
	for range 2 {
		_, done := m.Invoke(t.Context(), "worker", awsmeter.TriggerSQS)
		time.Sleep(3 * time.Millisecond)
		done()
	}
	var buf bytes.Buffer
	w := m.Log(&buf)
	_, _ = io.WriteString(w, "{\"a\":1}\n{\"b\":2}\n")
	_, _ = io.WriteString(w, "{\"c\":3}\n")
	u := m.Usage()
	if len(u.Functions) != 1 || u.Functions[0].Invocations != 2 || u.Functions[0].BilledMs < 6 || u.Functions[0].Trigger != awsmeter.TriggerSQS {
		t.Errorf("functions %+v, want worker twice, at least 6 ms", u.Functions)
	}
	if u.LogBytes != 24 || u.LogLines != 3 || buf.Len() != 24 {
		t.Errorf("log %d bytes, %d lines (passed on %d); want 24, 3", u.LogBytes, u.LogLines, buf.Len())
	}
	m.Reset()
	if u := m.Usage(); len(u.Functions) != 0 || u.LogBytes != 0 {
		t.Errorf("after Reset: %+v", u)
	}
}

// TestItemKinds: DynamoDB's calls are counted by the kinds of items they
// touch, a transaction's and a batch read's kinds together.
func TestItemKinds(t *testing.T) {
	m := awsmeter.New()
	db := awsclient.DynamoDB(m.Config(emulator.Kumo(t)))
	table := emulator.Name("kinds")
	if err := store.CreateTable(t.Context(), db, table); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, table, 24*time.Hour)
	m.Reset()
	d := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_1", Event: []byte(`{}`), EmailHashes: []string{"h1", "h2"}}
	if _, err := st.CreateDelivery(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Claim(t.Context(), d, "w1", time.Minute); err != nil {
		t.Fatal(err)
	}
	u := m.Usage()
	// The record's creation (with its event) and the claim are each a
	// transaction with the erasure markers' check; the claim reads its
	// record first.
	for op, want := range map[string]map[string]int64{
		"TransactWriteItems": {"DELIVERY+EVENT+ERASED": 1, "DELIVERY+ERASED": 1},
		"BatchGetItem":       {"DELIVERY": 1},
	} {
		if r := find(u, "", "DynamoDB", op); !maps.Equal(r.Items, want) {
			t.Errorf("%s: items %v, want %v", op, r.Items, want)
		}
	}
}
