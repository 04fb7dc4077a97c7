// Package resume sends stored events back to the queue: a delivery the
// editor retries, and the deliveries parked until new credentials are
// entered or an unpublished job position is back. It is the one way a
// stored event goes on again, for the editor, the worker and the watch.
package resume

import (
	"context"
	"errors"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// Store reads the event a delivery keeps and marks the delivery queued
// again.
type Store interface {
	Event(ctx context.Context, ws, eventID string) ([]byte, error)
	Requeue(ctx context.Context, k store.DeliveryKey, code lifecycle.Reason) (store.Delivery, error)
}

// Queue takes events for the worker.
type Queue interface {
	Send(ctx context.Context, m queue.Message) error
}

// ErrExpired is a delivery whose event is no longer kept (expired or
// erased): it cannot go on. One returns it classified as not found; the
// editor answers it in words.
var ErrExpired = errors.New("the delivery's event is no longer kept (expired or erased)")

// One sends a stored event to the queue again, then marks the record
// queued with code. Sending first means a failure loses nothing; a worker
// that takes the message before the mark is fine, and its claim keeps the
// event from being delivered twice.
func One(ctx context.Context, st Store, q Queue, d store.Delivery, code lifecycle.Reason) error {
	event := d.Event
	if len(event) == 0 {
		var err error
		event, err = st.Event(ctx, d.WorkspaceID, d.EventID)
		switch {
		case errors.Is(err, failure.ErrNotFound) || err == nil && len(event) == 0:
			return failure.New("resume: read the event", failure.NotFound, ErrExpired)
		case err != nil:
			return err
		}
	}
	if err := q.Send(ctx, queue.Message{ID: d.EventID, Group: d.WorkspaceID, Body: event}); err != nil {
		return err
	}
	_, err := st.Requeue(ctx, d.Key(), code)
	if errors.Is(err, failure.ErrConflict) {
		// A worker took the message before the mark: it is on its way.
		return nil
	}
	return err
}

// Lister lists one kind of parked deliveries, a page at a time.
type Lister func(ctx context.Context, limit int, cursor string) (store.Page, error)

// Parked sends every delivery that list gives back to the queue and says
// how many went. The parked index is eventually consistent, so a delivery
// may show up again after it was sent: each is sent once, and one that
// already moved on is left alone.
func Parked(ctx context.Context, st Store, q Queue, list Lister, code lifecycle.Reason) (int, error) {
	n := 0
	seen := map[string]bool{}
	cursor := ""
	for {
		page, err := list(ctx, 100, cursor)
		if err != nil {
			return n, err
		}
		fresh := 0
		for _, d := range page.Deliveries {
			if seen[d.EventID] {
				continue
			}
			seen[d.EventID], fresh = true, fresh+1
			if err := One(ctx, st, q, d, code); errors.Is(err, failure.ErrConflict) || errors.Is(err, ErrExpired) {
				continue
			} else if err != nil {
				return n, err
			}
			n++
		}
		if page.Next == "" || fresh == 0 {
			return n, nil
		}
		cursor = page.Next
	}
}
