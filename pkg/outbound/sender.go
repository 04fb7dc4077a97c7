package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/funnel-personio/funnel-personio/pkg/backoff"
	"github.com/funnel-personio/funnel-personio/pkg/explain"
	"github.com/funnel-personio/funnel-personio/pkg/webhook"
)

// Deferrer hides a message until it is to be tried again.
type Deferrer interface {
	Defer(ctx context.Context, receiptHandle string, d time.Duration) error
}

// SenderConfig configures the notifier.
type SenderConfig struct {
	// Endpoint is where the platform takes events (one per deployment).
	Endpoint string
	// Secrets sign every event (each adds a signature, for rotation).
	Secrets []string
	// Timeout bounds one post.
	Timeout time.Duration
	// RetryBase and RetryMax bound the delays between tries (doubling,
	// with equal jitter, pkg/backoff); the queue's receive count bounds the tries.
	RetryBase, RetryMax time.Duration
	// HTTPClient posts (default: a client of its own).
	HTTPClient *http.Client
	Now        func() time.Time
	Logger     *slog.Logger
}

// Sender posts events from the outbound queue to the platform.
type Sender struct {
	cfg   SenderConfig
	queue Deferrer
}

// NewSender returns the notifier's handler.
func NewSender(cfg SenderConfig, q Deferrer) (*Sender, error) {
	switch {
	case cfg.Endpoint == "":
		return nil, errors.New("outbound: no endpoint")
	case len(cfg.Secrets) == 0:
		return nil, errors.New("outbound: no signing secret")
	case cfg.Timeout <= 0 || cfg.RetryBase <= 0 || cfg.RetryMax < cfg.RetryBase:
		return nil, errors.New("outbound: set Timeout, RetryBase and RetryMax")
	}
	if _, err := webhook.NewVerifier(cfg.Secrets); err != nil {
		return nil, fmt.Errorf("outbound: %w", err)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Sender{cfg: cfg, queue: q}, nil
}

// Handle posts one SQS batch of events and reports those to try again
// (hidden for a backoff first); one that can never be read goes on to the
// dead-letter queue by the receive count.
func (s *Sender) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, rec := range ev.Records {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.handle(ctx, rec) {
				return
			}
			mu.Lock()
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
			mu.Unlock()
		}()
	}
	wg.Wait()
	return resp, nil
}

func (s *Sender) handle(ctx context.Context, rec events.SQSMessage) bool {
	var e Event
	if err := json.Unmarshal([]byte(rec.Body), &e); err != nil || e.ID == "" || e.Type == "" {
		s.cfg.Logger.ErrorContext(ctx, "notifier: unreadable event, left for the dead-letter queue", "message_id", rec.MessageId)
		return false
	}
	log := s.cfg.Logger.With("webhook_id", e.ID, "type", string(e.Type), "workspace", e.WorkspaceID)
	en, de := explain.Both(e.ReasonCode)
	e.Message = &Message{EN: en, DE: de}
	err := s.post(ctx, e)
	if err == nil {
		log.InfoContext(ctx, "notifier: sent", "state", "sent")
		return true
	}
	attempt, _ := strconv.Atoi(rec.Attributes["ApproximateReceiveCount"])
	wait := backoff.Delay(s.cfg.RetryBase, s.cfg.RetryMax, attempt)
	log.WarnContext(ctx, "notifier: not sent, tried again later", "state", "retrying", "attempt", attempt, "retry_in", wait.String(), "error", err.Error())
	if derr := s.queue.Defer(ctx, rec.ReceiptHandle, wait); derr != nil {
		log.WarnContext(ctx, "notifier: defer", "error", derr.Error())
	}
	return false
}

// post sends one event, signed; any answer but 2xx is a failure.
func (s *Sender) post(ctx context.Context, e Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	h, err := webhook.SignAll(s.cfg.Secrets, e.ID, s.cfg.Now(), body)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.cfg.Endpoint, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("outbound: post: %w", err)
	}
	req.Header = h
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("outbound: post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("outbound: the endpoint answered %d", resp.StatusCode)
	}
	return nil
}
