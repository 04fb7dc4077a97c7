package editor_test

import (
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/editor"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// TestEveryReasonExplained: every reason code a delivery record can carry
// has its sentence in English and in German, and the editor picks the
// language the Accept-Language header prefers.
func TestEveryReasonExplained(t *testing.T) {
	for _, code := range store.Reasons {
		en, de := editor.Explain(code, "en"), editor.Explain(code, "de-DE,de;q=0.9")
		if en == "" || de == "" || en == de {
			t.Errorf("%s: English %q, German %q", code, en, de)
		}
		if got := editor.Explain(code, ""); got != en {
			t.Errorf("%s without a language: %q, want the English %q", code, got, en)
		}
	}
	if got := editor.Explain("no.such.code", "en"); got != "" {
		t.Errorf("an unknown code is explained: %q", got)
	}
}
