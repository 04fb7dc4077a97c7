package delivery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/delivery"
	"github.com/funnel-personio/funnel-personio/dev/emulator"
	"github.com/funnel-personio/funnel-personio/pkg/filefetch"
	"github.com/funnel-personio/funnel-personio/pkg/ingest"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/dev/sandbox/sandboxtest"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/store"
	"github.com/funnel-personio/funnel-personio/pkg/vault"
	"github.com/funnel-personio/funnel-personio/pkg/webhook"
)

const (
	ws         = "ws_demo"
	funnel     = "fn_office"
	conn       = "con_1"
	signingKey = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// pipe is ingest, queue, worker, store and vault on kumo, with the Personio
// sandbox and a file server.
type pipe struct {
	t       *testing.T
	sandbox *sandboxtest.Server
	store   *store.Store
	vault   *vault.Vault
	queue   *queue.Queue
	dlq     *queue.Queue
	ingest  *ingest.Handler
	files   *httptest.Server
	logs    *lockedBuffer
	metrics *lockedBuffer
	cfg     delivery.Config
	pc      *personio.Client
	fetch   *filefetch.Fetcher
}

type pipeOpts struct {
	sandbox    sandbox.Config
	worker     delivery.Config
	maxReceive int
	timeout    time.Duration
}

func newPipe(t *testing.T, o pipeOpts) *pipe {
	t.Helper()
	cfg := emulator.Kumo(t)
	db := awsclient.DynamoDB(cfg)
	table := emulator.Name("pipe")
	if err := store.CreateTable(t.Context(), db, table); err != nil {
		t.Fatal(err)
	}
	def := queue.DefaultDefinition(emulator.Name("events"))
	def.VisibilityTimeout = 5 * time.Second
	if o.maxReceive > 0 {
		def.MaxReceiveCount = o.maxReceive
	}
	sqsc := awsclient.SQS(cfg)
	qurl, dlqurl, err := queue.Create(t.Context(), sqsc, def)
	if err != nil {
		t.Fatal(err)
	}
	if o.sandbox.RateLimit == 0 {
		o.sandbox.RateLimit = -1
	}
	p := &pipe{t: t, sandbox: sandboxtest.Start(t, o.sandbox), store: store.New(db, table), vault: vault.New(awsclient.SecretsManager(cfg), emulator.Name("fp")),
		queue: queue.New(sqsc, qurl), dlq: queue.New(sqsc, dlqurl), logs: &lockedBuffer{}, metrics: &lockedBuffer{}}
	p.files = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing.pdf" {
			http.NotFound(w, r)
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
	p.cfg = o.worker
	p.cfg.HashKey = []byte("k")
	p.cfg.Logger = slog.New(slog.NewJSONHandler(p.logs, nil))
	p.cfg.Metrics = p.metrics
	if p.cfg.BaseBackoff == 0 {
		p.cfg.BaseBackoff, p.cfg.MaxBackoff = time.Second, 2*time.Second
	}
	p.cfg.MaxReceiveCount = def.MaxReceiveCount
	v, err := webhook.NewVerifier([]string{signingKey})
	if err != nil {
		t.Fatal(err)
	}
	p.ingest = ingest.New(v, p.store, p.queue, p.cfg.HashKey, p.cfg.Logger)
	// The seed's connection and integration.
	ctx := t.Context()
	if _, err := p.vault.Create(ctx, ws, conn, "sandbox-token-42"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.store.CreateConnection(ctx, store.Connection{WorkspaceID: ws, ID: conn, Name: "Acme", CompanyID: "42", Status: store.ConnectionConnected}); err != nil {
		t.Fatal(err)
	}
	p.integrate(t, funnel, 1001, true)
	t.Cleanup(func() {
		for _, s := range []string{"sandbox-token-42", "ada@example.com", "Lovelace"} {
			if strings.Contains(p.logs.String(), s) || strings.Contains(p.metrics.String(), s) {
				t.Errorf("a log line holds %q", s)
			}
		}
	})
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

func (p *pipe) worker() *delivery.Worker {
	return delivery.NewWorker(p.cfg, p.store, p.vault, p.pc, p.queue, p.fetch)
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

func (p *pipe) status(t *testing.T, id string) store.Delivery {
	t.Helper()
	d, err := p.store.GetDelivery(t.Context(), ws, id)
	if err != nil {
		return store.Delivery{}
	}
	return d
}

func (p *pipe) is(t *testing.T, id string, s store.Status) func() bool {
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
