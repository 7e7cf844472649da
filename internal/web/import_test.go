package web

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

const goodSales = "order_id,date,sku,quantity,total,currency\nA1,2026-01-05,X,2,10.00,USD\nA2,2026-01-06,Y,1,5.50,USD\n"
const badSales = "order_id,date,sku,quantity,total,currency\nB1,2026-01-05,X,2,10.00,USD\nB2,not-a-date,X,1,5.00,USD\n"

// TestImportAPI: text/csv and multipart uploads, a refused file listing its
// bad rows and writing nothing, and an idempotent re-import.
func TestImportAPI(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		a := newTenant(t, s, "alpha")
		_, ts := newTestServer(t, s)
		member := cookie(t, s, a.users[phantomos.RoleMember])
		post := func(path, ct string, body []byte) (int, map[string]any) {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+path, bytes.NewReader(body))
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Origin", ts.URL)
			req.AddCookie(member)
			st, b := do(t, req)
			var out map[string]any
			json.Unmarshal([]byte(b), &out)
			return st, out
		}
		st, out := post("/api/sales/import", "text/csv", []byte(badSales))
		if st != http.StatusUnprocessableEntity || out["failed"].(float64) != 1 || !strings.Contains(out["detail"].(string), "nothing was imported") {
			t.Fatalf("bad file: %d %v", st, out)
		}
		errs := out["errors"].([]any)
		if e := errs[0].(map[string]any); e["line"].(float64) != 3 || e["column"] != "date" {
			t.Errorf("error = %v, want line 3, column date", e)
		}
		if n, _ := s.SalesCount(context.Background(), a.pub.ID); n != 0 {
			t.Fatalf("a refused file wrote %d sales", n)
		}
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		fw, _ := mw.CreateFormFile("file", "orders.csv")
		fw.Write([]byte(goodSales))
		mw.Close()
		st, out = post("/api/sales/import?format=generic", mw.FormDataContentType(), mp.Bytes())
		if st != http.StatusOK || out["inserted"].(float64) != 2 {
			t.Fatalf("multipart import: %d %v", st, out)
		}
		st, out = post("/api/sales/import", "text/csv", []byte(goodSales))
		if st != http.StatusOK || out["inserted"].(float64) != 0 || out["unchanged"].(float64) != 2 {
			t.Errorf("re-import: %d %v", st, out)
		}
		if n, _ := s.SalesCount(context.Background(), a.pub.ID); n != 2 {
			t.Errorf("%d sales after re-import, want 2", n)
		}
	})
}

// TestImportPreviewThenConfirm walks the Products page flow: upload shows a
// preview and writes nothing; confirming imports; the error report lists
// bad rows.
func TestImportPreviewThenConfirm(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	a := newTenant(t, s, "alpha")
	b := newTenant(t, s, "beta")
	_, ts := newTestServer(t, s)
	upload := func(c *http.Cookie, body string) (int, string) {
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		mw.WriteField("kind", "sales")
		mw.WriteField("format", "auto")
		fw, _ := mw.CreateFormFile("file", "orders.csv")
		fw.Write([]byte(body))
		mw.Close()
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/products/import", &mp)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Origin", ts.URL)
		req.AddCookie(c)
		return do(t, req)
	}
	member := cookie(t, s, a.users[phantomos.RoleMember])
	st, page := upload(member, badSales)
	if st != http.StatusOK || !strings.Contains(page, `id="rows-invalid">1<`) || !strings.Contains(page, "not-a-date") {
		t.Fatalf("preview of a bad file: %d\n%s", st, page)
	}
	if !strings.Contains(page, `id="import-span">2026-01-05 to 2026-01-05<`) {
		t.Errorf("the preview does not say which days the file's sales cover")
	}
	if n, _ := s.SalesCount(context.Background(), a.pub.ID); n != 0 {
		t.Fatal("the preview wrote sales")
	}
	token := between(page, `name="token" value="`, `"`)
	req := request(t, ts, "GET /products/import/errors.csv", "")
	req.URL.RawQuery = "token=" + url.QueryEscape(token)
	req.AddCookie(member)
	if st, csv := do(t, req); st != 200 || !strings.Contains(csv, "3,date,not-a-date,") {
		t.Errorf("error report: %d %q", st, csv)
	}
	// Another publisher cannot use the token.
	confirm := func(c *http.Cookie, form url.Values) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/products/import/confirm", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", ts.URL)
		req.AddCookie(c)
		return do(t, req)
	}
	if st, _ := confirm(cookie(t, s, b.users[phantomos.RoleOwner]), url.Values{"token": {token}, "valid_only": {"true"}}); st != http.StatusNotFound {
		t.Errorf("B confirming A's upload: %d, want 404", st)
	}
	st, page = confirm(member, url.Values{"token": {token}, "valid_only": {"true"}})
	if st != http.StatusOK || !strings.Contains(page, "Imported orders.csv: 1 new") {
		t.Fatalf("confirm valid rows: %d\n%s", st, page)
	}
	if n, _ := s.SalesCount(context.Background(), a.pub.ID); n != 1 {
		t.Errorf("%d sales, want the 1 valid row", n)
	}
	if st, _ := confirm(member, url.Values{"token": {token}}); st != http.StatusNotFound {
		t.Errorf("reusing a finished upload: %d, want 404", st)
	}
}

// TestImportPreviewAsksBeforeChangingOrders: the page imports into the store
// chosen for the file; a preview that would change stored orders says how
// many with examples, and the import needs an explicit confirmation; the
// same file under a new source changes nothing stored.
func TestImportPreviewAsksBeforeChangingOrders(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		a := newTenant(t, s, "alpha")
		_, ts := newTestServer(t, s)
		member := cookie(t, s, a.users[phantomos.RoleMember])
		upload := func(body string, fields map[string]string) (int, string) {
			var mp bytes.Buffer
			mw := multipart.NewWriter(&mp)
			mw.WriteField("kind", "sales")
			for k, v := range fields {
				mw.WriteField(k, v)
			}
			fw, _ := mw.CreateFormFile("file", "orders.csv")
			fw.Write([]byte(body))
			mw.Close()
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/products/import", &mp)
			req.Header.Set("Content-Type", mw.FormDataContentType())
			req.Header.Set("Origin", ts.URL)
			req.AddCookie(member)
			return do(t, req)
		}
		confirm := func(form url.Values) (int, string) {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/products/import/confirm", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Origin", ts.URL)
			req.AddCookie(member)
			return do(t, req)
		}
		net := func() int64 {
			var n int64
			s.DB().QueryRow(`SELECT COALESCE(SUM(net), 0) FROM sales WHERE publisher_id = $1`, a.pub.ID).Scan(&n)
			return n
		}
		st, page := upload(goodSales, map[string]string{"source": "new", "source_name": "EU store"})
		if st != 200 || strings.Contains(page, `id="import-changes"`) || !strings.Contains(page, "source “EU store”") {
			t.Fatalf("first preview: %d\n%s", st, page)
		}
		if st, page = confirm(url.Values{"token": {between(page, `name="token" value="`, `"`)}}); st != 200 {
			t.Fatalf("first import: %d\n%s", st, page)
		}
		// The Products page offers the new source for the next file.
		req := request(t, ts, "GET /products", "")
		req.AddCookie(member)
		_, products := do(t, req)
		conns, _ := s.Connectors(context.Background(), a.pub.ID)
		if len(conns) != 1 || !strings.Contains(products, `<option value="`+conns[0].ID+`">EU store (csv)</option>`) {
			t.Fatalf("store select: %+v\n%s", conns, products)
		}
		// Another export of the same orders, with other amounts.
		changed := strings.Replace(goodSales, "A1,2026-01-05,X,2,10.00", "A1,2026-01-05,X,2,12.00", 1)
		st, page = upload(changed, map[string]string{"source": conns[0].ID})
		if st != 200 || !strings.Contains(page, `id="import-changes"`) || !strings.Contains(page, "This file changes 1 orders already stored") ||
			!strings.Contains(page, `<span class="mono">A1</span>`) || !strings.Contains(page, `id="update-existing"`) {
			t.Fatalf("preview of changes: %d\n%s", st, page)
		}
		token := between(page, `name="token" value="`, `"`)
		if st, page := confirm(url.Values{"token": {token}}); st < 400 || !strings.Contains(page, "Update the existing orders") || net() != 1550 {
			t.Fatalf("import without the confirmation: %d, net %d\n%s", st, net(), page)
		}
		if st, page := confirm(url.Values{"token": {token}, "update_existing": {"true"}}); st != 200 || net() != 1750 {
			t.Fatalf("confirmed import: %d, net %d\n%s", st, net(), page)
		}
		// The same file as another store's: nothing stored changes.
		st, page = upload(changed, map[string]string{"source": "new", "source_name": "US store"})
		if st != 200 || strings.Contains(page, `id="import-changes"`) {
			t.Fatalf("another store's file: %d\n%s", st, page)
		}
		if st, page := upload(changed, map[string]string{"source": "new"}); st < 400 || !strings.Contains(page, "Name the new source") {
			t.Errorf("a new source without a name: %d\n%s", st, page)
		}
	})
}
