package web

import (
	"net/http"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/demo"
)

// handleDemoCopy makes the visitor a private copy of the demo publisher,
// which they own, and signs them in to it: the shared demo is read-only,
// while a copy lets a visitor review tags, import files, invite a teammate
// or change settings without touching anyone else's demo. Copies expire
// (demo.CopyLifetime), their number is bounded (demo.MaxCopies) and each
// network may make only a few (the sign-up throttle), since each is a
// tenant with its own data.
func (s *Server) handleDemoCopy(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.Demo {
		return phantomos.Errorf(phantomos.ENOTFOUND, "The demo is not enabled on this server.")
	}
	ip := clientIP(r)
	if _, ok := throttled(w, s.signupByIP.Reserve(ip)); ok {
		return phantomos.Errorf(phantomos.ERATELIMIT, "Too many demo copies from your network. Try again later, or explore the shared demo.")
	}
	pub, owner, err := demo.LoadCopy(r.Context(), s.store, s.now(), s.demoCopySales)
	if err != nil {
		return err
	}
	if err := s.startSession(w, r, owner); err != nil {
		return err
	}
	s.auditAs(r, owner, "demo.copy", map[string]any{"publisher": pub.Slug, "expires_at": pub.Settings.ExpiresAt})
	http.Redirect(w, r, "/overview", http.StatusSeeOther)
	return nil
}
