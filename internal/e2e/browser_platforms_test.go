package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/phantomos/phantomos/internal/connector/bigcommerce"
	"github.com/phantomos/phantomos/internal/connector/bigcommerce/bctest"
	"github.com/phantomos/phantomos/internal/connector/woocommerce/wootest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// wizard drives the connect wizard of one platform in a browser, signed in
// as the owner of a fresh publisher on a real server.
type wizard struct {
	t    *testing.T
	ctx  context.Context
	srv  *server
	name string // the screenshot prefix
}

// newWizard starts a server with environ on a fresh SQLite database with
// one publisher, and signs its owner in.
func newWizard(t *testing.T, name string, environ map[string]string) *wizard {
	ctx := browser(t)
	db := storetest.URL(t, store.SQLite)
	if out, err := cli(t, "a long platform password\n", "publisher", "add", "--db", db, "--name", "Nova Games", "--slug", "nova", "--owner-email", "nia@nova.test"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	w := &wizard{t: t, ctx: ctx, srv: startServerEnv(t, db, environ), name: name}
	w.step("sign in",
		chromedp.Navigate(w.srv.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "nia@nova.test"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "a long platform password"),
		chromedp.Submit(chromedp.CSS(`input[name="email"]`)),
		chromedp.WaitVisible(chromedp.CSS(".usermenu")),
	)
	return w
}

func (w *wizard) step(what string, actions ...chromedp.Action[chromedp.Void]) {
	w.t.Helper()
	if err := chromedp.Do(w.ctx, actions...); err != nil {
		w.t.Fatalf("%s: %v\nserver log:\n%s", what, err, w.srv.stderr)
	}
}

func (w *wizard) text(sel string) string {
	w.t.Helper()
	return strings.TrimSpace(do(w.t, w.ctx, chromedp.Text(chromedp.CSS(sel))))
}

func (w *wizard) shot(name string) {
	w.t.Helper()
	saveShot(w.t, w.ctx, w.name+"-"+name+".png")
}

// open goes from the connectors page to the platform's connect step,
// checking on the way that its card is live.
func (w *wizard) open(typ, name, ready string) {
	w.t.Helper()
	w.step("connectors", chromedp.Navigate(w.srv.URL+"/connectors"), chromedp.WaitVisible(chromedp.ID("connect-store")))
	w.step("choose a platform", chromedp.Click(chromedp.ID("connect-store")), chromedp.WaitVisible(chromedp.ID("platforms")))
	if card := w.text("#platform-" + typ); !strings.Contains(card, name) || strings.Contains(card, "coming soon") {
		w.t.Errorf("the %s card is not live: %q", name, card)
	}
	w.step("open "+name, chromedp.Click(chromedp.ID("platform-"+typ)), chromedp.WaitVisible(chromedp.CSS(ready)))
	w.shot("1-connect-1440")
}

// watchSync follows the first sync on the setup page until it is done,
// and returns the counts of records read that the page showed while the
// sync ran, per document (a queued sync's page reloads once it starts,
// and a running one's once it ends). The counts must have changed in
// place at least once within one document: the page polls, it is not
// reloaded for each page the sync writes.
func (w *wizard) watchSync() [][]string {
	w.t.Helper()
	w.step("the first sync", chromedp.WaitVisible(chromedp.ID("first-sync")))
	w.shot("3-progress-1440")
	var docs [][]string
	live := false
	deadline := time.Now().Add(90 * time.Second)
	for {
		// A mark on the window lives as long as its document.
		state := do(w.t, w.ctx, chromedp.Evaluate[[]string](`(function () {
			var fresh = window.phantomMark !== true;
			window.phantomMark = true;
			var seen = document.getElementById("sync-seen");
			return [String(fresh), String(!!document.getElementById("sync-done")),
				String(!!document.querySelector("#first-sync[data-poll]")), seen ? seen.textContent : ""];
		})()`))
		if state[1] == "true" {
			break
		}
		if state[0] == "true" {
			docs = append(docs, nil)
		}
		if cur := &docs[len(docs)-1]; state[2] == "true" && state[3] != "" {
			if n := len(*cur); n == 0 || (*cur)[n-1] != state[3] {
				*cur = append(*cur, state[3])
				if len(*cur) == 2 && !live {
					live = true
					w.shot("3-progress-live-1440")
				}
			}
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("the sync did not finish in 90 s; counts shown: %v\nserver log:\n%s", docs, w.srv.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !live {
		w.t.Errorf("the running sync's counts never changed in place on the page: %v", docs)
	}
	w.shot("4-done-1440")
	return docs
}

// finish checks the Overview's net revenue against the fake's, the
// connectors list, and saves the pages at phone width.
func (w *wizard) finish(name string, wantNet int64) {
	w.t.Helper()
	setup := do(w.t, w.ctx, chromedp.Location())
	id := strings.TrimSuffix(strings.TrimPrefix(setup[strings.Index(setup, "/connectors/"):], "/connectors/"), "/setup")
	w.step("go to the Overview", chromedp.Click(chromedp.ID("to-overview")), chromedp.WaitVisible(chromedp.ID("kpi-net")))
	if got := do(w.t, w.ctx, chromedp.AttributeValue(chromedp.ID("kpi-net"), "data-minor")).Value; got != fmt.Sprint(wantNet) {
		w.t.Errorf("Overview net after the first sync = %s minor units, want the fake's %d", got, wantNet)
	}
	w.step("connectors list", chromedp.Navigate(w.srv.URL+"/connectors"), chromedp.WaitVisible(chromedp.ID("connectors")))
	// The store's platform, status, last sync (today, in UTC) and next.
	today := time.Now().UTC().Format("2 Jan 2006")
	if body := w.text("#connectors"); !strings.Contains(body, name) || !strings.Contains(body, "active") || !strings.Contains(body, today) || !strings.Contains(body, "in 6 h") {
		w.t.Errorf("connectors list (want %s, active, last sync %s, next in 6 h):\n%s", name, today, body)
	}
	w.shot("5-connectors-1440")
	w.step("store page", chromedp.Navigate(w.srv.URL+"/connectors/"+id), chromedp.WaitVisible(chromedp.ID("sync-runs")))
	w.shot("6-connector-1440")
	if err := chromedp.Do(w.ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		w.t.Fatal(err)
	}
	typ := strings.ToLower(name)
	for _, p := range []struct{ name, path, sel string }{
		{"1-connect-390", "/connectors/new/" + typ, "#connect-" + typ},
		{"4-done-390", "/connectors/" + id + "/setup", "#sync-done"},
		{"5-connectors-390", "/connectors", "#connectors"},
		{"6-connector-390", "/connectors/" + id, "#sync-runs"},
	} {
		w.step(p.name, chromedp.Navigate(w.srv.URL+p.path), chromedp.WaitVisible(chromedp.CSS(p.sel)))
		w.shot(p.name)
	}
}

// TestBrowserConnectWooCommerce: an owner connects the fake WooCommerce
// store through the wizard in a real browser with "Connect with
// WooCommerce": a plain-http address is refused with the reason; the
// store's address leads to the store's grant page, whose Approve makes
// the store post a new key to PhantomOS and brings the browser back; the
// connection test shows the store, the first sync's counts move on the
// page while it runs, and it ends with the fake's exact lines on the page
// and net revenue on the Overview.
func TestBrowserConnectWooCommerce(t *testing.T) {
	fake := wootest.New()
	defer fake.Close()
	// A slow site: each API answer takes a while, so the sync's progress
	// is on screen for a few seconds.
	fake.Delay = 250 * time.Millisecond
	seedWoo(fake, 230)
	want := fake.Totals()

	w := newWizard(t, "woocommerce", nil)
	w.open("woocommerce", "WooCommerce", "#connect-woo")
	start := func(addr string) {
		w.t.Helper()
		w.step("connect with WooCommerce",
			chromedp.SetValue(chromedp.CSS(`#authorize input[name="url"]`), addr),
			chromedp.Click(chromedp.ID("connect-woo")),
		)
	}
	start("http://shop.example.com")
	w.step("plain http refused", chromedp.WaitVisible(chromedp.ID("connect-error")))
	if got := w.text("#connect-error"); !strings.Contains(got, "plain http") {
		t.Errorf("a plain-http store: %q", got)
	}
	w.shot("2-refused-1440")
	start(fake.URL)
	w.step("the store's grant page", chromedp.WaitVisible(chromedp.ID("wc-auth-approve")))
	if got := w.text("body"); !strings.Contains(got, "PhantomOS would like to connect to your store") {
		t.Errorf("grant page: %q", got)
	}
	w.shot("2-grant-1440")
	w.step("approve", chromedp.Click(chromedp.ID("wc-auth-approve")))
	seen := w.watchSync()
	if fake.Keys() != 1 {
		t.Errorf("the store made %d keys, want 1", fake.Keys())
	}
	if got := w.text("#shop-name"); got != "Nova Merch" {
		t.Errorf("connection test shows store %q", got)
	}
	if got := w.text("#shop-currency"); got != "USD" {
		t.Errorf("connection test shows currency %q", got)
	}
	if got := w.text("#sync-done"); !strings.Contains(got, strconv.Itoa(want.Lines)+" order lines") {
		t.Errorf("done: %q, want %d order lines (counts shown while running: %v)", got, want.Lines, seen)
	}
	w.finish("WooCommerce", want.Net)
}

// seedWoo fills a fake WooCommerce store with n orders over the last
// months: every status, discounts, variable products and partial
// refunds.
func seedWoo(fake *wootest.Server, n int) {
	now := time.Now().UTC().Truncate(time.Second)
	fake.AddProduct(wootest.Product{ID: 11, Name: "Nova Hoodie", SKU: "NOVA-HOOD", Price: 5400, Category: "Apparel", Modified: now.Add(-time.Hour),
		Variations: []wootest.Variation{{ID: 111, SKU: "NOVA-HOOD-M", Price: 5400, Size: "M"}, {ID: 112, SKU: "NOVA-HOOD-L", Price: 5400, Size: "L"}}})
	fake.AddProduct(wootest.Product{ID: 12, Name: "Nova Figure", SKU: "NOVA-FIG", Price: 3900, Category: "Collectibles", Modified: now.Add(-time.Hour)})
	fake.AddProduct(wootest.Product{ID: 13, Name: "Void King Mug", SKU: "VK-MUG", Price: 1600, Category: "Home", Modified: now.Add(-time.Hour)})
	statuses := []string{"completed", "processing", "on-hold", "completed", "cancelled", "pending", "failed", "refunded"}
	for i := range n {
		id := int64(5000 + i)
		at := now.Add(-time.Duration(i*31) * time.Hour)
		qty := int64(1 + i%3)
		l1 := wootest.Line{ID: id * 10, ProductID: 11, VariationID: 111 + int64(i%2), SKU: "NOVA-HOOD", Name: "Nova Hoodie", Quantity: qty,
			Subtotal: 5400 * qty, Total: 5400*qty - int64(i%4)*100, Tax: 540 * qty}
		l2 := wootest.Line{ID: id*10 + 1, ProductID: 12 + int64(i%2), SKU: []string{"NOVA-FIG", "VK-MUG"}[i%2], Name: []string{"Nova Figure", "Void King Mug"}[i%2],
			Quantity: 1, Subtotal: []int64{3900, 1600}[i%2], Total: []int64{3900, 1600}[i%2], Tax: 100}
		o := wootest.Order{ID: id, Status: statuses[i%len(statuses)], Created: at, Modified: at.Add(time.Hour), Paid: at, Country: []string{"US", "DE", "GB", "FR"}[i%4],
			Lines: []wootest.Line{l1, l2}}
		if i%9 == 3 {
			o.Refunds = []wootest.Refund{{ID: id*100 + 1, At: at.Add(48 * time.Hour), Amount: l2.Total, Lines: []wootest.RefundLine{{LineID: l2.ID, Quantity: 1, Total: l2.Total}}}}
		}
		fake.AddOrder(o)
	}
}

// TestBrowserConnectBigCommerce: an owner connects the fake BigCommerce
// store through the wizard in a real browser with a store-level API
// account: a wrong token is refused with the reason, the right one
// connects, the connection test shows the store, the first sync's counts
// move on the page while it runs (the store's request quota is small, so
// the sync waits for the window as BigCommerce's headers say), and it ends with the
// fake's exact lines on the page and net revenue on the Overview; deleted
// orders are not counted.
func TestBrowserConnectBigCommerce(t *testing.T) {
	fake := bctest.New(t, bctest.Options{TaxRate: 10, Quota: 12, Window: time.Second})
	now := time.Now().UTC().Truncate(time.Second)
	var wantLines int
	var wantNet int64
	// Three pages of orders (orderPage is 50), each page some 50 requests
	// at 12 a second: every count the page shows stays for seconds, so that
	// the page's one poll a second sees it change (with 60 orders the
	// middle count lasted a second, and a loaded machine's polls missed it).
	for i := range 150 {
		o := bctest.Order{Created: now.Add(-time.Duration(i*21) * time.Hour), Country: []string{"US", "CA", "GB"}[i%3], Shipping: 500, Deleted: i%20 == 7,
			Lines: []bctest.Line{
				{ProductID: 9, VariantID: 90 + int64(i%2), Name: "Nova Hoodie", SKU: "NOVA-1", Quantity: int64(1 + i%2), Price: 4000, Discount: int64(i%3) * 100},
				{ProductID: 10, Name: "Void King Mug", SKU: "MUG-1", Quantity: 1, Price: 1650}}}
		o = fake.AddOrder(o)
		if o.Deleted {
			continue
		}
		for _, l := range o.Lines {
			wantLines++
			wantNet += l.Price*l.Quantity - l.Discount
		}
		fake.Advance(time.Minute)
	}
	fake.AddProduct(bctest.Product{ID: 9, Name: "Nova Hoodie", SKU: "NOVA-1", Price: 4000})
	fake.AddProduct(bctest.Product{ID: 10, Name: "Void King Mug", SKU: "MUG-1", Price: 1650})

	w := newWizard(t, "bigcommerce", map[string]string{bigcommerce.EnvBaseURL: fake.URL})
	w.open("bigcommerce", "BigCommerce", "#connect-token")
	api := "https://api.bigcommerce.com/stores/" + fake.StoreHash() + "/v3/"
	account := func(token string) {
		w.t.Helper()
		w.step("paste the API account",
			chromedp.SetValue(chromedp.CSS(`#api-account input[name="store_hash"]`), api),
			chromedp.SetValue(chromedp.CSS(`#api-account input[name="token"]`), token),
			chromedp.Click(chromedp.ID("connect-token")),
		)
	}
	account("0123456789abcdefWRONG")
	w.step("a wrong token refused", chromedp.WaitVisible(chromedp.ID("connect-error")))
	if got := w.text("#connect-error"); !strings.Contains(got, "BigCommerce") {
		t.Errorf("a wrong token: %q", got)
	}
	w.shot("2-refused-1440")
	account(fake.IssueToken("store_v2_orders_read_only store_v2_products_read_only store_v2_information_read_only"))
	seen := w.watchSync()
	if got := w.text("#shop-name"); got != "Phantom Merch" {
		t.Errorf("connection test shows store %q", got)
	}
	if got := w.text("#shop-currency"); got != "USD" {
		t.Errorf("connection test shows currency %q", got)
	}
	if got := w.text("#sync-done"); !strings.Contains(got, strconv.Itoa(wantLines)+" order lines") {
		t.Errorf("done: %q, want %d order lines (counts shown while running: %v)", got, wantLines, seen)
	}
	// The client waits out the window when BigCommerce says no request is
	// left (a 429 is the fallback when it did not): the sync met the quota.
	if fake.Spent()+fake.Throttled() == 0 {
		t.Errorf("the sync never spent the store's request quota (%d lines, quota 12/s)", wantLines)
	}
	w.finish("BigCommerce", wantNet)
}
