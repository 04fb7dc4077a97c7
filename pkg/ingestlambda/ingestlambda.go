// Package ingestlambda builds the ingest function from its settings: the
// one wiring that functions/ingest and the local stack share. It links
// neither the Personio client nor the mapping.
package ingestlambda

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/ingest"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/webhook"
)

// Required are the variables ingest cannot start without.
var Required = []string{settings.VarTable, settings.VarQueueURL, settings.VarHashKey, settings.VarSigning}

// New builds the ingest handler on the AWS configuration: the signature
// check with the signing secrets, the store and the queue.
func New(awsCfg aws.Config, s settings.Settings, log *slog.Logger) (*ingest.Handler, error) {
	v, err := webhook.NewVerifier(s.SigningSecrets)
	if err != nil {
		return nil, err
	}
	return ingest.New(ingest.Config{HashKey: s.HashKey, MaxFiles: s.MaxFiles(), Budget: s.RateBudget(), CacheTTL: s.CacheTTL, Logger: log}, v,
		s.OpenStore(awsclient.DynamoDB(awsCfg)), queue.New(awsclient.SQS(awsCfg), s.QueueURL)), nil
}

// FromEnvironment is what the Lambda does at cold start: settings.Load,
// then New.
func FromEnvironment(ctx context.Context, log *slog.Logger) (*ingest.Handler, error) {
	awsCfg, s, err := settings.Load(ctx, Required...)
	if err != nil {
		return nil, err
	}
	return New(awsCfg, s, log)
}
