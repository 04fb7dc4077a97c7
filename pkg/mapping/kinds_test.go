package mapping

import (
	"slices"
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/application"
)

// TestKindTableCoversTheCatalogue: every kind a target of the catalogue
// has is in kindTable, and the custom attribute target offers exactly the
// kinds marked Custom.
func TestKindTableCoversTheCatalogue(t *testing.T) {
	for _, tg := range Catalogue() {
		if tg.Kind == "" {
			if !slices.Equal(tg.Values, CustomAttributeTypes) {
				t.Errorf("%s offers %v; the table's custom kinds are %v", tg.ID, tg.Values, CustomAttributeTypes)
			}
			continue
		}
		if _, ok := kindOf(tg.Kind); !ok {
			t.Errorf("target %s has kind %q, which kindTable lacks", tg.ID, tg.Kind)
		}
	}
	if len(CustomAttributeTypes) < 4 {
		t.Errorf("custom attribute types: %v", CustomAttributeTypes)
	}
}

// TestEveryTransformFitsAKind: each transform the editor offers fits some
// kind, and a kind lists only transforms that exist.
func TestEveryTransformFitsAKind(t *testing.T) {
	fits := map[string]bool{}
	for _, s := range Kinds() {
		for _, tr := range s.Transforms {
			if !slices.Contains(Transforms, tr) {
				t.Errorf("kind %s lists unknown transform %q", s.Kind, tr)
			}
			fits[tr] = true
		}
	}
	for _, tr := range Transforms {
		if !fits[tr] {
			t.Errorf("transform %q fits no kind", tr)
		}
	}
}

// TestSampleAnswer: a test application answers each question with a value
// its rule's target takes.
func TestSampleAnswer(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rule      Rule
		wantValue string
		wantType  application.AnswerType
	}{
		{"birthday is a date", Rule{Target: "birthday"}, "1990-01-01", application.TypeDate},
		{"application date", Rule{Target: "application_date"}, "1990-01-01", application.TypeDate},
		{"a channel id is a number", Rule{Target: "recruiting_channel_id"}, "1", application.TypeNumber},
		{"a number attribute", Rule{Target: "custom_attribute_7", Type: "number"}, "1", application.TypeNumber},
		{"a date attribute", Rule{Target: "custom_attribute_7", Type: "date"}, "1990-01-01", application.TypeDate},
		{"a text attribute", Rule{Target: "custom_attribute_7", Type: "text"}, "Test answer", application.TypeText},
		{"phone is text", Rule{Target: "phone"}, "Test answer", application.TypeText},
		{"an option table's first key", Rule{Target: "gender", Options: map[string]string{"W": "female", "M": "male"}}, "M", application.TypeChoice},
		{"an unknown target", Rule{Target: "nope"}, "Test answer", application.TypeText},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, typ := SampleAnswer(tc.rule)
			if got := v.Text(", "); got != tc.wantValue || typ != tc.wantType {
				t.Errorf("SampleAnswer = %q (%s), want %q (%s)", got, typ, tc.wantValue, tc.wantType)
			}
		})
	}
}

// TestFits: Fits is kindTable read by transform: every transform the
// table lists for a kind fits that kind, and nothing else does.
func TestFits(t *testing.T) {
	fits := Fits()
	for _, tc := range []struct {
		transform string
		kind      Kind
		want      bool
	}{
		{tPhone, KindPhone, true}, {tPhone, KindEmail, false}, {tTrim, KindDate, true},
		{tOptions, KindPhase, true}, {tJoin, KindMessage, true}, {tDate, KindNumber, false},
	} {
		if got := slices.Contains(fits[tc.transform], tc.kind); got != tc.want {
			t.Errorf("%s fits %s: %v, want %v", tc.transform, tc.kind, got, tc.want)
		}
	}
	for _, s := range Kinds() {
		for _, tr := range s.Transforms {
			if !slices.Contains(fits[tr], s.Kind) {
				t.Errorf("Fits()[%s] lacks %s", tr, s.Kind)
			}
		}
	}
}
