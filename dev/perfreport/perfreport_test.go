package perfreport

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/funnel-personio/funnel-personio/dev/awsmeter"
)

var update = flag.Bool("update", false, "rewrite testdata/tables.md from testdata/perf/")

// TestPageIsGenerated: the performance page's tables and the cost page's
// bill are what Pages writes from the reports kept in docs/perf/ (`make
// perf-report PERF_ARGS=-render` rewrites them).
func TestPageIsGenerated(t *testing.T) {
	pages, err := Pages(filepath.Join("..", "..", "docs", "perf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"performance.md", "cost.md"} {
		want, ok := pages[name]
		if !ok {
			t.Errorf("no report in docs/perf/ for %s", name)
			continue
		}
		page, err := os.ReadFile(filepath.Join("..", "..", "docs", name))
		if err != nil {
			t.Fatal(err)
		}
		if got := Generated(page); got != want {
			t.Errorf("docs/%s's generated part differs from what docs/perf/*.json give; run `make perf-report PERF_ARGS=-render`\n--- page\n%s\n--- generated\n%s", name, got, want)
		}
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
	for _, s := range []string{"p99 ≤ 250 ms: **missed**", "≥ 800 events/s: **missed**", "0 × 429: met", "13.5 ms an application"} {
		if !strings.Contains(got, s) {
			t.Errorf("the tables do not say %q", s)
		}
	}
}

// TestTrim keeps what the tables use and drops the rest of a report.
func TestTrim(t *testing.T) {
	f, err := Trim([]byte(`{"name":"x","delivered":3,"p99_ms":12.5,"latencies":[{"t":1,"ms":2}],"requests_per_window":{"1000":[3]},
		"budget":{"kept":true,"sentence":"every company under its budget in every window (at most 4 of 20)","most_in_a_window":{"1000":4}},
		"cpu":{"stack_seconds":0.5,"emulator_seconds":0.25,"wall_seconds":1,"cores":2,"emulator_apart":true}}`))
	if err != nil {
		t.Fatal(err)
	}
	if f.Delivered != 3 || f.P99 != 12.5 || f.Budget == nil || !f.Budget.Kept || f.CPU == nil || f.CPU.Emulator != 0.25 || !f.CPU.Apart {
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

// TestMonthlyBill: the parts by the month and per application, worked
// out by hand for a run of $10 per million in DynamoDB and $2 in Lambda.
func TestMonthlyBill(t *testing.T) {
	prices, err := awsmeter.DefaultPrices()
	if err != nil {
		t.Fatal(err)
	}
	a := &AWS{}
	a.Cost.Services = []Line{{Name: "DynamoDB", USD: 10}, {Name: "Lambda", USD: 2}}
	secret := prices.Monthly["secretsmanager_secret"].USD
	storage := prices.Monthly["dynamodb_storage_gb"].USD
	for _, tc := range []struct {
		companies, each int
		want            map[string]float64
	}{
		{100, 20, map[string]float64{"Secrets Manager: a secret per connection, and the stack's": secret * 103,
			"DynamoDB (per application)": 10 * 2000 / 1e6, "Lambda (per application)": 2 * 2000 / 1e6,
			"DynamoDB storage (per application)": storage * 2000 * StoredBytesPerApplication / 1e9}},
		{10000, 2000, map[string]float64{"Secrets Manager: a secret per connection, and the stack's": secret * 10003,
			"DynamoDB (per application)": 10 * 20, "KMS keys": 2 * prices.Monthly["kms_key"].USD}},
	} {
		got := map[string]float64{}
		for _, l := range MonthlyBill(tc.companies, tc.each, a, prices) {
			got[l.Name] = l.USD
		}
		for name, want := range tc.want {
			if d := got[name] - want; d > 1e-9 || d < -1e-9 {
				t.Errorf("%d × %d: %s = %.4f, want %.4f", tc.companies, tc.each, name, got[name], want)
			}
		}
	}
	if bill := Bill(Run{Command: "x", Figures: Figures{AWS: a}}, prices); !strings.Contains(bill, "10,000 × 2,000 | 20,000,000 |") {
		t.Errorf("the bill has no row for 10,000 companies × 2,000:\n%s", bill)
	}
}
