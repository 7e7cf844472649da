package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

func ingestPublisher(t *testing.T, s *store.Store, slug, currency string) phantomos.PublisherID {
	t.Helper()
	p := &phantomos.Publisher{Name: "Pub " + slug, Slug: slug, Timezone: "Europe/Berlin", ReportingCurrency: currency}
	if err := s.CreatePublisher(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p.ID
}

// importRows runs one import of kind with the given rows.
func importRows[T any](t *testing.T, s *store.Store, pub phantomos.PublisherID, spec store.ImportSpec, rows []T,
	write func(*store.ImportWriter) func(context.Context, []T) error) (*store.ImportReport, error) {
	t.Helper()
	if spec.Source == "" {
		spec.Source = "Test feed"
	}
	return s.Import(context.Background(), pub, spec, func(w *store.ImportWriter) error {
		w.AddSeen(int64(len(rows)))
		return write(w)(context.Background(), rows)
	})
}

func writeSales(w *store.ImportWriter) func(context.Context, []store.SaleRow) error {
	return w.WriteSales
}
func writeRates(w *store.ImportWriter) func(context.Context, []store.FXRow) error {
	return w.WriteFXRates
}
func writeProducts(w *store.ImportWriter) func(context.Context, []store.ProductRow) error {
	return w.WriteProducts
}
func writeAssets(w *store.ImportWriter) func(context.Context, []store.AssetRow) error {
	return w.WriteAssets
}

type counts struct{ Inserted, Updated, Skipped, Failed, Created int64 }

func countsOf(r *store.ImportReport) counts {
	return counts{r.Inserted, r.Updated, r.Skipped, r.Failed, r.ProductsCreated}
}

type storedSale struct {
	Order, Line, Day, Currency                         string
	Gross, Discount, Refunded, Net, NetR, GrossR, Ship int64
	Rate                                               float64
}

func storedSales(t *testing.T, s *store.Store, pub phantomos.PublisherID) []storedSale {
	t.Helper()
	rows, err := s.DB().Query(`SELECT external_order_id, external_line_id, CAST(day AS TEXT), currency, gross, discount, refunded, net,
			net_reporting, gross_reporting, shipping, fx_rate
		FROM sales WHERE publisher_id = $1 ORDER BY external_order_id, external_line_id`, pub)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []storedSale
	for rows.Next() {
		var x storedSale
		if err := rows.Scan(&x.Order, &x.Line, &x.Day, &x.Currency, &x.Gross, &x.Discount, &x.Refunded, &x.Net, &x.NetR, &x.GrossR, &x.Ship, &x.Rate); err != nil {
			t.Fatal(err)
		}
		x.Day = x.Day[:10]
		out = append(out, x)
	}
	return out
}

func TestImportSalesIdempotentAndConverted(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := ingestPublisher(t, s, "alpha", "EUR")
		b := ingestPublisher(t, s, "beta", "EUR")

		rates := []store.FXRow{{Line: 2, Day: "2026-01-05", Currency: "USD", Rate: 0.9}, {Line: 3, Day: "2026-01-30", Currency: "USD", Rate: 0.8}}
		rep, err := importRows(t, s, a, store.ImportSpec{Kind: store.ImportFX}, rates, writeRates)
		if err != nil || countsOf(rep) != (counts{Inserted: 2}) {
			t.Fatalf("rates: %+v, %v", rep, err)
		}
		// Berlin time: 23:30 UTC on the 4th is the 5th.
		at := func(d string) time.Time { t0, _ := time.Parse(time.RFC3339, d); return t0 }
		sales := []store.SaleRow{
			{Line: 2, OrderID: "o1", LineID: "1", SKU: "S1", Name: "Nova Hoodie", OrderDate: at("2026-01-04T23:30:00Z"), Quantity: 1,
				Gross: 5000, Discount: 500, Currency: "EUR", Country: "DE", Channel: "web", Shipping: 490},
			{Line: 3, OrderID: "o1", LineID: "2", SKU: "S2", Name: "Nova Mug", OrderDate: at("2026-01-04T23:30:00Z"), Quantity: 2,
				Gross: 2001, Currency: "USD", Country: "DE", Channel: "web"},
			// No rate on the 7th: the 5th's, within the fallback window.
			{Line: 4, OrderID: "o2", LineID: "1", SKU: "S2", Name: "Nova Mug", OrderDate: at("2026-01-07T10:00:00Z"), Quantity: 1,
				Gross: 1000, Refunded: 1000, Currency: "USD", Country: "US", Channel: "amazon"},
		}
		spec := store.ImportSpec{Kind: store.ImportSales, FXFallbackDays: 7}
		rep, err = importRows(t, s, a, spec, sales, writeSales)
		if err != nil || countsOf(rep) != (counts{Inserted: 3, Created: 2}) || rep.From != "2026-01-05" || rep.To != "2026-01-07" {
			t.Fatalf("first import: %+v, %v", rep, err)
		}
		want := []storedSale{
			{Order: "o1", Line: "1", Day: "2026-01-05", Currency: "EUR", Gross: 5000, Discount: 500, Net: 4500, NetR: 4500, GrossR: 5000, Ship: 490, Rate: 1},
			{Order: "o1", Line: "2", Day: "2026-01-05", Currency: "USD", Gross: 2001, Net: 2001, NetR: 1801, GrossR: 1801, Rate: 0.9},
			{Order: "o2", Line: "1", Day: "2026-01-07", Currency: "USD", Gross: 1000, Refunded: 1000, Net: 0, NetR: 0, GrossR: 900, Rate: 0.9},
		}
		if diff := cmp.Diff(want, storedSales(t, s, a)); diff != "" {
			t.Errorf("stored sales (-want +got):\n%s", diff)
		}
		if err := s.CheckRollups(ctx, a); err != nil {
			t.Error(err)
		}

		// The same rows again change nothing.
		rep, err = importRows(t, s, a, spec, sales, writeSales)
		if err != nil || countsOf(rep) != (counts{Skipped: 3}) || rep.From != "" {
			t.Fatalf("re-import: %+v, %v", rep, err)
		}
		if diff := cmp.Diff(want, storedSales(t, s, a)); diff != "" {
			t.Errorf("after re-import (-want +got):\n%s", diff)
		}

		// A refund and a corrected date update their rows; the day the sale
		// left is refreshed too.
		sales[0].Refunded = 1500
		sales[2].OrderDate = at("2026-01-30T10:00:00Z")
		rep, err = importRows(t, s, a, spec, sales, writeSales)
		if err != nil || countsOf(rep) != (counts{Updated: 2, Skipped: 1}) {
			t.Fatalf("update: %+v, %v", rep, err)
		}
		want[0].Refunded, want[0].Net, want[0].NetR = 1500, 3000, 3000
		want[2].Day, want[2].GrossR, want[2].Rate = "2026-01-30", 800, 0.8
		if diff := cmp.Diff(want, storedSales(t, s, a)); diff != "" {
			t.Errorf("after update (-want +got):\n%s", diff)
		}
		if err := s.CheckRollups(ctx, a); err != nil {
			t.Error(err)
		}
		sum, err := s.Summary(ctx, a, "2026-01-07", "2026-01-07")
		if err != nil || sum != (store.Summary{}) {
			t.Errorf("summary of the day the sale left = %+v, %v; want empty", sum, err)
		}

		// Tenant isolation: B sees none of it.
		if n, _ := s.SalesCount(ctx, b); n != 0 {
			t.Errorf("B has %d sales", n)
		}
		if ps, _ := s.Products(ctx, b, 10); len(ps) != 0 {
			t.Errorf("B sees %d products", len(ps))
		}
		if _, err := s.ImportRun(ctx, b, rep.RunID); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("A's run as B: %v, want not found", err)
		}
		if runs, _ := s.ImportRuns(ctx, b, 10); len(runs) != 0 {
			t.Errorf("B sees %d runs", len(runs))
		}
		run, err := s.ImportRun(ctx, a, rep.RunID)
		if err != nil || run.State != "succeeded" || run.Updated != 2 || run.Skipped != 1 || run.Seen != 3 || run.FinishedAt == nil {
			t.Errorf("run = %+v, %v", run, err)
		}
	})
}

func TestImportRefusedWritesNothing(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := ingestPublisher(t, s, "alpha", "EUR")
		b := ingestPublisher(t, s, "beta", "EUR")
		day := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
		sales := []store.SaleRow{
			{Line: 2, OrderID: "o1", LineID: "1", SKU: "S1", Name: "Cap", OrderDate: day, Quantity: 1, Gross: 1000, Currency: "EUR"},
			{Line: 3, OrderID: "o2", LineID: "1", SKU: "S2", Name: "Pin", OrderDate: day, Quantity: 1, Gross: 500, Currency: "USD"},
		}
		spec := store.ImportSpec{Kind: store.ImportSales, Columns: map[string]string{"currency": "Currency"}}
		rep, err := importRows(t, s, a, spec, sales, writeSales)
		if phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Fatalf("missing rate: %v, want EINVALID", err)
		}
		wantErr := store.RowError{Line: 3, Column: "Currency", Value: "USD",
			Reason: "no exchange rate from USD to EUR on 2025-06-01; import FX rates (date,currency,rate) first"}
		if diff := cmp.Diff([]store.RowError{wantErr}, rep.Errors); diff != "" {
			t.Errorf("errors (-want +got):\n%s", diff)
		}
		if countsOf(rep) != (counts{Failed: 1}) {
			t.Errorf("counts = %+v", countsOf(rep))
		}
		if n, _ := s.SalesCount(ctx, a); n != 0 {
			t.Errorf("%d sales written by a refused import", n)
		}
		if ps, _ := s.Products(ctx, a, 10); len(ps) != 0 {
			t.Errorf("%d products written by a refused import", len(ps))
		}
		if cs, _ := s.Connectors(ctx, a); len(cs) != 0 {
			t.Errorf("%d connectors written by a refused import", len(cs))
		}
		run, err := s.ImportRun(ctx, a, rep.RunID)
		if err != nil {
			t.Fatal(err)
		}
		if run.State != "failed" || run.Failed != 1 || run.Seen != 2 || run.Inserted != 0 {
			t.Errorf("run = %+v", run)
		}
		if diff := cmp.Diff([]store.RowError{wantErr}, run.Errors); diff != "" {
			t.Errorf("run report (-want +got):\n%s", diff)
		}
		if _, err := s.ImportRun(ctx, b, run.ID); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("A's run as B: %v", err)
		}

		// A dry run reports what would happen and writes nothing, not even a run.
		spec.DryRun = true
		rep, err = importRows(t, s, a, spec, sales, writeSales)
		if err != nil || countsOf(rep) != (counts{Inserted: 1, Failed: 1, Created: 1}) || rep.RunID != "" {
			t.Errorf("dry run: %+v, %v", rep, err)
		}
		if n, _ := s.SalesCount(ctx, a); n != 0 {
			t.Errorf("%d sales written by a dry run", n)
		}
		if runs, _ := s.ImportRuns(ctx, a, 10); len(runs) != 1 {
			t.Errorf("%d runs after a dry run, want 1", len(runs))
		}

		// Valid rows only.
		spec.DryRun, spec.ValidOnly = false, true
		rep, err = importRows(t, s, a, spec, sales, writeSales)
		if err != nil || countsOf(rep) != (counts{Inserted: 1, Failed: 1, Created: 1}) {
			t.Errorf("valid only: %+v, %v", rep, err)
		}
		if n, _ := s.SalesCount(ctx, a); n != 1 {
			t.Errorf("%d sales after valid-only import, want 1", n)
		}
		if err := s.CheckRollups(ctx, a); err != nil {
			t.Error(err)
		}
		if n, _ := s.SalesCount(ctx, b); n != 0 {
			t.Errorf("B has %d sales", n)
		}
	})
}

func TestImportProductsMatchByExternalIDThenSKU(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := ingestPublisher(t, s, "alpha", "USD")
		b := ingestPublisher(t, s, "beta", "USD")
		shop := []store.ProductRow{
			{Line: 2, ExternalID: "nova-hoodie", SKU: "NH-1", Name: "Nova Hoodie", Category: "apparel", Price: 4999, PriceSet: true, Currency: "USD", Tags: []string{"nova"}},
			{Line: 3, ExternalID: "drake-mug", SKU: "DM-1", Name: "Drake Mug", Price: 1299, PriceSet: true, Currency: "USD"},
		}
		rep, err := importRows(t, s, a, store.ImportSpec{Kind: store.ImportProducts, Source: "Shopify export"}, shop, writeProducts)
		if err != nil || countsOf(rep) != (counts{Inserted: 2}) {
			t.Fatalf("products: %+v, %v", rep, err)
		}
		rep, err = importRows(t, s, a, store.ImportSpec{Kind: store.ImportProducts, Source: "Shopify export"}, shop, writeProducts)
		if err != nil || countsOf(rep) != (counts{Skipped: 2}) {
			t.Fatalf("re-import: %+v, %v", rep, err)
		}
		// Another source knows the mug by SKU only: it updates that product
		// instead of adding a second one; empty fields keep theirs.
		other := []store.ProductRow{{Line: 2, ExternalID: "9001", SKU: "DM-1", Name: "Drake Mug (large)"}}
		rep, err = importRows(t, s, a, store.ImportSpec{Kind: store.ImportProducts, Source: "CSV import"}, other, writeProducts)
		if err != nil || countsOf(rep) != (counts{Updated: 1}) {
			t.Fatalf("by SKU: %+v, %v", rep, err)
		}
		// Sales by SKU find the products of any source; unknown ones are
		// created unmapped.
		day := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		sales := []store.SaleRow{
			{Line: 2, OrderID: "1", LineID: "1", SKU: "NH-1", Name: "Nova Hoodie - M", OrderDate: day, Quantity: 1, Gross: 4999, Currency: "USD"},
			{Line: 3, OrderID: "1", LineID: "2", Name: "Drake Mug (large)", OrderDate: day, Quantity: 1, Gross: 1299, Currency: "USD"},
			{Line: 4, OrderID: "2", LineID: "1", SKU: "NEW-9", Name: "Villain Pin", Category: "accessories", UnitPrice: 500, OrderDate: day, Quantity: 3, Gross: 1500, Currency: "USD"},
		}
		rep, err = importRows(t, s, a, store.ImportSpec{Kind: store.ImportSales, Source: "CSV import"}, sales, writeSales)
		if err != nil || countsOf(rep) != (counts{Inserted: 3, Created: 1}) {
			t.Fatalf("sales: %+v, %v", rep, err)
		}
		ps, err := s.Products(ctx, a, 10)
		if err != nil {
			t.Fatal(err)
		}
		type prod struct {
			Name, SKU, Category, Status string
			Price                       int64
		}
		var got []prod
		for _, p := range ps {
			got = append(got, prod{p.Name, p.SKU, p.Category, p.MappingStatus, p.Price})
		}
		want := []prod{
			{"Drake Mug (large)", "DM-1", "other", "unmapped", 1299},
			{"Nova Hoodie", "NH-1", "apparel", "unmapped", 4999},
			{"Villain Pin", "NEW-9", "accessories", "unmapped", 500},
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("products (-want +got):\n%s", diff)
		}
		var linked int
		if err := s.DB().QueryRow(`SELECT COUNT(DISTINCT product_id) FROM sales WHERE publisher_id = $1`, a).Scan(&linked); err != nil || linked != 3 {
			t.Errorf("sales reference %d products, %v", linked, err)
		}
		if ps, _ := s.Products(ctx, b, 10); len(ps) != 0 {
			t.Errorf("B sees %d products", len(ps))
		}
	})
}

func TestImportAssetsAndRates(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := ingestPublisher(t, s, "alpha", "USD")
		b := ingestPublisher(t, s, "beta", "USD")
		assets := []store.AssetRow{
			{Line: 2, GameIP: "Star Quest", Name: "Nova", AssetType: "character", Aliases: []string{"Captain Nova"}},
			{Line: 3, GameIP: "Star Quest", Name: "Drake", AssetType: "character"},
			{Line: 4, GameIP: "Ironroot Chronicles", Name: "Ironroot Logo", AssetType: "logo"},
		}
		rep, err := importRows(t, s, a, store.ImportSpec{Kind: store.ImportAssets}, assets, writeAssets)
		if err != nil || countsOf(rep) != (counts{Inserted: 3}) {
			t.Fatalf("assets: %+v, %v", rep, err)
		}
		assets[1].Aliases = []string{"The Drake"}
		rep, err = importRows(t, s, a, store.ImportSpec{Kind: store.ImportAssets}, assets, writeAssets)
		if err != nil || countsOf(rep) != (counts{Updated: 1, Skipped: 2}) {
			t.Fatalf("assets again: %+v, %v", rep, err)
		}
		ips, _ := s.GameIPs(ctx, a)
		as, _ := s.Assets(ctx, a)
		if len(ips) != 2 || len(as) != 3 || ips[1].Slug != "star-quest" {
			t.Errorf("%d game IPs, %d assets: %+v", len(ips), len(as), ips)
		}
		if ips, _ := s.GameIPs(ctx, b); len(ips) != 0 {
			t.Errorf("B sees %d game IPs", len(ips))
		}

		rates := []store.FXRow{{Line: 2, Day: "2026-01-05", Currency: "EUR", Rate: 1.08}, {Line: 3, Day: "2026-01-05", Currency: "USD", Rate: 1.1}}
		rep, err = importRows(t, s, a, store.ImportSpec{Kind: store.ImportFX, Columns: map[string]string{"rate": "rate"}}, rates, writeRates)
		want := []store.RowError{{Line: 3, Column: "rate", Value: "1.1", Reason: "USD is the reporting currency, so its rate must be 1"}}
		if phantomos.ErrorCode(err) != phantomos.EINVALID || !cmp.Equal(want, rep.Errors) {
			t.Errorf("reporting-currency rate: %v, %+v", err, rep.Errors)
		}
		rates[1].Rate = 1
		rep, err = importRows(t, s, a, store.ImportSpec{Kind: store.ImportFX}, rates, writeRates)
		if err != nil || countsOf(rep) != (counts{Inserted: 1, Skipped: 1}) {
			t.Fatalf("rates: %+v, %v", rep, err)
		}
		rates[0].Rate = 1.09
		rep, err = importRows(t, s, a, store.ImportSpec{Kind: store.ImportFX}, rates, writeRates)
		if err != nil || countsOf(rep) != (counts{Updated: 1, Skipped: 1}) {
			t.Fatalf("rates again: %+v, %v", rep, err)
		}
		var n int
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM fx_rates WHERE publisher_id = $1`, b).Scan(&n); err != nil || n != 0 {
			t.Errorf("B has %d rates, %v", n, err)
		}
	})
}

func TestGameIPSlug(t *testing.T) {
	for in, want := range map[string]string{"Star Quest II": "star-quest-ii", "  Pokémon!  ": "pokémon", "---": "", "A.B": "a-b"} {
		if got := store.GameIPSlug(in); got != want {
			t.Errorf("GameIPSlug(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestImportCatalogueAfterSales(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := ingestPublisher(t, s, "alpha", "USD")
		b := ingestPublisher(t, s, "beta", "USD")
		spec := store.ImportSpec{Kind: store.ImportSales, Source: "Shopify export"}
		day := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		sales := []store.SaleRow{{Line: 2, OrderID: "#1001", LineID: "1", Name: "Ocean Blue Shirt", OrderDate: day, Quantity: 1, Gross: 5000, Currency: "USD"}}
		if rep, err := importRows(t, s, a, spec, sales, writeSales); err != nil || rep.ProductsCreated != 1 {
			t.Fatalf("sales: %+v, %v", rep, err)
		}
		// The catalogue names the product by handle only: it completes the
		// placeholder the sale created instead of adding a twin.
		products := []store.ProductRow{{Line: 2, ExternalID: "ocean-blue-shirt", Name: "Ocean Blue Shirt", Category: "apparel", Price: 5000, PriceSet: true, Currency: "USD"}}
		spec.Kind = store.ImportProducts
		if rep, err := importRows(t, s, a, spec, products, writeProducts); err != nil || countsOf(rep) != (counts{Updated: 1}) {
			t.Fatalf("products: %+v, %v", rep, err)
		}
		if rep, err := importRows(t, s, a, spec, products, writeProducts); err != nil || countsOf(rep) != (counts{Skipped: 1}) {
			t.Fatalf("products again: %+v, %v", rep, err)
		}
		ps, _ := s.Products(ctx, a, 10)
		if len(ps) != 1 || ps[0].Category != "apparel" {
			t.Errorf("products = %+v", ps)
		}
		// The same placeholder name in another publisher is not touched.
		if ps, _ := s.Products(ctx, b, 10); len(ps) != 0 {
			t.Errorf("B sees %d products", len(ps))
		}
	})
}
