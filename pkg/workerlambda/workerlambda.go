// Package workerlambda builds the worker function from its settings: the
// one wiring that functions/worker and the local stack share, so that a
// local run and AWS cannot differ in how the worker is put together.
package workerlambda

import (
	"context"
	"io"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/delivery"
	"github.com/funnel-personio/funnel-personio/pkg/filefetch"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/vault"
)

// Required are the variables the worker cannot start without.
var Required = []string{settings.VarTable, settings.VarQueueURL, settings.VarHashKey, settings.VarFileHosts}

// Options are what the caller supplies besides the settings.
type Options struct {
	// Logger receives the worker's log lines.
	Logger *slog.Logger
	// Metrics receives its Embedded Metric Format lines (default stdout).
	Metrics io.Writer
}

// Config is the worker's configuration under these settings.
func Config(s settings.Settings, o Options) delivery.Config {
	return delivery.Config{Budget: s.RateBudget(), RateLimitPause: s.RateLimitPause, Lease: s.Lease(),
		MaxReceiveCount: s.MaxReceiveCount, BaseBackoff: s.RetryBase, MaxBackoff: s.RetryMax, CacheTTL: s.CacheTTL, Transfers: s.FileTransfers,
		DeadlineMargin: s.DeadlineMargin(),
		HashKey:        s.HashKey, Logger: o.Logger, Metrics: o.Metrics}
}

// New builds the worker on the AWS configuration: its store, vault,
// queue, Personio client and file fetcher.
func New(awsCfg aws.Config, s settings.Settings, o Options) (*delivery.Worker, error) {
	pc, err := personio.NewClient(personio.WithBaseURL(s.PersonioBaseURL), personio.WithFeedURL(s.PersonioFeedURL),
		personio.WithTimeout(s.PersonioTimeout))
	if err != nil {
		return nil, err
	}
	files := filefetch.New(filefetch.Config{HostSuffixes: s.FileHosts, Insecure: s.AllowInsecure, Timeout: s.FileTimeout})
	cfg := Config(s, o)
	if s.NotifyQueueURL != "" {
		cfg.Notify = outbound.NewPublisher(queue.New(awsclient.SQS(awsCfg), s.NotifyQueueURL))
	}
	return delivery.NewWorker(cfg, s.OpenStore(awsclient.DynamoDB(awsCfg)),
		vault.New(awsclient.SecretsManager(awsCfg), s.SecretPrefix), pc, queue.New(awsclient.SQS(awsCfg), s.QueueURL), files)
}

// FromEnvironment is what the Lambda does at cold start: settings.Load,
// then New.
func FromEnvironment(ctx context.Context, o Options) (*delivery.Worker, error) {
	awsCfg, s, err := settings.Load(ctx, Required...)
	if err != nil {
		return nil, err
	}
	return New(awsCfg, s, o)
}
