package delivery_test

import (
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/pkg/confirm"
	"github.com/funnel-personio/funnel-personio/pkg/delivery"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/store"
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

// TestReadFailureLeavesUnconfirmed: the read after "already exists" fails
// (500 or 429); the delivery is not delivered on a guess, nor sent again:
// it ends unconfirmed at once, saying why and that it is read again later
// (by the watch).
func TestReadFailureLeavesUnconfirmed(t *testing.T) {
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
			if d.Status != lifecycle.StatusUnconfirmed || d.ReasonCode != lifecycle.ReasonConfirmPending ||
				!strings.Contains(d.Reason, tt.says) || !strings.Contains(d.Reason, "read again later") {
				t.Fatalf("record %s %s %q", d.Status, d.ReasonCode, d.Reason)
			}
			if n := len(p.sandbox.Sandbox.Applications("42")); n != 1 || d.JobPositionID != 1001 {
				t.Errorf("Personio has %d applications; the record names position %d", n, d.JobPositionID)
			}
		})
	}
}

// TestSecondDeliveryDoesNotClaimTheFirst: two events of one applicant for
// one position; the second's record is written before the first's
// application is created, and the second's answer is lost. The read shows
// an application created after the second's record, but an earlier
// delivery of ours (the first, delivered) owns it: the second is a
// duplicate, not delivered with the first's application.
func TestSecondDeliveryDoesNotClaimTheFirst(t *testing.T) {
	p := newPipe(t, pipeOpts{})
	p.giveReadAccess(t, "sandbox-client-42", "secret-42")
	w := p.worker()
	ctx := t.Context()
	p.post(t, p.event("evt_second", "same@example.com", ""))
	msgs, err := p.queue.Receive(ctx, 10, 0)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("receive: %d %v", len(msgs), err)
	}
	if err := p.queue.Defer(ctx, msgs[0].ReceiptHandle, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	p.post(t, p.event("evt_first", "same@example.com", ""))
	p.drain(t, w, 10*time.Second, p.is(t, "evt_first", lifecycle.StatusDelivered))
	p.sandbox.Sandbox.SetFaults(sandbox.Faults{Drop: 1})
	p.drain(t, w, 10*time.Second, p.is(t, "evt_second", lifecycle.StatusRetrying))
	p.sandbox.Sandbox.SetFaults(sandbox.Faults{})
	p.drain(t, w, 15*time.Second, func() bool { return p.status(t, "evt_second").Terminal() })
	d, first := p.status(t, "evt_second"), p.status(t, "evt_first")
	if !first.CreatedAt.After(d.CreatedAt) || len(p.sandbox.Sandbox.Applications("42")) != 1 {
		t.Fatalf("the second's record is not the older one, or Personio has %d applications", len(p.sandbox.Sandbox.Applications("42")))
	}
	if d.Status != lifecycle.StatusFailed || d.ReasonCode != lifecycle.ReasonDuplicate || !strings.Contains(d.Reason, "event evt_first") || d.PersonioApplicationID != "" {
		t.Fatalf("the second event: %s %s %q (application %q)", d.Status, d.ReasonCode, d.Reason, d.PersonioApplicationID)
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

// TestRecheckSettlesLater: a read after "already exists" fails (500), so
// the delivery ends unconfirmed (the worker's read is its first check);
// the watch's rereads fail too and each counts a check, leaving it
// unconfirmed; with its checks used up it says so and is not read again.
// Given more checks, once reads work, a reread finds the application
// created for it: delivered, with its id.
func TestRecheckSettlesLater(t *testing.T) {
	p := newPipe(t, pipeOpts{sandbox: sandbox.Config{LoseAnswers: 1, ReadFaults: sandbox.Faults{Error500: 1}}})
	p.giveReadAccess(t, "sandbox-client-42", "secret-42")
	p.post(t, p.event("evt_later", "later@example.com", ""))
	p.drain(t, p.worker(), 20*time.Second, func() bool { return p.status(t, "evt_later").Terminal() })
	recheck := func(checks int) confirm.Counts {
		t.Helper()
		rc := confirm.NewRechecker(confirm.RecheckConfig{Checks: checks, HashKey: p.cfg.HashKey, Logger: p.logs.Logger()}, p.store, p.vault, p.pc, nil)
		c, err := rc.Run(t.Context(), func() bool { return false })
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for i, want := range []lifecycle.Reason{lifecycle.ReasonConfirmPending, lifecycle.ReasonExistsUnconfirmed} {
		if c := recheck(3); c.Checked != 1 || c.Confirmed != 0 {
			t.Fatalf("reread %d: %+v", i+1, c)
		}
		d := p.status(t, "evt_later")
		if d.Status != lifecycle.StatusUnconfirmed || d.ReasonCode != want || confirm.Checks(d.Attempts) != i+2 || !strings.Contains(d.Reason, "500") {
			t.Fatalf("after failed reread %d: %s %s %q, %d checks", i+1, d.Status, d.ReasonCode, d.Reason, confirm.Checks(d.Attempts))
		}
	}
	if d := p.status(t, "evt_later"); !strings.Contains(d.Reason, "not read again") {
		t.Errorf("checks used up, but the record says %q", d.Reason)
	}
	p.sandbox.Sandbox.SetReadFaults(sandbox.Faults{})
	if c := recheck(3); c.Checked != 0 {
		t.Fatalf("a delivery with no checks left was read again: %+v", c)
	}
	if c := recheck(4); c.Checked != 1 || c.Confirmed != 1 {
		t.Fatalf("reread with reads working: %+v", c)
	}
	d := p.status(t, "evt_later")
	apps := p.sandbox.Sandbox.Applications("42")
	if d.Status != lifecycle.StatusDelivered || len(apps) != 1 || d.PersonioApplicationID != apps[0].ID {
		t.Fatalf("record %s %s %q (application %q); Personio has %d applications", d.Status, d.ReasonCode, d.Reason, d.PersonioApplicationID, len(apps))
	}
	p.logs.NeverHolds(t, "sandbox-secret-42", "later@example.com")
}

// TestDiedAfterPersonioSettledByRead: a worker claimed the event, created
// the application in Personio and died before recording it. The next
// worker takes the claim over when the lease ends; Personio answers
// "already exists", and with read access the read settles it: the
// application was created after the record, and no other delivery of ours
// owns it, so the delivery is delivered, naming it.
func TestDiedAfterPersonioSettledByRead(t *testing.T) {
	p := newPipe(t, pipeOpts{worker: func(c *delivery.Config) { c.Lease = 2 * time.Second }})
	p.giveReadAccess(t, "sandbox-client-42", "secret-42")
	ctx := t.Context()
	p.post(t, p.event("evt_died", "died@example.com", ""))
	if _, err := p.store.Claim(ctx, store.Delivery{WorkspaceID: ws, FunnelID: funnel, EventID: "evt_died"}, "dead-worker", 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.pc.CreateApplication(ctx, personio.Credentials{CompanyID: "42", Token: "sandbox-token-42"},
		personio.Application{FirstName: "Ada", LastName: "Lovelace", Email: "died@example.com", JobPositionID: 1001, Tags: []string{"evt_died"}}); err != nil {
		t.Fatal(err)
	}
	p.drain(t, p.worker(), 20*time.Second, func() bool { return p.status(t, "evt_died").Terminal() })
	d := p.status(t, "evt_died")
	apps := p.sandbox.Sandbox.Applications("42")
	if d.Status != lifecycle.StatusDelivered || len(apps) != 1 || d.PersonioApplicationID != apps[0].ID {
		t.Fatalf("record %s %s %q (application %q); Personio has %d applications", d.Status, d.ReasonCode, d.Reason, d.PersonioApplicationID, len(apps))
	}
	tookOver := false
	for _, a := range d.Attempts {
		tookOver = tookOver || a.Outcome == lifecycle.StatusDelivered && strings.Contains(a.Reason, "confirmed by reading Personio")
	}
	if !tookOver {
		t.Errorf("not settled by the read: %+v", d.Attempts)
	}
}
