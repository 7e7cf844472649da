package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
	"github.com/phantomos/phantomos/internal/web"
)

// TestBrowserImportInBackground: a file large enough to be imported in the
// background sends the browser, once confirmed, to a page that follows the
// import's progress and then shows its summary.
func TestBrowserImportInBackground(t *testing.T) {
	ctx := browser(t)
	db := storetest.URL(t, store.SQLite)
	if out, err := cli(t, "a long import password\n", "publisher", "add", "--db", db, "--name", "Paper Lantern", "--slug", "lantern", "--owner-email", "pat@lantern.test"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	srv := startServer(t, db)
	rows := web.DefaultImportBackgroundRows + 5000
	var b strings.Builder
	b.WriteString("order_id,date,sku,quantity,total,currency,country\n")
	for i := range rows {
		fmt.Fprintf(&b, "L%d,2026-01-%02d,LAN-%d,1,4.50,USD,US\n", i, 1+i%28, i%30)
	}
	file := filepath.Join(t.TempDir(), "year.csv")
	os.WriteFile(file, []byte(b.String()), 0o644)
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
		chromedp.WaitVisible(chromedp.ID("confirm-import")),
		chromedp.Click(chromedp.ID("confirm-import")),
		// The job's page: its progress while it runs, then the summary.
		chromedp.WaitVisible(chromedp.CSS("#import-running, .notice")),
	); err != nil {
		t.Fatalf("upload and confirm: %v\n%s", err, srv.stderr)
	}
	if running := do(t, ctx, chromedp.Evaluate[bool](`document.getElementById("import-running") !== null`)); running {
		saveShot(t, ctx, "import-progress.png")
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(".notice"))); err != nil {
		t.Fatalf("the import page never showed the summary: %v\n%s", err, srv.stderr)
	}
	want := fmt.Sprintf("Imported year.csv: %d new, 0 updated, 0 unchanged.", rows)
	if got := do(t, ctx, chromedp.Text(chromedp.CSS(".notice"))); !strings.Contains(got, want) {
		t.Errorf("summary %q, want %q", got, want)
	}
}
