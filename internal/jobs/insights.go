package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/phantomos/phantomos"
)

// kindInsightsRun is the job kind of one publisher's insight generation
// (never renamed: see args.go).
const kindInsightsRun = "insights_run"

// insightsAttempts bounds the attempts at one generation; the schedule
// asks again a period later anyway.
const insightsAttempts = 3

// InsightsWork generates insights and forecasts; the worker implements
// it.
type InsightsWork interface {
	// InsightsRun runs the detectors for pub and refreshes its stored
	// forecasts. ENOTFOUND (the publisher is gone) discards the job.
	InsightsRun(ctx context.Context, pub phantomos.PublisherID) error
}

// InsightsRunArgs is the insight generation of one publisher, unique per
// publisher while waiting or running: a second request joins the first.
type InsightsRunArgs struct {
	Publisher phantomos.PublisherID `json:"publisher_id"`
}

// Kind names the job kind.
func (InsightsRunArgs) Kind() string { return kindInsightsRun }

// InsertOpts makes a publisher's generation unique while unfinished.
func (InsightsRunArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: insightsAttempts,
		UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: unfinished}}
}

// EnqueueInsightsRun enqueues the insight generation of pub (nothing when
// one waits or runs).
func (q *Queue) EnqueueInsightsRun(ctx context.Context, pub phantomos.PublisherID) error {
	_, _, err := q.insert(ctx, InsightsRunArgs{Publisher: pub})
	return err
}

// InsightsPending reports whether an insight generation of pub waits or
// runs.
func (q *Queue) InsightsPending(ctx context.Context, pub phantomos.PublisherID) (bool, error) {
	res, err := q.client.JobList(ctx, river.NewJobListParams().Kinds(kindInsightsRun).States(unfinished...).First(maxActiveSyncs))
	if err != nil {
		return false, fmt.Errorf("jobs: insights pending: %w", err)
	}
	for _, j := range res.Jobs {
		var a InsightsRunArgs
		if json.Unmarshal(j.EncodedArgs, &a) == nil && a.Publisher == pub {
			return true, nil
		}
	}
	return false, nil
}

type insightsWorker struct {
	river.WorkerDefaults[InsightsRunArgs]
	q *Queue
	w InsightsWork
}

func (w *insightsWorker) Timeout(*river.Job[InsightsRunArgs]) time.Duration { return 10 * time.Minute }

func (w *insightsWorker) Work(ctx context.Context, j *river.Job[InsightsRunArgs]) error {
	return outcome(w.q, j.Kind, j.Args, w.w.InsightsRun(ctx, j.Args.Publisher))
}

// addInsightsWorker registers the insights worker when the queue's Work
// generates insights.
func addInsightsWorker(cfg *Config, q *Queue, ws *river.Workers) error {
	iw, ok := cfg.Work.(InsightsWork)
	if !ok {
		return nil
	}
	return river.AddWorkerSafely(ws, &insightsWorker{q: q, w: iw})
}
