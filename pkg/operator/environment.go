package operator

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// Target names where a command works; an empty name is taken from the
// environment the functions read (settings.FromEnv: TABLE_NAME, QUEUE_URL,
// DLQ_URL). Queues may be named by URL or by name.
type Target struct {
	Table, Queue, DLQ string
	// NeedQueues says the command works on the queues (the dead-letter
	// queue, a replay), not only on the table.
	NeedQueues bool
	// Audit receives the audit lines.
	Audit *slog.Logger
}

// Builder makes the Operator a command runs with.
type Builder func(ctx context.Context, t Target) (*Operator, error)

// FromEnvironment is the Builder of the command: the AWS configuration
// from the SDK's default chain (the same credentials and AWS_ENDPOINT_URL
// the functions and the local stack use), then FromConfig's.
func FromEnvironment(ctx context.Context, t Target) (*Operator, error) {
	cfg, err := awsclient.Load(ctx)
	if err != nil {
		return nil, err
	}
	return FromConfig(cfg)(ctx, t)
}

// FromConfig returns the Builder on an AWS configuration: the settings
// from the environment (the budget, and the names the target does not
// give), queue names resolved to URLs, and the dead-letter queue found
// from the queue's redrive policy when neither the target nor DLQ_URL
// names it. Secrets are not read: the operator needs none.
func FromConfig(awsCfg aws.Config) Builder {
	return func(ctx context.Context, t Target) (*Operator, error) {
		s, err := settings.FromEnv(ctx, noSecrets{})
		if err != nil {
			return nil, err
		}
		over := func(dst *string, v string) {
			if v != "" {
				*dst = v
			}
		}
		over(&s.Table, t.Table)
		over(&s.QueueURL, t.Queue)
		over(&s.DLQURL, t.DLQ)
		var missing []string
		if s.Table == "" {
			missing = append(missing, settings.VarTable+" (or -table)")
		}
		if t.NeedQueues && s.QueueURL == "" {
			missing = append(missing, settings.VarQueueURL+" (or -queue)")
		}
		if len(missing) > 0 {
			return nil, errors.New("operator: set " + strings.Join(missing, " and "))
		}
		q := awsclient.SQS(awsCfg)
		if t.NeedQueues {
			if s.QueueURL, err = QueueURL(ctx, q, s.QueueURL); err != nil {
				return nil, err
			}
			if s.DLQURL == "" {
				s.DLQURL, err = DeadLetterQueueURL(ctx, q, s.QueueURL)
			} else {
				s.DLQURL, err = QueueURL(ctx, q, s.DLQURL)
			}
			if err != nil {
				return nil, err
			}
		}
		st := store.New(awsclient.DynamoDB(awsCfg), s.Table, s.Retention)
		return New(Config{QueueURL: s.QueueURL, DLQURL: s.DLQURL, Budget: s.RateBudget(), ErasureMarkerTTL: s.ErasureMarkerTTL(), Audit: t.Audit}, q, st, sts.NewFromConfig(awsCfg)), nil
	}
}

// noSecrets reads no secret: the operator needs neither the hash key nor
// the signing secrets that a function's environment may name.
type noSecrets struct{}

func (noSecrets) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String("")}, nil
}
