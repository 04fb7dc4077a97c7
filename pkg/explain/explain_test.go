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
