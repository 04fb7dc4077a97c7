package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/routing"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// routed is an integration whose answer picks 1001 (the default too) or
// 1003 or 1004.
func routed() store.Integration {
	return store.Integration{WorkspaceID: "ws_a", FunnelID: "fn_1", ConnectionID: "con_1", JobPositionID: 1001, Enabled: true,
		PositionRouting: &routing.Table{Source: "answers.q_position", Positions: map[string]int64{
			"Office Manager": 1001, "Sales Manager (Hamburg)": 1003, "Trainee": 1004}}}
}

// TestRoutedPositionMarks: the routing table is stored as sent; a routed
// position is marked unpublished on its own (once), the default's mark
// stays apart, the marks leave the ETag's version alone, a save clears
// them, and a position the table no longer routes to is not marked.
func TestRoutedPositionMarks(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		in, err := s.PutIntegration(ctx, routed())
		if err != nil {
			t.Fatal(err)
		}
		got, _ := s.GetIntegration(ctx, "ws_a", "fn_1")
		if got.PositionRouting == nil || got.PositionRouting.Positions["Sales Manager (Hamburg)"] != 1003 || len(got.PositionRouting.Positions) != 3 {
			t.Fatalf("routing read back: %+v", got.PositionRouting)
		}
		if ps := got.Positions(); len(ps) != 3 || ps[0] != 1001 || ps[1] != 1003 || ps[2] != 1004 {
			t.Fatalf("Positions = %v, want [1001 1003 1004]", ps)
		}
		if ok, err := s.MarkRoutedPositionUnpublished(ctx, "ws_a", "fn_1", 1001, c.Now()); err != nil || ok {
			t.Fatalf("routed mark of the default: %v, %v; want none (its mark is the integration's own)", ok, err)
		}
		if ok, err := s.MarkRoutedPositionUnpublished(ctx, "ws_a", "fn_1", 1003, c.Now()); err != nil || !ok {
			t.Fatalf("mark 1003: %v, %v", ok, err)
		}
		if ok, err := s.MarkRoutedPositionUnpublished(ctx, "ws_a", "fn_1", 1003, c.Now().Add(time.Hour)); err != nil || ok {
			t.Fatalf("mark 1003 again: %v, %v; want no second mark", ok, err)
		}
		if ok, err := s.MarkRoutedPositionUnpublished(ctx, "ws_a", "fn_1", 1009, c.Now()); err != nil || ok {
			t.Fatalf("mark of a position the table does not route to: %v, %v", ok, err)
		}
		got, _ = s.GetIntegration(ctx, "ws_a", "fn_1")
		if m := got.UnpublishedMark(1003); m == nil || !m.Since.Equal(c.Now()) {
			t.Fatalf("mark of 1003: %+v", m)
		}
		if got.UnpublishedMark(1001) != nil || got.UnpublishedMark(1004) != nil || got.UnpublishedNow() {
			t.Fatalf("only 1003 is marked: %+v", got)
		}
		if got.Version != in.Version {
			t.Fatalf("a mark changed the version: %d, was %d", got.Version, in.Version)
		}
		if ok, err := s.MarkPositionUnpublished(ctx, "ws_a", "fn_1", 1001, c.Now()); err != nil || !ok {
			t.Fatalf("mark the default: %v, %v", ok, err)
		}
		if ok, err := s.MarkRoutedPositionPublished(ctx, "ws_a", "fn_1", store.PositionMark{PositionID: 1003, Since: c.Now()}); err != nil || !ok {
			t.Fatalf("publish 1003: %v, %v", ok, err)
		}
		if ok, err := s.MarkRoutedPositionPublished(ctx, "ws_a", "fn_1", store.PositionMark{PositionID: 1003, Since: c.Now()}); err != nil || ok {
			t.Fatalf("publish 1003 again: %v, %v", ok, err)
		}
		got, _ = s.GetIntegration(ctx, "ws_a", "fn_1")
		if got.UnpublishedMark(1003) != nil || got.UnpublishedMark(1001) == nil {
			t.Fatalf("after 1003 published: %+v, %+v", got.RoutedUnpublished, got.Unpublished)
		}
		if _, err := s.MarkRoutedPositionUnpublished(ctx, "ws_a", "fn_1", 1004, c.Now()); err != nil {
			t.Fatal(err)
		}
		got, _ = s.GetIntegration(ctx, "ws_a", "fn_1")
		next := routed()
		next.Version, next.MarksRevision, next.CreatedAt = got.Version, got.MarksRevision, got.CreatedAt
		if _, err := s.PutIntegration(ctx, next); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetIntegration(ctx, "ws_a", "fn_1"); got.UnpublishedMark(1004) != nil || got.UnpublishedMark(1001) != nil {
			t.Fatalf("a save keeps marks: %+v", got)
		}
	})
}

// TestRoutedMarksTogether: the watch and workers marking different routed
// positions at once lose none of the marks.
func TestRoutedMarksTogether(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, c *clock) {
		ctx := t.Context()
		in := routed()
		in.PositionRouting.Positions = map[string]int64{}
		for i := range 6 {
			in.PositionRouting.Positions[string(rune('a'+i))] = int64(2001 + i)
		}
		if _, err := s.PutIntegration(ctx, in); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() {
				if ok, err := s.MarkRoutedPositionUnpublished(ctx, "ws_a", "fn_1", int64(2001+i), c.Now()); err != nil || !ok {
					t.Errorf("mark %d: %v, %v", 2001+i, ok, err)
				}
			})
		}
		wg.Wait()
		got, _ := s.GetIntegration(ctx, "ws_a", "fn_1")
		if len(got.RoutedUnpublished) != 6 {
			t.Fatalf("marks kept: %v, want 6", got.RoutedUnpublished)
		}
	})
}

// TestParkOnRoutedPosition: a delivery parked on a routed position is
// listed with that position only, not with the default's, and the record
// says which position was chosen and why.
func TestParkOnRoutedPosition(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, _ *clock) {
		ctx := t.Context()
		park := func(event string, routedTo, position int64, why string) {
			t.Helper()
			k := store.DeliveryKey{Workspace: "ws_a", Funnel: "fn_1", Event: event}
			if _, err := s.Claim(ctx, store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: event}, "w", time.Minute); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Record(ctx, k, "w", store.Change{Status: lifecycle.StatusParked, ReasonCode: lifecycle.ReasonPositionUnpublished,
				ParkOnPosition: true, RoutedPosition: routedTo, Position: position, PositionReason: why}); err != nil {
				t.Fatal(err)
			}
		}
		park("evt_1", 1003, 1003, "answer 'Sales Manager (Hamburg)' of q_position")
		park("evt_2", 0, 1001, "default position")
		park("evt_3", 1004, 1004, "answer 'Trainee' of q_position")
		ids := func(p store.Page, err error) []string {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, d := range p.Deliveries {
				out = append(out, d.EventID)
			}
			return out
		}
		if got := ids(s.ListParkedOnRoutedPosition(ctx, "ws_a", "fn_1", 1003, 10, "")); len(got) != 1 || got[0] != "evt_1" {
			t.Errorf("parked on 1003: %v, want [evt_1]", got)
		}
		if got := ids(s.ListParkedOnPosition(ctx, "ws_a", "fn_1", 10, "")); len(got) != 1 || got[0] != "evt_2" {
			t.Errorf("parked on the default: %v, want [evt_2]", got)
		}
		d, err := s.GetDelivery(ctx, "ws_a", "evt_1")
		if err != nil || d.JobPositionID != 1003 || d.PositionReason != "answer 'Sales Manager (Hamburg)' of q_position" {
			t.Errorf("record: position %d (%q), %v", d.JobPositionID, d.PositionReason, err)
		}
	})
}
