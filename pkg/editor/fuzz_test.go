package editor_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// FuzzServe sends any method, path, query, body and headers: the API never
// panics, never answers 5xx for what a client sends, and never quotes Go's
// decoder in an answer.
func FuzzServe(f *testing.F) {
	f.Add("POST", "/v1/connections", "", `{"name":"x","company_id":"42","access_token":"wrong-token-123"}`, "")
	f.Add("PUT", "/v1/funnels/fn_1/integration", "", `{"connection_id":"con_x","job_position_id":1001,"mapping":{"version":1,"optional":[{"target":"gender","options":{"a":"b"}}]}}`, `"v1"`)
	f.Add("PATCH", "/v1/funnels/fn_1/integration", "", `{"enabled":"yes"}`, "W/\"vx\"")
	f.Add("GET", "/v1/funnels/fn_1/deliveries", "status=failed&limit=0&cursor=%ff", "", "")
	f.Add("POST", "/v1/funnels/%2e%2e/integration/test", "", `{"event":{"contact":[]}}`, "")
	f.Add("POST", "/v1/erasures", "", `{"email":null}`, "")
	f.Add("GET", "/v1/connections/con_1/positions", "subdomain=..&language=xx", "", "")
	// One seed for every other operation of openapi.yaml, so each route's
	// body and path parameters are mutated from a valid start.
	f.Add("GET", "/v1/connections", "", "", "")
	f.Add("GET", "/v1/connections/con_1", "", "", "")
	f.Add("DELETE", "/v1/connections/con_1", "", "", "")
	f.Add("POST", "/v1/connections/con_1/verify", "", "", "")
	f.Add("PUT", "/v1/connections/con_1/credentials", "", `{"company_id":"42","access_token":"sandbox-token-42"}`, "")
	f.Add("GET", "/v1/personio/targets", "", "", "")
	f.Add("GET", "/v1/funnels/fn_1/integration", "", "", "")
	f.Add("DELETE", "/v1/funnels/fn_1/integration", "", "", `"v1"`)
	f.Add("GET", "/v1/funnels/fn_1/deliveries/evt_1", "", "", "")
	f.Add("POST", "/v1/funnels/fn_1/deliveries/evt_1/retry", "", "", "")
	// Issue 14's inputs: tokens that cannot be a header value, ids past
	// their patterns and int64, If-Match and language outside their rules,
	// a test event of the wrong shape.
	f.Add("POST", "/v1/connections", "", `{"name":"x","company_id":"42","access_token":"sandbox-token-42\n"}`, "")
	f.Add("PUT", "/v1/connections/con_1/credentials", "", `{"company_id":"0","access_token":"x\r\nX-Company-ID: 43"}`, "")
	f.Add("POST", "/v1/connections", "", "{\"name\":\"x\",\"company_id\":\"42\",\"access_token\":\"a\x00b\"}", "")
	f.Add("POST", "/v1/funnels/fn%20x/integration/test", "", "", "")
	f.Add("GET", "/v1/funnels/"+strings.Repeat("f", 129)+"/deliveries", "limit=abc&status=", "", "")
	f.Add("GET", "/v1/funnels/fn_1/deliveries/not_an_event", "", "", "")
	f.Add("PUT", "/v1/funnels/fn_1/integration", "", `{"connection_id":"con_x","job_position_id":9223372036854775808,"recruiting_channel_id":1e400,"mapping":{"version":1}}`, "*")
	f.Add("PUT", "/v1/funnels/fn_1/integration", "", `{"connection_id":"con_x","job_position_id":1.0,"mapping":{"version":"1"}}`, "abc")
	f.Add("PATCH", "/v1/funnels/fn_1/integration", "", `{"enabled":true}`, `"v99999999999999999999"`)
	f.Add("PATCH", "/v1/funnels/fn_1/integration", "", `{"enabled":true}`, "*")
	f.Add("GET", "/v1/connections/con_1/positions", "subdomain=acme&language=", "", "")
	f.Add("GET", "/v1/connections/con_1/positions", "subdomain=acme&language=de&language=en", "", "")
	f.Add("POST", "/v1/funnels/fn_1/integration/test", "", `{"event":{"contact":[],"occurred_at":"yesterday"}}`, "")
	e := setup(f)
	f.Fuzz(func(t *testing.T, method, path, query, body, ifMatch string) {
		ev := events.APIGatewayV2HTTPRequest{RawPath: path, RawQueryString: query, Body: body,
			Headers: map[string]string{"if-match": ifMatch, "content-type": "application/json"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
				Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{"workspace_id": "ws_fuzz", "plan": "advanced"}}},
			}}
		resp, err := e.router.Serve(context.Background(), ev)
		if err != nil || resp.StatusCode >= 500 {
			t.Fatalf("%s %s?%s %q -> %d %v %s", method, path, query, body, resp.StatusCode, err, resp.Body)
		}
		// No answer quotes Go's decoder (unless the client sent the words).
		for _, s := range []string{"Go struct", "Go value", "into Go"} {
			if strings.Contains(resp.Body, s) && !strings.Contains(path+query+body+ifMatch, s) {
				t.Fatalf("%s %s?%s %q -> %d quotes Go: %s", method, path, query, body, resp.StatusCode, resp.Body)
			}
		}
	})
}
