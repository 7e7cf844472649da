package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/phantomos/phantomos"
)

// kindTagRun is the job kind of a local tagging run (never renamed: see
// args.go).
const kindTagRun = "tag_run"

// tagRunAttempts bounds the attempts at one tagging run; the schedule
// runs the tagger over new products anyway.
const tagRunAttempts = 3

// TagWork runs the local tagger; the worker implements it.
type TagWork interface {
	// TagRun brings publisher pub's suggestions up to date: over the
	// products never looked at when onlyNew, else over every product
	// waiting for review (after a catalogue change). ENOTFOUND (the
	// publisher is gone) discards the job.
	TagRun(ctx context.Context, pub phantomos.PublisherID, onlyNew bool) error
}

// TagRunArgs is a local tagging run after a change that calls for one. It
// is not unique: a change made while a run is under way gets a run of its
// own, and runs are idempotent.
type TagRunArgs struct {
	Publisher phantomos.PublisherID `json:"publisher_id"`
	OnlyNew   bool                  `json:"only_new"`
}

// Kind names the job kind.
func (TagRunArgs) Kind() string { return kindTagRun }

// InsertOpts bounds the attempts at a run.
func (TagRunArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: tagRunAttempts} }

// EnqueueTagRun enqueues a tagging run of pub.
func (q *Queue) EnqueueTagRun(ctx context.Context, pub phantomos.PublisherID, onlyNew bool) error {
	_, _, err := q.insert(ctx, TagRunArgs{Publisher: pub, OnlyNew: onlyNew})
	return err
}

type tagRunWorker struct {
	river.WorkerDefaults[TagRunArgs]
	q *Queue
	w TagWork
}

func (w *tagRunWorker) Timeout(*river.Job[TagRunArgs]) time.Duration { return 15 * time.Minute }

func (w *tagRunWorker) Work(ctx context.Context, j *river.Job[TagRunArgs]) error {
	return outcome(w.q, j.Kind, j.Args, w.w.TagRun(ctx, j.Args.Publisher, j.Args.OnlyNew))
}

// addTagWorker registers the tagging worker when the queue's Work tags.
func addTagWorker(cfg *Config, q *Queue, ws *river.Workers) error {
	tw, ok := cfg.Work.(TagWork)
	if !ok {
		return nil
	}
	return river.AddWorkerSafely(ws, &tagRunWorker{q: q, w: tw})
}
