package jobs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/phantomos/phantomos"
)

// Work does what the jobs stand for.
type Work interface {
	// SyncConnector syncs connector connectorID of pub to the end. An
	// ENOTFOUND or EINVALID error means the job no longer makes sense (the
	// connector or publisher is gone, or the connector cannot sync): it is
	// discarded, not retried. Retry reports other errors that another
	// attempt cannot mend (credentials refused).
	SyncConnector(ctx context.Context, pub phantomos.PublisherID, connectorID string) error
	// Tick is one run of the periodic schedule; it enqueues the syncs
	// that are due rather than running them.
	Tick(ctx context.Context) error
	// ImportFile runs attempt a of an import job. It records the job's
	// progress and outcome itself; an ENOTFOUND or EINVALID error means
	// the job no longer makes sense (the import or its publisher is
	// gone) and a Permanent one that it ended for good (cancelled).
	ImportFile(ctx context.Context, a ImportAttempt) error
}

// ImportAttempt is one attempt at an import job.
type ImportAttempt struct {
	Publisher phantomos.PublisherID
	ImportID  string
	Attempt   int  // 1 for the first
	Final     bool // no attempt follows this one if it fails
}

// Permanent marks err as one that no retry can mend: the job ends at once
// with it as its final error.
func Permanent(err error) error { return &permanentError{err} }

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// outcome turns a work error into River's: a job whose arguments no
// longer make sense, or that failed for good, is cancelled with a logged
// reason; anything else is retried with backoff.
func outcome(q *Queue, kind string, args any, err error) error {
	if err == nil {
		return nil
	}
	code := phantomos.ErrorCode(err)
	_, permanent := err.(*permanentError)
	if code == phantomos.ENOTFOUND || code == phantomos.EINVALID || permanent {
		q.cfg.Logger.Warn("jobs: discarded", "kind", kind, "args", args, "reason", err)
		if code != phantomos.EINTERNAL {
			// The job's page shows its final error: the user's words.
			err = errors.New(phantomos.ErrorMessage(err))
		}
		return river.JobCancel(err)
	}
	return err
}

type syncWorker struct {
	river.WorkerDefaults[SyncArgs]
	q *Queue
}

func (w *syncWorker) Timeout(*river.Job[SyncArgs]) time.Duration { return w.q.cfg.SyncTimeout }

func (w *syncWorker) Work(ctx context.Context, j *river.Job[SyncArgs]) error {
	err := w.q.cfg.Work.SyncConnector(ctx, j.Args.Publisher, j.Args.ConnectorID)
	return outcome(w.q, j.Kind, j.Args, err)
}

type importWorker struct {
	river.WorkerDefaults[ImportArgs]
	q *Queue
}

func (w *importWorker) Timeout(*river.Job[ImportArgs]) time.Duration {
	return min(w.q.cfg.ImportTimeout, w.q.cfg.RescueAfter-time.Second)
}

func (w *importWorker) Work(ctx context.Context, j *river.Job[ImportArgs]) error {
	err := w.q.cfg.Work.ImportFile(ctx, ImportAttempt{Publisher: j.Args.Publisher, ImportID: j.Args.ImportID,
		Attempt: j.Attempt, Final: j.Attempt >= j.MaxAttempts})
	return outcome(w.q, j.Kind, j.Args, err)
}

type scheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	q *Queue
}

func (w *scheduleWorker) Work(ctx context.Context, j *river.Job[ScheduleArgs]) error {
	return outcome(w.q, j.Kind, j.Args, w.q.cfg.Work.Tick(ctx))
}

// riverConfig is River's configuration for cfg; the workers reach the
// queue through q once Open has made it.
func riverConfig(cfg *Config, q *Queue) (*river.Config, error) {
	rc := &river.Config{
		ID:                   cfg.ID,
		Logger:               cfg.Logger,
		FetchPollInterval:    cfg.PollEvery,
		FetchCooldown:        min(100*time.Millisecond, cfg.PollEvery),
		RescueStuckJobsAfter: cfg.RescueAfter,
		JobTimeout:           min(cfg.SyncTimeout, cfg.RescueAfter-time.Second),
		MaxAttempts:          syncAttempts,
	}
	if cfg.Work == nil {
		return rc, nil
	}
	ws := river.NewWorkers()
	if err := river.AddWorkerSafely(ws, &syncWorker{q: q}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if err := river.AddWorkerSafely(ws, &scheduleWorker{q: q}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if err := river.AddWorkerSafely(ws, &importWorker{q: q}); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if err := addNotifyWorkers(cfg, q, ws, rc); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if err := addWebhookWorker(cfg, q, ws); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if err := addTagWorker(cfg, q, ws); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if err := addInsightsWorker(cfg, q, ws); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if err := addFilterRollupsWorker(cfg, q, ws); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if err := addSuggestWorker(cfg, q, ws); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	if err := addMailWorker(cfg, q, ws); err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	rc.Workers = ws
	rc.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: cfg.Workers}}
	if cfg.ScheduleEvery > 0 {
		rc.PeriodicJobs = append(rc.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(cfg.ScheduleEvery),
			func() (river.JobArgs, *river.InsertOpts) { return ScheduleArgs{}, nil },
			&river.PeriodicJobOpts{ID: kindSchedule}))
	}
	return rc, nil
}
