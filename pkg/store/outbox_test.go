package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/routing"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// TestPendingEvents: an event recorded with a change is pending exactly
// when the change is written (a change that loses its condition records
// none); the watch index lists it until it is marked sent, and marking it
// again, or one never recorded, is no error.
func TestPendingEvents(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, _ *clock) {
		ctx := t.Context()
		at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		c, err := s.CreateConnection(ctx, store.Connection{WorkspaceID: "ws_a", ID: "con_1", Name: "Acme", CompanyID: "42", Status: store.ConnectionConnected})
		if err != nil {
			t.Fatal(err)
		}
		stale := c
		c.Status = store.ConnectionNeedsAttention
		won := store.Pending{WorkspaceID: "ws_a", ID: "msg_won", Body: []byte(`{"id":"msg_won"}`), At: at}
		if _, err := s.UpdateConnection(ctx, c, won); err != nil {
			t.Fatal(err)
		}
		lost := store.Pending{WorkspaceID: "ws_a", ID: "msg_lost", Body: []byte(`{"id":"msg_lost"}`), At: at}
		if _, err := s.UpdateConnection(ctx, stale, lost); !errors.Is(err, failure.ErrConflict) {
			t.Fatalf("a stale change: %v, want a conflict", err)
		}
		if _, err := s.PutIntegration(ctx, store.Integration{WorkspaceID: "ws_a", FunnelID: "fn_1", ConnectionID: "con_1", JobPositionID: 1001, Enabled: true}); err != nil {
			t.Fatal(err)
		}
		mark := store.Pending{WorkspaceID: "ws_a", ID: "msg_mark", Body: []byte(`{"id":"msg_mark"}`), At: at.Add(time.Second)}
		if ok, err := s.MarkPositionUnpublished(ctx, "ws_a", "fn_1", 1001, at, mark); !ok || err != nil {
			t.Fatalf("mark: %v, %v", ok, err)
		}
		again := store.Pending{WorkspaceID: "ws_a", ID: "msg_again", Body: []byte(`{"id":"msg_again"}`), At: at}
		if ok, err := s.MarkPositionUnpublished(ctx, "ws_a", "fn_1", 1001, at, again); ok || err != nil {
			t.Fatalf("a second mark: %v, %v; want not made", ok, err)
		}
		if got := pendingIDs(t, s); len(got) != 2 || got[0] != "msg_won" || got[1] != "msg_mark" {
			t.Fatalf("pending %v, want the two changes' events, the oldest first", got)
		}
		for range 2 {
			if err := s.Sent(ctx, "ws_a", "msg_won"); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Sent(ctx, "ws_a", "msg_never"); err != nil {
			t.Errorf("an event never recorded: %v", err)
		}
		if got := pendingIDs(t, s); len(got) != 1 || got[0] != "msg_mark" {
			t.Errorf("pending %v after one was sent, want msg_mark", got)
		}
	})
}

func pendingIDs(t *testing.T, s *store.Store) []string {
	t.Helper()
	var out []string
	if err := s.PendingEvents(t.Context(), func(p store.Pending) error { out = append(out, p.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSaveKeepsMarkMadeAfterRead: a save of an integration read before a
// worker or the watch marked its position (the default or a routed one)
// unpublished (the mark's event recorded and told) must not clear that
// mark unseen: the save recorded no position.restored event for it (the
// editor tells a restored event only for the marks it read), so the
// problem the mark's event opened would never be settled. The save is a
// conflict, as any change made after the read is.
func TestSaveKeepsMarkMadeAfterRead(t *testing.T) {
	routed := &routing.Table{Source: "answers.q_position", Positions: map[string]int64{"Sales": 2002}}
	tests := []struct {
		name     string
		routing  *routing.Table
		position int64
		mark     func(s *store.Store) func(context.Context, string, string, int64, time.Time, ...store.Pending) (bool, error)
	}{
		{"default position", nil, 1001, func(s *store.Store) func(context.Context, string, string, int64, time.Time, ...store.Pending) (bool, error) {
			return s.MarkPositionUnpublished
		}},
		{"routed position", routed, 2002, func(s *store.Store) func(context.Context, string, string, int64, time.Time, ...store.Pending) (bool, error) {
			return s.MarkRoutedPositionUnpublished
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			suite(t, func(t *testing.T, _ testDB, s *store.Store, _ *clock) {
				ctx := t.Context()
				at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
				cur, err := s.PutIntegration(ctx, store.Integration{WorkspaceID: "ws_a", FunnelID: "fn_1", ConnectionID: "con_1",
					JobPositionID: 1001, Enabled: true, PositionRouting: tc.routing})
				if err != nil {
					t.Fatal(err)
				}
				mark := store.Pending{WorkspaceID: "ws_a", ID: "msg_mark", Body: []byte(`{"id":"msg_mark"}`), At: at}
				if ok, err := tc.mark(s)(ctx, "ws_a", "fn_1", tc.position, at, mark); !ok || err != nil {
					t.Fatalf("mark: %v, %v", ok, err)
				}
				next := cur
				next.Enabled = false
				_, err = s.PutIntegration(ctx, next)
				got, gerr := s.GetIntegration(ctx, "ws_a", "fn_1")
				if gerr != nil {
					t.Fatal(gerr)
				}
				if err == nil && got.UnpublishedMark(tc.position) == nil {
					t.Fatalf("a save of the integration read before the mark cleared the mark, with no event for it")
				}
				if !errors.Is(err, failure.ErrConflict) {
					t.Errorf("save of a stale read: %v, want a conflict", err)
				}
			})
		})
	}
}

// TestClearOnlyTheMarkRead: clearing a position's mark names the mark
// read (its since); a mark made again since stays, for the next look.
func TestClearOnlyTheMarkRead(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, _ *clock) {
		ctx := t.Context()
		t1 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		t2 := t1.Add(1500 * time.Millisecond)
		in := store.Integration{WorkspaceID: "ws_a", FunnelID: "fn_1", ConnectionID: "con_1", JobPositionID: 1001, Enabled: true,
			PositionRouting: &routing.Table{Source: "answers.q_position", Positions: map[string]int64{"Sales": 2002}}}
		if _, err := s.PutIntegration(ctx, in); err != nil {
			t.Fatal(err)
		}
		for _, p := range []int64{1001, 2002} {
			mark, clear := s.MarkPositionUnpublished, s.MarkPositionPublished
			if p != 1001 {
				mark, clear = s.MarkRoutedPositionUnpublished, s.MarkRoutedPositionPublished
			}
			if ok, err := mark(ctx, "ws_a", "fn_1", p, t2); !ok || err != nil {
				t.Fatalf("mark %d: %v, %v", p, ok, err)
			}
			if ok, err := clear(ctx, "ws_a", "fn_1", store.PositionMark{PositionID: p, Since: t1}); ok || err != nil {
				t.Errorf("%d: a clear of the mark of t1 cleared t2's: %v, %v", p, ok, err)
			}
			if ok, err := clear(ctx, "ws_a", "fn_1", store.PositionMark{PositionID: p, Since: t2}); !ok || err != nil {
				t.Errorf("%d: a clear of t2's mark: %v, %v", p, ok, err)
			}
		}
	})
}

// TestPendingEventsOldestFirst: the pending events come oldest first
// whatever their times' digits (a whole second's time has no fraction in
// RFC 3339, and sorted as text it came after the same second's later
// times).
func TestPendingEventsOldestFirst(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, _ *clock) {
		ctx := t.Context()
		at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		c, err := s.CreateConnection(ctx, store.Connection{WorkspaceID: "ws_a", ID: "con_1", Name: "Acme", CompanyID: "42", Status: store.ConnectionConnected})
		if err != nil {
			t.Fatal(err)
		}
		tell := []store.Pending{
			{WorkspaceID: "ws_a", ID: "msg_b", Body: []byte(`{}`), At: at.Add(500 * time.Millisecond)},
			{WorkspaceID: "ws_a", ID: "msg_a", Body: []byte(`{}`), At: at},
			{WorkspaceID: "ws_a", ID: "msg_c", Body: []byte(`{}`), At: at.Add(550 * time.Millisecond)},
		}
		if _, err := s.UpdateConnection(ctx, c, tell...); err != nil {
			t.Fatal(err)
		}
		if got := pendingIDs(t, s); len(got) != 3 || got[0] != "msg_a" || got[1] != "msg_b" || got[2] != "msg_c" {
			t.Errorf("pending %v, want msg_a msg_b msg_c, the oldest first", got)
		}
	})
}
