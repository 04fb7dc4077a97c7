package application_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/application"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func TestParseValid(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.json")
	if len(files) == 0 {
		t.Fatal("no valid samples")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			body, _ := os.ReadFile(f)
			ev, err := application.Parse(body)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			// What Parse decoded encodes to an event that parses to the same.
			again, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			ev2, err := application.Parse(again)
			if err != nil {
				t.Fatalf("re-encoded event does not parse: %v\n%s", err, again)
			}
			if again2, _ := json.Marshal(ev2); !bytes.Equal(again, again2) {
				t.Errorf("round trip differs:\n%s\n%s", again, again2)
			}
		})
	}
}

func TestEveryAnswerType(t *testing.T) {
	body, _ := os.ReadFile("testdata/valid/every_answer_type.json")
	ev, err := application.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[application.AnswerType]bool{}
	for _, a := range ev.Answers {
		seen[a.Type] = true
	}
	for _, typ := range application.AnswerTypes {
		if !seen[typ] {
			t.Errorf("the sample has no %s answer", typ)
		}
	}
	tests := []struct {
		field string
		text  string
		items []string
		empty bool
	}{
		{"q_years", "7", []string{"7"}, false},
		{"q_salary", "55.000", []string{"55.000"}, false},
		{"q_skills", "Go, AWS", []string{"Go", "AWS"}, false},
		{"q_privacy", "yes", []string{"yes"}, false},
		{"q_empty", "", nil, true},
	}
	for _, tt := range tests {
		a, ok := ev.Answer(tt.field)
		if !ok {
			t.Fatalf("no answer %s", tt.field)
		}
		if got := a.Value.Text(", "); got != tt.text || !slices.Equal(a.Value.Items(), tt.items) || a.Value.IsEmpty() != tt.empty {
			t.Errorf("%s: Text %q Items %q IsEmpty %v; want %q %q %v", tt.field, got, a.Value.Items(), a.Value.IsEmpty(), tt.text, tt.items, tt.empty)
		}
	}
	if ev.OccurredAt.UTC().Format("2006-01-02T15:04") != "2026-11-27T09:15" || ev.Tracking["utm_source"] != "indeed" || ev.Files[0].Size != 12345 {
		t.Errorf("decoded %+v", ev)
	}
}

// TestParseInvalid checks the problems of each invalid sample against
// testdata/invalid/<name>.problems.json (-update rewrites them).
func TestParseInvalid(t *testing.T) {
	files, _ := filepath.Glob("testdata/invalid/*.json")
	for _, f := range files {
		if strings.HasSuffix(f, ".problems.json") {
			continue
		}
		t.Run(filepath.Base(f), func(t *testing.T) {
			body, _ := os.ReadFile(f)
			_, err := application.Parse(body)
			var ve *application.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse = %v, want a *ValidationError", err)
			}
			if ve.Retryable() {
				t.Error("a validation error is retryable")
			}
			got, _ := json.MarshalIndent(ve.Problems, "", "  ")
			got = append(got, '\n')
			golden := strings.TrimSuffix(f, ".json") + ".problems.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -update writes it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("problems differ from %s:\n%s", golden, got)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	big := `{"type":"application.submitted","id":"evt_big","occurred_at":"2026-11-27T09:00:00Z","workspace_id":"w","funnel_id":"f","contact":{},"answers":[{"field_id":"q","type":"text","value":"` +
		strings.Repeat("x", application.MaxEventSize) + `"}]}`
	_, err := application.Parse([]byte(big))
	var ve *application.ValidationError
	if !errors.As(err, &ve) || !ve.TooLarge || !strings.Contains(ve.Problems[0].Message, fmt.Sprintf("at most %d", application.MaxEventSize)) {
		t.Errorf("oversized event: %v", err)
	}
	tests := []struct {
		name string
		body string
		path string
	}{
		{"file inline", `"files":[{"field_id":"q","url":"https://x.example/a.pdf","filename":"a.pdf","content":"JVBER"}]`, "$.files[0].content"},
		{"file without url", `"files":[{"field_id":"q","filename":"a.pdf"}]`, "$.files[0].url"},
		{"data url", `"files":[{"field_id":"q","url":"data:application/pdf;base64,JVBER","filename":"a.pdf"}]`, "$.files[0].url"},
		{"answer list of numbers", `"answers":[{"field_id":"q","type":"multi_choice","value":[1]}]`, "$.answers[0].value[0]"},
		{"consent as text", `"answers":[{"field_id":"q","type":"consent","value":"yes"}]`, "$.answers[0].value"},
		{"tracking number", `"tracking":{"utm_source":1}`, "$.tracking.utm_source"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"type":"application.submitted","id":"evt_x","occurred_at":"2026-11-27T09:00:00Z","workspace_id":"w","funnel_id":"f","contact":{},` + tt.body + `}`
			_, err := application.Parse([]byte(body))
			var ve *application.ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse = %v", err)
			}
			found := false
			for _, p := range ve.Problems {
				found = found || p.Path == tt.path
			}
			if !found {
				t.Errorf("no problem at %s in %+v", tt.path, ve.Problems)
			}
		})
	}
}

func TestSchemaIsServed(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(application.SchemaV1, &doc); err != nil || doc["$id"] != application.SchemaV1ID {
		t.Fatalf("schema $id = %v, %v", doc["$id"], err)
	}
}

func FuzzParse(f *testing.F) {
	for _, dir := range []string{"testdata/valid/*.json", "testdata/invalid/*.json"} {
		files, _ := filepath.Glob(dir)
		for _, p := range files {
			b, _ := os.ReadFile(p)
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ev, err := application.Parse(body)
		if err != nil {
			var ve *application.ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("Parse error %v is not a *ValidationError with problems", err)
			}
			return
		}
		again, err := json.Marshal(ev)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := application.Parse(again); err != nil {
			t.Fatalf("a valid event re-encodes to an invalid one: %v\n%s", err, again)
		}
	})
}
