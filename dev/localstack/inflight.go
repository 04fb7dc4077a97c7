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
	next     http.Handler
	mu       sync.Mutex
	byID     map[string]heldMessage // message id → the message, as last received
	byHandle map[string]string      // receipt handle → message id
}

// heldMessage is a received message as the SQS JSON protocol returns it.
type heldMessage struct {
	queueURL   string
	Body       string                                 `json:"Body"`
	Attributes map[string]string                      `json:"Attributes"`
	MsgAttrs   map[string]types.MessageAttributeValue `json:"MessageAttributes"`
	Handle     string                                 `json:"ReceiptHandle"`
	ID         string                                 `json:"MessageId"`
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
	return &inflight{next: next, byID: map[string]heldMessage{}, byHandle: map[string]string{}}
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
		f.forget(req.ReceiptHandle)
		for _, e := range req.Entries {
			f.forget(e.ReceiptHandle)
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
			if old, ok := f.byID[m.ID]; ok { // received again: the old handle is void
				delete(f.byHandle, old.Handle)
			}
			f.byID[m.ID], f.byHandle[m.Handle] = m, m.ID
		}
		f.mu.Unlock()
	}
}

// forget drops a deleted message. The caller holds f.mu.
func (f *inflight) forget(handle string) {
	if id, ok := f.byHandle[handle]; ok {
		delete(f.byHandle, handle)
		delete(f.byID, id)
	}
}

// putBack puts every message still in flight back on its queue: the one
// in flight is deleted and, if it was still there, sent again with its
// body, attributes and group. Its receive count starts again at 0.
func (f *inflight) putBack(ctx context.Context, client *sqs.Client) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, m := range f.byID {
		f.forget(m.Handle)
		if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(m.queueURL), ReceiptHandle: aws.String(m.Handle)}); err != nil {
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
