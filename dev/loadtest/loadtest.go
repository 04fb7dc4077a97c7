// Package loadtest drives the local stack through signed ingest and
// measures what comes out in the Personio sandbox: throughput, end-to-end
// latency, 429s, each company's request rate against its budget, and events
// lost or duplicated. It can inject Personio faults and restart the worker
// side mid-run.
package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/funnel-personio/funnel-personio/dev/awsmeter"
	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// FaultMix is the fault campaign's Personio: 30 % of requests fail — 18 %
// answered 500, 5 % processed but answered after 3 s (past the 2 s
// timeout the campaign gives the client), 5 % processed and the connection
// dropped, 2 % starting a 3 s burst of 429s.
var FaultMix = sandbox.Faults{Error500: 0.18, Slow: 0.05, SlowDelay: 3 * time.Second, Drop: 0.05,
	Burst429: 0.02, BurstFor: 3 * time.Second}

// Config is one load run.
type Config struct {
	Name string
	// Events per workspace; Workspaces, each with its own Personio company.
	Events []int
	// FileShare is the share of each workspace's events with a CV file
	// (spread within the workspace: Plan).
	FileShare float64
	// Promise is what the scenario promises of each company's requests
	// against its limit; a plan that breaks it does not run (CheckPlan).
	Promise   Promise
	Latency   time.Duration
	Faults    sandbox.Faults
	RateLimit int // Personio's limit per company (default 20)
	// GlobalLimit, if set, is the global budget per window (the stack's
	// GLOBAL_LIMIT) and Personio's limit per address in the sandbox; the
	// report says how the companies shared it (Shared).
	GlobalLimit int
	RateWindow  time.Duration // and its window (default 60 s)
	// BudgetMargin, if set, is the budget's margin over RateWindow
	// (default: the deployment's margin in proportion to the window, 1/60
	// of it). A test that holds every window to the limit on a loaded
	// machine sets a wider one: a take and its request's arrival may be
	// further apart there than 1/60 of a compressed window.
	BudgetMargin time.Duration
	// PersonioTimeout bounds each Personio request (default
	// settings.Local's); slow faults should answer later than this.
	PersonioTimeout time.Duration
	// Restarts kills the worker side (as a crash: batches in hand are
	// abandoned) and starts it again this many times mid-run.
	Restarts int
	// RestartEmulator, if set, is called once mid-run, between the
	// worker-side restarts, to stop and start the AWS emulator on the
	// same state while the stack runs.
	RestartEmulator func() error
	// IngestOnly runs no worker: the run measures how fast signed ingest
	// accepts events and ends when they are sent.
	IngestOnly bool
	// Pace, if set, sends the first workspace's events in bulk, then, once
	// the worker has been through them, the other workspaces' one at a
	// time, Pace apart: the quiet ones beside a noisy backlog. Their p99
	// is reported as QuietP99.
	Pace time.Duration
	// Pollers is how many pollers feed the worker (default: the stack's
	// worker concurrency, settings' WorkerConcurrency).
	Pollers int
	// Senders is how many events are posted at once (default 8).
	Senders int
	// ReadAccess gives every connection read access (Personio's v2 API,
	// which the sandbox offers): an "already exists" after a lost answer
	// is then settled by a read instead of ending unconfirmed.
	ReadAccess bool
	// Timeout, if set, bounds the whole run in time (the command line's
	// runs); a test leaves it unset and is bounded by progress (Stall).
	Timeout time.Duration
	// Stall ends the run when nothing progressed for this long: no
	// application arrived in the sandbox and no record changed its state
	// (default 2 minutes). The report says so (Stalled).
	Stall    time.Duration
	Progress io.Writer
	// TargetP99 and TargetBudgetUse are the scenario's targets, if it has
	// them: the report states them and its charts draw them.
	TargetP99       time.Duration
	TargetBudgetUse float64
	// Routed, if it lists several, spreads each company's events over
	// these job positions by the applicant's answer (see routed.go); the
	// report counts applications per position (PerPosition).
	Routed []int64
	// EmulatorPID, if set, is the AWS emulator's process, when it runs
	// in one of its own: the report's CPU section counts its CPU time
	// beside this process's. A run that restarts the emulator reports
	// no CPU time.
	EmulatorPID func() int
}

// Report is what a run measured.
type Report struct {
	Name          string         `json:"name"`
	Events        int            `json:"events"`
	Accepted      int            `json:"accepted"`
	Delivered     int            `json:"delivered"`
	Lost          int            `json:"lost"`
	Duplicates    int            `json:"duplicates"`
	States        map[string]int `json:"states"`
	Seconds       float64        `json:"seconds"`
	IngestPerSec  float64        `json:"ingest_per_sec"`
	DeliverPerSec float64        `json:"deliver_per_sec"`
	P50           float64        `json:"p50_ms"`
	P95           float64        `json:"p95_ms"`
	P99           float64        `json:"p99_ms"`
	// Stages break the delivered events' end-to-end times down (see
	// Stages); Tenths do it for each tenth of them by end-to-end time.
	Stages map[string]Spread `json:"stages,omitempty"`
	Tenths []Slice           `json:"stage_tenths,omitempty"`
	// Received counts the messages handed to the worker; ReceivesPerEvent
	// is that over the events accepted.
	Received         int64              `json:"received"`
	ReceivesPerEvent float64            `json:"receives_per_event"`
	RateLimited      int                `json:"rate_limited"`
	BudgetUse        map[string]float64 `json:"budget_use"` // requests made / requests the budget allowed, over the windows before the last
	QuietP99         float64            `json:"quiet_p99_ms,omitempty"`
	// QuietAloneP99 is the quiet workspaces' p99 in a run of their own
	// just before (set by the caller that ran it), and QuietRatio
	// QuietP99 over it.
	QuietAloneP99 float64 `json:"quiet_alone_p99_ms,omitempty"`
	QuietRatio    float64 `json:"quiet_ratio,omitempty"`
	// QuietStages break the quiet workspaces' end-to-end times down.
	QuietStages map[string]Spread `json:"quiet_stages,omitempty"`
	// Shared is how the companies shared the global budget (runs with a
	// GlobalLimit).
	Shared    *Shared          `json:"shared,omitempty"`
	Latencies []Point          `json:"latencies"`
	PerWindow map[string][]int `json:"requests_per_window"`
	Window    float64          `json:"window_seconds"`
	Limit     int              `json:"limit"`
	// TargetP99Ms and TargetBudgetUse are the scenario's targets (zero:
	// none): end-to-end p99 in ms, and the share of the budget a backlog
	// should use.
	TargetP99Ms     float64 `json:"target_p99_ms,omitempty"`
	TargetBudgetUse float64 `json:"target_budget_use,omitempty"`
	// PerPosition counts the applications in Personio per job position
	// (routed runs).
	PerPosition map[string]int `json:"applications_per_position,omitempty"`
	// Budget is whether the requests Personio received kept the
	// scenario's promise (nil: it makes none).
	Budget *BudgetKept `json:"budget,omitempty"`
	// LogLines counts the log lines written during the run; Leaks those
	// that held a token, an applicant's e-mail address or name.
	LogLines int `json:"log_lines"`
	Leaks    int `json:"log_leaks"`
	// Stuck describes up to five events not in a final state at the end.
	Stuck []string `json:"stuck,omitempty"`
	// Misrecorded counts events Personio has whose record does not say
	// delivered (or unconfirmed: Personio answered "already exists" after
	// a lost answer; or dead saying Personio may have it); Wrong
	// describes up to five.
	Misrecorded int `json:"misrecorded"`
	// Unconfirmed counts events recorded as unconfirmed; Untagged the
	// applications in Personio without their event's id as a tag.
	Unconfirmed int `json:"unconfirmed"`
	// ConfirmedByRead counts events recorded as delivered because a read
	// of Personio's applications (read access) showed theirs after an
	// "already exists": their records name Personio's application id.
	ConfirmedByRead int      `json:"confirmed_by_read"`
	Untagged        int      `json:"untagged"`
	Wrong           []string `json:"wrong,omitempty"`
	// FirstPass is how long after the bulk was sent the worker had been
	// through it once (runs with a Pace).
	FirstPass float64 `json:"first_pass_seconds,omitempty"`
	// Restarts lists the restarts made mid-run.
	Restarts []string `json:"restarts,omitempty"`
	// Stalled says why the run ended before every event was final:
	// nothing progressed for Config.Stall ("" when every event is final).
	Stalled string `json:"stalled,omitempty"`
	// BudgetWrites counts, per company, the writes to its rate budget's
	// one item during the run (takes, reservations of turns, blocks: the
	// item's version), and BudgetWritesPerSec the most in any second the
	// sampler saw (the item's hottest write rate).
	BudgetWrites       map[string]int64   `json:"budget_writes,omitempty"`
	BudgetWritesPerSec map[string]float64 `json:"budget_writes_per_sec_max,omitempty"`
	// QueueMax is the most messages the queue held at once, by kind
	// (waiting, in flight, delayed), sampled every half second.
	QueueMax map[string]int `json:"queue_max,omitempty"`
	// AWS is what the stack asked of AWS during the run and its cost per
	// million delivered applications (cost.go).
	AWS *AWSUse `json:"aws,omitempty"`
	// CPU is the CPU time the run's processes took (cpu.go).
	CPU *CPUUse `json:"cpu,omitempty"`
}

// Point is one delivered event: seconds since start, end-to-end latency.
type Point struct {
	T       float64 `json:"t"`
	Ms      float64 `json:"ms"`
	Company string  `json:"company"`
}

// Run starts a sandbox and the local stack on awsCfg, sends the events and
// waits until every accepted event reaches a terminal state (or the
// timeout). Its phases: setUp, send, await, report.
func Run(ctx context.Context, awsCfg aws.Config, cfg Config) (*Report, error) {
	if cfg.RateLimit == 0 {
		cfg.RateLimit = 20
	}
	if cfg.RateWindow == 0 {
		cfg.RateWindow = time.Minute
	}
	if cfg.Stall <= 0 {
		cfg.Stall = 2 * time.Minute
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if cfg.Senders <= 0 {
		cfg.Senders = 8
	}
	if err := cfg.CheckPlan(); err != nil {
		return nil, err
	}
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}
	r := &run{cfg: cfg, awsCfg: awsCfg, accepted: map[string]sent{}}
	if err := r.setUp(ctx); err != nil {
		return nil, err
	}
	defer r.close()
	if !cfg.IngestOnly {
		r.startSampler()
	}
	r.send(ctx)
	if cfg.IngestOnly {
		return &Report{Name: cfg.Name, Events: len(r.plan), Accepted: len(r.accepted), Seconds: r.ingestDone.Seconds(),
			IngestPerSec: float64(len(r.accepted)) / r.ingestDone.Seconds(), Window: cfg.RateWindow.Seconds(), Limit: cfg.RateLimit,
			CPU: r.cpu.use()}, nil
	}
	if err := r.await(ctx); err != nil {
		return nil, err
	}
	return r.report(), nil
}

// run is one load run's state, from phase to phase.
type run struct {
	cfg    Config
	awsCfg aws.Config
	sb     *sandbox.Sandbox
	lcfg   localstack.Config
	stMu   sync.Mutex // the stack is replaced when the worker side restarts
	st     *localstack.Stack
	scan   *leakScanner
	stages *stageLog
	// received counts the messages the worker's pollers received, over
	// restarts.
	received atomic.Int64
	// plan holds each event's workspace index and CV, in the order they
	// are sent.
	plan []Planned
	// accepted are the events ingest took, by e-mail.
	mu         sync.Mutex
	accepted   map[string]sent
	start      time.Time
	cpu        *cpuClock // the processes' CPU time when start was taken
	cpuUse     *CPUUse   // taken when every accepted event was in the sandbox
	ingestDone time.Duration
	firstPass  time.Duration
	restarts   []string
	stalled    string
	track      *tracker
	sampler    *sampler
	meter      *awsmeter.Meter
}

// setUp starts the sandbox (a company per workspace) and the local stack,
// and makes each workspace's connection and integration through the
// editor API.
func (r *run) setUp(ctx context.Context) error {
	cfg := r.cfg
	pollers := cfg.Pollers
	if pollers <= 0 {
		pollers = settings.Default().WorkerConcurrency
	}
	if cfg.IngestOnly {
		pollers = -1
	}
	seed := sandbox.Seed{}
	for i := range cfg.Events {
		seed.Companies = append(seed.Companies, sandbox.Company{ID: strconv.Itoa(1000 + i), Token: fmt.Sprintf("load-token-%d", i),
			Positions:   append([]sandbox.Position{{ID: 1001, Name: "Load", Published: true}}, routedPositions(cfg)...),
			ReadClients: []sandbox.ReadClient{{ID: fmt.Sprintf("load-client-%d", i), Secret: fmt.Sprintf("load-secret-%d", i), Scopes: []string{personio.ScopeRecruitingRead}}}})
	}
	sb, err := sandbox.New(sandbox.Config{Seed: seed, Latency: cfg.Latency, RateLimit: cfg.RateLimit, IPLimit: cfg.GlobalLimit,
		RateWindow: cfg.RateWindow, Lockout: cfg.RateWindow, RandSeed: 7})
	if err != nil {
		return err
	}
	r.sb = sb
	sbLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = localstack.Serve(ctx, sbLn, sb) }()
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	r.scan, r.stages = &leakScanner{needles: needles}, newStageLog()
	r.meter = awsmeter.New()
	r.lcfg = localstack.Config{Addr: "127.0.0.1:0", AWS: r.meter.Config(r.awsCfg), Meter: r.meter, Received: &r.received,
		Logger: slog.New(slog.NewJSONHandler(r.meter.Log(io.MultiWriter(r.scan, r.stages)), nil)), PersonioBaseURL: "http://" + sbLn.Addr().String(),
		Table: "load-" + suffix, QueueName: "load-" + suffix, SecretPrefix: "load-" + suffix, Pollers: pollers,
		Adjust: func(s *settings.Settings) {
			// The run's window, with the deployment's margin in proportion.
			def := settings.Default().Budget
			s.Budget = settings.Budget{Limit: cfg.RateLimit, Window: cfg.RateWindow, Margin: cfg.RateWindow * def.Margin / def.Window}
			if cfg.BudgetMargin > 0 {
				s.Budget.Margin = cfg.BudgetMargin
			}
			if cfg.GlobalLimit > 0 {
				s.GlobalLimit = cfg.GlobalLimit
			}
			s.RateLimitPause, s.RetryBase, s.RetryMax = cfg.RateWindow, time.Second, 5*time.Second
			if cfg.PersonioTimeout > 0 {
				s.PersonioTimeout = cfg.PersonioTimeout
			}
		}}
	if r.st, err = localstack.Start(ctx, r.lcfg); err != nil {
		return err
	}
	r.lcfg.Addr = r.st.URL[len("http://"):]
	api := r.st.URL
	for i := range cfg.Events {
		ws := fmt.Sprintf("ws_load%d", i)
		token, _ := r.st.Auth.Mint(ws, "advanced", time.Hour)
		var con struct{ ID string }
		read := ""
		if cfg.ReadAccess {
			read = fmt.Sprintf(`,"read_access":{"client_id":"load-client-%d","client_secret":"load-secret-%d"}`, i, i)
		}
		if err := call(ctx, api, token, "POST", "/v1/connections", fmt.Sprintf(`{"name":"load","company_id":"%d","access_token":"load-token-%d"%s}`, 1000+i, i, read), &con); err != nil {
			return err
		}
		body := `{"connection_id":"` + con.ID + `","job_position_id":1001,"enabled":true,"mapping":{"version":1,"required":{"first_name":{"source":"contact.first_name"},"last_name":{"source":"contact.last_name"},"email":{"source":"contact.email"}},"optional":[{"target":"file:cv","source":"files.q_cv"}]}` + routingMember(cfg) + `}`
		if err := call(ctx, api, token, "PUT", "/v1/funnels/fn_load/integration", body, nil); err != nil {
			return err
		}
	}
	// Faults and counting from now on: the setup above is not part of the
	// run.
	sb.SetFaults(cfg.Faults)
	r.meter.Reset()
	r.plan = cfg.Plan()
	return nil
}

// interleave lists the workspace of each event to send, the workspaces
// taking turns (the first event of each, then the second of each…), as
// companies' applications come in together: sent one workspace after
// another, the last workspaces' events would come in when the first ones'
// were done.
func interleave(events []int) []int {
	var jobs []int
	for k := 0; ; k++ {
		added := false
		for i, n := range events {
			if k < n {
				jobs, added = append(jobs, i), true
			}
		}
		if !added {
			return jobs
		}
	}
}

func (r *run) close() {
	r.stMu.Lock()
	defer r.stMu.Unlock()
	r.st.Close()
}

// stack is the stack now running.
func (r *run) stack() *localstack.Stack {
	r.stMu.Lock()
	defer r.stMu.Unlock()
	return r.st
}

// sendOne posts event k, signed, and remembers it when ingest accepts it.
func (r *run) sendOne(ctx context.Context, api string, k int) {
	i := r.plan[k].Workspace
	email := fmt.Sprintf("e%d-%d@load.example.com", i, k)
	file := ""
	if r.plan[k].File {
		file = fmt.Sprintf(`,"files":[{"field_id":"q_cv","url":"%s/files/cv-load%d.pdf?X-Amz-Signature=loadsig-%d","filename":"cv.pdf"}]`, api, k, k)
	}
	body := fmt.Sprintf(`{"type":"application.submitted","id":"evt_l%d","occurred_at":"%s","workspace_id":"ws_load%d","funnel_id":"fn_load","contact":{"first_name":"Adaload%d","last_name":"Lovelace","email":"%s"}%s%s}`,
		k, time.Now().UTC().Format(time.RFC3339), i, k, email, file, routedAnswers(r.cfg, k))
	t0 := time.Now()
	if post(ctx, api, body) == nil {
		r.mu.Lock()
		r.accepted[email] = sent{start: t0, at: time.Now(), company: strconv.Itoa(1000 + i), ws: fmt.Sprintf("ws_load%d", i), id: fmt.Sprintf("evt_l%d", k)}
		r.mu.Unlock()
	}
}

// send posts every workspace's events, Senders at a time; with a Pace,
// the first workspace's in bulk and then, once the worker has been
// through them, the others' one every Pace.
func (r *run) send(ctx context.Context) {
	cfg, api := r.cfg, r.st.URL
	r.start = time.Now()
	if cfg.RestartEmulator == nil {
		r.cpu = startCPU(cfg.EmulatorPID)
	}
	bulk := len(r.plan)
	if cfg.Pace > 0 {
		bulk = cfg.Events[0]
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range cfg.Senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				k := int(next.Add(1)) - 1
				if k >= bulk || ctx.Err() != nil {
					return
				}
				r.sendOne(ctx, api, k)
			}
		}()
	}
	wg.Wait()
	if bulk < len(r.plan) && bulk > 0 {
		r.awaitFirstPass(ctx)
	}
	for k := bulk; k < len(r.plan) && ctx.Err() == nil; k++ {
		wg.Add(1)
		go func() { defer wg.Done(); r.sendOne(ctx, api, k) }()
		time.Sleep(cfg.Pace)
	}
	wg.Wait()
	r.ingestDone = time.Since(r.start)
	fmt.Fprintf(cfg.Progress, "%s: %d of %d events accepted in %s\n", cfg.Name, len(r.accepted), len(r.plan), r.ingestDone.Round(time.Millisecond))
}

// awaitFirstPass waits until the worker has been through the bulk once
// (no message visible in the queue: the backlog waits for its turns as
// delayed copies). Until then, every message is in one queue in the order
// it came, and on this machine the first pass through a burst of
// thousands takes the emulator a minute; on AWS, SQS's fair queues (the
// messages' group is the workspace) and Lambda's concurrency make it
// seconds.
func (r *run) awaitFirstPass(ctx context.Context) {
	t0 := time.Now()
	sqsc := awsclient.SQS(r.awsCfg)
	for ctx.Err() == nil {
		out, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(r.st.Queue.URL()),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
		if err == nil && out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)] == "0" {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	r.firstPass = time.Since(t0)
	fmt.Fprintf(r.cfg.Progress, "%s: the worker's first pass through the bulk ended %s after it was sent\n", r.cfg.Name, r.firstPass.Round(time.Millisecond))
}

// await waits until every accepted event's delivery is final, restarting
// the worker side (at 1/(n+1), 2/(n+1)… of the events delivered) and the
// emulator (half-way between the first two, or at half) as asked.
func (r *run) await(ctx context.Context) error {
	cfg := r.cfg
	restartAt := map[int]bool{}
	for i := 1; i <= cfg.Restarts; i++ {
		restartAt[len(r.accepted)*i/(cfg.Restarts+1)] = true
	}
	emulatorAt := -1
	if cfg.RestartEmulator != nil {
		emulatorAt = len(r.accepted) / 2
		if cfg.Restarts >= 2 {
			emulatorAt = len(r.accepted) * 3 / (2 * (cfg.Restarts + 1))
		}
	}
	last, lastSeen := -1, ""
	lastStates, lastCheck, lastProgress := time.Now(), time.Now(), time.Now()
	r.track = &tracker{final: map[string]string{}, mayBeThere: map[string]bool{}}
	for ctx.Err() == nil {
		got := r.sb.Arrived() // polled often: counted, not copied
		if got != last {
			lastProgress = time.Now()
			fmt.Fprintf(cfg.Progress, "%s: %d/%d delivered (%s)\n", cfg.Name, got, len(r.accepted), time.Since(r.start).Round(time.Second))
			last = got
		}
		for at := range restartAt {
			if got >= at {
				delete(restartAt, at)
				if err := r.restartWorkerSide(got); err != nil {
					return err
				}
			}
		}
		if emulatorAt >= 0 && got >= emulatorAt {
			emulatorAt = -1
			t0 := time.Now()
			if err := cfg.RestartEmulator(); err != nil {
				return fmt.Errorf("restart the emulator: %w", err)
			}
			r.restarted(fmt.Sprintf("emulator stopped and started again at %d delivered (%s; down %s)", got,
				time.Since(r.start).Round(time.Second), time.Since(t0).Round(time.Millisecond)))
		}
		// Records are read when every event is in the sandbox, or when
		// nothing arrived for 10 s (some end failed or dead, never in the
		// sandbox), at most every 10 s; final ones are not read again.
		// (Reading 10,000 records every few seconds would load the
		// emulator more than the run does.)
		if got >= len(r.accepted) && r.cpuUse == nil {
			r.cpuUse = r.cpu.use() // the last application arrived: before the records are read
		}
		if got >= len(r.accepted) || time.Since(lastProgress) > 10*time.Second && time.Since(lastCheck) > 10*time.Second {
			lastCheck = time.Now()
			done, states := r.track.check(ctx, r.stack().Store, r.accepted)
			if done == len(r.accepted) && len(restartAt) == 0 && emulatorAt < 0 || r.stall(states, &lastSeen, &lastProgress) {
				break
			}
			if time.Since(lastStates) > 30*time.Second {
				fmt.Fprintf(cfg.Progress, "%s: states %v\n", cfg.Name, states)
				lastStates = time.Now()
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

// stall notes progress — the records' states changed since seen — and
// reports whether nothing progressed for the run's Stall, saying so.
func (r *run) stall(states map[string]int, seen *string, progressed *time.Time) bool {
	if now := fmt.Sprint(states); now != *seen {
		*seen, *progressed = now, time.Now()
		return false
	}
	idle := time.Since(*progressed)
	if idle <= r.cfg.Stall {
		return false
	}
	r.stalled = fmt.Sprintf("no application arrived and no record changed state for %s: states %v", idle.Round(time.Second), states)
	fmt.Fprintf(r.cfg.Progress, "%s: %s\n", r.cfg.Name, r.stalled)
	return true
}

// restartWorkerSide kills the stack as a crash would and starts it again
// on the same state.
func (r *run) restartWorkerSide(delivered int) error {
	r.stMu.Lock()
	r.st.Kill()
	st, err := localstack.Start(context.Background(), r.lcfg)
	if err == nil {
		r.st = st
	}
	r.stMu.Unlock()
	if err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	r.restarted(fmt.Sprintf("worker side killed and started again at %d delivered (%s)", delivered, time.Since(r.start).Round(time.Second)))
	return nil
}

func (r *run) restarted(what string) {
	r.restarts = append(r.restarts, what)
	fmt.Fprintf(r.cfg.Progress, "%s: %s\n", r.cfg.Name, what)
}

// report compares what was accepted with what Personio received and how
// it was recorded.
func (r *run) report() *Report {
	cfg, st, accepted := r.cfg, r.stack(), r.accepted
	elapsed, cpu := time.Since(r.start), r.cpuUse
	if cpu == nil {
		cpu = r.cpu.use() // before the report's own reads
	}
	rep := &Report{CPU: cpu, Name: cfg.Name, Events: len(r.plan), Accepted: len(accepted), Seconds: elapsed.Seconds(),
		IngestPerSec: float64(len(accepted)) / r.ingestDone.Seconds(), BudgetUse: map[string]float64{}, PerWindow: map[string][]int{},
		Window: cfg.RateWindow.Seconds(), Limit: cfg.RateLimit, Restarts: r.restarts, FirstPass: r.firstPass.Seconds(), Stalled: r.stalled,
		TargetP99Ms: float64(cfg.TargetP99.Milliseconds()), TargetBudgetUse: cfg.TargetBudgetUse}
	if len(cfg.Routed) > 1 {
		rep.PerPosition = perPosition(r.sb)
	}
	_, rep.States = r.track.check(context.Background(), st.Store, accepted)
	for _, a := range accepted {
		if len(rep.Stuck) == 5 {
			break
		}
		if d, err := st.Store.GetDelivery(context.Background(), a.ws, a.id); err == nil && !d.Terminal() {
			rep.Stuck = append(rep.Stuck, fmt.Sprintf("%s %s owner=%s until=%s attempts=%+v", d.EventID, d.Status, d.ClaimOwner,
				time.UnixMilli(d.ClaimUntil).Format(time.TimeOnly), d.Attempts))
		}
	}
	seen := map[string]int{}
	created := map[string]time.Time{}
	var lat []float64
	var bds, quietBds []*breakdown
	for _, a := range r.sb.Applications("") {
		seen[a.Application.Email]++
		created[a.Application.Email] = a.ReceivedAt
		s, ok := accepted[a.Application.Email]
		if !ok || seen[a.Application.Email] > 1 {
			continue
		}
		if !slices.Contains(a.Application.Tags, s.id) {
			rep.Untagged++
		}
		ms := float64(a.ReceivedAt.Sub(s.start).Microseconds()) / 1000
		lat = append(lat, ms)
		if b := r.stages.of(s.id, float64(s.at.Sub(s.start).Microseconds())/1000, ms); b != nil {
			bds = append(bds, b)
			if cfg.Pace > 0 && s.company != "1000" {
				quietBds = append(quietBds, b)
			}
		}
		rep.Latencies = append(rep.Latencies, Point{T: a.ReceivedAt.Sub(r.start).Seconds(), Ms: ms, Company: s.company})
	}
	for email, a := range accepted {
		final := r.track.final[email]
		if final == string(lifecycle.StatusUnconfirmed) {
			rep.Unconfirmed++
		}
		if final == string(lifecycle.StatusDelivered) && cfg.ReadAccess {
			if d, err := st.Store.GetDelivery(context.Background(), a.ws, a.id); err == nil && d.PersonioApplicationID != "" {
				rep.ConfirmedByRead++
			}
		}
		if seen[email] > 0 && final != string(lifecycle.StatusDelivered) && final != string(lifecycle.StatusUnconfirmed) && !r.track.mayBeThere[email] {
			rep.Misrecorded++
			if d, err := st.Store.GetDelivery(context.Background(), a.ws, a.id); err == nil && len(rep.Wrong) < 5 {
				rep.Wrong = append(rep.Wrong, fmt.Sprintf("%s %s %s; created in Personio at %s; attempts=%+v", d.EventID, d.Status, d.Reason,
					created[email].UTC().Format("15:04:05.000"), d.Attempts))
			}
		}
		switch n := seen[email]; {
		case n == 0:
			rep.Lost++
		case n > 1:
			rep.Duplicates += n - 1
		}
	}
	rep.Delivered = len(accepted) - rep.Lost
	rep.DeliverPerSec = float64(rep.Delivered) / elapsed.Seconds()
	if len(lat) > 0 {
		slices.Sort(lat)
		rep.P50, rep.P95, rep.P99 = pct(lat, 50), pct(lat, 95), pct(lat, 99)
	}
	// With a Pace, the workspaces after the first are the quiet ones.
	if cfg.Pace > 0 {
		var quiet []float64
		for _, p := range rep.Latencies {
			if p.Company != "1000" {
				quiet = append(quiet, p.Ms)
			}
		}
		if len(quiet) > 0 {
			slices.Sort(quiet)
			rep.QuietP99 = pct(quiet, 99)
		}
	}
	rep.Stages, rep.Tenths = spreads(bds), tenths(bds)
	if len(quietBds) > 0 {
		rep.QuietStages = spreads(quietBds)
	}
	rep.Shared = r.shared()
	rep.Received = r.received.Load()
	if len(accepted) > 0 {
		rep.ReceivesPerEvent = float64(rep.Received) / float64(len(accepted))
	}
	rep.RateLimited = r.sb.Stats().RateLimited
	rep.LogLines, rep.Leaks = r.scan.counts()
	rep.Budget = cfg.keptBudget(r.sb.Requests)
	r.budgetUse(rep)
	if r.sampler != nil {
		rep.BudgetWrites, rep.BudgetWritesPerSec, rep.QueueMax = r.sampler.stop()
	}
	rep.AWS = r.awsUse(rep.Delivered)
	return rep
}

// sampler reads, every half second, each company's budget item (its
// version counts its writes) and the queue's counts, for the report.
type sampler struct {
	done    chan struct{}
	stopped chan struct{}
	mu      sync.Mutex
	first   map[string]int64
	last    map[string]int64
	perSec  map[string]float64
	queue   map[string]int
}

// startSampler samples the companies' budgets and the queue until stop.
func (r *run) startSampler() {
	s := &sampler{done: make(chan struct{}), stopped: make(chan struct{}), first: map[string]int64{}, last: map[string]int64{},
		perSec: map[string]float64{}, queue: map[string]int{}}
	r.sampler = s
	sqsc := awsclient.SQS(r.awsCfg)
	budget := store.Budget{Limit: r.cfg.RateLimit, Window: r.cfg.RateWindow}
	go func() {
		defer close(s.stopped)
		prev, prevAt := map[string]int64{}, time.Now()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-tick.C:
			}
			ctx := context.Background()
			now := time.Now()
			for i := range r.cfg.Events {
				company := strconv.Itoa(1000 + i)
				b, err := r.stack().Store.ReadBudget(ctx, company, budget)
				if err != nil || b.Version == 0 {
					continue
				}
				s.mu.Lock()
				if _, ok := s.first[company]; !ok {
					s.first[company] = b.Version // the writes before the run (the connection's check) are not its
				}
				s.last[company] = b.Version
				if p, ok := prev[company]; ok && now.Sub(prevAt) > 0 {
					s.perSec[company] = max(s.perSec[company], float64(b.Version-p)/now.Sub(prevAt).Seconds())
				}
				s.mu.Unlock()
				prev[company] = b.Version
			}
			prevAt = now
			out, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(r.stack().Queue.URL()),
				AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
					sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible, sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed}})
			if err != nil {
				continue
			}
			s.mu.Lock()
			for name, label := range map[sqstypes.QueueAttributeName]string{sqstypes.QueueAttributeNameApproximateNumberOfMessages: "waiting",
				sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible: "in_flight", sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed: "delayed"} {
				n, _ := strconv.Atoi(out.Attributes[string(name)])
				s.queue[label] = max(s.queue[label], n)
			}
			s.mu.Unlock()
		}
	}()
}

func (s *sampler) stop() (map[string]int64, map[string]float64, map[string]int) {
	close(s.done)
	<-s.stopped
	s.mu.Lock()
	defer s.mu.Unlock()
	writes := map[string]int64{}
	for c, v := range s.last {
		writes[c] = v - s.first[c]
	}
	return writes, s.perSec, s.queue
}

// budgetUse counts each company's requests per window, and its use of the
// budget while it had a backlog: the windows before the last (in which the
// backlog ran out).
func (r *run) budgetUse(rep *Report) {
	cfg := r.cfg
	for i := range cfg.Events {
		company := strconv.Itoa(1000 + i)
		counts := perWindow(r.runRequests(company), r.start, cfg.RateWindow)
		if len(counts) == 0 {
			continue
		}
		rep.PerWindow[company] = counts
		if full := counts[:len(counts)-1]; len(full) > 0 {
			sum := 0
			for _, n := range full {
				sum += n
			}
			rep.BudgetUse[company] = float64(sum) / float64(cfg.RateLimit*len(full))
		}
	}
}

// runRequests are the times of the requests Personio received from
// company during the run, in order: the setup's credential checks, which
// come before the start (a window or more before it when a run sets up
// many companies), are left out.
func (r *run) runRequests(company string) []time.Time {
	return since(r.sb.Requests(company), r.start)
}

// since is the times of the requests from start on.
func since(reqs []sandbox.Request, start time.Time) []time.Time {
	var out []time.Time
	for _, q := range reqs {
		if !q.At.Before(start) {
			out = append(out, q.At)
		}
	}
	return out
}

// perWindow counts times (in order, none before start) in fixed windows
// from start, up to the window of the last one.
func perWindow(times []time.Time, start time.Time, window time.Duration) []int {
	if len(times) == 0 {
		return nil
	}
	counts := make([]int, int(times[len(times)-1].Sub(start)/window)+1)
	for _, at := range times {
		counts[int(at.Sub(start)/window)]++
	}
	return counts
}

// needles are what no log line of a run may hold: every token, read
// access client secret and v2 access token (the sandbox's), e-mail and
// applicant name the run uses, and its file URLs' paths and
// pre-signed-looking queries.
var needles = [][]byte{[]byte("load-token-"), []byte("load-secret-"), []byte("sandbox-v2-"), []byte("@load.example.com"), []byte("Adaload"), []byte("Lovelace"),
	[]byte("/files/cv-load"), []byte("loadsig-")}

// leakScanner counts log lines and those that contain any needle.
type leakScanner struct {
	mu           sync.Mutex
	needles      [][]byte
	lines, leaks int
}

func (l *leakScanner) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		l.lines++
		for _, n := range l.needles {
			if bytes.Contains(line, n) {
				l.leaks++
				break
			}
		}
	}
	return len(p), nil
}

func (l *leakScanner) counts() (int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lines, l.leaks
}

// sent is an accepted event: when it was posted, and accepted.
type sent struct {
	start   time.Time
	at      time.Time
	company string
	ws, id  string
}

// tracker reads the delivery records of accepted events; a final state
// is remembered and not read again.
type tracker struct {
	final map[string]string // e-mail → final status
	// mayBeThere holds the e-mails of dead deliveries whose record says
	// Personio may have them (an answer was lost).
	mayBeThere map[string]bool
}

// check counts accepted events whose delivery reached a final state, and
// every state.
func (t *tracker) check(ctx context.Context, s *store.Store, accepted map[string]sent) (int, map[string]int) {
	states := map[string]int{}
	for email, a := range accepted {
		if st, ok := t.final[email]; ok {
			states[st]++
			continue
		}
		d, err := s.GetDelivery(ctx, a.ws, a.id)
		if err != nil {
			states["unknown"]++
			continue
		}
		states[string(d.Status)]++
		if d.Terminal() {
			t.final[email] = string(d.Status)
			if d.ReasonCode == lifecycle.ReasonExhaustedUnknown {
				t.mayBeThere[email] = true
			}
		}
	}
	return len(t.final), states
}

func pct(sorted []float64, p int) float64 {
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

func post(ctx context.Context, api, body string) error {
	status, answer, err := localstack.PostEvent(ctx, api, localstack.DevWebhookSecret, "msg_"+strconv.FormatInt(time.Now().UnixNano(), 36), []byte(body))
	if err == nil && status != http.StatusAccepted {
		err = fmt.Errorf("ingest answered %d: %s", status, answer)
	}
	return err
}

func call(ctx context.Context, api, token, method, path, body string, out any) error {
	req, _ := http.NewRequestWithContext(ctx, method, api+path, bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}
