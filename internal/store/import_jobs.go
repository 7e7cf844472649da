package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/phantomos/phantomos"
)

// An upload waits in the database between its preview and its
// confirmation, so that whichever replica or worker runs the import can
// read it. A confirmed upload becomes an import job (the file_import job
// of internal/jobs runs it); the job's state, progress and outcome are
// kept here too, so that any replica's page shows them live.

// ImportUpload is a previewed file, waiting to be imported.
type ImportUpload struct {
	ID            string
	Publisher     phantomos.PublisherID
	CreatedBy     string
	Kind          string
	Format        string
	FileName      string
	Source        string
	Rows          int64 // read by the preview
	OrdersChanged int64 // stored orders the file changes
	Errors        []RowError
	CreatedAt     time.Time
}

// SaveImportUpload stores u with its file data, found again by tokenHash.
func (s *Store) SaveImportUpload(ctx context.Context, tokenHash string, u *ImportUpload, data []byte) error {
	if u.ID == "" {
		u.ID = phantomos.NewID()
	}
	u.CreatedAt = s.nowUTC()
	errs := u.Errors
	if errs == nil {
		errs = []RowError{}
	}
	b, err := json.Marshal(errs)
	if err != nil {
		return err
	}
	if _, err := s.exec(ctx, `INSERT INTO import_uploads (id, publisher_id, token_hash, created_by, kind, format, file_name, source,
		row_count, orders_changed, errors, data, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		u.ID, u.Publisher, tokenHash, nullable(u.CreatedBy), u.Kind, u.Format, u.FileName, u.Source, u.Rows, u.OrdersChanged, string(b), data, u.CreatedAt); err != nil {
		return fmt.Errorf("store: save upload: %w", err)
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const uploadCols = `id, publisher_id, COALESCE(CAST(created_by AS TEXT), ''), kind, format, file_name, source, row_count, orders_changed, errors, created_at`

func scanUpload(row interface{ Scan(...any) error }) (*ImportUpload, error) {
	var u ImportUpload
	var errs string
	if err := row.Scan(&u.ID, &u.Publisher, &u.CreatedBy, &u.Kind, &u.Format, &u.FileName, &u.Source, &u.Rows, &u.OrdersChanged, &errs, &u.CreatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(errs), &u.Errors); err != nil {
		return nil, fmt.Errorf("store: upload errors: %w", err)
	}
	return &u, nil
}

// errUploadExpired is what a missing, foreign or expired upload is.
func errUploadExpired() error {
	return phantomos.Errorf(phantomos.ENOTFOUND, "This upload has expired. Upload the file again.")
}

// ImportUploadByToken returns publisher pub's upload of tokenHash, made
// within maxAge; anything else is ENOTFOUND ("expired").
func (s *Store) ImportUploadByToken(ctx context.Context, pub phantomos.PublisherID, tokenHash string, maxAge time.Duration) (*ImportUpload, error) {
	u, err := scanUpload(s.db.QueryRowContext(ctx, `SELECT `+uploadCols+` FROM import_uploads WHERE publisher_id = $1 AND token_hash = $2 AND created_at > $3`,
		pub, tokenHash, s.nowUTC().Add(-maxAge)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errUploadExpired()
	}
	if err != nil {
		return nil, fmt.Errorf("store: upload: %w", err)
	}
	return u, nil
}

// ImportUploadData returns the file of publisher pub's upload id.
func (s *Store) ImportUploadData(ctx context.Context, pub phantomos.PublisherID, id string) ([]byte, error) {
	var data []byte
	err := s.db.QueryRowContext(ctx, `SELECT data FROM import_uploads WHERE publisher_id = $1 AND id = $2`, pub, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errUploadExpired()
	}
	if err != nil {
		return nil, fmt.Errorf("store: upload data: %w", err)
	}
	return data, nil
}

// DeleteImportUpload removes publisher pub's upload id (its jobs keep
// their outcome).
func (s *Store) DeleteImportUpload(ctx context.Context, pub phantomos.PublisherID, id string) error {
	if _, err := s.exec(ctx, `DELETE FROM import_uploads WHERE publisher_id = $1 AND id = $2`, pub, id); err != nil {
		return fmt.Errorf("store: delete upload: %w", err)
	}
	return nil
}

// SweepImports removes the uploads older than uploadAge that no waiting
// or running import needs, and the finished import jobs older than
// jobAge. It returns how many uploads went.
func (s *Store) SweepImports(ctx context.Context, uploadAge, jobAge time.Duration) (int64, error) {
	now := s.nowUTC()
	res, err := s.exec(ctx, `DELETE FROM import_uploads WHERE created_at < $1 AND id NOT IN (
		SELECT upload_id FROM import_jobs WHERE state IN ('queued','running') AND upload_id IS NOT NULL)`, now.Add(-uploadAge))
	if err != nil {
		return 0, fmt.Errorf("store: sweep uploads: %w", err)
	}
	n, _ := res.RowsAffected()
	if _, err := s.exec(ctx, `DELETE FROM import_jobs WHERE state IN ('succeeded','failed','cancelled') AND finished_at < $1`, now.Add(-jobAge)); err != nil {
		return n, fmt.Errorf("store: sweep import jobs: %w", err)
	}
	return n, nil
}

// The states of an import job.
const (
	ImportQueued    = "queued"    // waiting for a worker (also between attempts)
	ImportRunning   = "running"   // a worker is importing it
	ImportSucceeded = "succeeded" // written
	ImportFailed    = "failed"    // refused or given up: nothing written
	ImportCancelled = "cancelled" // cancelled by a user: nothing written
)

// ImportJob is a confirmed import.
type ImportJob struct {
	ID              string
	Publisher       phantomos.PublisherID
	UploadID        string // "" once the upload is gone
	CreatedBy       string
	Kind            string
	FileName        string
	ValidOnly       bool
	State           string
	CancelRequested bool
	RiverJobID      int64
	Attempt         int
	RowsTotal       int64
	RowsDone        int64
	Result          json.RawMessage // the import's summary, once it ran (also when refused)
	Error           string          // why it failed, in the user's words
	CreatedAt       time.Time
	UpdatedAt       time.Time
	FinishedAt      *time.Time
}

// Finished reports whether j has ended.
func (j *ImportJob) Finished() bool {
	return j.State == ImportSucceeded || j.State == ImportFailed || j.State == ImportCancelled
}

const importJobCols = `id, publisher_id, COALESCE(CAST(upload_id AS TEXT), ''), COALESCE(CAST(created_by AS TEXT), ''), kind, file_name, valid_only, state,
	cancel_requested, river_job_id, attempt, rows_total, rows_done, result, error, created_at, updated_at, finished_at`

func scanImportJob(row interface{ Scan(...any) error }) (*ImportJob, error) {
	var j ImportJob
	var result sql.NullString
	var fin sql.NullTime
	if err := row.Scan(&j.ID, &j.Publisher, &j.UploadID, &j.CreatedBy, &j.Kind, &j.FileName, &j.ValidOnly, &j.State, &j.CancelRequested,
		&j.RiverJobID, &j.Attempt, &j.RowsTotal, &j.RowsDone, &result, &j.Error, &j.CreatedAt, &j.UpdatedAt, &fin); err != nil {
		return nil, err
	}
	if result.Valid {
		j.Result = json.RawMessage(result.String)
	}
	if fin.Valid {
		j.FinishedAt = &fin.Time
	}
	return &j, nil
}

func errImportJobNotFound() error {
	return phantomos.Errorf(phantomos.ENOTFOUND, "Import not found.")
}

// CreateImportJob records a confirmed import of upload u, queued. When
// the upload already has a waiting or running import (a confirmation sent
// twice), that one is returned instead, with created false.
func (s *Store) CreateImportJob(ctx context.Context, u *ImportUpload, createdBy string, validOnly bool) (j *ImportJob, created bool, err error) {
	now := s.nowUTC()
	j = &ImportJob{ID: phantomos.NewID(), Publisher: u.Publisher, UploadID: u.ID, CreatedBy: createdBy, Kind: u.Kind, FileName: u.FileName,
		ValidOnly: validOnly, State: ImportQueued, RowsTotal: u.Rows, CreatedAt: now, UpdatedAt: now}
	_, err = s.exec(ctx, `INSERT INTO import_jobs (id, publisher_id, upload_id, created_by, kind, file_name, valid_only, state, rows_total,
		created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`,
		j.ID, j.Publisher, u.ID, nullable(createdBy), j.Kind, j.FileName, validOnly, ImportQueued, u.Rows, now)
	if isUniqueViolation(err) {
		j, err = scanImportJob(s.db.QueryRowContext(ctx, `SELECT `+importJobCols+` FROM import_jobs
			WHERE publisher_id = $1 AND upload_id = $2 AND state IN ('queued','running')`, u.Publisher, u.ID))
		if errors.Is(err, sql.ErrNoRows) {
			err = phantomos.Errorf(phantomos.ECONFLICT, "This upload is being imported; try again in a moment.")
		}
		if err != nil {
			return nil, false, fmt.Errorf("store: import job: %w", err)
		}
		return j, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store: create import job: %w", err)
	}
	return j, true, nil
}

// SetImportJobRiverID records the queue's job that runs import job id.
func (s *Store) SetImportJobRiverID(ctx context.Context, id string, riverID int64) error {
	if _, err := s.exec(ctx, `UPDATE import_jobs SET river_job_id = $1 WHERE id = $2`, riverID, id); err != nil {
		return fmt.Errorf("store: import job: %w", err)
	}
	return nil
}

// ImportJob returns publisher pub's import job id.
func (s *Store) ImportJob(ctx context.Context, pub phantomos.PublisherID, id string) (*ImportJob, error) {
	if !phantomos.ValidID(id) {
		return nil, errImportJobNotFound()
	}
	j, err := scanImportJob(s.db.QueryRowContext(ctx, `SELECT `+importJobCols+` FROM import_jobs WHERE publisher_id = $1 AND id = $2`, pub, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errImportJobNotFound()
	}
	if err != nil {
		return nil, fmt.Errorf("store: import job: %w", err)
	}
	return j, nil
}

// ImportJobs returns publisher pub's waiting and running imports, oldest
// first, up to limit.
func (s *Store) ImportJobs(ctx context.Context, pub phantomos.PublisherID, limit int) ([]*ImportJob, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+importJobCols+` FROM import_jobs WHERE publisher_id = $1 AND state IN ('queued','running')
		ORDER BY created_at, id LIMIT $2`, pub, limit)
	if err != nil {
		return nil, fmt.Errorf("store: import jobs: %w", err)
	}
	defer rows.Close()
	var out []*ImportJob
	for rows.Next() {
		j, err := scanImportJob(rows)
		if err != nil {
			return nil, fmt.Errorf("store: import jobs: %w", err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// StartImportJob marks publisher pub's import job id running in attempt
// attempt (its progress starts again) and returns it. A job that was
// cancelled or has finished is returned as it is, not started: the caller
// looks at its State.
func (s *Store) StartImportJob(ctx context.Context, pub phantomos.PublisherID, id string, attempt int) (*ImportJob, error) {
	if _, err := s.exec(ctx, `UPDATE import_jobs SET state = 'running', attempt = $1, rows_done = 0, updated_at = $2
		WHERE publisher_id = $3 AND id = $4 AND state IN ('queued','running') AND NOT cancel_requested`, attempt, s.nowUTC(), pub, id); err != nil {
		return nil, fmt.Errorf("store: start import job: %w", err)
	}
	return s.ImportJob(ctx, pub, id)
}

// ImportJobProgress records rows read so far by running job id.
func (s *Store) ImportJobProgress(ctx context.Context, id string, rows int64) error {
	if _, err := s.exec(ctx, `UPDATE import_jobs SET rows_done = $1, updated_at = $2 WHERE id = $3 AND state = 'running'`,
		rows, s.nowUTC(), id); err != nil {
		return fmt.Errorf("store: import progress: %w", err)
	}
	return nil
}

// RequeueImportJob puts running job id back to wait for its next attempt
// (its process stops, or the attempt failed and will be retried), with
// why in msg.
func (s *Store) RequeueImportJob(ctx context.Context, id, msg string) error {
	if _, err := s.exec(ctx, `UPDATE import_jobs SET state = 'queued', rows_done = 0, error = $1, updated_at = $2
		WHERE id = $3 AND state IN ('queued','running')`, msg, s.nowUTC(), id); err != nil {
		return fmt.Errorf("store: requeue import job: %w", err)
	}
	return nil
}

// FinishImportJob ends job id in state (succeeded, failed or cancelled)
// with the import's summary (nil when it never ran) and, unless it
// succeeded, why in msg. A job already finished is left as it is.
func (s *Store) FinishImportJob(ctx context.Context, id, state string, result any, msg string) error {
	var res any
	if result != nil {
		b, err := json.Marshal(result)
		if err != nil {
			return err
		}
		res = string(b)
	}
	now := s.nowUTC()
	q := `UPDATE import_jobs SET state = $1, result = $2, error = $3, updated_at = $4, finished_at = $4,
		rows_done = CASE WHEN $1 = 'succeeded' THEN rows_total ELSE rows_done END WHERE id = $5 AND state IN ('queued','running')`
	if s.dialect == Postgres {
		q = `UPDATE import_jobs SET state = $1, result = CAST($2 AS JSONB), error = $3, updated_at = $4, finished_at = $4,
		rows_done = CASE WHEN $1 = 'succeeded' THEN rows_total ELSE rows_done END WHERE id = $5 AND state IN ('queued','running')`
	}
	if _, err := s.exec(ctx, q, state, res, msg, now, id); err != nil {
		return fmt.Errorf("store: finish import job: %w", err)
	}
	return nil
}

// CancelImportJob asks publisher pub's import job id to stop. A job still
// waiting is cancelled at once (nothing ran); a running one is marked, and
// its worker ends it as cancelled when it stops (its transaction rolled
// back). It returns the job as it is after the request; a job that had
// already finished is returned unchanged.
func (s *Store) CancelImportJob(ctx context.Context, pub phantomos.PublisherID, id string) (*ImportJob, error) {
	now := s.nowUTC()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE import_jobs SET state = 'cancelled', cancel_requested = TRUE, error = $1, updated_at = $2, finished_at = $2
			WHERE publisher_id = $3 AND id = $4 AND state = 'queued'`, ImportCancelledMessage, now, pub, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE import_jobs SET cancel_requested = TRUE, updated_at = $1
			WHERE publisher_id = $2 AND id = $3 AND state = 'running'`, now, pub, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: cancel import job: %w", err)
	}
	return s.ImportJob(ctx, pub, id)
}

// ImportCancelledMessage is the outcome of a cancelled import.
const ImportCancelledMessage = "The import was cancelled; nothing of it was written."

// ImportUpload returns publisher pub's upload id, made within maxAge.
func (s *Store) ImportUpload(ctx context.Context, pub phantomos.PublisherID, id string, maxAge time.Duration) (*ImportUpload, error) {
	if !phantomos.ValidID(id) {
		return nil, errUploadExpired()
	}
	u, err := scanUpload(s.db.QueryRowContext(ctx, `SELECT `+uploadCols+` FROM import_uploads WHERE publisher_id = $1 AND id = $2 AND created_at > $3`,
		pub, id, s.nowUTC().Add(-maxAge)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errUploadExpired()
	}
	if err != nil {
		return nil, fmt.Errorf("store: upload: %w", err)
	}
	return u, nil
}

// WaitingImportJobs returns the import jobs of every publisher that have
// been waiting since before before, up to limit: the schedule enqueues
// them again, in case their queue job was never stored.
func (s *Store) WaitingImportJobs(ctx context.Context, before time.Time, limit int) ([]*ImportJob, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+importJobCols+` FROM import_jobs WHERE state = 'queued' AND updated_at < $1
		ORDER BY created_at, id LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("store: waiting import jobs: %w", err)
	}
	defer rows.Close()
	var out []*ImportJob
	for rows.Next() {
		j, err := scanImportJob(rows)
		if err != nil {
			return nil, fmt.Errorf("store: waiting import jobs: %w", err)
		}
		out = append(out, j)
	}
	return out, rows.Err()
}
