// Package web serves the setup page: the web component
// <personio-integration> (static/personio-integration.js, one ES module,
// no build step) and the standalone page around it (index.html,
// standalone.js, standalone.css). The files in static/ are what the CDK
// stack uploads to its site bucket and what the local stack serves at /.
package web

import (
	"embed"
	"encoding/json"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// Assets are the page's files: index.html, personio-integration.js,
// standalone.js, standalone.css.
func Assets() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

// ContentSecurityPolicy is the standalone page's policy, here and on
// CloudFront (infra/site.go): scripts, styles and API calls from its own
// origin only, nothing inline, no frames.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// DevTokenTTL is how long a token from the dev endpoint lasts.
const DevTokenTTL = time.Hour

// Options configure the handler.
type Options struct {
	// DevToken, when set, serves POST /_dev/token: a JWT for the plan in
	// the JSON body ({"plan":"advanced"}), so that the standalone page
	// works without a sign-in. Only the local stack sets it; the answer
	// is never cached and the token never appears in a URL.
	DevToken func(plan string) (string, error)
}

// Handler serves the page's files at / (index.html), /<file>, and, with
// Options.DevToken, POST /_dev/token. Anything else is 404.
func Handler(opt Options) http.Handler {
	assets := Assets()
	mux := http.NewServeMux()
	if opt.DevToken != nil {
		mux.HandleFunc("POST /_dev/token", func(w http.ResponseWriter, r *http.Request) { devToken(w, r, opt.DevToken) })
	}
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		if name == "" {
			name = "index.html"
		}
		b, err := fs.ReadFile(assets, name)
		if err != nil || strings.Contains(name, "/") {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		securityHeaders(h)
		ct := mime.TypeByExtension(path.Ext(name))
		if strings.HasSuffix(name, ".js") {
			ct = "text/javascript; charset=utf-8"
		}
		h.Set("Content-Type", ct)
		h.Set("Cache-Control", "no-cache")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(b)
	})
	return mux
}

// securityHeaders are the headers CloudFront's response headers policy
// adds to the hosted page.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}

// devToken mints a JWT for the standalone page. It takes only a JSON POST
// (a cross-site page cannot send one without a CORS preflight, which this
// endpoint never answers) and answers with no-store.
func devToken(w http.ResponseWriter, r *http.Request, mint func(string) (string, error)) {
	w.Header().Set("Cache-Control", "no-store")
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		http.Error(w, "a JSON body is required", http.StatusUnsupportedMediaType)
		return
	}
	var body struct {
		Plan string `json:"plan"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1024)).Decode(&body); err != nil && err != io.EOF {
		http.Error(w, "invalid JSON", http.StatusBadRequest)
		return
	}
	if body.Plan == "" {
		body.Plan = "advanced"
	}
	if len(body.Plan) > 32 || strings.Trim(body.Plan, "abcdefghijklmnopqrstuvwxyz_") != "" {
		http.Error(w, "plan is a lower-case word", http.StatusBadRequest)
		return
	}
	token, err := mint(body.Plan)
	if err != nil {
		http.Error(w, "could not mint a token", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token": token, "expires_in": int(DevTokenTTL.Seconds())})
}
