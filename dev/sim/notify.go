package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// notifyQueue is the outbound queue (the stack's Notify queue): the
// worker's, the editor's and the watch's Publisher send to it. A send is
// a gate like every SQS call, so a producer may crash there (or at any
// gate between its write and its send) and its event is not sent. The
// queue keeps every event it took, in order: what the notifier would
// post (its own retries and the receiver's dropping of repeats by id
// are outside the simulator).
type notifyQueue struct {
	s    *Sched
	sent []outbound.Event
}

// Send takes one event onto the queue.
func (q *notifyQueue) Send(ctx context.Context, m queue.Message) error {
	q.s.Gate(ctx, "sqs SendMessage (notify)", q.s.Latency(5*time.Millisecond, 25*time.Millisecond))
	var e outbound.Event
	if err := json.Unmarshal(m.Body, &e); err != nil || e.ID != m.ID {
		e = outbound.Event{ID: m.ID, Type: "unreadable"}
	}
	q.sent = append(q.sent, e)
	return nil
}

// problem is one problem the table shows happened: the event it must
// give, named by the id the contract derives from the problem.
type problem struct {
	id   string
	typ  outbound.Type
	what string
	at   time.Time
}

// problems are the problems seen in the table's writes (memdb.Watch), by
// their event's id: a connection's status changed (needs_attention, or
// connected again), a position's mark made or cleared on an integration
// that still exists, a delivery recorded failed or dead.
type problems struct {
	byID  map[string]problem
	order []string
	// checked is how many of the queue's events oneEvent looked at;
	// untold the events it found of no problem.
	checked int
	untold  []string
}

func newProblems() *problems { return &problems{byID: map[string]problem{}} }

// wrote takes one write of the table: the item before (nil: none) and
// after (nil: deleted).
func (p *problems) wrote(pk, sk string, was, is map[string]types.AttributeValue, now time.Time) {
	switch {
	case was == nil || is == nil:
		if is != nil && strings.HasPrefix(sk, "DELIVERY#") {
			p.delivery(pk, sk, nil, is, now)
		}
	case strings.HasPrefix(sk, "CONN#"):
		p.connection(was, is, now)
	case strings.HasPrefix(sk, "FUNNEL#"):
		p.positions(was, is, now)
	case strings.HasPrefix(sk, "DELIVERY#"):
		p.delivery(pk, sk, was, is, now)
	}
}

func (p *problems) add(e outbound.Event, what string, now time.Time) {
	if _, ok := p.byID[e.ID]; ok {
		return
	}
	p.byID[e.ID] = problem{id: e.ID, typ: e.Type, what: what, at: now}
	p.order = append(p.order, e.ID)
}

// connection: a change of the connection's status is a problem of the
// new status's type.
func (p *problems) connection(was, is map[string]types.AttributeValue, now time.Time) {
	var a, b store.Connection
	_ = attributevalue.UnmarshalMap(was, &a)
	_ = attributevalue.UnmarshalMap(is, &b)
	if a.Status == b.Status {
		return
	}
	t := outbound.ConnectionRestored
	if b.Status == store.ConnectionNeedsAttention {
		t = outbound.ConnectionNeedsAttention
	}
	p.add(outbound.ConnectionEvent(t, b, ""), fmt.Sprintf("%s's connection %s %s", b.WorkspaceID, b.ID, b.Status), now)
}

// marks are an integration's position marks: when each position was
// found unpublished.
func marks(in store.Integration) map[int64]time.Time {
	out := map[int64]time.Time{}
	if in.Unpublished != nil {
		out[in.Unpublished.PositionID] = in.Unpublished.Since
	}
	for _, m := range in.RoutedUnpublished {
		out[m.PositionID] = m.Since
	}
	return out
}

// positions: a mark made is a position unpublished; a mark cleared on an
// integration that still exists (the watch or a worker found the
// position again, or the customer saved the integration) is the position
// restored. A deleted integration's marks go with it, untold.
func (p *problems) positions(was, is map[string]types.AttributeValue, now time.Time) {
	var a, b store.Integration
	_ = attributevalue.UnmarshalMap(was, &a)
	_ = attributevalue.UnmarshalMap(is, &b)
	before, after := marks(a), marks(b)
	for _, pos := range sortedPositions(after) {
		if since, ok := before[pos]; !ok || !since.Equal(after[pos]) {
			p.add(outbound.PositionEvent(outbound.PositionUnpublished, b, pos, after[pos], after[pos], ""),
				fmt.Sprintf("%s's position %d unpublished since %s", b.FunnelID, pos, after[pos].Format("15:04:05.000")), now)
		}
	}
	for _, pos := range sortedPositions(before) {
		if since, ok := after[pos]; !ok || !since.Equal(before[pos]) {
			p.add(outbound.PositionEvent(outbound.PositionRestored, a, pos, before[pos], now, ""),
				fmt.Sprintf("%s's position %d restored (unpublished since %s)", a.FunnelID, pos, before[pos].Format("15:04:05.000")), now)
		}
	}
}

func sortedPositions(m map[int64]time.Time) []int64 {
	out := make([]int64, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// delivery: a record that comes to failed or dead is a problem of its
// failing attempt (its number: the attempts recorded before it).
func (p *problems) delivery(pk, sk string, was, is map[string]types.AttributeValue, now time.Time) {
	var a, b struct {
		Status   lifecycle.Status `dynamodbav:"status"`
		FunnelID string           `dynamodbav:"funnel_id"`
		Attempts []store.Attempt  `dynamodbav:"attempts"`
	}
	if was != nil {
		_ = attributevalue.UnmarshalMap(was, &a)
	}
	_ = attributevalue.UnmarshalMap(is, &b)
	if a.Status == b.Status {
		return
	}
	t := outbound.DeliveryType(b.Status)
	if t == "" {
		return
	}
	id := strings.TrimPrefix(sk, "DELIVERY#")
	p.add(outbound.DeliveryEvent(t, strings.TrimPrefix(pk, "WS#"), b.FunnelID, id, len(b.Attempts)-1, "", now),
		fmt.Sprintf("%s %s at its attempt %d", id, b.Status, len(b.Attempts)), now)
}

// oneEvent holds "one problem, one outbound event" after a step: every
// event on the outbound queue is of a problem that happened (its id the
// one the problem names, so that copies share it).
func (w *world) oneEvent() []string {
	for _, e := range w.notify.sent[w.problems.checked:] {
		if p, ok := w.problems.byID[e.ID]; !ok || p.typ != e.Type {
			w.problems.untold = append(w.problems.untold, fmt.Sprintf("one problem, one outbound event: an event %s (%s, workspace %s, connection %q, funnel %q, delivery %q) of no problem that happened",
				e.ID, e.Type, e.WorkspaceID, e.ConnectionID, e.FunnelID, e.DeliveryID))
		}
	}
	w.problems.checked = len(w.notify.sent)
	return w.problems.untold
}

// toldEvery holds it at the end of a settled run: every problem that
// happened has its event on the outbound queue.
func (w *world) toldEvery() []string {
	sent := map[string]bool{}
	for _, e := range w.notify.sent {
		sent[e.ID] = true
	}
	var v []string
	for _, id := range w.problems.order {
		if p := w.problems.byID[id]; !sent[id] {
			v = append(v, fmt.Sprintf("one problem, one outbound event: %s at %s has no %s event (%s)", p.what, p.at.Format("15:04:05.000"), p.typ, id))
		}
	}
	return v
}
