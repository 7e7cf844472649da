// Package e2e tests PhantomOS whole: the real command line through run.Run,
// the real HTTP server on a free port, the real database on both engines,
// and a real headless browser.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
	"github.com/phantomos/phantomos/internal/run"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// server is a phantomos serve process running inside the test.
type server struct {
	URL    string
	DB     string
	stderr *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// cli runs one phantomos command and returns its output.
func cli(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run.Run(context.Background(), args, env(nil), &out, &errOut, run.Options{Stdin: strings.NewReader(stdin)})
	if err != nil {
		return out.String() + errOut.String(), err
	}
	return out.String(), nil
}

// startServer runs "phantomos serve --addr 127.0.0.1:0" on db with extra
// arguments, waits until /readyz answers and stops it at cleanup.
func startServer(t *testing.T, db string, args ...string) *server {
	t.Helper()
	return startServerEnv(t, db, nil, args...)
}

// startServerEnv is startServer with more environment variables.
func startServerEnv(t *testing.T, db string, environ map[string]string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	srv := &server{DB: db, stderr: &syncBuffer{}}
	done := make(chan error, 1)
	dataDir := t.TempDir()
	go func() {
		all := append([]string{"serve", "--addr", "127.0.0.1:0", "--db", db}, args...)
		// The credential key goes to the test's own folder, never the package's.
		vars := map[string]string{"PHANTOMOS_DATA_DIR": dataDir}
		for k, v := range environ {
			vars[k] = v
		}
		getenv := env(vars)
		done <- run.Run(ctx, all, getenv, io.Discard, srv.stderr, run.Options{Ready: func(a string) { addrc <- a }})
	}()
	select {
	case a := <-addrc:
		srv.URL = "http://" + a
	case err := <-done:
		cancel()
		t.Fatalf("serve exited: %v\n%s", err, srv.stderr)
	case <-time.After(60 * time.Second):
		cancel()
		t.Fatalf("serve did not start\n%s", srv.stderr)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	for i := 0; ; i++ {
		resp, err := http.Get(srv.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i > 100 {
			t.Fatalf("/readyz never became ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return srv
}

func newClient(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

// post sends a same-origin form post, as a browser would.
func post(t *testing.T, c *http.Client, srv *server, path string, form url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// rawTotals computes the last-12-months figures of the demo publisher
// straight from the sales table, bypassing the rollups.
func rawTotals(t *testing.T, dbURL string) (net, orders, units int64) {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pub, err := s.PublisherBySlug(ctx, "demo")
	if err != nil {
		t.Fatal(err)
	}
	p, err := analytics.Range("12m", time.Now(), pub.Location())
	if err != nil {
		t.Fatal(err)
	}
	err = s.DB().QueryRowContext(ctx, `SELECT COALESCE(SUM(net_reporting), 0), COUNT(DISTINCT connector_id || '/' || external_order_id), COALESCE(SUM(quantity), 0)
		FROM sales WHERE publisher_id = $1 AND day BETWEEN $2 AND $3`, pub.ID, string(p.From), string(p.To)).Scan(&net, &orders, &units)
	if err != nil {
		t.Fatal(err)
	}
	return net, orders, units
}

var (
	netRe    = regexp.MustCompile(`id="kpi-net" data-minor="(-?\d+)"`)
	ordersRe = regexp.MustCompile(`id="kpi-orders" data-minor="(\d+)"`)
	unitsRe  = regexp.MustCompile(`id="kpi-units" data-minor="(\d+)"`)
)

func match(t *testing.T, re *regexp.Regexp, page string) int64 {
	t.Helper()
	m := re.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("%s not found in page:\n%s", re, page)
	}
	n, err := strconv.ParseInt(strings.ReplaceAll(m[1], ",", ""), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func forEachEngine(t *testing.T, fn func(t *testing.T, db string)) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) { fn(t, storetest.URL(t, d)) })
	}
}

// TestSignInAndOverview signs in with a password and through the demo
// button, and checks the Overview's figures against a direct SQL sum.
func TestSignInAndOverview(t *testing.T) {
	forEachEngine(t, func(t *testing.T, db string) {
		if out, err := cli(t, "", "demo", "--db", db, "--sales", "20000", "--seed", "7"); err != nil {
			t.Fatalf("demo: %v\n%s", err, out)
		}
		if out, err := cli(t, "correct horse battery\n", "user", "add", "--db", db, "--publisher", "demo", "--email", "Owner@Example.com", "--role", "owner", "--name", "Olive"); err != nil {
			t.Fatalf("user add: %v\n%s", err, out)
		}
		srv := startServer(t, db, "--demo")
		wantNet, wantOrders, wantUnits := rawTotals(t, db)
		if wantOrders == 0 {
			t.Fatal("demo has no orders in the last 12 months")
		}

		c := newClient(t)
		// Anonymous: / and /overview lead to the sign-in page.
		resp, err := c.Get(srv.URL + "/overview")
		if err != nil {
			t.Fatal(err)
		}
		if page := body(t, resp); resp.Request.URL.Path != "/login" || !strings.Contains(page, "Explore the demo") {
			t.Fatalf("anonymous /overview ended at %s; want the login page with the demo button", resp.Request.URL)
		}

		// A wrong password is refused with a message that names no account.
		resp = post(t, c, srv, "/login", url.Values{"email": {"owner@example.com"}, "password": {"wrong password!"}})
		if page := body(t, resp); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(page, "Email or password is incorrect.") {
			t.Fatalf("wrong password: status %d", resp.StatusCode)
		}

		// The right password (email in another case) reaches the overview.
		resp = post(t, c, srv, "/login", url.Values{"email": {"OWNER@example.com"}, "password": {"correct horse battery"}})
		page := body(t, resp)
		if resp.Request.URL.Path != "/overview" {
			t.Fatalf("after sign-in: at %s (status %d)", resp.Request.URL, resp.StatusCode)
		}
		if got := match(t, netRe, page); got != wantNet {
			t.Errorf("overview net revenue = %d, raw SQL sum = %d", got, wantNet)
		}
		if got := match(t, ordersRe, page); got != wantOrders {
			t.Errorf("overview orders = %d, raw distinct orders = %d", got, wantOrders)
		}
		if got := match(t, unitsRe, page); got != wantUnits {
			t.Errorf("overview units = %d, raw units = %d", got, wantUnits)
		}
		if !strings.Contains(page, "Olive") || !strings.Contains(page, "owner") {
			t.Error("overview does not show the signed-in user and role")
		}

		// The JSON API gives the same numbers.
		resp, err = c.Get(srv.URL + "/api/analytics")
		if err != nil {
			t.Fatal(err)
		}
		js := body(t, resp)
		if !strings.Contains(js, fmt.Sprintf(`"net_revenue":%d`, wantNet)) || !strings.Contains(js, fmt.Sprintf(`"orders":%d`, wantOrders)) {
			t.Errorf("/api/analytics disagrees with SQL (net %d, orders %d): %s", wantNet, wantOrders, js)
		}

		// Sign out ends the session for good: the old cookie no longer works.
		u, _ := url.Parse(srv.URL)
		old := c.Jar.Cookies(u)
		post(t, c, srv, "/logout", nil).Body.Close()
		replay := newClient(t)
		replay.Jar.SetCookies(u, old)
		resp, err = replay.Get(srv.URL + "/api/v1/me")
		if err != nil {
			t.Fatal(err)
		}
		if body(t, resp); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("replayed cookie after sign-out: status %d, want 401", resp.StatusCode)
		}

		// The demo button signs in as the read-only analyst.
		d := newClient(t)
		resp = post(t, d, srv, "/login/demo", nil)
		page = body(t, resp)
		if resp.Request.URL.Path != "/overview" || match(t, netRe, page) != wantNet {
			t.Fatalf("demo sign-in: at %s", resp.Request.URL)
		}
		resp, err = d.Get(srv.URL + "/settings/team")
		if err != nil {
			t.Fatal(err)
		}
		if body(t, resp); resp.StatusCode != http.StatusForbidden {
			t.Errorf("analyst on /settings/team: status %d, want 403", resp.StatusCode)
		}
	})
}

// TestCrossSiteFormPostIsRefused checks CSRF protection on a state-changing
// route.
func TestCrossSiteFormPostIsRefused(t *testing.T) {
	db := storetest.URL(t, store.SQLite)
	srv := startServer(t, db, "--demo")
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/login/demo", nil)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site post: status %d, want 403", resp.StatusCode)
	}
	if c := resp.Header.Get("Set-Cookie"); c != "" {
		t.Errorf("cross-site post set a cookie: %s", c)
	}
}

// TestOperations checks health, readiness, metrics and security headers.
func TestOperations(t *testing.T) {
	db := storetest.URL(t, store.SQLite)
	srv := startServer(t, db)
	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		if b := body(t, resp); resp.StatusCode != 200 || !strings.Contains(b, want) {
			t.Errorf("%s: %d %q", path, resp.StatusCode, b)
		}
	}
	resp, err := http.Get(srv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body(t, resp)
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("header %s = %q, want %q", h, got, want)
		}
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP = %q", csp)
	}
	resp, err = http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m := body(t, resp)
	for _, want := range []string{`phantomos_http_requests_total{code="200",method="GET",route="GET /login"}`, "phantomos_http_request_duration_seconds_bucket", "go_sql_open_connections"} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	_ = phantomos.NewID
}
