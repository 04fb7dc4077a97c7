package operator_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/testenv"
	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/operator"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// opsOn runs the command line against a test environment's table and
// queues.
func opsOn(t *testing.T, env *testenv.Env, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "-table", env.Settings.Table, "-queue", env.Queue.URL(), "-dlq", env.DLQ.URL())
	code := operator.Main(t.Context(), args, &out, &errb, operator.FromConfig(env.AWS))
	return code, out.String(), errb.String()
}

// clock is a settable clock for the records' created times.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// seed writes a delivery record in a status, created at the clock's time,
// with its event.
func seed(t *testing.T, s *store.Store, ws, funnel, id string, status lifecycle.Status) {
	t.Helper()
	ctx := t.Context()
	body := fmt.Sprintf(`{"id":%q,"workspace_id":%q,"funnel_id":%q,"contact":{"email":"someone@example.com"}}`, id, ws, funnel)
	if _, err := s.CreateDelivery(ctx, store.Delivery{WorkspaceID: ws, FunnelID: funnel, EventID: id, Event: []byte(body), Status: lifecycle.StatusQueued}); err != nil {
		t.Fatal(err)
	}
	if status == lifecycle.StatusQueued {
		return
	}
	k := store.DeliveryKey{Workspace: ws, Funnel: funnel, Event: id}
	if _, err := s.Claim(ctx, store.Delivery{WorkspaceID: ws, FunnelID: funnel, EventID: id}, "w", time.Minute); err != nil {
		t.Fatal(err)
	}
	reason := map[lifecycle.Status]lifecycle.Reason{lifecycle.StatusFailed: lifecycle.ReasonMappingFailed, lifecycle.StatusDead: lifecycle.ReasonExhausted,
		lifecycle.StatusParked: lifecycle.ReasonAuth, lifecycle.StatusDelivered: lifecycle.ReasonDelivered}[status]
	if _, err := s.Record(ctx, k, "w", store.Change{Status: status, ReasonCode: reason, ConnectionID: "con_1",
		Attempt: &store.Attempt{At: time.Now(), Outcome: status, ReasonCode: reason}}); err != nil {
		t.Fatal(err)
	}
}

// queued drains the queue and returns the event ids on it.
func queued(t *testing.T, env *testenv.Env) []string {
	t.Helper()
	var ids []string
	for {
		msgs, err := env.Queue.Receive(t.Context(), 10, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			var ev struct{ ID string }
			_ = json.Unmarshal(m.Body, &ev)
			ids = append(ids, ev.ID)
			if err := env.Queue.Delete(t.Context(), m.ReceiptHandle); err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// TestReplay: on kumo, a replay queues exactly the deliveries that match
// its workspace, funnel, statuses and time, through the editor's retry
// path (the event on the queue, the record queued with retry.operator);
// a dry run lists the same and changes nothing; deliveries of another
// workspace, of a funnel without an integration (unless named), in other
// statuses or older than -since are left alone.
func TestReplay(t *testing.T) {
	env := testenv.New(t)
	ctx := t.Context()
	c := &clock{now: time.Now().Add(-2 * time.Hour).UTC().Truncate(time.Second)}
	s := store.New(awsclient.DynamoDB(env.AWS), env.Settings.Table, env.Settings.Retention, store.WithClock(c.Now))
	for _, f := range []string{"fn_1", "fn_2"} {
		if _, err := s.PutIntegration(ctx, store.Integration{WorkspaceID: "ws_a", FunnelID: f, ConnectionID: "con_1", JobPositionID: 1, Mapping: json.RawMessage(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	seed(t, s, "ws_a", "fn_1", "evt_old_failed", lifecycle.StatusFailed) // two hours ago
	c.Add(90 * time.Minute)
	since := c.Now()
	for _, d := range []struct {
		funnel, id string
		status     lifecycle.Status
	}{
		{"fn_1", "evt_failed", lifecycle.StatusFailed}, {"fn_1", "evt_dead", lifecycle.StatusDead}, {"fn_1", "evt_parked", lifecycle.StatusParked},
		{"fn_1", "evt_delivered", lifecycle.StatusDelivered}, {"fn_1", "evt_queued", lifecycle.StatusQueued}, {"fn_2", "evt_fn2_dead", lifecycle.StatusDead},
		{"fn_3", "evt_fn3_failed", lifecycle.StatusFailed},
	} {
		c.Add(time.Second)
		seed(t, s, "ws_a", d.funnel, d.id, d.status)
	}
	seed(t, s, "ws_b", "fn_1", "evt_other_ws", lifecycle.StatusFailed)
	if ids := queued(t, env); len(ids) != 0 {
		t.Fatalf("the queue holds %v before any replay", ids)
	}

	// A dry run lists and changes nothing.
	code, out, errOut := opsOn(t, env, "replay", "-workspace", "ws_a", "-dry-run")
	t.Logf("ops replay -dry-run:\n%s", out)
	if code != 0 || !strings.Contains(out, "would be queued again (dry run: nothing was changed)") {
		t.Fatalf("dry run: %d\n%s%s", code, out, errOut)
	}
	for _, id := range []string{"evt_old_failed", "evt_failed", "evt_dead", "evt_fn2_dead"} {
		if !regexpLine(out, id, "would queue") {
			t.Errorf("the dry run does not list %s", id)
		}
	}
	if ids := queued(t, env); len(ids) != 0 {
		t.Errorf("a dry run queued %v", ids)
	}
	if d, _ := s.GetDelivery(ctx, "ws_a", "evt_dead"); d.Status != lifecycle.StatusDead {
		t.Errorf("a dry run changed a record: %s", d.Status)
	}
	if !strings.Contains(errOut, `"msg":"operator: replay dry run"`) {
		t.Errorf("no audit line for the dry run:\n%s", errOut)
	}

	for _, c := range []struct {
		name string
		args []string
		want []string
	}{
		{"one funnel, failed, since", []string{"-funnel", "fn_1", "-status", "failed", "-since", since.Format(time.RFC3339)}, []string{"evt_failed"}},
		{"a funnel without an integration, named", []string{"-funnel", "fn_3"}, []string{"evt_fn3_failed"}},
		{"every integrated funnel, failed and dead", nil, []string{"evt_dead", "evt_fn2_dead", "evt_old_failed"}},
		{"parked", []string{"-status", "parked"}, []string{"evt_parked"}},
		{"nothing left", []string{"-status", "failed,dead,parked"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out, errOut := opsOn(t, env, append([]string{"replay", "-workspace", "ws_a", "-json"}, c.args...)...)
			var res operator.ReplayResult
			if err := json.Unmarshal([]byte(out), &res); code != 0 || err != nil {
				t.Fatalf("replay: %d %v\n%s%s", code, err, out, errOut)
			}
			if got := queued(t, env); !slices.Equal(got, c.want) {
				t.Errorf("queued %v, want %v", got, c.want)
			}
			if res.Queued != len(c.want) {
				t.Errorf("the result says %d queued: %+v", res.Queued, res)
			}
			for _, id := range c.want {
				d, err := s.GetDelivery(ctx, "ws_a", id)
				if err != nil || d.Status != lifecycle.StatusQueued || d.ReasonCode != lifecycle.ReasonReplayed || d.Attempts[len(d.Attempts)-1].ReasonCode != lifecycle.ReasonReplayed {
					t.Errorf("%s after the replay: %s %s, %v", id, d.Status, d.ReasonCode, err)
				}
				if !strings.Contains(errOut, `"`+id+`"`) {
					t.Errorf("the audit line does not name %s:\n%s", id, errOut)
				}
			}
			if !strings.Contains(errOut, `"msg":"operator: replay"`) || !strings.Contains(errOut, `"caller":`) {
				t.Errorf("no audit line with the caller:\n%s", errOut)
			}
			if strings.Contains(out+errOut, "someone@example.com") {
				t.Errorf("the replay shows an applicant's e-mail")
			}
		})
	}
	for _, id := range []string{"evt_delivered", "evt_queued"} {
		if d, _ := s.GetDelivery(ctx, "ws_a", id); d.ReasonCode == lifecycle.ReasonReplayed {
			t.Errorf("%s was replayed", id)
		}
	}
	if d, _ := s.GetDelivery(ctx, "ws_b", "evt_other_ws"); d.Status != lifecycle.StatusFailed {
		t.Errorf("another workspace's delivery was replayed: %s", d.Status)
	}
	if code, _, errOut := opsOn(t, env, "replay", "-workspace", "ws_a", "-status", "delivered"); code == 0 || !strings.Contains(errOut, "cannot be replayed") {
		t.Errorf("replaying delivered deliveries: %d %s", code, errOut)
	}
}

// TestConnectionsAndBudget: on kumo, `ops connections -needs-attention`
// lists the connections with parked deliveries and how many wait, and
// `ops budget` a company's budget as the worker's next take finds it.
func TestConnectionsAndBudget(t *testing.T) {
	env := testenv.New(t)
	ctx := t.Context()
	s := env.Store
	if _, err := s.CreateConnection(ctx, store.Connection{WorkspaceID: "ws_c", ID: "con_1", Name: "Acme Personio", CompanyID: "4711", Status: store.ConnectionNeedsAttention}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		seed(t, s, "ws_c", "fn_1", fmt.Sprintf("evt_p%d", i), lifecycle.StatusParked)
	}
	code, out, errOut := opsOn(t, env, "connections", "-needs-attention")
	t.Logf("ops connections -needs-attention:\n%s", out)
	if code != 0 || !regexpLine(out, "ws_c", "con_1", "4711", "needs_attention", "3", "Acme Personio") || !strings.Contains(out, "1 connections with parked deliveries, 3 deliveries waiting") {
		t.Errorf("connections: %d\n%s%s", code, out, errOut)
	}

	b := env.Settings.RateBudget()
	for range 4 {
		if ok, _, err := s.TakeBudget(ctx, "4711", 5, b); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	for range 2 {
		if _, _, err := s.TakeBudgetOrJoinLine(ctx, "4711", 2, b); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut = opsOn(t, env, "budget", "-company", "4711")
	t.Logf("ops budget -company 4711:\n%s", out)
	if code != 0 || !strings.Contains(out, "used            20 of 20 in the last 1m1s") || !strings.Contains(out, "reserved turns  4 units, the line ends") {
		t.Errorf("budget: %d\n%s%s", code, out, errOut)
	}
	code, out, _ = opsOn(t, env, "budget", "-company", "4711", "-json")
	var v operator.BudgetView
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil || v.Used != 20 || v.Limit != 20 || v.LineEnds == nil || !v.NextFree.After(time.Now().Add(time.Minute)) {
		t.Errorf("budget -json: %d %v %+v", code, err, v)
	}
}

// TestEraseWithRetiredKey: after the e-mail hash key is rotated, `ops
// erase` with the retired key removes the records written under it that
// hold the address (and only those), leaves a marker of that key's hash,
// and never prints or logs the address.
func TestEraseWithRetiredKey(t *testing.T) {
	env := testenv.New(t)
	ctx := t.Context()
	oldKey, newKey := []byte("retired-hash-key"), []byte("current-hash-key")
	const email = "Erase.Me@example.com"
	for _, d := range []store.Delivery{
		{WorkspaceID: "ws_e", FunnelID: "fn_1", EventID: "evt_before_1", EmailHashes: []string{application.EmailHash(oldKey, email)}},
		{WorkspaceID: "ws_e", FunnelID: "fn_1", EventID: "evt_before_2", EmailHashes: []string{application.EmailHash(oldKey, email)}, Status: lifecycle.StatusDead},
		{WorkspaceID: "ws_e", FunnelID: "fn_1", EventID: "evt_after", EmailHashes: []string{application.EmailHash(newKey, email)}},
		{WorkspaceID: "ws_e", FunnelID: "fn_1", EventID: "evt_other", EmailHashes: []string{application.EmailHash(oldKey, "other@example.com")}},
		{WorkspaceID: "ws_f", FunnelID: "fn_1", EventID: "evt_other_ws", EmailHashes: []string{application.EmailHash(oldKey, email)}},
	} {
		if _, err := env.Store.CreateDelivery(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("OLD_HASH_KEY", string(oldKey))
	var out, errb bytes.Buffer
	code := operator.MainWithInput(ctx, []string{"erase", "-workspace", "ws_e", "-key-env", "OLD_HASH_KEY", "-table", env.Settings.Table},
		strings.NewReader(email+"\n"), &out, &errb, operator.FromConfig(env.AWS))
	if code != 0 || !strings.Contains(out.String(), "removed 2 delivery records") {
		t.Fatalf("erase: %d\n%s%s", code, out.String(), errb.String())
	}
	for id, gone := range map[string]bool{"evt_before_1": true, "evt_before_2": true, "evt_after": false, "evt_other": false} {
		if _, err := env.Store.GetDelivery(ctx, "ws_e", id); gone != errors.Is(err, failure.ErrNotFound) {
			t.Errorf("%s: %v, gone %v", id, err, gone)
		}
	}
	if _, err := env.Store.GetDelivery(ctx, "ws_f", "evt_other_ws"); err != nil {
		t.Errorf("another workspace's record: %v", err)
	}
	if erased, _ := env.Store.Erased(ctx, "ws_e", application.EmailHash(oldKey, email)); !erased {
		t.Error("no marker of the retired key's hash")
	}
	if s := out.String() + errb.String(); strings.Contains(strings.ToLower(s), "erase.me") || strings.Contains(s, string(oldKey)) {
		t.Errorf("the output shows the address or the key:\n%s", s)
	}
	if !strings.Contains(errb.String(), `"msg":"operator: erase with a retired hash key"`) {
		t.Errorf("no audit line:\n%s", errb.String())
	}
}
