package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/funnel-personio/funnel-personio/dev/memdb"
	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/pkg/apigw"
	"github.com/funnel-personio/funnel-personio/pkg/apilambda"
	"github.com/funnel-personio/funnel-personio/pkg/delivery"
	"github.com/funnel-personio/funnel-personio/pkg/editor"
	"github.com/funnel-personio/funnel-personio/pkg/ingest"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/store"
	"github.com/funnel-personio/funnel-personio/pkg/watch"
	"github.com/funnel-personio/funnel-personio/pkg/watchlambda"
	"github.com/funnel-personio/funnel-personio/pkg/workerlambda"
)

// Workspace, funnel, company and positions of every run.
const (
	ws        = "ws_sim"
	funnel    = "fn_sim"
	company   = "42"
	position  = int64(1001)
	subdomain = "acme"
	table     = "sim"
	hashKey   = "sim-hash-key"
	// retiredHashKey is the key a rotation retired (the operator's
	// erasure under it).
	retiredHashKey = "sim-retired-hash-key"
)

var mappingDoc = json.RawMessage(`{"version":1,"required":{"first_name":{"source":"contact.first_name"},` +
	`"last_name":{"source":"contact.last_name"},"email":{"source":"contact.email","transforms":["trim","lower"]}},` +
	`"optional":[{"target":"phone","source":"contact.phone"}]}`)

// recreatedMapping is the mapping of an integration deleted and created
// again: the last name from the first name, so that Personio's
// application tells which mapping made it (recreatedLastName).
var recreatedMapping = json.RawMessage(`{"version":1,"required":{"first_name":{"source":"contact.first_name"},` +
	`"last_name":{"source":"contact.first_name"},"email":{"source":"contact.email","transforms":["trim","lower"]}}}`)

// recreatedLastName is the last name recreatedMapping gives every
// applicant.
const recreatedLastName = "Ada"

// world is one run's system: the real ingest, worker, editor and watch on
// the simulated AWS and Personio.
type world struct {
	s *Sched
	// files says whether the seed's applications carry files (withFiles).
	files   bool
	set     settings.Settings
	db      *memdb.DB
	q       *sqs
	vault   *vault
	sandbox *sandbox.Sandbox
	net     *personioNet
	// editors, ingests and watches are the functions' instances: an
	// instance serves one call at a time, as a Lambda instance does, and
	// one that crashed is gone with its memory.
	editors *pool[*apigw.Router]
	ingests *pool[*ingest.Handler]
	watches *pool[*watch.Watch]
	workers []*delivery.Worker
	busy    []bool
	// tenants are the run's customers; the first is the primary one.
	tenants []*tenant
	ledger  *ledger
	// onTake are erasures to start as a worker takes their event from
	// the queue, by event id.
	onTake map[string]func(ctx context.Context)
	// policies are the stack's; denied the calls seen outside them.
	policies   policies
	denied     map[string]bool
	deniedList []string
	// open gives a function's instance its store, its calls held to
	// role's policy.
	open func(role string) *store.Store
	// tv and pv are the checks' views of the table and of Personio.
	tv *tableView
	pv personioView
	// notify is the outbound queue; problems what it must hold.
	notify   *notifyQueue
	problems *problems
	live     int // actors of the system still running (not the pollers)
	// checked is when the watch last asked Personio to check each
	// company's credentials; crashed when a watch run crashed (not
	// timed out); unanswered when each company's credential checks by
	// the watch learnt nothing (no answer came).
	checked    map[string]time.Time
	crashed    []time.Time
	unanswered map[string][]time.Time
	// arrivals are when the platform sends each event (from the start).
	arrivals []time.Duration
	verifier acceptAll
}

// marking notes the deliveries whose claim is held as an erasure's
// marker is written: their request may reach Personio after the erasure
// answers (a delivery under way cannot be called back); any other must
// not.
func (w *world) marking(hash string) {
	set := map[string]bool{}
	for id, d := range w.tv.records {
		if d.ClaimOwner != "" && d.ClaimUntil >= w.s.Now().UnixMilli() {
			set[id] = true
		}
	}
	w.ledger.inFlight[hash] = set
}

// pool holds a function's idle instances; get makes one when none is
// idle. Only the running actor uses it (one at a time).
type pool[T any] struct {
	free []T
	make func() T
}

func (p *pool[T]) get() T {
	if n := len(p.free); n > 0 {
		x := p.free[n-1]
		p.free = p.free[:n-1]
		return x
	}
	return p.make()
}

func (p *pool[T]) put(x T) { p.free = append(p.free, x) }

// seeded reads random bytes from the run's generator.
type seeded struct{ s *Sched }

func (r seeded) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r.s.Intn(256))
	}
	return len(p), nil
}

// acceptAll stands for the webhook signature check: the simulator sends
// only events the platform signed.
type acceptAll struct{}

func (acceptAll) Verify([]byte, http.Header) error { return nil }

// In lagShare of the seeds the reads DynamoDB serves eventually consistent
// (every index read, and reads without ConsistentRead) lag the table: half
// of them by up to maxLag, the others not at all. A generator of its own,
// from the seed, decides which seeds and each read's lag, so a seed
// without lag runs as it does without this.
const (
	lagShare = 0.25
	maxLag   = 2 * time.Second
)

func lagging(db *memdb.DB, s *Sched, seed uint64) {
	rng := rand.New(rand.NewPCG(seed^0x6c6167, seed))
	if rng.Float64() >= lagShare {
		return
	}
	db.Lag(s.Now, func() time.Duration {
		if rng.IntN(2) == 0 {
			return 0
		}
		return time.Duration(rng.Int64N(int64(maxLag) + 1))
	}, maxLag)
}

func newWorld(s *Sched, o Options) (*world, error) {
	w := &world{s: s, db: memdb.New(), ledger: newLedger(), tv: newTableView(), policies: parsePolicies(policiesFile), denied: map[string]bool{},
		onTake: map[string]func(context.Context){}, checked: map[string]time.Time{}, unanswered: map[string][]time.Time{}}
	w.tenants = tenants(s.Float() < noisyShare)
	w.notify, w.problems = &notifyQueue{s: s}, newProblems()
	w.db.Watch(func(tbl, pk, sk string, it map[string]types.AttributeValue) {
		if tbl == table {
			w.problems.wrote(pk, sk, w.tv.item(pk, sk), it, s.Now())
		}
		w.tv.wrote(tbl, pk, sk, it)
	})
	lagging(w.db, s, o.Seed)
	w.files = withFiles(o.Seed)
	set := settings.Default()
	set.Table, set.HashKey = table, []byte(hashKey)
	set.WatchTick, set.WatchInterval, set.HealthInterval = time.Minute, 2*time.Minute, 10*time.Minute
	set.PersonioBaseURL, set.PersonioFeedURL = "http://personio.sim", "http://personio.sim/careers/{subdomain}/xml"
	w.set = set
	if err := store.CreateTable(context.Background(), w.db, table); err != nil {
		return nil, err
	}
	// Each function has a store of its own, as each Lambda instance
	// does (with its own in-process memory).
	w.open = func(role string) *store.Store {
		called := func(op string, params any) { w.called(role, op, params) }
		return store.New(gatedDB{s: s, db: w.db, marking: w.marking, called: called}, table, set.Retention, store.WithGlobal(set.GlobalBudget()), store.WithClock(s.Now))
	}
	w.q = &sqs{s: s, visibility: set.VisibilityTimeout(), maxReceive: set.MaxReceiveCount}
	w.vault = &vault{s: s, tokens: map[string]personio.Token{}, secrets: map[string]personio.Token{}}
	sb, err := sandbox.New(sandbox.Config{Now: s.Now, Seed: sandbox.Seed{Companies: companies(w.tenants)}})
	if err != nil {
		return nil, err
	}
	w.sandbox = sb
	w.net = &personioNet{s: s, sandbox: sb, faults: o.Faults, slow: map[string]bool{}, timeout: set.PersonioTimeout, checked: w.watchChecked, unanswered: w.watchUnanswered}
	for _, t := range w.tenants {
		for _, site := range t.sites {
			w.net.slow["/careers/"+site+"/xml"] = true
		}
	}
	pc, err := personio.NewClient(personio.WithBaseURL(set.PersonioBaseURL), personio.WithFeedURL(set.PersonioFeedURL),
		personio.WithHTTPClient(&http.Client{Transport: w.net}),
		// Real time never ends a request: the scheduler decides when its
		// answer comes (or is lost).
		personio.WithTimeout(24*time.Hour))
	if err != nil {
		return nil, err
	}
	if err := w.functions(o, pc); err != nil {
		return nil, err
	}
	return w, nil
}

// functions makes the functions' instances as their Lambdas wire them:
// the editor's and ingest's pools, the workers, the watch's pool.
func (w *world) functions(o Options, pc *personio.Client) error {
	log := slog.New(slog.DiscardHandler)
	ec := apilambda.Config(w.set, log)
	ec.Now, ec.IDs, ec.Notify = w.s.Now, seeded{w.s}, w.publisher("Api")
	var perr error
	w.editors = &pool[*apigw.Router]{make: func() *apigw.Router {
		ed, err := editor.New(ec, w.open("Api"), roleVault{w.vault, w, "Api"}, pc, roleQueue{w.q, w, "Api"})
		if err != nil {
			perr = err
			return nil
		}
		rt, err := ed.Router()
		perr = err
		return rt
	}}
	w.editors.put(w.editors.make())
	if perr != nil {
		return perr
	}
	w.ingests = &pool[*ingest.Handler]{make: func() *ingest.Handler {
		return ingest.New(ingest.Config{HashKey: w.set.HashKey, MaxFiles: w.set.MaxFiles(), Budget: w.set.RateBudget(), CacheTTL: w.set.CacheTTL,
			Logger: log, Now: w.s.Now}, w.verifier, w.open("Ingest"), roleQueue{w.q, w, "Ingest"})
	}}
	for range o.Workers {
		wc := workerlambda.Config(w.set, workerlambda.Options{Logger: log, Metrics: io.Discard})
		wc.Now, wc.Rand, wc.Sleep, wc.Notify = w.s.Now, w.s.Intn, w.s.Sleep, w.publisher("Worker")
		wk, err := delivery.NewWorker(wc, w.open("Worker"), roleVault{w.vault, w, "Worker"}, pc, roleQueue{w.q, w, "Worker"}, fileHost{s: w.s})
		if err != nil {
			return err
		}
		w.workers, w.busy = append(w.workers, wk), append(w.busy, false)
	}
	wcfg := watchlambda.Config(w.set, log)
	wcfg.Now, wcfg.Serial, wcfg.FeedReaders = w.s.Now, true, 1
	if _, err := watch.New(wcfg, w.open("Watch"), roleVault{w.vault, w, "Watch"}, pc, roleQueue{w.q, w, "Watch"}, w.publisher("Watch")); err != nil {
		return err
	}
	w.watches = &pool[*watch.Watch]{make: func() *watch.Watch {
		wt, _ := watch.New(wcfg, w.open("Watch"), roleVault{w.vault, w, "Watch"}, pc, roleQueue{w.q, w, "Watch"}, w.publisher("Watch"))
		return wt
	}}
	return nil
}

// call is one request to the editor API as the customer's browser makes
// it.
func (w *world) call(ctx context.Context, ws, method, path string, body any, header map[string]string) (int, map[string]any) {
	b, _ := json.Marshal(body)
	h := map[string]string{"content-type": "application/json"}
	for k, v := range header {
		h[k] = v
	}
	req := events.APIGatewayV2HTTPRequest{RawPath: path, Body: string(b), Headers: h,
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{"workspace_id": ws, "plan": w.set.Plans[0]}}}}}
	if body == nil {
		req.Body = ""
	}
	ed := w.editors.get()
	res, err := ed.Serve(ctx, req)
	w.editors.put(ed)
	if err != nil {
		return 500, nil
	}
	var out map[string]any
	_ = json.Unmarshal([]byte(res.Body), &out)
	return res.StatusCode, out
}

// setUp connects the tenant's account and switches its integration on,
// as the help article's steps do, each step again until it answers
// (Personio may answer 500 to the credential check); the noisy
// workspace's further integrations follow.
func (w *world) setUp(ctx context.Context, t *tenant) error {
	for try := 0; t.conn == ""; try++ {
		code, out := w.call(ctx, t.ws, "POST", "/v1/connections", map[string]any{"name": "Acme", "company_id": t.company, "access_token": t.token}, nil)
		if code == http.StatusCreated {
			t.conn, _ = out["id"].(string)
			t.createdAt = w.s.Now()
		} else if try == 20 {
			return fmt.Errorf("sim: connect: %d %v", code, out)
		}
		_ = w.s.Sleep(ctx, 5*time.Second)
	}
	for try := 0; ; try++ {
		code, out := w.call(ctx, t.ws, "PUT", "/v1/funnels/"+t.funnel+"/integration", map[string]any{"connection_id": t.conn, "job_position_id": t.position,
			"mapping": mappingDoc, "enabled": true, "career_site": t.subdomain}, nil)
		if code == http.StatusOK || code == http.StatusCreated {
			return w.addSites(ctx, t)
		}
		if try == 20 {
			return fmt.Errorf("sim: integrate: %d %v", code, out)
		}
		_ = w.s.Sleep(ctx, 5*time.Second)
	}
}

// event is one applicant's application event. Every applicant gives a
// second address inside a text answer (one in a sentence, one as
// "Name <address>"), which an erasure may name instead of the contact's.
func event(t *tenant, id string, n int, at time.Time, files int) []byte {
	motivation := "Write to me at " + privateEmail(n) + ", please."
	if n%2 == 1 {
		motivation = "Ada <" + privateEmail(n) + ">"
	}
	b, _ := json.Marshal(map[string]any{"type": "application.submitted", "id": id, "occurred_at": at.Format(time.RFC3339),
		"workspace_id": t.ws, "funnel_id": t.funnel,
		"contact": map[string]any{"first_name": "Ada", "last_name": fmt.Sprintf("Applicant %d", n), "email": email(n)},
		"answers": []any{map[string]any{"field_id": "q_motivation", "label": "Why us?", "type": "text", "value": motivation}},
		"files":   filesOf(id, files)})
	return b
}

func email(n int) string { return fmt.Sprintf("applicant.%d@example.com", n) }

// privateEmail is applicant n's second address, given inside an answer.
func privateEmail(n int) string { return fmt.Sprintf("applicant.%d.private@example.com", n) }

// post sends an event to ingest as the platform's webhook does.
func (w *world) post(ctx context.Context, body []byte) (int, string) {
	h := w.ingests.get()
	defer w.ingests.put(h)
	res, err := h.Handle(ctx, events.APIGatewayV2HTTPRequest{RawPath: "/v1/events", Body: string(body),
		RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/v1/events"}}})
	if err != nil {
		return 500, err.Error()
	}
	var out struct {
		Status string `json:"status"`
	}
	_ = json.Unmarshal([]byte(res.Body), &out)
	return res.StatusCode, out.Status
}
