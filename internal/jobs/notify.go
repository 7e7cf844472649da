package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/phantomos/phantomos"
)

// Notification job kinds (never renamed: see args.go).
const (
	kindNotifySweep   = "notify_sweep"
	kindNotifyDeliver = "notify_deliver"
)

// Defaults of the notification jobs.
const (
	// DefaultNotifyEvery is how often the sweep looks for new alerts,
	// digests and reports that are due.
	DefaultNotifyEvery = 5 * time.Minute
	// DefaultDeliverAttempts is how often a delivery is tried before it
	// is shown as failed.
	DefaultDeliverAttempts = 6
	// DefaultDeliverBackoff is the wait after the first failed attempt;
	// it doubles after each (30s, 1m, 2m, 4m, 8m).
	DefaultDeliverBackoff = 30 * time.Second
)

// NotifyWork does the notification jobs; internal/worker implements it.
type NotifyWork interface {
	// NotifySweep finds what is due (new alerts, digests, reports) for
	// every publisher, records the deliveries and enqueues them.
	NotifySweep(ctx context.Context) error
	// NotifyDeliver makes one attempt at delivery id of pub; final says
	// it is the last, after which a failure is shown as such.
	NotifyDeliver(ctx context.Context, pub phantomos.PublisherID, id string, final bool) error
}

// NotifySweepArgs is one run of the notification sweep.
type NotifySweepArgs struct{}

// Kind names the job kind.
func (NotifySweepArgs) Kind() string { return kindNotifySweep }

// InsertOpts keeps the sweep to one run waiting or running at a time.
func (NotifySweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByState: unfinished}}
}

// NotifyDeliverArgs is the delivery of one stored notification. Unique
// per delivery while unfinished.
type NotifyDeliverArgs struct {
	Publisher  phantomos.PublisherID `json:"publisher_id"`
	DeliveryID string                `json:"delivery_id"`
}

// Kind names the job kind.
func (NotifyDeliverArgs) Kind() string { return kindNotifyDeliver }

// InsertOpts makes a delivery's job unique while unfinished.
func (NotifyDeliverArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: unfinished}}
}

// EnqueueDelivery enqueues delivery id of pub (nothing when its job is
// already waiting or running).
func (q *Queue) EnqueueDelivery(ctx context.Context, pub phantomos.PublisherID, id string) error {
	_, err := q.client.Insert(ctx, NotifyDeliverArgs{Publisher: pub, DeliveryID: id}, &river.InsertOpts{MaxAttempts: q.cfg.DeliverAttempts})
	if err != nil {
		return err
	}
	return nil
}

// EnqueueNotifySweep enqueues a sweep now (tests and "run now" buttons).
func (q *Queue) EnqueueNotifySweep(ctx context.Context) error {
	_, _, err := q.insert(ctx, NotifySweepArgs{})
	return err
}

type notifySweepWorker struct {
	river.WorkerDefaults[NotifySweepArgs]
	q *Queue
	w NotifyWork
}

func (w *notifySweepWorker) Work(ctx context.Context, j *river.Job[NotifySweepArgs]) error {
	return outcome(w.q, j.Kind, j.Args, w.w.NotifySweep(ctx))
}

type notifyDeliverWorker struct {
	river.WorkerDefaults[NotifyDeliverArgs]
	q *Queue
	w NotifyWork
}

func (w *notifyDeliverWorker) Timeout(*river.Job[NotifyDeliverArgs]) time.Duration {
	return time.Minute
}

// NextRetry doubles the wait after each failure from DeliverBackoff.
func (w *notifyDeliverWorker) NextRetry(j *river.Job[NotifyDeliverArgs]) time.Time {
	n := max(j.Attempt, 1)
	return time.Now().Add(w.q.cfg.DeliverBackoff << min(n-1, 10))
}

func (w *notifyDeliverWorker) Work(ctx context.Context, j *river.Job[NotifyDeliverArgs]) error {
	final := j.Attempt >= j.MaxAttempts
	return outcome(w.q, j.Kind, j.Args, w.w.NotifyDeliver(ctx, j.Args.Publisher, j.Args.DeliveryID, final))
}

// addNotifyWorkers registers the notification workers and the sweep's
// period when the queue's Work does notifications.
func addNotifyWorkers(cfg *Config, q *Queue, ws *river.Workers, rc *river.Config) error {
	nw, ok := cfg.Work.(NotifyWork)
	if !ok {
		return nil
	}
	if err := river.AddWorkerSafely(ws, &notifySweepWorker{q: q, w: nw}); err != nil {
		return err
	}
	if err := river.AddWorkerSafely(ws, &notifyDeliverWorker{q: q, w: nw}); err != nil {
		return err
	}
	if cfg.NotifyEvery > 0 {
		rc.PeriodicJobs = append(rc.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(cfg.NotifyEvery),
			func() (river.JobArgs, *river.InsertOpts) { return NotifySweepArgs{}, nil },
			&river.PeriodicJobOpts{ID: kindNotifySweep}))
	}
	return nil
}
