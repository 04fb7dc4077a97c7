package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// park claims a new delivery and records it parked on the connection.
func park(t *testing.T, s *store.Store, ws, conn, id string) {
	t.Helper()
	ctx := t.Context()
	k := store.DeliveryKey{Workspace: ws, Funnel: "fn_1", Event: id}
	if _, err := s.CreateDelivery(ctx, store.Delivery{WorkspaceID: ws, FunnelID: "fn_1", EventID: id, Event: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, store.Delivery{WorkspaceID: ws, FunnelID: "fn_1", EventID: id}, "w", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Record(ctx, k, "w", store.Change{Status: lifecycle.StatusParked, ConnectionID: conn, ReasonCode: lifecycle.ReasonAuth}); err != nil {
		t.Fatal(err)
	}
}

// TestParkedConnections: across workspaces, each connection with parked
// deliveries and how many wait, most first; deliveries that are not
// parked (failed, queued, resumed) and other items are not counted.
func TestParkedConnections(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		if got, err := s.ParkedConnections(ctx); err != nil || len(got) != 0 {
			t.Fatalf("an empty table: %+v, %v", got, err)
		}
		first := c.Now()
		for i := range 3 {
			park(t, s, "ws_a", "con_1", fmt.Sprintf("evt_a%d", i))
			c.Add(time.Second)
		}
		park(t, s, "ws_b", "con_9", "evt_b0")
		park(t, s, "ws_b", "con_8", "evt_b1")
		park(t, s, "ws_b", "con_8", "evt_b2")
		// Resumed: no longer parked.
		if _, err := s.Requeue(ctx, store.DeliveryKey{Workspace: "ws_b", Funnel: "fn_1", Event: "evt_b0"}, lifecycle.ReasonCredentialsFixed); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateDelivery(ctx, store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_q", ConnectionID: "con_1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateConnection(ctx, store.Connection{WorkspaceID: "ws_a", ID: "con_1", Status: store.ConnectionNeedsAttention}); err != nil {
			t.Fatal(err)
		}
		got, err := s.ParkedConnections(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := []store.ParkedConnection{{Workspace: "ws_a", Connection: "con_1", Waiting: 3, Oldest: first}, {Workspace: "ws_b", Connection: "con_8", Waiting: 2}}
		if len(got) != len(want) {
			t.Fatalf("got %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i].Workspace != want[i].Workspace || got[i].Connection != want[i].Connection || got[i].Waiting != want[i].Waiting {
				t.Errorf("%d: got %+v, want %+v", i, got[i], want[i])
			}
		}
		if !got[0].Oldest.Equal(first) {
			t.Errorf("oldest %v, want %v", got[0].Oldest, first)
		}
	})
}

// TestReadBudget: the budget as the next take would find it: units used in
// the window, a 429's block, the line of reserved turns and when a
// newcomer's unit would be taken; reading changes nothing.
func TestReadBudget(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		b := store.Budget{Limit: 20, Window: time.Minute} // a unit per 3 s
		t0 := c.Now()
		st, err := s.ReadBudget(ctx, "42", b)
		if err != nil || st.Used != 0 || st.Reserved != 0 || !st.NextFree.Equal(t0) || !st.LineEnds.IsZero() {
			t.Fatalf("no budget item yet: %+v, %v", st, err)
		}
		for range 5 {
			if ok, _, err := s.TakeBudget(ctx, "42", 3, b); !ok || err != nil {
				t.Fatal(ok, err)
			}
			c.Add(time.Second)
		}
		st, _ = s.ReadBudget(ctx, "42", b)
		if st.Used != 15 || !st.NextFree.Equal(c.Now()) || st.Reserved != 0 {
			t.Errorf("15 of 20 used: %+v", st)
		}
		// Past the limit, two newcomers join the line.
		if ok, _, _ := s.TakeBudget(ctx, "42", 5, b); !ok {
			t.Fatal("the last 5 units")
		}
		_, turn1, _ := s.TakeBudgetOrJoinLine(ctx, "42", 1, b)
		_, turn2, _ := s.TakeBudgetOrJoinLine(ctx, "42", 2, b)
		st, _ = s.ReadBudget(ctx, "42", b)
		lineEnds := turn2.Add(6 * time.Second)
		if st.Used != 20 || !st.LineEnds.Equal(lineEnds) || !st.NextFree.Equal(lineEnds) || !turn1.Equal(t0.Add(time.Minute+time.Millisecond)) {
			t.Errorf("a line of 3 units: %+v (turns %v, %v)", st, turn1.Sub(t0), turn2.Sub(t0))
		}
		if st.Reserved != 3 {
			t.Errorf("reserved %d units, want 3", st.Reserved)
		}
		version := st.Version
		if again, _ := s.ReadBudget(ctx, "42", b); again.Version != version {
			t.Errorf("reading wrote: version %d → %d", version, again.Version)
		}
		// A 429 blocks it for a minute past the line.
		until := lineEnds.Add(time.Minute)
		if err := s.BlockBudget(ctx, "42", until); err != nil {
			t.Fatal(err)
		}
		st, _ = s.ReadBudget(ctx, "42", b)
		if !st.BlockedUntil.Equal(until.Truncate(time.Millisecond)) || !st.NextFree.Equal(until.Truncate(time.Millisecond)) {
			t.Errorf("blocked: %+v", st)
		}
		// Long after, everything has left the window.
		c.Add(time.Hour)
		st, _ = s.ReadBudget(ctx, "42", b)
		if st.Used != 0 || st.Reserved != 0 || !st.BlockedUntil.IsZero() || !st.NextFree.Equal(c.Now()) {
			t.Errorf("an hour later: %+v", st)
		}
	})
}
