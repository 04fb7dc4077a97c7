package outbound_test

import (
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// TestProblemsApartGiveIDsApart: two spells of one position, or two
// changes of one connection's status, that begin within the same second
// are two problems, with two ids (the receiver drops a repeat by its id);
// the two events of one spell name it alike whenever each is told.
func TestProblemsApartGiveIDsApart(t *testing.T) {
	t0 := time.Date(2026, 12, 8, 9, 0, 0, 100_000_000, time.UTC)
	t1 := t0.Add(300 * time.Millisecond)
	in := store.Integration{WorkspaceID: "ws_a", FunnelID: "fn_1", ConnectionID: "con_1"}
	first := outbound.PositionEvent(outbound.PositionUnpublished, in, 1001, t0, t0, lifecycle.ReasonPositionUnpublished)
	second := outbound.PositionEvent(outbound.PositionUnpublished, in, 1001, t1, t1, lifecycle.ReasonPositionUnpublished)
	if first.ID == second.ID {
		t.Errorf("two spells of a position 300 ms apart share the id %s", first.ID)
	}
	if again := outbound.PositionEvent(outbound.PositionUnpublished, in, 1001, t0, t1, lifecycle.ReasonPositionUnpublished); again.ID != first.ID {
		t.Errorf("one spell told twice: %s, then %s", first.ID, again.ID)
	}
	c := store.Connection{WorkspaceID: "ws_a", ID: "con_1", CredentialsVersion: 2, StatusSince: t0}
	a := outbound.ConnectionEvent(outbound.ConnectionNeedsAttention, c, lifecycle.ReasonAuth)
	c.StatusSince = t1
	if b := outbound.ConnectionEvent(outbound.ConnectionNeedsAttention, c, lifecycle.ReasonAuth); a.ID == b.ID {
		t.Errorf("two changes of a connection's status 300 ms apart share the id %s", a.ID)
	}
}

// TestDeliveryType: only a delivery failed for good or gone to the
// dead-letter queue is a problem to tell of.
func TestDeliveryType(t *testing.T) {
	for _, s := range lifecycle.Statuses {
		want := outbound.Type("")
		switch s {
		case lifecycle.StatusFailed:
			want = outbound.DeliveryFailed
		case lifecycle.StatusDead:
			want = outbound.DeliveryDead
		}
		if got := outbound.DeliveryType(s); got != want {
			t.Errorf("%s: %q, want %q", s, got, want)
		}
	}
}
