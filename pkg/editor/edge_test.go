package editor_test

import (
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/application"
)

// TestTestEventAsSent: the test endpoint queues the editor's event as it
// was written — "<", ">" and "&" not turned into \u003c escapes six times
// their size — and an event that grows past the queue's limit when
// decoded (each invalid UTF-8 byte becomes a three-byte U+FFFD) is
// refused, leaving neither a record without a message nor anything else.
func TestTestEventAsSent(t *testing.T) {
	e := setup(t)
	conn := e.connect(t, ws)
	e.integrate(t, ws, "fn_1", conn, true)
	answer := func(v string) string {
		return `{"event":{"contact":{"first_name":"Eve","last_name":"Tester","email":"eve@example.com"},` +
			`"answers":[{"field_id":"q_note","type":"text","value":"` + v + `"}]}}`
	}
	// 50,000 "<" are 50 kB as written, 300 kB escaped.
	r := e.call(t, ws, advanced, "POST", "/v1/funnels/fn_1/integration/test", answer("<b>Tom & Jerry</b>"+strings.Repeat("<", 50_000)), nil)
	if r.status != 202 {
		t.Fatalf("a test event with markup: %d %.300s", r.status, r.raw)
	}
	msgs, err := e.queue.Receive(t.Context(), 10, time.Second)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("queue: %d messages, %v", len(msgs), err)
	}
	if body := string(msgs[0].Body); !strings.Contains(body, "<b>Tom & Jerry</b>") || len(body) > application.MaxEventSize {
		t.Errorf("the queued event is re-escaped (%d bytes): %.200s", len(body), body)
	}
	_ = e.queue.Delete(t.Context(), msgs[0].ReceiptHandle)

	// Four answers of 30,000 invalid bytes: 120 kB as sent, 360 kB decoded.
	invalid := strings.Repeat("\xff", 30_000)
	r = e.call(t, ws, advanced, "POST", "/v1/funnels/fn_1/integration/test", `{"event":{"contact":{"first_name":"Eve","last_name":"Tester","email":"eve@example.com"},`+
		`"answers":[{"field_id":"a","type":"text","value":"`+invalid+`"},{"field_id":"b","type":"text","value":"`+invalid+`"},`+
		`{"field_id":"c","type":"text","value":"`+invalid+`"},{"field_id":"d","type":"text","value":"`+invalid+`"}]}}`, nil)
	if r.status != 422 || !strings.Contains(r.raw, "as the queue takes it") {
		t.Errorf("an event past the queue's limit once decoded: %d %.300s", r.status, r.raw)
	}
	list := e.call(t, ws, advanced, "GET", "/v1/funnels/fn_1/deliveries", nil, nil)
	if n := len(list.body["deliveries"].([]any)); n != 1 {
		t.Errorf("%d delivery records, want the first test's only", n)
	}
	if msgs, _ := e.queue.Receive(t.Context(), 10, 0); len(msgs) != 0 {
		t.Errorf("%d messages queued by the refused test", len(msgs))
	}
}

// TestCompanyIDInOneForm: Personio's Company ID is an integer, so "042"
// is company 42: the connection is checked and saved as 42, and its
// deliveries share company 42's budget with every other connection to it.
func TestCompanyIDInOneForm(t *testing.T) {
	e := setup(t)
	r := e.call(t, ws, advanced, "POST", "/v1/connections", map[string]any{"name": "Acme", "company_id": "042", "access_token": "sandbox-token-42"}, nil)
	if r.status != 201 || r.body["company_id"] != "42" {
		t.Fatalf("create with 042: %d %s", r.status, r.raw)
	}
	id, _ := r.body["id"].(string)
	r = e.call(t, ws, advanced, "PUT", "/v1/connections/"+id+"/credentials", map[string]any{"company_id": "0042", "access_token": "sandbox-token-42"}, nil)
	if r.status != 200 || r.body["company_id"] != "42" {
		t.Errorf("replace with 0042: %d %s", r.status, r.raw)
	}
	if got, err := e.store.GetConnection(t.Context(), ws, id); err != nil || got.CompanyID != "42" {
		t.Errorf("stored: %q, %v", got.CompanyID, err)
	}
}
