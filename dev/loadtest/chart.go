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
		"MaxT": fmt.Sprintf("%.0f s", maxT), "MaxMs": fmt.Sprintf("%.0f ms", maxMs), "MaxCount": fmt.Sprintf("%.0f", maxCount),
		"Stages": stageRows(r), "Stacks": stacks(r, width, pad), "StackH": 40 + 22*len(r.Tenths), "Legend": legend(width, pad)})
}

// stageColors are the stages' colours in the stacked view (Stages' order).
var stageColors = []string{"#8c564b", "#1f77b4", "#aec7e8", "#ff7f0e", "#d62728", "#98df8a", "#2ca02c", "#9467bd", "#c5b0d5", "#bbbbbb"}

// stageRow is one line of the stage table.
type stageRow struct {
	Name  string
	S     Spread
	Color string
}

func stageRows(r *Report) []stageRow {
	var out []stageRow
	for i, s := range Stages {
		if sp, ok := r.Stages[s]; ok {
			out = append(out, stageRow{Name: s, S: sp, Color: stageColors[i]})
		}
	}
	return out
}

// stack is one tenth's bar: a rectangle per stage, as wide as its mean.
type stack struct {
	Y     float64
	Label string
	Parts []part
}

type part struct {
	X, W  float64
	Color string
	Title string
}

// stacks lays the tenths out as horizontal bars, one row each, the
// stages' means side by side, on one scale (the slowest tenth's total).
func stacks(r *Report, width, pad float64) []stack {
	total := 0.0
	for _, s := range r.Tenths {
		sum := 0.0
		for _, st := range Stages {
			sum += s.Mean[st]
		}
		total = max(total, sum)
	}
	if total == 0 {
		return nil
	}
	left := pad + 110
	scale := (width - left - 10) / total
	var out []stack
	for i, s := range r.Tenths {
		st := stack{Y: 30 + float64(i)*22, Label: fmt.Sprintf("%.0f–%.0f ms", s.FromMs, s.ToMs)}
		x := left
		for j, name := range Stages {
			w := s.Mean[name] * scale
			st.Parts = append(st.Parts, part{X: x, W: w, Color: stageColors[j], Title: fmt.Sprintf("%s: %.1f ms (mean of this tenth)", name, s.Mean[name])})
			x += w
		}
		out = append(out, st)
	}
	return out
}

// legendItem is one stage's swatch.
type legendItem struct {
	X     float64
	Name  string
	Color string
}

func legend(width, pad float64) []legendItem {
	var out []legendItem
	step := (width - pad) / float64(len(Stages))
	for i, s := range Stages {
		out = append(out, legendItem{X: pad + float64(i)*step, Name: s, Color: stageColors[i]})
	}
	return out
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
<tr><td>messages received by the worker, per event</td><td>{{.R.Received}}, {{printf "%.2f" .R.ReceivesPerEvent}}</td></tr>
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
<p>Each dot is one application: when it arrived in Personio (x, seconds since the first event was sent) and how long after its event was posted to ingest (y).</p>
<svg width="{{.W}}" height="{{.H}}"><text x="4" y="16">{{.MaxMs}}</text><text x="{{.W}}" dx="-50" y="{{.H}}" dy="-8">{{.MaxT}}</text>
{{range .Dots}}<circle cx="{{.X}}" cy="{{.Y}}" r="1.6" fill="#3366cc"/>{{end}}</svg>
{{if .Stages}}<h2>Where the time goes</h2>
<p>Each delivered event's end-to-end time, stage by stage: ingest (post to answer), then the handling that delivered it — queue (sent to handled, less the wait for its turn), claim, prepare (integration, connection, token, mapping), budget (the wait for its turn and the take), download (until the file's host answered), upload (streaming it to Personio), create (Personio's answer), record — and other (earlier handlings and the copies between them).</p>
<table><tr><th>stage</th><th>mean</th><th>p50</th><th>p95</th><th>p99</th></tr>
{{range .Stages}}<tr><td><span style="display:inline-block;width:10px;height:10px;background:{{.Color}}"></span> {{.Name}}</td><td>{{printf "%.1f" .S.Mean}}</td><td>{{printf "%.1f" .S.P50}}</td><td>{{printf "%.1f" .S.P95}}</td><td>{{printf "%.1f" .S.P99}} ms</td></tr>{{end}}
</table>
<p>The delivered events in tenths by end-to-end time, fastest first; each bar is the tenth's mean time in each stage.</p>
<svg width="{{.W}}" height="{{.StackH}}">
{{range .Legend}}<rect x="{{.X}}" y="4" width="10" height="10" fill="{{.Color}}"/><text x="{{.X}}" dx="13" y="13" font-size="11">{{.Name}}</text>{{end}}
{{range .Stacks}}<text x="4" y="{{.Y}}" dy="13" font-size="11">{{.Label}}</text>{{$y := .Y}}{{range .Parts}}<rect x="{{.X}}" y="{{$y}}" width="{{.W}}" height="16" fill="{{.Color}}"><title>{{.Title}}</title></rect>{{end}}{{end}}
</svg>{{end}}
<h2>Requests per company per {{.R.Window}} s window, budget {{.R.Limit}}</h2>
<p>Bars: the requests Personio received from each company in each window since the start; dashed line: the budget.</p>
<svg width="{{.W}}" height="{{.H}}"><text x="4" y="16">{{.MaxCount}}</text>
{{range .Bars}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="#66aa66"><title>{{.Label}}</title></rect>{{end}}
<line x1="{{.Pad}}" x2="{{.W}}" y1="{{.BudgetY}}" y2="{{.BudgetY}}" stroke="#cc3333" stroke-dasharray="4"/></svg>
</body></html>
`))
