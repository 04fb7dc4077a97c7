package loadtest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/funnel-personio/funnel-personio/dev/headless"
	"github.com/funnel-personio/funnel-personio/dev/loadtest"
)

// shots is where TestReportInChromium leaves its screenshots, to be
// looked at: .data/loadtest/<report>.png at the repository's root.
const shots = "../../.data/loadtest"

// sampleReports are two reports shaped as `make load` writes them: an
// under-budget run (ten companies, every request in the first window, so
// no budget use, a p99 target) and a backlog (one company, many windows,
// a budget-use target).
func sampleReports() []*loadtest.Report {
	under := &loadtest.Report{Name: "under-budget", Events: 100, Accepted: 100, Delivered: 100, States: map[string]int{"delivered": 100},
		P50: 400, P95: 513, P99: 607, Window: 60, Limit: 20, TargetP99Ms: 1000, BudgetUse: map[string]float64{},
		PerWindow: map[string][]int{}, CPU: &loadtest.CPUUse{Stack: 0.61, Emulator: 0.74, Wall: 1.04, Cores: 2, Apart: true}}
	for i := range 100 {
		company := strconv.Itoa(1000 + i%10)
		under.Latencies = append(under.Latencies, loadtest.Point{T: 0.5 + float64(i)*0.09, Ms: 300 + float64((i*37)%320), Company: company})
		if len(under.PerWindow[company]) == 0 {
			under.PerWindow[company] = []int{0}
		}
		under.PerWindow[company][0] += 1 + i%3/2
	}
	backlog := &loadtest.Report{Name: "backlog", Events: 1000, Accepted: 1000, Delivered: 1000, States: map[string]int{"delivered": 1000},
		P50: 150000, P95: 290000, P99: 300000, Window: 6, Limit: 20, TargetBudgetUse: 0.95, BudgetUse: map[string]float64{"1000": 0.893},
		PerWindow: map[string][]int{"1000": {}}}
	for w := range 56 {
		backlog.PerWindow["1000"] = append(backlog.PerWindow["1000"], 16+w%5)
	}
	for i := range 1000 {
		backlog.Latencies = append(backlog.Latencies, loadtest.Point{T: float64(i) * 0.33, Ms: float64(i) * 300, Company: "1000"})
	}
	return []*loadtest.Report{under, backlog}
}

// page is what a person reads off a chart, as rendered: its titles, the
// ticks with their labels and positions, the reference lines with their
// labels, the marks with their values (from their tooltips), the
// legend, and every text's box.
type chartView struct {
	XTitle, YTitle string
	XTicks, YTicks []struct {
		Label string
		Pos   float64
	}
	XAxis, YAxis float64 // the x axis' y and the y axis' x
	PlotRight    float64 // where the x axis ends
	Lines        []struct {
		Label     string
		Y         float64
		LabelY    float64 // the label's vertical middle
		LabelLeft float64
		Color     string
	}
	Marks []struct {
		Title     string
		X, Y      float64 // a dot's centre; a bar's middle and top
		Fill      string
		IsBar     bool
		BarBottom float64
	}
	Legend []struct{ Label, Color string }
	Texts  []struct {
		Text                     string
		Left, Top, Right, Bottom float64
	}
}

const readChart = `(id => {
  const fig = document.getElementById(id), svg = fig.querySelector('svg'), box = e => e.getBoundingClientRect();
  const mid = e => { const b = box(e); return [(b.left + b.right) / 2, (b.top + b.bottom) / 2]; };
  const lineY = e => box(e).top + box(e).height / 2, lineX = e => box(e).left + box(e).width / 2;
  const legend = document.getElementById(id + '-legend');
  return JSON.stringify({
    XTitle: svg.querySelector('.xtitle').textContent, YTitle: svg.querySelector('.ytitle').textContent,
    XTicks: [...svg.querySelectorAll('.xtick')].map(t => ({Label: t.textContent, Pos: mid(t)[0]})),
    YTicks: [...svg.querySelectorAll('.ytick')].map(t => ({Label: t.textContent, Pos: mid(t)[1]})),
    XAxis: lineY(svg.querySelector('.xaxis')), YAxis: lineX(svg.querySelector('.yaxis')), PlotRight: box(svg.querySelector('.xaxis')).right,
    Lines: [...svg.querySelectorAll('line.ref')].map(l => ({Label: l.nextElementSibling.textContent, Y: lineY(l), LabelY: mid(l.nextElementSibling)[1],
      LabelLeft: box(l.nextElementSibling).left, Color: l.getAttribute('stroke')})),
    Marks: [...svg.querySelectorAll('circle, rect')].map(m => m.tagName === 'circle'
      ? {Title: m.querySelector('title').textContent, X: mid(m)[0], Y: mid(m)[1], Fill: m.getAttribute('fill')}
      : {Title: m.querySelector('title').textContent, X: mid(m)[0], Y: box(m).top, BarBottom: box(m).bottom, IsBar: true, Fill: m.getAttribute('fill')}),
    Legend: [...legend.querySelectorAll('li')].map(li => ({Label: li.textContent, Color: li.querySelector('span').style.background})),
    Texts: [...svg.querySelectorAll('text')].map(t => { const b = box(t); return {Text: t.textContent, Left: b.left, Top: b.top, Right: b.right, Bottom: b.bottom}; }),
  });
})`

// TestReportInChromium opens each sample report in headless Chromium and
// reads it as a person would: both charts have axis titles with units,
// ticks from zero at the axis, the reference lines labelled beside them,
// a legend whose colours are the marks', no text on top of another, and
// values read off the axes (interpolating between two ticks) are the
// values the marks stand for. The budget-use figure says why it is
// missing when it is. Screenshots go to .data/loadtest/.
func TestReportInChromium(t *testing.T) {
	ctx := headless.Start(t, 960, 1400)
	for _, r := range sampleReports() {
		t.Run(r.Name, func(t *testing.T) {
			var page bytes.Buffer
			if err := loadtest.WriteHTML(&page, r); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_, _ = w.Write(page.Bytes())
			}))
			defer srv.Close()
			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL)); err != nil {
				t.Fatal(err)
			}
			table, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('table').innerText`))
			if err != nil {
				t.Fatal(err)
			}
			budget := regexp.MustCompile(`budget use[^\n]*\t([^\n]*)`).FindStringSubmatch(table)
			if budget == nil || strings.TrimSpace(budget[1]) == "" {
				t.Errorf("the budget-use cell is empty:\n%s", table)
			} else if len(r.BudgetUse) == 0 && !strings.Contains(budget[1], "not measured: every company's requests fell in one 60 s window") {
				t.Errorf("the budget-use cell does not say why it is empty: %q", budget[1])
			}
			wants := []string{"final states\tdelivered " + strconv.Itoa(r.Delivered)}
			if r.CPU != nil {
				wants = append(wants, "the AWS emulator 0.74 s, in 1.04 s: 65 % of 2 cores")
			}
			for _, want := range wants {
				if !strings.Contains(table, want) {
					t.Errorf("the figures do not say %q:\n%s", want, table)
				}
			}
			for _, c := range []struct {
				id, xUnit, yUnit string
				lines            []string
				value            func(title string) (x, y float64) // the values a mark stands for
			}{
				{"latency", "seconds", `\((ms|s)\)$`, []string{"p50 ", "p99 "}, func(title string) (float64, float64) {
					m := regexp.MustCompile(`in Personio ([0-9.]+) s after the start, ([0-9]+) ms`).FindStringSubmatch(title)
					x, _ := strconv.ParseFloat(m[1], 64)
					y, _ := strconv.ParseFloat(m[2], 64)
					return x, y
				}},
				{"requests", "seconds", "requests", []string{"budget: 20 per window"}, func(title string) (float64, float64) {
					m := regexp.MustCompile(`window from ([0-9\x{2009}]+) s: ([0-9]+) requests`).FindStringSubmatch(title)
					x, _ := strconv.ParseFloat(strings.ReplaceAll(m[1], "\u2009", ""), 64)
					y, _ := strconv.ParseFloat(m[2], 64)
					return x, y
				}},
			} {
				raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](readChart+`(`+strconv.Quote(c.id)+`)`))
				if err != nil {
					t.Fatal(err)
				}
				var v chartView
				if err := json.Unmarshal([]byte(raw), &v); err != nil {
					t.Fatal(err)
				}
				checkChart(t, c.id, r, v, c.xUnit, c.yUnit, c.lines, c.value)
			}
			png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(shots, 0o755); err == nil {
				_ = os.WriteFile(filepath.Join(shots, r.Name+".png"), png, 0o644)
			}
		})
	}
}

// checkChart holds one chart to what a person needs to read it.
func checkChart(t *testing.T, id string, r *loadtest.Report, v chartView, xUnit, yUnit string, lines []string, value func(string) (float64, float64)) {
	t.Helper()
	if !strings.Contains(v.XTitle, xUnit) || !regexp.MustCompile(yUnit).MatchString(v.YTitle) {
		t.Errorf("%s: axis titles %q and %q do not name their units (%s, %s)", id, v.XTitle, v.YTitle, xUnit, yUnit)
	}
	// Ticks: at least three on each axis, from zero at the axis.
	xs, ys := ticks(t, id+" x", v.XTicks), ticks(t, id+" y", v.YTicks)
	if len(xs) < 3 || len(ys) < 3 {
		t.Fatalf("%s: %d ticks across and %d up; a person needs more to read values", id, len(xs), len(ys))
	}
	if xs[0].value != 0 || math.Abs(xs[0].pos-v.YAxis) > 1 {
		t.Errorf("%s: the first tick across is %v at %.1f px, the y axis at %.1f px", id, xs[0].value, xs[0].pos, v.YAxis)
	}
	if ys[0].value != 0 || math.Abs(ys[0].pos-v.XAxis) > 1 {
		t.Errorf("%s: the lowest tick is %v at %.1f px, the x axis (zero) at %.1f px", id, ys[0].value, ys[0].pos, v.XAxis)
	}
	// Values read off the axes are the marks' values, within 1 % of each
	// axis' span.
	xSpan, ySpan := xs[len(xs)-1].value, ys[len(ys)-1].value
	for i, m := range v.Marks {
		wantX, wantY := value(m.Title)
		if strings.HasSuffix(v.YTitle, "(s)") {
			wantY /= 1000 // the marks' tooltips say ms
		}
		gotX, gotY := read(xs, m.X), read(ys, m.Y)
		if m.IsBar {
			// A bar stands over its window: its middle lies within the
			// window that starts at wantX.
			if gotX < wantX || gotX > wantX+r.Window {
				t.Errorf("%s: bar %q reads at %.2f s across", id, m.Title, gotX)
			}
			if math.Abs(m.BarBottom-v.XAxis) > 1 {
				t.Errorf("%s: bar %q does not stand on the x axis (%.1f px, axis %.1f px)", id, m.Title, m.BarBottom, v.XAxis)
			}
		} else if math.Abs(gotX-wantX) > xSpan/100 {
			t.Errorf("%s: dot %q reads %.2f across, want %.2f", id, m.Title, gotX, wantX)
		}
		if math.Abs(gotY-wantY) > ySpan/100 {
			t.Errorf("%s: mark %q reads %.1f up, want %.1f", id, m.Title, gotY, wantY)
		}
		if i > 300 {
			break
		}
	}
	// The reference lines: each labelled beside itself, right of the
	// plot (over no mark), and the label's last number is the line's value.
	for _, l := range v.Lines {
		if math.Abs(l.LabelY-l.Y) > 15 {
			t.Errorf("%s: the label %q is at %.1f px, its line at %.1f px", id, l.Label, l.LabelY, l.Y)
		}
		if l.LabelLeft < v.PlotRight {
			t.Errorf("%s: the label %q starts at %.1f px, inside the plot (to %.1f px)", id, l.Label, l.LabelLeft, v.PlotRight)
		}
		ns := regexp.MustCompile(`[0-9][0-9\x{2009}.]*`).FindAllString(l.Label, -1)
		value, _ := strconv.ParseFloat(strings.ReplaceAll(ns[len(ns)-1], "\u2009", ""), 64)
		if math.Abs(read(ys, l.Y)-value) > ySpan/100 {
			t.Errorf("%s: the line %q reads %.1f off the axis", id, l.Label, read(ys, l.Y))
		}
	}
	for _, want := range lines {
		found := false
		for _, l := range v.Lines {
			if !strings.HasPrefix(l.Label, want) {
				continue
			}
			found = true
		}
		if !found {
			t.Errorf("%s: no line labelled %q among %+v", id, want, v.Lines)
		}
	}
	if r.TargetP99Ms > 0 && id == "latency" || r.TargetBudgetUse > 0 && id == "requests" {
		found := false
		for _, l := range v.Lines {
			found = found || strings.HasPrefix(l.Label, "target")
		}
		if !found {
			t.Errorf("%s: the report's target has no line", id)
		}
	}
	// The legend names every company in its marks' colour.
	colors := map[string]string{}
	for _, m := range v.Marks {
		company := regexp.MustCompile(`company (\d+)`).FindStringSubmatch(m.Title)[1]
		colors["company "+company] = m.Fill
	}
	if len(v.Legend) != len(colors) {
		t.Errorf("%s: the legend has %d entries for %d companies", id, len(v.Legend), len(colors))
	}
	for _, l := range v.Legend {
		if fill, ok := colors[l.Label]; !ok || !sameColor(fill, l.Color) {
			t.Errorf("%s: legend %q in %s; its marks are %q", id, l.Label, l.Color, fill)
		}
	}
	// No text on top of another.
	for i, a := range v.Texts {
		for _, b := range v.Texts[i+1:] {
			if a.Left < b.Right-1 && b.Left < a.Right-1 && a.Top < b.Bottom-1 && b.Top < a.Bottom-1 {
				t.Errorf("%s: %q and %q overlap", id, a.Text, b.Text)
			}
		}
	}
}

type axisTick struct{ value, pos float64 }

// ticks parses tick labels ("1 000 ms", "20", "6 s") into values.
func ticks(t *testing.T, what string, raw []struct {
	Label string
	Pos   float64
}) []axisTick {
	var out []axisTick
	for _, r := range raw {
		n := strings.ReplaceAll(regexp.MustCompile(`^[0-9\x{2009}.]+`).FindString(r.Label), "\u2009", "")
		v, err := strconv.ParseFloat(n, 64)
		if err != nil {
			t.Errorf("%s: tick %q is no number", what, r.Label)
			continue
		}
		out = append(out, axisTick{v, r.Pos})
	}
	return out
}

// read interpolates a position between the first and last ticks.
func read(ticks []axisTick, pos float64) float64 {
	a, b := ticks[0], ticks[len(ticks)-1]
	return a.value + (pos-a.pos)/(b.pos-a.pos)*(b.value-a.value)
}

// sameColor compares "#4e79a7" with the browser's "rgb(78, 121, 167)".
func sameColor(hex, rgb string) bool {
	var r, g, b int
	if _, err := fmt.Sscanf(hex, "#%02x%02x%02x", &r, &g, &b); err != nil {
		return false
	}
	return strings.ReplaceAll(rgb, " ", "") == fmt.Sprintf("rgb(%d,%d,%d)", r, g, b)
}

// TestSummaryInWords: the figures `local load` prints and the report
// shows, said in words: budget use per company or why there is none, the
// final states with their counts.
func TestSummaryInWords(t *testing.T) {
	for _, c := range []struct {
		name   string
		r      loadtest.Report
		budget string
		states string
	}{
		{"one window", loadtest.Report{Window: 60, States: map[string]int{"delivered": 100}},
			"not measured: every company's requests fell in one 60 s window (budget use counts the full windows before the last)", "delivered 100"},
		{"companies in order", loadtest.Report{Window: 6, BudgetUse: map[string]float64{"1010": 0.5, "1002": 0.978}, PerWindow: map[string][]int{"1010": {1, 2}, "1002": {3, 4}},
			States: map[string]int{"failed": 2, "delivered": 998}},
			"company 1002 97.8 %, company 1010 50.0 %", "delivered 998, failed 2"},
		{"too many to list", manyUses(150),
			"150 companies: lowest 40.0 % (company 1000), median 65.0 %, highest 89.7 % (company 1149)", "delivered 3600"},
		{"nothing read", loadtest.Report{Window: 2}, "not measured: every company's requests fell in one 2 s window (budget use counts the full windows before the last)", "none read"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.r.BudgetUseText(); got != c.budget {
				t.Errorf("BudgetUseText = %q, want %q", got, c.budget)
			}
			if got := c.r.StatesText(); got != c.states {
				t.Errorf("StatesText = %q, want %q", got, c.states)
			}
		})
	}
}

// manyUses is a run of n companies whose budget use rises from 40 % by
// 1/3 % each.
func manyUses(n int) loadtest.Report {
	r := loadtest.Report{Window: 6, BudgetUse: map[string]float64{}, PerWindow: map[string][]int{}, States: map[string]int{"delivered": 3600}}
	for i := range n {
		c := fmt.Sprint(1000 + i)
		r.BudgetUse[c], r.PerWindow[c] = 0.4+float64(i)/300, []int{1, 1}
	}
	return r
}
