package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/shopify"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// installApp installs the public app through the wizard and returns the
// connector id after its first sync.
func (h *shop) installApp() string {
	h.t.Helper()
	resp, body := h.send(http.MethodGet, h.install(nil, nil), nil, nil)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "/setup") {
		h.t.Fatalf("callback: %d %s\n%.500s", resp.StatusCode, loc, body)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(loc, "/connectors/"), "/setup")
	if run := h.waitSync(id, 1); run.State != store.SyncSucceeded {
		h.t.Fatalf("first sync after install: %+v", run)
	}
	return id
}

func (h *shop) credentials(id string) shopify.Credentials {
	h.t.Helper()
	var cr shopify.Credentials
	if err := h.srv.conn.vault.Load(context.Background(), connector.Target{Publisher: h.a.pub.ID, ConnectorID: id}, &cr); err != nil {
		h.t.Fatal(err)
	}
	return cr
}

// TestShopifyExpiringTokens: the install asks for an expiring offline
// token and stores its refresh token sealed; an expired access token is
// refreshed (on Shopify's 401, and before expiry); two processes that
// refresh at once send one refresh request and both end with the new
// token; a revoked refresh token puts the connector in its error state
// with Reconnect.
func TestShopifyExpiringTokens(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := newShop(t, s, true, "")
		id := h.installApp()
		target := connector.Target{Publisher: h.a.pub.ID, ConnectorID: id}
		h.check(id)

		cr := h.credentials(id)
		if cr.Mode != shopify.ModeOAuth || !strings.HasPrefix(cr.RefreshToken, "shprt_") ||
			time.Until(cr.ExpiresAt) < 55*time.Minute || time.Until(cr.ExpiresAt) > time.Hour ||
			time.Until(cr.RefreshExpiresAt) < 89*24*time.Hour {
			t.Fatalf("credentials after install are not an expiring offline token with its refresh token: %+v", cr)
		}
		var raw []byte
		s.DB().QueryRow(`SELECT credentials FROM connectors WHERE id = $1`, id).Scan(&raw)
		if strings.Contains(string(raw), cr.RefreshToken) || strings.Contains(string(raw), cr.AccessToken) {
			t.Errorf("tokens stored in clear")
		}

		// Expired: Shopify answers 401, the client refreshes and the sync
		// goes on.
		h.fake.ExpireAccessTokens()
		h.send(http.MethodPost, "/connectors/"+id+"/sync", url.Values{}, nil)
		if run := h.waitSync(id, 2); run.State != store.SyncSucceeded {
			t.Fatalf("sync with an expired token: %+v", run)
		}
		if n := h.fake.TokenRequests("refresh_token"); n != 1 {
			t.Errorf("%d refresh requests after one expiry, want 1", n)
		}
		after := h.credentials(id)
		if after.AccessToken == cr.AccessToken || after.RefreshToken == cr.RefreshToken || after.RefreshToken == "" {
			t.Errorf("refresh did not store the new tokens: %+v", after)
		}
		if c, _ := s.Connector(ctx, h.a.pub.ID, id); c.Status != store.ConnectorActive {
			t.Errorf("status after refresh: %s", c.Status)
		}

		// Before expiry: a process whose clock says the token lapses within
		// minutes refreshes before sending it.
		late := &shopify.StoredTokens{Vault: h.srv.conn.vault, Target: target, App: h.app,
			Now: func() time.Time { return time.Now().Add(58 * time.Minute) }}
		tok, err := late.Token(ctx)
		if err != nil || tok == after.AccessToken || h.fake.TokenRequests("refresh_token") != 2 {
			t.Fatalf("token about to expire: got %q, %v, %d refresh requests", tok, err, h.fake.TokenRequests("refresh_token"))
		}

		// Two processes (separate vaults on one database) both find the
		// token refused at once: one refresh request; both end with the
		// new token, and the loser never spends the used refresh token.
		h.fake.ExpireAccessTokens()
		stale := h.credentials(id).AccessToken
		other := connector.NewVault(h.keys, s)
		procs := []*shopify.StoredTokens{
			{Vault: h.srv.conn.vault, Target: target, App: h.app, Poll: 5 * time.Millisecond},
			{Vault: other, Target: target, App: h.app, Poll: 5 * time.Millisecond},
		}
		var wg sync.WaitGroup
		got := make([]string, len(procs))
		errs := make([]error, len(procs))
		start := make(chan struct{})
		for i, p := range procs {
			wg.Go(func() {
				<-start
				got[i], errs[i] = p.Refresh(ctx, stale)
			})
		}
		close(start)
		wg.Wait()
		if errs[0] != nil || errs[1] != nil || got[0] != got[1] || got[0] == stale {
			t.Fatalf("concurrent refresh: %q %v, %q %v", got[0], errs[0], got[1], errs[1])
		}
		if n := h.fake.TokenRequests("refresh_token"); n != 3 {
			t.Errorf("%d refresh requests in all, want 3 (one for the two concurrent refreshers)", n)
		}
		if now := h.credentials(id).AccessToken; now != got[0] {
			t.Errorf("stored token %q, refreshers got %q", now, got[0])
		}

		// Revoked: the refresh is refused, the connector waits for Reconnect.
		h.fake.RevokeRefreshTokens()
		h.fake.ExpireAccessTokens()
		h.send(http.MethodPost, "/connectors/"+id+"/sync", url.Values{}, nil)
		if run := h.waitSync(id, 3); run.State != store.SyncFailed {
			t.Fatalf("sync with a revoked refresh token: %+v", run)
		}
		c, _ := s.Connector(ctx, h.a.pub.ID, id)
		if c.Status != store.ConnectorError || !strings.Contains(c.LastError, "reconnect") {
			t.Errorf("connector after a revoked refresh token: %q %q", c.Status, c.LastError)
		}
		_, page := h.send(http.MethodGet, "/connectors/"+id, nil, nil)
		if !strings.Contains(page, `href="/connectors/`+id+`/reconnect"`) {
			t.Errorf("connector page offers no Reconnect after a revoked refresh token")
		}
	})
}

// TestShopifyClientCredentials connects a Dev Dashboard app with its
// client ID and secret: a token is requested at once and again when it
// expires; a wrong secret is refused with a message; the wizard no longer
// tells merchants to create custom apps in their admin.
func TestShopifyClientCredentials(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newShop(t, s, false, "")
		_, page := h.send(http.MethodGet, "/connectors/new/shopify", nil, nil)
		if !strings.Contains(page, "Dev Dashboard") || !strings.Contains(page, `name="client_secret"`) || !strings.Contains(page, "legacy custom app") ||
			strings.Contains(page, "Develop apps → Create an app") {
			t.Errorf("the connect step does not offer a Dev Dashboard app and a legacy token:\n%s", page)
		}
		form := url.Values{"method": {"client_credentials"}, "shop": {h.fake.Shop()}, "client_id": {h.fake.ClientID()}, "client_secret": {"not-the-secret"}}
		if resp, body := h.send(http.MethodPost, "/connectors/shopify", form, nil); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "invalid_client") {
			t.Errorf("wrong client secret: %d\n%.300s", resp.StatusCode, body)
		}
		form.Set("client_secret", h.fake.ClientSecret())
		id := h.connectWithToken(form)
		if run := h.waitSync(id, 1); run.State != store.SyncSucceeded {
			t.Fatalf("first sync: %+v", run)
		}
		h.check(id)
		cr := h.credentials(id)
		if cr.Mode != shopify.ModeClientCredentials || cr.ExpiresAt.IsZero() || cr.WebhookSecret != h.fake.ClientSecret() {
			t.Errorf("stored credentials: %+v", cr)
		}
		h.fake.ExpireAccessTokens()
		h.send(http.MethodPost, "/connectors/"+id+"/sync", url.Values{}, nil)
		if run := h.waitSync(id, 2); run.State != store.SyncSucceeded {
			t.Fatalf("sync after the token expired: %+v", run)
		}
		if n := h.fake.TokenRequests("client_credentials"); n != 2 {
			t.Errorf("%d client-credentials requests, want 2", n)
		}
		if h.credentials(id).AccessToken == cr.AccessToken {
			t.Errorf("the expired token was not replaced")
		}
	})
}
