package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssecretsmanager"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/funnel-personio/funnel-personio/pkg/metrics"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// Props are what a deployment chooses.
type Props struct {
	awscdk.StackProps
	// JWTIssuer and JWTAudience configure the API's JWT authorizer (the
	// funnel builder's identity provider).
	JWTIssuer   string
	JWTAudience []string
	// CORSOrigins may call the editor API from a browser.
	CORSOrigins []string
	// AssetDir holds <function>/bootstrap as `make build` writes them.
	AssetDir string
	// Settings are the functions' settings (settings.Default, with the
	// deployment's FileHosts): the queue, the timeouts and the functions'
	// environment are made from them, so the functions read what the
	// stack is.
	Settings settings.Settings
	// WorkerMaxConcurrency caps concurrent worker invocations.
	WorkerMaxConcurrency float64
	// ThrottleRate and ThrottleBurst limit the HTTP API's default stage:
	// any route without a throttle of its own.
	ThrottleRate, ThrottleBurst float64
	// IngestThrottle limits POST /v1/events, EditorThrottle the editor
	// routes (ANY /v1/{proxy+}), each on its own: a flood on one does
	// not take the other's share.
	IngestThrottle, EditorThrottle Throttle
	// KeepIndexes names indexes of the version before (store.Retiring)
	// that the table keeps: the steps of a deploy that changes the
	// table's indexes, one index added or deleted a deploy
	// (docs/operations.md). None: the table is store.Table.
	KeepIndexes []string
}

// Throttle is a route's limit: a steady rate (requests per second) and a
// burst (requests at once), as API Gateway's token bucket takes them.
type Throttle struct {
	Rate, Burst float64
}

// The route keys the HTTP API has and its stage throttles.
const (
	ingestRoute = "POST /v1/events"
	editorRoute = "ANY /v1/{proxy+}"
)

// DefaultProps are the props of a standard deployment.
func DefaultProps() Props {
	s := settings.Default()
	s.FileHosts = []string{"files.example.com"}
	s.NotifyURL = "https://app.example.com/hooks/personio"
	return Props{JWTIssuer: "https://auth.example.com/", JWTAudience: []string{"funnel-personio"}, CORSOrigins: []string{"https://app.example.com"},
		AssetDir: "../bin/lambda", Settings: s, WorkerMaxConcurrency: float64(s.WorkerConcurrency), ThrottleRate: 50, ThrottleBurst: 100,
		// Ingest only checks a signature, writes a record and queues:
		// 100 a second (360,000 an hour) is far above what funnels
		// submit, and it bounds what a flood of unsigned or replayed
		// requests costs. Senders retry a 429 (Standard Webhooks), and
		// the queue absorbs what gets in; Personio's pace is the
		// worker's budget, not this.
		IngestThrottle: Throttle{Rate: 100, Burst: 200},
		// The editor is people configuring integrations: a screen makes
		// a handful of requests at once (burst 40: several screens at
		// the same moment), 20 a second is far more than they need, and
		// it bounds what a stolen JWT or a looping client costs,
		// including credential checks against Personio, whose 2,000
		// requests a minute per IP address the worker shares.
		EditorThrottle: Throttle{Rate: 20, Burst: 40}}
}

// Stack is the whole system.
type Stack struct {
	awscdk.Stack
	Table awsdynamodb.Table
	Queue awssqs.Queue
	DLQ   awssqs.Queue
	// NotifyQueue and NotifyDLQ carry the outbound events to the
	// notifier.
	NotifyQueue awssqs.Queue
	NotifyDLQ   awssqs.Queue
	Topic       awssns.Topic
	API         awsapigatewayv2.HttpApi
	Funcs       map[string]awslambda.Function
	// Dashboard shows the pipeline at a glance (newDashboard).
	Dashboard awscloudwatch.Dashboard
	// OperatorPolicy is what the operator command (functions/ops) may
	// do; the platform team attaches it to the role it assumes.
	OperatorPolicy awsiam.ManagedPolicy
}

// Functions are the stack's Lambda functions, as `make build` writes their
// binaries (AssetDir/<function>/bootstrap) and functions/<function> holds
// their mains.
var Functions = []string{"api", "ingest", "worker", "notifier", "watch"}

// NewStack describes the stack. It panics if the settings do not hold
// together (settings.Check).
func NewStack(scope constructs.Construct, id string, p Props) *Stack {
	set := p.Settings
	if err := set.Check(); err != nil {
		panic(err)
	}
	indexes, err := tableIndexes(p.KeepIndexes)
	if err != nil {
		panic(err)
	}
	st := awscdk.NewStack(scope, jsii.String(id), &p.StackProps)
	s := &Stack{Stack: st, Funcs: map[string]awslambda.Function{}}

	key := awskms.NewKey(st, jsii.String("DataKey"), &awskms.KeyProps{
		Description: jsii.String("funnel-personio: table encryption"), EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	s.Table = newTable(st, key, indexes)

	def := set.QueueDefinition("funnel-personio-events")
	s.DLQ = awssqs.NewQueue(st, jsii.String("DeadLetters"), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Seconds(jsii.Number(def.DLQRetention.Seconds())),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED, EnforceSSL: jsii.Bool(true),
	})
	s.Queue = awssqs.NewQueue(st, jsii.String("Events"), &awssqs.QueueProps{
		VisibilityTimeout: seconds(def.VisibilityTimeout),
		RetentionPeriod:   awscdk.Duration_Seconds(jsii.Number(def.Retention.Seconds())),
		Encryption:        awssqs.QueueEncryption_SQS_MANAGED, EnforceSSL: jsii.Bool(true),
		DeadLetterQueue: &awssqs.DeadLetterQueue{Queue: s.DLQ, MaxReceiveCount: jsii.Number(float64(def.MaxReceiveCount))},
	})

	ndef := set.NotifyQueueDefinition("funnel-personio-notify")
	s.NotifyDLQ = awssqs.NewQueue(st, jsii.String("NotifyDeadLetters"), &awssqs.QueueProps{
		RetentionPeriod: seconds(ndef.DLQRetention), Encryption: awssqs.QueueEncryption_SQS_MANAGED, EnforceSSL: jsii.Bool(true),
	})
	s.NotifyQueue = awssqs.NewQueue(st, jsii.String("Notify"), &awssqs.QueueProps{
		VisibilityTimeout: seconds(ndef.VisibilityTimeout), RetentionPeriod: seconds(ndef.Retention),
		Encryption: awssqs.QueueEncryption_SQS_MANAGED, EnforceSSL: jsii.Bool(true),
		DeadLetterQueue: &awssqs.DeadLetterQueue{Queue: s.NotifyDLQ, MaxReceiveCount: jsii.Number(float64(ndef.MaxReceiveCount))},
	})
	// The outbound events' signing secret: a whsec_ value the platform
	// gets to verify them (rotate by putting "new,old" in it for a while).
	outboundSecret := awssecretsmanager.NewSecret(st, jsii.String("OutboundSigningSecret"), &awssecretsmanager.SecretProps{
		Description:          jsii.String("funnel-personio: Standard Webhooks secret(s) of the outbound events, comma-separated during a rotation"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{PasswordLength: jsii.Number(32), ExcludePunctuation: jsii.Bool(true)},
	})

	signing := awssecretsmanager.NewSecret(st, jsii.String("WebhookSigningSecret"), &awssecretsmanager.SecretProps{
		Description:          jsii.String("funnel-personio: Standard Webhooks signing secret of ingest (whsec_ + base64)"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{PasswordLength: jsii.Number(32), ExcludePunctuation: jsii.Bool(true)},
	})
	hashKey := awssecretsmanager.NewSecret(st, jsii.String("HashKey"), &awssecretsmanager.SecretProps{
		Description:          jsii.String("funnel-personio: key of the e-mail hash used for erasure"),
		GenerateSecretString: &awssecretsmanager.SecretStringGenerator{PasswordLength: jsii.Number(48), ExcludePunctuation: jsii.Bool(true)},
	})

	// Every function gets every setting: what a deployment changes in
	// its props reaches each function.
	env := map[string]*string{}
	for k, v := range set.Env() {
		env[k] = jsii.String(v)
	}
	env[settings.VarTable], env[settings.VarQueueURL], env[settings.VarHashKeySecret] = s.Table.TableName(), s.Queue.QueueUrl(), hashKey.SecretArn()
	env[settings.VarNotifyQueueURL] = s.NotifyQueue.QueueUrl()
	fn := func(name string, timeout time.Duration, extra map[string]*string) awslambda.Function {
		memory, ok := set.Memory[lower(name)]
		if !ok {
			panic(fmt.Sprintf("infra: settings give the %s function no memory", lower(name)))
		}
		e := map[string]*string{}
		for k, v := range env {
			e[k] = v
		}
		for k, v := range extra {
			e[k] = v
		}
		// The Go runtime collects harder as the heap nears this, before
		// Lambda's memory limit kills the invocation (and the batch).
		e[goMemLimit] = jsii.String(memLimit(memory))
		logs := awslogs.NewLogGroup(st, jsii.String(name+"Logs"), &awslogs.LogGroupProps{
			Retention: awslogs.RetentionDays_ONE_MONTH, RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
		})
		f := awslambda.NewFunction(st, jsii.String(name), &awslambda.FunctionProps{
			Runtime: awslambda.Runtime_PROVIDED_AL2023(), Architecture: awslambda.Architecture_ARM_64(),
			Handler: jsii.String("bootstrap"), Code: awslambda.Code_FromAsset(jsii.String(p.AssetDir+"/"+lower(name)), nil),
			MemorySize: jsii.Number(float64(memory)), Timeout: seconds(timeout),
			Environment: &e, LogGroup: logs,
		})
		s.Funcs[name] = f
		return f
	}
	api := fn("Api", set.APITimeout, nil)
	ingest := fn("Ingest", set.IngestTimeout, map[string]*string{settings.VarSigningSecret: signing.SecretArn()})
	worker := fn("Worker", set.WorkerTimeout, nil)
	notifier := fn("Notifier", set.NotifierTimeout(), map[string]*string{settings.VarOutboundSecret: outboundSecret.SecretArn()})
	watcher := fn("Watch", set.WatchTimeout(), nil)

	// Least privilege: each function may do what its code calls, on the
	// resources it calls it on, and nothing else (the table
	// "What each function may do" in docs/architecture.md; TestFunctionPermissions pins it).
	// Erasure markers are written by the api and read (GetItem) by ingest
	// and the worker; the worker deletes (DeleteItem) the record an erased
	// applicant's returning event made.
	// The api reads a page of the delivery log's records at once
	// (BatchGetItem); ingest reads an event's record and its erasure
	// markers in one BatchGetItem, the worker a record and its funnel's
	// integration before a claim.
	grantTable(s.Table, api, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem")
	grantTable(s.Table, ingest, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem", "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem")
	grantTable(s.Table, worker, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem")
	// The watch lists what it watches and the parked (Query), reads and
	// updates connections and budgets (GetItem, PutItem), marks positions
	// and requeues parked deliveries (UpdateItem).
	grantTable(s.Table, watcher, "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem")
	prefixArn := fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:%s/*", *awscdk.Aws_PARTITION(), *awscdk.Aws_REGION(), *awscdk.Aws_ACCOUNT_ID(), set.SecretPrefix)
	for _, f := range []awslambda.Function{api, ingest, worker, watcher} {
		key.Grant(f, *jsii.Strings(tableKeyActions...)...)
	}
	// Every function reads its settings at cold start, the hash key's id
	// among them.
	for _, f := range []awslambda.Function{api, ingest, worker, notifier, watcher} {
		allow(f, []string{*hashKey.SecretArn()}, "secretsmanager:GetSecretValue")
	}
	// Who tells the platform: the api (a connection restored, a position
	// settled), the worker and the watch.
	for _, f := range []awslambda.Function{api, worker, watcher} {
		allow(f, []string{*s.NotifyQueue.QueueArn()}, "sqs:SendMessage")
	}
	allow(watcher, []string{*s.Queue.QueueArn()}, "sqs:SendMessage")
	allow(watcher, []string{prefixArn}, "secretsmanager:GetSecretValue")
	allow(notifier, []string{*outboundSecret.SecretArn()}, "secretsmanager:GetSecretValue")
	allow(notifier, []string{*s.NotifyQueue.QueueArn()}, "sqs:ChangeMessageVisibility", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
	notifier.AddEventSourceMapping(jsii.String("NotifySource"), &awslambda.EventSourceMappingOptions{
		EventSourceArn: s.NotifyQueue.QueueArn(), BatchSize: jsii.Number(10),
		ReportBatchItemFailures: jsii.Bool(true), MaxConcurrency: jsii.Number(2),
	})
	// The watch runs every tick; each run checks that tick's share.
	awsevents.NewRule(st, jsii.String("WatchSchedule"), &awsevents.RuleProps{
		Description: jsii.String("funnel-personio: the watch's tick (positions against career-site feeds, credentials)"),
		Schedule:    awsevents.Schedule_Rate(seconds(set.WatchTick)),
		Targets:     &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(watcher, nil)},
	})
	allow(api, []string{*s.Queue.QueueArn()}, "sqs:SendMessage")
	allow(ingest, []string{*s.Queue.QueueArn()}, "sqs:SendMessage")
	allow(ingest, []string{*signing.SecretArn()}, "secretsmanager:GetSecretValue")
	// CreateSecret with the workspace's tag needs TagResource.
	allow(api, []string{prefixArn}, "secretsmanager:CreateSecret", "secretsmanager:TagResource", "secretsmanager:GetSecretValue",
		"secretsmanager:PutSecretValue", "secretsmanager:DeleteSecret")
	allow(worker, []string{prefixArn}, "secretsmanager:GetSecretValue")
	// The worker sends deferred copies and hides messages to retry; the
	// event source mapping receives and deletes on its role. The mapping
	// is made here rather than by SqsEventSource, which would also grant
	// sqs:GetQueueUrl; its id is SqsEventSource's, so a deployed mapping
	// is kept, not replaced.
	allow(worker, []string{*s.Queue.QueueArn()}, "sqs:SendMessage", "sqs:ChangeMessageVisibility",
		"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
	worker.AddEventSourceMapping(jsii.String("SqsEventSource:"+*awscdk.Names_NodeUniqueId(s.Queue.Node())), &awslambda.EventSourceMappingOptions{
		EventSourceArn: s.Queue.QueueArn(),
		BatchSize:      jsii.Number(10), MaxBatchingWindow: awscdk.Duration_Seconds(jsii.Number(1)),
		ReportBatchItemFailures: jsii.Bool(true), MaxConcurrency: jsii.Number(p.WorkerMaxConcurrency),
	})

	s.API = newAPI(st, p, api, ingest)
	newSite(st, p, s.API) // the setup page beside the API (infra/site.go)
	var alarms []awscloudwatch.Alarm
	s.Topic, alarms = newAlarms(st, s, worker)
	s.Dashboard = newDashboard(st, s, alarms)
	s.OperatorPolicy = newOperatorPolicy(st, s, key, indexes)

	out := func(name string, v *string) {
		awscdk.NewCfnOutput(st, jsii.String(name), &awscdk.CfnOutputProps{Value: v})
	}
	out("ApiUrl", s.API.ApiEndpoint())
	out("QueueUrl", s.Queue.QueueUrl())
	out("DeadLetterQueueUrl", s.DLQ.QueueUrl())
	out("OperatorPolicyArn", s.OperatorPolicy.ManagedPolicyArn())
	out("DashboardName", s.Dashboard.DashboardName())
	out("TableName", s.Table.TableName())
	out("TopicArn", s.Topic.TopicArn())
	out("WebhookSigningSecretArn", signing.SecretArn())
	out("OutboundSigningSecretArn", outboundSecret.SecretArn())
	return s
}

// tableKeyActions are the table key's actions that reading and writing a
// table encrypted with a customer managed key takes (DynamoDB calls KMS
// on the caller's behalf): what CDK's GrantReadWriteData grants on the
// key. Every function reads and writes.
var tableKeyActions = []string{"kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"}

// grantTable lets f call the item actions on the table, and Query on the
// table and its indexes (the only action an index takes). Every function
// may query: the api for its lists and erasure, ingest and the worker for
// the erasure markers they are to read.
func grantTable(t awsdynamodb.Table, f awslambda.Function, itemActions ...string) {
	allow(f, []string{*t.TableArn()}, itemActions...)
	allow(f, []string{*t.TableArn(), *t.TableArn() + "/index/*"}, "dynamodb:Query")
}

// allow adds one statement to f's role: the actions on the resources.
func allow(f awslambda.Function, resources []string, actions ...string) {
	f.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings(actions...), Resources: jsii.Strings(resources...),
	}))
}

// tableIndexes are the table's indexes: store.Table's, and the retiring
// ones keep names (each must be one of store.Retiring).
func tableIndexes(keep []string) ([]store.Index, error) {
	out := slices.Clone(store.Table.Indexes)
	for _, name := range keep {
		i := slices.IndexFunc(store.Retiring, func(ix store.Index) bool { return ix.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("infra: keepIndexes names %q, which is not an index of the version before (store.Retiring)", name)
		}
		out = append(out, store.Retiring[i])
	}
	return out, nil
}

// newTable builds the table from the one definition the local stack uses
// too (store.Table), with the indexes given (tableIndexes).
func newTable(st awscdk.Stack, key awskms.Key, indexes []store.Index) awsdynamodb.Table {
	attr := func(name string) *awsdynamodb.Attribute {
		return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
	}
	t := awsdynamodb.NewTable(st, jsii.String("Table"), &awsdynamodb.TableProps{
		PartitionKey: attr(store.Table.PartitionKey), SortKey: attr(store.Table.SortKey),
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		Encryption:                       awsdynamodb.TableEncryption_CUSTOMER_MANAGED, EncryptionKey: key,
		TimeToLiveAttribute: jsii.String(store.Table.TTLAttribute), DeletionProtection: jsii.Bool(true),
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	projections := map[types.ProjectionType]awsdynamodb.ProjectionType{types.ProjectionTypeAll: awsdynamodb.ProjectionType_ALL,
		types.ProjectionTypeInclude: awsdynamodb.ProjectionType_INCLUDE, types.ProjectionTypeKeysOnly: awsdynamodb.ProjectionType_KEYS_ONLY}
	for _, ix := range indexes {
		props := &awsdynamodb.GlobalSecondaryIndexProps{
			IndexName: jsii.String(ix.Name), PartitionKey: attr(ix.PartitionKey), SortKey: attr(ix.SortKey),
			ProjectionType: projections[ix.Projection],
		}
		if len(ix.Include) > 0 {
			props.NonKeyAttributes = jsii.Strings(ix.Include...)
		}
		t.AddGlobalSecondaryIndex(props)
	}
	return t
}

// newAPI builds the HTTP API: the editor routes behind the JWT authorizer,
// POST /v1/events without one (ingest checks signatures), a default stage
// with access logs and a throttle for each route.
func newAPI(st awscdk.Stack, p Props, api, ingest awslambda.Function) awsapigatewayv2.HttpApi {
	h := awsapigatewayv2.NewHttpApi(st, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		CreateDefaultStage: jsii.Bool(false),
		CorsPreflight: &awsapigatewayv2.CorsPreflightOptions{
			AllowOrigins: jsii.Strings(p.CORSOrigins...), AllowHeaders: jsii.Strings("Authorization", "Content-Type", "If-Match", "Accept-Language"),
			AllowMethods:  &[]awsapigatewayv2.CorsHttpMethod{awsapigatewayv2.CorsHttpMethod_GET, awsapigatewayv2.CorsHttpMethod_POST, awsapigatewayv2.CorsHttpMethod_PUT, awsapigatewayv2.CorsHttpMethod_PATCH, awsapigatewayv2.CorsHttpMethod_DELETE},
			ExposeHeaders: jsii.Strings("ETag", "X-Resumed-Deliveries"), MaxAge: awscdk.Duration_Hours(jsii.Number(1)),
		},
	})
	auth := awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("EditorJwt"), jsii.String(p.JWTIssuer),
		&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{JwtAudience: jsii.Strings(p.JWTAudience...)})
	editor := h.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
		Path: jsii.String("/v1/{proxy+}"), Methods: &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_ANY},
		Integration: awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("ApiIntegration"), api, nil), Authorizer: auth,
	})
	events := h.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
		Path: jsii.String("/v1/events"), Methods: &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_POST},
		Integration: awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("IngestIntegration"), ingest, nil),
	})
	// RouteSettings is plain JSON to CDK (a typed property in it would
	// reach the template in camel case, which CloudFormation does not
	// read), so the route settings are written as the template's.
	throttle := func(t Throttle) map[string]any {
		return map[string]any{"ThrottlingRateLimit": t.Rate, "ThrottlingBurstLimit": t.Burst}
	}
	accessLogs := awslogs.NewLogGroup(st, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention: awslogs.RetentionDays_ONE_MONTH, RemovalPolicy: awscdk.RemovalPolicy_DESTROY,
	})
	stage := awsapigatewayv2.NewCfnStage(st, jsii.String("DefaultStage"), &awsapigatewayv2.CfnStageProps{
		ApiId: h.ApiId(), StageName: jsii.String("$default"), AutoDeploy: jsii.Bool(true),
		DefaultRouteSettings: &awsapigatewayv2.CfnStage_RouteSettingsProperty{
			ThrottlingRateLimit: jsii.Number(p.ThrottleRate), ThrottlingBurstLimit: jsii.Number(p.ThrottleBurst),
		},
		RouteSettings: map[string]any{ingestRoute: throttle(p.IngestThrottle), editorRoute: throttle(p.EditorThrottle)},
		AccessLogSettings: &awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
			DestinationArn: accessLogs.LogGroupArn(),
			Format: jsii.String(`{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","method":"$context.httpMethod",` +
				`"route":"$context.routeKey","status":"$context.status","latency":"$context.responseLatency","error":"$context.integrationErrorMessage"}`),
		},
	})
	// Route settings name routes that must exist first.
	for _, r := range append(*editor, *events...) {
		stage.Node().AddDependency(r)
	}
	return h
}

// newAlarms wires alarms to an SNS topic encrypted with a key of its own:
// dead letters, old messages, worker errors, API 5xx, connections needing
// attention. It returns the topic and the alarms (for the dashboard).
func newAlarms(st awscdk.Stack, s *Stack, worker awslambda.Function) (awssns.Topic, []awscloudwatch.Alarm) {
	// The topic is encrypted with a key of its own, so that CloudWatch,
	// which needs the key to publish, gets nothing of the table's. Only
	// alarms of this account and region may use it.
	key := awskms.NewKey(st, jsii.String("AlarmsKey"), &awskms.KeyProps{
		Description: jsii.String("funnel-personio: alarm topic encryption"), EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"), Resources: jsii.Strings("*"),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": awscdk.Aws_ACCOUNT_ID()},
			"ArnLike": map[string]any{"aws:SourceArn": jsii.String(fmt.Sprintf("arn:%s:cloudwatch:%s:%s:alarm:*",
				*awscdk.Aws_PARTITION(), *awscdk.Aws_REGION(), *awscdk.Aws_ACCOUNT_ID()))},
		},
	}), nil)
	topic := awssns.NewTopic(st, jsii.String("Alarms"), &awssns.TopicProps{DisplayName: jsii.String("funnel-personio alarms"), MasterKey: key})
	action := awscloudwatchactions.NewSnsAction(topic)
	var alarms []awscloudwatch.Alarm
	alarm := func(id, desc string, m awscloudwatch.IMetric, threshold float64) {
		a := awscloudwatch.NewAlarm(st, jsii.String(id), &awscloudwatch.AlarmProps{
			AlarmDescription: jsii.String(desc), Metric: m, Threshold: jsii.Number(threshold), EvaluationPeriods: jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		a.AddAlarmAction(action)
		alarms = append(alarms, a)
	}
	five := awscdk.Duration_Minutes(jsii.Number(5))
	alarm("DeadLettersAlarm", "Applications are in the dead-letter queue: look at their delivery records and redrive.",
		s.DLQ.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Maximum")}), 0)
	alarm("OldestMessageAlarm", "The oldest application in the queue is over 15 minutes old.",
		s.Queue.MetricApproximateAgeOfOldestMessage(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Maximum")}), 900)
	alarm("WorkerErrorsAlarm", "The worker function failed (not a delivery failure: the function itself).",
		worker.MetricErrors(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}), 0)
	alarm("Api5xxAlarm", "The HTTP API answered 5xx to more than 1% of requests.",
		awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
			Expression: jsii.String("100 * errors / MAX([requests, 1])"), Period: five,
			UsingMetrics: &map[string]awscloudwatch.IMetric{
				"errors":   s.API.MetricServerError(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}),
				"requests": s.API.MetricCount(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}),
			},
		}), 1)
	alarm("ConnectionsNeedAttentionAlarm", "Personio refused a connection's credentials; its deliveries are parked until new ones are entered.",
		awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String(metrics.Namespace), MetricName: jsii.String(string(metrics.ConnectionsNeedingAttention)),
			Period: five, Statistic: jsii.String("Sum")}), 0)
	return topic, alarms
}

// goMemLimit is the Go runtime's soft memory limit's variable.
const goMemLimit = "GOMEMLIMIT"

// memLimit is the Go heap's soft limit for a function of memory MB: 85 %,
// leaving the rest to the runtime's other memory and the Lambda runtime.
func memLimit(memory int) string { return fmt.Sprintf("%dMiB", int(float64(memory)*0.85)) }

// seconds is a duration as CDK takes it.
func seconds(d time.Duration) awscdk.Duration {
	return awscdk.Duration_Seconds(jsii.Number(d.Seconds()))
}

func lower(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]+'a'-'A') + s[1:]
}

// DashboardWidgets are the titles of the dashboard's widgets, row by row:
// what the on-call engineer sees first (docs/operations.md reads them in
// this order; TestDashboard pins each one's metrics).
var DashboardWidgets = [][]string{
	{"funnel-personio", "Alarms"},
	{"Deliveries per minute", "End-to-end latency (event → Personio)"},
	{"Queue depth", "Oldest message in the queue", "Dead-letter queue depth"},
	{"Personio 429s per minute", "Connections needing attention", "HTTP API requests and errors"},
	{"Function errors", "Function throttles", "Function duration p99", "Worker concurrency"},
}

// newDashboard builds the CloudWatch dashboard: the deliveries' outcomes
// and end-to-end latency (the worker's metrics, pkg/metrics), the queue,
// the dead-letter queue, Personio's 429s, connections needing attention,
// the HTTP API, and each function's errors, throttles and durations, with
// the alarms' states on top.
func newDashboard(st awscdk.Stack, s *Stack, alarms []awscloudwatch.Alarm) awscloudwatch.Dashboard {
	minute := awscdk.Duration_Minutes(jsii.Number(1))
	custom := func(n metrics.Name, stat string) awscloudwatch.IMetric {
		return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String(metrics.Namespace), MetricName: jsii.String(string(n)),
			Period: minute, Statistic: jsii.String(stat), Label: jsii.String(string(n))})
	}
	opts := func(stat, label string) *awscloudwatch.MetricOptions {
		return &awscloudwatch.MetricOptions{Period: minute, Statistic: jsii.String(stat), Label: jsii.String(label)}
	}
	graph := func(title string, width float64, left ...awscloudwatch.IMetric) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Width: jsii.Number(width), Height: jsii.Number(6),
			Left: &left, Period: minute})
	}
	funcs := []string{"Api", "Ingest", "Worker", "Notifier", "Watch"}
	perFunction := func(title string, m func(awslambda.Function, string) awscloudwatch.IMetric) awscloudwatch.IWidget {
		var ms []awscloudwatch.IMetric
		for _, name := range funcs {
			ms = append(ms, m(s.Funcs[name], lower(name)))
		}
		return graph(title, 6, ms...)
	}
	var alarmRefs []interfacesawscloudwatch.IAlarmRef
	for _, a := range alarms {
		alarmRefs = append(alarmRefs, a)
	}
	rows := [][]awscloudwatch.IWidget{
		{
			awscloudwatch.NewTextWidget(&awscloudwatch.TextWidgetProps{Width: jsii.Number(8), Height: jsii.Number(4), Markdown: jsii.String(
				"## funnel-personio\nApplications from funnels into Personio. Each alarm, what it means and the commands that fix it: " +
					"`docs/operations.md` in the repository (the operator command `bin/ops`: `make build-ops`).")}),
			awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{Title: jsii.String("Alarms"), Width: jsii.Number(16), Height: jsii.Number(4),
				Alarms: &alarmRefs}),
		},
		{
			graph("Deliveries per minute", 12, custom(metrics.Delivered, "Sum"), custom(metrics.Unconfirmed, "Sum"), custom(metrics.Failed, "Sum"),
				custom(metrics.Dead, "Sum"), custom(metrics.Deferred, "Sum"), custom(metrics.Parked, "Sum"), custom(metrics.Retried, "Sum"),
				custom(metrics.Skipped, "Sum")),
			graph("End-to-end latency (event → Personio)", 12,
				awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String(metrics.Namespace), MetricName: jsii.String(string(metrics.EndToEndLatency)),
					Period: minute, Statistic: jsii.String("p50"), Label: jsii.String("p50"), Unit: awscloudwatch.Unit_MILLISECONDS}),
				awscloudwatch.NewMetric(&awscloudwatch.MetricProps{Namespace: jsii.String(metrics.Namespace), MetricName: jsii.String(string(metrics.EndToEndLatency)),
					Period: minute, Statistic: jsii.String("p99"), Label: jsii.String("p99"), Unit: awscloudwatch.Unit_MILLISECONDS})),
		},
		{
			graph("Queue depth", 8, s.Queue.MetricApproximateNumberOfMessagesVisible(opts("Maximum", "waiting")),
				s.Queue.MetricApproximateNumberOfMessagesNotVisible(opts("Maximum", "in flight")),
				s.Queue.MetricApproximateNumberOfMessagesDelayed(opts("Maximum", "delayed (turns in a company's line)"))),
			graph("Oldest message in the queue", 8, s.Queue.MetricApproximateAgeOfOldestMessage(opts("Maximum", "age (s)"))),
			graph("Dead-letter queue depth", 8, s.DLQ.MetricApproximateNumberOfMessagesVisible(opts("Maximum", "applications")),
				s.NotifyDLQ.MetricApproximateNumberOfMessagesVisible(opts("Maximum", "outbound events"))),
		},
		{
			graph("Personio 429s per minute", 8, custom(metrics.RateLimited, "Sum")),
			graph("Connections needing attention", 8, custom(metrics.ConnectionsNeedingAttention, "Sum")),
			graph("HTTP API requests and errors", 8, s.API.MetricCount(opts("Sum", "requests")), s.API.MetricClientError(opts("Sum", "4xx")),
				s.API.MetricServerError(opts("Sum", "5xx"))),
		},
		{
			perFunction("Function errors", func(f awslambda.Function, n string) awscloudwatch.IMetric { return f.MetricErrors(opts("Sum", n)) }),
			perFunction("Function throttles", func(f awslambda.Function, n string) awscloudwatch.IMetric { return f.MetricThrottles(opts("Sum", n)) }),
			perFunction("Function duration p99", func(f awslambda.Function, n string) awscloudwatch.IMetric { return f.MetricDuration(opts("p99", n)) }),
			graph("Worker concurrency", 6, s.Funcs["Worker"].Metric(jsii.String("ConcurrentExecutions"), opts("Maximum", "worker"))),
		},
	}
	widgets := make([]*[]awscloudwatch.IWidget, len(rows))
	for i := range rows {
		widgets[i] = &rows[i]
	}
	return awscloudwatch.NewDashboard(st, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DefaultInterval: awscdk.Duration_Hours(jsii.Number(3)), Widgets: &widgets,
	})
}

// newOperatorPolicy is what the operator command may do, on the
// resources it does it on (docs/operations.md; TestOperatorPolicy pins
// it): the dead-letter queue's listing and redrive (a message move task
// receives from it, deletes there and sends to the queue), replays (the
// stored event to the queue, the record requeued; the funnel's
// deliveries in a status listed from the delivery log, or from by_funnel
// while the table keeps it, and their records read a page at a time),
// reading records, integrations, connections and budgets, scanning the
// sparse parked index — never the table —, and an erasure under a retired
// hash key (the records found deleted, the erasure's marker put).
func newOperatorPolicy(st awscdk.Stack, s *Stack, key awskms.Key, indexes []store.Index) awsiam.ManagedPolicy {
	stmt := func(resources []string, actions ...string) awsiam.PolicyStatement {
		return awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{Actions: jsii.Strings(actions...), Resources: jsii.Strings(resources...)})
	}
	table := *s.Table.TableArn()
	lists := []string{table + "/index/" + store.IndexDeliveryLog}
	if slices.ContainsFunc(indexes, func(ix store.Index) bool { return ix.Name == store.IndexByFunnel }) {
		lists = append(lists, table+"/index/"+store.IndexByFunnel)
	}
	return awsiam.NewManagedPolicy(st, jsii.String("OperatorPolicy"), &awsiam.ManagedPolicyProps{
		Description: jsii.String("funnel-personio: what the operator command (bin/ops) may do"),
		Statements: &[]awsiam.PolicyStatement{
			stmt([]string{*s.DLQ.QueueArn()}, "sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility",
				"sqs:DeleteMessage", "sqs:StartMessageMoveTask", "sqs:ListMessageMoveTasks"),
			stmt([]string{*s.Queue.QueueArn()}, "sqs:GetQueueUrl", "sqs:GetQueueAttributes", "sqs:SendMessage"),
			stmt([]string{table}, "dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:Query", "dynamodb:BatchGetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"),
			stmt(lists, "dynamodb:Query"),
			stmt([]string{table + "/index/" + store.IndexParked}, "dynamodb:Scan"),
			stmt([]string{*key.KeyArn()}, tableKeyActions...),
		},
	})
}
