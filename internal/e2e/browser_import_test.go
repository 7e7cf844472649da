package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestBrowserImport: an owner uploads a sales file with one bad row on the
// Products page, sees the preview (nothing written), then imports the valid
// rows only.
func TestBrowserImport(t *testing.T) {
	ctx := browser(t)
	db := storetest.URL(t, store.SQLite)
	if out, err := cli(t, "a long import password\n", "publisher", "add", "--db", db, "--name", "Paper Lantern", "--slug", "lantern", "--owner-email", "pat@lantern.test"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	srv := startServer(t, db)
	file := filepath.Join(t.TempDir(), "orders.csv")
	os.WriteFile(file, []byte("order_id,date,sku,quantity,total,currency,country\nA1,2026-01-05,LAN-1,2,10.00,USD,US\nA2,2026-01-06,LAN-2,1,5.50,USD,DE\nA3,2026-13-01,LAN-1,1,5.00,USD,US\n"), 0o644)
	text := func(sel string) string { return do(t, ctx, chromedp.Text(chromedp.CSS(sel))) }
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "pat@lantern.test"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "a long import password"),
		chromedp.Submit(chromedp.CSS(`input[name="email"]`)),
		chromedp.WaitVisible(chromedp.CSS(".usermenu")),
		chromedp.Navigate(srv.URL+"/products"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/products/import"]`)),
		chromedp.SetUploadFiles(chromedp.CSS(`input[name="file"]`), []string{file}),
		chromedp.Submit(chromedp.CSS(`input[name="file"]`)),
		chromedp.WaitVisible(chromedp.ID("rows-invalid")),
	); err != nil {
		t.Fatalf("upload: %v\n%s", err, srv.stderr)
	}
	if got := text("#rows-invalid"); got != "1" {
		t.Errorf("invalid rows shown %q, want 1", got)
	}
	if body := text("main"); !strings.Contains(body, "2026-13-01") || !strings.Contains(body, "Nothing has been written") {
		t.Errorf("preview does not show the bad row and that nothing was written:\n%s", body)
	}
	saveShot(t, ctx, "import-preview.png")
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form[action="/products/import/confirm"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
	); err != nil {
		t.Fatal(err)
	}
	if got := text(".notice"); !strings.Contains(got, "2 new") {
		t.Errorf("after import: %q", got)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/overview?from=2026-01-01&to=2026-01-31"), chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
		t.Fatal(err)
	}
	if body := text("main"); !strings.Contains(body, "Net revenue") {
		t.Fatalf("overview after import:\n%s\n%s", body, srv.stderr)
	}
	if got := do(t, ctx, chromedp.AttributeValue(chromedp.ID("kpi-net"), "data-minor")).Value; got != "1550" {
		t.Errorf("overview net after import = %s minor units, want 1550", got)
	}
}
