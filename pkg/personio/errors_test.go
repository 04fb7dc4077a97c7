package personio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestErrorFor(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    http.Header
		body      string
		check     func(error) bool
		retryable bool
		text      string // substring of Error()
	}{
		{name: "field errors", status: 400,
			body:  `{"errors":[{"field":"email","errors":[{"reason":"errors.attribute-validation.invalid-email-format"}]},{"field":"first_name","errors":[{"reason":"errors.attribute-validation.required-attribute","context":{"min":1}}]}]}`,
			check: as[*ValidationError], text: "email: errors.attribute-validation.invalid-email-format; first_name: errors.attribute-validation.required-attribute"},
		{name: "problem", status: 400, body: `{"errors":[{"id":"6f1c8f7e-3b1a-4c1e-9d2a-0c5e8b7a6d4f","status":"400","title":"Bad Request","detail":"Invalid request body supplied"}]}`,
			check: as[*ValidationError], text: "Bad Request: Invalid request body supplied"},
		{name: "numeric status in problem", status: 400, body: `{"errors":[{"id":"x","status":400,"title":"Bad Request"}]}`,
			check: func(err error) bool {
				var ve *ValidationError
				return errors.As(err, &ve) && ve.Body.Problems[0].Status == "400"
			}},
		{name: "already exists", status: 400, body: `{"errors":[{"field":"email","errors":[{"reason":"errors.applicant-already-exists"}]}]}`,
			check: as[*AlreadyExistsError], text: "already exists"},
		{name: "already exists beside another error", status: 400,
			body:  `{"errors":[{"field":"email","errors":[{"reason":"errors.applicant-already-exists"}]},{"field":"job_position_id","errors":[{"reason":"errors.job-position.not-published"}]}]}`,
			check: as[*ValidationError]},
		{name: "too big", status: 413, body: `{"errors":[{"field":"file","errors":[{"reason":"errors.file-too-big"}]}]}`, check: as[*ValidationError], text: "413"},
		{name: "bad type", status: 422, body: `{"errors":[{"field":"file","errors":[{"reason":"errors.invalid-file-type"}]}]}`, check: as[*ValidationError], text: "422"},
		{name: "auth", status: 401, body: ``, check: as[*AuthError], text: "401"},
		{name: "recruiting disabled", status: 403, body: `{"errors":[{"id":"x","status":"403","title":"Forbidden","detail":"feature.recruiting.disabled"}]}`,
			check: func(err error) bool {
				var fe *FeatureDisabledError
				return errors.As(err, &fe) && fe.Reason == ReasonRecruitingDisabled
			}, text: "feature.recruiting.disabled"},
		{name: "api disabled as field error", status: 403, body: `{"errors":[{"field":"company","errors":[{"reason":"feature.public-api.disabled"}]}]}`,
			check: func(err error) bool {
				var fe *FeatureDisabledError
				return errors.As(err, &fe) && fe.Reason == ReasonPublicAPIDisabled
			}},
		{name: "rate limited", status: 429, check: as[*RateLimitError], retryable: true},
		{name: "rate limited with retry-after", status: 429, header: http.Header{"Retry-After": {"30"}},
			check: func(err error) bool {
				var rl *RateLimitError
				return errors.As(err, &rl) && rl.RetryAfter == 30
			}, retryable: true},
		{name: "server error", status: 500, body: `{"errors":[{"id":"x","status":"500","title":"Internal Server Error"}]}`, check: as[*ServerError], retryable: true},
		{name: "gateway html", status: 502, body: `<html><body>Bad Gateway</body></html>`, check: as[*ServerError], retryable: true, text: "Bad Gateway"},
		{name: "unexpected", status: 404, body: `nope`, check: as[*UnexpectedResponseError], text: "404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := errorFor("personio: test", tt.status, tt.header, []byte(tt.body))
			if !tt.check(err) {
				t.Fatalf("errorFor = %v (%T)", err, err)
			}
			if IsRetryable(err) != tt.retryable {
				t.Errorf("IsRetryable = %v, want %v", IsRetryable(err), tt.retryable)
			}
			wrapped := fmt.Errorf("deliver: %w", err)
			if IsRetryable(wrapped) != tt.retryable || !tt.check(wrapped) {
				t.Errorf("classification lost through wrapping")
			}
			if !strings.HasPrefix(err.Error(), "personio: test: ") || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("Error() = %q, want the operation and %q", err.Error(), tt.text)
			}
		})
	}
	if IsRetryable(errors.New("other")) || IsRetryable(nil) {
		t.Error("an unknown error is retryable")
	}
}

func as[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

func TestTokenNeverShows(t *testing.T) {
	const secret = "tok-very-secret-123"
	c := Credentials{CompanyID: "42", Token: secret}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("creds", "creds", c, "token", c.Token)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("creds", "creds", c, "token", c.Token)
	js, _ := json.Marshal(c)
	outputs := []string{
		fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s %q %x", c, c, c, c.Token, c.Token, c.Token),
		c.Token.String(), string(js), logged.String(),
	}
	for _, out := range outputs {
		if strings.Contains(out, secret) || strings.Contains(out, fmt.Sprintf("%x", secret)) {
			t.Errorf("token visible in %q", out)
		}
	}
	if !strings.Contains(logged.String(), "[redacted]") {
		t.Errorf("log does not say the token was redacted: %s", logged.String())
	}
}

func FuzzParseErrorBody(f *testing.F) {
	for _, s := range []string{
		`{"errors":[{"field":"email","errors":[{"reason":"errors.applicant-already-exists"}]}]}`,
		`{"errors":[{"id":"x","status":"400","title":"Bad Request","detail":"Invalid request body supplied"}]}`,
		`{"errors":[{"id":1,"status":{},"errors":null,"field":null}]}`, `{"errors":null}`, `<html>`, ``, "\xff\xfe",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		b := ParseErrorBody(body)
		if !utf8.ValidString(b.Raw) && utf8.Valid(body) {
			t.Errorf("Raw %q is not valid UTF-8", b.Raw)
		}
		if len(b.Raw) > 200 {
			t.Errorf("Raw is %d bytes", len(b.Raw))
		}
		_ = b.String()
		for _, status := range []int{400, 401, 403, 413, 422, 429, 500, 503, 404} {
			err := errorFor("op", status, nil, body)
			if err == nil || err.Error() == "" {
				t.Fatalf("errorFor(%d) = %v", status, err)
			}
		}
	})
}

func FuzzParseFeed(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?><workzag-jobs><position><id>1</id><name>A</name><jobDescriptions><jobDescription><name>x</name><value><![CDATA[<b>y</b>]]></value></jobDescription></jobDescriptions></position></workzag-jobs>`))
	f.Add([]byte(`<workzag-jobs><position><id>x</id></position></workzag-jobs>`))
	f.Add([]byte(`<html></html>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		feed, err := ParseFeed(body)
		if err == nil && feed == nil {
			t.Fatal("nil feed without error")
		}
	})
}
