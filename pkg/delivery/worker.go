package delivery

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/filefetch"
	"github.com/funnel-personio/funnel-personio/pkg/mapping"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// deferAttribute is the message attribute that carries a delayed copy's
// defer token.
const deferAttribute = "defer_token"

// ReasonOutcomeUnknown marks an attempt whose request may have reached
// Personio although no answer came back.
const ReasonOutcomeUnknown = "personio.outcome_unknown"

// Store is the state the worker reads and writes.
type Store interface {
	GetIntegration(ctx context.Context, ws, funnel string) (store.Integration, error)
	GetConnection(ctx context.Context, ws, id string) (store.Connection, error)
	UpdateConnection(context.Context, store.Connection) (store.Connection, error)
	Claim(ctx context.Context, d store.Delivery, owner string, lease time.Duration) (store.Delivery, error)
	Record(ctx context.Context, ws, funnel, eventID, owner string, c store.Change) (store.Delivery, error)
	Release(ctx context.Context, ws, funnel, eventID, owner string, outcomeUnknown bool) error
	Take(ctx context.Context, company string, n int, b store.Budget) (bool, time.Time, error)
	TakeOrReserve(ctx context.Context, company string, n int, b store.Budget) (bool, time.Time, error)
	Block(ctx context.Context, company string, until time.Time) error
}

// Vault reads tokens.
type Vault interface {
	Get(ctx context.Context, ws, connection string) (personio.Token, error)
}

// Personio uploads documents and creates applications.
type Personio interface {
	UploadDocument(ctx context.Context, creds personio.Credentials, filename string, content io.Reader) (*personio.Document, error)
	CreateApplication(ctx context.Context, creds personio.Credentials, app personio.Application) error
}

// Queue sends deferred copies of messages and hides messages to retry.
type Queue interface {
	Send(ctx context.Context, m queue.Message) error
	Defer(ctx context.Context, receiptHandle string, d time.Duration) error
}

// Fetcher downloads files.
type Fetcher interface {
	Fetch(ctx context.Context, url string) (*filefetch.File, error)
}

// Config configures the worker.
type Config struct {
	// Budget is the per-company rate budget. The default, 20 requests per
	// 61 s, keeps a second's margin under Personio's 20 per 60 s for
	// requests that reach Personio a moment after the budget was taken.
	Budget store.Budget
	// RateLimitPause is how long a company's deliveries wait after
	// Personio answered 429 (default 60 s: Personio asks for a minute).
	RateLimitPause time.Duration
	// Lease is how long a claim lasts if the worker dies (default 2 min).
	Lease time.Duration
	// MaxReceiveCount is the queue's receive limit; the attempt that
	// reaches it records the delivery as dead (default 8).
	MaxReceiveCount int
	// Backoff bounds the retry delays (default 5 s, doubling, at most 15 min).
	BaseBackoff, MaxBackoff time.Duration
	// CacheTTL is how long tokens and integrations are cached (default 60 s).
	CacheTTL time.Duration
	// HashKey keys the e-mail hash kept for erasure.
	HashKey []byte
	Now     func() time.Time
	Logger  *slog.Logger
	// Metrics receives CloudWatch Embedded Metric Format lines (default
	// stdout).
	Metrics io.Writer
}

// Worker delivers application events to Personio.
type Worker struct {
	cfg      Config
	store    Store
	vault    Vault
	personio Personio
	queue    Queue
	files    Fetcher
	instance string

	mu           sync.Mutex
	loadMu       sync.Mutex // one token or integration load at a time: concurrent misses share it
	tokens       map[string]cachedToken
	integrations map[string]cachedIntegration
	metricsMu    sync.Mutex
}

type cachedToken struct {
	token   personio.Token
	expires time.Time
}

type cachedIntegration struct {
	in      store.Integration
	mapping *mapping.Mapping
	err     error
	expires time.Time
}

// NewWorker returns a worker.
func NewWorker(cfg Config, st Store, v Vault, p Personio, q Queue, f Fetcher) *Worker {
	if cfg.Budget.Limit == 0 {
		cfg.Budget = store.Budget{Limit: 20, Window: 61 * time.Second}
	}
	if cfg.RateLimitPause <= 0 {
		cfg.RateLimitPause = 60 * time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Minute
	}
	if cfg.MaxReceiveCount <= 0 {
		cfg.MaxReceiveCount = 8
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = 5 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 15 * time.Minute
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = os.Stdout
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	return &Worker{cfg: cfg, store: st, vault: v, personio: p, queue: q, files: f, instance: "w-" + hex.EncodeToString(b[:]),
		tokens: map[string]cachedToken{}, integrations: map[string]cachedIntegration{}}
}

// Handle takes one SQS batch and reports the messages to retry. The
// records are handled concurrently, so one slow answer does not hold up the
// rest; one bad record never fails the batch, and nothing escapes as a
// panic.
func (w *Worker) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	done := make([]bool, len(ev.Records))
	var wg sync.WaitGroup
	for i, rec := range ev.Records {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done[i] = w.handleRecord(ctx, rec)
		}()
	}
	wg.Wait()
	var resp events.SQSEventResponse
	for i, rec := range ev.Records {
		if !done[i] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
		}
	}
	return resp, nil
}

// handleRecord reports whether the message is done with (delete it).
func (w *Worker) handleRecord(ctx context.Context, rec events.SQSMessage) (done bool) {
	defer func() {
		if p := recover(); p != nil {
			w.cfg.Logger.ErrorContext(ctx, "worker: panic", "message_id", rec.MessageId, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			done = false
		}
	}()
	attempt, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	attempt = max(attempt, 1)
	body := []byte(rec.Body)
	ev, err := application.Parse(body)
	if err != nil {
		return w.invalid(ctx, body, err, rec.MessageId)
	}
	j := &job{w: w, ev: ev, body: body, attempt: attempt, receipt: rec.ReceiptHandle, deferToken: rec.MessageAttributes[deferAttribute].StringValue,
		// The owner is new for each handling: SQS may hand out the same
		// message twice with the same receive count, and two handlings
		// must never share a claim.
		owner: w.instance + "/" + rec.MessageId + "/" + strconv.Itoa(attempt) + "/" + newToken(),
		log:   w.cfg.Logger.With("event_id", ev.ID, "workspace", ev.WorkspaceID, "funnel", ev.FunnelID, "attempt", attempt)}
	return j.run(ctx)
}

// invalid handles a message that is not a valid event (sent straight to
// the queue): recorded as failed when its ids can be read, otherwise left
// to go to the dead-letter queue.
func (w *Worker) invalid(ctx context.Context, body []byte, err error, messageID string) bool {
	var ids struct {
		ID          string `json:"id"`
		WorkspaceID string `json:"workspace_id"`
		FunnelID    string `json:"funnel_id"`
	}
	_ = json.Unmarshal(body, &ids)
	if !validID(ids.ID, "evt_") || !validID(ids.WorkspaceID, "") || !validID(ids.FunnelID, "") {
		w.cfg.Logger.ErrorContext(ctx, "worker: unreadable message, left for the dead-letter queue", "message_id", messageID, "error", err.Error())
		w.metric("Dead", 1, "Count")
		return false
	}
	owner := w.instance + "/" + messageID
	if _, cerr := w.store.Claim(ctx, store.Delivery{WorkspaceID: ids.WorkspaceID, FunnelID: ids.FunnelID, EventID: ids.ID}, owner, w.cfg.Lease); cerr != nil {
		return errors.Is(cerr, store.ErrAlreadyDelivered)
	}
	reason := err.Error()
	_, rerr := w.store.Record(ctx, ids.WorkspaceID, ids.FunnelID, ids.ID, owner, store.Change{Status: store.StatusFailed,
		ReasonCode: ReasonInvalidEvent, Reason: reason, Release: true,
		Attempt: &store.Attempt{At: w.cfg.Now().UTC(), Outcome: store.StatusFailed, ReasonCode: ReasonInvalidEvent, Reason: reason}})
	w.cfg.Logger.InfoContext(ctx, "delivery", "event_id", ids.ID, "workspace", ids.WorkspaceID, "funnel", ids.FunnelID,
		"state", store.StatusFailed, "reason_code", ReasonInvalidEvent)
	w.metric("Failed", 1, "Count")
	return rerr == nil
}

func validID(s, prefix string) bool {
	if s == "" || len(s) > 128 || !strings.HasPrefix(s, prefix) {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// token reads a connection's token, cached for CacheTTL.
func (w *Worker) token(ctx context.Context, ws, conn string) (personio.Token, error) {
	key := ws + "/" + conn
	now := w.cfg.Now()
	w.mu.Lock()
	c, ok := w.tokens[key]
	w.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.token, nil
	}
	// The records of a batch run concurrently: the first miss loads, the
	// others find it cached.
	w.loadMu.Lock()
	defer w.loadMu.Unlock()
	w.mu.Lock()
	c, ok = w.tokens[key]
	w.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.token, nil
	}
	t, err := w.vault.Get(ctx, ws, conn)
	if err != nil {
		return "", err
	}
	w.mu.Lock()
	w.tokens[key] = cachedToken{token: t, expires: now.Add(w.cfg.CacheTTL)}
	w.mu.Unlock()
	return t, nil
}

// forgetToken drops a token Personio refused.
func (w *Worker) forgetToken(ws, conn string) {
	w.mu.Lock()
	delete(w.tokens, ws+"/"+conn)
	w.mu.Unlock()
}

// integration reads a funnel's integration with its compiled mapping,
// cached for CacheTTL.
func (w *Worker) integration(ctx context.Context, ws, funnel string) (store.Integration, *mapping.Mapping, error, error) {
	key := ws + "/" + funnel
	now := w.cfg.Now()
	w.mu.Lock()
	c, ok := w.integrations[key]
	w.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.in, c.mapping, c.err, nil
	}
	in, err := w.store.GetIntegration(ctx, ws, funnel)
	if err != nil {
		return store.Integration{}, nil, nil, err
	}
	c = cachedIntegration{in: in, expires: now.Add(w.cfg.CacheTTL)}
	cfg, perr := mapping.Parse(in.Mapping)
	if perr != nil {
		c.err = perr
	} else {
		c.mapping, c.err = mapping.Compile(*cfg)
	}
	w.mu.Lock()
	w.integrations[key] = c
	w.mu.Unlock()
	return c.in, c.mapping, c.err, nil
}

// backoff is the delay before retry n (1-based): exponential with full
// jitter.
func (w *Worker) backoff(n int) time.Duration {
	d := w.cfg.BaseBackoff << min(n-1, 20)
	if d <= 0 || d > w.cfg.MaxBackoff {
		d = w.cfg.MaxBackoff
	}
	return d/2 + time.Duration(mrand.Int64N(int64(d/2)+1))
}

// metric writes one CloudWatch Embedded Metric Format line.
func (w *Worker) metric(name string, value float64, unit string) {
	line := map[string]any{
		"_aws": map[string]any{
			"Timestamp": w.cfg.Now().UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{"Namespace": "FunnelPersonio", "Dimensions": [][]string{{}},
				"Metrics": []any{map[string]string{"Name": name, "Unit": unit}}}},
		},
		name: value,
	}
	b, _ := json.Marshal(line)
	w.metricsMu.Lock()
	defer w.metricsMu.Unlock()
	_, _ = w.cfg.Metrics.Write(append(b, '\n'))
}

func mrandIntN(n int) int { return mrand.IntN(n) }

func newToken() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
