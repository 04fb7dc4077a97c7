package personio_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/dev/sandbox/sandboxtest"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

func TestCheckReadAccess(t *testing.T) {
	seed := sandbox.DefaultSeed()
	seed.Companies = append(seed.Companies, sandbox.Company{ID: "44", Token: "sandbox-token-44", ReadUnavailable: true,
		ReadClients: []sandbox.ReadClient{{ID: "client-44", Secret: "secret-44", Scopes: []string{personio.ScopeRecruitingRead}}}})
	srv := sandboxtest.Start(t, sandbox.Config{Seed: seed})
	c := srv.PersonioClient(t)
	tests := []struct {
		name   string
		rc     personio.ReadCredentials
		reason string // "" for success
	}{
		{"good credential", sandboxtest.Read42, ""},
		{"wrong secret", personio.ReadCredentials{ClientID: "sandbox-client-42", ClientSecret: "nope"}, personio.ReadRefusedCredentials},
		{"unknown client", personio.ReadCredentials{ClientID: "nobody", ClientSecret: "x"}, personio.ReadRefusedCredentials},
		{"missing scope", sandboxtest.Read42NoScope, personio.ReadMissingScope},
		{"no v2 for the account", personio.ReadCredentials{ClientID: "client-44", ClientSecret: "secret-44"}, personio.ReadUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.CheckReadAccess(t.Context(), tt.rc)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("CheckReadAccess: %v", err)
				}
				return
			}
			var rae *personio.ReadAccessError
			if !errors.As(err, &rae) || rae.Reason != tt.reason {
				t.Fatalf("err = %v, want a ReadAccessError %s", err, tt.reason)
			}
			if personio.IsRetryable(err) {
				t.Error("a refused credential is retryable")
			}
			if strings.Contains(err.Error(), string(tt.rc.ClientSecret)) {
				t.Errorf("the error %q holds the secret", err)
			}
		})
	}
	if reads := srv.Sandbox.Stats().Requests["v2 jobs 200"]; reads != 1 {
		t.Errorf("the check read %d pages of jobs, want 1", reads)
	}
}

func TestReadCredentialsValidate(t *testing.T) {
	c, _ := personio.NewClient(personio.WithBaseURL("http://127.0.0.1:1"))
	err := c.CheckReadAccess(t.Context(), personio.ReadCredentials{ClientID: " "})
	var ve *personio.ValidationError
	if !errors.As(err, &ve) || len(ve.Body.Fields) != 2 {
		t.Fatalf("err = %v, want a ValidationError naming client id and secret", err)
	}
}

func TestReadSecretRedacted(t *testing.T) {
	rc := personio.ReadCredentials{ClientID: "id", ClientSecret: "very-secret"}
	for _, s := range []string{fmt.Sprint(rc), fmt.Sprintf("%+v", rc), fmt.Sprintf("%#v", rc)} {
		if strings.Contains(s, "very-secret") {
			t.Errorf("%q shows the secret", s)
		}
	}
}

func TestApplicationsAndJobs(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Config{RateLimit: -1})
	c := srv.PersonioClient(t)
	ctx := t.Context()
	for _, email := range []string{"ada@example.com", "bob@example.com"} {
		app := personio.Application{FirstName: "A", LastName: "B", Email: email, JobPositionID: 1001}
		if err := c.CreateApplication(ctx, creds42, app); err != nil {
			t.Fatal(err)
		}
	}
	apps, err := c.Applications(ctx, sandboxtest.Read42, personio.ApplicationQuery{Email: "ADA@example.com", JobID: "1001"})
	if err != nil {
		t.Fatal(err)
	}
	received := srv.Sandbox.Applications("42")
	if len(apps) != 1 || apps[0].ID != received[0].ID || apps[0].JobID != "1001" || apps[0].CreatedAt.IsZero() {
		t.Fatalf("applications = %+v, want the one of ada (%s)", apps, received[0].ID)
	}
	if other, _ := c.Applications(ctx, sandboxtest.Read42, personio.ApplicationQuery{Email: "ada@example.com", JobID: "1002"}); len(other) != 0 {
		t.Errorf("applications for another job: %+v", other)
	}
	jobs, err := c.Jobs(ctx, sandboxtest.Read42)
	if err != nil {
		t.Fatal(err)
	}
	want := []personio.Job{
		{ID: "1001", Name: "Office Manager (m/w/d)", Status: "published", Department: "Operations", Office: "Munich"},
		{ID: "1002", Name: "Backend Engineer (m/w/d)", Status: "draft", Department: "Engineering", Office: "Berlin"},
		{ID: "1003", Name: "Sales Manager (m/w/d)", Status: "published", Department: "Sales", Office: "Hamburg"},
	}
	if !slices.Equal(jobs, want) {
		t.Fatalf("jobs = %+v, want %+v", jobs, want)
	}
	if jobs[1].Published() {
		t.Error("the draft job is published")
	}
}

// TestPagination follows the cursor over more pages than one: 450
// applications of one applicant come back whole, in three pages of 200.
func TestPagination(t *testing.T) {
	seed := sandbox.DefaultSeed()
	for i := range 450 {
		seed.Companies[0].Positions = append(seed.Companies[0].Positions, sandbox.Position{ID: int64(2000 + i), Name: "P", Published: true})
	}
	srv := sandboxtest.Start(t, sandbox.Config{Seed: seed, RateLimit: -1})
	c := srv.PersonioClient(t)
	for i := range 450 {
		app := personio.Application{FirstName: "A", LastName: "B", Email: "ada@example.com", JobPositionID: int64(2000 + i)}
		if err := c.CreateApplication(t.Context(), creds42, app); err != nil {
			t.Fatal(err)
		}
	}
	apps, err := c.Applications(t.Context(), sandboxtest.Read42, personio.ApplicationQuery{Email: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, a := range apps {
		ids[a.ID] = true
	}
	if len(apps) != 450 || len(ids) != 450 {
		t.Fatalf("%d applications (%d distinct), want 450", len(apps), len(ids))
	}
	if pages := srv.Sandbox.Stats().Requests["v2 applications 200"]; pages != 3 {
		t.Errorf("%d pages read, want 3", pages)
	}
	jobs, err := c.Jobs(t.Context(), sandboxtest.Read42)
	if want := len(seed.Companies[0].Positions); err != nil || len(jobs) != want {
		t.Fatalf("%d jobs (%v), want %d: every position of the company", len(jobs), err, want)
	}
}

// TestAccessTokenCachedUntilExpiry: one token serves many reads; an
// expired one is replaced.
func TestAccessTokenCachedUntilExpiry(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC).Unix())
	clock := func() time.Time { return time.Unix(now.Load(), 0) }
	srv := sandboxtest.Start(t, sandbox.Config{Now: clock, TokenTTL: time.Hour})
	c := srv.PersonioClient(t)
	for range 3 {
		if err := c.CheckReadAccess(t.Context(), sandboxtest.Read42); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Sandbox.Stats().Requests["v2 token 200"]; n != 1 {
		t.Fatalf("%d tokens for three reads, want 1", n)
	}
	// The sandbox's clock passes the token's expiry while the client's
	// cache still holds it: the read is answered 401, the client drops the
	// token and reads again with a new one.
	now.Add(int64(2 * time.Hour / time.Second))
	if err := c.CheckReadAccess(t.Context(), sandboxtest.Read42); err != nil {
		t.Fatal(err)
	}
	st := srv.Sandbox.Stats()
	if st.Requests["v2 token 200"] != 2 || st.Requests["v2 jobs 401"] != 1 {
		t.Fatalf("requests %v: want a second token after one 401", st.Requests)
	}
}

func TestReadFailures(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		retryable bool
	}{
		{"rate limited", http.StatusTooManyRequests, true},
		{"server error", http.StatusInternalServerError, true},
		{"not found", http.StatusNotFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/v2/auth/token" {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(`{"access_token":"t","token_type":"Bearer","expires_in":3600}`))
					return
				}
				w.WriteHeader(tt.status)
			}))
			defer fake.Close()
			c, _ := personio.NewClient(personio.WithBaseURL(fake.URL))
			_, err := c.Applications(t.Context(), sandboxtest.Read42, personio.ApplicationQuery{Email: "a@b.de"})
			if err == nil || personio.IsRetryable(err) != tt.retryable {
				t.Fatalf("err = %v, retryable %v; want retryable %v", err, personio.IsRetryable(err), tt.retryable)
			}
		})
	}
}

// FuzzReadAnswers: whatever Personio answers to a read, the client neither
// panics nor follows a next link off the API's host, and fails with a
// typed error or returns jobs.
func FuzzReadAnswers(f *testing.F) {
	f.Add(`{"_data":[{"id":"1","name":"n","status":"draft","department":{"id":"d","name":"D"}}],"_meta":{}}`)
	f.Add(`{"_data":[{"id":7,"name":"n"}],"_meta":{"links":{"next":{"href":"https://evil.example/v2/recruiting/jobs?cursor=x"}}}}`)
	f.Add(`{"_data":null}`)
	f.Add(`[`)
	f.Fuzz(func(t *testing.T, body string) {
		var hosts atomic.Int32
		fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v2/auth/token" {
				_, _ = w.Write([]byte(`{"access_token":"t","token_type":"Bearer","expires_in":3600}`))
				return
			}
			hosts.Add(1)
			_, _ = w.Write([]byte(body))
		}))
		defer fake.Close()
		c, _ := personio.NewClient(personio.WithBaseURL(fake.URL))
		_, err := c.Jobs(t.Context(), sandboxtest.Read42)
		var ue *personio.UnexpectedResponseError
		if err != nil && !errors.As(err, &ue) {
			t.Fatalf("untyped error %T: %v", err, err)
		}
		if hosts.Load() > 20 {
			t.Fatalf("%d pages read, more than the bound", hosts.Load())
		}
	})
}
