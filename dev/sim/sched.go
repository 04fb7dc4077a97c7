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
}

type gate struct {
	actor *actor
	label string
	at    time.Time
	seq   int
	run   chan bool // true: crash instead
	// crashable gates may be where the actor dies.
	crashable bool
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
	// CrashRate is the share of crashable gates where the actor dies.
	CrashRate float64
	trace     []string
	keep      int
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

func (s *Sched) spawn(ctx context.Context, name string, immune bool, f func(ctx context.Context)) {
	s.actors++
	a := &actor{id: s.actors, name: name, immune: immune}
	g := s.enqueue(a, "start", s.now, false)
	go func() {
		defer func() { s.idle <- struct{}{} }()
		if <-g.run {
			a.crashed = true
			return
		}
		f(context.WithValue(ctx, actorKey{}, a))
	}()
}

func (s *Sched) enqueue(a *actor, label string, at time.Time, crashable bool) *gate {
	s.seq++
	g := &gate{actor: a, label: label, at: at, seq: s.seq, run: make(chan bool), crashable: crashable}
	s.gates = append(s.gates, g)
	return g
}

// Gate waits for the scheduler's go (label says what the actor is about
// to do); a crash unwinds the actor.
func (s *Sched) Gate(ctx context.Context, label string) { s.wait(ctx, label, s.now, true) }

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
	g := due[s.rng.IntN(len(due))]
	s.gates = slices.DeleteFunc(s.gates, func(x *gate) bool { return x == g })
	crash := g.crashable && !g.actor.immune && s.CrashRate > 0 && s.rng.Float64() < s.CrashRate
	s.Steps++
	if s.keep > 0 {
		s.note(fmt.Sprintf("%s %s#%d %s%s", s.now.Format("15:04:05.000"), g.actor.name, g.actor.id, g.label, map[bool]string{true: " CRASH"}[crash]))
	}
	g.run <- crash
	<-s.idle
	return true
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
