// Command infra is the CDK app: it synthesises the whole stack (HTTP API,
// five Lambda functions, queues and DLQs, table, secrets, alarms) with no AWS
// account and no network. It only wires; the stack is in stack.go.
package main

import (
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String("cdk.out")})
	p := DefaultProps()
	ctx := func(key string, dst *string) {
		if v, ok := app.Node().TryGetContext(jsii.String(key)).(string); ok && v != "" {
			*dst = v
		}
	}
	var audience, origins, fileHosts, keep string
	ctx("jwtIssuer", &p.JWTIssuer)
	ctx("jwtAudience", &audience)
	ctx("corsOrigins", &origins)
	ctx("fileHosts", &fileHosts)
	ctx("notifyUrl", &p.Settings.NotifyURL)
	ctx("assetDir", &p.AssetDir)
	ctx("keepIndexes", &keep)
	if audience != "" {
		p.JWTAudience = strings.Split(audience, ",")
	}
	if origins != "" {
		p.CORSOrigins = strings.Split(origins, ",")
	}
	if fileHosts != "" {
		p.Settings.FileHosts = strings.Split(fileHosts, ",")
	}
	if keep != "" {
		p.KeepIndexes = strings.Split(keep, ",")
	}
	p.StackProps = awscdk.StackProps{Env: &awscdk.Environment{
		Account: jsii.String(os.Getenv("CDK_DEFAULT_ACCOUNT")), Region: jsii.String(os.Getenv("CDK_DEFAULT_REGION")),
	}}
	if os.Getenv("CDK_DEFAULT_ACCOUNT") == "" {
		p.StackProps = awscdk.StackProps{}
	}
	NewStack(app, "FunnelPersonio", p)
	app.Synth(nil)
}
