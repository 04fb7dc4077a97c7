// Package awsclient builds the AWS SDK clients a process needs, once, from
// the SDK's default configuration chain. Endpoints for local use come from
// the SDK's standard variables (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_DYNAMODB,
// …), never from custom code.
//
// It is for every function's wiring, the operator command, the local
// stack and the tests: each builds its clients through it, so a local run
// and AWS differ only in those variables.
package awsclient

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Load reads the default AWS configuration (environment, shared files,
// the Lambda role).
func Load(ctx context.Context, opts ...func(*config.LoadOptions) error) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("awsclient: load config: %w", err)
	}
	return cfg, nil
}

// local reports whether the service's endpoint was overridden, for an
// emulator: their answers carry no response checksums, which the SDK would
// otherwise warn about on every call.
func local(cfg aws.Config, service string) bool {
	return cfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL_"+service) != ""
}

// DynamoDB returns a DynamoDB client.
func DynamoDB(cfg aws.Config) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.DisableValidateResponseChecksum = local(cfg, "DYNAMODB")
	})
}

// SQS returns an SQS client.
func SQS(cfg aws.Config) *sqs.Client { return sqs.NewFromConfig(cfg) }

// SecretsManager returns a Secrets Manager client.
func SecretsManager(cfg aws.Config) *secretsmanager.Client { return secretsmanager.NewFromConfig(cfg) }
