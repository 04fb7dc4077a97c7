package loadtest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
)

// Promise is what a scenario promises of each company's Personio requests
// against the company's limit (Config.RateLimit per Config.RateWindow),
// the setup's credential check included: which companies stay within it
// in every window and which need more. A run whose own events break its
// promise does not start (Config.CheckPlan), and its report says whether
// the requests Personio received kept it (Report.Budget).
type Promise int

const (
	// NoPromise promises nothing (the fault campaign, ingest alone).
	NoPromise Promise = iota
	// UnderBudget: every company's requests stay within its limit in
	// every window, so no event waits for the company's budget.
	UnderBudget
	// FirstOver: the first company needs more than its limit in a window
	// (a backlog); every other company stays within its limit.
	FirstOver
	// AllOver: every company needs more than its limit in a window.
	AllOver
)

// over reports whether the promise has company i need more than its
// limit in a window (false: it stays within it).
func (p Promise) over(i int) bool {
	return p == AllOver || p == FirstOver && i == 0
}

// String is the promise in words, for the report.
func (p Promise) String() string {
	switch p {
	case UnderBudget:
		return "every company under its budget in every window"
	case FirstOver:
		return "the first company over its budget, every other under it in every window"
	case AllOver:
		return "every company over its budget"
	}
	return "no promise"
}

// Planned is one event of a run's plan, in the order they are sent.
type Planned struct {
	// Workspace is the index of the event's workspace (and company).
	Workspace int
	// File says whether the event carries a CV (a second Personio request).
	File bool
	// At is when the event is sent, after the run's first paced event
	// (0 for every event sent in bulk).
	At time.Duration
}

// Plan is the run's events in the order they are sent: the workspaces
// taking turns (with a Pace, the first workspace's in bulk, then the
// others' one every Pace). CVs are spread within each workspace: of a
// workspace's n events, FileShare × n (rounded down) carry one, spaced
// evenly, so every company sends the same mix.
func (c Config) Plan() []Planned {
	var order []int
	if c.Pace > 0 && len(c.Events) > 0 {
		rest := slices.Clone(c.Events)
		rest[0] = 0
		order = append(slices.Repeat([]int{0}, c.Events[0]), interleave(rest)...)
	} else {
		order = interleave(c.Events)
	}
	plan := make([]Planned, len(order))
	seen := make([]int, len(c.Events))
	bulk := len(order)
	if c.Pace > 0 && len(c.Events) > 0 {
		bulk = c.Events[0]
	}
	for k, i := range order {
		j := seen[i]
		seen[i]++
		plan[k] = Planned{Workspace: i, File: spread(j, c.FileShare)}
		if k >= bulk {
			plan[k].At = time.Duration(k-bulk) * c.Pace
		}
	}
	return plan
}

// spread reports whether the j-th item (from 0) of a sequence is one of
// the share chosen evenly: the items where ⌊(j+1)·share⌋ steps up.
func spread(j int, share float64) bool {
	if share <= 0 {
		return false
	}
	// Rounded to a millionth so that 0.3 × 10 is 3, not 2.9999….
	steps := func(n int) int64 { return int64(float64(n)*share*1e6+0.5) / 1e6 }
	return steps(j+1) > steps(j)
}

func (c Config) limit() int {
	if c.RateLimit == 0 {
		return 20
	}
	return c.RateLimit
}

func (c Config) window() time.Duration {
	if c.RateWindow == 0 {
		return time.Minute
	}
	return c.RateWindow
}

// PlannedMost is, per company (by workspace index), the most Personio
// requests its plan can put in one window: the setup's credential check
// and every event's requests (the application, and its CV) at the time
// the event is sent, all in the first window. Delivery spreads them out,
// never together, except that paced events delayed unevenly could
// bunch: the figure assumes they keep their pace.
func (c Config) PlannedMost() []int {
	times := make([][]time.Duration, len(c.Events))
	for i := range c.Events {
		times[i] = []time.Duration{0} // the setup's credential check
	}
	for _, e := range c.Plan() {
		times[e.Workspace] = append(times[e.Workspace], e.At)
		if e.File {
			times[e.Workspace] = append(times[e.Workspace], e.At)
		}
	}
	most := make([]int, len(c.Events))
	for i, ts := range times {
		most[i] = mostInWindow(ts, c.window())
	}
	return most
}

// mostInWindow is the most of the times (in order) in any window [t, t+w).
func mostInWindow(ts []time.Duration, w time.Duration) int {
	most, lo := 0, 0
	for hi := range ts {
		for ts[hi]-ts[lo] >= w {
			lo++
		}
		most = max(most, hi-lo+1)
	}
	return most
}

// CheckPlan returns an error in words when the run's own events break its
// promise: a company promised to stay under its limit whose plan puts more
// in a window, or one promised to need more that fits.
func (c Config) CheckPlan() error {
	if c.Promise == NoPromise {
		return nil
	}
	var broken []string
	for i, n := range c.PlannedMost() {
		switch over := c.Promise.over(i); {
		case over && n <= c.limit():
			broken = append(broken, fmt.Sprintf("company %d needs at most %d requests in a window, within its limit of %d", 1000+i, n, c.limit()))
		case !over && n > c.limit():
			broken = append(broken, fmt.Sprintf("company %d needs %d requests in one window (its setup's credential check included), over its limit of %d", 1000+i, n, c.limit()))
		}
	}
	if len(broken) > 0 {
		return fmt.Errorf("loadtest: %s: the plan breaks its promise (%s): %s", c.Name, c.Promise, strings.Join(broken, "; "))
	}
	return nil
}

// BudgetKept is what the requests Personio received say of the promise:
// each company's most requests in any window (the setup's credential
// check included), and a sentence.
type BudgetKept struct {
	Promise string `json:"promise"`
	// Kept is false when a company promised to stay under its limit sent
	// more than it in a window.
	Kept bool `json:"kept"`
	// Sentence says so: "every company under its budget in every window
	// (at most 14 of 20)", or which company went over.
	Sentence string `json:"sentence"`
	// Most is each company's most requests in any window.
	Most map[string]int `json:"most_in_a_window"`
}

// keptBudget computes BudgetKept from the sandbox's requests of each
// company (all of them, from the setup's check on).
func (c Config) keptBudget(requests func(company string) []sandbox.Request) *BudgetKept {
	if c.Promise == NoPromise {
		return nil
	}
	b := &BudgetKept{Promise: c.Promise.String(), Kept: true, Most: map[string]int{}}
	var over []string
	most := 0
	for i := range c.Events {
		company := strconv.Itoa(1000 + i)
		var ts []time.Duration
		var t0 time.Time
		for k, q := range requests(company) {
			if k == 0 {
				t0 = q.At
			}
			ts = append(ts, q.At.Sub(t0))
		}
		n := mostInWindow(ts, c.window())
		b.Most[company] = n
		if !c.Promise.over(i) {
			most = max(most, n)
			if n > c.limit() {
				over = append(over, fmt.Sprintf("company %s sent %d requests in one window, over its limit of %d", company, n, c.limit()))
			}
		}
	}
	switch {
	case len(over) > 0:
		b.Kept, b.Sentence = false, strings.Join(over, "; ")
	case c.Promise == UnderBudget:
		b.Sentence = fmt.Sprintf("every company under its budget in every window (at most %d of %d)", most, c.limit())
	case c.Promise == FirstOver && len(c.Events) == 1:
		b.Sentence = "one company, over its budget, as planned"
	case c.Promise == FirstOver:
		b.Sentence = fmt.Sprintf("every company but the first under its budget in every window (at most %d of %d)", most, c.limit())
	default:
		b.Sentence = "every company over its budget, as planned"
	}
	return b
}
