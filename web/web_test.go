package web_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/funnel-personio/funnel-personio/web"
)

// MaxPageBytes is the page's budget: JS + CSS + HTML, uncompressed.
const MaxPageBytes = 108 * 1024

// TestPageWeight adds up every file the page loads (there are no others:
// no fonts, no images) and holds it to 108 KB uncompressed.
func TestPageWeight(t *testing.T) {
	total := 0
	err := fs.WalkDir(web.Assets(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(web.Assets(), path)
		if err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(path, ".js"), strings.HasSuffix(path, ".css"), strings.HasSuffix(path, ".html"):
		default:
			t.Errorf("%s: the page ships only JS, CSS and HTML", path)
		}
		t.Logf("%-26s %6d bytes", path, len(b))
		total += len(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("page weight: %d bytes (JS + CSS + HTML, uncompressed)", total)
	if total > MaxPageBytes {
		t.Errorf("the page weighs %d bytes, over %d", total, MaxPageBytes)
	}
	writeFigure(t, "page_bytes", total)
}

func TestHandler(t *testing.T) {
	minted := ""
	h := web.Handler(web.Options{DevToken: func(plan string) (string, error) { minted = plan; return "jwt-for-" + plan, nil }})
	get := func(method, path, ctype, body string) *http.Response {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Result()
	}
	for path, ctype := range map[string]string{"/": "text/html", "/index.html": "text/html", "/personio-integration.js": "text/javascript",
		"/standalone.js": "text/javascript", "/standalone.css": "text/css"} {
		res := get("GET", path, "", "")
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), ctype) {
			t.Errorf("GET %s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
		}
		if res.Header.Get("Content-Security-Policy") != web.ContentSecurityPolicy || res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: security headers %v", path, res.Header)
		}
	}
	for _, path := range []string{"/nope", "/static/index.html", "/_dev/token", "/web.go"} {
		if res := get("GET", path, "", ""); res.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404", path, res.StatusCode)
		}
	}
	if res := get("GET", "/../web.go", "", ""); res.StatusCode == 200 {
		t.Error("GET /../web.go answered 200")
	}
	res := get("POST", "/_dev/token", "application/json", `{"plan":"basic"}`)
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(b), `"token":"jwt-for-basic"`) || minted != "basic" || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("dev token: %d %s %v", res.StatusCode, b, res.Header)
	}
	// A cross-site form post cannot send JSON without a preflight.
	if res := get("POST", "/_dev/token", "text/plain", `{"plan":"basic"}`); res.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("dev token as text/plain: %d", res.StatusCode)
	}
	if res := get("POST", "/_dev/token", "application/json", `{"plan":"Robert'); DROP"}`); res.StatusCode != 400 {
		t.Errorf("dev token for an odd plan: %d", res.StatusCode)
	}
	// Without DevToken there is no such endpoint (the hosted page).
	rec := httptest.NewRecorder()
	web.Handler(web.Options{}).ServeHTTP(rec, httptest.NewRequest("POST", "/_dev/token", strings.NewReader("{}")))
	if rec.Code == 200 {
		t.Error("the dev token endpoint answers without Options.DevToken")
	}
}
