package editor_test

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/editor"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
)

// countingPersonio counts the credential checks that reach Personio.
type countingPersonio struct {
	editor.Personio
	verified atomic.Int64
}

func (c *countingPersonio) Verify(ctx context.Context, creds personio.Credentials) error {
	c.verified.Add(1)
	return c.Personio.Verify(ctx, creds)
}

// companyUnitsFree reports how many of company 42's budget units are
// free, by taking the most it can (and so using them up).
func (e *env) companyUnitsFree(t *testing.T) int {
	t.Helper()
	b := settings.Default().RateBudget()
	for n := b.Limit; n > 0; n-- {
		ok, _, err := e.store.TakeBudget(t.Context(), "42", n, b)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			return n
		}
	}
	return 0
}

// goInternals are what an answer must never quote: Go's names for its
// types and its decoder's wording.
var goInternals = []string{"Go struct", "Go value", "int64", "json:", "unmarshal", "integrationBody", "main.", "editor."}

func quotesGo(raw string) bool {
	for _, s := range goInternals {
		if strings.Contains(raw, s) {
			return true
		}
	}
	return false
}

// TestRefusedChecksSpendNothingOfTheCompany: a check Personio refused (401:
// not counted there) gives its unit of the company's budget back; a good
// check keeps it (Personio counted it).
func TestRefusedChecksSpendNothingOfTheCompany(t *testing.T) {
	e := setup(t)
	r := e.call(t, "ws_attacker", advanced, "POST", "/v1/connections", map[string]any{"name": "x", "company_id": "42", "access_token": "wrong-token-123"}, nil)
	if r.status != 422 || r.problem() != "invalid-credentials" {
		t.Fatalf("wrong token: %d %s", r.status, r.raw)
	}
	if free := e.companyUnitsFree(t); free != 20 {
		t.Errorf("after a refused check %d of 20 units are free; the refused check spent the company's budget", free)
	}
	e2 := setup(t)
	e2.connect(t, "ws_victim")
	if free := e2.companyUnitsFree(t); free != 19 {
		t.Errorf("after a good check %d of 20 units are free, want 19", free)
	}
}

// TestCredentialChecksAreLimitedPerWorkspace: past its limit a workspace's
// checks (create, verify, replace) answer 429 with Retry-After and reach
// neither the company's budget nor Personio; another workspace checking
// the same company is not held up.
func TestCredentialChecksAreLimitedPerWorkspace(t *testing.T) {
	var cp *countingPersonio
	e := setup(t, func(e *env, o *options) { cp = &countingPersonio{Personio: o.personio}; o.personio = cp })
	limit := settings.Default().CheckLimit.Limit
	conn := e.connect(t, "ws_attacker") // one check
	for i := 1; i < limit; i++ {
		r := e.call(t, "ws_attacker", advanced, "POST", "/v1/connections", map[string]any{"name": "x", "company_id": "42", "access_token": "wrong-token-123"}, nil)
		if r.status != 422 {
			t.Fatalf("check %d: %d %s", i+1, r.status, r.raw)
		}
	}
	for _, c := range []struct{ method, path string }{
		{"POST", "/v1/connections"}, {"POST", "/v1/connections/" + conn + "/verify"}, {"PUT", "/v1/connections/" + conn + "/credentials"},
	} {
		var body any
		if c.method != "POST" || !strings.HasSuffix(c.path, "/verify") {
			body = map[string]any{"name": "x", "company_id": "42", "access_token": "wrong-token-123"}
			if c.method == "PUT" {
				body = map[string]any{"company_id": "42", "access_token": "wrong-token-123"}
			}
		}
		r := e.call(t, "ws_attacker", advanced, c.method, c.path, body, nil)
		secs, _ := strconv.Atoi(r.header["Retry-After"])
		if r.status != 429 || r.problem() != "too-many-requests" || secs < 1 || secs > 60 || !strings.Contains(r.body["detail"].(string), "credential checks") {
			t.Errorf("%s %s past the limit: %d %v %s", c.method, c.path, r.status, r.header, r.raw)
		}
	}
	if n := cp.verified.Load(); n != int64(limit) {
		t.Errorf("Personio saw %d checks, want %d (none past the limit)", n, limit)
	}
	if r := e.call(t, "ws_victim", advanced, "POST", "/v1/connections", map[string]any{"name": "x", "company_id": "42", "access_token": "sandbox-token-42"}, nil); r.status != 201 {
		t.Errorf("another workspace's check: %d %s", r.status, r.raw)
	}
	// ws_attacker's one good check and ws_victim's: 2 units.
	if free := e.companyUnitsFree(t); free != 18 {
		t.Errorf("%d of 20 units free, want 18", free)
	}
}

// TestTestApplicationsAreLimitedPerWorkspace: each test is an application
// in Personio; past its limit a workspace gets 429 with Retry-After, and
// nothing is queued.
func TestTestApplicationsAreLimitedPerWorkspace(t *testing.T) {
	e := setup(t)
	conn := e.connect(t, ws)
	e.integrate(t, ws, "fn_1", conn, true)
	limit := settings.Default().TestLimit.Limit
	for i := range limit {
		if r := e.call(t, ws, advanced, "POST", "/v1/funnels/fn_1/integration/test", nil, nil); r.status != 202 {
			t.Fatalf("test %d: %d %s", i+1, r.status, r.raw)
		}
	}
	r := e.call(t, ws, advanced, "POST", "/v1/funnels/fn_1/integration/test", nil, nil)
	secs, _ := strconv.Atoi(r.header["Retry-After"])
	if r.status != 429 || r.problem() != "too-many-requests" || secs < 1 || secs > 60 || !strings.Contains(r.body["detail"].(string), "test applications") {
		t.Fatalf("past the limit: %d %v %s", r.status, r.header, r.raw)
	}
	if r := e.call(t, ws, advanced, "GET", "/v1/funnels/fn_1/deliveries?limit=100", nil, nil); len(r.body["deliveries"].([]any)) != limit {
		t.Errorf("%d test deliveries recorded, want %d", len(r.body["deliveries"].([]any)), limit)
	}
	// Another workspace has its own.
	other := e.connect(t, "ws_b")
	e.integrate(t, "ws_b", "fn_1", other, true)
	if r := e.call(t, "ws_b", advanced, "POST", "/v1/funnels/fn_1/integration/test", nil, nil); r.status != 202 {
		t.Errorf("another workspace's test: %d %s", r.status, r.raw)
	}
}

// TestUnusableCredentialsAreRefusedFirst: a token or Company ID that can
// never be an HTTP header value is invalid input (422, naming the field),
// on create and on replace, before any budget is taken or Personio is
// asked.
func TestUnusableCredentialsAreRefusedFirst(t *testing.T) {
	var cp *countingPersonio
	e := setup(t, func(e *env, o *options) { cp = &countingPersonio{Personio: o.personio}; o.personio = cp })
	conn := e.connect(t, ws)
	before := cp.verified.Load()
	for _, c := range []struct {
		name, company, token, field string
	}{
		{"line break", "42", "sandbox-token-42\n", "/access_token"},
		{"carriage return and header", "42", "x\r\nX-Company-ID: 43", "/access_token"},
		{"NUL", "42", "sandbox\x00token", "/access_token"},
		{"tab", "42", "sandbox\ttoken", "/access_token"},
		{"DEL", "42", "sandbox\x7ftoken", "/access_token"},
		{"not ASCII", "42", "sändbox-token", "/access_token"},
		{"company 0", "0", "sandbox-token-42", "/company_id"},
	} {
		status, problem := 422, "invalid-input"
		if c.field == "/company_id" {
			status, problem = 400, "validation" // the document's pattern refuses it
		}
		for _, op := range []struct{ method, path string }{{"POST", "/v1/connections"}, {"PUT", "/v1/connections/" + conn + "/credentials"}} {
			t.Run(c.name+" "+op.method, func(t *testing.T) {
				body := map[string]any{"company_id": c.company, "access_token": c.token}
				if op.method == "POST" {
					body["name"] = "x"
				}
				r := e.call(t, ws, advanced, op.method, op.path, body, nil)
				if r.status != status || r.problem() != problem || !strings.Contains(r.raw, `"path":"`+c.field+`"`) {
					t.Errorf("answer %d %s, want %d %s naming %s", r.status, r.raw, status, problem, c.field)
				}
			})
		}
	}
	if n := cp.verified.Load() - before; n != 0 {
		t.Errorf("Personio was asked %d times about unusable credentials", n)
	}
	// connect's one good check only; nothing of the workspace's checks
	// either.
	if free := e.companyUnitsFree(t); free != 19 {
		t.Errorf("%d of 20 company units free, want 19", free)
	}
	for range settings.Default().CheckLimit.Limit - 1 {
		if r := e.call(t, ws, advanced, "POST", "/v1/connections/"+conn+"/verify", nil, nil); r.status == 429 {
			t.Fatalf("unusable credentials counted as checks: %s", r.raw)
		}
	}
}

// TestParametersFollowTheDocument: every route's path, query and header
// parameters are held to the document's schemas, answering 400 with a
// sentence that says what the value must be.
func TestParametersFollowTheDocument(t *testing.T) {
	e := setup(t)
	conn := e.connect(t, ws)
	e.integrate(t, ws, "fn_1", conn, false)
	long := strings.Repeat("f", 129)
	idRule := "must be 1 to 128 letters, digits, underscores (_) or hyphens (-)"
	for _, c := range []struct {
		method, target string
		body           any
		want           string
	}{
		{"POST", "/v1/funnels/fn%20x/integration/test", nil, "funnel_id " + idRule},
		{"GET", "/v1/funnels/fn%2E/deliveries", nil, "funnel_id " + idRule},
		{"GET", "/v1/funnels/" + long + "/deliveries", nil, "funnel_id " + idRule},
		{"GET", "/v1/funnels/fn%C3%A4/integration", nil, "funnel_id " + idRule},
		{"PUT", "/v1/funnels/fn%3Bx/integration", map[string]any{"connection_id": conn, "job_position_id": 1001, "mapping": defaultMapping}, "funnel_id " + idRule},
		{"DELETE", "/v1/funnels/..%2F..%2Fx/integration", nil, "funnel_id " + idRule},
		{"GET", "/v1/connections/con%00x", nil, "connection_id " + idRule},
		{"GET", "/v1/funnels/fn_1/deliveries/not_an_event", nil, "delivery_id must be evt_ and then 1 to 120 letters"},
		{"GET", "/v1/funnels/fn_1/deliveries?limit=abc", nil, "limit must be a whole number from 1 to 100"},
		{"GET", "/v1/funnels/fn_1/deliveries?status=lost", nil, "status must be one of queued, processing"},
		{"GET", "/v1/connections/" + conn + "/positions", nil, "subdomain is required: the subdomain of the company's Personio career page, the first part of its address (acme for acme.jobs.personio.de)"},
		{"GET", "/v1/connections/" + conn + "/positions?subdomain=a.b", nil, "subdomain must be the subdomain of the company's Personio career page"},
		{"GET", "/v1/connections/" + conn + "/positions?subdomain=", nil, "in Personio, the address is under Settings > Recruiting > Career page"},
	} {
		r := e.call(t, ws, advanced, c.method, c.target, c.body, nil)
		if r.status != 400 || r.problem() != "validation" || !strings.Contains(r.body["detail"].(string), c.want) {
			t.Errorf("%s %s: %d %s, want 400 saying %q", c.method, c.target, r.status, r.raw, c.want)
		}
	}
	if r := e.call(t, ws, advanced, "GET", "/v1/funnels/fn%3Bx/integration", nil, nil); r.status != 400 {
		t.Errorf("an integration was saved under an invalid funnel id: %d %s", r.status, r.raw)
	}
}

// TestLanguage: the positions' language is one of the document's; any
// other, or an empty one, is a 400 whose sentence lists them.
func TestLanguage(t *testing.T) {
	e := setup(t)
	conn := e.connect(t, ws)
	for _, lang := range []string{"xx", "", "DE", "de-DE"} {
		r := e.call(t, ws, advanced, "GET", "/v1/connections/"+conn+"/positions?subdomain=acme&language="+lang, nil, nil)
		if r.status != 400 || !strings.Contains(r.raw, "language must be one of de, en, fr, es, nl, it, pt") || strings.Contains(r.raw, "client.") {
			t.Errorf("language %q: %d %s", lang, r.status, r.raw)
		}
	}
	if r := e.call(t, ws, advanced, "GET", "/v1/connections/"+conn+"/positions?subdomain=acme&language=en", nil, nil); r.status != 200 {
		t.Errorf("language en: %d %s", r.status, r.raw)
	}
	if r := e.call(t, ws, advanced, "GET", "/v1/connections/"+conn+"/positions?subdomain=acme", nil, nil); r.status != 200 {
		t.Errorf("no language: %d %s", r.status, r.raw)
	}
}

// refusingFeed is a Personio whose feed refuses the language, as the
// client does before asking.
type refusingFeed struct{ editor.Personio }

func (refusingFeed) Positions(context.Context, string, string, string) ([]personio.Position, error) {
	return nil, &personio.ValidationError{Op: "personio: list positions", Body: personio.ErrorBody{Fields: personio.FieldErrors{
		{Field: "language", Reasons: []personio.Reason{{Reason: "client.invalid-language"}}}}}}
}

// TestFeedRefusalInWords: should the client refuse a parameter the
// document let through, the answer still says it in words.
func TestFeedRefusalInWords(t *testing.T) {
	e := setup(t, func(_ *env, o *options) { o.personio = refusingFeed{o.personio} })
	conn := e.connect(t, ws)
	r := e.call(t, ws, advanced, "GET", "/v1/connections/"+conn+"/positions?subdomain=acme&language=de", nil, nil)
	if r.status != 400 || r.body["detail"] != "language must be one of de, en, fr, es, nl, it, pt" || strings.Contains(r.raw, "client.") {
		t.Errorf("answer %d %s", r.status, r.raw)
	}
}

// TestIfMatchOneRule: PUT and PATCH read If-Match alike: the ETag read (or
// its weak form) matches that version, * any version; a well-formed
// mismatch or an If-Match on a missing integration is 412; anything else
// 400; an empty one counts as none.
func TestIfMatchOneRule(t *testing.T) {
	e := setup(t)
	conn := e.connect(t, ws)
	put := map[string]any{"connection_id": conn, "job_position_id": 1001, "mapping": defaultMapping}
	patch := map[string]any{"enabled": false}
	for _, c := range []struct {
		ifMatch string
		want    int // for PUT and PATCH alike, on an integration at v1
	}{
		{"abc", 400}, {"v1", 400}, {`"v1`, 400}, {`"v0"`, 400}, {`"1"`, 400}, {"**", 400}, {`"v1", "v2"`, 400},
		{`"v2"`, 412}, {`"v99999999999999999999"`, 400}, {`"v9999999999999999999"`, 412},
		{"*", 200}, {`"v1"`, 200}, {`W/"v1"`, 200}, {` "v1" `, 200},
	} {
		for _, m := range []struct {
			method string
			body   any
		}{{"PUT", put}, {"PATCH", patch}} {
			funnel := "fn_" + strconv.Itoa(len(c.ifMatch)) + "_" + strings.ToLower(m.method)
			e.integrate(t, ws, funnel, conn, false)
			r := e.call(t, ws, advanced, m.method, "/v1/funnels/"+funnel+"/integration", m.body, map[string]string{"If-Match": c.ifMatch})
			if r.status != c.want {
				t.Errorf("%s If-Match %s: %d %s, want %d", m.method, c.ifMatch, r.status, r.raw, c.want)
			}
			if r.status == 400 && !strings.Contains(r.raw, `If-Match must be the ETag the integration was read with, such as \"v3\", or *`) {
				t.Errorf("%s If-Match %s: %s", m.method, c.ifMatch, r.raw)
			}
			e.call(t, ws, advanced, "DELETE", "/v1/funnels/"+funnel+"/integration", nil, nil)
		}
	}
	// No integration: any If-Match is 412, for both.
	for _, m := range []struct {
		method string
		body   any
	}{{"PUT", put}, {"PATCH", patch}} {
		for _, h := range []string{"*", `"v1"`} {
			if r := e.call(t, ws, advanced, m.method, "/v1/funnels/fn_none/integration", m.body, map[string]string{"If-Match": h}); r.status != 412 {
				t.Errorf("%s If-Match %s on no integration: %d %s", m.method, h, r.status, r.raw)
			}
		}
	}
	// Empty counts as none: PUT creates, PATCH switches.
	if r := e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_empty/integration", put, map[string]string{"If-Match": ""}); r.status != 201 {
		t.Errorf("PUT with an empty If-Match: %d %s", r.status, r.raw)
	}
	if r := e.call(t, ws, advanced, "PATCH", "/v1/funnels/fn_empty/integration", patch, map[string]string{"If-Match": " "}); r.status != 200 {
		t.Errorf("PATCH with an empty If-Match: %d %s", r.status, r.raw)
	}
}

// TestIDsAndDecodingInWords: Personio's ids are bounded in the document and
// said in words when out of range; no answer quotes Go's type names.
func TestIDsAndDecodingInWords(t *testing.T) {
	e := setup(t)
	conn := e.connect(t, ws)
	rule := "job_position_id must be a whole number from 1 to 9223372036854775807"
	body := func(position string, extra string) string {
		return `{"connection_id":"` + conn + `","job_position_id":` + position + extra + `,"mapping":{"version":1,"required":{"first_name":{"source":"contact.first_name"},"last_name":{"source":"contact.last_name"},"email":{"source":"contact.email"}}}}`
	}
	for i, c := range []struct {
		body, want string
	}{
		{body("9223372036854775808", ""), rule},
		{body("1e30", ""), rule},
		{body("1e400", ""), rule},
		{body("-1e400", ""), rule},
		{body("0", ""), rule},
		{body("-5", ""), rule},
		{body("1.5", ""), rule},
		{body("1001", `,"recruiting_channel_id":9223372036854775808`), "recruiting_channel_id must be a whole number from 1 to 9223372036854775807"},
		{body("1001", `,"recruiting_channel_id":0`), "recruiting_channel_id must be a whole number from 1 to 9223372036854775807"},
	} {
		funnel := "fn_" + strconv.Itoa(i)
		r := e.call(t, ws, advanced, "PUT", "/v1/funnels/"+funnel+"/integration", c.body, nil)
		if r.status != 400 || !strings.Contains(r.raw, c.want) || quotesGo(r.raw) {
			t.Errorf("%s: %d %s, want 400 saying %q", c.body, r.status, r.raw, c.want)
		}
	}
	// As in JSON Schema, 1001.0 is the whole number 1001; the largest
	// int64 is taken as it is.
	for i, c := range []struct{ position, want string }{{"1001.0", "1001"}, {"1.001e3", "1001"}, {"9223372036854775807", "9223372036854775807"}} {
		r := e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_ok"+strconv.Itoa(i)+"/integration", body(c.position, ""), nil)
		if r.status != 201 || !strings.Contains(r.raw, `"job_position_id":`+c.want+`,`) {
			t.Errorf("job_position_id %s: %d %s", c.position, r.status, r.raw)
		}
	}
	// Decoding anywhere: the mapping and the test event.
	for _, c := range []struct{ method, path, body string }{
		{"PUT", "/v1/funnels/fn_m/integration", `{"connection_id":"` + conn + `","job_position_id":1,"mapping":{"version":"one","required":{}}}`},
		{"PUT", "/v1/funnels/fn_m/integration", `{"connection_id":"` + conn + `","job_position_id":1,"mapping":{"version":1,"required":{"first_name":{"transforms":"trim"}}}}`},
		{"PUT", "/v1/funnels/fn_m/integration", `{"connection_id":"` + conn + `","job_position_id":1,"mapping":{"version":1,"hobby":1}}`},
	} {
		r := e.call(t, ws, advanced, c.method, c.path, c.body, nil)
		if r.status < 400 || r.status >= 500 || quotesGo(r.raw) {
			t.Errorf("%s %s %s: %d %s", c.method, c.path, c.body, r.status, r.raw)
		}
	}
	e.integrate(t, ws, "fn_t", conn, false)
	for _, ev := range []string{`{"event":{"contact":[]}}`, `{"event":{"occurred_at":"yesterday","contact":{"email":"a@example.com"}}}`,
		`{"event":{"contact":{"first_name":5}}}`, `{"event":{"answers":{"a":1}}}`} {
		r := e.call(t, ws, advanced, "POST", "/v1/funnels/fn_t/integration/test", ev, nil)
		if r.status != 422 || quotesGo(r.raw) {
			t.Errorf("test event %s: %d %s", ev, r.status, r.raw)
		}
	}
}

// TestWrongTypeInWords: a value of the wrong JSON type is named once, by
// its path in errors[], and said in words in the message and the detail:
// what it must be and what it is (the number 42 where the Company ID is a
// string; a number in a test event where a name goes).
func TestWrongTypeInWords(t *testing.T) {
	e := setup(t)
	r := e.call(t, ws, advanced, "POST", "/v1/connections", `{"name":"Acme","company_id":42,"access_token":"sandbox-token-42"}`, nil)
	const msg = "company_id must be Personio's Company ID: 1 to 18 digits, not 0; it is a number, not a string in quotes"
	errs, _ := r.body["errors"].([]any)
	if r.status != 400 || len(errs) != 1 || r.body["detail"] != msg+"." {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if e0 := errs[0].(map[string]any); e0["path"] != "/company_id" || e0["message"] != msg {
		t.Errorf("errors: %v", errs)
	}
	if strings.Contains(r.raw, "got number") || strings.Contains(r.raw, "error at") || strings.Count(r.raw, "/company_id") != 1 {
		t.Errorf("the path twice or the validator's words: %s", r.raw)
	}
	conn := e.connect(t, ws)
	e.integrate(t, ws, "fn_t", conn, false)
	r = e.call(t, ws, advanced, "POST", "/v1/funnels/fn_t/integration/test", `{"event":{"contact":{"first_name":5,"last_name":"L","email":"a@example.com"}}}`, nil)
	if r.status != 422 || !strings.Contains(r.raw, `{"path":"$.contact.first_name","message":"must be a string; it is a number"}`) {
		t.Errorf("test event: %d %s", r.status, r.raw)
	}
}
