package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/api"
	"github.com/phantomos/phantomos/internal/ingest"
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

// importJobs holds the server's settings for import jobs and the progress
// of those this process runs.
type importJobs struct {
	// backgroundRows: an upload whose preview read at least this many rows
	// is imported by a job; a smaller one while the request waits.
	backgroundRows int64
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
		if rows, ok := s.work.ImportRows(j.ID); ok {
			p.Done = max(p.Done, rows)
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
		// Running here: stopped at once, which on SQLite also frees the
		// write lock the next steps need.
		s.work.StopImport(j.ID)
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
