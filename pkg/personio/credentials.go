package personio

import (
	"fmt"
	"log/slog"
	"strconv"
)

// redacted is what a Token shows wherever it is printed, logged or encoded.
const redacted = "[redacted]"

// Token is a Personio Recruiting API access token. It is write-only by
// construction: every way of printing, logging or encoding it yields
// "[redacted]". Only the client reads the real value, to set the
// Authorization header.
type Token string

// String returns "[redacted]", never the token.
func (Token) String() string { return redacted }

// GoString returns "[redacted]", so %#v cannot reveal the token either.
func (Token) GoString() string { return redacted }

// Format prints "[redacted]" for every fmt verb.
func (Token) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// LogValue makes log/slog print "[redacted]".
func (Token) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON encodes the token as "[redacted]": a token must never reach a
// response, a table or a log line through encoding/json.
func (Token) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(redacted)), nil }

// MarshalText encodes the token as "[redacted]".
func (Token) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Credentials identify one Personio company: the Company ID and the
// Recruiting API access token found under Settings > Integrations >
// API access data > Recruiting integrations.
type Credentials struct {
	// CompanyID is Personio's numeric company id, sent as X-Company-ID.
	CompanyID string
	// Token is the Recruiting API access token, sent as a Bearer token.
	Token Token
}

// Validate reports what is wrong with the credentials before any request is
// made: a company id must be a positive whole number and a token must be
// present. The error never contains the token.
func (c Credentials) Validate() error {
	var errs FieldErrors
	if n, err := strconv.ParseUint(c.CompanyID, 10, 63); err != nil || n == 0 {
		errs = append(errs, FieldError{Field: "company_id", Reasons: []Reason{{Reason: ReasonInvalidCompanyID}}})
	}
	if len(c.Token) == 0 {
		errs = append(errs, FieldError{Field: "access_token", Reasons: []Reason{{Reason: ReasonRequiredAttribute}}})
	}
	if len(errs) == 0 {
		return nil
	}
	return &ValidationError{Op: "personio: check credentials", Body: ErrorBody{Fields: errs}}
}
