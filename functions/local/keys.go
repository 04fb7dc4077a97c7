package main

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/pkg/webhook"
)

// The variables serve takes its keys from. `local token` and `local
// deliveries` read the same JWT key, and `local send` the same signing
// secret, so one set of variables serves them all.
const (
	varJWTKey        = "LOCAL_JWT_KEY"
	varWebhookSecret = "WEBHOOK_SECRET"
	varHashKey       = "HASH_KEY"
)

// serveKeys are the keys the local stack runs with: the JWT key it mints
// and checks editor tokens with, the signing secret ingest checks, and the
// key of the e-mail hash that finds an applicant's records for erasure.
type serveKeys struct {
	JWT, WebhookSecret, Hash string
}

// devKey is one key's variable and its public dev value (the docs
// print them, so anyone may mint a token or sign an event with them).
type devKey struct {
	name, dev string
	dst       func(*serveKeys) *string
	example   string
}

var devKeys = []devKey{
	{varJWTKey, localstack.DevJWTKey, func(k *serveKeys) *string { return &k.JWT }, "$(openssl rand -hex 32)"},
	{varWebhookSecret, localstack.DevWebhookSecret, func(k *serveKeys) *string { return &k.WebhookSecret }, "whsec_$(openssl rand -base64 32)"},
	{varHashKey, localstack.DevHashKey, func(k *serveKeys) *string { return &k.Hash }, "$(openssl rand -hex 32)"},
}

// awsServices are the services the functions call, as the SDK names their
// endpoint variables (AWS_ENDPOINT_URL_<service>).
var awsServices = []string{"DYNAMODB", "SQS", "SECRETS_MANAGER"}

// awsTarget tells where serve's AWS calls go, from the same variables the
// SDK reads: local is true only if every service the functions call goes
// to an emulator on this machine (a loopback address or localhost).
// Without AWS_ENDPOINT_URL and AWS credentials, serve uses its own
// emulator on defaultEmulator. where names the first endpoint that is
// not local, for the message.
func awsTarget(getenv func(string) string) (local bool, where string) {
	base := getenv("AWS_ENDPOINT_URL")
	if base == "" && getenv("AWS_ACCESS_KEY_ID") == "" {
		base = "http://" + defaultEmulator
	}
	if strings.EqualFold(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true") {
		return false, "real AWS (AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is set)"
	}
	for _, svc := range awsServices {
		ep := getenv("AWS_ENDPOINT_URL_" + svc)
		if ep == "" {
			ep = base
		}
		if ep == "" {
			return false, "real AWS (credentials and no AWS_ENDPOINT_URL)"
		}
		if !loopback(ep) {
			return false, ep
		}
	}
	return true, base
}

// loopback reports whether the endpoint URL names this machine.
func loopback(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return false
	}
	host := u.Hostname()
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// keysFor returns the keys serve runs with: each from its variable, or,
// on a local emulator only, the dev key when the variable is not set.
// Anywhere else (real AWS, or an endpoint on another machine) the dev keys
// would let anyone who read the docs mint editor tokens, sign events and
// recompute applicants' e-mail hashes, so keysFor refuses, in one line
// naming every key that is not set or is the dev value and how to set
// them. It reads nothing but the environment: it runs before any AWS
// call.
func keysFor(getenv func(string) string) (serveKeys, error) {
	local, where := awsTarget(getenv)
	var k serveKeys
	var problems, examples []string
	for _, d := range devKeys {
		v := getenv(d.name)
		switch {
		case v == "" && local:
			v = d.dev
		case v == "":
			problems = append(problems, d.name+" is not set")
			examples = append(examples, d.name+"="+d.example)
		case v == d.dev && !local:
			problems = append(problems, d.name+" is the README's dev value")
			examples = append(examples, d.name+"="+d.example)
		}
		*d.dst(&k) = v
	}
	if len(problems) > 0 {
		return serveKeys{}, fmt.Errorf("refusing to serve with the public dev keys: %s is not a local emulator, and %s; set each to a key of your own, e.g. export %s",
			where, strings.Join(problems, ", "), strings.Join(examples, " "))
	}
	if _, err := webhook.NewVerifier([]string{k.WebhookSecret}); err != nil {
		return serveKeys{}, fmt.Errorf("%s is not a signing secret (whsec_ and base64, e.g. whsec_$(openssl rand -base64 32)): %w", varWebhookSecret, err)
	}
	return k, nil
}
