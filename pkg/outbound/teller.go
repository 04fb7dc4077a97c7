package outbound

import (
	"context"
	"log/slog"

	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// Notifier publishes an event (a Publisher).
type Notifier interface {
	Publish(ctx context.Context, e Event) error
}

// SentMarker marks an event recorded pending as published (the store).
type SentMarker interface {
	Sent(ctx context.Context, ws, id string) error
}

// Teller is how a producer (the worker, the editor, the watch, the
// rechecker) tells of the problems its changes make: Pending gives the
// events to record in the same request as the change, Tell publishes one
// once the change is written and marks it sent. Without a notifier it
// records nothing and tells nothing.
type Teller struct {
	notify Notifier
	sent   SentMarker
	log    *slog.Logger
	who    string
}

// NewTeller returns the Teller of the producer who (a name for its log
// lines), publishing with n (nil: none) and marking with s.
func NewTeller(who string, n Notifier, s SentMarker, log *slog.Logger) Teller {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return Teller{notify: n, sent: s, log: log, who: who}
}

// On reports whether the Teller tells anything (a notifier is set).
func (t Teller) On() bool { return t.notify != nil }

// Pending are the events evs as the change that makes their problems
// records them (nil without a notifier).
func (t Teller) Pending(evs ...Event) []store.Pending {
	if t.notify == nil || len(evs) == 0 {
		return nil
	}
	out := make([]store.Pending, len(evs))
	for i, e := range evs {
		out[i] = Pending(e)
	}
	return out
}

// Tell publishes an event its change recorded pending and marks it sent.
// A failure is logged and returned: the event stays pending, and the
// watch publishes it again.
func (t Teller) Tell(ctx context.Context, e Event) error {
	if t.notify == nil {
		return nil
	}
	err := t.notify.Publish(ctx, e)
	if err == nil {
		err = t.sent.Sent(ctx, e.WorkspaceID, e.ID)
	}
	if err != nil {
		t.log.ErrorContext(ctx, t.who+": outbound event left pending", "type", string(e.Type), "webhook_id", e.ID, "error", err.Error())
	}
	return err
}
