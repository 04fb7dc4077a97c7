package store_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// countingDB counts the store's requests.
type countingDB struct {
	store.DynamoDB
	calls atomic.Int64
}

func (c *countingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.calls.Add(1)
	return c.DynamoDB.GetItem(ctx, in, o...)
}

func (c *countingDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.calls.Add(1)
	return c.DynamoDB.BatchGetItem(ctx, in, o...)
}

// TestClaimReading: a claim that looks at the record first (an event with
// addresses) reads the funnel's integration in the same request, and
// claims as Claim does; one without addresses reads nothing more.
func TestClaimReading(t *testing.T) {
	suite(t, func(t *testing.T, db testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		if _, err := s.PutIntegration(ctx, store.Integration{WorkspaceID: "ws_a", FunnelID: "fn_1", ConnectionID: "con_1", JobPositionID: 7, Enabled: true}); err != nil {
			t.Fatal(err)
		}
		counted := &countingDB{DynamoDB: db}
		cs := store.New(counted, s.Table(), retention, store.WithClock(c.Now))
		for _, tc := range []struct {
			name      string
			d         store.Delivery
			want      store.IntegrationLook
			wantReads int64
		}{
			{"with an integration", store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_1", EmailHashes: []string{"h1"}},
				store.IntegrationLook{Read: true, Found: true}, 1},
			{"again, the record there", store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_1", EmailHashes: []string{"h1"}},
				store.IntegrationLook{Read: true, Found: true}, 1},
			{"a funnel without one", store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_none", EventID: "evt_2", EmailHashes: []string{"h1"}},
				store.IntegrationLook{Read: true}, 1},
			{"no addresses: no look first", store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_3"},
				store.IntegrationLook{}, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := counted.calls.Load()
				claimed, look, err := cs.ClaimReading(ctx, tc.d, "w1", time.Minute)
				if err != nil || claimed.Status != "processing" || claimed.ClaimOwner != "w1" {
					t.Fatalf("ClaimReading: %+v, %v", claimed, err)
				}
				if look.Read != tc.want.Read || look.Found != tc.want.Found || look.Found && look.Integration.JobPositionID != 7 {
					t.Errorf("look %+v, want read %v found %v (position 7)", look, tc.want.Read, tc.want.Found)
				}
				if n := counted.calls.Load() - before; n != tc.wantReads {
					t.Errorf("%d reads, want %d", n, tc.wantReads)
				}
				if got, err := s.GetDelivery(ctx, tc.d.WorkspaceID, tc.d.EventID); err != nil || got.ClaimOwner != "w1" {
					t.Errorf("the record after: %+v, %v", got, err)
				}
			})
		}
		// Another worker's claim is refused, whatever it reads.
		if _, _, err := cs.ClaimReading(ctx, store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_1", EmailHashes: []string{"h1"}},
			"w2", time.Minute); err == nil {
			t.Error("a second worker's claim held")
		}
	})
}

// TestWithdraw: ingest's way back from a failed send deletes the record it
// wrote and the event kept beside it, but not a record a worker has
// claimed since.
func TestWithdraw(t *testing.T) {
	suite(t, func(t *testing.T, db testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		d, err := s.CreateDelivery(ctx, store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_1", Event: []byte(`{}`), EmailHashes: []string{"h1"}})
		if err != nil {
			t.Fatal(err)
		}
		claimedD, err := s.CreateDelivery(ctx, store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_2", Event: []byte(`{}`), EmailHashes: []string{"h1"}})
		if err != nil {
			t.Fatal(err)
		}
		c.Add(time.Second)
		if _, err := s.Claim(ctx, store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_2", EmailHashes: []string{"h1"}}, "w", time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := s.Withdraw(ctx, d); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetDelivery(ctx, "ws_a", "evt_1"); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("withdrawn record: %v", err)
		}
		if _, err := s.Event(ctx, "ws_a", "evt_1"); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("withdrawn record's event: %v", err)
		}
		if err := s.Withdraw(ctx, claimedD); !errors.Is(err, failure.ErrConflict) {
			t.Errorf("claimed record withdrawn: %v", err)
		}
		if _, err := s.Event(ctx, "ws_a", "evt_2"); err != nil {
			t.Errorf("claimed record's event: %v", err)
		}
	})
}

// TestReserveTurnReadsOncePerSecond: ingest reads a company's idle budget
// once a second, not once an event; within that second it does not see a
// window another instance filled (its events go at once and their workers
// join the line), after it it does.
func TestReserveTurnReadsOncePerSecond(t *testing.T) {
	suite(t, func(t *testing.T, db testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		b := store.Budget{Limit: 20, Window: time.Minute}
		counted := &countingDB{DynamoDB: db}
		in := store.New(counted, s.Table(), retention, store.WithClock(c.Now))
		for i := range 3 {
			if at, err := in.ReserveTurn(ctx, "42", 1, b); !at.IsZero() || err != nil {
				t.Fatalf("reservation %d with room: %v, %v", i, at, err)
			}
		}
		if n := counted.calls.Load(); n != 1 {
			t.Errorf("three reservations in a second: %d reads, want 1", n)
		}
		for i := range 20 {
			if ok, _, err := s.TakeBudget(ctx, "42", 1, b); !ok || err != nil {
				t.Fatalf("take %d: %v, %v", i, ok, err)
			}
		}
		c.Add(999 * time.Millisecond)
		if at, err := in.ReserveTurn(ctx, "42", 1, b); !at.IsZero() || err != nil || counted.calls.Load() != 1 {
			t.Errorf("within the second: %v, %v after %d reads; want no turn and no read", at, err, counted.calls.Load())
		}
		c.Add(time.Millisecond)
		if at, err := in.ReserveTurn(ctx, "42", 1, b); at.IsZero() || err != nil || counted.calls.Load() != 2 {
			t.Errorf("a second later: %v, %v after %d reads; want a turn and a read", at, err, counted.calls.Load())
		}
	})
}

// TestReserveTurnCountsWhatItLets: within the second an instance decides
// from the budget's item as it read it, it counts the events it let go at
// once as taken: once they fill the window it reads the item again and
// reserves a turn, instead of letting a backlog's first second of events
// go without turns (each then received twice: once to join the line, once
// at its turn).
func TestReserveTurnCountsWhatItLets(t *testing.T) {
	suite(t, func(t *testing.T, db testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		b := store.Budget{Limit: 5, Window: time.Minute}
		counted := &countingDB{DynamoDB: db}
		in := store.New(counted, s.Table(), retention, store.WithClock(c.Now))
		for i := range b.Limit {
			if at, err := in.ReserveTurn(ctx, "42", 1, b); !at.IsZero() || err != nil {
				t.Fatalf("reservation %d with room: %v, %v", i, at, err)
			}
			// The event's worker takes its unit (another instance).
			if ok, _, err := s.TakeBudget(ctx, "42", 1, b); !ok || err != nil {
				t.Fatalf("take %d: %v, %v", i, ok, err)
			}
		}
		if n := counted.calls.Load(); n != 1 {
			t.Errorf("%d reservations with room in a second: %d reads, want 1", b.Limit, n)
		}
		c.Add(10 * time.Millisecond)
		at, err := in.ReserveTurn(ctx, "42", 1, b)
		if at.IsZero() || err != nil {
			t.Errorf("the event after the window filled: %v, %v; want a turn", at, err)
		}
		if n := counted.calls.Load(); n != 2 {
			t.Errorf("%d reads, want 2: the first, and one again once the events let go filled the window", n)
		}
	})
}

// TestClaimReadingConnection: once an instance has read a funnel's
// integration, its next claims of the funnel's events read the connection
// the integration names in the same request; an integration that names
// another connection since gives none (the caller reads it), and the claim
// after takes the new one.
func TestClaimReadingConnection(t *testing.T) {
	suite(t, func(t *testing.T, db testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		in := store.Integration{WorkspaceID: "ws_a", FunnelID: "fn_1", ConnectionID: "con_1", JobPositionID: 7, Enabled: true}
		for _, id := range []string{"con_1", "con_2"} {
			if _, err := s.CreateConnection(ctx, store.Connection{WorkspaceID: "ws_a", ID: id, CompanyID: "c-" + id, Status: store.ConnectionConnected}); err != nil {
				t.Fatal(err)
			}
		}
		in, err := s.PutIntegration(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		counted := &countingDB{DynamoDB: db}
		cs := store.New(counted, s.Table(), retention, store.WithClock(c.Now))
		for i, want := range []string{"", "con_1", "", "con_2"} {
			if i == 2 {
				in.ConnectionID = "con_2"
				if _, err := s.PutIntegration(ctx, in); err != nil {
					t.Fatal(err)
				}
			}
			before := counted.calls.Load()
			d := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: fmt.Sprintf("evt_%d", i), EmailHashes: []string{"h1"}}
			_, look, err := cs.ClaimReading(ctx, d, "w1", time.Minute)
			if err != nil {
				t.Fatalf("claim %d: %v", i, err)
			}
			got := ""
			if look.Connection != nil {
				got = look.Connection.ID
				if look.Connection.CompanyID != "c-"+got {
					t.Errorf("claim %d: connection %+v", i, look.Connection)
				}
			}
			if got != want || counted.calls.Load()-before != 1 {
				t.Errorf("claim %d: connection %q in %d reads, want %q in 1", i, got, counted.calls.Load()-before, want)
			}
		}
	})
}

// hookDB runs before once, ahead of the first UpdateItem.
type hookDB struct {
	store.DynamoDB
	before func()
}

func (h *hookDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if f := h.before; f != nil {
		h.before = nil
		f()
	}
	return h.DynamoDB.UpdateItem(ctx, in, o...)
}

func (h *hookDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	if f := h.before; f != nil {
		h.before = nil
		f()
	}
	return h.DynamoDB.TransactWriteItems(ctx, in, o...)
}

// TestClaimErasedBetweenLookAndUpdate: a claim whose look found no erasure marker,
// with the applicant erased between its look and its update, writes
// nothing: the erasure deleted the record, and the update's condition
// (the record as read) fails; no item of the event is left.
func TestClaimErasedBetweenLookAndUpdate(t *testing.T) {
	suite(t, func(t *testing.T, db testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		d := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_1", Event: []byte(`{"e":"ada"}`), EmailHashes: []string{"h1"}}
		if _, err := s.CreateDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		hooked := &hookDB{DynamoDB: db, before: func() {
			if _, err := s.EraseApplicant(ctx, "ws_a", "h1", c.Now().Add(24*time.Hour)); err != nil {
				t.Error(err)
			}
		}}
		ws := store.New(hooked, s.Table(), retention, store.WithClock(c.Now))
		if _, err := ws.Claim(ctx, d, "w1", time.Minute); err == nil {
			t.Error("the claim held after the erasure")
		}
		if _, err := s.GetDelivery(ctx, "ws_a", "evt_1"); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("the record: %v", err)
		}
		if _, err := s.Event(ctx, "ws_a", "evt_1"); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("the event: %v", err)
		}
	})
}

// TestClaimErasedMarkerBeforeUpdate: the erasure's marker lands between a
// claim's look and its update, and the erasure deletes the record only
// after the update (the order `go run ./dev/sim/cmd/sim -seed 11` found):
// the claim must not hold, or the worker delivers an applicant whose
// erasure has answered. The claim's write checks the markers itself.
func TestClaimErasedMarkerBeforeUpdate(t *testing.T) {
	suite(t, func(t *testing.T, db testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		d := store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_1", Event: []byte(`{"e":"ada"}`), EmailHashes: []string{"h1"}}
		if _, err := s.CreateDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		marker := map[string]types.AttributeValue{
			store.AttrPK: &types.AttributeValueMemberS{Value: "WS#ws_a"}, store.AttrSK: &types.AttributeValueMemberS{Value: "ERASED#h1"},
			store.AttrTTL: &types.AttributeValueMemberN{Value: strconv.FormatInt(c.Now().Add(24*time.Hour).Unix(), 10)}}
		hooked := &hookDB{DynamoDB: db, before: func() {
			if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Table()), Item: marker}); err != nil {
				t.Error(err)
			}
		}}
		ws := store.New(hooked, s.Table(), retention, store.WithClock(c.Now))
		_, err := ws.Claim(ctx, d, "w1", time.Minute)
		if !errors.Is(err, store.ErrErased) {
			t.Errorf("the claim after the erasure's marker: %v, want store.ErrErased", err)
		}
		if got, err := s.GetDelivery(ctx, "ws_a", "evt_1"); err != nil || got.ClaimOwner != "" {
			t.Errorf("the record before the erasure's deletion: %+v, %v; want it unclaimed", got.ClaimOwner, err)
		}
	})
}
