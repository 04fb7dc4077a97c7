package store_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/funnel-personio/funnel-personio/dev/awsmeter"
	"github.com/funnel-personio/funnel-personio/dev/emulator"
	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// metered runs f against each backend with a fresh table, its DynamoDB
// calls counted: DynamoDB Local reports each call's units, on kumo the
// meter computes them from item sizes.
func metered(t *testing.T, f func(t *testing.T, m *awsmeter.Meter, db *dynamodb.Client, table string, s *store.Store, c *clock)) {
	meteredOn(t, func(t *testing.T, _ bool, m *awsmeter.Meter, db *dynamodb.Client, table string, s *store.Store, c *clock) {
		f(t, m, db, table, s, c)
	})
}

// meteredOn is metered, telling f whether the backend reports units.
func meteredOn(t *testing.T, f func(t *testing.T, reports bool, m *awsmeter.Meter, db *dynamodb.Client, table string, s *store.Store, c *clock)) {
	for name, cfg := range map[string]func(testing.TB) aws.Config{"kumo": emulator.Kumo, "dynamodb-local": emulator.DynamoDBLocal} {
		t.Run(name, func(t *testing.T) {
			m := awsmeter.New()
			db := awsclient.DynamoDB(m.Config(cfg(t)))
			table := emulator.Name("events")
			if err := store.CreateTable(t.Context(), db, table); err != nil {
				t.Fatalf("create table: %v", err)
			}
			c := &clock{now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
			f(t, name == "dynamodb-local", m, db, table, store.New(db, table, retention, store.WithClock(c.Now)), c)
		})
	}
}

// units is what the meter counted of one DynamoDB operation since its
// last Reset.
func units(m *awsmeter.Meter, op string) awsmeter.Request {
	var out awsmeter.Request
	for _, r := range m.Usage().Requests {
		if r.Service == "DynamoDB" && r.Operation == op {
			out.Calls += r.Calls
			out.ReadUnits += r.ReadUnits
			out.WriteUnits += r.WriteUnits
			out.IndexWriteUnits += r.IndexWriteUnits
			out.Reported += r.Reported
		}
	}
	return out
}

// bigEvent is an event with a 200 KB cover letter.
func bigEvent(id string) []byte {
	return []byte(`{"id":"` + id + `","answers":[{"field_id":"letter","value":"` + strings.Repeat("Dear HR, ", 200<<10/9) + `"}]}`)
}

// TestEventWrittenOnce: a delivery with a 200 KB event keeps it in an
// item of its own, written once; each state change writes the small
// record (at most 2 units in the table; the indexes hold records, not
// events), and the event is read back whole.
func TestEventWrittenOnce(t *testing.T) {
	meteredOn(t, func(t *testing.T, reports bool, m *awsmeter.Meter, _ *dynamodb.Client, _ string, s *store.Store, c *clock) {
		ctx := t.Context()
		event := bigEvent("evt_big")
		d := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_big", Event: event, EmailHashes: []string{"h1"}}
		k := d.Key()
		m.Reset()
		if _, err := s.CreateDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		// The event and the record in one transaction with the check of
		// the erasure marker: each item's units twice, the check's too.
		put, tx := units(m, "PutItem"), units(m, "TransactWriteItems")
		written := tx.WriteUnits/2 - 1
		t.Logf("create: %v write units (%v in the indexes)", written, tx.IndexWriteUnits/2)
		if put.Calls != 0 || tx.Calls != 1 || written < 200 || written > 210 {
			t.Errorf("create: put %+v, transaction %+v; want the event (~200 units) and the record written once each, in one transaction", put, tx)
		}
		changes := []struct {
			name string
			do   func() error
		}{
			{"claim", func() error { _, err := s.Claim(ctx, d, "w1", time.Minute); return err }},
			{"a retry with its attempt", func() error {
				next := c.Now().Add(time.Minute)
				_, err := s.Record(ctx, k, "w1", store.Change{Status: lifecycle.StatusRetrying, Reason: "500", NextAttemptAt: &next,
					Attempt: &store.Attempt{At: c.Now(), Outcome: lifecycle.StatusRetrying}})
				return err
			}},
			{"claim again", func() error { _, err := s.Claim(ctx, d, "w2", time.Minute); return err }},
			{"delivered", func() error {
				_, err := s.Record(ctx, k, "w2", store.Change{Status: lifecycle.StatusDelivered, Attempt: &store.Attempt{At: c.Now(), Outcome: lifecycle.StatusDelivered}})
				return err
			}},
		}
		for _, ch := range changes {
			m.Reset()
			if err := ch.do(); err != nil {
				t.Fatalf("%s: %v", ch.name, err)
			}
			up, get, put := units(m, "UpdateItem"), units(m, "GetItem"), units(m, "PutItem")
			reads := 1.0
			if strings.HasPrefix(ch.name, "claim") {
				// A claim is one batch read (the record and the erasure
				// marker) and one transaction: the record's update and a
				// check of the erasure marker, each billed twice.
				get, reads = units(m, "BatchGetItem"), 2
				up = units(m, "TransactWriteItems")
				up.WriteUnits, up.IndexWriteUnits = up.WriteUnits/2, up.IndexWriteUnits/2
				up.WriteUnits -= 1 // the marker's check
			}
			t.Logf("%s: %v write units (%v in the indexes), %v read units", ch.name, up.WriteUnits, up.IndexWriteUnits, get.ReadUnits)
			if table := up.WriteUnits - up.IndexWriteUnits; up.Calls != 1 || table > 2 || up.IndexWriteUnits > 4 || put.Calls != 0 || get.ReadUnits > reads {
				t.Errorf("%s: update %+v, put %+v, get %+v; want one update of at most 2 units in the table and 4 in the indexes, no put, reads of at most %v units",
					ch.name, up, put, get, reads)
			}
			if reports && up.Reported != 1 {
				t.Errorf("%s: DynamoDB Local reported no units", ch.name)
			}
		}
		if ev, err := s.Event(ctx, "ws_a", "evt_big"); err != nil || string(ev) != string(event) {
			t.Errorf("the kept event: %d bytes, %v; want the %d sent", len(ev), err, len(event))
		}
		m.Reset()
		page, err := s.ListDeliveries(ctx, "ws_a", "fn_1", "", 10, "")
		if err != nil || len(page.Deliveries) != 1 || len(page.Deliveries[0].Event) != 0 {
			t.Fatalf("list: %+v, %v; want the record without its event", page, err)
		}
		if q := units(m, "Query"); q.ReadUnits > 0.5 {
			t.Errorf("listing read %v units: the index holds more than the record", q.ReadUnits)
		}
	})
}

// TestEventOfADirectClaim: an event that came straight to the queue is
// kept by the claim that makes its record, once: a later claim does not
// write it again, and Forget deletes both.
func TestEventOfADirectClaim(t *testing.T) {
	metered(t, func(t *testing.T, m *awsmeter.Meter, _ *dynamodb.Client, _ string, s *store.Store, c *clock) {
		ctx := t.Context()
		d := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_direct", Event: []byte(`{"id":"evt_direct"}`), EmailHashes: []string{"h2"}}
		m.Reset()
		if _, err := s.Claim(ctx, d, "w1", time.Minute); err != nil {
			t.Fatal(err)
		}
		if put := units(m, "PutItem"); put.Calls != 1 {
			t.Errorf("the claim that made the record wrote %d items, want its event's", put.Calls)
		}
		if _, err := s.Record(ctx, d.Key(), "w1", store.Change{Status: lifecycle.StatusRetrying}); err != nil {
			t.Fatal(err)
		}
		m.Reset()
		if _, err := s.Claim(ctx, d, "w2", time.Minute); err != nil {
			t.Fatal(err)
		}
		if put := units(m, "PutItem"); put.Calls != 0 {
			t.Errorf("a later claim wrote the event again (%d puts)", put.Calls)
		}
		if ev, err := s.Event(ctx, "ws_a", "evt_direct"); err != nil || string(ev) != `{"id":"evt_direct"}` {
			t.Errorf("the kept event: %q, %v", ev, err)
		}
		if err := s.Forget(ctx, d.Key()); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Event(ctx, "ws_a", "evt_direct"); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("the event after Forget: %v, want not found", err)
		}
	})
}

// TestErasureLeavesNothing: an erasure deletes the records that hold the
// address, their events, and an event whose record was never written;
// only its marker is left of the applicant.
func TestErasureLeavesNothing(t *testing.T) {
	metered(t, func(t *testing.T, _ *awsmeter.Meter, db *dynamodb.Client, table string, s *store.Store, c *clock) {
		ctx := t.Context()
		for _, id := range []string{"evt_e1", "evt_e2", "evt_orphan"} {
			if _, err := s.CreateDelivery(ctx, store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: id, Event: bigEvent(id), EmailHashes: []string{"h_gone"}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CreateDelivery(ctx, store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_other", Event: []byte(`{}`), EmailHashes: []string{"h_stays"}}); err != nil {
			t.Fatal(err)
		}
		// As if the record's write had failed after the event's.
		if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
			store.AttrPK: &types.AttributeValueMemberS{Value: "WS#ws_a"}, store.AttrSK: &types.AttributeValueMemberS{Value: "DELIVERY#evt_orphan"}}}); err != nil {
			t.Fatal(err)
		}
		e, err := s.EraseApplicant(ctx, "ws_a", "h_gone", c.Now().Add(24*time.Hour))
		if err != nil || e.Records != 2 {
			t.Fatalf("erasure: %+v, %v; want 2 records", e, err)
		}
		out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("pk = :p"), ConsistentRead: aws.Bool(true),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: "WS#ws_a"}}})
		if err != nil {
			t.Fatal(err)
		}
		var left []string
		for _, it := range out.Items {
			left = append(left, it[store.AttrSK].(*types.AttributeValueMemberS).Value)
		}
		if strings.Join(left, " ") != "DELIVERY#evt_other ERASED#h_gone EVENT#evt_other" {
			t.Errorf("left in the workspace: %q; want the other applicant's record and event, and the marker", left)
		}
	})
}

// TestRecordThatHeldItsEvent: a record written when records held the
// event still gives it, and a claim does not copy it out.
func TestRecordThatHeldItsEvent(t *testing.T) {
	metered(t, func(t *testing.T, m *awsmeter.Meter, db *dynamodb.Client, table string, s *store.Store, _ *clock) {
		ctx := t.Context()
		str := func(v string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: v} }
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"pk": str("WS#ws_a"), "sk": str("DELIVERY#evt_old"), "gsi1pk": str("WS#ws_a#FUNNEL#fn_1"), "gsi1sk": str("2026-11-01T00:00:00.000000000Z#evt_old"),
			"gsi2pk": str("WS#ws_a#FUNNEL#fn_1#STATUS#failed"), "workspace_id": str("ws_a"), "funnel_id": str("fn_1"), "event_id": str("evt_old"),
			"status": str("failed"), "event": &types.AttributeValueMemberB{Value: []byte(`{"id":"evt_old"}`)}, "expires_at": &types.AttributeValueMemberN{Value: "1999999999"},
		}}); err != nil {
			t.Fatal(err)
		}
		if d, err := s.GetDelivery(ctx, "ws_a", "evt_old"); err != nil || string(d.Event) != `{"id":"evt_old"}` {
			t.Fatalf("old record: %+v, %v; want its event", d, err)
		}
		m.Reset()
		if _, err := s.Claim(ctx, store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_old", Event: []byte(`{"id":"evt_old"}`)}, "w", time.Minute); err != nil {
			t.Fatal(err)
		}
		if put := units(m, "PutItem"); put.Calls != 0 {
			t.Errorf("the claim of an old record wrote its event apart (%d puts)", put.Calls)
		}
	})
}
