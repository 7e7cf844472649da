package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/connector/platforms"
	"github.com/phantomos/phantomos/internal/connector/shopify"
	"github.com/phantomos/phantomos/internal/connector/shopify/shopifytest"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// shop is a fake Shopify store and a server whose connectors reach it.
type shop struct {
	t     *testing.T
	s     *store.Store
	fake  *shopifytest.Server
	a     tenant
	srv   *Server
	ts    *httptest.Server
	admin *http.Cookie
	keys  *secret.Keyring
	opts  ConnectorOptions
	// app is the public app's configuration, nil without one.
	app *shopify.App
	// want is what the fake's orders add up to: sale lines and net.
	wantLines, wantNet int64
}

// newShop starts a fake store with a few products and orders and a server
// connected to it; app configures the public app with the fake's client
// credentials.
func newShop(t *testing.T, s *store.Store, app bool, baseURL string) *shop {
	t.Helper()
	fake := shopifytest.New(t, shopifytest.Options{RestoreRate: 50000, Name: "Nova Merch", Currency: "USD"})
	keys, err := secret.Parse(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	h := &shop{t: t, s: s, fake: fake, a: newTenant(t, s, "alpha"), keys: keys}
	h.srv, h.ts = newTestServer(t, s)
	// No lookback window: a resumed sync reads only what changed since its
	// watermark, which TestRevokedTokenRecovery checks.
	so := shopify.Options{BaseURL: fake.URL}
	if app {
		so.ClientID, so.ClientSecret = fake.ClientID(), fake.ClientSecret()
		h.app = &shopify.App{ClientID: so.ClientID, ClientSecret: so.ClientSecret, BaseURL: fake.URL}
	}
	h.opts = ConnectorOptions{Platforms: testPlatforms(t, shopify.NewPlatform(so)), BaseURL: baseURL,
		Engine: connector.Config{Lookback: -1, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Rate: 1000, Burst: 100,
			BulkPoll: time.Millisecond}}
	h.srv.EnableConnectors(keys, h.opts)
	startJobs(t, h.srv, s)
	h.admin = cookie(t, s, h.a.users[phantomos.RoleAdmin])
	hoodie := fake.AddProduct(shopifytest.Product{Title: "Nova Hoodie", ProductType: "Apparel", Variants: []shopifytest.Variant{{SKU: "NOVA-1", Price: "20.00"}}})
	mug := fake.AddProduct(shopifytest.Product{Title: "Mug", Variants: []shopifytest.Variant{{SKU: "MUG-1", Price: "9.50"}}})
	for i := range 12 {
		h.addOrder(shopifytest.Order{Country: "DE", Lines: []shopifytest.LineItem{
			{ProductID: hoodie.ID, VariantID: hoodie.Variants[0].ID, SKU: "NOVA-1", Name: "Nova Hoodie", Quantity: 1 + i%3, Price: "20.00"},
			{ProductID: mug.ID, VariantID: mug.Variants[0].ID, SKU: "MUG-1", Name: "Mug", Quantity: 1, Price: "9.50"},
		}})
	}
	return h
}

// testPlatforms is the registration list with ps as the configured
// platforms.
func testPlatforms(t *testing.T, ps ...platform.Platform) *platform.Registry {
	t.Helper()
	reg, err := platform.With(platforms.All(), ps...)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// addOrder adds o to the fake and to what the store must end up with.
func (h *shop) addOrder(o shopifytest.Order) shopifytest.Order {
	o = h.fake.AddOrder(o)
	for _, l := range o.Lines {
		var units, cents int64
		fmt.Sscanf(strings.Replace(l.Price, ".", "", 1), "%d", &cents)
		units = int64(l.Quantity)
		h.wantLines++
		h.wantNet += units * cents
	}
	return o
}

// send makes a same-origin request as user (the admin when nil) and
// returns the response without following redirects.
func (h *shop) send(method, path string, form url.Values, user *http.Cookie) (*http.Response, string) {
	h.t.Helper()
	var req *http.Request
	if method == http.MethodGet {
		req, _ = http.NewRequest(method, h.ts.URL+path, nil)
	} else {
		req, _ = http.NewRequest(method, h.ts.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", h.ts.URL)
	}
	if user == nil {
		user = h.admin
	}
	req.AddCookie(user)
	resp, err := noRedirect.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp, string(b)
}

// connectWithToken goes through the wizard's token form and returns the
// connector id from the redirect to its setup page.
func (h *shop) connectWithToken(form url.Values) string {
	h.t.Helper()
	resp, body := h.send(http.MethodPost, "/connectors/shopify", form, nil)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/connectors/") || !strings.HasSuffix(loc, "/setup") {
		h.t.Fatalf("connect: %d %s\n%.500s", resp.StatusCode, loc, body)
	}
	return strings.TrimSuffix(strings.TrimPrefix(loc, "/connectors/"), "/setup")
}

// waitSync waits until the connector has n finished runs and returns the
// newest.
func (h *shop) waitSync(id string, n int) *store.SyncRun {
	h.t.Helper()
	for range 400 {
		runs, _ := h.s.SyncRuns(context.Background(), h.a.pub.ID, id, 50)
		// The job ends a moment after its run: until then another sync
		// would be refused as a duplicate.
		pending, err := h.srv.jobs.SyncPending(context.Background(), h.a.pub.ID, id)
		if err != nil {
			h.t.Fatal(err)
		}
		if len(runs) == n && runs[0].State != store.SyncRunning && !pending {
			return runs[0]
		}
		time.Sleep(25 * time.Millisecond)
	}
	h.t.Fatalf("sync %d of %s did not finish", n, id)
	return nil
}

// check compares the stored sales of connector id with the fake's orders.
func (h *shop) check(id string) {
	h.t.Helper()
	var lines, net int64
	h.s.DB().QueryRow(`SELECT COUNT(*), COALESCE(SUM(net), 0) FROM sales WHERE publisher_id = $1 AND connector_id = $2`, h.a.pub.ID, id).Scan(&lines, &net)
	if lines != h.wantLines || net != h.wantNet {
		h.t.Errorf("stored %d lines, net %d; the fake has %d lines, net %d", lines, net, h.wantLines, h.wantNet)
	}
}

func (h *shop) connectors() []*phantomos.Connector {
	h.t.Helper()
	list, err := h.s.Connectors(context.Background(), h.a.pub.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	return list
}

// TestConnectShopifyAndSync connects the fake Shopify through the wizard
// with a custom app token: the test step shows the shop, the first sync
// stores exactly the fake's order lines and totals, a second sync
// duplicates nothing, and disconnecting wipes the credentials.
func TestConnectShopifyAndSync(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := newShop(t, s, false, "")
		token := h.fake.IssueToken("read_products,read_orders")

		// The wizard: platforms, then the token form (no app configured).
		_, page := h.send(http.MethodGet, "/connectors/new", nil, nil)
		for _, want := range []string{`href="/connectors/new/shopify"`, "Amazon", "WooCommerce", "BigCommerce", `href="/connectors/new/pull"`} {
			if !strings.Contains(page, want) {
				t.Errorf("platform step lacks %q", want)
			}
		}
		_, page = h.send(http.MethodGet, "/connectors/new/shopify", nil, nil)
		if !strings.Contains(page, `action="/connectors/shopify"`) || strings.Contains(page, `action="/connectors/shopify/install"`) {
			t.Errorf("without an app the connect step offers the token form only")
		}
		resp, page := h.send(http.MethodPost, "/connectors/shopify", url.Values{"shop": {"not a shop"}, "token": {token}}, nil)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "myshopify.com") {
			t.Errorf("bad store address: %d", resp.StatusCode)
		}

		id := h.connectWithToken(url.Values{"shop": {h.fake.Shop()}, "token": {token}})
		run := h.waitSync(id, 1)
		if run.State != store.SyncSucceeded {
			t.Fatalf("first sync: %+v", run)
		}
		h.check(id)

		// The setup page: the test found the shop; the sync is done.
		_, page = h.send(http.MethodGet, "/connectors/"+id+"/setup", nil, nil)
		for _, want := range []string{`id="shop-name">Nova Merch<`, `id="shop-currency">USD<`, `id="sync-done"`, "24 order lines", `href="/overview?connector=` + id} {
			if !strings.Contains(page, want) {
				t.Errorf("setup page lacks %q", want)
			}
		}
		// The store page shows the history and when it syncs next; the token never.
		resp, page = h.send(http.MethodGet, "/connectors/"+id, nil, nil)
		if resp.StatusCode != 200 || !strings.Contains(page, "succeeded") || !strings.Contains(page, `id="next-sync">in 6 h<`) || strings.Contains(page, token) {
			t.Errorf("connector page: %d (token shown: %v)\n%s", resp.StatusCode, strings.Contains(page, token), page)
		}
		_, page = h.send(http.MethodGet, "/connectors", nil, nil)
		if !strings.Contains(page, "in 6 h") || !strings.Contains(page, `href="/connectors/`+id+`#history"`) {
			t.Errorf("connectors page lacks next sync or history link")
		}
		// Each store's platform (named by its registration), status and last sync.
		if !strings.Contains(page, "<td>Shopify</td>") || !strings.Contains(page, `<span class="status active">active</span>`) || strings.Contains(page, ">never<") {
			t.Errorf("connectors page lacks the platform, status or last sync:\n%s", page)
		}

		// Sync now: nothing new, nothing duplicated.
		h.send(http.MethodPost, "/connectors/"+id+"/sync", url.Values{}, nil)
		if run := h.waitSync(id, 2); run.State != store.SyncSucceeded || run.Counts.Inserted != 0 {
			t.Errorf("re-sync: %+v", run)
		}
		h.check(id)

		// Connecting the same store again replaces the credentials of its
		// connector instead of adding another.
		h.connectWithToken(url.Values{"shop": {h.fake.Shop()}, "token": {h.fake.IssueToken("")}})
		h.waitSync(id, 3)
		if n := len(h.connectors()); n != 1 {
			t.Errorf("%d connectors after connecting the same store twice", n)
		}
		h.check(id)

		// Disconnect wipes the credentials.
		h.send(http.MethodPost, "/connectors/"+id+"/disconnect", url.Values{}, nil)
		if ct, _, err := s.ConnectorCredentials(ctx, h.a.pub.ID, id); err == nil && len(ct) > 0 {
			t.Error("credentials kept after disconnect")
		}
	})
}

// callback follows an authorize URL through the fake's consent screen and
// returns the callback path and query it sends the browser back to.
func (h *shop) consent(authorize string) string {
	h.t.Helper()
	resp, err := noRedirect.Get(authorize)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, h.ts.URL+"/connectors/shopify/callback?") {
		h.t.Fatalf("consent: %d %s", resp.StatusCode, loc)
	}
	return strings.TrimPrefix(loc, h.ts.URL)
}

// install starts the OAuth install as user and returns the callback.
func (h *shop) install(user *http.Cookie, form url.Values) string {
	h.t.Helper()
	if form == nil {
		form = url.Values{"shop": {h.fake.Shop()}}
	}
	resp, body := h.send(http.MethodPost, "/connectors/shopify/install", form, user)
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, h.fake.URL+"/admin/oauth/authorize?") {
		h.t.Fatalf("install: %d %s\n%.300s", resp.StatusCode, loc, body)
	}
	u, _ := url.Parse(loc)
	q := u.Query()
	if q.Get("client_id") != h.fake.ClientID() || q.Get("scope") != "read_products,read_orders" || q.Get("redirect_uri") != h.ts.URL+"/connectors/shopify/callback" {
		h.t.Errorf("authorize URL %s", loc)
	}
	return h.consent(loc)
}

// TestShopifyOAuthInstall installs the public app on the fake store: the
// callback, verified and exchanged, creates the connector and starts its
// first sync; a replayed callback is refused (also by another server on
// the same database), as are callbacks with a changed signature, for
// another user, and installs for stores that are not myshopify.com hosts.
// Installing again replaces the credentials of the same connector.
func TestShopifyOAuthInstall(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := newShop(t, s, true, "")

		_, page := h.send(http.MethodGet, "/connectors/new/shopify", nil, nil)
		if !strings.Contains(page, `action="/connectors/shopify/install"`) || !strings.Contains(page, "read_all_orders") {
			t.Errorf("with an app the connect step offers the install and notes read_all_orders")
		}
		resp, _ := h.send(http.MethodGet, "/connectors/new/shopify", nil, nil)
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://*.myshopify.com "+h.fake.URL) {
			t.Errorf("the install form cannot lead to Shopify under CSP %q", csp)
		}
		if resp, _ := h.send(http.MethodPost, "/connectors/shopify/install", url.Values{"shop": {"evil.example.com"}}, nil); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("install for a non-Shopify host: %d", resp.StatusCode)
		}

		callback := h.install(nil, nil)
		// A callback whose signature was changed is refused, and does not
		// use up the state.
		tampered := strings.Replace(callback, "shop=", "shop=x", 1)
		if resp, _ := h.send(http.MethodGet, tampered, nil, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("tampered callback: %d", resp.StatusCode)
		}
		resp, body := h.send(http.MethodGet, callback, nil, nil)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "/setup") {
			t.Fatalf("callback: %d %s\n%.500s", resp.StatusCode, loc, body)
		}
		id := strings.TrimSuffix(strings.TrimPrefix(loc, "/connectors/"), "/setup")
		if run := h.waitSync(id, 1); run.State != store.SyncSucceeded {
			t.Fatalf("first sync after install: %+v", run)
		}
		h.check(id)
		var cr shopify.Credentials
		if err := h.srv.conn.vault.Load(ctx, connector.Target{Publisher: h.a.pub.ID, ConnectorID: id}, &cr); err != nil ||
			cr.Mode != shopify.ModeOAuth || cr.Shop != h.fake.Shop() || !strings.HasPrefix(cr.AccessToken, "shpua_") {
			t.Errorf("stored credentials: %+v, %v", cr, err)
		}

		// Replayed: here, and on another server sharing the database. The
		// state is refused before its code reaches Shopify (which would
		// refuse a used code too).
		const usedState = "The Shopify install link is not valid or was already used."
		if resp, body := h.send(http.MethodGet, callback, nil, nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, usedState) {
			t.Errorf("replayed callback: %d", resp.StatusCode)
		}
		other, ots := newTestServer(t, s)
		other.EnableConnectors(h.keys, h.opts)
		startJobs(t, other, s)
		second := h.install(nil, nil)
		req, _ := http.NewRequest(http.MethodGet, ots.URL+second, nil)
		req.AddCookie(h.admin)
		if st, body := do(t, req); st != http.StatusSeeOther {
			t.Errorf("callback on another replica: %d\n%.300s", st, body)
		}
		h.waitSync(id, 2)
		if resp, body := h.send(http.MethodGet, second, nil, nil); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, usedState) {
			t.Errorf("callback replayed on the first replica: %d", resp.StatusCode)
		}

		// A callback reached by another user of the publisher is refused.
		third := h.install(nil, nil)
		if resp, body := h.send(http.MethodGet, third, nil, cookie(t, s, h.a.users[phantomos.RoleOwner])); resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "someone else") {
			t.Errorf("callback as another user: %d", resp.StatusCode)
		}
		if list := h.connectors(); len(list) != 1 {
			t.Errorf("%d connectors after installing the app three times on one store", len(list))
		}
		if runs, _ := s.SyncRuns(ctx, h.a.pub.ID, id, 10); len(runs) != 2 {
			t.Errorf("%d syncs, want 2 (two completed installs)", len(runs))
		}
		h.check(id)

		// The install link in Shopify's admin: a request Shopify signed.
		resp, _ = h.send(http.MethodGet, "/connectors/shopify/install?"+h.fake.InstallQuery().Encode(), nil, nil)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, h.fake.URL+"/admin/oauth/authorize?") {
			t.Errorf("install link: %d %s", resp.StatusCode, loc)
		}
		bad := h.fake.InstallQuery()
		bad.Set("timestamp", "1")
		if resp, _ := h.send(http.MethodGet, "/connectors/shopify/install?"+bad.Encode(), nil, nil); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("altered install link: %d", resp.StatusCode)
		}
	})
}

// webhook sends a delivery the fake signs with secret, as Shopify would.
func (h *shop) webhook(topic string, body []byte, secret, shopDomain string) int {
	h.t.Helper()
	r := h.fake.WebhookRequest(h.ts.URL+shopify.WebhookPath, topic, body, secret)
	if shopDomain != "" {
		r.Header.Set(shopify.HeaderShopDomain, shopDomain)
	}
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+shopify.WebhookPath, strings.NewReader(string(body)))
	req.Header = r.Header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	h.waitWebhookJobs()
	return resp.StatusCode
}

// waitWebhookJobs waits until every webhook_apply job has ended: a
// delivery is answered once stored, and written by a worker after.
func (h *shop) waitWebhookJobs() {
	h.t.Helper()
	for range 400 {
		var open int
		if err := h.s.DB().QueryRow(`SELECT COUNT(*) FROM river_job WHERE kind = 'webhook_apply' AND finalized_at IS NULL`).Scan(&open); err != nil {
			h.t.Fatal(err)
		}
		if open == 0 {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	h.t.Fatal("webhook jobs did not finish")
}

// TestShopifyWebhooks connects a custom app with its API secret on a
// server with a public https address: the store is subscribed to the
// webhooks, and signed deliveries of new orders, refunds and product
// changes are applied exactly once however often they arrive; forged,
// foreign and malformed ones change nothing; app/uninstalled disconnects
// the store and wipes its credentials.
func TestShopifyWebhooks(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := newShop(t, s, true, "https://phantomos.example")
		const apiSecret = "custom-app-api-secret"
		id := h.connectWithToken(url.Values{"shop": {h.fake.Shop()}, "token": {h.fake.IssueToken("")}, "api_secret": {apiSecret}})
		h.waitSync(id, 1)
		h.check(id)
		subs := h.fake.Subscriptions()
		var topics []string
		for _, sub := range subs {
			if sub.URI != "https://phantomos.example/webhooks/shopify" {
				t.Errorf("subscription to %s", sub.URI)
			}
			topics = append(topics, sub.Topic)
		}
		if got := strings.Join(topics, ","); got != "ORDERS_CREATE,ORDERS_UPDATED,ORDERS_DELETE,PRODUCTS_UPDATE,APP_UNINSTALLED" {
			t.Errorf("subscribed to %s", got)
		}

		counts := func() (lines, net, products int64) {
			s.DB().QueryRow(`SELECT COUNT(*), COALESCE(SUM(net), 0) FROM sales WHERE publisher_id = $1 AND connector_id = $2`, h.a.pub.ID, id).Scan(&lines, &net)
			s.DB().QueryRow(`SELECT COUNT(*) FROM products WHERE publisher_id = $1 AND connector_id = $2`, h.a.pub.ID, id).Scan(&products)
			return
		}
		// A new order, delivered twice (Shopify retries): stored once.
		o := h.addOrder(shopifytest.Order{Country: "FR", Lines: []shopifytest.LineItem{{SKU: "CAP-1", Name: "Cap", Quantity: 2, Price: "15.00"}}})
		for range 2 {
			if st := h.webhook(shopify.TopicOrdersCreate, h.fake.OrderPayload(o.ID), apiSecret, ""); st != http.StatusOK {
				t.Fatalf("orders/create: %d", st)
			}
		}
		h.check(id)
		// Each delivery was answered once stored, and written by a job.
		var applied int
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM river_job WHERE kind = 'webhook_apply' AND state = 'completed'`).Scan(&applied); err != nil || applied != 2 {
			t.Errorf("%d webhook jobs completed (%v), want 2", applied, err)
		}
		// A refund arrives as orders/updated.
		o = h.fake.AddRefund(o.ID, shopifytest.Refund{Lines: []shopifytest.RefundLine{{LineItemID: o.Lines[0].ID, Quantity: 1, Subtotal: "15.00"}}})
		h.wantNet -= 1500
		for range 2 {
			if st := h.webhook(shopify.TopicOrdersUpdated, h.fake.OrderPayload(o.ID), apiSecret, ""); st != http.StatusOK {
				t.Fatalf("orders/updated: %d", st)
			}
		}
		h.check(id)
		// A product renamed.
		_, _, products := counts()
		p := h.fake.UpdateProduct(h.fake.Products()[0].ID, func(p *shopifytest.Product) { p.Title = "Nova Hoodie (Deluxe)" })
		if st := h.webhook(shopify.TopicProductsUpdate, h.fake.ProductPayload(p.ID), apiSecret, ""); st != http.StatusOK {
			t.Fatalf("products/update: %d", st)
		}
		var name string
		s.DB().QueryRow(`SELECT name FROM products WHERE publisher_id = $1 AND connector_id = $2 AND external_id = $3`, h.a.pub.ID, id, fmt.Sprint(p.ID)).Scan(&name)
		if _, _, after := counts(); name != "Nova Hoodie (Deluxe)" || after != products {
			t.Errorf("after products/update: name %q, %d products (was %d)", name, after, products)
		}
		// A sync afterwards finds nothing the webhooks missed or wrote differently.
		h.send(http.MethodPost, "/connectors/"+id+"/sync", url.Values{}, nil)
		if run := h.waitSync(id, 2); run.State != store.SyncSucceeded || run.Counts.Inserted != 0 {
			t.Errorf("sync after webhooks: %+v", run)
		}
		h.check(id)

		// Refused deliveries write nothing.
		other := h.addOrder(shopifytest.Order{Lines: []shopifytest.LineItem{{SKU: "X", Name: "X", Quantity: 1, Price: "1.00"}}})
		h.wantLines, h.wantNet = h.wantLines-1, h.wantNet-100 // not delivered
		linesBefore, netBefore, _ := counts()
		body := h.fake.OrderPayload(other.ID)
		for name, c := range map[string]struct {
			status             int
			body               []byte
			secret, shopDomain string
		}{
			"wrong secret":                {401, body, "not-the-secret", ""},
			"unknown shop, forged":        {401, body, "not-the-secret", "someone-else.myshopify.com"},
			"unknown shop, signed by app": {200, body, h.fake.ClientSecret(), "someone-else.myshopify.com"},
			"app secret, custom app shop": {200, body, h.fake.ClientSecret(), ""},
			"malformed body":              {400, []byte(`{"id": 1, "line_items": [`), apiSecret, ""},
		} {
			if st := h.webhook(shopify.TopicOrdersCreate, c.body, c.secret, c.shopDomain); st != c.status {
				t.Errorf("%s: status %d, want %d", name, st, c.status)
			}
		}
		if lines, net, _ := counts(); lines != linesBefore || net != netBefore {
			t.Errorf("refused deliveries wrote: %d lines, net %d (was %d, %d)", lines, net, linesBefore, netBefore)
		}

		// The app is uninstalled from the store.
		if st := h.webhook(shopify.TopicAppUninstalled, []byte(`{"id":1,"domain":"`+h.fake.Shop()+`"}`), apiSecret, ""); st != http.StatusOK {
			t.Fatalf("app/uninstalled: %d", st)
		}
		c, _ := s.Connector(ctx, h.a.pub.ID, id)
		if c.Status != store.ConnectorDisconnected {
			t.Errorf("after app/uninstalled: status %q", c.Status)
		}
		if _, _, err := s.ConnectorCredentials(ctx, h.a.pub.ID, id); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("credentials after app/uninstalled: %v", err)
		}
		// Its secret is gone with the credentials: its deliveries are now
		// refused like any other unverifiable one.
		if st := h.webhook(shopify.TopicOrdersCreate, body, apiSecret, ""); st != http.StatusUnauthorized {
			t.Errorf("delivery after uninstall: %d", st)
		}
	})
}

// TestRevokedTokenRecovery: the store revokes the token; the next sync
// fails, the connector shows the error in plain words with a Reconnect
// action; reconnecting through the wizard with a new token puts it back to
// active on the same connector, and syncing resumes from its cursor: only
// what changed meanwhile is read, nothing is duplicated.
func TestRevokedTokenRecovery(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := newShop(t, s, false, "")
		id := h.connectWithToken(url.Values{"shop": {h.fake.Shop()}, "token": {h.fake.IssueToken("")}})
		h.waitSync(id, 1)

		h.fake.RevokeTokens()
		h.send(http.MethodPost, "/connectors/"+id+"/sync", url.Values{}, nil)
		if run := h.waitSync(id, 2); run.State != store.SyncFailed {
			t.Fatalf("sync with a revoked token: %+v", run)
		}
		const msg = "Shopify refused the access token — reconnect the store."
		c, _ := s.Connector(ctx, h.a.pub.ID, id)
		if c.Status != store.ConnectorError || c.LastError != msg {
			t.Errorf("connector after revocation: %q %q", c.Status, c.LastError)
		}
		_, page := h.send(http.MethodGet, "/connectors/"+id, nil, nil)
		if !strings.Contains(page, msg) || !strings.Contains(page, `href="/connectors/`+id+`/reconnect"`) || strings.Contains(page, "Sync now") {
			t.Errorf("connector page does not show the error and a Reconnect action:\n%s", page)
		}
		_, page = h.send(http.MethodGet, "/connectors", nil, nil)
		if !strings.Contains(page, "paused until reconnected") || !strings.Contains(page, `href="/connectors/`+id+`/reconnect"`) {
			t.Errorf("connectors page does not offer to reconnect")
		}
		// The schedule leaves it alone.
		h.srv.work.SyncDue(ctx, h.a.pub.ID, time.Now().Add(24*time.Hour))
		if runs, _ := s.SyncRuns(ctx, h.a.pub.ID, id, 10); len(runs) != 2 {
			t.Errorf("the schedule synced a connector in error")
		}

		// Meanwhile the store sells more.
		h.fake.Advance(time.Hour)
		var newLines int64
		for range 3 {
			o := h.addOrder(shopifytest.Order{Lines: []shopifytest.LineItem{{SKU: "PIN-1", Name: "Pin", Quantity: 1, Price: "4.00"}}})
			newLines += int64(len(o.Lines))
		}

		_, page = h.send(http.MethodGet, "/connectors/"+id+"/reconnect", nil, nil)
		if !strings.Contains(page, `name="connector" value="`+id+`"`) || !strings.Contains(page, `value="`+h.fake.Shop()+`"`) {
			t.Errorf("reconnect step is not bound to the connector and its store")
		}
		// Another store cannot take over this connector.
		resp, _ := h.send(http.MethodPost, "/connectors/shopify", url.Values{"shop": {"another-shop.myshopify.com"}, "token": {h.fake.IssueToken("")}, "connector": {id}}, nil)
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("reconnecting to another store: %d", resp.StatusCode)
		}
		if got := h.connectWithToken(url.Values{"shop": {h.fake.Shop()}, "token": {h.fake.IssueToken("")}, "connector": {id}}); got != id {
			t.Fatalf("reconnect went to connector %s, want %s", got, id)
		}
		run := h.waitSync(id, 3)
		// Resumed from the cursor: the new lines inserted, nothing updated,
		// and far less read than the whole history (only the records stamped
		// at the watermark itself are read again).
		if run.State != store.SyncSucceeded || run.Counts.Inserted != newLines || run.Counts.Updated != 0 || run.Counts.Seen >= h.wantLines {
			t.Errorf("resumed sync: %+v; want the %d new lines inserted and fewer than %d records read", run, newLines, h.wantLines)
		}
		cur, _ := s.ConnectorCursor(ctx, h.a.pub.ID, id)
		if cp, err := connector.ParseCursor(cur); err != nil || cp.Orders.Passes != 2 {
			t.Errorf("orders cursor after reconnecting: %+v, %v; want its second completed pass", cp.Orders, err)
		}
		c, _ = s.Connector(ctx, h.a.pub.ID, id)
		if c.Status != store.ConnectorActive || c.LastError != "" {
			t.Errorf("after reconnecting: %q %q", c.Status, c.LastError)
		}
		if n := len(h.connectors()); n != 1 {
			t.Errorf("%d connectors after reconnecting", n)
		}
		h.check(id)
	})
}

// TestConnectorsAPI: the JSON the progress display polls has the
// connector's state and runs, never its credentials, and another
// publisher's connector is not found. While a sync runs, the pages refresh
// themselves without JavaScript and point the script at that JSON.
func TestConnectorsAPI(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newShop(t, s, false, "")
		token := h.fake.IssueToken("")
		id := h.connectWithToken(url.Values{"shop": {h.fake.Shop()}, "token": {token}})
		h.waitSync(id, 1)
		analyst := cookie(t, s, h.a.users[phantomos.RoleAnalyst])
		resp, body := h.send(http.MethodGet, "/api/v1/connectors/"+id, nil, analyst)
		if resp.StatusCode != 200 || strings.Contains(body, token) {
			t.Fatalf("GET connector: %d (token shown: %v)", resp.StatusCode, strings.Contains(body, token))
		}
		var c struct {
			Status      string `json:"status"`
			Account     string `json:"account"`
			AccountInfo struct {
				Name, Currency string
			} `json:"account_info"`
			NextSync string `json:"next_sync"`
			Runs     []struct {
				State    string `json:"state"`
				Seen     int64  `json:"seen"`
				Inserted int64  `json:"inserted"`
			} `json:"runs"`
		}
		if err := json.Unmarshal([]byte(body), &c); err != nil {
			t.Fatal(err)
		}
		if c.Status != "active" || c.Account != h.fake.Shop() || c.AccountInfo.Name != "Nova Merch" || c.AccountInfo.Currency != "USD" ||
			c.NextSync != "in 6 h" || len(c.Runs) != 1 || c.Runs[0].State != "succeeded" || c.Runs[0].Inserted == 0 {
			t.Errorf("connector JSON = %s", body)
		}
		_, body = h.send(http.MethodGet, "/api/v1/connectors", nil, analyst)
		if !strings.Contains(body, `"id":"`+id+`"`) || strings.Contains(body, token) {
			t.Errorf("connector list = %s", body)
		}

		// While a sync runs, the pages refresh themselves without JavaScript
		// and name the JSON that the script polls, which reports the run.
		tg := connector.Target{Publisher: h.a.pub.ID, ConnectorID: id}
		pending, err := h.srv.conn.engine.Begin(context.Background(), tg)
		if err != nil {
			t.Fatal(err)
		}
		refresh := `<noscript><meta http-equiv="refresh" content="2"></noscript>`
		for _, path := range []string{"/connectors/" + id + "/setup", "/connectors/" + id} {
			if _, page := h.send(http.MethodGet, path, nil, nil); !strings.Contains(page, refresh) || !strings.Contains(page, `data-poll="/api/v1/connectors/`+id+`"`) {
				t.Errorf("%s during a sync does not refresh or poll", path)
			}
		}
		_, body = h.send(http.MethodGet, "/api/v1/connectors/"+id, nil, analyst)
		if !strings.Contains(body, `"running":true`) || !strings.Contains(body, `"state":"running"`) {
			t.Errorf("connector JSON during a sync = %s", body)
		}
		conn, err := s.Connector(context.Background(), tg.Publisher, tg.ConnectorID)
		if err != nil {
			t.Fatal(err)
		}
		_, src, err := h.srv.work.OpenSource(context.Background(), conn)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pending.Run(context.Background(), src, connector.SyncOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, page := h.send(http.MethodGet, "/connectors/"+id+"/setup", nil, nil); strings.Contains(page, refresh) || !strings.Contains(page, `id="sync-done"`) {
			t.Errorf("setup page after the sync still refreshes or is not done")
		}

		other := newTenant(t, s, "beta")
		if resp, _ := h.send(http.MethodGet, "/api/v1/connectors/"+id, nil, cookie(t, s, other.users[phantomos.RoleOwner])); resp.StatusCode != http.StatusNotFound {
			t.Errorf("another publisher's connector: %d", resp.StatusCode)
		}
	})
}

// TestMissingCountryNotice: when Shopify withholds addresses (no access to
// protected customer data), the connector's page says so, once, however
// many syncs found it.
func TestMissingCountryNotice(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newShop(t, s, false, "")
		for _, o := range h.fake.Orders() {
			h.fake.UpdateOrder(o.ID, func(o *shopifytest.Order) { o.NoAddress = true })
		}
		id := h.connectWithToken(url.Values{"shop": {h.fake.Shop()}, "token": {h.fake.IssueToken("read_products,read_orders")}})
		h.waitSync(id, 1)
		notice := html.EscapeString(shopify.NoAddressNotice)
		page := func() string {
			for range 200 {
				_, body := h.send(http.MethodGet, "/connectors/"+id, nil, nil)
				if strings.Contains(body, notice) {
					return body
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Fatal("the connector page does not say addresses are missing")
			return ""
		}
		page()
		if resp, _ := h.send(http.MethodPost, "/connectors/"+id+"/sync", url.Values{}, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sync now: %d", resp.StatusCode)
		}
		h.waitSync(id, 2)
		time.Sleep(50 * time.Millisecond) // the notice is kept right after the run closes
		if n := strings.Count(page(), notice); n != 1 {
			t.Errorf("the notice is shown %d times", n)
		}
	})
}
