// Package lifecycle is the delivery's lifecycle, in one place and without
// AWS: its statuses and reason codes, every transition as a function of
// (status, what happened) → (new status, what must hold for it to apply,
// what it causes), and the budget's decisions (Decide). The worker, ingest,
// the editor, the watch and the operator name what happened; pkg/store
// applies the transition the table allows as one conditional write, or as
// one transaction where two items must agree (a record's creation and the
// erasure markers); the simulator (dev/sim) checks that
// every run of them keeps the invariants.
//
// The table is drawn as a state diagram in docs/lifecycle.md (Diagram),
// and a test holds the page to the table.
package lifecycle

import (
	"fmt"
	"slices"
	"strings"
)

// Event is what happened to a delivery.
type Event string

// The events of a delivery's life.
const (
	// Accept: ingest (or the editor's test endpoint) wrote the record
	// before the event went on the queue.
	Accept Event = "accept"
	// Claim: a worker took the event for its lease. A claim also
	// creates the record of an event that came straight to the queue.
	Claim Event = "claim"
	// Deliver: Personio created the application.
	Deliver Event = "deliver"
	// Unconfirm: Personio has an application for the address and the
	// position and an earlier try's answer was lost.
	Unconfirm Event = "unconfirm"
	// Fail: a permanent failure (the mapping, Personio's validation, a
	// duplicate, a missing connection).
	Fail Event = "fail"
	// Skip: the funnel has no integration, or it is switched off.
	Skip Event = "skip"
	// Park: Personio refused the credentials, or the position is not
	// published: the delivery waits for its cause to go.
	Park Event = "park"
	// Wait: no budget now; a delayed copy of the message comes back at
	// the delivery's turn.
	Wait Event = "wait"
	// Retry: a transient failure; the message comes back after a
	// backoff.
	Retry Event = "retry"
	// Exhaust: the last receive failed; the message goes to the
	// dead-letter queue.
	Exhaust Event = "exhaust"
	// Requeue: the event is sent to the queue again: the editor's
	// retry, new credentials, a position published again, the watch's
	// sweep of parked deliveries whose cause is gone, the operator's
	// replay.
	Requeue Event = "requeue"
	// Confirm: a read of Personio's applications (read access) shows
	// the application an unconfirmed delivery created.
	Confirm Event = "confirm"
	// Refute: a read of Personio's applications shows that the
	// application for the address and position is an earlier one, not
	// the unconfirmed delivery's: it is a duplicate.
	Refute Event = "refute"
	// Recheck: a read of Personio's applications did not settle an
	// unconfirmed delivery (not visible yet, the read failed): one more
	// check is counted, and the watch checks again while checks are left.
	Recheck Event = "recheck"
	// Erase: the applicant's data is erased: the record goes, and a
	// marker keeps every copy of the event from coming back.
	Erase Event = "erase"
)

// Guard is what must hold for a transition to apply; the store makes it
// part of the transition's one conditional write.
type Guard string

// The guards.
const (
	// GuardClaimable: no other worker holds an unexpired claim, and the
	// record is not delivered.
	GuardClaimable Guard = "no other worker holds an unexpired claim"
	// GuardNotErased: no erasure marker names an address of the event
	// (read with the record just before the claim, whose write holds only
	// if the record is still as read: an erasure deletes it; a record not
	// there yet is claimed in one transaction with the markers' check).
	GuardNotErased Guard = "no erasure marker names the applicant"
	// GuardAwaitedCopy: a delayed copy claims only if the record waits
	// for that very copy.
	GuardAwaitedCopy Guard = "a delayed copy is the one the record waits for"
	// GuardClaimHeld: the worker still holds the claim.
	GuardClaimHeld Guard = "the worker holds the claim"
	// GuardCauseHolds: the connection still needs attention, or the
	// position is still unpublished. The worker reads it just before it
	// parks; a cause that goes between that read and the park is caught
	// by the watch's sweep, which resumes whatever is parked on a working
	// connection or a published, unmarked position (docs/lifecycle.md).
	GuardCauseHolds Guard = "the cause still holds (or the sweep wakes it)"
	// GuardUnchanged: the record is as the requeue read it.
	GuardUnchanged Guard = "the record is as read"
	// GuardAbsent: there is no record of the event yet.
	GuardAbsent Guard = "no record of the event yet"
)

// Effect is what a transition causes besides the record's new status.
type Effect string

// The effects.
const (
	EffectQueue        Effect = "event sent to the queue"
	EffectReleaseClaim Effect = "claim released"
	EffectDeleteMsg    Effect = "message deleted"
	EffectCopy         Effect = "delayed copy sent, its token recorded"
	EffectHide         Effect = "message hidden for the backoff"
	EffectDLQ          Effect = "message left to the dead-letter queue"
	EffectNotifyFailed Effect = "delivery.failed sent to the platform"
	EffectNotifyDead   Effect = "delivery.dead sent to the platform"
	EffectMarkCause    Effect = "connection or position marked (once, with its outbound event)"
	EffectForget       Effect = "record and kept event deleted, marker written"
)

// Transition is one row of the table.
type Transition struct {
	On      Event
	From    []Status // the statuses it applies from; nil: no record yet
	To      Status   // "" for Erase: the record is gone
	Guards  []Guard
	Effects []Effect
}

// reopenable are the statuses a claim may take a record from besides the
// ones on their way: a redelivered or redriven message of a delivery that
// ended or parked runs again (and, for a parked one, finds out whether
// its cause still holds).
var reopenable = []Status{StatusParked, StatusFailed, StatusDead, StatusSkipped, StatusUnconfirmed}

var working = []Status{StatusProcessing}

// settling are the statuses a read of Personio's applications settles
// (Confirm, Refute, Recheck).
var settling = []Status{StatusUnconfirmed}

// Table is every transition of a delivery. A pair (status, event) not in
// it cannot happen: the store refuses it.
var Table = []Transition{
	{On: Accept, From: nil, To: StatusQueued, Guards: []Guard{GuardAbsent}, Effects: []Effect{EffectQueue}},
	{On: Claim, From: append([]Status{StatusQueued, StatusRetrying, StatusProcessing}, reopenable...), To: StatusProcessing,
		Guards: []Guard{GuardClaimable, GuardNotErased, GuardAwaitedCopy}},
	{On: Deliver, From: working, To: StatusDelivered, Guards: []Guard{GuardClaimHeld}, Effects: []Effect{EffectReleaseClaim, EffectDeleteMsg}},
	{On: Unconfirm, From: working, To: StatusUnconfirmed, Guards: []Guard{GuardClaimHeld}, Effects: []Effect{EffectReleaseClaim, EffectDeleteMsg}},
	{On: Fail, From: working, To: StatusFailed, Guards: []Guard{GuardClaimHeld},
		Effects: []Effect{EffectReleaseClaim, EffectDeleteMsg, EffectNotifyFailed}},
	{On: Skip, From: working, To: StatusSkipped, Guards: []Guard{GuardClaimHeld}, Effects: []Effect{EffectReleaseClaim, EffectDeleteMsg}},
	{On: Park, From: working, To: StatusParked, Guards: []Guard{GuardClaimHeld, GuardCauseHolds},
		Effects: []Effect{EffectMarkCause, EffectReleaseClaim, EffectDeleteMsg}},
	{On: Wait, From: working, To: StatusQueued, Guards: []Guard{GuardClaimHeld}, Effects: []Effect{EffectCopy, EffectReleaseClaim, EffectDeleteMsg}},
	{On: Retry, From: working, To: StatusRetrying, Guards: []Guard{GuardClaimHeld}, Effects: []Effect{EffectHide, EffectReleaseClaim}},
	{On: Exhaust, From: working, To: StatusDead, Guards: []Guard{GuardClaimHeld},
		Effects: []Effect{EffectReleaseClaim, EffectDLQ, EffectNotifyDead}},
	{On: Requeue, From: []Status{StatusFailed, StatusDead, StatusParked}, To: StatusQueued, Guards: []Guard{GuardUnchanged},
		Effects: []Effect{EffectQueue, EffectReleaseClaim}},
	{On: Confirm, From: settling, To: StatusDelivered, Guards: []Guard{GuardUnchanged}},
	{On: Refute, From: settling, To: StatusFailed, Guards: []Guard{GuardUnchanged}, Effects: []Effect{EffectNotifyFailed}},
	{On: Recheck, From: settling, To: StatusUnconfirmed, Guards: []Guard{GuardUnchanged}},
	{On: Erase, From: Statuses, To: "", Effects: []Effect{EffectForget}},
}

// ErrNotAllowed is a transition the table does not have.
type ErrNotAllowed struct {
	From Status
	On   Event
}

func (e *ErrNotAllowed) Error() string {
	from := string(e.From)
	if from == "" {
		from = "no record"
	}
	return fmt.Sprintf("lifecycle: %s is not allowed from %s", e.On, from)
}

// Lookup returns the transition of event on from a status ("" for no
// record yet), or ErrNotAllowed.
func Lookup(from Status, on Event) (Transition, error) {
	for _, t := range Table {
		if t.On != on {
			continue
		}
		if from == "" && t.From == nil || slices.Contains(t.From, from) {
			return t, nil
		}
	}
	return Transition{}, &ErrNotAllowed{From: from, On: on}
}

// From returns the statuses event on applies from: what the store's
// condition on the record's status allows.
func From(on Event) []Status {
	for _, t := range Table {
		if t.On == on {
			return slices.Clone(t.From)
		}
	}
	return nil
}

// Outcome is the event a worker's result names by the status it ends in.
func Outcome(to Status) (Event, bool) {
	for _, t := range Table {
		if t.To == to && slices.Equal(t.From, working) {
			return t.On, true
		}
	}
	return "", false
}

// Diagram draws the table as a Mermaid state diagram: one arrow a
// transition and status it applies from (the many statuses a claim
// reopens drawn as one arrow each, Erase as one note).
func Diagram() string {
	var b strings.Builder
	b.WriteString("stateDiagram-v2\n")
	for _, t := range Table {
		switch {
		case t.On == Erase:
			continue
		case t.From == nil:
			fmt.Fprintf(&b, "    [*] --> %s: %s\n", t.To, t.On)
			continue
		}
		for _, f := range t.From {
			if f == t.To && t.On == Claim {
				continue // a claim taken over after a lease ran out
			}
			fmt.Fprintf(&b, "    %s --> %s: %s\n", f, t.To, t.On)
		}
	}
	for _, s := range Statuses {
		if s.Terminal() {
			fmt.Fprintf(&b, "    %s --> [*]\n", s)
		}
	}
	b.WriteString("    note right of processing: erase removes the record from any status\n")
	return b.String()
}
