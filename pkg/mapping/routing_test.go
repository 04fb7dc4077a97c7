package mapping_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/mapping"
	"github.com/funnel-personio/funnel-personio/pkg/routing"
)

func TestValidateRouting(t *testing.T) {
	funnel := &mapping.Funnel{Fields: []mapping.Field{
		{ID: "q_position", Type: application.TypeChoice, Choices: []string{"Office Manager", "Sales Manager (Hamburg)", "Other"}},
		{ID: "q_cv", Type: application.TypeFile},
		{ID: "q_city", Type: application.TypeText},
	}}
	good := map[string]int64{"Office Manager": 1001, " sales manager (hamburg)": 1003}
	for _, tc := range []struct {
		name   string
		table  routing.Table
		funnel *mapping.Funnel
		want   []string // member/answer: words in the message
	}{
		{"good", routing.Table{Source: "answers.q_position", Positions: good}, funnel, nil},
		{"good without the funnel", routing.Table{Source: "answers.q_unknown", Positions: good}, nil, nil},
		{"free text question", routing.Table{Source: "answers.q_city", Positions: map[string]int64{"Hamburg": 1003}}, funnel, nil},
		{"source no answer", routing.Table{Source: "contact.email", Positions: good}, funnel, []string{"source/: answers.<field_id>"}},
		{"source unparsable", routing.Table{Source: "answers.", Positions: good}, nil, []string{"source/: answers.<field_id>"}},
		{"no such question", routing.Table{Source: "answers.q_gone", Positions: good}, funnel, []string{`source/: no question "q_gone"`}},
		{"file question", routing.Table{Source: "answers.q_cv", Positions: good}, funnel, []string{"source/: is a file question"}},
		{"every problem at once", routing.Table{Source: "answers.q_position", Positions: map[string]int64{
			"Office Manager": 1001, "office manager ": 1002, "Astronaut": 1003, " ": 1004, "Other": 0}}, funnel, []string{
			"positions/ : must not be blank",
			"positions/Astronaut: none of the choices",
			"positions/Other: from 1 to",
			`positions/office manager : "Office Manager" and "office manager " match alike`,
		}},
		{"empty table", routing.Table{Source: "answers.q_position"}, funnel, []string{"positions/: at least one answer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, p := range mapping.ValidateRouting(tc.table, tc.funnel) {
				got = append(got, p.Member+"/"+p.Answer+": "+p.Message)
			}
			slices.Sort(got)
			if len(got) != len(tc.want) {
				t.Fatalf("problems %q, want %d like %q", got, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				prefix, words, _ := strings.Cut(w, ": ")
				if !strings.HasPrefix(got[i], prefix+": ") || !strings.Contains(got[i], words) {
					t.Errorf("problem %d = %q, want %q", i, got[i], w)
				}
			}
		})
	}
}
