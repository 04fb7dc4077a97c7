package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// TestMarkPositionChecked: the watch's mark of when it read a position is
// kept on the integration, survives an editor's save, and does not bring
// back a deleted integration.
func TestMarkPositionChecked(t *testing.T) {
	suite(t, func(t *testing.T, _ testDB, s *store.Store, _ *clock) {
		ctx := t.Context()
		in, err := s.PutIntegration(ctx, store.Integration{WorkspaceID: "ws_a", FunnelID: "fn_1", ConnectionID: "con_1", JobPositionID: 1001, Enabled: true, CareerSite: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 11, 27, 12, 5, 0, 0, time.UTC)
		if err := s.MarkPositionChecked(ctx, "ws_a", "fn_1", at); err != nil {
			t.Fatal(err)
		}
		var watched []store.Integration
		if err := s.WatchedIntegrations(ctx, func(in store.Integration) error { watched = append(watched, in); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(watched) != 1 || !watched[0].PositionCheckedAt.Equal(at) {
			t.Fatalf("watched: %+v, want checked at %s", watched, at)
		}
		got, _ := s.GetIntegration(ctx, "ws_a", "fn_1")
		got.JobPositionID = 1002
		if _, err := s.PutIntegration(ctx, got); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetIntegration(ctx, "ws_a", "fn_1"); !got.PositionCheckedAt.Equal(at) || got.Version != in.Version+1 {
			t.Errorf("after a save: checked at %s, version %d", got.PositionCheckedAt, got.Version)
		}
		if err := s.DeleteIntegration(ctx, "ws_a", "fn_1"); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkPositionChecked(ctx, "ws_a", "fn_1", at); err != nil {
			t.Errorf("mark of a deleted integration: %v", err)
		}
		if _, err := s.GetIntegration(ctx, "ws_a", "fn_1"); !errors.Is(err, failure.ErrNotFound) {
			t.Errorf("the mark brought the integration back: %v", err)
		}
	})
}
