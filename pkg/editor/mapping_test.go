package editor_test

import (
	"testing"
)

// TestMappingProblemsAndWarnings: saving a mapping answers every problem
// with its code, params and both sentences naming questions by their
// labels (E-mail from the contact's phone: refused), and saves a mapping
// whose source may fit only with a transform, answering a warning with
// the transform proposed.
func TestMappingProblemsAndWarnings(t *testing.T) {
	e := setup(t)
	conn := e.connect(t, ws)
	funnel := map[string]any{"fields": []any{map[string]any{"id": "q_note", "type": "text", "label": "Notiz"},
		map[string]any{"id": "q_gender", "type": "choice", "label": "Geschlecht", "choices": []string{"Weiblich", "Männlich"}}}}
	save := func(email map[string]any, optional []any) result {
		m := map[string]any{"version": 1, "required": map[string]any{"first_name": map[string]any{"source": "contact.first_name"},
			"last_name": map[string]any{"source": "contact.last_name"}, "email": email}, "optional": optional}
		return e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_map/integration", map[string]any{"connection_id": conn, "job_position_id": 1001, "mapping": m, "funnel": funnel}, nil)
	}
	r := save(map[string]any{"source": "contact.phone"}, []any{map[string]any{"target": "gender", "source": "answers.q_gender", "options": map[string]string{"Weiblich": "female"}}})
	if r.status != 422 {
		t.Fatalf("E-mail from the phone: %d %s", r.status, r.raw)
	}
	want := map[string]struct{ code, de string }{
		"/mapping/required/email/source": {"source-cannot-fit", "E-Mail nimmt eine E-Mail-Adresse; „Telefon“ enthält eine Telefonnummer."},
		"/mapping/optional/0/options":    {"option-missing", "Die Auswahl „Männlich“ der Frage „Geschlecht“ hat keinen Eintrag in der Tabelle."},
	}
	errs, _ := r.body["errors"].([]any)
	if len(errs) != len(want) {
		t.Fatalf("errors %s", r.raw)
	}
	for _, x := range errs {
		fe := x.(map[string]any)
		w, ok := want[fe["path"].(string)]
		msgs, _ := fe["messages"].(map[string]any)
		if !ok || fe["code"] != w.code || msgs == nil || msgs["de"] != w.de || msgs["en"] != fe["message"] {
			t.Errorf("error %v, want at %s %+v", fe, fe["path"], w)
		}
	}
	r = save(map[string]any{"source": "answers.q_note"}, nil)
	if r.status != 201 {
		t.Fatalf("e-mail from a free-text answer: %d %s", r.status, r.raw)
	}
	warnings, _ := r.body["warnings"].([]any)
	if len(warnings) != 1 {
		t.Fatalf("warnings %s", r.raw)
	}
	w := warnings[0].(map[string]any)
	params, _ := w["params"].(map[string]any)
	msgs, _ := w["messages"].(map[string]any)
	if w["path"] != "/mapping/required/email/source" || w["code"] != "source-needs-transform" || params["transform"] != "trim" ||
		msgs["de"] != "E-Mail nimmt eine E-Mail-Adresse; „Notiz“ enthält Freitext: Mit der Umwandlung „trim“ passt es." {
		t.Errorf("warning %v", w)
	}
	etag := r.header["ETag"]
	m := map[string]any{"version": 1, "required": map[string]any{"first_name": map[string]any{"source": "contact.first_name"},
		"last_name": map[string]any{"source": "contact.last_name"}, "email": map[string]any{"source": "answers.q_note", "transforms": []string{"trim"}}}}
	r = e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_map/integration", map[string]any{"connection_id": conn, "job_position_id": 1001, "mapping": m, "funnel": funnel},
		map[string]string{"If-Match": etag})
	if r.status != 200 || r.body["warnings"] != nil {
		t.Errorf("with the transform: %d %s", r.status, r.raw)
	}
	if r := e.call(t, ws, advanced, "GET", "/v1/funnels/fn_map/integration", nil, nil); r.body["warnings"] != nil {
		t.Errorf("a read answers warnings: %s", r.raw)
	}
}
