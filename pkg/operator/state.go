package operator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
)

// WaitingConnection is a connection whose deliveries wait parked for new
// credentials.
type WaitingConnection struct {
	Workspace  string `json:"workspace"`
	Connection string `json:"connection"`
	// Name and CompanyID are the connection's; Status is connected,
	// needs_attention, or "deleted" when the connection is gone.
	Name      string `json:"name,omitempty"`
	CompanyID string `json:"company_id,omitempty"`
	Status    string `json:"status"`
	// Waiting is how many deliveries are parked on it, the oldest
	// created at Oldest.
	Waiting int       `json:"waiting"`
	Oldest  time.Time `json:"oldest"`
}

// statusDeleted is a parked delivery's connection that no longer exists.
const statusDeleted = "deleted"

// NeedsAttention lists the connections whose deliveries are parked (after
// Personio refused their credentials), across every workspace, most
// waiting first. A connection the customer's own check marked, with
// nothing parked on it, is not listed: nothing waits for it.
func (o *Operator) NeedsAttention(ctx context.Context) ([]WaitingConnection, error) {
	const op = "operator: connections needing attention"
	parked, err := o.store.ParkedConnections(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	out := make([]WaitingConnection, 0, len(parked))
	for _, p := range parked {
		w := WaitingConnection{Workspace: p.Workspace, Connection: p.Connection, Waiting: p.Waiting, Oldest: p.Oldest.UTC()}
		c, err := o.store.GetConnection(ctx, p.Workspace, p.Connection)
		switch {
		case errors.Is(err, failure.ErrNotFound):
			w.Status = statusDeleted
		case err != nil:
			return nil, fmt.Errorf("%s: %w", op, err)
		default:
			w.Name, w.CompanyID, w.Status = c.Name, c.CompanyID, c.Status
		}
		out = append(out, w)
	}
	return out, nil
}

// BudgetView is a company's rate budget now.
type BudgetView struct {
	Company string `json:"company"`
	Limit   int    `json:"limit"`
	// Window is the budget's window in seconds (Personio's and the
	// margin).
	Window float64 `json:"window_seconds"`
	Used   int     `json:"used"`
	// Reserved is the units in the line of reserved turns, which ends at
	// LineEnds.
	Reserved     int        `json:"reserved_turns"`
	LineEnds     *time.Time `json:"line_ends,omitempty"`
	BlockedUntil *time.Time `json:"blocked_until,omitempty"`
	// NextFree is when a newcomer's unit would be taken.
	NextFree time.Time `json:"next_free"`
	// At is when it was read.
	At time.Time `json:"at"`
}

// Budget reads the company's rate budget as the worker's next take would
// find it; it changes nothing.
func (o *Operator) Budget(ctx context.Context, company string) (BudgetView, error) {
	const op = "operator: budget"
	if company == "" {
		return BudgetView{}, failure.New(op, failure.Invalid, errors.New("a company id is required"))
	}
	st, err := o.store.ReadBudget(ctx, company, o.cfg.Budget)
	if err != nil {
		return BudgetView{}, fmt.Errorf("%s: %w", op, err)
	}
	v := BudgetView{Company: company, Limit: st.Budget.Limit, Window: st.Budget.Window.Seconds(), Used: st.Used,
		Reserved: st.Reserved, NextFree: st.NextFree.UTC(), At: o.cfg.Now().UTC()}
	if !st.LineEnds.IsZero() {
		t := st.LineEnds.UTC()
		v.LineEnds = &t
	}
	if !st.BlockedUntil.IsZero() {
		t := st.BlockedUntil.UTC()
		v.BlockedUntil = &t
	}
	return v, nil
}
