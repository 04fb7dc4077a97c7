package awsclient_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/funnel-personio/funnel-personio/dev/emulator"
	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
)

// TestStandardEndpointVariables shows that the clients reach an emulator
// named only by the SDK's own AWS_ENDPOINT_URL variable.
func TestStandardEndpointVariables(t *testing.T) {
	kumo := emulator.Kumo(t)
	t.Setenv("AWS_ENDPOINT_URL", *kumo.BaseEndpoint)
	t.Setenv("AWS_REGION", emulator.Region)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	cfg, err := awsclient.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := awsclient.DynamoDB(cfg).ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		t.Errorf("dynamodb: %v", err)
	}
	if _, err := awsclient.SQS(cfg).ListQueues(ctx, &sqs.ListQueuesInput{}); err != nil {
		t.Errorf("sqs: %v", err)
	}
	if _, err := awsclient.SecretsManager(cfg).ListSecrets(ctx, &secretsmanager.ListSecretsInput{}); err != nil {
		t.Errorf("secrets manager: %v", err)
	}
}
