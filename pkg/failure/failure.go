// Package failure classifies what goes wrong when calling AWS services:
// not found, conflict (a condition did not hold), throttled, transient, or
// invalid (a request that will never succeed). Adapters wrap every error
// with the operation and its class; callers match with errors.Is against
// the sentinels or ask IsRetryable.
package failure

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Kind is the class of a failure.
type Kind int

// The classes.
const (
	// Invalid is a request that will not succeed however often it is sent.
	Invalid Kind = iota
	// NotFound is a missing table, item, queue or secret.
	NotFound
	// Conflict is a condition that did not hold: the item exists already,
	// its version moved on, a claim is held by another.
	Conflict
	// Throttled is the service asking to slow down.
	Throttled
	// Transient is a failure that may pass: a 5xx, a timeout, a reset.
	Transient
)

var kindNames = map[Kind]string{Invalid: "invalid", NotFound: "not found", Conflict: "conflict", Throttled: "throttled", Transient: "transient"}

func (k Kind) String() string { return kindNames[k] }

// Sentinels to match with errors.Is.
var (
	ErrNotFound  = errors.New("not found")
	ErrConflict  = errors.New("conflict")
	ErrThrottled = errors.New("throttled")
	ErrTransient = errors.New("transient")
	ErrInvalid   = errors.New("invalid")
)

var sentinels = map[Kind]error{Invalid: ErrInvalid, NotFound: ErrNotFound, Conflict: ErrConflict, Throttled: ErrThrottled, Transient: ErrTransient}

// Error is a classified failure of one operation.
type Error struct {
	Op   string // "store: claim delivery"
	Kind Kind
	Err  error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return e.Op + ": " + e.Kind.String()
	}
	return e.Op + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Is matches the sentinel of the error's kind.
func (e *Error) Is(target error) bool { return sentinels[e.Kind] == target }

// Retryable reports whether the same call may succeed later: throttled and
// transient failures.
func (e *Error) Retryable() bool { return e.Kind == Throttled || e.Kind == Transient }

// New returns a classified error of one operation.
func New(op string, kind Kind, err error) error { return &Error{Op: op, Kind: kind, Err: err} }

// IsRetryable reports whether err, or one it wraps, says it is retryable.
func IsRetryable(err error) bool {
	var r interface{ Retryable() bool }
	return errors.As(err, &r) && r.Retryable()
}

// Error codes by class, across DynamoDB, SQS and Secrets Manager (and the
// emulators' spellings of them).
var codes = map[string]Kind{
	"ConditionalCheckFailedException":         Conflict,
	"TransactionCanceledException":            Conflict,
	"TransactionConflictException":            Conflict,
	"ResourceExistsException":                 Conflict,
	"ResourceInUseException":                  Conflict,
	"QueueAlreadyExists":                      Conflict,
	"QueueNameExists":                         Conflict,
	"ResourceNotFoundException":               NotFound,
	"QueueDoesNotExist":                       NotFound,
	"AWS.SimpleQueueService.NonExistentQueue": NotFound,
	"ProvisionedThroughputExceededException":  Throttled,
	"ThrottlingException":                     Throttled,
	"Throttling":                              Throttled,
	"RequestLimitExceeded":                    Throttled,
	"RequestThrottled":                        Throttled,
	"LimitExceededException":                  Throttled,
	"InternalServerError":                     Transient,
	"InternalFailure":                         Transient,
	"InternalServiceError":                    Transient,
	"InternalServiceErrorException":           Transient,
	"ServiceUnavailable":                      Transient,
	"ServiceUnavailableException":             Transient,
}

// Classify wraps an AWS SDK error with the operation and its class, by
// error code first, then by HTTP status, then by network error. nil stays
// nil.
func Classify(op string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Kind: kindOf(err), Err: err}
}

func kindOf(err error) Kind {
	if k, ok := canceledKind(err); ok {
		return k
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		if k, ok := codes[code]; ok {
			return k
		}
		if strings.HasSuffix(code, "NotFound") || strings.HasSuffix(code, "NotFoundException") {
			return NotFound
		}
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		switch s := re.HTTPStatusCode(); {
		case s == http.StatusNotFound:
			return NotFound
		case s == http.StatusConflict:
			return Conflict
		case s == http.StatusTooManyRequests:
			return Throttled
		case s >= 500:
			return Transient
		}
	}
	var ne net.Error
	var me *retry.MaxAttemptsError
	switch {
	case errors.As(err, &me) && me.Err != nil && me.Err != err:
		return kindOf(me.Err)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne):
		return Transient
	}
	return Invalid
}

// throttledReasons are the reasons a transaction's part is cancelled for
// that say it was throttled: the transaction may succeed later.
var throttledReasons = map[string]bool{"ThrottlingError": true, "ProvisionedThroughputExceeded": true, "RequestLimitExceeded": true}

// canceledKind is the class of a cancelled transaction one of whose parts
// was throttled (false: not such an error; its code classifies it).
func canceledKind(err error) (Kind, bool) {
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) {
		return 0, false
	}
	for _, r := range tc.CancellationReasons {
		if r.Code != nil && throttledReasons[*r.Code] {
			return Throttled, true
		}
	}
	return 0, false
}
