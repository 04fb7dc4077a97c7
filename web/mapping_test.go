package web_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/chromedp/chromedp/kb"
)

// TestFailedTestNamesTheField: a test application whose e-mail comes from
// a free-text answer fails, and the page says which required field had no
// usable value (E-mail), not "first name, last name or e-mail".
func TestFailedTestNamesTheField(t *testing.T) {
	st, jwt, conn := connected(t)
	mapping := json.RawMessage(`{"version":1,"required":{"first_name":{"source":"contact.full_name","transforms":["first_name"]},"last_name":{"source":"contact.full_name","transforms":["last_name"]},"email":{"source":"answers.q_motivation"}}}`)
	if code, _, in := api(t, "PUT", st.URL+"/v1/funnels/fn_office/integration", jwt,
		map[string]any{"connection_id": conn, "job_position_id": 1001, "mapping": mapping, "enabled": true}); code != 201 {
		t.Fatalf("integration: %d %v", code, in)
	}
	b := open(t, st, root+`.getElementById('send-test')`)
	b.press("send-test", kb.Enter)
	b.wait("the test's end", root+`.querySelector('#test-live .msg.bad')`)
	if msg := b.text("#test-live .msg.bad"); msg != "E-mail had no usable value. Check the required assignment and retry." {
		t.Errorf("the failed test says %q", msg)
	}
	eval[bool](b, `document.querySelector('personio-integration').setAttribute('lang', 'de'), true`)
	b.press("log-refresh", kb.Enter)
	b.wait("the German log", root+`.getElementById('log-table') && `+root+`.getElementById('log-table').innerText.includes('E-Mail hatte keinen verwendbaren Wert')`)
	if s := b.text("#log-table"); strings.Contains(s, "Vorname, Nachname oder E-Mail") {
		t.Errorf("the log names every required field: %q", s)
	}
}
