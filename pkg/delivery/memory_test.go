package delivery_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/funnel-personio/funnel-personio/pkg/delivery"
	"github.com/funnel-personio/funnel-personio/pkg/filefetch"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/settings"
	"github.com/funnel-personio/funnel-personio/pkg/store"
	"github.com/funnel-personio/funnel-personio/pkg/workerlambda"
)

// zeros reads as endless zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

const largeFile = 20 << 20 // Personio's largest document

// largeFilesBatch hands the worker one SQS batch of ten events, each with
// a 20 MB CV, against a file host and a Personio that neither keep what
// they send or receive, and returns the peak of the Go heap (live and
// not yet collected objects) while the batch was handled, and how many
// documents arrived whole.
func largeFilesBatch(t testing.TB) (peak uint64, whole int64) {
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(largeFile))
		_, _ = io.CopyN(w, zeros{}, largeFile)
	}))
	defer files.Close()
	var arrived atomic.Int64
	pers := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/documents") {
			w.WriteHeader(http.StatusCreated)
			return
		}
		_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		part, err := multipart.NewReader(r.Body, params["boundary"]).NextPart()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if n, _ := io.Copy(io.Discard, part); n == largeFile {
			arrived.Add(1)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"uuid":"6f1c8f7e-3b1a-4c1e-9d2a-0c5e8b7a6d4f","original_filename":"cv.pdf"}`)
	}))
	defer pers.Close()
	s := settings.Default()
	s.HashKey = []byte("k")
	pc, err := personio.NewClient(personio.WithBaseURL(pers.URL), personio.WithTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	fetch := filefetch.New(filefetch.Config{Insecure: []string{strings.TrimPrefix(files.URL, "http://")}, Timeout: time.Minute})
	st := &memStore{
		in:   store.Integration{WorkspaceID: ws, FunnelID: funnel, ConnectionID: conn, JobPositionID: 1001, Mapping: mappingJSON, Enabled: true},
		conn: store.Connection{WorkspaceID: ws, ID: conn, CompanyID: "42"},
	}
	w, err := delivery.NewWorker(workerlambda.Config(s, workerlambda.Options{Logger: slog.New(slog.DiscardHandler), Metrics: io.Discard}),
		st, memVault{}, pc, memQueue{}, fetch)
	if err != nil {
		t.Fatal(err)
	}
	p := &pipe{}
	var batch events.SQSEvent
	for i := range 10 {
		body := p.event(fmt.Sprintf("evt_large%d", i), fmt.Sprintf("large%d@example.com", i), fmt.Sprintf("%s/cv-%d.pdf", files.URL, i))
		batch.Records = append(batch.Records, events.SQSMessage{MessageId: fmt.Sprint(i), ReceiptHandle: fmt.Sprint(i), Body: string(body),
			Attributes: map[string]string{"ApproximateReceiveCount": "1"}})
	}
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	runtime.GC()
	done := make(chan struct{})
	sampled := make(chan uint64)
	go func() {
		var max uint64
		for {
			metrics.Read(sample)
			max = maxOf(max, sample[0].Value.Uint64())
			select {
			case <-done:
				sampled <- max
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	resp, err := w.Handle(context.Background(), batch)
	close(done)
	peak = <-sampled
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("the batch failed: %+v, %v", resp, err)
	}
	return peak, arrived.Load()
}

func maxOf(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// TestLargeFilesStream: ten 20 MB CVs in one batch go through the worker
// without being held in memory (each streams from the download into the
// upload, a few at a time): the heap stays under 128 MB, where holding each
// file whole (download, upload buffer, multipart body) took about 560 MB
// and out-of-memory killed a 512 MB function with every tenant's events of
// the batch.
func TestLargeFilesStream(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 400 MB over loopback")
	}
	peak, whole := largeFilesBatch(t)
	t.Logf("peak heap %.1f MB for ten 20 MB files", float64(peak)/(1<<20))
	if whole != 10 {
		t.Errorf("%d of 10 documents arrived whole", whole)
	}
	if peak > 128<<20 {
		t.Errorf("peak heap %.0f MB, over 128 MB", float64(peak)/(1<<20))
	}
}

// BenchmarkLargeFilesBatch reports the peak heap of a batch of ten 20 MB
// files (the figure in docs/delivery.md).
func BenchmarkLargeFilesBatch(b *testing.B) {
	var peak uint64
	for b.Loop() {
		p, _ := largeFilesBatch(b)
		peak = maxOf(peak, p)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}
