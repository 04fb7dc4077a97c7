package editor_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/editor"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// TestSeedSteps walks the help article's setup: add an account, check it,
// pick the job position, map, save, switch on, test.
func TestSeedSteps(t *testing.T) {
	e := setup(t)
	conn := e.connect(t, ws) // steps 3–7
	if r := e.call(t, ws, advanced, "GET", "/v1/connections", nil, nil); r.status != 200 || len(r.body["connections"].([]any)) != 1 {
		t.Fatalf("list: %d %s", r.status, r.raw)
	}
	r := e.call(t, ws, advanced, "POST", "/v1/connections/"+conn+"/verify", nil, nil)
	if r.status != 200 || r.body["status"] != "connected" {
		t.Fatalf("verify: %d %s", r.status, r.raw)
	}
	r = e.call(t, ws, advanced, "GET", "/v1/connections/"+conn+"/positions?subdomain=acme&language=de", nil, nil) // step 8
	if r.status != 200 || !strings.Contains(r.raw, `"id":1001`) || strings.Contains(r.raw, "1002") {
		t.Fatalf("positions: %d %s", r.status, r.raw)
	}
	if r = e.call(t, ws, advanced, "GET", "/v1/personio/targets", nil, nil); r.status != 200 || !strings.Contains(r.raw, `"file:cv"`) {
		t.Fatalf("targets: %d", r.status)
	}
	tag := e.integrate(t, ws, "fn_1", conn, false) // steps 9–10
	if tag != `"v1"` {
		t.Errorf("ETag %q", tag)
	}
	r = e.call(t, ws, advanced, "PATCH", "/v1/funnels/fn_1/integration", map[string]any{"enabled": true}, map[string]string{"If-Match": tag})
	if r.status != 200 || r.body["enabled"] != true || r.header["ETag"] != `"v2"` {
		t.Fatalf("switch on: %d %s", r.status, r.raw)
	}
	r = e.call(t, ws, advanced, "POST", "/v1/funnels/fn_1/integration/test", nil, nil) // step 11
	if r.status != 202 {
		t.Fatalf("test: %d %s", r.status, r.raw)
	}
	id := r.body["delivery_id"].(string)
	msgs, err := e.queue.Receive(t.Context(), 10, time.Second)
	if err != nil || len(msgs) != 1 || !strings.Contains(string(msgs[0].Body), id) || !strings.Contains(string(msgs[0].Body), `"test":true`) {
		t.Fatalf("queued: %+v, %v", msgs, err)
	}
	r = e.call(t, ws, advanced, "GET", "/v1/funnels/fn_1/deliveries/"+id, nil, nil)
	if r.status != 200 || r.body["status"] != "queued" || r.body["test"] != true {
		t.Fatalf("delivery: %d %s", r.status, r.raw)
	}
	r = e.call(t, ws, advanced, "GET", "/v1/funnels/fn_1/deliveries?status=queued", nil, nil)
	if r.status != 200 || len(r.body["deliveries"].([]any)) != 1 {
		t.Fatalf("deliveries: %d %s", r.status, r.raw)
	}
	if n := len(e.sandbox.Sandbox.Applications("")); n != 0 {
		t.Errorf("the editor itself sent %d applications to Personio", n)
	}
}

func TestCreateConnectionErrors(t *testing.T) {
	e := setup(t)
	tests := []struct {
		name    string
		body    any
		status  int
		problem string
	}{
		{"bad token", map[string]any{"name": "x", "company_id": "42", "access_token": "wrong-token-123"}, 422, "invalid-credentials"},
		{"unknown company", map[string]any{"name": "x", "company_id": "77", "access_token": "sandbox-token-42"}, 422, "invalid-credentials"},
		{"recruiting disabled", map[string]any{"name": "x", "company_id": "43", "access_token": "sandbox-token-43"}, 422, "recruiting-disabled"},
		{"company id not a number", map[string]any{"name": "x", "company_id": "acme", "access_token": "t"}, 400, "validation"},
		{"unknown field", map[string]any{"name": "x", "company_id": "42", "access_token": "t", "token_hint": "x"}, 400, "validation"},
		{"wrong types", map[string]any{"name": 5, "company_id": 42, "access_token": true}, 400, "validation"},
		{"invalid JSON", `{"name":`, 400, "validation"},
		{"empty body", ``, 400, "validation"},
		{"too large", `{"name":"` + strings.Repeat("x", 200_000) + `"}`, 413, "payload-too-large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.call(t, ws, advanced, "POST", "/v1/connections", tt.body, nil)
			if r.status != tt.status || r.problem() != tt.problem || r.header["Content-Type"] != "application/problem+json" {
				t.Errorf("answer %d %s %s, want %d %s", r.status, r.problem(), r.raw, tt.status, tt.problem)
			}
		})
	}
	// Every reason at once.
	r := e.call(t, ws, advanced, "POST", "/v1/connections", map[string]any{"name": 5, "company_id": "acme", "extra": 1}, nil)
	if errs, _ := r.body["errors"].([]any); len(errs) < 4 {
		t.Errorf("want every reason (name type, company_id pattern, missing access_token, extra field): %s", r.raw)
	}
	if r := e.call(t, ws, advanced, "GET", "/v1/connections", nil, nil); len(r.body["connections"].([]any)) != 0 {
		t.Errorf("a refused connection was saved: %s", r.raw)
	}
}

// unreachable is a Personio that never answers.
type unreachable struct{}

func (unreachable) Verify(context.Context, personio.Credentials) error {
	return &personio.TransportError{Op: "personio: verify credentials", Err: errors.New("dial tcp: connection refused")}
}
func (unreachable) Positions(context.Context, string, string, string) ([]personio.Position, error) {
	return nil, &personio.TransportError{Op: "personio: list positions", Err: errors.New("dial tcp: connection refused")}
}
func (unreachable) CheckReadAccess(context.Context, personio.ReadCredentials) error {
	return &personio.TransportError{Op: "personio: obtain access token", Err: errors.New("dial tcp: connection refused")}
}
func (unreachable) Jobs(context.Context, personio.ReadCredentials) ([]personio.Job, error) {
	return nil, &personio.TransportError{Op: "personio: list jobs", Err: errors.New("dial tcp: connection refused")}
}

func TestPersonioUnreachable(t *testing.T) {
	e := setup(t, func(_ *env, o *options) { o.personio = unreachable{} })
	r := e.call(t, ws, advanced, "POST", "/v1/connections", map[string]any{"name": "x", "company_id": "42", "access_token": "sandbox-token-42"}, nil)
	if r.status != 502 || r.problem() != "personio-unavailable" {
		t.Fatalf("answer %d %s", r.status, r.raw)
	}
	if r := e.call(t, ws, advanced, "GET", "/v1/connections", nil, nil); len(r.body["connections"].([]any)) != 0 {
		t.Errorf("saved while Personio was unreachable")
	}
}

// failingStore fails CreateConnection, to show the token is not left
// behind.
type failingStore struct{ *store.Store }

func (failingStore) CreateConnection(context.Context, store.Connection) (store.Connection, error) {
	return store.Connection{}, failure.New("store: create connection", failure.Transient, errors.New("boom"))
}

// recordingVault records deletions.
type recordingVault struct {
	editor.Vault
	deleted []string
}

func (v *recordingVault) Delete(ctx context.Context, w, c string) error {
	v.deleted = append(v.deleted, w+"/"+c)
	return v.Vault.Delete(ctx, w, c)
}

func TestNoOrphanedToken(t *testing.T) {
	var rv *recordingVault
	e := setup(t, func(e *env, o *options) {
		o.store = failingStore{e.store}
		rv = &recordingVault{Vault: e.vault}
		o.vault = rv
	})
	r := e.call(t, ws, advanced, "POST", "/v1/connections", map[string]any{"name": "x", "company_id": "42", "access_token": "sandbox-token-42"}, nil)
	if r.status != 503 || len(rv.deleted) != 1 {
		t.Fatalf("answer %d %s; deleted %v", r.status, r.raw, rv.deleted)
	}
}

func TestAuthAndPlans(t *testing.T) {
	e := setup(t)
	if r := e.call(t, "", "", "GET", "/v1/connections", nil, nil); r.status != 401 || r.problem() != "unauthorized" {
		t.Errorf("no claims: %d %s", r.status, r.raw)
	}
	for _, plan := range []string{"basic", "starter", ""} {
		r := e.call(t, ws, plan, "GET", "/v1/connections", nil, nil)
		if r.status != 403 || r.problem() != "plan-required" || !strings.Contains(r.raw, "Advanced plan") {
			t.Errorf("plan %q: %d %s", plan, r.status, r.raw)
		}
	}
	for _, plan := range settings.Default().Plans {
		if r := e.call(t, ws, plan, "GET", "/v1/connections", nil, nil); r.status != 200 {
			t.Errorf("plan %q: %d", plan, r.status)
		}
	}
	if r := e.call(t, ws, advanced, "GET", "/v1/nothing", nil, nil); r.status != 404 {
		t.Errorf("unknown path: %d", r.status)
	}
	if r := e.call(t, ws, advanced, "PATCH", "/v1/connections", nil, nil); r.status != 405 {
		t.Errorf("wrong method: %d", r.status)
	}
}

// TestWorkspacesAreSeparate: another workspace's valid JWT sees and
// changes nothing of ws_a's.
func TestWorkspacesAreSeparate(t *testing.T) {
	e := setup(t)
	conn := e.connect(t, ws)
	e.integrate(t, ws, "fn_1", conn, true)
	r := e.call(t, ws, advanced, "POST", "/v1/funnels/fn_1/integration/test", nil, nil)
	id := r.body["delivery_id"].(string)
	const other = "ws_b"
	for _, c := range []struct{ method, path string }{
		{"GET", "/v1/connections/" + conn}, {"POST", "/v1/connections/" + conn + "/verify"}, {"DELETE", "/v1/connections/" + conn},
		{"GET", "/v1/connections/" + conn + "/positions?subdomain=acme"}, {"GET", "/v1/funnels/fn_1/integration"},
		{"DELETE", "/v1/funnels/fn_1/integration"}, {"GET", "/v1/funnels/fn_1/deliveries/" + id},
		{"POST", "/v1/funnels/fn_1/deliveries/" + id + "/retry"},
	} {
		if r := e.call(t, other, advanced, c.method, c.path, nil, nil); r.status != 404 {
			t.Errorf("%s %s from another workspace: %d %s", c.method, c.path, r.status, r.raw)
		}
	}
	r = e.call(t, other, advanced, "PUT", "/v1/connections/"+conn+"/credentials", map[string]any{"company_id": "42", "access_token": "sandbox-token-42"}, nil)
	if r.status != 404 {
		t.Errorf("replace another's credentials: %d", r.status)
	}
	r = e.call(t, other, advanced, "PUT", "/v1/funnels/fn_9/integration", map[string]any{"connection_id": conn, "job_position_id": 1001, "mapping": defaultMapping}, nil)
	if r.status != 422 || !strings.Contains(r.raw, "/connection_id") {
		t.Errorf("using another's connection: %d %s", r.status, r.raw)
	}
	if r := e.call(t, other, advanced, "GET", "/v1/connections", nil, nil); len(r.body["connections"].([]any)) != 0 {
		t.Errorf("another workspace lists %s", r.raw)
	}
	if r := e.call(t, other, advanced, "GET", "/v1/funnels/fn_1/deliveries", nil, nil); len(r.body["deliveries"].([]any)) != 0 {
		t.Errorf("another workspace lists deliveries %s", r.raw)
	}
	if r := e.call(t, ws, advanced, "GET", "/v1/connections/"+conn, nil, nil); r.status != 200 {
		t.Errorf("ws_a lost its connection: %d", r.status)
	}
}

func TestIntegrationEdits(t *testing.T) {
	e := setup(t)
	conn := e.connect(t, ws)
	body := map[string]any{"connection_id": conn, "job_position_id": 1001, "mapping": defaultMapping}
	tag := e.integrate(t, ws, "fn_1", conn, false)
	// Saving over an integration needs the ETag.
	if r := e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_1/integration", body, nil); r.status != 428 {
		t.Errorf("no If-Match: %d %s", r.status, r.raw)
	}
	// Two editors read v1; the first save wins, the second is told.
	if r := e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_1/integration", body, map[string]string{"If-Match": tag}); r.status != 200 || r.header["ETag"] != `"v2"` {
		t.Fatalf("first save: %d %s", r.status, r.raw)
	}
	if r := e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_1/integration", body, map[string]string{"If-Match": tag}); r.status != 412 || r.problem() != "precondition-failed" {
		t.Errorf("second save: %d %s", r.status, r.raw)
	}
	if r := e.call(t, ws, advanced, "PATCH", "/v1/funnels/fn_1/integration", map[string]any{"enabled": true}, map[string]string{"If-Match": tag}); r.status != 412 {
		t.Errorf("stale toggle: %d %s", r.status, r.raw)
	}
	if r := e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_2/integration", body, map[string]string{"If-Match": `"v1"`}); r.status != 412 {
		t.Errorf("If-Match on a missing integration: %d", r.status)
	}
	// A bad mapping: every problem at once.
	bad := map[string]any{"version": 1, "required": map[string]any{"first_name": map[string]any{"source": "contact.first_name"}},
		"optional": []any{map[string]any{"target": "hobby", "source": "answers.q1"}, map[string]any{"target": "gender", "constant": "w"}}}
	r := e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_3/integration", map[string]any{"connection_id": "con_nope", "job_position_id": 1001, "mapping": bad}, nil)
	if r.status != 422 || r.problem() != "invalid-integration" {
		t.Fatalf("bad mapping: %d %s", r.status, r.raw)
	}
	for _, want := range []string{"/connection_id", "/mapping/required/last_name", "/mapping/required/email", "/mapping/optional/0/target", "/mapping/optional/1/constant"} {
		if !strings.Contains(r.raw, want) {
			t.Errorf("the answer does not name %s: %s", want, r.raw)
		}
	}
	// The funnel's questions, when given, are checked too.
	withFunnel := map[string]any{"connection_id": conn, "job_position_id": 1001, "mapping": defaultMapping,
		"funnel": map[string]any{"fields": []any{map[string]any{"id": "q_gender", "type": "choice", "choices": []string{"Weiblich", "Männlich", "Divers"}}}}}
	if r := e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_4/integration", withFunnel, nil); r.status != 422 || !strings.Contains(r.raw, `Divers`) {
		t.Errorf("uncovered choice: %d %s", r.status, r.raw)
	}
	if r := e.call(t, ws, advanced, "PUT", "/v1/funnels/fn_5/integration", map[string]any{"connection_id": conn, "job_position_id": "1001", "mapping": defaultMapping}, nil); r.status != 400 {
		t.Errorf("job_position_id as a string: %d", r.status)
	}
	if r := e.call(t, ws, advanced, "DELETE", "/v1/funnels/fn_1/integration", nil, nil); r.status != 204 {
		t.Errorf("delete: %d", r.status)
	}
	if r := e.call(t, ws, advanced, "GET", "/v1/funnels/fn_1/integration", nil, nil); r.status != 404 {
		t.Errorf("get after delete: %d", r.status)
	}
}

func TestDeleteConnection(t *testing.T) {
	e := setup(t)
	conn := e.connect(t, ws)
	e.integrate(t, ws, "fn_1", conn, true)
	if r := e.call(t, ws, advanced, "DELETE", "/v1/connections/"+conn, nil, nil); r.status != 409 || r.problem() != "connection-in-use" || !strings.Contains(r.raw, "fn_1") {
		t.Fatalf("delete in use: %d %s", r.status, r.raw)
	}
	e.call(t, ws, advanced, "PATCH", "/v1/funnels/fn_1/integration", map[string]any{"enabled": false}, nil)
	if r := e.call(t, ws, advanced, "DELETE", "/v1/connections/"+conn, nil, nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	if _, err := e.vault.Get(t.Context(), ws, conn); !errors.Is(err, failure.ErrNotFound) {
		t.Errorf("the token outlived its connection: %v", err)
	}
	if r := e.call(t, ws, advanced, "DELETE", "/v1/connections/"+conn, nil, nil); r.status != 404 {
		t.Errorf("second delete: %d", r.status)
	}
}

// park puts a delivery in the parked state, as the worker does on a 401.
func (e *env) park(t *testing.T, funnel, id, conn string) {
	t.Helper()
	ctx := t.Context()
	d := store.Delivery{WorkspaceID: ws, FunnelID: funnel, EventID: id, Event: []byte(`{"id":"` + id + `"}`)}
	if _, err := e.store.Claim(ctx, d, "worker", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Record(ctx, store.DeliveryKey{Workspace: ws, Funnel: funnel, Event: id}, "worker", store.Change{Status: lifecycle.StatusParked, ConnectionID: conn,
		ReasonCode: lifecycle.ReasonAuth, Reason: "401"}); err != nil {
		t.Fatal(err)
	}
}

func TestReplaceCredentialsResumesParked(t *testing.T) {
	e := setup(t)
	conn := e.connect(t, ws)
	for i := range 3 {
		e.park(t, "fn_1", fmt.Sprintf("evt_parked_%d", i), conn)
	}
	r := e.call(t, ws, advanced, "PUT", "/v1/connections/"+conn+"/credentials", map[string]any{"company_id": "42", "access_token": "replaced-token-9"}, nil)
	if r.status != 422 {
		t.Fatalf("bad new credentials: %d %s", r.status, r.raw)
	}
	if tok, _ := e.vault.Get(t.Context(), ws, conn); tok != "sandbox-token-42" {
		t.Error("refused credentials replaced the token")
	}
	r = e.call(t, ws, advanced, "PUT", "/v1/connections/"+conn+"/credentials", map[string]any{"company_id": "42", "access_token": "sandbox-token-42"}, nil)
	if r.status != 200 || r.header["X-Resumed-Deliveries"] != "3" {
		t.Fatalf("replace: %d %v %s", r.status, r.header, r.raw)
	}
	got := 0
	for tries := 0; got < 3 && tries < 5; tries++ {
		msgs, _ := e.queue.Receive(t.Context(), 10, time.Second)
		got += len(msgs)
	}
	if got != 3 {
		t.Errorf("%d parked deliveries went back to the queue, want 3", got)
	}
	d, _ := e.store.GetDelivery(t.Context(), ws, "evt_parked_0")
	if d.Status != lifecycle.StatusQueued || d.Attempts[len(d.Attempts)-1].ReasonCode != lifecycle.ReasonCredentialsFixed || d.ReasonCode != lifecycle.ReasonCredentialsFixed {
		t.Errorf("resumed delivery: %+v", d)
	}
}

func TestRetryAndExplain(t *testing.T) {
	e := setup(t)
	ctx := t.Context()
	d := store.Delivery{WorkspaceID: ws, FunnelID: "fn_1", EventID: "evt_failed", Event: []byte(`{"id":"evt_failed"}`)}
	if _, err := e.store.Claim(ctx, d, "w", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Record(ctx, store.DeliveryKey{Workspace: ws, Funnel: "fn_1", Event: "evt_failed"}, "w", store.Change{Status: lifecycle.StatusFailed, ReasonCode: lifecycle.ReasonMappingFailed, Reason: "required.email (email): contact.email gave no value"}); err != nil {
		t.Fatal(err)
	}
	r := e.call(t, ws, advanced, "GET", "/v1/funnels/fn_1/deliveries/evt_failed", nil, map[string]string{"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
	if r.status != 200 || r.body["message"] != "E-Mail hatte keinen verwendbaren Wert. Prüfen Sie die Pflichtzuordnung und versuchen Sie es erneut." || r.body["reason_code"] != string(lifecycle.ReasonMappingFailed) {
		t.Fatalf("German explanation: %d %s", r.status, r.raw)
	}
	r = e.call(t, ws, advanced, "GET", "/v1/funnels/fn_1/deliveries/evt_failed", nil, map[string]string{"Accept-Language": "fr"})
	if r.body["message"] != "E-mail had no usable value. Check the required assignment and retry." {
		t.Errorf("English fallback: %s", r.raw)
	}
	if r := e.call(t, ws, advanced, "GET", "/v1/funnels/fn_2/deliveries/evt_failed", nil, nil); r.status != 404 {
		t.Errorf("delivery of another funnel: %d", r.status)
	}
	r = e.call(t, ws, advanced, "POST", "/v1/funnels/fn_1/deliveries/evt_failed/retry", nil, nil)
	if r.status != 202 || r.body["status"] != "queued" {
		t.Fatalf("retry: %d %s", r.status, r.raw)
	}
	if msgs, _ := e.queue.Receive(ctx, 10, time.Second); len(msgs) != 1 || string(msgs[0].Body) != `{"id":"evt_failed"}` {
		t.Errorf("retry queued %+v", msgs)
	}
	if r := e.call(t, ws, advanced, "POST", "/v1/funnels/fn_1/deliveries/evt_failed/retry", nil, nil); r.status != 409 || r.problem() != "not-retryable" {
		t.Errorf("retry of a queued delivery: %d %s", r.status, r.raw)
	}
	if r := e.call(t, ws, advanced, "GET", "/v1/funnels/fn_1/deliveries?cursor=bogus", nil, nil); r.status != 400 {
		t.Errorf("bogus cursor: %d", r.status)
	}
	if r := e.call(t, ws, advanced, "GET", "/v1/funnels/fn_1/deliveries?status=lost", nil, nil); r.status != 400 {
		t.Errorf("bogus status: %d", r.status)
	}
}

// TestListDeliveriesPages: the delivery log in one status through the API,
// page by page with next_cursor: full pages of that status, newest first,
// however few of them are among the funnel's deliveries; the unfiltered
// list the same; a cursor works only for the list that gave it.
func TestListDeliveriesPages(t *testing.T) {
	e := setup(t)
	ctx := t.Context()
	var failed, every []string
	for i := range 15 {
		id := fmt.Sprintf("evt_log_%02d", i)
		d := store.Delivery{WorkspaceID: ws, FunnelID: "fn_log", EventID: id}
		if _, err := e.store.CreateDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
		st := lifecycle.StatusDelivered
		if i%4 == 2 {
			st = lifecycle.StatusFailed
			failed = append([]string{id}, failed...)
		}
		if _, err := e.store.Claim(ctx, d, "worker", time.Minute); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Record(ctx, d.Key(), "worker", store.Change{Status: st, ReasonCode: lifecycle.ReasonMappingFailed}); err != nil {
			t.Fatal(err)
		}
		every = append([]string{id}, every...)
	}
	pages := func(query string, limit int) ([]string, string) {
		t.Helper()
		var ids []string
		cursor, first := "", ""
		for n := 0; n < 20; n++ {
			target := fmt.Sprintf("/v1/funnels/fn_log/deliveries?limit=%d%s", limit, query)
			if cursor != "" {
				target += "&cursor=" + cursor
			}
			r := e.call(t, ws, advanced, "GET", target, nil, nil)
			if r.status != 200 {
				t.Fatalf("%s: %d %s", target, r.status, r.raw)
			}
			list := r.body["deliveries"].([]any)
			for _, d := range list {
				ids = append(ids, d.(map[string]any)["id"].(string))
			}
			next, _ := r.body["next_cursor"].(string)
			if next != "" && len(list) != limit {
				t.Errorf("%s: a page of %d before the end", target, len(list))
			}
			if first == "" {
				first = next
			}
			if cursor = next; cursor == "" {
				return ids, first
			}
		}
		t.Fatalf("%s: more than 20 pages", query)
		return nil, ""
	}
	ids, cursor := pages("&status=failed", 2)
	if fmt.Sprint(ids) != fmt.Sprint(failed) {
		t.Errorf("failed: %v, want %v", ids, failed)
	}
	if ids, _ := pages("", 4); fmt.Sprint(ids) != fmt.Sprint(every) {
		t.Errorf("every delivery: %v, want %v", ids, every)
	}
	if r := e.call(t, ws, advanced, "GET", "/v1/funnels/fn_log/deliveries?cursor="+cursor, nil, nil); r.status != 400 || r.problem() != "validation" {
		t.Errorf("the failed list's cursor on the whole list: %d %s", r.status, r.raw)
	}
	if r := e.call(t, "ws_other", advanced, "GET", "/v1/funnels/fn_log/deliveries?status=failed", nil, nil); r.status != 200 || len(r.body["deliveries"].([]any)) != 0 {
		t.Errorf("another workspace: %d %s", r.status, r.raw)
	}
}

func TestErasure(t *testing.T) {
	e := setup(t)
	ctx := t.Context()
	for i, email := range []string{"Ada@Example.com", "ada@example.com ", "other@example.com", ""} {
		if _, err := e.store.CreateDelivery(ctx, store.Delivery{WorkspaceID: ws, FunnelID: "fn_1", EventID: fmt.Sprintf("evt_e%d", i),
			EmailHashes: []string{application.EmailHash(e.hashKey, email)}, Event: []byte("{}")}); err != nil {
			t.Fatal(err)
		}
	}
	// A blank address erases nothing (it would match every record
	// without one).
	for _, blank := range []string{"   ", "\t \n"} {
		if r := e.call(t, ws, advanced, "POST", "/v1/erasures", map[string]any{"email": blank}, nil); r.status != 400 || !strings.Contains(r.raw, "/email") {
			t.Errorf("erase %q: %d %s", blank, r.status, r.raw)
		}
	}
	r := e.call(t, ws, advanced, "POST", "/v1/erasures", map[string]any{"email": "ada@example.com"}, nil)
	if r.status != 200 || r.body["removed"] != 2.0 || r.body["queued_copies"] != 2.0 || r.body["personio_touched"] != false ||
		!strings.Contains(r.raw, "Personio itself was not changed") {
		t.Fatalf("erase: %d %s", r.status, r.raw)
	}
	if erased, _ := e.store.Erased(ctx, ws, application.EmailHash(e.hashKey, "ADA@example.com")); !erased {
		t.Error("no erasure marker")
	}
	for _, id := range []string{"evt_e2", "evt_e3"} {
		if _, err := e.store.GetDelivery(ctx, ws, id); err != nil {
			t.Errorf("%s was erased too: %v", id, err)
		}
	}
	if r := e.call(t, "ws_b", advanced, "POST", "/v1/erasures", map[string]any{"email": "other@example.com"}, nil); r.body["removed"] != 0.0 {
		t.Errorf("erasure in another workspace removed %v", r.body["removed"])
	}
}

func TestPositionsFeedOff(t *testing.T) {
	e := setup(t)
	conn := e.connect(t, ws)
	r := e.call(t, ws, advanced, "GET", "/v1/connections/"+conn+"/positions?subdomain=nobody", nil, nil)
	if r.status != 422 || r.problem() != "feed-unavailable" || !strings.Contains(r.raw, "XML feed") {
		t.Errorf("feed off: %d %s", r.status, r.raw)
	}
	if r := e.call(t, ws, advanced, "GET", "/v1/connections/"+conn+"/positions?subdomain=a.b", nil, nil); r.status != 400 {
		t.Errorf("bad subdomain: %d %s", r.status, r.raw)
	}
}

func TestTestNeedsIntegrationAndValidEvent(t *testing.T) {
	e := setup(t)
	if r := e.call(t, ws, advanced, "POST", "/v1/funnels/fn_1/integration/test", nil, nil); r.status != 409 || r.problem() != "no-integration" {
		t.Errorf("no integration: %d %s", r.status, r.raw)
	}
	conn := e.connect(t, ws)
	e.integrate(t, ws, "fn_1", conn, false)
	r := e.call(t, ws, advanced, "POST", "/v1/funnels/fn_1/integration/test", map[string]any{"event": map[string]any{
		"contact": map[string]any{"first_name": "Eve", "email": "eve@example.com"}, "answers": []any{map[string]any{"field_id": "q", "type": "consent", "value": "yes"}}}}, nil)
	if r.status != 422 || !strings.Contains(r.raw, "answers[0].value") {
		t.Errorf("invalid test event: %d %s", r.status, r.raw)
	}
	r = e.call(t, ws, advanced, "POST", "/v1/funnels/fn_1/integration/test", map[string]any{"event": map[string]any{
		"contact": map[string]any{"first_name": "Eve", "last_name": "Tester", "email": "eve@example.com"}}}, nil)
	if r.status != 202 {
		t.Errorf("test with an event: %d %s", r.status, r.raw)
	}
}

// TestRetryOfAnExpiredEvent: a failed delivery whose event is no longer
// kept cannot be retried; the answer says so in words (resume.ErrExpired,
// mapped by the editor), and nothing is queued.
func TestRetryOfAnExpiredEvent(t *testing.T) {
	e := setup(t)
	ctx := t.Context()
	key := store.DeliveryKey{Workspace: ws, Funnel: "fn_1", Event: "evt_gone"}
	if _, err := e.store.Claim(ctx, store.Delivery{WorkspaceID: ws, FunnelID: "fn_1", EventID: "evt_gone"}, "w", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Record(ctx, key, "w", store.Change{Status: lifecycle.StatusFailed, ReasonCode: lifecycle.ReasonMappingFailed, Reason: "x"}); err != nil {
		t.Fatal(err)
	}
	r := e.call(t, ws, advanced, "POST", "/v1/funnels/fn_1/deliveries/evt_gone/retry", nil, nil)
	if r.status != 409 || r.problem() != "event-expired" {
		t.Errorf("retry of an expired event: %d %s", r.status, r.raw)
	}
	if msgs, _ := e.queue.Receive(ctx, 10, 0); len(msgs) != 0 {
		t.Errorf("queued %+v", msgs)
	}
}
