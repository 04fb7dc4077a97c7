// Package apigw turns API Gateway HTTP API (v2) events into routed,
// authenticated, validated requests and answers them in JSON, with errors as
// RFC 9457 problem details. Request bodies are validated against the API's
// OpenAPI 3.1 document, every problem at once.
package apigw

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/getkin/kin-openapi/openapi3"

	"github.com/funnel-personio/funnel-personio/pkg/problem"
)

// DefaultMaxBody bounds request bodies.
const DefaultMaxBody = 128 << 10

// Claims are what the JWT authorizer vouches for.
type Claims struct {
	Workspace string
	Plan      string
}

// Request is a routed request.
type Request struct {
	Method string
	Path   string
	// Params holds the path parameters by name.
	Params map[string]string
	Query  url.Values
	Header http.Header
	Body   []byte
	Claims Claims
}

// Response is what a handler answers.
type Response = events.APIGatewayV2HTTPResponse

// Problem, FieldError, NewProblem, JSON, NoContent and ProblemBase are the
// problem package's, for handlers that use the router.
type (
	Problem    = problem.Problem
	FieldError = problem.FieldError
)

// ProblemBase prefixes every problem type.
const ProblemBase = problem.Base

// NewProblem returns a problem of a kind.
func NewProblem(status int, kind, title, detail string) *Problem {
	return problem.New(status, kind, title, detail)
}

// JSON answers a value as JSON.
func JSON(status int, v any, header map[string]string) Response {
	return problem.JSON(status, v, header)
}

// NoContent answers 204.
func NoContent() Response { return problem.NoContent() }

// Handler answers one route.
type Handler func(ctx context.Context, r *Request) Response

// Router routes API Gateway v2 events to handlers.
type Router struct {
	routes  []*route
	spec    *openapi3.T
	maxBody int
	log     *slog.Logger
	// Authorize may refuse a request whose claims are present but not
	// enough (the plan); it returns nil to let it through.
	Authorize func(Claims) *Problem
}

type route struct {
	method   string
	segments []string
	pattern  string
	handler  Handler
	schema   *openapi3.Schema // request body schema, if the spec has one
	optional bool             // the body may be empty
}

// NewRouter returns a router that validates bodies against the OpenAPI
// document spec.
func NewRouter(spec []byte, log *slog.Logger) (*Router, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("apigw: load spec: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("apigw: spec: %w", err)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Router{spec: doc, maxBody: DefaultMaxBody, log: log}, nil
}

// Handle adds a route; pattern is the spec's path ("/v1/connections/{connection_id}").
// It panics if the spec has no such operation, so routes and spec cannot
// drift apart.
func (rt *Router) Handle(method, pattern string, h Handler) {
	item := rt.spec.Paths.Value(pattern)
	if item == nil || item.GetOperation(method) == nil {
		panic(fmt.Sprintf("apigw: the spec has no %s %s", method, pattern))
	}
	r := &route{method: method, pattern: pattern, segments: strings.Split(strings.Trim(pattern, "/"), "/"), handler: h}
	if rb := item.GetOperation(method).RequestBody; rb != nil && rb.Value != nil {
		if mt := rb.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
			r.schema = mt.Schema.Value
			r.optional = !rb.Value.Required
		}
	}
	rt.routes = append(rt.routes, r)
}

// match finds the route of a path; found reports whether any route has
// the path (for 405 against 404).
func (rt *Router) match(method, path string) (r *route, params map[string]string, found bool) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	for _, cand := range rt.routes {
		if len(cand.segments) != len(segs) {
			continue
		}
		p := map[string]string{}
		ok := true
		for i, s := range cand.segments {
			if strings.HasPrefix(s, "{") {
				v, err := url.PathUnescape(segs[i])
				if err != nil || v == "" {
					ok = false
					break
				}
				p[strings.Trim(s, "{}")] = v
			} else if s != segs[i] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		found = true
		if cand.method == method {
			return cand, p, true
		}
	}
	return nil, nil, found
}

// Serve answers one API Gateway v2 event. It never returns an error: every
// failure is a problem response, and a panic in a handler is a 500.
func (rt *Router) Serve(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (resp Response, _ error) {
	defer func() {
		if p := recover(); p != nil {
			rt.log.ErrorContext(ctx, "handler panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp = NewProblem(http.StatusInternalServerError, "internal", "Internal error", "").Response()
		}
	}()
	method := ev.RequestContext.HTTP.Method
	path := ev.RawPath
	if path == "" {
		path = ev.RequestContext.HTTP.Path
	}
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return NewProblem(http.StatusBadRequest, "validation", "Invalid request", "the body is not valid base64").Response(), nil
		}
		body = b
	}
	if len(body) > rt.maxBody {
		return NewProblem(http.StatusRequestEntityTooLarge, "payload-too-large", "Request too large",
			fmt.Sprintf("the body is %d bytes; at most %d are accepted", len(body), rt.maxBody)).Response(), nil
	}
	r, params, found := rt.match(method, path)
	if r == nil {
		if found {
			return NewProblem(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed", method+" is not allowed on "+path).Response(), nil
		}
		return NewProblem(http.StatusNotFound, "not-found", "Not found", "no such endpoint: "+path).Response(), nil
	}
	claims, ok := claimsOf(ev)
	if !ok {
		return NewProblem(http.StatusUnauthorized, "unauthorized", "Unauthorized", "the request carries no workspace_id claim").Response(), nil
	}
	if rt.Authorize != nil {
		if p := rt.Authorize(claims); p != nil {
			return p.Response(), nil
		}
	}
	if p := r.validate(body); p != nil {
		return p.Response(), nil
	}
	req := &Request{Method: method, Path: path, Params: params, Header: http.Header{}, Body: body, Claims: claims}
	req.Query, _ = url.ParseQuery(ev.RawQueryString)
	for k, v := range ev.Headers {
		req.Header.Set(k, v)
	}
	return r.handler(ctx, req), nil
}

// claimsOf reads the JWT authorizer's claims from the request context.
func claimsOf(ev events.APIGatewayV2HTTPRequest) (Claims, bool) {
	a := ev.RequestContext.Authorizer
	if a == nil || a.JWT == nil {
		return Claims{}, false
	}
	c := Claims{Workspace: a.JWT.Claims["workspace_id"], Plan: a.JWT.Claims["plan"]}
	return c, c.Workspace != ""
}

// validate checks a body against the route's schema, reporting every
// problem.
func (r *route) validate(body []byte) *Problem {
	if r.schema == nil {
		if len(bytes.TrimSpace(body)) > 0 {
			return NewProblem(http.StatusBadRequest, "validation", "Invalid request", "this endpoint takes no body")
		}
		return nil
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if r.optional {
			return nil
		}
		return NewProblem(http.StatusBadRequest, "validation", "Invalid request", "a JSON body is required")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return NewProblem(http.StatusBadRequest, "validation", "Invalid request", "the body is not valid JSON: "+err.Error())
	}
	if dec.More() {
		return NewProblem(http.StatusBadRequest, "validation", "Invalid request", "the body has data after the JSON value")
	}
	doc = numbersToFloats(doc)
	err := r.schema.VisitJSON(doc, openapi3.MultiErrors(), openapi3.EnableJSONSchema2020())
	if err == nil {
		return nil
	}
	p := NewProblem(http.StatusBadRequest, "validation", "Invalid request", "the body does not match the API's schema")
	p.Errors = schemaErrors(err)
	return p
}

// numbersToFloats gives kin-openapi the float64 numbers it validates.
func numbersToFloats(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case map[string]any:
		for k, e := range x {
			x[k] = numbersToFloats(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbersToFloats(e)
		}
	}
	return v
}

// schemaErrors flattens kin-openapi's errors into path + message.
func schemaErrors(err error) []FieldError {
	var out []FieldError
	var me openapi3.MultiError
	if errors.As(err, &me) {
		for _, e := range me {
			out = append(out, schemaErrors(e)...)
		}
		return out
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		path := "/" + strings.Join(se.JSONPointer(), "/")
		msg := se.Reason
		if msg == "" {
			msg = se.Error()
		}
		return []FieldError{{Path: path, Message: msg}}
	}
	return []FieldError{{Path: "/", Message: err.Error()}}
}
