package connector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// Config tunes an Engine. Zero values take the defaults in parentheses.
type Config struct {
	// Lookback is how far before the watermark an incremental pass starts
	// reading again, to catch updates stamped late or committed out of
	// order on the platform (15 minutes). Re-read records are idempotent.
	Lookback time.Duration
	// RequestTimeout bounds each source call, including the platform's
	// own throttle waits inside it (60 s).
	RequestTimeout time.Duration
	// MaxAttempts bounds the tries of one source call that keeps failing
	// transiently or is rate limited (8).
	MaxAttempts int
	// BaseBackoff and MaxBackoff shape the exponential backoff between
	// tries: attempt n waits a random time between half and all of
	// min(MaxBackoff, BaseBackoff·2ⁿ⁻¹) (0.5 s, 60 s).
	BaseBackoff, MaxBackoff time.Duration
	// MaxRetryAfter is the longest Retry-After the engine waits out within
	// a run; a longer one fails the run, for the next schedule to pick up
	// (15 minutes).
	MaxRetryAfter time.Duration
	// Rate and Burst pace requests per connector on the client side, on
	// top of any platform-specific throttle in the source (4/s, 8).
	Rate  float64
	Burst int
	// Shared, when set, keeps that pace in the database, so that every
	// replica's requests to a connector's platform count against one
	// budget; nil keeps it in this process.
	Shared SharedRate
	// ReconcileWindow is how far back from the orders watermark each sync
	// compares the platform's order ids with the stored ones, removing
	// orders the platform deleted, when the source and sink can list them
	// (30 days; negative: never). It stays within what every platform
	// lets an app read (Shopify: 60 days without read_all_orders).
	ReconcileWindow time.Duration
	// BulkPoll is the first wait between polls of a bulk export, doubled
	// up to 16 times as long (1 s).
	BulkPoll time.Duration
	// Logger receives retries, notices and failures (slog.Default()).
	Logger *slog.Logger
}

func (c *Config) defaults() {
	if c.Lookback == 0 {
		c.Lookback = 15 * time.Minute
	}
	c.Lookback = max(c.Lookback, 0)
	if c.RequestTimeout <= 0 {
		c.RequestTimeout = time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
	if c.BaseBackoff <= 0 {
		c.BaseBackoff = 500 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = time.Minute
	}
	if c.MaxRetryAfter <= 0 {
		c.MaxRetryAfter = 15 * time.Minute
	}
	if c.Rate == 0 {
		c.Rate = 4
	}
	if c.Burst <= 0 {
		c.Burst = 8
	}
	if c.ReconcileWindow == 0 {
		c.ReconcileWindow = 30 * 24 * time.Hour
	}
	if c.BulkPoll <= 0 {
		c.BulkPoll = time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Engine runs syncs of any Source into a Sink. It is safe for concurrent
// use; one sync per connector runs at a time in a process (the job queue
// keeps replicas from running the same connector).
type Engine struct {
	sink Sink
	runs Runs
	cfg  Config

	mu       sync.Mutex
	limiters map[string]*Limiter
	running  map[string]bool
}

// NewEngine returns an engine writing through sink and recording runs and
// connector status in runs.
func NewEngine(sink Sink, runs Runs, cfg Config) *Engine {
	cfg.defaults()
	return &Engine{sink: sink, runs: runs, cfg: cfg, limiters: map[string]*Limiter{}, running: map[string]bool{}}
}

// SyncOptions are the choices of one sync.
type SyncOptions struct {
	// Full re-reads the whole history instead of from the watermark
	// (idempotent; for repairs). An interrupted pass still resumes first.
	Full bool
	// Progress, when set, is called after each page is written.
	Progress func(Progress)
}

// Progress reports a running sync after each page written.
type Progress struct {
	RunID   string
	Stream  string // StreamProducts or StreamOrders
	Pages   int    // pages written so far in this run
	Counts  store.SyncCounts
	Through time.Time // latest update time written on Stream
	Retries int       // source calls retried so far
}

// Result is the outcome of a sync.
type Result struct {
	RunID      string
	State      string // store.SyncSucceeded, SyncFailed or SyncCancelled
	Counts     store.SyncCounts
	Pages      int
	Retries    int
	Checkpoint Checkpoint // as last committed
	Notices    []string
}

// limiter returns the connector's request pacer, shared by its syncs,
// tests and webhook follow-ups.
func (e *Engine) limiter(id string) *Limiter {
	e.mu.Lock()
	defer e.mu.Unlock()
	l, ok := e.limiters[id]
	if !ok {
		l = NewLimiter(e.cfg.Rate, e.cfg.Burst)
		if e.cfg.Shared != nil {
			l.shared, l.key = e.cfg.Shared, "connector:"+id
		}
		e.limiters[id] = l
	}
	return l
}

// run is the state of one sync.
type run struct {
	e       *Engine
	target  Target
	id      string
	opt     SyncOptions
	lim     *Limiter
	cp      Checkpoint
	counts  store.SyncCounts
	pages   int
	retries int
	log     *slog.Logger
}

// Sync runs one sync of src for t: products, then orders, each from its
// checkpoint. It records a sync run, updates it after every page, and
// finishes it as succeeded, failed or cancelled. When the credentials stop
// working the connector goes to status "error" with a message for the
// user. The result is returned also on error.
func (e *Engine) Sync(ctx context.Context, t Target, src Source, opt SyncOptions) (*Result, error) {
	p, err := e.Begin(ctx, t)
	if err != nil {
		return nil, err
	}
	return p.Run(ctx, src, opt)
}

// Pending is a sync that Begin recorded and claimed, waiting for Run.
type Pending struct {
	e      *Engine
	target Target
	run    *store.SyncRun
	done   bool
}

// Begin claims connector t for one sync and records its run as running,
// so that a page rendered right after shows it; Run does the work,
// typically in the background. A connector that is already syncing in
// this process is ECONFLICT. A Pending must be Run: until then the
// connector stays claimed.
func (e *Engine) Begin(ctx context.Context, t Target) (*Pending, error) {
	e.mu.Lock()
	if e.running[t.ConnectorID] {
		e.mu.Unlock()
		return nil, phantomos.Errorf(phantomos.ECONFLICT, "A sync of this connector is already running.")
	}
	e.running[t.ConnectorID] = true
	e.mu.Unlock()
	sr, err := e.runs.StartSyncRun(ctx, t.Publisher, t.ConnectorID)
	if err != nil {
		e.release(t)
		return nil, err
	}
	return &Pending{e: e, target: t, run: sr}, nil
}

// RunID is the id of the recorded sync run.
func (p *Pending) RunID() string { return p.run.ID }

func (e *Engine) release(t Target) {
	e.mu.Lock()
	delete(e.running, t.ConnectorID)
	e.mu.Unlock()
}

// Run does the pending sync with src (see Sync). It runs once.
func (p *Pending) Run(ctx context.Context, src Source, opt SyncOptions) (*Result, error) {
	if p.done {
		return nil, errors.New("connector: sync already run")
	}
	p.done = true
	e, t := p.e, p.target
	defer e.release(t)
	r := &run{e: e, target: t, id: p.run.ID, opt: opt, lim: e.limiter(t.ConnectorID),
		log: e.cfg.Logger.With("publisher", t.Publisher, "connector", t.ConnectorID, "run", p.run.ID)}
	err := r.sync(ctx, src)
	res := &Result{RunID: p.run.ID, Counts: r.counts, Pages: r.pages, Retries: r.retries, Checkpoint: r.cp}
	if n, ok := src.(Noticer); ok {
		res.Notices = n.Notices()
		for _, msg := range res.Notices {
			r.log.Warn("connector notice", "notice", msg)
		}
	}
	return res, e.finish(ctx, r, res, err)
}

func (r *run) sync(ctx context.Context, src Source) error {
	cur, err := r.e.sink.Cursor(ctx, r.target)
	if err != nil {
		return fmt.Errorf("connector: read cursor: %w", err)
	}
	if r.cp, err = ParseCursor(cur); err != nil {
		// A cursor we cannot read only costs a full (idempotent) re-read.
		r.log.Error("unreadable cursor; starting a full sync", "err", err)
		r.cp = Checkpoint{}
	}
	if err := stream(ctx, r, StreamProducts, src.Products, func(p []Product) Batch { return Batch{Products: p} },
		func(p *Product) time.Time { return p.UpdatedAt }); err != nil {
		return err
	}
	if bs, ok := src.(BulkOrderSource); ok && bs.BulkBackfill() && (r.cp.Orders.Bulk != nil || r.cp.Orders.Synced.IsZero() && !r.cp.Orders.InPass()) {
		if err := r.bulkOrders(ctx, bs); err != nil {
			return err
		}
	} else if err := stream(ctx, r, StreamOrders, src.Orders, func(o []Order) Batch { return Batch{Orders: o} },
		func(o *Order) time.Time { return o.UpdatedAt }); err != nil {
		return err
	}
	return r.reconcile(ctx, src)
}

// reconcile removes the stored orders of the reconcile window that the
// source no longer lists: orders deleted on the platform, whose deletion
// webhook was lost or never subscribed. The stored ids are listed first,
// so that an order written meanwhile (a webhook) is not taken for deleted.
func (r *run) reconcile(ctx context.Context, src Source) error {
	lister, ok := src.(OrderLister)
	stored, ok2 := r.e.sink.(StoredOrders)
	if !ok || !ok2 || r.e.cfg.ReconcileWindow < 0 || r.cp.Orders.Synced.IsZero() {
		return nil
	}
	to := r.cp.Orders.Synced.Add(24 * time.Hour) // orders are placed before their last update
	from := r.cp.Orders.Synced.Add(-r.e.cfg.ReconcileWindow)
	ours, err := stored.OrderIDs(ctx, r.target, from, to)
	if err != nil {
		return fmt.Errorf("connector: reconcile: %w", err)
	}
	if len(ours) == 0 {
		return nil
	}
	var theirs []string
	if err := r.call(ctx, func(ctx context.Context) error {
		var err error
		theirs, err = lister.OrderIDs(ctx, from, to)
		return err
	}); err != nil {
		return err
	}
	have := make(map[string]bool, len(theirs))
	for _, id := range theirs {
		have[id] = true
	}
	var gone []string
	for _, id := range ours {
		if !have[id] {
			gone = append(gone, id)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	r.log.Info("removing orders deleted on the platform", "orders", len(gone))
	counts, err := r.e.sink.Commit(ctx, r.target, Batch{DeletedOrders: gone}, nil)
	if err != nil {
		return fmt.Errorf("connector: remove deleted orders: %w", err)
	}
	counts.Seen = int64(len(gone))
	r.counts.Add(counts)
	return nil
}

// stream runs (or resumes) a pass over one stream, committing each page
// with the checkpoint that follows it.
func stream[T any](ctx context.Context, r *run, name string, fetch func(context.Context, Query) (Page[T], error),
	batch func([]T) Batch, updated func(*T) time.Time) error {
	sc := r.cp.stream(name)
	if !sc.InPass() {
		sc.Since = time.Time{}
		if !sc.Synced.IsZero() && !r.opt.Full {
			sc.Since = sc.Synced.Add(-r.e.cfg.Lookback)
		}
		sc.High = sc.Synced
	}
	// A pass resumed from a stored page token restarts once from its first
	// page if the platform no longer accepts the token (re-reading is
	// idempotent); otherwise a stale token would block the connector.
	resumed := sc.InPass()
	for {
		q := Query{Since: sc.Since, Page: sc.Page}
		var page Page[T]
		err := r.call(ctx, func(ctx context.Context) error {
			var err error
			page, err = fetch(ctx, q)
			return err
		})
		if err != nil && resumed && KindOf(err) == Permanent && ctx.Err() == nil {
			r.log.Warn("resumed page token refused; restarting the pass", "stream", name, "err", err)
			resumed = false
			sc.Page = ""
			continue
		}
		if err != nil {
			return err
		}
		resumed = false
		if page.Next != "" && page.Next == q.Page {
			return fmt.Errorf("connector: %s: the source returned the same page token twice", name)
		}
		next := r.cp
		ns := next.stream(name)
		for i := range page.Items {
			if u := updated(&page.Items[i]); u.After(ns.High) {
				ns.High = u.UTC()
			}
		}
		ns.Page = page.Next
		if page.Next == "" {
			ns.Synced, ns.Since, ns.High = ns.High, time.Time{}, time.Time{}
			ns.Passes++
		}
		b := batch(page.Items)
		counts, err := r.e.sink.Commit(ctx, r.target, b, next.Cursor())
		if err != nil {
			return fmt.Errorf("connector: write %s page: %w", name, err)
		}
		counts.Seen = int64(b.Len())
		r.counts.Add(counts)
		r.pages++
		r.cp = next
		through := ns.High
		if page.Next == "" {
			through = ns.Synced
		}
		if err := r.e.runs.UpdateSyncRun(ctx, r.target.Publisher, r.id, r.counts); err != nil && ctx.Err() == nil {
			r.log.Warn("record sync progress", "err", err)
		}
		if r.opt.Progress != nil {
			r.opt.Progress(Progress{RunID: r.id, Stream: name, Pages: r.pages, Counts: r.counts, Through: through, Retries: r.retries})
		}
		if page.Next == "" {
			return nil
		}
		sc = r.cp.stream(name)
	}
}

// call runs one source call under the connector's pacer and a timeout,
// retrying transient and rate-limited failures.
func (r *run) call(ctx context.Context, fn func(context.Context) error) error {
	var retries int
	err := r.e.call(ctx, r.lim, r.log, fn, &retries)
	r.retries += retries
	return err
}

func (e *Engine) call(ctx context.Context, lim *Limiter, log *slog.Logger, fn func(context.Context) error, retries *int) error {
	for attempt := 1; ; attempt++ {
		if err := lim.Wait(ctx); err != nil {
			return err
		}
		rctx, cancel := context.WithTimeout(ctx, e.cfg.RequestTimeout)
		err := fn(rctx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		kind := KindOf(err)
		if kind != Transient && kind != RateLimited {
			return err
		}
		if attempt >= e.cfg.MaxAttempts {
			return &Error{Kind: kind, Status: statusOf(err), Err: err,
				Message: fmt.Sprintf("%s Gave up after %d attempts; the next sync will try again.", UserMessage(err), attempt)}
		}
		wait := e.backoff(attempt)
		if ra := RetryAfterOf(err); ra > 0 {
			if ra > e.cfg.MaxRetryAfter {
				return err
			}
			// Wait what was asked, plus a little so that many clients told
			// the same do not all return at once.
			wait = ra + time.Duration(rand.Float64()*0.1*float64(ra))
		}
		log.Info("retrying source call", "attempt", attempt, "kind", kind.String(), "wait", wait, "err", err)
		*retries++
		if err := sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// backoff returns the wait before try attempt+1: exponential, capped, with
// "equal jitter" (half fixed, half random) so retries spread out but never
// collapse to zero.
func (e *Engine) backoff(attempt int) time.Duration {
	ceil := e.cfg.MaxBackoff
	if attempt-1 < 30 {
		ceil = min(ceil, e.cfg.BaseBackoff<<(attempt-1))
	}
	half := ceil / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

func statusOf(err error) int {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Status
	}
	return 0
}

// finish records the outcome of a run and, when the user must act, the
// connector's error state.
func (e *Engine) finish(ctx context.Context, r *run, res *Result, err error) error {
	// The run must be closed even when ctx was cancelled.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	state, msg := store.SyncSucceeded, ""
	switch {
	case err == nil:
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		state, msg = store.SyncCancelled, "The sync was stopped; the next sync resumes from the last page written."
	default:
		state, msg = store.SyncFailed, failureMessage(err)
	}
	res.State = state
	// The connector's error state is recorded before the run is closed, so
	// that whoever sees the run failed also sees why the connector stopped.
	if state == store.SyncFailed && KindOf(err) == Auth {
		if serr := e.runs.SetConnectorStatus(fctx, r.target.Publisher, r.target.ConnectorID, store.ConnectorError, msg); serr != nil {
			err = errors.Join(err, serr)
		}
	}
	if ferr := e.runs.FinishSyncRun(fctx, r.target.Publisher, r.id, state, r.counts, msg); ferr != nil {
		r.log.Error("record sync outcome", "err", ferr)
		err = errors.Join(err, ferr)
	}
	switch state {
	case store.SyncSucceeded:
		r.log.Info("sync succeeded", "pages", r.pages, "seen", r.counts.Seen, "inserted", r.counts.Inserted, "updated", r.counts.Updated)
	case store.SyncCancelled:
		r.log.Info("sync cancelled", "pages", r.pages)
	default:
		r.log.Error("sync failed", "err", err, "kind", KindOf(err).String())
	}
	return err
}

// failureMessage is the user's account of err: a classified source error's
// message, a phantomos error's message, or a generic line.
func failureMessage(err error) string {
	if e, ok := errors.AsType[*Error](err); ok && e.Message != "" {
		return e.Message
	}
	if code := phantomos.ErrorCode(err); code != phantomos.EINTERNAL {
		return phantomos.ErrorMessage(err)
	}
	return UserMessage(err)
}

// Test checks src's credentials for t. Success makes the connector active;
// an auth failure puts it in "error" with the reason.
func (e *Engine) Test(ctx context.Context, t Target, src Source) (Account, error) {
	var acc Account
	var retries int
	log := e.cfg.Logger.With("publisher", t.Publisher, "connector", t.ConnectorID)
	err := e.call(ctx, e.limiter(t.ConnectorID), log, func(ctx context.Context) error {
		var err error
		acc, err = src.Test(ctx)
		return err
	}, &retries)
	if n, ok := src.(Noticer); ok {
		acc.Notices = append(acc.Notices, n.Notices()...)
	}
	switch {
	case err == nil:
		err = e.runs.SetConnectorStatus(ctx, t.Publisher, t.ConnectorID, store.ConnectorActive, "")
	case KindOf(err) == Auth:
		if serr := e.runs.SetConnectorStatus(context.WithoutCancel(ctx), t.Publisher, t.ConnectorID, store.ConnectorError, failureMessage(err)); serr != nil {
			err = errors.Join(err, serr)
		}
	}
	return acc, err
}

// Apply writes records pushed by the platform (webhooks) through the sink,
// leaving the cursor as it is. Writes are idempotent, so a webhook
// delivered twice, or a record that a sync also reads, changes nothing the
// second time.
func (e *Engine) Apply(ctx context.Context, t Target, b Batch) (store.SyncCounts, error) {
	counts, err := e.sink.Commit(ctx, t, b, nil)
	counts.Seen = int64(b.Len())
	if err != nil {
		return counts, fmt.Errorf("connector: apply pushed records: %w", err)
	}
	return counts, nil
}
