package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/funnel-personio/funnel-personio/dev/awsmeter"
	"github.com/funnel-personio/funnel-personio/dev/emulator"
	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// TestIndexWritesOfADelivery: the indexes are written when a delivery is
// created, when it comes to rest and when it parks or leaves parked, never
// at its claims, budget waits and retries. Each step's index write units,
// as DynamoDB Local reports them and as the meter computes them on kumo.
func TestIndexWritesOfADelivery(t *testing.T) {
	meteredOn(t, func(t *testing.T, reports bool, m *awsmeter.Meter, _ *dynamodb.Client, _ string, s *store.Store, c *clock) {
		ctx := t.Context()
		d := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_1", Event: []byte(`{"id":"evt_1"}`)}
		k := d.Key()
		record := func(owner string, ch store.Change) func() error {
			return func() error { _, err := s.Record(ctx, k, owner, ch); return err }
		}
		claim := func(owner string) func() error {
			return func() error { _, err := s.Claim(ctx, d, owner, time.Minute); return err }
		}
		next := c.Now().Add(time.Minute)
		steps := []struct {
			name  string
			do    func() error
			index float64
		}{
			{"created (queued): the delivery log's entry", func() error { _, err := s.CreateDelivery(ctx, d); return err }, 1},
			{"claimed", claim("w1"), 0},
			{"waits for budget (queued, a delayed copy)", record("w1", store.Change{Status: lifecycle.StatusQueued, ReasonCode: lifecycle.ReasonBudget,
				NextAttemptAt: &next, DeferToken: "t1"}), 0},
			{"claimed by the copy", claim("w2"), 0},
			{"retrying, with its attempt", record("w2", store.Change{Status: lifecycle.StatusRetrying, Reason: "500", NextAttemptAt: &next,
				Attempt: &store.Attempt{At: c.Now(), Outcome: lifecycle.StatusRetrying}}), 0},
			{"claimed again", claim("w3"), 0},
			{"parked on its connection: the log's stage and the parked entry", record("w3", store.Change{Status: lifecycle.StatusParked,
				ConnectionID: "con_1", Attempt: &store.Attempt{At: c.Now(), Outcome: lifecycle.StatusParked}}), 2},
			{"requeued with new credentials: the stage, the parked entry gone", func() error {
				_, err := s.Requeue(ctx, k, lifecycle.ReasonCredentialsFixed)
				return err
			}, 2},
			{"claimed after the requeue", claim("w4"), 0},
			{"delivered: the stage", record("w4", store.Change{Status: lifecycle.StatusDelivered,
				Attempt: &store.Attempt{At: c.Now(), Outcome: lifecycle.StatusDelivered}}), 1},
		}
		for _, st := range steps {
			m.Reset()
			if err := st.do(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			var index, calls, reported float64
			for _, op := range []string{"PutItem", "UpdateItem", "TransactWriteItems"} {
				u := units(m, op)
				if op == "TransactWriteItems" {
					u.IndexWriteUnits /= 2 // a transaction bills its writes twice
				}
				index, calls, reported = index+u.IndexWriteUnits, calls+float64(u.Calls), reported+float64(u.Reported)
			}
			if index != st.index {
				t.Errorf("%s: %v index write units, want %v", st.name, index, st.index)
			}
			if reports && reported == 0 {
				t.Errorf("%s: DynamoDB Local reported no units", st.name)
			}
		}
	})
}

// life moves the funnel's delivery i to status, through a claim (a
// delivered one stays delivered).
func life(t *testing.T, s *store.Store, ws, funnel, id string, status lifecycle.Status) {
	t.Helper()
	ctx := t.Context()
	d := store.Delivery{WorkspaceID: ws, FunnelID: funnel, EventID: id}
	if status == lifecycle.StatusQueued {
		return
	}
	if _, err := s.Claim(ctx, d, "w", time.Minute); err != nil {
		t.Fatal(err)
	}
	if status == lifecycle.StatusProcessing {
		return
	}
	if _, err := s.Record(ctx, d.Key(), "w", store.Change{Status: status, ConnectionID: "con_1"}); err != nil {
		t.Fatal(err)
	}
}

// all lists every page of a funnel's deliveries in status, limit a page.
func all(t *testing.T, s *store.Store, ws, funnel string, status lifecycle.Status, limit int) (ids []string, pages []int) {
	t.Helper()
	cursor := ""
	for range 100 {
		p, err := s.ListDeliveries(t.Context(), ws, funnel, status, limit, cursor)
		if err != nil {
			t.Fatalf("list %q: %v", status, err)
		}
		for _, d := range p.Deliveries {
			if status != "" && d.Status != status {
				t.Errorf("list %q gave %s in %s", status, d.EventID, d.Status)
			}
			ids = append(ids, d.EventID)
		}
		pages = append(pages, len(p.Deliveries))
		if cursor = p.Next; cursor == "" {
			return ids, pages
		}
	}
	t.Fatalf("list %q: more than 100 pages", status)
	return nil, nil
}

// TestStatusFilterAcrossShortPages: a funnel of 40 deliveries, a few in
// each status among many delivered ones. A list in one status gives full
// pages (the index is read on past entries of other stages, and past
// entries of the same stage in another status: queued, processing and
// retrying share one), newest first, each delivery once, with its record
// as it is; pages end where the index ends.
func TestStatusFilterAcrossShortPages(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		statusOf := map[int]lifecycle.Status{3: lifecycle.StatusFailed, 11: lifecycle.StatusFailed, 12: lifecycle.StatusRetrying, 19: lifecycle.StatusQueued,
			20: lifecycle.StatusProcessing, 27: lifecycle.StatusFailed, 31: lifecycle.StatusParked, 36: lifecycle.StatusRetrying, 38: lifecycle.StatusFailed}
		want := map[lifecycle.Status][]string{}
		var newestFirst []string
		for i := range 40 {
			c.Add(time.Second)
			id := fmt.Sprintf("evt_%02d", i)
			if _, err := s.CreateDelivery(ctx, store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: id}); err != nil {
				t.Fatal(err)
			}
			st, ok := statusOf[i]
			if !ok {
				st = lifecycle.StatusDelivered
			}
			life(t, s, "ws_a", "fn_1", id, st)
			want[st] = append([]string{id}, want[st]...)
			newestFirst = append([]string{id}, newestFirst...)
		}
		for _, c := range []struct {
			status lifecycle.Status
			limit  int
		}{
			{lifecycle.StatusFailed, 2}, {lifecycle.StatusRetrying, 1}, {lifecycle.StatusQueued, 1}, {lifecycle.StatusProcessing, 3},
			{lifecycle.StatusParked, 5}, {lifecycle.StatusDelivered, 7}, {lifecycle.StatusDead, 4}, {"", 9},
		} {
			wantIDs := want[c.status]
			if c.status == "" {
				wantIDs = newestFirst
			}
			ids, pages := all(t, s, "ws_a", "fn_1", c.status, c.limit)
			if !slices.Equal(ids, wantIDs) {
				t.Errorf("list %q by %d: %v, want %v", c.status, c.limit, ids, wantIDs)
			}
			for i, n := range pages {
				if i < len(pages)-1 && n != c.limit {
					t.Errorf("list %q by %d: pages of %v; only the last may be short", c.status, c.limit, pages)
					break
				}
			}
		}
		// The records are read from the table: a page shows each as it is.
		p, err := s.ListDeliveries(ctx, "ws_a", "fn_1", lifecycle.StatusParked, 1, "")
		if err != nil || len(p.Deliveries) != 1 || p.Deliveries[0].ConnectionID != "con_1" || p.Deliveries[0].ExpiresAt == 0 ||
			p.Deliveries[0].CreatedAt.IsZero() || p.Deliveries[0].FunnelID != "fn_1" {
			t.Errorf("a parked page: %+v, %v; want the whole record", p, err)
		}
	})
}

// TestRecordsWrittenBeforeTheStage: records written by the version before
// the delivery log index carry gsi2pk and no stage, and one such version
// may write a record after this one did (during a deploy, or after a
// rollback), leaving its stage behind its status. Such records are listed
// in the status they have; the next write of this version gives them a
// stage and takes gsi2pk away.
func TestRecordsWrittenBeforeTheStage(t *testing.T) {
	suite(t, func(t *testing.T, db testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		table := s.Table()
		str := func(v string) *types.AttributeValueMemberS { return &types.AttributeValueMemberS{Value: v} }
		old := func(id, created string, status lifecycle.Status, stage string) {
			item := map[string]types.AttributeValue{
				"pk": str("WS#ws_a"), "sk": str("DELIVERY#" + id), "gsi1pk": str("WS#ws_a#FUNNEL#fn_1"), "gsi1sk": str(created + "#" + id),
				"gsi2pk": str("WS#ws_a#FUNNEL#fn_1#STATUS#" + string(status)), "workspace_id": str("ws_a"), "funnel_id": str("fn_1"),
				"event_id": str(id), "status": str(string(status)), "created_at": str(created), "updated_at": str(created),
				"expires_at": &types.AttributeValueMemberN{Value: "1999999999"}, "attempts": &types.AttributeValueMemberL{},
			}
			if stage != "" {
				item["stage"] = str(stage)
			}
			if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
				t.Fatal(err)
			}
		}
		old("evt_old_failed", "2026-11-01T00:00:00.000000000Z", lifecycle.StatusFailed, "")
		old("evt_old_delivered", "2026-11-01T00:00:01.000000000Z", lifecycle.StatusDelivered, "")
		// Created by this version (stage active), then delivered by the
		// version before, which set its status and gsi2pk only.
		old("evt_stale", "2026-11-01T00:00:02.000000000Z", lifecycle.StatusDelivered, "active")
		if _, err := s.CreateDelivery(ctx, store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_new"}); err != nil {
			t.Fatal(err)
		}
		for status, want := range map[lifecycle.Status]string{
			lifecycle.StatusFailed:    "[evt_old_failed]",
			lifecycle.StatusDelivered: "[evt_stale evt_old_delivered]",
			lifecycle.StatusQueued:    "[evt_new]",
			"":                        "[evt_new evt_stale evt_old_delivered evt_old_failed]",
		} {
			if ids, _ := all(t, s, "ws_a", "fn_1", status, 1); fmt.Sprint(ids) != want {
				t.Errorf("list %q: %v, want %s", status, ids, want)
			}
		}
		// Requeued and claimed by this version: a stage, no gsi2pk.
		if _, err := s.Requeue(ctx, store.DeliveryKey{Workspace: "ws_a", Funnel: "fn_1", Event: "evt_old_failed"}, lifecycle.ReasonRetryRequested); err != nil {
			t.Fatal(err)
		}
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
			"pk": str("WS#ws_a"), "sk": str("DELIVERY#evt_old_failed")}, ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		if st, ok := out.Item["stage"].(*types.AttributeValueMemberS); !ok || st.Value != "active" || out.Item["gsi2pk"] != nil {
			t.Errorf("after a requeue: stage %v, gsi2pk %v; want active and none", out.Item["stage"], out.Item["gsi2pk"])
		}
		if ids, _ := all(t, s, "ws_a", "fn_1", lifecycle.StatusQueued, 5); fmt.Sprint(ids) != "[evt_new evt_old_failed]" {
			t.Errorf("queued after the requeue: %v", ids)
		}
	})
}

// TestListWhileTheIndexIsBuilt: on a table of the version before (by_funnel
// and by_status, no delivery log: a deploy has added the index and
// DynamoDB is still building it, or has not yet), lists read by_funnel,
// filtered by status, with the same pages and cursors.
func TestListWhileTheIndexIsBuilt(t *testing.T) {
	before := store.Table
	before.Indexes = nil
	for _, ix := range append(slices.Clone(store.Retiring), store.Table.Indexes...) {
		if ix.Name != store.IndexDeliveryLog {
			before.Indexes = append(before.Indexes, ix)
		}
	}
	for name, cfg := range map[string]func(testing.TB) aws.Config{"kumo": emulator.Kumo, "dynamodb-local": emulator.DynamoDBLocal} {
		t.Run(name, func(t *testing.T) {
			db := awsclient.DynamoDB(cfg(t))
			table := emulator.Name("before")
			if err := before.Create(t.Context(), db, table); err != nil {
				t.Fatal(err)
			}
			c := &clock{now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
			s := store.New(db, table, retention, store.WithClock(c.Now))
			var failed, every []string
			for i := range 12 {
				c.Add(time.Second)
				id := fmt.Sprintf("evt_%02d", i)
				if _, err := s.CreateDelivery(t.Context(), store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: id}); err != nil {
					t.Fatal(err)
				}
				st := lifecycle.StatusDelivered
				if i%5 == 1 {
					st = lifecycle.StatusFailed
					failed = append([]string{id}, failed...)
				}
				life(t, s, "ws_a", "fn_1", id, st)
				every = append([]string{id}, every...)
			}
			if ids, pages := all(t, s, "ws_a", "fn_1", lifecycle.StatusFailed, 2); !slices.Equal(ids, failed) || pages[0] != 2 {
				t.Errorf("failed: %v in pages of %v, want %v", ids, pages, failed)
			}
			if ids, _ := all(t, s, "ws_a", "fn_1", "", 5); !slices.Equal(ids, every) {
				t.Errorf("all: %v, want %v", ids, every)
			}
		})
	}
}

// unprocessed is a DynamoDB client whose batch reads leave every key but
// the first unprocessed, as DynamoDB does when it throttles.
type unprocessed struct {
	*dynamodb.Client
	batches int
}

func (u *unprocessed) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	u.batches++
	first := map[string]types.KeysAndAttributes{}
	rest := map[string]types.KeysAndAttributes{}
	for table, ka := range in.RequestItems {
		f := ka
		f.Keys = ka.Keys[:1]
		first[table] = f
		if len(ka.Keys) > 1 {
			r := ka
			r.Keys = ka.Keys[1:]
			rest[table] = r
		}
	}
	out, err := u.Client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: first}, opts...)
	if err != nil {
		return nil, err
	}
	out.UnprocessedKeys = rest
	return out, nil
}

// TestUnprocessedKeysAreReadAgain: a page whose records DynamoDB reads
// only in part is completed by reading the rest again.
func TestUnprocessedKeysAreReadAgain(t *testing.T) {
	db := awsclient.DynamoDB(emulator.Kumo(t))
	table := emulator.Name("unprocessed")
	if err := store.CreateTable(t.Context(), db, table); err != nil {
		t.Fatal(err)
	}
	c := &clock{now: time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)}
	u := &unprocessed{Client: db}
	s := store.New(u, table, retention, store.WithClock(c.Now))
	for i := range 4 {
		c.Add(time.Second)
		if _, err := s.CreateDelivery(t.Context(), store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: fmt.Sprintf("evt_%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := s.ListDeliveries(t.Context(), "ws_a", "fn_1", "", 4, "")
	var ids []string
	for _, d := range p.Deliveries {
		ids = append(ids, d.EventID)
	}
	if err != nil || strings.Join(ids, " ") != "evt_3 evt_2 evt_1 evt_0" || u.batches != 4 {
		t.Errorf("page %v after %d batch reads, %v; want all four after 4", ids, u.batches, err)
	}
}

// TestIndexProjections: the table as created holds what each index
// projects (Table): the delivery log its keys, the stage and gsi2pk;
// parked and watch every attribute.
func TestIndexProjections(t *testing.T) {
	suite(t, func(t *testing.T, db testDB, s *store.Store, _ *clock) {
		out, err := db.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(s.Table())})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, ix := range out.Table.GlobalSecondaryIndexes {
			p := ix.Projection
			got[aws.ToString(ix.IndexName)] = fmt.Sprint(p.ProjectionType, slices.Sorted(slices.Values(p.NonKeyAttributes)))
		}
		want := map[string]string{store.IndexDeliveryLog: "INCLUDE[gsi2pk stage]", store.IndexParked: "ALL[]", store.IndexWatch: "ALL[]"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("indexes %v, want %v", got, want)
		}
	})
}
