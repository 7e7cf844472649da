package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/phantomos/phantomos/internal/demo"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestBrowserAsk asks the three questions of issue 19 on the demo through
// the question box in the header, reads each answer and follows its link.
func TestBrowserAsk(t *testing.T) {
	ctx := browser(t)
	db := storetest.URL(t, store.SQLite)
	if out, err := cli(t, "", "demo", "--db", db, "--sales", "20000"); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	srv := startServer(t, db, "--demo")
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1440, 900),
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.Click(chromedp.ID("explore-demo")),
		chromedp.WaitVisible(chromedp.ID("kpi-net")),
	); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		question, must, page string
	}{
		{"Which character generated the most revenue this quarter?", "generated the most revenue in this quarter", "Assets"},
		{"How is our villain performing compared to our hero?", demo.Villain, "Compare assets"},
		{"What product categories should we expand into?", "Expand ", "Overview"},
	} {
		if err := chromedp.Do(ctx,
			chromedp.Navigate(srv.URL+"/overview"),
			chromedp.WaitVisible(chromedp.ID("askbox-q")),
			chromedp.SendKeys(chromedp.ID("askbox-q"), c.question),
			chromedp.Submit(chromedp.ID("askbox-q")),
			chromedp.WaitVisible(chromedp.ID("answer")),
		); err != nil {
			t.Fatalf("%q: %v", c.question, err)
		}
		answer := do(t, ctx, chromedp.Text(chromedp.ID("answer")))
		if !strings.Contains(answer, c.must) {
			t.Errorf("%q: answer %q, want %q in it", c.question, answer, c.must)
		}
		if c.page == "Compare assets" && !strings.Contains(answer, demo.Hero) {
			t.Errorf("%q: answer %q does not name %s", c.question, answer, demo.Hero)
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("answer-link")), chromedp.WaitVisible(chromedp.CSS("main h1"))); err != nil {
			t.Fatalf("%q: link: %v", c.question, err)
		}
		if h := do(t, ctx, chromedp.Text(chromedp.CSS("main h1"))); h != c.page {
			t.Errorf("%q: the link opens %q, want %q", c.question, h, c.page)
		}
	}
}
