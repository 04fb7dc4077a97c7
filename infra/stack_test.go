package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/funnel-personio/funnel-personio/pkg/metrics"
	"github.com/funnel-personio/funnel-personio/pkg/store"
	"github.com/funnel-personio/funnel-personio/web"
)

// template synthesises the stack with dummy binaries.
func template(t *testing.T) (assertions.Template, map[string]any) {
	t.Helper()
	return templateWith(t, func(*Props) {})
}

// templateWith synthesises the stack with dummy binaries and the default
// props as change leaves them.
func templateWith(t *testing.T, change func(*Props)) (assertions.Template, map[string]any) {
	t.Helper()
	dir := t.TempDir()
	for _, f := range Functions {
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
	change(&p)
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
		"AWS::Lambda::Function": 5, "AWS::SQS::Queue": 4, "AWS::DynamoDB::Table": 1, "AWS::ApiGatewayV2::Api": 1,
		"AWS::ApiGatewayV2::Authorizer": 1, "AWS::ApiGatewayV2::Route": 2, "AWS::ApiGatewayV2::Stage": 1,
		"AWS::SecretsManager::Secret": 3, "AWS::CloudWatch::Alarm": 5, "AWS::SNS::Topic": 1, "AWS::KMS::Key": 2,
		"AWS::Lambda::EventSourceMapping": 2, "AWS::Events::Rule": 1,
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
	tp.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{"Timeout": DefaultProps().Settings.WorkerTimeout.Seconds(), "MemorySize": 512,
		"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{"GOMEMLIMIT": "435MiB"})}})
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
	tp, raw := tpl(t)
	tp.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), map[string]any{
		"BillingMode": "PAY_PER_REQUEST", "DeletionProtectionEnabled": true,
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
		"SSESpecification":                 map[string]any{"SSEEnabled": true, "SSEType": "KMS", "KMSMasterKeyId": assertions.Match_AnyValue()},
		"TimeToLiveSpecification":          map[string]any{"AttributeName": store.AttrTTL, "Enabled": true},
		"KeySchema":                        []any{map[string]any{"AttributeName": store.AttrPK, "KeyType": "HASH"}, map[string]any{"AttributeName": store.AttrSK, "KeyType": "RANGE"}},
	})
	tp.HasResource(jsii.String("AWS::DynamoDB::Table"), map[string]any{"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})
	// Each index, its keys and what it projects: the delivery log the
	// stage and gsi2pk (written when a delivery is created and when it
	// comes to rest), parked and watch every attribute.
	want := map[string]string{
		"delivery_log": "gsi1pk/gsi1sk INCLUDE [gsi2pk stage]",
		"parked":       "parked_pk/gsi1sk ALL []",
		"watch":        "watch_pk/watch_sk ALL []",
	}
	if got := tableIndexesOf(t, raw); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("indexes %v, want %v", got, want)
	}
}

// tableIndexesOf is the template's table's indexes: keys, projection and
// the attributes it includes, by name.
func tableIndexesOf(t *testing.T, raw map[string]any) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, r := range raw["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::DynamoDB::Table" {
			continue
		}
		for _, g := range res["Properties"].(map[string]any)["GlobalSecondaryIndexes"].([]any) {
			ix := g.(map[string]any)
			var keys []string
			for _, k := range ix["KeySchema"].([]any) {
				keys = append(keys, k.(map[string]any)["AttributeName"].(string))
			}
			p := ix["Projection"].(map[string]any)
			var include []string
			if n, ok := p["NonKeyAttributes"].([]any); ok {
				for _, a := range n {
					include = append(include, a.(string))
				}
			}
			slices.Sort(include)
			out[ix["IndexName"].(string)] = fmt.Sprintf("%s %s %v", strings.Join(keys, "/"), p["ProjectionType"], include)
		}
	}
	return out
}

// TestKeepIndexes: the steps of the deploy that changes the indexes keep
// by_funnel and by_status (every attribute) beside the delivery log, and
// the operator may read by_funnel while the table has it; an index that
// is not one of the version before stops the synth.
func TestKeepIndexes(t *testing.T) {
	_, raw := templateWith(t, func(p *Props) { p.KeepIndexes = []string{store.IndexByFunnel, store.IndexByStatus} })
	want := map[string]string{
		"by_funnel":    "gsi1pk/gsi1sk ALL []",
		"by_status":    "gsi2pk/gsi1sk ALL []",
		"delivery_log": "gsi1pk/gsi1sk INCLUDE [gsi2pk stage]",
		"parked":       "parked_pk/gsi1sk ALL []",
		"watch":        "watch_pk/watch_sk ALL []",
	}
	if got := tableIndexesOf(t, raw); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("indexes %v, want %v", got, want)
	}
	if got := operatorPolicy(t, raw); !slices.Equal(got["Table/index/"+store.IndexByFunnel], []string{"dynamodb:Query"}) {
		t.Errorf("the operator's policy %v: no Query on by_funnel while the table keeps it", got)
	}
	if _, err := tableIndexes([]string{"by_whatever"}); err == nil || !strings.Contains(err.Error(), "by_whatever") {
		t.Errorf("an unknown index to keep: %v", err)
	}
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

// The actions of the table key that reading and writing a table encrypted
// with a customer managed key take (DynamoDB calls KMS on the caller's
// behalf); every function reads and writes.
var keyActions = []string{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"}

// wantPermissions is what each function may do, resource by resource, as
// docs/architecture.md's table "What each function may do" says: the actions the
// code calls (pkg/store, pkg/queue, pkg/vault, settings.Load) and the
// event source mapping's, nothing else. Resources are the template's
// logical ids without their hash; secret: is an ARN under the region and
// account.
var wantPermissions = map[string]map[string][]string{
	"Api": {
		"Table":               {"dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
		"Table/index/*":       {"dynamodb:Query"},
		"DataKey":             keyActions,
		"Events":              {"sqs:SendMessage"},
		"Notify":              {"sqs:SendMessage"},
		"HashKey":             {"secretsmanager:GetSecretValue"},
		"secret:" + connected: {"secretsmanager:CreateSecret", "secretsmanager:DeleteSecret", "secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:TagResource"},
	},
	"Ingest": {
		"Table":                {"dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query"},
		"Table/index/*":        {"dynamodb:Query"},
		"DataKey":              keyActions,
		"Events":               {"sqs:SendMessage"},
		"HashKey":              {"secretsmanager:GetSecretValue"},
		"WebhookSigningSecret": {"secretsmanager:GetSecretValue"},
	},
	"Worker": {
		"Table":               {"dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
		"Table/index/*":       {"dynamodb:Query"},
		"DataKey":             keyActions,
		"Events":              {"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:SendMessage"},
		"Notify":              {"sqs:SendMessage"},
		"HashKey":             {"secretsmanager:GetSecretValue"},
		"secret:" + connected: {"secretsmanager:GetSecretValue"},
	},
	"Notifier": {
		"Notify":                {"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"},
		"HashKey":               {"secretsmanager:GetSecretValue"},
		"OutboundSigningSecret": {"secretsmanager:GetSecretValue"},
	},
	"Watch": {
		"Table":               {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
		"Table/index/*":       {"dynamodb:Query"},
		"DataKey":             keyActions,
		"Events":              {"sqs:SendMessage"},
		"Notify":              {"sqs:SendMessage"},
		"HashKey":             {"secretsmanager:GetSecretValue"},
		"secret:" + connected: {"secretsmanager:GetSecretValue"},
	},
}

// connected is where the connections' secrets live.
var connected = DefaultProps().Settings.SecretPrefix + "/*"

// TestFunctionPermissions walks every policy of every role and compares
// what each function's role may do with wantPermissions: an action too
// many (a Scan, a BatchWriteItem, a DescribeSecret no code calls) or one
// missing fails, as does a policy on a role that is no function's.
func TestFunctionPermissions(t *testing.T) {
	_, raw := tpl(t)
	got := roleGrants(t, raw)
	holdCalls(t, got)
	for fn, byResource := range wantPermissions {
		t.Run(fn, func(t *testing.T) {
			want := map[string]bool{}
			for r, actions := range byResource {
				for _, a := range actions {
					want[r+" "+a] = true
				}
			}
			for _, p := range slices.Sorted(maps.Keys(got[fn])) {
				if !want[p] {
					t.Errorf("may do what no code of it calls: %s", p)
				}
			}
			for _, p := range slices.Sorted(maps.Keys(want)) {
				if !got[fn][p] {
					t.Errorf("may not do what it calls: %s", p)
				}
			}
		})
	}
}

// roleGrants is what each function's role may do: function → "resource
// action" (resources as resourceLabel renders them).
func roleGrants(t *testing.T, raw map[string]any) map[string]map[string]bool {
	t.Helper()
	resources := raw["Resources"].(map[string]any)
	roleOf := map[string]string{} // role's logical id → function
	for id, r := range resources {
		res := r.(map[string]any)
		if res["Type"] != "AWS::Lambda::Function" {
			continue
		}
		role := res["Properties"].(map[string]any)["Role"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
		roleOf[role] = logicalName(id)
	}
	got := map[string]map[string]bool{}
	for id, r := range resources {
		res := r.(map[string]any)
		if res["Type"] != "AWS::IAM::Policy" {
			continue
		}
		props := res["Properties"].(map[string]any)
		for _, role := range props["Roles"].([]any) {
			fn, ok := roleOf[role.(map[string]any)["Ref"].(string)]
			if !ok {
				t.Errorf("policy %s is on role %v, which is no function's", id, role)
				continue
			}
			if got[fn] == nil {
				got[fn] = map[string]bool{}
			}
			for _, s := range props["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				st := s.(map[string]any)
				if st["Effect"] != "Allow" {
					continue
				}
				rs, ok := st["Resource"].([]any)
				if !ok {
					rs = []any{st["Resource"]}
				}
				for _, r := range rs {
					for _, a := range list(st["Action"]) {
						got[fn][resourceLabel(r)+" "+a] = true
					}
				}
			}
		}
	}
	return got
}

// policiesGolden is every role's and the operator policy's grants, as
// the simulator holds each actor's calls to them (dev/sim: "no call
// outside the caller's policy"); TestPoliciesForTheSimulator keeps it
// equal to the template (-update rewrites it).
var policiesGolden = filepath.Join("..", "dev", "sim", "testdata", "policies.golden")

var update = flag.Bool("update", false, "rewrite the golden files")

// TestPoliciesForTheSimulator: the simulator's copy of the stack's
// policies is the template's ("Role: resource action" lines, the
// operator's as Operator).
func TestPoliciesForTheSimulator(t *testing.T) {
	_, raw := tpl(t)
	var lines []string
	for fn, granted := range roleGrants(t, raw) {
		for g := range granted {
			lines = append(lines, fn+": "+g)
		}
	}
	for r, actions := range operatorPolicy(t, raw) {
		for _, a := range actions {
			lines = append(lines, "Operator: "+r+" "+a)
		}
	}
	slices.Sort(lines)
	got := strings.Join(lines, "\n") + "\n"
	if *update {
		if err := os.WriteFile(policiesGolden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(policiesGolden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("%s is not the template's policies (go test ./infra -run TestPoliciesForTheSimulator -update):\n%s", policiesGolden, got)
	}
}

// logicalName is a logical id without the hash CDK appends
// (TableCD117FA1 → Table).
// holdCalls holds what each function was seen to call in the local
// stack (dev/localstack's TestFunctionCalls,
// dev/localstack/testdata/function-calls.golden) against what its role
// may do (granted: function → "resource action", a resource pattern such
// as Table/index/* matching the index called): no function calls what its
// role lacks. An event source's calls are its function's.
func holdCalls(t *testing.T, granted map[string]map[string]bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "dev", "localstack", "testdata", "function-calls.golden"))
	if err != nil {
		t.Fatal(err)
	}
	calls := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(calls) < 20 {
		t.Fatalf("only %d recorded calls", len(calls))
	}
	for _, line := range calls {
		caller, call, _ := strings.Cut(line, ": ")
		caller = strings.TrimSuffix(caller, "-source")
		fn := strings.ToUpper(caller[:1]) + caller[1:]
		resource, action, _ := strings.Cut(call, " ")
		ok := false
		for g := range granted[fn] {
			gr, ga, _ := strings.Cut(g, " ")
			if m, _ := path.Match(gr, resource); m && ga == action {
				ok = true
				break
			}
		}
		if !ok {
			t.Errorf("%s calls %s, which its role does not grant", fn, call)
		}
	}
}

func logicalName(id string) string {
	if len(id) > 8 {
		if _, err := strconv.ParseUint(id[len(id)-8:], 16, 64); err == nil {
			return id[:len(id)-8]
		}
	}
	return id
}

// resourceLabel renders a policy resource: a reference as its logical
// name, a join as its parts, a secret's ARN as secret:<name>.
func resourceLabel(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case map[string]any:
		if ref, ok := x["Ref"].(string); ok {
			if strings.HasPrefix(ref, "AWS::") {
				return "${" + ref + "}"
			}
			return logicalName(ref)
		}
		if att, ok := x["Fn::GetAtt"].([]any); ok {
			return logicalName(att[0].(string))
		}
		if join, ok := x["Fn::Join"].([]any); ok {
			var b strings.Builder
			for i, p := range join[1].([]any) {
				if i > 0 {
					b.WriteString(join[0].(string))
				}
				b.WriteString(resourceLabel(p))
			}
			return strings.Replace(b.String(), "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:", "secret:", 1)
		}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestRouteThrottles: ingest and the editor routes each have a throttle of
// their own (the README says why these numbers), keyed by their route
// keys, and the stage waits for the routes it names (CloudFormation
// refuses route settings for a route that does not exist yet).
func TestRouteThrottles(t *testing.T) {
	_, raw := tpl(t)
	routes := map[string]string{} // route key → logical id
	var stage map[string]any
	for id, r := range raw["Resources"].(map[string]any) {
		res := r.(map[string]any)
		switch res["Type"] {
		case "AWS::ApiGatewayV2::Route":
			routes[res["Properties"].(map[string]any)["RouteKey"].(string)] = id
		case "AWS::ApiGatewayV2::Stage":
			stage = res
		}
	}
	settings, _ := stage["Properties"].(map[string]any)["RouteSettings"].(map[string]any)
	want := map[string][2]float64{"POST /v1/events": {100, 200}, "ANY /v1/{proxy+}": {20, 40}}
	if len(settings) != len(want) || len(routes) != len(want) {
		t.Errorf("route settings for %v; routes %v; want %v", slices.Sorted(maps.Keys(settings)), slices.Sorted(maps.Keys(routes)), want)
	}
	deps := map[string]bool{}
	for _, d := range list(stage["DependsOn"]) {
		deps[d] = true
	}
	for key, rb := range want {
		rs, _ := settings[key].(map[string]any)
		if rs["ThrottlingRateLimit"] != rb[0] || rs["ThrottlingBurstLimit"] != rb[1] {
			t.Errorf("%s: throttle %v, want rate %v and burst %v", key, rs, rb[0], rb[1])
		}
		if id, ok := routes[key]; !ok || !deps[id] {
			t.Errorf("%s: route %q; the stage depends on %v", key, id, slices.Sorted(maps.Keys(deps)))
		}
	}
}

// TestAlarmTopicKey: the alarm topic is encrypted with a key of its own
// (not the table's), which rotates and whose policy lets CloudWatch, for
// alarms of this account and region only, use it to publish.
func TestAlarmTopicKey(t *testing.T) {
	_, raw := tpl(t)
	resources := raw["Resources"].(map[string]any)
	var topic map[string]any
	for _, r := range resources {
		if res := r.(map[string]any); res["Type"] == "AWS::SNS::Topic" {
			topic = res["Properties"].(map[string]any)
		}
	}
	ref, _ := topic["KmsMasterKeyId"].(map[string]any)
	att, _ := ref["Fn::GetAtt"].([]any)
	if len(att) == 0 {
		t.Fatalf("the alarm topic is not encrypted with a key of the stack: %v", topic)
	}
	key := resources[att[0].(string)].(map[string]any)
	props := key["Properties"].(map[string]any)
	if key["Type"] != "AWS::KMS::Key" || props["EnableKeyRotation"] != true {
		t.Errorf("the topic's key %s: %v", att[0], key)
	}
	if strings.HasPrefix(att[0].(string), "DataKey") {
		t.Errorf("the topic shares the table's key %s", att[0])
	}
	found := false
	for _, s := range props["KeyPolicy"].(map[string]any)["Statement"].([]any) {
		st := s.(map[string]any)
		principal, _ := json.Marshal(st["Principal"])
		if !strings.Contains(string(principal), "cloudwatch.amazonaws.com") {
			continue
		}
		found = true
		if got := list(st["Action"]); st["Effect"] != "Allow" || !slices.Equal(slices.Sorted(slices.Values(got)), []string{"kms:Decrypt", "kms:GenerateDataKey*"}) {
			t.Errorf("CloudWatch may %v (%v); want kms:Decrypt and kms:GenerateDataKey*", got, st["Effect"])
		}
		cond, _ := json.Marshal(st["Condition"])
		for _, want := range []string{`"aws:SourceAccount":{"Ref":"AWS::AccountId"}`, `"aws:SourceArn"`, `:cloudwatch:`, `:alarm:*`} {
			if !strings.Contains(string(cond), want) {
				t.Errorf("CloudWatch's use of the key is not scoped by %s: %s", want, cond)
			}
		}
	}
	if !found {
		t.Error("the topic's key policy does not let CloudWatch publish")
	}
}

// TestSite pins the setup page's hosting (infra/site.go): a nested stack
// with a private bucket behind CloudFront's origin access control, the
// page's security headers and the editor's CORS, /v1/* to the HTTP API on
// the same origin (no caching, every viewer header but Host), the files
// from web/static, and the SiteUrl output; its IAM has no wildcard action
// or resource.
func TestSite(t *testing.T) {
	tp, raw := tpl(t)
	tp.ResourceCountIs(jsii.String("AWS::CloudFormation::Stack"), jsii.Number(1))
	tp.HasOutput(jsii.String("SiteUrl"), map[string]any{})
	if _, ok := raw["Resources"]; !ok {
		t.Fatal("no resources")
	}
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	p := DefaultProps()
	p.AssetDir = t.TempDir()
	for _, f := range Functions {
		_ = os.MkdirAll(filepath.Join(p.AssetDir, f), 0o755)
		_ = os.WriteFile(filepath.Join(p.AssetDir, f, "bootstrap"), []byte("#!/bin/sh\n"), 0o755)
	}
	s := NewStack(app, "SiteTest", p)
	nested, ok := s.Stack.Node().TryFindChild(jsii.String("Site")).(awscdk.NestedStack)
	if !ok {
		t.Fatal("no nested stack Site")
	}
	site := assertions.Template_FromStack(nested, nil)
	for typ, n := range map[string]float64{"AWS::CloudFront::Distribution": 1, "AWS::S3::Bucket": 1, "AWS::CloudFront::OriginAccessControl": 1,
		"AWS::CloudFront::ResponseHeadersPolicy": 1, "Custom::CDKBucketDeployment": 1} {
		site.ResourceCountIs(jsii.String(typ), jsii.Number(n))
	}
	site.HasResourceProperties(jsii.String("AWS::S3::Bucket"), map[string]any{
		"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true},
		"BucketEncryption":               assertions.Match_AnyValue(),
	})
	const cachingDisabled, allViewerExceptHost = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad", "b689b0a8-53d0-40ab-baf2-68738e2966ac"
	site.HasResourceProperties(jsii.String("AWS::CloudFront::Distribution"), map[string]any{
		"DistributionConfig": assertions.Match_ObjectLike(&map[string]any{
			"DefaultRootObject": "index.html",
			"DefaultCacheBehavior": assertions.Match_ObjectLike(&map[string]any{
				"ViewerProtocolPolicy": "redirect-to-https", "Compress": true, "ResponseHeadersPolicyId": assertions.Match_AnyValue()}),
			"CacheBehaviors": []any{assertions.Match_ObjectLike(&map[string]any{
				"PathPattern": "/v1/*", "ViewerProtocolPolicy": "https-only", "CachePolicyId": cachingDisabled, "OriginRequestPolicyId": allViewerExceptHost,
				"AllowedMethods": []any{"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}})},
			"Origins": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{"S3OriginConfig": assertions.Match_AnyValue(), "OriginAccessControlId": assertions.Match_AnyValue()}),
				assertions.Match_ObjectLike(&map[string]any{"CustomOriginConfig": assertions.Match_ObjectLike(&map[string]any{"OriginProtocolPolicy": "https-only"})}),
			}),
		}),
	})
	site.HasResourceProperties(jsii.String("AWS::CloudFront::ResponseHeadersPolicy"), map[string]any{
		"ResponseHeadersPolicyConfig": assertions.Match_ObjectLike(&map[string]any{
			"SecurityHeadersConfig": assertions.Match_ObjectLike(&map[string]any{
				"ContentSecurityPolicy": map[string]any{"ContentSecurityPolicy": web.ContentSecurityPolicy, "Override": true}}),
			"CorsConfig": assertions.Match_ObjectLike(&map[string]any{
				"AccessControlAllowOrigins": map[string]any{"Items": []any{"https://app.example.com"}}, "AccessControlAllowCredentials": false}),
		}),
	})
	site.HasResourceProperties(jsii.String("Custom::CDKBucketDeployment"), map[string]any{
		"SystemMetadata": assertions.Match_ObjectLike(&map[string]any{"cache-control": "public, max-age=300"}), "Prune": true})

	var doc map[string]any
	b, _ := json.Marshal(site.ToJSON())
	_ = json.Unmarshal(b, &doc)
	statements := 0
	for name, r := range doc["Resources"].(map[string]any) {
		res := r.(map[string]any)
		props, _ := res["Properties"].(map[string]any)
		switch res["Type"] {
		case "AWS::IAM::Policy":
			for _, s := range props["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				st := s.(map[string]any)
				statements++
				for _, a := range list(st["Action"]) {
					if a == "*" || strings.HasSuffix(a, ":*") {
						t.Errorf("%s: wildcard action %q", name, a)
					}
				}
				if r, _ := json.Marshal(st["Resource"]); string(r) == `"*"` || strings.Contains(string(r), `["*"`) {
					t.Errorf("%s: wildcard resource for %v", name, st["Action"])
				}
			}
		case "AWS::S3::BucketPolicy":
			// Only CloudFront reads, and only for this distribution.
			for _, s := range props["PolicyDocument"].(map[string]any)["Statement"].([]any) {
				st := s.(map[string]any)
				if st["Effect"] != "Allow" {
					continue
				}
				pr, _ := json.Marshal(st["Principal"])
				cond, _ := json.Marshal(st["Condition"])
				if !strings.Contains(string(pr), "cloudfront.amazonaws.com") || !strings.Contains(string(cond), "AWS:SourceArn") || fmt.Sprint(st["Action"]) != "s3:GetObject" {
					t.Errorf("%s allows %v to %s (%s)", name, st["Action"], pr, cond)
				}
			}
		}
	}
	if statements == 0 {
		t.Error("no IAM statements walked in the site's stack")
	}
}

// dashboardBody renders the dashboard's body, its references written as
// the logical names they point to (without CDK's hash), and parses it.
func dashboardBody(t *testing.T, raw map[string]any) map[string]any {
	t.Helper()
	for _, r := range raw["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::CloudWatch::Dashboard" {
			continue
		}
		join := res["Properties"].(map[string]any)["DashboardBody"].(map[string]any)["Fn::Join"].([]any)
		var b strings.Builder
		for _, p := range join[1].([]any) {
			if s, ok := p.(string); ok {
				b.WriteString(s)
				continue
			}
			b.WriteString(resourceLabel(p))
		}
		var body map[string]any
		if err := json.Unmarshal([]byte(b.String()), &body); err != nil {
			t.Fatalf("the dashboard's body is not JSON: %v\n%s", err, b.String())
		}
		return body
	}
	t.Fatal("no dashboard")
	return nil
}

// TestDashboard pins the dashboard: its widgets row by row (titles as
// DashboardWidgets says), the metrics each one shows with their
// statistics, the alarms' states on top, and every metric the worker
// writes (pkg/metrics) somewhere on it.
func TestDashboard(t *testing.T) {
	tp, raw := tpl(t)
	tp.ResourceCountIs(jsii.String("AWS::CloudWatch::Dashboard"), jsii.Number(1))
	for _, o := range []string{"DashboardName", "DeadLetterQueueUrl"} {
		tp.HasOutput(jsii.String(o), map[string]any{})
	}
	body := dashboardBody(t, raw)
	ns := metrics.Namespace
	fn := func(metric, stat string) []string {
		var out []string
		for _, f := range []string{"Api", "Ingest", "Worker", "Notifier", "Watch"} {
			out = append(out, "AWS/Lambda "+metric+" FunctionName="+f+" "+stat)
		}
		return out
	}
	want := map[string][]string{
		"Deliveries per minute": {ns + " Delivered Sum", ns + " Unconfirmed Sum", ns + " Failed Sum", ns + " Dead Sum", ns + " Deferred Sum",
			ns + " Parked Sum", ns + " Retried Sum", ns + " Skipped Sum"},
		"End-to-end latency (event → Personio)": {ns + " EndToEndLatency p50", ns + " EndToEndLatency p99"},
		"Queue depth": {"AWS/SQS ApproximateNumberOfMessagesVisible QueueName=Events Maximum", "AWS/SQS ApproximateNumberOfMessagesNotVisible QueueName=Events Maximum",
			"AWS/SQS ApproximateNumberOfMessagesDelayed QueueName=Events Maximum"},
		"Oldest message in the queue": {"AWS/SQS ApproximateAgeOfOldestMessage QueueName=Events Maximum"},
		"Dead-letter queue depth": {"AWS/SQS ApproximateNumberOfMessagesVisible QueueName=DeadLetters Maximum",
			"AWS/SQS ApproximateNumberOfMessagesVisible QueueName=NotifyDeadLetters Maximum"},
		"Personio 429s per minute":      {ns + " RateLimited Sum"},
		"Connections needing attention": {ns + " ConnectionsNeedingAttention Sum"},
		"HTTP API requests and errors":  {"AWS/ApiGateway Count ApiId=HttpApi Sum", "AWS/ApiGateway 4xx ApiId=HttpApi Sum", "AWS/ApiGateway 5xx ApiId=HttpApi Sum"},
		"Function errors":               fn("Errors", "Sum"),
		"Function throttles":            fn("Throttles", "Sum"),
		"Function duration p99":         fn("Duration", "p99"),
		"Worker concurrency":            {"AWS/Lambda ConcurrentExecutions FunctionName=Worker Maximum"},
	}
	rows := map[float64][]string{}
	var ys []float64
	shown := map[string]bool{}
	for _, w := range body["widgets"].([]any) {
		widget := w.(map[string]any)
		props := widget["properties"].(map[string]any)
		title, _ := props["title"].(string)
		switch widget["type"] {
		case "text":
			title = strings.TrimPrefix(strings.SplitN(props["markdown"].(string), "\n", 2)[0], "## ")
		case "alarm":
			var alarms []string
			for _, a := range props["alarms"].([]any) {
				alarms = append(alarms, a.(string))
			}
			slices.Sort(alarms)
			if fmt.Sprint(alarms) != "[Api5xxAlarm ConnectionsNeedAttentionAlarm DeadLettersAlarm OldestMessageAlarm WorkerErrorsAlarm]" {
				t.Errorf("the alarm widget shows %v", alarms)
			}
		case "metric":
			var got []string
			for _, m := range props["metrics"].([]any) {
				parts := m.([]any)
				opts := parts[len(parts)-1].(map[string]any)
				line := parts[0].(string) + " " + parts[1].(string)
				for i := 2; i+1 < len(parts)-1; i += 2 {
					line += " " + parts[i].(string) + "=" + parts[i+1].(string)
				}
				line += " " + opts["stat"].(string)
				got = append(got, line)
				if parts[0] == ns {
					shown[parts[1].(string)] = true
				}
				if opts["period"] != float64(60) {
					t.Errorf("%s: %s has a period of %v s, want 60", title, line, opts["period"])
				}
			}
			if !slices.Equal(got, want[title]) {
				t.Errorf("%s shows\n  %v\nwant\n  %v", title, got, want[title])
			}
			delete(want, title)
		}
		y := widget["y"].(float64)
		if _, ok := rows[y]; !ok {
			ys = append(ys, y)
		}
		rows[y] = append(rows[y], title)
	}
	slices.Sort(ys)
	var got [][]string
	for _, y := range ys {
		got = append(got, rows[y])
	}
	if fmt.Sprint(got) != fmt.Sprint(DashboardWidgets) {
		t.Errorf("rows\n  %v\nwant\n  %v", got, DashboardWidgets)
	}
	for title := range want {
		t.Errorf("no widget %q", title)
	}
	for _, n := range metrics.Names {
		if !shown[string(n)] {
			t.Errorf("the worker's metric %s is on no widget", n)
		}
	}
}

// TestOperatorPolicy pins what the operator command may do (the managed
// policy the platform team attaches to its role): exactly the calls
// pkg/operator makes, on the resources it makes them on; no wildcard; a
// Scan on the parked index only, never the table.
func TestOperatorPolicy(t *testing.T) {
	tp, raw := tpl(t)
	tp.HasOutput(jsii.String("OperatorPolicyArn"), map[string]any{})
	want := map[string][]string{
		"DeadLetters": {"sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:ListMessageMoveTasks",
			"sqs:ReceiveMessage", "sqs:StartMessageMoveTask"},
		"Events":                                {"sqs:GetQueueAttributes", "sqs:GetQueueUrl", "sqs:SendMessage"},
		"Table":                                 {"dynamodb:BatchGetItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
		"Table/index/" + store.IndexDeliveryLog: {"dynamodb:Query"},
		"Table/index/" + store.IndexParked:      {"dynamodb:Scan"},
		"DataKey":                               keyActions,
	}
	if got := operatorPolicy(t, raw); !maps.EqualFunc(got, want, slices.Equal) {
		t.Errorf("the operator may\n  %v\nwant\n  %v", got, want)
	}
}

// TestOperatorPolicyCoversItsCalls holds what each operator subcommand
// calls, as recorded on the emulator by pkg/operator's TestOperatorCalls
// (pkg/operator/testdata/calls.golden), against the operator policy the
// stack gives: no command needs an action, on a resource, its policy
// lacks.
func TestOperatorPolicyCoversItsCalls(t *testing.T) {
	_, raw := tpl(t)
	b, err := os.ReadFile(filepath.Join("..", "pkg", "operator", "testdata", "calls.golden"))
	if err != nil {
		t.Fatal(err)
	}
	granted := map[string]bool{}
	for r, actions := range operatorPolicy(t, raw) {
		for _, a := range actions {
			granted[r+" "+a] = true
		}
	}
	calls := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(calls) < 10 {
		t.Fatalf("only %d recorded calls", len(calls))
	}
	for _, line := range calls {
		_, call, ok := strings.Cut(line, ": ")
		if !ok || !granted[call] {
			t.Errorf("ops %s, which the operator policy does not grant", line)
		}
	}
}

// operatorPolicy is what the template's one managed policy, the
// operator's, allows, resource by resource (actions sorted). It fails the
// test on a wildcard, or a policy the stack attaches itself.
func operatorPolicy(t *testing.T, raw map[string]any) map[string][]string {
	t.Helper()
	found := 0
	got := map[string][]string{}
	for id, r := range raw["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::IAM::ManagedPolicy" {
			continue
		}
		found++
		props := res["Properties"].(map[string]any)
		for _, k := range []string{"Roles", "Users", "Groups"} {
			if props[k] != nil {
				t.Errorf("%s is attached to %s %v by the stack", id, k, props[k])
			}
		}
		for _, s := range props["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := s.(map[string]any)
			rs, ok := st["Resource"].([]any)
			if !ok {
				rs = []any{st["Resource"]}
			}
			for _, r := range rs {
				label := resourceLabel(r)
				if label == "*" || strings.Contains(label, `"*"`) {
					t.Errorf("a wildcard resource for %v", st["Action"])
				}
				for _, a := range list(st["Action"]) {
					if a == "*" || strings.HasSuffix(a, ":*") {
						t.Errorf("a wildcard action %s", a)
					}
					got[label] = append(got[label], a)
				}
			}
		}
	}
	for r := range got {
		slices.Sort(got[r])
	}
	if found != 1 {
		t.Errorf("%d managed policies, want the operator's", found)
	}
	return got
}

// TestNotifications pins the outbound events' way: a queue of their own
// with a dead-letter queue, the notifier fed by it with partial batch
// failures, the platform's endpoint and the outbound secret in its
// environment, and the watch's schedule.
func TestNotifications(t *testing.T) {
	tp, _ := tpl(t)
	set := DefaultProps().Settings
	nd := set.NotifyQueueDefinition("x")
	tp.HasResourceProperties(jsii.String("AWS::SQS::Queue"), map[string]any{
		"VisibilityTimeout": nd.VisibilityTimeout.Seconds(), "SqsManagedSseEnabled": true,
		"RedrivePolicy": map[string]any{"maxReceiveCount": nd.MaxReceiveCount, "deadLetterTargetArn": assertions.Match_AnyValue()},
	})
	tp.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
		"Timeout": set.NotifierTimeout().Seconds(),
		"Environment": map[string]any{"Variables": assertions.Match_ObjectLike(&map[string]any{
			"NOTIFY_URL": set.NotifyURL, "OUTBOUND_SECRET_ID": assertions.Match_AnyValue(), "NOTIFY_QUEUE_URL": assertions.Match_AnyValue()})},
	})
	tp.HasResourceProperties(jsii.String("AWS::Lambda::EventSourceMapping"), map[string]any{
		"BatchSize": 10, "FunctionResponseTypes": []any{"ReportBatchItemFailures"}, "ScalingConfig": map[string]any{"MaximumConcurrency": 2},
	})
	tp.HasResourceProperties(jsii.String("AWS::Events::Rule"), map[string]any{
		"ScheduleExpression": "rate(" + strconv.Itoa(int(set.WatchTick.Minutes())) + " minutes)", "State": "ENABLED",
		"Targets": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{"Arn": assertions.Match_AnyValue()})}),
	})
	tp.HasOutput(jsii.String("OutboundSigningSecretArn"), map[string]any{})
}
