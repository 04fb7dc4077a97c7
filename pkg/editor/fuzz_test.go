package editor_test

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// FuzzServe sends any method, path, query, body and headers: the API never
// panics and never answers 5xx for what a client sends.
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
	})
}
