package connector

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// BulkOrderSource is implemented by sources that can export every order in
// one asynchronous operation on the platform (Shopify's bulk operations),
// far cheaper than paging through years of history. The engine uses it for
// the first sync of the orders stream; incremental syncs stay paged.
type BulkOrderSource interface {
	// BulkBackfill reports whether first syncs should use bulk exports.
	BulkBackfill() bool
	// StartBulkOrders starts an export of every order.
	StartBulkOrders(ctx context.Context) (BulkOp, error)
	// BulkStatus reports where the export id stands. An export that failed,
	// was cancelled or expired is an error wrapping ErrBulkGone.
	BulkStatus(ctx context.Context, id string) (BulkOp, error)
	// ReadBulkOrders streams a completed export's result from url without
	// holding it in memory: it skips the first skip objects (already
	// written), then calls fn with whole orders as they are read, each call
	// with the count of objects read through its last order. A result no
	// longer downloadable is an error wrapping ErrBulkGone; a connection
	// dropped mid-way is transient (the engine resumes from the last count
	// written).
	ReadBulkOrders(ctx context.Context, url string, skip int64, fn func(orders []Order, through int64) error) error
}

// BulkOp is a bulk export as the platform reports it.
type BulkOp struct {
	ID        string
	CreatedAt time.Time // on the platform's clock: the new watermark when done
	Done      bool      // completed: URL holds the result
	URL       string    // "" when the export found nothing
	Objects   int64     // objects exported so far
}

// ErrBulkGone is wrapped by errors about a bulk export that can no longer
// be read: failed, cancelled, or its result expired. The engine starts a
// new export (once per sync).
var ErrBulkGone = errors.New("connector: bulk export gone")

// BulkCheckpoint is a bulk export in progress: the platform's id of it,
// when it started, and how many objects of its result are written. A sync
// killed at any point polls the same export again and skips what is
// written.
type BulkCheckpoint struct {
	ID      string    `json:"id"`
	Started time.Time `json:"started,omitzero"`
	Applied int64     `json:"applied,omitempty"`
}

// bulkOrders runs (or resumes) the orders backfill through a bulk export.
// A gone export is replaced by a new one once; a second failure clears it
// from the cursor, so that the next sync starts afresh.
func (r *run) bulkOrders(ctx context.Context, src BulkOrderSource) error {
	restarted := false
	for {
		if r.cp.Orders.Bulk == nil {
			var op BulkOp
			if err := r.call(ctx, func(ctx context.Context) error {
				var err error
				op, err = src.StartBulkOrders(ctx)
				return err
			}); err != nil {
				return err
			}
			next := r.cp
			next.Orders = StreamCheckpoint{Passes: r.cp.Orders.Passes, Bulk: &BulkCheckpoint{ID: op.ID, Started: op.CreatedAt.UTC()}}
			if err := r.commit(ctx, StreamOrders, Batch{}, next, time.Time{}); err != nil {
				return err
			}
			r.log.Info("bulk export started", "op", op.ID)
		}
		err := r.readBulk(ctx, src)
		if err == nil || !errors.Is(err, ErrBulkGone) || ctx.Err() != nil {
			return err
		}
		next := r.cp
		next.Orders = StreamCheckpoint{Passes: r.cp.Orders.Passes}
		if cerr := r.commit(ctx, StreamOrders, Batch{}, next, time.Time{}); cerr != nil {
			return errors.Join(err, cerr)
		}
		if restarted {
			return err
		}
		restarted = true
		r.log.Warn("bulk export gone; starting a new one", "err", err)
	}
}

// readBulk waits for the checkpointed export to complete and writes its
// orders, page by page with the count of objects applied, then makes the
// export's start the watermark.
func (r *run) readBulk(ctx context.Context, src BulkOrderSource) error {
	b := *r.cp.Orders.Bulk
	wait := r.e.cfg.BulkPoll
	var op BulkOp
	for {
		if err := r.call(ctx, func(ctx context.Context) error {
			var err error
			op, err = src.BulkStatus(ctx, b.ID)
			return err
		}); err != nil {
			return err
		}
		if op.Done {
			break
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		wait = min(wait*2, 16*r.e.cfg.BulkPoll)
	}
	if op.URL != "" {
		for attempt := 1; ; attempt++ {
			err := src.ReadBulkOrders(ctx, op.URL, r.cp.Orders.Bulk.Applied, func(orders []Order, through int64) error {
				next := r.cp
				nb := *next.Orders.Bulk
				nb.Applied = through
				next.Orders.Bulk = &nb
				var high time.Time
				for i := range orders {
					if orders[i].UpdatedAt.After(high) {
						high = orders[i].UpdatedAt.UTC()
					}
				}
				if high.After(next.Orders.High) {
					next.Orders.High = high
				}
				return r.commit(ctx, StreamOrders, Batch{Orders: orders}, next, high)
			})
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if KindOf(err) != Transient || attempt >= r.e.cfg.MaxAttempts {
				return err
			}
			r.retries++
			r.log.Info("bulk download cut off; resuming", "attempt", attempt, "applied", r.cp.Orders.Bulk.Applied, "err", err)
			if err := sleep(ctx, r.e.backoff(attempt)); err != nil {
				return err
			}
		}
	}
	// Updates made while the export ran may be missing from it: the next
	// (paged) pass starts from the export's start, less the lookback.
	next := r.cp
	synced := b.Started
	if synced.IsZero() {
		synced = next.Orders.High
	}
	next.Orders = StreamCheckpoint{Synced: synced, Passes: r.cp.Orders.Passes + 1}
	return r.commit(ctx, StreamOrders, Batch{}, next, synced)
}

// commit writes one page with the checkpoint that follows it and records
// the progress.
func (r *run) commit(ctx context.Context, name string, b Batch, next Checkpoint, through time.Time) error {
	counts, err := r.e.sink.Commit(ctx, r.target, b, next.Cursor())
	if err != nil {
		return fmt.Errorf("connector: write %s page: %w", name, err)
	}
	counts.Seen = int64(b.Len())
	r.counts.Add(counts)
	r.pages++
	r.cp = next
	if err := r.e.runs.UpdateSyncRun(ctx, r.target.Publisher, r.id, r.counts); err != nil && ctx.Err() == nil {
		r.log.Warn("record sync progress", "err", err)
	}
	if r.opt.Progress != nil {
		r.opt.Progress(Progress{RunID: r.id, Stream: name, Pages: r.pages, Counts: r.counts, Through: through, Retries: r.retries})
	}
	return nil
}
