package web

import (
	"net/http"
	"net/url"
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
