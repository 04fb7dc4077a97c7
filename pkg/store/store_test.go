package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/funnel-personio/funnel-personio/dev/emulator"
	"github.com/funnel-personio/funnel-personio/dev/memdb"
	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// retention is the deployment's.
var retention = settings.Default().Retention

// clock is a settable clock shared by a test and its store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testDB is what the tests read and write besides the store: one of the
// backends.
type testDB interface {
	store.DynamoDB
	store.TableAdmin
}

// backends are the DynamoDBs every store test runs on: kumo, DynamoDB
// Local and the simulator's in-memory DynamoDB (dev/memdb), which is held
// to the same tests as the emulators.
var backends = map[string]func(testing.TB) testDB{
	"kumo":           func(t testing.TB) testDB { return awsclient.DynamoDB(emulator.Kumo(t)) },
	"dynamodb-local": func(t testing.TB) testDB { return awsclient.DynamoDB(emulator.DynamoDBLocal(t)) },
	"memdb":          func(testing.TB) testDB { return memdb.New() },
}

// suite runs f against each backend with a fresh table, on a store with
// the options given (and a clock of the test's).
func suite(t *testing.T, f func(t *testing.T, db testDB, s *store.Store, c *clock), opts ...store.Option) {
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			db := open(t)
			table := emulator.Name("store")
			if err := store.CreateTable(t.Context(), db, table); err != nil {
				t.Fatalf("create table: %v", err)
			}
			keepExpired(t, db, table)
			c := &clock{now: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
			f(t, db, store.New(db, table, retention, append([]store.Option{store.WithClock(c.Now)}, opts...)...), c)
		})
	}
}

// keepExpired turns the table's TTL off: the tests run on a clock of
// their own, in the past, and kumo's reaper deletes every 30 s (real
// time) the items whose TTL has passed in real time, which made a long
// run lose items mid-test. Expiry is AWS's to apply; what the store
// writes into the TTL attribute is tested on its own.
func keepExpired(t testing.TB, db testDB, table string) {
	t.Helper()
	_, err := db.UpdateTimeToLive(t.Context(), &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(store.AttrTTL), Enabled: aws.Bool(false)}})
	if err != nil {
		t.Fatalf("turn TTL off: %v", err)
	}
}

func TestConnections(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, _ *clock) {
		ctx := t.Context()
		c, err := s.CreateConnection(ctx, store.Connection{WorkspaceID: "ws_a", ID: "con_1", Name: "Personio", CompanyID: "42", Status: store.ConnectionConnected})
		if err != nil || c.Version != 1 {
			t.Fatalf("create: %+v, %v", c, err)
		}
		if _, err := s.CreateConnection(ctx, store.Connection{WorkspaceID: "ws_a", ID: "con_1"}); !errors.Is(err, failure.ErrConflict) {
			t.Errorf("second create: %v, want conflict", err)
		}
		got, err := s.GetConnection(ctx, "ws_a", "con_1")
		if err != nil || got.CompanyID != "42" || got.Name != "Personio" {
			t.Fatalf("get: %+v, %v", got, err)
		}
		if _, err := s.GetConnection(ctx, "ws_b", "con_1"); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("get from another workspace: %v, want not found", err)
		}
		got.Status = store.ConnectionNeedsAttention
		updated, err := s.UpdateConnection(ctx, got)
		if err != nil || updated.Version != 2 {
			t.Fatalf("update: %+v, %v", updated, err)
		}
		if _, err := s.UpdateConnection(ctx, got); !errors.Is(err, failure.ErrConflict) {
			t.Errorf("update from a stale read: %v, want conflict", err)
		}
		if _, err := s.CreateConnection(ctx, store.Connection{WorkspaceID: "ws_b", ID: "con_2"}); err != nil {
			t.Fatal(err)
		}
		list, err := s.ListConnections(ctx, "ws_a")
		if err != nil || len(list) != 1 || list[0].ID != "con_1" {
			t.Errorf("list: %+v, %v", list, err)
		}
		if err := s.DeleteConnection(ctx, "ws_b", "con_1"); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("delete from another workspace: %v, want not found", err)
		}
		if err := s.DeleteConnection(ctx, "ws_a", "con_1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetConnection(ctx, "ws_a", "con_1"); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("get after delete: %v", err)
		}
	})
}

func TestIntegrations(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, _ *clock) {
		ctx := t.Context()
		in := store.Integration{WorkspaceID: "ws_a", FunnelID: "fn_1", ConnectionID: "con_1", JobPositionID: 1001, Mapping: []byte(`{"version":1}`)}
		v1, err := s.PutIntegration(ctx, in)
		if err != nil || v1.Version != 1 {
			t.Fatalf("create: %+v, %v", v1, err)
		}
		if _, err := s.PutIntegration(ctx, in); !errors.Is(err, failure.ErrConflict) {
			t.Errorf("second create: %v, want conflict", err)
		}
		// Two editors read version 1; the first save wins, the second is
		// caught instead of silently overwriting.
		a, b := v1, v1
		a.Enabled = true
		b.JobPositionID = 1002
		if _, err := s.PutIntegration(ctx, a); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutIntegration(ctx, b); !errors.Is(err, failure.ErrConflict) {
			t.Errorf("concurrent edit: %v, want conflict", err)
		}
		got, err := s.GetIntegration(ctx, "ws_a", "fn_1")
		if err != nil || !got.Enabled || got.JobPositionID != 1001 || got.Version != 2 || string(got.Mapping) != `{"version":1}` {
			t.Errorf("get: %+v, %v", got, err)
		}
		if _, err := s.GetIntegration(ctx, "ws_b", "fn_1"); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("other workspace: %v", err)
		}
		list, err := s.ListIntegrations(ctx, "ws_a")
		if err != nil || len(list) != 1 {
			t.Errorf("list: %+v, %v", list, err)
		}
		if err := s.DeleteIntegration(ctx, "ws_a", "fn_1"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestClaims(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		d := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_1", Event: []byte(`{"id":"evt_1"}`), EmailHashes: []string{"h1"}}
		if _, err := s.CreateDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateDelivery(ctx, d); !errors.Is(err, failure.ErrConflict) {
			t.Errorf("second create: %v, want conflict (a repeated event)", err)
		}
		// Twenty workers claim the same event at once: exactly one wins.
		var wins atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.Claim(ctx, d, fmt.Sprintf("worker-%d", i), 30*time.Second)
				switch {
				case err == nil:
					wins.Add(1)
				case !errors.Is(err, failure.ErrConflict):
					t.Errorf("claim: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 {
			t.Fatalf("%d claims won, want 1", wins.Load())
		}
		cur, _ := s.GetDelivery(ctx, "ws_a", "evt_1")
		owner := cur.ClaimOwner
		if ev, err := s.Event(ctx, "ws_a", "evt_1"); cur.Status != lifecycle.StatusProcessing || string(ev) != `{"id":"evt_1"}` {
			t.Errorf("claimed record: %+v; its event %q, %v", cur, ev, err)
		}
		// The owner dies; after the lease another worker takes over, and
		// the first can no longer write.
		c.Add(31 * time.Second)
		if got, err := s.Claim(ctx, d, "worker-new", 30*time.Second); err != nil || !got.TakenOver || got.ClaimOwner != "worker-new" ||
			got.Status != lifecycle.StatusProcessing || string(got.Event) != `{"id":"evt_1"}` {
			t.Fatalf("claim after the lease: %+v, %v; want taken over", got, err)
		}
		if _, err := s.Record(ctx, store.DeliveryKey{Workspace: "ws_a", Funnel: "fn_1", Event: "evt_1"}, owner, store.Change{Status: lifecycle.StatusDelivered}); !errors.Is(err, failure.ErrConflict) {
			t.Errorf("record by the old owner: %v, want conflict", err)
		}
		got, err := s.Record(ctx, store.DeliveryKey{Workspace: "ws_a", Funnel: "fn_1", Event: "evt_1"}, "worker-new", store.Change{Status: lifecycle.StatusDelivered,
			Attempt: &store.Attempt{At: c.Now(), Outcome: lifecycle.StatusDelivered}})
		if err != nil || got.Status != lifecycle.StatusDelivered || got.DeliveredAt == nil || len(got.Attempts) != 1 || got.ClaimOwner != "" {
			t.Fatalf("record delivered: %+v, %v", got, err)
		}
		if _, err := s.Claim(ctx, d, "worker-x", 30*time.Second); !errors.Is(err, store.ErrAlreadyDelivered) {
			t.Errorf("claim of a delivered event: %v, want ErrAlreadyDelivered", err)
		}
		// An event that came straight to the queue has no record: the claim
		// makes one.
		direct := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_direct", OccurredAt: c.Now()}
		made, err := s.Claim(ctx, direct, "worker-1", time.Minute)
		if err != nil || made.Status != lifecycle.StatusProcessing || made.ExpiresAt == 0 || made.CreatedAt.IsZero() || made.TakenOver {
			t.Errorf("claim without record: %+v, %v", made, err)
		}
		// A delivery of another workspace with the same event id is its own.
		if _, err := s.Claim(ctx, store.Delivery{WorkspaceID: "ws_b", FunnelID: "fn_1", EventID: "evt_1"}, "w", time.Minute); err != nil {
			t.Errorf("same event id in another workspace: %v", err)
		}
	})
}

func TestDeliveryRecords(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		for i := range 7 {
			c.Add(time.Second)
			d := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: fmt.Sprintf("evt_%d", i), EmailHashes: []string{fmt.Sprintf("h%d", i%2)}}
			created, err := s.CreateDelivery(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			if want := c.Now().Add(retention).Unix(); created.ExpiresAt != want {
				t.Errorf("TTL %d, want %d", created.ExpiresAt, want)
			}
		}
		if _, err := s.CreateDelivery(ctx, store.Delivery{WorkspaceID: "ws_b", FunnelID: "fn_1", EventID: "evt_b"}); err != nil {
			t.Fatal(err)
		}
		// Fail two of them.
		for _, id := range []string{"evt_2", "evt_5"} {
			if _, err := s.Claim(ctx, store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: id}, "w", time.Minute); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Record(ctx, store.DeliveryKey{Workspace: "ws_a", Funnel: "fn_1", Event: id}, "w", store.Change{Status: lifecycle.StatusFailed, ReasonCode: lifecycle.ReasonMappingFailed, Reason: "no e-mail"}); err != nil {
				t.Fatal(err)
			}
		}
		// Newest first, three a page.
		var ids []string
		cursor := ""
		for pages := 0; ; pages++ {
			p, err := s.ListDeliveries(ctx, "ws_a", "fn_1", "", 3, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range p.Deliveries {
				ids = append(ids, d.EventID)
			}
			if p.Next == "" || pages > 5 {
				break
			}
			cursor = p.Next
		}
		if fmt.Sprint(ids) != "[evt_6 evt_5 evt_4 evt_3 evt_2 evt_1 evt_0]" {
			t.Errorf("pages = %v", ids)
		}
		failed, err := s.ListDeliveries(ctx, "ws_a", "fn_1", lifecycle.StatusFailed, 10, "")
		if err != nil || len(failed.Deliveries) != 2 || failed.Deliveries[0].EventID != "evt_5" || failed.Deliveries[0].Reason != "no e-mail" {
			t.Errorf("failed filter: %+v, %v", failed, err)
		}
		if p, err := s.ListDeliveries(ctx, "ws_b", "fn_1", "", 10, ""); err != nil || len(p.Deliveries) != 1 {
			t.Errorf("other workspace sees %+v, %v", p, err)
		}
		first, _ := s.ListDeliveries(ctx, "ws_a", "fn_1", "", 3, "")
		if _, err := s.ListDeliveries(ctx, "ws_b", "fn_1", "", 3, first.Next); !errors.Is(err, failure.ErrInvalid) {
			t.Errorf("a cursor of another workspace: %v, want invalid", err)
		}
		if _, err := s.ListDeliveries(ctx, "ws_a", "fn_1", "", 3, "garbage!"); !errors.Is(err, failure.ErrInvalid) {
			t.Errorf("a garbage cursor: %v, want invalid", err)
		}
		// Requeue a failed one; a delivered-or-queued one cannot be.
		if d, err := s.Requeue(ctx, store.DeliveryKey{Workspace: "ws_a", Funnel: "fn_1", Event: "evt_2"}, lifecycle.ReasonRetryRequested); err != nil ||
			d.Status != lifecycle.StatusQueued || d.ReasonCode != lifecycle.ReasonRetryRequested || d.Reason != "" ||
			d.Attempts[len(d.Attempts)-1].ReasonCode != lifecycle.ReasonRetryRequested {
			t.Errorf("requeue: %+v, %v", d, err)
		}
		if _, err := s.Requeue(ctx, store.DeliveryKey{Workspace: "ws_a", Funnel: "fn_1", Event: "evt_3"}, lifecycle.ReasonRetryRequested); !errors.Is(err, failure.ErrConflict) {
			t.Errorf("requeue of a queued one: %v, want conflict", err)
		}
		// Parking by connection.
		if _, err := s.Claim(ctx, store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_4"}, "w", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Record(ctx, store.DeliveryKey{Workspace: "ws_a", Funnel: "fn_1", Event: "evt_4"}, "w", store.Change{Status: lifecycle.StatusParked, ConnectionID: "con_1", Reason: "401"}); err != nil {
			t.Fatal(err)
		}
		parked, err := s.ListParked(ctx, "ws_a", "con_1", 10, "")
		if err != nil || len(parked.Deliveries) != 1 || parked.Deliveries[0].EventID != "evt_4" {
			t.Errorf("parked: %+v, %v", parked, err)
		}
		if _, err := s.Requeue(ctx, store.DeliveryKey{Workspace: "ws_a", Funnel: "fn_1", Event: "evt_4"}, lifecycle.ReasonCredentialsFixed); err != nil {
			t.Fatal(err)
		}
		if parked, _ := s.ListParked(ctx, "ws_a", "con_1", 10, ""); len(parked.Deliveries) != 0 {
			t.Errorf("still parked after requeue: %+v", parked)
		}
		// Erasure by e-mail hash: evt_0, 2, 4, 6 have h0, all queued now.
		until := c.Now().Add(time.Hour)
		e, err := s.EraseApplicant(ctx, "ws_a", "h0", until)
		if err != nil || e.Records != 4 || e.QueuedCopies != 4 {
			t.Errorf("erase: %+v, %v; want 4 records, 4 queued", e, err)
		}
		if e, _ := s.EraseApplicant(ctx, "ws_b", "h1", until); e.Records != 0 {
			t.Errorf("erase in another workspace removed %d", e.Records)
		}
		if _, err := s.GetDelivery(ctx, "ws_a", "evt_0"); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("erased record still there: %v", err)
		}
	})
}

func TestAttemptsAreBounded(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		d := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_many"}
		var got store.Delivery
		for i := range store.MaxAttempts + 5 {
			if _, err := s.Claim(ctx, d, "w", time.Hour); err != nil {
				t.Fatal(err)
			}
			var err error
			got, err = s.Record(ctx, store.DeliveryKey{Workspace: "ws_a", Funnel: "fn_1", Event: "evt_many"}, "w", store.Change{Status: lifecycle.StatusRetrying,
				Attempt: &store.Attempt{At: c.Now(), Outcome: lifecycle.StatusRetrying, Reason: fmt.Sprint(i)}})
			if err != nil {
				t.Fatal(err)
			}
		}
		if len(got.Attempts) != store.MaxAttempts || got.Attempts[len(got.Attempts)-1].Reason != fmt.Sprint(store.MaxAttempts+4) {
			t.Errorf("%d attempts kept, last %+v", len(got.Attempts), got.Attempts[len(got.Attempts)-1])
		}
	})
}

func TestBudget(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		b := store.Budget{Limit: 20, Window: time.Minute}
		take := func(company string, n, takers int) (int, []time.Time) {
			var mu sync.Mutex
			won := 0
			var retry []time.Time
			var wg sync.WaitGroup
			for range takers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, at, err := s.TakeBudget(ctx, company, n, b)
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err != nil:
						t.Errorf("take: %v", err)
					case ok:
						won++
					default:
						retry = append(retry, at)
					}
				}()
			}
			wg.Wait()
			return won, retry
		}
		// 20 concurrent takers of one unit: all fit, never more.
		if won, _ := take("42", 1, 20); won != 20 {
			t.Fatalf("%d of 20 single takes won", won)
		}
		won, retry := take("42", 1, 5)
		if won != 0 || len(retry) != 5 || !retry[0].After(c.Now().Add(59*time.Second)) {
			t.Fatalf("over budget: %d won, retry at %v", won, retry)
		}
		// Another company has its own budget: 20 takers of 3 units, 6 fit.
		if won, _ := take("43", 3, 20); won != 6 {
			t.Errorf("%d takes of 3 units won, want 6 (18 of 20 units)", won)
		}
		// A take never takes part of what it asks.
		if ok, _, _ := s.TakeBudget(ctx, "43", 3, b); ok {
			t.Error("a take of 3 with 2 left succeeded")
		}
		if ok, _, _ := s.TakeBudget(ctx, "43", 2, b); !ok {
			t.Error("a take of 2 with 2 left failed")
		}
		c.Add(61 * time.Second)
		if ok, _, err := s.TakeBudget(ctx, "42", 20, b); !ok || err != nil {
			t.Errorf("after the window: %v, %v", ok, err)
		}
		// A 429 blocks the company.
		if err := s.BlockBudget(ctx, "44", c.Now().Add(60*time.Second)); err != nil {
			t.Fatal(err)
		}
		if ok, at, _ := s.TakeBudget(ctx, "44", 1, b); ok || !at.Equal(c.Now().Add(60*time.Second).Truncate(time.Millisecond)) {
			t.Errorf("blocked take: %v, %v", ok, at)
		}
		if _, _, err := s.TakeBudget(ctx, "44", 21, b); !errors.Is(err, failure.ErrInvalid) {
			t.Errorf("a take over the limit: %v, want invalid", err)
		}
	})
}

// TestWorkspaceBudget: a workspace's own budgets (credential checks, test
// applications) are sliding logs like a company's, one per workspace and
// name, never the company's.
func TestWorkspaceBudget(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		b := store.Budget{Limit: 5, Window: time.Minute}
		for i := range 5 {
			if ok, _, err := s.TakeWorkspaceBudget(ctx, "ws_a", store.BudgetChecks, 1, b); !ok || err != nil {
				t.Fatalf("check %d: %v, %v", i, ok, err)
			}
		}
		ok, at, err := s.TakeWorkspaceBudget(ctx, "ws_a", store.BudgetChecks, 1, b)
		if ok || err != nil || !at.After(c.Now().Add(59*time.Second)) {
			t.Errorf("the sixth check: %v at %v, %v; want refused until the window moves on", ok, at.Sub(c.Now()), err)
		}
		// Another name, another workspace and the company with the same
		// name as a workspace each have their own.
		if ok, _, _ := s.TakeWorkspaceBudget(ctx, "ws_a", store.BudgetTests, 5, b); !ok {
			t.Error("ws_a's tests share its checks' budget")
		}
		if ok, _, _ := s.TakeWorkspaceBudget(ctx, "ws_b", store.BudgetChecks, 5, b); !ok {
			t.Error("ws_b shares ws_a's budget")
		}
		if ok, _, _ := s.TakeBudget(ctx, "ws_a", 20, store.Budget{Limit: 20, Window: time.Minute}); !ok {
			t.Error("a company budget shares a workspace's")
		}
		// The workspace's items stay out of its connections.
		if list, err := s.ListConnections(ctx, "ws_a"); err != nil || len(list) != 0 {
			t.Errorf("connections of ws_a: %+v, %v", list, err)
		}
		c.Add(61 * time.Second)
		if ok, _, err := s.TakeWorkspaceBudget(ctx, "ws_a", store.BudgetChecks, 5, b); !ok || err != nil {
			t.Errorf("after the window: %v, %v", ok, err)
		}
	})
}

// TestGiveBackBudget: units given back are free again at once, only the
// units taken at that time, never more than were taken.
func TestGiveBackBudget(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		b := store.Budget{Limit: 20, Window: time.Minute}
		if ok, _, _ := s.TakeBudget(ctx, "42", 18, b); !ok {
			t.Fatal("take 18")
		}
		c.Add(time.Second)
		ok, at, err := s.TakeBudget(ctx, "42", 2, b)
		if !ok || err != nil {
			t.Fatalf("take 2: %v, %v", ok, err)
		}
		if ok, _, _ := s.TakeBudget(ctx, "42", 1, b); ok {
			t.Fatal("a unit over the budget")
		}
		if err := s.GiveBackBudget(ctx, "42", 1, at); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Second)
		if ok, _, _ := s.TakeBudget(ctx, "42", 1, b); !ok {
			t.Error("the unit given back is not free")
		}
		// Giving back more than was taken at that time frees only what
		// is left of it; a time when nothing was taken frees nothing.
		if err := s.GiveBackBudget(ctx, "42", 5, at); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Second)
		if err := s.GiveBackBudget(ctx, "42", 1, c.Now()); err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := s.TakeBudget(ctx, "42", 2, b); ok {
			t.Error("more was given back than was taken")
		}
		if ok, _, _ := s.TakeBudget(ctx, "42", 1, b); !ok {
			t.Error("the second unit taken at that time was not given back")
		}
		if err := s.GiveBackBudget(ctx, "77", 1, at); err != nil {
			t.Errorf("a company without a budget: %v", err)
		}
	})
}

// TestBudgetLine: newcomers that find no room reserve turns at the end of
// the company's line, spaced by what they take, never the same turn
// twice; a newcomer never goes before the line; whoever comes back at its
// turn takes with Take.
func TestBudgetLine(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		b := store.Budget{Limit: 20, Window: time.Minute} // a unit per 3 s
		t0 := c.Now().Truncate(time.Millisecond)
		for i := range 20 {
			if ok, _, err := s.TakeBudgetOrJoinLine(ctx, "42", 1, b); !ok || err != nil {
				t.Fatalf("take %d with room: %v, %v", i, ok, err)
			}
		}
		var mu sync.Mutex
		var turns []time.Time
		var wg sync.WaitGroup
		for range 5 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, at, err := s.TakeBudgetOrJoinLine(ctx, "42", 1, b)
				mu.Lock()
				defer mu.Unlock()
				if ok || err != nil {
					t.Errorf("a newcomer without room: %v, %v", ok, err)
				}
				turns = append(turns, at)
			}()
		}
		wg.Wait()
		slices.SortFunc(turns, time.Time.Compare)
		first := t0.Add(time.Minute + time.Millisecond) // when the first unit is free
		for i, at := range turns {
			if want := first.Add(time.Duration(i) * 3 * time.Second); !at.Equal(want) {
				t.Errorf("turn %d at %v, want %v", i, at.Sub(t0), want.Sub(t0))
			}
		}
		// Three units take three spaces in the line.
		_, at3, _ := s.TakeBudgetOrJoinLine(ctx, "42", 3, b)
		_, after, _ := s.TakeBudgetOrJoinLine(ctx, "42", 1, b)
		if want := first.Add(15 * time.Second); !at3.Equal(want) || !after.Equal(want.Add(9*time.Second)) {
			t.Errorf("turns of 3 then 1 unit at %v, %v; want %v, %v", at3.Sub(t0), after.Sub(t0), want.Sub(t0), want.Add(9*time.Second).Sub(t0))
		}
		// At the first turn the window has room again: a newcomer still
		// queues behind the line; the one whose turn it is takes.
		c.Add(turns[0].Sub(c.Now()))
		if ok, at, _ := s.TakeBudgetOrJoinLine(ctx, "42", 1, b); ok || !at.Equal(after.Add(3*time.Second)) {
			t.Errorf("a newcomer with a line ahead: %v at %v, want a turn at %v", ok, at.Sub(t0), after.Add(3*time.Second).Sub(t0))
		}
		if ok, _, err := s.TakeBudget(ctx, "42", 1, b); !ok || err != nil {
			t.Errorf("the first in line at its turn: %v, %v", ok, err)
		}
		// Once the line is over, newcomers take at once again.
		c.Add(10 * time.Minute)
		if ok, _, err := s.TakeBudgetOrJoinLine(ctx, "42", 1, b); !ok || err != nil {
			t.Errorf("after the line: %v, %v", ok, err)
		}
	})
}

// TestReserveTurn: ingest's reservation takes nothing: with room and no
// line it changes nothing; with no room it reserves the turn at which
// there is, and with a line, the turn at its end, spaced as the line's
// other turns are.
func TestReserveTurn(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		b := store.Budget{Limit: 20, Window: time.Minute} // a unit per 3 s
		t0 := c.Now().Truncate(time.Millisecond)
		for range 3 {
			if at, err := s.ReserveTurn(ctx, "42", 1, b); !at.IsZero() || err != nil {
				t.Fatalf("with room: %v, %v", at, err)
			}
		}
		for i := range 20 {
			if ok, _, err := s.TakeBudget(ctx, "42", 1, b); !ok || err != nil {
				t.Fatalf("take %d: the reservations took units: %v, %v", i, ok, err)
			}
		}
		first := t0.Add(time.Minute + time.Millisecond) // when the first unit is free
		at, err := s.ReserveTurn(ctx, "42", 2, b)
		if err != nil || !at.Equal(first) {
			t.Errorf("without room: %v, %v; want %v", at.Sub(t0), err, first.Sub(t0))
		}
		if _, next, _ := s.TakeBudgetOrJoinLine(ctx, "42", 1, b); !next.Equal(first.Add(6 * time.Second)) {
			t.Errorf("the worker's newcomer after a reservation of 2: %v, want %v", next.Sub(t0), first.Add(6*time.Second).Sub(t0))
		}
		c.Add(2 * time.Minute) // the window has room again, the line is over
		if at, err := s.ReserveTurn(ctx, "42", 1, b); !at.IsZero() || err != nil {
			t.Errorf("after the line: %v, %v", at, err)
		}
	})
}

// TestBudgetAcrossInstances: two instances (two stores on one table) take
// one company's budget in turns: each writes from the item as it last
// wrote it, finds the other's units when the item changed, and together
// they never take more than the limit.
func TestBudgetAcrossInstances(t *testing.T) {
	suite(t, func(t *testing.T, db testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		b := store.Budget{Limit: 5, Window: time.Minute}
		other := store.New(db, s.Table(), retention, store.WithClock(c.Now))
		taken := 0
		for i := range 12 {
			st := s
			if i%3 == 2 {
				st = other
			}
			ok, _, err := st.TakeBudget(ctx, "42", 1, b)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				taken++
			}
			c.Add(time.Second)
		}
		if taken != 5 {
			t.Errorf("%d units taken in a window by two instances, want 5", taken)
		}
		// A block by one instance holds for the other's next take.
		c.Add(2 * time.Minute)
		if err := other.BlockBudget(ctx, "42", c.Now().Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := s.TakeBudget(ctx, "42", 1, b); ok {
			t.Error("a take during another instance's block")
		}
	})
}

// TestMoveBudget: units moved to a later time leave the window that much
// later; a move of units that are not there (or already moved) moves
// nothing.
func TestMoveBudget(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		b := store.Budget{Limit: 3, Window: time.Minute}
		ok, at, err := s.TakeBudget(ctx, "42", 3, b)
		if !ok || err != nil {
			t.Fatal(ok, err)
		}
		c.Add(5 * time.Second) // the files went first
		if err := s.MoveBudget(ctx, "42", 3, at, c.Now()); err != nil {
			t.Fatal(err)
		}
		if err := s.MoveBudget(ctx, "42", 3, at, c.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Minute - 4*time.Second) // a minute after the take, 56 s after the move
		if ok, _, _ := s.TakeBudget(ctx, "42", 1, b); ok {
			t.Error("a unit free a minute after the take: the move did not hold it")
		}
		c.Add(5 * time.Second) // a minute after the move
		if ok, _, err := s.TakeBudget(ctx, "42", 1, b); !ok || err != nil {
			t.Errorf("a minute after the move: %v, %v", ok, err)
		}
	})
}

// TestGlobalGuard: the global budget's guard takes at most PerSlot units
// in a slot, across companies; a company's take that finds the slot full
// is told when the next begins and keeps none of its own units.
func TestGlobalGuard(t *testing.T) {
	g := store.GlobalBudget{Limit: 2 * (store.GuardSlots + 1), Window: time.Minute} // 2 units a slot of 6 s
	slot := time.Minute / store.GuardSlots
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		b := store.Budget{Limit: 20, Window: time.Minute}
		c.Add(slot - time.Duration(c.Now().UnixMilli()%slot.Milliseconds())*time.Millisecond) // the start of a slot
		for _, company := range []string{"a", "b"} {
			if ok, _, err := s.TakeBudget(ctx, company, 1, b); !ok || err != nil {
				t.Fatalf("%s: %v, %v", company, ok, err)
			}
		}
		c.Add(slot - time.Millisecond) // still the same slot
		ok, next, err := s.TakeBudget(ctx, "c", 1, b)
		if ok || err != nil || !next.Equal(c.Now().Add(time.Millisecond)) {
			t.Fatalf("a third take in the slot: %v, next %v, %v; want refused until %v", ok, next, err, c.Now().Add(time.Millisecond))
		}
		if ok, _, _ := s.TakeBudget(ctx, "a", 2, b); ok {
			t.Error("two units more in a full slot")
		}
		// c kept nothing of the refused take.
		if st, err := s.ReadBudget(ctx, "c", b); err != nil || st.Used != 0 {
			t.Errorf("c's budget after the refused take: %+v, %v; want nothing used", st, err)
		}
		c.Add(time.Millisecond)
		if ok, _, err := s.TakeBudget(ctx, "c", 2, b); !ok || err != nil {
			t.Errorf("the next slot: %v, %v", ok, err)
		}
		// Each slot after takes its 2 units, whoever asks.
		for i := range store.GuardSlots {
			c.Add(slot)
			taken := 0
			for j := range 3 {
				if ok, _, _ := s.TakeBudget(ctx, fmt.Sprint("co", i, "-", j), 1, b); ok {
					taken++
				}
			}
			if taken != 2 {
				t.Errorf("slot %d: %d units taken of 3 asked, want 2", i+1, taken)
			}
		}
	}, store.WithGlobal(g))
}

// TestGlobalShares: while more companies are busy than the global budget
// gives each its limit, each gets the same share: the global budget's
// units over the busy companies, in its window and in the spacing of its
// line; with fewer busy, each its own limit.
func TestGlobalShares(t *testing.T) {
	g := store.GlobalBudget{Limit: 12 * (store.GuardSlots + 1), Window: time.Minute} // 120 a window to share
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		b := store.Budget{Limit: 20, Window: time.Minute}
		// Ten companies take a unit each: all ten are busy.
		for i := range 10 {
			c.Add(time.Second)
			if ok, _, err := s.TakeBudget(ctx, fmt.Sprint("co", i), 1, b); !ok || err != nil {
				t.Fatalf("co%d: %v, %v", i, ok, err)
			}
		}
		// co0's share is 120 / 10 = 12 units a window: 11 more, not 12.
		taken := 1
		for range 20 {
			c.Add(time.Second)
			ok, _, err := s.TakeBudget(ctx, "co0", 1, b)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				taken++
			}
		}
		if taken != 12 {
			t.Errorf("co0 took %d units in a window while 10 were busy, want its share of 12", taken)
		}
		// Its line is spaced by its share: 60 s / 12 = 5 s a turn.
		_, first, _ := s.TakeBudgetOrJoinLine(ctx, "co0", 1, b)
		_, second, _ := s.TakeBudgetOrJoinLine(ctx, "co0", 1, b)
		if d := second.Sub(first); d != 5*time.Second {
			t.Errorf("turns %v apart, want 5s", d)
		}
		// Two windows later the others are no longer busy: co0 takes up
		// to its own limit again.
		c.Add(2 * time.Minute)
		for i := range 20 {
			c.Add(time.Second)
			if ok, _, err := s.TakeBudget(ctx, "co0", 1, b); !ok || err != nil {
				t.Fatalf("co0 alone, unit %d: %v, %v", i+1, ok, err)
			}
		}
	}, store.WithGlobal(g))
}

func TestCreateTableIsIdempotent(t *testing.T) {
	db := awsclient.DynamoDB(emulator.Kumo(t))
	name := emulator.Name("idem")
	for range 2 {
		if err := store.CreateTable(context.Background(), db, name); err != nil {
			t.Fatal(err)
		}
	}
	out, err := db.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil || out.TimeToLiveDescription == nil || aws.ToString(out.TimeToLiveDescription.AttributeName) != store.AttrTTL {
		t.Errorf("TTL: %+v, %v", out, err)
	}
}

// TestStaleCopyChangesNothing: a delayed copy whose defer token is not the
// record's (a newer deferral sent another), or whose record is gone, claims
// nothing and changes nothing: a parked delivery stays parked (and listed
// as parked), a waiting one keeps waiting, an erased one is not recreated.
// The copy the record waits for claims.
func TestStaleCopyChangesNothing(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		key := func(id string) store.DeliveryKey {
			return store.DeliveryKey{Workspace: "ws_a", Funnel: "fn_1", Event: id}
		}
		d := func(id, token string) store.Delivery {
			return store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: id, DeferToken: token, Event: []byte(`{}`)}
		}
		// A parked delivery whose last deferral's token was "t1".
		if _, err := s.Claim(ctx, d("evt_parked", ""), "w", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Record(ctx, key("evt_parked"), "w", store.Change{Status: lifecycle.StatusQueued, DeferToken: "t1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Claim(ctx, d("evt_parked", "t1"), "w2", time.Minute); err != nil {
			t.Fatalf("the copy the record waits for: %v", err)
		}
		if _, err := s.Record(ctx, key("evt_parked"), "w2", store.Change{Status: lifecycle.StatusParked, ConnectionID: "con_1"}); err != nil {
			t.Fatal(err)
		}
		// A queued one waiting for the copy with token "t2".
		if _, err := s.Claim(ctx, d("evt_waiting", ""), "w", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Record(ctx, key("evt_waiting"), "w", store.Change{Status: lifecycle.StatusQueued, DeferToken: "t2"}); err != nil {
			t.Fatal(err)
		}
		before := map[string]store.Delivery{}
		for _, id := range []string{"evt_parked", "evt_waiting"} {
			before[id], _ = s.GetDelivery(ctx, "ws_a", id)
		}
		c.Add(time.Second)
		for _, c := range []struct{ id, token string }{{"evt_parked", "t0"}, {"evt_waiting", "t1"}, {"evt_gone", "t9"}} {
			if _, err := s.Claim(ctx, d(c.id, c.token), "stale", time.Minute); !errors.Is(err, store.ErrStaleCopy) {
				t.Errorf("%s with token %s: %v, want a stale copy", c.id, c.token, err)
			}
		}
		for id, want := range before {
			got, err := s.GetDelivery(ctx, "ws_a", id)
			if err != nil || got.Status != want.Status || !got.UpdatedAt.Equal(want.UpdatedAt) || got.ClaimOwner != "" || got.DeferToken != want.DeferToken {
				t.Errorf("%s changed: %+v → %+v, %v", id, want, got, err)
			}
		}
		if parked, _ := s.ListParked(ctx, "ws_a", "con_1", 10, ""); len(parked.Deliveries) != 1 {
			t.Errorf("the parked delivery left the parked list: %+v", parked)
		}
		if _, err := s.GetDelivery(ctx, "ws_a", "evt_gone"); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("a stale copy recreated a record: %v", err)
		}
		if got, err := s.Claim(ctx, d("evt_waiting", "t2"), "w3", time.Minute); err != nil || got.Status != lifecycle.StatusProcessing {
			t.Errorf("the copy the record waits for: %+v, %v", got, err)
		}
	})
}

// TestErasureMarkers: an erasure leaves a marker of the e-mail hash (and
// nothing else) in the workspace until the time it was given; records find
// the hashes of every address their event held and of the one the mapping
// took; an empty hash erases nothing.
func TestErasureMarkers(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		key := store.DeliveryKey{Workspace: "ws_a", Funnel: "fn_1", Event: "evt_m"}
		d := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_m", EmailHashes: []string{"contact"}}
		if _, err := s.CreateDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		d.EmailHashes = []string{"contact", "answer"}
		if _, err := s.Claim(ctx, d, "w", time.Minute); err != nil {
			t.Fatal(err)
		}
		got, err := s.Record(ctx, key, "w", store.Change{Status: lifecycle.StatusRetrying, EmailHash: "mapped"})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got.EmailHashes)
		if !slices.Equal(got.EmailHashes, []string{"answer", "contact", "mapped"}) {
			t.Errorf("hashes %v", got.EmailHashes)
		}
		if _, err := s.EraseApplicant(ctx, "ws_a", "", c.Now().Add(time.Hour)); !errors.Is(err, failure.ErrInvalid) {
			t.Errorf("an empty hash: %v, want invalid", err)
		}
		e, err := s.EraseApplicant(ctx, "ws_a", "mapped", c.Now().Add(time.Hour))
		if err != nil || e.Records != 1 || e.QueuedCopies != 1 {
			t.Errorf("erase by the mapped address: %+v, %v", e, err)
		}
		for _, c := range []struct {
			ws     string
			hashes []string
			want   bool
		}{{"ws_a", []string{"", "other", "mapped"}, true}, {"ws_a", []string{"contact"}, false}, {"ws_b", []string{"mapped"}, false}} {
			if got, err := s.Erased(ctx, c.ws, c.hashes...); err != nil || got != c.want {
				t.Errorf("Erased(%s, %v) = %v, %v; want %v", c.ws, c.hashes, got, err, c.want)
			}
		}
		c.Add(2 * time.Hour)
		if got, _ := s.Erased(ctx, "ws_a", "mapped"); got {
			t.Error("the marker outlived its time")
		}
		// Forget deletes a record whoever holds it.
		if _, err := s.Claim(ctx, d, "w2", time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := s.Forget(ctx, key); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetDelivery(ctx, "ws_a", "evt_m"); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("forgotten record: %v", err)
		}
	})
}

// TestCursorsWhileRecordsChange: a cursor a list gave is always accepted,
// while the worker changes records of the list (statuses, new records):
// paging the funnel's list gives every record that was there before
// exactly once, and paging a status list never fails.
func TestCursorsWhileRecordsChange(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		k := func(i int) store.DeliveryKey {
			return store.DeliveryKey{Workspace: "ws_a", Funnel: "fn_p", Event: fmt.Sprintf("evt_p%02d", i)}
		}
		for i := range 12 {
			c.Add(time.Second)
			if _, err := s.CreateDelivery(ctx, store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_p", EventID: k(i).Event}); err != nil {
				t.Fatal(err)
			}
		}
		change := func(i int, st lifecycle.Status) {
			d := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_p", EventID: k(i).Event}
			if _, err := s.Claim(ctx, d, "w", time.Minute); errors.Is(err, store.ErrAlreadyDelivered) {
				return
			} else if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Record(ctx, k(i), "w", store.Change{Status: st}); err != nil {
				t.Fatal(err)
			}
		}
		for _, status := range []lifecycle.Status{"", lifecycle.StatusQueued} {
			seen := map[string]int{}
			cursor, n := "", 0
			for pages := 0; pages < 20; pages++ {
				p, err := s.ListDeliveries(ctx, "ws_a", "fn_p", status, 3, cursor)
				if err != nil {
					t.Fatalf("list %q, page %d: %v (the list refused its own cursor)", status, pages, err)
				}
				for _, d := range p.Deliveries {
					seen[d.EventID]++
				}
				// Between pages the worker moves the last record given and
				// one not yet given, and a new event arrives.
				if len(p.Deliveries) > 0 {
					last := p.Deliveries[len(p.Deliveries)-1].EventID
					var i int
					fmt.Sscanf(last, "evt_p%d", &i)
					change(i, lifecycle.StatusDelivered)
					if i > 0 {
						change(i-1, lifecycle.StatusRetrying)
					}
				}
				n++
				c.Add(time.Second)
				if _, err := s.CreateDelivery(ctx, store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_p", EventID: fmt.Sprintf("evt_new_%s_%d", status, n)}); err != nil {
					t.Fatal(err)
				}
				if cursor = p.Next; cursor == "" {
					break
				}
			}
			for id, times := range seen {
				if times > 1 {
					t.Errorf("list %q gave %s %d times", status, id, times)
				}
			}
			if status == "" {
				for i := range 12 {
					if seen[k(i).Event] != 1 {
						t.Errorf("the funnel's list missed %s", k(i).Event)
					}
				}
			}
		}
	})
}

// TestGlobalGuardAfterGiveBackAndMove settles two questions about the
// global guard. A unit given back (a credential check Personio refused)
// returns to the company's budget but not to the guard: the request left
// the address, and Personio's per-address cap counts every request,
// answered 401 or not; the unit leaves with its slot. A move (an
// application whose files went first sends its create request later)
// moves the guard's units too, from the slot they were taken in to the
// slot of the request, so that no window holds more requests than the
// guard's slots allow.
func TestGlobalGuardAfterGiveBackAndMove(t *testing.T) {
	g := store.GlobalBudget{Limit: 2 * (store.GuardSlots + 1), Window: time.Minute} // 2 units a slot of 6 s
	slot := time.Minute / store.GuardSlots
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		b := store.Budget{Limit: 20, Window: time.Minute}
		c.Add(slot - time.Duration(c.Now().UnixMilli()%slot.Milliseconds())*time.Millisecond) // the start of a slot
		ok, at, err := s.TakeBudget(ctx, "refused", 1, b)
		if !ok || err != nil {
			t.Fatal(ok, err)
		}
		if err := s.GiveBackBudget(ctx, "refused", 1, at); err != nil {
			t.Fatal(err)
		}
		if st, err := s.ReadBudget(ctx, "refused", b); err != nil || st.Used != 0 {
			t.Errorf("the company's budget after the give-back: %+v, %v", st, err)
		}
		if ok, _, _ := s.TakeBudget(ctx, "a", 1, b); !ok {
			t.Fatal("the slot's second unit")
		}
		if ok, _, _ := s.TakeBudget(ctx, "b", 1, b); ok {
			t.Error("a third unit in the slot: the given-back request no longer counts at the guard")
		}

		c.Add(slot) // a fresh slot: "files" takes both its units
		ok, took, err := s.TakeBudget(ctx, "files", 2, b)
		if !ok || err != nil {
			t.Fatal(ok, err)
		}
		c.Add(slot) // its create request goes a slot later
		if err := s.MoveBudget(ctx, "files", 2, took, c.Now()); err != nil {
			t.Fatal(err)
		}
		if ok, _, _ := s.TakeBudget(ctx, "c", 1, b); ok {
			t.Error("a unit in the slot the moved units went to, which they fill")
		}
		c.Add(-slot) // back in the slot they left (a clock of another worker)
		if ok, _, _ := s.TakeBudget(ctx, "d", 2, b); !ok {
			t.Error("the slot the units left is still full")
		}
	}, store.WithGlobal(g))
}
