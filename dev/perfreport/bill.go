package perfreport

import (
	"fmt"
	"strings"

	"github.com/funnel-personio/funnel-personio/dev/awsmeter"
	"github.com/funnel-personio/funnel-personio/pkg/metrics"
)

// The stack's parts billed by the month, counted in infra/stack.go (change
// them with the stack), and the estimates the bill makes.
const (
	// StackSecrets are the stack's own secrets: the outbound signing
	// secret, the webhook signing secret and the e-mail hash key.
	StackSecrets = 3
	// KMSKeys are DataKey (the table, the queues, the secrets) and
	// AlarmsKey (the alarm topic).
	KMSKeys = 2
	// Dashboards is the operations dashboard.
	Dashboards = 1
	// AlarmMetrics are the five alarms' metrics: four of one metric, the
	// API's 5xx share of two.
	AlarmMetrics = 6
	// StoredBytesPerApplication is what an application keeps in DynamoDB
	// for its 30 days, an estimate: the event as sent (the load runs'
	// ~0.5 KB; a funnel's with many answers a few KB), the record with
	// its attempts (~1 KB) and the index entries (~0.2 KB).
	StoredBytesPerApplication = 3000
	// Pollers is how many long polls (20 s each) an idle SQS event source
	// keeps open per queue, per AWS's description of the event source
	// mapping, for the worker's and the notifier's queues.
	Pollers, PolledQueues = 5, 2
)

// Fleets are the sizes the bill is worked out for: connected companies ×
// applications per company a month.
var Fleets = [][2]int{{100, 20}, {100, 200}, {100, 2000}, {1000, 20}, {1000, 200}, {1000, 2000}, {10000, 20}, {10000, 200}, {10000, 2000}}

// BillLine is one line of a month's bill.
type BillLine struct {
	Name string
	USD  float64
}

// MonthlyBill is the month's bill for companies × perCompany applications:
// the parts by the month (a secret per connection, the stack's keys,
// dashboard, alarms, metrics and queue polling) and the part per
// application from a run's measured cost per million (its services),
// plus storage.
func MonthlyBill(companies, perCompany int, perApp *AWS, p awsmeter.Prices) []BillLine {
	apps := float64(companies * perCompany)
	m := p.Monthly
	polls := float64(Pollers*PolledQueues) * 3 * 60 * 24 * 30 // three 20 s polls a minute
	lines := []BillLine{
		{"Secrets Manager: a secret per connection, and the stack's", m["secretsmanager_secret"].USD * float64(companies+StackSecrets)},
		{"KMS keys", m["kms_key"].USD * KMSKeys},
		{"CloudWatch: dashboard, alarms, metrics", m["cloudwatch_dashboard"].USD*Dashboards + m["cloudwatch_alarm_metric"].USD*AlarmMetrics +
			m["cloudwatch_custom_metric"].USD*float64(len(metrics.Names))},
		{"SQS: the event sources' idle polls", p.Per.SQS.USD * polls / p.Per.SQS.Per},
	}
	for _, s := range perApp.Cost.Services {
		lines = append(lines, BillLine{s.Name + " (per application)", s.USD * apps / 1e6})
	}
	gb := apps * StoredBytesPerApplication / 1e9
	lines = append(lines, BillLine{"DynamoDB storage (per application)", m["dynamodb_storage_gb"].USD * gb})
	return lines
}

// Bill is docs/cost.md's generated part: for each fleet the month's total,
// its part by the month and per application, and the line that dominates,
// from a run's measured cost.
func Bill(r Run, p awsmeter.Prices) string {
	var b strings.Builder
	a := r.Figures.AWS
	if a == nil {
		return "\nNo measured cost in docs/perf/" + r.Scenario + ".json.\n"
	}
	fmt.Fprintf(&b, "\nFrom `%s` (%s, commit %s: $%.2f per million applications, %.1f billed requests each) and the price table of %s:\n\n",
		r.Command, r.Date, r.Commit, a.Cost.USDPerMillion, a.Cost.Requests, p.Date)
	b.WriteString("| companies × applications a month | applications | by the month | per application | **total a month** | per application, all in | dominant line |\n| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, f := range Fleets {
		lines := MonthlyBill(f[0], f[1], a, p)
		fixed, per, top := 0.0, 0.0, lines[0]
		for _, l := range lines {
			if strings.HasSuffix(l.Name, "(per application)") {
				per += l.USD
			} else {
				fixed += l.USD
			}
			if l.USD > top.USD {
				top = l
			}
		}
		total, apps := fixed+per, f[0]*f[1]
		fmt.Fprintf(&b, "| %s × %s | %s | $%.2f | $%.2f | **$%.2f** | $%.4f | %s: $%.2f (%.0f %%) |\n", num(f[0]), num(f[1]), num(apps),
			fixed, per, total, total/float64(apps), top.Name, top.USD, 100*top.USD/total)
	}
	return b.String()
}

// num writes n with thousands separated by commas.
func num(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
