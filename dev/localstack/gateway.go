package localstack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"

	"github.com/funnel-personio/funnel-personio/pkg/apigw"
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
			// API Gateway's authorizer answers this itself, in AWS as
			// {"message":"Unauthorized"}; here it says what to do.
			writeResponse(w, unauthorized(err))
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
	writeResponse(w, resp)
}

// writeResponse writes a Lambda's answer as API Gateway does.
func writeResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) {
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

// getToken is how a person gets a token for the local stack.
const getToken = "Locally, get one with `go run ./functions/local token` (or `bin/local token -workspace ws_demo -plan advanced`); `make run` prints one too."

// unauthorized is the local stack's answer to a request the JWT
// authorizer refuses: the problem the editor API's document promises
// (401 unauthorized), saying why and how to get a token, with the
// WWW-Authenticate header API Gateway sends. In AWS, API Gateway answers
// {"message":"Unauthorized"} itself (HTTP APIs have no gateway responses
// to change it); the document describes both.
func unauthorized(err error) events.APIGatewayV2HTTPResponse {
	detail, code := "This API needs a bearer token: send the header Authorization: Bearer <JWT>. "+getToken, "invalid_request"
	if !errors.Is(err, errNoToken) {
		detail, code = "The bearer token was refused: "+tokenProblem(err)+". "+strings.Replace(getToken, "get one", "get a new one", 1), "invalid_token"
	}
	p := apigw.NewProblem(http.StatusUnauthorized, "unauthorized", "Unauthorized", detail)
	p.Header = map[string]string{"WWW-Authenticate": `Bearer error="` + code + `"`}
	r := p.Response()
	return events.APIGatewayV2HTTPResponse{StatusCode: r.StatusCode, Headers: r.Headers, Body: r.Body}
}

// tokenProblem says in words why a JWT was refused.
func tokenProblem(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "it has expired"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "it is not signed with this stack's key (LOCAL_JWT_KEY)"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "it is not a JWT"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer), errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "it was issued for another API (issuer " + DevIssuer + ", audience " + DevAudience + " expected)"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "it has no expiry"
	}
	return "it is not valid"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
