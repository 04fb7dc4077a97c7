package perfreport

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/funnel-personio/funnel-personio/dev/loadtest"
)

// Tables is the generated part of the performance page: the runs'
// latency, throughput and budget figures, then their AWS requests and
// cost per application, each row with its command, date, commit, machine
// and targets.
func Tables(runs []Run) string {
	var b strings.Builder
	b.WriteString("\n| scenario (command) | run: date, commit, machine (load average before / during, max) | result | target |\n| --- | --- | --- | --- |\n")
	for _, r := range runs {
		results, targets := figures(r)
		fmt.Fprintf(&b, "| %s (`%s`) | %s | %s | %s |\n", scenario(r.Scenario).What, r.Command, where(r), strings.Join(results, "; "), orDash(targets))
	}
	b.WriteString("\nAWS requests and cost per delivered application, from the same runs' `aws` section (`dev/awsmeter`; prices of " +
		pricesDate(runs) + ", [cost](cost.md)):\n\n")
	b.WriteString("| scenario | DynamoDB requests per application, by operation | billed requests per application, every service | USD per million applications (of which DynamoDB) | target |\n| --- | --- | --- | --- | --- |\n")
	for _, r := range runs {
		a := r.Figures.AWS
		if a == nil || a.Cost.USDPerMillion == 0 {
			continue
		}
		ddb, ddbUSD := a.DynamoDB()
		var ops, targets []string
		for _, l := range a.Cost.Operations {
			if name, ok := strings.CutPrefix(l.Name, "DynamoDB "); ok && l.Requests >= 0.005 {
				ops = append(ops, fmt.Sprintf("%s %.2f", name, l.Requests))
			}
		}
		s := scenario(r.Scenario)
		if s.MaxDynamoDBRequests > 0 {
			targets = append(targets, check(ddb <= s.MaxDynamoDBRequests, "≤ %.0f DynamoDB requests", s.MaxDynamoDBRequests))
		}
		if s.MaxUSDPerMillion > 0 {
			targets = append(targets, check(a.Cost.USDPerMillion <= s.MaxUSDPerMillion, "≤ $%.0f per million", s.MaxUSDPerMillion))
		}
		fmt.Fprintf(&b, "| %s | **%.2f**: %s | %.1f | **$%.2f** ($%.2f) | %s |\n", r.Scenario, ddb, strings.Join(ops, ", "),
			a.Cost.Requests, a.Cost.USDPerMillion, ddbUSD, orDash(targets))
	}
	for _, r := range runs {
		if r.Scenario == BillFrom {
			b.WriteString(items(r))
		}
	}
	return b.String()
}

// items is where a run's DynamoDB calls go: per delivered application, by
// function, operation and the kinds of items each call touches (the sort
// key's prefix: DELIVERY the record, EVENT the event kept for it, ERASED
// an erasure marker, FUNNEL the integration, CONN the connection, BUDGET
// the company's budget, SLOT the global budget's slot).
func items(r Run) string {
	a := r.Figures.AWS
	if a == nil || r.Figures.Delivered == 0 {
		return ""
	}
	var rows []string
	per := 1 / float64(r.Figures.Delivered)
	for _, q := range a.Usage.Requests {
		if q.Service != "DynamoDB" || q.Caller == "" {
			continue
		}
		for _, kinds := range slices.Sorted(maps.Keys(q.Items)) {
			if n := float64(q.Items[kinds]) * per; n >= 0.005 {
				rows = append(rows, fmt.Sprintf("| %s | %s | %s | %.2f |\n", q.Caller, q.Operation, kinds, n))
			}
		}
	}
	if len(rows) == 0 {
		return ""
	}
	return fmt.Sprintf("\nWhere the %s run's DynamoDB calls go, per delivered application (the report's `aws.usage.requests[].items`; "+
		"queries are in the table above):\n\n| function | operation | items | calls per application |\n| --- | --- | --- | --- |\n", r.Scenario) +
		strings.Join(rows, "")
}

// figures are a run's results and its targets, each met or missed.
func figures(r Run) (results, targets []string) {
	f, s := r.Figures, scenario(r.Scenario)
	if f.Delivered == 0 && f.IngestPerSec > 0 {
		results = append(results, fmt.Sprintf("%d/%d accepted in %.1f s: **%.0f events/s**", f.Accepted, f.Events, f.Seconds, f.IngestPerSec))
	} else {
		results = append(results,
			fmt.Sprintf("%d/%d delivered, %d lost, %d duplicates, **%d × 429**", f.Delivered, f.Accepted, f.Lost, f.Duplicates, f.RateLimited),
			fmt.Sprintf("e2e p50 %.0f ms, p95 %.0f ms, **p99 %.0f ms**", f.P50, f.P95, f.P99),
			fmt.Sprintf("ingest %.0f events/s, delivery %.1f events/s, %.2f receives per event", f.IngestPerSec, f.DeliverPerSec, f.ReceivesPer))
		if use := budgetUse(f.BudgetUse); use != "" {
			results = append(results, "budget use "+use)
		}
		targets = append(targets, check(f.RateLimited == 0, "0 × 429"))
	}
	if f.Budget != nil {
		results = append(results, f.Budget.Sentence)
		targets = append(targets, check(f.Budget.Kept, "the scenario's promise of the budget"))
	}
	if line := stages(f.Stages); line != "" {
		results = append(results, "where the time goes, mean / p99 ms: "+line)
	}
	if f.CPU != nil {
		results = append(results, f.CPU.Sentence(f.Delivered, f.Accepted))
	}
	if f.TargetP99Ms > 0 {
		targets = append(targets, check(f.P99 <= f.TargetP99Ms, "p99 ≤ %.0f ms", f.TargetP99Ms))
	}
	if f.TargetBudgetUse > 0 && len(f.BudgetUse) > 0 {
		targets = append(targets, check(minUse(f.BudgetUse) >= f.TargetBudgetUse, "budget use ≥ %.0f %%", 100*f.TargetBudgetUse))
	}
	if s.MaxReceivesPerEvent > 0 {
		targets = append(targets, check(f.ReceivesPer <= s.MaxReceivesPerEvent, "≤ %.1f receives per event", s.MaxReceivesPerEvent))
	}
	if s.MinIngestPerSec > 0 {
		targets = append(targets, check(f.IngestPerSec >= s.MinIngestPerSec, "≥ %.0f events/s", s.MinIngestPerSec))
	}
	return results, targets
}

func stages(st map[string]Spread) string {
	var parts []string
	for _, name := range loadtest.Stages {
		if sp, ok := st[name]; ok && sp.P99 >= 0.5 {
			parts = append(parts, fmt.Sprintf("%s %.0f / %.0f", name, sp.Mean, sp.P99))
		}
	}
	return strings.Join(parts, ", ")
}

func budgetUse(use map[string]float64) string {
	if len(use) == 0 {
		return ""
	}
	var parts []string
	for _, c := range slices.Sorted(maps.Keys(use)) {
		parts = append(parts, fmt.Sprintf("%.1f %%", 100*use[c]))
	}
	if len(parts) > 3 {
		return fmt.Sprintf("%.1f %% at least, of %d companies", 100*minUse(use), len(parts))
	}
	return strings.Join(parts, ", ")
}

func minUse(use map[string]float64) float64 {
	m := 1.0
	for _, v := range use {
		m = min(m, v)
	}
	return m
}

func check(ok bool, format string, args ...any) string {
	word := "**missed**"
	if ok {
		word = "met"
	}
	return fmt.Sprintf(format, args...) + ": " + word
}

func where(r Run) string {
	m := r.Machine
	return fmt.Sprintf("%s, commit %s, %d cores%s (load %.1f / %.1f, max %.1f)", r.Date, r.Commit, m.Cores, cpu(m.CPU), m.LoadBefore, m.LoadDuring, m.LoadMax)
}

func cpu(name string) string {
	if name == "" {
		return ""
	}
	return " " + name
}

func orDash(xs []string) string {
	if len(xs) == 0 {
		return "–"
	}
	return strings.Join(xs, "; ")
}

func pricesDate(runs []Run) string {
	for _, r := range runs {
		if r.Figures.AWS != nil && r.Figures.AWS.Cost.PricesDate != "" {
			return r.Figures.AWS.Cost.PricesDate
		}
	}
	return "the price table"
}
