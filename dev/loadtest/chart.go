package loadtest

import (
	"cmp"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// WriteHTML writes a self-contained page with the run's figures and two
// charts a person can read values off: end-to-end latency over time, and
// each company's requests per window against the budget. Both have axes
// with units and ticks from zero, their reference lines (percentiles,
// targets, the budget) drawn and labelled, and a legend of the companies.
func WriteHTML(w io.Writer, r *Report) error {
	companies := r.companies()
	color := map[string]string{}
	var legend []legendItem
	for i, c := range companies {
		color[c] = palette[i%len(palette)]
		legend = append(legend, legendItem{Label: "company " + c, Color: color[c]})
	}
	return page.Execute(w, map[string]any{"R": r, "Legend": legend, "Latency": latencyChart(r, color), "Requests": requestsChart(r, companies, color),
		"BudgetUse": r.BudgetUseText(), "States": r.StatesText(),
		"Stages": stageRows(r), "Stacks": stacks(r), "StackH": 40 + 22*len(r.Tenths), "Swatches": swatches()})
}

// companies are the companies that appear in the run, in order.
func (r *Report) companies() []string {
	seen := map[string]bool{}
	for c := range r.PerWindow {
		seen[c] = true
	}
	for _, p := range r.Latencies {
		seen[p.Company] = true
	}
	out := make([]string, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return numericLess(out[i], out[j]) })
	return out
}

func numericLess(a, b string) bool {
	x, errA := strconv.Atoi(a)
	y, errB := strconv.Atoi(b)
	if errA == nil && errB == nil {
		return x < y
	}
	return a < b
}

// BudgetUseText says each company's budget use, or why there is none:
// it is measured over the windows before the last, so a company whose
// requests all fell in one window has none.
func (r *Report) BudgetUseText() string {
	if len(r.BudgetUse) == 0 {
		return fmt.Sprintf("not measured: every company's requests fell in one %s s window (budget use counts the full windows before the last)", number(r.Window))
	}
	var parts []string
	var cs []string
	for _, c := range r.companies() {
		if v, ok := r.BudgetUse[c]; ok {
			parts = append(parts, fmt.Sprintf("company %s %.1f %%", c, 100*v))
			cs = append(cs, c)
		}
	}
	if len(cs) <= manyCompanies {
		return strings.Join(parts, ", ")
	}
	// Too many to list: the lowest, the median and the highest.
	slices.SortStableFunc(cs, func(a, b string) int { return cmp.Compare(r.BudgetUse[a], r.BudgetUse[b]) })
	lo, mid, hi := cs[0], cs[len(cs)/2], cs[len(cs)-1]
	return fmt.Sprintf("%d companies: lowest %.1f %% (company %s), median %.1f %%, highest %.1f %% (company %s)",
		len(cs), 100*r.BudgetUse[lo], lo, 100*r.BudgetUse[mid], 100*r.BudgetUse[hi], hi)
}

// manyCompanies is the most companies whose budget use is listed one by
// one.
const manyCompanies = 12

// StatesText lists the deliveries' final states with their counts.
func (r *Report) StatesText() string {
	names := make([]string, 0, len(r.States))
	for s := range r.States {
		names = append(names, s)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, s := range names {
		parts = append(parts, fmt.Sprintf("%s %d", s, r.States[s]))
	}
	if len(parts) == 0 {
		return "none read"
	}
	return strings.Join(parts, ", ")
}

// palette is a colour per company (Tableau 10), distinguishable side by side.
var palette = []string{"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}

type legendItem struct{ Label, Color string }

// chart is one SVG chart: plot area, axes with ticks, marks, and
// labelled horizontal lines.
type chart struct {
	W, H                   float64
	Left, Right, Top, Bott float64 // the plot area
	XTitle, YTitle         string
	XTicks, YTicks         []tick
	Dots                   []dot
	Bars                   []bar
	Lines                  []refLine
}

type tick struct {
	Pos   float64
	Label string
}

type dot struct {
	X, Y  float64
	Color string
	Title string
}

type bar struct {
	X, Y, W, H float64
	Color      string
	Title      string
}

// refLine is a labelled horizontal line: a percentile, a target, the
// budget. Its label stands right of the plot at LabelY: at the line's
// height, or moved just enough to keep clear of its neighbours' labels.
type refLine struct {
	Y      float64
	Label  string
	Color  string
	Dashed bool
	LabelY float64
}

func newChart(xTitle, yTitle string) *chart {
	return &chart{W: 860, H: 320, Left: 72, Right: 664, Top: 20, Bott: 268, XTitle: xTitle, YTitle: yTitle}
}

// scale maps [0, max] of a value onto [from, to] in pixels.
type scale struct{ max, from, to float64 }

func (s scale) at(v float64) float64 { return s.from + v/s.max*(s.to-s.from) }

// axis picks round ticks from zero that cover max (1, 2 or 5 times a
// power of ten apart, about five of them) and returns the scale's end.
func axis(max float64) (float64, []float64) {
	if max <= 0 {
		max = 1
	}
	raw := max / 5
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	step := p
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			step = m * p
			break
		}
	}
	end := math.Ceil(max/step) * step
	var ticks []float64
	for v := 0.0; v <= end+step/2; v += step {
		ticks = append(ticks, v)
	}
	return end, ticks
}

// number writes a tick or figure: whole numbers without decimals, with
// thousands separated by a thin space.
func number(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		s := strconv.FormatInt(int64(v), 10)
		for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
			s = s[:i] + "\u2009" + s[i:]
		}
		return s
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// latencyChart: each delivered application as a dot (when it reached
// Personio, how long after ingest accepted it), with p50, p99 and the
// target as labelled lines. Latencies of 10 s and more are drawn in
// seconds.
func latencyChart(r *Report, color map[string]string) *chart {
	maxT, maxMs := 1.0, 1.0
	for _, p := range r.Latencies {
		maxT, maxMs = max(maxT, p.T), max(maxMs, p.Ms)
	}
	maxMs = max(maxMs, r.TargetP99Ms)
	unit, div := "ms", 1.0
	if maxMs >= 10000 {
		unit, div = "s", 1000
	}
	c := newChart("seconds since the first event was sent", "end-to-end latency ("+unit+")")
	xEnd, xTicks := axis(maxT)
	yEnd, yTicks := axis(maxMs / div * 1.05)
	x, y := scale{xEnd, c.Left, c.Right}, scale{yEnd, c.Bott, c.Top}
	for _, v := range xTicks {
		c.XTicks = append(c.XTicks, tick{x.at(v), number(v)})
	}
	for _, v := range yTicks {
		c.YTicks = append(c.YTicks, tick{y.at(v), number(v)})
	}
	for _, p := range r.Latencies {
		c.Dots = append(c.Dots, dot{x.at(p.T), y.at(p.Ms / div), color[p.Company],
			fmt.Sprintf("company %s: in Personio %.1f s after the start, %.0f ms after it was accepted", p.Company, p.T, p.Ms)})
	}
	ms := func(v float64) string {
		if unit == "s" {
			return number(math.Round(v/100)/10) + " s"
		}
		return number(math.Round(v)) + " ms"
	}
	if len(r.Latencies) > 0 {
		c.Lines = append(c.Lines, refLine{Y: y.at(r.P50 / div), Label: "p50 " + ms(r.P50), Color: "#555", Dashed: true},
			refLine{Y: y.at(r.P99 / div), Label: "p99 " + ms(r.P99), Color: "#555", Dashed: true})
	}
	if r.TargetP99Ms > 0 {
		c.Lines = append(c.Lines, refLine{Y: y.at(r.TargetP99Ms / div), Label: "target: p99 ≤ " + ms(r.TargetP99Ms), Color: "#c0392b"})
	}
	spreadLabels(c.Lines)
	return c
}

// requestsChart: the requests Personio received from each company in each
// rate window since the start, as bars over their windows (grouped by
// window, a company each), against the budget line (and the budget-use
// target, when the run has one).
func requestsChart(r *Report, companies []string, color map[string]string) *chart {
	win := r.Window
	if win <= 0 {
		win = 60
	}
	c := newChart("seconds since the run began (each group of bars: one "+number(win)+" s rate window)",
		fmt.Sprintf("requests to Personio per %s s window", number(win)))
	windows, maxCount := 1, float64(r.Limit)
	for _, counts := range r.PerWindow {
		windows = max(windows, len(counts))
		for _, n := range counts {
			maxCount = max(maxCount, float64(n))
		}
	}
	xEnd, xTicks := axis(float64(windows) * win)
	yEnd, yTicks := axis(maxCount * 1.1)
	x, y := scale{xEnd, c.Left, c.Right}, scale{yEnd, c.Bott, c.Top}
	for _, v := range xTicks {
		c.XTicks = append(c.XTicks, tick{x.at(v), number(v)})
	}
	for _, v := range yTicks {
		c.YTicks = append(c.YTicks, tick{y.at(v), number(v)})
	}
	slot := x.at(win) - x.at(0)
	bw := slot * 0.8 / float64(max(len(companies), 1))
	for ci, co := range companies {
		for wi, n := range r.PerWindow[co] {
			top := y.at(float64(n))
			c.Bars = append(c.Bars, bar{X: x.at(float64(wi)*win) + slot*0.1 + float64(ci)*bw, Y: top, W: max(bw-0.5, 0.5), H: c.Bott - top,
				Color: color[co], Title: fmt.Sprintf("company %s, window from %s s: %d requests", co, number(float64(wi)*win), n)})
		}
	}
	if r.Limit > 0 {
		c.Lines = append(c.Lines, refLine{Y: y.at(float64(r.Limit)), Label: fmt.Sprintf("budget: %d per window", r.Limit), Color: "#c0392b"})
		if r.TargetBudgetUse > 0 {
			v := r.TargetBudgetUse * float64(r.Limit)
			c.Lines = append(c.Lines, refLine{Y: y.at(v), Label: fmt.Sprintf("target: ≥ %s %% of it, %s", number(100*r.TargetBudgetUse), number(math.Round(v*10)/10)),
				Color: "#8e44ad", Dashed: true})
		}
	}
	spreadLabels(c.Lines)
	return c
}

// The stacked view's width and left margin.
const stackWidth, stackPad = 820.0, 40.0

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
func stacks(r *Report) []stack {
	width, pad := stackWidth, stackPad
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

// swatch is one stage's colour in the stacked view's legend.
type swatch struct {
	X     float64
	Name  string
	Color string
}

func swatches() []swatch {
	var out []swatch
	step := (stackWidth - stackPad) / float64(len(Stages))
	for i, s := range Stages {
		out = append(out, swatch{X: stackPad + float64(i)*step, Name: s, Color: stageColors[i]})
	}
	return out
}

// spreadLabels places the lines' labels at their lines' heights, moving
// those of lines closer than a label's height apart just far enough to
// keep every label clear of the others.
func spreadLabels(lines []refLine) {
	const gap = 15.0
	sort.Slice(lines, func(i, j int) bool { return lines[i].Y < lines[j].Y })
	for i := range lines {
		lines[i].LabelY = lines[i].Y
		if i > 0 && lines[i].LabelY < lines[i-1].LabelY+gap {
			lines[i].LabelY = lines[i-1].LabelY + gap
		}
	}
	// Labels pushed down as a block are centred on their lines again.
	for i := 0; i < len(lines); {
		j := i + 1
		for j < len(lines) && lines[j].LabelY-lines[j-1].LabelY <= gap+0.01 {
			j++
		}
		shift := 0.0
		for k := i; k < j; k++ {
			shift += lines[k].LabelY - lines[k].Y
		}
		shift /= float64(j - i)
		if i > 0 {
			shift = min(shift, lines[i].LabelY-lines[i-1].LabelY-gap)
		}
		for k := i; k < j; k++ {
			lines[k].LabelY -= shift
		}
		i = j
	}
}

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"mid":    func(a, b float64) float64 { return (a + b) / 2 },
	"plus":   func(a, b float64) float64 { return a + b },
	"mul100": func(v float64) float64 { return 100 * v },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>funnel-personio load: {{.R.Name}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;max-width:880px;color:#222}
td{padding:2px 12px 2px 0;vertical-align:top} td:first-child{color:#555}
svg{background:#fff;border:1px solid #ddd;display:block}
svg text{font:12px system-ui,sans-serif;fill:#333}
.legend{list-style:none;padding:0;margin:6px 0 4px;display:flex;flex-wrap:wrap;gap:4px 16px}
.legend span{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}
</style></head>
<body><h1>Load run: {{.R.Name}}</h1>
<table>
<tr><td>events accepted</td><td>{{.R.Accepted}} of {{.R.Events}}</td></tr>
<tr><td>delivered / lost / duplicated</td><td>{{.R.Delivered}} / {{.R.Lost}} / {{.R.Duplicates}}</td></tr>
<tr><td>end-to-end p50 / p95 / p99</td><td>{{printf "%.0f" .R.P50}} / {{printf "%.0f" .R.P95}} / {{printf "%.0f" .R.P99}} ms{{if .R.TargetP99Ms}} (target p99 ≤ {{.R.TargetP99Ms}} ms){{end}}</td></tr>
<tr><td>ingest</td><td>{{printf "%.0f" .R.IngestPerSec}} events/s</td></tr>
<tr><td>messages received by the worker, per event</td><td>{{.R.Received}}, {{printf "%.2f" .R.ReceivesPerEvent}}</td></tr>
<tr><td>429 answers</td><td>{{.R.RateLimited}}</td></tr>
<tr><td>final states</td><td>{{.States}}</td></tr>
<tr><td>in Personio, not recorded delivered or unconfirmed</td><td>{{.R.Misrecorded}}</td></tr>
<tr><td>recorded unconfirmed (Personio had it after a lost answer)</td><td>{{.R.Unconfirmed}}</td></tr>
<tr><td>applications in Personio without their event's tag</td><td>{{.R.Untagged}}</td></tr>
<tr><td>budget use (full windows with a backlog)</td><td>{{.BudgetUse}}{{if .R.TargetBudgetUse}} (target ≥ {{printf "%.0f" (mul100 .R.TargetBudgetUse)}} %){{end}}</td></tr>
{{if .R.QuietP99}}<tr><td>quiet workspaces' p99</td><td>{{printf "%.0f" .R.QuietP99}} ms{{if .R.QuietAloneP99}}: {{printf "%.2f" .R.QuietRatio}} × their p99 alone ({{printf "%.0f" .R.QuietAloneP99}} ms; target ≤ 2 ×){{end}}</td></tr>{{end}}
{{with .R.Shared}}<tr><td>global budget</td><td>at most {{.MostInAWindow}} requests in any window (the limit: {{.Limit}}){{if .Shares}}; while all {{len .Shares}} companies were busy ({{printf "%.0f" .Seconds}} s) each sent {{printf "%.1f" .Mean}} on average, the farthest {{printf "%.1f" (mul100 .Spread)}} % from it{{end}}</td></tr>{{end}}
{{if .R.FirstPass}}<tr><td>the worker's first pass through the bulk</td><td>{{printf "%.1f" .R.FirstPass}} s</td></tr>{{end}}
<tr><td>log lines / with a token, e-mail or name</td><td>{{.R.LogLines}} / {{.R.Leaks}}</td></tr>
{{with .R.CPU}}<tr><td>CPU, first event sent to last delivered</td><td>the stack's process (with the sandbox and the load generator) {{printf "%.2f" .Stack}} s{{if .Apart}}, the AWS emulator {{printf "%.2f" .Emulator}} s{{end}}, in {{printf "%.2f" .Wall}} s: {{printf "%.0f" (mul100 .Busy)}} % of {{.Cores}} cores</td></tr>{{end}}
{{range .R.Restarts}}<tr><td>restart</td><td>{{.}}</td></tr>{{end}}
</table>
{{define "chart"}}<svg width="{{.W}}" height="{{.H}}" viewBox="0 0 {{.W}} {{.H}}" role="img">
{{range .YTicks}}<line x1="{{$.Left}}" x2="{{$.Right}}" y1="{{.Pos}}" y2="{{.Pos}}" stroke="#eee"/><text class="ytick" x="{{$.Left}}" dx="-6" y="{{.Pos}}" dy="4" text-anchor="end">{{.Label}}</text>
{{end}}{{range .XTicks}}<line class="xtickmark" x1="{{.Pos}}" x2="{{.Pos}}" y1="{{$.Bott}}" y2="{{plus $.Bott 5}}" stroke="#333"/><text class="xtick" x="{{.Pos}}" y="{{$.Bott}}" dy="19" text-anchor="middle">{{.Label}}</text>
{{end}}{{range .Bars}}<rect x="{{.X}}" y="{{.Y}}" width="{{.W}}" height="{{.H}}" fill="{{.Color}}"><title>{{.Title}}</title></rect>
{{end}}{{range .Dots}}<circle cx="{{.X}}" cy="{{.Y}}" r="2" fill="{{.Color}}" fill-opacity="0.8"><title>{{.Title}}</title></circle>
{{end}}<line class="xaxis" x1="{{.Left}}" x2="{{.Right}}" y1="{{.Bott}}" y2="{{.Bott}}" stroke="#333"/><line class="yaxis" x1="{{.Left}}" x2="{{.Left}}" y1="{{.Top}}" y2="{{.Bott}}" stroke="#333"/>
{{range .Lines}}<line class="ref" x1="{{$.Left}}" x2="{{$.Right}}" y1="{{.Y}}" y2="{{.Y}}" stroke="{{.Color}}" stroke-width="1.5"{{if .Dashed}} stroke-dasharray="5 4"{{end}}/><text class="reflabel" x="{{plus $.Right 10}}" y="{{.LabelY}}" dy="4" style="fill:{{.Color}}">{{.Label}}</text><polyline points="{{$.Right}},{{.Y}} {{plus $.Right 3}},{{.Y}} {{plus $.Right 7}},{{.LabelY}}" fill="none" stroke="{{.Color}}"/>
{{end}}<text class="xtitle" x="{{mid .Left .Right}}" y="{{.H}}" dy="-8" text-anchor="middle">{{.XTitle}}</text>
<text class="ytitle" transform="translate(16 {{mid .Top .Bott}}) rotate(-90)" text-anchor="middle">{{.YTitle}}</text>
</svg>{{end}}
<h2>End-to-end latency over time</h2>
<p>Each dot is one application: when it arrived in Personio (across) and how long after its event was posted to ingest (up). Hover a dot for its values.</p>
<ul class="legend" id="latency-legend">{{range .Legend}}<li><span style="background:{{.Color}}"></span>{{.Label}}</li>{{end}}</ul>
<figure id="latency">{{template "chart" .Latency}}</figure>
{{if .Stages}}<h2>Where the time goes</h2>
<p>Each delivered event's end-to-end time, stage by stage: ingest (post to answer), then the handling that delivered it — queue (sent to handled, less the wait for its turn), claim, prepare (integration, connection, token, mapping), budget (the wait for its turn and the take), download (the wait for one of the worker's file transfers, then until the file's host answered), upload (streaming it to Personio), create (Personio's answer), record — and other (earlier handlings and the copies between them).</p>
<table><tr><th>stage</th><th>mean</th><th>p50</th><th>p95</th><th>p99</th></tr>
{{range .Stages}}<tr><td><span style="display:inline-block;width:10px;height:10px;background:{{.Color}}"></span> {{.Name}}</td><td>{{printf "%.1f" .S.Mean}}</td><td>{{printf "%.1f" .S.P50}}</td><td>{{printf "%.1f" .S.P95}}</td><td>{{printf "%.1f" .S.P99}} ms</td></tr>{{end}}
</table>
<p>The delivered events in tenths by end-to-end time, fastest first; each bar is the tenth's mean time in each stage.</p>
<svg width="820" height="{{.StackH}}">
{{range .Swatches}}<rect x="{{.X}}" y="4" width="10" height="10" fill="{{.Color}}"/><text x="{{.X}}" dx="13" y="13" font-size="11">{{.Name}}</text>{{end}}
{{range .Stacks}}<text x="4" y="{{.Y}}" dy="13" font-size="11">{{.Label}}</text>{{$y := .Y}}{{range .Parts}}<rect x="{{.X}}" y="{{$y}}" width="{{.W}}" height="16" fill="{{.Color}}"><title>{{.Title}}</title></rect>{{end}}{{end}}
</svg>{{end}}
<h2>Requests per company per {{.R.Window}} s window</h2>
<p>Each bar is the requests Personio received from one company in one window, counted from the start of the run; the red line is the budget, Personio's limit per window.</p>
<ul class="legend" id="requests-legend">{{range .Legend}}<li><span style="background:{{.Color}}"></span>{{.Label}}</li>{{end}}</ul>
<figure id="requests">{{template "chart" .Requests}}</figure>
{{with .R.AWS}}<h2>AWS requests and cost per delivered application</h2>
{{if .Error}}<p>No cost: {{.Error}}</p>{{else}}{{with .Cost}}
<p><b>${{printf "%.2f" .USDPerMillion}} per million applications</b>, {{printf "%.1f" .Requests}} billed requests per application
({{.Delivered}} delivered; {{.Region}} prices of {{.PricesDate}}; {{printf "%.0f" (mul100 .ReportedUnits)}} % of DynamoDB's units as DynamoDB reported them, the rest computed from item sizes).</p>
<table><tr><th>service</th><th>requests</th><th>USD per million</th></tr>
{{range .Services}}<tr><td>{{.Name}}</td><td>{{printf "%.2f" .Requests}}</td><td>{{printf "%.2f" .USDPerMillion}}</td></tr>{{end}}</table>
<table><tr><th>operation</th><th>requests</th><th>read units</th><th>write units</th><th>GB-s</th><th>USD per million</th></tr>
{{range .Operations}}<tr><td>{{.Name}}</td><td>{{printf "%.2f" .Requests}}</td><td>{{printf "%.2f" .ReadUnits}}</td><td>{{printf "%.2f" .WriteUnits}}</td><td>{{printf "%.4f" .GBSeconds}}</td><td>{{printf "%.3f" .USDPerMillion}}</td></tr>{{end}}</table>
{{if .TimeDriven}}<p>By the clock, not per application (left out above):{{range .TimeDriven}} {{.Name}} {{printf "%.2f" .Requests}};{{end}} requests outside the stack (the run's own reads): {{.Outside}}.</p>{{end}}
{{end}}{{end}}{{end}}
</body></html>
`))
