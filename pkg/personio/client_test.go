package personio_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/burst"
	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/dev/sandbox/sandboxtest"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

var (
	creds42 = sandboxtest.Company42
	creds43 = sandboxtest.Company43
)

func ptr[T any](v T) *T { return &v }

// fixedNow is the sandbox clock of these tests: application dates are
// compared with 2026-11-27.
func fixedNow() time.Time { return time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC) }

func minimal(email string) personio.Application {
	return personio.Application{FirstName: "Ada", LastName: "Lovelace", Email: email, JobPositionID: 1001}
}

// reasonsOf returns "field=reason" for every reason of a validation error.
func reasonsOf(t *testing.T, err error) []string {
	t.Helper()
	var ve *personio.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v (%T) is not a *ValidationError", err, err)
	}
	var out []string
	for _, f := range ve.Body.Fields {
		for _, r := range f.Reasons {
			out = append(out, f.Field+"="+r.Reason)
		}
	}
	for _, p := range ve.Body.Problems {
		out = append(out, p.Detail)
	}
	return out
}

func TestCreateApplication(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Config{Now: fixedNow, RateLimit: -1})
	c := srv.PersonioClient(t)
	ctx := context.Background()
	doc, err := c.UploadDocument(ctx, creds42, "cv.pdf", strings.NewReader("%PDF-1.4 cv"))
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	with := func(email string, f func(*personio.Application)) personio.Application {
		a := minimal(email)
		f(&a)
		return a
	}
	tests := []struct {
		name    string
		app     personio.Application
		reasons []string // want a ValidationError with exactly these
	}{
		{name: "minimal", app: minimal("minimal@example.com")},
		{name: "every field", app: personio.Application{
			FirstName: "Zoë", LastName: "van der Berg", Email: "zoe@example.com", JobPositionID: 1001,
			RecruitingChannelID: ptr(int64(7)), ExternalPostingID: "ext-1001-jobboard",
			Message: "Hallo 👋\nline two", ApplicationDate: "2026-11-27",
			Phase: &personio.Phase{Type: "system", ID: "offer"}, Tags: []string{"funnel", "new-tag"},
			Files: []personio.FileRef{{UUID: doc.UUID, OriginalFilename: "cv.pdf", Category: personio.CategoryCV}},
			Attributes: []personio.Attribute{
				{ID: "phone", Value: "+4915112345678"}, {ID: "gender", Value: "diverse"},
				{ID: "birthday", Value: "1990-02-28"}, {ID: "location", Value: "München"},
				{ID: "available_from", Value: "sofort"}, {ID: "salary_expectations", Value: "min 50k"},
				{ID: "custom_attribute_101", Value: "text"}, {ID: "custom_attribute_102", Value: "custom_option_2"},
				{ID: "custom_attribute_103", Value: "2027-01-01"},
			},
		}},
		{name: "custom phase", app: with("phase5@example.com", func(a *personio.Application) { a.Phase = &personio.Phase{Type: "custom", ID: 5} })},
		{name: "unknown custom phase is unassigned", app: with("phase9@example.com", func(a *personio.Application) { a.Phase = &personio.Phase{Type: "custom", ID: 9} })},
		{name: "blank names", app: with("blank@example.com", func(a *personio.Application) { a.FirstName, a.LastName = "  ", "" }),
			reasons: []string{"first_name=" + personio.ReasonRequiredAttribute, "last_name=" + personio.ReasonRequiredAttribute}},
		{name: "missing email", app: minimal(""), reasons: []string{"email=" + personio.ReasonRequiredAttribute}},
		{name: "bad email", app: minimal("not-an-email"), reasons: []string{"email=" + personio.ReasonInvalidEmailFormat}},
		{name: "email with display name", app: minimal("Ada <ada@example.com>"), reasons: []string{"email=" + personio.ReasonInvalidEmailFormat}},
		{name: "unpublished position", app: with("p@example.com", func(a *personio.Application) { a.JobPositionID = 1002 }),
			reasons: []string{"job_position_id=" + personio.ReasonPositionNotPublished}},
		{name: "unknown position", app: with("p@example.com", func(a *personio.Application) { a.JobPositionID = 9999 }),
			reasons: []string{"job_position_id=" + personio.ReasonPositionNotPublished}},
		{name: "unknown channel", app: with("c@example.com", func(a *personio.Application) { a.RecruitingChannelID = ptr(int64(8)) }),
			reasons: []string{"recruiting_channel_id=" + personio.ReasonChannelNotFound}},
		{name: "unknown posting", app: with("c@example.com", func(a *personio.Application) { a.ExternalPostingID = "nope" }),
			reasons: []string{"external_posting_id=" + personio.ReasonPostingNotFound}},
		{name: "posting on another channel", app: with("c@example.com", func(a *personio.Application) {
			a.ExternalPostingID = "ext-1001-jobboard"
			a.RecruitingChannelID = ptr(int64(8))
		}), reasons: []string{"recruiting_channel_id=" + personio.ReasonChannelNotFound, "external_posting_id=" + personio.ReasonPostingNotFound}},
		{name: "date in future", app: with("d@example.com", func(a *personio.Application) { a.ApplicationDate = "2026-11-28" }),
			reasons: []string{"application_date=" + personio.ReasonDateInFuture}},
		{name: "date format", app: with("d@example.com", func(a *personio.Application) { a.ApplicationDate = "27.11.2026" }),
			reasons: []string{"application_date=" + personio.ReasonInvalidDateFormat}},
		{name: "impossible date", app: with("d@example.com", func(a *personio.Application) { a.ApplicationDate = "2026-02-30" }),
			reasons: []string{"application_date=" + personio.ReasonInvalidDateFormat}},
		{name: "bad system phase", app: with("ph@example.com", func(a *personio.Application) { a.Phase = &personio.Phase{Type: "system", ID: "hired"} }),
			reasons: []string{"phase=" + personio.ReasonInvalidSystemPhase}},
		{name: "bad phase type", app: with("ph@example.com", func(a *personio.Application) { a.Phase = &personio.Phase{Type: "other", ID: "offer"} }),
			reasons: []string{"phase=" + personio.ReasonInvalidSystemPhase}},
		{name: "unknown file", app: with("f@example.com", func(a *personio.Application) {
			a.Files = []personio.FileRef{{UUID: "6f1c8f7e-3b1a-4c1e-9d2a-0c5e8b7a6d4f", OriginalFilename: "x.pdf", Category: "cv"}}
		}), reasons: []string{"files[0].uuid=" + personio.ReasonFileNotExists}},
		{name: "bad file category and name", app: with("f@example.com", func(a *personio.Application) {
			a.Files = []personio.FileRef{{UUID: doc.UUID, Category: "resume"}}
		}), reasons: []string{"files[0].original_filename=" + personio.ReasonRequiredAttribute, "files[0].category=" + personio.ReasonUnknownFileCategory}},
		{name: "attribute rules", app: with("a@example.com", func(a *personio.Application) {
			a.Attributes = []personio.Attribute{
				{ID: "custom_attribute_999", Value: "x"}, {ID: "gender", Value: "m"},
				{ID: "custom_attribute_102", Value: "custom_option_3"}, {ID: "custom_attribute_103", Value: "01.01.2027"},
				{ID: "birthday", Value: "1990/01/01"}, {ID: "location", Value: " "},
			}
		}), reasons: []string{
			"custom_attribute_999=" + personio.ReasonUnknownAttribute, "gender=" + personio.ReasonUnknownAttributeOption,
			"custom_attribute_102=" + personio.ReasonUnknownAttributeOption, "custom_attribute_103=" + personio.ReasonInvalidDateFormat,
			"birthday=" + personio.ReasonInvalidDateFormat, "location=" + personio.ReasonRequiredAttribute,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.CreateApplication(ctx, creds42, tt.app)
			if tt.reasons == nil {
				if err != nil {
					t.Fatalf("CreateApplication: %v", err)
				}
				return
			}
			if got := reasonsOf(t, err); !slices.Equal(got, tt.reasons) {
				t.Errorf("reasons = %q, want %q", got, tt.reasons)
			}
			if personio.IsRetryable(err) {
				t.Errorf("validation error %v is retryable", err)
			}
		})
	}
	got := srv.Sandbox.Applications("42")
	if len(got) != 4 {
		t.Fatalf("sandbox accepted %d applications, want 4", len(got))
	}
	every := got[1]
	if every.Application.Email != "zoe@example.com" || every.Phase != "system:offer" || len(every.Application.Attributes) != 9 ||
		len(every.Application.Files) != 1 || every.Application.Files[0].UUID != doc.UUID || *every.Application.RecruitingChannelID != 7 {
		t.Errorf("stored application = %+v", every)
	}
	if got[2].Phase != "custom:5" || got[3].Phase != "system:unassigned" {
		t.Errorf("phases = %q, %q; want custom:5, system:unassigned", got[2].Phase, got[3].Phase)
	}
}

func TestCreateApplicationDuplicate(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Config{})
	c := srv.PersonioClient(t)
	ctx := context.Background()
	if err := c.CreateApplication(ctx, creds42, minimal("dup@example.com")); err != nil {
		t.Fatal(err)
	}
	err := c.CreateApplication(ctx, creds42, minimal("DUP@Example.com"))
	var ae *personio.AlreadyExistsError
	if !errors.As(err, &ae) {
		t.Fatalf("second application: %v (%T), want *AlreadyExistsError", err, err)
	}
	if personio.IsRetryable(err) || !ae.Body.HasReason(personio.ReasonApplicantExists) {
		t.Errorf("AlreadyExistsError %+v: retryable or without reason", ae)
	}
	if n := len(srv.Sandbox.Applications("42")); n != 1 {
		t.Errorf("sandbox holds %d applications, want 1", n)
	}
}

func TestErrorsByStatus(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		cfg       sandbox.Config
		creds     personio.Credentials
		timeout   time.Duration
		check     func(error) bool
		retryable bool
		created   bool // the sandbox processed the application although the client got an error
	}{
		{name: "wrong token", creds: personio.Credentials{CompanyID: "42", Token: "wrong-token"},
			check: is[*personio.AuthError]},
		{name: "unknown company", creds: personio.Credentials{CompanyID: "77", Token: "sandbox-token-42"},
			check: is[*personio.AuthError]},
		{name: "recruiting disabled", creds: creds43, check: func(err error) bool {
			var fe *personio.FeatureDisabledError
			return errors.As(err, &fe) && fe.Reason == personio.ReasonRecruitingDisabled
		}},
		{name: "server error", cfg: sandbox.Config{Faults: sandbox.Faults{Error500: 1}}, creds: creds42,
			check: func(err error) bool {
				var se *personio.ServerError
				return errors.As(err, &se) && se.StatusCode == 500
			}, retryable: true},
		{name: "slow answer past the timeout", cfg: sandbox.Config{Faults: sandbox.Faults{Slow: 1, SlowDelay: 5 * time.Second}},
			creds: creds42, timeout: 200 * time.Millisecond, check: func(err error) bool {
				var te *personio.TransportError
				return errors.As(err, &te) && te.Timeout
			}, retryable: true, created: true},
		{name: "dropped connection", cfg: sandbox.Config{Faults: sandbox.Faults{Drop: 1}}, creds: creds42,
			check: is[*personio.TransportError], retryable: true, created: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sandboxtest.Start(t, tt.cfg)
			var opts []personio.Option
			if tt.timeout > 0 {
				opts = append(opts, personio.WithTimeout(tt.timeout))
			}
			err := srv.PersonioClient(t, opts...).CreateApplication(ctx, tt.creds, minimal("e@example.com"))
			if err == nil || !tt.check(err) {
				t.Fatalf("error = %v (%T)", err, err)
			}
			if got := personio.IsRetryable(err); got != tt.retryable {
				t.Errorf("IsRetryable = %v, want %v", got, tt.retryable)
			}
			if got := len(srv.Sandbox.Applications("")) == 1; got != tt.created {
				t.Errorf("created = %v, want %v", got, tt.created)
			}
			if strings.Contains(err.Error(), string(tt.creds.Token)) {
				t.Errorf("error %q contains the token", err)
			}
		})
	}
}

func is[T error](err error) bool {
	var target T
	return errors.As(err, &target)
}

func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := personio.NewClient(personio.WithBaseURL(url), personio.WithTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	err = c.CreateApplication(context.Background(), creds42, minimal("u@example.com"))
	if !is[*personio.TransportError](err) || !personio.IsRetryable(err) {
		t.Fatalf("error = %v (%T), want a retryable *TransportError", err, err)
	}
}

func TestRateLimit(t *testing.T) {
	var mu = make(chan struct{}, 1)
	now := fixedNow()
	clock := func() time.Time { mu <- struct{}{}; defer func() { <-mu }(); return now }
	advance := func(d time.Duration) { mu <- struct{}{}; now = now.Add(d); <-mu }
	srv := sandboxtest.Start(t, sandbox.Config{Now: clock})
	c := srv.PersonioClient(t)
	ctx := context.Background()
	// Documents and applications share the budget: 10 + 10 = 20.
	for i := range 10 {
		if _, err := c.UploadDocument(ctx, creds42, "a.txt", strings.NewReader("x")); err != nil {
			t.Fatalf("upload %d: %v", i, err)
		}
		if err := c.CreateApplication(ctx, creds42, minimal("r"+string(rune('a'+i))+"@example.com")); err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	err := c.CreateApplication(ctx, creds42, minimal("over@example.com"))
	var rl *personio.RateLimitError
	if !errors.As(err, &rl) || !personio.IsRetryable(err) {
		t.Fatalf("21st request: %v, want a retryable *RateLimitError", err)
	}
	// Another company has its own budget.
	if err := c.Verify(ctx, creds43); !is[*personio.FeatureDisabledError](err) {
		t.Fatalf("company 43: %v", err)
	}
	// The window has passed but the lock-out (60 s from the 429) has not.
	advance(59 * time.Second)
	if err := c.Verify(ctx, creds42); !is[*personio.RateLimitError](err) {
		t.Fatalf("during lock-out: %v, want 429", err)
	}
	advance(2 * time.Second)
	if err := c.Verify(ctx, creds42); err != nil {
		t.Fatalf("after lock-out: %v", err)
	}
	if got := srv.Sandbox.Stats().RateLimited; got != 2 {
		t.Errorf("429s = %d, want 2", got)
	}
}

func TestVerify(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Config{})
	c := srv.PersonioClient(t)
	ctx := context.Background()
	tests := []struct {
		name     string
		creds    personio.Credentials
		check    func(error) bool
		requests int // requests the sandbox saw
	}{
		{name: "good", creds: creds42, check: func(err error) bool { return err == nil }, requests: 1},
		{name: "bad token", creds: personio.Credentials{CompanyID: "42", Token: "nope"}, check: is[*personio.AuthError], requests: 1},
		{name: "recruiting disabled", creds: creds43, check: is[*personio.FeatureDisabledError], requests: 1},
		{name: "company id not a number", creds: personio.Credentials{CompanyID: "acme", Token: "t"}, check: func(err error) bool {
			var ve *personio.ValidationError
			return errors.As(err, &ve) && ve.StatusCode == 0 && ve.Body.HasReason(personio.ReasonInvalidCompanyID)
		}},
		{name: "no token", creds: personio.Credentials{CompanyID: "42"}, check: func(err error) bool {
			var ve *personio.ValidationError
			return errors.As(err, &ve) && ve.StatusCode == 0 && ve.Body.HasReason(personio.ReasonRequiredAttribute)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Sandbox.Requests(""))
			err := c.Verify(ctx, tt.creds)
			if !tt.check(err) {
				t.Fatalf("Verify = %v (%T)", err, err)
			}
			if got := len(srv.Sandbox.Requests("")) - before; got != tt.requests {
				t.Errorf("requests = %d, want %d", got, tt.requests)
			}
		})
	}
	if n := len(srv.Sandbox.Applications("")); n != 0 {
		t.Errorf("Verify created %d applications", n)
	}
}

func TestUploadDocument(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Config{})
	c := srv.PersonioClient(t)
	ctx := context.Background()
	pdf := []byte("%PDF-1.7\n% a CV\n")
	doc, err := c.UploadDocument(ctx, creds42, "Lebenslauf Müller.PDF", bytes.NewReader(pdf))
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if doc.UUID == "" || doc.Size != int64(len(pdf)) || doc.Extension != "pdf" || doc.MimeType != "application/pdf" ||
		doc.OriginalFilename != "Lebenslauf Müller.PDF" {
		t.Errorf("document = %+v", doc)
	}
	tests := []struct {
		name     string
		filename string
		size     int
		reason   string
	}{
		{name: "extension not allowed", filename: "run.exe", size: 10, reason: personio.ReasonInvalidFileType},
		{name: "no extension", filename: "cv", size: 10, reason: personio.ReasonInvalidFileType},
		{name: "over 20 MB", filename: "big.pdf", size: personio.MaxDocumentSize + 1, reason: personio.ReasonFileTooBig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(srv.Sandbox.Requests(""))
			_, err := c.UploadDocument(ctx, creds42, tt.filename, bytes.NewReader(make([]byte, tt.size)))
			var ve *personio.ValidationError
			if !errors.As(err, &ve) || ve.StatusCode != 0 || !ve.Body.HasReason(tt.reason) {
				t.Fatalf("error = %v, want a client-side %s", err, tt.reason)
			}
			if n := len(srv.Sandbox.Requests("")) - before; n != 0 {
				t.Errorf("the client sent %d requests for a file it must refuse", n)
			}
		})
	}
	if _, err := c.UploadDocument(ctx, creds42, "max.pdf", bytes.NewReader(make([]byte, personio.MaxDocumentSize))); err != nil {
		t.Errorf("a file of exactly 20 MB: %v", err)
	}
}

func TestPositions(t *testing.T) {
	srv := sandboxtest.Start(t, sandbox.Config{})
	c := srv.PersonioClient(t)
	ctx := context.Background()
	got, err := c.Positions(ctx, "42", "Acme", "de")
	if err != nil {
		t.Fatalf("Positions: %v", err)
	}
	if len(got) != 2 || got[0].ID != 1001 || got[0].Name != "Office Manager (m/w/d)" || got[0].Office != "Munich" || got[1].ID != 1003 || got[1].Office != "Hamburg" {
		t.Errorf("positions = %+v, want only the published 1001 and 1003", got)
	}
	if _, err := c.Positions(ctx, "42", "unknown-site", "en"); !is[*personio.FeedUnavailableError](err) {
		t.Errorf("unknown subdomain: %v, want *FeedUnavailableError", err)
	}
	for _, bad := range []string{"evil.com/x", "a b", "-x", ""} {
		if _, err := c.Positions(ctx, "42", bad, "en"); !is[*personio.ValidationError](err) {
			t.Errorf("subdomain %q: %v, want *ValidationError", bad, err)
		}
	}
	if _, err := c.Positions(ctx, "42", "acme", "xx"); !is[*personio.ValidationError](err) {
		t.Errorf("language xx: %v, want *ValidationError", err)
	}
}

func TestFeedRedirectIsUnavailable(t *testing.T) {
	srv := httptest.NewServer(http.RedirectHandler("/", http.StatusFound))
	defer srv.Close()
	c, err := personio.NewClient(personio.WithFeedURL(srv.URL + "/{subdomain}/xml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Positions(context.Background(), "42", "acme", "en"); !is[*personio.FeedUnavailableError](err) {
		t.Fatalf("redirect: %v, want *FeedUnavailableError", err)
	}
}

func TestNewClientOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  personio.Option
	}{
		{"base URL without scheme", personio.WithBaseURL("api.personio.de")},
		{"base URL ftp", personio.WithBaseURL("ftp://x")},
		{"feed URL without placeholder", personio.WithFeedURL("https://x.jobs.personio.de/xml")},
		{"nil HTTP client", personio.WithHTTPClient(nil)},
		{"zero timeout", personio.WithTimeout(0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := personio.NewClient(tt.opt); err == nil {
				t.Error("NewClient accepted a bad option")
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	c, _ := personio.NewClient(personio.WithBaseURL(srv.URL), personio.WithPartnerID("P"), personio.WithAppID("A"))
	if err := c.CreateApplication(context.Background(), creds42, minimal("h@example.com")); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Authorization": "Bearer sandbox-token-42", "X-Company-Id": "42", "X-Personio-Partner-Id": "P",
		"X-Personio-App-Id": "A", "Content-Type": "application/json",
	}
	for k, v := range want {
		if got.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, got.Get(k), v)
		}
	}
}

// TestConnectionsKeptAcrossBatches sends batches of 10 creates at once,
// as a worker invocation does, and counts the connections the server
// saw opened: the client keeps a batch's connections for the next batch
// (with Go's default of 2 idle connections a host, each batch after the
// first would open 8 again: 42 over five batches).
func TestConnectionsKeptAcrossBatches(t *testing.T) {
	const batch, batches = 10, 5
	srv := burst.NewServer(batch, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) })
	defer srv.Close()
	c, err := personio.NewClient(personio.WithBaseURL(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	burst.Send(batches, batch, func(b, i int) {
		if err := c.CreateApplication(context.Background(), creds42, minimal(fmt.Sprintf("b%d-%d@example.com", b, i))); err != nil {
			t.Error(err)
		}
	})
	// A connection may go back to the pool a moment after its answer was
	// read, so a batch can open one or two anew; dropping the batch's
	// connections opens eight.
	if n := srv.Opened(); n > 2*batch {
		t.Errorf("%d batches of %d creates opened %d connections; want at most %d (a batch's connections kept for the next)", batches, batch, n, 2*batch)
	}
}
