package web

import (
	"crypto/rand"
	"encoding/base64"
	"log/slog"
	"net/http"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector/shopify"
	"github.com/phantomos/phantomos/internal/store"
)

// An install started from Shopify before anyone signed in: the callback
// exchanges the code, seals the credentials and parks them in the
// database; the browser gets only a random token (in installCookie) that
// finds them. After signing in or creating an organization the person
// claims the store, once, for their organization.

// installCookie holds the token of the browser's pending install.
const installCookie = "phantomos_install"

// pendingInstallTTL is how long a parked install waits to be claimed.
const pendingInstallTTL = time.Hour

// claimPath is where a pending install is confirmed.
const claimPath = "/connectors/shopify/claim"

// sealLabel binds a parked install's ciphertext to its token.
func sealLabel(token string) string { return "pending install\x00" + store.InstallTokenHash(token) }

// parkShopifyInstall completes an anonymous install's callback (already
// verified: signature, state, shop): the code is exchanged, the
// credentials sealed and kept server-side until the install expires, and
// the browser is sent to sign in (or sign up) and claim them.
func (s *Server) parkShopifyInstall(w http.ResponseWriter, r *http.Request, app *shopify.App, st shopify.State, code string) error {
	if s.conn == nil {
		return errNoConnectors
	}
	cr, err := app.Exchange(r.Context(), st.Shop, code)
	if err != nil {
		return userError(err)
	}
	b := make([]byte, 32)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	ct, keyID, err := s.conn.vault.Seal(sealLabel(token), cr)
	if err != nil {
		return err
	}
	exp := s.now().Add(pendingInstallTTL)
	if err := s.store.ParkInstall(r.Context(), token, store.PendingInstall{Platform: phantomos.ConnectorShopify, Account: cr.Shop,
		Ciphertext: ct, KeyID: keyID, ExpiresAt: exp}); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: installCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.cfg.SecureCookies() || r.TLS != nil, MaxAge: int(pendingInstallTTL.Seconds())})
	s.logger.Info("shopify install parked until claimed", slog.String("shop", cr.Shop))
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
	Shop         string
	Organization string
}

// handleShopifyClaimPage asks the signed-in person to link the store they
// installed the app on to their organization.
func (s *Server) handleShopifyClaimPage(w http.ResponseWriter, r *http.Request) error {
	c, err := r.Cookie(installCookie)
	if err != nil || c.Value == "" {
		return phantomos.Errorf(phantomos.ENOTFOUND, "There is no store installation waiting in this browser: install the app from Shopify again, or connect a store from Connectors.")
	}
	_, shop, err := s.store.PendingInstallAccount(r.Context(), c.Value)
	if err != nil {
		return err
	}
	a := phantomos.ActorFrom(r.Context())
	pub, err := s.store.Publisher(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	data := s.pageData(r, "Link your Shopify store", "connectors")
	data.Data = claimPage{Shop: shop, Organization: pub.Name}
	return s.render(w, http.StatusOK, "connector_claim", data)
}

// handleShopifyClaim links the pending install to the signed-in person's
// organization: its credentials are claimed (once), stored on the store's
// connector (created if new) and tested, and the first sync starts.
func (s *Server) handleShopifyClaim(w http.ResponseWriter, r *http.Request) error {
	if s.conn == nil {
		return errNoConnectors
	}
	c, err := r.Cookie(installCookie)
	if err != nil || c.Value == "" {
		return phantomos.Errorf(phantomos.ENOTFOUND, "There is no store installation waiting in this browser: install the app from Shopify again, or connect a store from Connectors.")
	}
	p, err := s.store.ClaimInstall(r.Context(), c.Value)
	clearInstallCookie(w, r, s.cfg.SecureCookies())
	if err != nil {
		return err
	}
	var cr shopify.Credentials
	if p.Platform != phantomos.ConnectorShopify {
		return phantomos.Errorf(phantomos.EINVALID, "This installation is not for Shopify.")
	}
	if err := s.conn.vault.Open(sealLabel(c.Value), p.Ciphertext, p.KeyID, &cr); err != nil {
		return err
	}
	conn, err := s.connectShopify(r, cr, "")
	if err != nil {
		return err
	}
	a := phantomos.ActorFrom(r.Context())
	s.audit(r, a.PublisherID, "connector.install_claimed", cr.Shop, map[string]any{"type": "shopify"})
	http.Redirect(w, r, "/connectors/"+conn.ID+"/setup", http.StatusSeeOther)
	return nil
}
