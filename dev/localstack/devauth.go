package localstack

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DevIssuer and DevAudience are the local JWTs' issuer and audience, as the
// stack's JWT authorizer would check them.
const (
	DevIssuer   = "funnel-personio-local"
	DevAudience = "funnel-personio"
)

// DevAuth mints and verifies the local stack's JWTs (HS256 with a dev key),
// standing in for the identity provider and API Gateway's JWT authorizer.
type DevAuth struct {
	key []byte
}

// NewDevAuth returns a DevAuth with the key.
func NewDevAuth(key []byte) *DevAuth { return &DevAuth{key: key} }

// Mint returns a token for a workspace and plan, valid for ttl.
func (a *DevAuth) Mint(workspace, plan string, ttl time.Duration) (string, error) {
	now := time.Now()
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": DevIssuer, "aud": DevAudience, "sub": "dev-user", "iat": now.Unix(), "exp": now.Add(ttl).Unix(),
		"workspace_id": workspace, "plan": plan,
	})
	return t.SignedString(a.key)
}

// errNoToken is Verify's error for a request without a bearer token.
var errNoToken = errors.New("no bearer token")

// Verify checks an Authorization header's bearer token and returns its
// claims as API Gateway's JWT authorizer passes them (strings).
func (a *DevAuth) Verify(authorization string) (map[string]string, error) {
	raw, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || strings.TrimSpace(raw) == "" {
		return nil, errNoToken
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return a.key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithIssuer(DevIssuer), jwt.WithAudience(DevAudience), jwt.WithExpirationRequired())
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	out := map[string]string{}
	for k, v := range claims {
		if s, ok := v.(string); ok {
			out[k] = s
		}
	}
	return out, nil
}
