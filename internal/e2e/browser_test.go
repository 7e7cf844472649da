package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// browser starts headless Debian chromium, or skips when it is absent
// outside CI.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is required under CI (apt-get install chromium)")
		}
		t.Skip("chromium not installed; skipping browser test")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

// artefact returns where a test artefact (a screenshot) is written:
// $PHANTOMOS_ARTEFACTS, or testdata/artefacts beside this file.
func artefact(t *testing.T, name string) string {
	dir := os.Getenv("PHANTOMOS_ARTEFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artefacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, name)
}

// TestBrowserDemo: on the login page, "Explore the demo" leads to an
// Overview that shows the revenue of the last 12 months.
func TestBrowserDemo(t *testing.T) {
	ctx := browser(t)
	db := storetest.URL(t, store.SQLite)
	if out, err := cli(t, "", "demo", "--db", db, "--sales", "30000"); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	srv := startServer(t, db, "--demo")
	wantNet, _, _ := rawTotals(t, db)

	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("explore-demo")),
		chromedp.Click(chromedp.ID("explore-demo")),
		chromedp.WaitVisible(chromedp.ID("kpi-net")),
	)
	if err != nil {
		t.Fatalf("browser: %v\nserver log:\n%s", err, srv.stderr)
	}
	heading := do(t, ctx, chromedp.Text(chromedp.CSS("h1")))
	net := do(t, ctx, chromedp.Text(chromedp.ID("kpi-net")))
	minor := do(t, ctx, chromedp.AttributeValue(chromedp.ID("kpi-net"), "data-minor")).Value
	shot := do(t, ctx, chromedp.FullScreenshot(100))
	if heading != "Overview" {
		t.Errorf("heading %q, want Overview", heading)
	}
	if !strings.HasPrefix(net, "$") || minor != strconv.FormatInt(wantNet, 10) {
		t.Errorf("net revenue shown %q (%s minor units), want %d", net, minor, wantNet)
	}
	if err := os.WriteFile(artefact(t, "overview.png"), shot, 0o644); err != nil {
		t.Fatal(err)
	}

	// "Explore as owner" opens a private copy in which the visitor may do
	// what the shared demo refuses, such as inviting a teammate.
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("explore-copy")),
		chromedp.Click(chromedp.ID("explore-copy")),
		chromedp.WaitVisible(chromedp.ID("kpi-net")),
		chromedp.Navigate(srv.URL+"/settings/team"),
		chromedp.WaitVisible(chromedp.CSS(`form[action="/settings/team/invite"] input[name="email"]`)),
	)
	if err != nil {
		t.Fatalf("explore as owner: %v\nserver log:\n%s", err, srv.stderr)
	}
}

// do runs one browser action and returns its result, failing the test on
// error.
// saveShot saves a full-page screenshot as an artefact for people to look
// at. A page that updates itself (live progress reloads it when a sync
// ends) can be between two documents, with no size, at the moment of the
// capture: it is tried again a few times, and a capture that still fails
// is logged, not a failure, since no check depends on it.
func saveShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	var err error
	for range 5 {
		var png []byte
		if png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			if err = os.WriteFile(artefact(t, name), png, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("screenshot %s not saved: %v", name, err)
}

func do[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}
