package localstack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
)

// routedEvent is ws_a's fn_1 event of email answering q_position with
// answer.
func routedEvent(id, email, answer string) []byte {
	return []byte(fmt.Sprintf(`{"type":"application.submitted","id":%q,"occurred_at":%q,"workspace_id":"ws_a","funnel_id":"fn_1","contact":{"first_name":"Eve","last_name":"Mallory","email":%q},"answers":[{"field_id":"q_position","label":"Position","type":"choice","value":%q}]}`,
		id, time.Now().UTC().Format(time.RFC3339), email, answer))
}

// sendRouted posts routed events (id → answer) and returns their ids.
func sendRouted(t *testing.T, a attacker, answers map[string]string) []string {
	t.Helper()
	var ids []string
	for id, answer := range answers {
		ev := routedEvent(id, strings.TrimPrefix(id, "evt_")+"@example.com", answer)
		if code := a.event(sign(t, localstack.DevWebhookSecret, "msg_"+id, time.Now(), ev), ev); code != 202 {
			t.Fatalf("ingest %s: %d", id, code)
		}
		ids = append(ids, id)
	}
	return ids
}

// routedDelivery is what the delivery log says of one delivery.
type routedDelivery struct {
	Status         string `json:"status"`
	JobPositionID  int64  `json:"job_position_id"`
	PositionReason string `json:"position_reason"`
}

func routedLog(t *testing.T, a attacker, owner, id string) routedDelivery {
	t.Helper()
	_, body := a.do(owner, "GET", "/v1/funnels/fn_1/deliveries/"+id, "")
	var d routedDelivery
	if err := json.Unmarshal([]byte(body), &d); err != nil {
		t.Fatalf("delivery %s: %s", id, body)
	}
	return d
}

// TestRoutingByAnswer: on the local stack, fn_1 routes by q_position
// (Office Manager to 1001, Sales Manager (Hamburg) to 1003, the career
// site's two published positions; 1002, published for it, is the
// default). Three events answer with the two labels and with an unknown
// answer: one application arrives at each position, and the delivery log
// says which and why. 1003 unpublished: the watch marks it alone, only
// the application routed to it parks (the others keep flowing), and the
// platform hears which position; published again, it is delivered.
func TestRoutingByAnswer(t *testing.T) {
	st, a, owner := notifyStack(t, &testenv.Buffer{})
	st.Sandbox.SetPublished("42", 1002, true)
	conn := integrate(t, a, owner, "acme")
	_, body := a.do(owner, "GET", "/v1/funnels/fn_1/integration", "")
	var in struct{ Version int64 }
	_ = json.Unmarshal([]byte(body), &in)
	b := attacker{t: t, api: st.URL, ifMatch: fmt.Sprintf(`"v%d"`, in.Version)}
	mapping := `{"version":1,"required":{"first_name":{"source":"contact.first_name"},"last_name":{"source":"contact.last_name"},"email":{"source":"contact.email"}}}`
	routing := `{"source":"answers.q_position","positions":{"Office Manager":1001,"Sales Manager (Hamburg)":1003}}`
	if code, body := b.do(owner, "PUT", "/v1/funnels/fn_1/integration", `{"connection_id":"`+conn+`","job_position_id":1002,"enabled":true,"career_site":"acme","mapping":`+mapping+`,"position_routing":`+routing+`}`); code != 200 {
		t.Fatalf("save the routing: %d %s", code, body)
	}
	want := map[string]routedDelivery{
		"evt_office": {"delivered", 1001, "answer 'Office Manager' of q_position"},
		"evt_sales":  {"delivered", 1003, "answer 'Sales Manager (Hamburg)' of q_position"},
		"evt_other":  {"delivered", 1002, "default position"},
	}
	ids := sendRouted(t, a, map[string]string{"evt_office": "office manager", "evt_sales": "Sales Manager (Hamburg)", "evt_other": "Astronaut"})
	waitFor(t, 60*time.Second, "3 delivered", func() bool { return statuses(a, owner, ids)["delivered"] == 3 })
	for id, w := range want {
		if got := routedLog(t, a, owner, id); got != w {
			t.Errorf("%s: %+v, want %+v", id, got, w)
		}
	}
	perPosition := map[int64]int{}
	for _, r := range st.Sandbox.Applications("42") {
		perPosition[r.Application.JobPositionID]++
	}
	if len(perPosition) != 3 || perPosition[1001] != 1 || perPosition[1002] != 1 || perPosition[1003] != 1 {
		t.Errorf("applications per position: %v, want one each at 1001, 1002, 1003", perPosition)
	}

	st.Sandbox.SetPublished("42", 1003, false)
	if r, err := st.Watch.Run(context.Background()); err != nil || r.Unpublished != 1 {
		t.Fatalf("run after unpublishing 1003: %+v, %v", r, err)
	}
	_, body = a.do(owner, "GET", "/v1/funnels/fn_1/integration", "")
	if !strings.Contains(body, `"kind":"position_unpublished"`) || !strings.Contains(body, `"position_id":1003`) {
		t.Errorf("the integration does not name the unpublished 1003: %s", body)
	}
	waitFor(t, 20*time.Second, "position_unpublished sent", func() bool {
		got, _ := ofType(st, outbound.PositionUnpublished)
		return len(got) == 1 && got[0].Event.PositionID == 1003
	})
	parked := sendRouted(t, a, map[string]string{"evt_sales_2": "Sales Manager (Hamburg)"})
	flowing := sendRouted(t, a, map[string]string{"evt_office_2": "Office Manager", "evt_other_2": ""})
	waitFor(t, 60*time.Second, "the others delivered", func() bool { return statuses(a, owner, flowing)["delivered"] == 2 })
	waitFor(t, 30*time.Second, "the one for 1003 parked", func() bool { return statuses(a, owner, parked)["parked"] == 1 })

	st.Sandbox.SetPublished("42", 1003, true)
	if r, err := st.Watch.Run(context.Background()); err != nil || r.Republished != 1 || r.Resumed != 1 {
		t.Fatalf("run after publishing 1003 again: %+v, %v", r, err)
	}
	waitFor(t, 60*time.Second, "the parked one delivered", func() bool { return statuses(a, owner, parked)["delivered"] == 1 })
	if got := routedLog(t, a, owner, "evt_sales_2"); got.JobPositionID != 1003 {
		t.Errorf("evt_sales_2: %+v, want delivered to 1003", got)
	}
	waitFor(t, 20*time.Second, "position_restored sent", func() bool {
		got, _ := ofType(st, outbound.PositionRestored)
		return len(got) == 1 && got[0].Event.PositionID == 1003
	})
	noApplicantData(t, st)
}
