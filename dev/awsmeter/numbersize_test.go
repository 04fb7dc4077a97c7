package awsmeter

import "testing"

func TestNumberSize(t *testing.T) {
	for _, c := range []struct {
		n    string
		want int
	}{
		{"0", 1},
		{"7", 2},
		{"12", 2},
		{"123", 3},
		{"-123", 3},
		{"+1.5", 2},
		{"100", 2},
		{"1000000", 2},
		{"0.05", 2},
		{"100.25", 4},
		{"1.2345E+10", 4},
		{"6e-3", 2},
		{"1796697051589000000", 8},
	} {
		if got := numberSize(c.n); got != c.want {
			t.Errorf("numberSize(%q) = %d, want %d", c.n, got, c.want)
		}
	}
}
