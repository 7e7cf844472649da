package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestBrowserNotifications: an owner adds an alert rule and the weekly
// digest in Settings → Notifications, is refused a webhook to a loopback
// address (the real server allows public targets only), and saves the
// Overview as a scheduled report from the Overview page.
func TestBrowserNotifications(t *testing.T) {
	ctx := browser(t)
	db := storetest.URL(t, store.SQLite)
	srv := startServer(t, db)
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v\nserver log:\n%s", what, err, srv.stderr)
		}
	}
	text := func(sel string) string { return do(t, ctx, chromedp.Text(chromedp.CSS(sel))) }
	step("sign up",
		chromedp.Navigate(srv.URL+"/signup"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="organization"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="organization"]`), "Moonlit Arcade"),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Olga Owner"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "olga@moonlit.test"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "lanterns over the bay"),
		chromedp.Submit(chromedp.CSS(`input[name="organization"]`)),
		chromedp.WaitVisible(chromedp.CSS(".topbar .publisher")),
	)
	step("open notifications from the settings tabs",
		chromedp.Navigate(srv.URL+"/settings/profile"),
		chromedp.Click(chromedp.CSS(`nav[aria-label="Settings"] a[href="/settings/notifications"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/settings/notifications"]`)),
	)
	step("add an email rule",
		chromedp.Click(chromedp.CSS(`input[name="kind"][value="opportunity"]`)),
		chromedp.SetValue(chromedp.CSS(`select[name="rhythm"]`), "daily"),
		chromedp.Submit(chromedp.CSS(`form[action="/settings/notifications"] select[name="rhythm"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#rules table`)),
	)
	if got := text("#rules tbody"); !strings.Contains(got, "risk, opportunity") || !strings.Contains(got, "daily") || !strings.Contains(got, "olga@moonlit.test") {
		t.Errorf("rules table: %q", got)
	}
	step("a loopback webhook is refused",
		chromedp.SetValue(chromedp.CSS(`select[name="channel"]`), "webhook"),
		chromedp.SendKeys(chromedp.CSS(`input[name="target"]`), "https://127.0.0.1:9/hook"),
		chromedp.Submit(chromedp.CSS(`input[name="target"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.error`)),
	)
	if got := text("p.error"); !strings.Contains(got, "public addresses only") {
		t.Errorf("error: %q", got)
	}
	step("weekly digest on",
		chromedp.Click(chromedp.CSS(`input[name="weekly"]`)),
		chromedp.Submit(chromedp.CSS(`input[name="weekly"]`)),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	)
	if !do(t, ctx, chromedp.Evaluate[bool](`document.querySelector('input[name="weekly"]').checked`)) {
		t.Error("weekly digest box not checked after saving")
	}
	step("save the overview as a report",
		chromedp.Navigate(srv.URL+"/overview?range=30d"),
		chromedp.Click(chromedp.CSS(`.saveasreport summary`)),
		chromedp.WaitVisible(chromedp.CSS(`.saveasreport input[name="name"]`)),
	)
	saveShot(t, ctx, "save-as-report.png")
	step("submit the report",
		chromedp.Submit(chromedp.CSS(`.saveasreport input[name="name"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#reports table`)),
	)
	if got := text("#reports tbody"); !strings.Contains(got, "Overview report") || !strings.Contains(got, "weekly") {
		t.Errorf("reports table: %q", got)
	}
	saveShot(t, ctx, "notifications.png")
	step("phone width", chromedp.EmulateViewport(390, 844))
	saveShot(t, ctx, "notifications-phone.png")
}
