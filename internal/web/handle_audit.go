package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/csvexport"
	"github.com/phantomos/phantomos/internal/store"
)

type auditPage struct {
	Entries []store.AuditEntry
	Older   string // "before" cursor of the next page, empty at the end
}

const auditPageSize = 100

func (s *Server) handleAudit(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	var before time.Time
	if b := r.URL.Query().Get("before"); b != "" {
		t, err := time.Parse(time.RFC3339Nano, b)
		if err != nil {
			return phantomos.Errorf(phantomos.EINVALID, "before=%q is not an RFC 3339 time.", b)
		}
		before = t
	}
	entries, err := s.store.AuditLog(r.Context(), a.PublisherID, before, auditPageSize)
	if err != nil {
		return err
	}
	p := auditPage{Entries: entries}
	if len(entries) == auditPageSize {
		p.Older = entries[len(entries)-1].At.Format(time.RFC3339Nano)
	}
	data := s.pageData(r, "Audit log", "settings")
	data.Data = p
	return s.render(w, http.StatusOK, "audit", data)
}

// handleAuditCSV exports the whole audit log as CSV, newest first.
func (s *Server) handleAuditCSV(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	var buf bytes.Buffer
	cw := csvexport.NewWriter(&buf)
	cw.Write([]string{"at", "actor", "action", "target", "ip", "details"})
	var before time.Time
	for {
		entries, err := s.store.AuditLog(r.Context(), a.PublisherID, before, 1000)
		if err != nil {
			return err
		}
		for _, e := range entries {
			details, _ := json.Marshal(e.Details)
			cw.Write([]string{e.At.UTC().Format(time.RFC3339), e.Actor, e.Action, e.Target, e.IP, string(details)})
		}
		if len(entries) < 1000 {
			break
		}
		before = entries[len(entries)-1].At
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="audit-log.csv"`)
	w.Write(buf.Bytes())
	return nil
}
