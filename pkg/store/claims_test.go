package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
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
	suite(t, func(t *testing.T, _ *dynamodb.Client, s *store.Store, c *clock) {
		ctx := t.Context()
		k := store.DeliveryKey{Workspace: "ws_a", Funnel: "fn_1", Event: "evt_turn"}
		d := func(token string) store.Delivery {
			return store.Delivery{WorkspaceID: "ws_a", FunnelID: "fn_1", EventID: "evt_turn", DeferToken: token, Event: []byte(`{}`)}
		}
		// Deferred once, with token t1; the copy t1 comes and is claimed.
		if _, err := s.Claim(ctx, d(""), "w1", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Record(ctx, k, "w1", store.Change{Status: store.StatusQueued, ReasonCode: store.ReasonBudget, DeferToken: "t1", Release: true}); err != nil {
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
		if _, err := s.Record(ctx, k, "w2", store.Change{Status: store.StatusQueued, ReasonCode: store.ReasonBudget, DeferToken: "t2", Release: true}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Claim(ctx, d("t2"), "w3", time.Minute); err != nil || got.Status != store.StatusProcessing {
			t.Errorf("the copy once its token is recorded: %+v, %v", got, err)
		}
		// The older copy t1, now that the claim is free again, is stale.
		if _, err := s.Record(ctx, k, "w3", store.Change{Status: store.StatusQueued, DeferToken: "t3", Release: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Claim(ctx, d("t1"), "w4", time.Minute); !errors.Is(err, store.ErrStaleCopy) {
			t.Errorf("an old copy with the claim free: %v, want stale", err)
		}
	})
}
