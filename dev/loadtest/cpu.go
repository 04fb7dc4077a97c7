package loadtest

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

// CPUUse is the CPU time the run's processes took from the first event
// sent to the report: this process (the stack's functions, the Personio
// sandbox, the load generator and the meter) and, when the AWS emulator
// runs in a process of its own, that one. With every process on the
// machine's cores, it says whether a run's latency is the stack's waiting
// or the machine's work.
type CPUUse struct {
	// Stack and Emulator are seconds of CPU (user and system); Wall the
	// seconds they were taken in; Cores the cores the machine has.
	Stack    float64 `json:"stack_seconds"`
	Emulator float64 `json:"emulator_seconds,omitempty"`
	Wall     float64 `json:"wall_seconds"`
	Cores    int     `json:"cores"`
	// Apart says the emulator ran in a process of its own, measured as
	// Emulator; otherwise its CPU time is in Stack's.
	Apart bool `json:"emulator_apart,omitempty"`
}

// Busy is the share of the machine's cores the processes kept busy.
func (c CPUUse) Busy() float64 {
	if c.Wall <= 0 || c.Cores <= 0 {
		return 0
	}
	return (c.Stack + c.Emulator) / c.Wall / float64(c.Cores)
}

// Sentence says it for a run that delivered applications, or, with none
// delivered (ingest alone), one that accepted events; "" without either.
func (c CPUUse) Sentence(delivered, accepted int) string {
	n, what, each := delivered, "delivered", "an application"
	if n == 0 {
		n, what, each = accepted, "accepted", "an event"
	}
	if n <= 0 || c.Wall <= 0 {
		return ""
	}
	emu := "the emulator in this process"
	if c.Apart {
		emu = fmt.Sprintf("the emulator %.2f s", c.Emulator)
	}
	return fmt.Sprintf("CPU from the first event sent to the last %s: the stack's process (with the sandbox and the load generator) %.2f s, %s, in %.2f s: %.0f %% of %d cores, %.1f ms %s",
		what, c.Stack, emu, c.Wall, 100*c.Busy(), c.Cores, 1000*(c.Stack+c.Emulator)/float64(n), each)
}

// cpuClock reads the CPU time of this process and of the emulator's
// (emulatorPID nil: none of its own).
type cpuClock struct {
	emulatorPID func() int
	at          time.Time
	self, emu   time.Duration
	pid         int // the emulator's, when the clock started
	ok          bool
}

// startCPU reads both clocks now.
func startCPU(emulatorPID func() int) *cpuClock {
	c := &cpuClock{emulatorPID: emulatorPID, at: time.Now()}
	var err error
	if c.self, err = ProcessCPU(os.Getpid()); err != nil {
		return c
	}
	if emulatorPID != nil {
		if c.pid = emulatorPID(); c.pid <= 0 {
			return c
		}
		if c.emu, err = ProcessCPU(c.pid); err != nil {
			return c
		}
	}
	c.ok = true
	return c
}

// use is the CPU time since startCPU; nil where it cannot be read (not
// Linux), or when the emulator's process is another one (started again).
func (c *cpuClock) use() *CPUUse {
	if c == nil || !c.ok {
		return nil
	}
	self, err := ProcessCPU(os.Getpid())
	if err != nil {
		return nil
	}
	u := &CPUUse{Stack: (self - c.self).Seconds(), Wall: time.Since(c.at).Seconds(), Cores: runtime.NumCPU()}
	if c.emulatorPID != nil {
		if c.emulatorPID() != c.pid {
			return nil
		}
		emu, err := ProcessCPU(c.pid)
		if err != nil || emu < c.emu {
			return nil
		}
		u.Emulator, u.Apart = (emu - c.emu).Seconds(), true
	}
	return u
}

// ProcessCPU is the CPU time (user and system, every thread) the process
// pid has taken, from /proc/<pid>/stat. Its unit is the kernel's clock
// tick, 1/100 s on Linux (USER_HZ).
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("cpu time of process %d: %w", pid, err)
	}
	return parseStat(b)
}

// userHZ is the unit of /proc/<pid>/stat's times.
const userHZ = 100

// parseStat reads utime and stime, the 14th and 15th fields, of a
// /proc/<pid>/stat line. The 2nd, the command in parentheses, may hold
// spaces and parentheses itself, so the fields are counted from the last
// ')'.
func parseStat(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("cpu time: no command in %q", b)
	}
	f := bytes.Fields(b[i+1:]) // from the 3rd field, the state
	if len(f) < 13 {
		return 0, fmt.Errorf("cpu time: %d fields after the command, want at least 13", len(f))
	}
	var ticks int64
	for _, s := range f[11:13] {
		n, err := strconv.ParseInt(string(s), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cpu time: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}
