package application

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// SchemaV1 is the JSON Schema of version 1 of the event, as served to the
// funnel platform's developers.
//
//go:embed schema/application-event.v1.json
var SchemaV1 []byte

// SchemaV1ID is the $id of SchemaV1.
const SchemaV1ID = "https://funnel-personio.local/schemas/application-event.v1.json"

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// compiled is SchemaV1 compiled, with the English printer its problems
// are worded with; both at the first event, not at init.
type compiled struct {
	root    *schemaNode
	printer *message.Printer
}

var schema = sync.OnceValues(func() (compiled, error) {
	doc, err := decodeJSON(bytes.NewReader(SchemaV1))
	if err != nil {
		return compiled{}, fmt.Errorf("application: schema: %w", err)
	}
	root, err := compileSchema(doc)
	if err != nil {
		return compiled{}, fmt.Errorf("application: schema: %w", err)
	}
	return compiled{root: root, printer: message.NewPrinter(language.English)}, nil
})

// Problem is one reason an event is invalid: where (a JSON path such as
// $.answers[2].value) and what.
type Problem struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// ValidationError lists every problem of an invalid event. It is
// permanent: the same event will never be valid.
type ValidationError struct {
	// TooLarge is set when the event is over MaxEventSize; nothing else
	// was checked.
	TooLarge bool
	Problems []Problem
}

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Problems))
	for _, p := range e.Problems {
		parts = append(parts, p.Path+": "+p.Message)
	}
	return "application: invalid event: " + strings.Join(parts, "; ")
}

// Retryable returns false.
func (e *ValidationError) Retryable() bool { return false }

// Parse validates an event against the schema and decodes it. An invalid
// event is a *ValidationError with every problem, sorted by path.
func Parse(body []byte) (*Event, error) {
	if len(body) > MaxEventSize {
		return nil, &ValidationError{TooLarge: true, Problems: []Problem{{Path: "$",
			Message: fmt.Sprintf("the event is %d bytes; at most %d are accepted (send files by URL)", len(body), MaxEventSize)}}}
	}
	sch, err := schema()
	if err != nil {
		return nil, err
	}
	doc, err := decodeJSON(bytes.NewReader(body))
	if err != nil {
		return nil, &ValidationError{Problems: []Problem{{Path: "$", Message: "not valid JSON: " + err.Error()}}}
	}
	c := &checker{p: sch.printer}
	c.check(sch.root, doc, nil)
	problems := c.problems
	problems = append(problems, duplicateFields(doc)...)
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b Problem) int { return strings.Compare(a.Path, b.Path) })
		problems = slices.Compact(problems)
		return nil, &ValidationError{Problems: problems}
	}
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, &ValidationError{Problems: []Problem{{Path: "$", Message: err.Error()}}}
	}
	return &ev, nil
}

// duplicateFields reports answers that repeat a field_id: a mapping could
// not tell them apart.
func duplicateFields(doc any) []Problem {
	obj, _ := doc.(map[string]any)
	answers, _ := obj["answers"].([]any)
	seen := map[string]int{}
	var out []Problem
	for i, a := range answers {
		m, _ := a.(map[string]any)
		id, ok := m["field_id"].(string)
		if !ok {
			continue
		}
		if first, dup := seen[id]; dup {
			out = append(out, Problem{Path: jsonPath([]string{"answers", strconv.Itoa(i), "field_id"}),
				Message: fmt.Sprintf("field_id %q repeats answers[%d]; every answer needs its own field_id", id, first)})
			continue
		}
		seen[id] = i
	}
	return out
}

// jsonPath renders an instance location as $.a.b[2]["odd key"].
func jsonPath(tokens []string) string {
	var sb strings.Builder
	sb.WriteByte('$')
	for i, t := range tokens {
		if _, err := strconv.Atoi(t); err == nil && i > 0 && (tokens[i-1] == "answers" || tokens[i-1] == "files" || isIndex(tokens, i-1)) {
			sb.WriteString("[" + t + "]")
			continue
		}
		if identRE.MatchString(t) {
			sb.WriteString("." + t)
			continue
		}
		sb.WriteString("[" + strconv.Quote(t) + "]")
	}
	return sb.String()
}

func isIndex(tokens []string, i int) bool {
	// value lists: answers[n].value[m]
	return i >= 0 && tokens[i] == "value"
}
