package awscalls_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/funnel-personio/funnel-personio/dev/awscalls"
	"github.com/funnel-personio/funnel-personio/dev/emulator"
)

// TestRecorder: on kumo, each call is recorded with the IAM action it
// needs and the label of what it names — a transaction as the actions of
// its parts, a query of an index on the index, a queue by its URL — and
// a call the emulator refuses is recorded too.
func TestRecorder(t *testing.T) {
	cfg := emulator.Kumo(t)
	ctx := t.Context()
	rec := awscalls.New(map[string]string{"tbl": "Table", "q-events": "Events", "q-events-dlq": "DeadLetters"})
	rc := rec.Config(cfg)
	db := dynamodb.NewFromConfig(rc)
	_, _ = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String("tbl"), Item: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}}}},
		{Delete: &types.Delete{TableName: aws.String("tbl"), Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "b"}}}},
	}})
	_, _ = db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("tbl"), IndexName: aws.String("parked")})
	_, _ = sqs.NewFromConfig(rc).SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String("http://x/000000000000/q-events-dlq"), MessageBody: aws.String("m")})
	_, _ = sqs.NewFromConfig(rc).GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("other")})
	want := []string{"?other sqs:GetQueueUrl", "DeadLetters sqs:SendMessage", "Table dynamodb:DeleteItem", "Table dynamodb:PutItem", "Table/index/parked dynamodb:Query"}
	if got := rec.Take(); !slices.Equal(got, want) {
		t.Errorf("recorded\n  %q\nwant\n  %q", got, want)
	}
	if got := rec.Take(); len(got) != 0 {
		t.Errorf("Take did not forget: %q", got)
	}
}
