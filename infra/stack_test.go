package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/funnel-personio/funnel-personio/pkg/store"
	"github.com/funnel-personio/funnel-personio/web"
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
	for _, f := range []string{"api", "ingest", "worker"} {
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
