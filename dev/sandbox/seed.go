package sandbox

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

// Seed is the data the sandbox starts with: companies with their tokens,
// job positions, channels, postings, custom attributes and phases.
type Seed struct {
	Companies []Company `json:"companies"`
}

// Company is one Personio account in the sandbox.
type Company struct {
	ID    string `json:"id"`
	Token string `json:"token"`
	// Subdomain is the career site's subdomain; its XML feed lists the
	// published positions. Empty: the feed is off.
	Subdomain string `json:"subdomain,omitempty"`
	// RecruitingDisabled makes every API call answer 403
	// feature.recruiting.disabled; PublicAPIDisabled, 403
	// feature.public-api.disabled.
	RecruitingDisabled bool              `json:"recruiting_disabled,omitempty"`
	PublicAPIDisabled  bool              `json:"public_api_disabled,omitempty"`
	Positions          []Position        `json:"positions,omitempty"`
	Channels           []int64           `json:"channels,omitempty"`
	Postings           []Posting         `json:"postings,omitempty"`
	Attributes         []CustomAttribute `json:"attributes,omitempty"`
	CustomPhases       []int64           `json:"custom_phases,omitempty"`
	// ReadClients are the company's API credentials for the v2 read
	// endpoints.
	ReadClients []ReadClient `json:"read_clients,omitempty"`
	// ReadUnavailable makes the v2 Recruiting endpoints answer 404, as
	// integrators report for some accounts.
	ReadUnavailable bool `json:"read_unavailable,omitempty"`
}

// Position is a job position; only published ones take applications and
// appear in the feed.
type Position struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Published  bool   `json:"published"`
	Office     string `json:"office,omitempty"`
	Department string `json:"department,omitempty"`
}

// Posting is an external job posting (multiposting) of a position, on a
// channel.
type Posting struct {
	ID         string `json:"id"`
	PositionID int64  `json:"position_id"`
	ChannelID  int64  `json:"channel_id"`
}

// CustomAttribute is a custom applicant attribute (custom_attribute_N).
type CustomAttribute struct {
	ID      string   `json:"id"`
	Kind    string   `json:"kind"`
	Options []string `json:"options,omitempty"`
}

// DefaultSeed is what a newcomer gets with no configuration: company 42
// (token sandbox-token-42, career site "acme") with positions 1001
// (published, Munich), 1002 (unpublished) and 1003 (published, Hamburg),
// channel 7, a posting
// "ext-1001-jobboard" on channel 7, custom attributes 101 (text), 102
// (option: custom_option_1, custom_option_2), 103 (date) and custom phase
// 5, and API credentials sandbox-client-42 / sandbox-secret-42 (scope
// personio:recruiting:read) and sandbox-client-42-noscope /
// sandbox-secret-42-noscope (no scope); and company 43 (token sandbox-token-43) with recruiting disabled.
func DefaultSeed() Seed {
	return Seed{Companies: []Company{
		{
			ID: "42", Token: "sandbox-token-42", Subdomain: "acme",
			Positions: []Position{
				{ID: 1001, Name: "Office Manager (m/w/d)", Published: true, Office: "Munich", Department: "Operations"},
				{ID: 1002, Name: "Backend Engineer (m/w/d)", Published: false, Office: "Berlin", Department: "Engineering"},
				{ID: 1003, Name: "Sales Manager (m/w/d)", Published: true, Office: "Hamburg", Department: "Sales"},
			},
			Channels: []int64{7},
			Postings: []Posting{{ID: "ext-1001-jobboard", PositionID: 1001, ChannelID: 7}},
			Attributes: []CustomAttribute{
				{ID: "custom_attribute_101", Kind: KindText},
				{ID: "custom_attribute_102", Kind: KindOption, Options: []string{"custom_option_1", "custom_option_2"}},
				{ID: "custom_attribute_103", Kind: KindDate},
			},
			CustomPhases: []int64{5},
			ReadClients: []ReadClient{
				{ID: "sandbox-client-42", Secret: "sandbox-secret-42", Scopes: []string{personio.ScopeRecruitingRead}},
				{ID: "sandbox-client-42-noscope", Secret: "sandbox-secret-42-noscope"},
			},
		},
		{ID: "43", Token: "sandbox-token-43", RecruitingDisabled: true},
	}}
}

// LoadSeed reads a seed from a JSON file.
func LoadSeed(path string) (Seed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Seed{}, fmt.Errorf("sandbox: load seed: %w", err)
	}
	var s Seed
	if err := json.Unmarshal(b, &s); err != nil {
		return Seed{}, fmt.Errorf("sandbox: load seed %s: %w", path, err)
	}
	return s, s.Validate()
}

// Validate checks that the seed is usable: ids and tokens present and
// unique, attribute kinds known.
func (s Seed) Validate() error {
	seen := map[string]bool{}
	clients := map[string]bool{}
	for i, c := range s.Companies {
		for _, rc := range c.ReadClients {
			if rc.ID == "" || rc.Secret == "" || clients[rc.ID] {
				return fmt.Errorf("sandbox: seed: company %s: read client %q needs an id and a secret, and an id of its own", c.ID, rc.ID)
			}
			clients[rc.ID] = true
		}
		if c.ID == "" || c.Token == "" {
			return fmt.Errorf("sandbox: seed: company %d needs an id and a token", i)
		}
		if seen[c.ID] {
			return fmt.Errorf("sandbox: seed: company %s appears twice", c.ID)
		}
		seen[c.ID] = true
		for _, a := range c.Attributes {
			switch {
			case !knownKind(a.Kind):
				return fmt.Errorf("sandbox: seed: company %s: attribute %s has unknown kind %q", c.ID, a.ID, a.Kind)
			case a.Kind == KindOption && len(a.Options) == 0:
				return fmt.Errorf("sandbox: seed: company %s: option attribute %s has no options", c.ID, a.ID)
			}
		}
	}
	return nil
}
