package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/shopify"
	"github.com/phantomos/phantomos/internal/connector/shopify/shopifytest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestShopifyComplianceWebhooks: the three mandatory compliance webhooks
// are verified (401 when forged) and acted on. shop/redact erases exactly
// the store it names of a publisher that has two: its sales, products,
// credentials and rollup rows go, the other store's stay, and analytics
// then equal the remaining store's figures; the audit log records it, and
// the customer requests record that nothing personal is held.
func TestShopifyComplianceWebhooks(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := newShop(t, s, true, "")
		pub := h.a.pub.ID
		idA := h.installApp()

		// The second store sells more: the fake answers for any shop at its
		// address, so a second shop domain gives a second store whose
		// history is a superset of the first's.
		h.fake.Advance(time.Hour)
		for range 3 {
			h.addOrder(shopifytest.Order{Country: "FR", Lines: []shopifytest.LineItem{{SKU: "PIN-1", Name: "Pin", Quantity: 2, Price: "4.00"}}})
		}
		idB := h.connectWithToken(url.Values{"shop": {"second-store.myshopify.com"}, "token": {h.fake.IssueToken("")}})
		if run := h.waitSync(idB, 1); run.State != store.SyncSucceeded {
			t.Fatalf("second store's sync: %+v", run)
		}
		from, to := phantomos.Day("2000-01-01"), phantomos.Day("2100-01-01")
		totals := func(f store.Filter) store.Summary {
			t.Helper()
			m, err := s.Totals(ctx, pub, from, to, f)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}
		wantAll, wantDE := totals(store.Filter{Connectors: []string{idB}}), totals(store.Filter{Connectors: []string{idB}, Countries: []string{"DE"}})
		if before := totals(store.Filter{}); before.Net <= wantAll.Net || wantAll.Net == 0 {
			t.Fatalf("before: all %+v, second store %+v", before, wantAll)
		}

		// Forged: refused, nothing erased.
		if st := h.webhook(shopify.TopicShopRedact, h.fake.ShopRedactPayload(), "not-the-secret", ""); st != http.StatusUnauthorized {
			t.Errorf("forged shop/redact: %d, want 401", st)
		}
		if _, err := s.Connector(ctx, pub, idA); err != nil {
			t.Fatalf("a forged shop/redact erased the store: %v", err)
		}

		if st := h.webhook(shopify.TopicCustomersDataRequest, h.fake.CustomersDataRequestPayload(191167, []int64{1001, 1002}, 9999), "", ""); st != http.StatusOK {
			t.Errorf("customers/data_request: %d", st)
		}
		if st := h.webhook(shopify.TopicCustomersRedact, h.fake.CustomersRedactPayload(191167, []int64{1001}), "", ""); st != http.StatusOK {
			t.Errorf("customers/redact: %d", st)
		}
		if st := h.webhook(shopify.TopicCustomersRedact, []byte(`{"shop_domain":"`+h.fake.Shop()+`"`), "", ""); st != http.StatusBadRequest {
			t.Errorf("malformed customers/redact: %d, want 400", st)
		}
		if st := h.webhook(shopify.TopicShopRedact, h.fake.ShopRedactPayload(), "", ""); st != http.StatusOK {
			t.Fatalf("shop/redact: %d", st)
		}
		// Redelivered: nothing left to do.
		if st := h.webhook(shopify.TopicShopRedact, h.fake.ShopRedactPayload(), "", ""); st != http.StatusOK {
			t.Errorf("shop/redact redelivered: %d", st)
		}

		if _, err := s.Connector(ctx, pub, idA); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("erased store's connector: %v, want not found", err)
		}
		for _, table := range []string{"sales", "products", "orders_daily", "geo_daily", "geo_monthly", "sync_runs"} {
			var n int
			s.DB().QueryRow(`SELECT COUNT(*) FROM `+table+` WHERE publisher_id = $1 AND connector_id = $2`, pub, idA).Scan(&n)
			if n != 0 {
				t.Errorf("%d rows of the erased store left in %s", n, table)
			}
		}
		if got := totals(store.Filter{}); got != wantAll {
			t.Errorf("analytics after shop/redact %+v, want the remaining store's %+v", got, wantAll)
		}
		if got := totals(store.Filter{Countries: []string{"DE"}}); got != wantDE {
			t.Errorf("analytics for DE after shop/redact %+v, want the remaining store's %+v", got, wantDE)
		}
		allCategories := store.Filter{Categories: []string{"apparel", "collectibles", "accessories", "home", "digital", "other"}}
		if got := totals(allCategories); got.Net != wantAll.Net || got.Units != wantAll.Units {
			t.Errorf("product rollups after shop/redact %+v, want the remaining store's %+v", got, wantAll)
		}
		var rawNet int64
		s.DB().QueryRow(`SELECT COALESCE(SUM(net_reporting), 0) FROM sales WHERE publisher_id = $1`, pub).Scan(&rawNet)
		if rawNet != wantAll.Net {
			t.Errorf("raw sales net %d, rollups %d", rawNet, wantAll.Net)
		}
		var cr shopify.Credentials
		if err := h.srv.conn.vault.Load(ctx, connector.Target{Publisher: pub, ConnectorID: idB}, &cr); err != nil || cr.Shop != "second-store.myshopify.com" {
			t.Errorf("the other store's credentials: %+v, %v", cr, err)
		}

		log, err := s.AuditLog(ctx, pub, time.Now().Add(time.Hour), 50)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]store.AuditEntry{}
		for _, e := range log {
			seen[e.Action] = e
		}
		for _, action := range []string{"connector.shop_redact", "connector.customer_redact", "connector.customer_data_request"} {
			if _, ok := seen[action]; !ok {
				t.Errorf("no %s audit entry", action)
			}
		}
		if e := seen["connector.shop_redact"]; e.Target != h.fake.Shop() || e.Details["sales_erased"] == nil {
			t.Errorf("shop_redact audit entry: %+v", e)
		}
		if e := seen["connector.customer_data_request"]; e.Details["held"] == nil {
			t.Errorf("data request audit entry says nothing of what is held: %+v", e)
		}
	})
}
