package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/bigcommerce"
	"github.com/phantomos/phantomos/internal/connector/bigcommerce/bctest"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestConnectBigCommerceAndSync connects the fake BigCommerce through the
// wizard with a store-level API account: the first sync stores exactly
// the fake's order lines and net, a second duplicates nothing, and a
// wrong token is refused on the connect step without storing anything.
func TestConnectBigCommerceAndSync(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		fake := bctest.New(t, bctest.Options{TaxRate: 10})
		keys, err := secret.Parse(secret.Generate())
		if err != nil {
			t.Fatal(err)
		}
		h := &shop{t: t, s: s, a: newTenant(t, s, "alpha"), keys: keys}
		h.srv, h.ts = newTestServer(t, s)
		h.opts = ConnectorOptions{Platforms: testPlatforms(t, bigcommerce.NewPlatform(bigcommerce.Options{BaseURL: fake.URL})),
			Engine: connector.Config{Lookback: -1, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Rate: 1000, Burst: 100}}
		h.srv.EnableConnectors(keys, h.opts)
		startJobs(t, h.srv, s)
		h.admin = cookie(t, s, h.a.users[phantomos.RoleAdmin])
		for i := range 7 {
			o := fake.AddOrder(bctest.Order{Country: "US", Shipping: 400, Lines: []bctest.Line{
				{ProductID: 9, Name: "Nova Hoodie", SKU: "NOVA-1", Quantity: int64(1 + i%2), Price: 4000},
				{ProductID: 10, Name: "Mug", SKU: "MUG-1", Quantity: 1, Price: 950, Discount: 50}}})
			for _, l := range o.Lines {
				h.wantLines++
				h.wantNet += l.Price*l.Quantity - l.Discount
			}
			fake.Advance(time.Minute)
		}
		fake.AddProduct(bctest.Product{Name: "Nova Hoodie", SKU: "NOVA-1", Price: 4000})

		_, page := h.send(http.MethodGet, "/connectors/new", nil, nil)
		if !strings.Contains(page, `href="/connectors/new/bigcommerce"`) {
			t.Fatalf("the platform step has no live BigCommerce card")
		}
		_, page = h.send(http.MethodGet, "/connectors/new/bigcommerce", nil, nil)
		if !strings.Contains(page, `action="/connectors/bigcommerce"`) || !strings.Contains(page, `name="store_hash"`) {
			t.Fatalf("the connect step lacks the API account form:\n%.2000s", page)
		}
		api := "https://api.bigcommerce.com/stores/" + fake.StoreHash() + "/v3/"
		resp, page := h.send(http.MethodPost, "/connectors/bigcommerce", url.Values{"method": {bigcommerce.ModeAPIAccount}, "store_hash": {api}, "token": {"0123456789abcdefWRONG"}}, nil)
		if resp.StatusCode == http.StatusSeeOther || !strings.Contains(page, "BigCommerce") {
			t.Errorf("a wrong token: %d", resp.StatusCode)
		}
		if n := len(h.connectors()); n != 0 {
			t.Fatalf("a refused connection stored %d connectors", n)
		}
		token := fake.IssueToken("store_v2_orders_read_only store_v2_products_read_only store_v2_information_read_only")
		resp, page = h.send(http.MethodPost, "/connectors/bigcommerce", url.Values{"method": {bigcommerce.ModeAPIAccount}, "store_hash": {api}, "token": {token}}, nil)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "/setup") {
			t.Fatalf("connect: %d %s\n%.800s", resp.StatusCode, loc, page)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(loc, "/connectors/"), "/setup")
		if run := h.waitSync(id, 1); run.State != store.SyncSucceeded {
			t.Fatalf("first sync: %+v", run)
		}
		h.check(id)
		list := h.connectors()
		if len(list) != 1 || list[0].Type != bigcommerce.Type || list[0].Status != store.ConnectorActive {
			t.Fatalf("connectors: %+v", list[0])
		}
		if _, page := h.send(http.MethodGet, "/connectors", nil, nil); !strings.Contains(page, "BigCommerce") {
			t.Errorf("the connectors list does not name the platform")
		}
		ct, _, err := s.ConnectorCredentials(t.Context(), h.a.pub.ID, id)
		if err != nil || strings.Contains(string(ct), token) {
			t.Errorf("credentials not sealed (%v)", err)
		}
	})
}
