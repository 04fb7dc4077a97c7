package lifecycle

import "testing"

// TestStatusKinds: every status is exactly one of on its way, parked or
// terminal; a copy may be on a queue only on the way or dead; a try is
// every outcome and a 429.
func TestStatusKinds(t *testing.T) {
	for _, s := range Statuses {
		kinds := 0
		for _, k := range []bool{s.OnTheWay(), s == StatusParked, s.Terminal()} {
			if k {
				kinds++
			}
		}
		if kinds != 1 {
			t.Errorf("%s is of %d kinds, want 1", s, kinds)
		}
		want := map[Status]bool{StatusQueued: true, StatusProcessing: true, StatusRetrying: true, StatusDead: true}[s]
		if s.MayHaveACopy() != want {
			t.Errorf("%s: MayHaveACopy %v, want %v", s, s.MayHaveACopy(), want)
		}
	}
	if Status("").OnTheWay() || Status("").Resting() {
		t.Error("an unknown status is neither on its way nor resting")
	}
	if IsTry(StatusQueued, ReasonDelivered) || !IsTry(StatusQueued, ReasonRateLimited) || !IsTry(StatusFailed, ReasonDuplicate) {
		t.Error("IsTry")
	}
}
