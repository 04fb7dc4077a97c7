package localstack

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/funnel-personio/funnel-personio/pkg/queue"
)

// SQSHandler is a Lambda handler for SQS events with partial batch
// failures.
type SQSHandler func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// Poller plays the Lambda SQS event source mapping: it long-polls the
// queue, hands batches to the handler, deletes what succeeded and leaves
// reported failures to their visibility timeout (the queue's redrive
// policy moves what exceeds the receive limit to the DLQ).
type Poller struct {
	Queue     *queue.Queue
	Handler   SQSHandler
	BatchSize int           // default 10
	Wait      time.Duration // long-poll wait (default 1 s)
	Pollers   int           // concurrent pollers (0: defaultPollers)
	Log       *slog.Logger
	// Crash, if set, is the context of the batches in hand: when it ends
	// they are abandoned where they are and nothing of them is deleted,
	// as when the process dies (see Stack.Kill). Without it batches are
	// finished even after Run's context ends.
	Crash context.Context
	// Received, if set, counts the messages received.
	Received *atomic.Int64
}

// defaultPollers is how many pollers feed a worker unless told.
const defaultPollers = 2

// pollers is n, or defaultPollers for 0 or less.
func pollers(n int) int {
	if n <= 0 {
		return defaultPollers
	}
	return n
}

// Run polls until ctx ends; a batch being handled is finished first, so
// stopping loses nothing.
func (p *Poller) Run(ctx context.Context) {
	n := pollers(p.Pollers)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if err := p.Once(ctx); err != nil && ctx.Err() == nil {
					p.Log.Warn("poller: receive", "error", err.Error())
					time.Sleep(time.Second)
				}
			}
		}()
	}
	wg.Wait()
}

// Once receives one batch and hands it over.
func (p *Poller) Once(ctx context.Context) error {
	size := p.BatchSize
	if size <= 0 {
		size = 10
	}
	wait := p.Wait
	if wait <= 0 {
		wait = time.Second
	}
	msgs, err := p.Queue.Receive(ctx, size, wait)
	if err != nil || len(msgs) == 0 {
		return err
	}
	if p.Received != nil {
		p.Received.Add(int64(len(msgs)))
	}
	ev := events.SQSEvent{}
	for _, m := range msgs {
		attrs := map[string]events.SQSMessageAttribute{}
		for k, v := range m.MessageAttributes {
			attrs[k] = events.SQSMessageAttribute{StringValue: &v, DataType: "String"}
		}
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: m.ID, ReceiptHandle: m.ReceiptHandle, Body: string(m.Body),
			Attributes:        map[string]string{"ApproximateReceiveCount": strconv.Itoa(m.ReceiveCount), "SentTimestamp": strconv.FormatInt(m.SentAt.UnixMilli(), 10)},
			MessageAttributes: attrs, EventSource: "aws:sqs"})
	}
	// The batch is handled to the end even when ctx is cancelled (Ctrl-C),
	// unless the process "crashes".
	hctx := context.WithoutCancel(ctx)
	if p.Crash != nil {
		hctx = p.Crash
	}
	resp, err := p.Handler(hctx, ev)
	if err != nil || hctx.Err() != nil {
		return nil // the whole batch comes back after its visibility timeout
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	for _, m := range msgs {
		if !failed[m.ID] {
			if err := p.Queue.Delete(context.WithoutCancel(ctx), m.ReceiptHandle); err != nil {
				p.Log.Warn("poller: delete", "error", err.Error())
			}
		}
	}
	return nil
}
