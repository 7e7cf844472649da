package web

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// newTestImportJob records a running import job of publisher pub and
// user, half done, with no worker behind it, and returns its id: for tests
// of the running page and of who may see a job.
func newTestImportJob(t *testing.T, s *store.Store, pub phantomos.PublisherID, user string) string {
	t.Helper()
	job, _ := newTestImportJobToken(t, s, pub, user)
	return job
}

// newTestImportJobToken is newTestImportJob that also returns its
// upload's token.
func newTestImportJobToken(t *testing.T, s *store.Store, pub phantomos.PublisherID, user string) (job, token string) {
	t.Helper()
	ctx := context.Background()
	token = auth.NewToken()
	u := &store.ImportUpload{Publisher: pub, CreatedBy: user, Kind: "sales", Format: "generic", FileName: "secret-alpha-orders.csv", Rows: 40000}
	if err := s.SaveImportUpload(ctx, auth.HashToken(token), u, []byte("x")); err != nil {
		t.Fatal(err)
	}
	j, _, err := s.CreateImportJob(ctx, u, user, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.StartImportJob(ctx, pub, j.ID, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.ImportJobProgress(ctx, j.ID, 20000); err != nil {
		t.Fatal(err)
	}
	return j.ID, token
}

// importFlow drives the Products page import over HTTP for one user.
type importFlow struct {
	t  *testing.T
	ts *httptest.Server
	c  *http.Cookie
}

// upload sends body for a preview and returns the upload's token.
func (f importFlow) upload(name, body string) string {
	f.t.Helper()
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.WriteField("kind", "sales")
	mw.WriteField("format", "auto")
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write([]byte(body))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/products/import", &mp)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", f.ts.URL)
	req.AddCookie(f.c)
	st, page := do(f.t, req)
	token := between(page, `name="token" value="`, `"`)
	if st != http.StatusOK || token == "" {
		f.t.Fatalf("upload: %d\n%s", st, page)
	}
	return token
}

// confirm confirms an upload and returns the status and Location.
func (f importFlow) confirm(form url.Values) (int, string) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.ts.URL+"/products/import/confirm", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", f.ts.URL)
	req.AddCookie(f.c)
	resp, err := noRedirect.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

func (f importFlow) get(path string) (int, string) {
	f.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, f.ts.URL+path, nil)
	req.AddCookie(f.c)
	return do(f.t, req)
}

func (f importFlow) progress(job string) (int, importProgress) {
	f.t.Helper()
	st, body := f.get("/products/import/jobs/" + job + "/progress")
	var p importProgress
	if st == http.StatusOK {
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			f.t.Fatalf("progress: %v\n%s", err, body)
		}
	}
	return st, p
}

// wait polls the progress endpoint until the job ends, as the page does.
func (f importFlow) wait(job string) importProgress {
	f.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		st, p := f.progress(job)
		if st != http.StatusOK {
			f.t.Fatalf("progress of %s: %d", job, st)
		}
		if p.State != "running" && p.State != "queued" {
			return p
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("the import is still running after a minute: %+v", p)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestImportInBackground: a large upload's confirmation starts a
// background import and sends the browser to its page, which polls its
// progress and ends with the same summary as a small import; a refused
// file writes nothing; only its publisher's user sees the job.
func TestImportInBackground(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		a := newTenant(t, s, "alpha")
		b := newTenant(t, s, "beta")
		srv, ts := newTestServer(t, s)
		srv.imports.backgroundRows = 2 // every test file is "large"
		startJobs(t, srv, s)
		member := importFlow{t, ts, cookie(t, s, a.users[phantomos.RoleMember])}

		// A file with a bad row, confirmed whole: refused in the background,
		// nothing written, the bad rows and their report shown.
		token := member.upload("orders.csv", badSales)
		st, loc := member.confirm(url.Values{"token": {token}})
		if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/products/import/jobs/") {
			t.Fatalf("confirming a large upload: %d %q, want a redirect to its job", st, loc)
		}
		job := strings.TrimPrefix(loc, "/products/import/jobs/")
		if p := member.wait(job); p.State != "failed" || p.Total != 2 {
			t.Errorf("refused file: %+v", p)
		}
		st, page := member.get(loc)
		if st != http.StatusOK || !strings.Contains(page, "nothing was imported") || !strings.Contains(page, "not-a-date") ||
			!strings.Contains(page, "/products/import/errors.csv?job="+job) || !strings.Contains(page, `name="job" value="`+job+`"`) {
			t.Errorf("refused job page: %d\n%s", st, page)
		}
		if n, _ := s.SalesCount(context.Background(), a.pub.ID); n != 0 {
			t.Fatalf("a refused background import wrote %d sales", n)
		}

		// A good file: imported, the same summary as a small import.
		token = member.upload("orders.csv", goodSales)
		st, loc = member.confirm(url.Values{"token": {token}})
		if st != http.StatusSeeOther {
			t.Fatalf("confirm: %d", st)
		}
		job = strings.TrimPrefix(loc, "/products/import/jobs/")
		if p := member.wait(job); p != (importProgress{ID: job, State: "succeeded", Done: 2, Total: 2, Percent: 100, Seconds: p.Seconds}) {
			t.Errorf("finished job: %+v", p)
		}
		st, page = member.get(loc)
		if st != http.StatusOK || !strings.Contains(page, "Imported orders.csv: 2 new, 0 updated, 0 unchanged.") || strings.Contains(page, "data-poll") {
			t.Errorf("finished job page: %d\n%s", st, page)
		}
		if n, _ := s.SalesCount(context.Background(), a.pub.ID); n != 2 {
			t.Errorf("%d sales after the background import, want 2", n)
		}
		if runs, _ := s.ImportRuns(context.Background(), a.pub.ID, 10); len(runs) != 2 || runs[0].State != "succeeded" || runs[1].State != "failed" {
			t.Errorf("import runs: %+v", runs)
		}

		// The user who started it sees the job, and so do the publisher's
		// owners and admins (who may cancel it); another publisher's users
		// are told it does not exist.
		for _, role := range []phantomos.Role{phantomos.RoleOwner, phantomos.RoleAdmin} {
			if st, _ := (importFlow{t, ts, cookie(t, s, a.users[role])}).progress(job); st != http.StatusOK {
				t.Errorf("progress seen by the %s: %d, want 200", role, st)
			}
		}
		for _, c := range []*http.Cookie{cookie(t, s, b.users[phantomos.RoleOwner]), cookie(t, s, b.users[phantomos.RoleMember])} {
			other := importFlow{t, ts, c}
			if st, _ := other.progress(job); st != http.StatusNotFound {
				t.Errorf("progress of another user's job: %d, want 404", st)
			}
			if st, body := other.get(loc); st != http.StatusNotFound || strings.Contains(body, "orders.csv") {
				t.Errorf("another user's job page: %d", st)
			}
		}
		if st, _ := member.progress("not-a-job"); st != http.StatusNotFound {
			t.Errorf("unknown job: %d, want 404", st)
		}
	})
}

// TestImportJobRunningPage: a running job's page shows the rows written
// out of the preview's, refreshes itself without JavaScript, and names its
// progress endpoint for import.js; a second confirmation of the same upload
// joins the running job instead of starting another.
func TestImportJobRunningPage(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	a := newTenant(t, s, "alpha")
	srv, ts := newTestServer(t, s)
	srv.imports.backgroundRows = 2
	startJobs(t, srv, s)
	member := importFlow{t, ts, cookie(t, s, a.users[phantomos.RoleMember])}
	job, token := newTestImportJobToken(t, s, a.pub.ID, a.users[phantomos.RoleMember].ID)

	st, p := member.progress(job)
	if st != http.StatusOK || p != (importProgress{ID: job, State: "running", Done: 20000, Total: 40000, Percent: 50, Seconds: p.Seconds}) {
		t.Errorf("progress: %d %+v", st, p)
	}
	st, page := member.get("/products/import/jobs/" + job)
	for _, want := range []string{
		`<noscript><meta http-equiv="refresh" content="2"></noscript>`,
		`data-poll="/products/import/jobs/` + job + `/progress"`,
		`<progress class="importbar" id="import-bar" max="40000" value="20000">50%</progress>`,
		`<span class="bigfig" id="import-done">20,000</span> of <span id="import-total">40,000</span> rows`,
		`<script src="/static/import.js" defer></script>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("running page lacks %s", want)
		}
	}
	if st != http.StatusOK || strings.Contains(page, "Imported") {
		t.Errorf("running page: %d\n%s", st, page)
	}
	if st, loc := member.confirm(url.Values{"token": {token}}); st != http.StatusSeeOther || loc != "/products/import/jobs/"+job {
		t.Errorf("confirming a running upload again: %d %q, want the running job", st, loc)
	}
	if n, _ := s.SalesCount(context.Background(), a.pub.ID); n != 0 {
		t.Errorf("%d sales: the second confirmation imported", n)
	}
	if st, js := member.get("/static/import.js"); st != http.StatusOK || !strings.Contains(js, "rows_done") {
		t.Errorf("import.js: %d", st)
	}
}
