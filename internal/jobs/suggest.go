package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/phantomos/phantomos"
)

// kindSuggestRun is the job kind of a tagging run a person asked for,
// with Claude when configured (never renamed: see args.go).
const kindSuggestRun = "suggest_run"

// suggestAttempts bounds the attempts at one run: Claude costs money,
// and a person can ask again.
const suggestAttempts = 2

// SuggestWork runs the tagger a person asked for; the worker implements
// it.
type SuggestWork interface {
	// SuggestRun brings pub's suggestions up to date, with Claude for the
	// products the local tagger is unsure about when configured (over the
	// products never looked at when onlyNew), and returns what it did,
	// which the job records as its output. ENOTFOUND (the publisher is
	// gone) discards the job.
	SuggestRun(ctx context.Context, pub phantomos.PublisherID, onlyNew bool) (any, error)
}

// SuggestRunArgs is a tagging run a person asked for (the Suggest
// mappings button, POST /api/ai/tagging). Unique per publisher and
// OnlyNew while waiting or running: asking again joins the run.
type SuggestRunArgs struct {
	Publisher phantomos.PublisherID `json:"publisher_id"`
	OnlyNew   bool                  `json:"only_new"`
}

// Kind names the job kind.
func (SuggestRunArgs) Kind() string { return kindSuggestRun }

// InsertOpts makes a run unique while unfinished.
func (SuggestRunArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: suggestAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: unfinished}}
}

// EnqueueSuggestRun enqueues a tagging run of pub and returns its job
// (the one already waiting or running, if any).
func (q *Queue) EnqueueSuggestRun(ctx context.Context, pub phantomos.PublisherID, onlyNew bool) (int64, error) {
	j, _, err := q.insert(ctx, SuggestRunArgs{Publisher: pub, OnlyNew: onlyNew})
	if err != nil {
		return 0, err
	}
	return j.ID, nil
}

// EnqueueInsightsRunJob is EnqueueInsightsRun returning the job (the one
// already waiting or running, if any).
func (q *Queue) EnqueueInsightsRunJob(ctx context.Context, pub phantomos.PublisherID) (int64, error) {
	j, _, err := q.insert(ctx, InsightsRunArgs{Publisher: pub})
	if err != nil {
		return 0, err
	}
	return j.ID, nil
}

type suggestWorker struct {
	river.WorkerDefaults[SuggestRunArgs]
	q *Queue
	w SuggestWork
}

func (w *suggestWorker) Timeout(*river.Job[SuggestRunArgs]) time.Duration { return 15 * time.Minute }

func (w *suggestWorker) Work(ctx context.Context, j *river.Job[SuggestRunArgs]) error {
	out, err := w.w.SuggestRun(ctx, j.Args.Publisher, j.Args.OnlyNew)
	if err == nil && out != nil {
		if rerr := river.RecordOutput(ctx, out); rerr != nil {
			w.q.cfg.Logger.Warn("jobs: record output", "kind", j.Kind, "err", rerr)
		}
	}
	return outcome(w.q, j.Kind, j.Args, err)
}

// addSuggestWorker registers the worker of suggest runs when the queue's
// Work suggests.
func addSuggestWorker(cfg *Config, q *Queue, ws *river.Workers) error {
	sw, ok := cfg.Work.(SuggestWork)
	if !ok {
		return nil
	}
	return river.AddWorkerSafely(ws, &suggestWorker{q: q, w: sw})
}

// viewable are the job kinds people follow from pages and the API
// (GET /api/v1/jobs/{id}): each has its publisher in its arguments.
var viewable = map[string]bool{kindSuggestRun: true, kindInsightsRun: true}

// JobOf returns job id when it is one of pub's that people may follow (a
// tagging or insights run): another publisher's job, or a job of another
// kind, is ENOTFOUND, so that ids reveal nothing.
func (q *Queue) JobOf(ctx context.Context, pub phantomos.PublisherID, id int64) (*Job, error) {
	j, err := q.client.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) || err == nil && !viewable[j.Kind] {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Job not found.")
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: job %d: %w", id, err)
	}
	var a struct {
		Publisher phantomos.PublisherID `json:"publisher_id"`
	}
	if json.Unmarshal(j.EncodedArgs, &a) != nil || a.Publisher != pub {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Job not found.")
	}
	return q.Job(ctx, id)
}

// Wait polls job id of pub until it has finished or up to d, and returns
// it as it then is: a request may wait a bounded while for a short job
// that any process runs, and otherwise answers with its progress.
func (q *Queue) Wait(ctx context.Context, pub phantomos.PublisherID, id int64, d time.Duration) (*Job, error) {
	deadline := time.Now().Add(d)
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
		j, err := q.JobOf(ctx, pub, id)
		if err != nil || j.Finished || !time.Now().Before(deadline) {
			return j, err
		}
		t.Reset(min(100*time.Millisecond, time.Until(deadline)))
	}
}
