package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/jobs"
	"github.com/phantomos/phantomos/internal/store"
)

// ImportJobKeep is how long a finished import job's outcome (and its
// upload) stays.
const ImportJobKeep = 7 * 24 * time.Hour

// importProgressEvery is how often a running import writes its progress
// to the database.
const importProgressEvery = 500 * time.Millisecond

// liveImport is an import running in this process.
type liveImport struct {
	rows      atomic.Int64
	cancelled atomic.Bool // by a user
	cancel    context.CancelFunc
}

// ImportActor is who an import is for: in a request, its actor; in a job,
// the user who confirmed it.
type ImportActor struct {
	Pub    phantomos.PublisherID
	UserID string
	Actor  string // for the audit log
	IP     string
}

// ImportUpload imports upload u for a, audits it and, when it succeeded,
// removes the upload and retags. It is the confirmation's work, in the
// request or in a job.
func (w *Worker) ImportUpload(ctx context.Context, a ImportActor, u *store.ImportUpload, validOnly bool, progress func(int64)) (*ingest.Result, error) {
	data, err := w.store.ImportUploadData(ctx, a.Pub, u.ID)
	if err != nil {
		return nil, err
	}
	res, err := ingest.Import(ctx, w.store, a.Pub, ingest.Kind(u.Kind), u.Format, bytes.NewReader(data), ingest.Options{
		ValidOnly: validOnly, FileName: u.FileName, CreatedBy: a.UserID, Progress: progress, Source: u.Source})
	if res == nil {
		return nil, err
	}
	actx := context.WithoutCancel(ctx)
	if aerr := w.store.Audit(actx, a.Pub, store.AuditEntry{ActorID: a.UserID, Actor: a.Actor, Action: "data.import", Target: u.FileName, IP: a.IP,
		Details: map[string]any{"kind": u.Kind, "format": res.Format, "inserted": res.Inserted, "updated": res.Updated, "failed": res.Failed,
			"valid_only": validOnly, "accepted": err == nil}}); aerr != nil {
		w.logger.Error("audit", "action", "data.import", "err", aerr)
	}
	if err == nil {
		if derr := w.store.DeleteImportUpload(actx, a.Pub, u.ID); derr != nil {
			w.logger.Warn("import: remove upload", "publisher", a.Pub, "err", derr)
		}
		w.RetagAfterImport(ctx, a.Pub, ingest.Kind(u.Kind), res)
	}
	return res, err
}

// ImportFile is the work of a file_import job: one attempt at import job
// at.ImportID. It records the job's progress and outcome. A refused file
// is an outcome (the job ends, failed, with its bad rows); a cancelled
// import ends cancelled with nothing written; an attempt cut short
// (shutdown, a database error) puts the job back to wait for the next,
// and the last attempt's failure ends it with a readable error.
func (w *Worker) ImportFile(ctx context.Context, at jobs.ImportAttempt) error {
	j, err := w.store.StartImportJob(ctx, at.Publisher, at.ImportID, at.Attempt)
	if err != nil {
		return err // ENOTFOUND: the job or its publisher is gone; discarded
	}
	bg := context.WithoutCancel(ctx)
	switch {
	case j.Finished() && j.State != store.ImportCancelled:
		return nil // its outcome is recorded: a repeat of a finished attempt
	case j.State == store.ImportCancelled || j.CancelRequested:
		w.store.FinishImportJob(bg, j.ID, store.ImportCancelled, nil, store.ImportCancelledMessage)
		return jobs.Permanent(phantomos.Errorf(phantomos.ECONFLICT, "%s", store.ImportCancelledMessage))
	}
	if at.Attempt > 1 {
		// An earlier attempt's process may have died mid-import: its run
		// is failed now rather than left "running".
		if _, err := w.store.InterruptImportRuns(ctx); err != nil {
			w.logger.Warn("import: interrupted runs", "err", err)
		}
	}
	fail := func(msg string, cause error) error {
		if ferr := w.store.FinishImportJob(bg, j.ID, store.ImportFailed, nil, msg); ferr != nil {
			return ferr
		}
		return jobs.Permanent(cause)
	}
	if j.UploadID == "" {
		return fail("The uploaded file is gone. Upload it again.", errors.New("upload gone"))
	}
	u, err := w.store.ImportUpload(ctx, at.Publisher, j.UploadID, ImportJobKeep)
	if phantomos.ErrorCode(err) == phantomos.ENOTFOUND {
		return fail("The uploaded file is gone. Upload it again.", err)
	}
	if err != nil {
		return w.importAttemptFailed(bg, j, at, err)
	}
	a := ImportActor{Pub: at.Publisher, UserID: j.CreatedBy, Actor: "import job"}
	if usr, err := w.store.User(ctx, at.Publisher, j.CreatedBy); err == nil {
		a.Actor = usr.Email
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	live := &liveImport{cancel: cancel}
	w.imports.live.Store(j.ID, live)
	defer w.imports.live.Delete(j.ID)
	var last time.Time
	progress := func(rows int64) {
		live.rows.Store(rows)
		if w.store.Dialect() == store.Postgres && time.Since(last) >= importProgressEvery {
			last = time.Now()
			if err := w.store.ImportJobProgress(ctx, j.ID, rows); err != nil && ctx.Err() == nil {
				w.logger.Warn("import: progress", "job", j.ID, "err", err)
			}
		}
		if w.imports.pause != nil {
			w.imports.pause(ctx, rows)
		}
	}
	res, err := w.ImportUpload(ctx, a, u, j.ValidOnly, progress)
	switch {
	case err == nil:
		return w.store.FinishImportJob(bg, j.ID, store.ImportSucceeded, NewImportResult(res), "")
	case res != nil && phantomos.ErrorCode(err) == phantomos.EINVALID && ctx.Err() == nil:
		// Refused: the outcome, with its bad rows, is the job's end.
		return w.store.FinishImportJob(bg, j.ID, store.ImportFailed, NewImportResult(res), phantomos.ErrorMessage(err))
	}
	if ctx.Err() != nil {
		if now, gerr := w.store.ImportJob(bg, at.Publisher, j.ID); live.cancelled.Load() || (gerr == nil && now.CancelRequested) {
			w.store.FinishImportJob(bg, j.ID, store.ImportCancelled, nil, store.ImportCancelledMessage)
			return jobs.Permanent(phantomos.Errorf(phantomos.ECONFLICT, "%s", store.ImportCancelledMessage))
		}
	}
	return w.importAttemptFailed(bg, j, at, err)
}

// importAttemptFailed records an attempt that did not finish: the job
// waits for the next attempt, or ends failed after the last one.
func (w *Worker) importAttemptFailed(ctx context.Context, j *store.ImportJob, at jobs.ImportAttempt, err error) error {
	w.logger.Warn("import attempt failed", "publisher", at.Publisher, "job", j.ID, "attempt", at.Attempt, "final", at.Final, "err", err)
	if at.Final {
		msg := fmt.Sprintf("The import failed after %d attempts; nothing was written. The last error: %s", at.Attempt, phantomos.ErrorMessage(err))
		if errors.Is(err, context.DeadlineExceeded) {
			msg = fmt.Sprintf("The import did not finish in time after %d attempts; nothing was written. Split the file and import the parts.", at.Attempt)
		}
		if ferr := w.store.FinishImportJob(ctx, j.ID, store.ImportFailed, nil, msg); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	}
	msg := fmt.Sprintf("Attempt %d did not finish, and nothing of it was written; the import starts again shortly.", at.Attempt)
	if rerr := w.store.RequeueImportJob(ctx, j.ID, msg); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// requeueWaitingImports enqueues again the imports that have waited for a
// minute: an import whose queue job was never stored (its process died
// between the two) runs all the same. The queue keeps one job per import,
// so one waiting or running already is not doubled.
func (w *Worker) requeueWaitingImports(ctx context.Context) {
	if w.jobs == nil {
		return
	}
	waiting, err := w.store.WaitingImportJobs(ctx, w.now().Add(-time.Minute), 1000)
	if err != nil {
		w.logger.Warn("schedule: waiting imports", "err", err)
		return
	}
	for _, j := range waiting {
		if _, err := w.jobs.EnqueueImport(ctx, j.Publisher, j.ID); err != nil {
			w.logger.Warn("schedule: enqueue import", "publisher", j.Publisher, "job", j.ID, "err", err)
		}
	}
}

// ImportResult is an import's outcome as the API, the import pages and
// a finished import job show it.
type ImportResult struct {
	RunID           string            `json:"run_id,omitempty"`
	Kind            string            `json:"kind"`
	Format          string            `json:"format"`
	Source          string            `json:"source"`
	DryRun          bool              `json:"dry_run"`
	Seen            int64             `json:"rows_read"`
	Inserted        int64             `json:"inserted"`
	Updated         int64             `json:"updated"`
	Skipped         int64             `json:"unchanged"`
	Failed          int64             `json:"failed"`
	ProductsCreated int64             `json:"products_created"`
	Stale           int64             `json:"stale_orders"`
	Deleted         int64             `json:"lines_removed"`
	OrdersChanged   int64             `json:"orders_changed"`
	ChangedExamples []string          `json:"changed_examples"`
	ErrorCount      int64             `json:"error_count"`
	Errors          []ingest.RowError `json:"errors"`
	// FirstDay and LastDay bound the days of the file's sales ("" for
	// other kinds), so a preview says which period it brings.
	FirstDay phantomos.Day `json:"first_day,omitempty"`
	LastDay  phantomos.Day `json:"last_day,omitempty"`
}

// NewImportResult is res as the API shows it.
func NewImportResult(res *ingest.Result) ImportResult {
	out := ImportResult{RunID: res.RunID, Kind: string(res.Kind), Format: res.Format, Source: res.Source, DryRun: res.DryRun,
		Seen: res.Seen, Inserted: res.Inserted, Updated: res.Updated, Skipped: res.Skipped, Failed: res.Failed,
		ProductsCreated: res.ProductsCreated, Stale: res.Stale, Deleted: res.Deleted, OrdersChanged: res.OrdersChanged,
		ChangedExamples: res.ChangedExamples, ErrorCount: res.ErrorCount, Errors: res.Errors, FirstDay: res.From, LastDay: res.To}
	if out.Errors == nil {
		out.Errors = []ingest.RowError{}
	}
	if out.ChangedExamples == nil {
		out.ChangedExamples = []string{}
	}
	return out
}

// MaxFileBytes bounds a file to import: an upload (the body limit of the
// web server) or a pulled file.
const MaxFileBytes = 32 << 20

// imports are the file imports this process runs.
type imports struct {
	// live are the imports this process runs (*liveImport), by job id.
	// On SQLite an import's transaction holds the write lock, so neither
	// its progress nor a request to cancel it can be written until it
	// ends: the page reads the progress here, and a cancellation stops
	// the import here first (one process serves an SQLite file).
	live sync.Map

	// pause, when set (tests), is called after each batch of a running
	// import with the rows read so far.
	pause func(ctx context.Context, rows int64)
}

// SetImportPause makes running imports call pause after each batch with
// the rows read so far; tests use it to stop an import half-way.
func (w *Worker) SetImportPause(pause func(ctx context.Context, rows int64)) { w.imports.pause = pause }

// ImportRows reports the rows read so far by import job id when this
// process runs it.
func (w *Worker) ImportRows(id string) (int64, bool) {
	v, ok := w.imports.live.Load(id)
	if !ok {
		return 0, false
	}
	return v.(*liveImport).rows.Load(), true
}

// StopImport stops import job id at once when this process runs it (a
// user cancelled it); on SQLite this also frees the write lock the
// cancellation's own writes need. The job then ends cancelled, having
// written nothing.
func (w *Worker) StopImport(id string) {
	if v, ok := w.imports.live.Load(id); ok {
		v.(*liveImport).cancelled.Store(true)
		v.(*liveImport).cancel()
	}
}
