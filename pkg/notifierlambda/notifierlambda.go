// Package notifierlambda builds the notifier function from its settings:
// it posts the outbound queue's events to the funnel platform's endpoint.
// The one wiring that functions/notifier and the local stack share.
package notifierlambda

import (
	"context"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
)

// Required are the variables the notifier cannot start without.
var Required = []string{settings.VarNotifyURL, settings.VarNotifyQueueURL, settings.VarOutbound}

// New builds the notifier's handler on the AWS configuration.
func New(awsCfg aws.Config, s settings.Settings, log *slog.Logger) (*outbound.Sender, error) {
	return outbound.NewSender(outbound.SenderConfig{Endpoint: s.NotifyURL, Secrets: s.OutboundSecrets, Timeout: s.NotifyTimeout,
		RetryBase: s.NotifyRetryBase, RetryMax: s.NotifyRetryMax, Logger: log}, queue.New(awsclient.SQS(awsCfg), s.NotifyQueueURL))
}

// FromEnvironment is what the Lambda does at cold start: settings.Load,
// then New.
func FromEnvironment(ctx context.Context, log *slog.Logger) (*outbound.Sender, error) {
	awsCfg, s, err := settings.Load(ctx, Required...)
	if err != nil {
		return nil, err
	}
	return New(awsCfg, s, log)
}
