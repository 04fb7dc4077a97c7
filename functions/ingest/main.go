// Command ingest is the Lambda behind POST /v1/events: signed application
// events from the funnel platform onto the queue. It only wires.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/ingest"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/store"
	"github.com/funnel-personio/funnel-personio/pkg/webhook"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	ctx := context.Background()
	cfg, err := awsclient.Load(ctx)
	if err != nil {
		log.Error("ingest: aws config", "error", err.Error())
		os.Exit(1)
	}
	s, err := settings.FromEnv(ctx, awsclient.SecretsManager(cfg), "TABLE_NAME", "QUEUE_URL", "HASH_KEY", "WEBHOOK_SECRETS")
	if err != nil {
		log.Error("ingest: settings", "error", err.Error())
		os.Exit(1)
	}
	v, err := webhook.NewVerifier(s.SigningSecrets)
	if err != nil {
		log.Error("ingest: signing secrets", "error", err.Error())
		os.Exit(1)
	}
	h := ingest.New(v, store.New(awsclient.DynamoDB(cfg), s.Table, store.WithRetention(s.Retention)),
		queue.New(awsclient.SQS(cfg), s.QueueURL), s.HashKey, log)
	lambda.Start(h.Handle)
}
