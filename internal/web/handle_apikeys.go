package web

import (
	"net/http"
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/store"
)

type apiKeysPage struct {
	Keys    []apiKeyRow
	Scopes  map[string]string // key id → scope
	Roles   []phantomos.Role
	Created string // the new key, shown once
	Name    string
	Error   string
}

func (s *Server) renderAPIKeys(w http.ResponseWriter, r *http.Request, status int, p apiKeysPage) error {
	a := phantomos.ActorFrom(r.Context())
	keys, err := s.store.APIKeys(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	for _, k := range keys {
		p.Keys = append(p.Keys, apiKeyRow{APIKey: k, CanRevoke: mayManageKey(a, k)})
	}
	if p.Scopes, err = s.store.APIKeyScopes(r.Context(), a.PublisherID); err != nil {
		return err
	}
	for _, role := range phantomos.Roles {
		if a.Role.AtLeast(role) {
			p.Roles = append(p.Roles, role)
		}
	}
	data := s.pageData(r, "API keys", "settings")
	data.Data = p
	return s.render(w, status, "apikeys", data)
}

func (s *Server) handleAPIKeys(w http.ResponseWriter, r *http.Request) error {
	return s.renderAPIKeys(w, r, http.StatusOK, apiKeysPage{})
}

// apiKeyPrefix starts every key, so leaked keys are recognisable by secret
// scanners.
const apiKeyPrefix = "phk_"

// handleAPIKeyCreate creates a key with a role no higher than the creator's
// and shows it once; only its hash is stored.
func (s *Server) handleAPIKeyCreate(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	name := strings.TrimSpace(r.PostFormValue("name"))
	fail := func(status int, msg string) error {
		return s.renderAPIKeys(w, r, status, apiKeysPage{Name: name, Error: msg})
	}
	role, err := phantomos.ParseRole(r.PostFormValue("role"))
	if err != nil {
		return formError(err, fail)
	}
	scope := phantomos.ScopeFull
	switch r.PostFormValue("scope") {
	case "", phantomos.ScopeFull:
	case phantomos.ScopeIngest:
		// An ingest key writes sales and products, which needs the member
		// role, and can do nothing else whatever its role.
		scope, role = phantomos.ScopeIngest, phantomos.RoleMember
	default:
		return fail(http.StatusUnprocessableEntity, "Choose the key's scope: full or ingest.")
	}
	if !a.Role.AtLeast(role) {
		return fail(http.StatusForbidden, "A key cannot have a role above your own.")
	}
	if name == "" || len(name) > 100 {
		return fail(http.StatusUnprocessableEntity, "Give the key a name (up to 100 characters) that says where it is used.")
	}
	token := apiKeyPrefix + auth.NewToken()
	prefix := token[:len(apiKeyPrefix)+6]
	id, err := s.store.CreateAPIKey(r.Context(), a.PublisherID, a.UserID, name, prefix, auth.HashToken(token), role)
	if err != nil {
		return err
	}
	if scope != phantomos.ScopeFull {
		if err := s.store.SetAPIKeyScope(r.Context(), a.PublisherID, id, scope); err != nil {
			return err
		}
	}
	s.audit(r, a.PublisherID, "apikey.create", id, map[string]any{"name": name, "role": string(role), "scope": scope, "prefix": prefix})
	return s.renderAPIKeys(w, r, http.StatusOK, apiKeysPage{Created: token})
}

// apiKeyRow is a key as the list shows it: whether the viewer may revoke it.
type apiKeyRow struct {
	store.APIKey
	CanRevoke bool
}

// mayManageKey reports whether actor a may revoke key k: their own keys
// always, others only when neither the key's role nor its user's current
// role is above a's, so an admin cannot touch an owner's keys.
func mayManageKey(a *phantomos.Actor, k store.APIKey) bool {
	if a.UserID != "" && k.UserID == a.UserID {
		return true
	}
	return a.Role.AtLeast(k.Role) && (k.UserRole == "" || a.Role.AtLeast(k.UserRole))
}

func (s *Server) handleAPIKeyRevoke(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	id := r.PathValue("id")
	k, err := s.store.APIKey(r.Context(), a.PublisherID, id)
	if err != nil {
		return err
	}
	if !mayManageKey(a, k) {
		return phantomos.Errorf(phantomos.EFORBIDDEN, "Only an owner can revoke an owner's API key.")
	}
	if err := s.store.RevokeAPIKey(r.Context(), a.PublisherID, id); err != nil {
		return err
	}
	s.audit(r, a.PublisherID, "apikey.revoke", id, nil)
	http.Redirect(w, r, "/settings/api-keys", http.StatusSeeOther)
	return nil
}
