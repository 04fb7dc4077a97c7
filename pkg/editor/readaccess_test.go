package editor_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/settings"
)

// readAccess42 is the default seed's API credential with the scope.
var readAccess42 = map[string]any{"client_id": "sandbox-client-42", "client_secret": "sandbox-secret-42"}

func TestCreateConnectionWithReadAccess(t *testing.T) {
	tests := []struct {
		name    string
		access  map[string]any
		status  int
		problem string
		words   string // part of the detail: the Personio setting to look at
	}{
		{"accepted", readAccess42, 201, "", ""},
		{"wrong secret", map[string]any{"client_id": "sandbox-client-42", "client_secret": "wrong-secret-77"}, 422, "read-access-refused", "Settings > Integrations > API credentials"},
		{"missing scope", map[string]any{"client_id": "sandbox-client-42-noscope", "client_secret": "sandbox-secret-42-noscope"}, 422, "read-access-scope-missing", "personio:recruiting:read"},
		{"control character", map[string]any{"client_id": "a\tb", "client_secret": "x"}, 422, "invalid-input", "client_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t)
			r := e.call(t, ws, advanced, "POST", "/v1/connections", map[string]any{"name": "Acme", "company_id": "42",
				"access_token": "sandbox-token-42", "read_access": tt.access}, nil)
			detail, _ := r.body["detail"].(string)
			if errs, ok := r.body["errors"]; ok {
				b, _ := json.Marshal(errs)
				detail += string(b)
			}
			if r.status != tt.status || r.problem() != tt.problem || !strings.Contains(detail, tt.words) {
				t.Fatalf("answer %d %s, want %d %s mentioning %q", r.status, r.raw, tt.status, tt.problem, tt.words)
			}
			list := e.call(t, ws, advanced, "GET", "/v1/connections", nil, nil).body["connections"].([]any)
			if tt.status != 201 {
				if len(list) != 0 {
					t.Errorf("saved after a refusal: %v", list)
				}
				return
			}
			ra := r.body["read_access"].(map[string]any)
			if ra["configured"] != true || ra["last_checked_at"] == nil {
				t.Errorf("read_access = %v, want configured with a check time", ra)
			}
			c, err := e.store.GetConnection(t.Context(), ws, r.body["id"].(string))
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(c)
			if strings.Contains(string(raw), "sandbox-secret-42") || c.ReadClientID != "sandbox-client-42" {
				t.Errorf("the record %s holds the secret or lacks the client id", raw)
			}
			if s, err := e.vault.ReadSecret(t.Context(), ws, c.ID); err != nil || s != "sandbox-secret-42" {
				t.Errorf("the vault holds %v (%v), want the secret", s != "", err)
			}
		})
	}
}

func TestReadAccessRoute(t *testing.T) {
	e := setup(t)
	id := e.connect(t, ws)
	if r := e.call(t, ws, advanced, "GET", "/v1/connections/"+id, nil, nil); r.body["read_access"].(map[string]any)["configured"] != false {
		t.Fatalf("a new connection has read access: %s", r.raw)
	}
	r := e.call(t, ws, advanced, "PUT", "/v1/connections/"+id+"/read-access", map[string]any{"client_id": "sandbox-client-42", "client_secret": "wrong-secret-77"}, nil)
	if r.status != 422 || r.problem() != "read-access-refused" {
		t.Fatalf("wrong secret: %d %s", r.status, r.raw)
	}
	r = e.call(t, ws, advanced, "PUT", "/v1/connections/"+id+"/read-access", readAccess42, nil)
	if r.status != 200 || r.body["read_access"].(map[string]any)["configured"] != true {
		t.Fatalf("set: %d %s", r.status, r.raw)
	}
	// With read access the picker lists every job from v2, the draft
	// marked, and needs no career-site subdomain.
	r = e.call(t, ws, advanced, "GET", "/v1/connections/"+id+"/positions", nil, nil)
	if r.status != 200 || r.body["source"] != "personio_api" {
		t.Fatalf("positions: %d %s", r.status, r.raw)
	}
	published := map[float64]bool{}
	for _, p := range r.body["positions"].([]any) {
		m := p.(map[string]any)
		published[m["id"].(float64)] = m["published"].(bool)
	}
	if len(published) != 3 || !published[1001] || published[1002] || !published[1003] {
		t.Errorf("positions %v: want 1001 and 1003 published and 1002 marked unpublished", published)
	}
	r = e.call(t, ws, advanced, "DELETE", "/v1/connections/"+id+"/read-access", nil, nil)
	if r.status != 200 || r.body["read_access"].(map[string]any)["configured"] != false {
		t.Fatalf("remove: %d %s", r.status, r.raw)
	}
	if s, err := e.vault.ReadSecret(t.Context(), ws, id); err != nil || s != "" {
		t.Errorf("after removal the vault still holds a secret (%v)", err)
	}
	if r := e.call(t, ws, advanced, "GET", "/v1/connections/"+id+"/positions?subdomain=acme", nil, nil); r.status != 200 || r.body["source"] != nil {
		t.Errorf("without read access the feed answers: %d %s", r.status, r.raw)
	}
}

// TestVerifyChecksReadAccess: verifying a connection checks its read
// access again and moves its last check.
func TestVerifyChecksReadAccess(t *testing.T) {
	e := setup(t)
	r := e.call(t, ws, advanced, "POST", "/v1/connections", map[string]any{"name": "Acme", "company_id": "42",
		"access_token": "sandbox-token-42", "read_access": readAccess42}, nil)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	first := r.body["read_access"].(map[string]any)["last_checked_at"]
	tokens := e.sandbox.Sandbox.Stats().Requests["v2 jobs 200"]
	r = e.call(t, ws, advanced, "POST", "/v1/connections/"+r.body["id"].(string)+"/verify", nil, nil)
	if r.status != 200 || r.body["read_access"].(map[string]any)["last_checked_at"] == first {
		t.Fatalf("verify: %d %s (first check %v)", r.status, r.raw, first)
	}
	if n := e.sandbox.Sandbox.Stats().Requests["v2 jobs 200"]; n != tokens+1 {
		t.Errorf("%d reads of one page of jobs by the verify, want 1", n-tokens)
	}
}

// TestReadChecksCountApart: read-access checks have the credential
// checks' limit but a count of their own: a workspace past its read
// checks still checks credentials, and one past its credential checks
// still sets read access; past the read checks' limit, 429 in words.
func TestReadChecksCountApart(t *testing.T) {
	e := setup(t)
	limit := settings.Default().CheckLimit.Limit
	id := e.connect(t, ws) // one credential check
	for i := range limit {
		r := e.call(t, ws, advanced, "PUT", "/v1/connections/"+id+"/read-access", readAccess42, nil)
		if r.status != 200 {
			t.Fatalf("read check %d: %d %s", i+1, r.status, r.raw)
		}
	}
	r := e.call(t, ws, advanced, "PUT", "/v1/connections/"+id+"/read-access", readAccess42, nil)
	if r.status != 429 || !strings.Contains(r.body["detail"].(string), "read-access checks") {
		t.Errorf("read check past the limit: %d %s", r.status, r.raw)
	}
	for i := 1; i < limit; i++ {
		r := e.call(t, ws, advanced, "POST", "/v1/connections/"+id+"/verify", nil, nil)
		if r.status != 200 {
			t.Fatalf("credential check %d beside the spent read checks: %d %s", i+1, r.status, r.raw)
		}
	}
}
