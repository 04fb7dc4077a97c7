package mapping_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/mapping"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/phone"
)

// addGoldenSeeds adds every golden event with its mapping to the corpus.
func addGoldenSeeds(f *testing.F, add func(event, mapping []byte)) {
	events, _ := filepath.Glob("testdata/golden/*.event.json")
	for _, p := range events {
		ev, _ := os.ReadFile(p)
		m, err := os.ReadFile(strings.TrimSuffix(p, ".event.json") + ".mapping.json")
		if err != nil {
			m = []byte(`{"version":1,"required":{"first_name":{"source":"contact.first_name"},"last_name":{"source":"contact.last_name"},"email":{"source":"contact.email"}}}`)
		}
		add(ev, m)
	}
}

var dateRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// FuzzApply maps any valid event with any valid mapping: never a panic,
// and what comes out always meets Personio's contract.
func FuzzApply(f *testing.F) {
	addGoldenSeeds(f, func(ev, m []byte) { f.Add(ev, m) })
	f.Fuzz(func(t *testing.T, eventJSON, mappingJSON []byte) {
		ev, err := application.Parse(eventJSON)
		if err != nil {
			return
		}
		cfg, err := mapping.Parse(mappingJSON)
		if err != nil {
			return
		}
		res, err := mapping.Apply(ev, *cfg, phone.E164, opts)
		if err != nil {
			return
		}
		a := res.Application
		if strings.TrimSpace(a.FirstName) == "" || strings.TrimSpace(a.LastName) == "" {
			t.Fatalf("blank name in %+v", a)
		}
		if !personio.ValidEmail(a.Email) {
			t.Fatalf("invalid e-mail %q", a.Email)
		}
		if a.ApplicationDate != "" && (!dateRE.MatchString(a.ApplicationDate) || a.ApplicationDate > "2026-11-27") {
			t.Fatalf("application date %q", a.ApplicationDate)
		}
		for _, at := range a.Attributes {
			if strings.TrimSpace(at.Value) == "" {
				t.Fatalf("blank attribute %s", at.ID)
			}
			if (at.ID == "birthday") && !dateRE.MatchString(at.Value) {
				t.Fatalf("birthday %q", at.Value)
			}
		}
		for _, fu := range res.Files {
			if !fu.Category.Valid() {
				t.Fatalf("file category %q", fu.Category)
			}
		}
		// The sandbox, seeded with what the mapping refers to, accepts it.
		if code, body := sendToSandbox(t, *cfg, a); code != http.StatusCreated {
			t.Fatalf("the sandbox answered %d %s for %+v", code, body, a)
		}
	})
}

// sendToSandbox posts the application to a sandbox whose company 42 has
// every custom attribute, option, channel and posting the mapping and the
// application refer to.
func sendToSandbox(t *testing.T, cfg mapping.Config, a personio.Application) (int, string) {
	seed := sandbox.DefaultSeed()
	c := &seed.Companies[0]
	c.Attributes = nil
	for _, r := range cfg.Optional {
		if !strings.HasPrefix(r.Target, "custom_attribute_") {
			continue
		}
		attr := sandbox.CustomAttribute{ID: r.Target, Kind: r.Type}
		for _, o := range r.Options {
			attr.Options = append(attr.Options, o)
		}
		if r.Constant != nil {
			attr.Options = append(attr.Options, *r.Constant)
		}
		if attr.Kind == sandbox.KindOption && len(attr.Options) == 0 {
			attr.Options = []string{"custom_option_1"}
		}
		c.Attributes = append(c.Attributes, attr)
	}
	if a.RecruitingChannelID != nil {
		c.Channels = append(c.Channels, *a.RecruitingChannelID)
	}
	if a.ExternalPostingID != "" {
		p := sandbox.Posting{ID: a.ExternalPostingID, PositionID: 1001}
		if a.RecruitingChannelID != nil {
			p.ChannelID = *a.RecruitingChannelID
		}
		c.Postings = []sandbox.Posting{p}
	}
	sb, err := sandbox.New(sandbox.Config{Seed: seed, RateLimit: -1, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(a)
	req := httptest.NewRequest(http.MethodPost, "/v1/recruiting/applications", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer sandbox-token-42")
	req.Header.Set("X-Company-ID", "42")
	rec := httptest.NewRecorder()
	sb.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// FuzzValidate checks any mapping document against a funnel: never a
// panic, and a mapping that validates also compiles.
func FuzzValidate(f *testing.F) {
	addGoldenSeeds(f, func(_, m []byte) { f.Add(m) })
	f.Add([]byte(`{"version":1,"optional":[{"target":"message","template":"{{answers.q}} {{"},{"target":"custom_attribute_1","type":"option","options":{"a":"custom_option_1","A":"x"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := mapping.Parse(data)
		if err != nil {
			return
		}
		if err := mapping.Validate(*cfg, funnel); err == nil {
			if _, err := mapping.Compile(*cfg, phone.E164); err != nil {
				t.Fatalf("validates with a funnel but does not compile: %v", err)
			}
		}
	})
}
