// Package outbound tells the funnel platform what needs doing, so that it
// can tell its customer before applicants are lost: one event per problem
// (a connection whose credentials Personio refuses, and again when they
// work; a job position unpublished, and again when it is back; a delivery
// that failed for good or went to the dead-letter queue), each naming the
// workspace, funnel, connection or delivery, a reason code and the
// sentence in English and German — never applicant data.
//
// Producers (the worker, the editor, the watch) write each event with the
// change that makes its problem, in the same request (Pending,
// store.Pending), put it on a queue of their own (Publisher) and mark it
// sent; the watch publishes again every event left pending (a producer
// that died, or whose publish failed, in between). The notifier function
// posts them to the
// platform's endpoint, signed with Standard Webhooks and an outbound
// secret of their own (Sender), at least once: with retries and backoff
// through the queue's visibility timeout, and its dead-letter queue after
// the last. Every copy of one event carries the same webhook-id.
package outbound

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// Type is what an event tells.
type Type string

// The events.
const (
	ConnectionNeedsAttention Type = "connection.needs_attention"
	ConnectionRestored       Type = "connection.restored"
	PositionUnpublished      Type = "integration.position_unpublished"
	PositionRestored         Type = "integration.position_restored"
	DeliveryFailed           Type = "delivery.failed"
	DeliveryDead             Type = "delivery.dead"
)

// Types lists every event type.
var Types = []Type{ConnectionNeedsAttention, ConnectionRestored, PositionUnpublished, PositionRestored, DeliveryFailed, DeliveryDead}

// Event is one outbound event.
type Event struct {
	// ID is the webhook-id: derived from the problem, so that every copy
	// of its event (a producer's retry, the queue's redelivery) has the
	// same one and the receiver can drop repeats.
	ID           string           `json:"id"`
	Type         Type             `json:"type"`
	At           time.Time        `json:"timestamp"`
	WorkspaceID  string           `json:"workspace_id"`
	FunnelID     string           `json:"funnel_id,omitempty"`
	ConnectionID string           `json:"connection_id,omitempty"`
	DeliveryID   string           `json:"delivery_id,omitempty"`
	PositionID   int64            `json:"job_position_id,omitempty"`
	ReasonCode   lifecycle.Reason `json:"reason_code"`
	// Message is the reason's sentence in English and German; the
	// notifier fills it in when it sends.
	Message *Message `json:"message,omitempty"`
}

// Message is a sentence in both languages.
type Message struct {
	EN string `json:"en"`
	DE string `json:"de"`
}

// New is an event of a type about a problem that key names once (for
// example a connection and its credentials' version): its ID is derived
// from both.
func New(t Type, key string, at time.Time) Event {
	sum := sha256.Sum256([]byte(string(t) + "|" + key))
	return Event{ID: "msg_" + hex.EncodeToString(sum[:12]), Type: t, At: at.UTC()}
}

// Queue takes events for the notifier.
type Queue interface {
	Send(ctx context.Context, m queue.Message) error
}

// Publisher puts events on the outbound queue.
type Publisher struct {
	q Queue
}

// NewPublisher returns a Publisher on the outbound queue.
func NewPublisher(q Queue) *Publisher { return &Publisher{q: q} }

// Publish queues the event for the notifier, trying three times (the
// queue's own retries come on top); an event its producer recorded
// pending (Pending) that this does not queue is published again by the
// watch.
func (p *Publisher) Publish(ctx context.Context, e Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	for try := range 3 {
		if err = p.q.Send(ctx, queue.Message{ID: e.ID, Group: e.WorkspaceID, Body: body}); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(100<<try) * time.Millisecond):
		}
	}
	return err
}

// Pending is the event as the change that makes its problem records it
// (store.Pending): in the same request, so that no problem is left without
// its event when the producer dies before it publishes.
func Pending(e Event) store.Pending {
	body, _ := json.Marshal(e) // an Event always marshals
	return store.Pending{WorkspaceID: e.WorkspaceID, ID: e.ID, Body: body, At: e.At}
}

// Recorded is the event a pending record holds (Pending's), to publish
// again with the same id.
func Recorded(p store.Pending) (Event, error) {
	var e Event
	if err := json.Unmarshal(p.Body, &e); err != nil {
		return Event{}, failure.New("outbound: pending event", failure.Invalid, err)
	}
	return e, nil
}

// ConnectionEvent is the event of a connection's change of status: the
// problem is the connection's status since its change, for its current
// credentials, so whoever saw the change (worker, editor or watch) names
// it alike.
func ConnectionEvent(t Type, c store.Connection, code lifecycle.Reason) Event {
	e := New(t, c.WorkspaceID+"/"+c.ID+"/"+strconv.FormatInt(c.CredentialsVersion, 10)+"/"+strconv.FormatInt(c.StatusSince.UnixNano(), 10), c.StatusSince)
	e.WorkspaceID, e.ConnectionID, e.ReasonCode = c.WorkspaceID, c.ID, code
	return e
}

// PositionEvent is the event of an integration's position being found
// unpublished or settled again, at a moment (its timestamp). since is
// when the spell of unpublished began, which names the problem: the two
// events of one spell pair up, a later spell is a new problem.
func PositionEvent(t Type, in store.Integration, position int64, since, at time.Time, code lifecycle.Reason) Event {
	e := New(t, in.WorkspaceID+"/"+in.FunnelID+"/"+strconv.FormatInt(position, 10)+"/"+strconv.FormatInt(since.UnixNano(), 10), at)
	e.WorkspaceID, e.FunnelID, e.ConnectionID, e.PositionID, e.ReasonCode = in.WorkspaceID, in.FunnelID, in.ConnectionID, position, code
	return e
}

// DeliveryType is the event a delivery's status tells of: failed for
// good, or gone to the dead-letter queue ("" for any other status, which
// is no problem).
func DeliveryType(s lifecycle.Status) Type {
	switch s {
	case lifecycle.StatusFailed:
		return DeliveryFailed
	case lifecycle.StatusDead:
		return DeliveryDead
	}
	return ""
}

// DeliveryEvent is the event of a delivery that failed for good or went
// to the dead-letter queue at its attempt'th attempt (a later failure of
// the same delivery, retried since, is a new problem).
func DeliveryEvent(t Type, ws, funnel, delivery string, attempt int, code lifecycle.Reason, at time.Time) Event {
	e := New(t, ws+"/"+delivery+"/"+strconv.Itoa(attempt), at)
	e.WorkspaceID, e.FunnelID, e.DeliveryID, e.ReasonCode = ws, funnel, delivery, code
	return e
}
