package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/phantomos/phantomos/internal/connector/amazon/amazontest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestBrowserConnectAmazon: an owner connects both kinds of Amazon account
// through the wizard in a real browser, against the fake SP-API. The
// Seller Central account goes through the consent flow (Authorize with
// Amazon, the fake's consent page, confirm, back to the callback), the
// connection test names the region and marketplace, and the first sync
// ends with the fake's shipped orders; the Vendor Central account is
// connected by self-authorization and its sell-through is synced. The
// Overview then shows exactly the fake's revenue (seller and vendor), the
// seller's orders only, and the note on the vendor's orderless revenue.
func TestBrowserConnectAmazon(t *testing.T) {
	ctx := browser(t)
	now := time.Now().UTC()
	fake := amazontest.New(t, amazontest.Options{Draft: true, ReportPolls: -1, Start: now})
	var sellerNet, sellerOrders, sellerLines, vendorNet int64
	for i := range 30 {
		at := now.Add(-time.Duration(6+i*11) * time.Hour)
		o := amazontest.Order{ID: fmt.Sprintf("111-%07d-%07d", 100+i, 777+i), Marketplace: "ATVPDKIKX0DER", Created: at, Updated: at.Add(30 * time.Minute),
			Status: "SHIPPED", FulfilledBy: []string{"AMAZON", "MERCHANT"}[i%2], Country: "US", State: "CA"}
		for j := range 1 + i%2 {
			sku := []string{"NOVA-FIG-01", "VK-MUG-01"}[j]
			price := []int64{2999, 1499}[j]
			o.Items = append(o.Items, amazontest.Item{ID: fmt.Sprint(i*10 + j), SKU: sku, ASIN: "B0NOVA000" + fmt.Sprint(j+1), Title: []string{"Nova Figure", "Void King Mug"}[j],
				Qty: int64(1 + i%3), Price: price, Tax: price / 10})
		}
		switch i % 9 {
		case 4:
			o.Status = "CANCELLED"
		case 7:
			o.Status = "PENDING"
		default:
			sellerOrders++
			for _, it := range o.Items {
				sellerLines++
				sellerNet += it.Price * it.Qty
			}
		}
		fake.Put(o)
	}
	today := now.Truncate(24 * time.Hour)
	for d := 2; d <= 21; d++ {
		for j, asin := range []string{"B0NOVA0001", "B0VENDOR01"} {
			units := int64(3 + d%4 + j)
			fake.AddVendorDay(amazontest.VendorDay{Day: today.AddDate(0, 0, -d), ASIN: asin, OrderedUnits: units, OrderedRevenue: units * 2799,
				ShippedUnits: units, ShippedRevenue: units * 2799})
			vendorNet += units * 2799
		}
	}

	db := storetest.URL(t, store.SQLite)
	if out, err := cli(t, "a long amazon password\n", "publisher", "add", "--db", db, "--name", "Nova Games", "--slug", "nova", "--owner-email", "nia@nova.test"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	srv := startServerEnv(t, db, map[string]string{
		"AMAZON_APPLICATION_ID": fake.ApplicationID(), "AMAZON_CLIENT_ID": fake.ClientID(), "AMAZON_CLIENT_SECRET": fake.ClientSecret(),
		"AMAZON_APP_DRAFT": "true", "PHANTOMOS_AMAZON_BASE_URL": fake.URL, "PHANTOMOS_AMAZON_TOKEN_URL": fake.TokenURL(),
		"PHANTOMOS_AMAZON_CONSENT_URL": fake.URL,
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
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "a long amazon password"),
		chromedp.Submit(chromedp.CSS(`input[name="email"]`)),
		chromedp.WaitVisible(chromedp.CSS(".usermenu")),
		chromedp.Navigate(srv.URL+"/connectors"),
		chromedp.WaitVisible(chromedp.ID("connect-store")),
		chromedp.Click(chromedp.ID("connect-store")),
		chromedp.WaitVisible(chromedp.ID("platforms")),
		chromedp.Click(chromedp.ID("platform-amazon")),
		chromedp.WaitVisible(chromedp.ID("authorize-amazon")),
	)
	shot("amazon-1-connect-1440")

	// Seller Central: the consent flow.
	step("authorize with Amazon",
		chromedp.SendKeys(chromedp.CSS(`#consent input[name="region"]`), "NA"),
		chromedp.Click(chromedp.ID("authorize-amazon")),
		chromedp.WaitVisible(chromedp.ID("consent-confirm")),
	)
	if loc := do(t, ctx, chromedp.Location()); !strings.HasPrefix(loc, fake.URL+"/apps/authorize/consent?") || !strings.Contains(loc, "version=beta") {
		t.Errorf("the consent page is at %s", loc)
	}
	step("confirm on the consent page", chromedp.Click(chromedp.ID("consent-confirm")), chromedp.WaitVisible(chromedp.ID("first-sync")))
	if got := text("#shop-name"); got != "Amazon Seller Central NA: Amazon.com" {
		t.Errorf("connection test shows %q", got)
	}
	if got := text("#shop-currency"); got != "USD" {
		t.Errorf("connection test shows currency %q", got)
	}
	step("watch the seller's first sync", chromedp.WaitVisible(chromedp.ID("sync-done")))
	if got := text("#sync-done"); !strings.Contains(got, fmt.Sprintf("%d order lines", sellerLines)) {
		t.Errorf("seller done: %q, want %d order lines", got, sellerLines)
	}
	shot("amazon-2-seller-done-1440")

	// Vendor Central: self-authorization with the private app's token.
	step("open the connect step again", chromedp.Navigate(srv.URL+"/connectors/new/amazon"), chromedp.WaitVisible(chromedp.ID("connect-amazon-vendor")))
	fields := map[string]string{"seller_id": "NOVAVENDOR", "region": "NA", "client_id": fake.ClientID(), "client_secret": fake.ClientSecret(),
		"refresh_token": fake.IssueRefreshToken()}
	var fill []chromedp.Action[chromedp.Void]
	for _, name := range []string{"seller_id", "region", "client_id", "client_secret", "refresh_token"} {
		fill = append(fill, chromedp.SendKeys(chromedp.CSS(`#vendor input[name="`+name+`"]`), fields[name]))
	}
	step("fill the vendor form", fill...)
	shot("amazon-3-vendor-form-1440")
	step("connect the vendor account", chromedp.Click(chromedp.ID("connect-amazon-vendor")), chromedp.WaitVisible(chromedp.ID("first-sync")))
	if got := text("#shop-name"); got != "Amazon Vendor Central NA: Amazon.com" {
		t.Errorf("vendor connection test shows %q", got)
	}
	if got := text("h1"); got != "Amazon Vendor Central NA (NOVAVENDOR)" {
		t.Errorf("the vendor connector is named %q", got)
	}
	step("watch the vendor's first sync", chromedp.WaitVisible(chromedp.ID("sync-done")))
	shot("amazon-4-vendor-done-1440")

	step("the Overview", chromedp.Navigate(srv.URL+"/overview?range=12m"), chromedp.WaitVisible(chromedp.ID("kpi-net")))
	minor := func(id string) string {
		return do(t, ctx, chromedp.AttributeValue(chromedp.ID(id), "data-minor")).Value
	}
	if got := minor("kpi-net"); got != fmt.Sprint(sellerNet+vendorNet) {
		t.Errorf("Overview net = %s minor units, want the fake's seller %d + vendor %d", got, sellerNet, vendorNet)
	}
	if got := minor("kpi-orders"); got != fmt.Sprint(sellerOrders) {
		t.Errorf("Overview orders = %s, want the seller's %d shipped orders (vendor sales have none; cancelled and pending ones are not sales)", got, sellerOrders)
	}
	if got := minor("kpi-aov"); got != fmt.Sprint(sellerNet/sellerOrders) {
		t.Errorf("Overview AOV = %s, want the seller's %d", got, sellerNet/sellerOrders)
	}
	if got := text("#orderless-note"); !strings.Contains(got, "vendor sell-through") || !strings.Contains(got, fmt.Sprintf("%d.%02d", vendorNet/100%1000, vendorNet%100)) {
		t.Errorf("orderless note %q (vendor revenue %d)", got, vendorNet)
	}
	// The vendor's ASIN that the seller sells too is the seller's product
	// (by ASIN): its sell-through adds to "Nova Figure".
	if body := text("main"); strings.Contains(body, "B0NOVA0001") || !strings.Contains(body, "B0VENDOR01") {
		t.Errorf("top products should show the shared ASIN as the seller's product and the vendor-only one by its ASIN:\n%s", body)
	}
	shot("amazon-5-overview-1440")

	step("connectors list", chromedp.Navigate(srv.URL+"/connectors"), chromedp.WaitVisible(chromedp.ID("connectors")))
	if body := text("#connectors"); strings.Count(body, "active") < 2 {
		t.Errorf("connectors list:\n%s", body)
	}
	shot("amazon-6-connectors-1440")

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	step("connect step on a phone", chromedp.Navigate(srv.URL+"/connectors/new/amazon"), chromedp.WaitVisible(chromedp.ID("authorize-amazon")))
	shot("amazon-1-connect-390")
}
