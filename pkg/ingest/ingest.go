// Package ingest is what the ingest function does: take a signed
// application event from the funnel platform, check its signature and its
// content, and put it on the queue once. POST /v1/events answers 202 on
// accept (and on a repeat of the same event), 401 for a bad or stale
// signature, 400 with every problem for an invalid event, 413 over 255 KiB.
package ingest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/funnel-personio/funnel-personio/pkg/apigw"
	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// Verifier checks a webhook signature.
type Verifier interface {
	Verify(body []byte, h http.Header) error
}

// Store records accepted events, knows erased applicants, and keeps the
// companies' lines of turns.
type Store interface {
	// CreateDelivery writes the record with the event's item unless the
	// record is there (failure.ErrConflict) or an erasure marker names an
	// address (store.ErrErased).
	CreateDelivery(context.Context, store.Delivery) (store.Delivery, error)
	GetDelivery(ctx context.Context, ws, eventID string) (store.Delivery, error)
	// Withdraw deletes a record no worker has touched, with its event.
	Withdraw(ctx context.Context, d store.Delivery) error
	GetIntegration(ctx context.Context, ws, funnel string) (store.Integration, error)
	GetConnection(ctx context.Context, ws, id string) (store.Connection, error)
	ReserveTurn(ctx context.Context, company string, n int, b store.Budget) (time.Time, error)
}

// Queue takes events for the worker.
type Queue interface {
	Send(ctx context.Context, m queue.Message) error
}

// Config configures ingest.
type Config struct {
	// HashKey keys the e-mail hashes records keep and erasures match.
	HashKey []byte
	// MaxFiles is the most files an event may carry: Personio's rate
	// budget less the application's own request (each file is one
	// request, and an application's requests go in one window).
	MaxFiles int
	// Budget is the per-company rate budget the worker takes from: an
	// event whose company has a line, or no room, is sent with the delay
	// of its turn at the end of the line (none: every event goes at once).
	Budget store.Budget
	// CacheTTL is how long a funnel's company is remembered.
	CacheTTL time.Duration
	// Logger receives one line per event; never an e-mail or a name.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Handler is the ingest function.
type Handler struct {
	cfg    Config
	verify Verifier
	store  Store
	queue  Queue
	log    *slog.Logger
	now    func() time.Time
	// companies remembers the funnels' companies.
	companies companies
}

// New returns the handler.
func New(cfg Config, v Verifier, s Store, q Queue) *Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Handler{cfg: cfg, verify: v, store: s, queue: q, log: log, now: now, companies: companies{ttl: cfg.CacheTTL}}
}

// Accepted is the 202 body.
type Accepted struct {
	ID     string `json:"id"`
	Status string `json:"status"` // accepted; duplicate for a repeat; erased for an erased applicant's event, dropped
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
			fmt.Sprintf("an event is at most %d bytes (255 KiB); send files by URL", application.MaxEventSize)).Response(), nil
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
	if p := h.refuse(event); p != nil {
		return p.Response(), nil
	}
	return h.accept(ctx, event, body), nil
}

// refuse checks what the schema cannot: only the editor's test endpoint
// makes test applications, and an application's requests (its files and
// itself) must fit in one window of Personio's rate limit.
func (h *Handler) refuse(ev *application.Event) *apigw.Problem {
	var errs []apigw.FieldError
	if ev.Test {
		errs = append(errs, apigw.FieldError{Path: "$.test", Message: "test applications are made by the editor's test endpoint " +
			"(POST /v1/funnels/{funnel_id}/integration/test); send applications without \"test\" or with false"})
	}
	if h.cfg.MaxFiles > 0 && len(ev.Files) > h.cfg.MaxFiles {
		errs = append(errs, apigw.FieldError{Path: "$.files", Message: fmt.Sprintf("%d files; at most %d: Personio takes %d requests a minute "+
			"per account, and each file is one besides the application", len(ev.Files), h.cfg.MaxFiles, h.cfg.MaxFiles+1)})
	}
	if len(errs) == 0 {
		return nil
	}
	p := apigw.NewProblem(http.StatusBadRequest, "invalid-event", "Invalid application event", "every problem is listed")
	p.Errors = errs
	return p
}

// accept records a valid event and queues it. The record comes first, in
// one transaction with the event's item and a check of the applicant's
// erasure markers (store.CreateDelivery): the transaction tells a repeat
// (the record is there) and an erased applicant (a marker holds) without
// a read before it, and a worker never receives an event before its record
// says it is kept. An event whose company has a line of waiting events (or
// no room in its budget) gets its turn at the end of the line here and is
// sent delayed to it, with the turn on its record: its worker sees the
// turn and takes at it, so the event is received once.
//
// A send that fails withdraws the record (if no worker touched it) and
// answers 503, so the platform sends the event again. A repeat of an event
// whose record no worker has touched yet is sent again: ingest cannot tell
// whether the send after that record's write happened (the ingest that
// wrote it may have stopped in between), and a second copy is received
// and refused by the claim, never delivered twice.
func (h *Handler) accept(ctx context.Context, ev *application.Event, body []byte) events.APIGatewayV2HTTPResponse {
	log := h.log.With("event_id", ev.ID, "workspace", ev.WorkspaceID, "funnel", ev.FunnelID)
	turn := h.turn(ctx, ev)
	now := h.now().UTC()
	d := store.Delivery{WorkspaceID: ev.WorkspaceID, FunnelID: ev.FunnelID, EventID: ev.ID,
		Status: lifecycle.StatusQueued, OccurredAt: ev.OccurredAt, Event: body, EmailHashes: ev.EmailHashes(h.cfg.HashKey),
		Attempts: []store.Attempt{{At: now, Outcome: lifecycle.StatusQueued}}}
	if !turn.IsZero() {
		turn = turn.UTC()
		d.NextAttemptAt, d.ReasonCode, d.Reason = &turn, lifecycle.ReasonBudget, lifecycle.BudgetWait
		d.Attempts[0].ReasonCode = lifecycle.ReasonBudget
	}
	d, err := h.store.CreateDelivery(ctx, d)
	switch {
	case errors.Is(err, store.ErrErased):
		// The applicant asked to be erased: nothing of the event is kept
		// or queued. Answered 202 so that the platform does not send it
		// again and again.
		log.InfoContext(ctx, "ingest: erased applicant", "state", "erased")
		return apigw.JSON(http.StatusAccepted, Accepted{ID: ev.ID, Status: "erased"}, nil)
	case errors.Is(err, failure.ErrConflict):
		return h.repeat(ctx, log, ev, body)
	case err != nil:
		return h.unavailable(ctx, "record the event", err)
	}
	if err := h.send(ctx, ev, body, d.NextAttemptAt); err != nil {
		if werr := h.store.Withdraw(ctx, d); werr != nil {
			// Left queued: the platform's next send of the event sends it.
			log.WarnContext(ctx, "ingest: withdraw the record", "error", werr.Error())
		}
		return h.unavailable(ctx, "queue", err)
	}
	log.InfoContext(ctx, "ingest: accepted", "state", string(lifecycle.StatusQueued))
	return apigw.JSON(http.StatusAccepted, Accepted{ID: ev.ID, Status: "accepted"}, nil)
}

// repeat answers an event that has a record: a duplicate, sent again
// only while no worker has touched the record (see accept).
func (h *Handler) repeat(ctx context.Context, log *slog.Logger, ev *application.Event, body []byte) events.APIGatewayV2HTTPResponse {
	d, err := h.store.GetDelivery(ctx, ev.WorkspaceID, ev.ID)
	if err != nil {
		// Not found: a concurrent send of the event withdrew its record.
		return h.unavailable(ctx, "read the event's record", err)
	}
	if untouched(d) {
		if err := h.send(ctx, ev, body, d.NextAttemptAt); err != nil {
			return h.unavailable(ctx, "queue", err)
		}
	}
	log.InfoContext(ctx, "ingest: duplicate", "state", "duplicate")
	return apigw.JSON(http.StatusAccepted, Accepted{ID: ev.ID, Status: "duplicate"}, nil)
}

// untouched reports whether the record is as ingest wrote it: queued, and
// never written since (no claim, no change).
func untouched(d store.Delivery) bool {
	return d.Status == lifecycle.StatusQueued && d.ClaimOwner == "" && d.UpdatedAt.Equal(d.CreatedAt)
}

// send queues the event, delayed to its turn if it has one.
func (h *Handler) send(ctx context.Context, ev *application.Event, body []byte, turn *time.Time) error {
	msg := queue.Message{ID: ev.ID, Group: ev.WorkspaceID, Body: body}
	if turn != nil {
		// Whole seconds, rounded down: the worker waits for the rest.
		msg.Delay = max(0, min(turn.Sub(h.now()).Truncate(time.Second), queue.MaxDelay))
	}
	return h.queue.Send(ctx, msg)
}

func (h *Handler) unavailable(ctx context.Context, op string, err error) events.APIGatewayV2HTTPResponse {
	h.log.ErrorContext(ctx, "ingest: "+op, "error", err.Error())
	p := apigw.NewProblem(http.StatusServiceUnavailable, "unavailable", "Temporarily unavailable", "the event was not accepted; send it again")
	p.Header = map[string]string{"Retry-After": "5"}
	return p.Response()
}
