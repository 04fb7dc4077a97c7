package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// TestSettleUnconfirmed: a record keeps the position and the address the
// mapping took; DeliveriesOf finds a workspace's records of an address;
// Settle applies Recheck, Confirm and Refute from unconfirmed only, as
// the lifecycle table says.
func TestSettleUnconfirmed(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		unconfirmed := func(id string, hashes []string) store.DeliveryKey {
			t.Helper()
			c.Add(time.Second)
			k := store.DeliveryKey{Workspace: "ws_a", Funnel: "fn_1", Event: id}
			if _, err := s.CreateDelivery(ctx, store.Delivery{WorkspaceID: k.Workspace, FunnelID: k.Funnel, EventID: id, EmailHashes: hashes}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Claim(ctx, store.Delivery{WorkspaceID: k.Workspace, FunnelID: k.Funnel, EventID: id}, "w", time.Minute); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Record(ctx, k, "w", store.Change{Status: lifecycle.StatusUnconfirmed, ReasonCode: lifecycle.ReasonConfirmPending,
				EmailHash: hashes[0], Position: 1001, Attempt: &store.Attempt{At: c.Now(), Outcome: lifecycle.StatusUnconfirmed}}); err != nil {
				t.Fatal(err)
			}
			return k
		}
		a := unconfirmed("evt_a", []string{"h1", "h9"})
		b := unconfirmed("evt_b", []string{"h1"})
		unconfirmed("evt_c", []string{"h2"})
		list, err := s.DeliveriesOf(ctx, "ws_a", "h1")
		if err != nil || len(list) != 2 {
			t.Fatalf("deliveries of h1: %d, %v", len(list), err)
		}
		for _, d := range list {
			if d.JobPositionID != 1001 || d.MappedEmailHash != "h1" || d.Status != lifecycle.StatusUnconfirmed {
				t.Errorf("%s: position %d, mapped %q, %s", d.EventID, d.JobPositionID, d.MappedEmailHash, d.Status)
			}
		}
		if _, err := s.DeliveriesOf(ctx, "ws_a", ""); !errors.Is(err, failure.ErrInvalid) {
			t.Errorf("no hash: %v", err)
		}
		d, err := s.Settle(ctx, a, lifecycle.Recheck, store.Change{Status: lifecycle.StatusUnconfirmed, ReasonCode: lifecycle.ReasonConfirmPending,
			Reason: "not yet", Attempt: &store.Attempt{At: c.Now(), Outcome: lifecycle.StatusUnconfirmed, ReasonCode: lifecycle.ReasonConfirmPending}})
		if err != nil || d.Status != lifecycle.StatusUnconfirmed || len(d.Attempts) != 2 || d.Reason != "not yet" {
			t.Fatalf("recheck: %+v, %v", d, err)
		}
		d, err = s.Settle(ctx, a, lifecycle.Confirm, store.Change{Status: lifecycle.StatusDelivered, ReasonCode: lifecycle.ReasonDelivered,
			PersonioApplicationID: "7", Attempt: &store.Attempt{At: c.Now(), Outcome: lifecycle.StatusDelivered}})
		if err != nil || d.Status != lifecycle.StatusDelivered || d.PersonioApplicationID != "7" || d.DeliveredAt == nil || len(d.Attempts) != 3 {
			t.Fatalf("confirm: %+v, %v", d, err)
		}
		if _, err := s.Settle(ctx, a, lifecycle.Refute, store.Change{Status: lifecycle.StatusFailed, ReasonCode: lifecycle.ReasonDuplicate}); !errors.Is(err, failure.ErrConflict) {
			t.Errorf("refute of a delivered one: %v, want conflict", err)
		}
		if _, err := s.Settle(ctx, b, lifecycle.Refute, store.Change{Status: lifecycle.StatusDelivered}); !errors.Is(err, failure.ErrInvalid) {
			t.Errorf("refute to delivered: %v, want invalid", err)
		}
		if d, err := s.Settle(ctx, b, lifecycle.Refute, store.Change{Status: lifecycle.StatusFailed, ReasonCode: lifecycle.ReasonDuplicate}); err != nil ||
			d.Status != lifecycle.StatusFailed || d.ReasonCode != lifecycle.ReasonDuplicate {
			t.Errorf("refute: %+v, %v", d, err)
		}
		failed, err := s.ListDeliveries(ctx, "ws_a", "fn_1", lifecycle.StatusFailed, 10, "")
		if err != nil || len(failed.Deliveries) != 1 || failed.Deliveries[0].EventID != "evt_b" {
			t.Errorf("the log's failed ones: %+v, %v", failed, err)
		}
	})
}
