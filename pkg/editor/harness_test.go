package editor_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/dev/sandbox/sandboxtest"
	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/apigw"
	"github.com/funnel-personio/funnel-personio/pkg/apilambda"
	"github.com/funnel-personio/funnel-personio/pkg/editor"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/store"
	"github.com/funnel-personio/funnel-personio/pkg/vault"
)

// secrets are strings that must never appear in a response or a log line.
var secrets = []string{"sandbox-token-42", "sandbox-token-43", "wrong-token-123", "replaced-token-9",
	"sandbox-secret-42", "sandbox-secret-42-noscope", "wrong-secret-77"}

// env is the editor API on kumo (DynamoDB, SQS, Secrets Manager) and the
// Personio sandbox, wired from the deployment's settings as the api
// function is.
type env struct {
	router  *apigw.Router
	sandbox *sandboxtest.Server
	store   *store.Store
	queue   *queue.Queue
	vault   *vault.Vault
	logs    *testenv.Buffer
	spec    routers.Router
	hashKey []byte
}

type options struct {
	personio editor.Personio
	store    editor.Store
	vault    editor.Vault
}

func setup(t testing.TB, opt ...func(*env, *options)) *env {
	t.Helper()
	te := testenv.New(t)
	e := &env{sandbox: sandboxtest.Start(t, sandbox.Config{RateLimit: -1}), store: te.Store, queue: te.Queue, vault: te.Vault,
		logs: te.Logs, hashKey: te.Settings.HashKey}
	o := options{personio: e.sandbox.PersonioClient(t), store: e.store, vault: e.vault}
	for _, f := range opt {
		f(e, &o)
	}
	ed, err := editor.New(apilambda.Config(te.Settings, e.logs.Logger()), o.store, o.vault, o.personio, e.queue)
	if err != nil {
		t.Fatal(err)
	}
	if e.router, err = ed.Router(); err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(editor.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = nil
	if e.spec, err = legacy.NewRouter(doc); err != nil {
		t.Fatal(err)
	}
	e.logs.NeverHolds(t, secrets...)
	return e
}

// result is a decoded answer.
type result struct {
	status int
	header map[string]string
	body   map[string]any
	raw    string
}

func (r result) problem() string {
	t, _ := r.body["type"].(string)
	return strings.TrimPrefix(t, apigw.ProblemBase)
}

// call sends a request as API Gateway would, with the JWT authorizer's
// claims, and holds the answer to the OpenAPI document.
func (e *env) call(t *testing.T, ws, plan, method, target string, body any, header map[string]string) result {
	t.Helper()
	path, query, _ := strings.Cut(target, "?")
	ev := events.APIGatewayV2HTTPRequest{
		RawPath: path, RawQueryString: query, Headers: map[string]string{"content-type": "application/json"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path}},
	}
	if ws != "" {
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"workspace_id": ws, "plan": plan}}}
	}
	for k, v := range header {
		ev.Headers[strings.ToLower(k)] = v
	}
	switch b := body.(type) {
	case nil:
	case string:
		ev.Body = b
	default:
		raw, _ := json.Marshal(b)
		ev.Body = string(raw)
	}
	resp, err := e.router.Serve(context.Background(), ev)
	if err != nil {
		t.Fatalf("Serve returned an error: %v", err)
	}
	e.checkSpec(t, method, target, ev, resp)
	for _, s := range secrets {
		if strings.Contains(resp.Body, s) || strings.Contains(strings.Join(values(resp.Headers), " "), s) {
			t.Errorf("%s %s: the answer holds the token %q", method, target, s)
		}
	}
	r := result{status: resp.StatusCode, header: resp.Headers, raw: resp.Body}
	if resp.Body != "" {
		_ = json.Unmarshal([]byte(resp.Body), &r.body)
	}
	return r
}

func values(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// checkSpec validates the answer against the operation's responses.
func (e *env) checkSpec(t *testing.T, method, target string, ev events.APIGatewayV2HTTPRequest, resp events.APIGatewayV2HTTPResponse) {
	t.Helper()
	req := httptest.NewRequest(method, "http://api.local"+target, strings.NewReader(ev.Body))
	route, params, err := e.spec.FindRoute(req)
	if err != nil {
		return // a path the API does not have: answered 404/405, checked by the caller
	}
	h := http.Header{}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 resp.StatusCode, Header: h, Body: io.NopCloser(strings.NewReader(resp.Body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s -> %d does not match the OpenAPI document: %v\n%s", method, target, resp.StatusCode, err, resp.Body)
	}
}

const ws, advanced = "ws_a", "advanced"

// connect creates the seed's connection (company 42) and returns its id.
func (e *env) connect(t *testing.T, workspace string) string {
	t.Helper()
	r := e.call(t, workspace, advanced, "POST", "/v1/connections", map[string]any{"name": "Personio Integration [Acme]", "company_id": "42", "access_token": "sandbox-token-42"}, nil)
	if r.status != 201 {
		t.Fatalf("connect: %d %s", r.status, r.raw)
	}
	return r.body["id"].(string)
}

// defaultMapping is the seed's required assignment plus a phone.
var defaultMapping = map[string]any{
	"version": 1,
	"required": map[string]any{
		"first_name": map[string]any{"source": "contact.first_name", "fallback": map[string]any{"source": "contact.full_name", "transforms": []string{"first_name"}}},
		"last_name":  map[string]any{"source": "contact.last_name", "fallback": map[string]any{"source": "contact.full_name", "transforms": []string{"last_name"}}},
		"email":      map[string]any{"source": "contact.email", "transforms": []string{"trim", "lower"}},
	},
	"optional": []any{
		map[string]any{"target": "phone", "source": "contact.phone"},
		map[string]any{"target": "gender", "source": "answers.q_gender", "options": map[string]string{"Weiblich": "female", "Männlich": "male"}},
	},
}

// integrate saves an integration for the funnel and returns its ETag.
func (e *env) integrate(t *testing.T, workspace, funnel, conn string, enabled bool) string {
	t.Helper()
	r := e.call(t, workspace, advanced, "PUT", "/v1/funnels/"+funnel+"/integration",
		map[string]any{"connection_id": conn, "job_position_id": 1001, "mapping": defaultMapping, "enabled": enabled}, nil)
	if r.status != 201 {
		t.Fatalf("integrate: %d %s", r.status, r.raw)
	}
	return r.header["ETag"]
}
