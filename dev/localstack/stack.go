// Package localstack runs the whole pipeline on one machine with no AWS
// account: API Gateway (HTTP → API Gateway v2 events, local JWTs), the
// editor API, signed ingest, the queue with a poller playing the Lambda
// SQS event source mapping, the worker, and the Personio sandbox, on top of
// an AWS endpoint (kumo, see Emulator, or real AWS). The handlers are the
// very ones the Lambdas run, built by the same wiring (apilambda,
// ingestlambda, workerlambda) from settings.Local.
package localstack

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/funnel-personio/funnel-personio/dev/sandbox"
	"github.com/funnel-personio/funnel-personio/pkg/apilambda"
	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/ingestlambda"
	"github.com/funnel-personio/funnel-personio/pkg/notifierlambda"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/store"
	"github.com/funnel-personio/funnel-personio/pkg/watch"
	"github.com/funnel-personio/funnel-personio/pkg/watchlambda"
	"github.com/funnel-personio/funnel-personio/pkg/webhook"
	"github.com/funnel-personio/funnel-personio/pkg/workerlambda"
	"github.com/funnel-personio/funnel-personio/web"
)

// Dev defaults: documented, for local use only.
const (
	DevWebhookSecret = "whsec_ZnVubmVsLXBlcnNvbmlvLWxvY2FsLXNpZ25pbmc="
	DevJWTKey        = "funnel-personio-local-dev-jwt-key"
	DevHashKey       = "funnel-personio-local-dev-hash-key"
)

// Config configures the local stack. Zero values are the defaults.
type Config struct {
	Addr            string // API and ingest (default 127.0.0.1:8080)
	AWS             aws.Config
	Table           string // default funnel-personio
	QueueName       string // default funnel-personio-events
	SecretPrefix    string // default settings.Local's
	PersonioBaseURL string // another Personio; "" starts the sandbox
	PersonioFeedURL string
	SandboxAddr     string // default 127.0.0.1:8090
	Sandbox         sandbox.Config
	WebhookSecret   string
	JWTKey          []byte
	HashKey         []byte
	FileHosts       []string
	// Notifications, if set, gets a line for each outbound event the
	// local receiver accepts (make run prints them).
	Notifications io.Writer
	// Adjust, if set, changes the functions' settings (settings.Local,
	// with the names above) before anything is built: a load run's rate
	// window, a test's timeouts.
	Adjust func(*settings.Settings)
	// Pollers is the number of concurrent queue pollers feeding the
	// worker (default 2); negative runs no worker at all (ingest only).
	Pollers int
	Logger  *slog.Logger
	// Received, if set, counts the messages the worker's pollers hand
	// to the worker (a load run's receives per delivered event).
	Received *atomic.Int64
	// Meter, if set, is told of every invocation the stack plays and
	// who polls its queues, and counts the bytes of its log and metric
	// lines: a load run's requests and cost per application.
	Meter Meter
}

// Meter observes the functions the stack runs (see awsmeter.Meter).
type Meter interface {
	// Invoke is called as function starts an invocation that trigger
	// ("api-gateway", "sqs", "schedule") made; it returns the context to
	// run it in and a func to call when it returns.
	Invoke(ctx context.Context, function, trigger string) (context.Context, func())
	// Caller returns ctx naming who makes the AWS requests made in it.
	Caller(ctx context.Context, who string) context.Context
	// Log returns w, counting what is written to it.
	Log(w io.Writer) io.Writer
}

// metered wraps a handler so that each call is an invocation of function
// for the meter (h itself without one).
func metered[E, R any](m Meter, function, trigger string, h func(context.Context, E) (R, error)) func(context.Context, E) (R, error) {
	if m == nil {
		return h
	}
	return func(ctx context.Context, e E) (R, error) {
		ctx, done := m.Invoke(ctx, function, trigger)
		defer done()
		return h(ctx, e)
	}
}

// Stack is the running local stack.
type Stack struct {
	URL        string // http://addr of the API and ingest
	SandboxURL string // "" when another Personio is used
	Sandbox    *sandbox.Sandbox
	Auth       *DevAuth
	Store      *store.Store
	Queue      *queue.Queue
	DLQ        *queue.Queue
	// NotifyQueue and NotifyDLQ are the outbound events' queue pair.
	NotifyQueue, NotifyDLQ *queue.Queue
	// Watch is the watch the ticker runs (tests may run it themselves).
	Watch *watch.Watch
	// Settings are the functions' settings, as built (the worker moves
	// FileTransfers files at once for each of its pollers).
	Settings settings.Settings
	cfg      Config
	receiver *receiver

	servers []*http.Server
	stop    context.CancelFunc
	crash   context.CancelFunc
	wg      sync.WaitGroup
}

// Start builds and starts everything; Close stops it.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	def(&cfg.Addr, "127.0.0.1:8080")
	def(&cfg.Table, "funnel-personio")
	def(&cfg.QueueName, "funnel-personio-events")
	def(&cfg.SandboxAddr, "127.0.0.1:8090")
	def(&cfg.WebhookSecret, DevWebhookSecret)
	if cfg.JWTKey == nil {
		cfg.JWTKey = []byte(DevJWTKey)
	}
	if cfg.HashKey == nil {
		cfg.HashKey = []byte(DevHashKey)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Stack{cfg: cfg, Auth: NewDevAuth(cfg.JWTKey)}
	set := settings.Local()
	set.Table, set.HashKey, set.SigningSecrets, set.FileHosts = cfg.Table, cfg.HashKey, []string{cfg.WebhookSecret}, cfg.FileHosts
	if cfg.SecretPrefix != "" {
		set.SecretPrefix = cfg.SecretPrefix
	}
	if cfg.Adjust != nil {
		cfg.Adjust(&set)
	}
	if err := set.Check(); err != nil {
		return nil, fmt.Errorf("localstack: %w", err)
	}
	db, sqsc := awsclient.DynamoDB(cfg.AWS), awsclient.SQS(cfg.AWS)
	if err := store.CreateTable(ctx, db, cfg.Table); err != nil {
		return nil, fmt.Errorf("localstack: table: %w", err)
	}
	qurl, dlqurl, err := queue.Create(ctx, sqsc, set.QueueDefinition(cfg.QueueName))
	if err != nil {
		return nil, fmt.Errorf("localstack: queues: %w", err)
	}
	set.QueueURL = qurl
	nurl, ndlqurl, err := queue.Create(ctx, sqsc, set.NotifyQueueDefinition(cfg.QueueName+"-notify"))
	if err != nil {
		return nil, fmt.Errorf("localstack: outbound queues: %w", err)
	}
	set.NotifyQueueURL = nurl
	if len(set.OutboundSecrets) == 0 {
		set.OutboundSecrets = []string{DevOutboundSecret}
	}
	s.NotifyQueue, s.NotifyDLQ = queue.New(sqsc, nurl), queue.New(sqsc, ndlqurl)
	s.Settings = set
	s.Store, s.Queue, s.DLQ = set.OpenStore(db), queue.New(sqsc, qurl), queue.New(sqsc, dlqurl)

	apiLn, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("localstack: listen %s: %w", cfg.Addr, err)
	}
	s.URL = "http://" + apiLn.Addr().String()
	// The funnel platform's endpoint for outbound events, played here.
	if s.Settings.NotifyURL == "" {
		s.Settings.NotifyURL = s.URL + "/_notifications"
	}
	verifier, err := webhook.NewVerifier(s.Settings.OutboundSecrets)
	if err != nil {
		apiLn.Close()
		return nil, err
	}
	s.receiver = &receiver{verify: verifier, print: cfg.Notifications}
	// The local stack's sample files are fetched over plain HTTP from
	// its own address.
	s.Settings.AllowInsecure = append(s.Settings.AllowInsecure, apiLn.Addr().String())
	s.Settings.PersonioBaseURL, s.Settings.PersonioFeedURL = cfg.PersonioBaseURL, cfg.PersonioFeedURL
	if cfg.PersonioBaseURL == "" {
		sbCfg := cfg.Sandbox
		if len(sbCfg.Seed.Companies) == 0 {
			sbCfg.Seed = sandbox.DefaultSeed()
		}
		if s.Sandbox, err = sandbox.New(sbCfg); err != nil {
			apiLn.Close()
			return nil, err
		}
		sbLn, err := net.Listen("tcp", cfg.SandboxAddr)
		if err != nil {
			apiLn.Close()
			return nil, fmt.Errorf("localstack: listen %s: %w", cfg.SandboxAddr, err)
		}
		s.SandboxURL = "http://" + sbLn.Addr().String()
		s.Settings.PersonioBaseURL, s.Settings.PersonioFeedURL = s.SandboxURL, s.SandboxURL+"/careers/{subdomain}/xml"
		s.serve(sbLn, s.Sandbox)
	}
	router, err := apilambda.New(cfg.AWS, s.Settings, cfg.Logger)
	if err != nil {
		apiLn.Close()
		return nil, err
	}
	in, err := ingestlambda.New(cfg.AWS, s.Settings, cfg.Logger)
	if err != nil {
		apiLn.Close()
		return nil, err
	}
	var metricsOut io.Writer = metricsLog{cfg.Logger}
	if cfg.Meter != nil {
		// On AWS the metric lines are log lines too.
		metricsOut = cfg.Meter.Log(metricsOut)
	}
	// The one worker stands for as many invocations at once as there are
	// pollers (each hands it one batch at a time, as an invocation on AWS
	// handles one), and on AWS each of those has FileTransfers of its own.
	ws := s.Settings
	ws.FileTransfers *= pollers(cfg.Pollers)
	worker, err := workerlambda.New(cfg.AWS, ws, workerlambda.Options{Logger: cfg.Logger, Metrics: metricsOut})
	if err != nil {
		apiLn.Close()
		return nil, err
	}
	notifier, err := notifierlambda.New(cfg.AWS, s.Settings, cfg.Logger)
	if err != nil {
		apiLn.Close()
		return nil, err
	}
	if s.Watch, err = watchlambda.New(cfg.AWS, s.Settings, cfg.Logger); err != nil {
		apiLn.Close()
		return nil, err
	}

	gw := &Gateway{auth: s.Auth}
	gw.Route(http.MethodPost, "/v1/events", false, metered(cfg.Meter, "ingest", "api-gateway", in.Handle))
	api := APIHandler(metered(cfg.Meter, "api", "api-gateway", router.Serve))
	if s.Sandbox != nil {
		api = s.sandboxHints(api)
	}
	gw.Route("", "/v1/", true, api)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /files/{name}", sampleFile)
	mux.Handle("POST /_notifications", s.receiver)
	mux.Handle("/v1/", gw)
	// The setup page, with dev JWTs for the standalone page (web.Handler).
	mux.Handle("/", web.Handler(web.Options{DevToken: func(plan string) (string, error) { return s.Auth.Mint("ws_demo", plan, web.DevTokenTTL) }}))
	s.serve(apiLn, mux)

	pctx, cancel := context.WithCancel(context.Background())
	crash, crashNow := context.WithCancel(context.Background())
	s.stop, s.crash = cancel, crashNow
	p := &Poller{Queue: s.Queue, Handler: metered(cfg.Meter, "worker", "sqs", worker.Handle), Pollers: cfg.Pollers, Log: cfg.Logger, Crash: crash, Received: cfg.Received}
	if cfg.Pollers >= 0 {
		// The worker side: the worker, the notifier and the watch's
		// schedule (as in AWS, a ticker runs the watch every tick).
		np := &Poller{Queue: s.NotifyQueue, Handler: metered(cfg.Meter, "notifier", "sqs", notifier.Handle), Pollers: 1, Log: cfg.Logger, Crash: crash}
		wctx, nctx := pctx, pctx
		if cfg.Meter != nil {
			// The event source mappings' receives and deletes.
			wctx, nctx = cfg.Meter.Caller(pctx, "worker-source"), cfg.Meter.Caller(pctx, "notifier-source")
		}
		s.wg.Add(3)
		go func() { defer s.wg.Done(); p.Run(wctx) }()
		go func() { defer s.wg.Done(); np.Run(nctx) }()
		go func() { defer s.wg.Done(); s.tick(pctx, crash) }()
	}
	return s, nil
}

func (s *Stack) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	s.servers = append(s.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Logger.Error("localstack: serve", "error", err.Error())
		}
	}()
}

// Close stops taking requests and messages, finishes the batches in hand,
// and returns. What was in flight and not finished comes back from the
// queue after its visibility timeout: nothing is lost.
func (s *Stack) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, srv := range s.servers {
		_ = srv.Shutdown(ctx)
	}
	if s.stop != nil {
		s.stop()
	}
	s.wg.Wait()
	s.crash()
}

// Kill stops the stack as a crash would: connections are closed, and the
// batches in hand are abandoned wherever they are (their Personio and AWS
// requests cancelled, nothing deleted from the queue, claims left to
// expire). It returns when every goroutine of the stack has ended.
func (s *Stack) Kill() {
	s.crash()
	s.stop()
	for _, srv := range s.servers {
		_ = srv.Close()
	}
	s.wg.Wait()
}

// tick runs the watch every WatchTick until ctx ends (a run in hand is
// abandoned when crash ends).
func (s *Stack) tick(ctx, crash context.Context) {
	t := time.NewTicker(s.Settings.WatchTick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			run := metered(s.cfg.Meter, "watch", "schedule", func(ctx context.Context, _ struct{}) (struct{}, error) {
				_, err := s.Watch.Run(ctx)
				return struct{}{}, err
			})
			if _, err := run(crash, struct{}{}); err != nil {
				s.cfg.Logger.Warn("localstack: watch", "error", err.Error())
			}
		}
	}
}

// WebhookSecret is the signing secret ingest accepts.
func (s *Stack) WebhookSecret() string { return s.cfg.WebhookSecret }

// sampleFile serves a small PDF under any name, so local events can carry
// file URLs (http://127.0.0.1:8080/files/cv.pdf). A name that starts with
// "broken" cuts the connection instead, as a failing file host does.
func sampleFile(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if strings.HasPrefix(name, "broken") {
		panic(http.ErrAbortHandler)
	}
	w.Header().Set("Content-Type", "application/pdf")
	_, _ = fmt.Fprintf(w, "%%PDF-1.4\n%% sample file %s from the local stack\n%%%%EOF\n", strings.ReplaceAll(name, "\n", ""))
}

// metricsLog writes EMF lines to the log at debug level, not to the
// terminal.
type metricsLog struct{ log *slog.Logger }

func (m metricsLog) Write(p []byte) (int, error) {
	m.log.Debug("metric", "emf", strings.TrimSpace(string(p)))
	return len(p), nil
}

func def(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
