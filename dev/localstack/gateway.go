package localstack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// APIHandler is a Lambda handler for API Gateway HTTP API (v2) events.
type APIHandler func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Gateway plays API Gateway: each HTTP request becomes an HTTP API v2
// event for the handler of its route. Routes with auth get the JWT checked
// and its claims in the request context, as the JWT authorizer does.
type Gateway struct {
	auth   *DevAuth
	routes []gatewayRoute
}

type gatewayRoute struct {
	method, prefix string
	exact          bool
	auth           bool
	handler        APIHandler
}

// maxGatewayBody is API Gateway's payload limit.
const maxGatewayBody = 10 << 20

// Route adds a route: method ("" any), a path (exact) or prefix ending in
// "/", whether it needs a JWT, and the handler.
func (g *Gateway) Route(method, path string, auth bool, h APIHandler) {
	g.routes = append(g.routes, gatewayRoute{method: method, prefix: path, exact: !strings.HasSuffix(path, "/"), auth: auth, handler: h})
}

// ServeHTTP converts, routes and answers.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var route *gatewayRoute
	for i := range g.routes {
		rt := &g.routes[i]
		if (rt.method == "" || rt.method == r.Method) && (rt.exact && r.URL.Path == rt.prefix || !rt.exact && strings.HasPrefix(r.URL.Path, rt.prefix)) {
			route = rt
			break
		}
	}
	if route == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxGatewayBody+1))
	if err != nil || len(body) > maxGatewayBody {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"message": "Request Entity Too Large"})
		return
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery,
		Headers: map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: "$default", Stage: "$default", RequestID: newRequestID(), TimeEpoch: time.Now().UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.Method, Path: r.URL.Path, Protocol: r.Proto,
				SourceIP: r.RemoteAddr, UserAgent: r.UserAgent()},
		},
	}
	for k, v := range r.Header {
		ev.Headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	if utf8.Valid(body) {
		ev.Body = string(body)
	} else {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	if route.auth {
		claims, err := g.auth.Verify(r.Header.Get("Authorization"))
		if err != nil {
			// API Gateway's authorizer answers this itself.
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Unauthorized"})
			return
		}
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims}}
	}
	resp, err := route.handler(r.Context(), ev)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": "Internal Server Error"})
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	out := []byte(resp.Body)
	if resp.IsBase64Encoded {
		out, _ = base64.StdEncoding.DecodeString(resp.Body)
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
