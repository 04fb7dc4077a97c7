package delivery_test

import (
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
)

// giveReadAccess gives the seed's connection the sandbox's API credential
// (scope personio:recruiting:read), as the editor does.
func (p *pipe) giveReadAccess(t *testing.T, clientID, secret string) {
	t.Helper()
	ctx := t.Context()
	if err := p.vault.PutReadSecret(ctx, ws, conn, personio.Token("sandbox-"+secret)); err != nil {
		t.Fatal(err)
	}
	c, err := p.store.GetConnection(ctx, ws, conn)
	if err != nil {
		t.Fatal(err)
	}
	c.ReadClientID, c.ReadCheckedAt = clientID, time.Now()
	if _, err := p.store.UpdateConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
}

// TestConfirmedByRead: the create's answer is lost after Personio created
// the application; the retry hears "already exists", and the read shows
// the application created for this delivery: delivered, with Personio's
// application id on the record.
func TestConfirmedByRead(t *testing.T) {
	p := newPipe(t, pipeOpts{sandbox: sandbox.Config{LoseAnswers: 1}})
	p.giveReadAccess(t, "sandbox-client-42", "secret-42")
	p.post(t, p.event("evt_lost", "lost@example.com", ""))
	w := p.worker()
	p.drain(t, w, 20*time.Second, func() bool { return p.status(t, "evt_lost").Terminal() })
	d := p.status(t, "evt_lost")
	apps := p.sandbox.Sandbox.Applications("42")
	if d.Status != lifecycle.StatusDelivered || len(apps) != 1 || d.PersonioApplicationID != apps[0].ID {
		t.Fatalf("record %s %s %q (application %q); Personio has %d applications", d.Status, d.ReasonCode, d.Reason, d.PersonioApplicationID, len(apps))
	}
	if p.sandbox.Sandbox.Stats().Faults["lost"] != 1 {
		t.Errorf("no answer was lost: %v", p.sandbox.Sandbox.Stats().Faults)
	}
	p.logs.NeverHolds(t, "sandbox-secret-42")
}

// TestDuplicateSettledByRead: an earlier delivery put the applicant in
// Personio; a second event's first answer is lost (Personio refused it as
// a duplicate, then the connection dropped). With read access the second
// is failed as a duplicate, in words, not left unconfirmed.
func TestDuplicateSettledByRead(t *testing.T) {
	p := newPipe(t, pipeOpts{})
	p.giveReadAccess(t, "sandbox-client-42", "secret-42")
	w := p.worker()
	p.post(t, p.event("evt_first", "twice@example.com", ""))
	p.drain(t, w, 10*time.Second, p.is(t, "evt_first", lifecycle.StatusDelivered))
	p.sandbox.Sandbox.SetFaults(sandbox.Faults{Drop: 1})
	p.post(t, p.event("evt_second", "twice@example.com", ""))
	p.drain(t, w, 10*time.Second, p.is(t, "evt_second", lifecycle.StatusRetrying))
	p.sandbox.Sandbox.SetFaults(sandbox.Faults{})
	p.drain(t, w, 15*time.Second, func() bool { return p.status(t, "evt_second").Terminal() })
	d := p.status(t, "evt_second")
	if d.Status != lifecycle.StatusFailed || d.ReasonCode != lifecycle.ReasonDuplicate || !strings.Contains(d.Reason, "before this delivery began") || d.PersonioApplicationID != "" {
		t.Fatalf("the second event: %s %s %q", d.Status, d.ReasonCode, d.Reason)
	}
}

// TestReadFailureChecksAgain: the read after "already exists" fails (500
// or 429); the delivery is tried again (not delivered on a guess), and
// after the last try it stays unconfirmed, saying why.
func TestReadFailureChecksAgain(t *testing.T) {
	for _, tt := range []struct {
		name   string
		faults sandbox.Faults
		says   string
	}{
		{"server error", sandbox.Faults{Error500: 1}, "500"},
		{"rate limited", sandbox.Faults{Burst429: 1, BurstFor: time.Hour}, "429"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := newPipe(t, pipeOpts{maxReceive: 3, sandbox: sandbox.Config{LoseAnswers: 1, ReadFaults: tt.faults}})
			p.giveReadAccess(t, "sandbox-client-42", "secret-42")
			p.post(t, p.event("evt_unread", "unread@example.com", ""))
			w := p.worker()
			p.drain(t, w, 30*time.Second, func() bool { return p.status(t, "evt_unread").Terminal() })
			d := p.status(t, "evt_unread")
			if d.Status != lifecycle.StatusUnconfirmed || d.ReasonCode != lifecycle.ReasonExistsUnconfirmed || !strings.Contains(d.Reason, tt.says) {
				t.Fatalf("record %s %s %q", d.Status, d.ReasonCode, d.Reason)
			}
			checked := 0
			for _, a := range d.Attempts {
				if a.ReasonCode == lifecycle.ReasonExistsUnconfirmed && strings.Contains(a.Reason, "checked again later") {
					checked++
				}
			}
			if checked == 0 {
				t.Errorf("never checked again: %+v", d.Attempts)
			}
		})
	}
}

// TestUnconfirmedWithoutReadAccess: the same lost answer without read
// access stays unconfirmed, with no read made.
func TestUnconfirmedWithoutReadAccess(t *testing.T) {
	p := newPipe(t, pipeOpts{sandbox: sandbox.Config{LoseAnswers: 1}})
	p.post(t, p.event("evt_lost", "lost@example.com", ""))
	w := p.worker()
	p.drain(t, w, 20*time.Second, func() bool { return p.status(t, "evt_lost").Terminal() })
	if d := p.status(t, "evt_lost"); d.Status != lifecycle.StatusUnconfirmed {
		t.Fatalf("record %s %s", d.Status, d.ReasonCode)
	}
	if n := p.sandbox.Sandbox.Stats().Reads; n != 0 {
		t.Errorf("%d reads without read access", n)
	}
}
