package lifecycle

import (
	"slices"
	"testing"
	"time"
)

// TestDecide: every mode's decision on a budget of 3 a second, from
// states with room, without room, blocked and with a line.
func TestDecide(t *testing.T) {
	b := Budget{Limit: 3, Window: time.Second}
	now := time.UnixMilli(10_000)
	ms := now.UnixMilli()
	tests := []struct {
		name string
		cur  BudgetLog
		n    int
		mode TakeMode
		keep int
		want Take
	}{
		{"room: take", BudgetLog{Log: []int64{ms - 100}}, 2, TakeNow,
			0, Take{Write: true, Taken: true, Next: BudgetLog{Log: []int64{ms - 100, ms, ms}}}},
		{"old units leave the log", BudgetLog{Log: []int64{ms - 1000, ms - 2000}}, 1, TakeNow,
			0, Take{Write: true, Taken: true, Next: BudgetLog{Log: []int64{ms}}}},
		{"no room: when", BudgetLog{Log: []int64{ms - 300, ms - 100, ms - 200}}, 1, TakeNow,
			0, Take{At: time.UnixMilli(ms - 300 + 1000 + 1)}},
		{"no room for two: the second oldest", BudgetLog{Log: []int64{ms - 300, ms - 100, ms - 200}}, 2, TakeNow,
			0, Take{At: time.UnixMilli(ms - 200 + 1000 + 1)}},
		{"blocked: after the block", BudgetLog{BlockedUntil: ms + 5000}, 1, TakeNow,
			0, Take{At: time.UnixMilli(ms + 5000)}},
		{"line ahead: takeNow ignores it", BudgetLog{Tail: ms + 900}, 1, TakeNow,
			0, Take{Write: true, Taken: true, Next: BudgetLog{Log: []int64{ms}, Tail: ms + 900}}},
		{"line ahead: join its end", BudgetLog{Tail: ms + 900}, 1, TakeOrJoinLine,
			0, Take{Write: true, At: time.UnixMilli(ms + 900), Next: BudgetLog{Log: []int64{}, Tail: ms + 900 + 333}}},
		{"no line, room: join takes", BudgetLog{}, 3, TakeOrJoinLine,
			0, Take{Write: true, Taken: true, Next: BudgetLog{Log: []int64{ms, ms, ms}}}},
		{"no room: join reserves when free", BudgetLog{Log: []int64{ms - 500, ms - 400, ms - 300}}, 1, TakeOrJoinLine,
			0, Take{Write: true, At: time.UnixMilli(ms - 500 + 1001), Next: BudgetLog{Log: []int64{ms - 500, ms - 400, ms - 300}, Tail: ms + 501 + 333}}},
		{"reserve only: room, no line: nothing", BudgetLog{}, 1, ReserveOnly, 0, Take{}},
		{"reserve only: a line: reserve", BudgetLog{Tail: ms + 10}, 2, ReserveOnly,
			0, Take{Write: true, At: time.UnixMilli(ms + 10), Next: BudgetLog{Log: []int64{}, Tail: ms + 10 + 666}}},
		{"idle: room beyond keep", BudgetLog{}, 1, TakeIfIdle,
			2, Take{Write: true, Taken: true, Next: BudgetLog{Log: []int64{ms}}}},
		{"idle: keep not left", BudgetLog{Log: []int64{ms - 1}}, 1, TakeIfIdle, 2, Take{}},
		{"idle: a line", BudgetLog{Tail: ms + 1}, 1, TakeIfIdle, 0, Take{}},
		{"idle: blocked", BudgetLog{BlockedUntil: ms + 1}, 1, TakeIfIdle, 0, Take{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.cur, now, tt.n, b, tt.mode, tt.keep)
			if got.Write != tt.want.Write || got.Taken != tt.want.Taken || !got.At.Equal(tt.want.At) {
				t.Fatalf("Decide = write %v taken %v at %v, want write %v taken %v at %v",
					got.Write, got.Taken, got.At.UnixMilli(), tt.want.Write, tt.want.Taken, tt.want.At.UnixMilli())
			}
			if !tt.want.Write {
				return
			}
			if !slices.Equal(got.Next.Log, tt.want.Next.Log) || got.Next.Tail != tt.want.Next.Tail || got.Next.BlockedUntil != tt.want.Next.BlockedUntil {
				t.Fatalf("Next = %+v, want %+v", got.Next, tt.want.Next)
			}
		})
	}
}

// TestDecideNeverExceeds: takes at random times, each applied as Decide
// says, never put more than Limit units in any window.
func TestDecideNeverExceeds(t *testing.T) {
	b := Budget{Limit: 5, Window: time.Second}
	var st BudgetLog
	var taken []int64
	for i := range 2000 {
		now := time.UnixMilli(int64(i * 7)) // time goes on, by 7 ms a request
		n := 1 + i%3
		d := Decide(st, now, n, b, TakeMode(i%4), i%2)
		if d.Write {
			st = d.Next
		}
		if d.Taken {
			for range n {
				taken = append(taken, now.UnixMilli())
			}
		}
	}
	slices.Sort(taken)
	for i := range taken {
		in := 0
		for _, t2 := range taken[i:] {
			if t2 < taken[i]+b.Window.Milliseconds() {
				in++
			}
		}
		if in > b.Limit {
			t.Fatalf("%d units in the window from %d, limit %d", in, taken[i], b.Limit)
		}
	}
	if len(taken) == 0 {
		t.Fatal("nothing taken")
	}
}

// TestShift: units are moved or given back once, and only those logged
// at from.
func TestShift(t *testing.T) {
	from, to := time.UnixMilli(100), time.UnixMilli(250)
	st, found := Shift(BudgetLog{Log: []int64{100, 100, 120}, Tail: 7}, 3, from, to)
	if found != 2 || !slices.Equal(st.Log, []int64{120, 250, 250}) || st.Tail != 7 {
		t.Fatalf("move: %+v %d", st, found)
	}
	st, found = Shift(st, 1, from, time.Time{})
	if found != 0 || len(st.Log) != 3 {
		t.Fatalf("give back of nothing: %+v %d", st, found)
	}
	st, found = Shift(st, 1, to, time.Time{})
	if found != 1 || !slices.Equal(st.Log, []int64{120, 250}) {
		t.Fatalf("give back: %+v %d", st, found)
	}
}

// TestLook: the operator's outlook of a budget with a block and a line.
func TestLook(t *testing.T) {
	b := Budget{Limit: 2, Window: time.Second}
	now := time.UnixMilli(10_000)
	o := Look(BudgetLog{Log: []int64{9_500, 9_800, 8_000}, BlockedUntil: 10_200, Tail: 11_200}, now, b)
	if o.Used != 2 || o.BlockedUntil.UnixMilli() != 10_200 || o.LineEnds.UnixMilli() != 11_200 || o.NextFree.UnixMilli() != 11_200 {
		t.Fatalf("Look = %+v", o)
	}
	// The line starts at 10,501 (the oldest unit leaves); a unit every 500 ms up to 11,200: two.
	if o.Reserved != 2 {
		t.Fatalf("Reserved = %d, want 2", o.Reserved)
	}
	if o := Look(BudgetLog{}, now, b); o.Used != 0 || !o.NextFree.Equal(now) || o.Reserved != 0 {
		t.Fatalf("empty: %+v", o)
	}
}

// TestShare: a company's share of the global budget.
func TestShare(t *testing.T) {
	g := GlobalBudget{Limit: 2 * (GuardSlots + 1), Window: time.Minute}
	b := Budget{Limit: 20, Window: time.Minute}
	for _, tt := range []struct{ busy, n, want int }{{0, 1, 20}, {1, 1, 20}, {2, 1, 10}, {40, 1, 1}, {40, 3, 3}} {
		if got := g.Share(b, tt.busy, tt.n); got.Limit != tt.want || got.Window != b.Window {
			t.Errorf("Share(busy %d, n %d) = %+v, want limit %d", tt.busy, tt.n, got, tt.want)
		}
	}
	if (GlobalBudget{}).On() || !g.On() || g.PerSlot() != 2 || g.Fair() != 20 || g.Slot() != 6*time.Second {
		t.Fatalf("guard figures: %+v", g)
	}
}
