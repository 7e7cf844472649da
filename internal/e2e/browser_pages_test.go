package e2e

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestBrowserAnalyticsPages opens every analytics page of the demo at
// desktop and phone width, checks each shows its heading and figures
// without an error, and saves screenshots as test artefacts.
func TestBrowserAnalyticsPages(t *testing.T) {
	ctx := browser(t)
	db := storetest.URL(t, store.SQLite)
	if out, err := cli(t, "", "demo", "--db", db, "--sales", "30000"); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	srv := startServer(t, db, "--demo")
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.Click(chromedp.ID("explore-demo")),
		chromedp.WaitVisible(chromedp.ID("kpi-net")),
	); err != nil {
		t.Fatal(err)
	}
	pages := []struct {
		name, path, heading, must string
	}{
		{"overview", "/overview", "Overview", "Tagging coverage"},
		{"overview-filtered", "/overview?range=90d&compare=year&channel=online_store", "Overview", "Net revenue per day"},
		{"assets", "/assets", "Assets", "Unmapped products"},
		{"compare", "/assets/compare?range=12m", "Compare assets", "Share of their combined revenue"},
		{"intelligence", "/intelligence", "Intelligence", "Pixel is rising"},
		{"connectors", "/connectors", "Connectors", "Where your sales come from"},
		{"products", "/products", "Products", "Revenue since"},
		{"catalog", "/catalog", "Products", "Hollowmere"},
		{"team-forbidden", "/settings/team", "Forbidden", "analyst"},
	}
	for _, width := range []int64{1440, 390} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900)); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+p.path), chromedp.WaitVisible(chromedp.CSS("h1"))); err != nil {
				t.Fatalf("%s: %v", p.path, err)
			}
			h := do(t, ctx, chromedp.Text(chromedp.CSS("main h1")))
			body := do(t, ctx, chromedp.Text(chromedp.CSS("main")))
			if h != p.heading || !strings.Contains(body, p.must) {
				t.Errorf("%s at %dpx: heading %q, want %q with %q in the page", p.path, width, h, p.heading, p.must)
			}
			shot := do(t, ctx, chromedp.FullScreenshot(100))
			os.WriteFile(artefact(t, p.name+"-"+strconv.FormatInt(width, 10)+".png"), shot, 0o644)
			// Nothing is wider than the screen, so no page scrolls sideways
			// (wide tables scroll inside a box of their own).
			over := do(t, ctx, chromedp.Evaluate[string](`(() => {
				const w = document.documentElement.clientWidth;
				const scrolls = (el) => { for (let p = el.parentElement; p; p = p.parentElement) { const o = getComputedStyle(p).overflowX; if (o === "auto" || o === "scroll") return true; } return false; };
				for (const el of document.querySelectorAll("main *")) {
					if (el.closest("details:not([open])") || scrolls(el)) continue;
					const r = el.getBoundingClientRect();
					if (r.width > 0 && r.right > w + 1) return el.tagName.toLowerCase() + "." + String(el.className).trim().split(/\s+/).join(".") + " reaches " + Math.round(r.right) + " px";
				}
				return "";
			})()`))
			if over != "" {
				t.Errorf("%s at %d px: %s, wider than the screen", p.path, width, over)
			}
		}
	}
}
