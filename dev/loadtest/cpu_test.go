package loadtest

import (
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	for _, c := range []struct {
		name, line string
		want       time.Duration
		err        bool
	}{
		{"plain", "16878 (cat) R 16872 16872 14664 0 -1 4194304 118 0 0 0 37 5 0 0 20 0 1 0", 420 * time.Millisecond, false},
		{"a command with spaces and a parenthesis", "7 (a b) c) S 1 7 7 0 -1 0 0 0 0 0 250 50 0 0 20 0 1 0", 3 * time.Second, false},
		{"cut short", "7 (x) S 1 7 7 0 -1 0 0 0 0 0 250", 0, true},
		{"no command", "7 x S 1", 0, true},
		{"not a number", "7 (x) S 1 7 7 0 -1 0 0 0 0 0 25o 50 0", 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseStat([]byte(c.line))
			if (err != nil) != c.err || got != c.want {
				t.Errorf("parseStat(%q) = %v, %v; want %v, error %v", c.line, got, err, c.want, c.err)
			}
		})
	}
}

// TestProcessCPUCountsWork burns CPU in this process until /proc counts
// 50 ms of it, and fails when twenty billion additions (seconds of CPU on
// any machine, however loaded) were not enough.
func TestProcessCPUCountsWork(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	before, err := ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	x := 0
	for round := 0; ; round++ {
		if round == 20_000 {
			t.Fatalf("/proc/%d/stat counted %v of CPU after 2e10 additions", os.Getpid(), mustCPU(t)-before)
		}
		for i := range 1_000_000 {
			x += i % 7
		}
		now, err := ProcessCPU(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if now >= before+50*time.Millisecond {
			break
		}
	}
	_ = x
}

func TestCPUSentence(t *testing.T) {
	u := CPUUse{Stack: 0.6, Emulator: 0.4, Wall: 1, Cores: 2, Apart: true}
	if got := u.Busy(); got != 0.5 {
		t.Errorf("Busy = %v, want 0.5", got)
	}
	s := u.Sentence(100, 100)
	for _, want := range []string{"0.60 s", "the emulator 0.40 s", "in 1.00 s", "50 % of 2 cores", "10.0 ms an application"} {
		if !strings.Contains(s, want) {
			t.Errorf("sentence %q lacks %q", s, want)
		}
	}
	if got := (CPUUse{Stack: 1, Wall: 1, Cores: 2}).Sentence(0, 10); !strings.Contains(got, "the emulator in this process") ||
		!strings.Contains(got, "to the last accepted") || !strings.Contains(got, "100.0 ms an event") {
		t.Errorf("without an emulator process: %q", got)
	}
	if got := u.Sentence(0, 0); got != "" {
		t.Errorf("no applications: %q", got)
	}
}

func mustCPU(t *testing.T) time.Duration {
	t.Helper()
	d, err := ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	return d
}
