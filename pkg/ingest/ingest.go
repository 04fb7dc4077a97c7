// Package ingest is what the ingest function does: take a signed
// application event from the funnel platform, check its signature and its
// content, and put it on the queue once. POST /v1/events answers 202 on
// accept (and on a repeat of the same event), 401 for a bad or stale
// signature, 400 with every problem for an invalid event, 413 over 256 KB.
package ingest

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/funnel-personio/funnel-personio/pkg/apigw"
	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// Verifier checks a webhook signature.
type Verifier interface {
	Verify(body []byte, h http.Header) error
}

// Store records accepted events.
type Store interface {
	GetDelivery(ctx context.Context, ws, eventID string) (store.Delivery, error)
	CreateDelivery(context.Context, store.Delivery) (store.Delivery, error)
}

// Queue takes events for the worker.
type Queue interface {
	Send(ctx context.Context, m queue.Message) error
}

// Handler is the ingest function.
type Handler struct {
	verify  Verifier
	store   Store
	queue   Queue
	hashKey []byte
	log     *slog.Logger
	now     func() time.Time
}

// New returns the handler.
func New(v Verifier, s Store, q Queue, hashKey []byte, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{verify: v, store: s, queue: q, hashKey: hashKey, log: log, now: time.Now}
}

// Accepted is the 202 body.
type Accepted struct {
	ID     string `json:"id"`
	Status string `json:"status"` // accepted, or duplicate for a repeat
}

// Handle answers one API Gateway v2 request.
func (h *Handler) Handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if ev.RequestContext.HTTP.Method != http.MethodPost || (ev.RawPath != "/v1/events" && ev.RawPath != "") {
		return apigw.NewProblem(http.StatusNotFound, "not-found", "Not found", "events are posted to POST /v1/events").Response(), nil
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return apigw.NewProblem(http.StatusBadRequest, "validation", "Invalid request", "the body is not valid base64").Response(), nil
		}
		body = b
	}
	if len(body) > application.MaxEventSize {
		return apigw.NewProblem(http.StatusRequestEntityTooLarge, "payload-too-large", "Event too large",
			"an event is at most 256 KB; send files by URL").Response(), nil
	}
	hdr := http.Header{}
	for k, v := range ev.Headers {
		hdr.Set(k, v)
	}
	if err := h.verify.Verify(body, hdr); err != nil {
		h.log.WarnContext(ctx, "ingest: signature refused", "webhook_id", hdr.Get("webhook-id"), "error", err.Error())
		return apigw.NewProblem(http.StatusUnauthorized, "invalid-signature", "Invalid signature", err.Error()).Response(), nil
	}
	event, err := application.Parse(body)
	if err != nil {
		var ve *application.ValidationError
		if !errors.As(err, &ve) {
			return h.unavailable(ctx, "validate", err), nil
		}
		p := apigw.NewProblem(http.StatusBadRequest, "invalid-event", "Invalid application event",
			"the event does not match schema v1 ("+application.SchemaV1ID+"); every problem is listed")
		for _, pr := range ve.Problems {
			p.Errors = append(p.Errors, apigw.FieldError{Path: pr.Path, Message: pr.Message})
		}
		return p.Response(), nil
	}
	return h.accept(ctx, event, body), nil
}

// accept queues a valid event once. A repeat of an event already recorded
// is 202 without queueing; the worker's claim makes a race between two
// copies harmless. The message is sent before the record is written, so a
// failure in between loses nothing: the platform retries, or the worker
// writes the record itself.
func (h *Handler) accept(ctx context.Context, ev *application.Event, body []byte) events.APIGatewayV2HTTPResponse {
	log := h.log.With("event_id", ev.ID, "workspace", ev.WorkspaceID, "funnel", ev.FunnelID)
	_, err := h.store.GetDelivery(ctx, ev.WorkspaceID, ev.ID)
	switch {
	case err == nil:
		log.InfoContext(ctx, "ingest: duplicate", "state", "duplicate")
		return apigw.JSON(http.StatusAccepted, Accepted{ID: ev.ID, Status: "duplicate"}, nil)
	case !errors.Is(err, failure.ErrNotFound):
		return h.unavailable(ctx, "read delivery", err)
	}
	if err := h.queue.Send(ctx, queue.Message{ID: ev.ID, Group: ev.WorkspaceID, Body: body}); err != nil {
		return h.unavailable(ctx, "queue", err)
	}
	now := h.now().UTC()
	_, err = h.store.CreateDelivery(ctx, store.Delivery{WorkspaceID: ev.WorkspaceID, FunnelID: ev.FunnelID, EventID: ev.ID,
		Status: store.StatusQueued, Test: ev.Test, OccurredAt: ev.OccurredAt, Event: body,
		EmailHash: application.EmailHash(h.hashKey, ev.Contact.Email),
		Attempts:  []store.Attempt{{At: now, Outcome: store.StatusQueued}}})
	if err != nil && !errors.Is(err, failure.ErrConflict) {
		// Queued already: the worker writes the record when it claims.
		log.WarnContext(ctx, "ingest: record not written", "error", err.Error())
	}
	log.InfoContext(ctx, "ingest: accepted", "state", string(store.StatusQueued))
	return apigw.JSON(http.StatusAccepted, Accepted{ID: ev.ID, Status: "accepted"}, nil)
}

func (h *Handler) unavailable(ctx context.Context, op string, err error) events.APIGatewayV2HTTPResponse {
	h.log.ErrorContext(ctx, "ingest: "+op, "error", err.Error())
	p := apigw.NewProblem(http.StatusServiceUnavailable, "unavailable", "Temporarily unavailable", "the event was not accepted; send it again")
	p.Header = map[string]string{"Retry-After": "5"}
	return p.Response()
}
