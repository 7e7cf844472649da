package e2e

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestBrowserIntelligenceWeekly: on the Intelligence page an analyst
// switches the forecast to weeks with the form and gets a weekly forecast
// with its interval bands, its accuracy a week ahead and its table of
// weeks; an insight opens to its evidence and chart. Screenshots at desktop
// and phone width are saved as test artefacts.
func TestBrowserIntelligenceWeekly(t *testing.T) {
	browser(t) // skips when chromium is absent; each width gets its own below
	db := storetest.URL(t, store.SQLite)
	if out, err := cli(t, "", "demo", "--db", db, "--sales", "30000"); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	srv := startServer(t, db, "--demo")
	for _, width := range []int64{1440, 390} {
		w := strconv.FormatInt(width, 10)
		t.Run(w, func(t *testing.T) {
			// A browser per width, each within the browser's time limit.
			ctx := browser(t)
			if err := chromedp.Do(ctx,
				chromedp.Navigate(srv.URL+"/login"),
				chromedp.Click(chromedp.ID("explore-demo")),
				chromedp.WaitVisible(chromedp.ID("kpi-net")),
			); err != nil {
				t.Fatalf("browser: %v\nserver log:\n%s", err, srv.stderr)
			}
			weekly(t, ctx, srv.URL, width)
		})
	}
}

// weekly chooses the weekly forecast on the Intelligence page at width
// pixels, checks it and opens an insight, saving screenshots.
func weekly(t *testing.T, ctx context.Context, base string, width int64) {
	w := strconv.FormatInt(width, 10)
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(width, 900),
		chromedp.Navigate(base+"/intelligence"),
		chromedp.WaitVisible(chromedp.ID("forecast")),
		chromedp.SetValue(chromedp.CSS(`#forecast select[name="grain"]`), "week"),
		chromedp.Click(chromedp.CSS(`#forecast button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#forecast svg.chart.bands[aria-label^="Weekly"]`)),
	); err != nil {
		t.Fatalf("%spx: weekly forecast: %v", w, err)
	}
	url := do(t, ctx, chromedp.Location())
	panel := do(t, ctx, chromedp.Text(chromedp.ID("forecast")))
	selected := do(t, ctx, chromedp.Value(chromedp.CSS(`#forecast select[name="horizon"]`)))
	for _, want := range []string{"Typically within ±", "a week ahead", "Weeks ahead", "complete weeks only (Monday to Sunday"} {
		if !strings.Contains(panel, want) {
			t.Errorf("%spx: the forecast panel lacks %q:\n%s", w, want, panel)
		}
	}
	if !strings.Contains(url, "grain=week") || selected != "13" {
		t.Errorf("%spx: after choosing weeks the page is %s with %s periods ahead, want grain=week and 13", w, url, selected)
	}
	bands := do(t, ctx, chromedp.AttributeValue(chromedp.CSS(`#forecast svg.chart.bands`), "aria-label")).Value
	if !strings.HasPrefix(bands, "Weekly net revenue") {
		t.Errorf("%spx: forecast chart %q, want the weekly one", w, bands)
	}
	shot := do(t, ctx, chromedp.FullScreenshot(90))
	os.WriteFile(artefact(t, "intelligence-weekly-"+w+".png"), shot, 0o644)
	shot = do(t, ctx, chromedp.Screenshot(chromedp.ID("forecast")))
	os.WriteFile(artefact(t, "intelligence-forecast-weekly-"+w+".png"), shot, 0o644)

	// The first insight opens to its evidence: figures and a chart.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`details.insight > summary`)),
		chromedp.WaitVisible(chromedp.CSS(`details.insight[open] table.evidence`)),
		chromedp.ScrollIntoView(chromedp.CSS(`details.insight[open]`)),
	); err != nil {
		t.Fatalf("%spx: open an insight: %v", w, err)
	}
	shot = do(t, ctx, chromedp.CaptureScreenshot())
	os.WriteFile(artefact(t, "intelligence-insight-"+w+".png"), shot, 0o644)
}
