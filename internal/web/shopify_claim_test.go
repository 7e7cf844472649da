package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// browse makes a request with exactly these cookies (none: anonymous),
// same-origin for a POST, and returns the response (not following
// redirects) and its body.
func (h *shop) browse(method, path string, form url.Values, cookies ...*http.Cookie) (*http.Response, string) {
	h.t.Helper()
	var body io.Reader
	if method != http.MethodGet {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, h.ts.URL+path, body)
	if method != http.MethodGet {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", h.ts.URL)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func responseCookie(resp *http.Response, name string) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == name && c.Value != "" {
			return c
		}
	}
	return nil
}

// anonymousInstall starts the install from Shopify's side with no
// PhantomOS session and returns the callback path after the consent.
func (h *shop) anonymousInstall() string {
	h.t.Helper()
	resp, body := h.browse(http.MethodGet, "/connectors/shopify/install?"+h.fake.InstallQuery().Encode(), nil)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, h.fake.URL+"/admin/oauth/authorize?") {
		h.t.Fatalf("install link without a session: %d %s\n%.300s", resp.StatusCode, loc, body)
	}
	return h.consent(loc)
}

// TestShopifyInstallWithoutSession: an install started from Shopify by
// someone not signed in verifies Shopify's signature, goes through OAuth,
// and parks the sealed credentials server-side (the browser holds only a
// random token); the person then creates an organization (or signs in)
// and the store is linked to it, once.
func TestShopifyInstallWithoutSession(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := newShop(t, s, true, "")

		bad := h.fake.InstallQuery()
		bad.Set("shop", "other-shop.myshopify.com")
		if resp, _ := h.browse(http.MethodGet, "/connectors/shopify/install?"+bad.Encode(), nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("install link with a broken signature: %d", resp.StatusCode)
		}

		callback := h.anonymousInstall()
		tampered := strings.Replace(callback, "code=", "code=x", 1)
		if resp, _ := h.browse(http.MethodGet, tampered, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("tampered anonymous callback: %d", resp.StatusCode)
		}
		resp, body := h.browse(http.MethodGet, callback, nil)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/connectors/claim" {
			t.Fatalf("anonymous callback: %d %s\n%.300s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		pending := responseCookie(resp, "phantomos_install")
		if pending == nil || !pending.HttpOnly || pending.MaxAge <= 0 || strings.Contains(pending.Value, "shp") {
			t.Fatalf("pending install cookie: %+v", pending)
		}
		var n int
		var sealed []byte
		s.DB().QueryRow(`SELECT COUNT(*) FROM pending_installs`).Scan(&n)
		s.DB().QueryRow(`SELECT credentials FROM pending_installs`).Scan(&sealed)
		if n != 1 || strings.Contains(string(sealed), "shpua_") || strings.Contains(string(sealed), "shprt_") {
			t.Fatalf("%d pending installs; credentials sealed: %v", n, !strings.Contains(string(sealed), "shp"))
		}
		if resp, _ := h.browse(http.MethodGet, callback, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("replayed anonymous callback: %d", resp.StatusCode)
		}

		// Not signed in: to the sign-in page, and back.
		resp, _ = h.browse(http.MethodGet, "/connectors/claim", nil, pending)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/login?next="+url.QueryEscape("/connectors/claim") {
			t.Errorf("claim without a session: %d %s", resp.StatusCode, loc)
		}
		// A new organization: sign-up leads to the claim.
		resp, body = h.browse(http.MethodPost, "/signup", url.Values{"organization": {"Nova Games"}, "name": {"Ada"},
			"email": {"ada@nova.example"}, "password": {"correct horse battery staple"}}, pending)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/connectors/claim" {
			t.Fatalf("sign-up with a pending install: %d %s\n%.300s", resp.StatusCode, resp.Header.Get("Location"), body)
		}
		session := responseCookie(resp, sessionCookie)
		_, page := h.browse(http.MethodGet, "/connectors/claim", nil, session, pending)
		if !strings.Contains(page, h.fake.Shop()) || !strings.Contains(page, "Nova Games") || !strings.Contains(page, `id="claim-store"`) {
			t.Errorf("claim page:\n%.800s", page)
		}
		resp, body = h.browse(http.MethodPost, "/connectors/claim", url.Values{}, session, pending)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "/setup") {
			t.Fatalf("claim: %d %s\n%.300s", resp.StatusCode, loc, body)
		}
		if c := responseCookie(resp, "phantomos_install"); c != nil {
			t.Errorf("the pending install cookie was not cleared")
		}
		id := strings.TrimSuffix(strings.TrimPrefix(loc, "/connectors/"), "/setup")
		pub, err := s.PublisherBySlug(ctx, "nova-games")
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.Connector(ctx, pub.ID, id)
		if err != nil {
			t.Fatalf("the store is not linked to the new organization: %v", err)
		}
		for range 400 {
			if runs, _ := s.SyncRuns(ctx, pub.ID, id, 5); len(runs) == 1 && runs[0].State != store.SyncRunning {
				if runs[0].State != store.SyncSucceeded {
					t.Fatalf("first sync: %+v", runs[0])
				}
				break
			}
			time.Sleep(25 * time.Millisecond)
		}
		var lines int64
		s.DB().QueryRow(`SELECT COUNT(*) FROM sales WHERE publisher_id = $1 AND connector_id = $2`, pub.ID, c.ID).Scan(&lines)
		if lines != h.wantLines {
			t.Errorf("%d sale lines synced for the claimed store, want %d", lines, h.wantLines)
		}
		// Claimed once.
		if resp, _ := h.browse(http.MethodPost, "/connectors/claim", url.Values{}, session, pending); resp.StatusCode != http.StatusNotFound {
			t.Errorf("second claim of one install: %d, want 404", resp.StatusCode)
		}
		if s.DB().QueryRow(`SELECT COUNT(*) FROM pending_installs`).Scan(&n); n != 0 {
			t.Errorf("%d pending installs left after the claim", n)
		}

		// Signed in to an existing organization (as an admin): claimed there.
		callback = h.anonymousInstall()
		resp, _ = h.browse(http.MethodGet, callback, nil)
		pending = responseCookie(resp, "phantomos_install")
		// An analyst of that organization cannot link stores.
		analyst := cookie(t, s, h.a.users[phantomos.RoleAnalyst])
		if resp, _ := h.browse(http.MethodPost, "/connectors/claim", url.Values{}, analyst, pending); resp.StatusCode != http.StatusForbidden {
			t.Errorf("claim by an analyst: %d", resp.StatusCode)
		}
		resp, body = h.browse(http.MethodPost, "/connectors/claim", url.Values{}, h.admin, pending)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("claim by a signed-in admin: %d\n%.300s", resp.StatusCode, body)
		}
		id2 := strings.TrimSuffix(strings.TrimPrefix(resp.Header.Get("Location"), "/connectors/"), "/setup")
		if _, err := s.Connector(ctx, h.a.pub.ID, id2); err != nil {
			t.Errorf("the store is not linked to the signed-in admin's organization: %v", err)
		}
		h.waitSync(id2, 1)
	})
}
