package coldstart_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/coldstart"
)

// TestMain lets the test binary play a function: with COLDSTART_HELPER
// set it exits, hangs, asks for an event, or calls out first and then
// asks.
func TestMain(m *testing.M) {
	switch os.Getenv("COLDSTART_HELPER") {
	case "":
		os.Exit(m.Run())
	case "exit":
		os.Exit(3)
	case "hang":
		time.Sleep(time.Minute)
	case "call-out":
		host := strings.TrimPrefix(os.Getenv("AWS_ENDPOINT_URL"), "http://")
		if c, err := net.Dial("tcp", host); err == nil {
			_, _ = c.Read(make([]byte, 1)) // the stand-in counts, then closes
			c.Close()
		}
		fallthrough
	case "ask":
		resp, err := http.Get("http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/invocation/next")
		if err == nil {
			resp.Body.Close()
		}
	}
	os.Exit(0)
}

func self(t *testing.T) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// TestRun plays the harness against processes that ask for an event,
// call out first, exit without asking, and never ask: the last two are
// ErrNeverAsked.
func TestRun(t *testing.T) {
	tests := []struct {
		helper      string
		timeout     time.Duration
		neverAsked  bool
		connections int
	}{
		{"ask", 10 * time.Second, false, 0},
		{"call-out", 10 * time.Second, false, 1},
		{"exit", 10 * time.Second, true, 0},
		{"hang", 300 * time.Millisecond, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.helper, func(t *testing.T) {
			s, err := coldstart.Run(context.Background(), self(t), []string{"COLDSTART_HELPER=" + tt.helper}, nil, tt.timeout)
			if tt.neverAsked {
				if !errors.Is(err, coldstart.ErrNeverAsked) {
					t.Fatalf("Run = %+v, %v; want ErrNeverAsked", s, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Next <= 0 || s.Connections != tt.connections {
				t.Errorf("Run = %+v; want a time to next and %d connections", s, tt.connections)
			}
		})
	}
}

// TestMeasureIngest measures the real ingest function, twice: it must
// ask for an event, answer the signed first event with 400, call nothing
// during its init, and the inittrace must have been read.
func TestMeasureIngest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the ingest function")
	}
	var ingest coldstart.Function
	for _, f := range coldstart.Functions() {
		if f.Name == "ingest" {
			ingest = f
		}
	}
	r, err := coldstart.Measure(context.Background(), ingest, coldstart.Options{Root: "../..", Runs: 2, InitRuns: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Next.Each) != 2 || r.Next.Median <= 0 || r.FirstEvent == nil || len(r.FirstEvent.Each) != 2 {
		t.Errorf("result %+v: want two starts, each with a first event", r)
	}
	if r.Connections != 0 {
		t.Errorf("ingest's init connected out %d times", r.Connections)
	}
	if r.Init.TotalMs <= 0 || len(r.Init.Top) == 0 || r.HostBytes == 0 {
		t.Errorf("inittrace %+v, size %d: nothing read", r.Init, r.HostBytes)
	}
	t.Logf("ingest: start to next %.1f ms (median of 2), first event %.1f ms, package init %.1f ms", r.Next.Median, r.FirstEvent.Median, r.Init.TotalMs)
}

func TestParseInitTrace(t *testing.T) {
	tests := []struct {
		name   string
		stderr string
		total  float64
		top    string
	}{
		{"none", "some log line\n", 0, ""},
		{"lines", "init runtime @0.010 ms, 0.050 ms clock, 0 bytes, 0 allocs\n" +
			"{\"level\":\"INFO\"}\n" +
			"init github.com/x/y @1.2 ms, 3.5 ms clock, 2048 bytes, 12 allocs\n" +
			"init net @5 ms, 0.45 ms clock, 100 bytes, 1 allocs\n", 4.0, "github.com/x/y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := coldstart.ParseInitTrace(tt.stderr)
			top := ""
			if len(got.Top) > 0 {
				top = got.Top[0].Package
			}
			if d := got.TotalMs - tt.total; d > 1e-9 || d < -1e-9 || top != tt.top {
				t.Errorf("ParseInitTrace = %+v; want total %.3f, top %q", got, tt.total, tt.top)
			}
		})
	}
}
