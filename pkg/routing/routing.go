// Package routing picks an application's job position from the
// applicant's answer: a funnel asks "Which position are you interested
// in?", and the integration's table sends each answer to its position,
// every other answer (or none) to the integration's own position, the
// default. The worker picks with it per event; the editor checks a table
// with it when an integration is saved.
package routing

import (
	"slices"
	"strconv"
	"strings"
)

// SourcePrefix is what a table's source starts with: the question's
// answer, answers.<field_id>.
const SourcePrefix = "answers."

// Table is an integration's position routing: the question whose answer
// picks the position, and the position of each answer. It is stored with
// the integration as it is sent.
type Table struct {
	// Source is answers.<field_id>, the question that picks.
	Source string `json:"source" dynamodbav:"source"`
	// Positions maps an answer, as the funnel sends it (an option's
	// label), to a Personio job position id.
	Positions map[string]int64 `json:"positions" dynamodbav:"positions"`
}

// Field is the id of the question the table reads ("" when the source
// names no answer).
func (t Table) Field() string {
	id, ok := strings.CutPrefix(t.Source, SourcePrefix)
	if !ok {
		return ""
	}
	return id
}

// PositionIDs lists the table's positions, each once, in order.
func (t Table) PositionIDs() []int64 {
	ids := make([]int64, 0, len(t.Positions))
	for _, p := range t.Positions {
		ids = append(ids, p)
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Has reports whether the table sends some answer to position.
func (t Table) Has(position int64) bool {
	for _, p := range t.Positions {
		if p == position {
			return true
		}
	}
	return false
}

// Key is the form in which answers are matched: trimmed, in lower case
// (exact otherwise: inner spaces and punctuation count).
func Key(answer string) string { return strings.ToLower(strings.TrimSpace(answer)) }

// Choice is the position picked for one application, and why.
type Choice struct {
	// Position is the job position the application goes to.
	Position int64
	// Answer is the table's answer that picked it ("" for the default).
	Answer string
	// Field is the question whose answer picked it ("" for the default).
	Field string
}

// Routed reports whether an answer picked the position (false: the
// default).
func (c Choice) Routed() bool { return c.Answer != "" }

// Reason says why the position was chosen, for the delivery record:
// "answer 'Sales Manager (Hamburg)' of q_position", or "default position".
// The answer is quoted as the customer's table spells it, never as the
// applicant typed it.
func (c Choice) Reason() string {
	if !c.Routed() {
		return "default position"
	}
	return "answer '" + c.Answer + "' of " + c.Field
}

// String is the position and why ("1003: answer 'Sales' of q_position").
func (c Choice) String() string { return strconv.FormatInt(c.Position, 10) + ": " + c.Reason() }

// Pick chooses an application's position from items, the answer's values
// to the table's question (one, or a multiple choice's several; none when
// the applicant gave no answer): the table's position of the first item
// that matches an answer by Key, or def when the table is nil or no item
// matches.
func Pick(t *Table, items []string, def int64) Choice {
	if t == nil || t.Field() == "" {
		return Choice{Position: def}
	}
	for _, item := range items {
		k := Key(item)
		if k == "" {
			continue
		}
		if answer, p, ok := t.lookup(k); ok {
			return Choice{Position: p, Answer: answer, Field: t.Field()}
		}
	}
	return Choice{Position: def}
}

// lookup finds the table's entry whose answer has the key k: its answer
// as spelt in the table and its position. Of two entries with one key (a
// table Validate refuses), the one first in sort order wins, so that the
// pick never depends on a map's order.
func (t Table) lookup(k string) (string, int64, bool) {
	found := ""
	var position int64
	for answer, p := range t.Positions {
		if Key(answer) == k && (found == "" || answer < found) {
			found, position = answer, p
		}
	}
	return found, position, found != ""
}
