package web

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/store"
)

// An install started from a platform (its app store) before anyone signed
// in: the platform's callback exchanges the code and hands the credentials
// to Host.Park, which seals them and parks them in the database; the browser gets only a random token (in installCookie) that
// finds them. After signing in or creating an organization the person
// claims the store, once, for their organization.

// installCookie holds the token of the browser's pending install.
const installCookie = "phantomos_install"

// pendingInstallTTL is how long a parked install waits to be claimed.
const pendingInstallTTL = time.Hour

// claimPath is where a pending install is confirmed.
const claimPath = "/connectors/claim"

// sealLabel binds a parked install's ciphertext to its token.
func sealLabel(token string) string { return "pending install\x00" + store.InstallTokenHash(token) }

// parkInstall keeps the credentials of an anonymous install (its callback
// already verified: signature, state, account) sealed server-side until
// the install expires, and sends the browser to sign in (or sign up) and
// claim them.
func (s *Server) parkInstall(w http.ResponseWriter, r *http.Request, p platform.Platform, cr platform.Credentials) error {
	if s.conn == nil {
		return errNoConnectors
	}
	b := make([]byte, 32)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	ct, keyID, err := s.conn.vault.Seal(sealLabel(token), cr)
	if err != nil {
		return err
	}
	exp := s.now().Add(pendingInstallTTL)
	if err := s.store.ParkInstall(r.Context(), token, store.PendingInstall{Platform: p.Info().Type, Account: cr.Account(),
		Ciphertext: ct, KeyID: keyID, ExpiresAt: exp}); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: installCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.cfg.SecureCookies() || r.TLS != nil, MaxAge: int(pendingInstallTTL.Seconds())})
	s.logger.Info("install parked until claimed", slog.String("platform", p.Info().Type), slog.String("account", cr.Account()))
	// Signed in already: straight to the confirmation; otherwise the guard
	// sends the browser to sign in and back.
	http.Redirect(w, r, claimPath, http.StatusSeeOther)
	return nil
}

func clearInstallCookie(w http.ResponseWriter, r *http.Request, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: installCookie, Value: "", Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: secure || r.TLS != nil, MaxAge: -1})
}

// hasPendingInstall reports whether the browser carries a pending install.
func hasPendingInstall(r *http.Request) bool {
	c, err := r.Cookie(installCookie)
	return err == nil && c.Value != ""
}

type claimPage struct {
	Platform     string
	Shop         string
	Organization string
}

// handleClaimPage asks the signed-in person to link the store they
// installed the app on to their organization.
func (s *Server) handleClaimPage(w http.ResponseWriter, r *http.Request) error {
	c, err := r.Cookie(installCookie)
	if err != nil || c.Value == "" {
		return phantomos.Errorf(phantomos.ENOTFOUND, "There is no store installation waiting in this browser: install the app from your store's platform again, or connect a store from Connectors.")
	}
	typ, shop, err := s.store.PendingInstallAccount(r.Context(), c.Value)
	if err != nil {
		return err
	}
	name := typ
	if p, ok := s.platform(typ); ok {
		name = p.Info().Name
	}
	a := phantomos.ActorFrom(r.Context())
	pub, err := s.store.Publisher(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	data := s.pageData(r, "Link your "+name+" store", "connectors")
	data.Data = claimPage{Platform: name, Shop: shop, Organization: pub.Name}
	return s.render(w, http.StatusOK, "connector_claim", data)
}

// handleClaim links the pending install to the signed-in person's
// organization: its credentials are claimed (once), stored on the store's
// connector (created if new) and tested, and the first sync starts.
func (s *Server) handleClaim(w http.ResponseWriter, r *http.Request) error {
	if s.conn == nil {
		return errNoConnectors
	}
	c, err := r.Cookie(installCookie)
	if err != nil || c.Value == "" {
		return phantomos.Errorf(phantomos.ENOTFOUND, "There is no store installation waiting in this browser: install the app from your store's platform again, or connect a store from Connectors.")
	}
	p, err := s.store.ClaimInstall(r.Context(), c.Value)
	clearInstallCookie(w, r, s.cfg.SecureCookies())
	if err != nil {
		return err
	}
	pl, ok := s.platform(p.Platform)
	if !ok {
		return phantomos.Errorf(phantomos.EINVALID, "This installation is for a platform this server does not connect.")
	}
	var raw json.RawMessage
	if err := s.conn.vault.Open(sealLabel(c.Value), p.Ciphertext, p.KeyID, &raw); err != nil {
		return err
	}
	cr, err := pl.Decode(raw)
	clear(raw)
	if err != nil {
		return err
	}
	conn, err := s.connectStore(r, pl, cr, "")
	if err != nil {
		return err
	}
	a := phantomos.ActorFrom(r.Context())
	s.audit(r, a.PublisherID, "connector.install_claimed", cr.Account(), map[string]any{"type": p.Platform})
	http.Redirect(w, r, "/connectors/"+conn.ID+"/setup", http.StatusSeeOther)
	return nil
}
