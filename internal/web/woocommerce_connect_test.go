package web

import (
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/connector/woocommerce"
	"github.com/phantomos/phantomos/internal/connector/woocommerce/wootest"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestConnectWooCommerceAndSync goes through the wizard with WooCommerce
// against its fake: the card is live, the key form refuses plain http and
// a wrong secret, a good key connects, and the first sync ends with the
// fake's exact totals.
func TestConnectWooCommerceAndSync(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		fake := wootest.New()
		defer fake.Close()
		day := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
		for i := range 15 {
			status := []string{"processing", "completed", "cancelled"}[i%3]
			id := int64(2000 + i)
			fake.AddOrder(wootest.Order{ID: id, Status: status, Created: day.Add(time.Duration(i) * time.Hour), Paid: day, Country: "DE",
				Lines: []wootest.Line{{ID: id * 10, ProductID: 7, SKU: "PIN-1", Name: "Pin", Quantity: 2, Subtotal: 1000, Total: 900, Tax: 171}}})
		}
		fake.AddProduct(wootest.Product{ID: 7, Name: "Phantom Pin", SKU: "PIN-1", Price: 500, Modified: day})
		h := wooServer(t, s)

		_, page := h.send(http.MethodGet, "/connectors/new", nil, nil)
		if !strings.Contains(page, `href="/connectors/new/woocommerce"`) {
			t.Errorf("the WooCommerce card is not live")
		}
		_, page = h.send(http.MethodGet, "/connectors/new/woocommerce", nil, nil)
		for _, want := range []string{`action="/connectors/woocommerce"`, `name="consumer_key"`, `name="consumer_secret"`, `name="url"`} {
			if !strings.Contains(page, want) {
				t.Errorf("connect step lacks %q", want)
			}
		}
		resp, page := h.send(http.MethodPost, "/connectors/woocommerce", url.Values{"method": {woocommerce.MethodKeys}, "url": {"http://shop.example.com"},
			"consumer_key": {fake.Key}, "consumer_secret": {fake.Secret}}, nil)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "plain http") {
			t.Errorf("plain http store: %d", resp.StatusCode)
		}
		resp, _ = h.send(http.MethodPost, "/connectors/woocommerce", url.Values{"method": {woocommerce.MethodKeys}, "url": {fake.URL},
			"consumer_key": {fake.Key}, "consumer_secret": {"cs_" + strings.Repeat("7", 40)}}, nil)
		if resp.StatusCode == http.StatusSeeOther {
			t.Errorf("a wrong secret connected")
		}
		resp, body := h.send(http.MethodPost, "/connectors/woocommerce", url.Values{"method": {woocommerce.MethodKeys}, "url": {fake.URL},
			"consumer_key": {fake.Key}, "consumer_secret": {fake.Secret}}, nil)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "/setup") {
			t.Fatalf("connect: %d %s\n%.500s", resp.StatusCode, loc, body)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(loc, "/connectors/"), "/setup")
		if run := h.waitSync(id, 1); run.State != store.SyncSucceeded {
			t.Fatalf("first sync: %+v", run)
		}
		want := fake.Totals()
		var lines, net int64
		if err := s.DB().QueryRow(`SELECT COUNT(*), COALESCE(SUM(net), 0) FROM sales WHERE publisher_id = $1 AND connector_id = $2`,
			h.a.pub.ID, id).Scan(&lines, &net); err != nil {
			t.Fatal(err)
		}
		if lines != int64(want.Lines) || net != want.Net || want.Lines != 10 {
			t.Errorf("stored %d lines, net %d; the fake has %d lines, net %d", lines, net, want.Lines, want.Net)
		}
		_, page = h.send(http.MethodGet, "/connectors", nil, nil)
		if !strings.Contains(page, "WooCommerce") {
			t.Errorf("connectors page does not name the platform")
		}
		if strings.Contains(page, fake.Secret) {
			t.Errorf("the secret is shown")
		}
	})
}

// TestConnectWooCommerceKeyFlow goes through "Connect with WooCommerce":
// the wizard sends the admin to the store's grant page, Approve makes the
// store POST a new key to our callback (no session: the sealed state
// names the publisher and user), the browser comes back to the setup
// step, and the first sync ends with the fake's exact totals. The key's
// message replayed is refused; Deny, a plain-http store and a member are
// refused with the reason. On both engines.
func TestConnectWooCommerceKeyFlow(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		fake := wootest.New()
		defer fake.Close()
		day := time.Now().UTC().Add(-72 * time.Hour).Truncate(time.Second)
		for i := range 12 {
			id := int64(3000 + i)
			fake.AddOrder(wootest.Order{ID: id, Status: []string{"processing", "completed", "failed", "on-hold"}[i%4], Created: day.Add(time.Duration(i) * time.Hour), Paid: day,
				Lines: []wootest.Line{{ID: id * 10, ProductID: 7, SKU: "PIN-1", Name: "Pin", Quantity: 1 + int64(i%3), Subtotal: 1200, Total: 1100, Tax: 0}}})
		}
		fake.AddProduct(wootest.Product{ID: 7, Name: "Phantom Pin", SKU: "PIN-1", Price: 600, Modified: day})
		h := wooServer(t, s)

		_, page := h.send(http.MethodGet, "/connectors/new/woocommerce", nil, nil)
		if !strings.Contains(page, `action="/connectors/woocommerce/authorize"`) || !strings.Contains(page, "Connect with WooCommerce") {
			t.Fatalf("the connect step does not offer the key-generation flow:\n%.2000s", page)
		}
		start := func(store string, user *http.Cookie) (*http.Response, string) {
			return h.send(http.MethodPost, "/connectors/woocommerce/authorize", url.Values{"method": {woocommerce.MethodAuthorize}, "url": {store}}, user)
		}
		if resp, page := start("http://shop.example.com", nil); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "plain http") {
			t.Errorf("a plain-http store: %d", resp.StatusCode)
		}
		if resp, _ := start(fake.URL, cookie(t, s, h.a.users[phantomos.RoleMember])); resp.StatusCode != http.StatusForbidden {
			t.Errorf("a member started the flow: %d", resp.StatusCode)
		}

		// Deny: back to the connect step with the reason, nothing stored.
		resp, _ := start(fake.URL, nil)
		authURL := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(authURL, fake.URL+"/wc-auth/v1/authorize?") {
			t.Fatalf("start: %d %s", resp.StatusCode, authURL)
		}
		deny, _ := url.Parse(wooGrantLink(t, authURL, "wc-auth-deny"))
		if resp, page := h.send(http.MethodGet, deny.RequestURI(), nil, nil); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "did not approve") {
			t.Errorf("denied: %d", resp.StatusCode)
		}
		if n := len(h.connectors()); n != 0 {
			t.Fatalf("a denied flow stored %d connectors", n)
		}

		// Approve.
		resp, _ = start(fake.URL, nil)
		authURL = resp.Header.Get("Location")
		approved := wooFollow(t, wooGrantLink(t, authURL, "wc-auth-approve"))
		back := approved.Header.Get("Location")
		if approved.StatusCode != http.StatusFound || !strings.HasPrefix(back, h.ts.URL+"/connectors/woocommerce/return?") {
			t.Fatalf("approve: %d %s\nserver:", approved.StatusCode, back)
		}
		ret, _ := url.Parse(back)
		// Another member of the team cannot finish someone else's flow.
		if resp, _ := h.send(http.MethodGet, ret.RequestURI(), nil, cookie(t, s, h.a.users[phantomos.RoleOwner])); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("another user's return: %d", resp.StatusCode)
		}
		resp, _ = h.send(http.MethodGet, ret.RequestURI(), nil, nil)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "/setup") {
			t.Fatalf("return: %d %s", resp.StatusCode, loc)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(loc, "/connectors/"), "/setup")
		if run := h.waitSync(id, 1); run.State != store.SyncSucceeded {
			t.Fatalf("first sync: %+v", run)
		}
		want := fake.Totals()
		var lines, net int64
		if err := s.DB().QueryRow(`SELECT COUNT(*), COALESCE(SUM(net), 0) FROM sales WHERE publisher_id = $1 AND connector_id = $2`,
			h.a.pub.ID, id).Scan(&lines, &net); err != nil {
			t.Fatal(err)
		}
		if lines != int64(want.Lines) || net != want.Net || want.Lines != 9 {
			t.Errorf("stored %d lines, net %d; the fake has %d lines, net %d", lines, net, want.Lines, want.Net)
		}
		c, err := s.Connector(t.Context(), h.a.pub.ID, id)
		if err != nil || c.Type != woocommerce.Type || c.Status != store.ConnectorActive {
			t.Fatalf("connector: %+v, %v", c, err)
		}
		raw, _, err := s.ConnectorCredentials(t.Context(), h.a.pub.ID, id)
		if err != nil || strings.Contains(string(raw), "cs_") {
			t.Errorf("stored credentials in clear or missing: %v", err)
		}

		// The key's message replayed (its state is single use), or forged.
		state := ret.Query().Get("user_id")
		for name, body := range map[string]string{
			"replayed": `{"key_id": 9, "user_id": "` + state + `", "consumer_key": "ck_` + strings.Repeat("1", 40) + `", "consumer_secret": "cs_` + strings.Repeat("1", 40) + `", "key_permissions": "read_write"}`,
			"forged":   `{"key_id": 9, "user_id": "k1.AAAA", "consumer_key": "ck_` + strings.Repeat("1", 40) + `", "consumer_secret": "cs_` + strings.Repeat("1", 40) + `", "key_permissions": "read_write"}`,
		} {
			resp, err := http.Post(h.ts.URL+"/connectors/woocommerce/keys", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s key message: %d", name, resp.StatusCode)
			}
		}
		if n := len(h.connectors()); n != 1 {
			t.Errorf("%d connectors, want 1", n)
		}
	})
}

// wooGrantLink returns the link with id (wc-auth-approve, wc-auth-deny) of
// the store's grant page at authURL.
func wooGrantLink(t *testing.T, authURL, id string) string {
	t.Helper()
	resp, err := http.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`<a href="([^"]+)"[^>]*id="` + id + `"`).FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("grant page: %d, no %s link\n%s", resp.StatusCode, id, page)
	}
	return html.UnescapeString(string(m[1]))
}

// wooFollow GETs link without following its redirect.
func wooFollow(t *testing.T, link string) *http.Response {
	t.Helper()
	resp, err := noRedirect.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// wooServer is a server with WooCommerce configured (it needs no app),
// jobs running, and tenant alpha's admin signed in.
func wooServer(t *testing.T, s *store.Store) *shop {
	t.Helper()
	keys, err := secret.Parse(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	reg, err := platform.Open([]platform.Registration{woocommerce.Registration}, platform.Config{})
	if err != nil {
		t.Fatal(err)
	}
	wp, _ := reg.Get(woocommerce.Type)
	h := &shop{t: t, s: s, a: newTenant(t, s, "alpha"), keys: keys}
	h.srv, h.ts = newTestServer(t, s)
	h.opts = ConnectorOptions{Platforms: testPlatforms(t, wp),
		Engine: connector.Config{Lookback: -1, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Rate: 1000, Burst: 100}}
	h.srv.EnableConnectors(keys, h.opts)
	startJobs(t, h.srv, s)
	h.admin = cookie(t, s, h.a.users[phantomos.RoleAdmin])
	return h
}

// TestWooCommerceRevokedThenReconnect: a key deleted in WooCommerce fails
// the next sync, which puts the store in the error state with the reason
// and a Reconnect link; reconnecting through the key-generation flow
// gives the same connector a new key, and the sync after it ends with the
// fake's exact totals. On both engines.
func TestWooCommerceRevokedThenReconnect(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		fake := wootest.New()
		defer fake.Close()
		day := time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)
		for i := range 6 {
			id := int64(4000 + i)
			fake.AddOrder(wootest.Order{ID: id, Status: "completed", Created: day.Add(time.Duration(i) * time.Hour), Paid: day,
				Lines: []wootest.Line{{ID: id * 10, ProductID: 7, SKU: "PIN-1", Name: "Pin", Quantity: 2, Subtotal: 1000, Total: 1000}}})
		}
		h := wooServer(t, s)
		resp, _ := h.send(http.MethodPost, "/connectors/woocommerce", url.Values{"method": {woocommerce.MethodKeys}, "url": {fake.URL},
			"consumer_key": {fake.Key}, "consumer_secret": {fake.Secret}}, nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("connect: %d", resp.StatusCode)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(resp.Header.Get("Location"), "/connectors/"), "/setup")
		if run := h.waitSync(id, 1); run.State != store.SyncSucceeded {
			t.Fatalf("first sync: %+v", run)
		}

		fake.Revoke()
		fake.AddOrder(wootest.Order{ID: 4100, Status: "processing", Created: day.Add(20 * time.Hour), Paid: day,
			Lines: []wootest.Line{{ID: 41000, ProductID: 7, SKU: "PIN-1", Name: "Pin", Quantity: 1, Subtotal: 500, Total: 500}}})
		if resp, _ := h.send(http.MethodPost, "/connectors/"+id+"/sync", url.Values{}, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sync now: %d", resp.StatusCode)
		}
		if run := h.waitSync(id, 2); run.State != store.SyncFailed {
			t.Fatalf("sync with a revoked key: %+v", run)
		}
		c, err := s.Connector(t.Context(), h.a.pub.ID, id)
		if err != nil || c.Status != store.ConnectorError || !strings.Contains(c.LastError, "revoked") {
			t.Fatalf("connector after the key was revoked: %+v, %v", c, err)
		}
		_, page := h.send(http.MethodGet, "/connectors", nil, nil)
		if !strings.Contains(page, `href="/connectors/`+id+`/reconnect"`) {
			t.Errorf("the connectors list offers no Reconnect")
		}
		_, page = h.send(http.MethodGet, "/connectors/"+id+"/reconnect", nil, nil)
		if !strings.Contains(page, `name="connector" value="`+id+`"`) || !strings.Contains(page, `action="/connectors/woocommerce/authorize"`) {
			t.Fatalf("reconnect page:\n%.2000s", page)
		}

		resp, _ = h.send(http.MethodPost, "/connectors/woocommerce/authorize", url.Values{"method": {woocommerce.MethodAuthorize}, "url": {fake.URL}, "connector": {id}}, nil)
		approved := wooFollow(t, wooGrantLink(t, resp.Header.Get("Location"), "wc-auth-approve"))
		ret, _ := url.Parse(approved.Header.Get("Location"))
		resp, _ = h.send(http.MethodGet, ret.RequestURI(), nil, nil)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/connectors/"+id+"/setup" {
			t.Fatalf("return after reconnecting: %d %s", resp.StatusCode, loc)
		}
		if run := h.waitSync(id, 3); run.State != store.SyncSucceeded {
			t.Fatalf("sync after reconnecting: %+v", run)
		}
		if n := len(h.connectors()); n != 1 {
			t.Errorf("%d connectors after reconnecting, want the same one", n)
		}
		want := fake.Totals()
		var lines, net int64
		if err := s.DB().QueryRow(`SELECT COUNT(*), COALESCE(SUM(net), 0) FROM sales WHERE publisher_id = $1 AND connector_id = $2`,
			h.a.pub.ID, id).Scan(&lines, &net); err != nil {
			t.Fatal(err)
		}
		if lines != int64(want.Lines) || net != want.Net || want.Lines != 7 {
			t.Errorf("stored %d lines, net %d; the fake has %d lines, net %d", lines, net, want.Lines, want.Net)
		}
		if c, _ := s.Connector(t.Context(), h.a.pub.ID, id); c.Status != store.ConnectorActive {
			t.Errorf("connector after reconnecting: %s %q", c.Status, c.LastError)
		}
	})
}
