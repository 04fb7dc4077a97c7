package loadtest

import (
	"fmt"
	"html/template"
	"io"
	"sort"
)

// WriteHTML writes a self-contained page with two charts: end-to-end
// latency over time, and each company's requests per window against the
// budget line.
func WriteHTML(w io.Writer, r *Report) error {
	const width, height, pad = 760.0, 260.0, 40.0
	maxT, maxMs := 1.0, 1.0
	for _, p := range r.Latencies {
		maxT, maxMs = max(maxT, p.T), max(maxMs, p.Ms)
	}
	type dot struct{ X, Y float64 }
	var dots []dot
	for _, p := range r.Latencies {
		dots = append(dots, dot{pad + p.T/maxT*(width-2*pad), height - pad - p.Ms/maxMs*(height-2*pad)})
	}
	type bar struct {
		X, Y, W, H float64
		Label      string
	}
	var bars []bar
	companies := make([]string, 0, len(r.PerWindow))
	for c := range r.PerWindow {
		companies = append(companies, c)
	}
	sort.Strings(companies)
	maxCount := float64(r.Limit) * 1.2
	maxWin := 1
	for _, c := range companies {
		maxWin = max(maxWin, len(r.PerWindow[c]))
		for _, n := range r.PerWindow[c] {
			maxCount = max(maxCount, float64(n))
		}
	}
	slot := (width - 2*pad) / float64(maxWin)
	bw := slot / float64(max(len(companies), 1))
	for ci, c := range companies {
		for wi, n := range r.PerWindow[c] {
			h := float64(n) / maxCount * (height - 2*pad)
			bars = append(bars, bar{X: pad + float64(wi)*slot + float64(ci)*bw, Y: height - pad - h, W: max(bw-1, 1), H: h,
				Label: fmt.Sprintf("company %s, window %d: %d requests", c, wi, n)})
		}
	}
	budgetY := height - pad - float64(r.Limit)/maxCount*(height-2*pad)
	return page.Execute(w, map[string]any{"R": r, "Dots": dots, "Bars": bars, "BudgetY": budgetY, "W": width, "H": height, "Pad": pad,
		"MaxT": fmt.Sprintf("%.0f s", maxT), "MaxMs": fmt.Sprintf("%.0f ms", maxMs), "MaxCount": fmt.Sprintf("%.0f", maxCount)})
}

var page = template.Must(template.New("page").Funcs(template.FuncMap{"pctOf": func(v float64) float64 { return 100 * v }}).Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>funnel-personio load: {{.R.Name}}</title>
<style>body{font:14px sans-serif;margin:24px;max-width:820px} svg{background:#fafafa;border:1px solid #ddd} td{padding:2px 10px}</style></head>
<body><h1>{{.R.Name}}</h1>
<table>
<tr><td>events accepted</td><td>{{.R.Accepted}} of {{.R.Events}}</td></tr>
<tr><td>delivered / lost / duplicated</td><td>{{.R.Delivered}} / {{.R.Lost}} / {{.R.Duplicates}}</td></tr>
<tr><td>end-to-end p50 / p95 / p99</td><td>{{printf "%.0f" .R.P50}} / {{printf "%.0f" .R.P95}} / {{printf "%.0f" .R.P99}} ms</td></tr>
<tr><td>ingest</td><td>{{printf "%.0f" .R.IngestPerSec}} events/s</td></tr>
<tr><td>429 answers</td><td>{{.R.RateLimited}}</td></tr>
<tr><td>states</td><td>{{range $k, $v := .R.States}}{{$k}} {{$v}} {{end}}</td></tr>
<tr><td>in Personio, not recorded delivered or unconfirmed</td><td>{{.R.Misrecorded}}</td></tr>
<tr><td>recorded unconfirmed (Personio had it after a lost answer)</td><td>{{.R.Unconfirmed}}</td></tr>
<tr><td>applications in Personio without their event's tag</td><td>{{.R.Untagged}}</td></tr>
<tr><td>budget use (windows with a backlog)</td><td>{{range $k, $v := .R.BudgetUse}}company {{$k}}: {{printf "%.1f" (pctOf $v)}} % {{end}}</td></tr>
{{if .R.QuietP99}}<tr><td>quiet workspaces' p99</td><td>{{printf "%.0f" .R.QuietP99}} ms</td></tr>{{end}}
{{if .R.FirstPass}}<tr><td>the worker's first pass through the bulk</td><td>{{printf "%.1f" .R.FirstPass}} s</td></tr>{{end}}
<tr><td>log lines / with a token, e-mail or name</td><td>{{.R.LogLines}} / {{.R.Leaks}}</td></tr>
{{range .R.Restarts}}<tr><td>restart</td><td>{{.}}</td></tr>{{end}}
</table>
<h2>End-to-end latency over time</h2>
<p>Each dot is one application: when it arrived in Personio (x, seconds since the first event was sent) and how long after its event was accepted (y).</p>
<svg width="{{.W}}" height="{{.H}}"><text x="4" y="16">{{.MaxMs}}</text><text x="{{.W}}" dx="-50" y="{{.H}}" dy="-8">{{.MaxT}}</text>
{{range .Dots}}<circle cx="{{.X}}" cy="{{.Y}}" r="1.6" fill="#3366cc"/>{{end}}</svg>
<h2>Requests per company per {{.R.Window}} s window, budget {{.R.Limit}}</h2>
<p>Bars: the requests Personio received from each company in each window since the start; dashed line: the budget.</p>
<svg width="{{.W}}" height="{{.H}}"><text x="4" y="16">{{.MaxCount}}</text>
{{range .Bars}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="#66aa66"><title>{{.Label}}</title></rect>{{end}}
<line x1="{{.Pad}}" x2="{{.W}}" y1="{{.BudgetY}}" y2="{{.BudgetY}}" stroke="#cc3333" stroke-dasharray="4"/></svg>
{{with .R.AWS}}<h2>AWS requests and cost per delivered application</h2>
{{if .Error}}<p>No cost: {{.Error}}</p>{{else}}{{with .Cost}}
<p><b>${{printf "%.2f" .USDPerMillion}} per million applications</b>, {{printf "%.1f" .Requests}} billed requests per application
({{.Delivered}} delivered; {{.Region}} prices of {{.PricesDate}}; {{printf "%.0f" (pctOf .ReportedUnits)}} % of DynamoDB's units as DynamoDB reported them, the rest computed from item sizes).</p>
<table><tr><th>service</th><th>requests</th><th>USD per million</th></tr>
{{range .Services}}<tr><td>{{.Name}}</td><td>{{printf "%.2f" .Requests}}</td><td>{{printf "%.2f" .USDPerMillion}}</td></tr>{{end}}</table>
<table><tr><th>operation</th><th>requests</th><th>read units</th><th>write units</th><th>GB-s</th><th>USD per million</th></tr>
{{range .Operations}}<tr><td>{{.Name}}</td><td>{{printf "%.2f" .Requests}}</td><td>{{printf "%.2f" .ReadUnits}}</td><td>{{printf "%.2f" .WriteUnits}}</td><td>{{printf "%.4f" .GBSeconds}}</td><td>{{printf "%.3f" .USDPerMillion}}</td></tr>{{end}}</table>
{{if .TimeDriven}}<p>By the clock, not per application (left out above):{{range .TimeDriven}} {{.Name}} {{printf "%.2f" .Requests}};{{end}} requests outside the stack (the run's own reads): {{.Outside}}.</p>{{end}}
{{end}}{{end}}{{end}}
</body></html>
`))
