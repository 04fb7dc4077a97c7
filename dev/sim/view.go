package sim

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
)

// tableView is the checks' view of the table, kept up to date from every
// write memdb makes (memdb.Watch) instead of read whole after each step:
// the delivery records decoded, the items by the event id their sort key
// ends in, and which records hold which address hash. checkEnd holds it
// to the table (a view that missed a write is a violation).
type tableView struct {
	records map[string]record
	// items are, by the id their sort key ends in, the items with that
	// id, in key order.
	items map[string][]keyed
	// hashes are, by address hash, the records holding it.
	hashes map[string]map[string]bool
}

type keyed struct {
	key string
	it  map[string]types.AttributeValue
}

func newTableView() *tableView {
	return &tableView{records: map[string]record{}, items: map[string][]keyed{}, hashes: map[string]map[string]bool{}}
}

// idOf is the id an item's sort key ends in (an event id for an event's
// items).
func idOf(sk string) string { return sk[strings.LastIndex(sk, "#")+1:] }

// item is the item of key pk, sk as the view holds it (nil: none).
func (v *tableView) item(pk, sk string) map[string]types.AttributeValue {
	key, list := pk+"\x00"+sk, v.items[idOf(sk)]
	if i, found := slices.BinarySearchFunc(list, key, func(k keyed, key string) int { return strings.Compare(k.key, key) }); found {
		return list[i].it
	}
	return nil
}

// wrote takes one write of memdb's (it nil: deleted).
func (v *tableView) wrote(tbl, pk, sk string, it map[string]types.AttributeValue) {
	if tbl != table {
		return
	}
	id, key := idOf(sk), pk+"\x00"+sk
	list := v.items[id]
	i, found := slices.BinarySearchFunc(list, key, func(k keyed, key string) int { return strings.Compare(k.key, key) })
	switch {
	case it == nil && found:
		list = slices.Delete(list, i, i+1)
	case it != nil && found:
		list[i].it = it
	case it != nil:
		list = slices.Insert(list, i, keyed{key: key, it: it})
	}
	v.items[id] = list
	if strings.HasPrefix(sk, "DELIVERY#") {
		v.record(id, it)
	}
}

// record takes a write of a delivery record.
func (v *tableView) record(id string, it map[string]types.AttributeValue) {
	for _, h := range v.records[id].EmailHashes {
		delete(v.hashes[h], id)
	}
	if it == nil {
		delete(v.records, id)
		return
	}
	var r record
	_ = attributevalue.UnmarshalMap(it, &r)
	v.records[id] = r
	for _, h := range r.EmailHashes {
		if v.hashes[h] == nil {
			v.hashes[h] = map[string]bool{}
		}
		v.hashes[h][id] = true
	}
}

// faithful compares the view with the table's items: "" if it holds
// every item as the table does.
func (v *tableView) faithful(items []map[string]types.AttributeValue) string {
	n := 0
	for _, list := range v.items {
		n += len(list)
	}
	if n != len(items) {
		return fmt.Sprintf("the view holds %d items, the table %d", n, len(items))
	}
	for _, it := range items {
		pk, _ := it["pk"].(*types.AttributeValueMemberS)
		sk, _ := it["sk"].(*types.AttributeValueMemberS)
		if pk == nil || sk == nil {
			return "an item without a string key"
		}
		key := pk.Value + "\x00" + sk.Value
		list := v.items[idOf(sk.Value)]
		i, found := slices.BinarySearchFunc(list, key, func(k keyed, key string) int { return strings.Compare(k.key, key) })
		if !found || !reflect.DeepEqual(list[i].it, it) {
			return "the view's " + sk.Value + " is not the table's"
		}
	}
	return ""
}

// personioView is what the checks read of Personio, read again only
// after Personio served a request (personioNet.served).
type personioView struct {
	served int
	apps   []sandbox.Received
	// byEvent are the applications by the event id each carries as a
	// tag, each noted by when it arrived.
	byEvent map[string][]string
	// requests is how many of each company's requests at Personio are
	// looked at.
	requests map[string]int
	// twice and limit are the violations of "nothing twice" and of
	// Personio's limits seen so far.
	twice []string
	limit string
}

// refresh reads Personio again if it served a request since the last
// read.
func (p *personioView) refresh(sb *sandbox.Sandbox, served int, companies []string) {
	if served == p.served && p.byEvent != nil {
		return
	}
	p.served = served
	p.apps = p.apps[:0]
	for _, c := range companies {
		p.apps = append(p.apps, sb.Applications(c)...)
	}
	p.byEvent = map[string][]string{}
	for _, a := range p.apps {
		for _, t := range a.Application.Tags {
			if strings.HasPrefix(t, "evt_") {
				p.byEvent[t] = append(p.byEvent[t], a.ReceivedAt.Format("15:04:05.000")+" "+a.Application.Email)
			}
		}
	}
	p.twice = p.twice[:0]
	for _, id := range sortedKeys(p.byEvent) {
		if n := len(p.byEvent[id]); n > 1 {
			p.twice = append(p.twice, fmt.Sprintf("nothing twice: %s reached Personio %d times (%s)", id, n, strings.Join(p.byEvent[id], ", ")))
		}
	}
	if p.requests == nil {
		p.requests = map[string]int{}
	}
	for _, c := range companies {
		reqs := sb.Requests(c)
		for _, r := range reqs[p.requests[c]:] {
			if r.Status == 429 && p.limit == "" {
				p.limit = fmt.Sprintf("Personio's limits: a request of company %s at %s was answered 429", c, r.At.Format("15:04:05.000"))
			}
		}
		p.requests[c] = len(reqs)
	}
}
