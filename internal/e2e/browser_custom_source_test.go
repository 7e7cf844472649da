package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// tlsFiles is a licensee's system serving a sales file over https (with a
// certificate of its own CA), behind an API key header, with ETags.
type tlsFiles struct {
	mu       sync.Mutex
	body     string
	etag     string
	status   int    // 0: 200
	path     string // the file's path; others are 404
	requests int
	notMod   int // answered 304
	ts       *httptest.Server
}

func newTLSFiles(t *testing.T, body string) *tlsFiles {
	f := &tlsFiles{body: body, etag: `"v1"`, path: "/exports/sales.csv"}
	f.ts = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.requests++
		switch {
		case r.Header.Get("X-Api-Key") != "licensee-key":
			http.Error(w, "no", http.StatusUnauthorized)
			return
		case f.status != 0:
			http.Error(w, "failing", f.status)
			return
		case r.URL.Path != f.path:
			http.NotFound(w, r)
			return
		}
		w.Header().Set("ETag", f.etag)
		if r.Header.Get("If-None-Match") == f.etag {
			f.notMod++
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "text/csv")
		w.Write([]byte(f.body))
	}))
	t.Cleanup(f.ts.Close)
	return f
}

func (f *tlsFiles) set(fn func(*tlsFiles)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

// caFile writes the certificate of f's server as a PEM file, what a
// company gives PHANTOMOS_PULL_CA_FILE for its own CA.
func (f *tlsFiles) caFile(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "licensee-ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.ts.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const (
	pullFileV1 = "order_id,date,updated_at,sku,name,quantity,total,currency,country\n" +
		"L1,2026-11-03,2026-11-03T10:00:00Z,LIC-TEE,Licensed Tee,2,40.00,USD,US\n" +
		"L2,2026-11-04,2026-11-04T10:00:00Z,LIC-MUG,Licensed Mug,1,12.50,USD,GB\n"
	// pullFileV2 changes L2 (two mugs now) and adds L3.
	pullFileV2 = "order_id,date,updated_at,sku,name,quantity,total,currency,country\n" +
		"L1,2026-11-03,2026-11-03T10:00:00Z,LIC-TEE,Licensed Tee,2,40.00,USD,US\n" +
		"L2,2026-11-04,2026-11-05T09:00:00Z,LIC-MUG,Licensed Mug,2,25.00,USD,GB\n" +
		"L3,2026-11-06,2026-11-06T10:00:00Z,LIC-TEE,Licensed Tee,1,20.00,USD,DE\n"
)

// TestBrowserScheduledPull: an owner sets up a scheduled pull in a real
// browser against an https server whose CA the server trusts
// (PHANTOMOS_PULL_CA_FILE): the first pull lands with its counts, a
// changed file is pulled again (new and updated lines), an unchanged one
// is skipped, and a failing URL shows a clear error state on the source
// and the connectors list, with a way to fix it and no Reconnect link;
// changing the URL on the source's settings page fixes it.
func TestBrowserScheduledPull(t *testing.T) {
	ctx := browser(t)
	files := newTLSFiles(t, pullFileV1)
	db := storetest.URL(t, store.SQLite)
	if out, err := cli(t, "a long pull password\n", "publisher", "add", "--db", db, "--name", "Lantern Licensing", "--slug", "lantern", "--owner-email", "lee@lantern.test"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	srv := startServerEnv(t, db, map[string]string{"PHANTOMOS_PULL_CA_FILE": files.caFile(t)})
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
	// submit clicks the button sel, which posts a form, and waits for the
	// page the post leads to (which may have the same address).
	submit := func(what, sel string) {
		t.Helper()
		step(what,
			chromedp.Evaluate[chromedp.Void](`document.body.dataset.before = "1"`),
			chromedp.Click(chromedp.CSS(sel)),
			chromedp.WaitNotPresent(chromedp.CSS("body[data-before]")),
			chromedp.WaitReady(chromedp.CSS("body")),
		)
	}
	// runs reloads the source's page until it lists n pulls, none running,
	// and returns the rows of its table of pulls (newest first).
	runs := func(page string, n int) [][]string {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			step("reload", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("pull")))
			rows := do(t, ctx, chromedp.Evaluate[[][]string](`Array.from(document.querySelectorAll("#pull-runs tbody tr")).map(r => Array.from(r.cells).map(c => c.innerText.trim()))`))
			if len(rows) >= n && !strings.Contains(rows[0][1], "running") && !strings.Contains(text("#pull"), "waiting or running") {
				return rows
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d pulls never finished: %v\n%s", n, rows, srv.stderr)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}

	step("sign in",
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "lee@lantern.test"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "a long pull password"),
		chromedp.Submit(chromedp.CSS(`input[name="email"]`)),
		chromedp.WaitVisible(chromedp.CSS(".usermenu")),
		chromedp.Navigate(srv.URL+"/connectors"),
		chromedp.Click(chromedp.ID("connect-store")),
		chromedp.WaitVisible(chromedp.ID("platform-custom")),
		chromedp.Click(chromedp.ID("platform-custom")),
		chromedp.WaitVisible(chromedp.ID("pull-create")),
	)
	step("fill the form",
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "Licensee monthly"),
		chromedp.SendKeys(chromedp.CSS(`input[name="url"]`), files.ts.URL+files.path),
		chromedp.Click(chromedp.CSS(`input[name="auth"][value="header"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="header"]`), "X-Api-Key"),
		chromedp.SendKeys(chromedp.CSS(`input[name="value"]`), "licensee-key"),
	)
	shot("pull-1-form-1440")
	submit("create", "#pull-create")
	page := do(t, ctx, chromedp.Location())

	// The first pull: two lines, both new.
	rows := runs(page, 1)
	if got := rows[0]; !strings.Contains(got[1], "succeeded") || got[2] != "2" || got[3] != "2" || got[4] != "0" {
		t.Errorf("first pull row %q, want succeeded with 2 rows, 2 new", got)
	}
	if got := text("#pull-checked"); !strings.Contains(got, "imported") {
		t.Errorf("last checked: %q", got)
	}
	if got := text("h1 + p"); !strings.Contains(got, "active") || !strings.Contains(got, "every hour") {
		t.Errorf("source status line: %q", got)
	}
	if body := text("main"); strings.Contains(body, "licensee-key") {
		t.Error("the page shows the credential")
	}
	shot("pull-2-first-1440")

	// A changed file: L2 updated, L3 new, L1 unchanged.
	files.set(func(f *tlsFiles) { f.body, f.etag = pullFileV2, `"v2"` })
	submit("pull the changed file", "#pull-now")
	rows = runs(page, 2)
	if got := rows[0]; !strings.Contains(got[1], "succeeded") || got[2] != "3" || got[3] != "1" || got[4] != "1" || got[5] != "1" {
		t.Errorf("changed file row %q, want 3 rows: 1 new, 1 updated, 1 unchanged", got)
	}

	// The same file again: skipped, nothing read.
	files.mu.Lock()
	before := files.notMod
	files.mu.Unlock()
	submit("pull the unchanged file", "#pull-now")
	rows = runs(page, 3)
	if got := rows[0]; !strings.Contains(got[1], "succeeded") || got[2] != "0" || got[3] != "0" {
		t.Errorf("unchanged file row %q, want nothing read", got)
	}
	if got := text("#pull-checked"); !strings.Contains(got, "unchanged, skipped") {
		t.Errorf("last checked after an unchanged file: %q", got)
	}
	files.mu.Lock()
	if files.notMod != before+1 {
		t.Errorf("the unchanged pull was not conditional (%d 304s, want %d)", files.notMod, before+1)
	}
	files.mu.Unlock()
	shot("pull-3-unchanged-1440")

	// The file moves: the pull fails with a clear error state.
	files.set(func(f *tlsFiles) { f.path = "/exports/2026/sales.csv" })
	submit("pull a missing file", "#pull-now")
	rows = runs(page, 4)
	if !strings.Contains(rows[0][1], "failed") {
		t.Errorf("missing file row %q, want failed", rows[0])
	}
	step("see the error", chromedp.WaitVisible(chromedp.ID("pull-error")))
	if got := text("#pull-error"); !strings.Contains(got, "The last pull failed") || !strings.Contains(got, "404 Not Found") ||
		!strings.Contains(got, "change the URL or credential") {
		t.Errorf("error state: %q", got)
	}
	if got := text("h1 + p"); !strings.Contains(got, "error") {
		t.Errorf("source status line after a failure: %q", got)
	}
	if body := text("main"); strings.Contains(body, "Reconnect") {
		t.Errorf("a pull source offers to reconnect:\n%s", body)
	}
	shot("pull-4-failed-1440")
	step("connectors list", chromedp.Navigate(srv.URL+"/connectors"), chromedp.WaitVisible(chromedp.ID("connectors")))
	if got := text("#connectors"); !strings.Contains(got, "404 Not Found") || !strings.Contains(got, "Fix the pull") || strings.Contains(got, "Reconnect") ||
		!strings.Contains(got, "in 1 h") && !strings.Contains(got, "in 59 min") {
		t.Errorf("connectors list with a failed pull:\n%s", got)
	}
	shot("pull-5-list-failed-1440")

	// Fixed in place: the new URL on the settings page, the same source.
	step("fix the URL",
		chromedp.Click(chromedp.CSS("a.pull-fix")),
		chromedp.WaitVisible(chromedp.ID("pull-fix")),
		chromedp.Click(chromedp.ID("pull-fix")),
		chromedp.WaitVisible(chromedp.ID("pull-save")),
	)
	shot("pull-6-settings-1440")
	step("change the URL", chromedp.SetValue(chromedp.CSS(`input[name="url"]`), files.ts.URL+"/exports/2026/sales.csv"))
	submit("save", "#pull-save")
	rows = runs(page, 5)
	if got := rows[0]; !strings.Contains(got[1], "succeeded") || got[2] != "3" || got[3] != "0" {
		t.Errorf("pull after the fix %q, want the file read again and nothing new", got)
	}
	if n := do(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#pull-error").length`)); n != 0 {
		t.Error("the error is still shown after a good pull")
	}
	if got := text("h1 + p"); !strings.Contains(got, "active") {
		t.Errorf("source status after the fix: %q", got)
	}
	if net, orders := storedSales(t, db); net != 8500 || orders != 3 {
		t.Errorf("stored: %d net over %d orders, want 8500 over 3", net, orders)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	step("phone", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("pull")))
	shot("pull-7-source-390")
}

// storedSales sums the net and counts the orders of every sale in db,
// straight from the sales table.
func storedSales(t *testing.T, dbURL string) (net, orders int64) {
	t.Helper()
	s, err := store.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.DB().QueryRow(`SELECT COALESCE(SUM(net_reporting), 0), COUNT(DISTINCT external_order_id) FROM sales`).Scan(&net, &orders); err != nil {
		t.Fatal(err)
	}
	return net, orders
}

var exampleKey = regexp.MustCompile(`Authorization: Bearer (phk_[A-Za-z0-9_-]+)`)

// TestBrowserCustomSource: a developer's push source, as its page shows
// it: pushes received, last push, refused pushes and rows, the recent
// rejected rows, and a curl example that "Create an ingest key" fills with
// a fresh key; the example, sent as it stands, is accepted.
func TestBrowserCustomSource(t *testing.T) {
	ctx := browser(t)
	db := storetest.URL(t, store.SQLite)
	if out, err := cli(t, "a long push password\n", "publisher", "add", "--db", db, "--name", "Lantern Web", "--slug", "lantern", "--owner-email", "dev@lantern.test"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	srv := startServer(t, db)
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
	push := func(key, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/v1/orders", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}

	// The developer makes an ingest key on the API keys page and pushes.
	step("make a key",
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), "dev@lantern.test"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "a long push password"),
		chromedp.Submit(chromedp.CSS(`input[name="email"]`)),
		chromedp.WaitVisible(chromedp.CSS(".usermenu")),
		chromedp.Navigate(srv.URL+"/settings/api-keys"),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "web store"),
		chromedp.SetValue(chromedp.CSS(`select[name="role"]`), "member"),
		chromedp.SetValue(chromedp.CSS(`select[name="scope"]`), "ingest"),
		chromedp.Submit(chromedp.CSS(`input[name="name"]`)),
		chromedp.WaitVisible(chromedp.ID("new-api-key")),
	)
	first := do(t, ctx, chromedp.Value(chromedp.ID("new-api-key")))
	order := func(id, qty string) map[string]any {
		return map[string]any{"order_id": id, "order_date": time.Now().UTC().Add(-48 * time.Hour).Format(time.RFC3339), "currency": "USD", "country": "US",
			"lines": []any{map[string]any{"line_id": "1", "sku": "WEB-TEE", "name": "Web Tee", "quantity": qty, "gross": "25.00"}}}
	}
	batch := func(orders ...any) string {
		b, _ := json.Marshal(map[string]any{"source": "Web store", "orders": orders})
		return string(b)
	}
	if st, body := push(first, batch(order("W1", "1"), order("W2", "2"))); st != http.StatusOK {
		t.Fatalf("push: %d %s", st, body)
	}
	// One bad line (a negative quantity): the batch is refused whole.
	if st, body := push(first, batch(order("W3", "1"), order("W4", "-1"))); st != http.StatusUnprocessableEntity {
		t.Fatalf("bad push: %d %s", st, body)
	}

	step("the source's page",
		chromedp.Navigate(srv.URL+"/connectors"),
		chromedp.WaitVisible(chromedp.ID("connectors")),
		chromedp.Click(chromedp.JSPath(`Array.from(document.querySelectorAll("#connectors a")).find(a => a.textContent === "Web store")`)),
		chromedp.WaitVisible(chromedp.ID("push-stats")),
	)
	if got := text("#push-count"); got != "2" {
		t.Errorf("pushes received %q, want 2", got)
	}
	if got := text("#last-push"); got == "never" || got == "" {
		t.Errorf("last push %q", got)
	}
	if got := text("#push-refused"); got != "1" {
		t.Errorf("refused pushes %q, want 1", got)
	}
	if got := text("#rejected-rows"); !strings.Contains(got, "orders[1].lines[0].quantity") {
		t.Errorf("recent rejected rows:\n%s", got)
	}
	if got := do(t, ctx, chromedp.Value(chromedp.ID("push-curl"))); !strings.Contains(got, "$PHANTOMOS_INGEST_KEY") || exampleKey.MatchString(got) {
		t.Errorf("the example before a key is made:\n%s", got)
	}
	shot("custom-1-source-1440")

	step("a fresh key for the example", chromedp.Click(chromedp.ID("make-key")), chromedp.WaitVisible(chromedp.ID("new-key")))
	keyPage := do(t, ctx, chromedp.Location())
	curl := do(t, ctx, chromedp.Value(chromedp.ID("push-curl")))
	m := exampleKey.FindStringSubmatch(curl)
	if m == nil || m[1] == first || m[1] != do(t, ctx, chromedp.Value(chromedp.ID("new-ingest-key"))) {
		t.Fatalf("the example does not carry a fresh key:\n%s", curl)
	}
	if hidden := do(t, ctx, chromedp.Evaluate[bool](`document.getElementById("copy-curl").hidden`)); hidden {
		t.Error("the copy button is hidden with JavaScript on")
	}
	shot("custom-2-key-1440")
	body := html.UnescapeString(curl[strings.Index(curl, "--data-binary '")+len("--data-binary '"):])
	body = strings.TrimSuffix(strings.TrimSpace(body), "'")
	if st, out := push(m[1], body); st != http.StatusOK || !strings.Contains(out, `"inserted":1`) {
		t.Errorf("the example as it stands: %d %s", st, out)
	}
	step("after the example", chromedp.Navigate(strings.TrimSuffix(keyPage, "/key")), chromedp.WaitVisible(chromedp.ID("push-stats")))
	if got := text("#push-count"); got != "3" {
		t.Errorf("pushes received after the example %q, want 3", got)
	}
	if got := do(t, ctx, chromedp.Value(chromedp.ID("push-curl"))); strings.Contains(got, m[1]) || !strings.Contains(got, "$PHANTOMOS_INGEST_KEY") {
		t.Error("the key is shown again")
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	step("phone", chromedp.Reload(), chromedp.WaitVisible(chromedp.ID("push-stats")))
	shot("custom-3-source-390")
}
