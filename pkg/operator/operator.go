// Package operator is what the platform team's command (functions/ops)
// does: list the dead-letter queue and move it back, replay a funnel's
// failed deliveries after a fix through the editor's own retry path
// (pkg/resume), show the connections whose deliveries wait parked, and
// show a company's rate budget. It works the same against AWS and against
// the local stack's emulator; where the emulator lacks SQS message move
// tasks, a redrive moves messages itself (receive, send, delete) and says
// so.
//
// Every change it makes is written as a JSON log line naming who ran it
// (the caller's AWS identity, and the local user) and what changed:
// counts and ids, never an event's body, an applicant's e-mail or name.
package operator

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/user"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// SQS is the part of the SQS client the operator uses.
type SQS interface {
	GetQueueUrl(context.Context, *sqs.GetQueueUrlInput, ...func(*sqs.Options)) (*sqs.GetQueueUrlOutput, error)
	GetQueueAttributes(context.Context, *sqs.GetQueueAttributesInput, ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(context.Context, *sqs.ReceiveMessageInput, ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	SendMessage(context.Context, *sqs.SendMessageInput, ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	SendMessageBatch(context.Context, *sqs.SendMessageBatchInput, ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	DeleteMessage(context.Context, *sqs.DeleteMessageInput, ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(context.Context, *sqs.ChangeMessageVisibilityInput, ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
	StartMessageMoveTask(context.Context, *sqs.StartMessageMoveTaskInput, ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error)
	ListMessageMoveTasks(context.Context, *sqs.ListMessageMoveTasksInput, ...func(*sqs.Options)) (*sqs.ListMessageMoveTasksOutput, error)
}

var _ SQS = (*sqs.Client)(nil)

// Store is what the operator reads and changes in the table.
type Store interface {
	GetDelivery(ctx context.Context, ws, eventID string) (store.Delivery, error)
	Event(ctx context.Context, ws, eventID string) ([]byte, error)
	ListDeliveries(ctx context.Context, ws, funnel string, status lifecycle.Status, limit int, cursor string) (store.Page, error)
	ListIntegrations(ctx context.Context, ws string) ([]store.Integration, error)
	GetConnection(ctx context.Context, ws, id string) (store.Connection, error)
	Requeue(ctx context.Context, k store.DeliveryKey, code lifecycle.Reason) (store.Delivery, error)
	ParkedConnections(ctx context.Context) ([]store.ParkedConnection, error)
	ReadBudget(ctx context.Context, company string, b store.Budget) (store.BudgetState, error)
	EraseApplicant(ctx context.Context, ws, emailHash string, until time.Time) (store.Erasure, error)
}

var _ Store = (*store.Store)(nil)

// Identity says who the AWS credentials belong to.
type Identity interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

var _ Identity = (*sts.Client)(nil)

// Config is where the operator works and how.
type Config struct {
	// QueueURL and DLQURL are the event queue and its dead-letter queue.
	QueueURL, DLQURL string
	// Budget is the companies' rate budget (settings.Settings.RateBudget).
	Budget store.Budget
	// ErasureMarkerTTL is how long an erasure's marker lives
	// (settings.Settings.ErasureMarkerTTL).
	ErasureMarkerTTL time.Duration
	// Audit receives one JSON line per change, naming who made it
	// (default: discarded).
	Audit *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// PollEvery is how often a redrive's progress is read (default 2 s).
	PollEvery time.Duration
	// LocalUser names who runs the command on this machine (default the
	// OS user).
	LocalUser string
}

// Operator runs the platform team's operations.
type Operator struct {
	cfg   Config
	sqs   SQS
	store Store
	id    Identity

	callerOnce sync.Once
	caller     string
}

// New returns an Operator on the clients.
func New(cfg Config, q SQS, st Store, id Identity) *Operator {
	if cfg.Audit == nil {
		cfg.Audit = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PollEvery <= 0 {
		cfg.PollEvery = 2 * time.Second
	}
	if cfg.LocalUser == "" {
		cfg.LocalUser = localUser()
	}
	return &Operator{cfg: cfg, sqs: q, store: st, id: id}
}

// Caller is who runs the command: the ARN of the caller's AWS identity
// (STS GetCallerIdentity), or, where no STS answers (an emulator without
// it), "local:" and the local user.
func (o *Operator) Caller(ctx context.Context) string {
	o.callerOnce.Do(func() {
		o.caller = "local:" + o.cfg.LocalUser
		if o.id == nil {
			return
		}
		out, err := o.id.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err == nil && aws.ToString(out.Arn) != "" {
			o.caller = aws.ToString(out.Arn)
		}
	})
	return o.caller
}

// audit writes one change: what, by whom, and its details (counts and
// ids only).
func (o *Operator) audit(ctx context.Context, what string, attrs ...any) {
	o.cfg.Audit.InfoContext(ctx, "operator: "+what, append([]any{"caller", o.Caller(ctx), "local_user", o.cfg.LocalUser}, attrs...)...)
}

// AuditLogger is a JSON logger for the audit lines on w.
func AuditLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewJSONHandler(w, nil)) }

func localUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}
