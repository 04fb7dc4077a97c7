// Package watch looks ahead for what would make deliveries fail, so that
// the customer hears of it before an applicant is parked: each switched-on
// integration's job position against its career site's feed (every
// interval, an hour by default), and each connection's credentials (once a
// day, with a unit of its company's budget only when the budget is idle).
// A run does one tick's share: integrations and connections are spread
// over the ticks of their interval by a hash of who they are, so that
// companies are not checked all at once; what a run left undone (an
// integration or a connection not checked for longer than its interval and
// a tick) is due in the next run, the least recently checked first.
//
// A run is fair and bounded: credential checks run beside the feed reads,
// never behind them; feeds are read a few at a time, at most
// FeedsPerWorkspace of one workspace per run, the workspaces taking turns;
// and no read starts later than StopBefore ahead of the run's deadline,
// so the run ends cleanly within it.
//
// What it finds it marks (a position unpublished, a connection that needs
// attention) and tells the platform once (package outbound); what comes
// back (published again, credentials that work again) sends the parked
// deliveries on (package resume).
package watch

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/funnel-personio/funnel-personio/pkg/failure"
	"github.com/funnel-personio/funnel-personio/pkg/lifecycle"
	"github.com/funnel-personio/funnel-personio/pkg/outbound"
	"github.com/funnel-personio/funnel-personio/pkg/personio"
	"github.com/funnel-personio/funnel-personio/pkg/queue"
	"github.com/funnel-personio/funnel-personio/pkg/resume"
	"github.com/funnel-personio/funnel-personio/pkg/store"
)

// Store is what the watch reads and marks.
type Store interface {
	WatchedIntegrations(ctx context.Context, f func(store.Integration) error) error
	WatchedConnections(ctx context.Context, f func(store.Connection) error) error
	GetConnection(ctx context.Context, ws, id string) (store.Connection, error)
	UpdateConnection(context.Context, store.Connection, ...store.Pending) (store.Connection, error)
	MarkPositionUnpublished(ctx context.Context, ws, funnel string, position int64, at time.Time, tell ...store.Pending) (bool, error)
	MarkPositionPublished(ctx context.Context, ws, funnel string, mark store.PositionMark, tell ...store.Pending) (bool, error)
	MarkRoutedPositionUnpublished(ctx context.Context, ws, funnel string, position int64, at time.Time, tell ...store.Pending) (bool, error)
	MarkRoutedPositionPublished(ctx context.Context, ws, funnel string, mark store.PositionMark, tell ...store.Pending) (bool, error)
	// PendingEvents and Sent are the outbound events recorded pending
	// with their changes (store.Pending).
	PendingEvents(ctx context.Context, f func(store.Pending) error) error
	Sent(ctx context.Context, ws, id string) error
	MarkPositionChecked(ctx context.Context, ws, funnel string, at time.Time) error
	TakeIdleBudget(ctx context.Context, company string, n, keep int, b store.Budget) (bool, error)
	ListParked(ctx context.Context, ws, connectionID string, limit int, cursor string) (store.Page, error)
	ListParkedOnPosition(ctx context.Context, ws, funnel string, limit int, cursor string) (store.Page, error)
	ListParkedOnRoutedPosition(ctx context.Context, ws, funnel string, position int64, limit int, cursor string) (store.Page, error)
	Event(ctx context.Context, ws, eventID string) ([]byte, error)
	Requeue(ctx context.Context, k store.DeliveryKey, code lifecycle.Reason) (store.Delivery, error)
}

// Vault reads tokens.
type Vault interface {
	Get(ctx context.Context, ws, connection string) (personio.Token, error)
}

// Personio lists a career site's positions and checks credentials.
type Personio interface {
	Positions(ctx context.Context, companyID, subdomain, language string) ([]personio.Position, error)
	Verify(ctx context.Context, creds personio.Credentials) error
}

// Queue takes the events of parked deliveries that go on.
type Queue interface {
	Send(ctx context.Context, m queue.Message) error
}

// Notifier tells the platform.
type Notifier interface {
	Publish(ctx context.Context, e outbound.Event) error
}

// Config configures the watch.
type Config struct {
	// Interval is how often each integration's position is checked,
	// HealthInterval each connection's credentials, Tick how often Run
	// runs (each run checks its tick's share).
	Interval, HealthInterval, Tick time.Duration
	// Budget is the company's rate budget; a health check takes a unit of
	// it only while HealthKeep units stay free and no one waits.
	Budget     store.Budget
	HealthKeep int
	// FeedReaders is how many feeds a run reads at once;
	// FeedsPerWorkspace how many feeds of one workspace a run reads at
	// most (the rest wait for the next run).
	FeedReaders, FeedsPerWorkspace int
	// Serial checks the credentials before the feeds instead of beside
	// them (the simulator, which runs one step at a time, sets it with
	// one feed reader).
	Serial bool
	// StopBefore is how long before the run's deadline (its context's) no
	// new feed read or credential check starts: one Personio request's
	// timeout, so that those under way end within the run.
	StopBefore time.Duration
	// Rechecker, if set, rereads unconfirmed deliveries after the checks.
	Rechecker Rechecker
	Now       func() time.Time
	Logger    *slog.Logger
}

// Watch checks positions and credentials.
type Watch struct {
	cfg      Config
	store    Store
	vault    Vault
	personio Personio
	queue    Queue
	// teller tells of the problems the watch's changes make, and publishes
	// the events left pending.
	teller outbound.Teller
}

// New returns a Watch.
func New(cfg Config, st Store, v Vault, p Personio, q Queue, n Notifier) (*Watch, error) {
	if cfg.Tick <= 0 || cfg.Interval < cfg.Tick || cfg.HealthInterval < cfg.Tick || cfg.Budget.Limit < 1 ||
		cfg.FeedReaders < 1 || cfg.FeedsPerWorkspace < 1 {
		return nil, errors.New("watch: set Tick, Interval and HealthInterval (each at least a tick), Budget, FeedReaders and FeedsPerWorkspace")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Watch{cfg: cfg, store: st, vault: v, personio: p, queue: q, teller: outbound.NewTeller("watch", n, st, cfg.Logger)}, nil
}

// Report is what a run did.
type Report struct {
	Feeds              int `json:"feeds"`               // career site feeds read
	FeedsLeft          int `json:"feeds_left"`          // due feeds left for the next run (a workspace's share, or the deadline)
	ConnectionsLeft    int `json:"connections_left"`    // due connections left for the next run (the deadline)
	PositionsChecked   int `json:"positions_checked"`   // integrations whose position was checked
	Unpublished        int `json:"unpublished"`         // positions found unpublished now
	Republished        int `json:"republished"`         // positions found published again
	ConnectionsChecked int `json:"connections_checked"` // credentials checked
	ConnectionsSkipped int `json:"connections_skipped"` // not checked: the company's budget was not idle
	NeedsAttention     int `json:"needs_attention"`     // connections found refused now
	Reconnected        int `json:"reconnected"`         // connections found working again
	Resumed            int `json:"resumed"`             // parked deliveries sent on
	Rechecked          int `json:"rechecked"`           // unconfirmed deliveries read again (read access)
	ConfirmedByRead    int `json:"confirmed_by_read"`   // of them, found delivered
	RefutedByRead      int `json:"refuted_by_read"`     // of them, found duplicates
	RecheckLeft        int `json:"recheck_left"`        // due rereads left for the next run (the deadline)
	Resent             int `json:"resent"`              // outbound events found pending and published again
}

// slot says whether something named key is due in the tick of now, for
// an interval of period: each key falls in one of period/Tick slots.
func (w *Watch) slot(key string, period time.Duration, now time.Time) bool {
	n := max(int64(period/w.cfg.Tick), 1)
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	tick := now.UnixNano() / int64(w.cfg.Tick)
	return int64(h.Sum32())%n == tick%n
}

// due says whether something named key, last checked at last, is due now:
// in its slot, or overdue (not checked for longer than its period and a
// tick: a run left it undone, or it was never checked).
func (w *Watch) due(key string, last time.Time, period time.Duration, now time.Time) bool {
	return w.slot(key, period, now) || last.Before(now.Add(-period-w.cfg.Tick))
}

// Run does this tick's share of the checks: the credential checks beside
// the feed reads, both ending StopBefore ahead of ctx's deadline.
func (w *Watch) Run(ctx context.Context) (Report, error) {
	now := w.cfg.Now()
	start := ctx
	if d, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		start, cancel = context.WithDeadline(ctx, d.Add(-w.cfg.StopBefore))
		defer cancel()
	}
	var r, cr Report
	oerr := w.resend(ctx, start, &r)
	var cerr error
	var perr error
	if w.cfg.Serial {
		cerr = w.connections(ctx, start, now, &cr)
		perr = w.positions(ctx, start, now, &r)
	} else {
		var wg sync.WaitGroup
		wg.Go(func() { cerr = w.connections(ctx, start, now, &cr) })
		perr = w.positions(ctx, start, now, &r)
		wg.Wait()
	}
	r.add(cr)
	rerr := w.recheck(ctx, start, &r)
	w.cfg.Logger.InfoContext(ctx, "watch: run", "feeds", r.Feeds, "feeds_left", r.FeedsLeft, "positions_checked", r.PositionsChecked,
		"unpublished", r.Unpublished, "republished", r.Republished, "connections_checked", r.ConnectionsChecked,
		"connections_skipped", r.ConnectionsSkipped, "connections_left", r.ConnectionsLeft,
		"needs_attention", r.NeedsAttention, "reconnected", r.Reconnected, "resumed", r.Resumed,
		"rechecked", r.Rechecked, "confirmed_by_read", r.ConfirmedByRead, "refuted_by_read", r.RefutedByRead, "resent", r.Resent)
	return r, errors.Join(oerr, perr, cerr, rerr)
}

// resend publishes every outbound event still pending, the oldest first,
// until start's deadline: its producer changed the state that makes its
// problem, recording the event in the same request, and died (or its
// publish failed) before it marked the event sent. The event goes out
// with its id, as its producer's would have (the receiver drops a
// repeat). A retryable failure to publish stops the walk: the queue is
// down, and each try would spend its retries' time before the run's
// checks; the next run tries again. An event that fails otherwise stays
// pending, and the walk goes on.
func (w *Watch) resend(ctx, start context.Context, r *Report) error {
	if !w.teller.On() {
		return nil
	}
	err := w.store.PendingEvents(ctx, func(p store.Pending) error {
		if ended(start) {
			return errResendStopped
		}
		e, err := outbound.Recorded(p)
		if err != nil {
			w.cfg.Logger.ErrorContext(ctx, "watch: pending outbound event unreadable", "webhook_id", p.ID, "error", err.Error())
			return nil
		}
		if err := w.teller.Tell(ctx, e); err != nil {
			if failure.IsRetryable(err) {
				return errResendStopped
			}
			return nil
		}
		r.Resent++
		return nil
	})
	if errors.Is(err, errResendStopped) {
		return nil // the next run publishes the rest
	}
	return err
}

// errResendStopped stops resend at the run's deadline, or at a retryable
// failure.
var errResendStopped = errors.New("watch: resend stopped at the deadline")

// add counts o's findings into r.
func (r *Report) add(o Report) {
	r.Feeds += o.Feeds
	r.FeedsLeft += o.FeedsLeft
	r.ConnectionsLeft += o.ConnectionsLeft
	r.PositionsChecked += o.PositionsChecked
	r.Unpublished += o.Unpublished
	r.Republished += o.Republished
	r.ConnectionsChecked += o.ConnectionsChecked
	r.ConnectionsSkipped += o.ConnectionsSkipped
	r.NeedsAttention += o.NeedsAttention
	r.Reconnected += o.Reconnected
	r.Resumed += o.Resumed
}

// feedKey names one career site's feed as one company sees it.
type feedKey struct{ company, site string }

// feed is a due feed: the integrations it tells of, when the least
// recently checked of them was checked, and its workspace's turn.
type feed struct {
	feedKey
	// reader is the connection whose read access reads the company's
	// jobs from the v2 API (site v2Site); nil for a career site's feed.
	reader *store.Connection
	list   []store.Integration
	last   time.Time
	turn   int
}

// positions checks the due integrations' positions, one feed read for all
// the integrations of a career site, FeedReaders feeds at once, until
// start's deadline.
func (w *Watch) positions(ctx, start context.Context, now time.Time, r *Report) error {
	feeds, err := w.dueFeeds(ctx, now)
	if err != nil {
		return err
	}
	feeds, shareLeft := w.share(feeds)
	left := 0 // feeds the deadline leaves
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	readers := make(chan struct{}, w.cfg.FeedReaders)
	for i, f := range feeds {
		select {
		case readers <- struct{}{}:
		case <-start.Done():
		}
		if ended(start) {
			left = len(feeds) - i
			break
		}
		wg.Go(func() {
			defer func() { <-readers }()
			var fr Report
			err := w.readFeed(ctx, f, now, &fr)
			mu.Lock()
			defer mu.Unlock()
			r.add(fr)
			errs = append(errs, err)
		})
	}
	wg.Wait()
	r.FeedsLeft += shareLeft + left
	return errors.Join(errs...)
}

// ended reports whether ctx is done or its deadline has come (a reader
// freed at the very moment of the deadline must not start another read:
// the deadline's own wake-up may not have been seen yet).
func ended(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	d, ok := ctx.Deadline()
	return ok && !time.Now().Before(d)
}

// dueFeeds lists the due feeds, the least recently checked first.
func (w *Watch) dueFeeds(ctx context.Context, now time.Time) ([]*feed, error) {
	conns := map[string]*store.Connection{} // ws/connection → the connection (nil: gone)
	due := map[feedKey]*feed{}
	var feeds []*feed
	err := w.store.WatchedIntegrations(ctx, func(in store.Integration) error {
		k, reader, ok, err := w.feedOf(ctx, in, conns)
		if err != nil || !ok {
			return err // no feed: Personio's own answer tells
		}
		if !w.due(k.company+"/"+k.site, in.PositionCheckedAt, w.cfg.Interval, now) {
			return nil
		}
		f := due[k]
		if f == nil {
			f = &feed{feedKey: k, reader: reader, last: in.PositionCheckedAt}
			due[k] = f
			feeds = append(feeds, f)
		}
		f.list = append(f.list, in)
		if in.PositionCheckedAt.Before(f.last) {
			f.last = in.PositionCheckedAt
		}
		return nil
	})
	slices.SortStableFunc(feeds, func(a, b *feed) int { return a.last.Compare(b.last) })
	return feeds, err
}

// share keeps at most FeedsPerWorkspace feeds of each workspace (a feed
// counts for the workspace of its first integration), in turns: every
// workspace's least recently checked feed first, then every workspace's
// second, and so on. It returns the feeds kept and how many were left.
func (w *Watch) share(feeds []*feed) ([]*feed, int) {
	taken := map[string]int{}
	kept := feeds[:0]
	for _, f := range feeds {
		ws := f.list[0].WorkspaceID
		if taken[ws] < w.cfg.FeedsPerWorkspace {
			f.turn = taken[ws]
			taken[ws]++
			kept = append(kept, f)
		}
	}
	slices.SortStableFunc(kept, func(a, b *feed) int { return a.turn - b.turn })
	return kept, len(feeds) - len(kept)
}

// readFeed reads one feed and acts on what it says of each integration's
// position, marking each checked.
func (w *Watch) readFeed(ctx context.Context, f *feed, now time.Time, r *Report) error {
	published, err := w.published(ctx, f)
	r.Feeds++
	if err != nil || published == nil {
		return err // a feed switched off or gone says nothing of the position
	}
	var errs []error
	for _, in := range f.list {
		r.PositionsChecked++
		var perr []error
		for _, p := range in.Positions() {
			perr = append(perr, w.position(ctx, in, p, published[p], now, r))
		}
		if err := errors.Join(perr...); err != nil {
			errs = append(errs, err)
		} else if err := w.store.MarkPositionChecked(ctx, in.WorkspaceID, in.FunnelID, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// marks are the store's ways to mark and clear one position of an
// integration, and to list what is parked on it: the default's, or a
// routed position's.
type marks struct {
	unpublished func(ctx context.Context, ws, funnel string, position int64, at time.Time, tell ...store.Pending) (bool, error)
	published   func(ctx context.Context, ws, funnel string, mark store.PositionMark, tell ...store.Pending) (bool, error)
	parked      func(ctx context.Context, limit int, cursor string) (store.Page, error)
}

// marksOf are the marks of position on in.
func (w *Watch) marksOf(in store.Integration, position int64) marks {
	if in.Routed(position) {
		return marks{w.store.MarkRoutedPositionUnpublished, w.store.MarkRoutedPositionPublished,
			func(ctx context.Context, limit int, cursor string) (store.Page, error) {
				return w.store.ListParkedOnRoutedPosition(ctx, in.WorkspaceID, in.FunnelID, position, limit, cursor)
			}}
	}
	return marks{w.store.MarkPositionUnpublished, w.store.MarkPositionPublished,
		func(ctx context.Context, limit int, cursor string) (store.Page, error) {
			return w.store.ListParkedOnPosition(ctx, in.WorkspaceID, in.FunnelID, limit, cursor)
		}}
}

// position acts on what the feed says of one of an integration's
// positions (its default, or one its routing table sends answers to). A
// published position without a mark also has its parked deliveries
// resumed: whatever parked on it after the mark was cleared (a worker that
// read the mark before), or was left when a resume stopped half-way (a
// crash), goes on at the latest one interval later, whatever the timing.
func (w *Watch) position(ctx context.Context, in store.Integration, position int64, published bool, now time.Time, r *Report) error {
	m, mark := w.marksOf(in, position), in.UnpublishedMark(position)
	switch {
	case !published && mark == nil:
		e := outbound.PositionEvent(outbound.PositionUnpublished, in, position, now, now, lifecycle.ReasonPositionUnpublished)
		marked, err := m.unpublished(ctx, in.WorkspaceID, in.FunnelID, position, now, w.teller.Pending(e)...)
		if err != nil || !marked {
			return err
		}
		r.Unpublished++
		_ = w.teller.Tell(ctx, e)
		return nil
	case published && mark != nil:
		e := outbound.PositionEvent(outbound.PositionRestored, in, position, mark.Since, now, lifecycle.ReasonPositionPublished)
		cleared, err := m.published(ctx, in.WorkspaceID, in.FunnelID, *mark, w.teller.Pending(e)...)
		if err != nil || !cleared {
			return err
		}
		r.Republished++
		_ = w.teller.Tell(ctx, e)
	case !published:
		return nil
	}
	n, err := resume.Parked(ctx, w.store, w.queue, m.parked, lifecycle.ReasonPositionPublished)
	r.Resumed += n
	return err
}

// connections checks the due connections' credentials, the least
// recently checked first, until start's deadline.
func (w *Watch) connections(ctx, start context.Context, now time.Time, r *Report) error {
	var due, sweep []store.Connection
	if err := w.store.WatchedConnections(ctx, func(c store.Connection) error {
		if w.due(c.WorkspaceID+"/"+c.ID, c.LastCheckedAt, w.cfg.HealthInterval, now) {
			due = append(due, c)
		}
		if c.Status == store.ConnectionConnected && w.slot("sweep/"+c.WorkspaceID+"/"+c.ID, w.cfg.Interval, now) {
			sweep = append(sweep, c)
		}
		return nil
	}); err != nil {
		return err
	}
	// A connection that works has nothing parked on it: what is (parked
	// by a worker that read the connection before new credentials were
	// saved, or left by a resume that stopped half-way) goes on, at the
	// latest one interval later.
	for _, c := range sweep {
		if ended(start) {
			break
		}
		n, err := w.resumeParked(ctx, c, lifecycle.ReasonCredentialsFixed)
		r.Resumed += n
		if err != nil {
			return err
		}
	}
	slices.SortStableFunc(due, func(a, b store.Connection) int { return a.LastCheckedAt.Compare(b.LastCheckedAt) })
	var errs []error
	for i, c := range due {
		if ended(start) {
			r.ConnectionsLeft += len(due) - i
			break
		}
		if err := w.connection(ctx, c, now, r); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// connection checks one connection's credentials, if its company's budget
// is idle.
func (w *Watch) connection(ctx context.Context, c store.Connection, now time.Time, r *Report) error {
	ok, err := w.store.TakeIdleBudget(ctx, c.CompanyID, 1, w.cfg.HealthKeep, w.cfg.Budget)
	if err != nil {
		return err
	}
	if !ok {
		r.ConnectionsSkipped++
		return nil
	}
	token, err := w.vault.Get(ctx, c.WorkspaceID, c.ID)
	if errors.Is(err, failure.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	r.ConnectionsChecked++
	err = w.personio.Verify(ctx, personio.Credentials{CompanyID: c.CompanyID, Token: token})
	var auth *personio.AuthError
	var fd *personio.FeatureDisabledError
	refused := errors.As(err, &auth) || errors.As(err, &fd)
	if err != nil && !refused {
		return nil // Personio unreachable: nothing learnt
	}
	was := c.Status
	c.LastCheckedAt = now.UTC()
	var tell []store.Pending
	var e outbound.Event
	switch {
	case refused && was != store.ConnectionNeedsAttention:
		c.Status, c.StatusReason, c.StatusSince = store.ConnectionNeedsAttention, firstLine(err.Error()), now.UTC()
		e = outbound.ConnectionEvent(outbound.ConnectionNeedsAttention, c, lifecycle.ReasonAuth)
		tell = w.teller.Pending(e)
	case !refused && was == store.ConnectionNeedsAttention:
		c.Status, c.StatusReason, c.StatusSince = store.ConnectionConnected, "", now.UTC()
		e = outbound.ConnectionEvent(outbound.ConnectionRestored, c, lifecycle.ReasonConnectionRestored)
		tell = w.teller.Pending(e)
	}
	saved, err := w.store.UpdateConnection(ctx, c, tell...)
	if errors.Is(err, failure.ErrConflict) {
		return nil // changed meanwhile (new credentials): that change stands
	} else if err != nil {
		return err
	}
	switch {
	case saved.Status == store.ConnectionNeedsAttention && was != saved.Status:
		r.NeedsAttention++
		_ = w.teller.Tell(ctx, e)
	case saved.Status == store.ConnectionConnected && was != saved.Status:
		r.Reconnected++
		_ = w.teller.Tell(ctx, e)
		n, err := w.resumeParked(ctx, saved, lifecycle.ReasonConnectionRestored)
		r.Resumed += n
		return err
	}
	return nil
}

// resumeParked sends the deliveries parked on the connection back to the
// queue.
func (w *Watch) resumeParked(ctx context.Context, c store.Connection, code lifecycle.Reason) (int, error) {
	return resume.Parked(ctx, w.store, w.queue, func(ctx context.Context, limit int, cursor string) (store.Page, error) {
		return w.store.ListParked(ctx, c.WorkspaceID, c.ID, limit, cursor)
	}, code)
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
