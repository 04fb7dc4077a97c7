// Package awscalls records the IAM actions a process's AWS calls need, and
// the resource each names, so that a test can hold what a command or a
// function calls against the policy the stack gives it. A Recorder is
// added to an aws.Config (Config); it sees every call the SDK clients built
// from that configuration make, answered or refused.
//
// An action is IAM's ("dynamodb:PutItem"): a DynamoDB transaction is the
// actions of its parts (a TransactWriteItems with a Put and a Delete needs
// dynamodb:PutItem and dynamodb:DeleteItem), a TransactGetItems
// dynamodb:GetItem. A resource is a label the caller gives the names of
// its table, queues and secrets ("Table", "Table/index/parked",
// "DeadLetters"), as the stack's template names them. STS's
// GetCallerIdentity needs no permission and is not recorded.
package awscalls

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"
)

// Recorder records calls. It is safe for concurrent use; use New.
type Recorder struct {
	mu     sync.Mutex
	labels map[string]string
	caller func(context.Context) string
	calls  map[string]bool
}

// WithCaller makes each call recorded as "caller: resource action", the
// caller named by its context (awsmeter.CallerOf: the function that made
// it); a call whose context names none is not recorded.
func (r *Recorder) WithCaller(f func(context.Context) string) *Recorder {
	r.caller = f
	return r
}

// New returns a Recorder that labels resources by labels: a table name, a
// queue's URL, name or ARN, a secret's name or ARN → its label. A resource
// it has no label for is recorded as "?" and its name.
func New(labels map[string]string) *Recorder {
	return &Recorder{labels: labels, calls: map[string]bool{}}
}

// Config returns a copy of cfg whose clients' calls are recorded.
func (r *Recorder) Config(cfg aws.Config) aws.Config {
	out := cfg.Copy()
	out.APIOptions = append(slices.Clone(cfg.APIOptions), func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("awscalls", r.record), middleware.Before)
	})
	return out
}

// Take returns the calls recorded since New or the last Take, sorted,
// each "resource action", and forgets them.
func (r *Recorder) Take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for c := range r.calls {
		out = append(out, c)
	}
	slices.Sort(out)
	r.calls = map[string]bool{}
	return out
}

func (r *Recorder) record(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
	service, op := awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx)
	prefix := prefixes[service]
	who := ""
	if r.caller != nil {
		if who = r.caller(ctx); who == "" {
			prefix = ""
		} else {
			who += ": "
		}
	}
	if prefix != "" {
		r.mu.Lock()
		for _, c := range r.Needs(service, op, in.Parameters) {
			r.calls[who+c] = true
		}
		r.mu.Unlock()
	}
	return next.HandleInitialize(ctx, in)
}

// prefixes are IAM's names of the services recorded, by the SDK's.
var prefixes = map[string]string{"DynamoDB": "dynamodb", "SQS": "sqs", "Secrets Manager": "secretsmanager"}

// Needs lists what one call needs, as Take gives it: "resource action"
// pairs. service is the SDK's ("DynamoDB", "SQS", "Secrets Manager"), op
// the operation ("PutItem"), params its input; a caller that calls a
// stand-in of the service (the simulator) asks it directly.
func (r *Recorder) Needs(service, op string, params any) []string {
	prefix := prefixes[service]
	if prefix == "" {
		return nil
	}
	switch p := params.(type) {
	case *dynamodb.TransactWriteItemsInput:
		var out []string
		for _, it := range p.TransactItems {
			switch {
			case it.Put != nil:
				out = append(out, r.label(aws.ToString(it.Put.TableName))+" dynamodb:PutItem")
			case it.Delete != nil:
				out = append(out, r.label(aws.ToString(it.Delete.TableName))+" dynamodb:DeleteItem")
			case it.Update != nil:
				out = append(out, r.label(aws.ToString(it.Update.TableName))+" dynamodb:UpdateItem")
			case it.ConditionCheck != nil:
				out = append(out, r.label(aws.ToString(it.ConditionCheck.TableName))+" dynamodb:ConditionCheckItem")
			}
		}
		return out
	case *dynamodb.TransactGetItemsInput:
		var out []string
		for _, it := range p.TransactItems {
			out = append(out, r.label(aws.ToString(it.Get.TableName))+" dynamodb:GetItem")
		}
		return out
	case *dynamodb.BatchGetItemInput:
		var out []string
		for table := range p.RequestItems {
			out = append(out, r.label(table)+" dynamodb:BatchGetItem")
		}
		return out
	case *dynamodb.BatchWriteItemInput:
		var out []string
		for table := range p.RequestItems {
			out = append(out, r.label(table)+" dynamodb:BatchWriteItem")
		}
		return out
	}
	action := prefix + ":" + op
	var out []string
	for _, res := range r.resources(params) {
		out = append(out, res+" "+action)
	}
	return out
}

// resources are the labels of what a call's input names: its table (or
// the table's index), its queue (or, for a message move task, its source
// and destination), its secret.
func (r *Recorder) resources(params any) []string {
	v := reflect.Indirect(reflect.ValueOf(params))
	field := func(name string) string {
		if v.Kind() != reflect.Struct {
			return ""
		}
		f := v.FieldByName(name)
		if !f.IsValid() || f.Kind() != reflect.Pointer || f.IsNil() || f.Elem().Kind() != reflect.String {
			return ""
		}
		return f.Elem().String()
	}
	if t := field("TableName"); t != "" {
		if ix := field("IndexName"); ix != "" {
			return []string{r.label(t) + "/index/" + ix}
		}
		return []string{r.label(t)}
	}
	var out []string
	for _, name := range []string{"QueueUrl", "QueueName", "SourceArn", "DestinationArn", "SecretId", "Name"} {
		if s := field(name); s != "" {
			out = append(out, r.label(s))
		}
	}
	if len(out) == 0 {
		out = append(out, "*")
	}
	return out
}

// label names a resource by its label: the label of its name, or of the
// longest name it holds (a queue's name in its URL or ARN).
func (r *Recorder) label(name string) string {
	if l, ok := r.labels[name]; ok {
		return l
	}
	best, label := "", "?"+name
	for k, l := range r.labels {
		if len(k) > len(best) && strings.Contains(name, k) {
			best, label = k, l
		}
	}
	return label
}
