package loadtest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
)

// Routed runs: Config.Routed lists job positions of each company; the
// first is the integration's default, the others its routing table's,
// each picked by an answer of its own ("Position 1003"). Event k answers
// with the k-th of "Other" (not in the table: the default) and the
// routed positions' answers in turn, so the events spread evenly over
// every position, the budget being the company's whatever the position.

// routedPositions are the sandbox positions of a routed run (none for
// another run).
func routedPositions(cfg Config) []sandbox.Position {
	var out []sandbox.Position
	for _, p := range cfg.Routed {
		out = append(out, sandbox.Position{ID: p, Name: "Load " + strconv.FormatInt(p, 10), Published: true})
	}
	return out
}

// routingMember is the integration body's position_routing member of a
// routed run ("" for another run), after a comma.
func routingMember(cfg Config) string {
	if len(cfg.Routed) < 2 {
		return ""
	}
	positions := ""
	for i, p := range cfg.Routed[1:] {
		if i > 0 {
			positions += ","
		}
		positions += fmt.Sprintf(`%q:%d`, routedAnswer(p), p)
	}
	return `,"position_routing":{"source":"answers.q_position","positions":{` + positions + `}}`
}

// routedAnswers is event k's answers member of a routed run ("" for
// another run), after a comma.
func routedAnswers(cfg Config, k int) string {
	if len(cfg.Routed) < 2 {
		return ""
	}
	answer := "Other"
	if i := k % len(cfg.Routed); i > 0 {
		answer = routedAnswer(cfg.Routed[i])
	}
	return fmt.Sprintf(`,"answers":[{"field_id":"q_position","label":"Position","type":"choice","value":%q}]`, answer)
}

func routedAnswer(position int64) string { return "Position " + strconv.FormatInt(position, 10) }

// perPosition counts the sandbox's applications by job position.
func perPosition(sb *sandbox.Sandbox) map[string]int {
	out := map[string]int{}
	for _, a := range sb.Applications("") {
		out[strconv.FormatInt(a.Application.JobPositionID, 10)]++
	}
	return out
}

// PerPositionText says the applications per position in words, by
// position ("1001: 20, 1003: 20, 1004: 20").
func PerPositionText(per map[string]int) string {
	keys := make([]string, 0, len(per))
	for k := range per {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+": "+strconv.Itoa(per[k]))
	}
	return strings.Join(parts, ", ")
}
