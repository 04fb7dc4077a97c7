// Package testenv is the test environment the packages' tests share: the
// AWS state of one test on the in-process emulator (kumo) — a table, a
// queue with its dead-letter queue and a secret prefix, named for the test
// alone — built from the settings the functions use, the adapters on it,
// and a log buffer that fails the test when a line holds what must never
// be logged.
package testenv

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/funnel-personio/funnel-personio/dev/emulator"
	"github.com/funnel-personio/funnel-personio/dev/localstack"
	"github.com/funnel-personio/funnel-personio/pkg/awsclient"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/store"
	"github.com/funnel-personio/funnel-personio/pkg/vault"
)

// HashKey is the e-mail hash key of every test environment.
const HashKey = "test-hash-key"

// Buffer collects log lines; it is safe for concurrent writers.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends to the buffer.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String is everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Logger is a JSON logger that writes to the buffer.
func (b *Buffer) Logger() *slog.Logger { return slog.New(slog.NewJSONHandler(b, nil)) }

// NeverHolds fails the test, when it ends, if anything written holds one
// of the needles (tokens, e-mail addresses, applicants' names).
func (b *Buffer) NeverHolds(t testing.TB, needles ...string) {
	t.Cleanup(func() {
		logs := b.String()
		for _, n := range needles {
			if strings.Contains(logs, n) {
				t.Errorf("a log line holds %q", n)
			}
		}
	})
}

// Env is one test's AWS state and the adapters on it.
type Env struct {
	AWS aws.Config
	// Settings are settings.Default with this environment's table, queue,
	// secret prefix and hash key.
	Settings settings.Settings
	Store    *store.Store
	Queue    *queue.Queue
	DLQ      *queue.Queue
	Vault    *vault.Vault
	Logs     *Buffer
}

// Option changes an environment before it is built.
type Option func(*options)

type options struct {
	settings func(*settings.Settings)
	queue    func(*queue.Definition)
}

// WithSettings changes the settings (the queue is made from them).
func WithSettings(f func(*settings.Settings)) Option { return func(o *options) { o.settings = f } }

// WithQueue changes the queue's definition after the settings made it
// (a test's short visibility timeout or receive count).
func WithQueue(f func(*queue.Definition)) Option { return func(o *options) { o.queue = f } }

// New builds a test's environment on the in-process kumo.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	return On(t, emulator.Kumo(t), opts...)
}

// On builds a test's environment on another AWS endpoint (an emulator in
// a process of its own).
func On(t testing.TB, cfg aws.Config, opts ...Option) *Env {
	t.Helper()
	var o options
	for _, f := range opts {
		f(&o)
	}
	s := settings.Default()
	s.Table, s.SecretPrefix, s.HashKey = emulator.Name("table"), emulator.Name("fp"), []byte(HashKey)
	if o.settings != nil {
		o.settings(&s)
	}
	def := s.QueueDefinition(emulator.Name("events"))
	if o.queue != nil {
		o.queue(&def)
	}
	db, sqsc := awsclient.DynamoDB(cfg), awsclient.SQS(cfg)
	if err := store.CreateTable(t.Context(), db, s.Table); err != nil {
		t.Fatal(err)
	}
	qurl, dlqurl, err := queue.Create(t.Context(), sqsc, def)
	if err != nil {
		t.Fatal(err)
	}
	s.QueueURL = qurl
	return &Env{AWS: cfg, Settings: s, Store: s.OpenStore(db), Queue: queue.New(sqsc, qurl),
		DLQ: queue.New(sqsc, dlqurl), Vault: vault.New(awsclient.SecretsManager(cfg), s.SecretPrefix), Logs: &Buffer{}}
}

// LocalStack is the configuration of a local stack for a test: on kumo,
// on free ports, with its own table, queue and secret prefix, logging to
// logs.
func LocalStack(t testing.TB, logs *Buffer) localstack.Config {
	return localstack.Config{Addr: "127.0.0.1:0", SandboxAddr: "127.0.0.1:0", AWS: emulator.Kumo(t), Logger: logs.Logger(),
		Table: emulator.Name("local"), QueueName: emulator.Name("events"), SecretPrefix: emulator.Name("fp")}
}
