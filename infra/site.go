package main

import (
	"fmt"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"
	"github.com/aws/jsii-runtime-go"

	"github.com/funnel-personio/funnel-personio/web"
)

// SiteDir holds the setup page's files (web/static: the web component,
// the standalone page), relative to infra/ where the CDK app runs.
var SiteDir = "../web/static"

// SiteCacheSeconds is how long browsers and CloudFront keep the page's
// files: a deployment is live everywhere within this time (the stack
// creates no invalidation, whose IAM grant would be on every resource).
const SiteCacheSeconds = 300

// Site is the setup page's hosting.
type Site struct {
	awscdk.NestedStack
	Bucket       awss3.Bucket
	Distribution awscloudfront.Distribution
}

// newSite hosts the setup page beside the API, on one origin: a
// CloudFront distribution whose default behaviour serves a private S3
// bucket (origin access control) holding web/static, and whose /v1/*
// behaviour forwards to the HTTP API (no caching, every viewer header but
// Host, so the JWT reaches the authorizer), so the standalone page calls
// the API with no CORS. The editor loads the component from the same
// distribution as an ES module (CORS for the editor's origins). It is a
// nested stack of its own: the file upload (a CDK-provided custom resource
// function) and its role stay out of the application's template.
func newSite(st awscdk.Stack, p Props, api awsapigatewayv2.HttpApi) *Site {
	ns := awscdk.NewNestedStack(st, jsii.String("Site"), &awscdk.NestedStackProps{
		Description: jsii.String("funnel-personio: the setup page (web component and standalone page) on CloudFront, with /v1/* to the API"),
	})
	s := &Site{NestedStack: ns}
	s.Bucket = awss3.NewBucket(ns, jsii.String("SiteBucket"), &awss3.BucketProps{
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(), Encryption: awss3.BucketEncryption_S3_MANAGED,
		EnforceSSL: jsii.Bool(true), ObjectOwnership: awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
	})
	headers := awscloudfront.NewResponseHeadersPolicy(ns, jsii.String("SiteHeaders"), &awscloudfront.ResponseHeadersPolicyProps{
		Comment: jsii.String("funnel-personio setup page: CSP, HSTS, no framing; CORS for the editor's origins"),
		SecurityHeadersBehavior: &awscloudfront.ResponseSecurityHeadersBehavior{
			ContentSecurityPolicy: &awscloudfront.ResponseHeadersContentSecurityPolicy{ContentSecurityPolicy: jsii.String(web.ContentSecurityPolicy), Override: jsii.Bool(true)},
			ContentTypeOptions:    &awscloudfront.ResponseHeadersContentTypeOptions{Override: jsii.Bool(true)},
			FrameOptions:          &awscloudfront.ResponseHeadersFrameOptions{FrameOption: awscloudfront.HeadersFrameOption_DENY, Override: jsii.Bool(true)},
			ReferrerPolicy:        &awscloudfront.ResponseHeadersReferrerPolicy{ReferrerPolicy: awscloudfront.HeadersReferrerPolicy_NO_REFERRER, Override: jsii.Bool(true)},
			StrictTransportSecurity: &awscloudfront.ResponseHeadersStrictTransportSecurity{
				AccessControlMaxAge: awscdk.Duration_Days(jsii.Number(365)), IncludeSubdomains: jsii.Bool(true), Override: jsii.Bool(true)},
		},
		CorsBehavior: &awscloudfront.ResponseHeadersCorsBehavior{
			AccessControlAllowCredentials: jsii.Bool(false), AccessControlAllowHeaders: jsii.Strings("*"),
			AccessControlAllowMethods: jsii.Strings("GET", "HEAD"), AccessControlAllowOrigins: jsii.Strings(p.CORSOrigins...),
			OriginOverride: jsii.Bool(true),
		},
	})
	// The API's host name: https://{id}.execute-api.{region}.amazonaws.com → {id}.execute-api.….
	apiHost := awscdk.Fn_Select(jsii.Number(2), awscdk.Fn_Split(jsii.String("/"), api.ApiEndpoint(), nil))
	s.Distribution = awscloudfront.NewDistribution(ns, jsii.String("SiteDistribution"), &awscloudfront.DistributionProps{
		Comment: jsii.String("funnel-personio setup page and editor API"), DefaultRootObject: jsii.String("index.html"),
		HttpVersion: awscloudfront.HttpVersion_HTTP2_AND_3, PriceClass: awscloudfront.PriceClass_PRICE_CLASS_100,
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin:               awscloudfrontorigins.S3BucketOrigin_WithOriginAccessControl(s.Bucket, nil),
			ViewerProtocolPolicy: awscloudfront.ViewerProtocolPolicy_REDIRECT_TO_HTTPS,
			CachePolicy:          awscloudfront.CachePolicy_CACHING_OPTIMIZED(), Compress: jsii.Bool(true),
			ResponseHeadersPolicy: headers,
		},
		AdditionalBehaviors: &map[string]*awscloudfront.BehaviorOptions{
			"/v1/*": {
				Origin: awscloudfrontorigins.NewHttpOrigin(apiHost, &awscloudfrontorigins.HttpOriginProps{
					ProtocolPolicy: awscloudfront.OriginProtocolPolicy_HTTPS_ONLY}),
				ViewerProtocolPolicy: awscloudfront.ViewerProtocolPolicy_HTTPS_ONLY,
				AllowedMethods:       awscloudfront.AllowedMethods_ALLOW_ALL(),
				CachePolicy:          awscloudfront.CachePolicy_CACHING_DISABLED(),
				OriginRequestPolicy:  awscloudfront.OriginRequestPolicy_ALL_VIEWER_EXCEPT_HOST_HEADER(),
			},
		},
	})
	awss3deployment.NewBucketDeployment(ns, jsii.String("SiteFiles"), &awss3deployment.BucketDeploymentProps{
		DestinationBucket: s.Bucket, Sources: &[]awss3deployment.ISource{awss3deployment.Source_Asset(jsii.String(SiteDir), nil)},
		CacheControl: &[]awss3deployment.CacheControl{awss3deployment.CacheControl_FromString(jsii.String(fmt.Sprintf("public, max-age=%d", SiteCacheSeconds)))},
		Prune:        jsii.Bool(true), MemoryLimit: jsii.Number(256),
	})
	awscdk.NewCfnOutput(st, jsii.String("SiteUrl"), &awscdk.CfnOutputProps{
		Description: jsii.String("The setup page; the editor loads <personio-integration> from /personio-integration.js here"),
		Value:       awscdk.Fn_Join(jsii.String(""), &[]*string{jsii.String("https://"), s.Distribution.DistributionDomainName(), jsii.String("/")}),
	})
	return s
}
