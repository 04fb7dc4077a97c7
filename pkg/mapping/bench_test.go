package mapping_test

import (
	"os"
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/mapping"
	"github.com/funnel-personio/funnel-personio/pkg/phone"
)

// typical loads the typical golden case: 10 answers, 1 file, 6 optional
// assignments (phone, gender and option tables, date, trim, file).
func typical(b *testing.B) (*application.Event, mapping.Config) {
	ev, err := os.ReadFile("testdata/golden/typical.event.json")
	if err != nil {
		b.Fatal(err)
	}
	m, err := os.ReadFile("testdata/golden/typical.mapping.json")
	if err != nil {
		b.Fatal(err)
	}
	event, err := application.Parse(ev)
	if err != nil {
		b.Fatal(err)
	}
	cfg, err := mapping.Parse(m)
	if err != nil {
		b.Fatal(err)
	}
	if len(event.Answers) != 10 || len(event.Files) != 1 || len(cfg.Optional) != 6 {
		b.Fatalf("typical case has %d answers, %d files, %d optional rules", len(event.Answers), len(event.Files), len(cfg.Optional))
	}
	return event, *cfg
}

// BenchmarkApply is the worker's hot path: a compiled mapping (cached with
// the integration) applied to one event.
func BenchmarkApply(b *testing.B) {
	ev, cfg := typical(b)
	m, err := mapping.Compile(cfg, phone.E164)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Apply(ev, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompileAndApply includes validating and compiling the mapping.
func BenchmarkCompileAndApply(b *testing.B) {
	ev, cfg := typical(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := mapping.Apply(ev, cfg, phone.E164, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyWithoutPhone is BenchmarkApply with the phone rule
// replaced by a plain text rule: what Apply costs apart from the phone
// library.
func BenchmarkApplyWithoutPhone(b *testing.B) {
	ev, cfg := typical(b)
	cfg.Optional[0] = mapping.Rule{Target: "salary_expectations", Source: "answers.q_salary", Transforms: []string{"trim"}}
	m, err := mapping.Compile(cfg, phone.E164)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Apply(ev, opts); err != nil {
			b.Fatal(err)
		}
	}
}
