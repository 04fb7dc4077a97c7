package localstack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/webhook"
)

// DevOutboundSecret signs the local stack's outbound events (local use
// only).
const DevOutboundSecret = "whsec_ZnVubmVsLXBlcnNvbmlvLWxvY2FsLW91dGJvdW5k"

// ReceivedNotification is an outbound event as the local receiver got it.
type ReceivedNotification struct {
	Event outbound.Event
	// Body is the request body as sent.
	Body []byte
	// WebhookID is the webhook-id header.
	WebhookID string
}

// receiver plays the funnel platform's endpoint for outbound events: it
// checks each one's signature with the outbound secret, keeps it, and
// prints a line for it. It can be made to answer 503, as a receiver that
// is down.
type receiver struct {
	verify *webhook.Verifier
	print  io.Writer

	mu   sync.Mutex
	got  []ReceivedNotification
	down bool
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	down := rc.down
	rc.mu.Unlock()
	if down {
		http.Error(w, "the receiver is down", http.StatusServiceUnavailable)
		return
	}
	if err := rc.verify.Verify(body, r.Header); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	var e outbound.Event
	if err := json.Unmarshal(body, &e); err != nil {
		http.Error(w, "not an event", http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.got = append(rc.got, ReceivedNotification{Event: e, Body: body, WebhookID: r.Header.Get(webhook.HeaderID)})
	rc.mu.Unlock()
	if rc.print != nil {
		en := ""
		if e.Message != nil {
			en = e.Message.EN
		}
		fmt.Fprintf(rc.print, "notification %s %s workspace=%s funnel=%s connection=%s delivery=%s reason=%s: %s\n",
			e.ID, e.Type, e.WorkspaceID, e.FunnelID, e.ConnectionID, e.DeliveryID, e.ReasonCode, en)
	}
	w.WriteHeader(http.StatusNoContent)
}

// Notifications are the outbound events the local receiver accepted, in
// the order they came (a repeat of one is kept too).
func (s *Stack) Notifications() []ReceivedNotification {
	s.receiver.mu.Lock()
	defer s.receiver.mu.Unlock()
	return append([]ReceivedNotification(nil), s.receiver.got...)
}

// SetReceiverDown makes the local receiver answer 503 (down) or accept
// again.
func (s *Stack) SetReceiverDown(down bool) {
	s.receiver.mu.Lock()
	s.receiver.down = down
	s.receiver.mu.Unlock()
}
