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
