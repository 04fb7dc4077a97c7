// Package settings is the one place where the system's deployment defaults
// live: the rate budget, each workspace's limits, the timeouts and what is derived from them (the
// queue's visibility timeout, the claim lease), the receive count, the
// retention, the plans. The CDK stack (infra), the five functions and the
// local stack all start from Default (or Local), and the stack hands every
// value to the functions in their environment, where FromEnv reads it back.
// Check holds the values that depend on each other together.
//
// The functions' environment:
//
//	variable              setting              default
//	TABLE_NAME            Table                (the stack's table)
//	QUEUE_URL             QueueURL             (the stack's queue)
//	DLQ_URL               DLQURL               (the stack's dead-letter queue; the operator command only)
//	SECRET_PREFIX         SecretPrefix         funnel-personio/connections
//	HASH_KEY              HashKey              (or the secret HASH_KEY_SECRET_ID names)
//	WEBHOOK_SECRETS       SigningSecrets       (or the secret WEBHOOK_SECRET_ID names; comma-separated)
//	PERSONIO_BASE_URL     PersonioBaseURL      Personio's own
//	PERSONIO_FEED_URL     PersonioFeedURL      Personio's own
//	FILE_HOSTS            FileHosts            (comma-separated host suffixes)
//	FILE_ALLOW_INSECURE   AllowInsecure        (local runs only)
//	ALLOWED_PLANS         Plans                advanced,professional,enterprise
//	RETENTION             Retention            720h
//	BUDGET_LIMIT          Budget.Limit         20
//	BUDGET_WINDOW         Budget.Window        60s
//	BUDGET_MARGIN         Budget.Margin        1s
//	GLOBAL_LIMIT          GlobalLimit          2000 (all companies' requests per BUDGET_WINDOW; 0: none)
//	RATE_LIMIT_PAUSE      RateLimitPause       60s
//	CHECK_LIMIT           CheckLimit.Limit     5 (credential checks per workspace)
//	CHECK_WINDOW          CheckLimit.Window    60s
//	TEST_LIMIT            TestLimit.Limit      5 (test applications per workspace)
//	TEST_WINDOW           TestLimit.Window     60s
//	MAX_RECEIVE_COUNT     MaxReceiveCount      8
//	API_TIMEOUT           APITimeout           15s
//	INGEST_TIMEOUT        IngestTimeout        10s
//	WORKER_TIMEOUT        WorkerTimeout        30s (visibility 6×, lease 4×)
//	PERSONIO_TIMEOUT      PersonioTimeout      10s
//	FILE_TIMEOUT          FileTimeout          10s
//	CACHE_TTL             CacheTTL             60s
//	FILE_TRANSFERS        FileTransfers        4
//	RETRY_BASE            RetryBase            5s
//	RETRY_MAX             RetryMax             15m
//	NOTIFY_URL            NotifyURL            (the platform's endpoint for outbound events)
//	NOTIFY_QUEUE_URL      NotifyQueueURL       (the stack's outbound queue)
//	OUTBOUND_SECRETS      OutboundSecrets      (or the secret OUTBOUND_SECRET_ID names; comma-separated)
//	NOTIFY_TIMEOUT        NotifyTimeout        10s (one post; the notifier's own timeout is 3×)
//	NOTIFY_RETRY_BASE     NotifyRetryBase      10s
//	NOTIFY_RETRY_MAX      NotifyRetryMax       5m
//	NOTIFY_RECEIVES       NotifyReceives       30 (then the outbound dead-letter queue)
//	WATCH_INTERVAL        WatchInterval        1h (each switched-on position checked once)
//	WATCH_TICK            WatchTick            5m (the watch runs; companies spread over the ticks)
//	HEALTH_INTERVAL       HealthInterval       24h (each connection's credentials checked once)
//	CONFIRM_CHECKS        ConfirmChecks        12 (reads of an unconfirmed delivery by the watch, one a tick)
package settings

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// Budget is the per-company rate budget: Personio allows Limit requests in
// any Window; the budget spends them over Window + Margin, so that a
// request that reaches Personio a moment after its unit was taken still
// falls in Personio's window.
type Budget struct {
	Limit  int
	Window time.Duration
	Margin time.Duration
}

// WorkspaceLimit is how many requests of one kind a workspace may make in
// any Window, whichever instance of the API answers them.
type WorkspaceLimit struct {
	Limit  int
	Window time.Duration
}

// Settings are every function's configuration; each function reads what it
// needs.
type Settings struct {
	Table    string
	QueueURL string
	// DLQURL is the dead-letter queue's: the operator command reads it
	// (the stack's output DeadLetterQueueUrl); no function needs it.
	DLQURL          string
	SecretPrefix    string
	HashKey         []byte
	SigningSecrets  []string
	PersonioBaseURL string // "" is Personio's own
	PersonioFeedURL string // "" is Personio's own
	FileHosts       []string
	AllowInsecure   []string
	Plans           []string
	// Retention is how long delivery records, with the applicant data
	// they hold, are kept.
	Retention time.Duration
	Budget    Budget
	// GlobalLimit is how many requests all companies together may make
	// in the budget's window: Personio's cap on one IP address's v1
	// requests (2,000 a minute), which every company behind the
	// functions' egress address shares (0: no global budget).
	GlobalLimit int
	// RateLimitPause is how long a company's deliveries wait after
	// Personio answered 429 (Personio asks for a minute).
	RateLimitPause time.Duration
	// CheckLimit bounds a workspace's credential checks (creating a
	// connection, checking it again, replacing its credentials): each may
	// be a request to Personio out of the company's budget, which other
	// workspaces' deliveries share.
	CheckLimit WorkspaceLimit
	// TestLimit bounds a workspace's test applications: each is a real
	// application in Personio, out of the company's budget.
	TestLimit WorkspaceLimit
	// MaxReceiveCount is how many receives a message gets before the
	// dead-letter queue; the worker records the attempt that reaches it
	// as dead.
	MaxReceiveCount int
	// APITimeout, IngestTimeout and WorkerTimeout bound one invocation of
	// each function.
	APITimeout, IngestTimeout, WorkerTimeout time.Duration
	// PersonioTimeout bounds one Personio request, FileTimeout one file
	// download.
	PersonioTimeout, FileTimeout time.Duration
	// CacheTTL is how long the worker keeps tokens and compiled mappings
	// (each under its connection's or integration's version).
	CacheTTL time.Duration
	// FileTransfers bounds the files one worker invocation moves at once.
	FileTransfers int
	// RetryBase and RetryMax bound the worker's retry delays (doubling,
	// with equal jitter, pkg/backoff).
	RetryBase, RetryMax time.Duration
	// NotifyURL is the funnel platform's endpoint for outbound events
	// ("" sends none); NotifyQueueURL the outbound queue; OutboundSecrets
	// sign them (several during a rotation).
	NotifyURL       string
	NotifyQueueURL  string
	OutboundSecrets []string
	// NotifyTimeout bounds one post of an outbound event; NotifyRetryBase
	// and NotifyRetryMax the delays between tries; NotifyReceives the
	// tries before the outbound dead-letter queue.
	NotifyTimeout, NotifyRetryBase, NotifyRetryMax time.Duration
	NotifyReceives                                 int
	// WatchInterval is how often each switched-on integration's position
	// is checked against its career site's feed, WatchTick how often the
	// watch runs (the companies are spread over the ticks of an
	// interval), HealthInterval how often each connection's credentials
	// are checked (one unit of an idle budget).
	WatchInterval, WatchTick, HealthInterval time.Duration
	// ConfirmChecks is how many times the watch reads Personio's
	// applications (one read a run, with a connection's read access) for
	// a delivery that stayed unconfirmed, before it leaves it so.
	ConfirmChecks int
	// QueueRetention and DLQRetention keep messages in the queue and the
	// dead-letter queue.
	QueueRetention, DLQRetention time.Duration
	// Memory is each function's memory in MB, by its name in functions/:
	// the stack's MemorySize (and the Go heap's limit derived from it),
	// and what a load run prices each function's GB-seconds with. The
	// functions do not read it.
	Memory map[string]int
	// WorkerConcurrency is how many worker invocations the queue's event
	// source runs at once at most: the stack's MaximumConcurrency, and the
	// pollers a load run plays it with. The functions do not read it.
	WorkerConcurrency int
}

// Default returns the settings of a deployment, without the names of its
// resources and its secrets.
func Default() Settings {
	return Settings{
		SecretPrefix: "funnel-personio/connections",
		Plans:        []string{"advanced", "professional", "enterprise"},
		Retention:    30 * 24 * time.Hour,
		Budget:       Budget{Limit: 20, Window: 60 * time.Second, Margin: time.Second}, GlobalLimit: 2000,
		RateLimitPause: 60 * time.Second, MaxReceiveCount: 8,
		CheckLimit: WorkspaceLimit{Limit: 5, Window: time.Minute}, TestLimit: WorkspaceLimit{Limit: 5, Window: time.Minute},
		APITimeout: 15 * time.Second, IngestTimeout: 10 * time.Second, WorkerTimeout: 30 * time.Second,
		PersonioTimeout: 10 * time.Second, FileTimeout: 10 * time.Second,
		CacheTTL: time.Minute, FileTransfers: 4, RetryBase: 5 * time.Second, RetryMax: 15 * time.Minute,
		QueueRetention: 4 * 24 * time.Hour, DLQRetention: 14 * 24 * time.Hour,
		NotifyTimeout: 10 * time.Second, NotifyRetryBase: 10 * time.Second, NotifyRetryMax: 5 * time.Minute, NotifyReceives: 30,
		WatchInterval: time.Hour, WatchTick: 5 * time.Minute, HealthInterval: 24 * time.Hour, ConfirmChecks: 12,
		Memory: map[string]int{"api": 256, "ingest": 256, "worker": 512, "notifier": 128, "watch": 256}, WorkerConcurrency: 20,
	}
}

// Local returns the settings of the local stack: Default with a 5 s worker
// timeout, so that what a crash leaves in flight comes back within 30 s
// (the visibility timeout) and its claims end within 20 s (the lease), and
// Personio and file timeouts to fit; the watch runs every 10 s and checks
// each position every minute.
func Local() Settings {
	s := Default()
	s.WorkerTimeout = 5 * time.Second
	s.PersonioTimeout, s.FileTimeout = 2*time.Second, 2*time.Second
	s.WatchTick, s.WatchInterval = 10*time.Second, time.Minute
	return s
}

// VisibilityTimeout is the queue's: 6 × the worker's timeout, as AWS
// advises for Lambda event sources.
func (s Settings) VisibilityTimeout() time.Duration { return 6 * s.WorkerTimeout }

// Lease is how long a worker's claim on an event lasts: 4 × the worker's
// timeout. It outlives the invocation that holds it (a live worker never
// loses its claim) and ends before the message comes back after a crash
// (the visibility timeout), so the next receive can take it over.
func (s Settings) Lease() time.Duration { return 4 * s.WorkerTimeout }

// DeadlineMargin is how long before the end of a worker invocation each
// record stops working, so that it records a retry (and the partial
// batch answer goes out) before Lambda ends the invocation: a tenth of the
// worker's timeout.
func (s Settings) DeadlineMargin() time.Duration { return s.WorkerTimeout / 10 }

// RateBudget is the budget the store keeps: Limit per Window + Margin.
func (s Settings) RateBudget() store.Budget {
	return store.Budget{Limit: s.Budget.Limit, Window: s.Budget.Window + s.Budget.Margin}
}

// GlobalBudget is the budget all companies' takes share, over the same
// window as each company's.
func (s Settings) GlobalBudget() store.GlobalBudget {
	return store.GlobalBudget{Limit: s.GlobalLimit, Window: s.Budget.Window + s.Budget.Margin}
}

// OpenStore is the store on the settings' table: its retention, and the
// global budget every company's take shares.
func (s Settings) OpenStore(db store.DynamoDB) *store.Store {
	return store.New(db, s.Table, s.Retention, store.WithGlobal(s.GlobalBudget()))
}

// MaxFiles is the most files an application may carry: its requests (each
// file and the application itself) must fit in one window of the budget.
func (s Settings) MaxFiles() int { return s.Budget.Limit - 1 }

// ErasureMarkerTTL is how long an erasure's marker lives: longer than any
// copy of an event can (a message expires by its first enqueue time, in
// the queue and in the dead-letter queue alike), and a day more.
func (s Settings) ErasureMarkerTTL() time.Duration {
	return max(s.QueueRetention, s.DLQRetention) + 24*time.Hour
}

// CheckBudget is the workspace's budget of credential checks the store
// keeps.
func (s Settings) CheckBudget() store.Budget {
	return store.Budget{Limit: s.CheckLimit.Limit, Window: s.CheckLimit.Window}
}

// TestBudget is the workspace's budget of test applications the store
// keeps.
func (s Settings) TestBudget() store.Budget {
	return store.Budget{Limit: s.TestLimit.Limit, Window: s.TestLimit.Window}
}

// NotifierTimeout is the notifier function's timeout: room for a batch's
// posts, which run at once, each bounded by NotifyTimeout.
func (s Settings) NotifierTimeout() time.Duration { return 3 * s.NotifyTimeout }

// WatchTimeout is the watch function's timeout: a tick's feeds and checks.
func (s Settings) WatchTimeout() time.Duration { return 2 * time.Minute }

// WatchFeedReaders is how many career-site feeds a watch run reads at
// once, WatchFeedsPerWorkspace how many of one workspace's feeds it reads
// at most (the rest wait for the next run): with feed reads bounded by
// PersonioTimeout, one workspace's feeds take at most a share of a run.
func (s Settings) WatchFeedReaders() int { return 4 }

// WatchFeedsPerWorkspace: see WatchFeedReaders.
func (s Settings) WatchFeedsPerWorkspace() int { return 10 }

// NotifyQueueDefinition is the outbound queue pair: visibility 6 × the
// notifier's timeout, NotifyReceives tries, the same retention as the
// events' queue.
func (s Settings) NotifyQueueDefinition(name string) queue.Definition {
	return queue.Definition{Name: name, VisibilityTimeout: 6 * s.NotifierTimeout(), MaxReceiveCount: s.NotifyReceives,
		Retention: s.QueueRetention, DLQRetention: s.DLQRetention}
}

// HealthKeep is how many units of a company's budget a health check leaves
// free: half of it, so that it never takes what applications need.
func (s Settings) HealthKeep() int { return s.Budget.Limit / 2 }

// QueueDefinition is the queue pair these settings describe.
func (s Settings) QueueDefinition(name string) queue.Definition {
	return queue.Definition{Name: name, VisibilityTimeout: s.VisibilityTimeout(), MaxReceiveCount: s.MaxReceiveCount,
		Retention: s.QueueRetention, DLQRetention: s.DLQRetention}
}

// Check reports every setting that is out of range or does not fit with
// another, at once.
func (s Settings) Check() error {
	var errs []string
	positive := map[string]time.Duration{
		VarRetention: s.Retention, VarBudgetWindow: s.Budget.Window, VarRateLimitPause: s.RateLimitPause,
		VarAPITimeout: s.APITimeout, VarIngestTimeout: s.IngestTimeout, VarWorkerTimeout: s.WorkerTimeout,
		VarPersonioTimeout: s.PersonioTimeout, VarFileTimeout: s.FileTimeout, VarCacheTTL: s.CacheTTL,
		VarRetryBase: s.RetryBase, VarRetryMax: s.RetryMax, VarCheckWindow: s.CheckLimit.Window, VarTestWindow: s.TestLimit.Window,
		VarNotifyTimeout: s.NotifyTimeout, VarNotifyRetryBase: s.NotifyRetryBase, VarNotifyRetryMax: s.NotifyRetryMax,
		VarWatchInterval: s.WatchInterval, VarWatchTick: s.WatchTick, VarHealthInterval: s.HealthInterval,
	}
	for _, name := range envOrder {
		if d, ok := positive[name]; ok && d <= 0 {
			errs = append(errs, name+" must be positive")
		}
	}
	if s.Budget.Margin < 0 {
		errs = append(errs, VarBudgetMargin+" must not be negative")
	}
	if s.Budget.Limit < 1 {
		errs = append(errs, VarBudgetLimit+" must be at least 1")
	}
	if g := s.GlobalBudget(); s.GlobalLimit != 0 && g.PerSlot() < s.Budget.Limit {
		// Each of the guard's slots must hold an application with the
		// most files.
		errs = append(errs, fmt.Sprintf("%s must be 0 or at least %d (%d × %s)", VarGlobalLimit, (store.GuardSlots+1)*s.Budget.Limit,
			store.GuardSlots+1, VarBudgetLimit))
	}
	if s.MaxReceiveCount < 1 {
		errs = append(errs, VarMaxReceiveCount+" must be at least 1")
	}
	if s.FileTransfers < 1 {
		errs = append(errs, VarFileTransfers+" must be at least 1")
	}
	if s.NotifyReceives < 1 {
		errs = append(errs, VarNotifyReceives+" must be at least 1")
	}
	if s.NotifyRetryBase > s.NotifyRetryMax {
		errs = append(errs, VarNotifyRetryBase+" must not exceed "+VarNotifyRetryMax)
	}
	if s.WatchTick > s.WatchInterval || s.WatchTick > s.HealthInterval {
		errs = append(errs, VarWatchTick+" must not exceed "+VarWatchInterval+" or "+VarHealthInterval)
	}
	if s.ConfirmChecks < 0 {
		errs = append(errs, VarConfirmChecks+" must not be negative")
	}
	if s.CheckLimit.Limit < 1 {
		errs = append(errs, VarCheckLimit+" must be at least 1")
	}
	if s.TestLimit.Limit < 1 {
		errs = append(errs, VarTestLimit+" must be at least 1")
	}
	// A record's Personio request and file download happen within one
	// worker invocation; the credential check within one API invocation.
	if s.PersonioTimeout+s.FileTimeout > s.WorkerTimeout {
		errs = append(errs, fmt.Sprintf("%s (%s) + %s (%s) must fit in %s (%s)", VarPersonioTimeout, s.PersonioTimeout,
			VarFileTimeout, s.FileTimeout, VarWorkerTimeout, s.WorkerTimeout))
	}
	if s.PersonioTimeout >= s.APITimeout {
		errs = append(errs, fmt.Sprintf("%s (%s) must be shorter than %s (%s)", VarPersonioTimeout, s.PersonioTimeout, VarAPITimeout, s.APITimeout))
	}
	if s.RetryBase > s.RetryMax {
		errs = append(errs, VarRetryBase+" must not exceed "+VarRetryMax)
	}
	for _, name := range slices.Sorted(maps.Keys(s.Memory)) {
		if mb := s.Memory[name]; mb < 128 || mb > 10240 {
			errs = append(errs, fmt.Sprintf("the %s function's memory (%d MB) must be 128 to 10240 MB, Lambda's range", name, mb))
		}
	}
	// Derived, so these hold by construction; checked so that a change
	// of the derivation cannot break them unseen.
	if s.Lease() <= s.WorkerTimeout || s.Lease() >= s.VisibilityTimeout() {
		errs = append(errs, fmt.Sprintf("the lease (%s) must outlive the worker timeout (%s) and end before the visibility timeout (%s)",
			s.Lease(), s.WorkerTimeout, s.VisibilityTimeout()))
	}
	if len(errs) > 0 {
		return errors.New("settings: " + strings.Join(errs, "; "))
	}
	return nil
}

// The environment variables the functions read.
const (
	VarTable            = "TABLE_NAME"
	VarQueueURL         = "QUEUE_URL"
	VarDLQURL           = "DLQ_URL"
	VarSecretPrefix     = "SECRET_PREFIX"
	VarHashKey          = "HASH_KEY"
	VarHashKeySecret    = "HASH_KEY_SECRET_ID"
	VarSigning          = "WEBHOOK_SECRETS"
	VarSigningSecret    = "WEBHOOK_SECRET_ID"
	VarPersonioBaseURL  = "PERSONIO_BASE_URL"
	VarPersonioFeedURL  = "PERSONIO_FEED_URL"
	VarFileHosts        = "FILE_HOSTS"
	VarAllowInsecure    = "FILE_ALLOW_INSECURE"
	VarPlans            = "ALLOWED_PLANS"
	VarRetention        = "RETENTION"
	VarBudgetLimit      = "BUDGET_LIMIT"
	VarBudgetWindow     = "BUDGET_WINDOW"
	VarBudgetMargin     = "BUDGET_MARGIN"
	VarGlobalLimit      = "GLOBAL_LIMIT"
	VarRateLimitPause   = "RATE_LIMIT_PAUSE"
	VarCheckLimit       = "CHECK_LIMIT"
	VarCheckWindow      = "CHECK_WINDOW"
	VarTestLimit        = "TEST_LIMIT"
	VarTestWindow       = "TEST_WINDOW"
	VarMaxReceiveCount  = "MAX_RECEIVE_COUNT"
	VarAPITimeout       = "API_TIMEOUT"
	VarIngestTimeout    = "INGEST_TIMEOUT"
	VarWorkerTimeout    = "WORKER_TIMEOUT"
	VarPersonioTimeout  = "PERSONIO_TIMEOUT"
	VarFileTimeout      = "FILE_TIMEOUT"
	VarCacheTTL         = "CACHE_TTL"
	VarFileTransfers    = "FILE_TRANSFERS"
	VarNotifyURL        = "NOTIFY_URL"
	VarNotifyQueueURL   = "NOTIFY_QUEUE_URL"
	VarOutbound         = "OUTBOUND_SECRETS"
	VarOutboundSecret   = "OUTBOUND_SECRET_ID"
	VarNotifyTimeout    = "NOTIFY_TIMEOUT"
	VarNotifyRetryBase  = "NOTIFY_RETRY_BASE"
	VarNotifyRetryMax   = "NOTIFY_RETRY_MAX"
	VarNotifyReceives   = "NOTIFY_RECEIVES"
	VarWatchInterval    = "WATCH_INTERVAL"
	VarWatchTick        = "WATCH_TICK"
	VarHealthInterval   = "HEALTH_INTERVAL"
	VarConfirmChecks    = "CONFIRM_CHECKS"
	VarRetryBase        = "RETRY_BASE"
	VarRetryMax         = "RETRY_MAX"
	VarQueueRetention   = "QUEUE_RETENTION"
	VarDLQRetention     = "DLQ_RETENTION"
	listSeparator       = ","
	durationExampleText = "a duration such as 30s, 15m or 720h"
)

// envOrder lists every plain variable in the order Env writes them.
var envOrder = []string{
	VarTable, VarQueueURL, VarDLQURL, VarSecretPrefix, VarPersonioBaseURL, VarPersonioFeedURL, VarFileHosts, VarAllowInsecure,
	VarPlans, VarRetention, VarBudgetLimit, VarBudgetWindow, VarBudgetMargin, VarGlobalLimit, VarRateLimitPause,
	VarCheckLimit, VarCheckWindow, VarTestLimit, VarTestWindow, VarMaxReceiveCount,
	VarAPITimeout, VarIngestTimeout, VarWorkerTimeout, VarPersonioTimeout, VarFileTimeout, VarCacheTTL, VarFileTransfers,
	VarRetryBase, VarRetryMax, VarQueueRetention, VarDLQRetention,
	VarNotifyURL, VarNotifyQueueURL, VarNotifyTimeout, VarNotifyRetryBase, VarNotifyRetryMax, VarNotifyReceives,
	VarWatchInterval, VarWatchTick, VarHealthInterval, VarConfirmChecks,
}

// field is one plain variable: how to write it and how to read it.
type field struct {
	get func(*Settings) string
	set func(*Settings, string) error
}

func str(p func(*Settings) *string) field {
	return field{get: func(s *Settings) string { return *p(s) }, set: func(s *Settings, v string) error { *p(s) = v; return nil }}
}

func strs(p func(*Settings) *[]string) field {
	return field{get: func(s *Settings) string { return strings.Join(*p(s), listSeparator) },
		set: func(s *Settings, v string) error { *p(s) = list(v); return nil }}
}

func dur(p func(*Settings) *time.Duration) field {
	return field{get: func(s *Settings) string { return p(s).String() }, set: func(s *Settings, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not %s", v, durationExampleText)
		}
		*p(s) = d
		return nil
	}}
}

func num(p func(*Settings) *int) field {
	return field{get: func(s *Settings) string { return strconv.Itoa(*p(s)) }, set: func(s *Settings, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		*p(s) = n
		return nil
	}}
}

var fields = map[string]field{
	VarTable:           str(func(s *Settings) *string { return &s.Table }),
	VarQueueURL:        str(func(s *Settings) *string { return &s.QueueURL }),
	VarDLQURL:          str(func(s *Settings) *string { return &s.DLQURL }),
	VarSecretPrefix:    str(func(s *Settings) *string { return &s.SecretPrefix }),
	VarPersonioBaseURL: str(func(s *Settings) *string { return &s.PersonioBaseURL }),
	VarPersonioFeedURL: str(func(s *Settings) *string { return &s.PersonioFeedURL }),
	VarFileHosts:       strs(func(s *Settings) *[]string { return &s.FileHosts }),
	VarAllowInsecure:   strs(func(s *Settings) *[]string { return &s.AllowInsecure }),
	VarPlans:           strs(func(s *Settings) *[]string { return &s.Plans }),
	VarRetention:       dur(func(s *Settings) *time.Duration { return &s.Retention }),
	VarBudgetLimit:     num(func(s *Settings) *int { return &s.Budget.Limit }),
	VarBudgetWindow:    dur(func(s *Settings) *time.Duration { return &s.Budget.Window }),
	VarBudgetMargin:    dur(func(s *Settings) *time.Duration { return &s.Budget.Margin }),
	VarGlobalLimit:     num(func(s *Settings) *int { return &s.GlobalLimit }),
	VarRateLimitPause:  dur(func(s *Settings) *time.Duration { return &s.RateLimitPause }),
	VarCheckLimit:      num(func(s *Settings) *int { return &s.CheckLimit.Limit }),
	VarCheckWindow:     dur(func(s *Settings) *time.Duration { return &s.CheckLimit.Window }),
	VarTestLimit:       num(func(s *Settings) *int { return &s.TestLimit.Limit }),
	VarTestWindow:      dur(func(s *Settings) *time.Duration { return &s.TestLimit.Window }),
	VarMaxReceiveCount: num(func(s *Settings) *int { return &s.MaxReceiveCount }),
	VarAPITimeout:      dur(func(s *Settings) *time.Duration { return &s.APITimeout }),
	VarIngestTimeout:   dur(func(s *Settings) *time.Duration { return &s.IngestTimeout }),
	VarWorkerTimeout:   dur(func(s *Settings) *time.Duration { return &s.WorkerTimeout }),
	VarPersonioTimeout: dur(func(s *Settings) *time.Duration { return &s.PersonioTimeout }),
	VarFileTimeout:     dur(func(s *Settings) *time.Duration { return &s.FileTimeout }),
	VarCacheTTL:        dur(func(s *Settings) *time.Duration { return &s.CacheTTL }),
	VarFileTransfers:   num(func(s *Settings) *int { return &s.FileTransfers }),
	VarNotifyURL:       str(func(s *Settings) *string { return &s.NotifyURL }),
	VarNotifyQueueURL:  str(func(s *Settings) *string { return &s.NotifyQueueURL }),
	VarNotifyTimeout:   dur(func(s *Settings) *time.Duration { return &s.NotifyTimeout }),
	VarNotifyRetryBase: dur(func(s *Settings) *time.Duration { return &s.NotifyRetryBase }),
	VarNotifyRetryMax:  dur(func(s *Settings) *time.Duration { return &s.NotifyRetryMax }),
	VarNotifyReceives:  num(func(s *Settings) *int { return &s.NotifyReceives }),
	VarWatchInterval:   dur(func(s *Settings) *time.Duration { return &s.WatchInterval }),
	VarWatchTick:       dur(func(s *Settings) *time.Duration { return &s.WatchTick }),
	VarHealthInterval:  dur(func(s *Settings) *time.Duration { return &s.HealthInterval }),
	VarConfirmChecks:   num(func(s *Settings) *int { return &s.ConfirmChecks }),
	VarRetryBase:       dur(func(s *Settings) *time.Duration { return &s.RetryBase }),
	VarRetryMax:        dur(func(s *Settings) *time.Duration { return &s.RetryMax }),
	VarQueueRetention:  dur(func(s *Settings) *time.Duration { return &s.QueueRetention }),
	VarDLQRetention:    dur(func(s *Settings) *time.Duration { return &s.DLQRetention }),
}

// Env returns the settings as the functions' environment: every plain
// variable that has a value, never a secret (the hash key and the signing
// secrets go by their secrets' ids, which the caller adds).
func (s Settings) Env() map[string]string {
	env := map[string]string{}
	for _, name := range envOrder {
		if v := fields[name].get(&s); v != "" {
			env[name] = v
		}
	}
	return env
}

// Names lists every plain variable Env may write, in order.
func Names() []string { return append([]string(nil), envOrder...) }

// SecretReader reads a secret's value.
type SecretReader interface {
	GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// FromEnv reads the settings over Default: every variable that is set
// replaces its default. required names the variables the caller cannot do
// without (HASH_KEY and WEBHOOK_SECRETS are also satisfied by their
// *_SECRET_ID, read from sm). Every problem is reported at once, and the
// result is checked (see Check).
func FromEnv(ctx context.Context, sm SecretReader, required ...string) (Settings, error) {
	s := Default()
	var errs []string
	for _, name := range envOrder {
		if v := os.Getenv(name); v != "" {
			if err := fields[name].set(&s, v); err != nil {
				errs = append(errs, name+": "+err.Error())
			}
		}
	}
	for _, name := range required {
		if os.Getenv(name) == "" && (secretVars[name] == "" || os.Getenv(secretVars[name]) == "") {
			errs = append(errs, "missing "+name)
		}
	}
	hash, err := valueOrSecret(ctx, sm, VarHashKey)
	if err != nil {
		errs = append(errs, err.Error())
	}
	signing, err := valueOrSecret(ctx, sm, VarSigning)
	if err != nil {
		errs = append(errs, err.Error())
	}
	outbound, err := valueOrSecret(ctx, sm, VarOutbound)
	if err != nil {
		errs = append(errs, err.Error())
	}
	if len(errs) > 0 {
		return s, errors.New("settings: " + strings.Join(errs, "; "))
	}
	if hash != "" {
		s.HashKey = []byte(hash)
	}
	s.SigningSecrets, s.OutboundSecrets = list(signing), list(outbound)
	return s, s.Check()
}

// secretVars names, for each setting that may live in Secrets Manager,
// the variable that holds the secret's id.
var secretVars = map[string]string{VarHashKey: VarHashKeySecret, VarSigning: VarSigningSecret, VarOutbound: VarOutboundSecret}

// valueOrSecret reads the variable, or the secret its *_SECRET_ID names.
func valueOrSecret(ctx context.Context, sm SecretReader, name string) (string, error) {
	if v := os.Getenv(name); v != "" {
		return v, nil
	}
	idVar := secretVars[name]
	id := os.Getenv(idVar)
	if id == "" {
		return "", nil
	}
	if sm == nil {
		return "", errors.New(idVar + " is set but there is no Secrets Manager client")
	}
	out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("read %s: %w", idVar, err)
	}
	return aws.ToString(out.SecretString), nil
}

func list(s string) []string {
	var out []string
	for _, p := range strings.Split(s, listSeparator) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Load is what a function does at cold start: the AWS configuration from
// the default chain (environment, the Lambda role), then the settings from
// the environment (secrets read through Secrets Manager).
func Load(ctx context.Context, required ...string) (aws.Config, Settings, error) {
	cfg, err := awsclient.Load(ctx)
	if err != nil {
		return aws.Config{}, Settings{}, err
	}
	s, err := FromEnv(ctx, awsclient.SecretsManager(cfg), required...)
	return cfg, s, err
}
