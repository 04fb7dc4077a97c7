// Package mapping turns an application event into a Personio application
// exactly as a customer mapped it: the seed's "Required Assignment"
// (first_name, last_name, email) and "Optional Assignment" (any other
// Personio field, system or custom attribute, files by category, tags,
// constants, a message template), with transforms, and every answer no rule
// uses kept in the message.
//
// A Config is checked when it is saved (Validate, every problem at once)
// and applied to each event (Apply), which returns the Personio request and
// the files to upload, or a permanent *Error naming the rule that failed.
package mapping

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Version is the mapping document version this package reads.
const Version = 1

// Config is the mapping of one funnel, stored as JSON with its integration.
type Config struct {
	Version int `json:"version"`
	// Required assigns Personio's three required fields.
	Required Required `json:"required"`
	// Optional assigns any other Personio target.
	Optional []Rule `json:"optional,omitempty"`
	// KeepUnmapped appends every answer no rule uses to the message as
	// "label: value" lines, and attaches files no rule uses as "other".
	// Default (null): true.
	KeepUnmapped *bool `json:"keep_unmapped,omitempty"`
	// DefaultRegion is the ISO 3166-1 region for phone numbers written
	// without a country code (default "DE").
	DefaultRegion string `json:"default_region,omitempty"`
}

// Required holds the required assignments.
type Required struct {
	FirstName Rule `json:"first_name"`
	LastName  Rule `json:"last_name"`
	Email     Rule `json:"email"`
}

// Rule assigns one value to one target. Exactly one of Source, Constant and
// Template gives the value.
type Rule struct {
	// Target is the Personio target (see Catalogue); optional rules only.
	Target string `json:"target,omitempty"`
	// Type is the type of a custom attribute target: text, number, date or
	// option. Personio has no API that lists custom attributes, so the
	// customer says.
	Type string `json:"type,omitempty"`
	// Source is contact.<field>, answers.<field_id>, files.<field_id>,
	// tracking.<key> or event.<id|occurred_at|funnel_id|workspace_id>.
	Source string `json:"source,omitempty"`
	// Constant is a fixed value.
	Constant *string `json:"constant,omitempty"`
	// Template combines sources: "Start: {{answers.start}}".
	Template string `json:"template,omitempty"`
	// Transforms apply in order: trim, lower, upper, title, first_name,
	// last_name, date, phone, number, options, join.
	Transforms []string `json:"transforms,omitempty"`
	// Options maps funnel answer values (any case) to option ids
	// (custom_option_N), gender values or phases.
	Options map[string]string `json:"options,omitempty"`
	// Separator joins multi-choice answers (default ", ").
	Separator string `json:"separator,omitempty"`
	// Region overrides Config.DefaultRegion for the phone transform.
	Region string `json:"region,omitempty"`
	// Fallback is used when this rule gives nothing (an empty answer).
	Fallback *Rule `json:"fallback,omitempty"`
}

// keepUnmapped reports the effective KeepUnmapped.
func (c *Config) keepUnmapped() bool { return c.KeepUnmapped == nil || *c.KeepUnmapped }

// region reports the effective default region.
func (c *Config) region() string {
	if c.DefaultRegion == "" {
		return "DE"
	}
	return c.DefaultRegion
}

// Parse reads a mapping document strictly: unknown keys are an error, so a
// typo is caught when the mapping is saved, not when an application is lost.
// It does not validate the mapping; call Validate.
func Parse(data []byte) (*Config, error) {
	var c Config
	if err := decodeStrict(data, &c); err != nil {
		return nil, fmt.Errorf("mapping: parse: %w", err)
	}
	return &c, nil
}

// DefaultConfig is the mapping a new integration starts with: names and
// e-mail from the contact step (names split from the full name when the
// funnel only asks for that), the phone as a Personio attribute, the
// submission date as application date, and every answer kept in the
// message.
func DefaultConfig() Config {
	return Config{
		Version: Version,
		Required: Required{
			FirstName: Rule{Source: "contact.first_name", Transforms: []string{"trim"},
				Fallback: &Rule{Source: "contact.full_name", Transforms: []string{"trim", "first_name"}}},
			LastName: Rule{Source: "contact.last_name", Transforms: []string{"trim"},
				Fallback: &Rule{Source: "contact.full_name", Transforms: []string{"trim", "last_name"}}},
			Email: Rule{Source: "contact.email", Transforms: []string{"trim", "lower"}},
		},
		Optional: []Rule{
			{Target: "phone", Source: "contact.phone", Transforms: []string{"phone"}},
			{Target: "application_date", Source: "event.occurred_at", Transforms: []string{"date"}},
		},
	}
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("data after the mapping document")
	}
	return nil
}
