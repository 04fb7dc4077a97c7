package testenv

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/funnel-personio/funnel-personio/pkg/outbound"
)

// Told records the outbound events a use case publishes (a Notifier of
// the editor, the worker or the watch), for a test to read.
type Told struct {
	mu     sync.Mutex
	events []outbound.Event
	refuse int
}

// Publish records e, or fails if Refuse said so.
func (t *Told) Publish(_ context.Context, e outbound.Event) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.refuse > 0 {
		t.refuse--
		return errRefused
	}
	t.events = append(t.events, e)
	return nil
}

// Refuse makes the next n publishes fail without recording their events,
// as an outbound queue that does not take them.
func (t *Told) Refuse(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.refuse = n
}

var errRefused = errors.New("testenv: the outbound queue refused the event")

// Take returns the events recorded since the last Take, and forgets them.
func (t *Told) Take() []outbound.Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := slices.Clone(t.events)
	t.events = nil
	return out
}
