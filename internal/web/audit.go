package web

import (
	"net/http"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// audit appends an entry for the request's actor to its publisher's audit
// log. A failure to audit is logged, not shown: the action already happened.
func (s *Server) audit(r *http.Request, pub phantomos.PublisherID, action, target string, details map[string]any) {
	e := store.AuditEntry{Action: action, Target: target, IP: clientIP(r), Details: details}
	if a := phantomos.ActorFrom(r.Context()); a != nil {
		e.ActorID, e.Actor = a.UserID, a.Email
		if a.APIKeyID != "" {
			e.Actor = "api key " + a.APIKeyID
		}
	}
	if err := s.store.Audit(r.Context(), pub, e); err != nil {
		s.logger.Error("audit", "request_id", RequestID(r.Context()), "action", action, "err", err)
	}
}

// auditAs is audit for requests without an actor yet (sign-in, sign-up,
// accepting an invitation): the user is named explicitly.
func (s *Server) auditAs(r *http.Request, u *phantomos.User, action string, details map[string]any) {
	e := store.AuditEntry{ActorID: u.ID, Actor: u.Email, Action: action, Target: u.Email, IP: clientIP(r), Details: details}
	if err := s.store.Audit(r.Context(), u.PublisherID, e); err != nil {
		s.logger.Error("audit", "request_id", RequestID(r.Context()), "action", action, "err", err)
	}
}
