// Package metrics names the system's CloudWatch metrics and writes them as
// Embedded Metric Format lines (one JSON line each, which CloudWatch Logs
// turns into metrics). The worker writes them; the CDK stack's alarms read
// the same names.
package metrics

import (
	"encoding/json"
	"io"
	"sync"
	"time"
)

// Namespace holds every metric of the system.
const Namespace = "FunnelPersonio"

// Name is a metric's name.
type Name string

// The metrics. Counts are per state change of a delivery;
// EndToEndLatency is from the event's time to its delivery; RateLimited
// counts Personio's 429 answers (one per answer, whatever the delivery
// does next).
const (
	Delivered                   Name = "Delivered"
	Unconfirmed                 Name = "Unconfirmed"
	Failed                      Name = "Failed"
	Retried                     Name = "Retried"
	Deferred                    Name = "Deferred"
	Parked                      Name = "Parked"
	Dead                        Name = "Dead"
	Skipped                     Name = "Skipped"
	ConnectionsNeedingAttention Name = "ConnectionsNeedingAttention"
	EndToEndLatency             Name = "EndToEndLatency"
	RateLimited                 Name = "RateLimited"
)

// Names lists every metric, in the order above.
var Names = []Name{Delivered, Unconfirmed, Failed, Retried, Deferred, Parked, Dead, Skipped, ConnectionsNeedingAttention,
	EndToEndLatency, RateLimited}

// Writer writes metric lines. It is safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

// NewWriter returns a Writer on w (the function's standard output in
// Lambda), stamping lines with now.
func NewWriter(w io.Writer, now func() time.Time) *Writer {
	if now == nil {
		now = time.Now
	}
	return &Writer{w: w, now: now}
}

// Count adds one to a count.
func (m *Writer) Count(n Name) { m.write(n, 1, "Count") }

// Milliseconds records a duration.
func (m *Writer) Milliseconds(n Name, d time.Duration) {
	m.write(n, float64(d.Milliseconds()), "Milliseconds")
}

func (m *Writer) write(n Name, value float64, unit string) {
	line := map[string]any{
		"_aws": map[string]any{
			"Timestamp": m.now().UnixMilli(),
			"CloudWatchMetrics": []any{map[string]any{"Namespace": Namespace, "Dimensions": [][]string{{}},
				"Metrics": []any{map[string]string{"Name": string(n), "Unit": unit}}}},
		},
		string(n): value,
	}
	b, _ := json.Marshal(line)
	m.mu.Lock()
	defer m.mu.Unlock()
	_, _ = m.w.Write(append(b, '\n'))
}
