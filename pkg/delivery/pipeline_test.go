package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/delivery"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

func TestHappyPathWithFile(t *testing.T) {
	p := newPipe(t, pipeOpts{})
	resp := p.post(t, p.event("evt_happy", "Ada@Example.com", p.files.URL+"/cv.pdf"))
	if resp.StatusCode != 202 || !strings.Contains(resp.Body, `"accepted"`) {
		t.Fatalf("ingest: %d %s", resp.StatusCode, resp.Body)
	}
	if d := p.status(t, "evt_happy"); d.Status != lifecycle.StatusQueued || !slicesContains(d.EmailHashes, application.EmailHash(p.cfg.HashKey, "ada@example.com")) {
		t.Fatalf("record after ingest: %+v", d)
	}
	if ev, err := p.store.Event(t.Context(), ws, "evt_happy"); err != nil || !strings.Contains(string(ev), "evt_happy") {
		t.Fatalf("the event ingest kept: %q, %v", ev, err)
	}
	w := p.worker()
	p.drain(t, w, 10*time.Second, p.is(t, "evt_happy", lifecycle.StatusDelivered))
	apps := p.sandbox.Sandbox.Applications("42")
	if len(apps) != 1 {
		t.Fatalf("sandbox holds %d applications", len(apps))
	}
	a := apps[0].Application
	if a.Email != "ada@example.com" || a.JobPositionID != 1001 || len(a.Files) != 1 || a.Files[0].Category != personio.CategoryCV ||
		len(a.Attributes) != 1 || a.Attributes[0].Value != "+4915112345678" {
		t.Errorf("application %+v", a)
	}
	d := p.status(t, "evt_happy")
	if d.DeliveredAt == nil || len(d.Attempts) != 2 || d.Attempts[1].Outcome != lifecycle.StatusDelivered || d.ReasonCode != lifecycle.ReasonDelivered {
		t.Errorf("record %+v", d)
	}
	if !strings.Contains(p.metrics.String(), `"Delivered":1`) || !strings.Contains(p.metrics.String(), `"EndToEndLatency"`) {
		t.Errorf("metrics: %s", p.metrics.String())
	}
	if !strings.Contains(p.logs.String(), `"state":"delivered"`) {
		t.Errorf("no state line in logs: %s", p.logs.String())
	}
}

func TestDuplicatesAndRedelivery(t *testing.T) {
	p := newPipe(t, pipeOpts{})
	body := p.event("evt_dup", "dup@example.com", "")
	if r := p.post(t, body); r.StatusCode != 202 {
		t.Fatal(r.Body)
	}
	if r := p.post(t, body); r.StatusCode != 202 || !strings.Contains(r.Body, `"duplicate"`) {
		t.Fatalf("repeat: %d %s", r.StatusCode, r.Body)
	}
	// The same event also arrives straight on the queue, twice more.
	for range 2 {
		if err := p.queue.Send(t.Context(), queue.Message{Group: ws, Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	w := p.worker()
	p.drain(t, w, 10*time.Second, func() bool {
		return p.status(t, "evt_dup").Status == lifecycle.StatusDelivered && p.pump(t.Context(), w) == 0
	})
	if n := len(p.sandbox.Sandbox.Applications("")); n != 1 {
		t.Errorf("%d applications in the sandbox, want exactly 1", n)
	}
	if n := p.sandbox.Sandbox.Stats().Requests["applications 201"] + p.sandbox.Sandbox.Stats().Requests["applications 400"]; n != 1 {
		t.Errorf("%d create requests reached Personio, want 1", n)
	}
}

func TestOutcomes(t *testing.T) {
	p := newPipe(t, pipeOpts{})
	ctx := t.Context()
	p.integrate(t, "fn_off", 1001, false)
	p.integrate(t, "fn_closed", 1002, true)
	// A previous application with the same e-mail and position.
	if err := p.pc.CreateApplication(ctx, personio.Credentials{CompanyID: "42", Token: "sandbox-token-42"},
		personio.Application{FirstName: "A", LastName: "B", Email: "already@example.com", JobPositionID: 1001}); err != nil {
		t.Fatal(err)
	}
	mk := func(id, fn, email string, test bool, file string) []byte {
		b := string(p.event(id, email, file))
		b = strings.Replace(b, `"funnel_id":"fn_office"`, `"funnel_id":"`+fn+`"`, 1)
		if test {
			b = strings.Replace(b, `"type":`, `"test":true,"type":`, 1)
		}
		return []byte(b)
	}
	cases := []struct {
		id     string
		body   []byte
		status lifecycle.Status
		code   lifecycle.Reason
	}{
		{"evt_nomail", []byte(strings.Replace(string(mk("evt_nomail", funnel, "", false, "")), `"email":""`, `"phone":"1"`, 1)), lifecycle.StatusFailed, lifecycle.ReasonMappingFailed},
		{"evt_nofunnel", mk("evt_nofunnel", "fn_unknown", "n@example.com", false, ""), lifecycle.StatusSkipped, lifecycle.ReasonNoIntegration},
		{"evt_off", mk("evt_off", "fn_off", "o@example.com", false, ""), lifecycle.StatusSkipped, lifecycle.ReasonDisabled},
		{"evt_closed", mk("evt_closed", "fn_closed", "c@example.com", false, ""), lifecycle.StatusParked, lifecycle.ReasonPositionUnpublished},
		{"evt_already", mk("evt_already", funnel, "already@example.com", false, ""), lifecycle.StatusFailed, lifecycle.ReasonDuplicate},
		{"evt_ssrf", mk("evt_ssrf", funnel, "s@example.com", false, "https://169.254.169.254/latest/meta-data/iam"), lifecycle.StatusDelivered, lifecycle.ReasonDelivered},
		{"evt_gone", mk("evt_gone", funnel, "g@example.com", false, p.files.URL+"/missing.pdf"), lifecycle.StatusDelivered, lifecycle.ReasonDelivered},
	}
	for _, c := range cases {
		if r := p.post(t, c.body); r.StatusCode != 202 {
			t.Fatalf("%s: ingest %d %s", c.id, r.StatusCode, r.Body)
		}
	}
	w := p.worker()
	p.drain(t, w, 15*time.Second, func() bool {
		for _, c := range cases {
			if st := p.status(t, c.id); !st.Terminal() && st.Status != lifecycle.StatusParked {
				return false
			}
		}
		return true
	})
	for _, c := range cases {
		d := p.status(t, c.id)
		if d.Status != c.status || d.ReasonCode != c.code {
			t.Errorf("%s: %s %s (%s), want %s %s", c.id, d.Status, d.ReasonCode, d.Reason, c.status, c.code)
		}
	}
	for _, id := range []string{"evt_ssrf", "evt_gone"} {
		d := p.status(t, id)
		if len(d.Warnings) == 0 || !strings.Contains(strings.Join(d.Warnings, " "), "not transferred") {
			t.Errorf("%s: the refused file is not reported: %+v", id, d.Warnings)
		}
	}
	if strings.Contains(p.status(t, "evt_nomail").Reason, "@") {
		t.Error("a reason quotes an e-mail")
	}
}

// TestTestFlagOnlyFromTheEditor: "test": true in an event counts for
// nothing — ingest refuses it, and one sent straight to the queue is a real
// application (skipped while the integration is off); only a record the
// editor's test endpoint wrote is a test, delivered while switched off.
func TestTestFlagOnlyFromTheEditor(t *testing.T) {
	p := newPipe(t, pipeOpts{})
	ctx := t.Context()
	p.integrate(t, funnel, 1001, false)
	flagged := []byte(strings.Replace(string(p.event("evt_flag", "flag@example.com", "")), `"type":`, `"test":true,"type":`, 1))
	if r := p.post(t, flagged); r.StatusCode != 400 || !strings.Contains(r.Body, `"$.test"`) {
		t.Errorf("ingest of a test event: %d %s", r.StatusCode, r.Body)
	}
	if err := p.queue.Send(ctx, queue.Message{ID: "evt_flag", Group: ws, Body: flagged}); err != nil {
		t.Fatal(err)
	}
	editorTest := []byte(strings.Replace(string(p.event("evt_editor_test", "editor@example.com", "")), `"type":`, `"test":true,"type":`, 1))
	if _, err := p.store.CreateDelivery(ctx, store.Delivery{WorkspaceID: ws, FunnelID: funnel, EventID: "evt_editor_test", Test: true, Event: editorTest}); err != nil {
		t.Fatal(err)
	}
	if err := p.queue.Send(ctx, queue.Message{ID: "evt_editor_test", Group: ws, Body: editorTest}); err != nil {
		t.Fatal(err)
	}
	w := p.worker()
	p.drain(t, w, 10*time.Second, func() bool { return p.status(t, "evt_flag").Terminal() && p.status(t, "evt_editor_test").Terminal() })
	if d := p.status(t, "evt_flag"); d.Status != lifecycle.StatusSkipped || d.Test {
		t.Errorf("a flagged event from the queue: %s test=%v", d.Status, d.Test)
	}
	if d := p.status(t, "evt_editor_test"); d.Status != lifecycle.StatusDelivered || !d.Test {
		t.Errorf("the editor's test: %s test=%v", d.Status, d.Test)
	}
}

func TestNotJSONGoesToDeadLetter(t *testing.T) {
	p := newPipe(t, pipeOpts{maxReceive: 2})
	ctx := t.Context()
	if err := p.queue.Send(ctx, queue.Message{Group: ws, Body: []byte("not an event")}); err != nil {
		t.Fatal(err)
	}
	// Invalid but with readable ids: recorded as failed, at once.
	if err := p.queue.Send(ctx, queue.Message{Group: ws, Body: []byte(`{"id":"evt_bad","workspace_id":"ws_demo","funnel_id":"fn_office","type":"x"}`)}); err != nil {
		t.Fatal(err)
	}
	w := p.worker()
	p.drain(t, w, 20*time.Second, func() bool {
		m, _ := p.dlq.Receive(ctx, 1, 0)
		return len(m) == 1 && string(m[0].Body) == "not an event" && p.status(t, "evt_bad").Status == lifecycle.StatusFailed
	})
	if d := p.status(t, "evt_bad"); d.ReasonCode != lifecycle.ReasonInvalidEvent {
		t.Errorf("invalid event: %+v", d)
	}
}

func TestRetryThenDeliver(t *testing.T) {
	p := newPipe(t, pipeOpts{sandbox: sandbox.Config{Faults: sandbox.Faults{Error500: 1}}})
	p.post(t, p.event("evt_5xx", "r@example.com", ""))
	w := p.worker()
	p.drain(t, w, 10*time.Second, p.is(t, "evt_5xx", lifecycle.StatusRetrying))
	if d := p.status(t, "evt_5xx"); d.NextAttemptAt == nil || d.ReasonCode != lifecycle.ReasonUnavailable {
		t.Errorf("retrying record: %+v", d)
	}
	p.sandbox.Sandbox.SetFaults(sandbox.Faults{})
	p.drain(t, w, 15*time.Second, p.is(t, "evt_5xx", lifecycle.StatusDelivered))
}

func TestExhaustedGoesDead(t *testing.T) {
	p := newPipe(t, pipeOpts{maxReceive: 3, sandbox: sandbox.Config{Faults: sandbox.Faults{Error500: 1}}})
	p.post(t, p.event("evt_dead", "d@example.com", ""))
	w := p.worker()
	p.drain(t, w, 30*time.Second, p.is(t, "evt_dead", lifecycle.StatusDead))
	d := p.status(t, "evt_dead")
	if d.ReasonCode != lifecycle.ReasonExhausted || len(d.Attempts) != 4 {
		t.Errorf("dead record: %+v", d)
	}
	p.drain(t, w, 20*time.Second, func() bool {
		m, _ := p.dlq.Receive(t.Context(), 1, 0)
		return len(m) == 1
	})
}

// TestExhaustedAfterALostAnswer: the first try's answer is lost after
// Personio created the application, and every later try fails before
// Personio answers "already exists": the dead record says Personio may
// have the application, as surely as it is known.
func TestExhaustedAfterALostAnswer(t *testing.T) {
	p := newPipe(t, pipeOpts{maxReceive: 2, timeout: 300 * time.Millisecond, sandbox: sandbox.Config{Faults: sandbox.Faults{Slow: 1, SlowDelay: 3 * time.Second}}})
	p.post(t, p.event("evt_maybe", "maybe@example.com", ""))
	w := p.worker()
	p.drain(t, w, 10*time.Second, p.is(t, "evt_maybe", lifecycle.StatusRetrying))
	p.sandbox.Sandbox.SetFaults(sandbox.Faults{Error500: 1})
	p.drain(t, w, 20*time.Second, p.is(t, "evt_maybe", lifecycle.StatusDead))
	if d := p.status(t, "evt_maybe"); d.ReasonCode != lifecycle.ReasonExhaustedUnknown {
		t.Errorf("dead record: %s %s", d.ReasonCode, d.Reason)
	}
	if n := len(p.sandbox.Sandbox.Applications("")); n != 1 {
		t.Errorf("%d applications, want the one the lost answer created", n)
	}
}

// TestUnknownOutcome: the first answer is lost after Personio created the
// application; the retry's "already exists" is said as surely as it is
// known: unconfirmed, with a reason of its own, and the application in
// Personio carries the event's id as a tag (so HR can tell it is this
// one).
func TestUnknownOutcome(t *testing.T) {
	p := newPipe(t, pipeOpts{timeout: 300 * time.Millisecond, sandbox: sandbox.Config{Faults: sandbox.Faults{Slow: 1, SlowDelay: 3 * time.Second}}})
	p.post(t, p.event("evt_lost", "lost@example.com", ""))
	w := p.worker()
	p.drain(t, w, 10*time.Second, p.is(t, "evt_lost", lifecycle.StatusRetrying))
	p.sandbox.Sandbox.SetFaults(sandbox.Faults{})
	p.drain(t, w, 15*time.Second, p.is(t, "evt_lost", lifecycle.StatusUnconfirmed))
	if d := p.status(t, "evt_lost"); d.ReasonCode != lifecycle.ReasonExistsUnconfirmed {
		t.Errorf("record: %+v", d)
	}
	apps := p.sandbox.Sandbox.Applications("")
	if len(apps) != 1 || !slicesContains(apps[0].Application.Tags, "evt_lost") {
		t.Errorf("applications %+v, want 1 tagged evt_lost", apps)
	}
	if !strings.Contains(p.metrics.String(), `"Unconfirmed":1`) {
		t.Errorf("not counted apart: %s", p.metrics.String())
	}
}

// TestDuplicateAfterLostAnswer: an event with the same e-mail and position
// as an earlier, delivered one times out on its first try (Personio
// processes it late and refuses it as a duplicate); on the next try
// Personio's "already exists" is not recorded as delivered: the
// application there is the earlier event's (its tag says so), and the
// record says it may be.
func TestDuplicateAfterLostAnswer(t *testing.T) {
	p := newPipe(t, pipeOpts{timeout: 300 * time.Millisecond})
	w := p.worker()
	p.post(t, p.event("evt_first", "twice@example.com", ""))
	p.drain(t, w, 10*time.Second, p.is(t, "evt_first", lifecycle.StatusDelivered))
	p.sandbox.Sandbox.SetFaults(sandbox.Faults{Slow: 1, SlowDelay: 3 * time.Second})
	p.post(t, p.event("evt_second", "twice@example.com", ""))
	p.drain(t, w, 10*time.Second, p.is(t, "evt_second", lifecycle.StatusRetrying))
	p.sandbox.Sandbox.SetFaults(sandbox.Faults{})
	p.drain(t, w, 15*time.Second, func() bool { return p.status(t, "evt_second").Terminal() })
	d := p.status(t, "evt_second")
	if d.Status == lifecycle.StatusDelivered || d.Status != lifecycle.StatusUnconfirmed || d.ReasonCode != lifecycle.ReasonExistsUnconfirmed ||
		!strings.Contains(d.Reason, "it may be this one or an earlier application") {
		t.Errorf("the second event: %s %s %q", d.Status, d.ReasonCode, d.Reason)
	}
	apps := p.sandbox.Sandbox.Applications("")
	if len(apps) != 1 || !slicesContains(apps[0].Application.Tags, "evt_first") || slicesContains(apps[0].Application.Tags, "evt_second") {
		t.Errorf("Personio has %+v; want the first event's application only", apps)
	}
}

func TestParkAndResume(t *testing.T) {
	p := newPipe(t, pipeOpts{})
	ctx := t.Context()
	if err := p.vault.Put(ctx, ws, conn, "revoked-token"); err != nil {
		t.Fatal(err)
	}
	p.post(t, p.event("evt_park", "park@example.com", ""))
	w := p.worker()
	p.drain(t, w, 10*time.Second, p.is(t, "evt_park", lifecycle.StatusParked))
	c, _ := p.store.GetConnection(ctx, ws, conn)
	if c.Status != store.ConnectionNeedsAttention || !strings.Contains(p.metrics.String(), "ConnectionsNeedingAttention") {
		t.Errorf("connection after 401: %+v", c)
	}
	parked, _ := p.store.ListParked(ctx, ws, conn, 10, "")
	if len(parked.Deliveries) != 1 {
		t.Fatalf("parked: %+v", parked)
	}
	// New credentials, as the editor saves them, and the parked
	// deliveries sent again.
	if err := p.vault.Put(ctx, ws, conn, "sandbox-token-42"); err != nil {
		t.Fatal(err)
	}
	c.Status, c.CredentialsVersion = store.ConnectionConnected, c.CredentialsVersion+1
	if _, err := p.store.UpdateConnection(ctx, c); err != nil {
		t.Fatal(err)
	}
	d := parked.Deliveries[0]
	event, err := p.store.Event(ctx, ws, d.EventID)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.queue.Send(ctx, queue.Message{Group: ws, Body: event}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.store.Requeue(ctx, d.Key(), lifecycle.ReasonCredentialsFixed); err != nil {
		t.Fatal(err)
	}
	p.drain(t, w, 10*time.Second, p.is(t, "evt_park", lifecycle.StatusDelivered))
}

// TestLeaseExpiry: a worker claimed the event and died before recording;
// the redelivered message waits for the lease, then the event is
// delivered once.
func TestLeaseExpiry(t *testing.T) {
	p := newPipe(t, pipeOpts{worker: func(c *delivery.Config) { c.Lease = 2 * time.Second }})
	body := p.event("evt_lease", "lease@example.com", "")
	p.post(t, body)
	if _, err := p.store.Claim(t.Context(), store.Delivery{WorkspaceID: ws, FunnelID: funnel, EventID: "evt_lease"}, "dead-worker", 2*time.Second); err != nil {
		t.Fatal(err)
	}
	w := p.worker()
	p.drain(t, w, 20*time.Second, p.is(t, "evt_lease", lifecycle.StatusDelivered))
	if n := len(p.sandbox.Sandbox.Applications("")); n != 1 {
		t.Errorf("%d applications, want 1", n)
	}
}

// TestDiedAfterPersonio: a worker claimed the event, created the
// application in Personio and died before recording it. The next worker
// takes the claim over when the lease ends, finds no budget and waits; at
// its turn Personio's "already exists" is unconfirmed, not a duplicate
// applicant: the take-over is kept on the record.
func TestDiedAfterPersonio(t *testing.T) {
	budget := store.Budget{Limit: 2, Window: 6 * time.Second}
	p := newPipe(t, pipeOpts{worker: func(c *delivery.Config) { c.Lease, c.Budget = 2*time.Second, budget }})
	ctx := t.Context()
	body := p.event("evt_died", "died@example.com", "")
	p.post(t, body)
	if _, err := p.store.Claim(ctx, store.Delivery{WorkspaceID: ws, FunnelID: funnel, EventID: "evt_died"}, "dead-worker", 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := p.pc.CreateApplication(ctx, personio.Credentials{CompanyID: "42", Token: "sandbox-token-42"},
		personio.Application{FirstName: "Ada", LastName: "Lovelace", Email: "died@example.com", JobPositionID: 1001}); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := p.store.TakeBudget(ctx, "42", 2, budget); !ok || err != nil {
		t.Fatalf("use up the budget: %v, %v", ok, err)
	}
	w := p.worker()
	p.drain(t, w, 20*time.Second, p.is(t, "evt_died", lifecycle.StatusUnconfirmed))
	d := p.status(t, "evt_died")
	if d.ReasonCode != lifecycle.ReasonExistsUnconfirmed {
		t.Errorf("record: %s %s", d.ReasonCode, d.Reason)
	}
	waited := false
	for _, a := range d.Attempts {
		waited = waited || a.ReasonCode == lifecycle.ReasonBudget
	}
	if !waited {
		t.Errorf("the take-over did not wait for budget first: %+v", d.Attempts)
	}
	if n := len(p.sandbox.Sandbox.Applications("")); n != 1 {
		t.Errorf("%d applications, want 1", n)
	}
}

// TestSameMessageTwiceInABatch: SQS may hand out one message twice with
// the same receive count; the two handlings, concurrent in one batch,
// must not share the claim: the second waits (it does not call Personio
// too), one application each, recorded delivered.
func TestSameMessageTwiceInABatch(t *testing.T) {
	p := newPipe(t, pipeOpts{sandbox: sandbox.Config{Latency: 100 * time.Millisecond}})
	const n = 5
	for i := range n {
		p.post(t, p.event(fmt.Sprintf("evt_twice%d", i), fmt.Sprintf("twice%d@example.com", i), ""))
	}
	var batch []queue.Received
	for len(batch) < 2*n {
		msgs, err := p.queue.Receive(t.Context(), 10, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			batch = append(batch, m, m)
		}
	}
	if _, err := p.worker().Handle(t.Context(), sqsEvent(batch...)); err != nil {
		t.Fatal(err)
	}
	if st := p.sandbox.Sandbox.Stats(); st.Requests["applications 400"] != 0 {
		t.Errorf("the second handling of a message called Personio too: %v", st.Requests)
	}
	if got := len(p.sandbox.Sandbox.Applications("")); got != n {
		t.Errorf("%d applications, want %d", got, n)
	}
	for i := range n {
		if d := p.status(t, fmt.Sprintf("evt_twice%d", i)); d.Status != lifecycle.StatusDelivered {
			t.Errorf("evt_twice%d: %s %s %s", i, d.Status, d.ReasonCode, d.Reason)
		}
	}
}

// TestConcurrentWorkersShareTheBudget: 20 workers on one company's
// backlog never go over Personio's limit: zero 429s.
func TestConcurrentWorkersShareTheBudget(t *testing.T) {
	p := newPipe(t, pipeOpts{
		sandbox: sandbox.Config{RateLimit: 5, RateWindow: 2 * time.Second, Lockout: 2 * time.Second},
		// A copy that meets another's claim waits for its lease: the local
		// stack's short lease, not the 2 min default, bounds that here. The
		// budget's window is a second longer than Personio's, the margin the
		// stack keeps at Personio's 60 s: between a take and its request's
		// arrival a loaded machine can spend more than a tenth of a second.
		worker: func(c *delivery.Config) {
			c.Budget, c.Lease = store.Budget{Limit: 5, Window: 3 * time.Second}, 5*time.Second
		},
	})
	const n = 15
	for i := range n {
		p.post(t, p.event(fmt.Sprintf("evt_c%02d", i), fmt.Sprintf("c%02d@example.com", i), ""))
	}
	var wg sync.WaitGroup
	var done atomic.Bool
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := p.worker()
			for !done.Load() {
				if p.pump(t.Context(), w) == 0 {
					time.Sleep(50 * time.Millisecond)
				}
			}
		}()
	}
	p.untilStalled(func() int { return len(p.sandbox.Sandbox.Applications("42")) }, n)
	done.Store(true)
	wg.Wait()
	st := p.sandbox.Sandbox.Stats()
	if got := len(p.sandbox.Sandbox.Applications("42")); got != n {
		t.Errorf("%d of %d delivered", got, n)
		dumpStatuses(t, p, n)
		for _, l := range strings.Split(p.logs.String(), "\n") {
			if strings.Contains(l, "evt_c05") || strings.Contains(l, "WARN") {
				t.Log(l)
			}
		}
	}
	if st.RateLimited != 0 {
		t.Errorf("%d answers were 429", st.RateLimited)
	}
}

// TestBacklogReceivedOnce: events that reach ingest while their company
// has no room get their turns there and are sent delayed to them: each is
// received once, at its turn, in the order ingest took them, and none
// reaches Personio over the budget.
func TestBacklogReceivedOnce(t *testing.T) {
	budget := store.Budget{Limit: 2, Window: 2100 * time.Millisecond} // a unit every 1.05 s, the sandbox's 2 s and a margin
	p := newPipe(t, pipeOpts{
		sandbox: sandbox.Config{RateLimit: 2, RateWindow: 2 * time.Second, Lockout: 2 * time.Second},
		worker:  func(c *delivery.Config) { c.Budget = budget },
	})
	ctx := t.Context()
	for range 2 { // the window is full when the events come
		if ok, _, err := p.store.TakeBudget(ctx, "42", 1, budget); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	const n = 5
	for i := range n {
		if r := p.post(t, p.event(fmt.Sprintf("evt_b%d", i), fmt.Sprintf("b%d@example.com", i), "")); r.StatusCode != 202 {
			t.Fatalf("ingest: %d %s", r.StatusCode, r.Body)
		}
	}
	var turns []time.Time
	for i := range n {
		d := p.status(t, fmt.Sprintf("evt_b%d", i))
		if d.NextAttemptAt == nil || d.ReasonCode != lifecycle.ReasonBudget {
			t.Fatalf("evt_b%d has no turn: %+v", i, d)
		}
		turns = append(turns, *d.NextAttemptAt)
	}
	if !slices.IsSortedFunc(turns, time.Time.Compare) {
		t.Errorf("turns out of order: %v", turns)
	}
	received := map[string]int{}
	w := p.worker()
	deadline := time.Now().Add(30 * time.Second)
	for len(p.sandbox.Sandbox.Applications("42")) < n {
		if time.Now().After(deadline) {
			for i := range n {
				d := p.status(t, fmt.Sprintf("evt_b%d", i))
				t.Logf("%s %s %s %+v", d.EventID, d.Status, d.Reason, d.Attempts)
			}
			t.Fatalf("%d of %d delivered after 30 s", len(p.sandbox.Sandbox.Applications("42")), n)
		}
		msgs, err := p.queue.Receive(ctx, 10, 1)
		if err != nil || len(msgs) == 0 {
			continue
		}
		for _, m := range msgs {
			var ids struct{ ID string }
			_ = json.Unmarshal(m.Body, &ids)
			received[ids.ID]++
		}
		resp, _ := w.Handle(ctx, sqsEvent(msgs...))
		failed := map[string]bool{}
		for _, f := range resp.BatchItemFailures {
			failed[f.ItemIdentifier] = true
		}
		for _, m := range msgs {
			if !failed[m.ID] {
				_ = p.queue.Delete(ctx, m.ReceiptHandle)
			}
		}
	}
	for i := range n {
		id := fmt.Sprintf("evt_b%d", i)
		if received[id] != 1 {
			t.Errorf("%s received %d times, want once", id, received[id])
		}
		if d := p.status(t, id); d.Status != lifecycle.StatusDelivered || d.DeferToken != "" {
			t.Errorf("%s: %s, defer token %q", id, d.Status, d.DeferToken)
		}
	}
	if st := p.sandbox.Sandbox.Stats(); st.RateLimited != 0 {
		t.Errorf("%d answers were 429", st.RateLimited)
	}
}

// TestRateLimitedCounted: a 429 from Personio (here a budget that thinks
// it has more room than the account) blocks the company's budget, the
// event waits (not failed, no receive burnt) and is delivered after the
// pause, and each 429 is counted for the dashboard's widget.
func TestRateLimitedCounted(t *testing.T) {
	p := newPipe(t, pipeOpts{
		sandbox: sandbox.Config{RateLimit: 1, RateWindow: time.Second, Lockout: time.Second},
		worker: func(c *delivery.Config) {
			c.Budget, c.RateLimitPause = store.Budget{Limit: 5, Window: time.Second}, 1500*time.Millisecond
		},
	})
	for i := range 2 {
		if r := p.post(t, p.event(fmt.Sprintf("evt_rl%d", i), fmt.Sprintf("rl%d@example.com", i), "")); r.StatusCode != 202 {
			t.Fatalf("ingest: %d %s", r.StatusCode, r.Body)
		}
	}
	w := p.worker()
	p.drain(t, w, 30*time.Second, func() bool {
		return p.status(t, "evt_rl0").Status == lifecycle.StatusDelivered && p.status(t, "evt_rl1").Status == lifecycle.StatusDelivered
	})
	n := p.sandbox.Sandbox.Stats().RateLimited
	if n == 0 {
		t.Fatal("no 429: the test does not test what it says")
	}
	if got := strings.Count(p.metrics.String(), `"RateLimited":1`); got != n {
		t.Errorf("%d 429s counted, Personio answered %d", got, n)
	}
	waited := false
	for _, id := range []string{"evt_rl0", "evt_rl1"} {
		for _, a := range p.status(t, id).Attempts {
			waited = waited || a.ReasonCode == lifecycle.ReasonRateLimited
		}
	}
	if !waited {
		t.Error("no attempt says it waited after a 429")
	}
}

func TestPanicInOneRecordSparesTheBatch(t *testing.T) {
	p := newPipe(t, pipeOpts{})
	w, err := delivery.NewWorker(p.cfg, panicky{p.store}, p.vault, p.pc, p.queue, p.fetch)
	if err != nil {
		t.Fatal(err)
	}
	p.post(t, p.event("evt_panic", "p@example.com", ""))
	msgs, _ := p.queue.Receive(t.Context(), 10, time.Second)
	if len(msgs) != 1 {
		t.Fatal("no message")
	}
	ev := sqsEvent(msgs...)
	ev.Records = append(ev.Records, ev.Records[0])
	ev.Records[1].MessageId = "other"
	ev.Records[1].Body = "{}"
	resp, err := w.Handle(t.Context(), ev)
	if err != nil || len(resp.BatchItemFailures) != 2 {
		t.Errorf("Handle = %+v, %v; want both reported, no error", resp, err)
	}
}

type panicky struct{ *store.Store }

func (panicky) GetConnection(context.Context, string, string) (store.Connection, error) {
	panic("boom")
}

func dumpStatuses(t *testing.T, p *pipe, n int) {
	for i := range n {
		d := p.status(t, fmt.Sprintf("evt_c%02d", i))
		t.Logf("%s %s %s attempts=%d", d.EventID, d.Status, d.Reason, len(d.Attempts))
	}
}
