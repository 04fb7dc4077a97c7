package routing_test

import (
	"encoding/json"
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/routing"
)

var table = &routing.Table{Source: "answers.q_position", Positions: map[string]int64{
	"Office Manager": 1001, "Sales Manager (Hamburg)": 1003, "Trainee": 1004}}

// event is an event with the answers; pick reads the table's question's
// answer from it as the worker does.
func event(answers ...application.Answer) *application.Event {
	return &application.Event{ID: "evt_1", Answers: answers}
}

func answer(field string, v application.Value) application.Answer {
	return application.Answer{FieldID: field, Type: application.TypeChoice, Value: v}
}

func pick(t *routing.Table, ev *application.Event, def int64) routing.Choice {
	var items []string
	if t != nil {
		if a, ok := ev.Answer(t.Field()); ok {
			items = a.Value.Items()
		}
	}
	return routing.Pick(t, items, def)
}

func TestPick(t *testing.T) {
	const def = 1002
	for _, tc := range []struct {
		name   string
		table  *routing.Table
		ev     *application.Event
		want   int64
		reason string
	}{
		{"exact label", table, event(answer("q_position", application.StringValue("Sales Manager (Hamburg)"))), 1003, "answer 'Sales Manager (Hamburg)' of q_position"},
		{"trimmed, other case", table, event(answer("q_position", application.StringValue("  sales MANAGER (hamburg) "))), 1003, "answer 'Sales Manager (Hamburg)' of q_position"},
		{"inner spaces count", table, event(answer("q_position", application.StringValue("Sales  Manager (Hamburg)"))), def, "default position"},
		{"unknown answer", table, event(answer("q_position", application.StringValue("Astronaut"))), def, "default position"},
		{"no answer", table, event(answer("q_other", application.StringValue("Trainee"))), def, "default position"},
		{"null answer", table, event(answer("q_position", application.Value{})), def, "default position"},
		{"blank answer", table, event(answer("q_position", application.StringValue("  "))), def, "default position"},
		{"several choices: first with a position", table, event(answer("q_position", application.ListValue([]string{"Astronaut", "trainee", "Office Manager"}))), 1004, "answer 'Trainee' of q_position"},
		{"several choices, none known", table, event(answer("q_position", application.ListValue([]string{"Astronaut", ""}))), def, "default position"},
		{"a number answer", &routing.Table{Source: "answers.q_store", Positions: map[string]int64{"12": 1005}}, event(answer("q_store", application.NumberValue("12"))), 1005, "answer '12' of q_store"},
		{"no table", nil, event(answer("q_position", application.StringValue("Trainee"))), def, "default position"},
		{"source that is no answer", &routing.Table{Source: "tracking.utm_source", Positions: map[string]int64{"Trainee": 1004}}, event(answer("q_position", application.StringValue("Trainee"))), def, "default position"},
		{"alike answers: the first in order", &routing.Table{Source: "answers.q", Positions: map[string]int64{"sales": 7, "Sales": 8}}, event(answer("q", application.StringValue("SALES"))), 8, "answer 'Sales' of q"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := pick(tc.table, tc.ev, def)
			if c.Position != tc.want || c.Reason() != tc.reason {
				t.Fatalf("Pick = %d (%s), want %d (%s)", c.Position, c.Reason(), tc.want, tc.reason)
			}
			if c.Routed() != (tc.reason != "default position") {
				t.Fatalf("Routed() = %v for %q", c.Routed(), c.Reason())
			}
		})
	}
}

func TestTable(t *testing.T) {
	if got := table.Field(); got != "q_position" {
		t.Fatalf("Field = %q", got)
	}
	if got := (routing.Table{Source: "contact.email"}).Field(); got != "" {
		t.Fatalf("Field of a contact source = %q", got)
	}
	ids := (routing.Table{Positions: map[string]int64{"a": 3, "b": 1, "c": 3}}).PositionIDs()
	if len(ids) != 2 || ids[0] != 1 || ids[1] != 3 {
		t.Fatalf("PositionIDs = %v, want [1 3]", ids)
	}
	if !table.Has(1003) || table.Has(1002) {
		t.Fatal("Has: 1003 is in the table, 1002 is not")
	}
}

// FuzzPick sends any answer through any table: the pick is the default or
// one of the table's positions, an answer's position only when the answer
// matches it, and never depends on the map's order.
func FuzzPick(f *testing.F) {
	f.Add("Sales Manager (Hamburg)", " sales manager (hamburg)", `"x"`)
	f.Add("Trainee", "", `["a","trainee"]`)
	f.Add("", " ", `null`)
	f.Fuzz(func(t *testing.T, key, other, raw string) {
		var v application.Value
		if json.Unmarshal([]byte(raw), &v) != nil {
			v = application.StringValue(raw)
		}
		tb := &routing.Table{Source: "answers.q", Positions: map[string]int64{key: 11, other: 12}}
		ev := event(answer("q", v))
		c := pick(tb, ev, 10)
		for range 3 {
			if again := pick(tb, ev, 10); again != c {
				t.Fatalf("Pick changed: %v then %v", c, again)
			}
		}
		switch c.Position {
		case 10:
			if c.Routed() {
				t.Fatalf("default, yet routed: %v", c)
			}
		case 11, 12:
			if tb.Positions[c.Answer] != c.Position {
				t.Fatalf("answer %q does not send to %d", c.Answer, c.Position)
			}
			matched := false
			for _, item := range v.Items() {
				matched = matched || routing.Key(item) == routing.Key(c.Answer)
			}
			if !matched || routing.Key(c.Answer) == "" {
				t.Fatalf("picked %v for answers %q", c, v.Items())
			}
		default:
			t.Fatalf("Pick = %d, neither the default nor the table's", c.Position)
		}
	})
}
