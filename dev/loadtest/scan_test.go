package loadtest

import "testing"

// TestLeakScanner: the scanner counts every line and each line that holds
// a needle once, across writes of several lines.
func TestLeakScanner(t *testing.T) {
	s := &leakScanner{needles: [][]byte{[]byte("load-token-"), []byte("@load.example.com"), []byte("Adaload")}}
	_, _ = s.Write([]byte(`{"msg":"delivery","state":"delivered"}` + "\n" + `{"error":"bad token load-token-3"}` + "\n"))
	_, _ = s.Write([]byte(`{"email":"e1-2@load.example.com","first":"Adaload2"}` + "\n"))
	if lines, leaks := s.counts(); lines != 3 || leaks != 2 {
		t.Errorf("lines %d, leaks %d; want 3, 2", lines, leaks)
	}
}
