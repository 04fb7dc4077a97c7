package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/backoff"
	"github.com/funnel-personio/funnel-personio/pkg/filefetch"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/metrics"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// deferAttribute is the message attribute that carries a delayed copy's
// defer token.
const deferAttribute = "defer_token"

// Store is the state the worker reads and writes.
type Store interface {
	GetIntegration(ctx context.Context, ws, funnel string) (store.Integration, error)
	GetConnection(ctx context.Context, ws, id string) (store.Connection, error)
	UpdateConnection(context.Context, store.Connection, ...store.Pending) (store.Connection, error)
	// Sent marks an outbound event recorded pending as published.
	Sent(ctx context.Context, ws, id string) error
	Claim(ctx context.Context, d store.Delivery, owner string, lease time.Duration) (store.Delivery, error)
	// ClaimReading claims and reads the funnel's integration in one
	// request where the claim reads first.
	ClaimReading(ctx context.Context, d store.Delivery, owner string, lease time.Duration) (store.Delivery, store.IntegrationLook, error)
	Record(ctx context.Context, k store.DeliveryKey, owner string, c store.Change) (store.Delivery, error)
	TakeBudget(ctx context.Context, company string, n int, b store.Budget) (bool, time.Time, error)
	TakeBudgetOrJoinLine(ctx context.Context, company string, n int, b store.Budget) (bool, time.Time, error)
	BlockBudget(ctx context.Context, company string, until time.Time) error
	MoveBudget(ctx context.Context, company string, n int, from, to time.Time) error
	Erased(ctx context.Context, ws string, emailHashes ...string) (bool, error)
	Forget(ctx context.Context, k store.DeliveryKey) error
	MarkPositionUnpublished(ctx context.Context, ws, funnel string, position int64, at time.Time, tell ...store.Pending) (bool, error)
	MarkRoutedPositionUnpublished(ctx context.Context, ws, funnel string, position int64, at time.Time, tell ...store.Pending) (bool, error)
	DeliveriesOf(ctx context.Context, ws, emailHash string) ([]store.Delivery, error)
}

// Notifier tells the funnel platform about a problem (outbound events).
type Notifier interface {
	Publish(ctx context.Context, e outbound.Event) error
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

// Fetcher starts downloading files.
type Fetcher interface {
	Fetch(ctx context.Context, url string) (*filefetch.File, error)
}

// Config configures the worker. Every field but Now, Logger and Metrics is
// required: the deployment's values come from package settings.
type Config struct {
	// Budget is the per-company rate budget shared with every worker and
	// the editor's credential checks.
	Budget store.Budget
	// RateLimitPause is how long a company's deliveries wait after
	// Personio answered 429.
	RateLimitPause time.Duration
	// Lease is how long a claim lasts if the worker dies.
	Lease time.Duration
	// MaxReceiveCount is the queue's receive limit; the attempt that
	// reaches it records the delivery as dead.
	MaxReceiveCount int
	// BaseBackoff and MaxBackoff bound the retry delays (doubling, with
	// equal jitter, pkg/backoff).
	BaseBackoff, MaxBackoff time.Duration
	// CacheTTL is how long tokens and compiled mappings are kept.
	CacheTTL time.Duration
	// DeadlineMargin is how long before the invocation's deadline each
	// record stops working and records a retry instead.
	DeadlineMargin time.Duration
	// Transfers bounds the files a worker downloads and uploads at once
	// (each streams from the download into the upload, so memory stays
	// small whatever the files' sizes).
	Transfers int
	// HashKey keys the e-mail hash kept for erasure.
	HashKey []byte
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Rand draws a number in [0, n) for backoffs, jitter and tokens
	// (default math/rand/v2's Int64N; the simulator seeds its own).
	Rand func(n int64) int64
	// Sleep waits d or until ctx is done (default a timer; the simulator
	// waits on its clock).
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives one line per state change (default: none).
	Logger *slog.Logger
	// Metrics receives CloudWatch Embedded Metric Format lines (default
	// stdout, where Lambda's logs turn them into metrics).
	Metrics io.Writer
	// Notify, if set, is told each problem the worker finds once: a
	// connection Personio refuses, a position no longer published, a
	// delivery failed for good or dead.
	Notify Notifier
}

// check reports every required field that is missing.
func (c Config) check() error {
	var missing []string
	for name, ok := range map[string]bool{
		"Budget": c.Budget.Limit > 0 && c.Budget.Window > 0, "RateLimitPause": c.RateLimitPause > 0, "Lease": c.Lease > 0,
		"MaxReceiveCount": c.MaxReceiveCount > 0, "BaseBackoff": c.BaseBackoff > 0, "MaxBackoff": c.MaxBackoff >= c.BaseBackoff,
		"CacheTTL": c.CacheTTL > 0, "HashKey": len(c.HashKey) > 0, "Transfers": c.Transfers > 0,
		"DeadlineMargin": c.DeadlineMargin > 0,
	} {
		if !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return errors.New("delivery: config: set " + strings.Join(missing, ", "))
	}
	return nil
}

// Worker delivers application events to Personio.
type Worker struct {
	cfg      Config
	store    Store
	vault    Vault
	personio Personio
	queue    Queue
	files    Fetcher
	metrics  *metrics.Writer
	instance string
	cache    cache
	// teller tells of the problems the worker's changes make.
	teller outbound.Teller
	// transfers holds a token for each file transfer under way.
	transfers chan struct{}
}

// NewWorker returns a worker, or an error naming every required setting
// cfg lacks.
func NewWorker(cfg Config, st Store, v Vault, p Personio, q Queue, f Fetcher) (*Worker, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = mrand.Int64N
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Metrics == nil {
		cfg.Metrics = os.Stdout
	}
	return &Worker{cfg: cfg, store: st, vault: v, personio: p, queue: q, files: f, metrics: metrics.NewWriter(cfg.Metrics, cfg.Now),
		instance: "w-" + token(cfg.Rand)[:12], cache: newCache(cfg.CacheTTL, cfg.Now), transfers: make(chan struct{}, cfg.Transfers),
		teller: outbound.NewTeller("worker", cfg.Notify, st, cfg.Logger)}, nil
}

// Handle takes one SQS batch and reports the messages to retry. The
// records are handled concurrently, so one slow answer does not hold up the
// rest; one bad record never fails the batch, and nothing escapes as a
// panic. Each record works until the invocation's deadline (ctx's) less
// DeadlineMargin; one that is not done by then records a retry in the
// margin, so the batch's answer goes out before Lambda ends it.
func (w *Worker) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	work := ctx
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		work, cancel = context.WithDeadline(ctx, deadline.Add(-w.cfg.DeadlineMargin))
		defer cancel()
	}
	done := make([]bool, len(ev.Records))
	var wg sync.WaitGroup
	for i, rec := range ev.Records {
		wg.Add(1)
		go func() {
			defer wg.Done()
			done[i] = w.handleRecord(ctx, work, rec)
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

// handleRecord reports whether the message is done with (delete it). The
// work happens under work; its outcome is recorded under ctx.
func (w *Worker) handleRecord(ctx, work context.Context, rec events.SQSMessage) (done bool) {
	defer func() {
		if p := recover(); p != nil {
			w.cfg.Logger.ErrorContext(ctx, "worker: panic", "message_id", rec.MessageId, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			done = false
		}
	}()
	marks := newStages(w.cfg.Now(), rec.Attributes["SentTimestamp"])
	attempt, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	attempt = max(attempt, 1)
	body := []byte(rec.Body)
	ev, err := application.Parse(body)
	if err != nil {
		return w.invalid(ctx, body, err, rec.MessageId)
	}
	j := &job{w: w, ev: ev, key: store.DeliveryKey{Workspace: ev.WorkspaceID, Funnel: ev.FunnelID, Event: ev.ID}, body: body,
		attempt: attempt, receipt: rec.ReceiptHandle, deferToken: rec.MessageAttributes[deferAttribute].StringValue,
		// The owner is new for each handling: SQS may hand out the same
		// message twice with the same receive count, and two handlings
		// must never share a claim.
		owner: w.instance + "/" + rec.MessageId + "/" + strconv.Itoa(attempt) + "/" + w.newToken(),
		log:   w.cfg.Logger.With("event_id", ev.ID, "workspace", ev.WorkspaceID, "funnel", ev.FunnelID, "attempt", attempt), marks: marks}
	return j.run(ctx, work)
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
		w.metrics.Count(metrics.Dead)
		return false
	}
	owner := w.instance + "/" + messageID
	key := store.DeliveryKey{Workspace: ids.WorkspaceID, Funnel: ids.FunnelID, Event: ids.ID}
	d, cerr := w.store.Claim(ctx, store.Delivery{WorkspaceID: ids.WorkspaceID, FunnelID: ids.FunnelID, EventID: ids.ID}, owner, w.cfg.Lease)
	if cerr != nil {
		return errors.Is(cerr, store.ErrAlreadyDelivered)
	}
	// A failure for good, told as any other (the attempts before this one
	// name it).
	now, reason := w.cfg.Now().UTC(), err.Error()
	e := outbound.DeliveryEvent(outbound.DeliveryFailed, ids.WorkspaceID, ids.FunnelID, ids.ID, len(d.Attempts), lifecycle.ReasonInvalidEvent, now)
	_, rerr := w.store.Record(ctx, key, owner, store.Change{Status: lifecycle.StatusFailed,
		ReasonCode: lifecycle.ReasonInvalidEvent, Reason: reason, Tell: w.teller.Pending(e),
		Attempt: &store.Attempt{At: now, Outcome: lifecycle.StatusFailed, ReasonCode: lifecycle.ReasonInvalidEvent, Reason: reason}})
	if rerr != nil {
		// The claim was lost or the table failed: the message comes back.
		w.cfg.Logger.WarnContext(ctx, "worker: record", "error", rerr.Error(), "state", string(lifecycle.StatusFailed))
		return false
	}
	w.cfg.Logger.InfoContext(ctx, "delivery", "event_id", ids.ID, "workspace", ids.WorkspaceID, "funnel", ids.FunnelID,
		"state", lifecycle.StatusFailed, "reason_code", lifecycle.ReasonInvalidEvent)
	w.metrics.Count(metrics.Failed)
	_ = w.teller.Tell(ctx, e)
	return true
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

// backoff is the delay before retry n (1-based).
func (w *Worker) backoff(n int) time.Duration {
	lo, hi := backoff.Range(w.cfg.BaseBackoff, w.cfg.MaxBackoff, n)
	return lo + time.Duration(w.cfg.Rand(int64(hi-lo)+1))
}

// jitter is up to a second more, so that copies woken together do not
// arrive together.
func (w *Worker) jitter() time.Duration { return time.Duration(1+w.cfg.Rand(1000)) * time.Millisecond }

// newToken names a claim's owner or a delayed copy.
func (w *Worker) newToken() string { return token(w.cfg.Rand) }

func token(r func(int64) int64) string {
	return fmt.Sprintf("%08x%08x", r(1<<32), r(1<<32))
}

// sleep waits d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
