package webhook

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The specification's test vector (standard-webhooks, libraries/go).
const (
	vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorBody   = `{"test": 2432232314}`
	vectorSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignVector(t *testing.T) {
	h, err := Sign(vectorSecret, vectorID, time.Unix(1614265330, 0), []byte(vectorBody))
	if err != nil || h.Get(HeaderSignature) != vectorSig || h.Get(HeaderTimestamp) != "1614265330" {
		t.Fatalf("Sign = %v, %v", h, err)
	}
}

func TestVerify(t *testing.T) {
	const other = "whsec_" + "b3RoZXItc2VjcmV0LW9mLTMyLWJ5dGVzLWxvbmctISE="
	now := time.Now()
	signed := func(secret string, ts time.Time) http.Header {
		h, _ := Sign(secret, vectorID, ts, []byte(vectorBody))
		return h
	}
	tests := []struct {
		name    string
		secrets []string
		header  http.Header
		body    string
		reason  string // "" = accepted
	}{
		{"valid", []string{vectorSecret}, signed(vectorSecret, now), vectorBody, ""},
		{"rotated: old secret still accepted", []string{other, vectorSecret}, signed(vectorSecret, now), vectorBody, ""},
		{"several signatures, one valid", []string{vectorSecret}, func() http.Header {
			h := signed(vectorSecret, now)
			h.Set(HeaderSignature, "v1,bm90LWl0 "+h.Get(HeaderSignature)+" v2,xyz")
			return h
		}(), vectorBody, ""},
		{"body changed", []string{vectorSecret}, signed(vectorSecret, now), vectorBody + " ", "no signature matches"},
		{"wrong secret", []string{other}, signed(vectorSecret, now), vectorBody, "no signature matches"},
		{"stale", []string{vectorSecret}, signed(vectorSecret, now.Add(-6*time.Minute)), vectorBody, "5 minutes"},
		{"future", []string{vectorSecret}, signed(vectorSecret, now.Add(6*time.Minute)), vectorBody, "5 minutes"},
		{"replayed with a new timestamp", []string{vectorSecret}, func() http.Header {
			h := signed(vectorSecret, now.Add(-time.Minute))
			h.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
			return h
		}(), vectorBody, "no signature matches"},
		{"no headers", []string{vectorSecret}, http.Header{}, vectorBody, "required"},
		{"bad timestamp", []string{vectorSecret}, func() http.Header { h := signed(vectorSecret, now); h.Set(HeaderTimestamp, "soon"); return h }(), vectorBody, "Unix time"},
		{"other version only", []string{vectorSecret}, func() http.Header {
			h := signed(vectorSecret, now)
			h.Set(HeaderSignature, strings.Replace(h.Get(HeaderSignature), "v1,", "v1a,", 1))
			return h
		}(), vectorBody, "no signature matches"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(tt.secrets)
			if err != nil {
				t.Fatal(err)
			}
			err = v.Verify([]byte(tt.body), tt.header)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			var we *Error
			if !errors.As(err, &we) || !strings.Contains(we.Reason, tt.reason) || we.Retryable() {
				t.Errorf("Verify = %v, want a permanent *Error with %q", err, tt.reason)
			}
		})
	}
	if _, err := NewVerifier(nil); err == nil {
		t.Error("no secrets accepted")
	}
	if _, err := NewVerifier([]string{"whsec_***"}); err == nil {
		t.Error("a secret that is not base64 accepted")
	}
}

func FuzzVerify(f *testing.F) {
	f.Add([]byte(vectorBody), vectorID, "1614265330", vectorSig)
	f.Add([]byte(""), "", "", "v1,")
	f.Add([]byte("x"), "id", "-1", "v1,,,, v2 v1,AAAA")
	v, _ := NewVerifier([]string{vectorSecret})
	f.Fuzz(func(t *testing.T, body []byte, id, ts, sig string) {
		h := http.Header{}
		h.Set(HeaderID, id)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sig)
		if err := v.Verify(body, h); err == nil && ts != strconv.FormatInt(time.Now().Unix(), 10) {
			// Only a fresh, correct signature may pass.
			if _, perr := strconv.ParseInt(ts, 10, 64); perr != nil {
				t.Fatalf("accepted a malformed timestamp %q", ts)
			}
		}
	})
}

// TestSignAllForRotation: signed with the old and the new secret at once,
// a receiver that knows either accepts, one that knows neither refuses.
func TestSignAllForRotation(t *testing.T) {
	old, next := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_bmV3LXNlY3JldC1hZnRlci1yb3RhdGlvbg=="
	body := []byte(`{"type":"connection.restored"}`)
	h, err := SignAll([]string{next, old}, "msg_r", time.Now(), body)
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range map[string]string{"old": old, "new": next} {
		v, _ := NewVerifier([]string{secret})
		if err := v.Verify(body, h); err != nil {
			t.Errorf("a receiver with the %s secret: %v", name, err)
		}
	}
	v, _ := NewVerifier([]string{"whsec_YW5vdGhlci1zZWNyZXQtYW5vdGhlci1zZWNyZXQ="})
	if v.Verify(body, h) == nil {
		t.Error("a receiver with another secret accepted it")
	}
}
