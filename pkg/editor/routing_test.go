package editor_test

import (
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// routingFunnel is a funnel whose q_position question picks the position.
var routingFunnel = map[string]any{"fields": []any{
	map[string]any{"id": "q_position", "type": "choice", "choices": []string{"Office Manager", "Sales Manager (Hamburg)", "Backend Engineer", "Other"}},
	map[string]any{"id": "q_cv", "type": "file"},
	map[string]any{"id": "q_gender", "type": "choice", "choices": []string{"Weiblich", "Männlich"}},
}}

func routedBody(conn string, positions map[string]any) map[string]any {
	return map[string]any{"connection_id": conn, "job_position_id": 1001, "mapping": defaultMapping, "enabled": true, "career_site": "acme",
		"funnel": routingFunnel, "position_routing": map[string]any{"source": "answers.q_position", "positions": positions}}
}

// TestRoutingSaved: a routing table between the feed's two published
// positions is saved and read back as sent.
func TestRoutingSaved(t *testing.T) {
	e := setup(t)
	conn := e.connect(t, ws)
	r := e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_1/integration", routedBody(conn, map[string]any{"Office Manager": 1001, "Sales Manager (Hamburg)": 1003}), nil)
	if r.status != 201 {
		t.Fatalf("save: %d %s", r.status, r.raw)
	}
	r = e.call(t, ws, advanced, "GET", "/v1/funnels/fn_1/integration", nil, nil)
	pr, _ := r.body["position_routing"].(map[string]any)
	if pr["source"] != "answers.q_position" || pr["positions"].(map[string]any)["Sales Manager (Hamburg)"] != float64(1003) {
		t.Fatalf("read back: %s", r.raw)
	}
	// As job_position_id, 1003.0 is 1003.
	r = e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_2/integration", `{"connection_id":"`+conn+`","job_position_id":1001,"mapping":{"version":1,`+
		`"required":{"first_name":{"source":"contact.first_name"},"last_name":{"source":"contact.last_name"},"email":{"source":"contact.email"}}},`+
		`"position_routing":{"source":"answers.q_position","positions":{"Sales":1003.0}}}`, nil)
	if r.status != 201 || !strings.Contains(r.raw, `"Sales":1003`) {
		t.Errorf("1003.0: %d %s", r.status, r.raw)
	}
}

// TestRoutingRefused: every problem of a routing table at once, each at
// its JSON pointer: an answer that is none of the question's choices, two
// answers alike, a position the career site's feed does not publish
// (1002) or does not know (9999).
func TestRoutingRefused(t *testing.T) {
	e := setup(t)
	conn := e.connect(t, ws)
	r := e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_1/integration", routedBody(conn, map[string]any{
		"Office Manager": 1001, " office manager": 1003, "Astronaut": 1003, "Backend Engineer": 1002, "Other": 9999}), nil)
	if r.status != 422 || r.problem() != "invalid-integration" {
		t.Fatalf("save: %d %s", r.status, r.raw)
	}
	got := map[string]string{}
	for _, x := range r.body["errors"].([]any) {
		m := x.(map[string]any)
		got[m["path"].(string)] += m["message"].(string) + "|"
	}
	for path, words := range map[string]string{
		"/position_routing/positions/Astronaut":        "none of the choices",
		"/position_routing/positions/Office Manager":   "match alike",
		"/position_routing/positions/Backend Engineer": "job position 1002 is not published in the career site's feed (acme)",
		"/position_routing/positions/Other":            "job position 9999 is not",
	} {
		if !strings.Contains(got[path], words) {
			t.Errorf("%s: %q, want %q (all: %v)", path, got[path], words, got)
		}
	}
	if len(got) != 4 {
		t.Errorf("%d paths, want 4: %v", len(got), got)
	}
	r = e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_1/integration", map[string]any{"connection_id": conn, "job_position_id": 1001, "mapping": defaultMapping,
		"funnel": routingFunnel, "position_routing": map[string]any{"source": "answers.q_cv", "positions": map[string]any{"x": 1003}}}, nil)
	if r.status != 422 || !strings.Contains(r.raw, "/position_routing/source") || !strings.Contains(r.raw, "file question") {
		t.Errorf("a file question as source: %d %s", r.status, r.raw)
	}
}

// TestRoutingTestAnswer: the test endpoint's answer goes into the test
// event as the routing question's answer; without routing it is refused.
func TestRoutingTestAnswer(t *testing.T) {
	e := setup(t)
	conn := e.connect(t, ws)
	if r := e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_1/integration", routedBody(conn, map[string]any{"Sales Manager (Hamburg)": 1003}), nil); r.status != 201 {
		t.Fatalf("save: %d %s", r.status, r.raw)
	}
	r := e.call(t, ws, advanced, "POST", "/v1/funnels/fn_1/integration/test", map[string]any{"answer": "Sales Manager (Hamburg)"}, nil)
	if r.status != 202 {
		t.Fatalf("test: %d %s", r.status, r.raw)
	}
	ev, err := e.store.Event(t.Context(), ws, r.body["delivery_id"].(string))
	if err != nil || !strings.Contains(string(ev), `"field_id":"q_position"`) || !strings.Contains(string(ev), `"value":"Sales Manager (Hamburg)"`) {
		t.Fatalf("test event: %s, %v", ev, err)
	}
	e.integrate(t, ws, "fn_2", conn, true)
	r = e.call(t, ws, advanced, "POST", "/v1/funnels/fn_2/integration/test", map[string]any{"answer": "Sales Manager (Hamburg)"}, nil)
	if r.status != 400 || !strings.Contains(r.raw, "/answer") {
		t.Errorf("an answer without routing: %d %s", r.status, r.raw)
	}
}

// TestRoutedPositionIssue: a routed position found unpublished is an open
// issue naming it; saving settles it with a position_restored event of
// that position.
func TestRoutedPositionIssue(t *testing.T) {
	rec := &testenv.Told{}
	e := setup(t, func(_ *env, o *options) { o.notify = rec })
	conn := e.connect(t, ws)
	if r := e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_1/integration", routedBody(conn, map[string]any{"Sales Manager (Hamburg)": 1003}), nil); r.status != 201 {
		t.Fatalf("save: %d %s", r.status, r.raw)
	}
	if ok, err := e.store.MarkRoutedPositionUnpublished(t.Context(), ws, "fn_1", 1003, time.Now()); err != nil || !ok {
		t.Fatalf("mark: %v %v", ok, err)
	}
	r := e.call(t, ws, advanced, "GET", "/v1/funnels/fn_1/integration", nil, nil)
	issues := r.body["issues"].([]any)
	if len(issues) != 1 || issues[0].(map[string]any)["position_id"] != float64(1003) || issues[0].(map[string]any)["kind"] != "position_unpublished" {
		t.Fatalf("issues: %s", r.raw)
	}
	if r := e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_1/integration", routedBody(conn, map[string]any{"Sales Manager (Hamburg)": 1003}),
		map[string]string{"If-Match": r.header["ETag"]}); r.status != 200 {
		t.Fatalf("save again: %d %s", r.status, r.raw)
	}
	if ev := rec.Take(); len(ev) != 1 || ev[0].Type != outbound.PositionRestored || ev[0].PositionID != 1003 {
		t.Errorf("events: %+v, want one position_restored of 1003", ev)
	}
}

// TestSaveResumesDroppedRoutedPosition: an application parked on a routed
// position (Personio's answer, its mark not written) goes on when a save
// drops the position from the table: nothing else would look at its list.
func TestSaveResumesDroppedRoutedPosition(t *testing.T) {
	e := setup(t)
	conn := e.connect(t, ws)
	r := e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_1/integration", routedBody(conn, map[string]any{"Sales Manager (Hamburg)": 1003}), nil)
	if r.status != 201 {
		t.Fatalf("save: %d %s", r.status, r.raw)
	}
	ctx := t.Context()
	d := store.Delivery{WorkspaceID: ws, FunnelID: "fn_1", EventID: "evt_routed", Event: []byte(`{"id":"evt_routed"}`)}
	if _, err := e.store.Claim(ctx, d, "worker", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Record(ctx, d.Key(), "worker", store.Change{Status: lifecycle.StatusParked, ParkOnPosition: true, RoutedPosition: 1003,
		ReasonCode: lifecycle.ReasonPositionUnpublished}); err != nil {
		t.Fatal(err)
	}
	body := routedBody(conn, nil)
	delete(body, "position_routing")
	if r := e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_1/integration", body, map[string]string{"If-Match": r.header["ETag"]}); r.status != 200 {
		t.Fatalf("save without routing: %d %s", r.status, r.raw)
	}
	if got, err := e.store.GetDelivery(ctx, ws, "evt_routed"); err != nil || got.Status != lifecycle.StatusQueued {
		t.Errorf("the application parked on 1003: %s, %v; want queued again", got.Status, err)
	}
}

// TestRoutingCheckedByReadAccess: with read access the positions are
// checked against every job of the connection in Personio, unpublished
// ones included (1002 exists), not against the career site's feed; one
// Personio does not know (9999) is refused.
func TestRoutingCheckedByReadAccess(t *testing.T) {
	e := setup(t)
	conn := e.connect(t, ws)
	if r := e.call(t, ws, advanced, "PUT", "/v1/connections/"+conn+"/read-access", readAccess42, nil); r.status != 200 {
		t.Fatalf("read access: %d %s", r.status, r.raw)
	}
	r := e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_1/integration", routedBody(conn, map[string]any{"Backend Engineer": 1002, "Other": 9999}), nil)
	if r.status != 422 || len(r.body["errors"].([]any)) != 1 || !strings.Contains(r.raw, "/position_routing/positions/Other") ||
		!strings.Contains(r.raw, "job position 9999 is not one of this connection's jobs in Personio") {
		t.Fatalf("save: %d %s", r.status, r.raw)
	}
	if r := e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_1/integration", routedBody(conn, map[string]any{"Backend Engineer": 1002}), nil); r.status != 201 {
		t.Errorf("1002, a job in Personio: %d %s", r.status, r.raw)
	}
}
