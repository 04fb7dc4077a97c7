package editor_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/funnel-personio/funnel-personio/pkg/editor"
)

// TestOneErrorVocabulary: the same mistake gets the same sentence on every
// route, with errors[].path the JSON pointer of the value, whichever check
// finds it (the document's schema, the decoding, the mapping's check).
func TestOneErrorVocabulary(t *testing.T) {
	e := setup(t)
	conn := e.connect(t, ws)
	required := `"required":{"first_name":{"source":"contact.first_name"},"last_name":{"source":"contact.last_name"},"email":{"source":"contact.email"}}`
	integration := func(mapping string) string {
		return `{"connection_id":"` + conn + `","job_position_id":1,"mapping":` + mapping + `}`
	}
	const null = "the body must be an object; it is null, not an object"
	for _, c := range []struct {
		name, method, path, body string
		status                   int
		errPath, message         string
	}{
		{"null connection", "POST", "/v1/connections", `null`, 400, "", null},
		{"null integration", "PUT", "/v1/funnels/fn/integration", `null`, 400, "", null},
		{"null toggle", "PATCH", "/v1/funnels/fn/integration", `null`, 400, "", null},
		{"null erasure", "POST", "/v1/erasures", `null`, 400, "", null},
		{"null test", "POST", "/v1/funnels/fn/integration/test", `null`, 400, "", null},
		{"null credentials", "PUT", "/v1/connections/" + conn + "/credentials", `null`, 400, "", null},
		{"missing email", "POST", "/v1/erasures", `{}`, 400, "/email", "email is required"},
		{"missing company", "POST", "/v1/connections", `{"name":"a","access_token":"t"}`, 400, "/company_id", "company_id is required"},
		{"unknown in erasure", "POST", "/v1/erasures", `{"email":"a@example.com","x":1}`, 400, "/x", `the body has no member "x"; leave it out`},
		{"unknown in connection", "POST", "/v1/connections", `{"name":"a","company_id":"42","access_token":"t","x":1}`, 400, "/x", `the body has no member "x"; leave it out`},
		{"unknown in mapping", "PUT", "/v1/funnels/fn/integration", integration(`{"version":1,"hobby":1,` + required + `}`), 422, "/mapping/hobby", `mapping has no member "hobby"; leave it out`},
		{"syntax", "POST", "/v1/connections", `{"name":"a",`, 400, "", "the body is not valid JSON: it ends before the value is complete"},
		{"syntax inside", "POST", "/v1/erasures", `{"email":]`, 400, "", "the body is not valid JSON (at byte 10)"},
		{"company 0", "POST", "/v1/connections", `{"name":"a","company_id":"0","access_token":"t"}`, 400, "/company_id", "company_id must be Personio's Company ID: 1 to 18 digits, not 0"},
		{"company 000", "POST", "/v1/connections", `{"name":"a","company_id":"000","access_token":"t"}`, 400, "/company_id", "company_id must be Personio's Company ID: 1 to 18 digits, not 0"},
		{"version as text", "PUT", "/v1/funnels/fn/integration", integration(`{"version":"1",` + required + `}`), 400, "/mapping/version", "version must be 1"},
		{"version 2", "PUT", "/v1/funnels/fn/integration", integration(`{"version":2,` + required + `}`), 400, "/mapping/version", "version must be 1"},
		{"required assignment", "PUT", "/v1/funnels/fn/integration", integration(`{"version":1,"required":{"first_name":{"source":"contact.first_name"},"last_name":{"source":"contact.last_name"}}}`), 422, "/mapping/required/email", "missing required assignment: Personio needs email"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.call(t, ws, advanced, c.method, c.path, c.body, nil)
			errs, _ := r.body["errors"].([]any)
			if r.status != c.status || len(errs) != 1 {
				t.Fatalf("%d %s, want %d with one error", r.status, r.raw, c.status)
			}
			got := errs[0].(map[string]any)
			if got["path"] != c.errPath || got["message"] != c.message {
				t.Errorf("path %q message %q, want %q %q", got["path"], got["message"], c.errPath, c.message)
			}
			if c.status == 400 && r.body["detail"] != c.message+"." {
				t.Errorf("detail %q", r.body["detail"])
			}
			if strings.Contains(r.raw, "unexpected") || strings.Contains(r.raw, "nullable") || strings.Contains(r.raw, "at '") {
				t.Errorf("a validator's or decoder's own words: %s", r.raw)
			}
		})
	}
}

// TestEveryOperationIsSummarised: each operation of the document has a
// summary and a tag (Redocly's recommended rules refuse one without).
func TestEveryOperationIsSummarised(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(editor.OpenAPI)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			n++
			if strings.TrimSpace(op.Summary) == "" || len(op.Tags) == 0 {
				t.Errorf("%s %s (%s): summary %q, tags %v", method, path, op.OperationID, op.Summary, op.Tags)
			}
		}
	}
	if n == 0 {
		t.Fatal("no operations")
	}
}

// TestListIntegrations: whether a funnel has an integration is asked
// without a 404: none is an empty list, a saved one is listed with its
// version (its ETag is "v<version>").
func TestListIntegrations(t *testing.T) {
	e := setup(t)
	r := e.call(t, ws, advanced, "GET", "/v1/integrations?funnel_id=fn_new", nil, nil)
	if r.status != 200 || r.raw != `{"integrations":[]}` {
		t.Fatalf("a funnel without one: %d %s", r.status, r.raw)
	}
	conn := e.connect(t, ws)
	etag := e.integrate(t, ws, "fn_new", conn, false)
	e.integrate(t, ws, "fn_other", conn, false)
	r = e.call(t, ws, advanced, "GET", "/v1/integrations?funnel_id=fn_new", nil, nil)
	list, _ := r.body["integrations"].([]any)
	if r.status != 200 || len(list) != 1 {
		t.Fatalf("the funnel's: %d %s", r.status, r.raw)
	}
	if in := list[0].(map[string]any); in["funnel_id"] != "fn_new" || `"v`+strconv.Itoa(int(in["version"].(float64)))+`"` != etag {
		t.Errorf("listed %v, ETag %s", in, etag)
	}
	if r := e.call(t, ws, advanced, "GET", "/v1/integrations", nil, nil); len(r.body["integrations"].([]any)) != 2 {
		t.Errorf("all: %s", r.raw)
	}
	if r := e.call(t, "ws_b", advanced, "GET", "/v1/integrations", nil, nil); r.raw != `{"integrations":[]}` {
		t.Errorf("another workspace: %s", r.raw)
	}
}
