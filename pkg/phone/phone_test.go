package phone_test

import (
	"slices"
	"testing"

	"github.com/funnel-personio/funnel-personio/pkg/phone"
)

func TestE164(t *testing.T) {
	tests := []struct{ in, region, want string }{
		{"0151 12345678", "DE", "+4915112345678"},
		{"+49 (0)151 12345678", "DE", "+4915112345678"},
		{"0049 151 12345678", "DE", "+4915112345678"},
		{"+44 20 7946 0958", "DE", "+442079460958"},
		{"(415) 555-2671", "US", "+14155552671"},
		{"0664 1234567", "AT", "+436641234567"},
		{"12", "DE", ""},
		{"ruf mich an", "DE", ""},
	}
	for _, tt := range tests {
		got, ok := phone.E164(tt.in, tt.region)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("E164(%q, %s) = %q, %v; want %q", tt.in, tt.region, got, ok, tt.want)
		}
	}
}

func TestRegions(t *testing.T) {
	r := phone.Regions()
	if !slices.IsSorted(r) || !slices.Contains(r, "DE") || !slices.Contains(r, "US") || slices.Contains(r, "ZZ") {
		t.Errorf("Regions() = %v: want a sorted list with DE and US, without ZZ", r)
	}
}

// BenchmarkE164 is the phone library's share of applying a mapping:
// parse, validate and format one national number.
func BenchmarkE164(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := phone.E164("0151 12345678", "DE"); !ok {
			b.Fatal("not valid")
		}
	}
}
