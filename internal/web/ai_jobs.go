package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/api"
	"github.com/phantomos/phantomos/internal/jobs"
)

// jobWaits bounds how long a request waits for a job it enqueued: long
// enough that a short run answers as it did when it ran in the request,
// short enough that a long one never holds a request (or a replica's
// connection) for minutes. The work itself runs in a worker, on any
// process.
type jobWaits struct {
	page, api time.Duration
}

var defaultJobWaits = jobWaits{page: 8 * time.Second, api: 20 * time.Second}

// River's states as people read them: waiting, running, succeeded,
// failed.
func jobState(j *jobs.Job) string {
	switch j.State {
	case "completed":
		return "succeeded"
	case "running":
		return "running"
	case "cancelled", "discarded":
		return "failed"
	}
	return "waiting" // available, scheduled, retryable, pending
}

// jobError is a finished job's last error, for people.
func jobError(j *jobs.Job) string {
	if len(j.Errors) == 0 {
		return "it stopped without saying why"
	}
	return j.Errors[len(j.Errors)-1]
}

// jobJSON is a job as GET /api/v1/jobs/{id} shows it.
type jobJSON struct {
	ID         int64           `json:"id"`
	Kind       string          `json:"kind"`
	State      string          `json:"state"`
	Attempt    int             `json:"attempt"`
	Errors     []string        `json:"errors"`
	CreatedAt  time.Time       `json:"created_at"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
	Result     json.RawMessage `json:"result,omitempty"`
}

func toJobJSON(j *jobs.Job) jobJSON {
	out := jobJSON{ID: j.ID, Kind: j.Kind, State: jobState(j), Attempt: j.Attempt, Errors: j.Errors, CreatedAt: j.Created.UTC(),
		FinishedAt: j.Finalized, Result: j.Output}
	if out.Errors == nil {
		out.Errors = []string{}
	}
	if out.FinishedAt != nil {
		t := out.FinishedAt.UTC()
		out.FinishedAt = &t
	}
	return out
}

// jobLocation is where the API follows job id.
func jobLocation(id int64) string { return "/api/v1/jobs/" + strconv.FormatInt(id, 10) }

// accepted answers 202 with where to follow job j.
func accepted(w http.ResponseWriter, j *jobs.Job) error {
	w.Header().Set("Location", jobLocation(j.ID))
	w.Header().Set("Retry-After", "2")
	return api.WriteJSON(w, http.StatusAccepted, toJobJSON(j))
}

// waitJob waits up to d for job id of pub. A job that failed is an error
// with its reason.
func (s *Server) waitJob(ctx context.Context, pub phantomos.PublisherID, id int64, d time.Duration) (*jobs.Job, error) {
	j, err := s.jobs.Wait(ctx, pub, id, d)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, phantomos.Errorf(phantomos.EINTERNAL, "The request ended before the job did.")
		}
		return nil, err
	}
	return j, nil
}

// handleAPIJob serves GET /api/v1/jobs/{id}: a tagging or insights run of
// the caller's publisher, which POST /api/ai/tagging and POST
// /api/ai/insights point to (Location) when they answer 202. Another
// publisher's job, or one of another kind, is not found.
func (s *Server) handleAPIJob(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 || s.jobs == nil {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Job not found.")
	}
	j, err := s.jobs.JobOf(r.Context(), a.PublisherID, id)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, toJobJSON(j))
}
