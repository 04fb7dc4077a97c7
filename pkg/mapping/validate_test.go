package mapping_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/mapping"
	"github.com/funnel-personio/funnel-personio/pkg/phone"
)

func str(s string) *string { return &s }

func TestDefaultConfigValidates(t *testing.T) {
	if err := mapping.Validate(mapping.DefaultConfig(), nil); err != nil {
		t.Fatalf("the default mapping does not validate: %v", err)
	}
}

var funnel = &mapping.Funnel{Fields: []mapping.Field{
	{ID: "q_gender", Type: application.TypeChoice, Choices: []string{"Weiblich", "Männlich", "Divers", "female"}},
	{ID: "q_role", Type: application.TypeChoice, Choices: []string{"Developer", "Designer"}},
	{ID: "q_skills", Type: application.TypeMultiChoice, Choices: []string{"Go", "AWS"}},
	{ID: "q_cv", Type: application.TypeFile},
	{ID: "q_city", Type: application.TypeText},
}}

func TestValidate(t *testing.T) {
	base := func(optional ...mapping.Rule) mapping.Config {
		c := mapping.DefaultConfig()
		c.Optional = optional
		return c
	}
	tests := []struct {
		name   string
		cfg    mapping.Config
		funnel *mapping.Funnel
		want   []string // "path: substring of the message", every problem, in order
	}{
		{name: "default", cfg: mapping.DefaultConfig()},
		{name: "every kind of target", funnel: funnel, cfg: base(
			mapping.Rule{Target: "gender", Source: "answers.q_gender", Options: map[string]string{"Weiblich": "female", "Männlich": "male", "Divers": "diverse"}},
			mapping.Rule{Target: "custom_attribute_102", Type: "option", Source: "answers.q_role", Options: map[string]string{"developer": "custom_option_1", "Designer": "custom_option_2"}},
			mapping.Rule{Target: "custom_attribute_101", Type: "text", Source: "answers.q_skills", Transforms: []string{"join"}, Separator: " / "},
			mapping.Rule{Target: "custom_attribute_104", Type: "number", Source: "answers.q_city", Transforms: []string{"number"}},
			mapping.Rule{Target: "tags", Source: "answers.q_skills"}, mapping.Rule{Target: "tags", Constant: str("funnel")},
			mapping.Rule{Target: "file:cv", Source: "files.q_cv"}, mapping.Rule{Target: "file:other", Source: "files.q_cv"},
			mapping.Rule{Target: "message", Template: "Ort: {{answers.q_city}}\nQuelle: {{ tracking.utm_source }}"},
			mapping.Rule{Target: "phase", Constant: str("custom:5")},
			mapping.Rule{Target: "recruiting_channel_id", Constant: str("7")},
			mapping.Rule{Target: "external_posting_id", Source: "tracking.pid"},
			mapping.Rule{Target: "phone", Source: "contact.phone", Transforms: []string{"phone"}, Region: "AT"},
		)},
		{name: "missing required", cfg: mapping.Config{Version: 1, Required: mapping.Required{FirstName: mapping.Rule{Source: "contact.first_name"}}},
			want: []string{"required.last_name: missing required assignment", "required.email: missing required assignment"}},
		{name: "wrong version", cfg: func() mapping.Config { c := mapping.DefaultConfig(); c.Version = 2; return c }(), want: []string{"version: must be 1"}},
		{name: "bad region", cfg: func() mapping.Config { c := mapping.DefaultConfig(); c.DefaultRegion = "Germany"; return c }(),
			want: []string{"default_region: \"Germany\" is not a region"}},
		{name: "bad rule region", cfg: base(mapping.Rule{Target: "phone", Source: "contact.phone", Region: "ZZ"}, mapping.Rule{Target: "location", Source: "answers.q_city", Region: "de"}),
			want: []string{"optional[0].region: \"ZZ\" is not a region the phone library knows", "optional[1].region: \"de\" is not a region"}},
		{name: "constant e-mail", cfg: func() mapping.Config {
			c := mapping.DefaultConfig()
			c.Required.Email = mapping.Rule{Constant: str("hr@example.com")}
			return c
		}(), want: []string{"required.email.constant: every application needs the applicant's own e-mail"}},
		{name: "unknown target and source", cfg: base(mapping.Rule{Target: "hobby", Source: "answers.q1"}, mapping.Rule{Target: "location", Source: "form.city"}),
			want: []string{"optional[0].target: unknown target \"hobby\"", "optional[1].source: unknown source form"}},
		{name: "required target in optional", cfg: base(mapping.Rule{Target: "email", Source: "answers.q1"}),
			want: []string{"optional[0].target: email is a required assignment"}},
		{name: "custom attribute without type", cfg: base(mapping.Rule{Target: "custom_attribute_7", Source: "answers.q1"}),
			want: []string{"optional[0].type: a custom attribute needs its type"}},
		{name: "type on a system attribute", cfg: base(mapping.Rule{Target: "tags", Type: "text", Source: "answers.q1"}),
			want: []string{"optional[0].type: only custom attributes take a type"}},
		{name: "two givers and none", cfg: base(mapping.Rule{Target: "location", Source: "answers.q1", Constant: str("x")}, mapping.Rule{Target: "birthday"}),
			want: []string{"optional[0]: give exactly one of source, constant and template", "optional[1]: give exactly one"}},
		{name: "transform that does not fit", cfg: base(
			mapping.Rule{Target: "birthday", Source: "answers.q1", Transforms: []string{"phone"}},
			mapping.Rule{Target: "gender", Source: "answers.q2", Transforms: []string{"date"}},
			mapping.Rule{Target: "location", Source: "answers.q3", Transforms: []string{"shout"}},
			mapping.Rule{Target: "file:cv", Source: "files.q4", Transforms: []string{"trim"}},
			mapping.Rule{Target: "tags", Source: "answers.q5", Transforms: []string{"options"}},
		), want: []string{
			"optional[0].transforms[0]: phone does not fit a date target",
			"optional[1].transforms[0]: date does not fit a option target",
			"optional[2].transforms[0]: unknown transform \"shout\"",
			"optional[3].transforms[0]: files take no transforms",
			"optional[4].transforms[0]: options needs an option table",
		}},
		{name: "files to the wrong place", cfg: base(mapping.Rule{Target: "file:cv", Source: "answers.q1"}, mapping.Rule{Target: "location", Source: "files.q1"},
			mapping.Rule{Target: "file:resume", Source: "files.q1"}),
			want: []string{"optional[0].source: a file target takes files", "optional[1].source: files go to a file target", "optional[2].target: unknown target \"file:resume\""}},
		{name: "bad constants", cfg: base(
			mapping.Rule{Target: "gender", Constant: str("w")}, mapping.Rule{Target: "birthday", Constant: str("yesterday")},
			mapping.Rule{Target: "recruiting_channel_id", Constant: str("seven")}, mapping.Rule{Target: "phase", Constant: str("hired")},
			mapping.Rule{Target: "custom_attribute_102", Type: "option", Constant: str("Developer")}, mapping.Rule{Target: "location", Constant: str("  ")},
		), want: []string{
			"optional[0].constant: the answer \"w\" has no entry", "optional[1].constant: the value is not a date",
			"optional[2].constant: the value is not a whole number", "optional[3].constant: the answer \"hired\" has no entry",
			"optional[4].constant: the answer \"Developer\" has no entry", "optional[5].constant: is blank",
		}},
		{name: "bad option tables", cfg: base(
			mapping.Rule{Target: "gender", Source: "answers.q1", Options: map[string]string{"W": "weiblich", "w": "female"}},
			mapping.Rule{Target: "custom_attribute_102", Type: "option", Source: "answers.q2", Options: map[string]string{"Dev": "option_1"}},
			mapping.Rule{Target: "birthday", Source: "answers.q3", Options: map[string]string{"a": "b"}},
			mapping.Rule{Target: "phase", Source: "answers.q4", Options: map[string]string{"a": "system:hired"}},
		), want: []string{
			`optional[0].options["W"]: "weiblich" is not a gender value`, `optional[0].options: "W" and "w" are the same answer`,
			`optional[1].options["Dev"]: "option_1" is not an option id`,
			"optional[2].options: a date target takes no option table",
			`optional[3].options["a"]: "system:hired" is not a phase`,
		}},
		{name: "assigned twice", cfg: base(mapping.Rule{Target: "location", Source: "answers.q1"}, mapping.Rule{Target: "location", Source: "answers.q2"}),
			want: []string{"optional[1].target: location is already assigned by optional[0]"}},
		{name: "template problems", cfg: base(mapping.Rule{Target: "message", Template: "{{answers.q1}} {{files.q2}} {{nope}} {{"},
			mapping.Rule{Target: "birthday", Template: "{{answers.q1}}"}),
			want: []string{
				"optional[0].template: {{files.q2}}: files cannot go in a template", "optional[0].template: {{nope}}: a source is",
				"optional[0].template: unbalanced", "optional[1].template: templates fill text targets",
			}},
		{name: "funnel: unknown question and uncovered choices", funnel: funnel, cfg: base(
			mapping.Rule{Target: "location", Source: "answers.q_town"},
			mapping.Rule{Target: "gender", Source: "answers.q_gender", Options: map[string]string{"Weiblich": "female"}},
			mapping.Rule{Target: "custom_attribute_102", Type: "option", Source: "answers.q_skills", Options: map[string]string{"Go": "custom_option_1", "AWS": "custom_option_2"}},
			mapping.Rule{Target: "message", Template: "{{answers.q_hobby}}"},
			mapping.Rule{Target: "salary_expectations", Source: "answers.q_cv"},
		), want: []string{
			`optional[0].source: the funnel has no question "q_town"`,
			`optional[1].options: no entry for the choice "Männlich"`, `optional[1].options: no entry for the choice "Divers"`,
			`optional[2].source: custom_attribute_102 takes one value; question "q_skills" can have several`,
			`optional[3].template: the funnel has no question "q_hobby"`,
			`optional[4].source: question "q_cv" is a file question`,
		}},
		{name: "fallback target", cfg: func() mapping.Config {
			c := mapping.DefaultConfig()
			c.Required.LastName.Fallback = &mapping.Rule{Target: "email", Source: "contact.full_name"}
			return c
		}(), want: []string{"required.last_name.fallback.target: a fallback assigns the same target"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := mapping.Validate(tt.cfg, tt.funnel)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ce *mapping.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Validate = %v, want a *ConfigError", err)
			}
			if len(ce.Problems) != len(tt.want) {
				t.Errorf("%d problems, want %d:\n%s", len(ce.Problems), len(tt.want), problems(ce))
			}
			for i, w := range tt.want {
				path, msg, _ := strings.Cut(w, ": ")
				if i >= len(ce.Problems) || ce.Problems[i].Path != path || !strings.Contains(ce.Problems[i].Message, msg) {
					t.Errorf("problem %d: want %s\n%s", i, w, problems(ce))
				}
			}
			if _, err := mapping.Compile(tt.cfg, phone.E164); err == nil && tt.funnel == nil {
				t.Error("Compile accepted a mapping Validate refuses")
			}
		})
	}
}

func problems(ce *mapping.ConfigError) string {
	var b strings.Builder
	for _, p := range ce.Problems {
		b.WriteString("  " + p.Path + ": " + p.Message + "\n")
	}
	return b.String()
}

func TestParse(t *testing.T) {
	if _, err := mapping.Parse([]byte(`{"version":1,"required":{},"optionals":[]}`)); err == nil {
		t.Error("Parse accepted an unknown key")
	}
	if _, err := mapping.Parse([]byte(`{"version":1} {}`)); err == nil {
		t.Error("Parse accepted data after the document")
	}
	c, err := mapping.Parse([]byte(`{"version":1,"required":{"email":{"source":"contact.email"}},"keep_unmapped":false}`))
	if err != nil || c.Required.Email.Source != "contact.email" || c.KeepUnmapped == nil || *c.KeepUnmapped {
		t.Errorf("Parse = %+v, %v", c, err)
	}
}

func TestCatalogue(t *testing.T) {
	cat := mapping.Catalogue()
	ids := map[string]mapping.Target{}
	for _, tg := range cat {
		if _, dup := ids[tg.ID]; dup {
			t.Errorf("target %s twice", tg.ID)
		}
		if tg.Description == "" || tg.Label == "" {
			t.Errorf("target %s lacks a label or description", tg.ID)
		}
		ids[tg.ID] = tg
	}
	for _, want := range []string{"first_name", "last_name", "email", "message", "application_date", "tags", "recruiting_channel_id",
		"external_posting_id", "phase", "phone", "gender", "birthday", "location", "available_from", "salary_expectations",
		"custom_attribute_{id}", "file:cv", "file:cover-letter", "file:employment-reference", "file:certificate", "file:work-sample", "file:other"} {
		if _, ok := ids[want]; !ok {
			t.Errorf("the catalogue lacks %s", want)
		}
	}
	if g := ids["gender"]; !slices.Equal(g.Values, []string{"male", "female", "diverse", "undefined"}) {
		t.Errorf("gender values = %v", g.Values)
	}
	ids["gender"].Values[0] = "changed"
	if g := mapping.Catalogue(); g[10].ID != "gender" || g[10].Values[0] != "male" {
		t.Error("Catalogue returns shared state")
	}
}

// TestCompileNeedsPhoneFormat: a mapping compiled to be applied formats
// phone numbers, so Compile refuses to go without the format.
func TestCompileNeedsPhoneFormat(t *testing.T) {
	var ce *mapping.ConfigError
	if _, err := mapping.Compile(mapping.DefaultConfig(), nil); err == nil || errors.As(err, &ce) {
		t.Errorf("Compile without a phone format = %v; want an error that is not a *ConfigError", err)
	}
}

// TestFailedTargets: the required targets an Apply error names are read
// back from its text, as a delivery record keeps it.
func TestFailedTargets(t *testing.T) {
	cfg := mapping.Config{Version: mapping.Version, Required: mapping.Required{
		FirstName: mapping.Rule{Source: "contact.first_name"}, LastName: mapping.Rule{Source: "contact.last_name"},
		Email: mapping.Rule{Source: "answers.q_mail"}}}
	tests := []struct {
		name    string
		contact application.Contact
		answer  string
		want    []string
	}{
		{"e-mail not an address", application.Contact{FirstName: "A", LastName: "B"}, "no address", []string{"email"}},
		{"names blank", application.Contact{}, "a@example.com", []string{"first_name", "last_name"}},
		{"all three", application.Contact{}, "", []string{"first_name", "last_name", "email"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := &application.Event{Contact: tt.contact}
			if tt.answer != "" {
				ev.Answers = []application.Answer{{FieldID: "q_mail", Type: application.TypeText, Value: application.StringValue(tt.answer)}}
			}
			_, err := mapping.Apply(ev, cfg, func(s, _ string) (string, bool) { return s, false }, mapping.Options{JobPositionID: 1})
			if err == nil {
				t.Fatal("applied")
			}
			if got := mapping.FailedTargets(err.Error()); !slices.Equal(got, tt.want) {
				t.Errorf("FailedTargets(%q) = %q, want %q", err.Error(), got, tt.want)
			}
		})
	}
	if got := mapping.FailedTargets("mapping: invalid: optional[0].source: no"); got != nil {
		t.Errorf("a validation error names %q", got)
	}
}
