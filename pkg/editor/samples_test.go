package editor_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// TestSampleRequests decodes every events/api/*.json as an API Gateway v2
// event, checks there is one for every operation, and serves each: an
// answer of the API (no 404 for the route itself, no 5xx) that matches the
// OpenAPI document.
func TestSampleRequests(t *testing.T) {
	files, err := filepath.Glob("../../events/api/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no samples: %v", err)
	}
	e := setup(t)
	e.connect(t, "ws_demo")
	ops := map[string]bool{}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			raw, _ := os.ReadFile(f)
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if ev.RequestContext.Authorizer == nil || ev.RequestContext.Authorizer.JWT.Claims["workspace_id"] == "" {
				t.Fatal("no JWT claims")
			}
			resp, err := e.router.Serve(context.Background(), ev)
			if err != nil || resp.StatusCode >= 500 || resp.StatusCode == 405 {
				t.Fatalf("%s %s -> %d %s", ev.RequestContext.HTTP.Method, ev.RawPath, resp.StatusCode, resp.Body)
			}
			if resp.StatusCode == 404 {
				var p map[string]any
				_ = json.Unmarshal([]byte(resp.Body), &p)
				if p["detail"] != nil && p["detail"] != "" {
					t.Fatalf("the route does not exist: %s", resp.Body)
				}
			}
			target := ev.RawPath
			if ev.RawQueryString != "" {
				target += "?" + ev.RawQueryString
			}
			e.checkSpec(t, ev.RequestContext.HTTP.Method, target, ev, resp)
			ops[ev.RequestContext.HTTP.Method+" "+ev.RawPath] = true
		})
	}
	if len(ops) < 17 {
		t.Errorf("%d sample requests, want one per endpoint (17)", len(ops))
	}
}
