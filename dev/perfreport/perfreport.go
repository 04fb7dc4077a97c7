// Package perfreport writes the performance page's tables
// (docs/performance.md) from the load runs' reports kept under docs/perf/:
// each figure with the command that measured it, the date, the commit, the
// machine (cores, load average before and during the run) and its target.
// `make perf-report` runs the scenarios (Runs) and rewrites the page;
// TestPageIsGenerated fails when the page's tables are not what Tables
// writes from the committed reports.
package perfreport

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/funnel-personio/funnel-personio/dev/awsmeter"
	"github.com/funnel-personio/funnel-personio/dev/loadtest"
)

// Scenario is one run the performance page quotes: the load command's
// arguments and the targets the page holds its figures to that the
// scenario's own report does not state.
type Scenario struct {
	// Name is the report's file under docs/perf/ (without .json).
	Name string
	// What says what the scenario sends, for the tables' first column.
	What string
	// Args are `bin/local load`'s arguments.
	Args []string
	// MinIngestPerSec, MaxDynamoDBRequests and MaxUSDPerMillion are
	// targets (zero: none).
	MinIngestPerSec     float64
	MaxDynamoDBRequests float64
	MaxUSDPerMillion    float64
	// MaxReceivesPerEvent is a target for backlogs (zero: none).
	MaxReceivesPerEvent float64
}

// Runs are the scenarios the performance page quotes, in its order.
var Runs = []Scenario{
	{Name: "under-budget", Args: []string{"-scenario", "under-budget"}, MaxDynamoDBRequests: 8, MaxUSDPerMillion: 9,
		What: "under the budget: 10 workspaces × 10 events at once, 3 of each workspace's 10 with a CV, Personio's 60 s window"},
	{Name: "quiet", Args: []string{"-scenario", "quiet", "-window", "2s"},
		What: "paced: 10 workspaces' 100 events (3 of each workspace's 10 with a CV), one every 300 ms, 2 s window"},
	{Name: "backlog", Args: []string{"-scenario", "backlog", "-events", "1000", "-window", "6s", "-timeout", "9m"}, MaxReceivesPerEvent: 1.2,
		What: "backlog: 1,000 events of one company at once, 6 s window"},
	{Name: "ingest", Args: []string{"-scenario", "ingest", "-events", "5000"}, MinIngestPerSec: 800,
		What: "ingest alone: 5,000 signed events, 16 at a time, no worker"},
}

// Command is the scenario's command line.
func (s Scenario) Command() string { return "bin/local load " + strings.Join(s.Args, " ") }

// Machine is where and how loaded a run was.
type Machine struct {
	Cores int    `json:"cores"`
	CPU   string `json:"cpu,omitempty"`
	// LoadBefore is the 1-minute load average just before the run;
	// LoadDuring the mean and LoadMax the most of it sampled during.
	LoadBefore float64 `json:"load_before"`
	LoadDuring float64 `json:"load_during"`
	LoadMax    float64 `json:"load_max"`
}

// Run is one scenario's run as kept under docs/perf/: how it was made and
// the figures the page's tables use (Figures, trimmed from the report).
type Run struct {
	Scenario string  `json:"scenario"`
	Command  string  `json:"command"`
	Date     string  `json:"date"`
	Commit   string  `json:"commit"`
	Machine  Machine `json:"machine"`
	Figures  Figures `json:"report"`
}

// Figures are the parts of a load report (dev/loadtest.Report, same JSON
// names) that the tables use; decoding a whole report into it trims it.
type Figures struct {
	Events          int                `json:"events"`
	Accepted        int                `json:"accepted"`
	Delivered       int                `json:"delivered"`
	Lost            int                `json:"lost"`
	Duplicates      int                `json:"duplicates"`
	Seconds         float64            `json:"seconds"`
	IngestPerSec    float64            `json:"ingest_per_sec"`
	DeliverPerSec   float64            `json:"deliver_per_sec"`
	P50             float64            `json:"p50_ms"`
	P95             float64            `json:"p95_ms"`
	P99             float64            `json:"p99_ms"`
	ReceivesPer     float64            `json:"receives_per_event"`
	RateLimited     int                `json:"rate_limited"`
	BudgetUse       map[string]float64 `json:"budget_use,omitempty"`
	TargetP99Ms     float64            `json:"target_p99_ms,omitempty"`
	TargetBudgetUse float64            `json:"target_budget_use,omitempty"`
	Budget          *Budget            `json:"budget,omitempty"`
	Stages          map[string]Spread  `json:"stages,omitempty"`
	AWS             *AWS               `json:"aws,omitempty"`
	CPU             *loadtest.CPUUse   `json:"cpu,omitempty"`
}

// Budget is the report's word on the scenario's promise.
type Budget struct {
	Kept     bool   `json:"kept"`
	Sentence string `json:"sentence"`
}

// Spread is a stage's mean and p99 in ms.
type Spread struct {
	Mean float64 `json:"mean"`
	P99  float64 `json:"p99"`
}

// AWS is the report's cost per million applications, by operation, and
// the calls it counted, by function, operation and items.
type AWS struct {
	Usage struct {
		Requests []Request `json:"requests"`
	} `json:"usage"`
	Cost struct {
		USDPerMillion float64 `json:"usd_per_million"`
		Requests      float64 `json:"requests_per_application"`
		PricesDate    string  `json:"prices_date"`
		Services      []Line  `json:"services"`
		Operations    []Line  `json:"operations"`
	} `json:"cost"`
}

// Request is one function's calls of one operation, and the kinds of
// items they touched (dev/awsmeter.Request).
type Request struct {
	Caller    string           `json:"caller,omitempty"`
	Service   string           `json:"service"`
	Operation string           `json:"operation"`
	Calls     int64            `json:"calls"`
	Items     map[string]int64 `json:"items,omitempty"`
}

// Line is a service's or an operation's requests per application and USD
// per million applications.
type Line struct {
	Name     string  `json:"name"`
	Requests float64 `json:"requests_per_application"`
	USD      float64 `json:"usd_per_million"`
}

// DynamoDB is the DynamoDB requests per application, and their cost.
func (a *AWS) DynamoDB() (requests, usd float64) {
	for _, l := range a.Cost.Operations {
		if strings.HasPrefix(l.Name, "DynamoDB ") {
			requests += l.Requests
		}
	}
	for _, l := range a.Cost.Services {
		if l.Name == "DynamoDB" {
			usd = l.USD
		}
	}
	return requests, usd
}

// Trim decodes a whole load report into the figures the tables use.
func Trim(report []byte) (Figures, error) {
	var f Figures
	if err := json.Unmarshal(report, &f); err != nil {
		return Figures{}, fmt.Errorf("perfreport: read report: %w", err)
	}
	return f, nil
}

// Load reads the runs kept in dir (<scenario>.json), in Runs' order; a
// scenario without a report is left out.
func Load(dir string) ([]Run, error) {
	var runs []Run
	for _, s := range Runs {
		b, err := os.ReadFile(filepath.Join(dir, s.Name+".json"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("perfreport: %w", err)
		}
		var r Run
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("perfreport: %s: %w", s.Name, err)
		}
		runs = append(runs, r)
	}
	return runs, nil
}

// Save writes a run to dir as <scenario>.json.
func Save(dir string, r Run) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("perfreport: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, r.Scenario+".json"), append(b, '\n'), 0o644)
}

// The markers around the generated part of the page.
const (
	Begin = "<!-- perf-report: begin; generated by `make perf-report` from docs/perf/*.json, do not edit by hand -->"
	End   = "<!-- perf-report: end -->"
)

// Splice puts tables between the page's markers.
func Splice(page []byte, tables string) ([]byte, error) {
	i, j := bytes.Index(page, []byte(Begin)), bytes.Index(page, []byte(End))
	if i < 0 || j < i {
		return nil, fmt.Errorf("perfreport: the page has no %q … %q", Begin, End)
	}
	var out bytes.Buffer
	out.Write(page[:i+len(Begin)])
	out.WriteString("\n" + tables)
	out.Write(page[j:])
	return out.Bytes(), nil
}

// Generated is the part of the page between the markers ("" without them).
func Generated(page []byte) string {
	i, j := bytes.Index(page, []byte(Begin)), bytes.Index(page, []byte(End))
	if i < 0 || j < i {
		return ""
	}
	return string(page[i+len(Begin)+1 : j])
}

// BillFrom is the run whose measured cost the bill in docs/cost.md is
// worked out from.
const BillFrom = "under-budget"

// Pages are the generated parts of the docs pages (by file name under
// docs/) from the reports kept in dir: performance.md's tables and
// cost.md's bill.
func Pages(dir string) (map[string]string, error) {
	runs, err := Load(dir)
	if err != nil {
		return nil, err
	}
	prices, err := awsmeter.DefaultPrices()
	if err != nil {
		return nil, err
	}
	pages := map[string]string{"performance.md": Tables(runs)}
	if i := slices.IndexFunc(runs, func(r Run) bool { return r.Scenario == BillFrom }); i >= 0 {
		pages["cost.md"] = Bill(runs[i], prices)
	}
	return pages, nil
}

func scenario(name string) Scenario {
	i := slices.IndexFunc(Runs, func(s Scenario) bool { return s.Name == name })
	if i < 0 {
		return Scenario{Name: name, What: name}
	}
	return Runs[i]
}
