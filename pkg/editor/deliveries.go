package editor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/apigw"
	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/explain"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/mapping"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/resume"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

type deliveryView struct {
	ID          string           `json:"id"`
	FunnelID    string           `json:"funnel_id"`
	Status      lifecycle.Status `json:"status"`
	Test        bool             `json:"test"`
	OccurredAt  *time.Time       `json:"occurred_at,omitempty"`
	CreatedAt   time.Time        `json:"created_at"`
	UpdatedAt   time.Time        `json:"updated_at"`
	DeliveredAt *time.Time       `json:"delivered_at,omitempty"`
	// PersonioApplicationID is Personio's id of the delivered
	// application, when a read confirmed it.
	PersonioApplicationID string `json:"personio_application_id,omitempty"`
	// JobPositionID is the position the delivery went to, PositionReason
	// why (the default, or the answer that picked it).
	JobPositionID  int64            `json:"job_position_id,omitempty"`
	PositionReason string           `json:"position_reason,omitempty"`
	NextAttemptAt  *time.Time       `json:"next_attempt_at,omitempty"`
	ReasonCode     lifecycle.Reason `json:"reason_code,omitempty"`
	Reason         string           `json:"reason,omitempty"`
	Message        string           `json:"message,omitempty"`
	Warnings       []string         `json:"warnings,omitempty"`
	Attempts       []store.Attempt  `json:"attempts"`
	Tries          int              `json:"tries"`
}

func viewDelivery(d store.Delivery, lang string) deliveryView {
	v := deliveryView{ID: d.EventID, FunnelID: d.FunnelID, Status: d.Status, Test: d.Test, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
		DeliveredAt: d.DeliveredAt, PersonioApplicationID: d.PersonioApplicationID, JobPositionID: d.JobPositionID, PositionReason: d.PositionReason,
		NextAttemptAt: d.NextAttemptAt, ReasonCode: d.ReasonCode, Reason: d.Reason,
		Message: explain.Sentence(d.ReasonCode, lang), Warnings: d.Warnings, Attempts: d.Attempts, Tries: store.Tries(d.Attempts)}
	if d.ReasonCode == lifecycle.ReasonMappingFailed {
		v.Message = explain.NoUsableValue(mapping.FailedTargets(d.Reason), lang)
	}
	if !d.OccurredAt.IsZero() {
		v.OccurredAt = &d.OccurredAt
	}
	if v.Attempts == nil {
		v.Attempts = []store.Attempt{}
	}
	return v
}

// listDeliveries handles GET /v1/funnels/{funnel_id}/deliveries (operation listDeliveries).
func (e *Editor) listDeliveries(ctx context.Context, r *apigw.Request) apigw.Response {
	limit := 20
	if s := r.Query.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return apigw.Invalid(apigw.FieldError{Path: "limit", Message: "limit must be a whole number from 1 to 100"}).Response()
		}
		limit = n
	}
	status := lifecycle.Status(r.Query.Get("status"))
	if status != "" && !validStatus(status) {
		return apigw.Invalid(apigw.FieldError{Path: "status", Message: "status must be one of " + statusList()}).Response()
	}
	page, err := e.store.ListDeliveries(ctx, r.Claims.Workspace, r.Params["funnel_id"], status, limit, r.Query.Get("cursor"))
	if errors.Is(err, failure.ErrInvalid) {
		return apigw.NewProblem(http.StatusBadRequest, "validation", "Invalid cursor", "the cursor is not one this list gave").Response()
	}
	if err != nil {
		return e.fail(ctx, "list deliveries", err)
	}
	lang := r.Header.Get("Accept-Language")
	out := struct {
		Deliveries []deliveryView `json:"deliveries"`
		Next       string         `json:"next_cursor,omitempty"`
	}{Deliveries: make([]deliveryView, 0, len(page.Deliveries)), Next: page.Next}
	for _, d := range page.Deliveries {
		out.Deliveries = append(out.Deliveries, viewDelivery(d, lang))
	}
	return apigw.JSON(http.StatusOK, out, nil)
}

// retryable are the statuses of deliveries that can be sent again.
var retryable = []lifecycle.Status{lifecycle.StatusFailed, lifecycle.StatusDead, lifecycle.StatusParked}

func validStatus(s lifecycle.Status) bool { return slices.Contains(lifecycle.Statuses, s) }

// statusList names every status, for messages.
func statusList() string {
	names := make([]string, len(lifecycle.Statuses))
	for i, s := range lifecycle.Statuses {
		names[i] = string(s)
	}
	return strings.Join(names, ", ")
}

// delivery reads a delivery of the funnel; one of another funnel is not
// found, as if it did not exist.
func (e *Editor) delivery(ctx context.Context, r *apigw.Request) (store.Delivery, error) {
	d, err := e.store.GetDelivery(ctx, r.Claims.Workspace, r.Params["delivery_id"])
	if err == nil && d.FunnelID != r.Params["funnel_id"] {
		return store.Delivery{}, failure.New("editor: get delivery", failure.NotFound, nil)
	}
	return d, err
}

// getDelivery handles GET /v1/funnels/{funnel_id}/deliveries/{delivery_id} (operation getDelivery).
func (e *Editor) getDelivery(ctx context.Context, r *apigw.Request) apigw.Response {
	d, err := e.delivery(ctx, r)
	if err != nil {
		return e.fail(ctx, "get delivery", err)
	}
	return apigw.JSON(http.StatusOK, viewDelivery(d, r.Header.Get("Accept-Language")), nil)
}

// retryDelivery handles POST /v1/funnels/{funnel_id}/deliveries/{delivery_id}/retry (operation retryDelivery).
func (e *Editor) retryDelivery(ctx context.Context, r *apigw.Request) apigw.Response {
	d, err := e.delivery(ctx, r)
	if err != nil {
		return e.fail(ctx, "retry delivery", err)
	}
	if !slices.Contains(retryable, d.Status) {
		return apigw.NewProblem(http.StatusConflict, "not-retryable", "This delivery cannot be retried",
			"Only failed, dead-lettered or parked deliveries can be sent again; this one is "+string(d.Status)+".").Response()
	}
	if err := resume.One(ctx, e.store, e.queue, d, lifecycle.ReasonRetryRequested); err != nil {
		return e.fail(ctx, "retry delivery", err)
	}
	d, err = e.store.GetDelivery(ctx, r.Claims.Workspace, d.EventID)
	if err != nil {
		return e.fail(ctx, "retry delivery: read", err)
	}
	return apigw.JSON(http.StatusAccepted, viewDelivery(d, r.Header.Get("Accept-Language")), nil)
}

// testIntegration handles POST /v1/funnels/{funnel_id}/integration/test (operation testIntegration).
func (e *Editor) testIntegration(ctx context.Context, r *apigw.Request) apigw.Response {
	ws, funnel := r.Claims.Workspace, r.Params["funnel_id"]
	in, err := e.store.GetIntegration(ctx, ws, funnel)
	if errors.Is(err, failure.ErrNotFound) {
		return apigw.NewProblem(http.StatusConflict, "no-integration", "No integration to test",
			"Save the integration of this funnel (connection, job position, mapping) before sending a test application.").Response()
	}
	if err != nil {
		return e.fail(ctx, "test integration", err)
	}
	var b struct {
		Event  json.RawMessage `json:"event"`
		Answer *string         `json:"answer"`
	}
	if len(r.Body) > 0 {
		if err := json.Unmarshal(r.Body, &b); err != nil {
			return badBody(err)
		}
	}
	now := e.cfg.Now().UTC()
	id := e.newID("evt_test")
	raw, err := testEvent(b.Event, in.Mapping, id, ws, funnel, now)
	if err != nil {
		return badBody(err)
	}
	ev, err := application.Parse(raw)
	if err != nil {
		var ve *application.ValidationError
		if errors.As(err, &ve) {
			p := apigw.NewProblem(http.StatusUnprocessableEntity, "invalid-event", "The test event is not valid", "fix every listed problem")
			for _, pr := range ve.Problems {
				msg := pr.Message
				if strings.HasPrefix(msg, "json: ") || strings.Contains(msg, "Go ") {
					msg = "is not a valid application event"
				}
				p.Errors = append(p.Errors, apigw.FieldError{Path: pr.Path, Message: msg})
			}
			return p.Response()
		}
		return e.fail(ctx, "test integration: validate", err)
	}
	if b.Answer != nil {
		if in.PositionRouting == nil {
			p := apigw.NewProblem(http.StatusBadRequest, "validation", "Invalid request", "answer routes a test application by its answer; this integration has no position_routing")
			p.Errors = []apigw.FieldError{{Path: "/answer", Message: "leave answer out: the integration routes by no answer"}}
			return p.Response()
		}
		ev.Answers = routeAnswer(in.PositionRouting, ev.Answers, *b.Answer)
	}
	body := asWritten(ev)
	if p := tooLarge(body); p != nil {
		return p.Response()
	}
	// Each test is a real application in Personio, out of the company's
	// budget: a workspace sends a few a minute at most.
	if p := e.takeWorkspace(ctx, ws, store.BudgetTests, e.cfg.Tests, "test applications"); p != nil {
		return p.Response()
	}
	d, err := e.store.CreateDelivery(ctx, store.Delivery{WorkspaceID: ws, FunnelID: funnel, EventID: id, Status: lifecycle.StatusQueued,
		Test: true, OccurredAt: ev.OccurredAt, Event: body, EmailHashes: ev.EmailHashes(e.cfg.HashKey),
		Attempts: []store.Attempt{{At: now, Outcome: lifecycle.StatusQueued, Reason: "test application from the editor"}}})
	if err != nil {
		return e.fail(ctx, "test integration: record", err)
	}
	if err := e.queue.Send(ctx, queue.Message{ID: id, Group: ws, Body: body}); err != nil {
		return e.fail(ctx, "test integration: queue", err)
	}
	return apigw.JSON(http.StatusAccepted, map[string]any{"delivery_id": d.EventID, "status": d.Status,
		"poll": "/v1/funnels/" + funnel + "/deliveries/" + d.EventID}, nil)
}

// testEvent is the test application's event as the queue takes it: the
// editor's event (given), with what the API sets, or one built from the
// mapping.
func testEvent(given, rawMapping json.RawMessage, id, ws, funnel string, now time.Time) ([]byte, error) {
	if len(given) == 0 {
		ev := sampleEvent(rawMapping, id)
		ev.Type, ev.ID, ev.WorkspaceID, ev.FunnelID, ev.Test, ev.OccurredAt = application.EventType, id, ws, funnel, true, now
		return asWritten(ev), nil
	}
	// Validated against the event's schema afterwards: every problem with
	// its path, in words.
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(given, &fields); err != nil {
		return nil, err
	}
	for k, v := range map[string]any{"type": application.EventType, "id": id, "workspace_id": ws, "funnel_id": funnel, "test": true} {
		fields[k], _ = json.Marshal(v)
	}
	if at := fields["occurred_at"]; len(at) == 0 || string(at) == "null" {
		fields["occurred_at"], _ = json.Marshal(now)
	}
	return asWritten(fields), nil
}

// sampleEvent builds a test application from the mapping: a test contact
// with a unique e-mail (Personio takes one application per e-mail and
// position) and an answer for every question the mapping reads.
func sampleEvent(rawMapping json.RawMessage, id string) application.Event {
	suffix := strings.TrimPrefix(id, "evt_test_")
	ev := application.Event{
		Contact: application.Contact{FirstName: "Test", LastName: "Applicant", FullName: "Test Applicant",
			Email: "test+" + suffix + "@example.com", Phone: "+49 30 1234567"},
		Tracking: map[string]string{"utm_source": "funnel-personio-test"},
	}
	cfg, err := mapping.Parse(rawMapping)
	if err != nil {
		return ev
	}
	seen := map[string]bool{}
	add := func(src string, r mapping.Rule) {
		field, ok := strings.CutPrefix(src, "answers.")
		if !ok || seen[field] {
			return
		}
		seen[field] = true
		value, typ := mapping.SampleAnswer(r)
		ev.Answers = append(ev.Answers, application.Answer{FieldID: field, Label: field, Type: typ, Value: value})
	}
	var walk func(r *mapping.Rule)
	walk = func(r *mapping.Rule) {
		if r == nil {
			return
		}
		add(r.Source, *r)
		for _, m := range placeholder.FindAllStringSubmatch(r.Template, -1) {
			add(strings.TrimSpace(m[1]), mapping.Rule{})
		}
		walk(r.Fallback)
	}
	walk(&cfg.Required.FirstName)
	walk(&cfg.Required.LastName)
	walk(&cfg.Required.Email)
	for i := range cfg.Optional {
		walk(&cfg.Optional[i])
	}
	return ev
}

// erase handles POST /v1/erasures (operation eraseApplicant).
func (e *Editor) erase(ctx context.Context, r *apigw.Request) apigw.Response {
	var b struct {
		Email string `json:"email"`
	}
	if err := json.Unmarshal(r.Body, &b); err != nil {
		return badBody(err)
	}
	hash := application.EmailHash(e.cfg.HashKey, b.Email)
	if hash == "" {
		p := apigw.NewProblem(http.StatusBadRequest, "validation", "Invalid request", "the applicant's e-mail address is required")
		p.Errors = []apigw.FieldError{{Path: "/email", Message: "an e-mail address, not blank"}}
		return p.Response()
	}
	until := e.cfg.Now().Add(e.cfg.ErasureMarkerTTL).UTC()
	er, err := e.store.EraseApplicant(ctx, r.Claims.Workspace, hash, until)
	if err != nil {
		return e.fail(ctx, "erase applicant", err)
	}
	return apigw.JSON(http.StatusOK, map[string]any{"removed": er.Records, "queued_copies": er.QueuedCopies, "personio_touched": false,
		"refused_until": until,
		"message": fmt.Sprintf("Removed %d delivery records of this applicant with the application data they kept; %d of them still had a copy "+
			"on the queue, which will be dropped unread. Until %s, any copy or new event of this applicant in this workspace is refused and nothing of it "+
			"is kept. Personio itself was not changed: delete the applicant there too if the request covers it.",
			er.Records, er.QueuedCopies, until.Format(time.DateOnly))}, nil)
}

// tooLarge refuses an event that decoding made larger than the queue
// takes (invalid UTF-8 becomes U+FFFD), before anything is written.
func tooLarge(body []byte) *apigw.Problem {
	if len(body) <= application.MaxEventSize {
		return nil
	}
	p := apigw.NewProblem(http.StatusUnprocessableEntity, "invalid-event", "The test event is not valid", "fix every listed problem")
	p.Errors = []apigw.FieldError{{Path: "$", Message: fmt.Sprintf("the event is %d bytes as the queue takes it; at most %d are accepted", len(body), application.MaxEventSize)}}
	return p
}

// asWritten encodes v as JSON without HTML escapes: "<", ">" and "&" stay
// as the applicant wrote them (json.Marshal would make each a six-byte
// \u003c escape). v is the editor's own event, which always encodes.
func asWritten(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}
