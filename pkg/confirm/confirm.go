// Package confirm settles an ambiguous outcome by reading Personio: when
// the answer to a create request was lost and a later try heard
// "applicant already exists", the applicant's applications for the
// position (Personio's v2 API, with a connection's read access) tell
// whether the application is this delivery's, an earlier one, or not
// visible yet. The worker asks right after the "already exists"; the
// watch asks again, a bounded number of times, for what stayed
// unconfirmed.
package confirm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// Reader reads a company's applications through Personio's v2 API.
type Reader interface {
	Applications(ctx context.Context, rc personio.ReadCredentials, q personio.ApplicationQuery) ([]personio.ReadApplication, error)
}

// Store lists this system's deliveries of an address.
type Store interface {
	DeliveriesOf(ctx context.Context, ws, emailHash string) ([]store.Delivery, error)
}

// ErrRecords is a check that failed on this system's own records (the
// table), not on Personio's read: the caller may try again at once.
var ErrRecords = errors.New("this system's delivery records could not be read")

// Query is the delivery to settle: its record, the address the mapping
// took (and its keyed hash) and the job position it was sent to.
type Query struct {
	Self      store.Delivery
	Email     string
	EmailHash string
	Position  int64
}

// Verdict is what a read says of the delivery: Status is delivered (with
// Personio's ApplicationID), failed (a duplicate) or unconfirmed (not
// settled: not visible yet, or another delivery of ours may own it).
type Verdict struct {
	Status        lifecycle.Status
	Code          lifecycle.Reason
	Reason        string
	ApplicationID string
}

// Check reads the applicant's applications for the position and this
// system's other deliveries of the address, and settles the delivery
// (Settle). A failed read is returned as the error (wrapped with the
// operation); the delivery then stays unconfirmed.
func Check(ctx context.Context, st Store, rd Reader, rc personio.ReadCredentials, q Query) (Verdict, error) {
	const op = "confirm: check"
	apps, err := rd.Applications(ctx, rc, personio.ApplicationQuery{Email: q.Email, JobID: strconv.FormatInt(q.Position, 10)})
	if err != nil {
		return Verdict{}, fmt.Errorf("%s: %w", op, err)
	}
	var others []store.Delivery
	if len(apps) > 0 && q.EmailHash != "" {
		if others, err = st.DeliveriesOf(ctx, q.Self.WorkspaceID, q.EmailHash); err != nil {
			return Verdict{}, fmt.Errorf("%s: %w: %w", op, ErrRecords, err)
		}
	}
	return Settle(q.Self, q.Position, apps, others), nil
}

// Settle decides from the applications Personio shows for the address and
// position (apps) and this system's deliveries of the address (others;
// self among them is skipped). An application is the delivery's own when
// it was created after the delivery's record was written and no other
// delivery of ours for the address and position owns it: one that names
// it, or one delivered without naming its application (Personio keeps
// one application per address and position). Personio's clock and ours
// are taken to agree closer than the time from a record to its first
// request.
//   - its own → delivered, with the application's id;
//   - another delivery of ours that may own it without saying so (an
//     unconfirmed one, or one whose position is not recorded) → not
//     settled;
//   - only earlier or owned applications → failed as a duplicate;
//   - none → not settled (not visible yet).
func Settle(self store.Delivery, position int64, apps []personio.ReadApplication, others []store.Delivery) Verdict {
	others = slices.DeleteFunc(slices.Clone(others), func(o store.Delivery) bool { return o.EventID == self.EventID })
	var owned *Verdict
	for _, a := range apps {
		if a.CreatedAt.Before(self.CreatedAt) {
			continue
		}
		if o, ok := owner(a, position, others); ok {
			if owned == nil {
				v := duplicate(a, "created for an earlier delivery of this system (event "+o.EventID+")")
				owned = &v
			}
			continue
		}
		if o, ok := mayOwn(position, others); ok {
			return Verdict{Status: lifecycle.StatusUnconfirmed, Code: lifecycle.ReasonConfirmPending,
				Reason: "Personio's application " + a.ID + " may be this delivery's or that of delivery " + o.EventID + " for the same address and position"}
		}
		return Verdict{Status: lifecycle.StatusDelivered, Code: lifecycle.ReasonDelivered, ApplicationID: a.ID,
			Reason: "confirmed by reading Personio: application " + a.ID + " was created for this delivery"}
	}
	switch {
	case owned != nil:
		return *owned
	case len(apps) > 0:
		a := apps[0]
		return duplicate(a, "created "+a.CreatedAt.UTC().Format(time.RFC3339)+", before this delivery began")
	}
	return Verdict{Status: lifecycle.StatusUnconfirmed, Code: lifecycle.ReasonConfirmPending, Reason: "Personio's applications do not show it yet"}
}

// duplicate is the verdict for an application that is not this delivery's.
func duplicate(a personio.ReadApplication, why string) Verdict {
	return Verdict{Status: lifecycle.StatusFailed, Code: lifecycle.ReasonDuplicate,
		Reason: "Personio already had an application for this e-mail and position (application " + a.ID + ", " + why + "): this one is a duplicate and was not sent again"}
}

// owner returns the other delivery that owns application a: one that
// names it, or one delivered to the position without naming its
// application.
func owner(a personio.ReadApplication, position int64, others []store.Delivery) (store.Delivery, bool) {
	for _, o := range others {
		if o.PersonioApplicationID == a.ID {
			return o, true
		}
	}
	for _, o := range others {
		if o.Status == lifecycle.StatusDelivered && o.PersonioApplicationID == "" && o.JobPositionID == position {
			return o, true
		}
	}
	return store.Delivery{}, false
}

// mayOwn returns another delivery that may have created an application
// for the position without saying so: an unconfirmed one (or one whose
// answer was lost, on its way) for the position, or a delivered or
// unconfirmed one whose position is not recorded.
func mayOwn(position int64, others []store.Delivery) (store.Delivery, bool) {
	for _, o := range others {
		if o.PersonioApplicationID != "" {
			continue
		}
		unsure := o.Status == lifecycle.StatusUnconfirmed || o.OutcomeUnknown && !o.Status.Terminal()
		switch {
		case o.JobPositionID == position && unsure:
			return o, true
		case o.JobPositionID == 0 && (unsure || o.Status == lifecycle.StatusDelivered):
			return o, true
		}
	}
	return store.Delivery{}, false
}
