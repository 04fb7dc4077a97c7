package failure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

func responseError(status int) error {
	return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: errors.New("x")}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		err       error
		sentinel  error
		retryable bool
	}{
		{"condition failed", &smithy.GenericAPIError{Code: "ConditionalCheckFailedException"}, ErrConflict, false},
		{"kumo missing queue", &smithy.GenericAPIError{Code: "AWS.SimpleQueueService.NonExistentQueue"}, ErrNotFound, false},
		{"missing queue", &smithy.GenericAPIError{Code: "QueueDoesNotExist"}, ErrNotFound, false},
		{"missing secret", &smithy.GenericAPIError{Code: "ResourceNotFoundException"}, ErrNotFound, false},
		{"missing secret as 404", responseError(404), ErrNotFound, false},
		{"throughput", &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException"}, ErrThrottled, true},
		{"server error", responseError(503), ErrTransient, true},
		{"deadline", fmt.Errorf("send: %w", context.DeadlineExceeded), ErrTransient, true},
		{"validation", &smithy.GenericAPIError{Code: "ValidationException"}, ErrInvalid, false},
		{"unknown", errors.New("boom"), ErrInvalid, false},
		// A transaction is cancelled for the reasons of its parts: a part
		// throttled is no conflict (another transaction on an item is, as
		// TransactionConflictException is).
		{"transaction condition failed", canceled("None", "ConditionalCheckFailed"), ErrConflict, false},
		{"transaction throttled", canceled("None", "ThrottlingError"), ErrThrottled, true},
		{"transaction throughput", canceled("ProvisionedThroughputExceeded", "None"), ErrThrottled, true},
		{"transaction in conflict with another", canceled("TransactionConflict", "None"), ErrConflict, false},
		{"transaction with no reasons", &types.TransactionCanceledException{Message: aws.String("x")}, ErrConflict, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Classify("store: test", tt.err)
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("Classify = %v, not %v", err, tt.sentinel)
			}
			if IsRetryable(err) != tt.retryable || IsRetryable(fmt.Errorf("wrapped: %w", err)) != tt.retryable {
				t.Errorf("IsRetryable = %v, want %v", IsRetryable(err), tt.retryable)
			}
			if !errors.Is(err, tt.err) {
				t.Error("the cause is lost")
			}
		})
	}
	if Classify("op", nil) != nil {
		t.Error("Classify(nil) != nil")
	}
}

// canceled is a TransactionCanceledException with the parts' reasons.
func canceled(codes ...string) error {
	reasons := make([]types.CancellationReason, len(codes))
	for i, c := range codes {
		reasons[i] = types.CancellationReason{Code: aws.String(c)}
	}
	return &types.TransactionCanceledException{Message: aws.String("Transaction cancelled"), CancellationReasons: reasons}
}
