// Package awsmeter counts what a run of the stack asks of AWS: every
// request the SDK clients make, by caller (the function that made it),
// service and operation, with what AWS bills it by — DynamoDB's read and
// write units (as DynamoDB reports them, or computed from item sizes where
// the emulator reports none), SQS's 64 KB chunks —, each function's
// invocations and billed duration, and the bytes the stack logs. Cost turns
// such a Usage into dollars per million delivered applications with a price
// table kept beside it (prices.json).
//
// A Meter is added to an aws.Config (Config); the local stack tells it of
// each invocation it plays (Invoke) and who polls its queues (Caller).
package awsmeter

import (
	"bytes"
	"context"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
)

// Meter counts requests, invocations and log bytes. It is safe for
// concurrent use; its zero value is not: use New.
type Meter struct {
	mu        sync.Mutex
	requests  map[opKey]*Request
	functions map[string]*Function
	logBytes  int64
	logLines  int64
	tables    *tables
}

// New returns an empty meter.
func New() *Meter {
	m := &Meter{tables: newTables()}
	m.Reset()
	return m
}

// Reset forgets what was counted (not what it learnt of the tables and
// their items): a run counts from here, after its setup.
func (m *Meter) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests, m.functions, m.logBytes, m.logLines = map[opKey]*Request{}, map[string]*Function{}, 0, 0
}

// Config returns a copy of cfg whose clients are metered. The meter reads
// items back through cfg itself (unmetered) when it must learn an item's
// size to compute the units of a write the backend did not report.
func (m *Meter) Config(cfg aws.Config) aws.Config {
	m.tables.mu.Lock()
	if m.tables.peek == nil {
		m.tables.peek = awsclient.DynamoDB(cfg)
	}
	m.tables.mu.Unlock()
	out := cfg.Copy()
	out.APIOptions = append(slices.Clone(cfg.APIOptions), m.register)
	return out
}

// Usage is what a run asked of AWS, as counted.
type Usage struct {
	// Requests are by caller, service and operation, sorted.
	Requests []Request `json:"requests"`
	// Functions are the invocations the stack played, by function.
	Functions []Function `json:"functions"`
	// LogBytes and LogLines are what the stack wrote to its logs (each
	// function's log group on AWS), metric lines included.
	LogBytes int64 `json:"log_bytes"`
	LogLines int64 `json:"log_lines"`
}

// Request counts one operation of one caller.
type Request struct {
	// Caller is the function, or the event source feeding one
	// ("worker-source"), whose code made the requests; "" is outside the
	// stack (a run's own reads).
	Caller    string `json:"caller,omitempty"`
	Service   string `json:"service"`
	Operation string `json:"operation"`
	// Calls are the operation's calls; Attempts the HTTP requests they
	// took, retries included (what AWS bills).
	Calls    int64 `json:"calls"`
	Attempts int64 `json:"attempts"`
	// Empty counts SQS receives that returned no message.
	Empty int64 `json:"empty,omitempty"`
	// Chunks are SQS's billed requests: each 64 KB chunk of a request's
	// payload is one.
	Chunks int64 `json:"chunks,omitempty"`
	// ReadUnits and WriteUnits are DynamoDB's capacity consumed;
	// IndexWriteUnits the part of WriteUnits spent on global secondary
	// indexes. Reported counts the calls whose units DynamoDB reported
	// (ReturnConsumedCapacity); the others' are computed from item sizes.
	ReadUnits       float64 `json:"read_units,omitempty"`
	WriteUnits      float64 `json:"write_units,omitempty"`
	IndexWriteUnits float64 `json:"index_write_units,omitempty"`
	Reported        int64   `json:"reported,omitempty"`
	// Items counts DynamoDB's calls by the kinds of items they touch
	// (the sort key up to its first '#', joined by '+' in a transaction
	// or a batch read: "DELIVERY+ERASED"), so a report says which reads
	// and writes an application costs.
	Items map[string]int64 `json:"items,omitempty"`
}

// Billed is how many requests AWS bills: SQS's chunks, every other
// service's attempts.
func (r Request) Billed() int64 {
	if r.Chunks > 0 {
		return r.Chunks
	}
	return r.Attempts
}

// Function counts one function's invocations.
type Function struct {
	Name string `json:"name"`
	// Trigger is what invokes it: "api-gateway", "sqs" or "schedule".
	Trigger     string `json:"trigger"`
	Invocations int64  `json:"invocations"`
	// BilledMs adds up each invocation's duration rounded up to the
	// millisecond, as Lambda bills it.
	BilledMs int64 `json:"billed_ms"`
}

// Usage returns what was counted since New or Reset.
func (m *Meter) Usage() Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := Usage{LogBytes: m.logBytes, LogLines: m.logLines}
	for _, r := range m.requests {
		c := *r
		c.Items = maps.Clone(r.Items)
		u.Requests = append(u.Requests, c)
	}
	slices.SortFunc(u.Requests, func(a, b Request) int {
		return strings.Compare(a.Caller+"\x00"+a.Service+"\x00"+a.Operation, b.Caller+"\x00"+b.Service+"\x00"+b.Operation)
	})
	for _, f := range m.functions {
		u.Functions = append(u.Functions, *f)
	}
	slices.SortFunc(u.Functions, func(a, b Function) int { return strings.Compare(a.Name, b.Name) })
	return u
}

type callerKey struct{}

// Caller returns ctx naming who makes the requests made in it: a function,
// or an event source polling a queue for one.
func (m *Meter) Caller(ctx context.Context, who string) context.Context {
	return context.WithValue(ctx, callerKey{}, who)
}

// CallerOf is who ctx names as making its requests (Caller, Invoke): ""
// outside the stack's functions and event sources.
func CallerOf(ctx context.Context) string { return callerOf(ctx) }

func callerOf(ctx context.Context) string {
	s, _ := ctx.Value(callerKey{}).(string)
	return s
}

// Invoke counts an invocation of function, which trigger started: it
// returns the context to run it in (its requests are the function's) and a
// func to call when it returns.
func (m *Meter) Invoke(ctx context.Context, function, trigger string) (context.Context, func()) {
	start := time.Now()
	return m.Caller(ctx, function), func() {
		ms := int64(math.Ceil(float64(time.Since(start)) / float64(time.Millisecond)))
		m.mu.Lock()
		defer m.mu.Unlock()
		f := m.functions[function]
		if f == nil {
			f = &Function{Name: function, Trigger: trigger}
			m.functions[function] = f
		}
		f.Invocations++
		f.BilledMs += max(ms, 1)
	}
}

// Log returns a writer that counts the bytes and lines written through it
// to w: the stack's log lines, as CloudWatch Logs would ingest them.
func (m *Meter) Log(w io.Writer) io.Writer { return &logCounter{m: m, w: w} }

type logCounter struct {
	m *Meter
	w io.Writer
}

func (l *logCounter) Write(p []byte) (int, error) {
	lines := int64(bytes.Count(p, []byte("\n")))
	if lines == 0 && len(p) > 0 {
		lines = 1
	}
	l.m.mu.Lock()
	l.m.logBytes += int64(len(p))
	l.m.logLines += lines
	l.m.mu.Unlock()
	return l.w.Write(p)
}

type opKey struct{ caller, service, op string }

// call is one operation call being counted.
type call struct {
	attempts int64
}

type callKey struct{}

// register adds the meter to a client's middleware stack: once per call at
// the Initialize step (the typed input and output), once per attempt at
// the Finalize step, inside the retry loop.
func (m *Meter) register(stack *middleware.Stack) error {
	if err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("awsmeter", m.initialize), middleware.After); err != nil {
		return err
	}
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("awsmeter-attempt", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
		if c, ok := ctx.Value(callKey{}).(*call); ok {
			c.attempts++
		}
		return next.HandleFinalize(ctx, in)
	}), middleware.After)
}

func (m *Meter) initialize(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	service, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
	c := &call{}
	ctx = context.WithValue(ctx, callKey{}, c)
	var dd *dynamoCall
	kinds := ""
	if service == dynamodb.ServiceID {
		dd = m.tables.before(&in)
		kinds = m.tables.kinds(in.Parameters)
	}
	out, md, err := next.HandleInitialize(ctx, in)
	var units capacity
	if dd != nil {
		units = m.tables.after(ctx, dd, out.Result, err)
	}
	chunks, empty := int64(0), false
	if service == sqsService {
		chunks, empty = sqsChunks(in.Parameters, out.Result)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := opKey{callerOf(ctx), service, op}
	r := m.requests[k]
	if r == nil {
		r = &Request{Caller: k.caller, Service: service, Operation: op}
		m.requests[k] = r
	}
	r.Calls++
	if kinds != "" {
		if r.Items == nil {
			r.Items = map[string]int64{}
		}
		r.Items[kinds]++
	}
	r.Attempts += max(c.attempts, 1)
	r.Chunks += chunks * max(c.attempts, 1)
	if empty {
		r.Empty++
	}
	r.ReadUnits += units.read
	r.WriteUnits += units.write
	r.IndexWriteUnits += units.indexWrite
	if units.reported {
		r.Reported++
	}
	return out, md, err
}
