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

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
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

var (
	compileOnce sync.Once
	compiled    *jsonschema.Schema
	compileErr  error
	printer     = message.NewPrinter(language.English)
	identRE     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func schema() (*jsonschema.Schema, error) {
	compileOnce.Do(func() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(SchemaV1))
		if err != nil {
			compileErr = fmt.Errorf("application: schema: %w", err)
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource(SchemaV1ID, doc); err != nil {
			compileErr = fmt.Errorf("application: schema: %w", err)
			return
		}
		compiled, compileErr = c.Compile(SchemaV1ID)
	})
	return compiled, compileErr
}

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
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return nil, &ValidationError{Problems: []Problem{{Path: "$", Message: "not valid JSON: " + err.Error()}}}
	}
	var problems []Problem
	if err := sch.Validate(doc); err != nil {
		ve, ok := err.(*jsonschema.ValidationError)
		if !ok {
			return nil, fmt.Errorf("application: validate: %w", err)
		}
		problems = leaves(ve, problems)
	}
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

// leaves collects the innermost errors, where the schema says what is
// wrong with one value.
func leaves(e *jsonschema.ValidationError, out []Problem) []Problem {
	if len(e.Causes) == 0 {
		return append(out, problems(e)...)
	}
	for _, c := range e.Causes {
		out = leaves(c, out)
	}
	return out
}

// problems words one schema error; missing and unknown properties get a
// problem each, at the property's own path.
func problems(e *jsonschema.ValidationError) []Problem {
	at := func(name string) string {
		return jsonPath(append(slices.Clone(e.InstanceLocation), name))
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		out := make([]Problem, 0, len(k.Missing))
		for _, m := range k.Missing {
			out = append(out, Problem{Path: at(m), Message: "is required"})
		}
		return out
	case *kind.AdditionalProperties:
		msg := "is not a field of this object in schema v1"
		if len(e.InstanceLocation) == 2 && e.InstanceLocation[0] == "files" {
			msg = "is not a field of a file: files are sent by URL, never inline"
		}
		out := make([]Problem, 0, len(k.Properties))
		for _, p := range k.Properties {
			out = append(out, Problem{Path: at(p), Message: msg})
		}
		return out
	case *kind.Type:
		return []Problem{{Path: jsonPath(e.InstanceLocation), Message: "must be " + kindsInWords(k.Want) + "; it is " + kindsInWords([]string{k.Got})}}
	case *kind.MinLength:
		msg := fmt.Sprintf("must be at least %d characters long; it has %d", k.Want, k.Got)
		if k.Want == 1 {
			msg = "must not be empty"
		}
		return []Problem{{Path: jsonPath(e.InstanceLocation), Message: msg}}
	}
	return []Problem{{Path: jsonPath(e.InstanceLocation), Message: e.ErrorKind.LocalizedString(printer)}}
}

// kindsInWords names JSON types as a person would: "a string", "null or
// a number".
func kindsInWords(types []string) string {
	words := map[string]string{"string": "a string", "number": "a number", "integer": "a whole number", "boolean": "true or false",
		"object": "an object", "array": "a list", "null": "null"}
	out := make([]string, 0, len(types))
	for _, t := range types {
		if w, ok := words[t]; ok {
			t = w
		}
		out = append(out, t)
	}
	if len(out) > 1 {
		return strings.Join(out[:len(out)-1], ", ") + " or " + out[len(out)-1]
	}
	return strings.Join(out, "")
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
