// Package watchlambda builds the watch function from its settings: run
// every tick by a schedule, it checks positions and credentials (package
// watch). The one wiring that functions/watch and the local stack share.
package watchlambda

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/confirm"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/vault"
	"github.com/funnel-personio/funnel-personio/pkg/watch"
)

// Required are the variables the watch cannot start without.
var Required = []string{settings.VarTable, settings.VarQueueURL}

// Config is the watch's configuration under these settings.
func Config(s settings.Settings, log *slog.Logger) watch.Config {
	return watch.Config{Interval: s.WatchInterval, HealthInterval: s.HealthInterval, Tick: s.WatchTick,
		Budget: s.RateBudget(), HealthKeep: s.HealthKeep(), FeedReaders: s.WatchFeedReaders(), FeedsPerWorkspace: s.WatchFeedsPerWorkspace(),
		StopBefore: s.PersonioTimeout, Logger: log}
}

// New builds the watch on the AWS configuration.
func New(awsCfg aws.Config, s settings.Settings, log *slog.Logger) (*watch.Watch, error) {
	pc, err := personio.NewClient(personio.WithBaseURL(s.PersonioBaseURL), personio.WithFeedURL(s.PersonioFeedURL),
		personio.WithTimeout(s.PersonioTimeout))
	if err != nil {
		return nil, err
	}
	var notify watch.Notifier
	if s.NotifyQueueURL != "" {
		notify = outbound.NewPublisher(queue.New(awsclient.SQS(awsCfg), s.NotifyQueueURL))
	}
	st, v := s.OpenStore(awsclient.DynamoDB(awsCfg)), vault.New(awsclient.SecretsManager(awsCfg), s.SecretPrefix)
	cfg := Config(s, log)
	cfg.Rechecker = confirm.NewRechecker(confirm.RecheckConfig{Checks: s.ConfirmChecks, HashKey: s.HashKey, Logger: log}, st, v, pc, notify)
	return watch.New(cfg, st, v, pc, queue.New(awsclient.SQS(awsCfg), s.QueueURL), notify)
}

// Handler runs the watch for a scheduled event.
func Handler(w *watch.Watch) func(context.Context, events.EventBridgeEvent) (watch.Report, error) {
	return func(ctx context.Context, _ events.EventBridgeEvent) (watch.Report, error) { return w.Run(ctx) }
}

// FromEnvironment is what the Lambda does at cold start: settings.Load,
// then New.
func FromEnvironment(ctx context.Context, log *slog.Logger) (*watch.Watch, error) {
	awsCfg, s, err := settings.Load(ctx, Required...)
	if err != nil {
		return nil, err
	}
	return New(awsCfg, s, log)
}
