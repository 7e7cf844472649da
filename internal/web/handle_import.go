package web

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/api"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/ingest"
)

// maxUpload bounds an uploaded file (the body limit of the server).
const maxUpload = 32 << 20

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

type importJSON struct {
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

func toImportJSON(res *ingest.Result) importJSON {
	out := importJSON{RunID: res.RunID, Kind: string(res.Kind), Format: res.Format, Source: res.Source, DryRun: res.DryRun,
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
			s.retagAfterImport(r.Context(), a.PublisherID, kind, res)
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

// An upload waits in the server's temporary folder between its preview and
// the confirmation, bound to the publisher that sent it.
type upload struct {
	Publisher phantomos.PublisherID `json:"publisher"`
	Kind      ingest.Kind           `json:"kind"`
	Format    string                `json:"format"`
	FileName  string                `json:"file_name"`
	Created   time.Time             `json:"created"`
	Rows      int64                 `json:"rows"` // read by the preview: the total a background import counts towards
	Errors    []ingest.RowError     `json:"errors"`
	// Source is the connector (id) or source name chosen for the file;
	// "" takes the format's default.
	Source string `json:"source"`
	// OrdersChanged is how many stored orders the preview found the file
	// changes: the import then needs an explicit confirmation.
	OrdersChanged int64 `json:"orders_changed"`
}

const uploadTTL = time.Hour

func uploadDir() string { return filepath.Join(os.TempDir(), "phantomos-uploads") }

// uploadPath returns the data and metadata files of token, refusing
// tokens that are not ours (no path tricks).
func uploadPath(token string) (data, meta string, err error) {
	if len(token) != 43 || strings.ContainsAny(token, "./\\") {
		return "", "", phantomos.Errorf(phantomos.ENOTFOUND, "This upload has expired. Upload the file again.")
	}
	base := filepath.Join(uploadDir(), auth.HashToken(token))
	return base + ".data", base + ".json", nil
}

func loadUpload(token string, pub phantomos.PublisherID) (*upload, string, error) {
	data, meta, err := uploadPath(token)
	if err != nil {
		return nil, "", err
	}
	b, err := os.ReadFile(meta)
	expired := phantomos.Errorf(phantomos.ENOTFOUND, "This upload has expired. Upload the file again.")
	if err != nil {
		return nil, "", expired
	}
	var u upload
	if err := json.Unmarshal(b, &u); err != nil || u.Publisher != pub || time.Since(u.Created) > uploadTTL {
		return nil, "", expired
	}
	return &u, data, nil
}

// sweepUploads removes uploads older than uploadTTL.
func sweepUploads() {
	entries, _ := os.ReadDir(uploadDir())
	for _, e := range entries {
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > uploadTTL {
			os.Remove(filepath.Join(uploadDir(), e.Name()))
		}
	}
}

type importPage struct {
	Token    string
	Upload   *upload
	Result   importJSON
	Done     bool
	Message  string
	Valid    int64
	ErrorMsg string
	Job      *importProgress // a background import still running
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
	sweepUploads()
	if err := os.MkdirAll(uploadDir(), 0o700); err != nil {
		return err
	}
	token := auth.NewToken()
	data, meta, _ := uploadPath(token)
	out, err := os.OpenFile(data, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, io.LimitReader(f, maxUpload)); err != nil {
		out.Close()
		os.Remove(data)
		return err
	}
	out.Close()
	in, err := os.Open(data)
	if err != nil {
		return err
	}
	res, ierr := ingest.Import(r.Context(), s.store, a.PublisherID, kind, format, in, ingest.Options{DryRun: true, FileName: h.Filename, Source: source})
	in.Close()
	if res == nil {
		os.Remove(data)
		return ierr
	}
	u := upload{Publisher: a.PublisherID, Kind: kind, Format: res.Format, FileName: h.Filename, Created: time.Now(), Rows: res.Seen, Errors: res.Errors,
		Source: source, OrdersChanged: res.OrdersChanged}
	b, _ := json.Marshal(u)
	if err := os.WriteFile(meta, b, 0o600); err != nil {
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
	u, data, err := loadUpload(token, a.PublisherID)
	if err != nil {
		return err
	}
	validOnly := r.PostFormValue("valid_only") == "true"
	if u.OrdersChanged > 0 && r.PostFormValue("update_existing") != "true" {
		return phantomos.Errorf(phantomos.EINVALID, "This file changes %d orders already stored: tick “Update the existing orders” to import it, or upload it again with another source if it belongs to another store.", u.OrdersChanged)
	}
	if u.Rows >= s.imports.backgroundRows {
		return s.startImportJob(w, r, token, u, data, validOnly)
	}
	res, ierr := s.runImport(r.Context(), r, token, u, data, validOnly, nil)
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
	u, _, err := loadUpload(r.URL.Query().Get("token"), a.PublisherID)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := ingest.WriteErrorReport(&buf, u.Errors); err != nil {
		return err
	}
	return sendCSV(w, strings.TrimSuffix(u.FileName, filepath.Ext(u.FileName))+"-errors.csv", buf.Bytes(), nil)
}
