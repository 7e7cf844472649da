package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestCrossTenantBodyIDs is TestCrossTenant for ids carried in a query,
// a form or a JSON body rather than the path: B naming A's object, an id
// that is no one's, or something that is not an id at all is told "not
// found" (404) every time, never 400 or 422, and nothing is written.
func TestCrossTenantBodyIDs(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "alpha")
		b := newTenant(t, s, "beta")
		_, ts := newTestServer(t, s)
		type objects struct{ gameIP, asset, product, invitation, member string }
		mk := func(tn tenant) objects {
			g := &phantomos.GameIP{Name: "Saga " + tn.pub.Slug, Slug: "saga-" + tn.pub.Slug}
			if err := s.CreateGameIP(ctx, tn.pub.ID, g); err != nil {
				t.Fatal(err)
			}
			as := &phantomos.Asset{GameIPID: g.ID, Name: "Hero " + tn.pub.Slug, AssetType: phantomos.AssetCharacter}
			if err := s.CreateAsset(ctx, tn.pub.ID, as); err != nil {
				t.Fatal(err)
			}
			conn := &phantomos.Connector{Type: phantomos.ConnectorCSV, Name: "Files"}
			if err := s.CreateConnector(ctx, tn.pub.ID, conn); err != nil {
				t.Fatal(err)
			}
			p := &phantomos.Product{ConnectorID: conn.ID, ExternalID: "tee", Name: "Tee " + tn.pub.Slug, Currency: "USD", Category: phantomos.CategoryApparel}
			if err := s.CreateProducts(ctx, tn.pub.ID, []*phantomos.Product{p}, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := s.SaveSuggestions(ctx, tn.pub.ID, map[string][]store.Suggestion{p.ID: {{AssetID: as.ID, Confidence: 0.9, Source: "local"}}}); err != nil {
				t.Fatal(err)
			}
			inv, err := s.CreateInvitation(ctx, tn.pub.ID, tn.users[phantomos.RoleOwner].ID, "invitee@"+tn.pub.Slug+".test", phantomos.RoleAnalyst, auth.HashToken(auth.NewToken()))
			if err != nil {
				t.Fatal(err)
			}
			return objects{g.ID, as.ID, p.ID, inv.ID, tn.users[phantomos.RoleMember].ID}
		}
		oa, ob := mk(a), mk(b)
		owner := cookie(t, s, b.users[phantomos.RoleOwner])

		type call struct {
			name, method, path, contentType, body string
		}
		calls := func(x func(of func(objects) string) string) []call {
			j := func(format string, args ...any) string { return fmt.Sprintf(format, args...) }
			f := func(kv ...string) string {
				v := url.Values{}
				for i := 0; i < len(kv); i += 2 {
					v.Add(kv[i], kv[i+1])
				}
				return v.Encode()
			}
			product := x(func(o objects) string { return o.product })
			asset := x(func(o objects) string { return o.asset })
			return []call{
				{"mapping of a product", "GET", "/api/products/mapping?product_id=" + url.QueryEscape(product), "", ""},
				{"decision on a product", "POST", "/api/products/mapping", "application/json", j(`{"product_id":%q,"action":"skip"}`, product)},
				{"pick an asset", "POST", "/api/products/mapping", "application/json", j(`{"product_id":%q,"action":"pick","asset_id":%q}`, ob.product, asset)},
				{"confirm assets", "POST", "/api/products/mapping", "application/json", j(`{"product_id":%q,"action":"confirm","assets":[{"asset_id":%q}]}`, ob.product, asset)},
				{"reject an asset", "POST", "/api/products/mapping", "application/json", j(`{"product_id":%q,"action":"reject","reject":[%q]}`, ob.product, asset)},
				{"bulk accept", "POST", "/api/products/mapping/bulk", "application/json", j(`{"action":"accept","min_confidence":0.5,"product_ids":[%q,%q]}`, ob.product, product)},
				{"bulk assign products", "POST", "/api/products/mapping/bulk", "application/json", j(`{"action":"assign","asset_id":%q,"product_ids":[%q,%q]}`, ob.asset, ob.product, product)},
				{"bulk assign to an asset", "POST", "/api/products/mapping/bulk", "application/json", j(`{"action":"assign","asset_id":%q,"product_ids":[%q]}`, asset, ob.product)},
				{"revoke an invitation", "DELETE", "/api/settings/invite?id=" + url.QueryEscape(x(func(o objects) string { return o.invitation })), "", ""},
				{"page bulk accept", "POST", "/products/bulk", form, f("action", "accept", "min_confidence", "0.5", "product", ob.product, "product", product)},
				{"page bulk assign products", "POST", "/products/bulk", form, f("action", "assign", "assign_asset", ob.asset, "product", ob.product, "product", product)},
				{"page bulk assign to an asset", "POST", "/products/bulk", form, f("action", "assign", "assign_asset", asset, "product", ob.product)},
				{"page pick an asset", "POST", "/products/" + ob.product + "/review", form, f("action", "pick", "asset", asset)},
				{"page confirm assets", "POST", "/products/" + ob.product + "/review", form, f("action", "confirm", "asset", asset)},
				{"new asset in a game IP", "POST", "/catalog/assets", form, f("name", "Villain", "asset_type", "character", "game_ip", x(func(o objects) string { return o.gameIP }))},
				{"asset moved to a game IP", "POST", "/catalog/assets/" + ob.asset, form, f("name", "Hero beta", "asset_type", "character", "game_ip", x(func(o objects) string { return o.gameIP }))},
				{"merge into an asset", "POST", "/catalog/assets/" + ob.asset + "/merge", form, f("into", asset)},
			}
		}
		for _, id := range []struct {
			name string
			of   func(of func(objects) string) string
		}{
			{"A's", func(of func(objects) string) string { return of(oa) }},
			{"no one's", func(func(objects) string) string { return phantomos.NewID() }},
			{"a malformed", func(func(objects) string) string { return "not-an-id" }},
		} {
			for _, c := range calls(id.of) {
				st, _, body := send(t, ts, owner, c.method, c.path, c.contentType, c.body)
				if st != http.StatusNotFound {
					t.Errorf("%s with %s id: %s %s: status %d, want 404\n%.300s", c.name, id.name, c.method, c.path, st, body)
				}
			}
		}

		// Nothing of A's or B's changed.
		for _, x := range []struct {
			pub     phantomos.PublisherID
			product string
		}{{a.pub.ID, oa.product}, {b.pub.ID, ob.product}} {
			if p, err := s.ProductItem(ctx, x.pub, x.product, ""); err != nil || p.MappingStatus != phantomos.MappingSuggested {
				t.Errorf("product %s: %+v, %v; want still suggested", x.product, p.MappingStatus, err)
			}
		}
		if got, err := s.Asset(ctx, b.pub.ID, ob.asset); err != nil || got.GameIPID != ob.gameIP {
			t.Errorf("B's asset: %+v, %v", got, err)
		}
		if inv, err := s.Invitation(ctx, a.pub.ID, oa.invitation); err != nil || inv.Status != "pending" {
			t.Errorf("A's invitation: %+v, %v", inv, err)
		}
	})
}
