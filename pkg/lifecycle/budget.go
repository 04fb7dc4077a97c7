package lifecycle

import (
	"slices"
	"time"
)

// Budget is a rate limit: at most Limit units in any Window. A company's
// budget is its Personio requests (Personio: 20 per 60 s); a workspace's
// budgets are its own limits on what it may ask for.
type Budget struct {
	Limit  int
	Window time.Duration
}

// Spacing is the time between two reserved turns of n units: n × Window
// / Limit, the pace the budget allows.
func (b Budget) Spacing(n int) time.Duration {
	return time.Duration(int64(n) * int64(b.Window) / int64(b.Limit))
}

// BudgetLog is a budget's state as it is kept: the times (Unix ms) of
// the units taken in the last window, a block after a 429 (Unix ms), and
// the end of the line of reserved turns (Unix ms).
type BudgetLog struct {
	Log          []int64
	BlockedUntil int64
	Tail         int64
}

// TakeMode is how a take behaves when there is no room.
type TakeMode int

// The ways to take from a budget.
const (
	// TakeNow takes n units now, or says when there will be room.
	TakeNow TakeMode = iota
	// TakeOrJoinLine takes n units now if there is room and no one
	// waits, or reserves the next turn at the end of the line.
	TakeOrJoinLine
	// TakeIfIdle takes n units only if the budget is idle (no line, no
	// block, keep units left free after them), else nothing.
	TakeIfIdle
	// ReserveOnly never takes: it reserves a turn if anyone waits or
	// there is no room now, and otherwise changes nothing.
	ReserveOnly
)

// Take is a budget's decision for one request of n units.
type Take struct {
	// Write says whether Next must be written (a unit taken or a turn
	// reserved); when false nothing changes.
	Write bool
	// Next is the state to write, with the window's old units dropped.
	Next BudgetLog
	// Taken says the n units are taken now.
	Taken bool
	// At is, when nothing is taken, the time n units will be free
	// (TakeNow) or the reserved turn (TakeOrJoinLine, ReserveOnly); zero
	// when there is nothing to wait for.
	At time.Time
}

// Decide is the budget's decision: from the state cur at now, what a
// request of n units in the given mode gets and the state that records
// it. It is pure: the store applies Next as one conditional write on the
// budget's version and asks again on a conflict. n must be between 1 and
// b.Limit (the caller checks).
func Decide(cur BudgetLog, now time.Time, n int, b Budget, mode TakeMode, keep int) Take {
	ms := now.UnixMilli()
	log := cur.Recent(now, b.Window)
	next := BudgetLog{Log: slices.Grow(log, n), BlockedUntil: cur.BlockedUntil, Tail: cur.Tail}
	free := max(freeAt(log, ms, n, b), cur.BlockedUntil)
	reserve := mode == TakeOrJoinLine || mode == ReserveOnly
	switch {
	case mode == TakeIfIdle && (len(log)+n+keep > b.Limit || cur.Tail > ms || cur.BlockedUntil > ms):
		return Take{}
	case mode == ReserveOnly && free <= ms && cur.Tail <= ms:
		return Take{}
	case free <= ms && (!reserve || cur.Tail <= ms):
		for range n {
			next.Log = append(next.Log, ms)
		}
		return Take{Write: true, Next: next, Taken: true}
	case !reserve:
		return Take{At: time.UnixMilli(free)}
	default:
		turn := max(free, cur.Tail)
		next.Tail = turn + b.Spacing(n).Milliseconds()
		return Take{Write: true, Next: next, At: time.UnixMilli(turn)}
	}
}

// Recent is the log's units still in the window at now, oldest first (a
// new slice).
func (l BudgetLog) Recent(now time.Time, window time.Duration) []int64 {
	ms := now.UnixMilli()
	log := make([]int64, 0, len(l.Log))
	for _, t := range l.Log {
		if t > ms-window.Milliseconds() {
			log = append(log, t)
		}
	}
	slices.Sort(log)
	return log
}

// freeAt is when n units are free in the window of recent units log
// (Unix ms): now, or when the oldest units have left the window.
func freeAt(log []int64, ms int64, n int, b Budget) int64 {
	if len(log)+n <= b.Limit {
		return ms
	}
	return log[len(log)+n-b.Limit-1] + b.Window.Milliseconds() + 1
}

// Outlook is a budget as an operator reads it at one moment.
type Outlook struct {
	// Used is the units taken in the last window.
	Used int
	// BlockedUntil is the end of a block after a 429 (zero if none).
	BlockedUntil time.Time
	// LineEnds is the end of the line of reserved turns (zero if no one
	// waits), and Reserved the units reserved in it: its length, from
	// when the window lets its first turn go, at a unit every
	// Window/Limit.
	LineEnds time.Time
	Reserved int
	// NextFree is when a newcomer's single unit would be taken: now, when
	// the window has room and no one waits; else when the oldest unit
	// leaves the window, the block ends, or the line's last turn is
	// reached, whichever is latest.
	NextFree time.Time
}

// Look is the budget's outlook at now.
func Look(cur BudgetLog, now time.Time, b Budget) Outlook {
	ms := now.UnixMilli()
	log := cur.Recent(now, b.Window)
	free := freeAt(log, ms, 1, b)
	o := Outlook{Used: len(log)}
	if cur.BlockedUntil > ms {
		o.BlockedUntil = time.UnixMilli(cur.BlockedUntil)
	}
	if cur.Tail > ms {
		// The line starts when the window (or a block) lets the first
		// turn go, and holds a unit every Window/Limit up to its end.
		o.LineEnds = time.UnixMilli(cur.Tail)
		spacing := max(b.Spacing(1).Milliseconds(), 1)
		o.Reserved = int(max(0, (cur.Tail-max(free, cur.BlockedUntil, ms)+spacing-1)/spacing))
	}
	o.NextFree = time.UnixMilli(max(free, cur.BlockedUntil, cur.Tail, ms))
	return o
}

// Shift takes up to n units logged at from off the log and, unless to is
// zero, logs as many at to (a unit given back, or moved to the time its
// request really went). It returns the new state and how many units it
// found; units that have left the log are not given back twice.
func Shift(cur BudgetLog, n int, from, to time.Time) (BudgetLog, int) {
	ms := from.UnixMilli()
	log, left := make([]int64, 0, len(cur.Log)), n
	for _, t := range cur.Log {
		if t == ms && left > 0 {
			left--
			continue
		}
		log = append(log, t)
	}
	found := n - left
	if !to.IsZero() {
		for range found {
			log = append(log, to.UnixMilli())
		}
	}
	next := cur
	next.Log = log
	return next, found
}

// GlobalBudget is the budget every company's requests share: Personio
// caps all v1 requests from one IP address at 2,000 a minute, across
// companies, and the functions may reach it from one address (a NAT
// gateway's). Window is the companies' (with its margin).
//
// It is kept in two ways. A guard that is never crossed: the window is
// cut into GuardSlots slots, each taking at most Limit/(GuardSlots+1)
// units (a window overlaps at most GuardSlots+1 slots), one conditional
// counter per slot; a take that finds its slot full is told when the next
// one begins. Ten slots let a slot take a burst (2,000 a minute: 181 in
// any 6 s) and the busy companies share 10/11 of the limit (1,810 a
// minute); more slots would share more and let less through at once. And
// fair shares that keep the guard from being the line: while more
// companies are busy than the guard's units allow each its own limit,
// every busy company's budget is the guard's units over the busy
// companies, so every company's line is spaced by its share and each gets
// the same.
type GlobalBudget struct {
	Limit  int
	Window time.Duration
}

// GuardSlots is how many slots the guard cuts a window into.
const GuardSlots = 10

// Slot is the length of one of the guard's slots.
func (g GlobalBudget) Slot() time.Duration { return g.Window / GuardSlots }

// PerSlot is the most units one slot of the guard takes.
func (g GlobalBudget) PerSlot() int { return g.Limit / (GuardSlots + 1) }

// Fair is the units the guard gives in a window: what the busy companies
// share.
func (g GlobalBudget) Fair() int { return GuardSlots * g.PerSlot() }

// On reports whether there is a global budget to keep.
func (g GlobalBudget) On() bool { return g.PerSlot() > 0 && g.Slot() > 0 }

// Share is a company's budget b while busy companies share the global
// budget: b, or its fair share of the guard's units when that is less,
// never less than n (what the take needs).
func (g GlobalBudget) Share(b Budget, busy, n int) Budget {
	fair := g.Fair() / max(busy, 1)
	return Budget{Limit: max(min(b.Limit, fair), n), Window: b.Window}
}
