package localstack

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// inflight remembers the SQS messages the emulator handed out and that
// were not deleted yet. kumo saves the messages waiting in a queue but not
// those in flight, so a stop would lose every message a worker holds;
// real SQS gives them back after their visibility timeout. On a clean
// stop, putBack puts them back on their queues.
type inflight struct {
	next http.Handler
	mu   sync.Mutex
	msgs map[string]heldMessage // receipt handle → message
}

// heldMessage is a received message as the SQS JSON protocol returns it.
type heldMessage struct {
	queueURL   string
	Body       string                                 `json:"Body"`
	Attributes map[string]string                      `json:"Attributes"`
	MsgAttrs   map[string]types.MessageAttributeValue `json:"MessageAttributes"`
	Handle     string                                 `json:"ReceiptHandle"`
}

// sqsRequest holds the request fields inflight reads.
type sqsRequest struct {
	QueueURL      string `json:"QueueUrl"`
	ReceiptHandle string `json:"ReceiptHandle"`
	Entries       []struct {
		ReceiptHandle string `json:"ReceiptHandle"`
	} `json:"Entries"`
}

func newInflight(next http.Handler) *inflight {
	return &inflight{next: next, msgs: map[string]heldMessage{}}
}

// ServeHTTP passes every request on and follows SQS receives and deletes.
func (f *inflight) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := r.Header.Get("X-Amz-Target")
	switch op {
	case "AmazonSQS.ReceiveMessage", "AmazonSQS.DeleteMessage", "AmazonSQS.DeleteMessageBatch":
	default:
		f.next.ServeHTTP(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	var req sqsRequest
	_ = json.Unmarshal(body, &req)
	if op != "AmazonSQS.ReceiveMessage" {
		f.mu.Lock()
		delete(f.msgs, req.ReceiptHandle)
		for _, e := range req.Entries {
			delete(f.msgs, e.ReceiptHandle)
		}
		f.mu.Unlock()
		f.next.ServeHTTP(w, r)
		return
	}
	rec := &capture{ResponseWriter: w}
	f.next.ServeHTTP(rec, r)
	var resp struct{ Messages []heldMessage }
	if json.Unmarshal(rec.body.Bytes(), &resp) == nil {
		f.mu.Lock()
		for _, m := range resp.Messages {
			m.queueURL = req.QueueURL
			f.msgs[m.Handle] = m
		}
		f.mu.Unlock()
	}
}

// putBack puts every message still in flight back on its queue: the one
// in flight is deleted and, if it was still there, sent again with its
// body, attributes and group. Its receive count starts again at 0.
func (f *inflight) putBack(ctx context.Context, client *sqs.Client) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for h, m := range f.msgs {
		delete(f.msgs, h)
		if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(m.queueURL), ReceiptHandle: aws.String(h)}); err != nil {
			continue // no longer in flight: back on the queue, or in the DLQ
		}
		in := &sqs.SendMessageInput{QueueUrl: aws.String(m.queueURL), MessageBody: aws.String(m.Body), MessageAttributes: m.MsgAttrs}
		if g := m.Attributes["MessageGroupId"]; g != "" {
			in.MessageGroupId = aws.String(g)
		}
		if _, err := client.SendMessage(ctx, in); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// capture passes an answer through and keeps a copy of its body.
type capture struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (c *capture) Write(p []byte) (int, error) {
	c.body.Write(p)
	return c.ResponseWriter.Write(p)
}
