package ingest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/ingest"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/store"
	"github.com/funnel-personio/funnel-personio/pkg/webhook"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// fakeStore keeps deliveries and erasure markers in memory.
type fakeStore struct {
	mu     sync.Mutex
	recs   map[string]store.Delivery
	erased map[string]bool // ws/hash
	fail   error
	// integrations and connections by ws/id; reads counts their reads.
	integrations map[string]store.Integration
	connections  map[string]store.Connection
	reads        int
	// turn is what ReserveTurn answers; reserved what it was asked.
	turn     time.Time
	turnErr  error
	reserved []string
}

// CreateDelivery refuses a record of an erased applicant (ErrErased) and
// a second record of an event (a conflict), as the store's transaction
// does.
func (f *fakeStore) CreateDelivery(_ context.Context, d store.Delivery) (store.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return store.Delivery{}, f.fail
	}
	for _, h := range d.EmailHashes {
		if f.erased[d.WorkspaceID+"/"+h] {
			return store.Delivery{}, store.ErrErased
		}
	}
	if _, ok := f.recs[d.WorkspaceID+"/"+d.EventID]; ok {
		return d, failure.New("fake: create", failure.Conflict, nil)
	}
	d.CreatedAt = time.Now().UTC()
	d.UpdatedAt = d.CreatedAt
	f.recs[d.WorkspaceID+"/"+d.EventID] = d
	return d, nil
}

func (f *fakeStore) GetDelivery(_ context.Context, ws, id string) (store.Delivery, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.recs[ws+"/"+id]
	if !ok {
		return d, failure.New("fake: get delivery", failure.NotFound, nil)
	}
	return d, nil
}

// Withdraw deletes the record if it is as written (its updated_at is d's).
func (f *fakeStore) Withdraw(_ context.Context, d store.Delivery) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, ok := f.recs[d.WorkspaceID+"/"+d.EventID]
	if !ok || !cur.UpdatedAt.Equal(d.UpdatedAt) {
		return failure.New("fake: withdraw", failure.Conflict, nil)
	}
	delete(f.recs, d.WorkspaceID+"/"+d.EventID)
	return nil
}

func (f *fakeStore) GetIntegration(_ context.Context, ws, funnel string) (store.Integration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	in, ok := f.integrations[ws+"/"+funnel]
	if !ok {
		return in, failure.New("fake: get integration", failure.NotFound, nil)
	}
	return in, nil
}

func (f *fakeStore) GetConnection(_ context.Context, ws, id string) (store.Connection, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	c, ok := f.connections[ws+"/"+id]
	if !ok {
		return c, failure.New("fake: get connection", failure.NotFound, nil)
	}
	return c, nil
}

// ReserveTurn answers f.turn (none when it is zero) and notes what was
// asked.
func (f *fakeStore) ReserveTurn(_ context.Context, company string, n int, b store.Budget) (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reserved = append(f.reserved, fmt.Sprintf("%s×%d/%d", company, n, b.Limit))
	return f.turn, f.turnErr
}

// fakeQueue records what was sent.
type fakeQueue struct {
	mu   sync.Mutex
	sent []queue.Message
	fail error
}

func (q *fakeQueue) Send(_ context.Context, m queue.Message) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		return q.fail
	}
	q.sent = append(q.sent, m)
	return nil
}

const event = `{"type":"application.submitted","id":"evt_1","occurred_at":"2026-11-27T10:00:00Z","workspace_id":"ws_demo","funnel_id":"fn_office",
"contact":{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com"}}`

var hashKey = []byte("k")

// maxFiles is the deployment's: Personio's 20 requests a window, less the
// application's own.
var maxFiles = settings.Default().MaxFiles()

// withFiles is the event with n files.
func withFiles(n int) string {
	var files []string
	for i := range n {
		files = append(files, fmt.Sprintf(`{"field_id":"q_f%d","url":"https://files.example.com/%d.pdf","filename":"%d.pdf"}`, i, i, i))
	}
	return strings.Replace(event, `"contact"`, `"files":[`+strings.Join(files, ",")+`],"contact"`, 1)
}

func setup(t testing.TB) (*ingest.Handler, *fakeStore, *fakeQueue) {
	v, err := webhook.NewVerifier([]string{secret})
	if err != nil {
		t.Fatal(err)
	}
	st, q := &fakeStore{recs: map[string]store.Delivery{}, erased: map[string]bool{"ws_demo/" + application.EmailHash(hashKey, "erased@example.com"): true}}, &fakeQueue{}
	return ingest.New(ingest.Config{HashKey: hashKey, MaxFiles: maxFiles, Budget: settings.Default().RateBudget(), CacheTTL: time.Minute}, v, st, q), st, q
}

func request(body string, ts time.Time, mutate func(map[string]string)) events.APIGatewayV2HTTPRequest {
	h, _ := webhook.Sign(secret, "msg_1", ts, []byte(body))
	headers := map[string]string{"webhook-id": h.Get("webhook-id"), "webhook-timestamp": h.Get("webhook-timestamp"), "webhook-signature": h.Get("webhook-signature")}
	if mutate != nil {
		mutate(headers)
	}
	return events.APIGatewayV2HTTPRequest{RawPath: "/v1/events", Body: body, Headers: headers,
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/v1/events"}}}
}

func TestHandle(t *testing.T) {
	now := time.Now()
	big := `{"type":"application.submitted","pad":"` + strings.Repeat("x", 300_000) + `"}`
	tests := []struct {
		name     string
		req      events.APIGatewayV2HTTPRequest
		status   int
		want     string
		queued   int
		storeErr error
		queueErr error
	}{
		{name: "accepted", req: request(event, now, nil), status: 202, want: `"accepted"`, queued: 1},
		{name: "base64 body", req: func() events.APIGatewayV2HTTPRequest {
			r := request(event, now, nil)
			r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(event)), true
			return r
		}(), status: 202, want: `"accepted"`, queued: 1},
		{name: "bad signature", req: request(event, now, func(h map[string]string) { h["webhook-signature"] = "v1,AAAA" }), status: 401, want: "invalid-signature"},
		{name: "stale", req: request(event, now.Add(-10*time.Minute), nil), status: 401, want: "5 minutes"},
		{name: "no headers", req: request(event, now, func(h map[string]string) { clear(h) }), status: 401, want: "required"},
		{name: "tampered body", req: func() events.APIGatewayV2HTTPRequest {
			r := request(event, now, nil)
			r.Body = strings.Replace(r.Body, "Ada", "Eve", 1)
			return r
		}(), status: 401},
		{name: "invalid event", req: request(`{"type":"application.created","id":"x","contact":{"fax":1}}`, now, nil), status: 400, want: `"$.workspace_id"`},
		{name: "not JSON", req: request(`{`, now, nil), status: 400, want: "not valid JSON"},
		{name: "too large", req: request(big, now, nil), status: 413, want: "255 KiB"},
		{name: "just too large", req: request(strings.Replace(event, `"Ada"`, `"`+strings.Repeat("A", application.MaxEventSize-len(event)+4)+`"`, 1), now, nil),
			status: 413, want: "255 KiB"},
		{name: "test flag", req: request(strings.Replace(event, `"type"`, `"test":true,"type"`, 1), now, nil), status: 400, want: `"$.test"`},
		{name: "test false", req: request(strings.Replace(event, `"type"`, `"test":false,"type"`, 1), now, nil), status: 202, want: `"accepted"`, queued: 1},
		{name: "19 files", req: request(withFiles(19), now, nil), status: 202, want: `"accepted"`, queued: 1},
		{name: "20 files", req: request(withFiles(20), now, nil), status: 400, want: "at most 19: Personio takes 20 requests a minute"},
		{name: "25 files", req: request(withFiles(25), now, nil), status: 400, want: "25 files; at most 19"},
		{name: "erased applicant", req: request(strings.Replace(event, "ada@example.com", " Erased@Example.com", 1), now, nil), status: 202, want: `"erased"`},
		{name: "erased applicant's address in an answer", req: request(strings.Replace(event, `"contact"`,
			`"answers":[{"field_id":"q_mail","label":"Mail","type":"text","value":"erased@example.com"}],"contact"`, 1), now, nil), status: 202, want: `"erased"`},
		{name: "wrong path", req: func() events.APIGatewayV2HTTPRequest {
			r := request(event, now, nil)
			r.RawPath = "/v1/other"
			return r
		}(), status: 404},
		{name: "store down", req: request(event, now, nil), status: 503, storeErr: failure.New("x", failure.Transient, errors.New("down"))},
		{name: "queue down", req: request(event, now, nil), status: 503, queueErr: failure.New("x", failure.Transient, errors.New("down"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, st, q := setup(t)
			st.fail, q.fail = tt.storeErr, tt.queueErr
			resp, err := h.Handle(context.Background(), tt.req)
			if err != nil || resp.StatusCode != tt.status || !strings.Contains(resp.Body, tt.want) {
				t.Fatalf("answer %d %s (%v), want %d with %q", resp.StatusCode, resp.Body, err, tt.status, tt.want)
			}
			if len(q.sent) != tt.queued {
				t.Errorf("%d queued, want %d", len(q.sent), tt.queued)
			}
			if resp.StatusCode >= 400 && resp.Headers["Content-Type"] != "application/problem+json" {
				t.Errorf("content type %q", resp.Headers["Content-Type"])
			}
		})
	}
}

func TestEveryProblemListed(t *testing.T) {
	h, _, _ := setup(t)
	resp, _ := h.Handle(context.Background(), request(`{"type":"x","id":"bad","occurred_at":"never","contact":{},"extra":1}`, time.Now(), nil))
	var p struct {
		Errors []struct{ Path string } `json:"errors"`
	}
	_ = json.Unmarshal([]byte(resp.Body), &p)
	paths := map[string]bool{}
	for _, e := range p.Errors {
		paths[e.Path] = true
	}
	for _, want := range []string{"$.type", "$.id", "$.occurred_at", "$.workspace_id", "$.funnel_id", "$.extra"} {
		if !paths[want] {
			t.Errorf("no problem at %s: %s", want, resp.Body)
		}
	}
}

// TestRepeat: a repeat of an event is recorded once; it is sent again
// only while no worker has touched the record (the first send may not
// have happened), and not once a worker has claimed it.
func TestRepeat(t *testing.T) {
	h, st, q := setup(t)
	handle := func(i int, want string) {
		t.Helper()
		resp, _ := h.Handle(context.Background(), request(event, time.Now(), nil))
		if resp.StatusCode != 202 || !strings.Contains(resp.Body, want) {
			t.Fatalf("send %d: %d %s", i, resp.StatusCode, resp.Body)
		}
	}
	handle(0, `"accepted"`)
	handle(1, `"duplicate"`)
	if len(q.sent) != 2 || len(st.recs) != 1 {
		t.Errorf("untouched: queued %d, recorded %d; want 2 and 1", len(q.sent), len(st.recs))
	}
	d := st.recs["ws_demo/evt_1"]
	if d.Status != lifecycle.StatusQueued || len(d.EmailHashes) != 1 || d.EmailHashes[0] != application.EmailHash(hashKey, "ada@example.com") || q.sent[0].Group != "ws_demo" {
		t.Errorf("record %+v, message group %q", d, q.sent[0].Group)
	}
	// A worker claims it: a repeat is not sent again.
	d.Status, d.ClaimOwner, d.UpdatedAt = lifecycle.StatusProcessing, "w", d.UpdatedAt.Add(time.Millisecond)
	st.recs["ws_demo/evt_1"] = d
	handle(2, `"duplicate"`)
	if len(q.sent) != 2 {
		t.Errorf("claimed: queued %d, want 2", len(q.sent))
	}
}

// TestSendFails: the record of an event that could not be queued is
// withdrawn, so the platform's next send is a newcomer's.
func TestSendFails(t *testing.T) {
	h, st, q := setup(t)
	q.fail = failure.New("x", failure.Transient, errors.New("down"))
	if resp, _ := h.Handle(context.Background(), request(event, time.Now(), nil)); resp.StatusCode != 503 {
		t.Fatalf("answer %d %s", resp.StatusCode, resp.Body)
	}
	if len(st.recs) != 0 {
		t.Errorf("%d records left", len(st.recs))
	}
	q.fail = nil
	if resp, _ := h.Handle(context.Background(), request(event, time.Now(), nil)); resp.StatusCode != 202 || !strings.Contains(resp.Body, `"accepted"`) {
		t.Fatalf("again: %d %s", resp.StatusCode, resp.Body)
	}
}

// TestTurnAtIngest: an event whose company has a line (or no room) is sent
// delayed to the turn ingest reserved for it, whole seconds rounded down,
// and its record says it waits for that turn; one whose company has room
// goes at once; no turn is reserved for a funnel without a company that
// can take it; a store that cannot reserve loses nothing. The funnel's
// company is read once per CacheTTL.
func TestTurnAtIngest(t *testing.T) {
	limit := settings.Default().RateBudget().Limit
	on := store.Integration{WorkspaceID: "ws_demo", FunnelID: "fn_office", ConnectionID: "con_1", Enabled: true, JobPositionID: 1001}
	ok := store.Connection{ID: "con_1", CompanyID: "42", Status: store.ConnectionConnected}
	tests := []struct {
		name     string
		in       *store.Integration
		conn     store.Connection
		turnIn   time.Duration // 0: room now
		turnErr  error
		body     string
		reserved string        // what ReserveTurn was asked ("" none)
		delay    time.Duration // of the message
	}{
		{name: "a line", in: &on, conn: ok, turnIn: 90*time.Second + 700*time.Millisecond, body: event, reserved: fmt.Sprintf("42×1/%d", limit), delay: 90 * time.Second},
		{name: "a line, with files", in: &on, conn: ok, turnIn: 3 * time.Second, body: withFiles(3), reserved: fmt.Sprintf("42×4/%d", limit), delay: 3 * time.Second},
		{name: "a turn past the queue's longest delay", in: &on, conn: ok, turnIn: 40 * time.Minute, body: event, reserved: fmt.Sprintf("42×1/%d", limit), delay: queue.MaxDelay},
		{name: "room now", in: &on, conn: ok, body: event, reserved: fmt.Sprintf("42×1/%d", limit)},
		{name: "no integration", conn: ok, turnIn: time.Minute, body: event},
		{name: "switched off", in: &store.Integration{ConnectionID: "con_1"}, conn: ok, turnIn: time.Minute, body: event},
		{name: "connection needs attention", in: &on, conn: store.Connection{ID: "con_1", CompanyID: "42", Status: store.ConnectionNeedsAttention}, turnIn: time.Minute, body: event},
		{name: "no connection", in: &on, turnIn: time.Minute, body: event},
		{name: "the line cannot be read", in: &on, conn: ok, turnErr: failure.New("x", failure.Transient, errors.New("down")), body: event, reserved: fmt.Sprintf("42×1/%d", limit)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, st, q := setup(t)
			st.integrations, st.connections = map[string]store.Integration{}, map[string]store.Connection{}
			if tt.in != nil {
				st.integrations["ws_demo/fn_office"] = *tt.in
			}
			if tt.conn.ID != "" {
				st.connections["ws_demo/"+tt.conn.ID] = tt.conn
			}
			before := time.Now()
			if tt.turnIn > 0 {
				st.turn = before.Add(tt.turnIn)
			}
			st.turnErr = tt.turnErr
			if resp, _ := h.Handle(context.Background(), request(tt.body, time.Now(), nil)); resp.StatusCode != 202 {
				t.Fatalf("answer %d %s", resp.StatusCode, resp.Body)
			}
			if got := strings.Join(st.reserved, ","); got != tt.reserved {
				t.Errorf("reserved %q, want %q", got, tt.reserved)
			}
			if len(q.sent) != 1 {
				t.Fatalf("%d sent", len(q.sent))
			}
			// The delay is the turn's distance, rounded down: allow for the
			// time the handling took.
			if d := q.sent[0].Delay; d > tt.delay || d < tt.delay-time.Second {
				t.Errorf("delay %v, want %v", d, tt.delay)
			}
			d := st.recs["ws_demo/evt_1"]
			waits := tt.delay > 0
			if waits != (d.NextAttemptAt != nil) || waits != (d.ReasonCode == lifecycle.ReasonBudget) || waits && !d.NextAttemptAt.Equal(st.turn) {
				t.Errorf("record: next attempt %v, reason %q; want the turn %v: %v", d.NextAttemptAt, d.ReasonCode, st.turn, waits)
			}
		})
	}
	t.Run("the company read once per TTL", func(t *testing.T) {
		h, st, _ := setup(t)
		st.integrations, st.connections = map[string]store.Integration{"ws_demo/fn_office": on}, map[string]store.Connection{"ws_demo/con_1": ok}
		for i := range 3 {
			h.Handle(context.Background(), request(strings.Replace(event, "evt_1", fmt.Sprintf("evt_%d", i+10), 1), time.Now(), nil))
		}
		if st.reads != 2 || len(st.reserved) != 3 {
			t.Errorf("%d reads, %d reservations; want 2 and 3", st.reads, len(st.reserved))
		}
	})
}

// FuzzHandle: any body and signature headers: no panic, no 5xx.
func FuzzHandle(f *testing.F) {
	f.Add(event, "msg_1", "1795774500", "v1,AAAA", false)
	f.Add(`{"type":"application.submitted"}`, "", "", "", true)
	f.Add(`[]`, "msg", "-1", "v1,,v2", false)
	h, _, _ := setup(f)
	f.Fuzz(func(t *testing.T, body, id, ts, sig string, b64 bool) {
		req := events.APIGatewayV2HTTPRequest{RawPath: "/v1/events", Body: body, IsBase64Encoded: b64,
			Headers:        map[string]string{"webhook-id": id, "webhook-timestamp": ts, "webhook-signature": sig},
			RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodPost}}}
		resp, err := h.Handle(context.Background(), req)
		if err != nil || resp.StatusCode >= 500 {
			t.Fatalf("%d %v", resp.StatusCode, err)
		}
		// A correctly signed fresh copy of any body never 5xx either.
		signed := request(body, time.Now(), nil)
		if resp, _ := h.Handle(context.Background(), signed); resp.StatusCode >= 500 {
			t.Fatalf("signed: %d %s", resp.StatusCode, resp.Body)
		}
	})
}

// BenchmarkHandle is ingest without I/O: signature, validation, the
// record and the message go to in-memory fakes.
func BenchmarkHandle(b *testing.B) {
	h, st, _ := setup(b)
	req := request(event, time.Now(), nil)
	b.ReportAllocs()
	for b.Loop() {
		clear(st.recs)
		if resp, _ := h.Handle(context.Background(), req); resp.StatusCode != 202 {
			b.Fatal(resp.Body)
		}
	}
}
