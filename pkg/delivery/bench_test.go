package delivery_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/funnel-personio/funnel-personio/pkg/delivery"
	"github.com/funnel-personio/funnel-personio/pkg/filefetch"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/store"
	"github.com/funnel-personio/funnel-personio/pkg/workerlambda"
)

// Hand-written fakes of the worker's small interfaces: no AWS, no
// Personio, so the benchmark measures the worker's own work.
type memStore struct {
	in    store.Integration
	conn  store.Connection
	mu    sync.Mutex // a batch's handlings move budget concurrently
	moves []move
}

func (m *memStore) GetIntegration(context.Context, string, string) (store.Integration, error) {
	return m.in, nil
}
func (m *memStore) GetConnection(context.Context, string, string) (store.Connection, error) {
	return m.conn, nil
}
func (m *memStore) UpdateConnection(_ context.Context, c store.Connection, _ ...store.Pending) (store.Connection, error) {
	return c, nil
}
func (m *memStore) Sent(context.Context, string, string) error { return nil }
func (m *memStore) ClaimReading(ctx context.Context, d store.Delivery, owner string, lease time.Duration) (store.Delivery, store.IntegrationLook, error) {
	c, err := m.Claim(ctx, d, owner, lease)
	return c, store.IntegrationLook{}, err
}

func (m *memStore) Claim(_ context.Context, d store.Delivery, _ string, _ time.Duration) (store.Delivery, error) {
	return d, nil
}
func (m *memStore) Record(_ context.Context, _ store.DeliveryKey, _ string, c store.Change) (store.Delivery, error) {
	return store.Delivery{Status: c.Status}, nil
}
func (m *memStore) TakeBudget(context.Context, string, int, store.Budget) (bool, time.Time, error) {
	return true, time.Now(), nil
}
func (m *memStore) TakeBudgetOrJoinLine(ctx context.Context, c string, n int, b store.Budget) (bool, time.Time, error) {
	return m.TakeBudget(ctx, c, n, b)
}
func (m *memStore) BlockBudget(context.Context, string, time.Time) error { return nil }
func (m *memStore) MoveBudget(_ context.Context, company string, n int, from, to time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.moves = append(m.moves, move{company, n, from, to})
	return nil
}

// move is one MoveBudget call.
type move struct {
	company  string
	n        int
	from, to time.Time
}

func (m *memStore) Erased(context.Context, string, ...string) (bool, error) { return false, nil }
func (m *memStore) Forget(context.Context, store.DeliveryKey) error         { return nil }
func (m *memStore) MarkPositionUnpublished(context.Context, string, string, int64, time.Time, ...store.Pending) (bool, error) {
	return false, nil
}
func (m *memStore) MarkRoutedPositionUnpublished(context.Context, string, string, int64, time.Time, ...store.Pending) (bool, error) {
	return false, nil
}
func (m *memStore) DeliveriesOf(context.Context, string, string) ([]store.Delivery, error) {
	return nil, nil
}

type memVault struct{}

func (memVault) Get(context.Context, string, string) (personio.Token, error) { return "t", nil }

type memPersonio struct{}

func (memPersonio) UploadDocument(_ context.Context, _ personio.Credentials, name string, r io.Reader) (*personio.Document, error) {
	_, _ = io.Copy(io.Discard, r)
	return &personio.Document{UUID: "6f1c8f7e-3b1a-4c1e-9d2a-0c5e8b7a6d4f", OriginalFilename: name}, nil
}
func (memPersonio) CreateApplication(context.Context, personio.Credentials, personio.Application) error {
	return nil
}

type memQueue struct{}

func (memQueue) Send(context.Context, queue.Message) error          { return nil }
func (memQueue) Defer(context.Context, string, time.Duration) error { return nil }

type memFiles struct{ data []byte }

func (m memFiles) Fetch(context.Context, string) (*filefetch.File, error) {
	return &filefetch.File{Body: io.NopCloser(bytes.NewReader(m.data)), ContentType: "application/pdf"}, nil
}

// slowFiles answers a fetch after a pause, as a file host far away does.
type slowFiles struct{ pause time.Duration }

func (s slowFiles) Fetch(context.Context, string) (*filefetch.File, error) {
	time.Sleep(s.pause)
	return &filefetch.File{Body: io.NopCloser(bytes.NewReader([]byte("%PDF"))), ContentType: "application/pdf"}, nil
}

// TestFilesFirstUnitsMove: an application whose file goes first has its
// units moved from when they were taken to just before the create
// request, so Personio's count of the create (at its arrival) is never
// earlier than the budget's.
func TestFilesFirstUnitsMove(t *testing.T) {
	st := &memStore{
		in:   store.Integration{WorkspaceID: ws, FunnelID: funnel, ConnectionID: conn, JobPositionID: 1001, Mapping: mappingJSON, Enabled: true},
		conn: store.Connection{WorkspaceID: ws, ID: conn, CompanyID: "42"},
	}
	s := settings.Default()
	s.HashKey = []byte("k")
	w, err := delivery.NewWorker(workerlambda.Config(s, workerlambda.Options{Logger: slog.New(slog.DiscardHandler), Metrics: io.Discard}),
		st, memVault{}, memPersonio{}, memQueue{}, slowFiles{pause: 30 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p := &pipe{}
	for _, c := range []struct {
		name, file string
		moves      int
	}{{"with a file", "https://files.example.com/cv.pdf", 1}, {"without", "", 0}} {
		st.moves = nil
		body := p.event("evt_"+strings.ReplaceAll(c.name, " ", "_"), "ada@example.com", c.file)
		ev := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", ReceiptHandle: "r1", Body: string(body),
			Attributes: map[string]string{"ApproximateReceiveCount": "1"}}}}
		if resp, _ := w.Handle(context.Background(), ev); len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%s: failed", c.name)
		}
		if len(st.moves) != c.moves {
			t.Fatalf("%s: %d moves, want %d", c.name, len(st.moves), c.moves)
		}
		if c.moves == 1 {
			m := st.moves[0]
			if m.company != "42" || m.n != 2 || m.to.Sub(m.from) < 30*time.Millisecond {
				t.Errorf("%s: moved %+v; want 2 units of 42 moved past the file's 30 ms", c.name, m)
			}
		}
	}
}

// BenchmarkWorkerEvent is the worker's overhead for one typical event
// (contact, phone, one CV file), everything but Personio's and AWS's
// latency: parse, claim, map, budget, fetch, upload, create, record, log,
// metrics.
func BenchmarkWorkerEvent(b *testing.B) {
	st := &memStore{
		in:   store.Integration{WorkspaceID: ws, FunnelID: funnel, ConnectionID: conn, JobPositionID: 1001, Mapping: mappingJSON, Enabled: true},
		conn: store.Connection{WorkspaceID: ws, ID: conn, CompanyID: "42"},
	}
	s := settings.Default()
	s.HashKey = []byte("k")
	w, err := delivery.NewWorker(workerlambda.Config(s, workerlambda.Options{Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Metrics: io.Discard}),
		st, memVault{}, memPersonio{}, memQueue{}, memFiles{data: make([]byte, 64<<10)})
	if err != nil {
		b.Fatal(err)
	}
	p := &pipe{}
	body := p.event("evt_bench", "ada@example.com", "https://files.example.com/cv.pdf")
	ev := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", ReceiptHandle: "r1", Body: string(body),
		Attributes: map[string]string{"ApproximateReceiveCount": "1"}}}}
	b.ReportAllocs()
	for b.Loop() {
		resp, _ := w.Handle(context.Background(), ev)
		if len(resp.BatchItemFailures) != 0 {
			b.Fatal("failed")
		}
	}
}
