package operator

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
)

// DeadLetter is one message in the dead-letter queue, said without its
// body: the delivery it carries, its record's state, and SQS's count of
// its receives.
type DeadLetter struct {
	MessageID string `json:"message_id"`
	Delivery  string `json:"delivery_id"`
	Workspace string `json:"workspace"`
	Funnel    string `json:"funnel"`
	// Status and ReasonCode are the delivery record's; both are empty
	// when there is no record (the applicant was erased, or the body is
	// not an event).
	Status     lifecycle.Status `json:"status,omitempty"`
	ReasonCode lifecycle.Reason `json:"reason_code,omitempty"`
	// Attempts is how many tries the record keeps.
	Attempts int `json:"attempts"`
	// ReceiveCount is the receives SQS counted before this listing (its
	// own receive not counted). SQS keeps a message's count when it moves
	// it to the dead-letter queue; kumo starts it again there.
	ReceiveCount int       `json:"receive_count"`
	SentAt       time.Time `json:"sent_at"`
}

// DeadLetters is a listing of the dead-letter queue.
type DeadLetters struct {
	// Approximate is SQS's count of the messages in it (waiting, in
	// flight and delayed).
	Approximate int          `json:"approximate_count"`
	Messages    []DeadLetter `json:"messages"`
	// Truncated says the listing stopped at its limit.
	Truncated bool `json:"truncated"`
}

// peekVisibility hides each message while a listing is under way; the
// listing shows them again when it ends (or SQS does after this long).
const peekVisibility = 60

// ListDeadLetters lists up to limit messages of the dead-letter queue
// (0: 1,000). Listing receives each message once, so SQS adds one to its
// receive count (the dead-letter queue has no redrive policy of its own,
// so nothing else follows), and makes it visible again at the end. Only
// the event's ids are read from a body.
func (o *Operator) ListDeadLetters(ctx context.Context, limit int) (DeadLetters, error) {
	const op = "operator: list dead letters"
	if limit <= 0 {
		limit = 1000
	}
	var out DeadLetters
	n, err := o.count(ctx, o.cfg.DLQURL)
	if err != nil {
		return out, failure.Classify(op, err)
	}
	out.Approximate = n
	var handles []string
	defer func() {
		// Visible again for the next listing or redrive, whatever happened.
		for _, h := range handles {
			_, _ = o.sqs.ChangeMessageVisibility(context.WithoutCancel(ctx), &sqs.ChangeMessageVisibilityInput{
				QueueUrl: aws.String(o.cfg.DLQURL), ReceiptHandle: aws.String(h), VisibilityTimeout: 0})
		}
	}()
	seen := map[string]bool{}
	for len(out.Messages) < limit {
		msgs, err := o.receive(ctx, o.cfg.DLQURL, min(10, limit-len(out.Messages)), peekVisibility)
		if err != nil {
			return out, failure.Classify(op, err)
		}
		if len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			handles = append(handles, aws.ToString(m.ReceiptHandle))
			id := aws.ToString(m.MessageId)
			if seen[id] {
				continue
			}
			seen[id] = true
			dl := DeadLetter{MessageID: id}
			ids := eventIDs(aws.ToString(m.Body))
			dl.Delivery, dl.Workspace, dl.Funnel = ids.ID, ids.Workspace, ids.Funnel
			if n, err := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)]); err == nil {
				dl.ReceiveCount = max(n-1, 0)
			}
			if ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
				dl.SentAt = time.UnixMilli(ms).UTC()
			}
			if ids.ID != "" && ids.Workspace != "" {
				d, err := o.store.GetDelivery(ctx, ids.Workspace, ids.ID)
				switch {
				case err == nil:
					dl.Status, dl.ReasonCode, dl.Attempts = d.Status, d.ReasonCode, len(d.Attempts)
				case !errors.Is(err, failure.ErrNotFound):
					return out, fmt.Errorf("%s: %w", op, err)
				}
			}
			out.Messages = append(out.Messages, dl)
		}
	}
	out.Truncated = len(out.Messages) >= limit && out.Approximate > len(out.Messages)
	if out.Messages == nil {
		out.Messages = []DeadLetter{}
	}
	return out, nil
}

// ids are what the operator reads of an event: nothing of the applicant.
type ids struct {
	ID        string `json:"id"`
	Workspace string `json:"workspace_id"`
	Funnel    string `json:"funnel_id"`
}

// eventIDs reads an event's ids; a body that is not an event gives none.
func eventIDs(body string) ids {
	var v ids
	_ = json.Unmarshal([]byte(body), &v)
	return v
}

// receive long-polls (1 s) for up to n messages of the queue, hiding them
// for visibility seconds.
func (o *Operator) receive(ctx context.Context, url string, n int, visibility int32) ([]types.Message, error) {
	out, err := o.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), MaxNumberOfMessages: int32(min(max(n, 1), 10)), VisibilityTimeout: visibility, WaitTimeSeconds: 1,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	})
	if err != nil {
		return nil, err
	}
	return out.Messages, nil
}

// count is SQS's count of the messages in the queue: waiting, in flight
// (received and not yet deleted: a listing's, say) and delayed. Nothing
// consumes the dead-letter queue, so all of them are what it holds.
func (o *Operator) count(ctx context.Context, url string) (int, error) {
	names := []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages,
		types.QueueAttributeNameApproximateNumberOfMessagesNotVisible, types.QueueAttributeNameApproximateNumberOfMessagesDelayed}
	out, err := o.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: names})
	if err != nil {
		return 0, err
	}
	total := 0
	for _, name := range names {
		if v, ok := out.Attributes[string(name)]; ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				return 0, fmt.Errorf("%s is %q", name, v)
			}
			total += n
		}
	}
	return total, nil
}

// arn is the queue's ARN.
func (o *Operator) arn(ctx context.Context, url string) (string, error) {
	name := string(types.QueueAttributeNameQueueArn)
	out, err := o.sqs.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeName(name)}})
	if err != nil {
		return "", err
	}
	return out.Attributes[name], nil
}

// How a redrive moves messages.
const (
	// ModeAuto uses a message move task where the endpoint has them, and
	// moves messages itself otherwise.
	ModeAuto = "auto"
	// ModeTask uses SQS's message move task only.
	ModeTask = "move-task"
	// ModeCopy moves messages itself: receive from the dead-letter queue,
	// send to the queue, then delete.
	ModeCopy = "copy"
)

// RedriveOptions say how to move the dead-letter queue back.
type RedriveOptions struct {
	// Rate is the most messages a second (0: SQS chooses for a move task;
	// as fast as it goes for a copy). A move task takes at most 500.
	Rate int
	// Mode is ModeAuto (default), ModeTask or ModeCopy.
	Mode string
}

// Progress is a redrive under way.
type Progress struct {
	Mode   string `json:"mode"`
	Status string `json:"status"`
	Moved  int64  `json:"moved"`
	ToMove int64  `json:"to_move"`
}

// RedriveResult is a finished redrive: how it moved messages, how many,
// and how it ended.
type RedriveResult struct {
	Progress
	// Note says why it moved messages itself, or that it followed a move
	// task already running.
	Note string `json:"note,omitempty"`
	// Failed counts messages it could not move (still in the dead-letter
	// queue) or moved but could not delete there (on the queue twice; the
	// worker's claim delivers them once).
	Failed int `json:"failed,omitempty"`
}

// Move task statuses (ListMessageMoveTasks).
const (
	taskRunning    = "RUNNING"
	taskCompleted  = "COMPLETED"
	taskCancelling = "CANCELLING"
	taskFailed     = "FAILED"
	copyDone       = "COMPLETED"
)

// Redrive moves the dead-letter queue's messages back to the queue, as
// opt says, calling progress as it goes, until done. The worker takes
// them as any message: a delivery already delivered meanwhile (a replay,
// a retry from the editor) is acknowledged and not sent twice.
func (o *Operator) Redrive(ctx context.Context, opt RedriveOptions, progress func(Progress)) (RedriveResult, error) {
	if progress == nil {
		progress = func(Progress) {}
	}
	switch opt.Mode {
	case "", ModeAuto:
		res, err := o.redriveTask(ctx, opt, progress)
		var un *unsupportedError
		if errors.As(err, &un) {
			res, err = o.redriveCopy(ctx, opt, progress)
			res.Note = "this endpoint has no SQS message move tasks (" + un.code + "); messages were moved by receive, send, delete"
		}
		return res, err
	case ModeTask:
		return o.redriveTask(ctx, opt, progress)
	case ModeCopy:
		return o.redriveCopy(ctx, opt, progress)
	}
	return RedriveResult{}, failure.New("operator: redrive", failure.Invalid, fmt.Errorf("mode %q is not one of %s, %s, %s", opt.Mode, ModeAuto, ModeTask, ModeCopy))
}

// unsupportedError is an endpoint without message move tasks.
type unsupportedError struct {
	code string
	err  error
}

func (e *unsupportedError) Error() string { return "no message move tasks: " + e.err.Error() }
func (e *unsupportedError) Unwrap() error { return e.err }

// unsupported tells an endpoint that does not know the action (an
// emulator) from a refusal of a real one (no permission, a bad ARN).
func unsupported(err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "InvalidAction", "UnsupportedOperation", "UnknownOperation", "UnknownOperationException", "NotImplemented":
			return &unsupportedError{code: ae.ErrorCode(), err: err}
		}
	}
	return err
}

func (o *Operator) redriveTask(ctx context.Context, opt RedriveOptions, progress func(Progress)) (RedriveResult, error) {
	const op = "operator: redrive (move task)"
	res := RedriveResult{Progress: Progress{Mode: ModeTask}}
	if opt.Rate < 0 || opt.Rate > 500 {
		return res, failure.New(op, failure.Invalid, fmt.Errorf("rate %d: a move task takes 1 to 500 messages a second (0: SQS chooses)", opt.Rate))
	}
	src, err := o.arn(ctx, o.cfg.DLQURL)
	if err != nil {
		return res, failure.Classify(op, err)
	}
	dst, err := o.arn(ctx, o.cfg.QueueURL)
	if err != nil {
		return res, failure.Classify(op, err)
	}
	latest, err := o.latestTask(ctx, src)
	if err != nil {
		return res, failure.Classify(op, unsupported(err))
	}
	started := o.cfg.Now()
	if latest != nil && aws.ToString(latest.Status) == taskRunning {
		res.Note = "a move task was already running on the dead-letter queue; followed it"
		started = time.UnixMilli(latest.StartedTimestamp)
	} else {
		in := &sqs.StartMessageMoveTaskInput{SourceArn: aws.String(src), DestinationArn: aws.String(dst)}
		if opt.Rate > 0 {
			in.MaxNumberOfMessagesPerSecond = aws.Int32(int32(opt.Rate))
		}
		out, err := o.sqs.StartMessageMoveTask(ctx, in)
		if err != nil {
			return res, failure.Classify(op, unsupported(err))
		}
		o.audit(ctx, "dlq redrive started", "mode", ModeTask, "task", aws.ToString(out.TaskHandle), "rate", opt.Rate, "source", src, "destination", dst)
	}
	for {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(o.cfg.PollEvery):
		}
		t, err := o.latestTask(ctx, src)
		if err != nil {
			return res, failure.Classify(op, err)
		}
		// The task just started may not be listed yet: an older one is not it.
		if t == nil || time.UnixMilli(t.StartedTimestamp).Before(started.Add(-time.Minute)) {
			continue
		}
		res.Status, res.Moved = aws.ToString(t.Status), t.ApproximateNumberOfMessagesMoved
		res.ToMove = aws.ToInt64(t.ApproximateNumberOfMessagesToMove)
		progress(res.Progress)
		switch res.Status {
		case taskRunning, taskCancelling:
			continue
		case taskFailed:
			o.audit(ctx, "dlq redrive failed", "mode", ModeTask, "moved", res.Moved, "to_move", res.ToMove, "reason", aws.ToString(t.FailureReason))
			return res, failure.New(op, failure.Transient, errors.New("the move task failed: "+aws.ToString(t.FailureReason)))
		}
		o.audit(ctx, "dlq redrive finished", "mode", ModeTask, "status", res.Status, "moved", res.Moved, "to_move", res.ToMove)
		return res, nil
	}
}

// latestTask is the dead-letter queue's most recent move task (nil if it
// never had one).
func (o *Operator) latestTask(ctx context.Context, src string) (*types.ListMessageMoveTasksResultEntry, error) {
	out, err := o.sqs.ListMessageMoveTasks(ctx, &sqs.ListMessageMoveTasksInput{SourceArn: aws.String(src), MaxResults: aws.Int32(1)})
	if err != nil {
		return nil, err
	}
	if len(out.Results) == 0 {
		return nil, nil
	}
	return &out.Results[0], nil
}

// redriveCopy moves the messages itself: each is received from the
// dead-letter queue, sent to the queue as it was (body, message
// attributes, the workspace as its group), then deleted. Sending before
// deleting means a failure loses nothing (at worst a message is on the
// queue twice, and the worker's claim delivers it once). It moves the
// messages the dead-letter queue held when it started, at most opt.Rate a
// second.
func (o *Operator) redriveCopy(ctx context.Context, opt RedriveOptions, progress func(Progress)) (RedriveResult, error) {
	const op = "operator: redrive (copy)"
	res := RedriveResult{Progress: Progress{Mode: ModeCopy, Status: taskRunning}}
	if opt.Rate < 0 {
		return res, failure.New(op, failure.Invalid, fmt.Errorf("rate %d: at least 0 (no limit)", opt.Rate))
	}
	n, err := o.count(ctx, o.cfg.DLQURL)
	if err != nil {
		return res, failure.Classify(op, err)
	}
	res.ToMove = int64(n)
	o.audit(ctx, "dlq redrive started", "mode", ModeCopy, "to_move", n, "rate", opt.Rate)
	target := queue.New(o.sqs, o.cfg.QueueURL)
	var gap time.Duration
	if opt.Rate > 0 {
		gap = time.Second / time.Duration(opt.Rate)
	}
	next := o.cfg.Now()
	var moved []string
	finish := func(err error) (RedriveResult, error) {
		res.Status = copyDone
		if err != nil {
			res.Status = taskFailed
		}
		o.audit(ctx, "dlq redrive finished", "mode", ModeCopy, "status", res.Status, "moved", res.Moved, "to_move", res.ToMove,
			"failed", res.Failed, "delivery_ids", capIDs(moved))
		return res, err
	}
	for res.ToMove == 0 || res.Moved < res.ToMove {
		want := 10
		if res.ToMove > 0 {
			want = int(min(10, res.ToMove-res.Moved))
		}
		msgs, err := o.receive(ctx, o.cfg.DLQURL, want, peekVisibility)
		if err != nil {
			return finish(failure.Classify(op, err))
		}
		if len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			if wait := next.Sub(o.cfg.Now()); wait > 0 {
				select {
				case <-ctx.Done():
					return finish(ctx.Err())
				case <-time.After(wait):
				}
			}
			next = o.cfg.Now().Add(gap)
			ids := eventIDs(aws.ToString(m.Body))
			group := m.Attributes["MessageGroupId"]
			if group == "" {
				group = ids.Workspace
			}
			attrs := map[string]string{}
			for k, v := range m.MessageAttributes {
				if v.StringValue != nil {
					attrs[k] = *v.StringValue
				}
			}
			if err := target.Send(ctx, queue.Message{ID: ids.ID, Group: group, Body: []byte(aws.ToString(m.Body)), Attributes: attrs}); err != nil {
				res.Failed++
				return finish(fmt.Errorf("%s: %s stays in the dead-letter queue: %w", op, aws.ToString(m.MessageId), err))
			}
			if _, err := o.sqs.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(o.cfg.DLQURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				// On the queue and still in the dead-letter queue: a later
				// redrive sends it again, and the worker delivers it once.
				res.Failed++
			}
			res.Moved++
			moved = append(moved, ids.ID)
		}
		progress(res.Progress)
	}
	return finish(nil)
}

// QueueURL resolves a queue named by its URL or its name.
func QueueURL(ctx context.Context, c SQS, urlOrName string) (string, error) {
	if strings.Contains(urlOrName, "://") {
		return urlOrName, nil
	}
	out, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(urlOrName)})
	if err != nil {
		return "", failure.Classify("operator: queue "+urlOrName, err)
	}
	return aws.ToString(out.QueueUrl), nil
}

// DeadLetterQueueURL finds the queue's dead-letter queue from its redrive
// policy.
func DeadLetterQueueURL(ctx context.Context, c SQS, queueURL string) (string, error) {
	const op = "operator: find the dead-letter queue"
	name := string(types.QueueAttributeNameRedrivePolicy)
	out, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeName(name)}})
	if err != nil {
		return "", failure.Classify(op, err)
	}
	var policy struct {
		Target string `json:"deadLetterTargetArn"`
	}
	if err := json.Unmarshal([]byte(out.Attributes[name]), &policy); err != nil || policy.Target == "" {
		return "", failure.New(op, failure.NotFound, errors.New("the queue has no redrive policy; set DLQ_URL"))
	}
	// arn:aws:sqs:region:account:name
	parts := strings.Split(policy.Target, ":")
	if len(parts) != 6 {
		return "", failure.New(op, failure.Invalid, fmt.Errorf("the redrive policy names %q, not a queue's ARN", policy.Target))
	}
	u, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(parts[5]), QueueOwnerAWSAccountId: aws.String(parts[4])})
	if err != nil {
		return "", failure.Classify(op, err)
	}
	return aws.ToString(u.QueueUrl), nil
}
