package mapping

import "testing"

func TestSplitName(t *testing.T) {
	tests := []struct{ full, first, last string }{
		{"Ada Lovelace", "Ada", "Lovelace"},
		{"  Anna   Maria  Schmidt ", "Anna Maria", "Schmidt"},
		{"Anna van der Berg", "Anna", "van der Berg"},
		{"Ludwig van Beethoven", "Ludwig", "van Beethoven"},
		{"Ursula von der Leyen", "Ursula", "von der Leyen"},
		{"Jean-Luc Picard", "Jean-Luc", "Picard"},
		{"Hans Müller-Lüdenscheidt", "Hans", "Müller-Lüdenscheidt"},
		{"Berg, Anna", "Anna", "Berg"},
		{"van Gogh", "van", "Gogh"},
		{"Cher", "Cher", ""},
		{"山田 太郎", "太郎", "山田"},
		{"김 민준", "민준", "김"},
		{"Иван Петров", "Иван", "Петров"},
		{"", "", ""},
	}
	for _, tt := range tests {
		first, last := splitName(tt.full)
		if first != tt.first || last != tt.last {
			t.Errorf("splitName(%q) = %q, %q; want %q, %q", tt.full, first, last, tt.first, tt.last)
		}
	}
}

func TestTitleAndSquish(t *testing.T) {
	tests := []struct{ fn, in, want string }{
		{"title", "anna van der berg", "Anna van der Berg"},
		{"title", "van der berg", "Van der Berg"},
		{"title", "jean-luc picard", "Jean-Luc Picard"},
		{"title", "McDonald", "McDonald"},
		{"title", "élodie ørsted", "Élodie Ørsted"},
		{"squish", "  a \t b\n\nc  ", "a b c"},
		{"squish", "already fine", "already fine"},
	}
	for _, tt := range tests {
		got := squish(tt.in)
		if tt.fn == "title" {
			got = title(tt.in)
		}
		if got != tt.want {
			t.Errorf("%s(%q) = %q, want %q", tt.fn, tt.in, got, tt.want)
		}
	}
}

func TestNormalizeDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2026-11-27", "2026-11-27"},
		{"27.11.2026", "2026-11-27"},
		{"7.1.2026", "2026-01-07"},
		{"27/11/2026", "2026-11-27"},
		{"2026/11/27", "2026-11-27"},
		{"27-11-2026", "2026-11-27"},
		{"2026-11-27T23:30:00-05:00", "2026-11-27"},
		{"2026-11-27T10:00:00Z", "2026-11-27"},
		{"2026-11-27 10:00", "2026-11-27"},
		{"1799971200", "2027-01-15"},
		{"1799971200000", "2027-01-15"},
		{"29.02.2024", "2024-02-29"},
		{"29.02.2026", ""},
		{"31/04/2026", ""},
		{"13/13/2026", ""},
		{"2026-1127", ""},
		{"27.11.26", ""},
		{"27.11/2026", ""},
		{"morgen", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := normalizeDate(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("normalizeDate(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestNormalizeNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"50000", "50000"}, {"50.000", "50000"}, {"50,000", "50000"}, {"1.234.567", "1234567"},
		{"1.234,5", "1234.5"}, {"1,234.5", "1234.5"}, {"3,5", "3.5"}, {"3.5", "3.5"}, {"1 234", "1234"},
		{"1'234.50", "1234.5"}, {"-7", "-7"}, {"5", "5"}, {"50k", ""}, {"", ""}, {"1-2", ""},
	}
	for _, tt := range tests {
		got, ok := normalizeNumber(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("normalizeNumber(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}
