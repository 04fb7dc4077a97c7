package application_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/funnel-personio/funnel-personio/pkg/application"
)

// TestNormalEmail: every way of writing one address has one normal form,
// and a plain ASCII address keeps the form it was hashed in before
// (trimmed, lower-cased), so records hashed then still match.
func TestNormalEmail(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"ASCII", "  Ada.Lovelace@Example.COM ", "ada.lovelace@example.com"},
		{"ASCII punycode domain", "ada@XN--MLLER-KVA.de", "ada@xn--mller-kva.de"},
		{"ASCII odd domain", "ada@exa_mple.com", "ada@exa_mple.com"},
		{"NFC local part", "Andr\u00e9@example.com", "andr\u00e9@example.com"},
		{"NFD local part", "Andre\u0301@example.com", "andr\u00e9@example.com"},
		{"IDN domain", "ada@M\u00fcller.de", "ada@xn--mller-kva.de"},
		{"IDN domain NFD", "ada@Mu\u0308ller.de", "ada@xn--mller-kva.de"},
		{"full-width domain", "ada@\uff45xample.com", "ada@example.com"},
		{"blank", "  ", ""},
		{"no at", "Ada", "ada"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := application.NormalEmail(c.in); got != c.want {
				t.Errorf("NormalEmail(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
	key := []byte("k")
	if application.EmailHash(key, "Andre\u0301@M\u00fcller.de") != application.EmailHash(key, "andr\u00e9@xn--mller-kva.de") {
		t.Error("one address, two hashes")
	}
}

// TestAddressesIn: the addresses written in free text, as written.
func TestAddressesIn(t *testing.T) {
	for _, c := range []struct {
		name, in string
		want     []string
	}{
		{"sentence", "... write to ada.private@example.com, thanks.", []string{"ada.private@example.com"}},
		{"end of sentence", "It is ada@example.co.uk.", []string{"ada@example.co.uk"}},
		{"named", "Ada <ada.work@example.com>", []string{"ada.work@example.com"}},
		{"lines", "a@example.org\nb+tag@example.org", []string{"a@example.org", "b+tag@example.org"}},
		{"quoted", "'ada@example.com'", []string{"ada@example.com"}},
		{"ellipsis", "...ada@example.com", []string{"ada@example.com"}},
		{"apostrophe", "o'brien@example.ie", []string{"o'brien@example.ie"}},
		{"mailto", "mailto:ada@example.com", []string{"ada@example.com"}},
		{"unicode", "Mail: zo\u00eb@m\u00fcller.de", []string{"zo\u00eb@m\u00fcller.de"}},
		{"NFD", "andre\u0301@example.com", []string{"andre\u0301@example.com"}},
		{"no domain dot", "ada@localhost", nil},
		{"handle", "@ada on social", nil},
		{"none", "no address here", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := application.AddressesIn(c.in); !slices.Equal(got, c.want) {
				t.Errorf("AddressesIn(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

// TestEmailHashesCoverAnswers: an event's hashes hold every address its
// answers write, in whichever form.
func TestEmailHashesCoverAnswers(t *testing.T) {
	key := []byte("k")
	ev := application.Event{Contact: application.Contact{Email: "ada@example.com"}, Answers: []application.Answer{
		{FieldID: "q_note", Type: application.TypeText, Value: application.StringValue("Ada <ada.work@example.com>, or ada.private@example.com.")},
		{FieldID: "q_alt", Type: application.TypeEmail, Value: application.StringValue("Andre\u0301@M\u00fcller.de")},
		{FieldID: "q_odd", Type: application.TypeText, Value: application.StringValue("odd=one@example.com")},
	}}
	got := ev.EmailHashes(key)
	for _, a := range []string{"ada@example.com", "ada.work@example.com", "ada.private@example.com", "andr\u00e9@xn--mller-kva.de", "odd=one@example.com"} {
		if !slices.Contains(got, application.EmailHash(key, a)) {
			t.Errorf("no hash of %s", a)
		}
	}
}

// FuzzAddressesIn holds AddressesIn and NormalEmail to their promises on
// any text: each address is in the text, holds one "@", and its normal
// form is its own normal form.
func FuzzAddressesIn(f *testing.F) {
	for _, s := range []string{"Ada <ada@example.com>", "…ada@m\u00fcller.de.", "a@b.c d@e.f", "@@x.y", "'.@a.b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, a := range application.AddressesIn(s) {
			if !strings.Contains(s, a) || strings.Count(a, "@") != 1 || strings.HasPrefix(a, "@") {
				t.Fatalf("AddressesIn(%q) gave %q", s, a)
			}
			n := application.NormalEmail(a)
			if utf8.ValidString(a) && application.NormalEmail(n) != n {
				t.Fatalf("NormalEmail not stable on %q: %q then %q", a, n, application.NormalEmail(n))
			}
		}
	})
}
