package delivery

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// gatedVault answers a connection's Get once the connections it waits for
// have asked too, and counts the reads.
type gatedVault struct {
	mu      sync.Mutex
	reads   map[string]int
	started map[string]chan struct{}
	waits   map[string]string // connection → the connection whose read must have started
}

func (v *gatedVault) Get(ctx context.Context, ws, connection string) (personio.Token, error) {
	v.mu.Lock()
	v.reads[connection]++
	close(v.started[connection])
	other, ok := v.waits[connection]
	v.mu.Unlock()
	if ok {
		select {
		case <-v.started[other]:
		case <-ctx.Done():
			return "", errors.New("the read of " + connection + " waited for " + other + "'s, which never started")
		}
	}
	return personio.Token("token-" + connection), nil
}

// TestTokenLoadsOfConnectionsRunBeside: the first read of one
// connection's credentials does not hold up another connection's (con_a's
// read answers only once con_b's has started: loads one at a time would
// never get there), and a connection's token is read once, then kept.
func TestTokenLoadsOfConnectionsRunBeside(t *testing.T) {
	v := &gatedVault{reads: map[string]int{}, waits: map[string]string{"con_a": "con_b"},
		started: map[string]chan struct{}{"con_a": make(chan struct{}), "con_b": make(chan struct{})}}
	w := &Worker{vault: v, cache: newCache(time.Minute, time.Now)}
	// The safety net only ends a run whose loads go one at a time.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	conn := func(id string) store.Connection {
		return store.Connection{WorkspaceID: "ws_1", ID: id, CredentialsVersion: 1}
	}
	errs := make(chan error, 2)
	go func() { _, err := w.token(ctx, conn("con_a")); errs <- err }()
	<-v.started["con_a"]
	go func() { _, err := w.token(ctx, conn("con_b")); errs <- err }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if tok, err := w.token(ctx, conn("con_a")); err != nil || tok != "token-con_a" {
			t.Fatalf("token: %q, %v", tok, err)
		}
	}
	if v.reads["con_a"] != 1 || v.reads["con_b"] != 1 {
		t.Errorf("reads: %v, want one each", v.reads)
	}
}
