package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/api"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/worker"
)

// maxUpload bounds an uploaded file (the body limit of the server).
const maxUpload = worker.MaxFileBytes

// uploadBody returns the file of an import request: the "file" part of a
// multipart form, or the body itself for text/csv and the like.
func uploadBody(r *http.Request) (io.ReadCloser, string, error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		f, h, err := r.FormFile("file")
		if err != nil {
			return nil, "", phantomos.Errorf(phantomos.EINVALID, "Attach the file as the form field \"file\".")
		}
		return f, h.Filename, nil
	}
	if r.ContentLength == 0 {
		return nil, "", phantomos.Errorf(phantomos.EINVALID, "The request has no file: send it as text/csv or as multipart field \"file\".")
	}
	return r.Body, "upload.csv", nil
}

// importJSON is an import's outcome as the API and the import pages
// show it.
type importJSON = worker.ImportResult

func toImportJSON(res *ingest.Result) importJSON { return worker.NewImportResult(res) }

// apiImport serves POST /api/products/import and /api/sales/import:
// ?format=auto|…&valid_only=true&dry_run=true&source=NAME. A refused file
// is 422 problem+json listing every bad row; nothing is written.
func (s *Server) apiImport(kind ingest.Kind) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		a := phantomos.ActorFrom(r.Context())
		body, name, err := uploadBody(r)
		if err != nil {
			return err
		}
		defer body.Close()
		q := r.URL.Query()
		format := q.Get("format")
		if format == "" {
			format = ingest.FormatAuto
		}
		res, err := ingest.Import(r.Context(), s.store, a.PublisherID, kind, format, body, ingest.Options{
			ValidOnly: q.Get("valid_only") == "true", DryRun: q.Get("dry_run") == "true", FileName: name,
			Source: q.Get("source"), CreatedBy: a.UserID,
		})
		if res != nil && !res.DryRun {
			s.audit(r, a.PublisherID, "data.import", name, map[string]any{"kind": string(kind), "format": res.Format,
				"inserted": res.Inserted, "updated": res.Updated, "failed": res.Failed, "accepted": err == nil})
		}
		if err == nil {
			s.work.RetagAfterImport(r.Context(), a.PublisherID, kind, res)
		}
		if err != nil {
			if res == nil || phantomos.ErrorCode(err) != phantomos.EINVALID {
				return err
			}
			out := struct {
				Type   string `json:"type"`
				Title  string `json:"title"`
				Status int    `json:"status"`
				Detail string `json:"detail"`
				Code   string `json:"code"`
				importJSON
			}{"about:blank", "Unprocessable Entity", http.StatusUnprocessableEntity, phantomos.ErrorMessage(err), phantomos.EINVALID, toImportJSON(res)}
			b, _ := json.Marshal(out)
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			w.Write(b)
			return nil
		}
		return api.WriteJSON(w, http.StatusOK, toImportJSON(res))
	}
}

// An upload waits in the database between its preview and the
// confirmation (store.ImportUpload), bound to the publisher that sent it
// and found by a token only its page knows.

// uploadTTL is how long an upload may be confirmed after its preview.
const uploadTTL = time.Hour

// loadUpload returns publisher pub's upload of token.
func (s *Server) loadUpload(ctx context.Context, token string, pub phantomos.PublisherID) (*store.ImportUpload, error) {
	if len(token) != 43 {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "This upload has expired. Upload the file again.")
	}
	return s.store.ImportUploadByToken(ctx, pub, auth.HashToken(token), uploadTTL)
}

type importPage struct {
	Token    string // the upload's, on its preview
	JobID    string // the import job's, on its page
	Upload   *store.ImportUpload
	Result   importJSON
	Done     bool
	Message  string
	Valid    int64
	ErrorMsg string
	Job      *importProgress // an import job still waiting or running, or one that ended without a summary
	// Ended: an import job's page, once it has finished.
	Ended bool
	// CanRetry: a refused import job's page offers to import the valid
	// rows only.
	CanRetry bool
}

// handleImportUpload receives a file from the Products page, keeps it, and
// shows a preview: rows read, valid, invalid with reasons — nothing is
// written yet.
func (s *Server) handleImportUpload(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	kind := ingest.Kind(r.FormValue("kind"))
	if !slices.Contains(ingest.Kinds, kind) {
		return phantomos.Errorf(phantomos.EINVALID, "Choose what the file holds: products, sales, assets or FX rates.")
	}
	format := r.FormValue("format")
	if format == "" {
		format = ingest.FormatAuto
	}
	source, err := importSource(r)
	if err != nil {
		return err
	}
	f, h, err := r.FormFile("file")
	if err != nil {
		return phantomos.Errorf(phantomos.EINVALID, "Choose a file to upload.")
	}
	defer f.Close()
	if _, err := s.store.SweepImports(r.Context(), uploadTTL, worker.ImportJobKeep); err != nil {
		s.logger.Warn("sweep uploads", "err", err)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxUpload+1))
	if err != nil {
		return err
	}
	if len(data) > maxUpload {
		return phantomos.Errorf(phantomos.EINVALID, "The file is larger than %d MB: split it and import the parts.", maxUpload>>20)
	}
	res, ierr := ingest.Import(r.Context(), s.store, a.PublisherID, kind, format, bytes.NewReader(data), ingest.Options{DryRun: true, FileName: h.Filename, Source: source})
	if res == nil {
		return ierr
	}
	token := auth.NewToken()
	u := store.ImportUpload{Publisher: a.PublisherID, CreatedBy: a.UserID, Kind: string(kind), Format: res.Format, FileName: h.Filename, Rows: res.Seen,
		Errors: res.Errors, Source: source, OrdersChanged: res.OrdersChanged}
	if err := s.store.SaveImportUpload(r.Context(), auth.HashToken(token), &u, data); err != nil {
		return err
	}
	p := importPage{Token: token, Upload: &u, Result: toImportJSON(res), Valid: res.Seen - res.Failed}
	if ierr != nil {
		p.ErrorMsg = phantomos.ErrorMessage(ierr)
	}
	data2 := s.pageData(r, "Import", "products")
	data2.Data = p
	return s.render(w, http.StatusOK, "import", data2)
}

// handleImportConfirm imports a previewed upload, all or nothing unless the
// user chose the valid rows only. A large one is imported in the
// background (import_jobs.go); a small one while the request waits.
func (s *Server) handleImportConfirm(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	token := r.PostFormValue("token")
	var u *store.ImportUpload
	var err error
	if job := r.PostFormValue("job"); job != "" && token == "" {
		// The valid rows of a file a job refused.
		j, jerr := s.importJob(r, job)
		if jerr != nil {
			return jerr
		}
		u, err = s.store.ImportUpload(r.Context(), a.PublisherID, j.UploadID, uploadTTL)
	} else {
		u, err = s.loadUpload(r.Context(), token, a.PublisherID)
	}
	if err != nil {
		return err
	}
	validOnly := r.PostFormValue("valid_only") == "true"
	if u.OrdersChanged > 0 && r.PostFormValue("update_existing") != "true" {
		return phantomos.Errorf(phantomos.EINVALID, "This file changes %d orders already stored: tick “Update the existing orders” to import it, or upload it again with another source if it belongs to another store.", u.OrdersChanged)
	}
	if u.Rows >= s.imports.backgroundRows {
		return s.startImportJob(w, r, u, validOnly)
	}
	ia := worker.ImportActor{Pub: a.PublisherID, UserID: a.UserID, Actor: a.Email, IP: clientIP(r)}
	if a.APIKeyID != "" {
		ia.Actor = "api key " + a.APIKeyID
	}
	res, ierr := s.work.ImportUpload(r.Context(), ia, u, validOnly, nil)
	if res == nil {
		return ierr
	}
	d := s.pageData(r, "Import", "products")
	d.Data = importResultPage(token, u, res, ierr)
	return s.render(w, http.StatusOK, "import", d)
}

// importSource reads the source chosen on the import form: "" (the
// format's default), a connector id, or "new" with the name typed beside.
func importSource(r *http.Request) (string, error) {
	source := strings.TrimSpace(r.FormValue("source"))
	if source != "new" {
		return source, nil
	}
	name := strings.TrimSpace(r.FormValue("source_name"))
	switch {
	case name == "":
		return "", phantomos.Errorf(phantomos.EINVALID, "Name the new source (the store the file comes from).")
	case len(name) > 100:
		return "", phantomos.Errorf(phantomos.EINVALID, "The source name is longer than 100 characters.")
	}
	return name, nil
}

// handleImportErrors downloads the error report of a previewed upload.
func (s *Server) handleImportErrors(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	var name string
	var errs []ingest.RowError
	if job := r.URL.Query().Get("job"); job != "" {
		// A job's report is its import's: every row it refused.
		j, err := s.importJob(r, job)
		if err != nil {
			return err
		}
		var res importJSON
		if len(j.Result) > 0 {
			if err := json.Unmarshal(j.Result, &res); err != nil {
				return err
			}
		}
		name, errs = j.FileName, res.Errors
	} else {
		u, err := s.loadUpload(r.Context(), r.URL.Query().Get("token"), a.PublisherID)
		if err != nil {
			return err
		}
		name, errs = u.FileName, u.Errors
	}
	var buf bytes.Buffer
	if err := ingest.WriteErrorReport(&buf, errs); err != nil {
		return err
	}
	return sendCSV(w, strings.TrimSuffix(name, filepath.Ext(name))+"-errors.csv", buf.Bytes(), nil)
}
