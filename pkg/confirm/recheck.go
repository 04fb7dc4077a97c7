package confirm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// RecheckStore is what a recheck reads and writes.
type RecheckStore interface {
	Store
	WatchedConnections(ctx context.Context, f func(store.Connection) error) error
	ListIntegrations(ctx context.Context, ws string) ([]store.Integration, error)
	ListDeliveries(ctx context.Context, ws, funnel string, status lifecycle.Status, limit int, cursor string) (store.Page, error)
	Event(ctx context.Context, ws, eventID string) ([]byte, error)
	Settle(ctx context.Context, k store.DeliveryKey, on lifecycle.Event, c store.Change) (store.Delivery, error)
	// Sent marks an outbound event recorded pending as published.
	Sent(ctx context.Context, ws, id string) error
}

// Secrets reads a connection's read-access client secret.
type Secrets interface {
	ReadSecret(ctx context.Context, ws, connection string) (personio.Token, error)
}

// Notifier tells the platform of a delivery that failed.
type Notifier interface {
	Publish(ctx context.Context, e outbound.Event) error
}

// RecheckConfig configures the rereads.
type RecheckConfig struct {
	// Checks is how many rereads a delivery gets at most
	// (settings.ConfirmChecks); 0 switches them off.
	Checks int
	// HashKey is the key of the records' e-mail hashes.
	HashKey []byte
	Now     func() time.Time
	Logger  *slog.Logger
}

// Rechecker reads Personio again for the deliveries that stayed
// unconfirmed on connections with read access: one read a delivery a run,
// at most Checks runs, each counted on the record (an attempt with
// lifecycle.ReasonConfirmPending); a read that settles it turns it
// delivered (Confirm) or failed as a duplicate (Refute). A read that
// fails (429, 5xx) counts as a check too. Rereads do not take from the
// company's budget (see Check).
type Rechecker struct {
	cfg    RecheckConfig
	store  RecheckStore
	vault  Secrets
	reader Reader
	// teller tells of the deliveries the rereads refute.
	teller outbound.Teller
}

// NewRechecker returns a Rechecker; n may be nil.
func NewRechecker(cfg RecheckConfig, st RecheckStore, v Secrets, r Reader, n Notifier) *Rechecker {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Rechecker{cfg: cfg, store: st, vault: v, reader: r, teller: outbound.NewTeller("confirm", n, st, cfg.Logger)}
}

// Counts is what a run of rereads did.
type Counts struct {
	Checked   int // reads made
	Confirmed int // turned delivered
	Refuted   int // turned failed, duplicates
	Left      int // left for the next run (the run's deadline)
}

// Run rereads the unconfirmed deliveries of every connection with read
// access, until stop says the run's time is up.
func (r *Rechecker) Run(ctx context.Context, stop func() bool) (Counts, error) {
	var c Counts
	if r.cfg.Checks <= 0 {
		return c, nil
	}
	var conns []store.Connection
	if err := r.store.WatchedConnections(ctx, func(conn store.Connection) error {
		if conn.ReadClientID != "" && conn.Status == store.ConnectionConnected {
			conns = append(conns, conn)
		}
		return nil
	}); err != nil {
		return c, err
	}
	var errs []error
	for _, conn := range conns {
		errs = append(errs, r.connection(ctx, conn, stop, &c))
	}
	return c, errors.Join(errs...)
}

// connection rereads the unconfirmed deliveries of the funnels that use
// the connection.
func (r *Rechecker) connection(ctx context.Context, conn store.Connection, stop func() bool, c *Counts) error {
	secret, err := r.vault.ReadSecret(ctx, conn.WorkspaceID, conn.ID)
	if err != nil || secret == "" {
		return err
	}
	rc := personio.ReadCredentials{ClientID: conn.ReadClientID, ClientSecret: secret}
	ins, err := r.store.ListIntegrations(ctx, conn.WorkspaceID)
	if err != nil {
		return err
	}
	for _, in := range ins {
		if in.ConnectionID != conn.ID {
			continue
		}
		for cursor := ""; ; {
			page, err := r.store.ListDeliveries(ctx, conn.WorkspaceID, in.FunnelID, lifecycle.StatusUnconfirmed, 100, cursor)
			if err != nil {
				return err
			}
			for _, d := range page.Deliveries {
				if !r.due(d, conn) {
					continue
				}
				if stop() {
					c.Left++
					continue
				}
				if err := r.one(ctx, rc, d, c); err != nil {
					return err
				}
			}
			if cursor = page.Next; cursor == "" {
				break
			}
		}
	}
	return nil
}

// due says whether a delivery is one to reread: unconfirmed, sent to a
// known position of the connection's company with a known address, and
// with checks left.
func (r *Rechecker) due(d store.Delivery, conn store.Connection) bool {
	return d.Status == lifecycle.StatusUnconfirmed && d.JobPositionID != 0 && d.MappedEmailHash != "" &&
		d.CompanyID == conn.CompanyID && Checks(d.Attempts) < r.cfg.Checks
}

// Checks counts the rereads a record's attempts show.
func Checks(attempts []store.Attempt) int {
	n := 0
	for _, a := range attempts {
		if a.ReasonCode == lifecycle.ReasonConfirmPending && a.Outcome == lifecycle.StatusUnconfirmed {
			n++
		}
	}
	return n
}

// one rereads one delivery and writes what the read says.
func (r *Rechecker) one(ctx context.Context, rc personio.ReadCredentials, d store.Delivery, c *Counts) error {
	email, err := r.address(ctx, d)
	if err != nil {
		return err
	}
	if email == "" {
		return nil // the event is gone (its TTL, an erasure): nothing to read for
	}
	c.Checked++
	v, err := Check(ctx, r.store, r.reader, rc, Query{Self: d, Email: email, EmailHash: d.MappedEmailHash, Position: d.JobPositionID})
	if err != nil {
		r.cfg.Logger.WarnContext(ctx, "confirm: reread", "event_id", d.EventID, "error", err.Error())
		v = Verdict{Status: lifecycle.StatusUnconfirmed, Reason: "reading Personio's applications failed (" + err.Error() + ")"}
	}
	return r.write(ctx, d, v, c)
}

// write records a reread's verdict through the lifecycle's transition.
func (r *Rechecker) write(ctx context.Context, d store.Delivery, v Verdict, c *Counts) error {
	now := r.cfg.Now().UTC()
	on, code, reason := lifecycle.Recheck, lifecycle.ReasonConfirmPending, v.Reason
	switch v.Status {
	case lifecycle.StatusDelivered:
		on, code = lifecycle.Confirm, v.Code
	case lifecycle.StatusFailed:
		on, code = lifecycle.Refute, v.Code
	default:
		n := Checks(d.Attempts) + 1
		if n >= r.cfg.Checks {
			code, reason = lifecycle.ReasonExistsUnconfirmed, fmt.Sprintf("%s; read %d times, not read again", v.Reason, n)
		} else {
			reason = fmt.Sprintf("%s; read %d of %d times, read again later", v.Reason, n, r.cfg.Checks)
		}
	}
	change := store.Change{Status: v.Status, ReasonCode: code, Reason: reason, PersonioApplicationID: v.ApplicationID,
		Attempt: &store.Attempt{At: now, Outcome: v.Status, ReasonCode: lifecycle.ReasonConfirmPending, Reason: reason}}
	// A refuted delivery failed for good: a problem of this attempt, named
	// by the attempts before it as the worker names its own.
	failed := outbound.DeliveryEvent(outbound.DeliveryFailed, d.WorkspaceID, d.FunnelID, d.EventID, len(d.Attempts), code, now)
	if v.Status == lifecycle.StatusFailed {
		change.Tell = r.teller.Pending(failed)
	}
	_, err := r.store.Settle(ctx, d.Key(), on, change)
	switch {
	case errors.Is(err, failure.ErrConflict), errors.Is(err, failure.ErrNotFound):
		return nil // claimed, settled or erased meanwhile: that stands
	case err != nil:
		return err
	}
	r.cfg.Logger.InfoContext(ctx, "delivery", "event_id", d.EventID, "state", string(v.Status), "reason_code", string(code), "reason", reason)
	switch v.Status {
	case lifecycle.StatusDelivered:
		c.Confirmed++
	case lifecycle.StatusFailed:
		c.Refuted++
		_ = r.teller.Tell(ctx, failed)
	}
	return nil
}

// address returns the address the mapping took, from the kept event: the
// one of its addresses whose hash the record names ("" when the event is
// gone).
func (r *Rechecker) address(ctx context.Context, d store.Delivery) (string, error) {
	body, err := r.store.Event(ctx, d.WorkspaceID, d.EventID)
	if errors.Is(err, failure.ErrNotFound) || err == nil && len(body) == 0 {
		return "", nil
	} else if err != nil {
		return "", err
	}
	var ev application.Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return "", failure.New("confirm: read the kept event", failure.Invalid, err)
	}
	for _, a := range ev.Addresses() {
		if application.EmailHash(r.cfg.HashKey, a) == d.MappedEmailHash {
			return application.NormalEmail(a), nil
		}
	}
	return "", nil
}
