package delivery

import (
	"log/slog"
	"strconv"
	"time"
)

// stages marks where one handling of a message spent its time, for the
// log line of its outcome (attribute "ms"): the load runs break each
// delivery's end-to-end time down by them, and on AWS a Logs Insights
// query over "ms.*" does the same.
type stages struct {
	sent     time.Time     // the message was sent (SQS's SentTimestamp)
	start    time.Time     // the worker began the handling
	claimed  time.Time     // the erasure check and the claim are done
	prepared time.Time     // integration, connection, token, mapping are done
	budget   time.Time     // the company's budget is taken
	download time.Duration // waiting for a transfer, then for the file's host
	upload   time.Duration
	created  time.Time // Personio answered the create
	recorded time.Time // the outcome is recorded
}

// newStages starts the marks of a handling of a message sent at the
// SentTimestamp attribute's time (Unix ms; none: the handling's start).
func newStages(now time.Time, sentTimestamp string) stages {
	s := stages{start: now, sent: now}
	if ms, err := strconv.ParseInt(sentTimestamp, 10, 64); err == nil && ms > 0 && ms <= now.UnixMilli() {
		s.sent = time.UnixMilli(ms)
	}
	return s
}

// attr is the marks as milliseconds per stage. queue is the time from
// sending to the handling's start less the part of it the message was
// meant to wait for its turn (turn: the record's, if the event held one);
// that part counts as budget, with the take itself. Stages the handling
// did not reach are left out.
func (s stages) attr(turn *time.Time) slog.Attr {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	since := func(a, b time.Time) time.Duration {
		if a.IsZero() || b.IsZero() || b.Before(a) {
			return 0
		}
		return b.Sub(a)
	}
	queue, waited := since(s.sent, s.start), time.Duration(0)
	if turn != nil {
		waited = min(since(s.sent, *turn), queue)
	}
	attrs := []any{slog.Float64("queue", ms(queue-waited)), slog.Float64("claim", ms(since(s.start, s.claimed)))}
	if !s.prepared.IsZero() {
		attrs = append(attrs, slog.Float64("prepare", ms(since(s.claimed, s.prepared))))
	}
	if !s.budget.IsZero() {
		attrs = append(attrs, slog.Float64("budget", ms(waited+since(s.prepared, s.budget))),
			slog.Float64("download", ms(s.download)), slog.Float64("upload", ms(s.upload)))
	}
	if !s.created.IsZero() {
		// What the files did not take of the time after the budget.
		attrs = append(attrs, slog.Float64("create", ms(since(s.budget, s.created)-s.download-s.upload)))
	}
	if !s.recorded.IsZero() {
		last := s.created
		if last.IsZero() {
			last = s.claimed
			if !s.budget.IsZero() {
				last = s.budget
			} else if !s.prepared.IsZero() {
				last = s.prepared
			}
		}
		attrs = append(attrs, slog.Float64("record", ms(since(last, s.recorded))))
	}
	return slog.Group("ms", attrs...)
}
