// Package jobs is PhantomOS's background work: a durable queue on River
// (github.com/riverqueue/river) in the application's own database, with
// River's PostgreSQL driver in production and its SQLite driver on the
// embedded default, so that the same code runs on both engines.
//
// Work is a job with typed arguments (args.go). A job is stored before
// anything runs it, so a restart loses nothing: a job left running by a
// process that died is handed back by River's rescuer after
// Config.RescueAfter and run again, which is exact because the work it
// stands for is idempotent and checkpointed. Unique jobs keep a
// connector to one sync at a time across every replica, and the periodic
// schedule is enqueued by the elected leader only, once per cluster.
//
// The queue runs the work through a Work (workers.go) and the optional
// NotifyWork, WebhookWork, FetchWork, TagWork, SuggestWork, InsightsWork
// and MailWork, which internal/worker implements; neither knows HTTP.
package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// Defaults of Config.
const (
	// DefaultScheduleEvery is how often the periodic schedule runs.
	DefaultScheduleEvery = 10 * time.Minute
	// DefaultSyncTimeout bounds one sync job. A sync cut short resumes
	// from its last committed page on the retry, so the bound costs
	// nothing but keeps a wedged sync from holding its connector.
	DefaultSyncTimeout = 30 * time.Minute
	// DefaultImportTimeout bounds one attempt at a file import: an upload
	// is at most 32 MB, which imports in minutes.
	DefaultImportTimeout = 30 * time.Minute
	// DefaultRescueAfter is how long a job may stay running before it is
	// taken for the work of a dead process and handed to another. It must
	// exceed every job's timeout, or a live job would be run twice.
	DefaultRescueAfter = DefaultSyncTimeout + 5*time.Minute
	// DefaultShutdownGrace is how long Stop lets running jobs finish
	// before cancelling them; a cancelled job is retried later.
	DefaultShutdownGrace = 20 * time.Second
)

// Config is how a Queue runs.
type Config struct {
	// Work does what the jobs stand for. Nil makes an insert-only queue
	// (no workers, no schedule), for processes that only enqueue.
	Work Work
	// Workers is how many jobs run at once in this process (default 4).
	Workers int
	// ScheduleEvery is the periodic schedule's period (default
	// DefaultScheduleEvery; negative: no schedule).
	ScheduleEvery time.Duration
	// SyncTimeout bounds one sync job (default DefaultSyncTimeout).
	SyncTimeout time.Duration
	// ImportTimeout bounds one attempt at a file import (default
	// DefaultImportTimeout).
	ImportTimeout time.Duration
	// RescueAfter: see DefaultRescueAfter.
	RescueAfter time.Duration
	// PollEvery is how often idle workers look for jobs (default 1s; on
	// PostgreSQL new jobs are also announced at once).
	PollEvery time.Duration
	// ShutdownGrace: see DefaultShutdownGrace.
	ShutdownGrace time.Duration
	// NotifyEvery is the notification sweep's period (default
	// DefaultNotifyEvery; negative: none). It runs when Work also
	// implements NotifyWork.
	NotifyEvery time.Duration
	// DeliverAttempts and DeliverBackoff: see DefaultDeliverAttempts and
	// DefaultDeliverBackoff.
	DeliverAttempts int
	DeliverBackoff  time.Duration
	// WebhookBackoff: see DefaultWebhookBackoff.
	WebhookBackoff time.Duration
	// ID names this process among the queue's clients (default: River's).
	ID     string
	Logger *slog.Logger
}

func (c *Config) defaults() {
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.ScheduleEvery == 0 {
		c.ScheduleEvery = DefaultScheduleEvery
	}
	if c.SyncTimeout <= 0 {
		c.SyncTimeout = DefaultSyncTimeout
	}
	if c.ImportTimeout <= 0 {
		c.ImportTimeout = DefaultImportTimeout
	}
	if c.RescueAfter <= 0 {
		// A sixth more than the longest job may run (at least two
		// seconds): 35 minutes by default.
		longest := max(c.SyncTimeout, c.ImportTimeout)
		c.RescueAfter = longest + max(longest/6, 2*time.Second)
	}
	if c.PollEvery <= 0 {
		c.PollEvery = time.Second
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = DefaultShutdownGrace
	}
	if c.NotifyEvery == 0 {
		c.NotifyEvery = DefaultNotifyEvery
	}
	if c.DeliverAttempts <= 0 {
		c.DeliverAttempts = DefaultDeliverAttempts
	}
	if c.DeliverBackoff <= 0 {
		c.DeliverBackoff = DefaultDeliverBackoff
	}
	if c.WebhookBackoff <= 0 {
		c.WebhookBackoff = DefaultWebhookBackoff
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// client is what the queue uses of a River client, whichever its driver
// (River's client is generic in the driver's transaction type).
type client interface {
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	JobCancel(ctx context.Context, id int64) (*rivertype.JobRow, error)
	JobGet(ctx context.Context, id int64) (*rivertype.JobRow, error)
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
}

// Queue is the job queue of one process.
type Queue struct {
	client  client
	cfg     Config
	close   func()
	working bool
}

// Open connects the queue to the database of st, with connections of
// its own, and brings River's own tables up to date
// (River keeps its migrations in its own table, apart from the store's).
// Start makes it work; Close releases its connections.
func Open(ctx context.Context, st *store.Store, cfg Config) (*Queue, error) {
	cfg.defaults()
	dsn := st.DSN()
	q := &Queue{cfg: cfg, working: cfg.Work != nil}
	rcfg, err := riverConfig(&q.cfg, q)
	if err != nil {
		return nil, err
	}
	switch st.Dialect() {
	case store.Postgres:
		pool, err := pgxpool.New(ctx, dsn)
		if err != nil {
			return nil, fmt.Errorf("jobs: connect: %w", err)
		}
		drv := riverpgxv5.New(pool)
		if err := migratePostgres(ctx, pool, drv); err != nil {
			pool.Close()
			return nil, err
		}
		c, err := river.NewClient(drv, rcfg)
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("jobs: %w", err)
		}
		q.client, q.close = c, pool.Close
	case store.SQLite:
		db, err := openSQLite(dsn)
		if err != nil {
			return nil, err
		}
		drv := riversqlite.New(db)
		m, err := rivermigrate.New(drv, nil)
		if err == nil {
			_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
		}
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("jobs: migrate: %w", err)
		}
		c, err := river.NewClient(drv, rcfg)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("jobs: %w", err)
		}
		q.client, q.close = c, func() { db.Close() }
	default:
		return nil, fmt.Errorf("jobs: dialect %q", st.Dialect())
	}
	return q, nil
}

// migrateKey is the advisory lock that serialises River's migrations when
// several replicas start at once.
const migrateKey = 0x70686a6f62 // "phjob"

func migratePostgres(ctx context.Context, pool *pgxpool.Pool, drv *riverpgxv5.Driver) error {
	m, err := rivermigrate.New(drv, nil)
	if err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	// River's migrations each run in their own transaction (one adds an
	// enum value that the next uses), so the lock is held on a session.
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(migrateKey)); err != nil {
		return fmt.Errorf("jobs: migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(migrateKey))
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	return nil
}

// openSQLite opens River's own pool on the store's SQLite file. River
// works best with one connection; it waits for the store's writers (an
// import holds the write lock for its whole transaction) up to a long
// busy timeout instead of failing, and takes the write lock when a
// transaction begins, so that it never deadlocks upgrading a read.
func openSQLite(path string) (*sql.DB, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(60000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// As the store's connections: the connection that commits when the WAL
	// has outgrown its own setting runs the checkpoint, so the queue's
	// frequent commits would otherwise checkpoint at SQLite's default.
	q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", store.SQLiteCheckpointPages))
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("jobs: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// Start runs the workers and, on the elected leader, the schedule, until
// Stop. An insert-only queue has nothing to start.
func (q *Queue) Start(ctx context.Context) error {
	if !q.working {
		return nil
	}
	if err := q.client.Start(ctx); err != nil {
		return fmt.Errorf("jobs: start: %w", err)
	}
	return nil
}

// Stop stops taking jobs and waits for the running ones to finish, up to
// the shutdown grace; those still running then are cancelled and handed
// back (retried later, by this or another process).
func (q *Queue) Stop(ctx context.Context) error {
	if !q.working {
		return nil
	}
	sctx, cancel := context.WithTimeout(ctx, q.cfg.ShutdownGrace)
	defer cancel()
	err := q.client.Stop(sctx)
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	q.cfg.Logger.Warn("jobs: shutdown grace over; cancelling running jobs", "grace", q.cfg.ShutdownGrace)
	cctx, cancel2 := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel2()
	return q.client.StopAndCancel(cctx)
}

// Close releases the queue's connections; Stop it first.
func (q *Queue) Close() { q.close() }

// insert enqueues args; it reports whether a job was added (false: an
// equal unique job is already waiting or running).
func (q *Queue) insert(ctx context.Context, args river.JobArgs) (*rivertype.JobRow, bool, error) {
	res, err := q.client.Insert(ctx, args, nil)
	if err != nil {
		return nil, false, fmt.Errorf("jobs: enqueue %s: %w", args.Kind(), err)
	}
	return res.Job, !res.UniqueSkippedAsDuplicate, nil
}

// EnqueueSync enqueues a sync of connector connectorID of pub and
// returns its job. It reports added false, and the job already there,
// when one is waiting or running: a connector syncs once at a time,
// across every process.
func (q *Queue) EnqueueSync(ctx context.Context, pub phantomos.PublisherID, connectorID string) (id int64, added bool, err error) {
	j, added, err := q.insert(ctx, SyncArgs{Publisher: pub, ConnectorID: connectorID})
	if err != nil {
		return 0, false, err
	}
	return j.ID, added, nil
}

// EnqueueImport enqueues import job importID of pub and returns the
// queue's job (the one already there when it is waiting or running).
func (q *Queue) EnqueueImport(ctx context.Context, pub phantomos.PublisherID, importID string) (int64, error) {
	j, _, err := q.insert(ctx, ImportArgs{Publisher: pub, ImportID: importID})
	if err != nil {
		return 0, err
	}
	return j.ID, nil
}

// Cancel cancels job id: a waiting one never runs; a running one has its
// context cancelled (its work stops at its next check) and is not
// retried. Cancelling a finished job does nothing.
func (q *Queue) Cancel(ctx context.Context, id int64) error {
	if _, err := q.client.JobCancel(ctx, id); err != nil && !errors.Is(err, river.ErrNotFound) {
		return fmt.Errorf("jobs: cancel %d: %w", id, err)
	}
	return nil
}

// maxActiveSyncs bounds the unfinished sync jobs looked
// through: one per connector, so far more than a cluster has.
const maxActiveSyncs = 10000

// CancelSync cancels the waiting or running sync of connector connectorID
// of pub. A running one stops at its next page (what was written stays,
// and the next sync resumes from it). It reports false when there was
// none.
func (q *Queue) CancelSync(ctx context.Context, pub phantomos.PublisherID, connectorID string) (bool, error) {
	ids, err := q.unfinishedSyncs(ctx, pub, connectorID)
	if err != nil {
		return false, fmt.Errorf("jobs: cancel sync: %w", err)
	}
	for _, id := range ids {
		if _, err := q.client.JobCancel(ctx, id); err != nil {
			return false, fmt.Errorf("jobs: cancel sync: %w", err)
		}
	}
	return len(ids) > 0, nil
}

// SyncPending reports whether a sync of connector connectorID of pub is
// waiting or running (a sync run is recorded only once it starts).
func (q *Queue) SyncPending(ctx context.Context, pub phantomos.PublisherID, connectorID string) (bool, error) {
	ids, err := q.unfinishedSyncs(ctx, pub, connectorID)
	if err != nil {
		return false, fmt.Errorf("jobs: sync pending: %w", err)
	}
	return len(ids) > 0, nil
}

func (q *Queue) unfinishedSyncs(ctx context.Context, pub phantomos.PublisherID, connectorID string) ([]int64, error) {
	res, err := q.client.JobList(ctx, river.NewJobListParams().Kinds(SyncArgs{}.Kind()).States(unfinished...).First(maxActiveSyncs))
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, j := range res.Jobs {
		var a SyncArgs
		if err := json.Unmarshal(j.EncodedArgs, &a); err == nil && a.Publisher == pub && a.ConnectorID == connectorID {
			ids = append(ids, j.ID)
		}
	}
	return ids, nil
}

// Job is a job as a page shows it.
type Job struct {
	ID       int64
	Kind     string
	State    string // River's: available, running, retryable, completed, cancelled, discarded…
	Attempt  int
	Errors   []string // each failed attempt's error, oldest first
	Finished bool
	// Output is what the job recorded as its result (JSON), if anything.
	Output json.RawMessage
	// Created and Finalized are when it was enqueued and ended.
	Created   time.Time
	Finalized *time.Time
}

// Job returns job id.
func (q *Queue) Job(ctx context.Context, id int64) (*Job, error) {
	j, err := q.client.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Job not found.")
	}
	if err != nil {
		return nil, fmt.Errorf("jobs: job %d: %w", id, err)
	}
	out := &Job{ID: j.ID, Kind: j.Kind, State: string(j.State), Attempt: j.Attempt, Finished: j.FinalizedAt != nil,
		Output: j.Output(), Created: j.CreatedAt, Finalized: j.FinalizedAt}
	for _, e := range j.Errors {
		// River prefixes the error of a job it was told to cancel.
		out.Errors = append(out.Errors, strings.TrimPrefix(e.Error, "JobCancelError: "))
	}
	return out, nil
}
