package loadtest

import (
	"math"
	"slices"
	"strconv"
	"time"
)

// Shared is how the companies of a run shared the global budget: the
// most requests Personio received from all of them in any window (the
// global line: GlobalLimit), and each company's requests while every
// company still had a backlog, with the largest deviation from their mean.
type Shared struct {
	// Limit is the global budget per window; MostInAWindow the most
	// requests of all companies in any window of the run, sliding.
	Limit         int `json:"limit"`
	MostInAWindow int `json:"most_in_a_window"`
	// Seconds is how long every company was busy (from the last
	// company's first request to the first company's last), in which
	// Shares are counted.
	Seconds float64 `json:"seconds"`
	// Shares are each company's requests in those seconds; Mean their
	// mean and Spread the largest |share − mean| / mean.
	Shares map[string]int `json:"shares"`
	Mean   float64        `json:"mean"`
	Spread float64        `json:"spread"`
}

// shared measures the run's sharing of the global budget from what the
// sandbox received (nil without a global limit or with one company).
func (r *run) shared() *Shared {
	cfg := r.cfg
	if cfg.GlobalLimit <= 0 || len(cfg.Events) < 2 {
		return nil
	}
	byCompany := map[string][]time.Time{}
	for i := range cfg.Events {
		company := strconv.Itoa(1000 + i)
		byCompany[company] = r.runRequests(company)
	}
	return sharing(byCompany, cfg.GlobalLimit, cfg.RateWindow)
}

// sharing is how companies whose requests (each company's in order) are
// byCompany shared a limit per window: the most in any sliding window, and
// each company's requests while every company was busy — from the last
// company's first request to the first company's last, both included —
// with their mean and largest deviation from it. A company without a
// request was never busy: then no time had all of them busy.
func sharing(byCompany map[string][]time.Time, limit int, window time.Duration) *Shared {
	s := &Shared{Limit: limit, Shares: map[string]int{}}
	var all []time.Time
	var from, to time.Time
	allBusy := true
	for _, reqs := range byCompany {
		all = append(all, reqs...)
		if len(reqs) == 0 {
			allBusy = false
			continue
		}
		if from.IsZero() || reqs[0].After(from) {
			from = reqs[0]
		}
		if to.IsZero() || reqs[len(reqs)-1].Before(to) {
			to = reqs[len(reqs)-1]
		}
	}
	slices.SortFunc(all, time.Time.Compare)
	for i, j := 0, 0; j < len(all); j++ {
		for !all[i].After(all[j].Add(-window)) {
			i++
		}
		s.MostInAWindow = max(s.MostInAWindow, j-i+1)
	}
	if !allBusy || !to.After(from) {
		return s
	}
	s.Seconds = to.Sub(from).Seconds()
	sum := 0
	for company, reqs := range byCompany {
		n := 0
		for _, at := range reqs {
			if !at.Before(from) && !at.After(to) {
				n++
			}
		}
		s.Shares[company] = n
		sum += n
	}
	s.Mean = float64(sum) / float64(len(byCompany))
	for _, n := range s.Shares {
		s.Spread = max(s.Spread, math.Abs(float64(n)-s.Mean)/s.Mean)
	}
	return s
}
