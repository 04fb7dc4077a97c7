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
	// Seconds is how long every company still had a backlog (from the
	// start to the first company's last request), in which Shares are
	// counted.
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
	var all []time.Time
	first := time.Time{}
	byCompany := map[string][]time.Time{}
	for i := range cfg.Events {
		company := strconv.Itoa(1000 + i)
		byCompany[company] = r.runRequests(company)
		all = append(all, byCompany[company]...)
		if reqs := byCompany[company]; len(reqs) > 0 && (first.IsZero() || reqs[len(reqs)-1].Before(first)) {
			first = reqs[len(reqs)-1] // the first company to run out
		}
	}
	slices.SortFunc(all, time.Time.Compare)
	s := &Shared{Limit: cfg.GlobalLimit, Shares: map[string]int{}}
	for i, j := 0, 0; j < len(all); j++ {
		for !all[i].After(all[j].Add(-cfg.RateWindow)) {
			i++
		}
		s.MostInAWindow = max(s.MostInAWindow, j-i+1)
	}
	if first.IsZero() {
		return s
	}
	s.Seconds = first.Sub(r.start).Seconds()
	sum := 0
	for i := range cfg.Events {
		company := strconv.Itoa(1000 + i)
		n := 0
		for _, at := range byCompany[company] {
			if at.Before(first) {
				n++
			}
		}
		s.Shares[company] = n
		sum += n
	}
	s.Mean = float64(sum) / float64(len(cfg.Events))
	for _, n := range s.Shares {
		if s.Mean > 0 {
			s.Spread = max(s.Spread, math.Abs(float64(n)-s.Mean)/s.Mean)
		}
	}
	return s
}
