package loadtest

import (
	"slices"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
)

// TestLeakScanner: the scanner counts every line and each line that holds
// a needle once, across writes of several lines.
func TestLeakScanner(t *testing.T) {
	s := &leakScanner{needles: needles}
	_, _ = s.Write([]byte(`{"msg":"delivery","state":"delivered"}` + "\n" + `{"error":"bad token load-token-3"}` + "\n"))
	_, _ = s.Write([]byte(`{"email":"e1-2@load.example.com","first":"Adaload2"}` + "\n"))
	_, _ = s.Write([]byte(`{"reason":"Get http://127.0.0.1:8080/files/cv-load3.pdf?X-Amz-Signature=loadsig-3: EOF"}` + "\n"))
	_, _ = s.Write([]byte(`{"reason":"filefetch: the file host 127.0.0.1 answered 503"}` + "\n"))
	// Read access: the client secret and a v2 access token.
	_, _ = s.Write([]byte(`{"error":"personio: obtain access token: client_secret=load-secret-4"}` + "\n"))
	_, _ = s.Write([]byte(`{"error":"GET /v2/recruiting/applications: Authorization: Bearer sandbox-v2-0f3c"}` + "\n"))
	_, _ = s.Write([]byte(`{"msg":"delivery","state":"delivered","reason":"confirmed by reading Personio: application 500002"}` + "\n"))
	if lines, leaks := s.counts(); lines != 8 || leaks != 5 {
		t.Errorf("lines %d, leaks %d; want 8, 5", lines, leaks)
	}
}

// TestPerWindow: requests are counted in the window from the run's start
// they fall in, up to the last one's; the setup's credential checks before
// the start are not (a run of 150 companies set up for more than a window,
// and counting them panicked with an index of -1).
func TestPerWindow(t *testing.T) {
	start := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	at := func(d ...time.Duration) []time.Time {
		var out []time.Time
		for _, x := range d {
			out = append(out, start.Add(x))
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		times []time.Time
		want  []int
	}{
		{"none", nil, nil},
		{"one at the start", at(0), []int{1}},
		{"over three windows", at(time.Second, 5*time.Second, 6*time.Second, 17*time.Second), []int{2, 1, 1}},
		{"an empty window between", at(0, 13*time.Second), []int{1, 0, 1}},
		{"checks before the start left out", at(-13*time.Second, -time.Second, 2*time.Second), []int{1}},
		{"only checks", at(-7 * time.Second), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var reqs []sandbox.Request
			for _, at := range tc.times {
				reqs = append(reqs, sandbox.Request{At: at})
			}
			if got := perWindow(since(reqs, start), start, 6*time.Second); !slices.Equal(got, tc.want) {
				t.Errorf("perWindow = %v, want %v", got, tc.want)
			}
		})
	}
}
