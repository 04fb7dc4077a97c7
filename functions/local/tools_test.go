package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/dev/testenv"
)

// TestDeliveriesCommand runs `local deliveries` against the local stack
// (in-process, on kumo and the sandbox) and reads its output as a person
// would: a delivered test application with one try and its reason, a
// failed event with its reason, and a wrong -status answered with the
// API's problem and the statuses it takes.
func TestDeliveriesCommand(t *testing.T) {
	t.Setenv("LOCAL_JWT_KEY", "")
	logs := &testenv.Buffer{}
	st, err := localstack.Start(context.Background(), testenv.LocalStack(t, logs))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	token, _ := st.Auth.Mint("ws_demo", "advanced", time.Hour)
	call := func(method, path, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, st.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, m)
		}
		return m
	}
	con := call("POST", "/v1/connections", `{"name":"Acme","company_id":"42","access_token":"sandbox-token-42"}`)["id"].(string)
	call("PUT", "/v1/funnels/fn_office/integration", `{"connection_id":"`+con+`","job_position_id":1001,"enabled":true,
		"mapping":{"version":1,"required":{"first_name":{"source":"contact.first_name"},"last_name":{"source":"contact.last_name"},"email":{"source":"contact.email"}}}}`)
	test := call("POST", "/v1/funnels/fn_office/integration/test", "")["delivery_id"].(string)
	// An event whose mapping finds no e-mail fails for good.
	body := []byte(`{"type":"application.submitted","id":"evt_noemail","occurred_at":"` + time.Now().UTC().Format(time.RFC3339) +
		`","workspace_id":"ws_demo","funnel_id":"fn_office","contact":{"first_name":"Ada","last_name":"Lovelace"}}`)
	if err := st.SendEvent(t.Context(), "msg_noemail", body); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		a := call("GET", "/v1/funnels/fn_office/deliveries/"+test, "")
		b := call("GET", "/v1/funnels/fn_office/deliveries/evt_noemail", "")
		if a["status"] == "delivered" && b["status"] == "failed" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not final: %v %v", a["status"], b["status"])
		}
		time.Sleep(100 * time.Millisecond)
	}

	for _, c := range []struct {
		name   string
		args   []string
		code   int
		stdout []string // regular expressions, each a line of the output
		stderr []string
	}{
		{name: "the log", args: nil, code: 0, stdout: []string{
			`^ID +STATUS +TRIES +UPDATED +REASON$`,
			`^evt_noemail +failed +1 +\d\d:\d\d:\d\d +mapping\.failed$`,
			`^` + test + ` +delivered +1 +\d\d:\d\d:\d\d +delivered$`,
		}},
		{name: "by status", args: []string{"-status", "failed"}, code: 0, stdout: []string{
			`^ID +STATUS +TRIES +UPDATED +REASON$`, `^evt_noemail +failed +1 `,
		}},
		{name: "the newest one", args: []string{"-limit", "1"}, code: 0, stdout: []string{
			`^evt_noemail +failed +1 `, `^\(the newest 1; more with a larger -limit`,
		}},
		{name: "no deliveries", args: []string{"-funnel", "fn_none"}, code: 0, stdout: []string{`^\(no deliveries\)$`}},
		{name: "a status that is none", args: []string{"-status", "bogus"}, code: 1, stderr: []string{
			`^deliveries: the API answered 400 Invalid request: status must be one of queued, processing, retrying, delivered, unconfirmed, failed, parked, dead, skipped\.$`,
		}},
		{name: "no stack", args: []string{"-api", "http://127.0.0.1:1"}, code: 1, stderr: []string{
			`^deliveries: the local stack does not answer on http://127\.0\.0\.1:1 \(start it with make run\)`,
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr strings.Builder
			args := append([]string{"deliveries", "-api", st.URL}, c.args...)
			code := run(t.Context(), args, &stdout, &stderr)
			if code != c.code {
				t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", code, c.code, stdout.String(), stderr.String())
			}
			if c.code == 0 && stderr.Len() > 0 {
				t.Errorf("stderr: %q", stderr.String())
			}
			for _, check := range []struct {
				out   string
				lines []string
			}{{stdout.String(), c.stdout}, {stderr.String(), c.stderr}} {
				for _, want := range check.lines {
					if !regexp.MustCompile(`(?m)` + want).MatchString(check.out) {
						t.Errorf("no line matches %s in:\n%s", want, check.out)
					}
				}
			}
		})
	}
}
