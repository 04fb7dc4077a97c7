// Package resend sends a delivery's stored event to the queue again and
// marks its record queued: the one path behind the editor's retry, the
// editor's resuming of parked deliveries after new credentials, and the
// operator's replay (pkg/operator). Whoever sends a delivery again goes
// through Delivery, so that the order (send, then mark) and what a
// concurrent worker may do in between are decided once.
package resend

import (
	"context"
	"errors"
	"fmt"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// Queue takes events for the worker.
type Queue interface {
	Send(ctx context.Context, m queue.Message) error
}

// Store marks a delivery queued again.
type Store interface {
	Requeue(ctx context.Context, k store.DeliveryKey, code store.Reason) (store.Delivery, error)
}

// ErrNoEvent is a delivery whose record no longer holds its event: the
// application data expired or was erased, so there is nothing to send.
var ErrNoEvent = errors.New("resend: the delivery no longer holds its event")

// Retryable reports whether a delivery in this status may be sent again:
// failed, dead-lettered, or parked on its connection's credentials.
func Retryable(s store.Status) bool {
	switch s {
	case store.StatusFailed, store.StatusDead, store.StatusParked:
		return true
	}
	return false
}

// Delivery sends d's stored event to the queue again (grouped by its
// workspace), then marks the record queued with code as its reason.
// Sending first means a failure loses nothing; a worker that takes the
// message before the mark is fine, and its claim keeps the event from
// being delivered twice. A mark refused because the record moved on
// meanwhile (failure.ErrConflict: a worker took the message, or another
// resend came first) is not an error: the event is on its way. A record
// without its event is ErrNoEvent, and nothing is sent.
func Delivery(ctx context.Context, q Queue, st Store, d store.Delivery, code store.Reason) error {
	if len(d.Event) == 0 {
		return ErrNoEvent
	}
	if err := q.Send(ctx, queue.Message{ID: d.EventID, Group: d.WorkspaceID, Body: d.Event}); err != nil {
		return fmt.Errorf("resend %s: %w", d.EventID, err)
	}
	if _, err := st.Requeue(ctx, d.Key(), code); err != nil && !errors.Is(err, failure.ErrConflict) {
		return fmt.Errorf("resend %s: %w", d.EventID, err)
	}
	return nil
}
