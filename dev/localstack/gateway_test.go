package localstack_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"github.com/golang-jwt/jwt/v5"

	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/editor"
)

// TestUnauthorizedSaysWhatToDo: every operation of the editor API's
// document, called on the local stack without a token, with an expired
// one, one signed with another key and one that is no JWT, is answered
// 401 with the problem the document promises (application/problem+json,
// unauthorized, WWW-Authenticate), saying why and how to get a token
// (`local token`); the document also admits what API Gateway answers in
// AWS ({"message":"Unauthorized"} as application/json), so that both
// environments' answers are documented.
func TestUnauthorizedSaysWhatToDo(t *testing.T) {
	st, err := localstack.Start(context.Background(), testenv.LocalStack(t, &testenv.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	doc, err := openapi3.NewLoader().LoadFromData(editor.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	doc.Servers = nil
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	sign := func(key string, exp time.Duration) string {
		s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": localstack.DevIssuer, "aud": localstack.DevAudience,
			"exp": time.Now().Add(exp).Unix(), "workspace_id": "ws_demo", "plan": "advanced"}).SignedString([]byte(key))
		return s
	}
	tokens := []struct{ name, header, says string }{
		{"no token", "", "This API needs a bearer token: send the header Authorization: Bearer <JWT>. Locally, get one with `go run ./functions/local token`"},
		{"expired", "Bearer " + sign(localstack.DevJWTKey, -time.Hour), "The bearer token was refused: it has expired. Locally, get a new one with `go run ./functions/local token`"},
		{"another key", "Bearer " + sign("another-key", time.Hour), "The bearer token was refused: it is not signed with this stack's key (LOCAL_JWT_KEY)."},
		{"no JWT", "Bearer abc", "The bearer token was refused: it is not a JWT."},
		{"not bearer", "Basic YTpi", "This API needs a bearer token"},
	}
	params := map[string]string{"{connection_id}": "con_x", "{funnel_id}": "fn_office", "{delivery_id}": "evt_x"}
	operations := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.Responses.Status(http.StatusUnauthorized) == nil {
				t.Errorf("%s %s (%s) does not document 401", method, path, op.OperationID)
			}
			target := path
			for k, v := range params {
				target = strings.ReplaceAll(target, k, v)
			}
			if strings.HasSuffix(path, "/positions") {
				target += "?subdomain=acme"
			}
			operations++
			for _, tok := range tokens {
				req, _ := http.NewRequest(method, st.URL+target, strings.NewReader(`{}`))
				if tok.header != "" {
					req.Header.Set("Authorization", tok.header)
				}
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var p struct{ Type, Title, Detail string }
				_ = json.Unmarshal(body, &p)
				if resp.StatusCode != 401 || resp.Header.Get("Content-Type") != "application/problem+json" ||
					!strings.HasSuffix(p.Type, "/unauthorized") || !strings.Contains(p.Detail, tok.says) ||
					!strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer error=") {
					t.Errorf("%s %s, %s: %d %s %s; want 401 unauthorized saying %q", method, target, tok.name, resp.StatusCode,
						resp.Header.Get("Content-Type"), body, tok.says)
				}
				checkDocumented(t, router, method, target, resp.StatusCode, resp.Header, body)
			}
			// API Gateway's own answer in AWS.
			checkDocumented(t, router, method, target, 401, http.Header{"Content-Type": {"application/json"},
				"Www-Authenticate": {`Bearer scope="" error="invalid_token" error_description="the token has expired"`}}, []byte(`{"message":"Unauthorized"}`))
		}
	}
	if operations < 17 {
		t.Errorf("%d operations in the document", operations)
	}
}

// checkDocumented holds an answer to the document's responses for the
// operation.
func checkDocumented(t *testing.T, router routers.Router, method, target string, status int, header http.Header, body []byte) {
	t.Helper()
	req := httptest.NewRequest(method, "http://api.local"+target, nil)
	route, params, err := router.FindRoute(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status, Header: header, Body: io.NopCloser(strings.NewReader(string(body))),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s -> %d %s does not match the document: %v", method, target, status, body, err)
	}
}

// TestRotatedTokenSaysSo: on the local stack, a token the Personio
// sandbox refuses is answered with what is true there: that the sandbox's
// token was regenerated and where the current one is shown (or how to
// start over), not Personio's settings; the current token is not in the
// answer, and the one shown there works.
func TestRotatedTokenSaysSo(t *testing.T) {
	st, err := localstack.Start(context.Background(), testenv.LocalStack(t, &testenv.Buffer{}))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	token, _ := st.Auth.Mint("ws_rotate", "advanced", time.Hour)
	connect := func(access string) (int, string) {
		req, _ := http.NewRequest("POST", st.URL+"/v1/connections", strings.NewReader(`{"name":"Acme","company_id":"42","access_token":"`+access+`"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	where := st.SandboxURL + "/_sandbox/companies/42"
	if code, body := connect("wrong-token"); code != 422 || !strings.Contains(body, "The Personio sandbox did not accept this token for company 42. Its current token is shown at "+where) {
		t.Errorf("a wrong token: %d %s", code, body)
	}
	if code, body := connect("sandbox-token-42"); code != 201 {
		t.Fatalf("the seed's token: %d %s", code, body)
	}
	current := st.Sandbox.RotateToken("42")
	code, body := connect("sandbox-token-42")
	for _, want := range []string{"invalid-credentials", "its token was regenerated (rotate-token, once since the stack started), so the earlier one no longer works",
		"The current one is shown at " + where, "stop make run, run make reset, then make run again", "Nothing was saved."} {
		if code != 422 || !strings.Contains(body, want) {
			t.Errorf("after the rotation: %d %s; want it to say %q", code, body, want)
		}
	}
	if strings.Contains(body, "Settings > Integrations") || strings.Contains(body, current) {
		t.Errorf("the answer sends the user to Personio's settings or holds the token: %s", body)
	}
	var shown struct{ Token string }
	resp, err := http.Get(where)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.NewDecoder(resp.Body).Decode(&shown)
	resp.Body.Close()
	if code, body := connect(shown.Token); code != 201 {
		t.Errorf("the token shown at %s: %d %s", where, code, body)
	}
}
