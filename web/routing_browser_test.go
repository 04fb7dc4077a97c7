package web_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// positionQuestion is the sample funnel's fields with a question whose
// answer picks the position.
const positionQuestion = `{ id: 'q_position', label: 'Which position?', type: 'choice', choices: ['Office Manager', 'Sales Manager (Hamburg)', 'Other'] }`

// TestRoutingInThePage: in the position step, "Different positions
// depending on an answer" is switched on with the keyboard, the question
// chosen and a position from the career site's feed picked for one of its
// choices, the default named as such; without a question the save says
// where; saved, an application answering "Sales Manager (Hamburg)" arrives
// at 1003 and one answering otherwise at the default, 1001. axe at both
// widths; the same step in German.
func TestRoutingInThePage(t *testing.T) {
	exe, axe := chromiumPath(t), axeSource(t)
	st, _ := startStack(t)
	jwt, _ := st.Auth.Mint("ws_demo", "advanced", time.Hour)
	_, _, con := api(t, "POST", st.URL+"/v1/connections", jwt, map[string]any{"name": "Acme", "company_id": "42", "access_token": "sandbox-token-42"})
	mapping := json.RawMessage(`{"version":1,"required":{"first_name":{"source":"contact.full_name","transforms":["first_name"]},"last_name":{"source":"contact.full_name","transforms":["last_name"]},"email":{"source":"contact.email"}}}`)
	if code, _, in := api(t, "PUT", st.URL+"/v1/funnels/fn_office/integration", jwt, map[string]any{"connection_id": con["id"], "job_position_id": 1001,
		"mapping": mapping, "enabled": true, "career_site": "acme"}); code != 201 {
		t.Fatalf("integration: %d %v", code, in)
	}
	b := newBrowser(t, exe, axe, shotDir)
	b.do(chromedp.Navigate(st.URL + "/"))
	b.wait("the first render", root+`.getElementById('position')`)
	eval[bool](b, `(e => { e.fields = [...e.fields, `+positionQuestion+`]; return true })(document.querySelector('personio-integration'))`)
	b.wait("the feed's positions", root+`.getElementById('position-select')`)

	b.press("route-on", " ")
	b.wait("the question", root+`.getElementById('route-question')`)
	// Saving without a question says so at the question.
	b.press("save-settings", kb.Enter)
	b.wait("the problem", root+`.getElementById('route-question-err')`)
	if txt := b.text("#route-question-err"); !strings.Contains(txt, "Choose the question") {
		t.Errorf("problem at the question: %q", txt)
	}
	b.choose("route-question", "q_position")
	b.wait("a position per choice", root+`.getElementById('route-pos-2')`)
	if active := eval[string](b, root+`.activeElement?.id || ''`); active != "route-question" {
		t.Errorf("focus after choosing the question: %q, want route-question", active)
	}
	b.choose("route-pos-1", "1003")
	if txt := b.text("#route-default"); !strings.Contains(txt, "default position") || !strings.Contains(txt, "1001") {
		t.Errorf("the default is not named: %q", txt)
	}
	if lbl := b.text(`label[for="route-pos-1"]`); !strings.Contains(lbl, "Sales Manager (Hamburg)") {
		t.Errorf("the choice's label: %q", lbl)
	}
	b.shot("20-routing")
	b.axeCheck("routing")
	b.readmeShot("setup-routing", 1280, root+`.getElementById('position').closest('section')`, root+`.getElementById('route')`, 0.6)

	b.press("save-settings", kb.Enter)
	b.wait("saved", root+`.querySelector('#save .msg.good')`)
	_, _, in := api(t, "GET", st.URL+"/v1/funnels/fn_office/integration", jwt, nil)
	pr, _ := in["position_routing"].(map[string]any)
	if pr["source"] != "answers.q_position" || len(pr["positions"].(map[string]any)) != 1 || pr["positions"].(map[string]any)["Sales Manager (Hamburg)"] != float64(1003) {
		t.Fatalf("saved routing: %v", in["position_routing"])
	}
	answer := func(v string) []map[string]any {
		return []map[string]any{{"field_id": "q_position", "label": "Which position?", "type": "choice", "value": v}}
	}
	sendEvent(t, st, "evt_route_sales", map[string]string{"full_name": "Ben Sales", "email": "ben@example.com"}, answer("Sales Manager (Hamburg)"), nil)
	sendEvent(t, st, "evt_route_other", map[string]string{"full_name": "Cleo Other", "email": "cleo@example.com"}, answer("Other"), nil)
	deadline := time.Now().Add(30 * time.Second)
	for application(st, "ben@example.com") == nil || application(st, "cleo@example.com") == nil {
		if time.Now().After(deadline) {
			t.Fatal("the routed applications did not arrive")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if a := application(st, "ben@example.com"); a.JobPositionID != 1003 {
		t.Errorf("Sales Manager (Hamburg) went to %d, want 1003", a.JobPositionID)
	}
	if a := application(st, "cleo@example.com"); a.JobPositionID != 1001 {
		t.Errorf("Other went to %d, want the default 1001", a.JobPositionID)
	}

	// A reload shows the saved routing; in German too.
	b.do(chromedp.Navigate(st.URL + "/?lang=de"))
	b.wait("the first render", root+`.getElementById('position')`)
	eval[bool](b, `(e => { e.fields = [...e.fields, `+positionQuestion+`]; return true })(document.querySelector('personio-integration'))`)
	b.wait("the saved routing", root+`.getElementById('route-pos-1')?.value === '1003'`)
	if lbl := b.text(`label:has(#route-on)`); !strings.Contains(lbl, "Unterschiedliche Stellen je nach Antwort") {
		t.Errorf("German switch: %q", lbl)
	}
	if txt := b.text("#route-default"); !strings.Contains(txt, "Standardstelle") {
		t.Errorf("German default: %q", txt)
	}
	b.shot("21-routing-de")
	b.readmeShot("setup-routing-de-390", 390, root+`.getElementById('route-on')`, root+`.getElementById('route')`, 0.8)
	b.axeCheck("routing de")
}
