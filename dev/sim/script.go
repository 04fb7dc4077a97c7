package sim

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/application"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/operator"
)

// The script is what happens from outside: the platform's events, the
// customer's and the operator's actions, the pollers AWS runs. Its actors
// never crash; each action runs as an actor of the system (the ingest
// function, the editor API) that may crash, and is tried again until it
// answers, as the platform's webhook retries and a customer clicks again.

// scriptLength is when the last scripted action starts; grace is how long
// the run goes on at least after it (the watch's intervals), so that
// whatever waits for the watch had its chance.
const scriptLength = 15 * time.Minute

func (w *world) grace() time.Duration { return 2*w.set.WatchInterval + w.set.WatchTick }

// ledger is what the script did and what the system answered: the
// ground truth the invariants are held to.
type ledger struct {
	accepted map[string]int // event id → applicant
	// acceptedAt is when each event was first accepted.
	acceptedAt map[string]time.Time
	// recreatedAt is when the integration, deleted, was created again
	// with recreatedMapping (zero if it was not).
	recreatedAt time.Time
	// inFlight are, for each erasure marker's hash, the deliveries under
	// way as it was written.
	inFlight  map[string]map[string]bool
	erasures  []erasure
	scripts   int // scripted actors still running
	rotations int
	// replayed counts the deliveries the operator's replay queued again.
	replayed int
	// resent counts the outbound events the watch found pending and
	// published again (a producer died between its change and its
	// event's publish, or before it marked the event sent).
	resent int
	// tenantOf is each accepted event's tenant.
	tenantOf map[string]*tenant
	// files is how many files each event carries.
	files map[string]int
	// alarms counts the operator's answers to DeadLettersAlarm.
	alarms int
}

type erasure struct {
	applicant int
	address   string
	hash      string
	at        time.Time
	// inFlight are the events whose claim was held when the erasure
	// answered: their request may reach Personio after it.
	inFlight map[string]bool
}

func newLedger() *ledger {
	return &ledger{accepted: map[string]int{}, acceptedAt: map[string]time.Time{}, inFlight: map[string]map[string]bool{}, tenantOf: map[string]*tenant{}, files: map[string]int{}}
}

// system runs f as an actor of the system, counted as live until it ends
// or crashes.
func (w *world) system(ctx context.Context, name string, f func(ctx context.Context)) {
	w.systemFor(ctx, name, 0, f)
}

// systemFor runs f as an actor of the system that times out after limit
// (0: never), as its function does.
func (w *world) systemFor(ctx context.Context, name string, limit time.Duration, f func(ctx context.Context)) {
	w.live++
	g := func(ctx context.Context) {
		defer func() { w.live-- }()
		f(ctx)
	}
	if limit > 0 {
		w.s.SpawnFor(ctx, name, limit, g)
		return
	}
	w.s.Spawn(ctx, name, g)
}

// scripted runs f as a script actor.
func (w *world) scripted(ctx context.Context, name string, f func(ctx context.Context)) {
	w.ledger.scripts++
	w.s.SpawnImmune(ctx, name, func(ctx context.Context) {
		defer func() { w.ledger.scripts-- }()
		f(ctx)
	})
}

// until runs the system action again every retry until it reports done.
func (w *world) until(ctx context.Context, name string, retry time.Duration, action func(ctx context.Context) bool) {
	for {
		done := false
		w.system(ctx, name, func(ctx context.Context) { done = action(ctx) })
		_ = w.s.Sleep(ctx, retry)
		if done {
			return
		}
	}
}

func (w *world) script(ctx context.Context, o Options) {
	s := w.s
	w.scripted(ctx, "setup", func(ctx context.Context) {
		for _, t := range w.tenants {
			if err := w.setUp(ctx, t); err != nil {
				panic(err)
			}
		}
		s.CrashRate = o.CrashRate
		w.daemons(ctx, o)
		p := w.tenants[0]
		for n := range o.Events {
			at := time.Duration(s.Intn(int64(scriptLength / 2)))
			w.arrivals = append(w.arrivals, at)
			w.scripted(ctx, "platform", func(ctx context.Context) { w.sendEvent(ctx, p, n, at) })
		}
		w.customer(ctx)
		for _, t := range w.tenants[1:] {
			w.others(ctx, t)
		}
	})
}

// others is the script of a tenant but the primary: its applications at
// random times, and, for the quiet one, its token rotated at Personio
// with the customer away (no new credentials in the run).
func (w *world) others(ctx context.Context, t *tenant) {
	for k := range t.events {
		at := w.within(scriptLength / 2)
		w.scripted(ctx, "platform", func(ctx context.Context) { w.sendEvent(ctx, t, t.first+k, at) })
	}
	if t.ws != "ws_quiet" {
		return
	}
	at := w.within(scriptLength / 2)
	w.scripted(ctx, "quiet-rotate", func(ctx context.Context) {
		_ = w.s.Sleep(ctx, at)
		w.sandbox.RotateToken(t.company)
		t.rotatedAt = w.s.Now()
	})
}

// daemons are the event source mapping and the watch's schedule.
func (w *world) daemons(ctx context.Context, o Options) {
	w.s.SpawnImmune(ctx, "sqs-poller", w.poll)
	w.s.SpawnImmune(ctx, "watch-schedule", func(ctx context.Context) {
		for {
			_ = w.s.Sleep(ctx, w.set.WatchTick)
			w.systemFor(ctx, "watch", w.set.WatchTimeout(), func(ctx context.Context) {
				defer w.noteCrash(ctx)
				wt := w.watches.get()
				r, _ := wt.Run(ctx)
				w.ledger.resent += r.Resent
				w.watches.put(wt)
			})
		}
	})
}

// poll plays the SQS event source mapping: a batch of one message for
// each free worker, the batch's failures left on the queue, the rest
// deleted.
func (w *world) poll(ctx context.Context) {
	for {
		free := -1
		for i, b := range w.busy {
			if !b {
				free = i
				break
			}
		}
		var got []*message
		if free >= 0 {
			// The event source mapping polls with the worker's role.
			w.need("Worker", eventsQueue+" sqs:ReceiveMessage")
			got = w.q.receive(ctx, 1)
		}
		if len(got) == 0 {
			_ = w.s.Sleep(ctx, w.nextPoll())
			continue
		}
		if f := w.onTake[got[0].eventID]; f != nil {
			delete(w.onTake, got[0].eventID)
			f(ctx)
		}
		w.busy[free] = true
		w.system(ctx, fmt.Sprintf("worker%d[%s]", free, got[0].eventID), func(ctx context.Context) {
			defer func() { w.busy[free] = false }()
			resp, _ := w.workers[free].Handle(ctx, w.q.sqsEvent(got))
			failed := map[string]bool{}
			for _, f := range resp.BatchItemFailures {
				failed[f.ItemIdentifier] = true
			}
			for _, m := range got {
				if !failed[m.id] {
					w.need("Worker", eventsQueue+" sqs:DeleteMessage")
					w.q.delete(ctx, m.receipt)
				}
			}
		})
	}
}

// nextPoll is how long the poller waits: until the next message becomes
// visible or a worker is free, at most a long poll's 20 s.
func (w *world) nextPoll() time.Duration {
	wait := 20 * time.Second
	for _, m := range w.q.msgs {
		if d := m.visibleAt.Sub(w.s.Now()); d < wait {
			wait = max(d, 100*time.Millisecond)
		}
	}
	return wait
}

// sendEvent is the platform: an application at its time, through ingest
// (or, for one in five, straight onto the queue, as producers inside AWS
// may), again until accepted; now and then sent twice.
func (w *world) sendEvent(ctx context.Context, t *tenant, n int, at time.Duration) {
	s := w.s
	_ = s.Sleep(ctx, at)
	id := t.eventID(n)
	w.ledger.tenantOf[id] = t
	w.ledger.files[id] = fileCount(w.files, n)
	body := event(t, id, n, s.Now(), w.ledger.files[id])
	direct := s.Float() < 0.2
	send := func() {
		w.until(ctx, "ingest", 30*time.Second, func(ctx context.Context) bool {
			if direct {
				if w.q.Send(ctx, queueMessage(t.ws, id, body)) == nil {
					w.accept(id, n)
					return true
				}
				return false
			}
			code, status := w.post(ctx, body)
			if code == http.StatusAccepted && (status == "accepted" || status == "duplicate") {
				w.accept(id, n)
			}
			return code == http.StatusAccepted
		})
	}
	send()
	if s.Float() < 0.15 {
		_ = s.Sleep(ctx, time.Duration(s.Intn(int64(5*time.Minute))))
		send()
	}
}

// accept notes event id of applicant n as accepted, and when it first was.
func (w *world) accept(id string, n int) {
	w.ledger.accepted[id] = n
	if _, ok := w.ledger.acceptedAt[id]; !ok {
		w.ledger.acceptedAt[id] = w.s.Now()
	}
}

// customer plays the customer's and the operator's actions.
func (w *world) customer(ctx context.Context) {
	s := w.s
	at := w.within
	p := w.tenants[0]
	if s.Float() < 0.5 {
		w.scripted(ctx, "customer-rotate", func(ctx context.Context) {
			_ = s.Sleep(ctx, at(scriptLength/2))
			p.token = w.sandbox.RotateToken(company)
			w.ledger.rotations++
			_ = s.Sleep(ctx, 10*time.Second+at(4*time.Minute))
			token := p.token
			w.until(ctx, "editor", 30*time.Second, func(ctx context.Context) bool {
				code, _ := w.call(ctx, ws, "PUT", "/v1/connections/"+p.conn+"/credentials", map[string]any{"company_id": company, "access_token": token}, nil)
				return code == http.StatusOK
			})
		})
	}
	if s.Float() < 0.3 {
		w.scripted(ctx, "customer-switch", func(ctx context.Context) {
			_ = s.Sleep(ctx, at(scriptLength/2))
			w.toggle(ctx, false)
			_ = s.Sleep(ctx, at(3*time.Minute))
			w.toggle(ctx, true)
		})
	}
	if s.Float() < 0.4 {
		w.scripted(ctx, "customer-position", func(ctx context.Context) {
			_ = s.Sleep(ctx, at(scriptLength/2))
			w.sandbox.SetPublished(company, position, false)
			p.unpublished = true
			_ = s.Sleep(ctx, at(scriptLength/2))
			w.sandbox.SetPublished(company, position, true)
			p.unpublished = false
		})
	}
	if s.Float() < 0.3 {
		w.scriptRecreate(ctx)
	}
	for range 2 {
		if s.Float() < 0.5 {
			w.scriptErasure(ctx)
		}
	}
	w.scripted(ctx, "customer-retry", func(ctx context.Context) {
		_ = s.Sleep(ctx, scriptLength)
		w.retryFailed(ctx)
	})
	w.operatorScript(ctx)
}

// within draws a duration in [0, max).
func (w *world) within(max time.Duration) time.Duration { return time.Duration(w.s.Intn(int64(max))) }

// scriptRecreate deletes the integration and creates it again: half the
// time right after an application reached Personio, so that a worker
// holds the deleted integration's mapping compiled (a cache entry lives
// a minute) as the new one's first applications come.
func (w *world) scriptRecreate(ctx context.Context) {
	s := w.s
	at := w.within
	warm := s.Float() < 0.5
	w.scripted(ctx, "customer-recreate", func(ctx context.Context) {
		_ = s.Sleep(ctx, at(scriptLength/2))
		gap := at(20 * time.Second)
		if warm {
			w.afterAnApplication(ctx, 2*time.Minute)
			gap = at(5 * time.Second)
		}
		w.recreate(ctx, gap)
		// Two more applicants right after: the first events the new
		// integration maps.
		for k := range 2 {
			n := len(w.arrivals) + k
			w.scripted(ctx, "platform", func(ctx context.Context) { w.sendEvent(ctx, w.tenants[0], n, at(10*time.Second)) })
		}
	})
}

// operatorScript is the operator's: an erasure under a retired hash key
// (the runbook's, through the operator command's code, with the operator
// policy) and a redrive of the dead-letter queue, each in some runs.
func (w *world) operatorScript(ctx context.Context) {
	s := w.s
	at := w.within
	if s.Float() < 0.3 {
		// The runbook's erasure under a retired hash key, through the
		// operator command's code, with the operator policy.
		when := at(scriptLength)
		w.scripted(ctx, "operator-erase", func(ctx context.Context) {
			_ = s.Sleep(ctx, when)
			w.system(ctx, "operator", func(ctx context.Context) { w.eraseWithRetiredKey(ctx) })
		})
	}
	if s.Float() < 0.3 {
		w.scripted(ctx, "operator-redrive", func(ctx context.Context) {
			_ = s.Sleep(ctx, scriptLength)
			w.system(ctx, "operator", func(ctx context.Context) { w.redrive(ctx) })
		})
	}
	if s.Float() < 0.4 {
		// `ops replay -workspace W` at any time up to the customer's retry
		// and as long again, of the primary workspace or, in half the
		// runs, another: the failed and dead deliveries, and in most runs
		// the parked ones too (the run's most frequent problem, the quiet
		// workspace's after its rotation: failed and dead deliveries are
		// few).
		when, parked, t := at(2*scriptLength), s.Float() < 0.75, w.tenants[0]
		if s.Float() < 0.5 {
			t = w.tenants[1+s.Intn(int64(len(w.tenants)-1))]
		}
		w.scripted(ctx, "operator-replay", func(ctx context.Context) {
			_ = s.Sleep(ctx, when)
			w.system(ctx, "operator", func(ctx context.Context) { w.replay(ctx, t.ws, parked) })
		})
	}
}

// replay runs `ops replay -workspace ws` through the operator command's
// code, with the operator policy: the workspace's failed and dead
// deliveries (and its parked ones, if parked) queued again.
func (w *world) replay(ctx context.Context, ws string, parked bool) {
	f := operator.ReplayFilter{Workspace: ws}
	if parked {
		f.Statuses = []lifecycle.Status{lifecycle.StatusFailed, lifecycle.StatusDead, lifecycle.StatusParked}
	}
	o := operator.New(operator.Config{QueueURL: "sim-events", ErasureMarkerTTL: w.set.ErasureMarkerTTL(), Now: w.s.Now, LocalUser: "sim"},
		sdkQueue{q: roleQueue{w.q, w, "Operator"}}, w.open("Operator"), nil)
	res, _ := o.Replay(ctx, f)
	w.ledger.replayed += res.Queued
}

func (w *world) toggle(ctx context.Context, on bool) {
	w.until(ctx, "editor", 30*time.Second, func(ctx context.Context) bool {
		code, _ := w.call(ctx, ws, "PATCH", "/v1/funnels/"+funnel+"/integration", map[string]any{"enabled": on}, map[string]string{"if-match": "*"})
		return code == http.StatusOK
	})
}

// scriptErasure erases an applicant: near an event's arrival half the
// time (where an erasure races the event's delivery), and of those half
// at the moment a worker takes the applicant's event from the queue
// (where the erasure's marker lands between the worker's first calls);
// at any time otherwise.
func (w *world) scriptErasure(ctx context.Context) {
	s := w.s
	at := w.within
	when, k, onTake := at(scriptLength), -1, false
	if len(w.arrivals) > 0 && s.Float() < 0.5 {
		k = int(s.Intn(int64(len(w.arrivals))))
		when, onTake = w.arrivals[k]+at(3*time.Second), s.Float() < 0.5
	}
	inside := s.Float() < 0.5 // by the address inside an answer
	address := func(n int) string {
		if inside {
			return privateEmail(n)
		}
		return email(n)
	}
	if onTake {
		w.onTake[w.tenants[0].eventID(k)] = func(ctx context.Context) {
			w.scripted(ctx, "customer-erasure", func(ctx context.Context) { w.erase(ctx, k, address(k)) })
		}
		return
	}
	w.scripted(ctx, "customer-erasure", func(ctx context.Context) {
		_ = s.Sleep(ctx, when)
		n := w.applicantOnItsWay()
		w.erase(ctx, n, address(n))
	})
}

// eraseWithRetiredKey runs `ops erase -key-env OLD_HASH_KEY` for an
// accepted applicant: the marker of the retired key's hash, and the
// records written under that key deleted (none here: every record is
// written under the current key).
func (w *world) eraseWithRetiredKey(ctx context.Context) {
	o := operator.New(operator.Config{ErasureMarkerTTL: w.set.ErasureMarkerTTL(), Now: w.s.Now, LocalUser: "sim"}, nil, w.open("Operator"), nil)
	_, _ = o.EraseWithKey(ctx, ws, email(w.applicantOnItsWay()), []byte(retiredHashKey))
}

// afterAnApplication waits until the next application reaches Personio,
// or limit.
func (w *world) afterAnApplication(ctx context.Context, limit time.Duration) {
	n := len(w.sandbox.Applications(company))
	for end := w.s.Now().Add(limit); w.s.Now().Before(end); {
		_ = w.s.Sleep(ctx, time.Second)
		if len(w.sandbox.Applications(company)) > n {
			return
		}
	}
}

// recreate deletes the integration and, after gap, creates it again with
// recreatedMapping, as a customer who starts over does.
func (w *world) recreate(ctx context.Context, gap time.Duration) {
	w.until(ctx, "editor", 30*time.Second, func(ctx context.Context) bool {
		code, _ := w.call(ctx, ws, "DELETE", "/v1/funnels/"+funnel+"/integration", nil, nil)
		return code == http.StatusNoContent || code == http.StatusOK || code == http.StatusNotFound
	})
	_ = w.s.Sleep(ctx, gap)
	w.until(ctx, "editor", 30*time.Second, func(ctx context.Context) bool {
		// Another tab of the customer's may have saved one meanwhile:
		// then this save names the version it replaces.
		var match map[string]string
		if code, cur := w.call(ctx, ws, "GET", "/v1/funnels/"+funnel+"/integration", nil, nil); code == http.StatusOK {
			v, _ := cur["version"].(float64)
			match = map[string]string{"if-match": fmt.Sprintf(`"v%d"`, int64(v))}
		}
		code, _ := w.call(ctx, ws, "PUT", "/v1/funnels/"+funnel+"/integration", map[string]any{"connection_id": w.tenants[0].conn, "job_position_id": position,
			"mapping": recreatedMapping, "enabled": true, "career_site": subdomain}, match)
		if code == http.StatusOK || code == http.StatusCreated {
			w.ledger.recreatedAt = w.s.Now()
			return true
		}
		return false
	})
}

// erase erases applicant n by one of their addresses, as the customer's
// erasure request does, and notes which of the applicant's deliveries were
// in flight at its answer.
func (w *world) erase(ctx context.Context, n int, address string) {
	w.until(ctx, "editor", 30*time.Second, func(ctx context.Context) bool {
		code, _ := w.call(ctx, ws, "POST", "/v1/erasures", map[string]any{"email": address}, nil)
		if code != http.StatusOK {
			return false
		}
		h := application.EmailHash([]byte(hashKey), address)
		e := erasure{applicant: n, address: address, hash: h, at: w.s.Now(), inFlight: w.ledger.inFlight[h]}
		w.ledger.erasures = append(w.ledger.erasures, e)
		return true
	})
}

// applicantOnItsWay picks an applicant whose delivery is not at rest when
// there is one (where an erasure races a worker), any accepted one
// otherwise.
func (w *world) applicantOnItsWay() int {
	var moving, all []int
	for _, id := range sortedKeys(w.ledger.accepted) {
		n := w.ledger.accepted[id]
		if w.tenantOf(id) != w.tenants[0] {
			continue // the erasures are the primary workspace's
		}
		all = append(all, n)
		if r, ok := w.record(id); !ok || !r.Status.Resting() {
			moving = append(moving, n)
		}
	}
	switch {
	case len(moving) > 0:
		return moving[w.s.Intn(int64(len(moving)))]
	case len(all) > 0:
		return all[w.s.Intn(int64(len(all)))]
	}
	return 0
}

// retryFailed retries every failed delivery, as a customer does after
// fixing what the log said.
func (w *world) retryFailed(ctx context.Context) {
	for _, d := range w.records() {
		if d.Status != "failed" || w.tenantOf(d.id) != w.tenants[0] {
			continue
		}
		id := d.id
		w.until(ctx, "editor", 30*time.Second, func(ctx context.Context) bool {
			code, _ := w.call(ctx, ws, "POST", "/v1/funnels/"+funnel+"/deliveries/"+id+"/retry", nil, nil)
			return code < 500
		})
	}
}

// settled reports whether the run is over: the script done, its grace
// passed, no function running, the queue empty, and no message in the
// dead-letter queue that the operator has not answered.
//
// A message in the dead-letter queue raises DeadLettersAlarm, and the
// runbook's answer is a redrive (docs/operations.md): the operator
// answers it here, up to maxAlarms times a run. Its record may not say
// dead: a worker that died in the last try (or before its claim) leaves
// the record as the try before it left it.
func (w *world) settled() bool {
	if w.ledger.scripts != 0 || w.live != 0 || len(w.q.msgs) != 0 || w.s.Now().Sub(start) < scriptLength+w.grace() {
		return false
	}
	if len(w.q.dead) == 0 || w.ledger.alarms == maxAlarms {
		return true
	}
	w.ledger.alarms++
	w.scripted(context.Background(), "operator-alarm", func(ctx context.Context) {
		w.system(ctx, "operator", func(ctx context.Context) { w.redrive(ctx) })
	})
	return false
}

// redrive is `ops dlq redrive`: a message move task from the dead-letter
// queue back to the events queue, with the operator's policy (a move task
// needs to read and delete at its source and send at its destination).
func (w *world) redrive(ctx context.Context) {
	w.need("Operator", deadLetters+" sqs:StartMessageMoveTask", deadLetters+" sqs:ReceiveMessage",
		deadLetters+" sqs:DeleteMessage", deadLetters+" sqs:GetQueueAttributes", eventsQueue+" sqs:SendMessage")
	w.q.redrive(ctx)
}

// maxAlarms bounds the operator's answers to DeadLettersAlarm in a run.
const maxAlarms = 3
