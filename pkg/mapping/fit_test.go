package mapping_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/mapping"
)

// TestSourcesThatCannotFit: a source whose type can never fill its
// target (a phone number into e-mail, a choice into a date) is a problem
// of the mapping when it is saved, said with the target's and the
// question's labels; free text and fitting types pass.
func TestSourcesThatCannotFit(t *testing.T) {
	funnel := &mapping.Funnel{Fields: []mapping.Field{
		{ID: "q_start", Type: "date", Label: "Start date"}, {ID: "q_gender", Type: "choice", Label: "Gender", Choices: []string{"Weiblich"}},
		{ID: "q_note", Type: "text", Label: "Note"}, {ID: "q_mail", Type: "email", Label: "Work e-mail"},
	}}
	required := func(email string) string {
		return `"required":{"first_name":{"source":"contact.first_name"},"last_name":{"source":"contact.last_name"},"email":{"source":"` + email + `"}}`
	}
	for _, c := range []struct {
		name, mapping, path, want string
	}{
		{"phone into e-mail", `{"version":1,` + required("contact.phone") + `}`, "required.email.source", "E-mail takes an e-mail address; the contact's phone holds a phone number"},
		{"choice into a date", `{"version":1,` + required("contact.email") + `,"optional":[{"target":"birthday","source":"answers.q_gender"}]}`, "optional[0].source", `takes a date; question "Gender" holds one of its choices`},
		{"e-mail into a phone", `{"version":1,` + required("contact.email") + `,"optional":[{"target":"phone","source":"answers.q_mail"}]}`, "optional[0].source", `takes a phone number; question "Work e-mail" holds an e-mail address`},
		{"free text into e-mail", `{"version":1,` + required("answers.q_note") + `}`, "", ""},
		{"e-mail question into e-mail", `{"version":1,` + required("answers.q_mail") + `}`, "", ""},
		{"date into birthday", `{"version":1,` + required("contact.email") + `,"optional":[{"target":"birthday","source":"answers.q_start"}]}`, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := mapping.Parse([]byte(c.mapping))
			if err != nil {
				t.Fatal(err)
			}
			err = mapping.Validate(*cfg, funnel)
			var ce *mapping.ConfigError
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.As(err, &ce) {
				t.Fatalf("not refused: %v", err)
			}
			for _, p := range ce.Problems {
				if p.Path == c.path && strings.Contains(p.Message, c.want) {
					if p.Code != "source-cannot-fit" || p.Params["target"] == "" || p.Params["takes"] == "" || p.Params["holds"] == "" || p.Params["source"] == "" {
						t.Errorf("code %q params %v", p.Code, p.Params)
					}
					return
				}
			}
			t.Errorf("problems %+v, want %s: %q", ce.Problems, c.path, c.want)
		})
	}
}

// TestSourcesThatNeedATransform: a source that may fit its target only
// with a transform (free text into e-mail or a date, a number into a
// phone, the full name into a first name) is a warning, not a problem,
// with the transform proposed and both sentences; with the transform, or
// a source that fits as it is, there is none.
func TestSourcesThatNeedATransform(t *testing.T) {
	funnel := &mapping.Funnel{Fields: []mapping.Field{
		{ID: "q_note", Type: "text", Label: "Note"}, {ID: "q_mail", Type: "email", Label: "Work e-mail"}, {ID: "q_num", Type: "number", Label: "Mobile"},
		{ID: "q_start", Type: "date", Label: "Start date"},
	}}
	required := func(first, email string) string {
		return `"required":{"first_name":` + first + `,"last_name":{"source":"contact.last_name"},"email":` + email + `}`
	}
	plain := required(`{"source":"contact.first_name"}`, `{"source":"contact.email"}`)
	for _, c := range []struct {
		name, mapping, path, transform, de string
	}{
		{"free text into e-mail", `{"version":1,` + required(`{"source":"contact.first_name"}`, `{"source":"answers.q_note"}`) + `}`, "required.email.source", "trim",
			"E-Mail nimmt eine E-Mail-Adresse; „Note“ enthält Freitext: Mit der Umwandlung „trim“ passt es."},
		{"free text into a birthday", `{"version":1,` + plain + `,"optional":[{"target":"birthday","source":"answers.q_note"}]}`, "optional[0].source", "date",
			"Geburtstag nimmt ein Datum; „Note“ enthält Freitext: Mit der Umwandlung „date“ passt es."},
		{"a number into a phone", `{"version":1,` + plain + `,"optional":[{"target":"phone","source":"answers.q_num"}]}`, "optional[0].source", "phone",
			"Telefon nimmt eine Telefonnummer; „Mobile“ enthält eine Zahl: Mit der Umwandlung „phone“ passt es."},
		{"the full name into a first name", `{"version":1,` + required(`{"source":"contact.full_name"}`, `{"source":"contact.email"}`) + `}`, "required.first_name.source", "first_name",
			"Vorname nimmt einen Namen; „Vollständiger Name“ enthält Freitext: Mit der Umwandlung „first_name“ passt es."},
		{"free text into e-mail, trimmed", `{"version":1,` + required(`{"source":"contact.first_name"}`, `{"source":"answers.q_note","transforms":["trim"]}`) + `}`, "", "", ""},
		{"the full name, split", `{"version":1,` + required(`{"source":"contact.full_name","transforms":["first_name"]}`, `{"source":"contact.email"}`) + `}`, "", "", ""},
		{"an e-mail question into e-mail", `{"version":1,` + required(`{"source":"contact.first_name"}`, `{"source":"answers.q_mail"}`) + `}`, "", "", ""},
		{"a date into a birthday", `{"version":1,` + plain + `,"optional":[{"target":"birthday","source":"answers.q_start"}]}`, "", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := mapping.Parse([]byte(c.mapping))
			if err != nil {
				t.Fatal(err)
			}
			warnings, err := mapping.Check(*cfg, funnel)
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			if c.path == "" {
				if len(warnings) > 0 {
					t.Errorf("warnings %+v", warnings)
				}
				return
			}
			if len(warnings) != 1 {
				t.Fatalf("warnings %+v, want one at %s", warnings, c.path)
			}
			w := warnings[0]
			if w.Path != c.path || w.Code != mapping.CodeNeedsTransform || w.Params["transform"] != c.transform || w.Messages == nil || w.Messages.DE != c.de ||
				w.Messages.EN != w.Message || !strings.Contains(w.Message, `with the transform "`+c.transform+`" it fits`) {
				t.Errorf("warning %+v %+v, want %s proposing %q, German %q", w, w.Messages, c.path, c.transform, c.de)
			}
		})
	}
}

// TestEveryProblemHasACodeAndBothSentences: each problem of a mapping
// with many mistakes has a code, an English and a German sentence with
// every param filled in, and names questions by their labels.
func TestEveryProblemHasACodeAndBothSentences(t *testing.T) {
	funnel := &mapping.Funnel{Fields: []mapping.Field{
		{ID: "q_gender", Type: "choice", Label: "Geschlecht", Choices: []string{"Weiblich", "Männlich"}},
		{ID: "q_langs", Type: "multi_choice", Label: "Sprachen", Choices: []string{"DE"}}, {ID: "q_cv", Type: "file", Label: "Lebenslauf"},
	}}
	raw := `{"version":2,"default_region":"XX","required":{"first_name":{"source":"contact.first_name","target":"last_name"},"last_name":{},
	  "email":{"constant":"a@example.com"}},"optional":[
	  {"target":"gender","source":"answers.q_gender","options":{"Weiblich":"female","weiblich ":"female"}},
	  {"target":"gender","source":"answers.q_gender","options":{"Weiblich":"lady"}},
	  {"target":"birthday","source":"answers.q_langs"},{"target":"location","source":"answers.q_cv"},
	  {"target":"nope"},{"target":"email","source":"contact.email"},{"target":"custom_attribute_7","source":"contact.phone"},
	  {"target":"phone","source":"bogus.x","transforms":["shout","lower"]},{"target":"file:cv","source":"contact.email"},
	  {"target":"message","source":"answers.q_missing","template":"{{files.q_cv}}","separator":"-----------------------"},
	  {"target":"tags","constant":" "},{"target":"phone","type":"text","source":"contact.phone","region":"ZZ"},
	  {"target":"application_date","constant":"soon","fallback":{"target":"phone","source":"contact.email"}},
	  {"target":"recruiting_channel_id","source":"contact.phone","options":{"a":"1"}},{"target":"phase","source":"contact.first_name","transforms":["options"]}]}`
	cfg, err := mapping.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	var ce *mapping.ConfigError
	if err := mapping.Validate(*cfg, funnel); !errors.As(err, &ce) {
		t.Fatalf("not refused: %v", err)
	}
	codes := map[string]bool{}
	for _, p := range ce.Problems {
		codes[p.Code] = true
		if p.Code == "" || p.Messages == nil || p.Messages.EN != p.Message || p.Messages.DE == "" || p.Messages.DE == p.Message {
			t.Errorf("%s: code %q, sentences %+v", p.Path, p.Code, p.Messages)
			continue
		}
		if open := strings.ReplaceAll(p.Messages.DE, "{{", ""); strings.Contains(open, "{") && p.Code != mapping.CodeTemplateInvalid {
			t.Errorf("%s: a param left in %q", p.Path, p.Messages.DE)
		}
		if strings.Contains(p.Message, "q_gender") || strings.Contains(p.Messages.DE, "q_gender") || strings.Contains(p.Messages.DE, "q_langs") {
			t.Errorf("%s: a question named by its id: %q / %q", p.Path, p.Message, p.Messages.DE)
		}
	}
	if len(codes) < 15 {
		t.Errorf("only %d codes among %d problems: %v", len(codes), len(ce.Problems), codes)
	}
	t.Logf("%d problems, %d codes", len(ce.Problems), len(codes))
}
