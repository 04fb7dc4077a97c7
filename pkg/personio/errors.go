package personio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Reason is one error code Personio gives for a field, with its optional
// context.
type Reason struct {
	Reason  string         `json:"reason"`
	Context map[string]any `json:"context,omitempty"`
}

// FieldError is the field-shaped error: every reason Personio gives for one
// field of the request.
type FieldError struct {
	Field   string   `json:"field"`
	Reasons []Reason `json:"errors"`
}

// FieldErrors is a list of field errors, as Personio returns them.
type FieldErrors []FieldError

// Problem is the problem-shaped error: an internal reference, the HTTP
// status and a title, with an optional detail.
type Problem struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Title  string `json:"title"`
	Detail string `json:"detail,omitempty"`
}

// ErrorBody is a parsed error_response: Personio mixes both shapes in one
// "errors" array, so both are kept.
type ErrorBody struct {
	Fields   FieldErrors
	Problems []Problem
	// Raw holds the start of a body that was not an error_response (an HTML
	// page from a proxy, say), for diagnosis; at most 200 bytes.
	Raw string
}

// Reasons returns every reason code in the body, field reasons first, then
// the detail of each problem.
func (b ErrorBody) Reasons() []string {
	var out []string
	for _, f := range b.Fields {
		for _, r := range f.Reasons {
			out = append(out, r.Reason)
		}
	}
	for _, p := range b.Problems {
		if p.Detail != "" {
			out = append(out, p.Detail)
		}
	}
	return out
}

// HasReason reports whether the body carries the reason code.
func (b ErrorBody) HasReason(reason string) bool {
	for _, r := range b.Reasons() {
		if r == reason {
			return true
		}
	}
	return false
}

// String renders the body as "field: reason, reason; detail".
func (b ErrorBody) String() string {
	var parts []string
	for _, f := range b.Fields {
		rs := make([]string, 0, len(f.Reasons))
		for _, r := range f.Reasons {
			rs = append(rs, r.Reason)
		}
		parts = append(parts, f.Field+": "+strings.Join(rs, ", "))
	}
	for _, p := range b.Problems {
		s := p.Title
		if p.Detail != "" {
			if s != "" {
				s += ": "
			}
			s += p.Detail
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 && b.Raw != "" {
		parts = append(parts, strconv.Quote(b.Raw))
	}
	return strings.Join(parts, "; ")
}

// ParseErrorBody reads an error_response body. It never fails: a body that is
// not an error_response comes back with only Raw set, and an empty body as an
// empty ErrorBody.
func ParseErrorBody(body []byte) ErrorBody {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return ErrorBody{}
	}
	var doc struct {
		Errors []struct {
			Field   *string         `json:"field"`
			Errors  []Reason        `json:"errors"`
			ID      json.RawMessage `json:"id"`
			Status  json.RawMessage `json:"status"`
			Title   string          `json:"title"`
			Detail  string          `json:"detail"`
			Message string          `json:"message"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Errors == nil {
		return ErrorBody{Raw: truncate(body, 200)}
	}
	var out ErrorBody
	for _, e := range doc.Errors {
		if e.Field != nil {
			out.Fields = append(out.Fields, FieldError{Field: *e.Field, Reasons: e.Errors})
			continue
		}
		detail := e.Detail
		if detail == "" {
			detail = e.Message
		}
		out.Problems = append(out.Problems, Problem{
			ID: scalarString(e.ID), Status: scalarString(e.Status), Title: e.Title, Detail: detail,
		})
	}
	return out
}

// scalarString reads a JSON string or number as a string; Personio sends
// status as a string, but a number is read too.
func scalarString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	for len(b) > 0 && !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	return string(b)
}

// retryable is implemented by every error type of this package.
type retryable interface{ Retryable() bool }

// IsRetryable reports whether err, or an error it wraps, is one that may
// succeed if the same request is sent again later: rate limiting, server
// errors and transport failures. Validation, authentication and
// feature errors are permanent; so is any error this package does not know.
func IsRetryable(err error) bool {
	var r retryable
	return errors.As(err, &r) && r.Retryable()
}

// ValidationError is a request Personio refused for its content: 400 with
// field reasons or "Invalid request body supplied", 413 and 422 for
// documents. StatusCode 0 means the client refused it before sending.
// Permanent: the same request will be refused again.
type ValidationError struct {
	Op         string
	StatusCode int
	Body       ErrorBody
}

func (e *ValidationError) Error() string {
	return e.Op + ": " + statusText(e.StatusCode, "invalid request") + ": " + e.Body.String()
}

// Retryable returns false.
func (e *ValidationError) Retryable() bool { return false }

// AlreadyExistsError is Personio's answer to a second application with the
// same e-mail for the same job position (400
// errors.applicant-already-exists). After a request whose outcome was
// unknown it means the first one arrived. Permanent.
type AlreadyExistsError struct {
	Op   string
	Body ErrorBody
}

func (e *AlreadyExistsError) Error() string {
	return e.Op + ": 400 applicant already exists for this job position"
}

// Retryable returns false.
func (e *AlreadyExistsError) Retryable() bool { return false }

// AuthError is a 401: the token and company id pair was not recognised.
// Permanent until the credentials are replaced.
type AuthError struct {
	Op   string
	Body ErrorBody
}

func (e *AuthError) Error() string {
	return e.Op + ": 401 company id or access token not recognised"
}

// Retryable returns false.
func (e *AuthError) Retryable() bool { return false }

// FeatureDisabledError is a 403: the company has no recruiting, or no access
// to the recruiting API. Reason is feature.recruiting.disabled or
// feature.public-api.disabled when Personio says which. Permanent until the
// company's Personio plan changes.
type FeatureDisabledError struct {
	Op     string
	Reason string
	Body   ErrorBody
}

func (e *FeatureDisabledError) Error() string {
	r := e.Reason
	if r == "" {
		r = e.Body.String()
	}
	return e.Op + ": 403 feature disabled: " + r
}

// Retryable returns false.
func (e *FeatureDisabledError) Retryable() bool { return false }

// RateLimitError is a 429. Personio allows 20 requests per 60 seconds per
// company and asks callers to wait 60 seconds after a 429; it promises no
// Retry-After header, so RetryAfter is zero unless one was sent.
type RateLimitError struct {
	Op         string
	RetryAfter int // seconds, from a Retry-After header if present
}

func (e *RateLimitError) Error() string { return e.Op + ": 429 rate limited" }

// Retryable returns true.
func (e *RateLimitError) Retryable() bool { return true }

// ServerError is a 5xx answer. Retryable.
type ServerError struct {
	Op         string
	StatusCode int
	Body       ErrorBody
}

func (e *ServerError) Error() string {
	s := e.Op + ": " + statusText(e.StatusCode, "server error")
	if b := e.Body.String(); b != "" {
		s += ": " + b
	}
	return s
}

// Retryable returns true.
func (e *ServerError) Retryable() bool { return true }

// TransportError is a request that got no HTTP answer: a timeout, a reset
// or dropped connection, a refused connection. The request may or may not
// have reached Personio (Unknown outcome). Retryable.
type TransportError struct {
	Op      string
	Timeout bool
	Err     error
}

func (e *TransportError) Error() string { return e.Op + ": " + e.Err.Error() }

// Unwrap returns the underlying network error.
func (e *TransportError) Unwrap() error { return e.Err }

// Retryable returns true.
func (e *TransportError) Retryable() bool { return true }

// UnexpectedResponseError is an answer the contract does not describe (a 404
// from a wrong base URL, a 2xx with an unreadable body). Permanent.
type UnexpectedResponseError struct {
	Op         string
	StatusCode int
	Body       ErrorBody
	Err        error
}

func (e *UnexpectedResponseError) Error() string {
	s := e.Op + ": unexpected " + statusText(e.StatusCode, "response")
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	if b := e.Body.String(); b != "" {
		s += ": " + b
	}
	return s
}

// Unwrap returns the decoding error, if any.
func (e *UnexpectedResponseError) Unwrap() error { return e.Err }

// Retryable returns false.
func (e *UnexpectedResponseError) Retryable() bool { return false }

func statusText(code int, fallback string) string {
	if code == 0 {
		return fallback
	}
	return fmt.Sprintf("%d %s", code, http.StatusText(code))
}

// errorFor turns a non-success answer into the typed error for its status.
func errorFor(op string, status int, header http.Header, body []byte) error {
	b := ParseErrorBody(body)
	switch {
	case status == http.StatusBadRequest:
		if onlyReason(b, ReasonApplicantExists) {
			return &AlreadyExistsError{Op: op, Body: b}
		}
		return &ValidationError{Op: op, StatusCode: status, Body: b}
	case status == http.StatusRequestEntityTooLarge, status == http.StatusUnprocessableEntity:
		return &ValidationError{Op: op, StatusCode: status, Body: b}
	case status == http.StatusUnauthorized:
		return &AuthError{Op: op, Body: b}
	case status == http.StatusForbidden:
		reason := ""
		for _, r := range b.Reasons() {
			if r == ReasonRecruitingDisabled || r == ReasonPublicAPIDisabled {
				reason = r
				break
			}
		}
		return &FeatureDisabledError{Op: op, Reason: reason, Body: b}
	case status == http.StatusTooManyRequests:
		after, _ := strconv.Atoi(header.Get("Retry-After"))
		return &RateLimitError{Op: op, RetryAfter: max(after, 0)}
	case status >= 500:
		return &ServerError{Op: op, StatusCode: status, Body: b}
	default:
		return &UnexpectedResponseError{Op: op, StatusCode: status, Body: b}
	}
}

func onlyReason(b ErrorBody, reason string) bool {
	rs := b.Reasons()
	if len(rs) == 0 {
		return false
	}
	for _, r := range rs {
		if r != reason {
			return false
		}
	}
	return true
}
