package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/funnel-personio/funnel-personio/dev/headless"
)

// chromiumPath finds Debian's chromium (make test installs it); without
// it the browser tests skip, or fail under WEB_BROWSER_REQUIRED.
func chromiumPath(t *testing.T) string { return headless.Path(t) }

// axeSource is axe-core's axe.min.js from web/node_modules (npm ci in web/).
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("node_modules", "axe-core", "axe.min.js"))
	if err != nil {
		if os.Getenv("WEB_BROWSER_REQUIRED") != "" {
			t.Fatalf("axe-core is not installed (npm ci --prefix web): %v", err)
		}
		t.Skip("axe-core is not installed (npm ci --prefix web); make test installs it")
	}
	return string(b)
}

// browser is one headless Chromium tab with what it saw: console lines,
// exceptions and request URLs.
type browser struct {
	t    *testing.T
	ctx  context.Context
	axe  string
	dir  string // screenshots
	mu   sync.Mutex
	logs []string
	urls []string
	// bytes by resource type and URL, for the page weight
	fonts int
}

func newBrowser(t *testing.T, exe, axe, dir string) *browser {
	t.Helper()
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), headless.Options(t, exe, 1280, 900)...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	b := &browser{t: t, ctx: ctx, axe: axe, dir: dir}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			b.logs = append(b.logs, string(e.Type)+": "+strings.Join(parts, " "))
		case *runtime.EventExceptionThrown:
			b.logs = append(b.logs, "exception: "+e.ExceptionDetails.Text+" "+exceptionText(e.ExceptionDetails))
		case *network.EventRequestWillBeSent:
			b.urls = append(b.urls, e.Request.URL)
			if e.Type == network.ResourceTypeFont {
				b.fonts++
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d.Exception != nil {
		return d.Exception.Description
	}
	return ""
}

func (b *browser) do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v\nconsole: %s", err, strings.Join(b.console(), "\n"))
	}
}

func (b *browser) console() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.logs...)
}

// root is the component's shadow root, in page scripts.
const root = `document.querySelector('personio-integration').shadowRoot`

// eval runs a page expression (awaiting a promise) and decodes its value.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("eval %s: %v\nconsole: %s", expr, err, strings.Join(b.console(), "\n"))
	}
	return v
}

// wait polls a page expression until it is true.
func (b *browser) wait(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!!(()=>{try{return `+expr+`}catch(e){return false}})()`))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waited 30 s for %s (%s); err %v\nconsole: %s\nsection texts: %s", what, expr, err, strings.Join(b.console(), "\n"),
				b.text(`.wrap`))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// text is the innerText of an element of the component.
func (b *browser) text(sel string) string {
	v, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(()=>{const e=`+root+`.querySelector(`+jsString(sel)+`);return e?e.innerText:''})()`))
	return v
}

func jsString(s string) string {
	j, _ := json.Marshal(s)
	return string(j)
}

// focus moves the keyboard focus to an element of the component (what a
// person does with Tab; TestKeyboardReachesEveryControl shows Tab gets
// there).
func (b *browser) focus(id string) {
	b.t.Helper()
	ok := eval[bool](b, `(()=>{const e=`+root+`.getElementById(`+jsString(id)+`);if(!e)return false;e.scrollIntoView({block:'center'});e.focus();return `+root+`.activeElement===e})()`)
	if !ok {
		b.t.Fatalf("cannot focus #%s\n%s", id, b.text(".wrap"))
	}
}

// press focuses a control and presses keys (kb.Enter on a button).
func (b *browser) press(id string, keys string) {
	b.t.Helper()
	b.focus(id)
	b.do(chromedp.KeyEvent(keys))
}

// typeInto focuses a text field, selects what it holds and types text
// over it.
func (b *browser) typeInto(id, text string) {
	b.t.Helper()
	b.focus(id)
	eval[bool](b, root+`.getElementById(`+jsString(id)+`).select() || true`)
	if text == "" {
		b.do(chromedp.KeyEvent(kb.Delete))
		return
	}
	b.do(chromedp.KeyEvent(text))
	if got := eval[string](b, root+`.getElementById(`+jsString(id)+`).value`); got != text {
		b.t.Fatalf("typed %q into #%s, it holds %q", text, id, got)
	}
}

// choose picks a <select>'s option by value with the arrow keys.
func (b *browser) choose(id, value string) {
	b.t.Helper()
	b.focus(id)
	idx := eval[[]int](b, `(()=>{const s=`+root+`.getElementById(`+jsString(id)+`);return [s.selectedIndex,[...s.options].findIndex(o=>o.value===`+jsString(value)+`)]})()`)
	if idx[1] < 0 {
		opts := eval[[]string](b, `[...`+root+`.getElementById(`+jsString(id)+`).options].map(o=>o.value)`)
		b.t.Fatalf("#%s has no option %q: %q", id, value, opts)
	}
	key := kb.ArrowDown
	n := idx[1] - idx[0]
	if n < 0 {
		key, n = kb.ArrowUp, -n
	}
	for range n {
		b.do(chromedp.KeyEvent(key))
	}
	if got := eval[string](b, root+`.getElementById(`+jsString(id)+`).value`); got != value {
		b.t.Fatalf("#%s: chose %q with the arrow keys, it shows %q", id, value, got)
	}
}

// value reads a control's value.
func (b *browser) value(id string) string {
	return eval[string](b, `(()=>{const e=`+root+`.getElementById(`+jsString(id)+`);return e?e.value:'(missing)'})()`)
}

// shot writes a screenshot of the whole page at 1280 and at 390 px to
// dir/<width>/<name>.png, and fails when the page is wider than 390 px at
// 390 (a horizontal scroll bar).
func (b *browser) shot(name string) {
	b.t.Helper()
	for _, w := range []int64{1280, 390} {
		b.do(chromedp.EmulateViewport(w, 900))
		time.Sleep(50 * time.Millisecond)
		if w == 390 {
			if sw := eval[int](b, `document.documentElement.scrollWidth`); sw > 390 {
				wide := eval[[]string](b, `[...`+root+`.querySelectorAll('*')].filter(e=>e.getBoundingClientRect().right>392).slice(0,5).map(e=>e.tagName+'#'+e.id+'.'+e.className)`)
				b.t.Errorf("%s: at 390 px the page is %d px wide: %q", name, sw, wide)
			}
		}
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			b.t.Fatalf("screenshot %s: %v", name, err)
		}
		dir := filepath.Join(b.dir, fmt.Sprint(w))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
	b.do(chromedp.EmulateViewport(1280, 900))
}

type axeResult struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
	} `json:"nodes"`
}

// axe runs axe-core on the page (shadow DOM included) at both widths and
// fails on a serious or critical violation; it returns the number of
// violations of every impact.
func (b *browser) axeCheck(name string) int {
	b.t.Helper()
	if !eval[bool](b, `typeof axe !== 'undefined'`) {
		eval[bool](b, b.axe+"\n;true")
	}
	total := 0
	for _, w := range []int64{1280, 390} {
		b.do(chromedp.EmulateViewport(w, 900))
		raw := eval[string](b, `axe.run(document, {resultTypes: ['violations']}).then(r => JSON.stringify(r.violations))`)
		var vs []axeResult
		if err := json.Unmarshal([]byte(raw), &vs); err != nil {
			b.t.Fatal(err)
		}
		for _, v := range vs {
			total++
			var where []string
			for _, n := range v.Nodes {
				where = append(where, n.HTML)
			}
			msg := fmt.Sprintf("axe %s at %d px: %s (%s): %s on %d nodes: %s", name, w, v.ID, v.Impact, v.Help, len(v.Nodes), strings.Join(where, " | "))
			if v.Impact == "serious" || v.Impact == "critical" {
				b.t.Error(msg)
			} else {
				b.t.Log(msg)
			}
		}
	}
	b.do(chromedp.EmulateViewport(1280, 900))
	return total
}

// api calls the editor API as the editor would, for the test's own checks.
func api(t *testing.T, method, url, token string, body any) (int, http.Header, map[string]any) {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, res.Header, out
}

// readmeShot writes, when WEB_README_SHOTS names a folder (make
// screenshots), a picture of part of the page for the README: at width w,
// from the top of the element `from` to the bottom of `to` (page
// expressions), scaled.
func (b *browser) readmeShot(name string, w int64, from, to string, scale float64) {
	b.t.Helper()
	dir := os.Getenv("WEB_README_SHOTS")
	if dir == "" {
		return
	}
	b.do(chromedp.EmulateViewport(w, 900))
	defer b.do(chromedp.EmulateViewport(1280, 900))
	r := eval[[]float64](b, `(()=>{const a=(`+from+`).getBoundingClientRect(),z=(`+to+`).getBoundingClientRect();return [a.top+scrollY-8, z.bottom+scrollY+8]})()`)
	yes := true
	png, err := chromedp.Call(b.ctx, page.CaptureScreenshot, page.CaptureScreenshotParams{
		Clip: &page.Viewport{X: 0, Y: max(r[0], 0), Width: float64(w), Height: r[1] - max(r[0], 0), Scale: scale}, CaptureBeyondViewport: &yes})
	if err != nil {
		b.t.Fatalf("readme shot %s: %v", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png.Data, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
