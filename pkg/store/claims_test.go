package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/funnel-personio/funnel-personio/dev/awsmeter"
	"github.com/funnel-personio/funnel-personio/dev/memdb"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// TestCopyBeforeItsToken: a worker that defers a delivery sends its
// delayed copy, then records the copy's token. A copy received in between
// (a delay rounded down to 0 s, a slow write) finds the claim held and the
// old token: it must wait for the claim (a conflict, retried), not be
// dropped as stale, or the record waits for a copy that is gone (found by
// a backlog load run: 50 of 1,000 deliveries stuck queued). Once the
// holder recorded the token and released the claim, the copy claims.
func TestCopyBeforeItsToken(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		k := store.DeliveryKey{Workspace: "ws_a", Funnel: "fn_1", Event: "evt_turn"}
		d := func(token string) store.Delivery {
			return store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_turn", DeferToken: token, Event: []byte(`{}`)}
		}
		// Deferred once, with token t1; the copy t1 comes and is claimed.
		if _, err := s.Claim(ctx, d(""), "w1", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Record(ctx, k, "w1", store.Change{Status: lifecycle.StatusQueued, ReasonCode: lifecycle.ReasonBudget, DeferToken: "t1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Claim(ctx, d("t1"), "w2", time.Minute); err != nil {
			t.Fatal(err)
		}
		// w2 defers again: it has sent copy t2 and not yet recorded it.
		c.Add(10 * time.Millisecond)
		if _, err := s.Claim(ctx, d("t2"), "w3", time.Minute); errors.Is(err, store.ErrStaleCopy) || !errors.Is(err, failure.ErrConflict) {
			t.Fatalf("the copy before its token: %v, want a conflict (wait for the claim), not a stale copy", err)
		}
		if _, err := s.Record(ctx, k, "w2", store.Change{Status: lifecycle.StatusQueued, ReasonCode: lifecycle.ReasonBudget, DeferToken: "t2"}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Claim(ctx, d("t2"), "w3", time.Minute); err != nil || got.Status != lifecycle.StatusProcessing {
			t.Errorf("the copy once its token is recorded: %+v, %v", got, err)
		}
		// The older copy t1, now that the claim is free again, is stale.
		if _, err := s.Record(ctx, k, "w3", store.Change{Status: lifecycle.StatusQueued, DeferToken: "t3"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Claim(ctx, d("t1"), "w4", time.Minute); !errors.Is(err, store.ErrStaleCopy) {
			t.Errorf("an old copy with the claim free: %v, want stale", err)
		}
	})
}

// TestRecordAfterItsClaimReadsNothing: the owner's Record appends its
// attempt to the attempts its claim (or its last record) saw, without
// reading the record; a claim this instance did not make (another
// instance's, by the same owner name) is read first, as before. Either
// way every attempt is kept, and a Record of a claim taken over is
// refused.
func TestRecordAfterItsClaimReadsNothing(t *testing.T) {
	meteredOn(t, func(t *testing.T, _ bool, m *awsmeter.Meter, db *dynamodb.Client, table string, s *store.Store, c *clock) {
		ctx := t.Context()
		d := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_a", Event: []byte(`{}`)}
		k := d.Key()
		if _, err := s.CreateDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		other := store.New(db, table, retention, store.WithClock(c.Now))
		attempt := func(o lifecycle.Status) *store.Attempt { return &store.Attempt{At: c.Now(), Outcome: o} }
		steps := []struct {
			name  string
			do    func() error
			reads int64
		}{
			{"claim", func() error { _, err := s.Claim(ctx, d, "w1", time.Minute); return err }, 0},
			{"the record that releases it", func() error {
				_, err := s.Record(ctx, k, "w1", store.Change{Status: lifecycle.StatusRetrying, Attempt: attempt(lifecycle.StatusRetrying)})
				return err
			}, 0},
			{"claimed by another instance", func() error { _, err := other.Claim(ctx, d, "w2", time.Minute); return err }, 0},
			{"recorded by this one, which did not claim", func() error {
				_, err := s.Record(ctx, k, "w2", store.Change{Status: lifecycle.StatusQueued, Attempt: attempt(lifecycle.StatusQueued)})
				return err
			}, 1},
			{"claimed here", func() error { _, err := s.Claim(ctx, d, "w3", time.Minute); return err }, 0},
		}
		for _, st := range steps {
			c.Add(time.Second)
			m.Reset()
			if err := st.do(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if got := units(m, "GetItem").Calls; got != st.reads {
				t.Errorf("%s: %d reads, want %d", st.name, got, st.reads)
			}
		}
		// The lease runs out and w4 takes the claim over: w3's record is
		// refused and changes nothing.
		c.Add(2 * time.Minute)
		if _, err := other.Claim(ctx, d, "w4", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Record(ctx, k, "w3", store.Change{Status: lifecycle.StatusFailed, Attempt: attempt(lifecycle.StatusFailed)}); !errors.Is(err, failure.ErrConflict) {
			t.Errorf("the record of a claim taken over: %v, want a conflict", err)
		}
		got, err := s.GetDelivery(ctx, "ws_a", "evt_a")
		var outcomes []lifecycle.Status
		for _, a := range got.Attempts {
			outcomes = append(outcomes, a.Outcome)
		}
		if err != nil || fmt.Sprint(outcomes) != "[retrying queued]" || got.ClaimOwner != "w4" {
			t.Errorf("attempts %v, owner %s, %v; want retrying, queued and w4's claim", outcomes, got.ClaimOwner, err)
		}
	})
}

// between is a DynamoDB client that runs then once, right after the first
// GetItem it answers (before the caller sees the answer).
type between struct {
	testDB
	then func()
}

func (b *between) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	out, err := b.testDB.GetItem(ctx, in, opts...)
	if f := b.then; f != nil {
		b.then = nil
		f()
	}
	return out, err
}

// TestRequeueAfterAWorkerRecorded: a retry sends the event, then marks the
// record queued. A worker that takes the event, fails again and records
// so between the mark's read and its write keeps its attempt: the mark is
// refused (a conflict, as when the worker claims first), and the record
// says failed, not queued with its message gone.
func TestRequeueAfterAWorkerRecorded(t *testing.T) {
	suite(t, func(t *testing.T, db testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		d := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_r", Event: []byte(`{}`)}
		k := d.Key()
		fail := func(s *store.Store, owner string) {
			t.Helper()
			c.Add(time.Second)
			if _, err := s.Claim(ctx, d, owner, time.Minute); err != nil {
				t.Fatal(err)
			}
			c.Add(time.Second)
			if _, err := s.Record(ctx, k, owner, store.Change{Status: lifecycle.StatusFailed, ReasonCode: lifecycle.ReasonMappingFailed,
				Attempt: &store.Attempt{At: c.Now(), Outcome: lifecycle.StatusFailed}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CreateDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		fail(s, "w1")
		b := &between{testDB: db}
		api := store.New(b, s.Table(), retention, store.WithClock(c.Now))
		b.then = func() { fail(s, "w2") }
		if _, err := api.Requeue(ctx, k, lifecycle.ReasonRetryRequested); !errors.Is(err, failure.ErrConflict) {
			t.Errorf("the mark after the worker recorded: %v, want a conflict", err)
		}
		got, err := s.GetDelivery(ctx, "ws_a", "evt_r")
		if err != nil || got.Status != lifecycle.StatusFailed || len(got.Attempts) != 2 {
			t.Errorf("the record: %s with %d attempts, %v; want failed with both workers' attempts", got.Status, len(got.Attempts), err)
		}
		// Nothing in between: the mark is made.
		c.Add(time.Second)
		if got, err := api.Requeue(ctx, k, lifecycle.ReasonRetryRequested); err != nil || got.Status != lifecycle.StatusQueued || len(got.Attempts) != 3 {
			t.Errorf("the mark: %s with %d attempts, %v; want queued with 3", got.Status, len(got.Attempts), err)
		}
	})
}

// TestClaimAfterAnErasure: a worker looked at the erasure markers, then
// the applicant was erased (marker written, record deleted), then the
// worker claims: the claim's look sees the marker, the claim is refused
// and writes nothing, so the erasure stays final (a claim that upserts
// would bring the record back and the worker would deliver).
func TestClaimAfterAnErasure(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		d := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_e", Event: []byte(`{}`), EmailHashes: []string{"h-other", "h-ada"}}
		if _, err := s.CreateDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		if erased, err := s.Erased(ctx, "ws_a", d.EmailHashes...); err != nil || erased {
			t.Fatalf("erased before the erasure: %v %v", erased, err)
		}
		if _, err := s.EraseApplicant(ctx, "ws_a", "h-ada", c.Now().Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Claim(ctx, d, "w1", time.Minute); !errors.Is(err, store.ErrErased) {
			t.Fatalf("claim after the erasure: %v, want ErrErased", err)
		}
		if _, err := s.GetDelivery(ctx, "ws_a", "evt_e"); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("the claim brought the record back: %v", err)
		}
		if _, err := s.Event(ctx, "ws_a", "evt_e"); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("the claim brought the event back: %v", err)
		}
		// An expired marker no longer refuses.
		c.Add(25 * time.Hour)
		if _, err := s.Claim(ctx, d, "w2", time.Minute); err != nil {
			t.Errorf("claim after the marker expired: %v", err)
		}
	})
}

// TestRecordAfterAnErasure: ingest looked at the erasure markers, then the
// applicant was erased, then ingest writes the record: the record is
// refused in the same transaction as the marker's check, with the event's
// item: nothing is written (simulator seed 6261 found the record written
// after the erasure's answer).
func TestRecordAfterAnErasure(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		if _, err := s.EraseApplicant(ctx, "ws_a", "h-ada", c.Now().Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		d := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_r", Event: []byte(`{}`), EmailHashes: []string{"h-ada"}}
		if _, err := s.CreateDelivery(ctx, d); !errors.Is(err, store.ErrErased) {
			t.Fatalf("record after the erasure: %v, want ErrErased", err)
		}
		if _, err := s.GetDelivery(ctx, "ws_a", "evt_r"); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("the record was written: %v", err)
		}
		if _, err := s.Event(ctx, "ws_a", "evt_r"); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("the event is still kept: %v", err)
		}
	})
}

// TestErasureSeesRecordsJustWritten: a record written a moment before
// the erasure is found and deleted, on a DynamoDB whose eventually
// consistent reads lag the table by a second (dev/memdb's Lag): the
// erasure reads the workspace's records consistently. Read eventually
// consistent, it answered "removed 0" and left the record and its event
// (the simulator's seeds 26 and 31 with lag).
func TestErasureSeesRecordsJustWritten(t *testing.T) {
	ctx := t.Context()
	c := &clock{now: time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)}
	db := memdb.New()
	db.Lag(c.Now, func() time.Duration { return time.Second }, time.Second)
	if err := store.CreateTable(ctx, db, "t"); err != nil {
		t.Fatal(err)
	}
	s := store.New(db, "t", retention, store.WithClock(c.Now))
	d := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_fresh", Event: []byte(`{}`), EmailHashes: []string{"h-ada"}}
	if _, err := s.CreateDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	c.Add(100 * time.Millisecond)
	e, err := s.EraseApplicant(ctx, "ws_a", "h-ada", c.Now().Add(24*time.Hour))
	if err != nil || e.Records != 1 {
		t.Errorf("erasure: %+v, %v; want the record removed", e, err)
	}
	if _, err := s.GetDelivery(ctx, "ws_a", "evt_fresh"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("the record is still there: %v", err)
	}
	if _, err := s.Event(ctx, "ws_a", "evt_fresh"); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("the event is still kept: %v", err)
	}
}
