package web

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/api"
	"github.com/phantomos/phantomos/internal/ingest"
)

// A large upload is imported in the background of the server process once
// the user confirms it: the request returns at once to a page that shows
// the rows written so far out of the rows the preview read, polled by
// import.js (or refreshed every two seconds without JavaScript), and that
// shows the import's summary when it ends. The import itself is the same
// single transaction as a small one's: a failure, or the process stopping,
// writes nothing.

// DefaultImportBackgroundRows is the preview row count from which a
// confirmed upload is imported in the background.
const DefaultImportBackgroundRows = 10000

// importJobTTL is how long a finished job's summary stays available.
const importJobTTL = time.Hour

// importJobTimeout bounds one background import.
const importJobTimeout = 6 * time.Hour

// importJobs are the background imports of this server process, keyed by
// job id. A job is its publisher's and its user's: anyone else is told it
// does not exist.
type importJobs struct {
	// backgroundRows: an upload whose preview read at least this many rows
	// is imported in the background; a smaller one while the request waits.
	backgroundRows int64

	mu   sync.Mutex
	jobs map[string]*importJob
}

func newImportJobs() *importJobs {
	return &importJobs{backgroundRows: DefaultImportBackgroundRows, jobs: map[string]*importJob{}}
}

type importJob struct {
	id        string
	publisher phantomos.PublisherID
	user      string
	token     string // the upload's, for its error report
	upload    *upload
	validOnly bool
	total     int64 // rows the preview read
	done      atomic.Int64
	started   time.Time

	mu       sync.Mutex
	finished time.Time // zero while running
	res      *ingest.Result
	err      error
}

// state returns the job's outcome so far: finished is false while it runs.
func (j *importJob) state() (finished bool, res *ingest.Result, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return !j.finished.IsZero(), j.res, j.err
}

// add registers j, unless a job for the same upload is still running: that
// one is returned instead (a confirmation sent twice imports once).
func (js *importJobs) add(j *importJob) *importJob {
	js.mu.Lock()
	defer js.mu.Unlock()
	for id, o := range js.jobs {
		if fin, _, _ := o.state(); fin && time.Since(o.finished) > importJobTTL {
			delete(js.jobs, id)
			continue
		}
		if o.token == j.token && o.publisher == j.publisher {
			if fin, _, _ := o.state(); !fin {
				return o
			}
		}
	}
	js.jobs[j.id] = j
	return j
}

// get returns the job id of publisher pub and user, or ENOTFOUND.
func (js *importJobs) get(pub phantomos.PublisherID, user, id string) (*importJob, error) {
	js.mu.Lock()
	j := js.jobs[id]
	js.mu.Unlock()
	if j == nil || j.publisher != pub || j.user != user {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Import not found. A finished import's outcome is kept for an hour; every import is listed on the Products page.")
	}
	return j, nil
}

// startImportJob imports the upload of token in the background and sends
// the browser to the job's page.
func (s *Server) startImportJob(w http.ResponseWriter, r *http.Request, token string, u *upload, data string, validOnly bool) error {
	a := phantomos.ActorFrom(r.Context())
	j := &importJob{id: phantomos.NewID(), publisher: a.PublisherID, user: a.UserID, token: token, upload: u, validOnly: validOnly,
		total: u.Rows, started: time.Now()}
	if got := s.imports.add(j); got != j {
		http.Redirect(w, r, "/products/import/jobs/"+got.id, http.StatusSeeOther)
		return nil
	}
	// The request ends now; the job keeps what auditing needs of it.
	ar := r.Clone(context.WithoutCancel(r.Context()))
	go func() {
		ctx, cancel := context.WithTimeout(ar.Context(), importJobTimeout)
		defer cancel()
		res, err := s.runImport(ctx, ar, token, u, data, validOnly, func(rows int64) { j.done.Store(rows) })
		j.mu.Lock()
		j.res, j.err, j.finished = res, err, time.Now()
		j.mu.Unlock()
		if err != nil && (res == nil || phantomos.ErrorCode(err) != phantomos.EINVALID) {
			s.logger.Warn("background import", "publisher", j.publisher, "file", u.FileName, "err", err)
		}
	}()
	http.Redirect(w, r, "/products/import/jobs/"+j.id, http.StatusSeeOther)
	return nil
}

// runImport imports a previewed upload, audits it and, when it succeeded,
// removes the upload. It is the confirmation's work, in the request or in
// the background.
func (s *Server) runImport(ctx context.Context, r *http.Request, token string, u *upload, data string, validOnly bool, progress func(int64)) (*ingest.Result, error) {
	a := phantomos.ActorFrom(r.Context())
	in, err := os.Open(data)
	if err != nil {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "This upload has expired. Upload the file again.")
	}
	defer in.Close()
	res, err := ingest.Import(ctx, s.store, a.PublisherID, u.Kind, u.Format, in, ingest.Options{
		ValidOnly: validOnly, FileName: u.FileName, CreatedBy: a.UserID, Progress: progress, Source: u.Source})
	if res == nil {
		return nil, err
	}
	s.audit(r, a.PublisherID, "data.import", u.FileName, map[string]any{"kind": string(u.Kind), "format": res.Format,
		"inserted": res.Inserted, "updated": res.Updated, "failed": res.Failed, "valid_only": validOnly, "accepted": err == nil})
	if err == nil {
		_, meta, _ := uploadPath(token)
		os.Remove(data)
		os.Remove(meta)
		s.retagAfterImport(ctx, a.PublisherID, u.Kind, res)
	}
	return res, err
}

// importResultPage is the page of a finished import: its summary, or why
// it was refused with its invalid rows.
func importResultPage(token string, u *upload, res *ingest.Result, err error) importPage {
	p := importPage{Token: token, Upload: u, Result: toImportJSON(res), Done: err == nil, Valid: res.Seen - res.Failed}
	if err != nil {
		p.ErrorMsg = phantomos.ErrorMessage(err)
	} else {
		p.Message = fmt.Sprintf("Imported %s: %d new, %d updated, %d unchanged.", u.FileName, res.Inserted, res.Updated, res.Skipped)
	}
	return p
}

// importProgress is a running job as its page and progress endpoint show it.
type importProgress struct {
	ID      string `json:"id"`
	State   string `json:"state"` // running, succeeded, failed
	Done    int64  `json:"rows_done"`
	Total   int64  `json:"rows_total"`
	Percent int64  `json:"percent"`
	Seconds int64  `json:"seconds"`
}

func (j *importJob) progress() importProgress {
	fin, res, err := j.state()
	p := importProgress{ID: j.id, State: "running", Done: j.done.Load(), Total: j.total, Seconds: int64(time.Since(j.started).Seconds())}
	switch {
	case fin && err == nil:
		p.State = "succeeded"
	case fin:
		p.State = "failed"
	}
	if fin && res != nil {
		p.Done = res.Seen
	}
	if p.Total > 0 {
		p.Percent = min(100, p.Done*100/p.Total)
	}
	return p
}

// handleImportJob shows a background import: its progress while it runs,
// then the same summary a small import shows.
func (s *Server) handleImportJob(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	j, err := s.imports.get(a.PublisherID, a.UserID, r.PathValue("id"))
	if err != nil {
		return err
	}
	fin, res, ierr := j.state()
	d := s.pageData(r, "Import", "products")
	switch {
	case !fin:
		pr := j.progress()
		d.Data = importPage{Token: j.token, Upload: j.upload, Job: &pr}
	case res == nil:
		return ierr
	default:
		d.Data = importResultPage(j.token, j.upload, res, ierr)
	}
	return s.render(w, http.StatusOK, "import", d)
}

// handleImportJobProgress is the JSON the import page polls.
func (s *Server) handleImportJobProgress(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	j, err := s.imports.get(a.PublisherID, a.UserID, r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return api.WriteJSON(w, http.StatusOK, j.progress())
}
