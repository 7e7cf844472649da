package e2e

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/phantomos/phantomos/internal/connector/platforms"
	"github.com/phantomos/phantomos/internal/connector/shopify/shopifytest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestBrowserConnectShopify: an owner connects the fake Shopify through
// the wizard in a real browser — platform, the app's OAuth install (the
// fake's consent screen approves and sends the browser back), the
// connection test showing the shop, the first sync's live progress — until
// it is done, and the Overview it links to shows exactly the fake's
// revenue. Screenshots of every step are saved at desktop and phone width.
func TestBrowserConnectShopify(t *testing.T) {
	ctx := browser(t)
	// A throttle slow enough that the first sync takes a few seconds, so
	// its progress is on screen for a while.
	fake := shopifytest.New(t, shopifytest.Options{Name: "Nova Merch", Currency: "USD", BucketMax: 2000, RestoreRate: 1500})
	var wantNet int64
	now := time.Now().UTC()
	products := []shopifytest.Product{
		fake.AddProduct(shopifytest.Product{Title: "Nova Hoodie", ProductType: "Apparel", Variants: []shopifytest.Variant{{SKU: "NOVA-HOOD", Price: "54.00"}}}),
		fake.AddProduct(shopifytest.Product{Title: "Nova Figure", ProductType: "Collectibles", Variants: []shopifytest.Variant{{SKU: "NOVA-FIG", Price: "39.00"}}}),
		fake.AddProduct(shopifytest.Product{Title: "Void King Mug", ProductType: "Home", Variants: []shopifytest.Variant{{SKU: "VK-MUG", Price: "16.00"}}}),
	}
	for i := range 40 {
		p := products[i%len(products)]
		qty := 1 + i%2
		o := fake.AddOrder(shopifytest.Order{Country: []string{"US", "DE", "GB", "FR"}[i%4], CreatedAt: now.Add(-time.Duration(i*17) * time.Hour),
			Lines: []shopifytest.LineItem{{ProductID: p.ID, VariantID: p.Variants[0].ID, SKU: p.Variants[0].SKU, Name: p.Title, Quantity: qty, Price: p.Variants[0].Price}}})
		cents, _ := strconv.ParseInt(strings.Replace(o.Lines[0].Price, ".", "", 1), 10, 64)
		wantNet += cents * int64(qty)
	}

	db := storetest.URL(t, store.SQLite)
	if out, err := cli(t, "a long shopify password\n", "publisher", "add", "--db", db, "--name", "Nova Games", "--slug", "nova", "--owner-email", "nia@nova.test"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	srv := startServerEnv(t, db, map[string]string{
		"SHOPIFY_CLIENT_ID": fake.ClientID(), "SHOPIFY_CLIENT_SECRET": fake.ClientSecret(), "PHANTOMOS_SHOPIFY_BASE_URL": fake.URL,
	})
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v\nserver log:\n%s", what, err, srv.stderr)
		}
	}
	text := func(sel string) string { return strings.TrimSpace(do(t, ctx, chromedp.Text(chromedp.CSS(sel)))) }
	shot := func(name string) {
		t.Helper()
		saveShot(t, ctx, name+".png")
	}

	step("sign in",
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "nia@nova.test"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "a long shopify password"),
		chromedp.Submit(chromedp.CSS(`input[name="email"]`)),
		chromedp.WaitVisible(chromedp.CSS(".usermenu")),
		chromedp.Navigate(srv.URL+"/connectors"),
		chromedp.WaitVisible(chromedp.ID("connect-store")),
	)
	shot("connectors-empty-1440")
	step("choose a platform", chromedp.Click(chromedp.ID("connect-store")), chromedp.WaitVisible(chromedp.ID("platforms")))
	// Every platform not live yet says "coming soon"; custom sources are live.
	soon := 0
	for _, r := range platforms.All() {
		if !r.Live() {
			soon++
		}
	}
	if body := text("main"); !strings.Contains(body, "Amazon") || !strings.Contains(body, "WooCommerce") || !strings.Contains(body, "BigCommerce") ||
		!strings.Contains(body, "Custom source") || strings.Count(body, "coming soon") != soon {
		t.Errorf("platform step:\n%s", body)
	}
	shot("connect-1-platform-1440")
	step("open Shopify", chromedp.Click(chromedp.ID("platform-shopify")), chromedp.WaitVisible(chromedp.ID("install")))
	shot("connect-2-shopify-1440")

	// The install: the browser goes to the fake's consent screen, which
	// approves at once and sends it back to the callback, which lands on
	// the setup page.
	step("install the app",
		chromedp.SendKeys(chromedp.CSS(`#oauth input[name="shop"]`), "phantom-merch"),
		chromedp.Click(chromedp.ID("install")),
		chromedp.WaitVisible(chromedp.ID("first-sync")),
	)
	if got := text("#shop-name"); got != "Nova Merch" {
		t.Errorf("connection test shows shop %q", got)
	}
	if got := text("#shop-currency"); got != "USD" {
		t.Errorf("connection test shows currency %q", got)
	}
	shot("connect-3-progress-1440")
	step("watch the first sync", chromedp.WaitVisible(chromedp.ID("sync-done")))
	if got := text("#sync-done"); !strings.Contains(got, "40 order lines") || !strings.Contains(got, "Nova Merch") {
		t.Errorf("done: %q", got)
	}
	if got := text("#sync-inserted"); got == "0" {
		t.Errorf("the finished sync shows %s new records", got)
	}
	shot("connect-4-done-1440")
	setup := do(t, ctx, chromedp.Location())

	step("go to the Overview", chromedp.Click(chromedp.ID("to-overview")), chromedp.WaitVisible(chromedp.ID("kpi-net")))
	if got := do(t, ctx, chromedp.AttributeValue(chromedp.ID("kpi-net"), "data-minor")).Value; got != fmt.Sprint(wantNet) {
		t.Errorf("Overview net after the first sync = %s minor units, want the fake's %d", got, wantNet)
	}

	step("connectors list", chromedp.Navigate(srv.URL+"/connectors"), chromedp.WaitVisible(chromedp.ID("connectors")))
	if body := text("#connectors"); !strings.Contains(body, "active") || !strings.Contains(body, "in 6 h") {
		t.Errorf("connectors list:\n%s", body)
	}
	shot("connectors-1440")
	id := strings.TrimSuffix(strings.TrimPrefix(setup[strings.Index(setup, "/connectors/"):], "/connectors/"), "/setup")
	step("store page", chromedp.Navigate(srv.URL+"/connectors/"+id), chromedp.WaitVisible(chromedp.ID("sync-runs")))
	shot("connector-1440")

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct{ name, path, sel string }{
		{"connectors-390", "/connectors", "#connectors"},
		{"connector-390", "/connectors/" + id, "#sync-runs"},
		{"connect-1-platform-390", "/connectors/new", "#platforms"},
		{"connect-2-shopify-390", "/connectors/new/shopify", "#install"},
		{"connect-4-done-390", "/connectors/" + id + "/setup", "#sync-done"},
	} {
		step(p.name, chromedp.Navigate(srv.URL+p.path), chromedp.WaitVisible(chromedp.CSS(p.sel)))
		shot(p.name)
	}
}
