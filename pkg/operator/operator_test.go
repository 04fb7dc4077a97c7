package operator_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/funnel-personio/funnel-personio/pkg/operator"
)

const (
	queueURL = "https://sqs.eu-central-1.amazonaws.com/123456789012/events"
	dlqURL   = "https://sqs.eu-central-1.amazonaws.com/123456789012/events-dlq"
	queueARN = "arn:aws:sqs:eu-central-1:123456789012:events"
	dlqARN   = "arn:aws:sqs:eu-central-1:123456789012:events-dlq"
	caller   = "arn:aws:sts::123456789012:assumed-role/oncall/jane"
)

// moveTasks is SQS with message move tasks, as AWS has them: a task
// started on the dead-letter queue runs through the scripted statuses,
// one per ListMessageMoveTasks.
type moveTasks struct {
	operator.SQS // the rest is not called: a call panics
	mu           sync.Mutex
	started      []*sqs.StartMessageMoveTaskInput
	script       []types.ListMessageMoveTasksResultEntry
	listed       int
	preexisting  bool // a task runs before the redrive starts
	startErr     error
	listErr      error
}

func (m *moveTasks) GetQueueAttributes(_ context.Context, in *sqs.GetQueueAttributesInput, _ ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error) {
	arn := map[string]string{queueURL: queueARN, dlqURL: dlqARN}[aws.ToString(in.QueueUrl)]
	return &sqs.GetQueueAttributesOutput{Attributes: map[string]string{"QueueArn": arn, "ApproximateNumberOfMessages": "3"}}, nil
}

func (m *moveTasks) StartMessageMoveTask(_ context.Context, in *sqs.StartMessageMoveTaskInput, _ ...func(*sqs.Options)) (*sqs.StartMessageMoveTaskOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.startErr != nil {
		return nil, m.startErr
	}
	m.started = append(m.started, in)
	return &sqs.StartMessageMoveTaskOutput{TaskHandle: aws.String("task-1")}, nil
}

func (m *moveTasks) ListMessageMoveTasks(_ context.Context, in *sqs.ListMessageMoveTasksInput, _ ...func(*sqs.Options)) (*sqs.ListMessageMoveTasksOutput, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.listErr != nil {
		return nil, m.listErr
	}
	if aws.ToString(in.SourceArn) != dlqARN {
		return nil, errors.New("listed the tasks of " + aws.ToString(in.SourceArn))
	}
	if len(m.started) == 0 && !m.preexisting {
		return &sqs.ListMessageMoveTasksOutput{}, nil // no task yet
	}
	i := min(m.listed, len(m.script)-1)
	m.listed++
	return &sqs.ListMessageMoveTasksOutput{Results: []types.ListMessageMoveTasksResultEntry{m.script[i]}}, nil
}

type identity struct{ err error }

func (i identity) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	if i.err != nil {
		return nil, i.err
	}
	return &sts.GetCallerIdentityOutput{Arn: aws.String(caller), Account: aws.String("123456789012")}, nil
}

func entry(status string, moved, toMove int64) types.ListMessageMoveTasksResultEntry {
	return types.ListMessageMoveTasksResultEntry{Status: aws.String(status), ApproximateNumberOfMessagesMoved: moved,
		ApproximateNumberOfMessagesToMove: aws.Int64(toMove), SourceArn: aws.String(dlqARN), StartedTimestamp: time.Now().UnixMilli()}
}

func newOperator(q operator.SQS, audit *bytes.Buffer, id operator.Identity) *operator.Operator {
	return operator.New(operator.Config{QueueURL: queueURL, DLQURL: dlqURL, Audit: operator.AuditLogger(audit), PollEvery: time.Millisecond,
		LocalUser: "jane"}, q, nil, id)
}

// TestRedriveMoveTask: where SQS has message move tasks, a redrive starts
// one from the dead-letter queue to the queue at the rate asked, reports
// its progress until it completes, and logs who started it and what it
// moved.
func TestRedriveMoveTask(t *testing.T) {
	q := &moveTasks{script: []types.ListMessageMoveTasksResultEntry{entry("RUNNING", 0, 3), entry("RUNNING", 2, 3), entry("COMPLETED", 3, 3)}}
	var audit bytes.Buffer
	var seen []operator.Progress
	res, err := newOperator(q, &audit, identity{}).Redrive(t.Context(), operator.RedriveOptions{Rate: 50}, func(p operator.Progress) { seen = append(seen, p) })
	if err != nil {
		t.Fatal(err)
	}
	if len(q.started) != 1 || aws.ToString(q.started[0].SourceArn) != dlqARN || aws.ToString(q.started[0].DestinationArn) != queueARN ||
		aws.ToInt32(q.started[0].MaxNumberOfMessagesPerSecond) != 50 {
		t.Fatalf("started %+v", q.started)
	}
	if res.Mode != operator.ModeTask || res.Status != "COMPLETED" || res.Moved != 3 || res.ToMove != 3 || res.Note != "" {
		t.Errorf("result %+v", res)
	}
	if len(seen) != 3 || seen[1].Moved != 2 || seen[1].Status != "RUNNING" {
		t.Errorf("progress %+v", seen)
	}
	for _, want := range []string{`"msg":"operator: dlq redrive started"`, `"msg":"operator: dlq redrive finished"`, `"caller":"` + caller + `"`,
		`"local_user":"jane"`, `"moved":3`, `"task":"task-1"`} {
		if !strings.Contains(audit.String(), want) {
			t.Errorf("audit lines lack %s:\n%s", want, audit.String())
		}
	}
}

// TestRedriveMoveTaskEnds covers a task already running (followed, not
// started again), one that fails (an error saying why), a refusal of the
// start (no fallback: the operator lacks a permission), an endpoint
// without move tasks when a move task is asked for, and rates a move task
// does not take.
func TestRedriveMoveTaskEnds(t *testing.T) {
	denied := &smithy.GenericAPIError{Code: "AccessDenied", Message: "not authorized to perform sqs:StartMessageMoveTask"}
	invalid := &smithy.GenericAPIError{Code: "InvalidAction", Message: "The action StartMessageMoveTask is not valid"}
	for _, c := range []struct {
		name    string
		q       *moveTasks
		opt     operator.RedriveOptions
		wantErr string
		started int
		note    string
	}{
		{name: "already running", q: &moveTasks{preexisting: true, script: []types.ListMessageMoveTasksResultEntry{entry("RUNNING", 1, 3), entry("COMPLETED", 3, 3)}},
			note: "already running"},
		{name: "fails", q: &moveTasks{script: []types.ListMessageMoveTasksResultEntry{entry("RUNNING", 0, 3),
			{Status: aws.String("FAILED"), FailureReason: aws.String("AWS.SimpleQueueService.NonExistentQueue"), StartedTimestamp: time.Now().UnixMilli()}}},
			wantErr: "NonExistentQueue", started: 1},
		{name: "start refused", q: &moveTasks{startErr: denied}, wantErr: "AccessDenied"},
		{name: "no move tasks, one asked for", q: &moveTasks{listErr: invalid}, opt: operator.RedriveOptions{Mode: operator.ModeTask}, wantErr: "InvalidAction"},
		{name: "rate too high", q: &moveTasks{}, opt: operator.RedriveOptions{Rate: 501, Mode: operator.ModeTask}, wantErr: "1 to 500"},
		{name: "unknown mode", q: &moveTasks{}, opt: operator.RedriveOptions{Mode: "teleport"}, wantErr: "teleport"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var audit bytes.Buffer
			res, err := newOperator(c.q, &audit, identity{}).Redrive(t.Context(), c.opt, nil)
			if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
				t.Fatalf("err = %v, want %q", err, c.wantErr)
			}
			if len(c.q.started) != c.started {
				t.Errorf("started %d tasks, want %d", len(c.q.started), c.started)
			}
			if !strings.Contains(res.Note, c.note) {
				t.Errorf("note %q, want %q", res.Note, c.note)
			}
		})
	}
}

// TestCaller: the caller is the AWS identity's ARN; where no STS answers,
// "local:" and the local user.
func TestCaller(t *testing.T) {
	for _, c := range []struct {
		name string
		id   operator.Identity
		want string
	}{
		{"sts", identity{}, caller},
		{"no sts", identity{err: errors.New("InvalidAction")}, "local:jane"},
		{"no client", nil, "local:jane"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := newOperator(&moveTasks{}, &bytes.Buffer{}, c.id).Caller(t.Context()); got != c.want {
				t.Errorf("caller %q, want %q", got, c.want)
			}
		})
	}
}

// TestUsage: usage errors exit 2 before anything is built or called.
func TestUsage(t *testing.T) {
	never := func(context.Context, operator.Target) (*operator.Operator, error) {
		t.Error("built an operator for a usage error")
		return nil, errors.New("no")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"dlq"}, "dlq list or dlq redrive"},
		{[]string{"dlq", "purge"}, `unknown command "dlq purge"`},
		{[]string{"replay"}, "-workspace is required"},
		{[]string{"replay", "-workspace", "ws", "-since", "yesterday"}, "neither an RFC 3339 time"},
		{[]string{"connections"}, "-needs-attention is required"},
		{[]string{"budget"}, "-company is required"},
		{[]string{"budget", "-company", "42", "extra"}, "unexpected"},
	} {
		var out, errb bytes.Buffer
		if code := operator.Main(t.Context(), c.args, &out, &errb, never); code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errb.String(), c.want)
		}
	}
	var out bytes.Buffer
	if code := operator.Main(t.Context(), []string{"help"}, &out, &out, never); code != 0 || !strings.Contains(out.String(), "dlq redrive") {
		t.Errorf("help: %d %s", code, out.String())
	}
}
