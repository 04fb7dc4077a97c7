package store

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
)

// DeliveriesOf lists the workspace's delivery records that hold the
// e-mail hash (any address of their event, or the one the mapping took),
// without their events. It reads the workspace's records and keeps the
// matching ones: for the rare confirmation of an ambiguous outcome, not
// for a hot path.
func (s *Store) DeliveriesOf(ctx context.Context, ws, emailHash string) ([]Delivery, error) {
	const op = "store: deliveries of an address"
	if emailHash == "" {
		return nil, failure.New(op, failure.Invalid, errors.New("no e-mail hash"))
	}
	filter := expression.Contains(expression.Name("email_hashes"), emailHash)
	var items []deliveryItem
	if err := s.queryPrefixWhere(ctx, op, wsKey(ws), deliveryKey(""), &filter, &items); err != nil {
		return nil, err
	}
	out := make([]Delivery, 0, len(items))
	for _, it := range items {
		d := it.Delivery
		d.Event = nil
		out = append(out, d)
	}
	return out, nil
}

// Settle writes the outcome of a check of an unconfirmed delivery (a read
// of Personio's applications, outside any claim): on is lifecycle.Confirm
// (delivered), lifecycle.Refute (failed, a duplicate) or
// lifecycle.Recheck (still unconfirmed, one more check counted), and c the
// change with its attempt. The write holds only if the record's status is
// one the event applies from and the record is as read, so of two checks
// at once one lands, and a claim taken meanwhile wins. It writes what
// Record writes (recordUpdate), outside a claim.
func (s *Store) Settle(ctx context.Context, k DeliveryKey, on lifecycle.Event, c Change) (Delivery, error) {
	const op = "store: settle delivery"
	t, err := lifecycle.Lookup(lifecycle.StatusUnconfirmed, on)
	if err != nil || t.To != c.Status {
		return Delivery{}, failure.New(op, failure.Invalid, &lifecycle.ErrNotAllowed{From: lifecycle.StatusUnconfirmed, On: on})
	}
	var it deliveryItem
	raw, err := s.getItem(ctx, "store: get delivery", wsKey(k.Workspace), deliveryKey(k.Event), &it)
	if err != nil {
		return Delivery{}, err
	}
	update := recordUpdate(k, s.now().UTC(), c)
	if c.Attempt != nil {
		update = update.Set(expression.Name("attempts"), expression.Value(appendAttempt(it.Attempts, *c.Attempt)))
	}
	cond := statusIn(on).And(unchanged(raw, "updated_at"))
	if len(c.Tell) > 0 {
		return s.recordTelling(ctx, op, k, update, cond, c.Tell)
	}
	return s.update(ctx, op, k.Workspace, k.Event, update, cond)
}
