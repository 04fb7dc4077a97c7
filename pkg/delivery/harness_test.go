package delivery_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/dev/sandbox/sandboxtest"
	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/delivery"
	"github.com/funnel-personio/funnel-personio/pkg/filefetch"
	"github.com/funnel-personio/funnel-personio/pkg/ingest"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/store"
	"github.com/funnel-personio/funnel-personio/pkg/vault"
	"github.com/funnel-personio/funnel-personio/pkg/webhook"
	"github.com/funnel-personio/funnel-personio/pkg/workerlambda"
)

const (
	ws         = "ws_demo"
	funnel     = "fn_office"
	conn       = "con_1"
	signingKey = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

// pipe is ingest, queue, worker, store and vault on kumo, with the Personio
// sandbox and a file server, wired from the deployment's settings as the
// functions are.
type pipe struct {
	t       *testing.T
	sandbox *sandboxtest.Server
	store   *store.Store
	vault   *vault.Vault
	queue   *queue.Queue
	dlq     *queue.Queue
	ingest  *ingest.Handler
	files   *httptest.Server
	logs    *testenv.Buffer
	metrics *testenv.Buffer
	cfg     delivery.Config
	pc      *personio.Client
	fetch   *filefetch.Fetcher
}

type pipeOpts struct {
	sandbox sandbox.Config
	// worker changes the worker's configuration (from the deployment's
	// settings, with retries 1 to 2 s apart).
	worker     func(*delivery.Config)
	maxReceive int
	timeout    time.Duration
}

func newPipe(t *testing.T, o pipeOpts) *pipe {
	t.Helper()
	// A short visibility timeout, so that what a worker leaves comes back
	// within the test.
	te := testenv.New(t, testenv.WithQueue(func(d *queue.Definition) { d.VisibilityTimeout = 5 * time.Second }), testenv.WithSettings(func(s *settings.Settings) {
		if o.maxReceive > 0 {
			s.MaxReceiveCount = o.maxReceive
		}
	}))
	if o.sandbox.RateLimit == 0 {
		o.sandbox.RateLimit = -1
	}
	p := &pipe{t: t, sandbox: sandboxtest.Start(t, o.sandbox), store: te.Store, vault: te.Vault,
		queue: te.Queue, dlq: te.DLQ, logs: te.Logs, metrics: &testenv.Buffer{}}
	p.files = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/missing.pdf":
			http.NotFound(w, r)
			return
		case strings.HasPrefix(r.URL.Path, "/down/"):
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("%PDF-1.4 " + r.URL.Path))
	}))
	t.Cleanup(p.files.Close)
	var opts []personio.Option
	if o.timeout > 0 {
		opts = append(opts, personio.WithTimeout(o.timeout))
	}
	p.pc = p.sandbox.PersonioClient(t, opts...)
	p.fetch = filefetch.New(filefetch.Config{HostSuffixes: []string{"files.example.com"}, Insecure: []string{strings.TrimPrefix(p.files.URL, "http://")}})
	p.cfg = workerlambda.Config(te.Settings, workerlambda.Options{Logger: p.logs.Logger(), Metrics: p.metrics})
	p.cfg.BaseBackoff, p.cfg.MaxBackoff = time.Second, 2*time.Second
	if o.worker != nil {
		o.worker(&p.cfg)
	}
	v, err := webhook.NewVerifier([]string{signingKey})
	if err != nil {
		t.Fatal(err)
	}
	p.ingest = ingest.New(ingest.Config{HashKey: p.cfg.HashKey, MaxFiles: te.Settings.MaxFiles(), Budget: p.cfg.Budget, CacheTTL: p.cfg.CacheTTL, Logger: p.cfg.Logger}, v, p.store, p.queue)
	// The seed's connection and integration.
	ctx := t.Context()
	if _, err := p.vault.Create(ctx, ws, conn, "sandbox-token-42"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.store.CreateConnection(ctx, store.Connection{WorkspaceID: ws, ID: conn, Name: "Acme", CompanyID: "42", Status: store.ConnectionConnected}); err != nil {
		t.Fatal(err)
	}
	p.integrate(t, funnel, 1001, true)
	for _, b := range []*testenv.Buffer{p.logs, p.metrics} {
		b.NeverHolds(t, "sandbox-token-42", "ada@example.com", "Lovelace")
	}
	return p
}

var mappingJSON = []byte(`{"version":1,"required":{"first_name":{"source":"contact.first_name"},"last_name":{"source":"contact.last_name"},
 "email":{"source":"contact.email","transforms":["trim","lower"]}},"optional":[{"target":"phone","source":"contact.phone"},{"target":"file:cv","source":"files.q_cv"}]}`)

func (p *pipe) integrate(t *testing.T, funnelID string, position int64, enabled bool) {
	t.Helper()
	cur, err := p.store.GetIntegration(t.Context(), ws, funnelID)
	if err != nil {
		cur = store.Integration{WorkspaceID: ws, FunnelID: funnelID}
	}
	cur.ConnectionID, cur.JobPositionID, cur.Mapping, cur.Enabled = conn, position, mappingJSON, enabled
	if _, err := p.store.PutIntegration(t.Context(), cur); err != nil {
		t.Fatal(err)
	}
}

// send posts an event for id (e-mail id@example.com) and runs the worker
// until its delivery is settled or parked.
func (p *pipe) send(t *testing.T, w *delivery.Worker, id string) {
	t.Helper()
	if r := p.post(t, p.event(id, id+"@example.com", "")); r.StatusCode != 202 {
		t.Fatalf("ingest %s: %d %s", id, r.StatusCode, r.Body)
	}
	p.drain(t, w, 10*time.Second, func() bool { return p.status(t, id).Terminal() || p.status(t, id).Status == lifecycle.StatusParked })
}

func (p *pipe) worker() *delivery.Worker {
	w, err := delivery.NewWorker(p.cfg, p.store, p.vault, p.pc, p.queue, p.fetch)
	if err != nil {
		p.t.Fatal(err)
	}
	return w
}

// event is a valid application event; fileURL "" means no file.
func (p *pipe) event(id, email, fileURL string) []byte {
	ev := map[string]any{"type": "application.submitted", "id": id, "occurred_at": time.Now().UTC().Format(time.RFC3339),
		"workspace_id": ws, "funnel_id": funnel,
		"contact": map[string]any{"first_name": "Ada", "last_name": "Lovelace", "email": email, "phone": "0151 12345678"}}
	if fileURL != "" {
		ev["files"] = []any{map[string]any{"field_id": "q_cv", "url": fileURL, "filename": "Lebenslauf.pdf"}}
	}
	b, _ := json.Marshal(ev)
	return b
}

// post signs and posts an event to ingest.
func (p *pipe) post(t *testing.T, body []byte) events.APIGatewayV2HTTPResponse {
	t.Helper()
	h, err := webhook.Sign(signingKey, "msg_"+strconv.FormatInt(time.Now().UnixNano(), 36), time.Now(), body)
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{}
	for k := range h {
		headers[strings.ToLower(k)] = h.Get(k)
	}
	resp, err := p.ingest.Handle(context.Background(), events.APIGatewayV2HTTPRequest{RawPath: "/v1/events", Body: string(body), Headers: headers,
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/v1/events"}}})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// pump plays the SQS event source mapping for one worker: receive a
// batch, hand it to the worker, delete what succeeded. It returns how many
// messages it handled.
func (p *pipe) pump(ctx context.Context, w *delivery.Worker) int {
	msgs, err := p.queue.Receive(ctx, 10, 0)
	if err != nil || len(msgs) == 0 {
		return 0
	}
	resp, _ := w.Handle(ctx, sqsEvent(msgs...))
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, m := range msgs {
		if !failed[m.ID] {
			_ = p.queue.Delete(ctx, m.ReceiptHandle)
		}
	}
	return len(msgs)
}

// drain pumps until cond holds or the deadline passes.
func (p *pipe) drain(t *testing.T, w *delivery.Worker, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not done within %s", within)
		}
		if p.pump(t.Context(), w) == 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// stallAfter is how long untilStalled waits for the next step of
// progress: bounded by progress, not by the whole run's time, a loaded
// machine makes a test slower, not failed.
const stallAfter = 30 * time.Second

// untilStalled waits until count reaches n, or until it has not grown for
// stallAfter.
func (p *pipe) untilStalled(count func() int, n int) {
	last, at := count(), time.Now()
	for last < n && time.Since(at) < stallAfter {
		time.Sleep(100 * time.Millisecond)
		if c := count(); c > last {
			last, at = c, time.Now()
		}
	}
}

func (p *pipe) status(t *testing.T, id string) store.Delivery {
	t.Helper()
	d, err := p.store.GetDelivery(t.Context(), ws, id)
	if err != nil {
		return store.Delivery{}
	}
	return d
}

func (p *pipe) is(t *testing.T, id string, s lifecycle.Status) func() bool {
	return func() bool { return p.status(t, id).Status == s }
}

// sqsEvent wraps received messages as the event source mapping does.
func sqsEvent(msgs ...queue.Received) events.SQSEvent {
	var ev events.SQSEvent
	for _, m := range msgs {
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: m.ID, ReceiptHandle: m.ReceiptHandle, Body: string(m.Body),
			Attributes: map[string]string{"ApproximateReceiveCount": strconv.Itoa(m.ReceiveCount)}, EventSource: "aws:sqs",
			MessageAttributes: messageAttributes(m.MessageAttributes)})
	}
	return ev
}

func messageAttributes(m map[string]string) map[string]events.SQSMessageAttribute {
	out := map[string]events.SQSMessageAttribute{}
	for k, v := range m {
		out[k] = events.SQSMessageAttribute{StringValue: &v, DataType: "String"}
	}
	return out
}
