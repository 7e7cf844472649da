package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// Group commit of pushed orders. A batch's import has fixed costs that do
// not depend on its size (the commit, which rewrites every rollup and index
// page the batch touched, and the fold of its deltas into the rollups), so
// that batches written one by one went at less than half the speed of a
// file. The batches of one publisher are written one at a time anyway (its
// write turn, see pushLocks); those that wait for the turn are written
// together instead: the request that gets the turn takes the batches
// waiting behind it that can share an import and writes them in one, each
// batch with its own counts, stale orders, log entry and stored response,
// exactly as if it had been written alone.
//
// What may share an import: batches of the same source, user and
// valid_only, whose orders are distinct (an import holds an order once;
// and a batch that shares an order with one left waiting is left waiting
// too, so batches with an order in common are written in the order they
// came). A group is bounded by maxGroupBatches and maxGroupLines.
//
// The group is optimistic: if its import fails, or the store refuses a
// row of any batch in it (a currency without an exchange rate), or the
// stale orders of its batches cannot be told apart, it is rolled back and
// its batches are written again one by one, each with the answer it would
// have had alone.
//
// No goroutine is started: the request that gets the turn writes the
// group, its followers wait on a channel. A follower whose client goes away
// while it waits leaves the queue; once taken into a group it waits for the
// group's end (it is being written). The group is written without the
// leader's cancellation, so that a leader whose client went away does not
// lose its followers' batches (nor its own, which a retry then replays).

// Bounds of a group: at most this many batches and order lines, and how
// long the request that gets the turn waits for pushes that are on their
// way (read, being checked) to join its group. Without that wait, clients
// that send their next batch as soon as they have their answer fall into
// step: a large group, then a group of the one batch that came while it
// was written, then a large one, each group paying the import's fixed
// costs.
const (
	maxGroupBatches = 16
	maxGroupLines   = 8 * maxPushLines
	maxGroupLinger  = 100 * time.Millisecond
)

// pushArrival counts an order push of a slot from when its body is read
// until its batch waits for the turn, or it ends without one (a refusal, a
// replay): the turn's holder waits (briefly) for such pushes.
type pushArrival struct {
	sl   *pushSlot
	open bool
}

// arrive counts an order push of publisher pub on its way.
func (p *pushLocks) arrive(pub string) *pushArrival {
	sl := p.slot(pub)
	sl.mu.Lock()
	sl.coming++
	sl.mu.Unlock()
	return &pushArrival{sl: sl, open: true}
}

// leave ends the count of a push that did not queue a batch.
func (a *pushArrival) leave() {
	a.sl.mu.Lock()
	a.leaveLocked()
	a.sl.mu.Unlock()
}

func (a *pushArrival) leaveLocked() {
	if a.open {
		a.open = false
		a.sl.coming--
		select {
		case a.sl.moved <- struct{}{}:
		default:
		}
	}
}

// linger waits, at most maxGroupLinger, while a push of the slot is on
// its way, or fewer batches came since the last group was answered than it
// had (its clients are likely sending their next ones), unless a group
// would be full.
func (sl *pushSlot) linger(b *orderBatch) {
	var t *time.Timer
	for {
		sl.mu.Lock()
		wait := !b.taken && (sl.coming > 0 || sl.since < sl.answered) && len(sl.waiting) < maxGroupBatches
		sl.mu.Unlock()
		if !wait {
			break
		}
		if t == nil {
			t = time.NewTimer(maxGroupLinger)
			defer t.Stop()
		}
		select {
		case <-sl.moved:
		case <-t.C:
			return
		}
	}
}

// orderBatch is a checked batch of pushed orders waiting to be written.
type orderBatch struct {
	ctx       context.Context // the request's
	actor     *phantomos.Actor
	res       *pushResult // filled in by the write
	c         *pushChecker
	rows      []store.SaleRow
	where     [][2]int
	validOnly bool
	orders    int    // orders received
	idemKey   string // the claimed Idempotency-Key, if any
	path      string // the request's path, for problem responses
	arrival   *pushArrival

	taken bool              // in a group (under the slot's mu)
	done  chan batchOutcome // the write's outcome, buffered
}

type batchOutcome struct {
	resp pushResponse
	err  error
}

// groupable reports whether x may share an import with b.
func (b *orderBatch) groupable(x *orderBatch) bool {
	return b.actor.PublisherID == x.actor.PublisherID && b.actor.UserID == x.actor.UserID &&
		b.res.ConnectorID == x.res.ConnectorID && b.validOnly == x.validOnly
}

// orderKeys calls fn with each order of the batch's rows.
func (b *orderBatch) orderKeys(fn func(string)) {
	for i := range b.rows {
		if i == 0 || b.rows[i].OrderID != b.rows[i-1].OrderID {
			fn(b.res.ConnectorID + "\x00" + b.rows[i].OrderID)
		}
	}
}

// submit writes b in a group, in its publisher's write turn: whoever gets
// the turn writes the batches waiting for it, so b is written by its own
// request or by another's, whichever gets there first.
func (p *pushLocks) submit(b *orderBatch, write func([]*orderBatch) []batchOutcome) (pushResponse, error) {
	sl := p.slot(string(b.actor.PublisherID))
	sl.mu.Lock()
	sl.waiting = append(sl.waiting, b)
	sl.since++
	if b.arrival != nil {
		b.arrival.leaveLocked()
	}
	sl.mu.Unlock()
	for {
		select {
		case out := <-b.done:
			return out.resp, out.err
		case sl.turn <- struct{}{}:
			sl.linger(b)
			if g := sl.take(b); len(g) > 0 {
				outs := write(g)
				sl.mu.Lock()
				sl.answered, sl.since = len(g), 0
				sl.mu.Unlock()
				for i, x := range g {
					x.done <- outs[i]
				}
			}
			<-sl.turn
		case <-b.ctx.Done():
			sl.mu.Lock()
			if !b.taken {
				sl.waiting = slices.DeleteFunc(sl.waiting, func(x *orderBatch) bool { return x == b })
				sl.mu.Unlock()
				return pushResponse{}, b.ctx.Err()
			}
			sl.mu.Unlock()
			// Being written: the outcome comes when the group ends.
			out := <-b.done
			return out.resp, out.err
		}
	}
}

// take removes from the queue the first batch waiting and those behind it
// that may share its import, and returns them; nothing when b, the batch
// of the request that has the turn, is taken already (its outcome is
// ready: it answers rather than write for others).
func (sl *pushSlot) take(b *orderBatch) []*orderBatch {
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if b.taken || len(sl.waiting) == 0 {
		return nil
	}
	head := sl.waiting[0]
	group := []*orderBatch{head}
	lines := len(head.rows)
	in, held := map[string]bool{}, map[string]bool{}
	head.orderKeys(func(k string) { in[k] = true })
	rest := sl.waiting[:0]
	for _, x := range sl.waiting[1:] {
		ok := head.groupable(x) && len(group) < maxGroupBatches && lines+len(x.rows) <= maxGroupLines
		if ok {
			x.orderKeys(func(k string) { ok = ok && !in[k] && !held[k] })
		}
		if !ok {
			// Left waiting, and its orders with it: a later batch that
			// shares one is written after it.
			x.orderKeys(func(k string) { held[k] = true })
			rest = append(rest, x)
			continue
		}
		x.orderKeys(func(k string) { in[k] = true })
		group = append(group, x)
		lines += len(x.rows)
	}
	clear(sl.waiting[len(rest):])
	sl.waiting = rest
	for _, x := range group {
		x.taken = true
	}
	return group
}

// errRegroup abandons a group's import: its batches are written one by one.
var errRegroup = errors.New("the group is written batch by batch")

// groupStats counts the groups of pushed batches written: how many, the
// batches they held, the time their writes took and how many were written
// batch by batch after all. Batches per group and time per group tell an
// operator whether group commit works for their clients (a batch sent
// alone is a group of one).
type groupStats struct {
	groups, batches, splits atomic.Int64
	writing                 atomic.Int64 // nanoseconds
}

// collectors exposes the counts on /metrics.
func (g *groupStats) collectors() []prometheus.Collector {
	counter := func(name, help string, value func() float64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, value)
	}
	return []prometheus.Collector{
		counter("phantomos_push_groups_total", "Groups of pushed order batches written, each in one import (a batch written alone is a group of one).",
			func() float64 { return float64(g.groups.Load()) }),
		counter("phantomos_push_group_batches_total", "Batches of pushed orders written in groups.",
			func() float64 { return float64(g.batches.Load()) }),
		counter("phantomos_push_group_write_seconds_total", "Time spent writing groups of pushed batches, their commits included.",
			func() float64 { return time.Duration(g.writing.Load()).Seconds() }),
		counter("phantomos_push_group_splits_total", "Groups whose import was given up, their batches then written one by one.",
			func() float64 { return float64(g.splits.Load()) }),
	}
}

// PushGroups returns how many groups of pushed batches the server wrote,
// how many batches they held and how long their writes took.
func (s *Server) PushGroups() (groups, batches int64, writing time.Duration) {
	return s.groups.groups.Load(), s.groups.batches.Load(), time.Duration(s.groups.writing.Load())
}

// writeOrderGroup writes a group of batches in one import, and if that
// cannot give each batch the answer it would have had alone, one by one.
// It returns each batch's outcome.
func (s *Server) writeOrderGroup(group []*orderBatch) []batchOutcome {
	if s.pushGroupHook != nil {
		s.pushGroupHook(group)
	}
	start := time.Now()
	defer func() {
		s.groups.groups.Add(1)
		s.groups.batches.Add(int64(len(group)))
		s.groups.writing.Add(int64(time.Since(start)))
	}()
	// No member's cancellation stops the group: they are written for all.
	ctx := context.WithoutCancel(group[0].ctx)
	outs, err := s.importOrderGroup(ctx, group)
	if err != nil {
		s.groups.splits.Add(1)
		if !errors.Is(err, errRegroup) && phantomos.ErrorCode(err) != phantomos.EINVALID {
			s.logger.Warn("push group", "batches", len(group), "err", err)
		}
		outs = make([]batchOutcome, len(group))
		for i, b := range group {
			resp, err := s.writeOrdersAlone(context.WithoutCancel(b.ctx), b, false)
			outs[i] = batchOutcome{resp, err}
		}
	}
	return outs
}

// importOrderGroup writes the group in one import; each batch's answer is
// stored (when it has an Idempotency-Key) and logged in that import.
func (s *Server) importOrderGroup(ctx context.Context, group []*orderBatch) ([]batchOutcome, error) {
	head := group[0]
	spec := store.ImportSpec{Kind: store.ImportSales, Format: "push", FileName: "POST /api/v1/orders", ConnectorID: head.res.ConnectorID,
		ValidOnly: head.validOnly, CreatedBy: head.actor.UserID}
	outs := make([]batchOutcome, len(group))
	_, err := s.store.Import(ctx, head.actor.PublisherID, spec, func(w *store.ImportWriter) error {
		if len(group) > 1 {
			batches := make([][]store.SaleRow, len(group))
			for i, b := range group {
				batches[i] = b.rows
			}
			if err := w.PrefetchProducts(ctx, batches...); err != nil {
				return err
			}
		}
		for i, b := range group {
			before := w.Report()
			w.AddSeen(int64(len(b.rows)))
			if err := w.WriteSales(ctx, b.rows); err != nil {
				return err
			}
			if err := w.ReplaceOrders(ctx); err != nil {
				return err
			}
			after := w.Report()
			stale := after.StaleOrders[len(before.StaleOrders):]
			if after.Failed > before.Failed && !head.validOnly {
				return nil // the import refuses itself (EINVALID), its run says why
			}
			if after.Failed > before.Failed || after.Stale-before.Stale != int64(len(stale)) {
				return errRegroup
			}
			res := *b.res
			res.Inserted, res.Updated = after.Inserted-before.Inserted, after.Updated-before.Updated
			res.Unchanged, res.Removed = after.Skipped-before.Skipped, after.Deleted-before.Deleted
			res.Stale, res.StaleOrders = int64(len(stale)), slices.Clip(stale)
			res.Rejected = len(b.c.rejected)
			res.Accepted = res.Received - res.Rejected
			res.Errors = b.c.errs
			if res.Errors == nil {
				res.Errors = []store.PushRejection{}
			}
			resp := pushResponse{status: http.StatusOK, body: &res, finished: b.idemKey != ""}
			if b.idemKey != "" {
				ct, body, err := renderPushResponse(b.path, resp)
				if err != nil {
					return err
				}
				if err := w.FinishPush(ctx, b.idemKey, resp.status, ct, body); err != nil {
					return err
				}
			}
			if err := w.LogPush(ctx, store.PushLog{ConnectorID: res.ConnectorID, Kind: "orders", Status: resp.status, Orders: int64(b.orders),
				Lines: int64(res.Lines), Failed: int64(len(b.c.rejected)), Rejected: b.c.errs}); err != nil {
				return err
			}
			outs[i] = batchOutcome{resp: resp}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return outs, nil
}
