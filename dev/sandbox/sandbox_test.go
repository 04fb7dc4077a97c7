package sandbox_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/dev/sandbox/sandboxtest"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

const valid = `{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com","job_position_id":1001}`

type answer struct {
	status int
	body   string
}

func post(t *testing.T, srv *sandboxtest.Server, path, contentType string, body []byte, header map[string]string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "Bearer sandbox-token-42")
	req.Header.Set("X-Company-ID", "42")
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, string(b)}
}

// TestApplicationBody covers what a typed client cannot send: the body
// rules Personio enforces before any field rule, and authentication before
// everything.
func TestApplicationBody(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Config{RateLimit: -1})
	tests := []struct {
		name   string
		body   string
		header map[string]string
		status int
		want   string // substring of the answer
	}{
		{name: "valid", body: valid, status: 201},
		{name: "phone at top level", body: `{"first_name":"A","last_name":"B","email":"b@example.com","job_position_id":1001,"phone":"1"}`,
			status: 400, want: personio.ReasonInvalidRequestBody},
		{name: "key in another case", body: `{"First_Name":"A","last_name":"B","email":"b@example.com","job_position_id":1001}`,
			status: 400, want: personio.ReasonInvalidRequestBody},
		{name: "position as string", body: `{"first_name":"A","last_name":"B","email":"b@example.com","job_position_id":"1001"}`,
			status: 400, want: personio.ReasonInvalidRequestBody},
		{name: "position as fraction", body: `{"first_name":"A","last_name":"B","email":"b@example.com","job_position_id":1001.5}`,
			status: 400, want: personio.ReasonInvalidRequestBody},
		{name: "channel as string", body: `{"first_name":"A","last_name":"B","email":"b@example.com","job_position_id":1001,"recruiting_channel_id":"7"}`,
			status: 400, want: personio.ReasonInvalidRequestBody},
		{name: "unknown key in a file", body: `{"first_name":"A","last_name":"B","email":"b@example.com","job_position_id":1001,"files":[{"uuid":"x","original_filename":"a","category":"cv","size":1}]}`,
			status: 400, want: personio.ReasonInvalidRequestBody},
		{name: "tags not strings", body: `{"first_name":"A","last_name":"B","email":"b@example.com","job_position_id":1001,"tags":[1]}`,
			status: 400, want: personio.ReasonInvalidRequestBody},
		{name: "not an object", body: `[]`, status: 400, want: personio.ReasonInvalidRequestBody},
		{name: "trailing data", body: valid + `{}`, status: 400, want: personio.ReasonInvalidRequestBody},
		{name: "null names", body: `{"first_name":null,"last_name":null,"email":"b@example.com","job_position_id":1001}`,
			status: 400, want: `"field":"first_name","errors":[{"reason":"errors.attribute-validation.required-attribute"}]`},
		{name: "missing position", body: `{"first_name":"A","last_name":"B","email":"b@example.com"}`,
			status: 400, want: `"field":"job_position_id","errors":[{"reason":"errors.attribute-validation.required-attribute"}]`},
		{name: "attribute value not a string", body: `{"first_name":"A","last_name":"B","email":"b@example.com","job_position_id":1001,"attributes":[{"id":"custom_attribute_101","value":5}]}`,
			status: 400, want: personio.ReasonInvalidType},
		{name: "attribute without value", body: `{"first_name":"A","last_name":"B","email":"b@example.com","job_position_id":1001,"attributes":[{"id":"location"}]}`,
			status: 400, want: `"field":"location","errors":[{"reason":"errors.attribute-validation.required-attribute"}]`},
		{name: "file without category", body: `{"first_name":"A","last_name":"B","email":"b@example.com","job_position_id":1001,"files":[{"uuid":"6f1c8f7e-3b1a-4c1e-9d2a-0c5e8b7a6d4f","original_filename":"a.pdf"}]}`,
			status: 400, want: `"field":"files[0].category","errors":[{"reason":"errors.attribute-validation.required-attribute"}]`},
		{name: "no token", body: `{}`, header: map[string]string{"Authorization": ""}, status: 401},
		{name: "basic auth", body: valid, header: map[string]string{"Authorization": "Basic c2FuZGJveA=="}, status: 401},
		{name: "no company", body: valid, header: map[string]string{"X-Company-ID": ""}, status: 401},
		{name: "token of another company", body: valid, header: map[string]string{"X-Company-ID": "43"}, status: 401},
		{name: "auth before body", body: `not json`, header: map[string]string{"Authorization": "Bearer wrong"}, status: 401},
		{name: "feature before body", body: `not json`, header: map[string]string{"Authorization": "Bearer sandbox-token-43", "X-Company-ID": "43"},
			status: 403, want: personio.ReasonRecruitingDisabled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := post(t, srv, "/v1/recruiting/applications", "application/json", []byte(tt.body), tt.header)
			if got.status != tt.status || !strings.Contains(got.body, tt.want) {
				t.Errorf("answer %d %s, want %d with %q", got.status, got.body, tt.status, tt.want)
			}
		})
	}
}

func multipartBody(t *testing.T, parts ...[2]string) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		name, filename, _ := strings.Cut(p[0], ":")
		var w io.Writer
		if filename == "" {
			w, _ = mw.CreateFormField(name)
		} else {
			w, _ = mw.CreateFormFile(name, filename)
		}
		_, _ = io.WriteString(w, p[1])
	}
	_ = mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

func TestDocuments(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Config{RateLimit: -1})
	big := strings.Repeat("x", personio.MaxDocumentSize+1)
	tests := []struct {
		name   string
		parts  [][2]string
		status int
		want   string
	}{
		{name: "pdf", parts: [][2]string{{"file:cv.pdf", "%PDF-1.4"}}, status: 200, want: `"extension":"pdf"`},
		{name: "upper-case extension", parts: [][2]string{{"file:SCAN.JPG", "\xff\xd8\xff\xe0"}}, status: 200, want: `"mimetype":"image/jpeg"`},
		{name: "txt", parts: [][2]string{{"file:a.txt", "hello"}}, status: 200, want: `"mimetype":"text/plain; charset=utf-8"`},
		{name: "with another part", parts: [][2]string{{"note", "hi"}, {"file:a.txt", "hello"}}, status: 422, want: personio.ReasonInvalidRequestBody},
		{name: "extension not in list", parts: [][2]string{{"file:a.jpeg", "x"}}, status: 422, want: personio.ReasonInvalidFileType},
		{name: "executable", parts: [][2]string{{"file:a.exe", "MZ"}}, status: 422, want: personio.ReasonInvalidFileType},
		{name: "no file part", parts: [][2]string{{"other", "x"}}, status: 422, want: `"field":"file"`},
		{name: "two files", parts: [][2]string{{"file:a.pdf", "x"}, {"file:b.pdf", "y"}}, status: 422, want: `"field":"file"`},
		{name: "part without filename", parts: [][2]string{{"file", "x"}}, status: 422, want: `"field":"file"`},
		{name: "over 20 MB", parts: [][2]string{{"file:big.pdf", big}}, status: 413, want: personio.ReasonFileTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct, body := multipartBody(t, tt.parts...)
			got := post(t, srv, "/v1/recruiting/applications/documents", ct, body, nil)
			if got.status != tt.status || !strings.Contains(got.body, tt.want) {
				t.Errorf("answer %d %.300s, want %d with %q", got.status, got.body, tt.status, tt.want)
			}
		})
	}
	t.Run("not multipart", func(t *testing.T) {
		got := post(t, srv, "/v1/recruiting/applications/documents", "application/json", []byte(`{}`), nil)
		if got.status != 422 {
			t.Errorf("answer %d %s, want 422", got.status, got.body)
		}
	})
	t.Run("file of another company", func(t *testing.T) {
		ct, body := multipartBody(t, [2]string{"file:cv.pdf", "%PDF"})
		var doc personio.Document
		got := post(t, srv, "/v1/recruiting/applications/documents", ct, body, nil)
		if err := json.Unmarshal([]byte(got.body), &doc); err != nil {
			t.Fatal(err)
		}
		seed := sandbox.DefaultSeed()
		seed.Companies = append(seed.Companies, sandbox.Company{ID: "44", Token: "t44", Positions: []sandbox.Position{{ID: 1001, Published: true}}})
		// A second sandbox with company 44 cannot see company 42's upload,
		// and neither can company 44 in the same sandbox.
		other := sandboxtest.Start(t, sandbox.Config{Seed: seed})
		app := fmt.Sprintf(`{"first_name":"A","last_name":"B","email":"b@example.com","job_position_id":1001,"files":[{"uuid":%q,"original_filename":"cv.pdf","category":"cv"}]}`, doc.UUID)
		res := post(t, other, "/v1/recruiting/applications", "application/json", []byte(app), map[string]string{"Authorization": "Bearer t44", "X-Company-ID": "44"})
		if res.status != 400 || !strings.Contains(res.body, personio.ReasonFileNotExists) {
			t.Errorf("answer %d %s, want file-not-exists", res.status, res.body)
		}
		res = post(t, srv, "/v1/recruiting/applications", "application/json", []byte(app), nil)
		if res.status != 201 {
			t.Errorf("own company: answer %d %s, want 201", res.status, res.body)
		}
	})
}

func TestRateLimitCountsBothEndpointsAndSlides(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	srv := sandboxtest.Start(t, sandbox.Config{RateLimit: 3, RateWindow: 10 * time.Second, Lockout: 20 * time.Second, Now: func() time.Time { return now }})
	ct, doc := multipartBody(t, [2]string{"file:a.txt", "x"})
	steps := []struct {
		advance time.Duration
		path    string
		status  int
	}{
		{0, "/v1/recruiting/applications/documents", 200},
		{4 * time.Second, "/v1/recruiting/applications/documents", 200},
		{4 * time.Second, "/v1/recruiting/applications", 201},
		// 3 requests in the last 10 s: the fourth is over and locks out.
		{1 * time.Second, "/v1/recruiting/applications", 429},
		// The first two left the window, but the lock-out lasts 20 s.
		{10 * time.Second, "/v1/recruiting/applications", 429},
		{10 * time.Second, "/v1/recruiting/applications", 400},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		var got answer
		if strings.HasSuffix(s.path, "documents") {
			got = post(t, srv, s.path, ct, doc, nil)
		} else {
			got = post(t, srv, s.path, "application/json", []byte(valid), nil)
		}
		if got.status != s.status {
			t.Fatalf("step %d: %s = %d %s, want %d", i, s.path, got.status, got.body, s.status)
		}
	}
}

// TestIPLimitAcrossCompanies: one address's requests count together
// across companies (and before authentication): the one over the limit is
// 429 whichever company it names, and the window slides.
func TestIPLimitAcrossCompanies(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	srv := sandboxtest.Start(t, sandbox.Config{RateLimit: -1, IPLimit: 3, RateWindow: 10 * time.Second, Now: func() time.Time { return now }})
	as43 := map[string]string{"X-Company-ID": "43", "Authorization": "Bearer sandbox-token-43"}
	bad := map[string]string{"X-Company-ID": "42", "Authorization": "Bearer wrong"}
	steps := []struct {
		advance time.Duration
		headers map[string]string
		status  int
	}{
		{0, nil, 201},
		{time.Second, as43, 403}, // company 43 has recruiting switched off
		{time.Second, bad, 401},
		{time.Second, as43, 429},    // the fourth from this address in 10 s
		{8 * time.Second, nil, 400}, // the first left the window (a repeat of the first application)
	}
	for i, st := range steps {
		now = now.Add(st.advance)
		if got := post(t, srv, "/v1/recruiting/applications", "application/json", []byte(valid), st.headers); got.status != st.status {
			t.Fatalf("step %d: %d %s, want %d", i, got.status, got.body, st.status)
		}
	}
	if s := srv.Sandbox.Stats(); s.OverIPLimit != 1 || s.RateLimited != 1 {
		t.Errorf("stats: %d over the address's limit, %d 429s; want 1 and 1", s.OverIPLimit, s.RateLimited)
	}
}

// TestSpecCoverage makes sure the contract check saw every operation of the
// spec, accepted and refused, so that the check at cleanup is not vacuous.
func TestSpecCoverage(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Config{RateLimit: -1})
	ct, doc := multipartBody(t, [2]string{"file:a.txt", "x"})
	post(t, srv, "/v1/recruiting/applications/documents", ct, doc, nil)
	ct, doc = multipartBody(t, [2]string{"file:a.exe", "x"})
	post(t, srv, "/v1/recruiting/applications/documents", ct, doc, nil)
	post(t, srv, "/v1/recruiting/applications", "application/json", []byte(valid), nil)
	post(t, srv, "/v1/recruiting/applications", "application/json", []byte(`{}`), nil)
	post(t, srv, "/v1/recruiting/applications", "application/json", []byte(valid), map[string]string{"X-Company-ID": "43", "Authorization": "Bearer sandbox-token-43"})
	c := srv.PersonioClient(t)
	if _, err := c.Positions(t.Context(), "42", "acme", "en"); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range srv.Log.Exchanges() {
		if e.Routed {
			seen[fmt.Sprintf("%s %s %d", e.Method, e.Path, e.Status)] = true
		}
	}
	for _, want := range []string{
		"POST /v1/recruiting/applications/documents 200", "POST /v1/recruiting/applications/documents 422",
		"POST /v1/recruiting/applications 201", "POST /v1/recruiting/applications 400",
		"POST /v1/recruiting/applications 403", "GET /xml 200",
	} {
		if !seen[want] {
			t.Errorf("the contract check never saw %s (saw %v)", want, seen)
		}
	}
}

func TestFeed(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Config{})
	tests := []struct {
		path   string
		status int
		want   string
	}{
		{"/careers/acme/xml?language=en", 200, "<id>1001</id>"},
		{"/careers/ACME/xml?language=de", 200, "<workzag-jobs>"},
		{"/careers/acme/xml", 400, "language"},
		{"/careers/nobody/xml?language=en", 404, ""},
	}
	for _, tt := range tests {
		resp, err := srv.Client().Get(srv.URL + tt.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.want) || strings.Contains(string(b), "1002") {
			t.Errorf("GET %s = %d %s, want %d with %q and without the unpublished 1002", tt.path, resp.StatusCode, b, tt.status, tt.want)
		}
	}
}

func TestView(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Config{})
	post(t, srv, "/v1/recruiting/applications", "application/json", []byte(valid), nil)
	post(t, srv, "/v1/recruiting/applications", "application/json", []byte(valid), nil)
	var apps []sandbox.Received
	getJSON(t, srv.URL+"/_sandbox/applications?company=42", &apps)
	if len(apps) != 1 || apps[0].Application.Email != "ada@example.com" || apps[0].CompanyID != "42" {
		t.Errorf("applications = %+v", apps)
	}
	var stats sandbox.Stats
	getJSON(t, srv.URL+"/_sandbox/stats", &stats)
	if stats.Applications != 1 || stats.Requests["applications 201"] != 1 || stats.Requests["applications 400"] != 1 ||
		stats.Reasons[personio.ReasonApplicantExists] != 1 {
		t.Errorf("stats = %+v", stats)
	}
	var reqs []sandbox.Request
	getJSON(t, srv.URL+"/_sandbox/requests?company=42", &reqs)
	if len(reqs) != 2 || reqs[1].Status != 400 {
		t.Errorf("requests = %+v", reqs)
	}
	resp, err := srv.Client().Post(srv.URL+"/_sandbox/applications", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		t.Error("the view accepts POST; it must be read-only")
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

func TestFaultShares(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Config{RateLimit: -1, Faults: sandbox.Faults{Error500: 0.3}, RandSeed: 7})
	const n = 400
	for i := range n {
		body := fmt.Sprintf(`{"first_name":"A","last_name":"B","email":"f%d@example.com","job_position_id":1001}`, i)
		post(t, srv, "/v1/recruiting/applications", "application/json", []byte(body), nil)
	}
	st := srv.Sandbox.Stats()
	if got := st.Faults["500"]; got < n*20/100 || got > n*40/100 {
		t.Errorf("%d of %d requests got an injected 500, want about 30%%", got, n)
	}
	if st.Applications+st.Faults["500"] != n {
		t.Errorf("applications %d + 500s %d != %d", st.Applications, st.Faults["500"], n)
	}
	srv.Sandbox.SetFaults(sandbox.Faults{})
	if got := post(t, srv, "/v1/recruiting/applications", "application/json", []byte(valid), nil); got.status != 201 {
		t.Errorf("after SetFaults({}): %d", got.status)
	}
}

// TestBurst429: a request that starts a burst and every request of its
// company until the burst ends are answered 429, even with no rate limit
// and no faults left.
func TestBurst429(t *testing.T) {
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := sandboxtest.Start(t, sandbox.Config{RateLimit: -1, Now: clock,
		Faults: sandbox.Faults{Burst429: 1, BurstFor: 10 * time.Second}})
	body := func(i int) []byte {
		return []byte(fmt.Sprintf(`{"first_name":"A","last_name":"B","email":"b%d@example.com","job_position_id":1001}`, i))
	}
	if got := post(t, srv, "/v1/recruiting/applications", "application/json", body(0), nil); got.status != 429 {
		t.Fatalf("first request: %d, want 429", got.status)
	}
	srv.Sandbox.SetFaults(sandbox.Faults{})
	mu.Lock()
	now = now.Add(9 * time.Second)
	mu.Unlock()
	if got := post(t, srv, "/v1/recruiting/applications", "application/json", body(1), nil); got.status != 429 {
		t.Errorf("within the burst: %d, want 429", got.status)
	}
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	if got := post(t, srv, "/v1/recruiting/applications", "application/json", body(2), nil); got.status != 201 {
		t.Errorf("after the burst: %d, want 201", got.status)
	}
	st := srv.Sandbox.Stats()
	if st.Faults["429"] != 1 || st.RateLimited != 2 || st.Applications != 1 {
		t.Errorf("stats: faults %v, 429s %d, applications %d; want 1 burst, 2 429s, 1 application", st.Faults, st.RateLimited, st.Applications)
	}
}

func TestSeed(t *testing.T) {
	if err := sandbox.DefaultSeed().Validate(); err != nil {
		t.Fatalf("default seed: %v", err)
	}
	bad := []sandbox.Seed{
		{Companies: []sandbox.Company{{ID: "1"}}},
		{Companies: []sandbox.Company{{ID: "1", Token: "a"}, {ID: "1", Token: "b"}}},
		{Companies: []sandbox.Company{{ID: "1", Token: "a", Attributes: []sandbox.CustomAttribute{{ID: "custom_attribute_1", Kind: "color"}}}}},
		{Companies: []sandbox.Company{{ID: "1", Token: "a", Attributes: []sandbox.CustomAttribute{{ID: "custom_attribute_1", Kind: "option"}}}}},
	}
	for i, s := range bad {
		if _, err := sandbox.New(sandbox.Config{Seed: s}); err == nil {
			t.Errorf("seed %d accepted", i)
		}
	}
}

// TestTokenRotation: the settings view shows a company's current token
// (the seed's, then each regenerated one, counted); the old token is
// refused at once, with the spec's empty 401, and the new one works.
func TestTokenRotation(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Config{})
	var st sandbox.TokenState
	getJSON(t, srv.URL+"/_sandbox/companies/42", &st)
	if st != (sandbox.TokenState{CompanyID: "42", Token: "sandbox-token-42"}) {
		t.Errorf("before: %+v", st)
	}
	resp, err := srv.Client().Post(srv.URL+"/_sandbox/companies/42/rotate-token", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var rotated sandbox.TokenState
	_ = json.NewDecoder(resp.Body).Decode(&rotated)
	resp.Body.Close()
	getJSON(t, srv.URL+"/_sandbox/companies/42", &st)
	if st.Token != rotated.Token || st.Token == "sandbox-token-42" || st.Rotations != 1 {
		t.Errorf("after: %+v (rotate answered %+v)", st, rotated)
	}
	if a := post(t, srv, "/v1/recruiting/applications", "application/json", []byte(valid), nil); a.status != 401 || a.body != "" {
		t.Errorf("the old token: %d %q, want 401 with no body", a.status, a.body)
	}
	if a := post(t, srv, "/v1/recruiting/applications", "application/json", []byte(valid), map[string]string{"Authorization": "Bearer " + st.Token}); a.status != 201 {
		t.Errorf("the new token: %d %s", a.status, a.body)
	}
	if resp, err := http.Get(srv.URL + "/_sandbox/companies/99"); err != nil || resp.StatusCode != 404 {
		t.Errorf("an unknown company: %v %v", resp, err)
	}
}
