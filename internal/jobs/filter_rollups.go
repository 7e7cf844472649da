package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/phantomos/phantomos"
)

// kindFilterRollups is the job kind of one publisher's filter rollup
// rebuild (never renamed: see args.go).
const kindFilterRollups = "filter_rollups"

// filterRollupsAttempts bounds the attempts at one rebuild; the schedule
// asks again a period later while the tables are stale.
const filterRollupsAttempts = 3

// FilterRollupsWork rebuilds the rollups that answer questions under one
// product filter; the worker implements it.
type FilterRollupsWork interface {
	// RebuildFilterRollups rebuilds pub's filter rollups from one snapshot
	// of its data. ENOTFOUND (the publisher is gone) discards the job.
	RebuildFilterRollups(ctx context.Context, pub phantomos.PublisherID) error
}

// FilterRollupsArgs is the filter rollup rebuild of one publisher, unique
// per publisher while waiting or running: a second request joins the first.
type FilterRollupsArgs struct {
	Publisher phantomos.PublisherID `json:"publisher_id"`
}

// Kind names the job kind.
func (FilterRollupsArgs) Kind() string { return kindFilterRollups }

// InsertOpts makes a publisher's rebuild unique while unfinished.
func (FilterRollupsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: filterRollupsAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: unfinished}}
}

// EnqueueFilterRollups enqueues the filter rollup rebuild of pub (nothing
// when one waits or runs).
func (q *Queue) EnqueueFilterRollups(ctx context.Context, pub phantomos.PublisherID) error {
	_, _, err := q.insert(ctx, FilterRollupsArgs{Publisher: pub})
	return err
}

type filterRollupsWorker struct {
	river.WorkerDefaults[FilterRollupsArgs]
	q *Queue
	w FilterRollupsWork
}

// Timeout: a rebuild reads the publisher's whole history (minutes at ten
// million lines).
func (w *filterRollupsWorker) Timeout(*river.Job[FilterRollupsArgs]) time.Duration {
	return 30 * time.Minute
}

func (w *filterRollupsWorker) Work(ctx context.Context, j *river.Job[FilterRollupsArgs]) error {
	return outcome(w.q, j.Kind, j.Args, w.w.RebuildFilterRollups(ctx, j.Args.Publisher))
}

// addFilterRollupsWorker registers the rebuild worker when the queue's
// Work rebuilds filter rollups.
func addFilterRollupsWorker(cfg *Config, q *Queue, ws *river.Workers) error {
	fw, ok := cfg.Work.(FilterRollupsWork)
	if !ok {
		return nil
	}
	return river.AddWorkerSafely(ws, &filterRollupsWorker{q: q, w: fw})
}
