package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/dev/testenv"
)

// readAccessOf is the connection's read_access as the API answers it.
func readAccessOf(t *testing.T, st *localstack.Stack, jwt, conn string) map[string]any {
	t.Helper()
	code, _, c := api(t, "GET", st.URL+"/v1/connections/"+conn, jwt, nil)
	if code != 200 {
		t.Fatalf("connection: %d %v", code, c)
	}
	ra, _ := c["read_access"].(map[string]any)
	return ra
}

// TestReadAccessInThePage: the account step's optional "Read access
// (recommended)", by keyboard: a wrong secret and a credential without the
// scope are refused in words below the fields (nothing saved, the secret
// field empty); the right one is saved and shown as set with the time
// Personio last accepted it; German; replaced and removed.
func TestReadAccessInThePage(t *testing.T) {
	st, jwt, conn := connected(t)
	b := open(t, st, root+`.getElementById('ra-form')`)
	if s := b.text("#ra-state"); s != "No read access is set." {
		t.Errorf("the state before: %q", s)
	}
	if h := b.text("#ra-help"); !strings.Contains(h, "Settings › Integrations › API credentials") || !strings.Contains(h, "personio:recruiting:read") {
		t.Errorf("the help does not say where the credential is: %q", h)
	}
	refused := []struct{ client, secret, want string }{
		{"sandbox-client-42", "wrong-secret", "did not accept this client ID and secret"},
		{"sandbox-client-42-noscope", "sandbox-secret-42-noscope", "the scope personio:recruiting:read"},
	}
	for _, r := range refused {
		b.typeInto("ra-client", r.client)
		b.typeInto("ra-secret", r.secret)
		b.do(chromedp.KeyEvent(kb.Enter))
		b.wait("the refusal", root+`.querySelector('#ra-form .msg.bad') && !`+root+`.getElementById('ra-save').disabled`)
		if msg := b.text("#ra-form .msg.bad"); !strings.Contains(msg, r.want) || !strings.Contains(msg, "Nothing was saved") {
			t.Errorf("%s: the refusal %q does not say %q", r.client, msg, r.want)
		}
		if v := b.value("ra-secret"); v != "" {
			t.Errorf("the secret stays in the field: %q", v)
		}
		if ra := readAccessOf(t, st, jwt, conn); ra["configured"] != false {
			t.Errorf("%s: after a refusal the API says %v", r.client, ra)
		}
	}
	b.shot("30-read-access-refused")

	// Nothing typed in the secret: said at the field, nothing sent.
	b.typeInto("ra-client", "sandbox-client-42")
	b.press("ra-save", kb.Enter)
	b.wait("the missing secret", root+`.getElementById('ra-secret-err')`)
	if a := b.eval(`.getElementById('ra-secret').getAttribute('aria-invalid')`); a != "true" {
		t.Errorf("the empty secret field is not marked: %q", a)
	}

	b.typeInto("ra-secret", "sandbox-secret-42")
	b.do(chromedp.KeyEvent(kb.Enter))
	b.wait("read access saved", root+`.querySelector('#ra-form .msg.good')`)
	ra := readAccessOf(t, st, jwt, conn)
	if ra["configured"] != true || ra["last_checked_at"] == nil {
		t.Fatalf("after saving the API says %v", ra)
	}
	if s := b.text("#ra-state"); !strings.HasPrefix(s, "Read access is set; Personio last accepted it ") {
		t.Errorf("the state after: %q", s)
	}
	if v := b.value("ra-secret") + b.value("ra-client"); v != "" {
		t.Errorf("the fields keep what was typed: %q", v)
	}
	if eval[bool](b, root+`.innerHTML.includes('sandbox-secret-42')`) {
		t.Error("the secret is in the page")
	}
	if l := b.text("#ra-save"); l != "Replace read access" {
		t.Errorf("the button of a set read access: %q", l)
	}
	b.shot("31-read-access-set")
	b.docShots("setup-read-access", "h-account", "ra-form")
	b.axeCheck("read access set")

	eval[bool](b, `document.querySelector('personio-integration').setAttribute('lang', 'de'), true`)
	b.wait("German", root+`.getElementById('h-ra').innerText === 'Lesezugriff (empfohlen)'`)
	if s := b.text("#ra-state"); !strings.HasPrefix(s, "Lesezugriff ist eingerichtet; Personio hat ihn zuletzt ") {
		t.Errorf("the German state: %q", s)
	}
	b.typeInto("ra-client", "sandbox-client-42")
	b.typeInto("ra-secret", "wrong-secret")
	b.do(chromedp.KeyEvent(kb.Enter))
	b.wait("the German refusal", root+`.querySelector('#ra-form .msg.bad')`)
	if msg := b.text("#ra-form .msg.bad"); !strings.Contains(msg, "nicht akzeptiert") || !strings.Contains(msg, "Es wurde nichts gespeichert") {
		t.Errorf("the German refusal: %q", msg)
	}
	if ra := readAccessOf(t, st, jwt, conn); ra["configured"] != true {
		t.Errorf("a refused replacement removed the read access: %v", ra)
	}
	b.press("ra-remove", kb.Enter)
	b.wait("removed", root+`.querySelector('#ra-form .msg.good') && !`+root+`.getElementById('ra-remove')`)
	if s := b.text("#ra-form .msg.good"); s != "Lesezugriff entfernt." {
		t.Errorf("after removing: %q", s)
	}
	if ra := readAccessOf(t, st, jwt, conn); ra["configured"] != false {
		t.Errorf("after removing the API says %v", ra)
	}
}

// eval reads a property of the component's shadow root as text.
func (b *browser) eval(expr string) string {
	b.t.Helper()
	return eval[string](b, `String(`+root+expr+`)`)
}

// TestLogShowsPersonioApplicationID: a delivery whose answer was lost and
// that a read confirmed names Personio's application in the delivery log.
func TestLogShowsPersonioApplicationID(t *testing.T) {
	logs := &testenv.Buffer{}
	cfg := testenv.LocalStack(t, logs)
	cfg.Sandbox.LoseAnswers = 1
	st, err := localstack.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	jwt, _ := st.Auth.Mint("ws_demo", "advanced", time.Hour)
	code, _, con := api(t, "POST", st.URL+"/v1/connections", jwt, map[string]any{"name": "Acme", "company_id": "42", "access_token": "sandbox-token-42",
		"read_access": map[string]any{"client_id": "sandbox-client-42", "client_secret": "sandbox-secret-42"}})
	if code != 201 {
		t.Fatalf("connection: %d %v", code, con)
	}
	mapping := `{"version":1,"required":{"first_name":{"source":"contact.full_name","transforms":["first_name"]},"last_name":{"source":"contact.full_name","transforms":["last_name"]},"email":{"source":"contact.email"}}}`
	if code, _, in := api(t, "PUT", st.URL+"/v1/funnels/fn_office/integration", jwt,
		map[string]any{"connection_id": con["id"], "job_position_id": 1001, "mapping": json.RawMessage(mapping), "enabled": true}); code != 201 {
		t.Fatalf("integration: %d %v", code, in)
	}
	_, _, test := api(t, "POST", st.URL+"/v1/funnels/fn_office/integration/test", jwt, nil)
	id, _ := test["delivery_id"].(string)
	appID := ""
	for tries := 0; appID == "" && tries < 600; tries++ { // each read is a step; the worker's retry takes a few
		_, _, d := api(t, "GET", st.URL+"/v1/funnels/fn_office/deliveries/"+id, jwt, nil)
		if s, _ := d["status"].(string); s != "queued" && s != "processing" && s != "retrying" && s != "delivered" {
			t.Fatalf("the lost answer's delivery ended %v", d)
		}
		appID, _ = d["personio_application_id"].(string)
		time.Sleep(100 * time.Millisecond)
	}
	if appID == "" {
		t.Fatal("the confirmed delivery names no Personio application")
	}
	b := open(t, st, root+`.getElementById('d-`+id+`')`)
	if row := b.text("#d-" + id); !strings.Contains(row, fmt.Sprintf("Personio application %s", appID)) {
		t.Errorf("the log's row does not name Personio's application %s: %q", appID, row)
	}
}
