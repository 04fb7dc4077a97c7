package delivery_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/delivery"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// connReads is the store, counting the worker's reads of connections.
type connReads struct {
	*store.Store
	n atomic.Int64
}

func (c *connReads) GetConnection(ctx context.Context, ws, id string) (store.Connection, error) {
	c.n.Add(1)
	return c.Store.GetConnection(ctx, ws, id)
}

// TestConnectionReadWithTheClaim: the worker reads the connection on its
// own only for a funnel's first event; later events take it from the
// claim's batch read. A connection marked as needing attention in between
// parks the next event all the same: the batch read is as fresh as a read
// of its own.
func TestConnectionReadWithTheClaim(t *testing.T) {
	p := newPipe(t, pipeOpts{})
	st := &connReads{Store: p.store}
	w, err := delivery.NewWorker(p.cfg, st, p.vault, p.pc, p.queue, p.fetch)
	if err != nil {
		t.Fatal(err)
	}
	p.send(t, w, "evt_conn_1")
	p.send(t, w, "evt_conn_2")
	for _, id := range []string{"evt_conn_1", "evt_conn_2"} {
		if s := p.status(t, id).Status; s != lifecycle.StatusDelivered {
			t.Fatalf("%s: %s", id, s)
		}
	}
	if n := st.n.Load(); n != 1 {
		t.Errorf("%d reads of the connection for two events, want 1", n)
	}
	c, err := p.store.GetConnection(t.Context(), ws, conn)
	if err != nil {
		t.Fatal(err)
	}
	c.Status, c.StatusReason = store.ConnectionNeedsAttention, "401"
	if _, err := p.store.UpdateConnection(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	p.send(t, w, "evt_conn_3")
	if s := p.status(t, "evt_conn_3").Status; s != lifecycle.StatusParked {
		t.Errorf("after the connection needs attention: %s, want parked", s)
	}
}
