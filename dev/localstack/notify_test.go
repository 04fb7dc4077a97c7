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
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/webhook"
)

// notifyStack is a local stack whose outbound events are tried again
// within a second or two, and whose watch runs only when a test runs it
// (every position and connection due at every run).
func notifyStack(t *testing.T, logs *testenv.Buffer) (*localstack.Stack, attacker, string) {
	t.Helper()
	cfg := testenv.LocalStack(t, logs)
	// A backlog of 50 fits one window of company 42's budget.
	cfg.Sandbox.RateLimit = 100
	cfg.Adjust = func(s *settings.Settings) {
		s.Budget.Limit, s.GlobalLimit = 100, 11*100 // the global budget's slots hold the largest application
		s.NotifyRetryBase, s.NotifyRetryMax = time.Second, 2*time.Second
		s.WatchTick, s.WatchInterval, s.HealthInterval = time.Hour, time.Hour, time.Hour
	}
	st, err := localstack.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	owner, _ := st.Auth.Mint("ws_a", "advanced", time.Hour)
	return st, attacker{t: t, api: st.URL}, owner
}

// integrate connects ws_a to company 42 and switches fn_1 on, at position
// 1001, with the career site acme (or none).
func integrate(t *testing.T, a attacker, owner, careerSite string) string {
	t.Helper()
	code, body := a.do(owner, "POST", "/v1/connections", `{"name":"Acme","company_id":"42","access_token":"sandbox-token-42"}`)
	var conn struct{ ID string }
	if code != 201 || json.Unmarshal([]byte(body), &conn) != nil {
		t.Fatalf("connect: %d %s", code, body)
	}
	site := ""
	if careerSite != "" {
		site = `,"career_site":"` + careerSite + `"`
	}
	mapping := `{"version":1,"required":{"first_name":{"source":"contact.first_name"},"last_name":{"source":"contact.last_name"},"email":{"source":"contact.email"}}}`
	if code, body := a.do(owner, "PUT", "/v1/funnels/fn_1/integration", `{"connection_id":"`+conn.ID+`","job_position_id":1001,"enabled":true,"mapping":`+mapping+site+`}`); code != 201 {
		t.Fatalf("integrate: %d %s", code, body)
	}
	return conn.ID
}

// send signs and posts n events for ws_a's fn_1.
func send(t *testing.T, a attacker, prefix string, n int) []string {
	var ids []string
	for i := range n {
		id := fmt.Sprintf("evt_%s%03d", prefix, i)
		ev := applicationEvent(id, fmt.Sprintf("%s%03d@example.com", prefix, i), "")
		if code := a.event(sign(t, localstack.DevWebhookSecret, "msg_"+id, time.Now(), ev), ev); code != 202 {
			t.Fatalf("ingest %s: %d", id, code)
		}
		ids = append(ids, id)
	}
	return ids
}

// statuses counts the deliveries' statuses.
func statuses(a attacker, owner string, ids []string) map[string]int {
	out := map[string]int{}
	for _, id := range ids {
		_, body := a.do(owner, "GET", "/v1/funnels/fn_1/deliveries/"+id, "")
		var d struct{ Status string }
		_ = json.Unmarshal([]byte(body), &d)
		out[d.Status]++
	}
	return out
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); !cond(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
	}
}

// ofType are the received events of a type, and how many arrived under
// each webhook-id.
func ofType(st *localstack.Stack, typ outbound.Type) ([]localstack.ReceivedNotification, map[string]int) {
	var out []localstack.ReceivedNotification
	ids := map[string]int{}
	for _, n := range st.Notifications() {
		if n.Event.Type == typ {
			out = append(out, n)
			ids[n.WebhookID]++
		}
	}
	return out, ids
}

// noApplicantData fails the test when an outbound event holds an applicant's
// name or e-mail address.
func noApplicantData(t *testing.T, st *localstack.Stack) {
	t.Helper()
	for _, n := range st.Notifications() {
		for _, leak := range []string{"@example.com", "Eve", "Mallory"} {
			if strings.Contains(string(n.Body), leak) {
				t.Errorf("an outbound event holds %q: %s", leak, n.Body)
			}
		}
	}
}

// TestConnectionBreaksUnderBacklog: the customer regenerates the token in
// Personio while 50 applications wait: exactly one
// connection.needs_attention goes out (signed, verifiable with the
// outbound secret, in English and German, no applicant data), the
// applications park; new credentials: exactly one connection.restored,
// and all 50 are delivered.
func TestConnectionBreaksUnderBacklog(t *testing.T) {
	logs := &testenv.Buffer{}
	st, a, owner := notifyStack(t, logs)
	conn := integrate(t, a, owner, "")
	token := st.Sandbox.RotateToken("42")
	ids := send(t, a, "backlog", 50)
	waitFor(t, 60*time.Second, "50 parked", func() bool { return statuses(a, owner, ids)["parked"] == 50 })
	waitFor(t, 20*time.Second, "needs_attention sent", func() bool { got, _ := ofType(st, outbound.ConnectionNeedsAttention); return len(got) > 0 })
	code, _ := a.do(owner, "PUT", "/v1/connections/"+conn+"/credentials", `{"company_id":"42","access_token":"`+token+`"}`)
	if code != 200 {
		t.Fatalf("new credentials: %d", code)
	}
	waitFor(t, 120*time.Second, "50 delivered", func() bool { return statuses(a, owner, ids)["delivered"] == 50 })
	waitFor(t, 20*time.Second, "restored sent", func() bool { got, _ := ofType(st, outbound.ConnectionRestored); return len(got) > 0 })
	time.Sleep(2 * time.Second) // anything more would be here by now
	broken, brokenIDs := ofType(st, outbound.ConnectionNeedsAttention)
	restored, restoredIDs := ofType(st, outbound.ConnectionRestored)
	if len(brokenIDs) != 1 || len(restoredIDs) != 1 || len(broken) != 1 || len(restored) != 1 {
		t.Errorf("needs_attention %d (%d ids), restored %d (%d ids); want one each", len(broken), len(brokenIDs), len(restored), len(restoredIDs))
	}
	e := broken[0].Event
	if e.WorkspaceID != "ws_a" || e.ConnectionID != conn || e.ReasonCode == "" || e.Message == nil || e.Message.EN == "" || e.Message.DE == "" {
		t.Errorf("needs_attention: %+v", e)
	}
	if restored[0].Event.ConnectionID != conn {
		t.Errorf("restored: %+v", restored[0].Event)
	}
	// The receiver accepted them only with a valid signature; check it
	// once more with the outbound secret alone.
	if _, err := webhook.NewVerifier([]string{localstack.DevOutboundSecret}); err != nil {
		t.Fatal(err)
	}
	noApplicantData(t, st)
	for _, leak := range []string{"backlog001@example.com", token} {
		if strings.Contains(logs.String(), leak) {
			t.Errorf("a log line holds %q", leak)
		}
	}
}

// TestPositionWatch: position 1001 is unpublished in Personio: the watch
// finds it on its next run, the integration shows it, the event goes out,
// and new applications are parked, not failed; published again: the
// watch finds that, the restored event goes out, and the parked ones are
// delivered.
func TestPositionWatch(t *testing.T) {
	st, a, owner := notifyStack(t, &testenv.Buffer{})
	integrate(t, a, owner, "acme")
	if r, err := st.Watch.Run(context.Background()); err != nil || r.PositionsChecked != 1 || r.Unpublished != 0 {
		t.Fatalf("first run: %+v, %v", r, err)
	}
	st.Sandbox.SetPublished("42", 1001, false)
	if r, err := st.Watch.Run(context.Background()); err != nil || r.Unpublished != 1 {
		t.Fatalf("run after unpublishing: %+v, %v", r, err)
	}
	_, body := a.do(owner, "GET", "/v1/funnels/fn_1/integration", "")
	if !strings.Contains(body, `"kind":"position_unpublished"`) {
		t.Errorf("the integration does not show it: %s", body)
	}
	waitFor(t, 20*time.Second, "position_unpublished sent", func() bool { got, _ := ofType(st, outbound.PositionUnpublished); return len(got) == 1 })
	asked := len(st.Sandbox.Requests("42"))
	ids := send(t, a, "closed", 3)
	waitFor(t, 30*time.Second, "3 parked", func() bool { return statuses(a, owner, ids)["parked"] == 3 })
	if n := len(st.Sandbox.Requests("42")) - asked; n != 0 {
		t.Errorf("%d requests reached Personio for a position known to be unpublished", n)
	}
	st.Sandbox.SetPublished("42", 1001, true)
	if r, err := st.Watch.Run(context.Background()); err != nil || r.Republished != 1 || r.Resumed != 3 {
		t.Fatalf("run after publishing again: %+v, %v", r, err)
	}
	waitFor(t, 60*time.Second, "3 delivered", func() bool { return statuses(a, owner, ids)["delivered"] == 3 })
	waitFor(t, 20*time.Second, "position_restored sent", func() bool { got, _ := ofType(st, outbound.PositionRestored); return len(got) == 1 })
	_, body = a.do(owner, "GET", "/v1/funnels/fn_1/integration", "")
	if strings.Contains(body, "position_unpublished") {
		t.Errorf("the integration still shows the issue: %s", body)
	}
	noApplicantData(t, st)
}

// TestPositionLearntFromPersonio: an integration without a career site
// learns that its position is unpublished from Personio's answer: the
// application is parked (not failed), the event goes out once, the next
// applications park without asking Personio; saving the integration with
// another position sends them on.
func TestPositionLearntFromPersonio(t *testing.T) {
	st, a, owner := notifyStack(t, &testenv.Buffer{})
	conn := integrate(t, a, owner, "")
	st.Sandbox.SetPublished("42", 1001, false)
	first := send(t, a, "first", 1)
	waitFor(t, 30*time.Second, "parked", func() bool { return statuses(a, owner, first)["parked"] == 1 })
	more := send(t, a, "more", 3)
	waitFor(t, 30*time.Second, "3 more parked", func() bool { return statuses(a, owner, more)["parked"] == 3 })
	if n := len(st.Sandbox.Requests("42")); n != 2 { // the credential check and the one application
		t.Errorf("%d requests reached Personio, want 2", n)
	}
	waitFor(t, 20*time.Second, "position_unpublished sent", func() bool { got, _ := ofType(st, outbound.PositionUnpublished); return len(got) == 1 })
	st.Sandbox.SetPublished("42", 1002, true)
	_, body := a.do(owner, "GET", "/v1/funnels/fn_1/integration", "")
	var in struct{ Version int64 }
	_ = json.Unmarshal([]byte(body), &in)
	b := attacker{t: t, api: st.URL, ifMatch: fmt.Sprintf(`"v%d"`, in.Version)}
	mapping := `{"version":1,"required":{"first_name":{"source":"contact.first_name"},"last_name":{"source":"contact.last_name"},"email":{"source":"contact.email"}}}`
	if code, body := b.do(owner, "PUT", "/v1/funnels/fn_1/integration", `{"connection_id":"`+conn+`","job_position_id":1002,"enabled":true,"mapping":`+mapping+`}`); code != 200 {
		t.Fatalf("another position: %d %s", code, body)
	}
	all := append(first, more...)
	waitFor(t, 60*time.Second, "4 delivered", func() bool { return statuses(a, owner, all)["delivered"] == 4 })
	waitFor(t, 20*time.Second, "position_restored sent", func() bool { got, _ := ofType(st, outbound.PositionRestored); return len(got) == 1 })
}

// TestReceiverDown: the platform's endpoint is down while deliveries fail
// for good; when it is up again every event arrives, none twice by id.
func TestReceiverDown(t *testing.T) {
	st, a, owner := notifyStack(t, &testenv.Buffer{})
	integrate(t, a, owner, "")
	st.SetReceiverDown(true)
	// Applications Personio refuses for good: the same applicant twice
	// for one position (the second is a duplicate).
	twice := applicationEvent("evt_twice_a", "twice@example.com", "")
	if code := a.event(sign(t, localstack.DevWebhookSecret, "msg_ta", time.Now(), twice), twice); code != 202 {
		t.Fatal(code)
	}
	waitFor(t, 30*time.Second, "first delivered", func() bool { return statuses(a, owner, []string{"evt_twice_a"})["delivered"] == 1 })
	var ids []string
	for i := range 3 {
		id := fmt.Sprintf("evt_twice_%d", i)
		ev := applicationEvent(id, "twice@example.com", "")
		if code := a.event(sign(t, localstack.DevWebhookSecret, "msg_"+id, time.Now(), ev), ev); code != 202 {
			t.Fatal(code)
		}
		ids = append(ids, id)
	}
	waitFor(t, 30*time.Second, "3 failed", func() bool { return statuses(a, owner, ids)["failed"] == 3 })
	time.Sleep(5 * time.Second) // the notifier tries and is refused, again and again
	if got, _ := ofType(st, outbound.DeliveryFailed); len(got) != 0 {
		t.Fatalf("the receiver was down, yet %d arrived", len(got))
	}
	st.SetReceiverDown(false)
	waitFor(t, 60*time.Second, "3 delivery.failed", func() bool { _, byID := ofType(st, outbound.DeliveryFailed); return len(byID) == 3 })
	time.Sleep(3 * time.Second)
	got, byID := ofType(st, outbound.DeliveryFailed)
	for id, n := range byID {
		if n != 1 {
			t.Errorf("%s arrived %d times", id, n)
		}
	}
	seen := map[string]bool{}
	for _, n := range got {
		seen[n.Event.DeliveryID] = true
	}
	for _, id := range ids {
		if !seen[id] {
			t.Errorf("no delivery.failed for %s", id)
		}
	}
	noApplicantData(t, st)
}
