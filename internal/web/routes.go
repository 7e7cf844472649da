package web

import (
	"net/http"

	"github.com/phantomos/phantomos"
)

// Route is one registered pattern and the permission it needs.
type Route struct {
	Pattern string
	Perm    phantomos.Permission
	handler handlerFunc
}

// Routes lists every route of the server: the whole HTTP surface and its
// access rules. Tests walk it for every role and publisher.
func (s *Server) Routes() []Route { return s.routes() }

func (s *Server) routes() []Route {
	const (
		public = phantomos.PermPublic
		view   = phantomos.PermView
		team   = phantomos.PermTeam
	)
	return []Route{
		// Operations.
		{"GET /healthz", public, s.handleHealthz},
		{"GET /readyz", public, s.handleReadyz},
		{"GET /metrics", public, s.handleMetrics},

		// Sign-in.
		{"GET /{$}", public, s.handleRoot},
		{"GET /login", public, s.handleLoginPage},
		{"POST /login", public, s.handleLogin},
		{"POST /login/demo", public, s.handleDemoLogin},
		{"POST /logout", public, s.handleLogout},

		// Application pages.
		{"GET /overview", view, s.handleOverview},
		{"GET /intelligence", view, s.handleIntelligence},
		{"GET /products", view, s.handleProducts},
		{"GET /connectors", view, s.handleConnectors},
		{"GET /settings/{$}", view, s.handleSettingsIndex},
		{"GET /settings/profile", view, s.handleProfile},
		{"GET /settings/team", team, s.handleTeam},

		// JSON API.
		{"GET /api/openapi.json", public, s.api.HandleOpenAPI},
		{"GET /api/v1/me", view, s.api.HandleMe},
		{"GET /api/analytics", view, s.api.HandleAnalytics},
	}
}

func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request) error {
	target := "/login"
	if phantomos.ActorFrom(r.Context()) != nil {
		target = "/overview"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
	return nil
}

func (s *Server) handleSettingsIndex(w http.ResponseWriter, r *http.Request) error {
	http.Redirect(w, r, "/settings/profile", http.StatusSeeOther)
	return nil
}
