package application

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// library is SchemaV1 compiled by santhosh-tekuri/jsonschema, the
// general validator Parse used before it had its own: the reference
// the differential tests hold this package's validator to.
var library = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(SchemaV1))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(SchemaV1ID, doc); err != nil {
		return nil, err
	}
	return c.Compile(SchemaV1ID)
})

var libraryPrinter = message.NewPrinter(language.English)

// libraryProblems are the library's problems with body, worded as Parse
// worded them; ok is false when body is not JSON.
func libraryProblems(t testing.TB, body []byte) (problems []Problem, ok bool) {
	sch, err := library()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return []Problem{{Path: "$", Message: "not valid JSON: " + err.Error()}}, false
	}
	if err := sch.Validate(doc); err != nil {
		ve, isVE := err.(*jsonschema.ValidationError)
		if !isVE {
			t.Fatalf("library: %v", err)
		}
		problems = leaves(ve, nil)
	}
	return tidy(problems), true
}

// leaves collects the innermost errors, where the schema says what is
// wrong with one value.
func leaves(e *jsonschema.ValidationError, out []Problem) []Problem {
	if len(e.Causes) == 0 {
		return append(out, libraryProblem(e)...)
	}
	for _, c := range e.Causes {
		out = leaves(c, out)
	}
	return out
}

// libraryProblem words one error of the library as Parse did.
func libraryProblem(e *jsonschema.ValidationError) []Problem {
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
	return []Problem{{Path: jsonPath(e.InstanceLocation), Message: e.ErrorKind.LocalizedString(libraryPrinter)}}
}

// ownProblems are this package's validator's problems with body.
func ownProblems(t testing.TB, body []byte) []Problem {
	sch, err := schema()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := decodeJSON(bytes.NewReader(body))
	if err != nil {
		return []Problem{{Path: "$", Message: "not valid JSON: " + err.Error()}}
	}
	c := &checker{p: sch.printer}
	c.check(sch.root, doc, nil)
	return tidy(c.problems)
}

// tidy sorts problems by path, as Parse does, and drops repeats.
func tidy(p []Problem) []Problem {
	slices.SortStableFunc(p, func(a, b Problem) int { return strings.Compare(a.Path, b.Path) })
	return slices.Compact(p)
}

func agree(t testing.TB, body []byte) {
	t.Helper()
	want, _ := libraryProblems(t, body)
	got := ownProblems(t, body)
	if !slices.Equal(got, want) {
		t.Errorf("the validators disagree on\n%s\nown:     %q\nlibrary: %q", truncate(body), got, want)
	}
}

func truncate(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + fmt.Sprintf("… (%d bytes)", len(b))
	}
	return string(b)
}

// base is the sample event with every answer type.
func base(t testing.TB) map[string]any {
	b, err := os.ReadFile("testdata/valid/every_answer_type.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := decodeJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return doc.(map[string]any)
}

// edits are hand-made events that break each keyword of the schema, as
// edits of the sample at a path ("answers.0.value"; a value of del
// deletes).
var del = struct{}{}

var edits = []struct {
	path  string
	value any
}{
	{"type", "application.created"}, {"type", json.Number("1")}, {"id", "event-1"}, {"id", "evt_" + strings.Repeat("x", 121)},
	{"occurred_at", "yesterday"}, {"occurred_at", "2026-11-27 09:15:00Z"}, {"occurred_at", "2026-13-27T09:15:00Z"},
	{"occurred_at", "2026-11-27T25:15:00Z"}, {"occurred_at", "2026-11-27T09:15:00.Z"}, {"occurred_at", "2026-11-27T09:15:00+0100"},
	{"occurred_at", "2026-11-27T09:15:00*01:00"}, {"occurred_at", "2026-11-27T09:15:00+01-00"}, {"occurred_at", "2026-11-27T09:15:00+24:00"},
	{"occurred_at", "2026-11-27T23:59:60Z"}, {"occurred_at", "2026-11-27T22:59:60Z"}, {"occurred_at", "2026-11-28T00:59:60+01:00"},
	{"occurred_at", "2026-11-27t09:15:00z"}, {"occurred_at", "2026-11-27T0a:15:00Z"}, {"occurred_at", "2026-11-27T09:15:-1Z"},
	{"occurred_at", json.Number("1795774500")}, {"workspace_id", "ws demo"}, {"workspace_id", nil}, {"funnel_id", del},
	{"test", "yes"}, {"contact", "Ada"}, {"contact.fax", "1"}, {"contact.first_name", json.Number("1")},
	{"contact.full_name", strings.Repeat("ü", 512)}, {"contact.email", strings.Repeat("a", 321)},
	{"answers", "none"}, {"answers.0", "x"}, {"answers.0.type", "rating"}, {"answers.0.type", del}, {"answers.0.field_id", del},
	{"answers.0.field_id", "q 1"}, {"answers.0.value", true}, {"answers.0.value", strings.Repeat("x", 65537)},
	{"answers.0.label", strings.Repeat("l", 501)}, {"answers.0.extra", 1},
	{"files", map[string]any{}}, {"files.0.url", "ftp://files.example/cv.pdf"}, {"files.0.url", "/cv.pdf"},
	{"files.0.url", "http://fe80::1/cv.pdf"}, {"files.0.url", "http://[fe80::1%25en0]/cv.pdf"}, {"files.0.url", "http://[::1]/cv.pdf"},
	{"files.0.url", "http://%zz/"}, {"files.0.url", "https://x.example/" + strings.Repeat("p", 2040)}, {"files.0.filename", ""},
	{"files.0.size", json.Number("-1")}, {"files.0.size", json.Number("-1234.5")}, {"files.0.size", json.Number("1.5")},
	{"files.0.size", json.Number("2.0")}, {"files.0.size", json.Number("1e3")}, {"files.0.size", "12"}, {"files.0.data", "JVBER"},
	{"files.0.url", del}, {"tracking", []any{}}, {"tracking.utm source", "x"}, {"tracking.ok", json.Number("1")},
	{"tracking.k", strings.Repeat("v", 2049)},
}

// edit sets (or deletes) the value at a dotted path of doc.
func edit(doc any, path string, value any) {
	parts := strings.Split(path, ".")
	cur := doc
	for i, p := range parts {
		last := i == len(parts)-1
		switch c := cur.(type) {
		case map[string]any:
			if last {
				if value == del {
					delete(c, p)
				} else {
					c[p] = value
				}
				return
			}
			cur = c[p]
		case []any:
			var n int
			fmt.Sscan(p, &n)
			if n >= len(c) {
				return
			}
			if last {
				c[n] = value
				return
			}
			cur = c[n]
		default:
			return
		}
	}
}

func encode(t testing.TB, doc any) []byte {
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCheckAgreesWithJSONSchema holds this package's validator to the
// general one, problem for problem: on the samples, on an edit that
// breaks each keyword, on sizes past each limit, and on 3,000 random
// edits of the sample (a fixed seed).
func TestCheckAgreesWithJSONSchema(t *testing.T) {
	files, _ := filepath.Glob("testdata/*/*.json")
	for _, f := range files {
		if strings.HasSuffix(f, ".problems.json") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		agree(t, b)
	}
	for _, e := range edits {
		doc := base(t)
		edit(doc, e.path, e.value)
		agree(t, encode(t, doc))
	}
	// Past each count limit.
	many := func(n int, item func(i int) any) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = item(i)
		}
		return out
	}
	doc := base(t)
	doc["answers"] = many(201, func(i int) any {
		return map[string]any{"field_id": fmt.Sprintf("q%d", i), "type": "multi_choice", "value": many(101, func(int) any { return "x" })}
	})
	doc["files"] = many(101, func(i int) any {
		return map[string]any{"field_id": "f", "url": "https://x.example/a.pdf", "filename": "a.pdf"}
	})
	tracking := map[string]any{}
	for i := range 51 {
		tracking[fmt.Sprintf("k%d", i)] = "v"
	}
	doc["tracking"] = tracking
	agree(t, encode(t, doc))
	for _, body := range []string{`[]`, `"x"`, `null`, `1`, `{}`, `{"a":1} {}`, `{`, ``} {
		agree(t, []byte(body))
	}
	// Random edits: values of every type, at paths of the sample.
	rng := rand.New(rand.NewPCG(18, 4))
	values := []any{nil, true, false, json.Number("0"), json.Number("-1"), json.Number("1.5"), json.Number("1e2"), "", "x",
		"evt_1", "text", "multi_choice", "consent", "number", "file", "choice", "2026-11-27T09:15:00Z", "2026-11-27",
		"https://x.example/a", "mailto:a@b", "ü", []any{}, []any{"a", json.Number("1")}, map[string]any{}, map[string]any{"url": "x"}}
	var paths []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		if prefix != "" {
			paths = append(paths, prefix)
		}
		join := func(k string) string {
			if prefix == "" {
				return k
			}
			return prefix + "." + k
		}
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				walk(join(k), c)
			}
			paths = append(paths, join("extra"))
		case []any:
			for i, c := range v {
				walk(join(fmt.Sprint(i)), c)
			}
		}
	}
	walk("", base(t))
	slices.Sort(paths)
	for range 3000 {
		doc := base(t)
		for range 1 + rng.IntN(3) {
			p := paths[rng.IntN(len(paths))]
			if rng.IntN(8) == 0 {
				edit(doc, p, del)
				continue
			}
			edit(doc, p, values[rng.IntN(len(values))])
		}
		agree(t, encode(t, doc))
		if t.Failed() {
			return
		}
	}
}

// FuzzCheck holds the two validators together on any input (go test
// -fuzz FuzzCheck ./pkg/application).
func FuzzCheck(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.json")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > MaxEventSize {
			return
		}
		agree(t, body)
	})
}

// TestCompileSchemaRefusesUnknownKeywords: a schema that grows a keyword
// this validator does not check fails at compile, not silently.
func TestCompileSchemaRefusesUnknownKeywords(t *testing.T) {
	tests := []struct {
		name, schema string
	}{
		{"uniqueItems", `{"type": "array", "uniqueItems": true}`},
		{"nested", `{"properties": {"a": {"oneOf": [{"type": "string"}]}}}`},
		{"format", `{"format": "email"}`},
		{"additionalProperties schema", `{"additionalProperties": {"type": "string"}}`},
		{"remote ref", `{"$ref": "https://example.com/s.json"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := decodeJSON(strings.NewReader(tt.schema))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := compileSchema(doc); err == nil {
				t.Errorf("compileSchema(%s) accepted it", tt.schema)
			}
		})
	}
}

// BenchmarkCompileSchema is what the first event pays to compile the
// schema with this package's validator.
func BenchmarkCompileSchema(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		doc, err := decodeJSON(bytes.NewReader(SchemaV1))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := compileSchema(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileSchemaLibrary is the same with the general validator,
// as Parse compiled it before (its metaschemas, compiled at its init, not
// counted).
func BenchmarkCompileSchemaLibrary(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(SchemaV1))
		if err != nil {
			b.Fatal(err)
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat()
		if err := c.AddResource(SchemaV1ID, doc); err != nil {
			b.Fatal(err)
		}
		if _, err := c.Compile(SchemaV1ID); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidate checks the sample with every answer type against the
// compiled schema: this package's validator (own) and the general one
// (library), JSON decoding included.
func BenchmarkValidate(b *testing.B) {
	body, err := os.ReadFile("testdata/valid/every_answer_type.json")
	if err != nil {
		b.Fatal(err)
	}
	for _, v := range []struct {
		name     string
		problems func(testing.TB, []byte) []Problem
	}{
		{"own", ownProblems},
		{"library", func(t testing.TB, body []byte) []Problem { p, _ := libraryProblems(t, body); return p }},
	} {
		b.Run(v.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if p := v.problems(b, body); len(p) != 0 {
					b.Fatal(p)
				}
			}
		})
	}
}
