package testenv

import (
	"context"
	"slices"
	"sync"

	"github.com/funnel-personio/funnel-personio/pkg/outbound"
)

// Told records the outbound events a use case publishes (a Notifier of
// the editor, the worker or the watch), for a test to read.
type Told struct {
	mu     sync.Mutex
	events []outbound.Event
}

// Publish records e.
func (t *Told) Publish(_ context.Context, e outbound.Event) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.events = append(t.events, e)
	return nil
}

// Take returns the events recorded since the last Take, and forgets them.
func (t *Told) Take() []outbound.Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := slices.Clone(t.events)
	t.events = nil
	return out
}
