package operator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/resume"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// ReplayFilter picks the deliveries a replay queues again.
type ReplayFilter struct {
	Workspace string
	// Funnel, if set, is the one funnel; otherwise every funnel the
	// workspace has an integration for.
	Funnel string
	// Statuses are failed, dead or parked (default failed and dead).
	Statuses []lifecycle.Status
	// Since, if set, keeps deliveries whose record was created at or
	// after it.
	Since time.Time
	// DryRun lists what would be queued and changes nothing.
	DryRun bool
}

// Replayed is one delivery a replay matched.
type Replayed struct {
	ID         string           `json:"delivery_id"`
	Funnel     string           `json:"funnel"`
	Status     lifecycle.Status `json:"status"`
	ReasonCode lifecycle.Reason `json:"reason_code,omitempty"`
	CreatedAt  time.Time        `json:"created_at"`
	// Outcome is "queued", "would queue" (a dry run), or why not: "no
	// event kept" (expired or erased), "moved on" (no longer in a status
	// to replay), or the error.
	Outcome string `json:"outcome"`
}

// ReplayResult is what a replay matched and did.
type ReplayResult struct {
	Workspace  string             `json:"workspace"`
	Funnels    []string           `json:"funnels"`
	Statuses   []lifecycle.Status `json:"statuses"`
	Since      *time.Time         `json:"since,omitempty"`
	DryRun     bool               `json:"dry_run"`
	Deliveries []Replayed         `json:"deliveries"`
	Queued     int                `json:"queued"`
	Skipped    int                `json:"skipped"`
	Failed     int                `json:"failed"`
}

// Outcomes of a replayed delivery.
const (
	outcomeQueued  = "queued"
	outcomeWould   = "would queue"
	outcomeNoEvent = "no event kept"
	outcomeMoved   = "moved on"
)

// Replay queues again the deliveries that match f, each through the
// editor's own retry path (resume.One: the stored event to the
// queue, then the record queued with the reason retry.operator), newest
// first. Matches are read from the funnels' status lists, then each record
// is read again (the lists are eventually consistent) and left alone if it
// moved on meanwhile. A dry run reads the same and changes nothing.
func (o *Operator) Replay(ctx context.Context, f ReplayFilter) (ReplayResult, error) {
	const op = "operator: replay"
	res := ReplayResult{Workspace: f.Workspace, DryRun: f.DryRun, Statuses: f.Statuses, Deliveries: []Replayed{}}
	matched, err := o.replayMatches(ctx, f, &res)
	if err != nil {
		return res, err
	}
	q := queue.New(o.sqs, o.cfg.QueueURL)
	var queued []string
	for _, d := range matched {
		r := o.replayOne(ctx, f, res.Statuses, q, d)
		switch r.Outcome {
		case outcomeQueued:
			queued = append(queued, d.EventID)
			res.Queued++
		case outcomeWould:
			res.Queued++
		case outcomeNoEvent, outcomeMoved:
			res.Skipped++
		default:
			res.Failed++
		}
		res.Deliveries = append(res.Deliveries, r)
		if ctx.Err() != nil {
			break
		}
	}
	since := ""
	if res.Since != nil {
		since = res.Since.Format(time.RFC3339)
	}
	what := "replay"
	if f.DryRun {
		what = "replay dry run"
	}
	o.audit(ctx, what, "workspace", f.Workspace, "funnels", res.Funnels, "statuses", res.Statuses, "since", since,
		"matched", len(res.Deliveries), "queued", res.Queued, "skipped", res.Skipped, "failed", res.Failed, "delivery_ids", capIDs(queued))
	if res.Failed > 0 {
		return res, fmt.Errorf("%s: %d of %d deliveries could not be queued again", op, res.Failed, len(res.Deliveries))
	}
	return res, ctx.Err()
}

// replayMatches checks f, fills in res the statuses, the time and the
// funnels it covers, and returns the deliveries their lists give, newest
// first.
func (o *Operator) replayMatches(ctx context.Context, f ReplayFilter, res *ReplayResult) ([]store.Delivery, error) {
	const op = "operator: replay"
	if f.Workspace == "" {
		return nil, failure.New(op, failure.Invalid, errors.New("a workspace is required"))
	}
	if len(res.Statuses) == 0 {
		res.Statuses = []lifecycle.Status{lifecycle.StatusFailed, lifecycle.StatusDead}
	}
	for _, s := range res.Statuses {
		if !replayable(s) {
			return nil, failure.New(op, failure.Invalid, fmt.Errorf("status %q cannot be replayed: only failed, dead and parked deliveries can", s))
		}
	}
	if !f.Since.IsZero() {
		since := f.Since.UTC()
		res.Since = &since
	}
	if f.Funnel != "" {
		res.Funnels = []string{f.Funnel}
	} else {
		ins, err := o.store.ListIntegrations(ctx, f.Workspace)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		for _, in := range ins {
			res.Funnels = append(res.Funnels, in.FunnelID)
		}
		slices.Sort(res.Funnels)
	}
	var matched []store.Delivery
	for _, funnel := range res.Funnels {
		for _, status := range res.Statuses {
			ds, err := o.list(ctx, f.Workspace, funnel, status, f.Since)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
			matched = append(matched, ds...)
		}
	}
	slices.SortStableFunc(matched, func(a, b store.Delivery) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return matched, nil
}

// replayOne reads a matched delivery again and, unless it moved on or its
// event is gone, queues it again (or, in a dry run, says it would).
func (o *Operator) replayOne(ctx context.Context, f ReplayFilter, statuses []lifecycle.Status, q *queue.Queue, d store.Delivery) Replayed {
	r := Replayed{ID: d.EventID, Funnel: d.FunnelID, Status: d.Status, ReasonCode: d.ReasonCode, CreatedAt: d.CreatedAt}
	cur, err := o.store.GetDelivery(ctx, f.Workspace, d.EventID)
	switch {
	case errors.Is(err, failure.ErrNotFound):
		r.Outcome = outcomeNoEvent
	case err != nil:
		r.Outcome = err.Error()
	case !slices.Contains(statuses, cur.Status):
		r.Outcome = outcomeMoved
	case f.DryRun && !o.keepsEvent(ctx, cur):
		r.Outcome = outcomeNoEvent
	case f.DryRun:
		r.Outcome = outcomeWould
	default:
		switch err := resume.One(ctx, o.store, q, cur, lifecycle.ReasonReplayed); {
		case err == nil:
			r.Outcome = outcomeQueued
		case errors.Is(err, resume.ErrExpired):
			r.Outcome = outcomeNoEvent
		default:
			r.Outcome = err.Error()
		}
	}
	return r
}

// replayable reports whether deliveries in this status may be queued
// again: failed, dead-lettered, or parked, as the editor's retry allows.
func replayable(s lifecycle.Status) bool {
	switch s {
	case lifecycle.StatusFailed, lifecycle.StatusDead, lifecycle.StatusParked:
		return true
	}
	return false
}

// list reads a funnel's deliveries in one status, newest first, down to
// since.
func (o *Operator) list(ctx context.Context, ws, funnel string, status lifecycle.Status, since time.Time) ([]store.Delivery, error) {
	var out []store.Delivery
	cursor := ""
	for {
		page, err := o.store.ListDeliveries(ctx, ws, funnel, status, 100, cursor)
		if err != nil {
			return nil, err
		}
		for _, d := range page.Deliveries {
			if !since.IsZero() && d.CreatedAt.Before(since) {
				return out, nil // the rest are older
			}
			out = append(out, d)
		}
		if page.Next == "" {
			return out, nil
		}
		cursor = page.Next
	}
}

// maxAuditIDs bounds the ids one audit line names.
const maxAuditIDs = 500

// capIDs keeps an audit line's ids to maxAuditIDs, saying how many more.
func capIDs(ids []string) []string {
	if len(ids) <= maxAuditIDs {
		return ids
	}
	return append(ids[:maxAuditIDs:maxAuditIDs], fmt.Sprintf("… and %d more", len(ids)-maxAuditIDs))
}

// keepsEvent reports whether the delivery's event is still kept (on an
// old record, or in the item of its own), so that a replay could send it.
func (o *Operator) keepsEvent(ctx context.Context, d store.Delivery) bool {
	if len(d.Event) > 0 {
		return true
	}
	b, err := o.store.Event(ctx, d.WorkspaceID, d.EventID)
	return err == nil && len(b) > 0
}
