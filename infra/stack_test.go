package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// template synthesises the stack with dummy binaries.
func template(t *testing.T) (assertions.Template, map[string]any) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"api", "ingest", "worker"} {
		if err := os.MkdirAll(filepath.Join(dir, f), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	p := DefaultProps()
	p.AssetDir = dir
	s := NewStack(app, "Test", p)
	tpl := assertions.Template_FromStack(s.Stack, nil)
	var raw map[string]any
	b, _ := json.Marshal(tpl.ToJSON())
	_ = json.Unmarshal(b, &raw)
	return tpl, raw
}

var cached struct {
	tpl assertions.Template
	raw map[string]any
}

func tpl(t *testing.T) (assertions.Template, map[string]any) {
	if cached.raw == nil {
		cached.tpl, cached.raw = template(t)
	}
	return cached.tpl, cached.raw
}

func TestResources(t *testing.T) {
	tp, _ := tpl(t)
	for typ, n := range map[string]float64{
		"AWS::Lambda::Function": 3, "AWS::SQS::Queue": 2, "AWS::DynamoDB::Table": 1, "AWS::ApiGatewayV2::Api": 1,
		"AWS::ApiGatewayV2::Authorizer": 1, "AWS::ApiGatewayV2::Route": 2, "AWS::ApiGatewayV2::Stage": 1,
		"AWS::SecretsManager::Secret": 2, "AWS::CloudWatch::Alarm": 5, "AWS::SNS::Topic": 1, "AWS::KMS::Key": 1,
		"AWS::Lambda::EventSourceMapping": 1,
	} {
		tp.ResourceCountIs(jsii.String(typ), jsii.Number(n))
	}
	for _, o := range []string{"ApiUrl", "QueueUrl", "TableName", "TopicArn"} {
		tp.HasOutput(jsii.String(o), map[string]any{})
	}
}

func TestFunctions(t *testing.T) {
	tp, _ := tpl(t)
	tp.AllResourcesProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
		"Runtime": "provided.al2023", "Architectures": []any{"arm64"}, "Handler": "bootstrap",
		"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{
			"TABLE_NAME": assertions.Match_AnyValue(), "QUEUE_URL": assertions.Match_AnyValue(), "HASH_KEY_SECRET_ID": assertions.Match_AnyValue()})},
	})
	tp.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{"Timeout": DefaultProps().Settings.WorkerTimeout.Seconds(), "MemorySize": 512})
	tp.AllResourcesProperties(jsii.String("AWS::Logs::LogGroup"), map[string]any{"RetentionInDays": 30})
	tp.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
		"BatchSize": 10, "MaximumBatchingWindowInSeconds": 1, "FunctionResponseTypes": []any{"ReportBatchItemFailures"},
		"ScalingConfig": map[string]any{"MaximumConcurrency": 20},
	})
}

func TestQueues(t *testing.T) {
	tp, _ := tpl(t)
	set := DefaultProps().Settings
	tp.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]any{
		"VisibilityTimeout": set.VisibilityTimeout().Seconds(), "SqsManagedSseEnabled": true,
		"RedrivePolicy": map[string]any{"maxReceiveCount": set.MaxReceiveCount, "deadLetterTargetArn": assertions.Match_AnyValue()},
	})
}

func TestTable(t *testing.T) {
	tp, _ := tpl(t)
	var gsis []any
	for _, ix := range store.Table.Indexes {
		gsis = append(gsis, assertions.Match_ObjectLike(&map[string]any{"IndexName": ix.Name}))
	}
	tp.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
		"BillingMode": "PAY_PER_REQUEST", "DeletionProtectionEnabled": true,
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
		"SSESpecification":                 map[string]any{"SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": assertions.Match_AnyValue()},
		"TimeToLiveSpecification":          map[string]any{"AttributeName": store.AttrTTL, "Enabled": true},
		"KeySchema":                        []any{map[string]any{"AttributeName": store.AttrPK, "KeyType": "HASH"}, map[string]any{"AttributeName": store.AttrSK, "KeyType": "RANGE"}},
		"GlobalSecondaryIndexes":           assertions.Match_ArrayWith(&gsis),
	})
	tp.HasResource(jsii.String("AWS::DynamoDB::Table"), map[string]any{"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
}

func TestAPI(t *testing.T) {
	tp, raw := tpl(t)
	tp.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Authorizer"), map[string]any{
		"AuthorizerType": "JWT", "JwtConfiguration": map[string]any{"Issuer": "https://auth.example.com/", "Audience": []any{"funnel-personio"}},
	})
	tp.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), map[string]any{
		"StageName": "$default", "AutoDeploy": true,
		"DefaultRouteSettings": map[string]any{"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100},
		"AccessLogSettings":    assertions.Match_ObjectLike(&map[string]any{"DestinationArn": assertions.Match_AnyValue()}),
	})
	tp.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Api"), map[string]any{
		"CorsConfiguration": assertions.Match_ObjectLike(&map[string]any{"AllowOrigins": []any{"https://app.example.com"}}),
	})
	// The editor routes need the JWT; ingest does not.
	routes := map[string]string{}
	for _, r := range raw["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::ApiGatewayV2::Route" {
			continue
		}
		props := res["Properties"].(map[string]any)
		at, _ := props["AuthorizationType"].(string)
		routes[props["RouteKey"].(string)] = at
	}
	if routes["ANY /v1/{proxy+}"] != "JWT" || (routes["POST /v1/events"] != "" && routes["POST /v1/events"] != "NONE") {
		t.Errorf("routes and their authorization: %v", routes)
	}
}

// TestIAM walks every policy statement: no wildcard action, no wildcard
// resource, Secrets Manager only under the stack's prefix, no managed
// FullAccess policy.
func TestIAM(t *testing.T) {
	_, raw := tpl(t)
	prefix := DefaultProps().Settings.SecretPrefix + "/*"
	statements := 0
	for name, r := range raw["Resources"].(map[string]any) {
		res := r.(map[string]any)
		props, _ := res["Properties"].(map[string]any)
		switch res["Type"] {
		case "AWS::IAM::Role":
			b, _ := json.Marshal(props["ManagedPolicyArns"])
			if strings.Contains(string(b), "FullAccess") {
				t.Errorf("%s has a FullAccess managed policy: %s", name, b)
			}
		case "AWS::IAM::Policy":
			doc := props["PolicyDocument"].(map[string]any)
			for _, s := range doc["Statement"].([]any) {
				st := s.(map[string]any)
				statements++
				for _, a := range list(st["Action"]) {
					if a == "*" || strings.HasSuffix(a, ":*") {
						t.Errorf("%s: wildcard action %q", name, a)
					}
				}
				res, _ := json.Marshal(st["Resource"])
				if string(res) == `"*"` || strings.Contains(string(res), `["*"`) {
					t.Errorf("%s: wildcard resource for %v", name, st["Action"])
				}
				for _, a := range list(st["Action"]) {
					if strings.HasPrefix(a, "secretsmanager:") && !strings.Contains(string(res), prefix) && !strings.Contains(string(res), "Ref") {
						t.Errorf("%s: %s outside the prefix %s: %s", name, a, prefix, res)
					}
				}
			}
		}
	}
	if statements < 6 {
		t.Errorf("only %d statements walked", statements)
	}
}

func list(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
