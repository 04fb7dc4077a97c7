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
	st, err := localstack.Start(ctx, testenv.LocalStack(t, &testenv.Buffer{}))
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
		t.Fatalf("delivery %s not final", id)
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
	t.Logf("attacks tried: %d, succeeded: %d", tried, succeeded)
}
