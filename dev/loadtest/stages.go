package loadtest

import (
	"bytes"
	"encoding/json"
	"slices"
	"sync"
)

// Stages are where a delivery's end-to-end time goes, in the order they
// happen: ingest (the post until ingest's answer, as the platform sees
// it), then the worker's stages of the handling that delivered it (its
// "ms" log attribute: queue, claim, prepare, budget, download, upload,
// create, record), and other: the rest of the end-to-end time (earlier
// handlings of the same event and the copies between them, and the moment
// between Personio's answer and the sandbox's record of it).
var Stages = []string{"ingest", "queue", "claim", "prepare", "budget", "download", "upload", "create", "record", "other"}

// Spread is the percentiles of one stage over the delivered events, in ms.
type Spread struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	P99  float64 `json:"p99"`
}

// Slice is the mean of each stage over one tenth of the delivered events,
// by end-to-end time (Slice 0: the fastest tenth).
type Slice struct {
	FromMs float64            `json:"from_ms"`
	ToMs   float64            `json:"to_ms"`
	Mean   map[string]float64 `json:"mean_ms"`
}

// stageLog reads the worker's log lines as they are written and keeps the
// stages of every delivered handling by event id.
type stageLog struct {
	mu   sync.Mutex
	byID map[string]map[string]float64
}

func newStageLog() *stageLog { return &stageLog{byID: map[string]map[string]float64{}} }

var deliveredLine = []byte(`"state":"delivered"`)

func (l *stageLog) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(p, []byte("\n")) {
		if !bytes.Contains(line, deliveredLine) {
			continue
		}
		var v struct {
			Msg     string             `json:"msg"`
			EventID string             `json:"event_id"`
			Ms      map[string]float64 `json:"ms"`
		}
		if json.Unmarshal(line, &v) != nil || v.Msg != "delivery" || v.EventID == "" || v.Ms == nil {
			continue
		}
		l.mu.Lock()
		l.byID[v.EventID] = v.Ms
		l.mu.Unlock()
	}
	return len(p), nil
}

// breakdown is one delivered event's time by stage.
type breakdown struct {
	e2e    float64
	stages map[string]float64
}

// of is the event's breakdown: ingestMs and e2eMs measured by the run, the
// worker's stages from its log line, and other for the rest (nil if the
// line was not seen).
func (l *stageLog) of(id string, ingestMs, e2eMs float64) *breakdown {
	l.mu.Lock()
	ms, ok := l.byID[id]
	l.mu.Unlock()
	if !ok {
		return nil
	}
	b := &breakdown{e2e: e2eMs, stages: map[string]float64{"ingest": ingestMs}}
	sum := ingestMs
	for k, v := range ms {
		if slices.Contains(Stages, k) {
			b.stages[k] = v
			sum += v
		}
	}
	b.stages["other"] = max(e2eMs-sum, 0)
	return b
}

// spreads are each stage's percentiles over the breakdowns.
func spreads(bs []*breakdown) map[string]Spread {
	out := map[string]Spread{}
	if len(bs) == 0 {
		return out
	}
	for _, s := range Stages {
		v := make([]float64, 0, len(bs))
		sum := 0.0
		for _, b := range bs {
			v = append(v, b.stages[s])
			sum += b.stages[s]
		}
		slices.Sort(v)
		out[s] = Spread{Mean: sum / float64(len(v)), P50: pct(v, 50), P95: pct(v, 95), P99: pct(v, 99)}
	}
	return out
}

// slices cuts the breakdowns, by end-to-end time, into tenths (fewer when
// there are fewer than ten events) with each stage's mean.
func tenths(bs []*breakdown) []Slice {
	bs = slices.Clone(bs)
	slices.SortFunc(bs, func(a, b *breakdown) int {
		switch {
		case a.e2e < b.e2e:
			return -1
		case a.e2e > b.e2e:
			return 1
		}
		return 0
	})
	n := min(10, len(bs))
	var out []Slice
	for i := range n {
		part := bs[i*len(bs)/n : (i+1)*len(bs)/n]
		s := Slice{FromMs: part[0].e2e, ToMs: part[len(part)-1].e2e, Mean: map[string]float64{}}
		for _, st := range Stages {
			sum := 0.0
			for _, b := range part {
				sum += b.stages[st]
			}
			s.Mean[st] = sum / float64(len(part))
		}
		out = append(out, s)
	}
	return out
}
