// Package apilambda builds the editor API function from its settings: the
// one wiring that functions/api and the local stack share.
package apilambda

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/funnel-personio/funnel-personio/pkg/apigw"
	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/editor"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/vault"
)

// Required are the variables the API cannot start without.
var Required = []string{settings.VarTable, settings.VarQueueURL, settings.VarHashKey}

// Config is the editor's configuration under these settings.
func Config(s settings.Settings, log *slog.Logger) editor.Config {
	return editor.Config{Plans: s.Plans, HashKey: s.HashKey, Budget: s.RateBudget(), Checks: s.CheckBudget(), Tests: s.TestBudget(),
		ErasureMarkerTTL: s.ErasureMarkerTTL(), Logger: log}
}

// New builds the editor API's router on the AWS configuration: its store,
// vault, Personio client and queue.
func New(awsCfg aws.Config, s settings.Settings, log *slog.Logger) (*apigw.Router, error) {
	pc, err := personio.NewClient(personio.WithBaseURL(s.PersonioBaseURL), personio.WithFeedURL(s.PersonioFeedURL),
		personio.WithTimeout(s.PersonioTimeout))
	if err != nil {
		return nil, err
	}
	cfg := Config(s, log)
	if s.NotifyQueueURL != "" {
		cfg.Notify = outbound.NewPublisher(queue.New(awsclient.SQS(awsCfg), s.NotifyQueueURL))
	}
	ed, err := editor.New(cfg, s.OpenStore(awsclient.DynamoDB(awsCfg)),
		vault.New(awsclient.SecretsManager(awsCfg), s.SecretPrefix), pc, queue.New(awsclient.SQS(awsCfg), s.QueueURL))
	if err != nil {
		return nil, err
	}
	return ed.Router()
}

// FromEnvironment is what the Lambda does at cold start: settings.Load,
// then New.
func FromEnvironment(ctx context.Context, log *slog.Logger) (*apigw.Router, error) {
	awsCfg, s, err := settings.Load(ctx, Required...)
	if err != nil {
		return nil, err
	}
	return New(awsCfg, s, log)
}
