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

// TestMappingWarningOnSave: a birthday from a free-text answer is saved
// with a warning at its row that proposes the date transform (in the
// page's language, with the transform explained); its button adds the
// transform, and the next save has no warning.
func TestMappingWarningOnSave(t *testing.T) {
	st, jwt := integrated(t, false)
	b := open(t, st, root+`.getElementById('add-row')`)
	row := b.lastRow()
	b.choose(row+"-target", "birthday")
	b.choose(row+"-source", "answers.q_motivation")
	b.press("save-settings", kb.Enter)
	b.wait("the warning", root+`.querySelector('#save .msg.warn')`)
	if s := b.text("#save .msg.warn"); s != "Settings saved, with 1 warning: see the fields marked." {
		t.Errorf("the save says %q", s)
	}
	want := "Birthday takes a date; “Motivation” holds free text: with the transform “date” (as yyyy-mm-dd) it fits."
	if w := b.text("#" + row + "-warn"); !strings.HasPrefix(w, want) {
		t.Errorf("the row's warning %q, want %q", w, want)
	}
	eval[bool](b, `document.querySelector('personio-integration').setAttribute('lang', 'de'), true`)
	b.wait("German", root+`.getElementById(`+jsString(row+"-warn")+`).innerText.includes('Umwandlung')`)
	if w := b.text("#" + row + "-warn"); !strings.HasPrefix(w, "Geburtstag nimmt ein Datum; „Motivation“ enthält freien Text: Mit der Umwandlung „date“ (als JJJJ-MM-TT) passt es.") {
		t.Errorf("the German warning %q", w)
	}
	b.shot("32-mapping-warning")
	b.docShots("setup-mapping-warning", row, "save-settings")
	b.axeCheck("mapping warning")
	eval[bool](b, `document.querySelector('personio-integration').setAttribute('lang', 'en'), true`)
	b.press(row+"-addtr", kb.Enter)
	if !eval[bool](b, root+`.getElementById(`+jsString(row+"-tr-date")+`).checked`) {
		t.Fatal("the proposed transform was not added")
	}
	b.press("save-settings", kb.Enter)
	b.wait("saved without a warning", root+`.querySelector('#save .msg.good')`)
	_, _, in := api(t, "GET", st.URL+"/v1/funnels/fn_office/integration", jwt, nil)
	opt := in["mapping"].(map[string]any)["optional"].([]any)
	last := opt[len(opt)-1].(map[string]any)
	if tr, _ := last["transforms"].([]any); last["target"] != "birthday" || len(tr) != 1 || tr[0] != "date" {
		t.Errorf("saved %v", last)
	}
}

// TestMappingProblemsInTheLanguage: a gender table without an entry for
// one choice is refused with a sentence in the page's language that names
// the question by its label (not "q_gender", not English on the German
// page), and said again in English after a switch.
func TestMappingProblemsInTheLanguage(t *testing.T) {
	st, _ := integrated(t, false)
	b := open(t, st, root+`.getElementById('add-row')`)
	eval[bool](b, `document.querySelector('personio-integration').setAttribute('lang', 'de'), true`)
	row := b.lastRow()
	b.choose(row+"-target", "gender")
	b.choose(row+"-source", "answers.q_gender")
	b.choose(row+"-opt-0", "female")
	b.press("save-settings", kb.Enter)
	b.wait("the problems", root+`.getElementById('summary')`)
	s := b.text("#summary")
	for _, want := range []string{"Die Auswahl „Männlich“ der Frage „Geschlecht“ hat keinen Eintrag in der Tabelle.", "Die Auswahl „Divers“ der Frage „Geschlecht“"} {
		if !strings.Contains(s, want) {
			t.Errorf("the German summary %q lacks %q", s, want)
		}
	}
	if strings.Contains(s, "q_gender") || strings.Contains(s, "no entry") {
		t.Errorf("the German summary names an id or speaks English: %q", s)
	}
	if o := b.text("#optional"); strings.Contains("\n"+o+"\n", "\nnull\n") {
		t.Errorf("the optional assignment shows a missing value: %q", o)
	}
	b.shot("33-mapping-problems-de")
	b.docShots("setup-problems-in-language", row, "summary")
	eval[bool](b, `document.querySelector('personio-integration').setAttribute('lang', 'en'), true`)
	b.wait("English", root+`.getElementById('summary').innerText.includes('no entry')`)
	if s := b.text("#summary"); !strings.Contains(s, `no entry for the choice "Männlich" of question "Geschlecht"`) {
		t.Errorf("the English summary: %q", s)
	}
}
