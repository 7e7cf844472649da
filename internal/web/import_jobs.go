package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/api"
	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/jobs"
	"github.com/phantomos/phantomos/internal/store"
)

// A large upload is imported by a file_import job once the user confirms
// it: the request records an import job (store.ImportJob) beside the
// upload already in the database, enqueues it and returns at once to a
// page that shows the rows read so far out of the rows the preview read,
// polled by import.js (or refreshed every two seconds without
// JavaScript), and that shows the import's summary when it ends. Any
// replica serves that page: state, progress and outcome are in the
// database. The import itself is the same single transaction as a small
// one's: a failure, a cancellation or the process stopping writes
// nothing, and the next attempt starts afresh.

// DefaultImportBackgroundRows is the preview row count from which a
// confirmed upload is imported by a job.
const DefaultImportBackgroundRows = 10000

// importJobKeep is how long a finished import job's outcome stays.
const importJobKeep = 7 * 24 * time.Hour

// importProgressEvery is how often a running import writes its progress
// to the database.
const importProgressEvery = 500 * time.Millisecond

// importJobs holds the server's settings for import jobs and the progress
// of those this process runs.
type importJobs struct {
	// backgroundRows: an upload whose preview read at least this many rows
	// is imported by a job; a smaller one while the request waits.
	backgroundRows int64

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

// liveImport is an import running in this process.
type liveImport struct {
	rows      atomic.Int64
	cancelled atomic.Bool // by a user
	cancel    context.CancelFunc
}

func newImportJobs() *importJobs {
	return &importJobs{backgroundRows: DefaultImportBackgroundRows}
}

// startImportJob records and enqueues the import of upload u and sends the
// browser to the job's page. A confirmation sent twice joins the job
// already waiting or running.
func (s *Server) startImportJob(w http.ResponseWriter, r *http.Request, u *store.ImportUpload, validOnly bool) error {
	if s.jobs == nil {
		return errors.New("web: import: no job queue")
	}
	a := phantomos.ActorFrom(r.Context())
	j, created, err := s.store.CreateImportJob(r.Context(), u, a.UserID, validOnly)
	if err != nil {
		return err
	}
	if created {
		rid, err := s.jobs.EnqueueImport(r.Context(), a.PublisherID, j.ID)
		if err != nil {
			s.store.FinishImportJob(context.WithoutCancel(r.Context()), j.ID, store.ImportFailed, nil, "The import could not be queued. Try again.")
			return err
		}
		if err := s.store.SetImportJobRiverID(r.Context(), j.ID, rid); err != nil {
			return err
		}
	}
	http.Redirect(w, r, "/products/import/jobs/"+j.ID, http.StatusSeeOther)
	return nil
}

// importActor is who an import is for: in a request, its actor; in a job,
// the user who confirmed it.
type importActor struct {
	pub    phantomos.PublisherID
	userID string
	actor  string // for the audit log
	ip     string
}

// importUpload imports upload u for a, audits it and, when it succeeded,
// removes the upload and retags. It is the confirmation's work, in the
// request or in a job.
func (s *Server) importUpload(ctx context.Context, a importActor, u *store.ImportUpload, validOnly bool, progress func(int64)) (*ingest.Result, error) {
	data, err := s.store.ImportUploadData(ctx, a.pub, u.ID)
	if err != nil {
		return nil, err
	}
	res, err := ingest.Import(ctx, s.store, a.pub, ingest.Kind(u.Kind), u.Format, bytes.NewReader(data), ingest.Options{
		ValidOnly: validOnly, FileName: u.FileName, CreatedBy: a.userID, Progress: progress, Source: u.Source})
	if res == nil {
		return nil, err
	}
	actx := context.WithoutCancel(ctx)
	if aerr := s.store.Audit(actx, a.pub, store.AuditEntry{ActorID: a.userID, Actor: a.actor, Action: "data.import", Target: u.FileName, IP: a.ip,
		Details: map[string]any{"kind": u.Kind, "format": res.Format, "inserted": res.Inserted, "updated": res.Updated, "failed": res.Failed,
			"valid_only": validOnly, "accepted": err == nil}}); aerr != nil {
		s.logger.Error("audit", "action", "data.import", "err", aerr)
	}
	if err == nil {
		if derr := s.store.DeleteImportUpload(actx, a.pub, u.ID); derr != nil {
			s.logger.Warn("import: remove upload", "publisher", a.pub, "err", derr)
		}
		s.retagAfterImport(ctx, a.pub, ingest.Kind(u.Kind), res)
	}
	return res, err
}

// ImportFile is the work of a file_import job: one attempt at import job
// at.ImportID. It records the job's progress and outcome. A refused file
// is an outcome (the job ends, failed, with its bad rows); a cancelled
// import ends cancelled with nothing written; an attempt cut short
// (shutdown, a database error) puts the job back to wait for the next,
// and the last attempt's failure ends it with a readable error.
func (s *Server) ImportFile(ctx context.Context, at jobs.ImportAttempt) error {
	j, err := s.store.StartImportJob(ctx, at.Publisher, at.ImportID, at.Attempt)
	if err != nil {
		return err // ENOTFOUND: the job or its publisher is gone; discarded
	}
	bg := context.WithoutCancel(ctx)
	switch {
	case j.Finished() && j.State != store.ImportCancelled:
		return nil // its outcome is recorded: a repeat of a finished attempt
	case j.State == store.ImportCancelled || j.CancelRequested:
		s.store.FinishImportJob(bg, j.ID, store.ImportCancelled, nil, store.ImportCancelledMessage)
		return jobs.Permanent(phantomos.Errorf(phantomos.ECONFLICT, "%s", store.ImportCancelledMessage))
	}
	if at.Attempt > 1 {
		// An earlier attempt's process may have died mid-import: its run
		// is failed now rather than left "running".
		if _, err := s.store.InterruptImportRuns(ctx); err != nil {
			s.logger.Warn("import: interrupted runs", "err", err)
		}
	}
	fail := func(msg string, cause error) error {
		if ferr := s.store.FinishImportJob(bg, j.ID, store.ImportFailed, nil, msg); ferr != nil {
			return ferr
		}
		return jobs.Permanent(cause)
	}
	if j.UploadID == "" {
		return fail("The uploaded file is gone. Upload it again.", errors.New("upload gone"))
	}
	u, err := s.store.ImportUpload(ctx, at.Publisher, j.UploadID, importJobKeep)
	if phantomos.ErrorCode(err) == phantomos.ENOTFOUND {
		return fail("The uploaded file is gone. Upload it again.", err)
	}
	if err != nil {
		return s.importAttemptFailed(bg, j, at, err)
	}
	a := importActor{pub: at.Publisher, userID: j.CreatedBy, actor: "import job"}
	if usr, err := s.store.User(ctx, at.Publisher, j.CreatedBy); err == nil {
		a.actor = usr.Email
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	live := &liveImport{cancel: cancel}
	s.imports.live.Store(j.ID, live)
	defer s.imports.live.Delete(j.ID)
	var last time.Time
	progress := func(rows int64) {
		live.rows.Store(rows)
		if s.store.Dialect() == store.Postgres && time.Since(last) >= importProgressEvery {
			last = time.Now()
			if err := s.store.ImportJobProgress(ctx, j.ID, rows); err != nil && ctx.Err() == nil {
				s.logger.Warn("import: progress", "job", j.ID, "err", err)
			}
		}
		if s.imports.pause != nil {
			s.imports.pause(ctx, rows)
		}
	}
	res, err := s.importUpload(ctx, a, u, j.ValidOnly, progress)
	switch {
	case err == nil:
		return s.store.FinishImportJob(bg, j.ID, store.ImportSucceeded, toImportJSON(res), "")
	case res != nil && phantomos.ErrorCode(err) == phantomos.EINVALID && ctx.Err() == nil:
		// Refused: the outcome, with its bad rows, is the job's end.
		return s.store.FinishImportJob(bg, j.ID, store.ImportFailed, toImportJSON(res), phantomos.ErrorMessage(err))
	}
	if ctx.Err() != nil {
		if now, gerr := s.store.ImportJob(bg, at.Publisher, j.ID); live.cancelled.Load() || (gerr == nil && now.CancelRequested) {
			s.store.FinishImportJob(bg, j.ID, store.ImportCancelled, nil, store.ImportCancelledMessage)
			return jobs.Permanent(phantomos.Errorf(phantomos.ECONFLICT, "%s", store.ImportCancelledMessage))
		}
	}
	return s.importAttemptFailed(bg, j, at, err)
}

// importAttemptFailed records an attempt that did not finish: the job
// waits for the next attempt, or ends failed after the last one.
func (s *Server) importAttemptFailed(ctx context.Context, j *store.ImportJob, at jobs.ImportAttempt, err error) error {
	s.logger.Warn("import attempt failed", "publisher", at.Publisher, "job", j.ID, "attempt", at.Attempt, "final", at.Final, "err", err)
	if at.Final {
		msg := fmt.Sprintf("The import failed after %d attempts; nothing was written. The last error: %s", at.Attempt, phantomos.ErrorMessage(err))
		if errors.Is(err, context.DeadlineExceeded) {
			msg = fmt.Sprintf("The import did not finish in time after %d attempts; nothing was written. Split the file and import the parts.", at.Attempt)
		}
		if ferr := s.store.FinishImportJob(ctx, j.ID, store.ImportFailed, nil, msg); ferr != nil {
			return errors.Join(err, ferr)
		}
		return err
	}
	msg := fmt.Sprintf("Attempt %d did not finish, and nothing of it was written; the import starts again shortly.", at.Attempt)
	if rerr := s.store.RequeueImportJob(ctx, j.ID, msg); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

// requeueWaitingImports enqueues again the imports that have waited for a
// minute: an import whose queue job was never stored (its process died
// between the two) runs all the same. The queue keeps one job per import,
// so one waiting or running already is not doubled.
func (s *Server) requeueWaitingImports(ctx context.Context) {
	if s.jobs == nil {
		return
	}
	waiting, err := s.store.WaitingImportJobs(ctx, s.now().Add(-time.Minute), 1000)
	if err != nil {
		s.logger.Warn("schedule: waiting imports", "err", err)
		return
	}
	for _, j := range waiting {
		if _, err := s.jobs.EnqueueImport(ctx, j.Publisher, j.ID); err != nil {
			s.logger.Warn("schedule: enqueue import", "publisher", j.Publisher, "job", j.ID, "err", err)
		}
	}
}

// importResultPage is the page of a finished import: its summary, or why
// it was refused with its invalid rows.
func importResultPage(token string, u *store.ImportUpload, res *ingest.Result, err error) importPage {
	p := importPage{Token: token, Upload: u, Result: toImportJSON(res), Done: err == nil, Valid: res.Seen - res.Failed}
	if err != nil {
		p.ErrorMsg = phantomos.ErrorMessage(err)
	} else {
		p.Message = fmt.Sprintf("Imported %s: %d new, %d updated, %d unchanged.", u.FileName, res.Inserted, res.Updated, res.Skipped)
	}
	return p
}

// importProgress is an import job as its page and progress endpoint show
// it.
type importProgress struct {
	ID      string `json:"id"`
	State   string `json:"state"` // queued, running, succeeded, failed, cancelled
	Done    int64  `json:"rows_done"`
	Total   int64  `json:"rows_total"`
	Percent int64  `json:"percent"`
	Seconds int64  `json:"seconds"`
	Error   string `json:"error,omitempty"`
	// Note says why a waiting job waits (an attempt cut short).
	Note      string `json:"-"`
	CanCancel bool   `json:"-"`
}

// Ended reports whether the job has finished.
func (p importProgress) Ended() bool {
	return p.State != store.ImportQueued && p.State != store.ImportRunning
}

func (s *Server) importProgressOf(j *store.ImportJob) importProgress {
	p := importProgress{ID: j.ID, State: j.State, Done: j.RowsDone, Total: j.RowsTotal, Seconds: int64(s.now().Sub(j.CreatedAt).Seconds())}
	if j.State == store.ImportRunning {
		if v, ok := s.imports.live.Load(j.ID); ok {
			p.Done = max(p.Done, v.(*liveImport).rows.Load())
		}
	}
	switch {
	case j.State == store.ImportSucceeded:
		p.Done = j.RowsTotal
	case j.State == store.ImportQueued:
		p.Note = j.Error
	case p.Ended():
		p.Error = j.Error
	}
	if len(j.Result) > 0 {
		var r importJSON
		if json.Unmarshal(j.Result, &r) == nil {
			p.Done = r.Seen
		}
	}
	if p.Total > 0 {
		p.Percent = min(100, p.Done*100/p.Total)
	}
	if p.Seconds < 0 {
		p.Seconds = 0
	}
	return p
}

// importJob returns the import job of the request's {id} (or of id) as
// its actor may see it: the user who confirmed it, and the publisher's
// owners and admins. Anyone else is told it does not exist.
func (s *Server) importJob(r *http.Request, id string) (*store.ImportJob, error) {
	a := phantomos.ActorFrom(r.Context())
	j, err := s.store.ImportJob(r.Context(), a.PublisherID, id)
	if err != nil {
		return nil, err
	}
	if j.CreatedBy != a.UserID && !a.Role.AtLeast(phantomos.RoleAdmin) {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Import not found.")
	}
	return j, nil
}

// handleImportJob shows an import job: its progress while it waits or
// runs, then the same summary a small import shows.
func (s *Server) handleImportJob(w http.ResponseWriter, r *http.Request) error {
	j, err := s.importJob(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	u := &store.ImportUpload{ID: j.UploadID, Kind: j.Kind, FileName: j.FileName}
	d := s.pageData(r, "Import", "products")
	pr := s.importProgressOf(j)
	switch {
	case !pr.Ended():
		pr.CanCancel = true // whoever sees it may cancel it
		d.Data = importPage{Upload: u, Job: &pr}
	case len(j.Result) > 0:
		var res importJSON
		if err := json.Unmarshal(j.Result, &res); err != nil {
			return err
		}
		u.Format = res.Format
		p := importPage{JobID: j.ID, Upload: u, Result: res, Done: j.State == store.ImportSucceeded, Valid: res.Seen - res.Failed, Ended: true}
		if p.Done {
			p.Message = fmt.Sprintf("Imported %s: %d new, %d updated, %d unchanged.", j.FileName, res.Inserted, res.Updated, res.Skipped)
		} else {
			p.ErrorMsg = j.Error
			// A refused file can still be imported valid rows only while
			// its upload is kept.
			p.CanRetry = j.UploadID != "" && res.Failed > 0 && !j.ValidOnly
		}
		d.Data = p
	default:
		d.Data = importPage{JobID: j.ID, Upload: u, ErrorMsg: j.Error, Ended: true, Job: &pr}
	}
	return s.render(w, http.StatusOK, "import", d)
}

// handleImportJobProgress is the JSON the import page polls.
func (s *Server) handleImportJobProgress(w http.ResponseWriter, r *http.Request) error {
	j, err := s.importJob(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return api.WriteJSON(w, http.StatusOK, s.importProgressOf(j))
}

// handleImportJobCancel cancels an import that waits or runs: one that
// waits never starts; a running one stops at its next batch and its
// transaction is rolled back, so nothing of it is written. An import that
// has already finished stays as it is.
func (s *Server) handleImportJobCancel(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	j, err := s.importJob(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	if !j.Finished() {
		if v, ok := s.imports.live.Load(j.ID); ok {
			// Running here: stopped at once, which on SQLite also frees
			// the write lock the next steps need.
			v.(*liveImport).cancelled.Store(true)
			v.(*liveImport).cancel()
		}
		if j, err = s.store.CancelImportJob(r.Context(), a.PublisherID, j.ID); err != nil {
			return err
		}
		if j.RiverJobID != 0 && s.jobs != nil {
			if err := s.jobs.Cancel(r.Context(), j.RiverJobID); err != nil {
				return err
			}
		}
		s.audit(r, a.PublisherID, "data.import.cancel", j.FileName, map[string]any{"job": j.ID})
	}
	http.Redirect(w, r, "/products/import/jobs/"+j.ID, http.StatusSeeOther)
	return nil
}
