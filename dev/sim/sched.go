package sim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"time"
)

// The scheduler runs the actors (ingest calls, worker invocations, the
// editor's actions, erasures, the watch) one at a time. An actor runs
// until it reaches a gate — every DynamoDB call, every queue operation,
// every request to Personio and its answer, every wait on the clock —
// and there waits until the scheduler, with its seeded generator, picks
// it among every actor waiting at a gate whose time has come. When none
// is due, the simulated clock jumps to the earliest. So one seed is one
// interleaving, the same at every run.
//
// At a gate the scheduler may also crash the actor instead of letting it
// go on: the goroutine at the gate ends (runtime.Goexit, which runs its
// deferred calls but is no panic that a recover could stop), and every
// gate the actor's other goroutines reach after that ends them too, so
// nothing it would still do reaches DynamoDB, the queue or Personio, as
// when a Lambda instance dies.

var debugDump = os.Getenv("SIM_DUMP") != ""

type actor struct {
	id      int
	name    string
	crashed bool
	// immune actors never crash: the platform's and the customer's
	// scripts, and the pollers AWS runs.
	immune bool
	// priority orders the actors in the priority schedule.
	priority float64
	// deadline, if set, is when the actor's function times out: it
	// dies there, at the first gate it would pass after it (timedOut).
	deadline time.Time
	timedOut bool
}

type gate struct {
	actor *actor
	label string
	at    time.Time
	seq   int
	run   chan bool // true: crash instead
	// crashable gates may be where the actor dies.
	crashable bool
	// timeout: the actor's deadline comes first; it dies there.
	timeout bool
}

type actorKey struct{}

// Sched is the seeded scheduler and the simulated clock.
type Sched struct {
	rng    *rand.Rand
	now    time.Time
	gates  []*gate
	idle   chan struct{}
	seq    int
	actors int
	// Steps counts the gates passed.
	Steps int
	// Stalled says which actor stopped the run by waiting outside a gate.
	Stalled string
	// CrashRate is the share of crashable gates where the actor dies.
	CrashRate float64
	// Priorities: instead of any due gate alike, the due gate of the
	// actor of the highest priority goes, and now and then an actor's
	// priority is drawn again. One actor then runs many steps in a row
	// while another waits between two of its own, which is where the
	// deep races are (PCT-style scheduling); half the seeds use it.
	Priorities bool
	trace      []string
	keep       int
}

func newSched(seed uint64, start time.Time, keep int) *Sched {
	return &Sched{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), now: start, idle: make(chan struct{}), keep: keep}
}

// Now is the simulated time.
func (s *Sched) Now() time.Time { return s.now }

// Intn draws from the run's generator (only the running actor or the
// scheduler call it, one at a time).
func (s *Sched) Intn(n int64) int64 { return s.rng.Int64N(n) }

// Float draws a float in [0, 1).
func (s *Sched) Float() float64 { return s.rng.Float64() }

// Spawn starts an actor of the system: it runs when the scheduler picks
// its first gate, and may crash at any gate.
func (s *Sched) Spawn(ctx context.Context, name string, f func(ctx context.Context)) {
	s.spawn(ctx, name, false, f)
}

// SpawnImmune starts an actor that never crashes (a script, a poller).
func (s *Sched) SpawnImmune(ctx context.Context, name string, f func(ctx context.Context)) {
	s.spawn(ctx, name, true, f)
}

// SpawnFor starts an actor of the system that times out after limit, as
// a Lambda function ends at its timeout whatever it is doing.
func (s *Sched) SpawnFor(ctx context.Context, name string, limit time.Duration, f func(ctx context.Context)) {
	s.spawn(ctx, name, false, f).deadline = s.now.Add(limit)
}

func (s *Sched) spawn(ctx context.Context, name string, immune bool, f func(ctx context.Context)) *actor {
	s.actors++
	a := &actor{id: s.actors, name: name, immune: immune, priority: s.rng.Float64()}
	g := s.enqueue(a, "start", s.now, false)
	go func() {
		defer func() { s.idle <- struct{}{} }()
		if <-g.run {
			a.crashed = true
			return
		}
		f(context.WithValue(ctx, actorKey{}, a))
	}()
	return a
}

func (s *Sched) enqueue(a *actor, label string, at time.Time, crashable bool) *gate {
	s.seq++
	g := &gate{actor: a, label: label, at: at, seq: s.seq, run: make(chan bool), crashable: crashable}
	s.gates = append(s.gates, g)
	return g
}

// Gate waits for the scheduler's go (label says what the actor is about
// to do) for the call's latency on the simulated clock; a crash unwinds
// the actor.
func (s *Sched) Gate(ctx context.Context, label string, latency time.Duration) {
	s.wait(ctx, label, s.now.Add(latency), true)
}

// Latency draws a call's latency between lo and hi.
func (s *Sched) Latency(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(s.rng.Int64N(int64(hi-lo)+1))
}

// Sleep waits d on the simulated clock.
func (s *Sched) Sleep(ctx context.Context, d time.Duration) error {
	s.wait(ctx, "sleep", s.now.Add(max(d, 0)), false)
	return nil
}

func (s *Sched) wait(ctx context.Context, label string, at time.Time, crashable bool) {
	a, ok := ctx.Value(actorKey{}).(*actor)
	if !ok {
		panic("sim: a gate outside an actor: " + label)
	}
	if a.crashed {
		runtime.Goexit()
	}
	g := s.enqueue(a, label, at, crashable)
	if !a.deadline.IsZero() && at.After(a.deadline) {
		g.at, g.timeout = a.deadline, true
	}
	s.idle <- struct{}{}
	if <-g.run {
		a.crashed = true
		runtime.Goexit()
	}
}

// step lets one due gate go (moving the clock to the earliest when none
// is due) and waits until its actor reaches its next gate or ends. It
// reports false when no actor waits.
func (s *Sched) step() bool {
	if len(s.gates) == 0 {
		return false
	}
	due := s.due()
	if len(due) == 0 {
		earliest := slices.MinFunc(s.gates, func(a, b *gate) int { return a.at.Compare(b.at) })
		s.now = earliest.at
		due = s.due()
	}
	g := s.pick(due)
	s.gates = slices.DeleteFunc(s.gates, func(x *gate) bool { return x == g })
	crash := g.crashable && !g.actor.immune && s.CrashRate > 0 && s.rng.Float64() < s.CrashRate
	s.Steps++
	if s.keep > 0 {
		end := map[bool]string{true: " CRASH"}[crash]
		if g.timeout {
			end = " TIMEOUT"
		}
		s.note(fmt.Sprintf("%s %s#%d %s%s", s.now.Format("15:04:05.000"), g.actor.name, g.actor.id, g.label, end))
	}
	crash = crash || g.timeout
	g.actor.timedOut = g.timeout
	g.run <- crash
	select {
	case <-s.idle:
	case <-time.After(stallAfter):
		// The actor neither reached a gate nor ended: it waits on
		// something that is no gate (a lock another actor holds across
		// a gate). The run cannot go on; its goroutines are left.
		s.Stalled = fmt.Sprintf("%s#%d did not reach its next gate after %s", g.actor.name, g.actor.id, g.label)
		s.gates = nil
		return false
	}
	return true
}

// stallAfter is how long (real time) an actor may take between two gates:
// far longer than any step takes on a loaded machine.
const stallAfter = time.Minute

// pick chooses the gate that goes.
func (s *Sched) pick(due []*gate) *gate {
	if !s.Priorities {
		return due[s.rng.IntN(len(due))]
	}
	if s.rng.Float64() < 0.02 {
		due[s.rng.IntN(len(due))].actor.priority = s.rng.Float64()
	}
	return slices.MaxFunc(due, func(a, b *gate) int {
		if c := cmpFloat(a.actor.priority, b.actor.priority); c != 0 {
			return c
		}
		return b.seq - a.seq
	})
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *Sched) due() []*gate {
	var out []*gate
	for _, g := range s.gates {
		if !g.at.After(s.now) {
			out = append(out, g)
		}
	}
	return out
}

// note keeps the last steps for a failing seed's report.
func (s *Sched) note(line string) {
	if debugDump {
		println(line)
	}
	if s.keep == 0 {
		return
	}
	if len(s.trace) == s.keep {
		s.trace = s.trace[1:]
	}
	s.trace = append(s.trace, line)
}
