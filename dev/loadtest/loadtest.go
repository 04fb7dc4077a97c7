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

	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/delivery"
	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/pkg/store"
	"github.com/funnel-personio/funnel-personio/pkg/webhook"
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
	Events     []int
	FileShare  float64 // share of events with a CV file
	Latency    time.Duration
	Faults     sandbox.Faults
	RateLimit  int           // Personio's limit per company (default 20)
	RateWindow time.Duration // and its window (default 60 s)
	// PersonioTimeout bounds each Personio request (default 20 s); slow
	// faults should answer later than this.
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
	// Pollers is how many pollers feed the worker (default 4; the stack
	// allows 20 concurrent workers on AWS).
	Pollers int
	// Senders is how many events are posted at once (default 8).
	Senders int
	// Timeout bounds the whole run.
	Timeout  time.Duration
	Progress io.Writer
}

// Report is what a run measured.
type Report struct {
	Name          string             `json:"name"`
	Events        int                `json:"events"`
	Accepted      int                `json:"accepted"`
	Delivered     int                `json:"delivered"`
	Lost          int                `json:"lost"`
	Duplicates    int                `json:"duplicates"`
	States        map[string]int     `json:"states"`
	Seconds       float64            `json:"seconds"`
	IngestPerSec  float64            `json:"ingest_per_sec"`
	DeliverPerSec float64            `json:"deliver_per_sec"`
	P50           float64            `json:"p50_ms"`
	P95           float64            `json:"p95_ms"`
	P99           float64            `json:"p99_ms"`
	RateLimited   int                `json:"rate_limited"`
	BudgetUse     map[string]float64 `json:"budget_use"` // requests made / requests the budget allowed, over the windows before the last
	QuietP99      float64            `json:"quiet_p99_ms,omitempty"`
	Latencies     []Point            `json:"latencies"`
	PerWindow     map[string][]int   `json:"requests_per_window"`
	Window        float64            `json:"window_seconds"`
	Limit         int                `json:"limit"`
	// LogLines counts the log lines written during the run; Leaks those
	// that held a token, an applicant's e-mail address or name.
	LogLines int `json:"log_lines"`
	Leaks    int `json:"log_leaks"`
	// Stuck describes up to five events not in a final state at the end.
	Stuck []string `json:"stuck,omitempty"`
	// Misrecorded counts events Personio has whose record does not say
	// delivered; Wrong describes up to five.
	Misrecorded int      `json:"misrecorded"`
	Wrong       []string `json:"wrong,omitempty"`
	// FirstPass is how long after the bulk was sent the worker had been
	// through it once (runs with a Pace).
	FirstPass float64 `json:"first_pass_seconds,omitempty"`
	// Restarts lists the restarts made mid-run.
	Restarts []string `json:"restarts,omitempty"`
}

// Point is one delivered event: seconds since start, end-to-end latency.
type Point struct {
	T       float64 `json:"t"`
	Ms      float64 `json:"ms"`
	Company string  `json:"company"`
}

// Run starts a sandbox and the local stack on awsCfg, sends the events and
// waits until every accepted event reaches a terminal state (or the
// timeout).
func Run(ctx context.Context, awsCfg aws.Config, cfg Config) (*Report, error) {
	if cfg.RateLimit == 0 {
		cfg.RateLimit = 20
	}
	if cfg.RateWindow == 0 {
		cfg.RateWindow = time.Minute
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 10 * time.Minute
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if cfg.Senders <= 0 {
		cfg.Senders = 8
	}
	pollers := cfg.Pollers
	if pollers <= 0 {
		pollers = 4
	}
	if cfg.IngestOnly {
		pollers = -1
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	seed := sandbox.Seed{}
	for i := range cfg.Events {
		seed.Companies = append(seed.Companies, sandbox.Company{ID: strconv.Itoa(1000 + i), Token: fmt.Sprintf("load-token-%d", i),
			Positions: []sandbox.Position{{ID: 1001, Name: "Load", Published: true}}})
	}
	sb, err := sandbox.New(sandbox.Config{Seed: seed, Latency: cfg.Latency, RateLimit: cfg.RateLimit,
		RateWindow: cfg.RateWindow, Lockout: cfg.RateWindow, RandSeed: 7})
	if err != nil {
		return nil, err
	}
	sbLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() { _ = localstack.Serve(ctx, sbLn, sb) }()
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	// Needles: every token, e-mail and applicant name the run uses.
	scan := &leakScanner{needles: [][]byte{[]byte("load-token-"), []byte("@load.example.com"), []byte("Adaload"), []byte("Lovelace")}}
	lcfg := localstack.Config{Addr: "127.0.0.1:0", AWS: awsCfg, Logger: slog.New(slog.NewJSONHandler(scan, nil)), PersonioBaseURL: "http://" + sbLn.Addr().String(),
		Table: "load-" + suffix, QueueName: "load-" + suffix, SecretPrefix: "load-" + suffix, Pollers: pollers, PersonioTimeout: cfg.PersonioTimeout,
		Worker: delivery.Config{Budget: store.Budget{Limit: cfg.RateLimit, Window: cfg.RateWindow + cfg.RateWindow/60}, RateLimitPause: cfg.RateWindow,
			BaseBackoff: time.Second, MaxBackoff: 5 * time.Second}}
	st, err := localstack.Start(ctx, lcfg)
	if err != nil {
		return nil, err
	}
	lcfg.Addr = st.URL[len("http://"):]
	var stMu sync.Mutex
	defer func() { stMu.Lock(); st.Close(); stMu.Unlock() }()
	api := st.URL
	// One connection and integration per workspace, through the editor API.
	for i := range cfg.Events {
		ws := fmt.Sprintf("ws_load%d", i)
		token, _ := st.Auth.Mint(ws, "advanced", time.Hour)
		var con struct{ ID string }
		if err := call(ctx, api, token, "POST", "/v1/connections", fmt.Sprintf(`{"name":"load","company_id":"%d","access_token":"load-token-%d"}`, 1000+i, i), &con); err != nil {
			return nil, err
		}
		body := `{"connection_id":"` + con.ID + `","job_position_id":1001,"enabled":true,"mapping":{"version":1,"required":{"first_name":{"source":"contact.first_name"},"last_name":{"source":"contact.last_name"},"email":{"source":"contact.email"}},"optional":[{"target":"file:cv","source":"files.q_cv"}]}}`
		if err := call(ctx, api, token, "PUT", "/v1/funnels/fn_load/integration", body, nil); err != nil {
			return nil, err
		}
	}
	// Faults from now on: the setup above is not part of the run.
	sb.SetFaults(cfg.Faults)
	// Send: every workspace's events, Senders at a time.
	var mu sync.Mutex
	accepted := map[string]sent{}
	start := time.Now()
	var jobs []int
	for i, n := range cfg.Events {
		for range n {
			jobs = append(jobs, i)
		}
	}
	send := func(k int) {
		i := jobs[k]
		email := fmt.Sprintf("e%d-%d@load.example.com", i, k)
		file := ""
		if cfg.FileShare > 0 && float64(k%10) < cfg.FileShare*10 {
			file = `,"files":[{"field_id":"q_cv","url":"` + api + `/files/cv.pdf","filename":"cv.pdf"}]`
		}
		body := fmt.Sprintf(`{"type":"application.submitted","id":"evt_l%d","occurred_at":"%s","workspace_id":"ws_load%d","funnel_id":"fn_load","contact":{"first_name":"Adaload%d","last_name":"Lovelace","email":"%s"}%s}`,
			k, time.Now().UTC().Format(time.RFC3339), i, k, email, file)
		if post(ctx, api, body) == nil {
			mu.Lock()
			accepted[email] = sent{at: time.Now(), company: strconv.Itoa(1000 + i), ws: fmt.Sprintf("ws_load%d", i), id: fmt.Sprintf("evt_l%d", k)}
			mu.Unlock()
		}
	}
	var firstPass time.Duration
	// In bulk: every event, or with a Pace the first workspace's.
	bulk := len(jobs)
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
				send(k)
			}
		}()
	}
	wg.Wait()
	// Then the others, one every Pace, once the worker has been through
	// the bulk once (no message visible in the queue: the backlog waits
	// for its turns as delayed copies). Until then, every message is in
	// one queue in the order it came, and on this machine the first pass
	// through a burst of thousands takes the emulator a minute; on AWS,
	// SQS's fair queues (the messages' group is the workspace) and
	// Lambda's concurrency make it seconds.
	if bulk < len(jobs) && bulk > 0 {
		t0 := time.Now()
		sqsc := awsclient.SQS(awsCfg)
		for ctx.Err() == nil {
			out, err := sqsc.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(st.Queue.URL()),
				AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
			if err == nil && out.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)] == "0" {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		firstPass = time.Since(t0)
		fmt.Fprintf(cfg.Progress, "%s: the worker's first pass through the bulk ended %s after it was sent\n", cfg.Name, firstPass.Round(time.Millisecond))
	}
	for k := bulk; k < len(jobs) && ctx.Err() == nil; k++ {
		wg.Add(1)
		go func() { defer wg.Done(); send(k) }()
		time.Sleep(cfg.Pace)
	}
	wg.Wait()
	ingestDone := time.Since(start)
	fmt.Fprintf(cfg.Progress, "%s: %d of %d events accepted in %s\n", cfg.Name, len(accepted), len(jobs), ingestDone.Round(time.Millisecond))
	if cfg.IngestOnly {
		return &Report{Name: cfg.Name, Events: len(jobs), Accepted: len(accepted), Seconds: ingestDone.Seconds(),
			IngestPerSec: float64(len(accepted)) / ingestDone.Seconds(), Window: cfg.RateWindow.Seconds(), Limit: cfg.RateLimit}, nil
	}
	// Wait, restarting the worker side as asked.
	// Worker-side restarts at 1/(n+1), 2/(n+1)… of the events delivered,
	// the emulator's half-way between the first two (or at half).
	restartAt := map[int]bool{}
	for r := 1; r <= cfg.Restarts; r++ {
		restartAt[len(accepted)*r/(cfg.Restarts+1)] = true
	}
	emulatorAt := -1
	if cfg.RestartEmulator != nil {
		emulatorAt = len(accepted) / 2
		if cfg.Restarts >= 2 {
			emulatorAt = len(accepted) * 3 / (2 * (cfg.Restarts + 1))
		}
	}
	var restarts []string
	last := -1
	lastStates, lastCheck, lastProgress := time.Now(), time.Now(), time.Now()
	track := &tracker{final: map[string]string{}}
	for ctx.Err() == nil {
		got := len(sb.Applications(""))
		if got != last {
			lastProgress = time.Now()
			fmt.Fprintf(cfg.Progress, "%s: %d/%d delivered (%s)\n", cfg.Name, got, len(accepted), time.Since(start).Round(time.Second))
			last = got
		}
		for at := range restartAt {
			if got >= at {
				delete(restartAt, at)
				stMu.Lock()
				st.Kill()
				st, err = localstack.Start(context.Background(), lcfg)
				stMu.Unlock()
				if err != nil {
					return nil, fmt.Errorf("restart: %w", err)
				}
				restarts = append(restarts, fmt.Sprintf("worker side killed and started again at %d delivered (%s)", got, time.Since(start).Round(time.Second)))
				fmt.Fprintf(cfg.Progress, "%s: %s\n", cfg.Name, restarts[len(restarts)-1])
			}
		}
		if emulatorAt >= 0 && got >= emulatorAt {
			emulatorAt = -1
			t0 := time.Now()
			if err := cfg.RestartEmulator(); err != nil {
				return nil, fmt.Errorf("restart the emulator: %w", err)
			}
			restarts = append(restarts, fmt.Sprintf("emulator stopped and started again at %d delivered (%s; down %s)", got,
				time.Since(start).Round(time.Second), time.Since(t0).Round(time.Millisecond)))
			fmt.Fprintf(cfg.Progress, "%s: %s\n", cfg.Name, restarts[len(restarts)-1])
		}
		// Records are read when every event is in the sandbox, or when
		// nothing arrived for 10 s (some end failed or dead, never in the
		// sandbox), at most every 10 s; final ones are not read again.
		// (Reading 10,000 records every few seconds would load the
		// emulator more than the run does.)
		if got >= len(accepted) || time.Since(lastProgress) > 10*time.Second && time.Since(lastCheck) > 10*time.Second {
			lastCheck = time.Now()
			done, states := track.check(ctx, st.Store, accepted)
			if done == len(accepted) && len(restartAt) == 0 && emulatorAt < 0 {
				break
			}
			if time.Since(lastStates) > 30*time.Second {
				fmt.Fprintf(cfg.Progress, "%s: states %v\n", cfg.Name, states)
				lastStates = time.Now()
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	elapsed := time.Since(start)
	r := &Report{Name: cfg.Name, Events: len(jobs), Accepted: len(accepted), Seconds: elapsed.Seconds(),
		IngestPerSec: float64(len(accepted)) / ingestDone.Seconds(), BudgetUse: map[string]float64{}, PerWindow: map[string][]int{},
		Window: cfg.RateWindow.Seconds(), Limit: cfg.RateLimit, Restarts: restarts, FirstPass: firstPass.Seconds()}
	_, r.States = track.check(context.Background(), st.Store, accepted)
	for _, a := range accepted {
		if len(r.Stuck) == 5 {
			break
		}
		if d, err := st.Store.GetDelivery(context.Background(), a.ws, a.id); err == nil && !d.Terminal() {
			r.Stuck = append(r.Stuck, fmt.Sprintf("%s %s owner=%s until=%s attempts=%+v", d.EventID, d.Status, d.ClaimOwner,
				time.UnixMilli(d.ClaimUntil).Format(time.TimeOnly), d.Attempts))
		}
	}
	seen := map[string]int{}
	created := map[string]time.Time{}
	var lat []float64
	for _, a := range sb.Applications("") {
		seen[a.Application.Email]++
		created[a.Application.Email] = a.ReceivedAt
		s, ok := accepted[a.Application.Email]
		if !ok || seen[a.Application.Email] > 1 {
			continue
		}
		ms := float64(a.ReceivedAt.Sub(s.at).Milliseconds())
		lat = append(lat, ms)
		r.Latencies = append(r.Latencies, Point{T: a.ReceivedAt.Sub(start).Seconds(), Ms: ms, Company: s.company})
	}
	for email, a := range accepted {
		if seen[email] > 0 && track.final[email] != string(store.StatusDelivered) {
			r.Misrecorded++
			if d, err := st.Store.GetDelivery(context.Background(), a.ws, a.id); err == nil && len(r.Wrong) < 5 {
				r.Wrong = append(r.Wrong, fmt.Sprintf("%s %s %s; created in Personio at %s; attempts=%+v", d.EventID, d.Status, d.Reason,
					created[email].UTC().Format("15:04:05.000"), d.Attempts))
			}
		}
		switch n := seen[email]; {
		case n == 0:
			r.Lost++
		case n > 1:
			r.Duplicates += n - 1
		}
	}
	r.Delivered = len(accepted) - r.Lost
	r.DeliverPerSec = float64(r.Delivered) / elapsed.Seconds()
	if len(lat) > 0 {
		slices.Sort(lat)
		r.P50, r.P95, r.P99 = pct(lat, 50), pct(lat, 95), pct(lat, 99)
	}
	// With a Pace, the workspaces after the first are the quiet ones.
	if cfg.Pace > 0 {
		var quiet []float64
		for _, p := range r.Latencies {
			if p.Company != "1000" {
				quiet = append(quiet, p.Ms)
			}
		}
		if len(quiet) > 0 {
			slices.Sort(quiet)
			r.QuietP99 = pct(quiet, 99)
		}
	}
	r.RateLimited = sb.Stats().RateLimited
	r.LogLines, r.Leaks = scan.counts()
	for i := range cfg.Events {
		company := strconv.Itoa(1000 + i)
		reqs := sb.Requests(company)
		if len(reqs) == 0 {
			continue
		}
		lastReq := reqs[len(reqs)-1].At
		counts := make([]int, int(lastReq.Sub(start)/cfg.RateWindow)+1)
		for _, q := range reqs {
			counts[int(q.At.Sub(start)/cfg.RateWindow)]++
		}
		r.PerWindow[company] = counts
		// Use of the budget while the company had a backlog: the windows
		// before the last (in which the backlog ran out).
		if full := counts[:len(counts)-1]; len(full) > 0 {
			sum := 0
			for _, n := range full {
				sum += n
			}
			r.BudgetUse[company] = float64(sum) / float64(cfg.RateLimit*len(full))
		}
	}
	return r, nil
}

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

// sent is an accepted event.
type sent struct {
	at      time.Time
	company string
	ws, id  string
}

// tracker reads the delivery records of accepted events; a final state
// is remembered and not read again.
type tracker struct {
	final map[string]string // e-mail → final status
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
		}
	}
	return len(t.final), states
}

func pct(sorted []float64, p int) float64 {
	i := (len(sorted)*p + 99) / 100
	return sorted[min(max(i-1, 0), len(sorted)-1)]
}

func post(ctx context.Context, api, body string) error {
	h, err := webhook.Sign(localstack.DevWebhookSecret, "msg_"+strconv.FormatInt(time.Now().UnixNano(), 36), time.Now(), []byte(body))
	if err != nil {
		return err
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, api+"/v1/events", bytes.NewReader([]byte(body)))
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != 202 {
		return fmt.Errorf("ingest: %d", resp.StatusCode)
	}
	return nil
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
