// Package sandboxtest starts the Personio sandbox for tests, behind a check
// of every exchange against Personio's OpenAPI file: a test that uses it
// fails if the sandbox accepted a request the spec forbids or answered
// something the spec does not describe.
package sandboxtest

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/funnel-personio/funnel-personio/dev/contract"
	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

// Server is a running sandbox.
type Server struct {
	*httptest.Server
	Sandbox *sandbox.Sandbox
	Log     *contract.Log
}

// Start runs a sandbox with cfg (the default seed if cfg has no companies)
// until the test ends, and fails the test at its end on any contract
// violation.
func Start(t testing.TB, cfg sandbox.Config) *Server {
	t.Helper()
	if len(cfg.Seed.Companies) == 0 {
		cfg.Seed = sandbox.DefaultSeed()
	}
	sb, err := sandbox.New(cfg)
	if err != nil {
		t.Fatalf("sandbox: %v", err)
	}
	checker, err := contract.Load(contract.SpecPath())
	if err != nil {
		t.Fatalf("contract: %v", err)
	}
	checkerV2, err := contract.Load(contract.SpecV2Path())
	if err != nil {
		t.Fatalf("contract v2: %v", err)
	}
	log := &contract.Log{}
	srv := httptest.NewServer(checker.Middleware(checkerV2.Middleware(sb, log), log))
	s := &Server{Server: srv, Sandbox: sb, Log: log}
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		for _, v := range log.Violations() {
			t.Errorf("Personio contract: %s", v)
		}
	})
	return s
}

// HTTPClient returns an HTTP client that sends every request to the
// sandbox whatever its host, so career-site hosts such as
// acme.jobs.personio.de reach it too.
func (s *Server) HTTPClient() *http.Client {
	addr := strings.TrimPrefix(s.URL, "http://")
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
	return &http.Client{Transport: tr}
}

// PersonioClient returns a Personio client for the sandbox; opts come after the
// sandbox's base URL, feed URL and HTTP client, so they can override them.
func (s *Server) PersonioClient(t testing.TB, opts ...personio.Option) *personio.Client {
	t.Helper()
	all := append([]personio.Option{
		personio.WithBaseURL(s.URL),
		personio.WithFeedURL("http://{subdomain}.jobs.personio.de/xml"),
		personio.WithHTTPClient(s.HTTPClient()),
	}, opts...)
	c, err := personio.NewClient(all...)
	if err != nil {
		t.Fatalf("personio client: %v", err)
	}
	return c
}

// Credentials of the default seed.
var (
	Company42 = personio.Credentials{CompanyID: "42", Token: "sandbox-token-42"}
	Company43 = personio.Credentials{CompanyID: "43", Token: "sandbox-token-43"}
)

// Read credentials of the default seed: company 42's API credential with
// the scope personio:recruiting:read, and one without it.
var (
	Read42        = personio.ReadCredentials{ClientID: "sandbox-client-42", ClientSecret: "sandbox-secret-42"}
	Read42NoScope = personio.ReadCredentials{ClientID: "sandbox-client-42-noscope", ClientSecret: "sandbox-secret-42-noscope"}
)
