// Package coldstart measures the Lambda functions' cold starts the way
// the Lambda service sees them: each function's binary, built with the
// flags of `make build` but for this machine's architecture, is started
// against a Runtime API played here (AWS_LAMBDA_RUNTIME_API), and the
// time from starting the process to its first GET .../invocation/next is
// what its init costs. Every AWS endpoint (and Personio, and the
// notifier's endpoint) points at a local stand-in that counts connections,
// so a function that calls out during its init is seen. Five more starts
// with GODEBUG=inittrace=1 give the packages' init times beside it (the
// start with the median total is reported).
//
// `local coldstart` (make coldstart) runs it for every function and
// writes the table docs/performance.md shows.
package coldstart

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/funnel-personio/funnel-personio/dev/testenv"
)

// SigningSecret is the webhook (and outbound) signing secret the
// functions are started with; FirstEvent signs ingest's event with it.
const SigningSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// Environment is what every function needs to pass its init, with every
// outside endpoint at endpoint (a URL such as http://127.0.0.1:1) and
// dummy credentials. AWS_LAMBDA_RUNTIME_API is not in it.
func Environment(endpoint string) []string {
	return []string{"AWS_REGION=eu-central-1", "AWS_ACCESS_KEY_ID=x", "AWS_SECRET_ACCESS_KEY=x",
		"AWS_ENDPOINT_URL=" + endpoint, "TABLE_NAME=t", "QUEUE_URL=" + endpoint + "/000000000000/q", "HASH_KEY=k",
		"WEBHOOK_SECRETS=" + SigningSecret, "FILE_HOSTS=files.example.com",
		"NOTIFY_URL=" + endpoint + "/hooks", "NOTIFY_QUEUE_URL=" + endpoint + "/000000000000/n", "OUTBOUND_SECRETS=" + SigningSecret,
		"PERSONIO_BASE_URL=" + endpoint, "PERSONIO_FEED_URL=" + endpoint + "/{subdomain}/xml"}
}

// Function is one Lambda function to measure.
type Function struct {
	// Name is the folder under functions/: api, ingest, worker, notifier,
	// watch.
	Name string
	// FirstEvent, when set, makes the event handed to the function at its
	// first request (at start time: signatures must be fresh); the time
	// from handing it out to the function's answer is measured too. It
	// must be an event the function answers without calling out.
	FirstEvent func(root string) ([]byte, error)
	// FirstEventNote says what the first event is, for the report.
	FirstEventNote string
	// WantStatus is the statusCode the answer to FirstEvent must carry.
	WantStatus int
	// MaxArm64Bytes is the size target of the stripped linux/arm64
	// binary (0: none); TestBinarySizes in functions/smoke holds it.
	MaxArm64Bytes int64
}

// Functions are the five Lambda functions (make build's LAMBDAS), with
// a first event for the two behind API Gateway and their size targets (MB
// of 10^6 bytes). The worker's is 21 MB: it reads Personio's v2 API to
// confirm outcomes and routes by answer besides what it did at 20 MB, and
// measured 20.25 MB with them (TestBinarySizes, 2026-12-07).
func Functions() []Function {
	return []Function{
		{Name: "api", FirstEvent: apiEvent, FirstEventNote: "GET /v1/targets (events/api/list-targets.json): router, OpenAPI checks, catalogue", WantStatus: 200,
			MaxArm64Bytes: 15e6},
		{Name: "ingest", FirstEvent: ingestEvent, FirstEventNote: "a freshly signed event whose id breaks the schema: signature, schema, every problem (no AWS call)", WantStatus: 400,
			MaxArm64Bytes: 12e6},
		{Name: "worker", MaxArm64Bytes: 21e6},
		{Name: "notifier"},
		{Name: "watch"},
	}
}

// Build builds functions/<name> as `make build` does (static,
// -tags lambda.norpc, -trimpath, stripped) for linux/goarch into out.
// root is the module's root.
func Build(ctx context.Context, root, name, goarch, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, "./functions/"+name)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("coldstart: build %s for %s: %w\n%s", name, goarch, err, b)
	}
	return nil
}

// Start is one start of a binary.
type Start struct {
	// Next is the time from starting the process to its first GET next.
	Next time.Duration
	// FirstEvent is the time from handing out the first event to the
	// function's answer (0 without one).
	FirstEvent time.Duration
	// Status is the statusCode of that answer.
	Status int
	// Connections counts connections to the outside stand-in before the
	// first GET next: calls the init made.
	Connections int
	// Stderr is what the process wrote to standard error.
	Stderr string
}

// ErrNeverAsked is returned when a process ends, or runs out of time,
// without asking for an event.
var ErrNeverAsked = errors.New("the process never asked the runtime API for an event")

// Run starts bin once with the environment the functions need plus
// extra, waits for its first GET next (at most timeout), hands it event
// when not nil and waits for the answer, then kills it.
func Run(ctx context.Context, bin string, extra []string, event []byte, timeout time.Duration) (Start, error) {
	api, err := newRuntimeAPI(event)
	if err != nil {
		return Start{}, err
	}
	defer api.close()
	outside, err := newConnCounter()
	if err != nil {
		return Start{}, err
	}
	defer outside.close()
	cmd := exec.Command(bin)
	cmd.Env = append(append(Environment(outside.url()), "AWS_LAMBDA_RUNTIME_API="+api.addr()), extra...)
	var stdout, stderr testenv.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Start{}, fmt.Errorf("coldstart: start %s: %w", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Kill()
		<-exited
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	fail := func(why string) (Start, error) {
		msg := fmt.Sprintf("%s: %s: %s", filepath.Base(bin), ErrNeverAsked.Error(), why)
		if e := api.reportedInitError(); e != "" {
			msg += "; init error: " + e
		}
		return Start{Stderr: stderr.String()}, fmt.Errorf("coldstart: %s\nstdout:\n%s\nstderr:\n%s: %w", msg, stdout.String(), stderr.String(), ErrNeverAsked)
	}
	select {
	case <-api.next:
	case err := <-exited:
		exited <- err
		return fail(fmt.Sprintf("it exited (%v)", err))
	case <-timer.C:
		return fail("not within " + timeout.String())
	case <-ctx.Done():
		return Start{}, ctx.Err()
	}
	s := Start{Next: api.firstAsked().Sub(start), Connections: outside.count()}
	if event != nil {
		select {
		case a := <-api.answered:
			s.FirstEvent, s.Status = a.at.Sub(api.handed()), a.status
			if a.kind != "response" {
				return s, fmt.Errorf("coldstart: %s answered the first event with an %s: %s", filepath.Base(bin), a.kind, a.body)
			}
		case err := <-exited:
			exited <- err
			return s, fmt.Errorf("coldstart: %s exited on the first event (%v)\n%s", filepath.Base(bin), err, stderr.String())
		case <-timer.C:
			return s, fmt.Errorf("coldstart: %s did not answer the first event within %s", filepath.Base(bin), timeout)
		case <-ctx.Done():
			return s, ctx.Err()
		}
	}
	s.Stderr = stderr.String()
	return s, nil
}

// Options are a measurement's settings.
type Options struct {
	// Root is the module's root.
	Root string
	// Dir holds the binaries (a temporary folder when empty).
	Dir string
	// Runs is the number of starts per function (default 20).
	Runs int
	// Timeout bounds each start (default 10 s).
	Timeout time.Duration
	// InitRuns is the number of starts with GODEBUG=inittrace=1 (default
	// 5); the one with the median total is reported.
	InitRuns int
	// Sizes also builds each function for linux/arm64 (the deployment's
	// architecture) and reports its size.
	Sizes bool
}

// Measure builds fn for this machine (and for arm64 when opts.Sizes),
// starts it opts.Runs times, then opts.InitRuns times with
// GODEBUG=inittrace=1.
func Measure(ctx context.Context, fn Function, opts Options) (Result, error) {
	if opts.Runs <= 0 {
		opts.Runs = 20
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.InitRuns <= 0 {
		opts.InitRuns = 5
	}
	dir := opts.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "coldstart-")
		if err != nil {
			return Result{}, fmt.Errorf("coldstart: %w", err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	res := Result{Function: fn.Name, Arch: runtime.GOARCH, Runs: opts.Runs, FirstEventNote: fn.FirstEventNote}
	host := filepath.Join(dir, fn.Name+"-"+runtime.GOARCH)
	if err := Build(ctx, opts.Root, fn.Name, runtime.GOARCH, host); err != nil {
		return res, err
	}
	res.HostBytes = fileSize(host)
	if opts.Sizes {
		arm := filepath.Join(dir, fn.Name+"-arm64")
		if err := Build(ctx, opts.Root, fn.Name, "arm64", arm); err != nil {
			return res, err
		}
		res.Arm64Bytes = fileSize(arm)
	}
	var nexts, firsts []time.Duration
	for i := 0; i < opts.Runs; i++ {
		var event []byte
		if fn.FirstEvent != nil {
			ev, err := fn.FirstEvent(opts.Root)
			if err != nil {
				return res, fmt.Errorf("coldstart: %s: first event: %w", fn.Name, err)
			}
			event = ev
		}
		s, err := Run(ctx, host, nil, event, opts.Timeout)
		if err != nil {
			return res, err
		}
		if event != nil && s.Status != fn.WantStatus {
			return res, fmt.Errorf("coldstart: %s answered the first event with status %d, want %d", fn.Name, s.Status, fn.WantStatus)
		}
		nexts = append(nexts, s.Next)
		if event != nil {
			firsts = append(firsts, s.FirstEvent)
		}
		res.Connections = max(res.Connections, s.Connections)
	}
	res.Next = summarise(nexts)
	if firsts != nil {
		sum := summarise(firsts)
		res.FirstEvent = &sum
	}
	// One inittrace is noisy on a shared machine: the run with the median
	// total of InitRuns.
	var traces []InitTrace
	for range opts.InitRuns {
		s, err := Run(ctx, host, []string{"GODEBUG=inittrace=1"}, nil, opts.Timeout)
		if err != nil {
			return res, err
		}
		traces = append(traces, ParseInitTrace(s.Stderr))
	}
	slices.SortFunc(traces, func(a, b InitTrace) int { return cmp.Compare(a.TotalMs, b.TotalMs) })
	res.Init = traces[len(traces)/2]
	res.InitRuns = len(traces)
	return res, nil
}

// MeasureAll measures each function in turn (one at a time: the starts
// must not compete for the cores), building all binaries first, two at
// a time.
func MeasureAll(ctx context.Context, fns []Function, opts Options) ([]Result, error) {
	if opts.Dir == "" {
		d, err := os.MkdirTemp("", "coldstart-")
		if err != nil {
			return nil, fmt.Errorf("coldstart: %w", err)
		}
		defer os.RemoveAll(d)
		opts.Dir = d
	}
	// Warm the build cache in parallel; Measure's builds then only link.
	var wg sync.WaitGroup
	errs := make([]error, len(fns))
	sem := make(chan struct{}, 2)
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = Build(ctx, opts.Root, fn.Name, runtime.GOARCH, filepath.Join(opts.Dir, fn.Name+"-"+runtime.GOARCH))
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := make([]Result, 0, len(fns))
	for _, fn := range fns {
		r, err := Measure(ctx, fn, opts)
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// Summary is the median and spread of a set of durations, in
// milliseconds.
type Summary struct {
	Median float64 `json:"median_ms"`
	Min    float64 `json:"min_ms"`
	Max    float64 `json:"max_ms"`
	// Each is every sample, in the order taken.
	Each []float64 `json:"each_ms"`
}

func summarise(ds []time.Duration) Summary {
	s := Summary{}
	for _, d := range ds {
		s.Each = append(s.Each, ms(d))
	}
	sorted := slices.Clone(s.Each)
	slices.Sort(sorted)
	if n := len(sorted); n > 0 {
		s.Min, s.Max = sorted[0], sorted[n-1]
		s.Median = sorted[n/2]
		if n%2 == 0 {
			s.Median = (sorted[n/2-1] + sorted[n/2]) / 2
		}
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func fileSize(p string) int64 {
	info, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return info.Size()
}
