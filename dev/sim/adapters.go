package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/funnel-personio/funnel-personio/dev/memdb"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/operator"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
)

// gatedDB is the in-memory DynamoDB behind the scheduler's gates: every
// call is a step of its own.
type gatedDB struct {
	s  *Sched
	db *memdb.DB
	// marking, if set, is called as an erasure marker is written, before
	// it is (the simulator notes which deliveries were in flight).
	marking func(hash string)
	// called, if set, is told every call (the operation and its input)
	// before it is made: the caller's policy must grant it.
	called func(op string, params any)
}

// gate passes the call's gate and tells called.
func (g gatedDB) gate(ctx context.Context, op string, params any) {
	g.s.Gate(ctx, "dynamodb "+op, g.s.Latency(2*time.Millisecond, 15*time.Millisecond))
	if g.called != nil {
		g.called(op, params)
	}
}

func (g gatedDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	g.gate(ctx, "GetItem", in)
	return g.db.GetItem(ctx, in, o...)
}

func (g gatedDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	g.gate(ctx, "PutItem", in)
	if sk, ok := in.Item["sk"].(*types.AttributeValueMemberS); ok && g.marking != nil && strings.HasPrefix(sk.Value, "ERASED#") {
		g.marking(strings.TrimPrefix(sk.Value, "ERASED#"))
	}
	return g.db.PutItem(ctx, in, o...)
}

func (g gatedDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	g.gate(ctx, "UpdateItem", in)
	return g.db.UpdateItem(ctx, in, o...)
}

func (g gatedDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	g.gate(ctx, "DeleteItem", in)
	return g.db.DeleteItem(ctx, in, o...)
}

func (g gatedDB) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	g.gate(ctx, "Query", in)
	return g.db.Query(ctx, in, o...)
}

func (g gatedDB) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	g.gate(ctx, "Scan", in)
	return g.db.Scan(ctx, in, o...)
}

func (g gatedDB) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	g.gate(ctx, "BatchGetItem", in)
	return g.db.BatchGetItem(ctx, in, o...)
}

func (g gatedDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	g.gate(ctx, "TransactWriteItems", in)
	return g.db.TransactWriteItems(ctx, in, o...)
}

// vault is Secrets Manager: tokens by workspace and connection.
type vault struct {
	s       *Sched
	tokens  map[string]personio.Token
	secrets map[string]personio.Token // read-access client secrets
	n       int
}

func (v *vault) Create(ctx context.Context, ws, conn string, t personio.Token) (string, error) {
	v.s.Gate(ctx, "secretsmanager CreateSecret", v.s.Latency(5*time.Millisecond, 30*time.Millisecond))
	v.n++
	v.tokens[ws+"/"+conn] = t
	return fmt.Sprintf("arn:sim:secret:%d", v.n), nil
}

func (v *vault) Get(ctx context.Context, ws, conn string) (personio.Token, error) {
	v.s.Gate(ctx, "secretsmanager GetSecretValue", v.s.Latency(5*time.Millisecond, 30*time.Millisecond))
	t, ok := v.tokens[ws+"/"+conn]
	if !ok {
		return "", failure.New("vault: get", failure.NotFound, errors.New("no secret"))
	}
	return t, nil
}

func (v *vault) Put(ctx context.Context, ws, conn string, t personio.Token) error {
	v.s.Gate(ctx, "secretsmanager PutSecretValue", v.s.Latency(5*time.Millisecond, 30*time.Millisecond))
	v.tokens[ws+"/"+conn] = t
	return nil
}

func (v *vault) Delete(ctx context.Context, ws, conn string) error {
	v.s.Gate(ctx, "secretsmanager DeleteSecret", v.s.Latency(5*time.Millisecond, 30*time.Millisecond))
	delete(v.tokens, ws+"/"+conn)
	delete(v.secrets, ws+"/"+conn)
	return nil
}

func (v *vault) ReadSecret(ctx context.Context, ws, conn string) (personio.Token, error) {
	if _, err := v.Get(ctx, ws, conn); err != nil {
		return "", err
	}
	return v.secrets[ws+"/"+conn], nil
}

func (v *vault) PutReadSecret(ctx context.Context, ws, conn string, secret personio.Token) error {
	v.s.Gate(ctx, "secretsmanager PutSecretValue", v.s.Latency(5*time.Millisecond, 30*time.Millisecond))
	if _, ok := v.tokens[ws+"/"+conn]; !ok {
		return failure.New("vault: put read secret", failure.NotFound, errors.New("no secret"))
	}
	if secret == "" {
		delete(v.secrets, ws+"/"+conn)
	} else {
		v.secrets[ws+"/"+conn] = secret
	}
	return nil
}

// message is one SQS message.
type message struct {
	id        string
	eventID   string
	body      []byte
	attrs     map[string]string
	visibleAt time.Time
	receives  int
	receipt   string
	sentAt    time.Time
}

// sqs is a standard queue with its dead-letter queue: delays, visibility
// timeouts, receive counts, and the move to the dead-letter queue when a
// message is received more than maxReceive times.
type sqs struct {
	s          *Sched
	msgs       []*message
	dead       []*message
	visibility time.Duration
	maxReceive int
	seq        int
}

func (q *sqs) Send(ctx context.Context, m queue.Message) error {
	q.s.Gate(ctx, "sqs SendMessage", q.s.Latency(5*time.Millisecond, 25*time.Millisecond))
	q.seq++
	attrs := map[string]string{}
	for k, v := range m.Attributes {
		attrs[k] = v
	}
	q.msgs = append(q.msgs, &message{id: fmt.Sprintf("msg-%d", q.seq), eventID: m.ID, body: m.Body, attrs: attrs,
		visibleAt: q.s.Now().Add(min(m.Delay, queue.MaxDelay)), sentAt: q.s.Now()})
	return nil
}

func (q *sqs) byReceipt(receipt string) *message {
	for _, m := range q.msgs {
		if m.receipt == receipt {
			return m
		}
	}
	return nil
}

// Defer hides a received message for d (ChangeMessageVisibility).
func (q *sqs) Defer(ctx context.Context, receipt string, d time.Duration) error {
	q.s.Gate(ctx, "sqs ChangeMessageVisibility", q.s.Latency(5*time.Millisecond, 25*time.Millisecond))
	if m := q.byReceipt(receipt); m != nil {
		m.visibleAt = q.s.Now().Add(min(d, queue.MaxVisibility))
		return nil
	}
	return failure.New("queue: defer", failure.Invalid, errors.New("receipt handle is not valid"))
}

func (q *sqs) delete(ctx context.Context, receipt string) {
	q.s.Gate(ctx, "sqs DeleteMessage", q.s.Latency(5*time.Millisecond, 25*time.Millisecond))
	for i, m := range q.msgs {
		if m.receipt == receipt {
			q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
			return
		}
	}
}

// receive takes up to n visible messages, as the event source mapping
// does; a message received more than maxReceive times goes to the
// dead-letter queue instead.
func (q *sqs) receive(ctx context.Context, n int) []*message {
	q.s.Gate(ctx, "sqs ReceiveMessage", q.s.Latency(5*time.Millisecond, 25*time.Millisecond))
	var out []*message
	now := q.s.Now()
	for i := 0; i < len(q.msgs) && len(out) < n; {
		m := q.msgs[i]
		if m.visibleAt.After(now) {
			i++
			continue
		}
		if m.receives >= q.maxReceive {
			q.dead = append(q.dead, m)
			q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
			continue
		}
		m.receives++
		q.seq++
		m.receipt = fmt.Sprintf("%s/%d", m.id, q.seq)
		m.visibleAt = now.Add(q.visibility)
		out = append(out, m)
		i++
	}
	return out
}

// sdkQueue is the queue as the operator command sees it (the SDK's
// client): a SendMessage is the queue's Send, with the message's id the
// event's (SendMessage has no id; the body names its event). The
// operator's other SQS calls are not made in the simulator.
type sdkQueue struct {
	operator.SQS
	q roleQueue
}

func (a sdkQueue) SendMessage(ctx context.Context, in *awssqs.SendMessageInput, _ ...func(*awssqs.Options)) (*awssqs.SendMessageOutput, error) {
	body := []byte(aws.ToString(in.MessageBody))
	var e struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &e)
	m := queue.Message{ID: e.ID, Group: aws.ToString(in.MessageGroupId), Body: body, Delay: time.Duration(in.DelaySeconds) * time.Second,
		Attributes: map[string]string{}}
	for k, v := range in.MessageAttributes {
		m.Attributes[k] = aws.ToString(v.StringValue)
	}
	if err := a.q.Send(ctx, m); err != nil {
		return nil, err
	}
	return &awssqs.SendMessageOutput{}, nil
}

// redrive moves the dead-letter queue's messages back (the operator's
// redrive), with their receive counts reset.
func (q *sqs) redrive(ctx context.Context) int {
	q.s.Gate(ctx, "sqs StartMessageMoveTask", q.s.Latency(5*time.Millisecond, 25*time.Millisecond))
	n := len(q.dead)
	for _, m := range q.dead {
		m.receives, m.visibleAt, m.receipt = 0, q.s.Now(), ""
		q.msgs = append(q.msgs, m)
	}
	q.dead = nil
	return n
}

func (q *sqs) sqsEvent(ms []*message) events.SQSEvent {
	var ev events.SQSEvent
	for _, m := range ms {
		rec := events.SQSMessage{MessageId: m.id, ReceiptHandle: m.receipt, Body: string(m.body),
			Attributes: map[string]string{"ApproximateReceiveCount": fmt.Sprint(m.receives),
				"SentTimestamp": fmt.Sprint(m.sentAt.UnixMilli())},
			MessageAttributes: map[string]events.SQSMessageAttribute{}}
		for k, v := range m.attrs {
			rec.MessageAttributes[k] = events.SQSMessageAttribute{StringValue: &v, DataType: "String"}
		}
		ev.Records = append(ev.Records, rec)
	}
	return ev
}

// faults are the shares of Personio requests that fail on purpose.
type faults struct {
	error500, lost float64
}

// personioNet carries the Personio client's requests to the sandbox in
// process: a gate before each request reaches Personio and one after
// Personio acted, before the answer reaches the caller (a crash there is
// a worker that died after Personio created the application). A lost
// answer is a request Personio acted on whose answer never came.
type personioNet struct {
	s       *Sched
	sandbox http.Handler
	faults  faults
	// lost counts the answers lost on purpose.
	lost int
	// served counts the requests Personio served (the checks read
	// Personio again only when it changed).
	served int
	// slow are the feeds (by path) that do not answer: the client waits
	// its whole timeout for each.
	slow    map[string]bool
	timeout time.Duration
	// checked, if set, is told of every credential check (the blank
	// application Verify posts) as it reaches Personio, with its
	// company.
	checked func(ctx context.Context, company string)
	// unanswered, if set, is told of every credential check whose
	// answer never came (a 500 or a lost answer: the check learnt
	// nothing), with its company.
	unanswered func(ctx context.Context, company string)
}

type lostAnswer struct{}

func (lostAnswer) Error() string   { return "sim: the answer was lost (connection reset)" }
func (lostAnswer) Timeout() bool   { return true }
func (lostAnswer) Temporary() bool { return true }

// timedOut is a request that got no answer within the client's timeout.
type timedOut struct{}

func (timedOut) Error() string   { return "sim: no answer within the client's timeout" }
func (timedOut) Timeout() bool   { return true }
func (timedOut) Temporary() bool { return true }

func (p *personioNet) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx := r.Context()
	api := strings.HasPrefix(r.URL.Path, "/v1/")
	if p.slow[r.URL.Path] {
		p.s.Gate(ctx, "personio "+r.Method+" "+r.URL.Path+" (no answer)", p.timeout)
		return nil, timedOut{}
	}
	p.s.Gate(ctx, "personio "+r.Method+" "+r.URL.Path, p.s.Latency(20*time.Millisecond, 300*time.Millisecond))
	if r.Body == nil {
		r.Body = http.NoBody
	}
	check := r.Method == http.MethodPost && r.URL.Path == "/v1/recruiting/applications"
	if p.checked != nil && check {
		p.checked(ctx, r.Header.Get("X-Company-ID"))
	}
	if api && p.s.Float() < p.faults.error500 {
		p.unanswer(ctx, check, r)
		return &http.Response{StatusCode: 500, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(`{"success":false,"error":{"code":500,"message":"Internal Server Error"}}`)), Request: r}, nil
	}
	rec := httptest.NewRecorder()
	p.sandbox.ServeHTTP(rec, r)
	p.served++
	lose := api && p.s.Float() < p.faults.lost
	p.s.Gate(ctx, "personio answered", p.s.Latency(20*time.Millisecond, 500*time.Millisecond))
	if lose {
		p.lost++
		p.unanswer(ctx, check, r)
		return nil, lostAnswer{}
	}
	res := rec.Result()
	res.Request = r
	return res, nil
}

// unanswer tells unanswered of a credential check that learnt nothing.
func (p *personioNet) unanswer(ctx context.Context, check bool, r *http.Request) {
	if p.unanswered != nil && check {
		p.unanswered(ctx, r.Header.Get("X-Company-ID"))
	}
}
