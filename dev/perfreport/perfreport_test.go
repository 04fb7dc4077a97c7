package perfreport

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/tables.md from testdata/perf/")

// TestPageIsGenerated: the performance page's tables are what Tables
// writes from the reports kept in docs/perf/ (`make perf-report -render`
// rewrites them: PERF_ARGS=-render).
func TestPageIsGenerated(t *testing.T) {
	runs, err := Load(filepath.Join("..", "..", "docs", "perf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) == 0 {
		t.Fatal("no report in docs/perf/")
	}
	page, err := os.ReadFile(filepath.Join("..", "..", "docs", "performance.md"))
	if err != nil {
		t.Fatal(err)
	}
	got, want := Generated(page), Tables(runs)
	if got != want {
		t.Errorf("docs/performance.md's tables differ from what docs/perf/*.json give; run `make perf-report PERF_ARGS=-render`\n--- page\n%s\n--- generated\n%s", got, want)
	}
}

// TestTables: the tables from sample reports (testdata/perf/, trimmed from
// real runs, one of them edited to miss its targets), against the golden
// file.
func TestTables(t *testing.T) {
	runs, err := Load(filepath.Join("testdata", "perf"))
	if err != nil {
		t.Fatal(err)
	}
	got := Tables(runs)
	golden := filepath.Join("testdata", "tables.md")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("Tables differ from %s (go test -update to accept):\n%s", golden, got)
	}
	for _, s := range []string{"p99 ≤ 250 ms: **missed**", "≥ 800 events/s: **missed**", "0 × 429: met"} {
		if !strings.Contains(got, s) {
			t.Errorf("the tables do not say %q", s)
		}
	}
}

// TestTrim keeps what the tables use and drops the rest of a report.
func TestTrim(t *testing.T) {
	f, err := Trim([]byte(`{"name":"x","delivered":3,"p99_ms":12.5,"latencies":[{"t":1,"ms":2}],"requests_per_window":{"1000":[3]},
		"budget":{"kept":true,"sentence":"every company under its budget in every window (at most 4 of 20)","most_in_a_window":{"1000":4}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Delivered != 3 || f.P99 != 12.5 || f.Budget == nil || !f.Budget.Kept {
		t.Errorf("Trim = %+v", f)
	}
	if _, err := Trim([]byte(`{`)); err == nil {
		t.Error("Trim of a broken report: no error")
	}
}

// TestSplice replaces only what lies between the markers.
func TestSplice(t *testing.T) {
	page := []byte("# P\n\nbefore\n" + Begin + "\nold\n" + End + "\nafter\n")
	out, err := Splice(page, "new\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "# P\n\nbefore\n" + Begin + "\nnew\n" + End + "\nafter\n"; string(out) != want {
		t.Errorf("Splice = %q, want %q", out, want)
	}
	if Generated(out) != "new\n" {
		t.Errorf("Generated = %q", Generated(out))
	}
	if _, err := Splice([]byte("no markers"), "x"); err == nil {
		t.Error("Splice without markers: no error")
	}
}
