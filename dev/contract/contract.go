// Package contract holds HTTP exchanges with a Personio implementation to
// Personio's published OpenAPI file: every request is validated against the
// operation's parameters, security and body schema, every answer against the
// response schema of its status. Tests wrap the sandbox with it to prove
// that what the sandbox accepts is valid per the spec and that what it
// answers matches the spec.
package contract

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// SpecFile is where the repository keeps Personio's OpenAPI file, relative
// to the module root.
const SpecFile = "testdata/personio/personio-recruiting-api.yaml"

// SpecV2File is where the repository keeps the definitions of Personio's
// v2 read endpoints it builds on (token, applications, candidates, jobs),
// relative to the module root; its README says where they come from.
const SpecV2File = "testdata/personio/v2/recruiting-read.json"

// SpecPath returns the absolute path of Personio's OpenAPI file in this
// source tree.
func SpecPath() string { return repoPath(SpecFile) }

// SpecV2Path returns the absolute path of the v2 read definitions in this
// source tree.
func SpecV2Path() string { return repoPath(SpecV2File) }

func repoPath(rel string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", rel)
}

var defineFormats sync.Once

// Checker validates exchanges against one OpenAPI document.
type Checker struct {
	router routers.Router
}

// Load reads and validates the OpenAPI file at path. The document's
// servers are dropped so that its paths match any host (the sandbox runs on
// loopback, not on api.personio.de).
func Load(path string) (*Checker, error) {
	defineFormats.Do(func() {
		openapi3.DefineStringFormatValidator("email", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForEmail))
		openapi3.DefineStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(openapi3.FormatOfStringForUUIDOfRFC9562))
		openapi3filter.RegisterBodyDecoder("application/xml", decodeXML)
	})
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("contract: read spec: %w", err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("contract: load spec: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("contract: spec is not valid OpenAPI: %w", err)
	}
	doc.Servers = nil
	for _, item := range doc.Paths.Map() {
		item.Servers = nil
		for _, op := range item.Operations() {
			op.Servers = nil
		}
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("contract: router: %w", err)
	}
	return &Checker{router: router}, nil
}

// Exchange is one request and its answer, as checked.
type Exchange struct {
	Method string
	Path   string
	Status int
	// Routed is false for paths the spec does not describe (the sandbox's
	// own view, say); nothing else is checked for them.
	Routed bool
	// RequestErr says why the request is not valid per the spec, or nil.
	RequestErr error
	// ResponseErr says why the answer does not match the spec, or nil.
	ResponseErr error
}

// Accepted reports whether the answer was a success.
func (e Exchange) Accepted() bool { return e.Status >= 200 && e.Status < 300 }

// Violation describes how the exchange breaks the contract, or "": a
// request that the spec forbids was accepted, or an answer does not match
// the spec.
func (e Exchange) Violation() string {
	var v []string
	if e.Accepted() && e.RequestErr != nil {
		v = append(v, "accepted a request the spec forbids: "+e.RequestErr.Error())
	}
	if e.ResponseErr != nil {
		v = append(v, "answer does not match the spec: "+e.ResponseErr.Error())
	}
	if len(v) == 0 {
		return ""
	}
	return fmt.Sprintf("%s %s -> %d: %s", e.Method, e.Path, e.Status, strings.Join(v, "; "))
}

// Log collects exchanges; it is safe for concurrent use.
type Log struct {
	mu        sync.Mutex
	exchanges []Exchange
}

func (l *Log) add(e Exchange) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.exchanges = append(l.exchanges, e)
}

// Exchanges returns what was logged so far.
func (l *Log) Exchanges() []Exchange {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Exchange(nil), l.exchanges...)
}

// Violations returns the violation of every exchange that has one.
func (l *Log) Violations() []string {
	var out []string
	for _, e := range l.Exchanges() {
		if v := e.Violation(); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Middleware serves h and checks every exchange, logging it in log. An
// answer h never gives (a hijacked, dropped connection) is not checked.
func (c *Checker) Middleware(h http.Handler, log *Log) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		tw := &teeWriter{ResponseWriter: w}
		h.ServeHTTP(tw, r)
		if tw.hijacked {
			return
		}
		if tw.status == 0 {
			tw.status = http.StatusOK
		}
		log.add(c.Check(r.Context(), r, body, tw.status, w.Header(), tw.body.Bytes()))
	})
}

// teeWriter passes an answer through while keeping a copy.
type teeWriter struct {
	http.ResponseWriter
	status   int
	body     bytes.Buffer
	hijacked bool
}

func (t *teeWriter) WriteHeader(code int) {
	if t.status == 0 {
		t.status = code
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *teeWriter) Write(b []byte) (int, error) {
	if t.status == 0 {
		t.status = http.StatusOK
	}
	t.body.Write(b)
	return t.ResponseWriter.Write(b)
}

// Hijack hands the connection over, for handlers that drop it on purpose.
func (t *teeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := t.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, fmt.Errorf("contract: connection cannot be hijacked")
	}
	t.hijacked = true
	return hj.Hijack()
}

// Check validates one exchange.
func (c *Checker) Check(ctx context.Context, r *http.Request, reqBody []byte, status int, header http.Header, respBody []byte) Exchange {
	ex := Exchange{Method: r.Method, Path: r.URL.Path, Status: status}
	req := r.Clone(ctx)
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		return ex
	}
	ex.Routed = true
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{MultiError: true, AuthenticationFunc: bearerAuth},
	}
	ex.RequestErr = openapi3filter.ValidateRequest(ctx, in)
	in.Request.Body = io.NopCloser(bytes.NewReader(reqBody))
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: header,
		Body: io.NopCloser(bytes.NewReader(respBody)), Options: &openapi3filter.Options{MultiError: true},
	}
	ex.ResponseErr = openapi3filter.ValidateResponse(ctx, out)
	return ex
}

// bearerAuth checks the bearerAuth security scheme: an Authorization
// header "Bearer <token>".
func bearerAuth(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	if in.SecurityScheme == nil || in.SecurityScheme.Type != "http" || in.SecurityScheme.Scheme != "bearer" {
		return fmt.Errorf("unsupported security scheme %q", in.SecuritySchemeName)
	}
	token, ok := strings.CutPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return fmt.Errorf("no bearer token")
	}
	return nil
}
