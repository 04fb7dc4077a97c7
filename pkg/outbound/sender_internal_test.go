package outbound

import (
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/backoff"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
)

// TestRetriesOutlastAnOutage: with the default settings, an event is tried
// NOTIFY_RECEIVES times before the outbound dead-letter queue, and the
// shortest the waits between those tries can add up to outlasts an hour's
// outage of the platform's endpoint (ten minutes must lose nothing).
func TestRetriesOutlastAnOutage(t *testing.T) {
	s := settings.Default()
	var least, most time.Duration
	for n := 1; n < s.NotifyReceives; n++ {
		lo, hi := backoff.Range(s.NotifyRetryBase, s.NotifyRetryMax, n)
		if lo <= 0 || hi < lo || hi > s.NotifyRetryMax {
			t.Fatalf("try %d: range [%v, %v]", n, lo, hi)
		}
		least, most = least+lo, most+hi
	}
	t.Logf("an event is retried for at least %v and at most %v before the dead-letter queue", least, most)
	if least < time.Hour {
		t.Errorf("the retries give up after as little as %v; an outage of an hour must lose nothing", least)
	}
}
