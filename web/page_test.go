package web_test

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/funnel-personio/funnel-personio/dev/localstack"
)

// connected starts the stack with one account (Acme, company 42) and
// returns the stack, an editor JWT and the account's id.
func connected(t *testing.T) (*localstack.Stack, string, string) {
	t.Helper()
	st, _ := startStack(t)
	jwt, err := st.Auth.Mint("ws_demo", "advanced", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	code, _, con := api(t, "POST", st.URL+"/v1/connections", jwt, map[string]any{"name": "Acme", "company_id": "42", "access_token": "sandbox-token-42"})
	if code != 201 {
		t.Fatalf("connection: %d %v", code, con)
	}
	return st, jwt, con["id"].(string)
}

// integrated is connected plus the sample funnel's integration: position
// 1001, the three required assignments, switched on when enabled.
func integrated(t *testing.T, enabled bool) (*localstack.Stack, string) {
	t.Helper()
	st, jwt, conn := connected(t)
	mapping := json.RawMessage(`{"version":1,"required":{"first_name":{"source":"contact.full_name","transforms":["first_name"]},"last_name":{"source":"contact.full_name","transforms":["last_name"]},"email":{"source":"contact.email"}}}`)
	if code, _, in := api(t, "PUT", st.URL+"/v1/funnels/fn_office/integration", jwt,
		map[string]any{"connection_id": conn, "job_position_id": 1001, "mapping": mapping, "enabled": enabled}); code != 201 {
		t.Fatalf("integration: %d %v", code, in)
	}
	return st, jwt
}

// open opens the standalone page of the stack in a new browser and waits
// until ready (a page expression) holds.
func open(t *testing.T, st *localstack.Stack, ready string) *browser {
	t.Helper()
	b := newBrowser(t, chromiumPath(t), axeSource(t), shotDir)
	b.do(chromedp.Navigate(st.URL + "/"))
	b.wait("the first render", ready)
	return b
}

// lastRow adds an optional assignment and returns its key.
func (b *browser) lastRow() string {
	b.press("add-row", kb.Enter)
	return eval[string](b, `[...`+root+`.querySelectorAll('#optional fieldset[id]')].pop().id`)
}

// TestInsertFieldByKeyboard: in a message template, going through the
// "Insert a field" list with the arrow keys inserts nothing; its button
// (Enter) inserts the chosen field once, where the cursor was.
func TestInsertFieldByKeyboard(t *testing.T) {
	st, _ := integrated(t, false)
	b := open(t, st, root+`.getElementById('add-row')`)
	msg := b.lastRow()
	b.choose(msg+"-target", "message")
	b.choose(msg+"-kind", "template")
	b.typeInto(msg+"-template", "Motivation: ")
	b.focus(msg + "-insert")
	for range 5 {
		b.do(chromedp.KeyEvent(kb.ArrowDown))
	}
	if v := b.value(msg + "-template"); v != "Motivation: " {
		t.Fatalf("the arrow keys inserted: %q", v)
	}
	chosen := b.value(msg + "-insert")
	if chosen == "" {
		t.Fatal("the arrow keys chose nothing")
	}
	b.press(msg+"-insert-do", kb.Enter)
	if v, want := b.value(msg+"-template"), "Motivation: {{"+chosen+"}}"; v != want {
		t.Errorf("after Insert: %q, want %q", v, want)
	}
	if f := eval[string](b, root+`.activeElement.id`); f != msg+"-template" {
		t.Errorf("after Insert the focus is on %q, want the template", f)
	}
	b.shot("20-insert-field")
	b.axeCheck("insert a field")
}

// TestLogCountsTriesInTheLocale: a delivery that went through at the first
// try says "1 attempt" (the queued entry is no try), as the API's tries
// and `local deliveries` say; its time is written as the browser's locale
// writes it (en-US here), not in another English.
func TestLogCountsTriesInTheLocale(t *testing.T) {
	st, jwt := integrated(t, true)
	// A test application: queued by the API, then delivered at the first try.
	code, _, sent := api(t, "POST", st.URL+"/v1/funnels/fn_office/integration/test", jwt, map[string]any{})
	if code != 202 {
		t.Fatalf("test application: %d %v", code, sent)
	}
	id := sent["delivery_id"].(string)
	waitListed(t, st.URL+"/v1/funnels/fn_office/deliveries?status=delivered", jwt, 1, 60*time.Second)
	_, _, d := api(t, "GET", st.URL+"/v1/funnels/fn_office/deliveries/"+id, jwt, nil)
	if d["tries"] != float64(1) || len(d["attempts"].([]any)) < 2 {
		t.Errorf("the API: tries %v of attempts %v, want 1 try of a queued entry and a delivery", d["tries"], d["attempts"])
	}
	b := open(t, st, root+`.getElementById('d-`+id+`')`)
	row := b.text("#d-" + id)
	if !strings.Contains(row, "1 attempt") || strings.Contains(row, "attempts") {
		t.Errorf("the row says %q, want 1 attempt", row)
	}
	if lang := eval[string](b, `navigator.language`); lang != "en-US" {
		t.Fatalf("the browser's language is %q, want en-US", lang)
	}
	when := b.text("#d-" + id + " td")
	if !regexp.MustCompile(`^\d{1,2}/\d{1,2}/\d{2}, \d{1,2}:\d{2}:\d{2}\s?[AP]M$`).MatchString(strings.TrimSpace(when)) {
		t.Errorf("the time reads %q, want en-US (M/D/YY, h:mm:ss AM)", when)
	}
}

// TestStandaloneLanguageSwitch: the standalone page switches between
// English and German by keyboard, the component with it, and a reload
// keeps the language.
func TestStandaloneLanguageSwitch(t *testing.T) {
	st, _ := integrated(t, false)
	b := open(t, st, root+`.getElementById('account')`)
	heading := func() string { return eval[string](b, root+`.getElementById('h-account').innerText`) }
	if h := heading(); !strings.HasPrefix(h, "1. Personio account") {
		t.Fatalf("first heading %q", h)
	}
	eval[bool](b, `document.getElementById('lang-switch').focus(), true`)
	b.do(chromedp.KeyEvent(kb.ArrowDown))
	b.wait("German", `document.documentElement.lang === 'de'`)
	if h := heading(); !strings.HasPrefix(h, "1. Personio-Konto") {
		t.Errorf("after the switch the first heading is %q", h)
	}
	if got := eval[string](b, `document.getElementById('lang-label').textContent + '|' + location.search`); got != "Sprache|?lang=de" {
		t.Errorf("label and address: %q", got)
	}
	b.shot("21-language-de")
	b.axeCheck("language switch")
	b.do(chromedp.Reload())
	b.wait("German after a reload", `document.documentElement.lang === 'de' && `+root+`.getElementById('h-account') && `+root+`.getElementById('h-account').innerText.startsWith('1. Personio-Konto')`)
	if v := eval[string](b, `document.getElementById('lang-switch').value`); v != "de" {
		t.Errorf("the switch shows %q after a reload", v)
	}
}

// TestRotatedTokenHint: locally, after the sandbox's token was
// regenerated, the old token is refused with the API's hint where the
// new one is shown, not with the way to Personio's settings (which do not
// have it).
func TestRotatedTokenHint(t *testing.T) {
	st, _ := startStack(t)
	if st.Sandbox.RotateToken("42") == "" {
		t.Fatal("no company 42 in the sandbox")
	}
	b := open(t, st, root+`.getElementById('acc-name')`)
	b.typeInto("acc-name", "Acme")
	b.typeInto("acc-company", "42")
	b.typeInto("acc-token", "sandbox-token-42")
	b.do(chromedp.KeyEvent(kb.Enter))
	b.wait("the refusal", root+`.querySelector('#account-form .msg.bad')`)
	msg := b.text("#account-form .msg.bad")
	if !strings.Contains(msg, st.SandboxURL+"/_sandbox/companies/42") || !strings.Contains(msg, "regenerated") {
		t.Errorf("the refusal does not say where the new token is: %q", msg)
	}
}

// TestPositionStepKeepsItsState: an empty subdomain is asked for without
// repeating the hint below the field; a feed's refusal goes away once a
// position is chosen otherwise; a position chosen from the feed is shown
// by its name after a reload, with the subdomain still there.
func TestPositionStepKeepsItsState(t *testing.T) {
	st, _, _ := connected(t)
	b := open(t, st, root+`.getElementById('connection') && `+root+`.getElementById('connection').value.startsWith('con_')`)
	b.press("load-positions", kb.Enter)
	b.wait("the empty subdomain", root+`.querySelector('#position .msg.bad')`)
	hint := b.text("#subdomain-help")
	if msg := b.text("#position .msg.bad"); msg != "Enter the subdomain first." || strings.Contains(msg, hint) {
		t.Errorf("an empty subdomain: %q (the hint below the field: %q)", msg, hint)
	}
	b.typeInto("subdomain", "nofeed")
	b.do(chromedp.KeyEvent(kb.Enter))
	b.wait("the feed's refusal", root+`.querySelector('#position .msg.bad') && `+root+`.querySelector('#position .msg.bad').innerText.includes('nofeed')`)
	b.typeInto("position-paste", "1001")
	b.do(chromedp.KeyEvent(kb.Enter))
	b.wait("the pasted position", root+`.getElementById('position-chosen')`)
	if stale := b.text("#position .msg.bad"); stale != "" {
		t.Errorf("the feed's refusal stays beside the chosen position: %q", stale)
	}
	b.typeInto("subdomain", "acme")
	b.do(chromedp.KeyEvent(kb.Enter))
	b.wait("the positions", root+`.getElementById('position-select')`)
	b.choose("position-select", "1001")
	b.press("save-settings", kb.Enter)
	b.wait("saved", root+`.querySelector('#save .msg.good')`)
	b.do(chromedp.Reload())
	b.wait("the position's name after a reload", root+`.getElementById('position-chosen') && `+root+`.getElementById('position-chosen').innerText.includes('Office Manager')`)
	if v := b.value("subdomain"); v != "acme" {
		t.Errorf("the subdomain after a reload: %q", v)
	}
	b.shot("22-position-after-reload")
	b.docShots("setup-position", "h-position", "position-chosen")
	b.axeCheck("position after a reload")
}

// TestAccountsInThePage: a second account for the same company is added
// beside the chosen one (not chosen silently) with a warning; the chosen
// account is renamed; removing one that a switched-on integration uses is
// refused naming the funnel; an unused one is removed.
func TestAccountsInThePage(t *testing.T) {
	st, _ := startStack(t)
	jwt, _ := st.Auth.Mint("ws_demo", "advanced", time.Hour)
	b := open(t, st, root+`.getElementById('acc-name')`)
	addAccount := func(name string) {
		b.typeInto("acc-name", name)
		b.typeInto("acc-company", "42")
		b.typeInto("acc-token", "sandbox-token-42")
		b.do(chromedp.KeyEvent(kb.Enter))
	}
	addAccount("Acme")
	b.wait("the first account, chosen", root+`.getElementById('connection') && `+root+`.getElementById('connection').value.startsWith('con_')`)
	first := b.value("connection")
	b.press("add-account", kb.Enter)
	addAccount("Acme again")
	b.wait("the second account", root+`.querySelectorAll('#connection option').length === 3`)
	if v := b.value("connection"); v != first {
		t.Errorf("adding a second account chose it for the funnel: %q, was %q", v, first)
	}
	if w := b.text("#account .msg.warn"); !strings.Contains(w, "“Acme” connects company 42 already") {
		t.Errorf("no warning about the same company: %q", w)
	}
	b.shot("23-second-account")
	b.docShots("setup-accounts", "h-account", "add-account")
	b.axeCheck("second account")

	b.press("rename-account", kb.Enter)
	b.typeInto("acc-rename", "Acme HR")
	b.do(chromedp.KeyEvent(kb.Enter))
	b.wait("the new name", root+`.querySelector('#connection option:checked').innerText.startsWith('Acme HR')`)
	if _, _, c := api(t, "GET", st.URL+"/v1/connections/"+first, jwt, nil); c["name"] != "Acme HR" {
		t.Errorf("the API's name: %v", c["name"])
	}

	mapping := json.RawMessage(`{"version":1,"required":{"first_name":{"source":"contact.full_name","transforms":["first_name"]},"last_name":{"source":"contact.full_name","transforms":["last_name"]},"email":{"source":"contact.email"}}}`)
	if code, _, in := api(t, "PUT", st.URL+"/v1/funnels/fn_office/integration", jwt, map[string]any{"connection_id": first, "job_position_id": 1001, "mapping": mapping, "enabled": true}); code != 201 {
		t.Fatalf("integration: %d %v", code, in)
	}
	b.press("remove-account", kb.Enter)
	b.wait("the refusal", root+`.querySelector('#account .msg.bad')`)
	if msg := b.text("#account .msg.bad"); !strings.Contains(msg, "fn_office") || !strings.Contains(msg, "nothing was removed") {
		t.Errorf("the refusal does not name the funnel: %q", msg)
	}
	b.shot("24-remove-refused")
	second := eval[string](b, `[...`+root+`.querySelectorAll('#connection option')].map(o => o.value).find(v => v && v !== `+jsString(first)+`)`)
	b.choose("connection", second)
	b.press("remove-account", kb.Enter)
	b.wait("the removal", root+`.querySelectorAll('#connection option').length === 2`)
	if _, _, l := api(t, "GET", st.URL+"/v1/connections", jwt, nil); len(l["connections"].([]any)) != 1 {
		t.Errorf("after the removal the API lists %d accounts", len(l["connections"].([]any)))
	}
}

// TestWrongMappingFlaggedOnSave: E-mail ← Phone is refused when saved,
// with a sentence at the e-mail field in the page's language (from the
// API's code and params), instead of "Settings saved." and a test
// application that fails later.
func TestWrongMappingFlaggedOnSave(t *testing.T) {
	st, _ := integrated(t, false)
	b := open(t, st, root+`.getElementById('req-email')`)
	b.choose("req-email", "contact.phone")
	b.press("save-settings", kb.Enter)
	b.wait("the problem", root+`.getElementById('summary')`)
	if s := b.text("#summary"); !strings.Contains(s, "E-mail takes an e-mail address; “Phone” holds a phone number.") {
		t.Errorf("the summary: %q", s)
	}
	if b.text("#save .msg.good") != "" {
		t.Error("the page says the settings were saved")
	}
	// In German, from the problem's code and params.
	eval[bool](b, `document.querySelector('personio-integration').setAttribute('lang', 'de'), true`)
	b.press("save-settings", kb.Enter)
	b.wait("the problem in German", root+`.getElementById('summary') && `+root+`.getElementById('summary').innerText.includes('nimmt')`)
	if s := b.text("#summary"); !strings.Contains(s, "E-Mail nimmt eine E-Mail-Adresse; „Phone“ enthält eine Telefonnummer.") {
		t.Errorf("the German summary: %q", s)
	}
	// Back in English, the problems are said in English again.
	eval[bool](b, `document.querySelector('personio-integration').setAttribute('lang', 'en'), true`)
	b.wait("the problem in English again", root+`.getElementById('summary').innerText.includes('takes an e-mail address')`)
	b.shot("25-wrong-mapping")
	b.docShots("setup-wrong-mapping", "h-required", "summary")
}

// TestTablesComeFromTheAPI: the page offers the targets, kinds,
// transforms, fits and statuses the API's targets list says (here one with
// an extra transform, status, and a target of a kind the page has never
// seen, also offered as a custom attribute's type), not copies of its own.
func TestTablesComeFromTheAPI(t *testing.T) {
	st, _ := integrated(t, false)
	b := newBrowser(t, chromiumPath(t), axeSource(t), shotDir)
	if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: `{
		  const real = window.fetch;
		  window.fetch = async (url, init) => {
		    const res = await real(url, init);
		    if (!String(url).endsWith('/v1/personio/targets')) return res;
		    const body = await res.json();
		    body.transforms.push('digits');
		    body.fits.digits = ['phone'];
		    body.statuses.push('pondering');
		    body.kinds.push({ kind: 'url', transforms: ['trim'], single: true, custom: true, template: true, choice: true });
		    body.fits.trim.push('url');
		    body.targets.push({ id: 'website', label: 'Website', kind: 'url', place: 'attribute', description: 'An address.', values: ['https://a.example', 'https://b.example'] });
		    body.targets.find((x) => x.id === 'custom_attribute_{id}').values.push('url');
		    return new Response(JSON.stringify(body), { status: res.status, headers: res.headers });
		  };
		}`}); err != nil {
		t.Fatal(err)
	}
	b.do(chromedp.Navigate(st.URL + "/"))
	b.wait("the first render", root+`.getElementById('add-row')`)
	row := b.lastRow()
	b.choose(row+"-target", "phone")
	if !eval[bool](b, `!!`+root+`.getElementById(`+jsString(row+"-tr-digits")+`)`) {
		t.Error("the transform the API added is not offered for a phone")
	}
	if eval[bool](b, `!!`+root+`.getElementById(`+jsString(row+"-tr-lower")+`)`) {
		t.Error("lower, which the API does not fit to a phone, is offered")
	}
	if !eval[bool](b, `[...`+root+`.querySelectorAll('#log-status option')].some(o => o.value === 'pondering')`) {
		t.Error("the status the API added is not in the log's filter")
	}
	b.choose(row+"-target", "website")
	if !eval[bool](b, `!!`+root+`.getElementById(`+jsString(row+"-tr-trim")+`)`) {
		t.Error("trim, which the API fits to the new kind, is not offered for its target")
	}
	if eval[bool](b, `!!`+root+`.getElementById(`+jsString(row+"-tr-lower")+`)`) {
		t.Error("lower, which the API does not fit to the new kind, is offered")
	}
	if !eval[bool](b, `[...`+root+`.getElementById(`+jsString(row+"-kind")+`).options].some(o => o.value === 'template')`) {
		t.Error("a template, which the API lets fill the new kind, is not offered")
	}
	b.choose(row+"-kind", "constant")
	if !eval[bool](b, `[...(`+root+`.getElementById(`+jsString(row+"-constant")+`).options || [])].some(o => o.value === 'https://b.example')`) {
		t.Error("the constant of the new kind, whose values the API says are the target's list, is not picked from that list")
	}
	b.choose(row+"-target", "custom_attribute_{id}")
	b.choose(row+"-type", "url")
}

// TestOptionSuggestions: the gender table starts with suggestions for the
// funnel's answers (German words, any case or accents), shown beside each
// and taken only when accepted; the module's suggestOption matches by
// value, label and common words, and leaves what it does not know.
func TestOptionSuggestions(t *testing.T) {
	st, _ := integrated(t, false)
	b := open(t, st, root+`.getElementById('add-row')`)
	got := eval[[]string](b, `import('./personio-integration.js').then(m => ['Weiblich', 'MÄNNLICH', ' divers ', 'Keine Angabe', 'female', 'Frau', 'Hund']
	  .map(c => m.suggestOption(c, ['male', 'female', 'diverse', 'undefined'])))`)
	if want := []string{"female", "male", "diverse", "undefined", "female", "female", ""}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("suggestions %q, want %q", got, want)
	}
	row := b.lastRow()
	b.choose(row+"-target", "gender")
	b.choose(row+"-source", "answers.q_gender")
	b.wait("the suggestions", root+`.getElementById(`+jsString(row+"-accept")+`)`)
	if v := b.value(row + "-opt-0"); v != "" {
		t.Errorf("a suggestion was taken before it was accepted: %q", v)
	}
	if s := b.text("#" + row + "-opt-0-suggest"); !strings.Contains(s, "female") {
		t.Errorf("the first choice's suggestion: %q", s)
	}
	b.shot("26-option-suggestions")
	b.docShots("setup-option-suggestions", row, row+"-accept")
	b.press(row+"-accept", kb.Enter)
	for i, want := range []string{"female", "male", "diverse"} {
		if v := b.value(row + "-opt-" + strconv.Itoa(i)); v != want {
			t.Errorf("choice %d after accepting: %q, want %q", i, v, want)
		}
	}
	b.axeCheck("option suggestions")
}

// docShots writes, when WEB_README_SHOTS names a folder (make
// screenshots), pictures of part of the page (from the top of the
// component's element from to the bottom of to, by id) for the docs: at
// 1280 and 390 px, in English and German, as <name>-<lang>-<width>.png.
func (b *browser) docShots(name, from, to string) {
	b.t.Helper()
	if os.Getenv("WEB_README_SHOTS") == "" {
		return
	}
	el := func(id string) string { return root + `.getElementById(` + jsString(id) + `)` }
	for _, lang := range []string{"en", "de"} {
		eval[bool](b, `document.querySelector('personio-integration').setAttribute('lang', `+jsString(lang)+`), true`)
		for _, w := range []int64{1280, 390} {
			scale := 0.6
			if w == 390 {
				scale = 1
			}
			b.readmeShot(fmt.Sprintf("%s-%s-%d", name, lang, w), w, el(from), el(to), scale)
		}
	}
	eval[bool](b, `document.querySelector('personio-integration').setAttribute('lang', 'en'), true`)
}

// TestFreshPageAsksWithoutA404: a funnel without an integration is found
// out by listing the funnel's integrations (none), not by a GET that is
// answered 404, which browsers log as an error.
func TestFreshPageAsksWithoutA404(t *testing.T) {
	st, _ := startStack(t)
	b := open(t, st, root+`.getElementById('acc-name')`)
	b.mu.Lock()
	defer b.mu.Unlock()
	asked := false
	for _, u := range b.urls {
		if strings.HasSuffix(u, "/v1/funnels/fn_office/integration") {
			t.Errorf("the page asked %s, which is 404 for a fresh funnel", u)
		}
		asked = asked || strings.Contains(u, "/v1/integrations?funnel_id=fn_office")
	}
	if !asked {
		t.Errorf("the page did not list the funnel's integrations: %q", b.urls)
	}
}
