package explain_test

import (
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/explain"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
)

// TestEveryReasonExplained: every reason code a delivery record can carry
// has its sentence in English and in German, and the editor picks the
// language the Accept-Language header prefers.
func TestEveryReasonExplained(t *testing.T) {
	for _, code := range lifecycle.Reasons {
		en, de := explain.Sentence(code, "en"), explain.Sentence(code, "de-DE,de;q=0.9")
		if en == "" || de == "" || en == de {
			t.Errorf("%s: English %q, German %q", code, en, de)
		}
		if b1, b2 := explain.Both(code); b1 != en || b2 != de {
			t.Errorf("%s: Both gives %q, %q", code, b1, b2)
		}
		if got := explain.Sentence(code, ""); got != en {
			t.Errorf("%s without a language: %q, want the English %q", code, got, en)
		}
	}
	if got := explain.Sentence("no.such.code", "en"); got != "" {
		t.Errorf("an unknown code is explained: %q", got)
	}
}

// TestNoUsableValueNamesTheField: a required field without a usable value
// is named in the sentence, in either language; without a field it knows,
// the sentence is the reason code's own.
func TestNoUsableValueNamesTheField(t *testing.T) {
	tests := []struct {
		name   string
		fields []string
		lang   string
		want   string
	}{
		{"e-mail", []string{"email"}, "en", "E-mail had no usable value. Check the required assignment and retry."},
		{"e-mail, German", []string{"email"}, "de", "E-Mail hatte keinen verwendbaren Wert. Prüfen Sie die Pflichtzuordnung und versuchen Sie es erneut."},
		{"both names", []string{"first_name", "last_name"}, "en", "First name and last name had no usable value. Check the required assignment and retry."},
		{"all three, German", []string{"first_name", "last_name", "email"}, "de-DE", "Vorname, Nachname und E-Mail hatten keinen verwendbaren Wert. Prüfen Sie die Pflichtzuordnung und versuchen Sie es erneut."},
		{"none known", []string{"phone"}, "en", explain.Sentence(lifecycle.ReasonMappingFailed, "en")},
		{"none", nil, "de", explain.Sentence(lifecycle.ReasonMappingFailed, "de")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := explain.NoUsableValue(tt.fields, tt.lang); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
