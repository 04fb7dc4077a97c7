// Command worker is the Lambda fed by the SQS event source (with
// ReportBatchItemFailures): it maps each application event, uploads its
// files and creates it in Personio. It only wires.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/delivery"
	"github.com/funnel-personio/funnel-personio/pkg/filefetch"
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
		log.Error("worker: aws config", "error", err.Error())
		os.Exit(1)
	}
	sm := awsclient.SecretsManager(cfg)
	s, err := settings.FromEnv(ctx, sm, "TABLE_NAME", "QUEUE_URL", "HASH_KEY", "FILE_HOSTS")
	if err != nil {
		log.Error("worker: settings", "error", err.Error())
		os.Exit(1)
	}
	pc, err := s.PersonioClient()
	if err != nil {
		log.Error("worker: personio client", "error", err.Error())
		os.Exit(1)
	}
	w := delivery.NewWorker(delivery.Config{HashKey: s.HashKey, Logger: log},
		store.New(awsclient.DynamoDB(cfg), s.Table, store.WithRetention(s.Retention)), vault.New(sm, s.SecretPrefix), pc,
		queue.New(awsclient.SQS(cfg), s.QueueURL), filefetch.New(filefetch.Config{HostSuffixes: s.FileHosts, Insecure: s.AllowInsecure}))
	lambda.Start(w.Handle)
}
