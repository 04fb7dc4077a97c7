package apigw_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/funnel-personio/funnel-personio/pkg/apigw"
)

// anySpec describes every operation, with no checks.
type anySpec struct{}

func (anySpec) Body(string, string) (apigw.BodyCheck, bool) {
	return func([]byte) *apigw.Problem { return nil }, true
}

func (anySpec) Parameters(string, string) apigw.ParameterCheck {
	return func(map[string]string, url.Values, http.Header) *apigw.Problem { return nil }
}

func serve(t *testing.T, rt *apigw.Router, method, path string) apigw.Response {
	t.Helper()
	ev := events.APIGatewayV2HTTPRequest{RawPath: path, RequestContext: events.APIGatewayV2HTTPRequestContext{
		HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
		Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"workspace_id": "ws"}}}}}
	resp, err := rt.Serve(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestMethodNotAllowedSaysAllow: a 405 carries the Allow header RFC 9110
// requires, listing the methods of the path's routes; a path no route has
// is 404 without it.
func TestMethodNotAllowedSaysAllow(t *testing.T) {
	rt := apigw.NewRouter(anySpec{}, nil)
	ok := func(context.Context, *apigw.Request) apigw.Response { return apigw.NoContent() }
	rt.Handle("POST", "/v1/things", ok)
	rt.Handle("GET", "/v1/things", ok)
	rt.Handle("DELETE", "/v1/things/{id}", ok)
	rt.Handle("GET", "/v1/things/{id}", ok)
	for _, c := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"DELETE", "/v1/things", 405, "GET, POST"},
		{"PATCH", "/v1/things/t1", 405, "DELETE, GET"},
		{"OPTIONS", "/v1/things/t1", 405, "DELETE, GET"},
		{"GET", "/v1/things/t1", 204, ""},
		{"GET", "/v1/others", 404, ""},
	} {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			resp := serve(t, rt, c.method, c.path)
			if resp.StatusCode != c.status || resp.Headers["Allow"] != c.allow {
				t.Fatalf("%d Allow %q, want %d Allow %q", resp.StatusCode, resp.Headers["Allow"], c.status, c.allow)
			}
		})
	}
}

// TestVocabulary: each mistake has its sentence and the JSON pointer of
// the value it is about.
func TestVocabulary(t *testing.T) {
	var syntax error
	if err := json.Unmarshal([]byte(`{"a":}`), new(any)); err != nil {
		syntax = err
	}
	for _, c := range []struct {
		name string
		got  apigw.FieldError
		want apigw.FieldError
	}{
		{"missing", apigw.Missing("", "email"), apigw.FieldError{Path: "/email", Message: "email is required"}},
		{"missing in a member", apigw.Missing("/mapping", "version"), apigw.FieldError{Path: "/mapping/version", Message: "version is required"}},
		{"unknown", apigw.Unknown("", "x"), apigw.FieldError{Path: "/x", Message: `the body has no member "x"; leave it out`}},
		{"unknown in a member", apigw.Unknown("/mapping", "a/b"), apigw.FieldError{Path: "/mapping/a~1b", Message: `mapping has no member "a/b"; leave it out`}},
		{"must be", apigw.MustBe("/mapping/version", "1", ""), apigw.FieldError{Path: "/mapping/version", Message: "version must be 1"}},
		{"item", apigw.MustBe("/choices/3", "text", "a number"), apigw.FieldError{Path: "/choices/3", Message: "choices[3] must be text; it is a number"}},
		{"syntax", apigw.NotJSON("", syntax), apigw.FieldError{Path: "", Message: "the body is not valid JSON (at byte 6)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Fatalf("%+v, want %+v", c.got, c.want)
			}
		})
	}
}
