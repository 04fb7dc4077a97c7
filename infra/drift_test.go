package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/funnel-personio/funnel-personio/pkg/apilambda"
	"github.com/funnel-personio/funnel-personio/pkg/ingestlambda"
	"github.com/funnel-personio/funnel-personio/pkg/notifierlambda"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/watchlambda"
	"github.com/funnel-personio/funnel-personio/pkg/workerlambda"
)

// anySecret answers every secret with a value, as Secrets Manager would
// the stack's generated ones.
type anySecret struct{}

func (anySecret) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String("value of " + aws.ToString(in.SecretId))}, nil
}

// TestFunctionsReadTheStack synthesises the stack and reads each
// function's settings from its environment in the template, as the
// function does at cold start. What a function reads must be what the
// stack is: its own timeout, the queue's receive count and visibility
// timeout, and every setting of the deployment. A value changed in one
// place only (a timeout written into the stack, a receive count passed to
// the queue but not to the worker) fails here.
func TestFunctionsReadTheStack(t *testing.T) {
	_, raw := tpl(t)
	want := DefaultProps().Settings
	resources := raw["Resources"].(map[string]any)
	var queue, notifyQueue map[string]any
	functions := map[string]map[string]any{}
	for id, r := range resources {
		res := r.(map[string]any)
		props, _ := res["Properties"].(map[string]any)
		switch res["Type"] {
		case "AWS::Lambda::Function":
			for _, name := range []string{"Api", "Ingest", "Worker", "Notifier", "Watch"} {
				if strings.HasPrefix(id, name) {
					functions[name] = props
				}
			}
		case "AWS::SQS::Queue":
			switch {
			case strings.HasPrefix(id, "Events"):
				queue = props
			case strings.HasPrefix(id, "Notify") && !strings.HasPrefix(id, "NotifyDeadLetters"):
				notifyQueue = props
			}
		}
	}
	if len(functions) != len(Functions) || queue == nil || notifyQueue == nil {
		t.Fatalf("found functions %v, queue %v, outbound queue %v", slices.Sorted(maps.Keys(functions)), queue != nil, notifyQueue != nil)
	}
	redrive := queue["RedrivePolicy"].(map[string]any)
	notifyRedrive := notifyQueue["RedrivePolicy"].(map[string]any)
	// GOMEMLIMIT is the Go runtime's own.
	known := map[string]bool{settings.VarHashKeySecret: true, settings.VarSigningSecret: true, settings.VarOutboundSecret: true, goMemLimit: true}
	for _, n := range settings.Names() {
		known[n] = true
	}
	for _, c := range []struct {
		name     string
		required []string
		timeout  func(settings.Settings) time.Duration
	}{
		{"Api", apilambda.Required, func(s settings.Settings) time.Duration { return s.APITimeout }},
		{"Ingest", ingestlambda.Required, func(s settings.Settings) time.Duration { return s.IngestTimeout }},
		{"Worker", workerlambda.Required, func(s settings.Settings) time.Duration { return s.WorkerTimeout }},
		{"Notifier", append(notifierlambda.Required[:0:0], settings.VarOutbound, settings.VarNotifyQueueURL), func(s settings.Settings) time.Duration { return s.NotifierTimeout() }},
		{"Watch", watchlambda.Required, func(s settings.Settings) time.Duration { return s.WatchTimeout() }},
	} {
		t.Run(c.name, func(t *testing.T) {
			fn := functions[c.name]
			vars := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
			for name := range known {
				t.Setenv(name, "")
			}
			for name, v := range vars {
				if !known[name] {
					t.Errorf("the stack sets %s, which no function reads", name)
				}
				s, ok := v.(string)
				if !ok { // a reference to a resource of the stack
					s = "stack:" + name
				}
				t.Setenv(name, s)
			}
			got, err := settings.FromEnv(t.Context(), anySecret{}, c.required...)
			if err != nil {
				t.Fatalf("the function would not start: %v", err)
			}
			if d := templateSeconds(fn["Timeout"]); d != c.timeout(got) {
				t.Errorf("the function's timeout is %s; it reads %s", d, c.timeout(got))
			}
			if m := fmt.Sprint(fn["MemorySize"]); m != fmt.Sprint(got.Memory[lower(c.name)]) {
				t.Errorf("the function's memory is %s MB; settings (and the load runs' prices) say %d", m, got.Memory[lower(c.name)])
			}
			if d := templateSeconds(queue["VisibilityTimeout"]); d != got.VisibilityTimeout() {
				t.Errorf("the queue's visibility timeout is %s; settings derive %s", d, got.VisibilityTimeout())
			}
			if n := fmt.Sprint(redrive["maxReceiveCount"]); n != fmt.Sprint(got.MaxReceiveCount) {
				t.Errorf("the queue sends a message to the DLQ after %s receives; the function reads %d", n, got.MaxReceiveCount)
			}
			nd := got.NotifyQueueDefinition("x")
			if d := templateSeconds(notifyQueue["VisibilityTimeout"]); d != nd.VisibilityTimeout {
				t.Errorf("the outbound queue's visibility timeout is %s; settings derive %s", d, nd.VisibilityTimeout)
			}
			if n := fmt.Sprint(notifyRedrive["maxReceiveCount"]); n != fmt.Sprint(nd.MaxReceiveCount) {
				t.Errorf("the outbound queue sends a message to its DLQ after %s receives; the function reads %d", n, nd.MaxReceiveCount)
			}
			if c.name == "Worker" {
				cfg := workerlambda.Config(got, workerlambda.Options{})
				if fmt.Sprint(cfg.MaxReceiveCount) != fmt.Sprint(redrive["maxReceiveCount"]) || cfg.Lease >= templateSeconds(queue["VisibilityTimeout"]) ||
					cfg.Lease <= templateSeconds(fn["Timeout"]) {
					t.Errorf("the worker's receive count %d and lease %s do not fit the queue (%v receives, visibility %s) and its timeout %s",
						cfg.MaxReceiveCount, cfg.Lease, redrive["maxReceiveCount"], templateSeconds(queue["VisibilityTimeout"]), templateSeconds(fn["Timeout"]))
				}
			}
			// Every deployment setting reaches the function as it is.
			gotEnv, wantEnv := got.Env(), want.Env()
			for _, name := range []string{settings.VarTable, settings.VarQueueURL, settings.VarNotifyQueueURL} {
				delete(gotEnv, name)
			}
			if !maps.Equal(gotEnv, wantEnv) {
				for _, name := range settings.Names() {
					if gotEnv[name] != wantEnv[name] {
						t.Errorf("%s: the function reads %q, the deployment says %q", name, gotEnv[name], wantEnv[name])
					}
				}
			}
			if len(got.HashKey) == 0 {
				t.Error("the function reads no hash key")
			}
		})
	}
}

// templateSeconds reads a template's number of seconds.
func templateSeconds(v any) time.Duration {
	f, _ := v.(float64)
	return time.Duration(f * float64(time.Second))
}
