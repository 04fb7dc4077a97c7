package mapping_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/dev/sandbox/sandboxtest"
	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/mapping"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/phone"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// now is the clock of every golden case.
var now = time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC)

var opts = mapping.Options{JobPositionID: 1001, Now: now}

// goldenCase is one testdata/golden/<name>.event.json with its mapping
// (<name>.mapping.json, or the default mapping) and its expected outcome
// (<name>.golden.json).
type goldenCase struct {
	name    string
	event   *application.Event
	mapping mapping.Config
}

func loadCases(t *testing.T) []goldenCase {
	t.Helper()
	events, err := filepath.Glob("testdata/golden/*.event.json")
	if err != nil || len(events) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	var out []goldenCase
	for _, path := range events {
		name := strings.TrimSuffix(filepath.Base(path), ".event.json")
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := application.Parse(body)
		if err != nil {
			t.Fatalf("%s: the event is not valid: %v", name, err)
		}
		cfg := mapping.DefaultConfig()
		if data, err := os.ReadFile(filepath.Join("testdata/golden", name+".mapping.json")); err == nil {
			c, err := mapping.Parse(data)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			cfg = *c
		}
		out = append(out, goldenCase{name: name, event: ev, mapping: cfg})
	}
	return out
}

// outcome is what a golden file holds: the result, or the error.
type outcome struct {
	Result *mapping.Result     `json:"result,omitempty"`
	Error  []mapping.RuleError `json:"error,omitempty"`
}

func apply(t *testing.T, c goldenCase) outcome {
	t.Helper()
	res, err := mapping.Apply(c.event, c.mapping, phone.E164, opts)
	if err != nil {
		var me *mapping.Error
		if !errors.As(err, &me) {
			t.Fatalf("%s: Apply: %v (%T), want a result or *mapping.Error", c.name, err, err)
		}
		if me.Retryable() {
			t.Errorf("%s: a mapping error is retryable", c.name)
		}
		return outcome{Error: me.Rules}
	}
	return outcome{Result: res}
}

func TestGolden(t *testing.T) {
	cases := loadCases(t)
	if len(cases) < 25 {
		t.Errorf("%d golden cases, want at least 25", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := json.MarshalIndent(apply(t, c), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			path := filepath.Join("testdata/golden", c.name+".golden.json")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("Apply differs from %s (go test ./pkg/mapping -run TestGolden -update rewrites it):\n got: %s\nwant: %s", path, got, want)
			}
		})
	}
}

// TestGoldenRoundTrip sends every successful golden result to the Personio
// sandbox, files first, and requires it to be accepted.
func TestGoldenRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, c := range loadCases(t) {
		out := apply(t, c)
		if out.Result == nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			srv := sandboxtest.Start(t, sandbox.Config{RateLimit: -1, Now: func() time.Time { return now }})
			client := srv.PersonioClient(t)
			creds := sandboxtest.Company42
			app := out.Result.Application
			for _, f := range out.Result.Files {
				doc, err := client.UploadDocument(ctx, creds, f.Filename, strings.NewReader("%PDF-1.4 "+f.Filename))
				if err != nil {
					t.Fatalf("upload %s: %v", f.Filename, err)
				}
				app.Files = append(app.Files, personio.FileRef{UUID: doc.UUID, OriginalFilename: f.Filename, Category: f.Category})
			}
			if err := client.CreateApplication(ctx, creds, app); err != nil {
				t.Fatalf("the sandbox refused the mapped application: %v", err)
			}
			if got := srv.Sandbox.Applications("42"); len(got) != 1 || got[0].Application.Email != app.Email {
				t.Fatalf("sandbox holds %+v", got)
			}
		})
	}
}
