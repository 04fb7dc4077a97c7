package loadtest

import "testing"

// TestLeakScanner: the scanner counts every line and each line that holds
// a needle once, across writes of several lines.
func TestLeakScanner(t *testing.T) {
	s := &leakScanner{needles: needles}
	_, _ = s.Write([]byte(`{"msg":"delivery","state":"delivered"}` + "\n" + `{"error":"bad token load-token-3"}` + "\n"))
	_, _ = s.Write([]byte(`{"email":"e1-2@load.example.com","first":"Adaload2"}` + "\n"))
	_, _ = s.Write([]byte(`{"reason":"Get http://127.0.0.1:8080/files/cv-load3.pdf?X-Amz-Signature=loadsig-3: EOF"}` + "\n"))
	_, _ = s.Write([]byte(`{"reason":"filefetch: the file host 127.0.0.1 answered 503"}` + "\n"))
	if lines, leaks := s.counts(); lines != 5 || leaks != 3 {
		t.Errorf("lines %d, leaks %d; want 5, 3", lines, leaks)
	}
}
