package apigw

import (
	"encoding/json"
	"net/http"
)

// ProblemBase prefixes every problem type.
const ProblemBase = "https://funnel-personio.local/problems/"

// FieldError is one reason a request is invalid.
type FieldError struct {
	Path    string `json:"path"`
	Message string `json:"message"`
	// Code names the kind of mistake, and Params its values, for a
	// client that says it in its own words (and language); optional.
	Code   string            `json:"code,omitempty"`
	Params map[string]string `json:"params,omitempty"`
	// Messages, where set, are the sentence in each language the API
	// speaks, by language (en, de).
	Messages map[string]string `json:"messages,omitempty"`
}

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail,omitempty"`
	Errors []FieldError `json:"errors,omitempty"`
	// Hint is a sentence the deployment adds where it knows more than the
	// API does (the local stack: where the Personio sandbox shows its
	// current token); a client shows it instead of its own sentence for
	// the type.
	Hint string `json:"hint,omitempty"`
	// Params are the values a client's own sentence for the type needs
	// (the funnels that use a connection), by name.
	Params map[string]any `json:"params,omitempty"`
	// Header holds extra response headers (Retry-After).
	Header map[string]string `json:"-"`
}

// NewProblem returns a problem of a kind (the last part of its type URI,
// stable per kind of error).
func NewProblem(status int, kind, title, detail string) *Problem {
	return &Problem{Type: ProblemBase + kind, Title: title, Status: status, Detail: detail}
}

// Error lets a problem travel as an error.
func (p *Problem) Error() string { return p.Title + ": " + p.Detail }

// Response renders the problem.
func (p *Problem) Response() Response {
	b, _ := json.Marshal(p)
	h := map[string]string{"Content-Type": "application/problem+json"}
	for k, v := range p.Header {
		h[k] = v
	}
	return Response{StatusCode: p.Status, Headers: h, Body: string(b)}
}

// JSON answers a value as JSON with extra headers (may be nil).
func JSON(status int, v any, header map[string]string) Response {
	b, err := json.Marshal(v)
	if err != nil {
		return NewProblem(http.StatusInternalServerError, "internal", "Internal error", "").Response()
	}
	h := map[string]string{"Content-Type": "application/json"}
	for k, val := range header {
		h[k] = val
	}
	return Response{StatusCode: status, Headers: h, Body: string(b)}
}

// NoContent answers 204.
func NoContent() Response { return Response{StatusCode: http.StatusNoContent} }
