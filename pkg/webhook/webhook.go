// Package webhook signs and verifies Standard Webhooks (webhook-id,
// webhook-timestamp, webhook-signature: v1,<base64 HMAC-SHA256 of
// id.timestamp.body>), with the specification's own Go library. Several
// secrets may be configured at once, so a secret can be rotated without
// refusing events signed with the old one; several signatures in one
// header are accepted as the specification says.
//
// It is for ingest, which verifies the funnel platform's events, and the
// notifier, which signs the outbound events it posts back.
package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// Headers of the specification.
const (
	HeaderID        = standardwebhooks.HeaderWebhookID
	HeaderTimestamp = standardwebhooks.HeaderWebhookTimestamp
	HeaderSignature = standardwebhooks.HeaderWebhookSignature
)

// Error is a refused signature; Reason says why, for the 401 answer.
// Permanent: the same request is refused again.
type Error struct {
	Reason string
	Err    error
}

func (e *Error) Error() string { return "webhook: " + e.Reason }

// Unwrap returns the library's error.
func (e *Error) Unwrap() error { return e.Err }

// Retryable returns false.
func (e *Error) Retryable() bool { return false }

// Verifier checks signatures against every configured secret.
type Verifier struct {
	hooks []*standardwebhooks.Webhook
}

// NewVerifier takes the signing secrets (whsec_<base64>, or the base64
// alone).
func NewVerifier(secrets []string) (*Verifier, error) {
	if len(secrets) == 0 {
		return nil, errors.New("webhook: no signing secret configured")
	}
	v := &Verifier{}
	for i, s := range secrets {
		h, err := standardwebhooks.NewWebhook(s)
		if err != nil {
			return nil, fmt.Errorf("webhook: secret %d is not whsec_<base64>: %w", i+1, err)
		}
		v.hooks = append(v.hooks, h)
	}
	return v, nil
}

// Verify checks the body against the headers: present, a timestamp within
// five minutes of now, and a v1 signature by one of the secrets (compared
// in constant time by the library).
func (v *Verifier) Verify(body []byte, h http.Header) error {
	var last error
	for _, hook := range v.hooks {
		err := hook.Verify(body, h)
		if err == nil {
			return nil
		}
		last = err
		if !errors.Is(err, standardwebhooks.ErrNoMatchingSignature) {
			break // missing headers or a stale timestamp: no secret helps
		}
	}
	switch {
	case errors.Is(last, standardwebhooks.ErrRequiredHeaders):
		return &Error{Reason: "the webhook-id, webhook-timestamp and webhook-signature headers are required", Err: last}
	case errors.Is(last, standardwebhooks.ErrInvalidHeaders):
		return &Error{Reason: "webhook-timestamp is not a Unix time in seconds", Err: last}
	case errors.Is(last, standardwebhooks.ErrMessageTooOld), errors.Is(last, standardwebhooks.ErrMessageTooNew):
		return &Error{Reason: "webhook-timestamp is more than 5 minutes from now; sign each delivery when it is sent", Err: last}
	}
	return &Error{Reason: "no signature matches; check the signing secret", Err: last}
}

// SignAll signs body with every secret, the signatures space-separated in
// one header as the specification allows: a receiver that knows any one of
// the secrets accepts it, so the sender's secret can be rotated without a
// moment in which the receiver refuses.
func SignAll(secrets []string, id string, ts time.Time, body []byte) (http.Header, error) {
	if len(secrets) == 0 {
		return nil, errors.New("webhook: no signing secret configured")
	}
	var h http.Header
	var sigs []string
	for _, s := range secrets {
		one, err := Sign(s, id, ts, body)
		if err != nil {
			return nil, err
		}
		h = one
		sigs = append(sigs, one.Get(HeaderSignature))
	}
	h.Set(HeaderSignature, strings.Join(sigs, " "))
	return h, nil
}

// Sign returns the headers that sign body as message id at time ts with
// secret, for the funnel platform's side, tests and the local runner.
func Sign(secret, id string, ts time.Time, body []byte) (http.Header, error) {
	hook, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		return nil, fmt.Errorf("webhook: secret: %w", err)
	}
	sig, err := hook.Sign(id, ts, body)
	if err != nil {
		return nil, fmt.Errorf("webhook: sign: %w", err)
	}
	h := http.Header{}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(HeaderSignature, sig)
	return h, nil
}
