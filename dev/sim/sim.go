// Package sim is the deterministic simulator of the delivery's lifecycle:
// the real ingest handler, workers, editor API and watch, on an in-memory
// DynamoDB (dev/memdb) behind the scheduler's gates, an in-memory SQS with
// redeliveries, delays, visibility timeouts and a dead-letter queue, and
// the Personio sandbox answering in process with injected faults (500s,
// answers lost after Personio acted). One seed drives one scheduler that
// decides which waiting step runs next, a simulated clock, the faults,
// crashes at any step, and a customer's script (events and their
// duplicates, new credentials after a token is rotated at Personio, the
// switch off and on, a position unpublished and published again, retries,
// an erasure, the operator's redrive). Three workspaces share the system,
// each with its own company at Personio (tenant.go); one of them, in some
// seeds, with many integrations on career sites that do not answer. The
// same seed gives the same run, step for step.
//
// After every step and at the end, the invariants are checked (check.go):
// nothing accepted is lost, nothing reaches Personio twice, an erasure is
// final, the record says what Personio has, Personio's limit is never
// exceeded, every connection's credentials are checked within the watch's
// bound, one workspace never sees another's data, and every problem (a
// connection's status, a position's mark, a delivery failed or dead) gives
// its one outbound event (notify.go). A failing seed's
// report names the command that replays it and the steps that led there.
package sim

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Options are one run's.
type Options struct {
	Seed uint64
	// Events is how many applications the platform sends (default 12).
	Events int
	// Workers is how many worker invocations run at once (default 3).
	Workers int
	// CrashRate is the share of steps at which the acting function dies
	// (default 0.01).
	CrashRate float64
	// Faults are Personio's (default 5 % 500s, 5 % lost answers).
	Faults faults
	// Trace keeps the last Trace steps for the report (0: none).
	Trace int
	// MaxSteps bounds the run (default 100,000).
	MaxSteps int
}

func (o *Options) defaults() {
	if o.Events == 0 {
		o.Events = 12
	}
	if o.Workers == 0 {
		o.Workers = 3
	}
	if o.CrashRate == 0 {
		o.CrashRate = 0.01
	}
	if o.Faults == (faults{}) {
		o.Faults = faults{error500: 0.05, lost: 0.05}
	}
	if o.MaxSteps == 0 {
		o.MaxSteps = 100000
	}
}

// Result is what one run found.
type Result struct {
	Seed       uint64
	Steps      int
	SimTime    time.Duration
	Outcomes   map[string]int
	Violations []string
	// Trace is the last steps before the first violation (Options.Trace).
	Trace []string
}

// start is every run's simulated start.
var start = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// Run runs one seed.
func Run(o Options) Result {
	o.defaults()
	s := newSched(o.Seed, start, o.Trace)
	s.Priorities = o.Seed%2 == 0
	res := Result{Seed: o.Seed, Outcomes: map[string]int{}}
	w, err := newWorld(s, o)
	if err != nil {
		res.Violations = append(res.Violations, "set-up: "+err.Error())
		return res
	}
	w.script(context.Background(), o)
	var first []string
	for s.Steps < o.MaxSteps && s.step() {
		if v := w.checkStep(); len(v) > 0 && len(res.Violations) == 0 {
			res.Violations, first = v, append([]string(nil), s.trace...)
		}
		if w.settled() {
			break
		}
	}
	if s.Stalled != "" {
		res.Violations = append(res.Violations, "the simulator stalled: "+s.Stalled)
		res.Steps, res.SimTime = s.Steps, s.now.Sub(start)
		return res
	}
	if !w.settled() && len(res.Violations) == 0 {
		res.Violations = append(res.Violations, fmt.Sprintf("nothing accepted is lost: the run did not settle in %d steps (%s simulated)", s.Steps, s.now.Sub(start)))
		first = append([]string(nil), s.trace...)
	}
	if len(res.Violations) == 0 {
		res.Violations = w.checkEnd()
		first = append([]string(nil), s.trace...)
	}
	w.stop()
	res.Steps, res.SimTime, res.Trace = s.Steps, s.now.Sub(start), first
	w.outcomes(res.Outcomes)
	return res
}

// Replay is the command that runs the seed again with its trace.
func (r Result) Replay() string {
	return fmt.Sprintf("go run ./dev/sim/cmd/sim -seed %d -trace 200", r.Seed)
}

// String reports the run: its seed, steps, time and violations.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d: %d steps, %s simulated, %v", r.Seed, r.Steps, r.SimTime.Round(time.Second), r.Outcomes)
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "\n  VIOLATION %s", v)
	}
	if len(r.Violations) > 0 {
		fmt.Fprintf(&b, "\n  replay: %s", r.Replay())
		for _, t := range r.Trace {
			fmt.Fprintf(&b, "\n    %s", t)
		}
	}
	return b.String()
}

// stop unwinds every actor still waiting, so that no goroutine outlives
// the run.
func (w *world) stop() {
	for len(w.s.gates) > 0 {
		g := w.s.gates[0]
		w.s.gates = w.s.gates[1:]
		g.run <- true
		<-w.s.idle
	}
}
