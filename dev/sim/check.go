package sim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
)

func queueMessage(ws, id string, body []byte) queue.Message {
	return queue.Message{ID: id, Group: ws, Body: body}
}

// record is what the checks read of a delivery record, straight from the
// table (no gate: checks are not steps).
type record struct {
	EventID     string           `dynamodbav:"event_id"`
	Status      lifecycle.Status `dynamodbav:"status"`
	ReasonCode  lifecycle.Reason `dynamodbav:"reason_code"`
	ClaimOwner  string           `dynamodbav:"claim_owner"`
	ClaimUntil  int64            `dynamodbav:"claim_until"`
	ParkedPK    string           `dynamodbav:"parked_pk"`
	EmailHashes []string         `dynamodbav:"email_hashes,stringset"`
}

type idRecord struct {
	id string
	record
}

// records are the table's delivery records, by event id.
func (w *world) records() []idRecord { return recordsOf(w.db.Items(table)) }

// recordsOf are the delivery records among a table's items.
func recordsOf(items []map[string]types.AttributeValue) []idRecord {
	var out []idRecord
	for _, it := range items {
		sk, _ := it["sk"].(*types.AttributeValueMemberS)
		if sk == nil || !strings.HasPrefix(sk.Value, "DELIVERY#") {
			continue
		}
		var r record
		_ = attributevalue.UnmarshalMap(it, &r)
		out = append(out, idRecord{id: strings.TrimPrefix(sk.Value, "DELIVERY#"), record: r})
	}
	return out
}

// byID are the table's delivery records by event id, read once.
func (w *world) byID() map[string]record {
	out := map[string]record{}
	for _, r := range w.records() {
		out[r.id] = r.record
	}
	return out
}

func (w *world) record(id string) (record, bool) {
	r, ok := w.tv.records[id]
	return r, ok
}

// applied counts Personio's applications by the event id each carries as
// a tag, and notes when each arrived.
func (w *world) applied() map[string][]string {
	w.pv.refresh(w.sandbox, w.net.served, w.companies())
	return w.pv.byEvent
}

// checkStep holds the invariants that hold after every step. It reads
// the views (tableView, personioView), not the table: a step costs a few
// lookups.
func (w *world) checkStep() []string {
	w.pv.refresh(w.sandbox, w.net.served, w.companies())
	v := append([]string(nil), w.pv.twice...)
	for _, e := range w.ledger.erasures {
		for _, a := range w.pv.apps {
			ev := eventOf(a.Application.Tags)
			if a.Application.Email == email(e.applicant) && a.ReceivedAt.After(e.at) && !e.inFlight[ev] {
				v = append(v, fmt.Sprintf("an erasure is final: %s of applicant %d reached Personio at %s, after the erasure answered at %s",
					ev, e.applicant, a.ReceivedAt.Format("15:04:05.000"), e.at.Format("15:04:05.000")))
			}
		}
		v = append(v, w.recordsHolding(e)...)
		v = append(v, w.itemsHolding(e)...)
	}
	v = append(v, w.mappingInForce()...)
	v = append(v, w.liveness()...)
	v = append(v, w.isolated()...)
	v = append(v, w.deniedList...)
	v = append(v, w.oneEvent()...)
	if w.pv.limit != "" {
		v = append(v, w.pv.limit)
	}
	return v
}

// recordsHolding finds the records that hold the erased applicant's
// address hash, but those of the deliveries in flight at the erasure's
// answer.
func (w *world) recordsHolding(e erasure) []string {
	var v []string
	for id := range w.tv.hashes[e.hash] {
		if !e.inFlight[id] {
			v = append(v, fmt.Sprintf("an erasure is final: the record of %s holds applicant %d's address after the erasure answered", id, e.applicant))
		}
	}
	slices.Sort(v)
	return v
}

// itemsHolding finds the items of the erased applicant's events (its
// record, its kept event: the only items an address of theirs can be in)
// that still hold the erased address as text, but those of the deliveries
// in flight at the erasure's answer.
func (w *world) itemsHolding(e erasure) []string {
	var v []string
	for id, n := range w.ledger.accepted {
		if n != e.applicant || e.inFlight[id] {
			continue
		}
		for _, k := range w.tv.items[id] {
			if holds(k.it, e.address) {
				sk, _ := k.it["sk"].(*types.AttributeValueMemberS)
				v = append(v, fmt.Sprintf("an erasure is final: the item %s holds the erased address of applicant %d as text", sk.Value, e.applicant))
			}
		}
	}
	slices.Sort(v)
	return v
}

// holds reports whether an attribute value holds text as a substring.
func holds(it map[string]types.AttributeValue, text string) bool {
	for _, av := range it {
		switch x := av.(type) {
		case *types.AttributeValueMemberS:
			if strings.Contains(x.Value, text) {
				return true
			}
		case *types.AttributeValueMemberB:
			if strings.Contains(string(x.Value), text) {
				return true
			}
		case *types.AttributeValueMemberM:
			if holds(x.Value, text) {
				return true
			}
		case *types.AttributeValueMemberL:
			for _, el := range x.Value {
				if holds(map[string]types.AttributeValue{"": el}, text) {
					return true
				}
			}
		}
	}
	return false
}

// mappingInForce: an application of an event first accepted after the
// integration was created again is mapped by the new mapping (a cache of
// the deleted integration's mapping does not outlive it).
func (w *world) mappingInForce() []string {
	if w.ledger.recreatedAt.IsZero() {
		return nil
	}
	var v []string
	for _, a := range w.pv.apps {
		id := eventOf(a.Application.Tags)
		at, ok := w.ledger.acceptedAt[id]
		if !ok || w.tenantOf(id) != w.tenants[0] || !at.After(w.ledger.recreatedAt) || a.Application.LastName == recreatedLastName {
			continue
		}
		v = append(v, fmt.Sprintf("the mapping in force: %s, accepted at %s after the integration was created again at %s, reached Personio mapped by the deleted integration's mapping",
			id, at.Format("15:04:05.000"), w.ledger.recreatedAt.Format("15:04:05.000")))
	}
	return v
}

func eventOf(tags []string) string {
	for _, t := range tags {
		if strings.HasPrefix(t, "evt_") {
			return t
		}
	}
	return ""
}

// checkEnd holds the invariants of a settled run.
func (w *world) checkEnd() []string {
	v := w.checkStep()
	if why := w.tv.faithful(w.db.Items(table)); why != "" {
		v = append(v, "the simulator's view of the table: "+why)
	}
	v = append(v, w.isolatedTable()...)
	v = append(v, w.toldEvery()...)
	apps, records := w.applied(), w.byID()
	for _, id := range sortedKeys(w.ledger.accepted) {
		n := w.ledger.accepted[id]
		if w.erased(n) {
			continue
		}
		r, ok := records[id]
		switch {
		case !ok:
			v = append(v, "nothing accepted is lost: "+id+" has no record")
			continue
		case r.Status == lifecycle.StatusParked:
			why := w.causeGone(w.tenantOf(id), r)
			if why == "" {
				// Parked on a cause that holds: not at rest; what it
				// says of Personio is settled when it goes on (an
				// answer lost before the park is found then).
				continue
			}
			v = append(v, fmt.Sprintf("nothing accepted is lost: %s is parked (%s), but %s", id, r.ReasonCode, why))
		case !r.Status.Terminal():
			v = append(v, fmt.Sprintf("nothing accepted is lost: %s rests %s", id, r.Status))
		}
		there := len(apps[id]) > 0
		switch {
		case r.Status == lifecycle.StatusDelivered && !there:
			v = append(v, fmt.Sprintf("the record says what Personio has: %s is recorded delivered, Personio has no application", id))
		case there && r.Status != lifecycle.StatusDelivered && r.Status != lifecycle.StatusUnconfirmed &&
			!(r.Status == lifecycle.StatusDead && r.ReasonCode == lifecycle.ReasonExhaustedUnknown):
			v = append(v, fmt.Sprintf("the record says what Personio has: Personio has %s's application, the record says %s (%s)", id, r.Status, r.ReasonCode))
		}
	}
	return append(v, w.filesAttached()...)
}

// filesAttached: every application at Personio carries each file of its
// event (the file host fails only for a while, and Personio takes every
// file the simulator sends; the sandbox refuses a create that names a
// document its company does not have).
func (w *world) filesAttached() []string {
	var v []string
	for _, a := range w.pv.apps {
		id := eventOf(a.Application.Tags)
		if want, got := w.ledger.files[id], len(a.Application.Files); got != want {
			v = append(v, fmt.Sprintf("files: the application of %s at Personio carries %d files, its event %d", id, got, want))
		}
	}
	return v
}

// causeGone says why a parked delivery's cause no longer holds ("" if it
// does).
func (w *world) causeGone(t *tenant, r record) string {
	if strings.HasSuffix(r.ParkedPK, "#POSITION") {
		if !t.unpublished {
			return "the position is published again"
		}
		return ""
	}
	st, _ := w.sandbox.Token(t.company)
	if string(w.vault.tokens[t.ws+"/"+t.conn]) == st.Token {
		return "the connection's credentials work"
	}
	return ""
}

func (w *world) erased(n int) bool {
	for _, e := range w.ledger.erasures {
		if e.applicant == n {
			return true
		}
	}
	return false
}

// outcomes counts the records by status.
func (w *world) outcomes(out map[string]int) {
	for _, r := range w.records() {
		out[string(r.Status)]++
	}
	out["lost_answers"] = w.net.lost
	out["outbound_events"] = len(w.notify.sent)
	if w.ledger.resent > 0 {
		out["resent"] = w.ledger.resent
	}
	if w.ledger.replayed > 0 {
		out["replayed"] = w.ledger.replayed
	}
	if w.ledger.alarms > 0 {
		out["alarm_redrives"] = w.ledger.alarms
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
