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
