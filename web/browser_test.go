package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/web"
)

// shotDir is where the browser tests write their screenshots:
// .data/web/<width>/<step>.png at the repository's root.
const shotDir = "../.data/web"

// startStack starts the local stack in-process on free ports (kumo
// in-process, the Personio sandbox), with its log in a buffer.
func startStack(t *testing.T) (*localstack.Stack, *testenv.Buffer) {
	t.Helper()
	logs := &testenv.Buffer{}
	st, err := localstack.Start(context.Background(), testenv.LocalStack(t, logs))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st, logs
}

// sendEvent signs an application event and posts it to ingest, as the
// funnel platform does.
func sendEvent(t *testing.T, st *localstack.Stack, id string, contact map[string]string, answers []map[string]any, files []map[string]any) {
	t.Helper()
	ev := map[string]any{"type": "application.submitted", "id": id, "occurred_at": time.Now().UTC().Format(time.RFC3339),
		"workspace_id": "ws_demo", "funnel_id": "fn_office", "contact": contact, "answers": answers}
	if files != nil {
		ev["files"] = files
	}
	body, _ := json.Marshal(ev)
	if err := st.SendEvent(t.Context(), id, body); err != nil {
		t.Fatal(err)
	}
}

// application finds what the sandbox received for an e-mail.
func application(st *localstack.Stack, email string) *personio.Application {
	for _, r := range st.Sandbox.Applications("42") {
		if r.Application.Email == email {
			a := r.Application
			return &a
		}
	}
	return nil
}

func attributes(a *personio.Application) map[string]string {
	out := map[string]string{}
	for _, at := range a.Attributes {
		out[at.ID] = fmt.Sprint(at.Value)
	}
	return out
}

// TestSetupPage walks the help article in a real browser against the local
// stack and the Personio sandbox, by keyboard: a wrong token first (the
// message appears, nothing is saved), then the right one, position 1001
// from the feed, the mapping (with the problems the API reports shown at
// their rows, all at once), save, switch on, a test application watched
// until delivered and checked field by field in the sandbox; a signed
// event in the delivery log; a failed delivery retried; the token rotated
// in Personio, the banner, new credentials, the parked delivery delivered;
// German; a workspace below the plan. Screenshots of each step at 1280 and
// 390 px go to .data/web/; axe-core runs at each main state.
func TestSetupPage(t *testing.T) {
	exe, axe := chromiumPath(t), axeSource(t)
	st, logs := startStack(t)
	jwt, err := st.Auth.Mint("ws_demo", "advanced", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, exe, axe, shotDir)
	violations := 0

	// The page, its first render.
	b.do(chromedp.Navigate(st.URL + "/"))
	b.wait("the first render", root+`.getElementById('account')`)
	eval[bool](b, `document.querySelector('personio-integration').pollInterval = 1000, true`)
	b.shot("01-start")
	violations += b.axeCheck("start")

	// Step 1: add a new account. A wrong token first: the message says
	// where the credentials are in Personio, and nothing is saved.
	b.typeInto("acc-name", "Personio Integration [Acme]")
	b.typeInto("acc-company", "42")
	b.typeInto("acc-token", "wrong-token")
	b.do(chromedp.KeyEvent(kb.Enter))
	b.wait("the refusal", root+`.querySelector('#account-form .msg.bad')`)
	if msg := b.text("#account-form .msg.bad"); !strings.Contains(msg, "Recruiting integrations") || !strings.Contains(msg, "Nothing was saved") {
		t.Errorf("the refusal does not say where the credentials are: %q", msg)
	}
	if v := b.value("acc-token"); v != "" {
		t.Errorf("the access token stays in the page after the check: %q", v)
	}
	if code, _, body := api(t, "GET", st.URL+"/v1/connections", jwt, nil); code != 200 || len(body["connections"].([]any)) != 0 {
		t.Errorf("after a refused check: %d %v, want no connection", code, body)
	}
	b.shot("02-wrong-token")

	// The right token: checked, saved, chosen; the field is empty again.
	b.typeInto("acc-token", "sandbox-token-42")
	b.do(chromedp.KeyEvent(kb.Enter))
	b.wait("the connection", root+`.getElementById('connection') && `+root+`.getElementById('connection').value.startsWith('con_')`)
	if msg := b.text("#account .msg.good"); !strings.Contains(msg, "Connected") {
		t.Errorf("no confirmation: %q", msg)
	}
	if html := eval[string](b, root+`.innerHTML + [...`+root+`.querySelectorAll('input')].map(i=>i.value).join(' ')`); strings.Contains(html, "sandbox-token-42") {
		t.Error("the access token is still in the page after the check")
	}
	b.shot("03-connected")

	// Step 2: the job position. A feed that is switched off says how to
	// switch it on; a pasted URL gives its ID; then 1001 from the feed.
	b.typeInto("subdomain", "nofeed")
	b.do(chromedp.KeyEvent(kb.Enter))
	b.wait("the feed message", root+`.querySelector('#position .msg.bad')`)
	if msg := b.text("#position .msg.bad"); !strings.Contains(msg, "Switch the XML feed on") {
		t.Errorf("the feed message does not say how to switch it on: %q", msg)
	}
	b.shot("04-feed-off")
	b.typeInto("position-paste", "https://acme.personio.de/recruiting/positions/1002/applications")
	b.do(chromedp.KeyEvent(kb.Enter))
	b.wait("the pasted position", root+`.getElementById('position-chosen').innerText.includes('1002')`)
	b.typeInto("subdomain", "acme")
	b.do(chromedp.KeyEvent(kb.Enter))
	b.wait("the positions", root+`.getElementById('position-select')`)
	b.choose("position-select", "1001")
	b.wait("position 1001", root+`.getElementById('position-chosen').innerText.includes('Office Manager')`)
	b.shot("05-position")

	// Step 3: the required assignment; the funnel only asks for the full
	// name, so the page offers it split.
	for id, want := range map[string]string{"req-first_name": "split:contact.full_name", "req-last_name": "split:contact.full_name", "req-email": "contact.email"} {
		if got := b.value(id); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}

	// Step 4: the optional assignment. The page starts with the phone;
	// add gender with an incomplete option table and the phone a second
	// time: the API reports both problems, shown at their rows at once.
	rowKey := func(i int) string {
		return eval[string](b, root+`.querySelectorAll('#optional fieldset[id]')[`+fmt.Sprint(i)+`].id`)
	}
	addRow := func() string {
		b.press("add-row", kb.Enter)
		n := eval[int](b, root+`.querySelectorAll('#optional fieldset[id]').length`)
		k := rowKey(n - 1)
		if f := eval[string](b, root+`.activeElement.id`); f != k+"-target" {
			t.Errorf("after adding a row the focus is on %q, want its target", f)
		}
		return k
	}
	if k := rowKey(0); b.value(k+"-target") != "phone" || b.value(k+"-source") != "contact.phone" {
		t.Errorf("the first row is not the phone: %s", b.text("#optional"))
	}
	gender := addRow()
	b.choose(gender+"-target", "gender")
	b.choose(gender+"-source", "answers.q_gender")
	b.choose(gender+"-opt-0", "female") // Weiblich
	b.choose(gender+"-opt-1", "male")   // Männlich; Divers left out
	phone2 := addRow()
	b.choose(phone2+"-target", "phone")
	b.choose(phone2+"-source", "contact.phone")
	b.press("save-settings", kb.Enter)
	b.wait("the problems", root+`.getElementById('summary')`)
	if n := eval[int](b, root+`.querySelectorAll('#summary li').length`); n != 2 {
		t.Errorf("%d problems listed, want 2: %s", n, b.text("#summary"))
	}
	for _, k := range []string{gender, phone2} {
		if b.text("#"+k+"-err") == "" {
			t.Errorf("row %s shows no problem: %s", k, b.text("#optional"))
		}
	}
	if f := eval[string](b, root+`.activeElement.id`); f != "summary" {
		t.Errorf("after the failed save the focus is on %q, want the summary", f)
	}
	b.shot("06-mapping-problems")
	b.readmeShot("setup-mapping-problems", 1280, root+`.getElementById('optional').closest('section')`, root+`.getElementById('save').closest('section')`, 0.6)
	violations += b.axeCheck("mapping problems")

	// Fix: Divers → diverse, remove the second phone; then a CV and a
	// message template, and move the message up and down again.
	b.choose(gender+"-opt-2", "diverse")
	b.press(phone2+"-remove", kb.Enter)
	cv := addRow()
	b.choose(cv+"-target", "file:cv")
	b.choose(cv+"-source", "files.q_cv")
	msg := addRow()
	b.choose(msg+"-target", "message")
	b.choose(msg+"-kind", "template")
	b.typeInto(msg+"-template", "Motivation: {{answers.q_motivation}}")
	b.press(msg+"-up", kb.Enter)
	if k := rowKey(2); k != msg {
		t.Errorf("after moving up, row 3 is %s, want the message", k)
	}
	if f := eval[string](b, root+`.activeElement.id`); f != msg+"-up" {
		t.Errorf("after moving, the focus is on %q", f)
	}
	b.press(msg+"-down", kb.Enter)
	if k := rowKey(3); k != msg {
		t.Errorf("after moving down, row 4 is %s, want the message", k)
	}
	b.shot("07-mapping")

	// Step 5: save, switch on.
	b.press("save-settings", kb.Enter)
	b.wait("saved", root+`.querySelector('#save .msg.good')`)
	code, hdr, in := api(t, "GET", st.URL+"/v1/funnels/fn_office/integration", jwt, nil)
	if code != 200 || hdr.Get("ETag") != `"v1"` || in["job_position_id"] != float64(1001) || in["enabled"] != false {
		t.Fatalf("saved integration: %d %s %v", code, hdr.Get("ETag"), in)
	}
	opt, _ := json.Marshal(in["mapping"].(map[string]any)["optional"])
	if want := `[{"source":"contact.phone","target":"phone","transforms":["phone"]},{"options":{"Divers":"diverse","Männlich":"male","Weiblich":"female"},"source":"answers.q_gender","target":"gender"},{"source":"files.q_cv","target":"file:cv"},{"target":"message","template":"Motivation: {{answers.q_motivation}}"}]`; string(opt) != want {
		t.Errorf("optional assignment saved:\n%s\nwant\n%s", opt, want)
	}
	b.press("toggle", " ")
	b.wait("switched on", root+`.getElementById('toggle').getAttribute('aria-checked') === 'true'`)
	if _, _, in := api(t, "GET", st.URL+"/v1/funnels/fn_office/integration", jwt, nil); in["enabled"] != true {
		t.Errorf("the toggle did not switch the integration on: %v", in)
	}
	b.shot("08-saved-on")

	// Step 6: a test application, watched until delivered, then checked
	// field by field in the sandbox.
	b.press("send-test", kb.Enter)
	b.wait("the test delivered", root+`.querySelector('#test-timeline li.delivered')`)
	steps := eval[[]string](b, `[...`+root+`.querySelectorAll('#test-timeline li')].map(l=>l.className)`)
	if len(steps) < 2 || steps[0] != "queued" || steps[len(steps)-1] != "delivered" {
		t.Errorf("the test's steps: %q", steps)
	}
	var test *personio.Application
	for _, r := range st.Sandbox.Applications("42") {
		if strings.HasPrefix(r.Application.Email, "test+") {
			test = &r.Application
		}
	}
	if test == nil {
		t.Fatal("the test application is not in the sandbox")
	}
	if test.FirstName != "Test" || test.LastName != "Applicant" || test.JobPositionID != 1001 || !strings.HasSuffix(test.Email, "@example.com") {
		t.Errorf("test application: %+v", test)
	}
	if a := attributes(test); a["phone"] != "+49301234567" || a["gender"] != "diverse" || len(a) != 2 {
		t.Errorf("test application's attributes: %v", a)
	}
	if !strings.HasPrefix(test.Message, "Motivation: Test answer") {
		t.Errorf("test application's message: %q", test.Message)
	}
	b.shot("09-test-delivered")
	b.readmeShot("setup-page", 1280, `document.querySelector('header')`, root+`.getElementById('required').closest('section')`, 0.6)
	violations += b.axeCheck("test delivered")

	// Step 7: a signed event sent to ingest appears in the delivery log.
	anna := "evt_web_anna_" + fmt.Sprint(time.Now().UnixNano())
	sendEvent(t, st, anna, map[string]string{"full_name": "Anna van der Berg", "email": "Anna.vdBerg@example.com", "phone": "0151 12345678"},
		[]map[string]any{{"field_id": "q_gender", "label": "Geschlecht", "type": "choice", "value": "Weiblich"},
			{"field_id": "q_motivation", "label": "Motivation", "type": "text", "value": "Ich liebe Ordnung."}},
		[]map[string]any{{"field_id": "q_cv", "url": st.URL + "/files/Lebenslauf.pdf", "filename": "Lebenslauf.pdf"}})
	b.wait("Anna delivered in the log", root+`.querySelector('#d-`+anna+`[data-status=delivered]')`)
	if a := application(st, "anna.vdberg@example.com"); a == nil || a.FirstName != "Anna" || a.LastName != "van der Berg" || len(a.Files) != 1 || attributes(a)["gender"] != "female" {
		t.Errorf("Anna in the sandbox: %+v", a)
	}
	// A delivery that fails (a one-word name has no last name): its reason
	// in the log, and a retry.
	cher := "evt_web_cher_" + fmt.Sprint(time.Now().UnixNano())
	sendEvent(t, st, cher, map[string]string{"full_name": "Cher", "email": "cher@example.com"}, []map[string]any{}, nil)
	b.wait("the failure in the log", root+`.querySelector('#d-`+cher+`[data-status=failed]')`)
	if r := b.text("#d-" + cher); !strings.Contains(strings.ToLower(r), "last") {
		t.Errorf("the failed delivery's reason: %q", r)
	}
	b.shot("10-log")
	b.readmeShot("setup-test-and-log", 1280, root+`.getElementById('test').closest('section')`, root+`.getElementById('log').closest('section')`, 0.6)
	violations += b.axeCheck("log")
	_, _, before := api(t, "GET", st.URL+"/v1/funnels/fn_office/deliveries/"+cher, jwt, nil)
	b.press("retry-"+cher, kb.Enter)
	b.wait("the retry", root+`.querySelector('#log .msg.good')`)
	if _, _, after := api(t, "GET", st.URL+"/v1/funnels/fn_office/deliveries/"+cher, jwt, nil); len(after["attempts"].([]any)) <= len(before["attempts"].([]any)) {
		t.Errorf("the retry was not recorded: %v", after)
	}

	// The retried delivery comes to rest before the token changes: on a
	// busy machine its try could otherwise meet the new token and park
	// beside Bob.
	b.wait("the retried delivery at rest", `(() => { const d = `+root+`.querySelector('#d-`+cher+`'); `+
		`return d && !['queued', 'processing', 'retrying'].includes(d.dataset.status) })()`)

	// Step 8: the customer regenerates the token in Personio. The next
	// application parks; the banner appears; new credentials resume it.
	res, err := http.Post(st.SandboxURL+"/_sandbox/companies/42/rotate-token", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var rot struct{ Token string }
	_ = json.NewDecoder(res.Body).Decode(&rot)
	res.Body.Close()
	bob := "evt_web_bob_" + fmt.Sprint(time.Now().UnixNano())
	sendEvent(t, st, bob, map[string]string{"full_name": "Bob Baumeister", "email": "bob@example.com"}, []map[string]any{}, nil)
	b.wait("the banner", root+`.getElementById('banner-title')`)
	b.wait("Bob parked", root+`.querySelector('#d-`+bob+`[data-status=parked]')`)
	b.wait("the parked count", root+`.getElementById('banner-parked')`)
	b.shot("11-banner")
	b.readmeShot("setup-banner-390", 390, `document.querySelector('header')`, root+`.getElementById('banner')`, 0.8)
	violations += b.axeCheck("banner")
	b.typeInto("creds-token", rot.Token)
	b.do(chromedp.KeyEvent(kb.Enter))
	b.wait("restored", root+`.querySelector('#banner .msg.good')`)
	if m := b.text("#banner .msg.good"); !strings.Contains(m, "1 waiting application was sent again") {
		t.Errorf("restored message: %q", m)
	}
	if b.value("creds-token") != "(missing)" {
		t.Error("the credentials form is still there")
	}
	b.wait("Bob delivered", root+`.querySelector('#d-`+bob+`[data-status=delivered]')`)
	if a := application(st, "bob@example.com"); a == nil || a.LastName != "Baumeister" {
		t.Errorf("Bob in the sandbox: %+v", a)
	}
	b.shot("12-restored")

	// German, as the embedding editor chooses it: the page and the
	// delivery reasons (from the API, by Accept-Language).
	eval[bool](b, `document.querySelector('personio-integration').setAttribute('lang','de'), true`)
	b.wait("German", root+`.getElementById('h-account').innerText === '1. Personio-Konto'`)
	b.wait("a German reason", root+`.querySelector('#d-`+cher+`').innerText.includes('Nachname')`)
	b.shot("13-german")
	violations += b.axeCheck("german")

	// The JWT never reaches the URL, storage or a log.
	store := eval[string](b, `JSON.stringify(localStorage)+JSON.stringify(sessionStorage)+location.href+document.cookie`)
	for _, leak := range []string{"eyJ", "sandbox-token-42", rot.Token} {
		if strings.Contains(store, leak) {
			t.Errorf("%q in the URL, storage or cookies: %s", leak, store)
		}
		for _, u := range b.urls {
			if strings.Contains(u, leak) {
				t.Errorf("%q in a request URL: %s", leak, u)
			}
		}
		for _, l := range b.console() {
			if strings.Contains(l, leak) {
				t.Errorf("%q in the console: %s", leak, l)
			}
		}
		if strings.Contains(logs.String(), leak) {
			t.Errorf("%q in the stack's log", leak)
		}
	}
	if b.fonts > 0 {
		t.Errorf("%d web font requests", b.fonts)
	}
	for _, l := range b.console() {
		if strings.HasPrefix(l, "exception") || strings.HasPrefix(l, "error") {
			t.Errorf("console: %s", l)
		}
	}
	t.Logf("axe: %d violations of any impact over the states checked (serious or critical fail the test)", violations)
	writeFigure(t, "axe_violations", violations)
}

// TestPlanRequired: a workspace whose plan lacks the integration sees what
// it would need, not errors.
func TestPlanRequired(t *testing.T) {
	exe, axe := chromiumPath(t), axeSource(t)
	st, _ := startStack(t)
	b := newBrowser(t, exe, axe, shotDir)
	b.do(chromedp.Navigate(st.URL + "/?plan=basic"))
	b.wait("the plan panel", root+`.getElementById('plan-title')`)
	if txt := b.text(".wrap"); !strings.Contains(txt, "Advanced plan") || strings.Contains(txt, "403") || strings.Contains(txt, "Something went wrong") {
		t.Errorf("plan panel: %q", txt)
	}
	if n := eval[int](b, root+`.querySelectorAll('.msg.bad, [role=alert]').length`); n != 0 {
		t.Errorf("%d error messages on the plan panel", n)
	}
	b.shot("14-plan")
	b.axeCheck("plan")

	// What a customer may paste as the job position.
	got := eval[[]any](b, `import('./personio-integration.js').then(m => ['1001', ' 1001 ', 'https://acme.personio.de/recruiting/positions/1001/applications?tab=x',
	  'https://acme.jobs.personio.de/job/1001?language=de&display=en', 'https://acme.jobs.personio.com/job/1001', 'acme.personio.de/recruiting/positions?position_id=1001',
	  'Office Manager 1001', 'no id here', 'https://acme.personio.de/recruiting/positions/1001/2', ''].map(m.positionIdFrom))`)
	want := []any{1001.0, 1001.0, 1001.0, 1001.0, 1001.0, 1001.0, 1001.0, nil, 1001.0, nil}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("positionIdFrom: %v, want %v", got, want)
	}
}

// TestKeyboardReachesEveryControl tabs through the whole setup (with a
// saved integration, a connection and deliveries, so that every section
// has its controls) and checks that Tab reaches every enabled control,
// and that each shows a visible focus ring.
func TestKeyboardReachesEveryControl(t *testing.T) {
	exe, axe := chromiumPath(t), axeSource(t)
	st, _ := startStack(t)
	jwt, _ := st.Auth.Mint("ws_demo", "advanced", time.Hour)
	code, _, con := api(t, "POST", st.URL+"/v1/connections", jwt, map[string]any{"name": "Acme", "company_id": "42", "access_token": "sandbox-token-42"})
	if code != 201 {
		t.Fatalf("connection: %d %v", code, con)
	}
	mapping := json.RawMessage(`{"version":1,"required":{"first_name":{"source":"contact.full_name","transforms":["first_name"]},"last_name":{"source":"contact.full_name","transforms":["last_name"]},"email":{"source":"contact.email"}},
	  "optional":[{"target":"gender","source":"answers.q_gender","options":{"Weiblich":"female","Männlich":"male","Divers":"diverse"}},{"target":"custom_attribute_102","type":"option","source":"answers.q_gender","options":{"Weiblich":"custom_option_1"}},{"target":"message","template":"M: {{answers.q_motivation}}"}]}`)
	if code, _, in := api(t, "PUT", st.URL+"/v1/funnels/fn_office/integration", jwt, map[string]any{"connection_id": con["id"], "job_position_id": 1001, "mapping": mapping}); code != 201 {
		t.Fatalf("integration: %d %v", code, in)
	}
	b := newBrowser(t, exe, axe, shotDir)
	b.do(chromedp.Navigate(st.URL + "/"))
	b.wait("the first render", root+`.getElementById('optional') && `+root+`.querySelector('#optional fieldset')`)
	// Every control a person could use.
	want := eval[[]string](b, `[...`+root+`.querySelectorAll('button, input, select, textarea, a[href]')].filter(e=>!e.disabled && e.offsetParent!==null).map(e=>e.id||e.outerHTML.slice(0,60))`)
	if len(want) < 30 {
		t.Fatalf("only %d controls: %q", len(want), want)
	}
	eval[bool](b, `document.activeElement && document.activeElement.blur(), window.scrollTo(0,0), true`)
	seen := map[string]bool{}
	var noRing []string
	for i := 0; i < 3*len(want) && len(seen) < len(want); i++ {
		b.do(chromedp.KeyEvent(kb.Tab))
		f := eval[[]string](b, `(()=>{const e=`+root+`.activeElement;if(!e)return ['',''];const s=getComputedStyle(e);return [e.id||e.outerHTML.slice(0,60), s.outlineStyle+' '+s.outlineWidth]})()`)
		if f[0] == "" {
			continue
		}
		if !seen[f[0]] && (strings.HasPrefix(f[1], "none") || strings.HasSuffix(f[1], " 0px")) {
			noRing = append(noRing, f[0]+" ("+f[1]+")")
		}
		seen[f[0]] = true
	}
	var missed []string
	for _, w := range want {
		if !seen[w] {
			missed = append(missed, w)
		}
	}
	if len(missed) > 0 {
		t.Errorf("Tab never reached %d of %d controls: %q", len(missed), len(want), missed)
	}
	if len(noRing) > 0 {
		t.Errorf("no visible focus ring on %q", noRing)
	}
	t.Logf("Tab reached %d controls, each with a focus ring", len(seen))
	// The saved mapping is shown as saved.
	if b.value("req-first_name") != "split:contact.full_name" {
		t.Errorf("first name: %q", b.value("req-first_name"))
	}
	k := eval[string](b, root+`.querySelectorAll('#optional fieldset[id]')[1].id`)
	if b.value(k+"-attr") != "102" || b.value(k+"-type") != "option" || b.value(k+"-opt-0") != "custom_option_1" {
		t.Errorf("custom attribute row: %s", b.text("#"+k))
	}
	b.shot("15-saved-integration")
	b.axeCheck("saved integration")
}

// TestFirstRender loads the standalone page several times and reports the
// first render (the component's first render with its data, from the
// navigation's start) and the first contentful paint. A figure, not a
// timed assertion.
func TestFirstRender(t *testing.T) {
	exe, axe := chromiumPath(t), axeSource(t)
	st, _ := startStack(t)
	b := newBrowser(t, exe, axe, shotDir)
	var ready, fcp []float64
	for i := range 6 {
		b.do(chromedp.Navigate(st.URL + "/"))
		b.wait("ready", `performance.getEntriesByName('personio-integration:ready').length > 0`)
		r := eval[float64](b, `performance.getEntriesByName('personio-integration:ready')[0].startTime`)
		p := eval[float64](b, `(performance.getEntriesByName('first-contentful-paint')[0]||{startTime:-1}).startTime`)
		if i == 0 {
			// The first load meets a cold stack (its first table reads).
			t.Logf("first render on the first (cold) load: %.0f ms, first contentful paint %.0f ms", r, p)
			writeFigure(t, "first_render_ms_cold", r)
			continue
		}
		ready, fcp = append(ready, r), append(fcp, p)
	}
	sort.Float64s(ready)
	sort.Float64s(fcp)
	med := func(v []float64) float64 { return v[len(v)/2] }
	t.Logf("first render (component ready with data): median %.0f ms, max %.0f ms over %d loads; first contentful paint median %.0f ms", med(ready), slices.Max(ready), len(ready), med(fcp))
	writeFigure(t, "first_render_ms_median", med(ready))
	writeFigure(t, "first_render_ms_max", slices.Max(ready))
	writeFigure(t, "first_contentful_paint_ms_median", med(fcp))
}

// writeFigure adds a figure to .data/web/figures.json.
func writeFigure(t *testing.T, name string, v any) {
	path := filepath.Join(shotDir, "figures.json")
	figs := map[string]any{}
	if b, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(b, &figs)
	}
	figs[name] = v
	_ = os.MkdirAll(shotDir, 0o755)
	b, _ := json.MarshalIndent(figs, "", "  ")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Log(err)
	}
}

// TestHostedPageAsksForToken: where no dev endpoint exists (the page on
// CloudFront), the standalone page asks for the editor's token in a
// password field, keeps it in memory only, and then works as usual.
func TestHostedPageAsksForToken(t *testing.T) {
	exe, axe := chromiumPath(t), axeSource(t)
	st, _ := startStack(t)
	jwt, _ := st.Auth.Mint("ws_demo", "advanced", time.Hour)
	// One origin, as CloudFront gives: the page without a dev endpoint,
	// /v1/* to the API.
	mux := http.NewServeMux()
	mux.Handle("/", web.Handler(web.Options{}))
	mux.Handle("/v1/", httputil.NewSingleHostReverseProxy(mustURL(t, st.URL)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	b := newBrowser(t, exe, axe, shotDir)
	b.do(chromedp.Navigate(srv.URL + "/"))
	b.wait("the token form", `!document.getElementById('token-form').hidden`)
	b.shot("16-hosted-token")
	b.axeCheck("hosted token form")
	eval[bool](b, `document.getElementById('token-input').focus(), true`)
	b.do(chromedp.KeyEvent(jwt), chromedp.KeyEvent(kb.Enter))
	b.wait("the setup", root+`.getElementById('account')`)
	if v := eval[string](b, `document.getElementById('token-input').value + JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + location.href`); strings.Contains(v, "eyJ") {
		t.Errorf("the token stayed in the page: %q", v)
	}
	if !eval[bool](b, `document.getElementById('token-form').hidden`) {
		t.Error("the token form is still shown")
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestDeliveryLogPages: the log is newest first, filters by status, and
// loads the next page (the API's cursor) when its end scrolls into view.
func TestDeliveryLogPages(t *testing.T) {
	exe, axe := chromiumPath(t), axeSource(t)
	st, _ := startStack(t)
	jwt, _ := st.Auth.Mint("ws_demo", "advanced", time.Hour)
	_, _, con := api(t, "POST", st.URL+"/v1/connections", jwt, map[string]any{"name": "Acme", "company_id": "42", "access_token": "sandbox-token-42"})
	mapping := json.RawMessage(`{"version":1,"required":{"first_name":{"source":"contact.full_name","transforms":["first_name"]},"last_name":{"source":"contact.full_name","transforms":["last_name"]},"email":{"source":"contact.email"}}}`)
	if code, _, in := api(t, "PUT", st.URL+"/v1/funnels/fn_office/integration", jwt, map[string]any{"connection_id": con["id"], "job_position_id": 1001, "mapping": mapping, "enabled": true}); code != 201 {
		t.Fatalf("integration: %d %v", code, in)
	}
	// 25 applications whose one-word names have no last name: they fail
	// at the mapping, without a request to Personio.
	for i := range 25 {
		sendEvent(t, st, fmt.Sprintf("evt_page_%02d", i), map[string]string{"full_name": "Cher", "email": fmt.Sprintf("c%d@example.com", i)}, []map[string]any{}, nil)
		time.Sleep(5 * time.Millisecond)
	}
	waitListed(t, st.URL+"/v1/funnels/fn_office/deliveries?status=failed&limit=100", jwt, 25, 60*time.Second)
	b := newBrowser(t, exe, axe, shotDir)
	b.do(chromedp.Navigate(st.URL + "/"))
	b.wait("the first page of the log", root+`.querySelectorAll('#log-table tbody tr').length === 20`)
	ids := eval[[]string](b, `[...`+root+`.querySelectorAll('#log-table tbody tr')].map(r => r.id)`)
	if ids[0] != "d-evt_page_24" || ids[19] != "d-evt_page_05" {
		t.Errorf("not newest first: %q … %q", ids[0], ids[19])
	}
	// Scrolling to the end loads the rest (the button does the same by keyboard).
	eval[bool](b, root+`.getElementById('log-more').scrollIntoView(), true`)
	b.wait("the second page", root+`.querySelectorAll('#log-table tbody tr').length === 25 && !`+root+`.getElementById('log-more')`)
	// By status: none delivered.
	b.choose("log-status", "delivered")
	b.wait("the filter", root+`.getElementById('log-empty')`)
	b.choose("log-status", "failed")
	b.wait("the failed ones", root+`.querySelectorAll('#log-table tbody tr[data-status=failed]').length === 20`)
	b.shot("17-log-pages")
}

// TestOptionalTargets: a birthday from a date question, a custom attribute
// with its type and option table, and a constant tag, built by keyboard,
// saved as meant, and delivered so in the sandbox.
func TestOptionalTargets(t *testing.T) {
	exe, axe := chromiumPath(t), axeSource(t)
	st, _ := startStack(t)
	jwt, _ := st.Auth.Mint("ws_demo", "advanced", time.Hour)
	if code, _, c := api(t, "POST", st.URL+"/v1/connections", jwt, map[string]any{"name": "Acme", "company_id": "42", "access_token": "sandbox-token-42"}); code != 201 {
		t.Fatalf("connection: %d %v", code, c)
	}
	b := newBrowser(t, exe, axe, shotDir)
	b.do(chromedp.Navigate(st.URL + "/"))
	b.wait("the first render", root+`.getElementById('connection')`)
	b.typeInto("position-paste", "1001")
	b.do(chromedp.KeyEvent(kb.Enter))
	rows := func() int { return eval[int](b, root+`.querySelectorAll('#optional fieldset[id]').length`) }
	add := func() string {
		b.press("add-row", kb.Enter)
		return eval[string](b, root+`.querySelectorAll('#optional fieldset[id]')[`+fmt.Sprint(rows()-1)+`].id`)
	}
	// The default phone row goes: this funnel's mapping is only the three.
	b.press(eval[string](b, root+`.querySelector('#optional fieldset[id]').id`)+"-remove", kb.Enter)
	bd := add()
	b.choose(bd+"-target", "birthday")
	b.choose(bd+"-source", "answers.q_start")
	b.press(bd+"-tr-date", " ")
	ca := add()
	b.choose(ca+"-target", "custom_attribute_{id}")
	b.typeInto(ca+"-attr", "102")
	b.choose(ca+"-type", "option")
	b.choose(ca+"-source", "answers.q_gender")
	for i, v := range []string{"custom_option_1", "custom_option_2", "custom_option_2"} {
		b.typeInto(fmt.Sprintf("%s-opt-%d", ca, i), v)
	}
	tg := add()
	b.choose(tg+"-target", "tags")
	b.choose(tg+"-kind", "constant")
	b.typeInto(tg+"-constant", "funnel")
	b.shot("18-optional-targets")
	b.press("save-settings", kb.Enter)
	b.wait("saved", root+`.querySelector('#save .msg.good')`)
	_, _, in := api(t, "GET", st.URL+"/v1/funnels/fn_office/integration", jwt, nil)
	opt, _ := json.Marshal(in["mapping"].(map[string]any)["optional"])
	if want := `[{"source":"answers.q_start","target":"birthday","transforms":["date"]},{"options":{"Divers":"custom_option_2","Männlich":"custom_option_2","Weiblich":"custom_option_1"},"source":"answers.q_gender","target":"custom_attribute_102","type":"option"},{"constant":"funnel","target":"tags"}]`; string(opt) != want {
		t.Errorf("saved:\n%s\nwant\n%s", opt, want)
	}
	b.press("send-test", kb.Enter)
	b.wait("the test delivered", root+`.querySelector('#test-timeline li.delivered')`)
	var got *personio.Application
	for _, r := range st.Sandbox.Applications("42") {
		got = &r.Application
	}
	if got == nil {
		t.Fatal("nothing in the sandbox")
	}
	if a := attributes(got); a["birthday"] != "1990-01-01" || a["custom_attribute_102"] != "custom_option_2" {
		t.Errorf("attributes: %v", a)
	}
	if !slices.Contains(got.Tags, "funnel") {
		t.Errorf("tags: %q", got.Tags)
	}
	b.axeCheck("optional targets")
}

// TestPositionUnpublishedShown: Personio answers that the saved position is
// no longer published; the page says so where the position is chosen,
// and saving another position sends the waiting application on and takes
// the notice away.
func TestPositionUnpublishedShown(t *testing.T) {
	exe, axe := chromiumPath(t), axeSource(t)
	st, _ := startStack(t)
	jwt, _ := st.Auth.Mint("ws_demo", "advanced", time.Hour)
	_, _, con := api(t, "POST", st.URL+"/v1/connections", jwt, map[string]any{"name": "Acme", "company_id": "42", "access_token": "sandbox-token-42"})
	mapping := json.RawMessage(`{"version":1,"required":{"first_name":{"source":"contact.full_name","transforms":["first_name"]},"last_name":{"source":"contact.full_name","transforms":["last_name"]},"email":{"source":"contact.email"}}}`)
	if code, _, in := api(t, "PUT", st.URL+"/v1/funnels/fn_office/integration", jwt, map[string]any{"connection_id": con["id"], "job_position_id": 1001, "mapping": mapping, "enabled": true}); code != 201 {
		t.Fatalf("integration: %d %v", code, in)
	}
	st.Sandbox.SetPublished("42", 1001, false)
	sendEvent(t, st, "evt_closed", map[string]string{"full_name": "Ada Lovelace", "email": "ada@example.com"}, []map[string]any{}, nil)
	waitListed(t, st.URL+"/v1/funnels/fn_office/deliveries?status=parked", jwt, 1, 30*time.Second)
	b := newBrowser(t, exe, axe, shotDir)
	b.do(chromedp.Navigate(st.URL + "/"))
	b.wait("the notice", root+`.getElementById('position-issue')`)
	if txt := b.text("#position-issue"); !strings.Contains(txt, "no longer published") {
		t.Errorf("notice: %q", txt)
	}
	b.shot("19-position-unpublished")
	b.axeCheck("position unpublished")
	st.Sandbox.SetPublished("42", 1002, true)
	b.typeInto("position-paste", "1002")
	b.do(chromedp.KeyEvent(kb.Enter))
	b.wait("1002 chosen", root+`.getElementById('position-chosen')?.textContent.includes('1002')`)
	b.press("save-settings", kb.Enter)
	b.wait("saved, the notice gone", root+`.querySelector('#save .msg.good') && !`+root+`.getElementById('position-issue')`)
	deadline := time.Now().Add(30 * time.Second)
	for application(st, "ada@example.com") == nil {
		if time.Now().After(deadline) {
			_, _, in := api(t, "GET", st.URL+"/v1/funnels/fn_office/integration", jwt, nil)
			_, _, l := api(t, "GET", st.URL+"/v1/funnels/fn_office/deliveries", jwt, nil)
			t.Fatalf("the waiting application did not reach Personio after another position was saved: %v\n%v", in, l)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if a := application(st, "ada@example.com"); a.JobPositionID != 1002 {
		t.Errorf("delivered to position %d, want 1002", a.JobPositionID)
	}
}

// waitListed waits until the delivery log at url lists n deliveries.
func waitListed(t *testing.T, url, jwt string, n int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		_, _, l := api(t, "GET", url, jwt, nil)
		got := len(l["deliveries"].([]any))
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s listed %d deliveries after %s, want %d", url, got, within, n)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
