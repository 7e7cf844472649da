package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

func newPublisher(t *testing.T, s *store.Store, slug, currency string) phantomos.PublisherID {
	t.Helper()
	p := &phantomos.Publisher{Name: "Pub " + slug, Slug: slug, Timezone: "America/New_York", ReportingCurrency: currency}
	if err := s.CreatePublisher(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p.ID
}

func importString(t *testing.T, s *store.Store, pub phantomos.PublisherID, kind ingest.Kind, in string, opts ingest.Options) (*ingest.Result, error) {
	t.Helper()
	return ingest.Import(context.Background(), s, pub, kind, ingest.FormatAuto, strings.NewReader(in), opts)
}

func importFile(t *testing.T, s *store.Store, pub phantomos.PublisherID, kind ingest.Kind, path string, opts ingest.Options) *ingest.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	opts.FileName = filepath.Base(path)
	res, err := ingest.Import(context.Background(), s, pub, kind, ingest.FormatAuto, f, opts)
	if err != nil {
		t.Fatalf("import %s: %v (errors %v)", path, err, res)
	}
	return res
}

type counts struct{ Seen, Inserted, Updated, Skipped, Failed, Created int64 }

func countsOf(r *ingest.Result) counts {
	return counts{r.Seen, r.Inserted, r.Updated, r.Skipped, r.Failed, r.ProductsCreated}
}

// totals are what a connector's stored sales add up to.
type totals struct {
	Lines, Orders                  int64
	Charged                        int64 // Σ gross - discount + shipping + tax + tip
	Net, Refunded, ChargesRefunded int64
}

func salesTotals(t *testing.T, s *store.Store, pub phantomos.PublisherID, source string) totals {
	t.Helper()
	var x totals
	err := s.DB().QueryRow(`SELECT COUNT(*), COUNT(DISTINCT external_order_id),
			COALESCE(SUM(gross - discount + shipping + tax + tip), 0), COALESCE(SUM(net), 0), COALESCE(SUM(refunded), 0),
			COALESCE(SUM(charges_refunded), 0)
		FROM sales WHERE publisher_id = $1 AND connector_id = (SELECT id FROM connectors WHERE publisher_id = $1 AND name = $2)`,
		pub, source).Scan(&x.Lines, &x.Orders, &x.Charged, &x.Net, &x.Refunded, &x.ChargesRefunded)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func evalDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "eval-data")
	if _, err := os.Stat(dir); err != nil {
		t.Skip("no ../shared/eval-data")
	}
	return dir
}

// TestImportEvalData imports the real export files: every product and
// order exactly, totals as in the files, and a second import changes nothing.
func TestImportEvalData(t *testing.T) {
	dir := evalDir(t)
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newPublisher(t, s, "alpha", "USD")
		b := newPublisher(t, s, "beta", "USD")

		productFiles := []struct {
			file  string
			rows  int64
			count int64
		}{
			{"shopify-product-csvs/apparel.csv", 22, 20},
			{"shopify-product-csvs/home-and-garden.csv", 21, 20},
			{"shopify-product-csvs/jewelery.csv", 41, 20},
			{"woocommerce-sample-products/sample_products.csv", 25, 18},
		}
		for _, f := range productFiles {
			res := importFile(t, s, a, ingest.KindProducts, filepath.Join(dir, f.file), ingest.Options{})
			if got, want := countsOf(res), (counts{Seen: f.rows, Inserted: f.count}); got != want {
				t.Errorf("%s: %+v, want %+v", f.file, got, want)
			}
		}
		orderFiles := []struct {
			file, source string
			rows         int64
			want         totals
		}{
			{"shopify-orders-exports-redacted/explorer_clothing_orders_export_redacted.csv", "Explorer Clothing", 98,
				totals{Lines: 97, Orders: 81, Charged: 330578, Net: 294540, Refunded: 1060}},
			{"shopify-orders-exports-redacted/yancy_handmade_orders_export_redacted.csv", "Yancy Handmade", 322,
				totals{Lines: 303, Orders: 228, Charged: 1999042, Net: 1950576}},
		}
		for _, f := range orderFiles {
			res := importFile(t, s, a, ingest.KindSales, filepath.Join(dir, f.file), ingest.Options{Source: f.source})
			if res.Format != ingest.FormatShopify || res.Seen != f.rows || res.Inserted != f.want.Lines || res.Failed != 0 {
				t.Errorf("%s: %+v", f.file, res)
			}
			if got := salesTotals(t, s, a, f.source); got != f.want {
				t.Errorf("%s totals (-want +got):\n%s", f.file, cmp.Diff(f.want, got))
			}
		}
		if err := s.CheckRollups(ctx, a); err != nil {
			t.Error(err)
		}
		productCount := func() int {
			ps, err := s.Products(ctx, a, 10000)
			if err != nil {
				t.Fatal(err)
			}
			return len(ps)
		}
		before := productCount()

		// Again: nothing changes.
		for _, f := range productFiles {
			res := importFile(t, s, a, ingest.KindProducts, filepath.Join(dir, f.file), ingest.Options{})
			if got, want := countsOf(res), (counts{Seen: f.rows, Skipped: f.count}); got != want {
				t.Errorf("re-import %s: %+v, want %+v", f.file, got, want)
			}
		}
		for _, f := range orderFiles {
			res := importFile(t, s, a, ingest.KindSales, filepath.Join(dir, f.file), ingest.Options{Source: f.source})
			if got, want := countsOf(res), (counts{Seen: f.rows, Skipped: f.want.Lines}); got != want {
				t.Errorf("re-import %s: %+v, want %+v", f.file, got, want)
			}
			if got := salesTotals(t, s, a, f.source); got != f.want {
				t.Errorf("re-import %s totals (-want +got):\n%s", f.file, cmp.Diff(f.want, got))
			}
		}
		if after := productCount(); after != before {
			t.Errorf("products %d after re-import, %d before", after, before)
		}
		if err := s.CheckRollups(ctx, a); err != nil {
			t.Error(err)
		}
		if n, _ := s.SalesCount(ctx, b); n != 0 {
			t.Errorf("B has %d sales", n)
		}
		if ps, _ := s.Products(ctx, b, 10); len(ps) != 0 {
			t.Errorf("B sees %d products", len(ps))
		}
	})
}

func TestImportRefusedFileWritesNothing(t *testing.T) {
	in := "order_id,date,sku,name,qty,revenue\n" +
		"1001,2024-05-01,NOVA-1,Nova Figure,1,25.00\n" +
		"1002,2024-05-01,NOVA-2,Nova Mug,x,12.00\n" +
		"1003,2024-05-02,NOVA-1,Nova Figure,2,50.00\n"
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newPublisher(t, s, "alpha", "USD")
		b := newPublisher(t, s, "beta", "USD")
		res, err := importString(t, s, a, ingest.KindSales, in, ingest.Options{FileName: "sales.csv"})
		if phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Fatalf("err = %v, want EINVALID", err)
		}
		if got := phantomos.ErrorMessage(err); got != "1 of 3 rows are invalid; nothing was imported. Fix them, or import the valid rows only." {
			t.Errorf("message = %q", got)
		}
		wantErrs := []ingest.RowError{{Line: 3, Column: "qty", Value: "x", Reason: "quantity is not a whole number"}}
		if diff := cmp.Diff(wantErrs, res.Errors); diff != "" {
			t.Errorf("errors (-want +got):\n%s", diff)
		}
		if got, want := countsOf(res), (counts{Seen: 3, Failed: 1}); got != want {
			t.Errorf("counts %+v, want %+v", got, want)
		}
		if n, _ := s.SalesCount(ctx, a); n != 0 {
			t.Errorf("%d sales written", n)
		}
		if ps, _ := s.Products(ctx, a, 10); len(ps) != 0 {
			t.Errorf("%d products written", len(ps))
		}
		run, err := s.ImportRun(ctx, a, res.RunID)
		if err != nil || run.State != "failed" || run.FileName != "sales.csv" || run.Kind != "sales" || run.Format != "generic" {
			t.Fatalf("run %+v, %v", run, err)
		}
		if diff := cmp.Diff(wantErrs, run.Errors); diff != "" {
			t.Errorf("run report (-want +got):\n%s", diff)
		}
		var report bytes.Buffer
		if err := ingest.WriteErrorReport(&report, run.Errors); err != nil {
			t.Fatal(err)
		}
		if got, want := report.String(), "line,column,value,reason\n3,qty,x,quantity is not a whole number\n"; got != want {
			t.Errorf("report = %q, want %q", got, want)
		}

		// The preview shows the same, and what would be written.
		res, err = importString(t, s, a, ingest.KindSales, in, ingest.Options{DryRun: true})
		if err != nil || countsOf(res) != (counts{Seen: 3, Inserted: 2, Failed: 1, Created: 1}) || len(res.Errors) != 1 || res.RunID != "" {
			t.Errorf("dry run: %+v, %v", res, err)
		}
		if n, _ := s.SalesCount(ctx, a); n != 0 {
			t.Errorf("%d sales written by the preview", n)
		}

		// Valid rows only.
		res, err = importString(t, s, a, ingest.KindSales, in, ingest.Options{ValidOnly: true})
		if err != nil || countsOf(res) != (counts{Seen: 3, Inserted: 2, Failed: 1, Created: 1}) {
			t.Errorf("valid only: %+v, %v", res, err)
		}
		if n, _ := s.SalesCount(ctx, a); n != 2 {
			t.Errorf("%d sales after valid-only import, want 2", n)
		}
		if err := s.CheckRollups(ctx, a); err != nil {
			t.Error(err)
		}
		runs, _ := s.ImportRuns(ctx, a, 10)
		if len(runs) != 2 || runs[0].State != "succeeded" || runs[0].Failed != 1 || len(runs[0].Errors) != 1 {
			t.Errorf("runs = %+v", runs)
		}
		if runs, _ := s.ImportRuns(ctx, b, 10); len(runs) != 0 {
			t.Errorf("B sees %d runs", len(runs))
		}
	})
}

func TestImportFXAndUnknownProducts(t *testing.T) {
	sales := "Order Number,Created At,SKU,Product Name,Quantity,Price,Refunded,Currency,Country\n" +
		"A1,2024-05-03 10:00:00,NOVA-1,Nova Figure,2,20.00,,EUR,DE\n" + // a Friday
		"A2,2024-05-05 10:00:00,NOVA-1,Nova Figure,1,20.00,,EUR,FR\n" + // Sunday: Friday's rate
		"A3,2024-05-05 11:00:00,DRAKE-1,Drake Plush,1,15.00,,USD,US\n"
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newPublisher(t, s, "alpha", "USD")
		b := newPublisher(t, s, "beta", "USD")
		res, err := importString(t, s, a, ingest.KindSales, sales, ingest.Options{})
		if phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Fatalf("without rates: %v", err)
		}
		want := []ingest.RowError{
			{Line: 2, Column: "Currency", Value: "EUR", Reason: "no exchange rate from EUR to USD on 2024-05-03 or the 7 days before; import FX rates (date,currency,rate) first"},
			{Line: 3, Column: "Currency", Value: "EUR", Reason: "no exchange rate from EUR to USD on 2024-05-05 or the 7 days before; import FX rates (date,currency,rate) first"},
		}
		if diff := cmp.Diff(want, res.Errors); diff != "" {
			t.Errorf("errors (-want +got):\n%s", diff)
		}
		res, err = importString(t, s, a, ingest.KindFX, "date,currency,rate\n2024-05-03,EUR,1.0750\n2024-05-06,EUR,1.0800\n", ingest.Options{})
		if err != nil || countsOf(res) != (counts{Seen: 2, Inserted: 2}) {
			t.Fatalf("rates: %+v, %v", res, err)
		}
		// With the exact day required, Sunday still has no rate.
		if _, err := importString(t, s, a, ingest.KindSales, sales, ingest.Options{FXFallbackDays: -1}); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("exact-day rates: %v, want EINVALID", err)
		}
		res, err = importString(t, s, a, ingest.KindSales, sales, ingest.Options{})
		if err != nil || countsOf(res) != (counts{Seen: 3, Inserted: 3, Created: 2}) {
			t.Fatalf("sales: %+v, %v", res, err)
		}
		var netR, net int64
		if err := s.DB().QueryRow(`SELECT SUM(net_reporting), SUM(net) FROM sales WHERE publisher_id = $1 AND currency = 'EUR'`, a).Scan(&netR, &net); err != nil {
			t.Fatal(err)
		}
		if net != 6000 || netR != 4300+2150 {
			t.Errorf("EUR net %d = %d USD, want 6000 = 6450", net, netR)
		}
		ps, _ := s.Products(ctx, a, 10)
		if len(ps) != 2 || ps[0].MappingStatus != phantomos.MappingUnmapped || ps[0].Name != "Drake Plush" || ps[1].Category != phantomos.CategoryCollectibles {
			t.Errorf("products = %+v", ps)
		}
		// A product file naming the same SKUs completes them, no duplicates.
		res, err = importString(t, s, a, ingest.KindProducts, "id,sku,title,price,category\nnova,NOVA-1,Nova Figure (deluxe),24.99,collectibles\n", ingest.Options{})
		if err != nil || countsOf(res) != (counts{Seen: 1, Updated: 1}) {
			t.Errorf("products: %+v, %v", res, err)
		}
		if ps, _ := s.Products(ctx, a, 10); len(ps) != 2 {
			t.Errorf("%d products, want 2", len(ps))
		}
		// A refund arrives: the line is updated, the rollups follow.
		refunded := strings.Replace(sales, "NOVA-1,Nova Figure,1,20.00,,", "NOVA-1,Nova Figure,1,20.00,yes,", 1)
		res, err = importString(t, s, a, ingest.KindSales, refunded, ingest.Options{})
		if err != nil || countsOf(res) != (counts{Seen: 3, Updated: 1, Skipped: 2}) {
			t.Errorf("refund: %+v, %v", res, err)
		}
		sum, err := s.Summary(ctx, a, "2024-05-01", "2024-05-31")
		if err != nil || sum.Net != 4300+1500 || sum.Refunded != 2150 {
			t.Errorf("summary %+v, %v", sum, err)
		}
		if err := s.CheckRollups(ctx, a); err != nil {
			t.Error(err)
		}
		if sum, _ := s.Summary(ctx, b, "2024-05-01", "2024-05-31"); sum != (store.Summary{}) {
			t.Errorf("B's summary = %+v", sum)
		}
	})
}

func TestImportMarketplaceFixtures(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newPublisher(t, s, "alpha", "USD")
		if _, err := importString(t, s, a, ingest.KindFX, "date,currency,rate\n2024-03-03,EUR,1.08\n", ingest.Options{}); err != nil {
			t.Fatal(err)
		}
		res := importFile(t, s, a, ingest.KindSales, "testdata/synthetic_amazon_all_orders.txt", ingest.Options{})
		if res.Format != ingest.FormatAmazon || res.Source != "Amazon report" || countsOf(res) != (counts{Seen: 5, Inserted: 4, Skipped: 1, Created: 4}) {
			t.Errorf("amazon: %+v", res)
		}
		if got, want := salesTotals(t, s, a, "Amazon report"), (totals{Lines: 4, Orders: 3, Charged: 5998 - 500 + 480 + 1499 + 120 + 4999 + 450 + 870, Net: 5498 + 1499 + 4999}); got != want {
			t.Errorf("amazon totals (-want +got):\n%s", cmp.Diff(want, got))
		}
		res = importFile(t, s, a, ingest.KindSales, "testdata/synthetic_bigcommerce_orders.csv", ingest.Options{})
		if res.Format != ingest.FormatBigCommerce || countsOf(res) != (counts{Seen: 3, Inserted: 4, Created: 2}) {
			t.Errorf("bigcommerce: %+v", res)
		}
		if got, want := salesTotals(t, s, a, "BigCommerce export"), (totals{Lines: 4, Orders: 3, Charged: 7518 + 3640 + 3700, Net: 6498 + 1800 + 3500, Refunded: 1200}); got != want {
			t.Errorf("bigcommerce totals (-want +got):\n%s", cmp.Diff(want, got))
		}
		for _, f := range []string{"testdata/synthetic_amazon_all_orders.txt", "testdata/synthetic_bigcommerce_orders.csv"} {
			res := importFile(t, s, a, ingest.KindSales, f, ingest.Options{})
			if res.Inserted != 0 || res.Updated != 0 {
				t.Errorf("re-import %s: %+v", f, res)
			}
		}
		if err := s.CheckRollups(ctx, a); err != nil {
			t.Error(err)
		}
		// The assets file of DESIGN.md §5.
		res, err := importString(t, s, a, ingest.KindAssets, "game_ip,asset,asset_type,aliases\nStar Quest,Nova,character,Captain Nova|Nova\nStar Quest,Drake,character,\n", ingest.Options{})
		if err != nil || countsOf(res) != (counts{Seen: 2, Inserted: 2}) || res.Source != "" {
			t.Errorf("assets: %+v, %v", res, err)
		}
		as, _ := s.Assets(ctx, a)
		if len(as) != 2 || !cmp.Equal(as[1].Aliases, []string{"Captain Nova", "Nova"}) {
			t.Errorf("assets = %+v", as)
		}
	})
}

// amazonReport is an All Orders flat file of the given rows, each
// "order-id|purchase-date|last-updated-date|order-status|sku|quantity|item-price".
func amazonReport(rows ...string) string {
	var b strings.Builder
	b.WriteString(strings.Join(ingest.AmazonColumns, "\t") + "\n")
	for _, r := range rows {
		f := strings.Split(r, "|")
		rec := make([]string, len(ingest.AmazonColumns))
		rec[0], rec[2], rec[3], rec[4], rec[5], rec[6] = f[0], f[1], f[2], f[3], "Amazon", "Amazon.com"
		rec[10], rec[11], rec[13], rec[14], rec[15], rec[16], rec[27] = f[4]+" Figure", f[4], f[3], f[5], "USD", f[6], "US"
		b.WriteString(strings.Join(rec, "\t") + "\n")
	}
	return b.String()
}

// TestImportAmazonCancelledOrders: a cancelled order in Amazon's report
// is neither revenue nor an order, and a later report in which a shipped
// order was cancelled removes its lines (the same rule as the connector's
// sync, which reads these files through the same parser).
func TestImportAmazonCancelledOrders(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newPublisher(t, s, "alpha", "USD")
		const src = "Amazon report"
		first := amazonReport(
			"111-1|2024-03-01T10:00:00Z|2024-03-02T08:00:00Z|Shipped|FIG-1|2|59.98",
			"111-2|2024-03-01T11:00:00Z|2024-03-02T09:00:00Z|Shipped|FIG-1|1|29.99",
			"111-3|2024-03-01T12:00:00Z|2024-03-01T13:00:00Z|Cancelled|FIG-1|0|",
		)
		res, err := importString(t, s, a, ingest.KindSales, first, ingest.Options{})
		if err != nil || res.Inserted != 2 || res.Skipped != 1 {
			t.Fatalf("first report: %+v, %v", res, err)
		}
		if got, want := salesTotals(t, s, a, src), (totals{Lines: 2, Orders: 2, Charged: 8997, Net: 8997}); got != want {
			t.Errorf("first report (-want +got):\n%s", cmp.Diff(want, got))
		}
		sum, err := s.Summary(ctx, a, "2024-03-01", "2024-03-01")
		if err != nil || sum.Orders != 2 {
			t.Errorf("summary orders = %d, %v; want 2 (the cancelled order is no order)", sum.Orders, err)
		}

		// 111-2 is cancelled after it shipped.
		later := amazonReport("111-2|2024-03-01T11:00:00Z|2024-03-04T09:00:00Z|Cancelled|FIG-1|0|")
		if res, err := importString(t, s, a, ingest.KindSales, later, ingest.Options{}); err != nil || res.Deleted != 1 {
			t.Fatalf("report with the cancellation: %+v, %v", res, err)
		}
		if got, want := salesTotals(t, s, a, src), (totals{Lines: 1, Orders: 1, Charged: 5998, Net: 5998}); got != want {
			t.Errorf("after the cancellation (-want +got):\n%s", cmp.Diff(want, got))
		}
		if err := s.CheckRollups(ctx, a); err != nil {
			t.Error(err)
		}
	})
}

// TestImportDuplicateLineOfAMultiLineOrder repeats a line of a two-line
// order in a later batch: the repeat is refused with its line and the
// first one's. The lookup of which keys the ledger held before counted
// the batch's lines where it bound its distinct orders, and PostgreSQL
// refused the statement ("expected 2002 arguments, got 1002"): the import
// failed with a database error instead.
func TestImportDuplicateLineOfAMultiLineOrder(t *testing.T) {
	var b strings.Builder
	b.WriteString("order_id,line_id,date,sku,name,qty,price,currency\n")
	for i := range 12000 {
		fmt.Fprintf(&b, "O%d,%d,2024-01-02T10:00:00Z,SKU-%d,Product %d,1,5.00,USD\n", i/2, 1+i%2, i%50, i%50)
	}
	b.WriteString("O3,1,2024-01-02T10:00:00Z,SKU-7,Product 7,2,9.00,USD\n") // O3/1 again, in the second batch
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		a := newPublisher(t, s, "alpha", "USD")
		res, err := importString(t, s, a, ingest.KindSales, b.String(), ingest.Options{})
		if err == nil || len(res.Errors) != 1 || res.Errors[0].Error() !=
			`line 12002, column "line_id": order O3 has this line already (line 8): each line of an order may appear once in an import (value "1")` {
			t.Fatalf("duplicate line: %+v, %v", res, err)
		}
	})
}

// TestImportManyBatches crosses batch boundaries: counts, progress, a key
// repeated within the file (refused, also across batches, naming where the
// line first was) and a re-import.
func TestImportManyBatches(t *testing.T) {
	const rows = 25000
	var b strings.Builder
	b.WriteString("order_id,line_id,date,sku,name,qty,price,currency\n")
	for i := range rows {
		fmt.Fprintf(&b, "O%d,1,2024-0%d-%02dT10:00:00Z,SKU-%d,Product %d,1,%d.00,USD\n", i, 1+i%9, 1+i%28, i%50, i%50, 1+i%40)
	}
	b.WriteString("O7,1,2024-08-08T10:00:00Z,SKU-7,Product 7,2,9.00,USD\n") // O7/1 again
	in := b.String()
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newPublisher(t, s, "alpha", "USD")
		b := newPublisher(t, s, "beta", "USD")
		res, err := importString(t, s, a, ingest.KindSales, in, ingest.Options{})
		if err == nil || len(res.Errors) != 1 || res.Errors[0].Error() !=
			`line 25002, column "line_id": order O7 has this line already (line 9): each line of an order may appear once in an import (value "1")` {
			t.Fatalf("duplicate line: %+v, %v", res, err)
		}
		var progress []int64
		res, err = importString(t, s, a, ingest.KindSales, in, ingest.Options{ValidOnly: true, Progress: func(n int64) { progress = append(progress, n) }})
		if err != nil || countsOf(res) != (counts{Seen: rows + 1, Inserted: rows, Failed: 1, Created: 50}) {
			t.Fatalf("import: %+v, %v", res, err)
		}
		if len(progress) < 3 || progress[len(progress)-1] != rows+1 {
			t.Errorf("progress calls %v", progress)
		}
		var qty int64
		if err := s.DB().QueryRow(`SELECT quantity FROM sales WHERE publisher_id = $1 AND external_order_id = 'O7'`, a).Scan(&qty); err != nil || qty != 1 {
			t.Errorf("O7 quantity %d, %v; want the first row's 1", qty, err)
		}
		if err := s.CheckRollups(ctx, a); err != nil {
			t.Error(err)
		}
		res, err = importString(t, s, a, ingest.KindSales, in, ingest.Options{ValidOnly: true})
		if err != nil || countsOf(res) != (counts{Seen: rows + 1, Skipped: rows, Failed: 1}) {
			t.Fatalf("re-import: %+v, %v", res, err)
		}
		if err := s.CheckRollups(ctx, a); err != nil {
			t.Error(err)
		}
		if n, _ := s.SalesCount(ctx, b); n != 0 {
			t.Errorf("B has %d sales", n)
		}
	})
}
