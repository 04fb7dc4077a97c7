package apigw

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// The one vocabulary of the API's 400 answers: whichever check finds a
// mistake (the document's schema, the decoding of a body, a handler), the
// same mistake is said with the same sentence, and errors[].path is the
// JSON pointer (RFC 6901) of the value it is about ("" for the body).

// Invalid is the 400 validation problem listing every error; its detail
// joins their messages.
func Invalid(errs ...FieldError) *Problem {
	msgs := make([]string, 0, len(errs))
	for _, e := range errs {
		msgs = append(msgs, e.Message)
	}
	p := NewProblem(http.StatusBadRequest, "validation", "Invalid request", strings.Join(msgs, "; ")+".")
	p.Errors = errs
	return p
}

// Pointer is the JSON pointer of a member (or item) of the value at
// parent: Pointer("/mapping", "version") is "/mapping/version".
func Pointer(parent string, tokens ...string) string {
	for _, t := range tokens {
		parent += "/" + strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
	}
	return parent
}

// Named is how a message calls the value at a JSON pointer: its member
// name, "choices[3]" for an item of a list, "the body" for the body.
func Named(pointer string) string {
	if pointer == "" || pointer == "/" {
		return "the body"
	}
	parts := strings.Split(strings.TrimPrefix(pointer, "/"), "/")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(p, "~1", "/"), "~0", "~")
	}
	last := parts[len(parts)-1]
	if _, err := strconv.Atoi(last); err == nil && len(parts) > 1 {
		return parts[len(parts)-2] + "[" + last + "]"
	}
	return last
}

// Missing says that a required member of the object at parent is absent.
func Missing(parent, member string) FieldError {
	return FieldError{Path: Pointer(parent, member), Message: member + " is required"}
}

// Unknown says that the object at parent has a member it does not take.
func Unknown(parent, member string) FieldError {
	return FieldError{Path: Pointer(parent, member), Message: Named(parent) + " has no member " + strconv.Quote(member) + "; leave it out"}
}

// MustBe says what the value at pointer must be ("a whole number from 1
// to 100"), and, when is is not empty, what kind of value it is.
func MustBe(pointer, rule, is string) FieldError {
	msg := Named(pointer) + " must be " + rule
	if is != "" {
		msg += "; it is " + is
	}
	return FieldError{Path: pointer, Message: msg}
}

// NotJSON says that the JSON document at pointer ("" for the body) does
// not parse, and where, in words rather than the decoder's.
func NotJSON(pointer string, err error) FieldError {
	msg := Named(pointer) + " is not valid JSON"
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		msg += " (at byte " + strconv.FormatInt(se.Offset, 10) + ")"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		msg += ": it ends before the value is complete"
	}
	return FieldError{Path: pointer, Message: msg}
}
