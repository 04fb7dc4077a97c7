package queue_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/emulator"
	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
)

func newQueue(t *testing.T, def queue.Definition) (*queue.Queue, *queue.Queue) {
	t.Helper()
	c := awsclient.SQS(emulator.Kumo(t))
	url, dlq, err := queue.Create(t.Context(), c, def)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	return queue.New(c, url), queue.New(c, dlq)
}

func TestSendReceiveDelete(t *testing.T) {
	q, _ := newQueue(t, settings.Default().QueueDefinition(emulator.Name("events")))
	ctx := t.Context()
	if err := q.Send(ctx, queue.Message{ID: "evt_1", Group: "ws_a", Body: []byte(`{"id":"evt_1"}`)}); err != nil {
		t.Fatal(err)
	}
	var batch []queue.Message
	for i := range 10 {
		batch = append(batch, queue.Message{ID: fmt.Sprintf("evt_b%d", i), Group: fmt.Sprintf("ws_%d", i%3), Body: []byte(fmt.Sprintf(`{"id":"evt_b%d"}`, i))})
	}
	failed, err := q.SendBatch(ctx, batch)
	if err != nil || len(failed) != 0 {
		t.Fatalf("batch: %v, %v", failed, err)
	}
	if _, err := q.SendBatch(ctx, append(batch, batch[0])); !errors.Is(err, failure.ErrInvalid) {
		t.Errorf("a batch of 11: %v, want invalid", err)
	}
	seen := map[string]bool{}
	for tries := 0; len(seen) < 11 && tries < 10; tries++ {
		msgs, err := q.Receive(ctx, 10, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			seen[string(m.Body)] = true
			if m.ReceiveCount != 1 || m.SentAt.IsZero() {
				t.Errorf("message %+v: receive count or sent time missing", m)
			}
			if err := q.Delete(ctx, m.ReceiptHandle); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(seen) != 11 {
		t.Errorf("received %d of 11", len(seen))
	}
	if msgs, _ := q.Receive(ctx, 10, 0); len(msgs) != 0 {
		t.Errorf("deleted messages came back: %d", len(msgs))
	}
}

func TestDeferAndDeadLetter(t *testing.T) {
	def := queue.Definition{Name: emulator.Name("events"), VisibilityTimeout: time.Second, MaxReceiveCount: 2, Retention: time.Hour, DLQRetention: time.Hour}
	q, dlq := newQueue(t, def)
	ctx := t.Context()
	if err := q.Send(ctx, queue.Message{Group: "ws_a", Body: []byte("poison")}); err != nil {
		t.Fatal(err)
	}
	// Deferred: invisible for 2 s, then back.
	msgs, err := q.Receive(ctx, 1, time.Second)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("receive: %v, %v", msgs, err)
	}
	if err := q.Defer(ctx, msgs[0].ReceiptHandle, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if again, _ := q.Receive(ctx, 1, 0); len(again) != 0 {
		t.Fatal("a deferred message came back at once")
	}
	deadline := time.Now().Add(10 * time.Second)
	var second []queue.Received
	for len(second) == 0 && time.Now().Before(deadline) {
		second, _ = q.Receive(ctx, 1, time.Second)
	}
	if len(second) != 1 || second[0].ReceiveCount != 2 {
		t.Fatalf("after the deferral: %+v", second)
	}
	// Not deleted twice: the third receive moves it to the dead-letter queue.
	var dead []queue.Received
	for len(dead) == 0 && time.Now().Before(deadline.Add(10*time.Second)) {
		if m, _ := q.Receive(ctx, 1, time.Second); len(m) != 0 {
			t.Fatalf("received a third time: %+v", m)
		}
		dead, _ = dlq.Receive(ctx, 1, 0)
	}
	if len(dead) != 1 || string(dead[0].Body) != "poison" {
		t.Fatalf("dead-letter queue holds %+v", dead)
	}
}

func TestMissingQueue(t *testing.T) {
	cfg := emulator.Kumo(t)
	q := queue.New(awsclient.SQS(cfg), *cfg.BaseEndpoint+"/000000000000/"+emulator.Name("missing"))
	if _, err := q.Receive(t.Context(), 1, 0); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("receive on a missing queue: %v, want not found", err)
	}
	if err := q.Send(t.Context(), queue.Message{Body: []byte("x")}); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("send to a missing queue: %v, want not found", err)
	}
}

// TestSizeLimit: a message over SQS's limit, its attributes counted, is
// refused before it is sent.
func TestSizeLimit(t *testing.T) {
	q, _ := newQueue(t, settings.Default().QueueDefinition(emulator.Name("events")))
	body := bytes.Repeat([]byte("x"), queue.MaxMessage-len("defer_token")-len("String")-16)
	ok := queue.Message{Body: body, Attributes: map[string]string{"defer_token": "0123456789abcdef"}}
	if ok.Size() != queue.MaxMessage {
		t.Fatalf("size %d", ok.Size())
	}
	if err := q.Send(t.Context(), ok); err != nil {
		t.Errorf("a message of exactly the limit: %v", err)
	}
	over := queue.Message{Body: body, Attributes: map[string]string{"defer_token": "0123456789abcdef0"}}
	if err := q.Send(t.Context(), over); !errors.Is(err, failure.ErrInvalid) || !strings.Contains(err.Error(), "SQS takes at most 262144") {
		t.Errorf("a message one byte over: %v", err)
	}
}
