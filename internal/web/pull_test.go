package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// fileServer is a system that publishes a sales file at /export: it
// answers If-None-Match with 304 when ETags are on, and records what each
// request sent.
type fileServer struct {
	mu          sync.Mutex
	body        string
	contentType string
	etag        string // "" sends none
	status      int    // 0: 200
	header      string // required value of X-Api-Key ("" none)
	requests    []http.Header
	ts          *httptest.Server
}

func newFileServer(t *testing.T, body string) *fileServer {
	f := &fileServer{body: body, contentType: "text/csv", etag: `"v1"`}
	f.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.requests = append(f.requests, r.Header.Clone())
		if f.header != "" && r.Header.Get("X-Api-Key") != f.header {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		if f.status != 0 {
			http.Error(w, "down", f.status)
			return
		}
		if f.etag != "" {
			w.Header().Set("ETag", f.etag)
			if r.Header.Get("If-None-Match") == f.etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
		}
		w.Header().Set("Content-Type", f.contentType)
		w.Write([]byte(f.body))
	}))
	t.Cleanup(f.ts.Close)
	return f
}

func (f *fileServer) set(fn func(*fileServer)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fileServer) last() http.Header {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[len(f.requests)-1]
}

const pullV1 = "order_id,date,sku,quantity,total,currency\nP1,2026-01-05,X,2,10.00,USD\nP2,2026-01-06,Y,1,5.50,USD\n"

// pullV2 changes P1 and adds P3.
const pullV2 = "order_id,date,sku,quantity,total,currency\nP1,2026-01-05,X,3,15.00,USD\nP2,2026-01-06,Y,1,5.50,USD\nP3,2026-01-07,X,1,5.00,USD\n"

type pullHarness struct {
	t     *testing.T
	s     *store.Store
	srv   *Server
	ts    *httptest.Server
	a     tenant
	admin *http.Cookie
}

func newPullHarness(t *testing.T, s *store.Store) *pullHarness {
	h := &pullHarness{t: t, s: s, a: newTenant(t, s, "alpha")}
	h.srv, h.ts = newTestServer(t, s)
	keys, err := secret.Parse(secret.Generate())
	if err != nil {
		t.Fatal(err)
	}
	h.srv.EnableConnectors(keys, ConnectorOptions{})
	h.admin = cookie(t, s, h.a.users[phantomos.RoleAdmin])
	return h
}

// post sends a same-origin form as the admin.
func (h *pullHarness) post(path string, form url.Values) (int, string, string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", h.ts.URL)
	req.AddCookie(h.admin)
	resp, err := noRedirect.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), b.String()
}

func (h *pullHarness) page(path string) string {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.ts.URL+path, nil)
	req.AddCookie(h.admin)
	st, body := do(h.t, req)
	if st != http.StatusOK {
		h.t.Fatalf("GET %s: %d", path, st)
	}
	return body
}

func (h *pullHarness) lines() int64 {
	h.t.Helper()
	n, _ := salesCount(h.t, h.s, h.a.pub.ID)
	return n
}

func (h *pullHarness) source(id string) *store.PullSource {
	h.t.Helper()
	p, err := h.s.PullSource(context.Background(), h.a.pub.ID, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// waitRuns waits until connector id has n finished sync runs and returns
// the newest.
func (h *pullHarness) waitRuns(id string, n int) *store.SyncRun {
	h.t.Helper()
	for range 600 {
		runs, err := h.s.SyncRuns(context.Background(), h.a.pub.ID, id, 50)
		if err != nil {
			h.t.Fatal(err)
		}
		if len(runs) >= n && runs[0].State != store.SyncRunning {
			return runs[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.t.Fatalf("connector %s: no %d finished pulls", id, n)
	return nil
}

// A pull source with a header credential, created on its form, pulls on
// creation and on the schedule through the job queue; an unchanged file
// (same ETag, or same content without one) is skipped; a changed one
// updates its orders, each counted once, also against an upload of the
// same rows to the same source.
func TestPullSource(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := newPullHarness(t, s)
		startJobs(t, h.srv, s)
		files := newFileServer(t, pullV1)
		files.header = "s3cret-value"

		st, loc, body := h.post("/connectors/pull", url.Values{"name": {"Licensee"}, "url": {files.ts.URL + "/export.csv"}, "kind": {"sales"},
			"format": {"auto"}, "every": {"60"}, "auth": {"header"}, "header": {"X-Api-Key"}, "value": {"s3cret-value"}})
		if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/connectors/") {
			t.Fatalf("create: %d %q %s", st, loc, body)
		}
		id := strings.TrimPrefix(loc, "/connectors/")
		// The credential is sealed, not stored in the clear.
		ct, _, err := s.ConnectorCredentials(ctx, h.a.pub.ID, id)
		if err != nil || bytes.Contains(ct, []byte("s3cret-value")) {
			t.Fatalf("credential stored in the clear (or not at all): %v", err)
		}
		run := h.waitRuns(id, 1)
		if run.State != store.SyncSucceeded || run.Counts.Inserted != 2 {
			t.Fatalf("first pull: %s %q %+v", run.State, run.Error, run.Counts)
		}
		if got := files.last().Get("X-Api-Key"); got != "s3cret-value" {
			t.Errorf("pull sent X-Api-Key %q", got)
		}
		if n := h.lines(); n != 2 {
			t.Errorf("%d lines after the first pull, want 2", n)
		}
		p := h.source(id)
		if p.LastOutcome != store.PullImported || p.ETag != `"v1"` || p.ContentSHA256 == "" {
			t.Errorf("after the first pull: %+v", p)
		}
		if c, _ := s.Connector(ctx, h.a.pub.ID, id); c.Status != store.ConnectorActive {
			t.Errorf("connector %s after a good pull", c.Status)
		}

		// River marks the first job completed a moment after it returns.
		for i := 0; ; i++ {
			if pending, err := h.srv.jobs.SyncPending(ctx, h.a.pub.ID, id); err != nil || !pending {
				break
			}
			if i == 500 {
				t.Fatal("the first pull's job never completed")
			}
			time.Sleep(10 * time.Millisecond)
		}
		// Not due yet: the schedule enqueues nothing.
		h.srv.work.PullDue(ctx, h.a.pub.ID, time.Now())
		time.Sleep(100 * time.Millisecond)
		if runs, _ := s.SyncRuns(ctx, h.a.pub.ID, id, 10); len(runs) != 1 {
			t.Fatalf("%d pulls before the source is due", len(runs))
		}
		// Due: the schedule pulls; the file's ETag is unchanged (304).
		h.srv.work.PullDue(ctx, h.a.pub.ID, time.Now().Add(61*time.Minute))
		run = h.waitRuns(id, 2)
		if files.last().Get("If-None-Match") != `"v1"` || run.State != store.SyncSucceeded || run.Counts.Seen != 0 {
			t.Errorf("second pull: If-None-Match %q, %s %+v", files.last().Get("If-None-Match"), run.State, run.Counts)
		}
		if p := h.source(id); p.LastOutcome != store.PullUnchanged {
			t.Errorf("unchanged file: outcome %q", p.LastOutcome)
		}
		// Without an ETag, the same content is recognised by its hash.
		files.set(func(f *fileServer) { f.etag = "" })
		if err := h.srv.work.SyncConnector(ctx, h.a.pub.ID, id); err != nil {
			t.Fatal(err)
		}
		if p := h.source(id); p.LastOutcome != store.PullUnchanged {
			t.Errorf("same content without ETag: outcome %q", p.LastOutcome)
		}
		runs, _ := s.ImportRuns(ctx, h.a.pub.ID, 50)
		if len(runs) != 1 {
			t.Errorf("%d import runs after unchanged pulls, want 1", len(runs))
		}

		// A changed file: P1 updated, P3 added, P2 unchanged.
		files.set(func(f *fileServer) { f.body, f.etag = pullV2, `"v2"` })
		if err := h.srv.work.SyncConnector(ctx, h.a.pub.ID, id); err != nil {
			t.Fatal(err)
		}
		run = h.waitRuns(id, 4)
		if run.Counts.Inserted != 1 || run.Counts.Updated != 1 || run.Counts.Skipped != 1 {
			t.Errorf("changed file: %+v, want 1 new, 1 updated, 1 unchanged", run.Counts)
		}
		if n, g := salesCount(t, s, h.a.pub.ID); n != 3 || g != 2550 {
			t.Errorf("after the changed file: %d lines, %d gross; want 3, 2550", n, g)
		}
		// The same rows uploaded to the same source: nothing new.
		req, _ := http.NewRequest(http.MethodPost, h.ts.URL+"/api/sales/import?source=Licensee", strings.NewReader(pullV2))
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Origin", h.ts.URL)
		req.AddCookie(h.admin)
		st, out := do(t, req)
		var res map[string]any
		json.Unmarshal([]byte(out), &res)
		if st != http.StatusOK || res["inserted"] != float64(0) || res["updated"] != float64(0) {
			t.Errorf("upload of the pulled rows: %d %s, want nothing new", st, out)
		}
		if n := h.lines(); n != 3 {
			t.Errorf("%d lines after the upload, want 3", n)
		}
		if err := s.CheckRollups(ctx, h.a.pub.ID); err != nil {
			t.Error(err)
		}
		page := h.page("/connectors/" + id)
		for _, want := range []string{`id="pull"`, files.ts.URL + "/export.csv", "a header (sealed)", `id="pull-runs"`, `id="pull-now"`} {
			if !strings.Contains(page, want) {
				t.Errorf("connector page lacks %q", want)
			}
		}
		if strings.Contains(page, "s3cret-value") {
			t.Error("connector page shows the credential")
		}
	})
}

// A failing URL leaves the data as it was and the source in a clear error
// state: a refused credential, a 404, a file too large, an untrusted
// certificate, a file with a bad row; the next good pull clears it.
func TestPullFailures(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := newPullHarness(t, s)
		files := newFileServer(t, pullV1)
		id, err := s.CreatePullSource(ctx, h.a.pub.ID, "ERP", store.PullSource{URL: files.ts.URL + "/x.csv", Kind: "sales", Format: "auto", Auth: "none", EveryMinutes: 60})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.srv.work.SyncConnector(ctx, h.a.pub.ID, id); err != nil {
			t.Fatal(err)
		}
		tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(pullV2)) }))
		defer tls.Close()
		big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "40000000")
			w.WriteHeader(http.StatusOK)
		}))
		defer big.Close()
		cases := []struct {
			name, want string
			setup      func()
		}{
			{"credential", "401 Unauthorized: check the credential", func() { files.set(func(f *fileServer) { f.header = "needed" }) }},
			{"not found", "404 Not Found", func() { files.set(func(f *fileServer) { f.header, f.status = "", http.StatusNotFound }) }},
			{"too large", "too large", func() { setPullURL(t, s, h.a.pub.ID, id, big.URL+"/big.csv") }},
			{"tls", "TLS: the server's certificate was refused", func() { setPullURL(t, s, h.a.pub.ID, id, tls.URL+"/x.csv") }},
			{"bad row", "line 3, date", func() {
				setPullURL(t, s, h.a.pub.ID, id, files.ts.URL+"/x.csv")
				files.set(func(f *fileServer) {
					f.status, f.etag = 0, `"bad"`
					f.body = "order_id,date,sku,quantity,total,currency\nP1,2026-01-05,X,9,90.00,USD\nP9,yesterday,X,1,1.00,USD\n"
				})
			}},
		}
		for _, c := range cases {
			c.setup()
			err := h.srv.work.SyncConnector(ctx, h.a.pub.ID, id)
			if err == nil {
				t.Errorf("%s: pull succeeded", c.name)
			}
			p := h.source(id)
			if p.LastOutcome != store.PullFailed || !strings.Contains(p.LastError, c.want) {
				t.Errorf("%s: outcome %q error %q, want one saying %q", c.name, p.LastOutcome, p.LastError, c.want)
			}
			if conn, _ := s.Connector(ctx, h.a.pub.ID, id); conn.Status != store.ConnectorError || conn.LastError != p.LastError {
				t.Errorf("%s: connector %s %q", c.name, conn.Status, conn.LastError)
			}
			if n, g := salesCount(t, s, h.a.pub.ID); n != 2 || g != 1550 {
				t.Errorf("%s: %d lines %d gross, want the first file's 2 and 1550", c.name, n, g)
			}
		}
		if page := h.page("/connectors/" + id); !strings.Contains(page, `id="pull-error"`) {
			t.Error("connector page does not show the failure")
		}
		// Fixed: the next pull imports and clears the error.
		files.set(func(f *fileServer) { f.body, f.etag = pullV2, `"v2"` })
		if err := h.srv.work.SyncConnector(ctx, h.a.pub.ID, id); err != nil {
			t.Fatal(err)
		}
		if conn, _ := s.Connector(ctx, h.a.pub.ID, id); conn.Status != store.ConnectorActive || conn.LastError != "" {
			t.Errorf("after a good pull: %s %q", conn.Status, conn.LastError)
		}
		if n := h.lines(); n != 3 {
			t.Errorf("%d lines, want 3", n)
		}
	})
}

func setPullURL(t *testing.T, s *store.Store, pub phantomos.PublisherID, id, u string) {
	t.Helper()
	if _, err := s.DB().ExecContext(context.Background(), `UPDATE pull_sources SET url = $3 WHERE publisher_id = $1 AND connector_id = $2`, pub, id, u); err != nil {
		t.Fatal(err)
	}
}

// A JSON file (an array of records with the CSV's columns) imports like
// the CSV, and a source pulled as JSON and re-pulled counts once.
func TestPullJSON(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		h := newPullHarness(t, s)
		files := newFileServer(t, `[{"order_id":"J1","date":"2026-01-05","sku":"X","quantity":2,"total":"10.00","currency":"USD"},
			{"order_id":"J2","date":"2026-01-06","sku":"Y","quantity":1,"total":5.5,"currency":"USD","channel":null}]`)
		files.contentType = "application/json"
		id, err := s.CreatePullSource(ctx, h.a.pub.ID, "Web store", store.PullSource{URL: files.ts.URL + "/orders.json", Kind: "sales", Format: "auto", Auth: "none", EveryMinutes: 15})
		if err != nil {
			t.Fatal(err)
		}
		if err := h.srv.work.SyncConnector(ctx, h.a.pub.ID, id); err != nil {
			t.Fatalf("%v (%s)", err, h.source(id).LastError)
		}
		if n, g := salesCount(t, s, h.a.pub.ID); n != 2 || g != 1550 {
			t.Errorf("JSON pull: %d lines %d gross", n, g)
		}
		files.set(func(f *fileServer) {
			f.etag = `"v2"`
			f.body = strings.Replace(f.body, `"quantity":1`, `"quantity":3`, 1)
		})
		if err := h.srv.work.SyncConnector(ctx, h.a.pub.ID, id); err != nil {
			t.Fatal(err)
		}
		if n := h.lines(); n != 2 {
			t.Errorf("re-pulled JSON: %d lines, want 2", n)
		}
		files.set(func(f *fileServer) { f.etag = `"v3"`; f.body = `[{"order_id":{"nested":1}}]` })
		if err := h.srv.work.SyncConnector(ctx, h.a.pub.ID, id); err == nil || !strings.Contains(h.source(id).LastError, `JSON record 1, field "order_id"`) {
			t.Errorf("nested JSON: %v %q", err, h.source(id).LastError)
		}
	})
}

// The form refuses plain http to another machine, credentials in the URL,
// a bad header name and a taken name, with the reason, creating nothing.
func TestPullFormValidation(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newPullHarness(t, s)
		if page := h.page("/connectors/new/pull"); !strings.Contains(page, `id="pull-create"`) {
			t.Fatal("pull form missing")
		}
		base := url.Values{"name": {"Feed"}, "url": {"https://erp.example.com/s.csv"}, "kind": {"sales"}, "format": {"csv"}, "every": {"60"}, "auth": {"none"}}
		with := func(k, v string, more ...string) url.Values {
			f := url.Values{}
			for key, vals := range base {
				f[key] = vals
			}
			f.Set(k, v)
			for i := 0; i+1 < len(more); i += 2 {
				f.Set(more[i], more[i+1])
			}
			return f
		}
		cases := []struct {
			form url.Values
			want string
		}{
			{with("url", "http://erp.example.com/s.csv"), "must be https"},
			{with("url", "https://bob:pw@erp.example.com/s.csv"), "not in the URL"},
			{with("url", "ftp://erp.example.com/s.csv"), "must start with https"},
			{with("auth", "header", "header", "Bad Header", "value", "x"), "header name"},
			{with("auth", "header", "header", "Host", "value", "x"), "header name"},
			{with("every", "1"), "how often"},
			{with("kind", "fx"), "sales or products"},
			{with("name", strings.Repeat("n", 101)), "1 to 100"},
		}
		for _, c := range cases {
			st, _, body := h.post("/connectors/pull", c.form)
			if st != http.StatusUnprocessableEntity || !strings.Contains(body, c.want) {
				t.Errorf("%v: %d, want 422 saying %q", c.form, st, c.want)
			}
		}
		if list, _ := s.Connectors(context.Background(), h.a.pub.ID); len(list) != 0 {
			t.Errorf("refused forms created %d connectors", len(list))
		}
		if st, _, _ := h.post("/connectors/pull", base); st != http.StatusSeeOther {
			t.Fatalf("good form: %d", st)
		}
		if st, _, body := h.post("/connectors/pull", base); st != http.StatusUnprocessableEntity || !strings.Contains(body, "exists already") {
			t.Errorf("taken name: %d", st)
		}
		// Loopback http is allowed (a system on the same machine).
		if st, _, _ := h.post("/connectors/pull", with("url", "http://127.0.0.1:9/s.csv", "name", "Local")); st != http.StatusSeeOther {
			t.Errorf("loopback http: %d", st)
		}
	})
}
