package editor_test

import (
	"context"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
)

// TestPositionRestoredCarriesTheRestoreTime: saving an integration whose
// position was found unpublished two days ago says so with an
// integration.position_restored event whose timestamp is the time of the
// save, not the time the position was found unpublished.
func TestPositionRestoredCarriesTheRestoreTime(t *testing.T) {
	rec := &testenv.Told{}
	e := setup(t, func(_ *env, o *options) { o.notify = rec })
	conn := e.connect(t, ws)
	e.integrate(t, ws, "fn_1", conn, true)
	since := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Second)
	if marked, err := e.store.MarkPositionUnpublished(context.Background(), ws, "fn_1", 1001, since); err != nil || !marked {
		t.Fatalf("mark unpublished: %v %v", marked, err)
	}
	r := e.call(t, ws, advanced, "GET", "/v1/funnels/fn_1/integration", nil, nil)
	etag := r.header["ETag"]
	before := time.Now().UTC().Truncate(time.Second)
	r = e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_1/integration",
		map[string]any{"connection_id": conn, "job_position_id": 1002, "mapping": defaultMapping}, map[string]string{"If-Match": etag})
	if r.status != 200 {
		t.Fatalf("save: %d %s", r.status, r.raw)
	}
	events := rec.Take()
	var restored []outbound.Event
	for _, ev := range events {
		if ev.Type == outbound.PositionRestored {
			restored = append(restored, ev)
		}
	}
	if len(restored) != 1 {
		t.Fatalf("%d position_restored events, want 1: %+v", len(restored), events)
	}
	if at := restored[0].At; at.Before(before) {
		t.Errorf("timestamp %s, want the time of the restore (not before %s); the position was unpublished since %s", at, before, since)
	}
	if restored[0].PositionID != 1001 {
		t.Errorf("position %d, want the unpublished 1001", restored[0].PositionID)
	}
}
