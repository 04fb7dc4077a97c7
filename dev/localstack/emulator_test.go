package localstack_test

import (
	"context"
	"net"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/funnel-personio/funnel-personio/dev/emulator"
	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
)

// serveEmulator runs ServeEmulator on a free port; stop ends it and waits.
func serveEmulator(t *testing.T) (client *sqs.Client, stop func()) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- localstack.ServeEmulator(ctx, ln) }()
	stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ServeEmulator: %v", err)
		}
	}
	t.Cleanup(func() {
		if ctx.Err() == nil {
			stop()
		}
	})
	return awsclient.SQS(emulator.Config("http://" + ln.Addr().String())), stop
}

// TestEmulatorStopKeepsMessagesInFlight: a message a worker holds when
// the emulator stops is back on its queue afterwards, with its body and
// attributes (kumo alone would drop it); a deleted one is not. (kumo does
// not return a standard queue's MessageGroupId, so the group is kept only
// where the emulator names it.)
func TestEmulatorStopKeepsMessagesInFlight(t *testing.T) {
	ctx := context.Background()
	client, stop := serveEmulator(t)
	q, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(emulator.Name("held"))})
	if err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"held", "deleted"} {
		if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(body), MessageGroupId: aws.String("ws_1"),
			MessageAttributes: map[string]types.MessageAttributeValue{"defer_token": {DataType: aws.String("String"), StringValue: aws.String("t-" + body)}}}); err != nil {
			t.Fatal(err)
		}
	}
	all := []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll} // as the worker's poller asks
	got, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 600,
		MessageAttributeNames: []string{"All"}, MessageSystemAttributeNames: all})
	if err != nil || len(got.Messages) != 2 {
		t.Fatalf("receive: %v, %d messages", err, len(got.Messages))
	}
	for _, m := range got.Messages {
		if *m.Body == "deleted" {
			if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: q.QueueUrl, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	stop()
	client, _ = serveEmulator(t)
	again, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
		MessageAttributeNames: []string{"All"}, MessageSystemAttributeNames: all})
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Messages) != 1 {
		t.Fatalf("after the stop: %d messages, want the one held", len(again.Messages))
	}
	m := again.Messages[0]
	if *m.Body != "held" || aws.ToString(m.MessageAttributes["defer_token"].StringValue) != "t-held" {
		t.Errorf("put back as body %q, defer_token %q", *m.Body, aws.ToString(m.MessageAttributes["defer_token"].StringValue))
	}
}
