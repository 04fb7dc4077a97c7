package contract_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/funnel-personio/funnel-personio/dev/contract"
)

func TestCheck(t *testing.T) {
	c, err := contract.Load(contract.SpecPath())
	if err != nil {
		t.Fatal(err)
	}
	const valid = `{"first_name":"A","last_name":"B","email":"a@b.de","job_position_id":1}`
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		auth       bool
		status     int
		respType   string
		respBody   string
		routed     bool
		violations []string // substrings, one per expected part of the violation
	}{
		{name: "valid create", method: "POST", path: "/v1/recruiting/applications", body: valid, auth: true, status: 201, routed: true},
		{name: "accepted without email", method: "POST", path: "/v1/recruiting/applications",
			body: `{"first_name":"A","last_name":"B","job_position_id":1}`, auth: true, status: 201, routed: true,
			violations: []string{"accepted a request the spec forbids", `"email"`}},
		{name: "accepted with string position", method: "POST", path: "/v1/recruiting/applications",
			body: `{"first_name":"A","last_name":"B","email":"a@b.de","job_position_id":"1"}`, auth: true, status: 201, routed: true,
			violations: []string{"accepted a request the spec forbids"}},
		{name: "accepted without token", method: "POST", path: "/v1/recruiting/applications", body: valid, status: 201, routed: true,
			violations: []string{"accepted a request the spec forbids"}},
		{name: "rejected invalid request is fine", method: "POST", path: "/v1/recruiting/applications", body: `{}`, auth: true,
			status: 400, respType: "application/json", respBody: `{"errors":[{"field":"email","errors":[{"reason":"x"}]}]}`, routed: true},
		{name: "error body of the wrong shape", method: "POST", path: "/v1/recruiting/applications", body: `{}`, auth: true,
			status: 400, respType: "application/json", respBody: `{"error":"nope"}`, routed: true,
			violations: []string{"answer does not match the spec"}},
		{name: "document answer without uuid", method: "POST", path: "/v1/recruiting/applications/documents", auth: true,
			body:   "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\nx\r\n--b--\r\n",
			status: 200, respType: "application/json", respBody: `{"size":1}`, routed: true,
			violations: []string{"answer does not match the spec"}},
		{name: "feed with a bad enum", method: "GET", path: "/xml?language=en", auth: false, status: 200, routed: true,
			respType: "application/xml", respBody: `<workzag-jobs><position><id>1</id><schedule>sometimes</schedule></position></workzag-jobs>`,
			violations: []string{"answer does not match the spec", "sometimes"}},
		{name: "path the spec lacks", method: "GET", path: "/_sandbox/stats", status: 200, routed: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			r.Header.Set("X-Company-ID", "42")
			if tt.auth {
				r.Header.Set("Authorization", "Bearer t")
			}
			if strings.HasPrefix(tt.body, "--b") {
				r.Header.Set("Content-Type", "multipart/form-data; boundary=b")
			} else {
				r.Header.Set("Content-Type", "application/json")
			}
			h := http.Header{}
			if tt.respType != "" {
				h.Set("Content-Type", tt.respType)
			}
			ex := c.Check(context.Background(), r, []byte(tt.body), tt.status, h, []byte(tt.respBody))
			if ex.Routed != tt.routed {
				t.Fatalf("routed = %v, want %v", ex.Routed, tt.routed)
			}
			v := ex.Violation()
			if len(tt.violations) == 0 && v != "" {
				t.Fatalf("unexpected violation: %s", v)
			}
			for _, want := range tt.violations {
				if !strings.Contains(v, want) {
					t.Errorf("violation %q does not mention %q", v, want)
				}
			}
		})
	}
}

func TestCheckV2(t *testing.T) {
	c, err := contract.Load(contract.SpecV2Path())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		bearer     bool
		status     int
		respBody   string
		violations []string
	}{
		{name: "token", method: "POST", path: "/v2/auth/token", body: "grant_type=client_credentials&client_id=a&client_secret=b", status: 200,
			respBody: `{"access_token":"t","token_type":"Bearer","expires_in":60}`},
		{name: "token accepted without secret", method: "POST", path: "/v2/auth/token", body: "grant_type=client_credentials&client_id=a", status: 200,
			respBody: `{"access_token":"t","token_type":"Bearer","expires_in":60}`, violations: []string{"accepted a request the spec forbids"}},
		{name: "token answer without expiry", method: "POST", path: "/v2/auth/token", body: "grant_type=client_credentials&client_id=a&client_secret=b", status: 200,
			respBody: `{"access_token":"t","token_type":"Bearer"}`, violations: []string{"answer does not match the spec"}},
		{name: "jobs page", method: "GET", path: "/v2/recruiting/jobs?limit=1", bearer: true, status: 200,
			respBody: `{"_data":[{"id":"1","name":"n","status":"draft","created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}],"_meta":{}}`},
		{name: "jobs read without token", method: "GET", path: "/v2/recruiting/jobs", status: 200,
			respBody: `{"_data":[],"_meta":{}}`, violations: []string{"accepted a request the spec forbids"}},
		{name: "limit over 200", method: "GET", path: "/v2/recruiting/jobs?limit=500", bearer: true, status: 200,
			respBody: `{"_data":[],"_meta":{}}`, violations: []string{"accepted a request the spec forbids"}},
		{name: "application without job", method: "GET", path: "/v2/recruiting/applications/7", bearer: true, status: 200,
			respBody:   `{"id":"7","candidate":{"id":"1"},"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}`,
			violations: []string{"answer does not match the spec", "job"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			if tt.body != "" {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			if tt.bearer {
				r.Header.Set("Authorization", "Bearer t")
			}
			h := http.Header{"Content-Type": {"application/json"}}
			v := c.Check(context.Background(), r, []byte(tt.body), tt.status, h, []byte(tt.respBody)).Violation()
			if len(tt.violations) == 0 && v != "" {
				t.Fatalf("unexpected violation: %s", v)
			}
			if len(tt.violations) > 0 && v == "" {
				t.Fatal("no violation")
			}
			for _, want := range tt.violations {
				if !strings.Contains(v, want) {
					t.Errorf("violation %q does not mention %q", v, want)
				}
			}
		})
	}
}
