// Command api is the editor API Lambda behind API Gateway (HTTP API, JWT
// authorizer). It only wires: configuration, clients built once at cold
// start, and the router.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/editor"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/store"
	"github.com/funnel-personio/funnel-personio/pkg/vault"
)

func main() {
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	ctx := context.Background()
	cfg, err := awsclient.Load(ctx)
	if err != nil {
		log.Error("api: aws config", "error", err.Error())
		os.Exit(1)
	}
	sm := awsclient.SecretsManager(cfg)
	s, err := settings.FromEnv(ctx, sm, "TABLE_NAME", "QUEUE_URL", "HASH_KEY")
	if err != nil {
		log.Error("api: settings", "error", err.Error())
		os.Exit(1)
	}
	pc, err := s.PersonioClient()
	if err != nil {
		log.Error("api: personio client", "error", err.Error())
		os.Exit(1)
	}
	ed := editor.New(editor.Config{Plans: s.Plans, HashKey: s.HashKey, Logger: log},
		store.New(awsclient.DynamoDB(cfg), s.Table, store.WithRetention(s.Retention)),
		vault.New(sm, s.SecretPrefix), pc, queue.New(awsclient.SQS(cfg), s.QueueURL))
	router, err := ed.Router()
	if err != nil {
		log.Error("api: router", "error", err.Error())
		os.Exit(1)
	}
	lambda.Start(router.Serve)
}
