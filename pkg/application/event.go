// Package application is the application event the funnel platform sends:
// its Go type, its versioned JSON Schema (schema/application-event.v1.json)
// and the validation that ingest and the worker apply to it.
package application

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/idna"
	"golang.org/x/text/unicode/norm"
)

// EventType is the only event type of schema version 1.
const EventType = "application.submitted"

// MaxEventSize is the largest event accepted, in bytes: 255 KiB, SQS's
// 256 KiB message limit less 1 KiB kept for the message attributes the
// worker adds to a deferred copy (its defer token), so that an accepted
// event can always be deferred.
const MaxEventSize = 255 << 10

// Event is one application captured by a funnel.
type Event struct {
	Type        string            `json:"type"`
	ID          string            `json:"id"`
	OccurredAt  time.Time         `json:"occurred_at"`
	WorkspaceID string            `json:"workspace_id"`
	FunnelID    string            `json:"funnel_id"`
	Test        bool              `json:"test,omitempty"`
	Contact     Contact           `json:"contact"`
	Answers     []Answer          `json:"answers,omitempty"`
	Files       []File            `json:"files,omitempty"`
	Tracking    map[string]string `json:"tracking,omitempty"`
}

// Contact is what the funnel's contact step captured.
type Contact struct {
	FirstName string `json:"first_name,omitempty"`
	LastName  string `json:"last_name,omitempty"`
	FullName  string `json:"full_name,omitempty"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
}

// AnswerType is the kind of funnel question an answer comes from.
type AnswerType string

// The answer types of schema version 1.
const (
	TypeText        AnswerType = "text"
	TypeEmail       AnswerType = "email"
	TypePhone       AnswerType = "phone"
	TypeNumber      AnswerType = "number"
	TypeDate        AnswerType = "date"
	TypeChoice      AnswerType = "choice"
	TypeMultiChoice AnswerType = "multi_choice"
	TypeConsent     AnswerType = "consent"
	TypeFile        AnswerType = "file"
)

// AnswerTypes lists every answer type.
var AnswerTypes = []AnswerType{TypeText, TypeEmail, TypePhone, TypeNumber, TypeDate, TypeChoice, TypeMultiChoice, TypeConsent, TypeFile}

// Answer is the applicant's answer to one funnel question.
type Answer struct {
	FieldID string     `json:"field_id"`
	Label   string     `json:"label,omitempty"`
	Type    AnswerType `json:"type"`
	Value   Value      `json:"value"`
}

// File is a file the applicant uploaded, by URL.
type File struct {
	FieldID     string `json:"field_id"`
	URL         string `json:"url"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type,omitempty"`
	Size        int64  `json:"size,omitempty"`
}

// Value is an answer's value, decoded once: a string, a number, a boolean,
// a list of strings, or nothing (null).
type Value struct {
	kind  valueKind
	text  string // string, or the number as sent
	list  []string
	truth bool
}

type valueKind uint8

const (
	kindNull valueKind = iota
	kindString
	kindNumber
	kindBool
	kindList
)

// StringValue, NumberValue, BoolValue and ListValue build values.
func StringValue(s string) Value     { return Value{kind: kindString, text: s} }
func NumberValue(n string) Value     { return Value{kind: kindNumber, text: n} }
func BoolValue(b bool) Value         { return Value{kind: kindBool, truth: b} }
func ListValue(items []string) Value { return Value{kind: kindList, list: items} }

// IsEmpty reports whether the value holds nothing worth delivering: null,
// a blank string, or an empty list.
func (v Value) IsEmpty() bool {
	switch v.kind {
	case kindString:
		return strings.TrimSpace(v.text) == ""
	case kindList:
		for _, s := range v.list {
			if strings.TrimSpace(s) != "" {
				return false
			}
		}
		return true
	case kindNumber, kindBool:
		return false
	}
	return true
}

// IsList reports whether the value is a list (a multi-choice answer).
func (v Value) IsList() bool { return v.kind == kindList }

// Text returns the value as one string: a list joined with sep, a boolean
// as "yes" or "no", null as "".
func (v Value) Text(sep string) string {
	switch v.kind {
	case kindString, kindNumber:
		return v.text
	case kindBool:
		if v.truth {
			return "yes"
		}
		return "no"
	case kindList:
		return strings.Join(v.list, sep)
	}
	return ""
}

// Items returns the value as a list: a list as it is, a single value as one
// item, null as none.
func (v Value) Items() []string {
	switch v.kind {
	case kindList:
		return v.list
	case kindNull:
		return nil
	}
	return []string{v.Text("")}
}

// UnmarshalJSON decodes any JSON value the schema allows.
func (v *Value) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*v = Value{}
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*v = StringValue(s)
	case b[0] == '[':
		var l []string
		if err := json.Unmarshal(b, &l); err != nil {
			return fmt.Errorf("answer value: a list must hold strings")
		}
		*v = ListValue(l)
	case string(b) == "true" || string(b) == "false":
		*v = BoolValue(string(b) == "true")
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("answer value: want a string, number, boolean, list of strings or null")
		}
		*v = NumberValue(n.String())
	}
	return nil
}

// MarshalJSON encodes the value as it was sent ("<", ">" and "&" as
// written, not as \u003c escapes).
func (v Value) MarshalJSON() ([]byte, error) {
	switch v.kind {
	case kindString:
		return marshalAsWritten(v.text)
	case kindNumber:
		if _, err := strconv.ParseFloat(v.text, 64); err != nil {
			return marshalAsWritten(v.text)
		}
		return []byte(v.text), nil
	case kindBool:
		return json.Marshal(v.truth)
	case kindList:
		if v.list == nil {
			return []byte("[]"), nil
		}
		return marshalAsWritten(v.list)
	}
	return []byte("null"), nil
}

// marshalAsWritten is json.Marshal without HTML escapes.
func marshalAsWritten(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Answer returns the answer to the field, or false.
func (e *Event) Answer(fieldID string) (*Answer, bool) {
	for i := range e.Answers {
		if e.Answers[i].FieldID == fieldID {
			return &e.Answers[i], true
		}
	}
	return nil, false
}

// EmailHash is the keyed hash under which a delivery record remembers the
// applicant's e-mail, so that an erasure request can find the record
// without the record holding the address in clear. The address is hashed
// in its normal form (NormalEmail); a blank address has no hash ("").
func EmailHash(key []byte, email string) string {
	email = NormalEmail(email)
	if email == "" {
		return ""
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(email))
	return hex.EncodeToString(m.Sum(nil))
}

// NormalEmail is an address in the one form every way of writing it
// shares: trimmed, in Unicode NFC, lower-cased, and its domain in its
// ASCII (IDNA) form, so that "Andre\u0301@Müller.de" and
// "andré@xn--mller-kva.de" are one address. An ASCII address is only
// trimmed and lower-cased. A domain IDNA refuses keeps its NFC
// lower-case form.
func NormalEmail(email string) string {
	email = strings.ToLower(norm.NFC.String(strings.TrimSpace(email)))
	at := strings.LastIndexByte(email, '@')
	if at < 0 || isASCII(email[at:]) {
		return email
	}
	if domain, err := idna.Lookup.ToASCII(email[at+1:]); err == nil {
		return email[:at+1] + domain
	}
	return email
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// EmailHashes are the hashes of every address the event may hold the
// applicant's e-mail in: the contact's, every e-mail answer's, and every
// address written anywhere in any answer ("... ada@example.com ...",
// "Ada <ada@example.com>"). A mapping may take the e-mail from any of
// them; before it runs (at ingest), a record and an erasure check cover
// all of them. Each hash appears once.
func (e *Event) EmailHashes(key []byte) []string {
	var out []string
	for _, s := range e.Addresses() {
		if h := EmailHash(key, s); h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// Addresses lists, as written, every address the event may hold the
// applicant's e-mail in (see EmailHashes); an address may appear more
// than once.
func (e *Event) Addresses() []string {
	var out []string
	add := func(s string) { out = append(out, s) }
	add(e.Contact.Email)
	for _, s := range AddressesIn(e.Contact.Email) {
		add(s)
	}
	for _, a := range e.Answers {
		for _, v := range a.Value.Items() {
			if a.Type == TypeEmail || looksLikeAddress(v) {
				add(v)
			}
			for _, s := range AddressesIn(v) {
				add(s)
			}
		}
	}
	return out
}

// looksLikeAddress reports whether s is one bare e-mail address (with
// any of the specials RFC 5322 allows, which AddressesIn leaves out).
func looksLikeAddress(s string) bool {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "@") || strings.ContainsAny(s, " <>") {
		return false
	}
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s
}

// addressPattern finds addresses in free text: a local part of letters,
// marks and digits of any script and the specials addresses use in
// practice (. _ % + - '), "@", and a domain of at least two labels. The
// rarer specials RFC 5322 also allows (= / ? { } | ~ …) are left out:
// in text they join an address to the word before it.
var addressPattern = regexp.MustCompile(`[\p{L}\p{M}\p{N}._%+'-]+@[\p{L}\p{M}\p{N}-]+(?:\.[\p{L}\p{M}\p{N}-]+)+`)

// AddressesIn lists the e-mail addresses written in s, as written: in a
// sentence, in "Name <address>", one per line. Dots and quotes that open
// a local part, and a dot that closes a domain, belong to the text around
// it.
func AddressesIn(s string) []string {
	if !strings.Contains(s, "@") {
		return nil
	}
	found := addressPattern.FindAllString(s, -1)
	out := found[:0]
	for _, a := range found {
		a = strings.TrimLeft(a, ".'")
		if a[0] != '@' {
			out = append(out, a)
		}
	}
	return out
}
