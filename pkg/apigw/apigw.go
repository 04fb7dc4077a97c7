// Package apigw is what the functions behind API Gateway's HTTP API (v2)
// share: answers in JSON, errors as RFC 9457 problem details (Problem,
// the one way to write one), and a Router that turns events into routed,
// authenticated requests whose parameters and bodies are checked against
// the API's description (a Spec, such as an OpenAPI document loaded by
// package openapi), every problem at once.
package apigw

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
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

// Response is what a handler answers: an API Gateway HTTP API (v2)
// response.
type Response = events.APIGatewayV2HTTPResponse

// Handler answers one route.
type Handler func(ctx context.Context, r *Request) Response

// Router routes API Gateway v2 events to handlers.
type Router struct {
	routes  []*route
	spec    Spec
	maxBody int
	log     *slog.Logger
	// Authorize may refuse a request whose claims are present but not
	// enough (the plan); it returns nil to let it through.
	Authorize func(Claims) *Problem
}

// Spec describes the API's operations.
type Spec interface {
	// Body returns the check of an operation's request body; ok is false
	// when the description has no such operation. pattern is the path as
	// the description writes it ("/v1/connections/{connection_id}").
	Body(method, pattern string) (check BodyCheck, ok bool)
	// Parameters returns the check of an operation's path, query and
	// header parameters (nil when it has none to check).
	Parameters(method, pattern string) ParameterCheck
}

// BodyCheck checks a request body and reports every problem at once (nil
// when the body is fine).
type BodyCheck func(body []byte) *Problem

// ParameterCheck checks a request's path parameters (by name), query and
// headers, and reports every problem at once (nil when they are fine).
type ParameterCheck func(path map[string]string, query url.Values, header http.Header) *Problem

type route struct {
	method   string
	segments []string
	pattern  string
	handler  Handler
	body     BodyCheck
	params   ParameterCheck
}

// NewRouter returns a router whose routes take the bodies spec describes.
func NewRouter(spec Spec, log *slog.Logger) *Router {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Router{spec: spec, maxBody: DefaultMaxBody, log: log}
}

// Handle adds a route; pattern is the spec's path ("/v1/connections/{connection_id}").
// It panics if the spec has no such operation, so routes and spec cannot
// drift apart.
func (rt *Router) Handle(method, pattern string, h Handler) {
	check, ok := rt.spec.Body(method, pattern)
	if !ok {
		panic(fmt.Sprintf("apigw: the spec has no %s %s", method, pattern))
	}
	rt.routes = append(rt.routes, &route{method: method, pattern: pattern, segments: strings.Split(strings.Trim(pattern, "/"), "/"), handler: h, body: check,
		params: rt.spec.Parameters(method, pattern)})
}

// match finds the route of a path; allowed lists the methods of every
// route with the path (for 405 and its Allow header, against 404).
func (rt *Router) match(method, path string) (r *route, params map[string]string, allowed []string) {
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
		if cand.method == method {
			return cand, p, nil
		}
		if !slices.Contains(allowed, cand.method) {
			allowed = append(allowed, cand.method)
		}
	}
	slices.Sort(allowed)
	return nil, nil, allowed
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
	r, params, allowed := rt.match(method, path)
	if r == nil {
		if len(allowed) > 0 {
			// RFC 9110, 15.5.6: a 405 lists the methods the resource takes.
			p := NewProblem(http.StatusMethodNotAllowed, "method-not-allowed", "Method not allowed",
				method+" is not allowed on "+path+"; it takes "+strings.Join(allowed, ", "))
			p.Header = map[string]string{"Allow": strings.Join(allowed, ", ")}
			return p.Response(), nil
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
	req := &Request{Method: method, Path: path, Params: params, Header: http.Header{}, Body: body, Claims: claims}
	req.Query, _ = url.ParseQuery(ev.RawQueryString)
	for k, v := range ev.Headers {
		req.Header.Set(k, v)
	}
	if r.params != nil {
		if p := r.params(req.Params, req.Query, req.Header); p != nil {
			return p.Response(), nil
		}
	}
	if p := r.body(body); p != nil {
		return p.Response(), nil
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
