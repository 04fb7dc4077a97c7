// Package queue carries application events on SQS: sending one or a batch
// (grouped by workspace, so a noisy workspace cannot starve quiet ones on a
// fair queue), receiving for the local event source, deferring by changing
// a message's visibility, and deleting. The queue and dead-letter queue are
// defined once, in Definition, for the CDK stack and the local stack.
package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
)

// SQS is the part of the SQS client the queue uses.
type SQS interface {
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	SendMessageBatch(context.Context, *sqs.SendMessageBatchInput, ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	ChangeMessageVisibility(context.Context, *sqs.ChangeMessageVisibilityInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	DeleteMessage(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

var _ SQS = (*sqs.Client)(nil)

// Definition is the queue pair's configuration (settings.QueueDefinition
// gives the deployment's).
type Definition struct {
	// Name of the queue; the dead-letter queue is Name + "-dlq".
	Name string
	// VisibilityTimeout is at least 6× the worker's timeout (AWS's advice
	// for Lambda event sources).
	VisibilityTimeout time.Duration
	// MaxReceiveCount is how many receives a message gets before it moves
	// to the dead-letter queue.
	MaxReceiveCount int
	// Retention of messages in the queue and the dead-letter queue.
	Retention    time.Duration
	DLQRetention time.Duration
}

// DLQName is the dead-letter queue's name.
func (d Definition) DLQName() string { return d.Name + "-dlq" }

// SQS's limits on delays: a message's delivery delay and a message's
// visibility timeout.
const (
	MaxDelay      = 15 * time.Minute
	MaxVisibility = 12 * time.Hour
)

// MaxMessage is the largest message SQS takes: its body and its message
// attributes (names, types and values) together.
const MaxMessage = 256 << 10

// Size is the message's size as SQS counts it against MaxMessage.
func (m Message) Size() int {
	n := len(m.Body)
	for k, v := range m.Attributes {
		n += len(k) + len(attributeType) + len(v)
	}
	return n
}

// attributeType is the data type of every message attribute sent.
const attributeType = "String"

// Message is one event to send.
type Message struct {
	// ID names the message within a batch (the event id).
	ID string
	// Group is the workspace: the fair-queue tenant.
	Group string
	Body  []byte
	// Delay postpones delivery (up to 15 minutes).
	Delay time.Duration
	// Attributes are string message attributes.
	Attributes map[string]string
}

// Queue is one SQS queue.
type Queue struct {
	sqs SQS
	url string
}

// New returns the queue at url.
func New(c SQS, url string) *Queue { return &Queue{sqs: c, url: url} }

// URL is the queue's URL.
func (q *Queue) URL() string { return q.url }

// Send sends one message. A message over MaxMessage is refused before
// it is sent (failure.ErrInvalid), as SQS would.
func (q *Queue) Send(ctx context.Context, m Message) error {
	if n := m.Size(); n > MaxMessage {
		return failure.New("queue: send", failure.Invalid, fmt.Errorf("the message is %d bytes with its attributes; SQS takes at most %d", n, MaxMessage))
	}
	_, err := q.sqs.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(q.url), MessageBody: aws.String(string(m.Body)),
		MessageGroupId: groupID(m.Group), DelaySeconds: delay(m.Delay), MessageAttributes: attributes(m.Attributes),
	})
	return failure.Classify("queue: send", err)
}

// SendBatch sends up to 10 messages and returns the ids of those SQS did
// not take, with why; err is for the call as a whole.
func (q *Queue) SendBatch(ctx context.Context, ms []Message) (map[string]error, error) {
	const op = "queue: send batch"
	if len(ms) == 0 {
		return nil, nil
	}
	if len(ms) > 10 {
		return nil, failure.New(op, failure.Invalid, fmt.Errorf("%d messages; SQS takes at most 10 a batch", len(ms)))
	}
	in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url)}
	for i, m := range ms {
		in.Entries = append(in.Entries, types.SendMessageBatchRequestEntry{
			Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(string(m.Body)),
			MessageGroupId: groupID(m.Group), DelaySeconds: delay(m.Delay), MessageAttributes: attributes(m.Attributes),
		})
	}
	out, err := q.sqs.SendMessageBatch(ctx, in)
	if err != nil {
		return nil, failure.Classify(op, err)
	}
	failed := map[string]error{}
	for _, f := range out.Failed {
		i, _ := strconv.Atoi(aws.ToString(f.Id))
		if i < 0 || i >= len(ms) {
			continue
		}
		kind := failure.Transient
		if f.SenderFault {
			kind = failure.Invalid
		}
		failed[ms[i].ID] = failure.New(op, kind, errors.New(aws.ToString(f.Code)+": "+aws.ToString(f.Message)))
	}
	return failed, nil
}

// Received is a message taken from the queue.
type Received struct {
	ID            string
	ReceiptHandle string
	Body          []byte
	// ReceiveCount is how many times SQS has handed the message out.
	ReceiveCount int
	SentAt       time.Time
	// Attributes are SQS's system attributes; MessageAttributes the
	// sender's.
	Attributes        map[string]string
	MessageAttributes map[string]string
}

// Receive long-polls for up to n messages (1 to 10), waiting at most
// wait.
func (q *Queue) Receive(ctx context.Context, n int, wait time.Duration) ([]Received, error) {
	out, err := q.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(q.url), MaxNumberOfMessages: int32(min(max(n, 1), 10)),
		WaitTimeSeconds:             int32(wait / time.Second),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		return nil, failure.Classify("queue: receive", err)
	}
	res := make([]Received, 0, len(out.Messages))
	for _, m := range out.Messages {
		r := Received{ID: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: []byte(aws.ToString(m.Body)), Attributes: m.Attributes}
		for k, v := range m.MessageAttributes {
			if v.StringValue != nil {
				if r.MessageAttributes == nil {
					r.MessageAttributes = map[string]string{}
				}
				r.MessageAttributes[k] = *v.StringValue
			}
		}
		r.ReceiveCount, _ = strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
		if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
			r.SentAt = time.UnixMilli(ms)
		}
		res = append(res, r)
	}
	return res, nil
}

// Defer hides a received message for d (at most 12 hours), so it comes
// back when the rate budget does.
func (q *Queue) Defer(ctx context.Context, receiptHandle string, d time.Duration) error {
	secs := int32(min(max(d, 0), MaxVisibility) / time.Second)
	_, err := q.sqs.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(q.url), ReceiptHandle: aws.String(receiptHandle), VisibilityTimeout: secs,
	})
	return failure.Classify("queue: defer", err)
}

// Delete removes a handled message.
func (q *Queue) Delete(ctx context.Context, receiptHandle string) error {
	_, err := q.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: aws.String(receiptHandle)})
	return failure.Classify("queue: delete", err)
}

func groupID(g string) *string {
	if g == "" {
		return nil
	}
	return aws.String(g)
}

// delay rounds up to whole seconds, so a message never comes back early.
func delay(d time.Duration) int32 {
	d = min(max(d, 0), MaxDelay)
	return int32((d + time.Second - 1) / time.Second)
}

func attributes(m map[string]string) map[string]types.MessageAttributeValue {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]types.MessageAttributeValue, len(m))
	for k, v := range m {
		out[k] = types.MessageAttributeValue{DataType: aws.String(attributeType), StringValue: aws.String(v)}
	}
	return out
}
