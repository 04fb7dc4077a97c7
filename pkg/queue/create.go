package queue

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
)

// Admin is what creating the queues needs.
type Admin interface {
	CreateQueue(context.Context, *sqs.CreateQueueInput, ...func(*sqs.Options)) (*sqs.CreateQueueOutput, error)
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
}

// Create creates the dead-letter queue and the queue with its redrive
// policy (or finds them if they exist) and returns both URLs. For the local
// stack and tests; in AWS the CDK stack owns the queues.
func Create(ctx context.Context, c Admin, d Definition) (queueURL, dlqURL string, err error) {
	const op = "queue: create"
	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(d.DLQName()),
		Attributes: map[string]string{
			string(types.QueueAttributeNameMessageRetentionPeriod): seconds(d.DLQRetention.Seconds()),
		},
	})
	if err != nil {
		return "", "", failure.Classify(op, err)
	}
	attrs, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return "", "", failure.Classify(op, err)
	}
	redrive, _ := json.Marshal(map[string]string{
		"deadLetterTargetArn": attrs.Attributes[string(types.QueueAttributeNameQueueArn)],
		"maxReceiveCount":     strconv.Itoa(d.MaxReceiveCount),
	})
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName: aws.String(d.Name),
		Attributes: map[string]string{
			string(types.QueueAttributeNameVisibilityTimeout):      seconds(d.VisibilityTimeout.Seconds()),
			string(types.QueueAttributeNameMessageRetentionPeriod): seconds(d.Retention.Seconds()),
			string(types.QueueAttributeNameRedrivePolicy):          string(redrive),
		},
	})
	if err != nil {
		return "", "", failure.Classify(op, err)
	}
	return aws.ToString(q.QueueUrl), aws.ToString(dlq.QueueUrl), nil
}

func seconds(s float64) string { return strconv.Itoa(int(s)) }
