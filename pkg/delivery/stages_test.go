package delivery

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"
)

// TestStages: each stage is the time between its marks; the part of the
// queue's time the message was meant to wait for its turn counts as
// budget; stages not reached are left out; a sent time that cannot be
// read (or lies in the future) is the handling's start.
func TestStages(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	sent := strconv.FormatInt(t0.UnixMilli(), 10)
	full := func() stages {
		s := newStages(at(100), sent)
		s.claimed, s.prepared, s.budget = at(110), at(130), at(140)
		s.download, s.upload = 20*time.Millisecond, 30*time.Millisecond
		s.created, s.recorded = at(250), at(260)
		return s
	}
	turn := at(80)
	tests := []struct {
		name  string
		marks stages
		turn  *time.Time
		want  map[string]float64
	}{
		{name: "delivered with a file", marks: full(),
			want: map[string]float64{"queue": 100, "claim": 10, "prepare": 20, "budget": 10, "download": 20, "upload": 30, "create": 60, "record": 10}},
		{name: "at its turn", marks: full(), turn: &turn,
			want: map[string]float64{"queue": 20, "claim": 10, "prepare": 20, "budget": 90, "download": 20, "upload": 30, "create": 60, "record": 10}},
		{name: "a turn later than the start", marks: full(), turn: ptr(at(500)),
			want: map[string]float64{"queue": 0, "claim": 10, "prepare": 20, "budget": 110, "download": 20, "upload": 30, "create": 60, "record": 10}},
		{name: "skipped before the budget", marks: func() stages {
			s := newStages(at(100), sent)
			s.claimed, s.recorded = at(110), at(115)
			return s
		}(), want: map[string]float64{"queue": 100, "claim": 10, "record": 5}},
		{name: "no sent time", marks: func() stages {
			s := newStages(at(100), "")
			s.claimed, s.recorded = at(110), at(115)
			return s
		}(), want: map[string]float64{"queue": 0, "claim": 10, "record": 5}},
		{name: "a sent time in the future", marks: func() stages {
			s := newStages(at(100), strconv.FormatInt(at(5000).UnixMilli(), 10))
			s.claimed, s.recorded = at(110), at(115)
			return s
		}(), want: map[string]float64{"queue": 0, "claim": 10, "record": 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			slog.New(slog.NewJSONHandler(&buf, nil)).Info("delivery", tt.marks.attr(tt.turn))
			var line struct{ Ms map[string]float64 }
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(line.Ms, tt.want) {
				t.Errorf("got %v\nwant %v (keys %v)", line.Ms, tt.want, slices.Sorted(maps.Keys(tt.want)))
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }
