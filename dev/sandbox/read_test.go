package sandbox_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/dev/sandbox/sandboxtest"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

func token(t *testing.T, srv *sandboxtest.Server, form url.Values) answer {
	t.Helper()
	resp, err := srv.Client().PostForm(srv.URL+"/v2/auth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b)}
}

func get(t *testing.T, srv *sandboxtest.Server, path, bearer string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+bearer)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b)}
}

// TestTokenEndpoint covers the client-credentials rules, each refusal with
// its OAuth error code.
func TestTokenEndpoint(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Config{})
	form := func(kv ...string) url.Values {
		v := url.Values{"grant_type": {"client_credentials"}, "client_id": {"sandbox-client-42"}, "client_secret": {"sandbox-secret-42"}}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	tests := []struct {
		name   string
		form   url.Values
		status int
		want   string
	}{
		{"good", form(), 200, `"access_token"`},
		{"good with scope", form("scope", personio.ScopeRecruitingRead), 200, personio.ScopeRecruitingRead},
		{"no secret", form("client_secret", ""), 400, "invalid_request"},
		{"wrong grant", form("grant_type", "password"), 400, "unsupported_grant_type"},
		{"unknown client", form("client_id", "nobody"), 400, "invalid_client"},
		{"wrong secret", form("client_secret", "nope"), 400, "unauthorized_client"},
		{"scope the client lacks", form("client_id", "sandbox-client-42-noscope", "client_secret", "sandbox-secret-42-noscope",
			"scope", personio.ScopeRecruitingRead), 400, "invalid_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := token(t, srv, tt.form)
			if a.status != tt.status || !strings.Contains(a.body, tt.want) {
				t.Fatalf("got %d %s, want %d with %q", a.status, a.body, tt.status, tt.want)
			}
		})
	}
}

// TestReadAuthorization: reads need a known, unexpired token with the
// scope.
func TestReadAuthorization(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Config{})
	noScope := token(t, srv, url.Values{"grant_type": {"client_credentials"}, "client_id": {"sandbox-client-42-noscope"}, "client_secret": {"sandbox-secret-42-noscope"}})
	if noScope.status != 200 {
		t.Fatalf("token without scope: %d %s", noScope.status, noScope.body)
	}
	tok := strings.Split(strings.Split(noScope.body, `"access_token":"`)[1], `"`)[0]
	if a := get(t, srv, "/v2/recruiting/jobs", tok); a.status != 403 {
		t.Errorf("a token without the scope read jobs: %d", a.status)
	}
	if a := get(t, srv, "/v2/recruiting/jobs", "made-up"); a.status != 401 {
		t.Errorf("an unknown token read jobs: %d", a.status)
	}
	if a := get(t, srv, "/v2/recruiting/jobs", "sandbox-token-42"); a.status != 401 {
		t.Errorf("the v1 token read jobs: %d", a.status)
	}
}

func TestReadParameters(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Config{})
	c := srv.PersonioClient(t)
	if _, err := c.AccessToken(t.Context(), sandboxtest.Read42); err != nil {
		t.Fatal(err)
	}
	a := token(t, srv, url.Values{"grant_type": {"client_credentials"}, "client_id": {"sandbox-client-42"}, "client_secret": {"sandbox-secret-42"}})
	tok := strings.Split(strings.Split(a.body, `"access_token":"`)[1], `"`)[0]
	for _, tt := range []struct {
		path   string
		status int
	}{
		{"/v2/recruiting/jobs?limit=0", 400},
		{"/v2/recruiting/jobs?limit=201", 400},
		{"/v2/recruiting/jobs?limit=1", 200},
		{"/v2/recruiting/jobs?cursor=not-a-cursor", 400},
		{"/v2/recruiting/applications?updated_at.gt=2026-01-01T00:00:00Z&updated_at.lt=2026-02-01T00:00:00Z", 400},
		{"/v2/recruiting/applications?updated_at.gt=2026-01-01T00:00:00Z", 200},
		{"/v2/recruiting/applications/1", 404},
		{"/v2/recruiting/candidates?email=a@b.de", 200},
		{"/v2/recruiting/jobs/1001", 200},
		{"/v2/recruiting/jobs/9", 404},
	} {
		if got := get(t, srv, tt.path, tok); got.status != tt.status {
			t.Errorf("GET %s: %d %s, want %d", tt.path, got.status, got.body, tt.status)
		}
	}
}

// TestLoseAnswers: with every answer lost, the application is created but
// the client hears nothing; v2 then shows it with its id.
func TestLoseAnswers(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Config{LoseAnswers: 1})
	c := srv.PersonioClient(t)
	app := personio.Application{FirstName: "A", LastName: "B", Email: "ada@example.com", JobPositionID: 1001}
	err := c.CreateApplication(t.Context(), sandboxtest.Company42, app)
	var te *personio.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want a lost answer", err)
	}
	got := srv.Sandbox.Applications("42")
	if len(got) != 1 || got[0].ID == "" {
		t.Fatalf("received %+v, want one application with an id", got)
	}
	apps, err := c.Applications(t.Context(), sandboxtest.Read42, personio.ApplicationQuery{Email: app.Email, JobID: "1001"})
	if err != nil || len(apps) != 1 || apps[0].ID != got[0].ID {
		t.Fatalf("v2 shows %+v (%v), want %s", apps, err, got[0].ID)
	}
	if err := c.CreateApplication(t.Context(), sandboxtest.Company42, app); !errors.As(err, new(*personio.AlreadyExistsError)) {
		t.Fatalf("retry: %v, want already exists", err)
	}
	if n := srv.Sandbox.Stats().Faults["lost"]; n != 1 {
		t.Errorf("%d lost answers counted, want 1", n)
	}
}

// TestTokenRateLimit: the authentication endpoint's own limit, as
// Personio documents it: over the limit, one a second for the next
// window, then the limit afresh.
func TestTokenRateLimit(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	srv := sandboxtest.Start(t, sandbox.Config{TokenRateLimit: 2, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }})
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {"sandbox-client-42"}, "client_secret": {"sandbox-secret-42"}}
	var got []int
	for _, step := range []time.Duration{0, 0, 0, 500 * time.Millisecond, 500 * time.Millisecond, 0, time.Second, 60 * time.Second, 0, 0} {
		mu.Lock()
		now = now.Add(step)
		mu.Unlock()
		got = append(got, token(t, srv, form).status)
	}
	// 2 in the window; over it at 0 s: slow until 60 s (one at 1 s and
	// one at 2 s, the rest refused); at 62 s the limit is afresh.
	if want := "[200 200 429 429 200 429 200 200 200 429]"; fmt.Sprint(got) != want {
		t.Fatalf("statuses %v, want %s", got, want)
	}
}

// TestReadFaults: injected 500s and 429 bursts reach reads only.
func TestReadFaults(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Config{ReadFaults: sandbox.Faults{Error500: 1}})
	c := srv.PersonioClient(t)
	err := c.CheckReadAccess(t.Context(), sandboxtest.Read42)
	var se *personio.ServerError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a server error", err)
	}
	app := personio.Application{FirstName: "A", LastName: "B", Email: "ada@example.com", JobPositionID: 1001}
	if err := c.CreateApplication(t.Context(), sandboxtest.Company42, app); err != nil {
		t.Fatalf("a v1 create met a read fault: %v", err)
	}
}

// TestSpecV2Coverage makes sure the contract check saw every v2 operation,
// so that the check at cleanup is not vacuous.
func TestSpecV2Coverage(t *testing.T) {
	seed := sandbox.DefaultSeed()
	seed.Companies = append(seed.Companies, sandbox.Company{ID: "44", Token: "t44", ReadUnavailable: true,
		ReadClients: []sandbox.ReadClient{{ID: "c44", Secret: "s44", Scopes: []string{personio.ScopeRecruitingRead}}}})
	srv := sandboxtest.Start(t, sandbox.Config{Seed: seed})
	c := srv.PersonioClient(t)
	ctx := t.Context()
	app := personio.Application{FirstName: "A", LastName: "B", Email: "ada@example.com", JobPositionID: 1001}
	if err := c.CreateApplication(ctx, sandboxtest.Company42, app); err != nil {
		t.Fatal(err)
	}
	apps, err := c.Applications(ctx, sandboxtest.Read42, personio.ApplicationQuery{Email: app.Email})
	if err != nil || len(apps) != 1 {
		t.Fatalf("%v %v", apps, err)
	}
	tok, _ := c.AccessToken(ctx, sandboxtest.Read42)
	get(t, srv, "/v2/recruiting/applications/"+apps[0].ID, string(tok))
	get(t, srv, "/v2/recruiting/candidates?email=ada@example.com", string(tok))
	get(t, srv, "/v2/recruiting/jobs/1001", string(tok))
	_, _ = c.Jobs(ctx, sandboxtest.Read42)
	_ = c.CheckReadAccess(ctx, sandboxtest.Read42NoScope)
	_ = c.CheckReadAccess(ctx, personio.ReadCredentials{ClientID: "c44", ClientSecret: "s44"})
	seen := map[string]bool{}
	for _, e := range srv.Log.Exchanges() {
		if e.Routed {
			seen[fmt.Sprintf("%s %s %d", e.Method, strings.TrimSuffix(e.Path, "/"+apps[0].ID), e.Status)] = true
		}
	}
	for _, want := range []string{
		"POST /v2/auth/token 200", "POST /v2/auth/token 400", "GET /v2/recruiting/applications 200",
		"GET /v2/recruiting/applications 200", "GET /v2/recruiting/candidates 200",
		"GET /v2/recruiting/jobs 200", "GET /v2/recruiting/jobs/1001 200", "GET /v2/recruiting/jobs 404",
	} {
		if !seen[want] {
			t.Errorf("the contract check never saw %s (saw %v)", want, seen)
		}
	}
}
