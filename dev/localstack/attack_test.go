package localstack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/webhook"
)

// attacker talks to the local stack over HTTP.
type attacker struct {
	t       *testing.T
	api     string
	ifMatch string // sent when set, so that edits get past "If-Match required"
}

// do sends a request with a bearer token ("" for none) and returns the
// status and body.
func (a attacker) do(token, method, path, body string) (int, string) {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.api+path, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.ifMatch != "" {
		req.Header.Set("If-Match", a.ifMatch)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// event posts a raw ingest request with the given headers.
func (a attacker) event(h http.Header, body []byte) int {
	a.t.Helper()
	req, _ := http.NewRequest("POST", a.api+"/v1/events", bytes.NewReader(body))
	if h != nil {
		req.Header = h
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func sign(t *testing.T, secret, id string, at time.Time, body []byte) http.Header {
	t.Helper()
	h, err := webhook.Sign(secret, id, at, body)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func applicationEvent(id, email, fileURL string) []byte {
	files := ""
	if fileURL != "" {
		files = fmt.Sprintf(`,"files":[{"field_id":"q_cv","url":%q,"filename":"cv.pdf"}]`, fileURL)
	}
	return []byte(fmt.Sprintf(`{"type":"application.submitted","id":%q,"occurred_at":%q,"workspace_id":"ws_a","funnel_id":"fn_1","contact":{"first_name":"Eve","last_name":"Mallory","email":%q}%s}`,
		id, time.Now().UTC().Format(time.RFC3339), email, files))
}

// TestAttacks is the attack campaign against the running local stack, over
// HTTP: another workspace's valid JWT reads and writes nothing of ws_a;
// forged, expired and foreign tokens are refused; replayed, re-signed,
// tampered, stale and oversize webhooks are refused (a replay of the same
// event is accepted once and never queued again); file URLs that point
// at loopback, private, link-local or metadata addresses are never
// fetched. It counts attacks tried and succeeded; none may succeed.
func TestAttacks(t *testing.T) {
	ctx := context.Background()
	var canaryHits atomic.Int64 // a server on loopback that files must never reach
	canary := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		canaryHits.Add(1)
		_, _ = w.Write([]byte("%PDF-1.4 secret"))
	}))
	defer canary.Close()
	cfg := testenv.LocalStack(t, &testenv.Buffer{})
	// Room for every attack's deliveries in company 42's window: the
	// campaign is about who may do what, not about the budget (which
	// TestWrongTokensDoNotStallAnotherWorkspace holds at Personio's 20).
	cfg.Sandbox.RateLimit = 60
	// The global budget grows with it (its slots must hold the largest
	// application).
	cfg.Adjust = func(s *settings.Settings) { s.Budget.Limit, s.GlobalLimit = 60, 11*60 }
	st, err := localstack.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	a := attacker{t: t, api: st.URL}
	owner, _ := st.Auth.Mint("ws_a", "advanced", time.Hour)
	other, _ := st.Auth.Mint("ws_b", "advanced", time.Hour)
	tried, succeeded := 0, 0
	attack := func(name string, ok bool) {
		tried++
		if !ok {
			succeeded++
			t.Errorf("attack succeeded: %s", name)
		}
	}

	// ws_a's connection, integration and one delivered event.
	code, body := a.do(owner, "POST", "/v1/connections", `{"name":"Acme","company_id":"42","access_token":"sandbox-token-42"}`)
	var conn struct{ ID string }
	if code != 201 || json.Unmarshal([]byte(body), &conn) != nil {
		t.Fatalf("connect: %d %s", code, body)
	}
	mapping := `{"version":1,"required":{"first_name":{"source":"contact.first_name"},"last_name":{"source":"contact.last_name"},"email":{"source":"contact.email"}},"optional":[{"target":"file:cv","source":"files.q_cv"}]}`
	if code, body := a.do(owner, "PUT", "/v1/funnels/fn_1/integration", `{"connection_id":"`+conn.ID+`","job_position_id":1001,"enabled":true,"mapping":`+mapping+`}`); code != 201 {
		t.Fatalf("integrate: %d %s", code, body)
	}
	good := applicationEvent("evt_good", "good@example.com", "")
	goodHeaders := sign(t, localstack.DevWebhookSecret, "msg_good", time.Now(), good)
	if code := a.event(goodHeaders, good); code != 202 {
		t.Fatalf("a good event: %d", code)
	}
	waitFinal := func(id string) string {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			code, body := a.do(owner, "GET", "/v1/funnels/fn_1/deliveries/"+id, "")
			var d struct{ Status string }
			_ = json.Unmarshal([]byte(body), &d)
			switch d.Status {
			case "delivered", "failed", "dead", "skipped":
				return body
			}
			if code != 200 && code != 404 {
				t.Fatalf("delivery %s: %d %s", id, code, body)
			}
			time.Sleep(200 * time.Millisecond)
		}
		_, body := a.do(owner, "GET", "/v1/funnels/fn_1/deliveries/"+id, "")
		t.Fatalf("delivery %s not final: %s", id, body)
		return ""
	}
	waitFinal("evt_good")

	// Another workspace, with a valid token of its own (and the ETag the
	// integration has).
	b := attacker{t: t, api: st.URL, ifMatch: `"v1"`}
	for _, c := range []struct{ method, path, body string }{
		{"GET", "/v1/connections/" + conn.ID, ""},
		{"POST", "/v1/connections/" + conn.ID + "/verify", ""},
		{"PUT", "/v1/connections/" + conn.ID + "/credentials", `{"company_id":"42","access_token":"sandbox-token-42"}`},
		{"GET", "/v1/connections/" + conn.ID + "/positions?subdomain=acme", ""},
		{"DELETE", "/v1/connections/" + conn.ID, ""},
		{"GET", "/v1/funnels/fn_1/integration", ""},
		{"PATCH", "/v1/funnels/fn_1/integration", `{"enabled":false}`},
		{"DELETE", "/v1/funnels/fn_1/integration", ""},
		{"POST", "/v1/funnels/fn_1/integration/test", ""},
		{"GET", "/v1/funnels/fn_1/deliveries/evt_good", ""},
		{"POST", "/v1/funnels/fn_1/deliveries/evt_good/retry", ""},
		{"PUT", "/v1/funnels/fn_9/integration", `{"connection_id":"` + conn.ID + `","job_position_id":1001,"mapping":` + mapping + `}`},
	} {
		code, body := b.do(other, c.method, c.path, c.body)
		attack("ws_b "+c.method+" "+c.path, code >= 400 && code < 500 && !strings.Contains(body, "Acme") && !strings.Contains(body, "good@"))
	}
	for _, path := range []string{"/v1/connections", "/v1/funnels/fn_1/deliveries"} {
		code, body := a.do(other, "GET", path, "")
		attack("ws_b lists "+path, code == 200 && !strings.Contains(body, conn.ID) && !strings.Contains(body, "evt_good"))
	}
	code, _ = b.do(other, "POST", "/v1/erasures", `{"email":"good@example.com"}`)
	if c, b := a.do(owner, "GET", "/v1/funnels/fn_1/deliveries/evt_good", ""); c != 200 || !strings.Contains(b, "delivered") {
		attack("ws_b erases ws_a's applicant", false)
	} else {
		attack("ws_b erases ws_a's applicant", code < 500)
	}
	// Tokens that are not ws_a's to use.
	forged, _ := localstack.NewDevAuth([]byte("another-key")).Mint("ws_a", "advanced", time.Hour)
	expired, _ := st.Auth.Mint("ws_a", "advanced", -time.Minute)
	for name, token := range map[string]string{"no token": "", "forged": forged, "expired": expired, "garbage": "a.b.c"} {
		code, _ := a.do(token, "GET", "/v1/connections", "")
		attack("ws_a's data with "+name+" token", code == 401)
	}

	// Issue 14 (points 7, 12, 15, 16, 17): what an outsider with a valid
	// JWT of its own can try against the editor API's inputs and limits.
	// A token with a control character, an invalid funnel id, a position
	// id past int64: refused in words (4xx), nothing sent to Personio, no
	// Go internals quoted. 50 wrong tokens for ws_a's company 42 from
	// ws_c: 429 with Retry-After once past ws_c's limit of checks, and
	// ws_a's next event is delivered without waiting for the company's
	// budget. A flood of test applications: at most the workspace's limit
	// reaches Personio, the rest is 429 with Retry-After.
	{
		intruder, _ := st.Auth.Mint("ws_c", "advanced", time.Hour)
		quotesGo := func(body string) bool {
			return strings.Contains(body, "Go struct") || strings.Contains(body, "int64 ") || strings.Contains(body, "json:") || strings.Contains(body, "unmarshal")
		}
		asked := len(st.Sandbox.Requests(""))
		for name, token := range map[string]string{"line break": `sandbox-token-42\n`, "header injection": `x\r\nX-Company-ID: 43`, "NUL": `a\u0000b`} {
			code, body := a.do(intruder, "POST", "/v1/connections", `{"name":"x","company_id":"42","access_token":"`+token+`"}`)
			attack("control character in the token ("+name+")", code == 422 && strings.Contains(body, `"path":"/access_token"`))
		}
		attack("an unusable token reached Personio", len(st.Sandbox.Requests("")) == asked)
		for _, path := range []string{"/v1/funnels/fn%20x/integration/test", "/v1/funnels/..%2Ffn_1/deliveries", "/v1/funnels/" + strings.Repeat("f", 129) + "/integration"} {
			method := "GET"
			if strings.HasSuffix(path, "/test") {
				method = "POST"
			}
			code, body := a.do(intruder, method, path, "")
			attack("invalid funnel id "+path, code == 400 && strings.Contains(body, "funnel_id must be"))
		}
		for _, id := range []string{"9223372036854775808", "1e400", "-1"} {
			code, body := a.do(intruder, "PUT", "/v1/funnels/fn_c/integration", `{"connection_id":"con_x","job_position_id":`+id+`,"mapping":`+mapping+`}`)
			attack("job_position_id "+id, code == 400 && strings.Contains(body, "job_position_id must be a whole number from 1 to 9223372036854775807") && !quotesGo(body))
		}
		answers, noRetryAfter := wrongTokens(t, st.URL, intruder)()
		limit := st.Settings.CheckLimit.Limit
		attack(fmt.Sprintf("50 wrong tokens from one workspace (%v)", answers), answers[422] == limit && answers[429] == 50-limit && noRetryAfter == 0)
		after := applicationEvent("evt_after_flood", "after-flood@example.com", "")
		if code := a.event(sign(t, localstack.DevWebhookSecret, "msg_after_flood", time.Now(), after), after); code != 202 {
			t.Fatalf("an event after the flood: %d", code)
		}
		final := waitFinal("evt_after_flood")
		attack("the flood stalled ws_a's delivery", strings.Contains(final, `"status":"delivered"`) && !strings.Contains(final, "budget.wait"))
		tests := map[int]int{}
		for range 3 * st.Settings.TestLimit.Limit {
			req, _ := http.NewRequest("POST", st.URL+"/v1/funnels/fn_1/integration/test", nil)
			req.Header.Set("Authorization", "Bearer "+owner)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			tests[resp.StatusCode]++
			if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
				noRetryAfter++
			}
		}
		attack(fmt.Sprintf("a flood of test applications (%v)", tests), tests[202] == st.Settings.TestLimit.Limit && tests[429] == 2*st.Settings.TestLimit.Limit && noRetryAfter == 0)
	}

	// Webhooks.
	applicationsOf := func(email string) int {
		n := 0
		for _, r := range st.Sandbox.Applications("42") {
			if r.Application.Email == email {
				n++
			}
		}
		return n
	}
	attack("replay of a delivered event", a.event(goodHeaders, good) == 202) // accepted once more, never queued: checked below
	tampered := bytes.Replace(good, []byte("good@example.com"), []byte("evil@example.com"), 1)
	attack("tampered body, old signature", a.event(goodHeaders, tampered) == 401)
	resigned := applicationEvent("evt_resigned", "resigned@example.com", "")
	attack("signed with another secret", a.event(sign(t, "whsec_"+"YW5vdGhlci1zZWNyZXQtYW5vdGhlci1zZWNyZXQ=", "msg_r", time.Now(), resigned), resigned) == 401)
	old := goodHeaders.Clone()
	var ts int64
	fmt.Sscan(old.Get("webhook-timestamp"), &ts)
	old.Set("webhook-timestamp", fmt.Sprint(ts+1))
	attack("old signature, new timestamp", a.event(old, good) == 401)
	stale := applicationEvent("evt_stale", "stale@example.com", "")
	attack("stale timestamp", a.event(sign(t, localstack.DevWebhookSecret, "msg_s", time.Now().Add(-6*time.Minute), stale), stale) == 401)
	attack("future timestamp", a.event(sign(t, localstack.DevWebhookSecret, "msg_f", time.Now().Add(6*time.Minute), stale), stale) == 401)
	attack("no signature", a.event(http.Header{}, stale) == 401)
	big := bytes.Replace(applicationEvent("evt_big", "big@example.com", ""), []byte(`"Eve"`), []byte(`"`+strings.Repeat("E", 300<<10)+`"`), 1)
	attack("oversize body", a.event(sign(t, localstack.DevWebhookSecret, "msg_b", time.Now(), big), big) == 413)

	// File URLs that must never be fetched.
	for i, u := range []string{
		canary.URL + "/cv.pdf",
		strings.Replace(canary.URL, "127.0.0.1", "localhost", 1) + "/cv.pdf",
		strings.Replace(canary.URL, "http://127.0.0.1", "https://[::1]", 1) + "/cv.pdf",
		strings.Replace(canary.URL, "http://127.0.0.1", "http://0.0.0.0", 1) + "/cv.pdf",
		"https://169.254.169.254/latest/meta-data/cv.pdf",
		"https://10.0.0.1/cv.pdf",
		"file:///etc/passwd",
		st.SandboxURL + "/_sandbox/applications",
	} {
		id := fmt.Sprintf("evt_ssrf%d", i)
		ev := applicationEvent(id, fmt.Sprintf("ssrf%d@example.com", i), u)
		code := a.event(sign(t, localstack.DevWebhookSecret, "msg_"+id, time.Now(), ev), ev)
		if code == 400 {
			attack("file URL refused at ingest: "+u, true)
			continue
		}
		if code != 202 {
			t.Fatalf("%s: ingest %d", u, code)
		}
		final := waitFinal(id)
		attack("file URL fetched: "+u, !strings.Contains(final, `"status":"delivered"`) || strings.Contains(final, "warnings"))
	}
	attack("the canary on loopback was reached", canaryHits.Load() == 0)
	time.Sleep(2 * time.Second) // a replay that was queued would be delivered by now
	attack("the replay was delivered again", applicationsOf("good@example.com") == 1)
	attack("the tampered body was delivered", applicationsOf("evil@example.com") == 0)
	for _, r := range st.Sandbox.Applications("42") {
		for _, f := range r.Application.Files {
			attack("a file reached Personio: "+f.OriginalFilename, false)
		}
	}
	// Personal data and limits (issue 14): a signed event that claims to
	// be a test, one with more files than Personio's limit lets through,
	// an erasure of a blank address, an erased applicant's webhook sent
	// again, and a file URL whose pre-signed query must not come back in
	// the delivery's reason.
	flagged := bytes.Replace(applicationEvent("evt_flagged", "flagged@example.com", ""), []byte(`"type":`), []byte(`"test":true,"type":`), 1)
	attack("a signed event posing as the editor's test", a.event(sign(t, localstack.DevWebhookSecret, "msg_flag", time.Now(), flagged), flagged) == 400)
	var files []string
	for i := range st.Settings.MaxFiles() + 1 {
		files = append(files, fmt.Sprintf(`{"field_id":"q_%d","url":"https://files.example.com/%d.pdf","filename":"%d.pdf"}`, i, i, i))
	}
	many := bytes.Replace(applicationEvent("evt_many", "many@example.com", ""), []byte(`"contact"`), []byte(`"files":[`+strings.Join(files, ",")+`],"contact"`), 1)
	attack("more files than Personio's limit lets through", a.event(sign(t, localstack.DevWebhookSecret, "msg_many", time.Now(), many), many) == 400)
	code, _ = a.do(owner, "POST", "/v1/erasures", `{"email":"   "}`)
	_, goodNow := a.do(owner, "GET", "/v1/funnels/fn_1/deliveries/evt_good", "")
	attack("erasure of a blank address", code == 400 && strings.Contains(goodNow, `"delivered"`))
	erased := applicationEvent("evt_erased", "erase.me@example.com", "")
	if code := a.event(sign(t, localstack.DevWebhookSecret, "msg_erased", time.Now(), erased), erased); code != 202 {
		t.Fatalf("erased applicant's first event: %d", code)
	}
	waitFinal("evt_erased")
	if code, body := a.do(owner, "POST", "/v1/erasures", `{"email":"Erase.Me@example.com"}`); code != 200 || !strings.Contains(body, `"removed":1`) {
		t.Fatalf("erase: %d %s", code, body)
	}
	before := applicationsOf("erase.me@example.com")
	code = a.event(sign(t, localstack.DevWebhookSecret, "msg_erased_again", time.Now(), erased), erased)
	again := applicationEvent("evt_erased_new", " ERASE.ME@example.com", "")
	code2 := a.event(sign(t, localstack.DevWebhookSecret, "msg_erased_new", time.Now(), again), again)
	time.Sleep(2 * time.Second)
	c1, _ := a.do(owner, "GET", "/v1/funnels/fn_1/deliveries/evt_erased", "")
	c2, _ := a.do(owner, "GET", "/v1/funnels/fn_1/deliveries/evt_erased_new", "")
	attack("an erased applicant's webhook sent again", code == 202 && code2 == 202 && c1 == 404 && c2 == 404 && applicationsOf("erase.me@example.com") == before)
	signed := applicationEvent("evt_presigned", "presigned@example.com", st.URL+"/files/broken-anna-cv.pdf?X-Amz-Signature=5ecret5ig")
	if code := a.event(sign(t, localstack.DevWebhookSecret, "msg_presigned", time.Now(), signed), signed); code != 202 {
		t.Fatalf("presigned: %d", code)
	}
	var record string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if _, record = a.do(owner, "GET", "/v1/funnels/fn_1/deliveries/evt_presigned", ""); strings.Contains(record, "file.unavailable") {
			break
		}
	}
	attack("a file URL's signature in the delivery record", strings.Contains(record, "file.unavailable") &&
		!strings.Contains(record, "5ecret5ig") && !strings.Contains(record, "anna-cv"))

	t.Logf("attacks tried: %d, succeeded: %d", tried, succeeded)
}
