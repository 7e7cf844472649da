package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector/shopify/shopifytest"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestConnectShopifyAndSync connects the fake Shopify through the
// Connectors page, waits for the first sync, and checks the stored sales
// are exactly the fake's order lines and totals; a second sync duplicates
// nothing, and disconnecting wipes the credentials.
func TestConnectShopifyAndSync(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		fake := shopifytest.New(t, shopifytest.Options{RestoreRate: 50000})
		var wantNet, wantLines int64
		for i := range 12 {
			o := fake.AddOrder(shopifytest.Order{Country: "DE", Lines: []shopifytest.LineItem{
				{SKU: "NOVA-1", Name: "Nova Hoodie", Quantity: 1 + i%3, Price: "20.00"},
				{SKU: "MUG-1", Name: "Mug", Quantity: 1, Price: "9.50"},
			}})
			_ = o
			wantNet += int64(2000*(1+i%3) + 950)
			wantLines += 2
		}
		token := fake.IssueToken("read_products,read_orders")
		a := newTenant(t, s, "alpha")
		srv, ts := newTestServer(t, s)
		keys, err := secret.Parse(secret.Generate())
		if err != nil {
			t.Fatal(err)
		}
		srv.EnableConnectors(keys, fake.URL)
		admin := cookie(t, s, a.users[phantomos.RoleAdmin])
		form := url.Values{"shop": {fake.Shop()}, "token": {token}}
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/connectors/shopify", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", ts.URL)
		req.AddCookie(admin)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/connectors/") {
			t.Fatalf("connect: %d %s", resp.StatusCode, loc)
		}
		id := strings.TrimPrefix(loc, "/connectors/")
		waitSync := func(n int) *store.SyncRun {
			t.Helper()
			for range 200 {
				runs, _ := s.SyncRuns(ctx, a.pub.ID, id, 10)
				if len(runs) == n && runs[0].State != "running" {
					return runs[0]
				}
				time.Sleep(50 * time.Millisecond)
			}
			t.Fatal("sync did not finish")
			return nil
		}
		run := waitSync(1)
		if run.State != "succeeded" {
			t.Fatalf("first sync: %+v", run)
		}
		check := func() {
			t.Helper()
			var lines, net int64
			s.DB().QueryRow(`SELECT COUNT(*), COALESCE(SUM(net), 0) FROM sales WHERE publisher_id = $1 AND connector_id = $2`, a.pub.ID, id).Scan(&lines, &net)
			if lines != wantLines || net != wantNet {
				t.Errorf("stored %d lines, net %d; the fake has %d lines, net %d", lines, net, wantLines, wantNet)
			}
		}
		check()
		// The page shows the connector and its history; credentials never.
		req = request(t, ts, "GET /connectors/{id}", id)
		req.AddCookie(admin)
		if st, page := do(t, req); st != 200 || !strings.Contains(page, "succeeded") || strings.Contains(page, token) {
			t.Errorf("connector page: %d (token shown: %v)", st, strings.Contains(page, token))
		}
		// Sync now: nothing new, nothing duplicated.
		req = request(t, ts, "POST /connectors/{id}/sync", id)
		req.AddCookie(admin)
		do(t, req)
		if run := waitSync(2); run.State != "succeeded" || run.Counts.Inserted != 0 {
			t.Errorf("re-sync: %+v", run)
		}
		check()
		// Disconnect wipes the credentials.
		req = request(t, ts, "POST /connectors/{id}/disconnect", id)
		req.AddCookie(admin)
		do(t, req)
		if ct, _, err := s.ConnectorCredentials(ctx, a.pub.ID, id); err == nil && len(ct) > 0 {
			t.Error("credentials kept after disconnect")
		}
	})
}
