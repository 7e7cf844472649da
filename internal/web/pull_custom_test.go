package web

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/config"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// upload posts a sales file to source as the harness's admin, as the
// import API does.
func (h *pullHarness) upload(source, body string) map[string]any {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/api/sales/import?source="+url.QueryEscape(source), strings.NewReader(body))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Origin", h.ts.URL)
	req.AddCookie(h.admin)
	st, out := do(h.t, req)
	var res map[string]any
	json.Unmarshal([]byte(out), &res)
	if st != http.StatusOK {
		h.t.Fatalf("upload: %d %s", st, out)
	}
	return res
}

// orders returns the stored lines of each order of the harness's tenant.
func (h *pullHarness) orders() map[string]int {
	h.t.Helper()
	rows, err := h.s.DB().Query(`SELECT external_order_id, COUNT(*) FROM sales WHERE publisher_id = $1 GROUP BY external_order_id`, h.a.pub.ID)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			h.t.Fatal(err)
		}
		out[id] = n
	}
	return out
}

// TestPullKeepsTombstones: an order deleted through the API stays deleted
// when a scheduled pull or an upload to the same source brings a version
// not newer than the deletion (older, or without updated_at), and comes
// back with one updated after it: the push API's rule, on every path.
func TestPullKeepsTombstones(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := newPullHarness(t, s)
		const head = "order_id,date,updated_at,sku,quantity,total,currency\n"
		v1 := head + "T1,2026-01-05,2026-01-05T10:00:00Z,X,2,10.00,USD\nT2,2026-01-06,2026-01-06T10:00:00Z,Y,1,5.50,USD\n"
		files := newFileServer(t, v1)
		id, err := s.CreatePullSource(ctx, h.a.pub.ID, "Licensee", store.PullSource{URL: files.ts.URL + "/sales.csv", Kind: "sales", Format: "auto", Auth: "none", EveryMinutes: 60})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.srv.work.SyncConnector(ctx, h.a.pub.ID, id); err != nil {
			t.Fatalf("first pull: %v (%s)", err, h.source(id).LastError)
		}
		key := ingestKey(t, s, h.a)
		if r := push(t, h.ts, key, "DELETE", "/api/v1/orders/Licensee/T1?updated_at=2026-01-07T00:00:00Z", "", nil); r.status != 200 || r.json(t)["deleted_lines"] != float64(1) {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		// The licensee's next file still lists T1 as it was, and adds T3.
		files.set(func(f *fileServer) {
			f.etag = `"v2"`
			f.body = v1 + "T3,2026-01-08,2026-01-08T10:00:00Z,X,1,5.00,USD\n"
		})
		if err := h.srv.work.SyncConnector(ctx, h.a.pub.ID, id); err != nil {
			t.Fatalf("second pull: %v (%s)", err, h.source(id).LastError)
		}
		if got := h.orders(); got["T1"] != 0 || got["T2"] != 1 || got["T3"] != 1 {
			t.Errorf("after a pull of the older T1: %v, want T1 still deleted and T3 in", got)
		}
		// An upload of an export without updated_at: T1 stays deleted.
		res := h.upload("Licensee", "order_id,date,sku,quantity,total,currency\nT1,2026-01-05,X,2,10.00,USD\n")
		if res["inserted"] != float64(0) || res["stale_orders"] != float64(1) {
			t.Errorf("upload of T1 without updated_at: %v, want it stale", res)
		}
		if got := h.orders(); got["T1"] != 0 {
			t.Errorf("the upload brought T1 back: %v", got)
		}
		// T1 changed after its deletion (re-sold): the next file restores it.
		files.set(func(f *fileServer) {
			f.etag = `"v3"`
			f.body = strings.Replace(f.body, "T1,2026-01-05,2026-01-05T10:00:00Z,X,2,10.00", "T1,2026-01-05,2026-01-09T08:00:00Z,X,1,5.00", 1)
		})
		if err := h.srv.work.SyncConnector(ctx, h.a.pub.ID, id); err != nil {
			t.Fatalf("third pull: %v (%s)", err, h.source(id).LastError)
		}
		if got := h.orders(); got["T1"] != 1 {
			t.Errorf("after a pull of T1 updated after its deletion: %v, want it back", got)
		}
		if n, g := salesCount(t, s, h.a.pub.ID); n != 3 || g != 1550 {
			t.Errorf("%d lines %d gross, want 3 and 1550", n, g)
		}
		if err := s.CheckRollups(ctx, h.a.pub.ID); err != nil {
			t.Error(err)
		}
	})
}

// TestPullFailureIsFixedInPlace: a pull that fails shows on the connectors
// list as a failed pull with a way to fix it, never a Reconnect link (a
// custom source has no connection to make again); its settings page
// changes the URL and the credential of the same source, keeps the sealed
// credential when asked, and the next pull clears the error.
func TestPullFailureIsFixedInPlace(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := newPullHarness(t, s)
		files := newFileServer(t, pullV1)
		files.header = "first-secret"
		st, loc, body := h.post("/connectors/pull", url.Values{"name": {"ERP"}, "url": {files.ts.URL + "/old-path.csv"}, "kind": {"sales"},
			"format": {"auto"}, "every": {"60"}, "auth": {"header"}, "header": {"X-Api-Key"}, "value": {"first-secret"}})
		if st != http.StatusSeeOther {
			t.Fatalf("create: %d %s", st, body)
		}
		id := strings.TrimPrefix(loc, "/connectors/")
		files.set(func(f *fileServer) { f.status = http.StatusNotFound })
		if err := h.srv.work.SyncConnector(ctx, h.a.pub.ID, id); err == nil {
			t.Fatal("a pull of a missing file succeeded")
		}
		list := h.page("/connectors")
		if strings.Contains(list, "/reconnect") || strings.Contains(list, ">Reconnect<") {
			t.Errorf("the connectors list offers to reconnect a pull source:\n%s", list)
		}
		if !strings.Contains(list, `href="/connectors/`+id+`#pull" class="pull-fix">Fix the pull</a>`) || !strings.Contains(list, "404 Not Found") {
			t.Errorf("the connectors list does not show the failed pull and how to fix it:\n%s", list)
		}
		if !strings.Contains(list, "in 1 h") && !strings.Contains(list, "in 59 min") {
			t.Errorf("the connectors list does not say when the source is pulled again")
		}
		page := h.page("/connectors/" + id)
		for _, want := range []string{`id="pull-error"`, "The last pull failed", "404 Not Found", "tries again every hour",
			`href="/connectors/` + id + `/pull/edit" id="pull-fix"`} {
			if !strings.Contains(page, want) {
				t.Errorf("connector page lacks %q", want)
			}
		}
		if strings.Contains(page, "/reconnect") {
			t.Error("connector page offers to reconnect a pull source")
		}

		edit := h.page("/connectors/" + id + "/pull/edit")
		if !strings.Contains(edit, `value="keep" checked`) || !strings.Contains(edit, files.ts.URL+"/old-path.csv") || strings.Contains(edit, "first-secret") {
			t.Errorf("settings page: the current URL, the kept credential, and no secret:\n%s", edit)
		}
		// A refused change names why and changes nothing.
		if st, _, body := h.post("/connectors/"+id+"/pull/edit", url.Values{"url": {"http://example.com/x.csv"}, "format": {"auto"}, "every": {"60"},
			"auth": {"keep"}}); st != http.StatusUnprocessableEntity || !strings.Contains(body, "must be https") {
			t.Errorf("plain http elsewhere: %d", st)
		}
		if p := h.source(id); p.URL != files.ts.URL+"/old-path.csv" {
			t.Errorf("a refused change changed the URL to %s", p.URL)
		}
		// The file moved: the new URL, the same credential.
		files.set(func(f *fileServer) { f.status = 0 })
		st, loc, body = h.post("/connectors/"+id+"/pull/edit", url.Values{"url": {files.ts.URL + "/new-path.csv"}, "format": {"csv"}, "every": {"360"},
			"auth": {"keep"}, "name": {"Renamed"}, "kind": {"products"}})
		if st != http.StatusSeeOther || loc != "/connectors/"+id {
			t.Fatalf("save: %d %q %s", st, loc, body)
		}
		if err := h.srv.work.SyncConnector(ctx, h.a.pub.ID, id); err != nil {
			t.Fatalf("pull after the fix: %v", err)
		}
		p := h.source(id)
		if p.URL != files.ts.URL+"/new-path.csv" || p.Format != "csv" || p.EveryMinutes != 360 || p.Auth != "header" || p.Name != "ERP" || p.Kind != "sales" {
			t.Errorf("after the change: %+v", p)
		}
		if files.last().Get("X-Api-Key") != "first-secret" {
			t.Errorf("the kept credential was not sent: %q", files.last().Get("X-Api-Key"))
		}
		if c, _ := s.Connector(ctx, h.a.pub.ID, id); c.Status != store.ConnectorActive || c.LastError != "" || p.LastOutcome != store.PullImported {
			t.Errorf("after the fix: %s %q %s", c.Status, c.LastError, p.LastOutcome)
		}
		if n := h.lines(); n != 2 {
			t.Errorf("%d lines, want 2", n)
		}
		// A new credential replaces the sealed one.
		files.set(func(f *fileServer) { f.header, f.etag = "second-secret", `"v2"` })
		if st, _, body := h.post("/connectors/"+id+"/pull/edit", url.Values{"url": {files.ts.URL + "/new-path.csv"}, "format": {"csv"}, "every": {"360"},
			"auth": {"header"}, "header": {"X-Api-Key"}, "value": {"second-secret"}}); st != http.StatusSeeOther {
			t.Fatalf("new credential: %d %s", st, body)
		}
		if err := h.srv.work.SyncConnector(ctx, h.a.pub.ID, id); err != nil {
			t.Fatalf("pull with the new credential: %v (%s)", err, h.source(id).LastError)
		}
		if got := files.last().Get("X-Api-Key"); got != "second-secret" {
			t.Errorf("pull sent %q, want the new credential", got)
		}
		// Keeping a credential a source does not have is refused.
		if st, _, _ := h.post("/connectors/"+id+"/pull/edit", url.Values{"url": {files.ts.URL + "/new-path.csv"}, "format": {"csv"}, "every": {"360"},
			"auth": {"none"}}); st != http.StatusSeeOther {
			t.Errorf("no credential: %d", st)
		}
		if st, _, body := h.post("/connectors/"+id+"/pull/edit", url.Values{"url": {files.ts.URL + "/new-path.csv"}, "format": {"csv"}, "every": {"360"},
			"auth": {"keep"}}); st != http.StatusUnprocessableEntity || !strings.Contains(body, "no credential to keep") {
			t.Errorf("keep without a credential: %d", st)
		}
		var audits int
		s.DB().QueryRow(`SELECT COUNT(*) FROM audit_log WHERE publisher_id = $1 AND action = 'connector.pull.update'`, h.a.pub.ID).Scan(&audits)
		if audits != 3 {
			t.Errorf("%d audit entries of pull changes, want 3", audits)
		}
	})
}

// TestPullTrustsConfiguredCA: with PHANTOMOS_PULL_CA_FILE naming the CA of
// an https server (a company's own), pulls from it succeed; a file that
// holds no certificate stops the server at start, naming the setting.
func TestPullTrustsConfiguredCA(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tn := newTenant(t, s, "alpha")
		tlsFiles := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(pullV1)) }))
		defer tlsFiles.Close()
		ca := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsFiles.Certificate().Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		logger := slog.New(slog.NewTextHandler(io.Discard, nil))
		srv, err := New(s, config.Config{Signup: "open", PullCAFile: ca}, logger, "test")
		if err != nil {
			t.Fatal(err)
		}
		id, err := s.CreatePullSource(ctx, tn.pub.ID, "Intranet", store.PullSource{URL: tlsFiles.URL + "/sales.csv", Kind: "sales", Format: "auto", Auth: "none", EveryMinutes: 60})
		if err != nil {
			t.Fatal(err)
		}
		if err := srv.work.SyncConnector(ctx, tn.pub.ID, id); err != nil {
			p, _ := s.PullSource(ctx, tn.pub.ID, id)
			t.Fatalf("pull over https with the CA trusted: %v (%s)", err, p.LastError)
		}
		if n, _ := salesCount(t, s, tn.pub.ID); n != 2 {
			t.Errorf("%d lines, want 2", n)
		}
		bad := filepath.Join(t.TempDir(), "bad.pem")
		os.WriteFile(bad, []byte("not a certificate"), 0o600)
		for _, f := range []string{bad, filepath.Join(t.TempDir(), "missing.pem")} {
			if _, err := New(s, config.Config{Signup: "open", PullCAFile: f}, logger, "test"); err == nil || !strings.Contains(err.Error(), "PHANTOMOS_PULL_CA_FILE") {
				t.Errorf("CA file %s: %v, want an error naming PHANTOMOS_PULL_CA_FILE", filepath.Base(f), err)
			}
		}
	})
}

var curlKey = regexp.MustCompile(`Authorization: Bearer (phk_[A-Za-z0-9_-]+)`)

// curlBody is the JSON body of the page's curl example.
func curlBody(t *testing.T, page string) string {
	t.Helper()
	i := strings.Index(page, `id="push-curl"`)
	if i < 0 {
		t.Fatal("no curl example on the page")
	}
	ex := html.UnescapeString(page[i : strings.Index(page[i:], "</textarea>")+i])
	j := strings.Index(ex, "--data-binary '")
	if j < 0 {
		t.Fatalf("curl example without a body:\n%s", ex)
	}
	return strings.TrimSuffix(strings.TrimSpace(ex[j+len("--data-binary '"):]), "'")
}

// TestCustomSourceExampleKey: the custom source page shows its pushes and
// a curl example; "Create an ingest key" makes a fresh ingest key, shown
// once in the example, and the example then works as it stands: its body
// pushed with its key is accepted, and shows on the page as a push
// received. The key reads nothing, and a GET makes no key.
func TestCustomSourceExampleKey(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := newPullHarness(t, s)
		id, err := s.CustomConnector(ctx, h.a.pub.ID, "Web store")
		if err != nil {
			t.Fatal(err)
		}
		keysBefore, _ := s.APIKeyScopes(ctx, h.a.pub.ID)
		page := h.page("/connectors/" + id)
		if !strings.Contains(page, `id="make-key"`) || !strings.Contains(page, "$PHANTOMOS_INGEST_KEY") || curlKey.MatchString(page) {
			t.Errorf("page before a key is made: a button, the variable, no key")
		}
		if keys, _ := s.APIKeyScopes(ctx, h.a.pub.ID); len(keys) != len(keysBefore) {
			t.Error("showing the page made a key")
		}
		st, _, page := h.post("/connectors/"+id+"/key", url.Values{})
		if st != http.StatusOK {
			t.Fatalf("make key: %d %s", st, page)
		}
		m := curlKey.FindStringSubmatch(html.UnescapeString(page))
		if m == nil || !strings.Contains(page, `id="new-ingest-key" value="`+m[1]+`"`) {
			t.Fatalf("the new key is not in the example:\n%s", page)
		}
		key := m[1]
		keys, _ := s.APIKeyScopes(ctx, h.a.pub.ID)
		ingest := 0
		for _, sc := range keys {
			if sc == phantomos.ScopeIngest {
				ingest++
			}
		}
		if ingest != 1 || len(keys) != len(keysBefore)+1 {
			t.Errorf("keys after: %v, want one more, of scope ingest", keys)
		}
		// The example as it stands.
		r := push(t, h.ts, key, "POST", "/api/v1/orders", "order-1001-v1", []byte(curlBody(t, page)))
		if r.status != http.StatusOK || r.json(t)["inserted"] != float64(1) {
			t.Fatalf("the page's example: %d %s", r.status, r.body)
		}
		if r := push(t, h.ts, key, "GET", "/api/v1/connectors", "", nil); r.status != http.StatusForbidden {
			t.Errorf("the example key on a read route: %d, want 403", r.status)
		}
		page = h.page("/connectors/" + id)
		if !strings.Contains(page, `id="push-count">1<`) || strings.Contains(page, key) || strings.Contains(page, `id="last-push">never`) {
			t.Errorf("after the example push: the count, the time, and no key")
		}
		// A rejected row shows with its field, value and reason.
		bad := strings.Replace(curlBody(t, page), `"quantity": 2`, `"quantity": -2`, 1)
		if r := push(t, h.ts, key, "POST", "/api/v1/orders", "", []byte(bad)); r.status != http.StatusUnprocessableEntity {
			t.Fatalf("bad push: %d %s", r.status, r.body)
		}
		page = h.page("/connectors/" + id)
		if !strings.Contains(page, `id="push-refused">1<`) || !strings.Contains(page, "orders[0].lines[0].quantity") || !strings.Contains(page, "-2") {
			t.Errorf("the rejected row is not on the page:\n%s", page[strings.Index(page, `id="push-stats"`):])
		}
		// Only a custom source makes keys.
		conn := &phantomos.Connector{Type: phantomos.ConnectorShopify, Name: "shop.myshopify.com"}
		if err := s.CreateConnector(ctx, h.a.pub.ID, conn); err != nil {
			t.Fatal(err)
		}
		if st, _, _ := h.post("/connectors/"+conn.ID+"/key", url.Values{}); st != http.StatusNotFound {
			t.Errorf("key for a store's connector: %d, want 404", st)
		}
	})
}

// TestPushPullCrossTenant: publisher B reaches none of A's custom
// sources: not A's pull source's page, settings, pull or key (404), not
// A's orders through a tombstone under A's source name (B has no such
// source: 404, A's lines stay), and B's push under the same source name
// goes to B's own source.
func TestPushPullCrossTenant(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := newPullHarness(t, s)
		b := newTenant(t, s, "beta")
		files := newFileServer(t, pullV1)
		id, err := s.CreatePullSource(ctx, h.a.pub.ID, "Web store", store.PullSource{URL: files.ts.URL + "/s.csv", Kind: "sales", Format: "auto", Auth: "none", EveryMinutes: 60})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.srv.work.SyncConnector(ctx, h.a.pub.ID, id); err != nil {
			t.Fatal(err)
		}
		for _, role := range []phantomos.Role{phantomos.RoleOwner, phantomos.RoleAdmin} {
			for _, rt := range []string{"GET /connectors/{id}", "GET /connectors/{id}/pull/edit", "POST /connectors/{id}/pull/edit",
				"POST /connectors/{id}/pull", "POST /connectors/{id}/key"} {
				req := request(t, h.ts, rt, id)
				req.AddCookie(cookie(t, s, b.users[role]))
				if st, body := do(t, req); st != http.StatusNotFound || strings.Contains(body, "Web store") || strings.Contains(body, files.ts.URL) {
					t.Errorf("%s with A's source as B's %s: %d", rt, role, st)
				}
			}
		}
		bKey := ingestKey(t, s, b)
		if r := push(t, h.ts, bKey, "DELETE", "/api/v1/orders/Web%20store/P1", "", nil); r.status != http.StatusNotFound {
			t.Errorf("B deletes under A's source name: %d %s, want 404", r.status, r.body)
		}
		if n, _ := salesCount(t, s, h.a.pub.ID); n != 2 {
			t.Errorf("A has %d lines after B's delete, want 2", n)
		}
		if r := push(t, h.ts, bKey, "POST", "/api/v1/orders", "", pushBatch(t, testOrder("P1", "", 1, "9.00"))); r.status != 200 {
			t.Fatalf("B's push: %d %s", r.status, r.body)
		}
		bConn, err := s.FindCustomConnector(ctx, b.pub.ID, "Web store")
		if err != nil || bConn == id {
			t.Errorf("B's push went to %q (%v), not a source of B's own", bConn, err)
		}
		if n, g := salesCount(t, s, h.a.pub.ID); n != 2 || g != 1550 {
			t.Errorf("A after B's push: %d lines %d gross", n, g)
		}
		if st, _ := s.PushStats(ctx, h.a.pub.ID, id, 5); st.Pushes != 0 {
			t.Errorf("A's source counts %d pushes of B's", st.Pushes)
		}
	})
}
