package web

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/config"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestImportOverLimitIs413: an API import over the 32 MiB body limit is a
// problem+json 413 naming the limit (it was a 500), and writes nothing:
// announced by its Content-Length, or found out while reading a streamed
// (chunked) multipart upload.
func TestImportOverLimitIs413(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	tn := newTenant(t, s, "big")
	_, ts := newTestServer(t, s)
	member := cookie(t, s, tn.users[phantomos.RoleMember])
	var csv bytes.Buffer
	csv.WriteString("order_id,date,sku,quantity,total,currency\n")
	for i := 0; csv.Len() <= maxBodyBytes; i++ {
		fmt.Fprintf(&csv, "A%d,2026-01-05,SKU-%d,1,10.00,USD\n", i, i%50)
	}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "orders.csv")
	fw.Write(csv.Bytes())
	mw.Close()
	for _, c := range []struct {
		name, ct string
		body     io.Reader
	}{
		{"text/csv with its length", "text/csv", bytes.NewReader(csv.Bytes())},
		{"chunked multipart", mw.FormDataContentType(), io.MultiReader(&mp)}, // not a *bytes.Reader: sent without a length
	} {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/sales/import", c.body)
		req.Header.Set("Content-Type", c.ct)
		req.AddCookie(member)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var p struct {
			Code   string `json:"code"`
			Detail string `json:"detail"`
		}
		json.Unmarshal(body, &p)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("Content-Type") != "application/problem+json" ||
			p.Code != phantomos.ETOOLARGE || !strings.Contains(p.Detail, "32 MiB") {
			t.Errorf("%s (%d bytes): %d %s %s, want 413 problem+json naming 32 MiB", c.name, csv.Len(), resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
	}
	if n, _ := s.SalesCount(context.Background(), tn.pub.ID); n != 0 {
		t.Errorf("a refused import wrote %d sales", n)
	}
}

// TestFormParseErrors: a page's form that cannot be read is refused before
// the handler writes anything (the organization used to be saved with
// empty fields), as 400, or 413 when too large.
func TestFormParseErrors(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	tn := newTenant(t, s, "forms")
	_, ts := newTestServer(t, s)
	owner := cookie(t, s, tn.users[phantomos.RoleOwner])
	for _, c := range []struct {
		name, body string
		want       int
	}{
		{"malformed escape", "name=%zz&slug=forms&reporting_currency=USD", http.StatusBadRequest},
		{"too large", "name=" + strings.Repeat("x", maxBodyBytes+1), http.StatusRequestEntityTooLarge},
	} {
		st, _, page := send(t, ts, owner, http.MethodPost, "/settings/organization", form, c.body)
		if st != c.want {
			t.Errorf("%s: status %d, want %d\n%.300s", c.name, st, c.want, page)
		}
		pub, err := s.Publisher(context.Background(), tn.pub.ID)
		if err != nil || pub.Name != tn.pub.Name || pub.Slug != tn.pub.Slug {
			t.Errorf("%s: organization is now %+v, %v", c.name, pub, err)
		}
	}
	// A multipart form that breaks off is refused too.
	st, _, _ := send(t, ts, cookie(t, s, tn.users[phantomos.RoleMember]), http.MethodPost, "/products/import",
		"multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nsales")
	if st != http.StatusBadRequest {
		t.Errorf("broken multipart: %d, want 400", st)
	}
}

// TestSlowBodyIsCutOff trickles a body to a real listener below the
// minimum rate: the server answers 408 after the (here very short) grace
// period instead of waiting for the whole body. Bounded by the client's
// own deadline, so a regression fails in seconds rather than hanging.
func TestSlowBodyIsCutOff(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	tn := newTenant(t, s, "slow")
	srv, ts := newTestServer(t, s)
	srv.SetBodyRate(200*time.Millisecond, 1000)
	member := cookie(t, s, tn.users[phantomos.RoleMember])

	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "POST /api/products/mapping HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nCookie: %s=%s\r\n\r\n{",
		ts.Listener.Addr(), member.Name, member.Value)
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
			}
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a trickled body: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(b), `"code":"timeout"`) {
		t.Errorf("trickled body: %d %s, want 408 timeout", resp.StatusCode, b)
	}

	// A body that arrives at once is untouched by the short deadline.
	st, _, body := send(t, ts, member, http.MethodPost, "/api/products/mapping", "application/json", `{"product_id":"`+phantomos.NewID()+`","action":"skip"}`)
	if st != http.StatusNotFound {
		t.Errorf("prompt body: %d %s, want 404 (no such product)", st, body)
	}
}

// TestHSTS: Strict-Transport-Security is sent when the base URL is https,
// and never over a plain http setup.
func TestHSTS(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	for base, want := range map[string]string{
		"https://phantomos.example": "max-age=31536000; includeSubDomains",
		"http://localhost:8080":     "",
		"":                          "",
	} {
		srv, err := New(s, config.Config{BaseURL: base}, slog.New(slog.NewTextHandler(io.Discard, nil)), "test")
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv.Handler())
		resp, err := http.Get(ts.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		ts.Close()
		if got := resp.Header.Get("Strict-Transport-Security"); got != want {
			t.Errorf("base URL %q: Strict-Transport-Security %q, want %q", base, got, want)
		}
	}
}

// TestAssetImageMustBeHTTPS: the catalogue's asset form (create and edit)
// stores only https image addresses.
func TestAssetImageMustBeHTTPS(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	ctx := context.Background()
	tn := newTenant(t, s, "img")
	_, ts := newTestServer(t, s)
	g := &phantomos.GameIP{Name: "Img Saga", Slug: "img-saga"}
	if err := s.CreateGameIP(ctx, tn.pub.ID, g); err != nil {
		t.Fatal(err)
	}
	a := &phantomos.Asset{GameIPID: g.ID, Name: "Nova", AssetType: phantomos.AssetCharacter}
	if err := s.CreateAsset(ctx, tn.pub.ID, a); err != nil {
		t.Fatal(err)
	}
	member := cookie(t, s, tn.users[phantomos.RoleMember])
	for _, bad := range []string{"http://cdn.example/n.png", "javascript:alert(1)", "data:image/png;base64,AAAA", "//cdn.example/n.png"} {
		f := "game_ip=" + g.ID + "&asset_type=character&image_url=" + url.QueryEscape(bad)
		for _, path := range []string{"/catalog/assets", "/catalog/assets/" + a.ID} {
			st, _, page := send(t, ts, member, http.MethodPost, path, form, f+"&name=Rex")
			if st != http.StatusUnprocessableEntity || !strings.Contains(page, "https://") {
				t.Errorf("POST %s with image %q: %d, want 422 naming https://", path, bad, st)
			}
		}
	}
	if got, err := s.Asset(ctx, tn.pub.ID, a.ID); err != nil || got.ImageURL != "" || got.Name != "Nova" {
		t.Errorf("asset after refused edits: %+v, %v", got, err)
	}
}

// TestBulkIDsBound: a bulk decision naming more than store.MaxBulkProducts
// products is refused with a clear 400 before any work.
func TestBulkIDsBound(t *testing.T) {
	s := storetest.New(t, store.SQLite)
	tn := newTenant(t, s, "bulk")
	_, ts := newTestServer(t, s)
	ids := make([]string, store.MaxBulkProducts+1)
	for i := range ids {
		ids[i] = phantomos.NewID()
	}
	b, _ := json.Marshal(map[string]any{"action": "accept", "min_confidence": 0.5, "product_ids": ids})
	st, _, body := send(t, ts, cookie(t, s, tn.users[phantomos.RoleMember]), http.MethodPost, "/api/products/mapping/bulk", "application/json", string(b))
	if st != http.StatusBadRequest || !strings.Contains(body, "At most 100000 products") {
		t.Errorf("bulk accept of %d ids: %d %.300s, want 400 naming the bound", len(ids), st, body)
	}
}
