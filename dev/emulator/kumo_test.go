package emulator_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/funnel-personio/funnel-personio/dev/burst"
	"github.com/funnel-personio/funnel-personio/dev/emulator"
)

// TestKumoHandlerIsDirect: NewKumo hands out kumo's own handler, not the
// reverse proxy it falls back to when kumo no longer holds the handler
// where v0.33.1 does, and that handler serves requests sent to another
// server's address (the emulator's).
func TestKumoHandlerIsDirect(t *testing.T) {
	k, h := emulator.NewKumo()
	defer k.Close()
	if _, proxied := h.(*httputil.ReverseProxy); proxied {
		t.Fatal("NewKumo fell back to a reverse proxy: kumo.Server no longer holds its httptest.Server in httpServer; see emulator.kumoHandler")
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx := context.Background()
	c := sqs.NewFromConfig(emulator.Config(srv.URL))
	name := emulator.Name("direct")
	created, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: created.QueueUrl, MessageBody: aws.String("m")}); err != nil {
		t.Fatal(err)
	}
	got, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: created.QueueUrl, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Messages) != 1 || aws.ToString(got.Messages[0].Body) != "m" {
		t.Errorf("received %+v, want the message sent", got.Messages)
	}
}

// TestConfigKeepsConnections: Config's clients keep a burst's connections
// for the next burst (the SDK's default keeps 10 a host and would open 40
// of 50 again for each burst after the first).
func TestConfigKeepsConnections(t *testing.T) {
	const size, bursts = 50, 4
	srv := burst.NewServer(size, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_, _ = w.Write([]byte(`{"QueueUrls":[]}`))
	})
	defer srv.Close()
	c := sqs.NewFromConfig(emulator.Config(srv.URL))
	burst.Send(bursts, size, func(int, int) {
		if _, err := c.ListQueues(context.Background(), &sqs.ListQueuesInput{}); err != nil {
			t.Error(err)
		}
	})
	if n := srv.Opened(); n > 2*size {
		t.Errorf("%d bursts of %d requests opened %d connections; want at most %d (a burst's connections kept for the next)", bursts, size, n, 2*size)
	}
}
