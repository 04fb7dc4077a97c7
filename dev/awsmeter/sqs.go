package awsmeter

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// sqsService is SQS's service id.
const sqsService = sqs.ServiceID

// chunkBytes is SQS's billing chunk: each 64 KB of a request's payload
// (https://aws.amazon.com/sqs/pricing/) is a request.
const chunkBytes = 64 << 10

// sqsChunks is how many requests SQS bills for a call, by the payload it
// carried (sent messages, or received ones), and whether it was a receive
// that returned nothing.
func sqsChunks(input, result any) (int64, bool) {
	payload, empty := 0, false
	switch in := input.(type) {
	case *sqs.SendMessageInput:
		payload = messageSize(aws.ToString(in.MessageBody), in.MessageAttributes)
	case *sqs.SendMessageBatchInput:
		for _, e := range in.Entries {
			payload += messageSize(aws.ToString(e.MessageBody), e.MessageAttributes)
		}
	}
	if out, ok := result.(*sqs.ReceiveMessageOutput); ok {
		empty = len(out.Messages) == 0
		for _, m := range out.Messages {
			payload += messageSize(aws.ToString(m.Body), m.MessageAttributes)
		}
	}
	return max(1, int64((payload+chunkBytes-1)/chunkBytes)), empty
}

// messageSize is a message's body and attributes (names, types, values).
func messageSize(body string, attrs map[string]sqstypes.MessageAttributeValue) int {
	n := len(body)
	for k, v := range attrs {
		n += len(k) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue)) + len(v.BinaryValue)
	}
	return n
}
