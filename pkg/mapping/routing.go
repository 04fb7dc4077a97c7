package mapping

import (
	"fmt"
	"slices"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/routing"
)

// RoutingProblem is one thing wrong with a position routing table:
// Answer names the table's entry ("" for the table itself or its
// source), Member the member at fault ("source", "positions").
type RoutingProblem struct {
	Member  string
	Answer  string
	Message string
}

// routable lists the question types whose answer can pick a position.
var routable = []application.AnswerType{application.TypeChoice, application.TypeMultiChoice, application.TypeText}

// ValidateRouting checks a position routing table as it is saved and
// returns every problem at once: a source that is no answers.<field_id>,
// an empty table, a blank answer, two answers that match alike (after
// trimming, in any case), a position id below 1, and, when funnel is
// given, a source that names no question (or one whose answer cannot pick,
// such as a file) and answers that are none of the question's choices.
// Whether the positions exist is the caller's to check (it needs
// Personio).
func ValidateRouting(t routing.Table, funnel *Funnel) []RoutingProblem {
	var out []RoutingProblem
	add := func(member, answer, format string, args ...any) {
		out = append(out, RoutingProblem{Member: member, Answer: answer, Message: fmt.Sprintf(format, args...)})
	}
	field := t.Field()
	src, problem := parseSource(t.Source)
	var question *Field
	switch {
	case problem != "" || src.kind != srcAnswer:
		add("source", "", "source must be answers.<field_id>, the question whose answer picks the position")
		field = ""
	case funnel != nil:
		q, ok := funnel.field(field)
		if !ok {
			add("source", "", "the funnel has no question %q", field)
		} else if !slices.Contains(routable, q.Type) {
			add("source", "", "question %q is a %s question; a choice, multiple choice or text question picks a position", field, q.Type)
		} else {
			question = q
		}
	}
	if len(t.Positions) == 0 {
		add("positions", "", "positions needs at least one answer and its job position")
	}
	seen := map[string]string{}
	answers := make([]string, 0, len(t.Positions))
	for a := range t.Positions {
		answers = append(answers, a)
	}
	slices.Sort(answers)
	for _, a := range answers {
		k := routing.Key(a)
		switch other, dup := seen[k]; {
		case k == "":
			add("positions", a, "an answer must not be blank")
		case dup:
			add("positions", a, "the answers %q and %q match alike (case and surrounding spaces do not count); keep one", other, a)
		case question != nil && len(question.Choices) > 0 && !hasChoice(question.Choices, k):
			add("positions", a, "%q is none of the choices of question %q", a, field)
		}
		seen[k] = a
		if t.Positions[a] < 1 {
			add("positions", a, "a job position id is a whole number from 1 to 9223372036854775807")
		}
	}
	return out
}

// hasChoice reports whether one of choices matches the key k.
func hasChoice(choices []string, k string) bool {
	return slices.ContainsFunc(choices, func(c string) bool { return routing.Key(c) == k })
}
