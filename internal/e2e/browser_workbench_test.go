package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestBrowserWorkbenchKeyboard: on the demo publisher's review queue a
// member reviews ten products with the keyboard alone (j/k, a, 1, r, s,
// ?), sees each decision saved, then bulk-accepts what is left above 70%.
func TestBrowserWorkbenchKeyboard(t *testing.T) {
	ctx := browser(t)
	db := storetest.URL(t, store.SQLite)
	if out, err := cli(t, "", "demo", "--db", db, "--sales", "20000"); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	if out, err := cli(t, "a long review password\n", "user", "add", "--db", db, "--publisher", "demo", "--email", "rae@demo.test", "--role", "member", "--name", "Rae"); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	srv := startServer(t, db)
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	pub, err := st.PublisherBySlug(context.Background(), "demo")
	if err != nil {
		t.Fatal(err)
	}
	summary := func() map[string]int {
		sum, err := st.MappingSummary(context.Background(), pub.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		return sum.Products
	}
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v\nserver log:\n%s", what, err, srv.stderr)
		}
	}
	attr := func(sel, name string) string {
		return do(t, ctx, chromedp.AttributeValue(chromedp.CSS(sel), name)).Value
	}

	step("sign in and open the queue",
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "rae@demo.test"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "a long review password"),
		chromedp.Submit(chromedp.CSS(`input[name="email"]`)),
		chromedp.WaitVisible(chromedp.CSS(".usermenu")),
		chromedp.Navigate(srv.URL+"/products"),
		chromedp.WaitVisible(chromedp.CSS("table.products tbody tr.current")),
	)
	before := summary()
	os.WriteFile(artefact(t, "products-queue.png"), do(t, ctx, chromedp.CaptureScreenshot()), 0o644)

	// j and k move the cursor; ? shows the help and hides it again.
	first := attr("tbody tr.current", "data-id")
	step("j then k", chromedp.KeyEvent("j"), chromedp.KeyEvent("k"))
	if got := attr("tbody tr.current", "data-id"); got != first {
		t.Fatalf("j then k moved from %s to %s", first, got)
	}
	step("help", chromedp.KeyEvent("?"), chromedp.WaitVisible(chromedp.ID("keyhelp")), chromedp.KeyEvent("?"), chromedp.WaitNotVisible(chromedp.ID("keyhelp")))

	want := map[string]int{}
	for i := 1; i <= 10; i++ {
		row := fmt.Sprintf("table.products tbody tr:nth-child(%d)", i)
		if attr(row, "class") != "current" && !strings.Contains(attr(row, "class"), "current") {
			t.Fatalf("row %d is not the current row: %q", i, attr(row, "class"))
		}
		key, status := "s", phantomos.MappingSkipped
		if attr(row, "data-suggestions") != "0" {
			switch i {
			case 2:
				key, status = "1", phantomos.MappingConfirmed
			case 3:
				key, status = "r", phantomos.MappingUnmapped
			default:
				key, status = "a", phantomos.MappingConfirmed
			}
		}
		step(fmt.Sprintf("product %d: %s", i, key), chromedp.KeyEvent(key), chromedp.WaitVisible(chromedp.CSS(row+".done")))
		if got := attr(row, "data-status"); got != status {
			t.Errorf("product %d after %q: status %q, want %q (%s)", i, key, got, status, do(t, ctx, chromedp.Text(chromedp.CSS("#kbd-status"))))
		}
		want[status]++
	}
	os.WriteFile(artefact(t, "products-reviewed.png"), do(t, ctx, chromedp.Screenshot(chromedp.CSS("table.products"))), 0o644)
	after := summary()
	if d := after[phantomos.MappingConfirmed] - before[phantomos.MappingConfirmed]; d != want[phantomos.MappingConfirmed] {
		t.Errorf("%d more confirmed products in the database, want %d", d, want[phantomos.MappingConfirmed])
	}
	if d := after[phantomos.MappingSkipped] - before[phantomos.MappingSkipped]; d != want[phantomos.MappingSkipped] {
		t.Errorf("%d more skipped products in the database, want %d", d, want[phantomos.MappingSkipped])
	}

	// The row buttons work with a mouse too: they share a form with the
	// bulk-assign select, whose "required" must not block them.
	for _, c := range []struct{ action, status string }{
		{"accept", phantomos.MappingConfirmed},
		{"skip", phantomos.MappingSkipped},
	} {
		row := fmt.Sprintf(`table.products tbody tr:has(button[value=%q])`, c.action)
		step("open the queue for "+c.action,
			chromedp.Navigate(srv.URL+"/products"),
			chromedp.WaitVisible(chromedp.CSS(row)),
		)
		id := attr(row, "data-id")
		step("click "+c.action,
			chromedp.Click(chromedp.CSS(row+fmt.Sprintf(` button[value=%q]`, c.action))),
			chromedp.WaitVisible(chromedp.CSS(".notice")),
		)
		p, err := st.ProductItem(context.Background(), pub.ID, id, "")
		if err != nil {
			t.Fatal(err)
		}
		if p.MappingStatus != c.status {
			t.Errorf("after clicking %s on product %s: status %q, want %q", c.action, id, p.MappingStatus, c.status)
		}
	}

	// Bulk-accept everything left at 70% or more.
	step("bulk accept",
		chromedp.Navigate(srv.URL+"/products"),
		chromedp.WaitVisible(chromedp.CSS("form.bulkaccept")),
		chromedp.SetValue(chromedp.CSS(`form.bulkaccept select[name="min_confidence"]`), "0.7"),
		chromedp.Click(chromedp.CSS(`form.bulkaccept button[value="accept"]`)),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
	)
	if got := do(t, ctx, chromedp.Text(chromedp.CSS(".notice"))); !strings.Contains(got, "Accepted the suggestions of") {
		t.Errorf("bulk accept notice %q", got)
	}
	left, err := st.ProductList(context.Background(), pub.ID, store.ProductQuery{Status: phantomos.MappingSuggested, MinConf: 0.7})
	if err != nil || left.Total != 0 {
		t.Errorf("after bulk accept %d products still have suggestions of 70%% or more (%v)", left.Total, err)
	}
	if final := summary(); final[phantomos.MappingConfirmed] <= after[phantomos.MappingConfirmed] {
		t.Errorf("bulk accept confirmed nothing: %v → %v", after, final)
	}

	// The product page and the catalogue, for a look at desktop and phone
	// widths.
	step("product page",
		chromedp.Navigate(srv.URL+"/products?status=all&sort=confidence"),
		chromedp.WaitVisible(chromedp.CSS("table.products")),
		chromedp.Click(chromedp.CSS("table.products tbody tr:nth-child(1) td:nth-child(2) a")),
		chromedp.WaitVisible(chromedp.CSS("form.reviewform")),
	)
	saveShot(t, ctx, "product-review.png")
	step("catalogue", chromedp.Navigate(srv.URL+"/catalog"), chromedp.WaitVisible(chromedp.CSS("section.catalogip")))
	saveShot(t, ctx, "catalog.png")
	step("phone", chromedp.EmulateViewport(390, 844), chromedp.Navigate(srv.URL+"/products"), chromedp.WaitVisible(chromedp.CSS("table.products")))
	saveShot(t, ctx, "products-phone.png")
}
