package store_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// An order is replaced whole by its newer version, from any path; an older
// or timeless version never overwrites one with a time; the rollups follow.
func TestOrderIdentityReplacementAndOrdering(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := ingestPublisher(t, s, "alpha", "USD")
		b := ingestPublisher(t, s, "beta", "USD")
		day := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		t1 := time.Date(2026, 3, 11, 8, 0, 0, 0, time.UTC)
		line := func(order, id string, gross int64, updated time.Time) store.SaleRow {
			return store.SaleRow{Line: 2, OrderID: order, OrderName: "#1001", LineID: id, SKU: "MUG", Name: "Mug", OrderDate: day,
				Quantity: 1, Gross: gross, Currency: "USD", UpdatedAt: updated}
		}
		spec := store.ImportSpec{Kind: store.ImportSales, Source: "Store one"}
		write := func(pub string, rows ...store.SaleRow) *store.ImportReport {
			t.Helper()
			p := a
			if pub == "b" {
				p = b
			}
			rep, err := importRows(t, s, p, spec, rows, writeSales)
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		lines := func() []string {
			var out []string
			for _, x := range storedSales(t, s, a) {
				out = append(out, x.Order+"/"+x.Line+"="+itoa(x.Gross))
			}
			return out
		}
		type outcome struct{ Inserted, Updated, Skipped, Deleted, Stale, Changed int64 }
		got := func(r *store.ImportReport) outcome {
			return outcome{r.Inserted, r.Updated, r.Skipped, r.Deleted, r.Stale, r.OrdersChanged}
		}

		// A file: no line ids of the source, no time.
		if r := write("a", line("450789469", "1", 1000, time.Time{}), line("450789469", "2", 500, time.Time{})); got(r) != (outcome{Inserted: 2}) {
			t.Fatalf("file: %+v", got(r))
		}
		write("b", line("450789469", "1", 7, time.Time{})) // another tenant, same ids
		// The sync of the same store: the platform's line ids, with a time.
		// The file's lines make way, the order counts once.
		r := write("a", line("450789469", "11", 1000, t1), line("450789469", "12", 500, t1))
		if d := cmp.Diff(outcome{Inserted: 2, Deleted: 2, Changed: 1}, got(r)); d != "" {
			t.Fatalf("sync after file (-want +got):\n%s", d)
		}
		if d := cmp.Diff([]string{"450789469/11=1000", "450789469/12=500"}, lines()); d != "" {
			t.Fatalf("lines (-want +got):\n%s", d)
		}
		if d := cmp.Diff([]string{"#1001 (id 450789469)"}, r.ChangedExamples); d != "" {
			t.Fatalf("examples (-want +got):\n%s", d)
		}
		// A late, older payload is ignored; so is a timeless file.
		for _, u := range []time.Time{t1.Add(-time.Hour), {}} {
			r = write("a", line("450789469", "11", 999, u))
			if d := cmp.Diff(outcome{Stale: 1}, got(r)); d != "" {
				t.Fatalf("older version %v (-want +got):\n%s", u, d)
			}
		}
		// A newer version with one line left removes the other.
		r = write("a", line("450789469", "11", 1200, t1.Add(time.Hour)))
		if d := cmp.Diff(outcome{Updated: 1, Deleted: 1, Changed: 1}, got(r)); d != "" {
			t.Fatalf("newer version (-want +got):\n%s", d)
		}
		// The same version again changes nothing.
		r = write("a", line("450789469", "11", 1200, t1.Add(time.Hour)))
		if d := cmp.Diff(outcome{Skipped: 1}, got(r)); d != "" {
			t.Fatalf("same version (-want +got):\n%s", d)
		}
		if d := cmp.Diff([]string{"450789469/11=1200"}, lines()); d != "" {
			t.Fatalf("lines (-want +got):\n%s", d)
		}
		// Timeless over timeless: a file re-imported with a correction wins.
		write("a", line("7", "1", 100, time.Time{}), line("7", "2", 100, time.Time{}))
		r = write("a", line("7", "1", 150, time.Time{}))
		if d := cmp.Diff(outcome{Updated: 1, Deleted: 1, Changed: 1}, got(r)); d != "" {
			t.Fatalf("file over file (-want +got):\n%s", d)
		}
		for _, p := range []string{"a", "b"} {
			pub := a
			if p == "b" {
				pub = b
			}
			if err := s.CheckRollups(ctx, pub); err != nil {
				t.Fatal(err)
			}
		}
		if d := cmp.Diff([]string{"450789469/1=7"}, func() []string {
			var out []string
			for _, x := range storedSales(t, s, b) {
				out = append(out, x.Order+"/"+x.Line+"="+itoa(x.Gross))
			}
			return out
		}()); d != "" {
			t.Fatalf("other tenant touched (-want +got):\n%s", d)
		}
	})
}

// A dry run counts the existing orders an import would change, names some,
// and writes nothing.
func TestOrderIdentityPreviewCountsChangedOrders(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		a := ingestPublisher(t, s, "alpha", "USD")
		day := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		sale := func(order string, gross int64) store.SaleRow {
			return store.SaleRow{Line: 2, OrderID: order, LineID: "1", SKU: "MUG", Name: "Mug", OrderDate: day, Quantity: 1, Gross: gross, Currency: "USD"}
		}
		spec := store.ImportSpec{Kind: store.ImportSales, Source: "Default"}
		var first []store.SaleRow
		for i := range 8 {
			first = append(first, sale("o"+itoa(int64(i)), 100))
		}
		if _, err := importRows(t, s, a, spec, first, writeSales); err != nil {
			t.Fatal(err)
		}
		// Another store's file with colliding ids and other content.
		second := []store.SaleRow{sale("o1", 100), sale("o2", 250), sale("o3", 300), sale("new", 1)}
		spec.DryRun = true
		rep, err := importRows(t, s, a, spec, second, writeSales)
		if err != nil {
			t.Fatal(err)
		}
		if rep.OrdersChanged != 2 || rep.Updated != 2 || rep.Skipped != 1 || rep.Inserted != 1 {
			t.Fatalf("preview: %+v", rep)
		}
		if d := cmp.Diff([]string{"o2", "o3"}, rep.ChangedExamples); d != "" {
			t.Fatalf("examples (-want +got):\n%s", d)
		}
		if n, _ := s.SalesCount(context.Background(), a); n != 8 {
			t.Fatalf("a dry run wrote: %d sales", n)
		}
	})
}

// One import holds each line of an order once: a repeat is refused, in the
// same batch or a later one, naming where the line first was.
func TestImportRefusesDuplicateOrderLine(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		a := ingestPublisher(t, s, "alpha", "USD")
		day := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		sale := func(line int64, order, id string) store.SaleRow {
			return store.SaleRow{Line: line, OrderID: order, LineID: id, SKU: "MUG", Name: "Mug", OrderDate: day, Quantity: 1, Gross: 100, Currency: "USD"}
		}
		spec := store.ImportSpec{Kind: store.ImportSales, Source: "Default", Columns: map[string]string{"line": "line_id"}}
		rep, err := s.Import(context.Background(), a, spec, func(w *store.ImportWriter) error {
			w.AddSeen(4)
			if err := w.WriteSales(context.Background(), []store.SaleRow{sale(2, "A", "1"), sale(3, "A", "1")}); err != nil {
				return err
			}
			return w.WriteSales(context.Background(), []store.SaleRow{sale(4, "B", "1"), sale(5, "A", "1")})
		})
		if err == nil {
			t.Fatal("duplicate lines accepted")
		}
		var got []string
		for _, e := range rep.Errors {
			got = append(got, e.Error())
		}
		want := []string{
			`line 3, column "line_id": order A has this line already (line 2): each line of an order may appear once in an import (value "1")`,
			`line 5, column "line_id": order A has this line already (line 2): each line of an order may appear once in an import (value "1")`,
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("errors (-want +got):\n%s", d)
		}
		if n, _ := s.SalesCount(context.Background(), a); n != 0 {
			t.Fatalf("refused import wrote %d sales", n)
		}
	})
}

// Every text field is bounded, NULs and invalid UTF-8 are refused before
// they reach the database, an order dated far in the future is refused,
// and no error quotes a huge value.
func TestImportBoundsSaleText(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		a := ingestPublisher(t, s, "alpha", "USD")
		now := time.Date(2026, 12, 6, 5, 0, 0, 0, time.UTC)
		s.SetClock(func() time.Time { return now })
		day := now.Add(-48 * time.Hour)
		ok := store.SaleRow{Line: 2, OrderID: "A", LineID: "1", SKU: "MUG", Name: "Mug", OrderDate: day, Quantity: 1, Gross: 100, Currency: "USD"}
		huge := strings.Repeat("x", 60000)
		cases := []struct {
			name   string
			edit   func(*store.SaleRow)
			column string
			reason string
		}{
			{"long name", func(r *store.SaleRow) { r.Name = huge }, "name", "the name is longer than 500 characters (it has 60000)"},
			{"long order id", func(r *store.SaleRow) { r.OrderID = huge }, "order", "the order is longer than 255 characters (it has 60000)"},
			{"long channel", func(r *store.SaleRow) { r.Channel = huge }, "channel", "the channel is longer than 255 characters (it has 60000)"},
			{"NUL", func(r *store.SaleRow) { r.SKU = "MU\x00G" }, "sku", "the sku contains a NUL byte"},
			{"bad UTF-8", func(r *store.SaleRow) { r.Region = "Bay\xffern" }, "region", "the region is not valid UTF-8 text; save the file as UTF-8"},
			{"far future", func(r *store.SaleRow) { r.OrderDate = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC) }, "date",
				"the order date is in the future (after 2026-12-07T17:00:00Z)"},
		}
		for _, c := range cases {
			r := ok
			c.edit(&r)
			rep, err := importRows(t, s, a, store.ImportSpec{Kind: store.ImportSales}, []store.SaleRow{r}, writeSales)
			if err == nil || len(rep.Errors) != 1 {
				t.Fatalf("%s: accepted (%+v)", c.name, rep)
			}
			e := rep.Errors[0]
			if e.Column != c.column || e.Reason != c.reason || len(e.Value) > 120 {
				t.Errorf("%s: got %q %q value %d bytes", c.name, e.Column, e.Reason, len(e.Value))
			}
		}
		// Right at the bound passes; tomorrow (a time zone ahead) too.
		r := ok
		r.Name, r.OrderDate = strings.Repeat("é", store.MaxNameLen), now.Add(24*time.Hour)
		if _, err := importRows(t, s, a, store.ImportSpec{Kind: store.ImportSales}, []store.SaleRow{r}, writeSales); err != nil {
			t.Fatal(err)
		}
		// Products: names, descriptions, tags.
		p := store.ProductRow{Line: 2, ExternalID: "p1", Name: "Mug"}
		for _, edit := range []func(*store.ProductRow){
			func(p *store.ProductRow) { p.Name = huge },
			func(p *store.ProductRow) { p.Description = strings.Repeat("y", store.MaxDescriptionLen+1) },
			func(p *store.ProductRow) { p.Tags = strings.Split(strings.Repeat("t,", store.MaxTags+1), ",") },
			func(p *store.ProductRow) { p.Tags = []string{huge} },
		} {
			q := p
			edit(&q)
			rep, err := importRows(t, s, a, store.ImportSpec{Kind: store.ImportProducts}, []store.ProductRow{q}, writeProducts)
			if err == nil || len(rep.Errors) != 1 || len(rep.Errors[0].Value) > 120 {
				t.Fatalf("product accepted or echoed: %+v", rep)
			}
		}
	})
}

func TestClipValue(t *testing.T) {
	for in, want := range map[string]string{
		"short":                  "short",
		strings.Repeat("a", 81):  strings.Repeat("a", 80) + "…(81 bytes)",
		strings.Repeat("é", 100): strings.Repeat("é", 80) + "…(200 bytes)",
		"a\x00b\xff":             "a\uFFFDb\uFFFD",
	} {
		if got := store.ClipValue(in); got != want {
			t.Errorf("ClipValue(%.20q) = %q, want %q", in, got, want)
		}
		if again := store.ClipValue(want); again != want {
			t.Errorf("ClipValue clipped %q again: %q", want, again)
		}
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// An order's lines may come in several batches of one import: an order
// created by the import's first batch is not "existing" in its second, and
// an existing order keeps the lines of all its batches.
func TestOrderIdentityAcrossBatches(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := ingestPublisher(t, s, "alpha", "USD")
		day := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		sale := func(line int64, order, id string, gross int64) store.SaleRow {
			return store.SaleRow{Line: line, OrderID: order, LineID: id, SKU: "MUG", Name: "Mug", OrderDate: day, Quantity: 1, Gross: gross, Currency: "USD"}
		}
		spec := store.ImportSpec{Kind: store.ImportSales, Source: "Default"}
		if _, err := importRows(t, s, a, spec, []store.SaleRow{sale(2, "X", "1", 100), sale(3, "X", "2", 100), sale(4, "X", "3", 100)}, writeSales); err != nil {
			t.Fatal(err)
		}
		rep, err := s.Import(ctx, a, spec, func(w *store.ImportWriter) error {
			w.AddSeen(5)
			if err := w.WriteSales(ctx, []store.SaleRow{sale(2, "X", "1", 100), sale(3, "Y", "1", 50)}); err != nil {
				return err
			}
			return w.WriteSales(ctx, []store.SaleRow{sale(4, "Y", "2", 50), sale(5, "X", "2", 120), sale(6, "Z", "1", 10)})
		})
		if err != nil {
			t.Fatal(err)
		}
		if rep.OrdersChanged != 1 || rep.Deleted != 1 || rep.Inserted != 3 || rep.Updated != 1 || rep.Skipped != 1 {
			t.Fatalf("report: %+v", rep)
		}
		var got []string
		for _, x := range storedSales(t, s, a) {
			got = append(got, x.Order+"/"+x.Line+"="+itoa(x.Gross))
		}
		if d := cmp.Diff([]string{"X/1=100", "X/2=120", "Y/1=50", "Y/2=50", "Z/1=10"}, got); d != "" {
			t.Fatalf("lines (-want +got):\n%s", d)
		}
		if err := s.CheckRollups(ctx, a); err != nil {
			t.Fatal(err)
		}
	})
}

// An order has one day: a line dated on another day than its order's first
// line is refused with both lines named, in one batch or across batches,
// and the refused import writes nothing. Lines of one order at other times
// of the same day are one order; an order that existed before the import
// on another day moves whole to its new day; with valid_only the other
// lines are kept and every rollup counts the order once.
func TestImportRefusesOrderLinesOnOtherDays(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := ingestPublisher(t, s, "alpha", "USD")
		march1 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
		march2 := time.Date(2025, 3, 2, 9, 0, 0, 0, time.UTC)
		sale := func(line int64, order, id string, at time.Time) store.SaleRow {
			return store.SaleRow{Line: line, OrderID: order, LineID: id, SKU: "MUG", Name: "Mug", OrderDate: at, Quantity: 1, Gross: 100, Currency: "USD"}
		}
		spec := store.ImportSpec{Kind: store.ImportSales, Source: "Licensee", Columns: map[string]string{"date": "Order Date"}}
		run := func(spec store.ImportSpec, batches ...[]store.SaleRow) (*store.ImportReport, error) {
			return s.Import(ctx, a, spec, func(w *store.ImportWriter) error {
				for _, b := range batches {
					w.AddSeen(int64(len(b)))
					if err := w.WriteSales(ctx, b); err != nil {
						return err
					}
				}
				return nil
			})
		}
		errs := func(rep *store.ImportReport) []string {
			var out []string
			for _, e := range rep.Errors {
				out = append(out, e.Error())
			}
			return out
		}
		days := func() []string {
			var out []string
			for _, x := range storedSales(t, s, a) {
				out = append(out, x.Order+"/"+x.Line+"@"+x.Day)
			}
			return out
		}

		// X1's second line in the same batch, Y1's in the next one (after
		// a batch that ends with Y1's first line), Z1's in a later batch.
		// A dry run checks every batch; a real import stops writing at the
		// first refusal, and so finds no more lines of earlier batches.
		batches := [][]store.SaleRow{
			{sale(2, "X1", "1", march1), sale(3, "X1", "2", march2), sale(4, "Z1", "1", march2), sale(5, "Y1", "1", march1), sale(10, "V1", "1", march1)},
			{sale(6, "Y1", "2", march2), sale(7, "W1", "1", march1), sale(11, "V1", "2", march1)},
			{sale(8, "Z1", "2", march1), sale(9, "Z1", "3", march2.Add(10*time.Hour)), sale(12, "V1", "3", march2)},
		}
		dry := spec
		dry.DryRun = true
		rep, err := run(dry, batches...)
		if err != nil || rep.Failed != 4 {
			t.Fatalf("dry run: %v, %d refused", err, rep.Failed)
		}
		want := []string{
			`line 3, column "Order Date": order X1 is dated 2025-03-01 by its first line (line 2): every line of an order must carry the order's date (value "2025-03-02")`,
			`line 6, column "Order Date": order Y1 is dated 2025-03-01 by its first line (line 5): every line of an order must carry the order's date (value "2025-03-02")`,
			`line 8, column "Order Date": order Z1 is dated 2025-03-02 by its first line (line 4): every line of an order must carry the order's date (value "2025-03-01")`,
			`line 12, column "Order Date": order V1 is dated 2025-03-01 by its first line (line 10): every line of an order must carry the order's date (value "2025-03-02")`,
		}
		if d := cmp.Diff(want, errs(rep)); d != "" {
			t.Fatalf("errors (-want +got):\n%s", d)
		}
		if rep, err = run(spec, batches...); err == nil {
			t.Fatalf("an order on two days was accepted: %v", err)
		}
		if d := cmp.Diff(want[:1], errs(rep)); d != "" {
			t.Fatalf("errors (-want +got):\n%s", d)
		}
		if n, _ := s.SalesCount(ctx, a); n != 0 {
			t.Fatalf("refused import wrote %d sales", n)
		}

		// valid_only keeps the lines that agree with their order.
		lax := spec
		lax.ValidOnly = true
		if rep, err = run(lax,
			[]store.SaleRow{sale(2, "X1", "1", march1), sale(3, "X1", "2", march2), sale(4, "Y1", "1", march1)},
			[]store.SaleRow{sale(5, "Y1", "2", march1.Add(time.Hour)), sale(6, "X1", "3", march2)}); err != nil {
			t.Fatal(err)
		}
		if rep.Failed != 2 || rep.Inserted != 3 {
			t.Fatalf("valid_only: %+v", rep)
		}
		if d := cmp.Diff([]string{"X1/1@2025-03-01", "Y1/1@2025-03-01", "Y1/2@2025-03-01"}, days()); d != "" {
			t.Fatalf("lines (-want +got):\n%s", d)
		}
		if err := s.CheckRollups(ctx, a); err != nil {
			t.Fatal(err)
		}

		// A new version of X1 on March 2, over two batches: its stored line
		// of March 1 is not its day any more.
		if rep, err = run(spec,
			[]store.SaleRow{sale(2, "X1", "2", march2)},
			[]store.SaleRow{sale(3, "X1", "3", march2)}); err != nil {
			t.Fatalf("%v: %v", err, errs(rep))
		}
		if d := cmp.Diff([]string{"X1/2@2025-03-02", "X1/3@2025-03-02", "Y1/1@2025-03-01", "Y1/2@2025-03-01"}, days()); d != "" {
			t.Fatalf("lines (-want +got):\n%s", d)
		}
		if err := s.CheckRollups(ctx, a); err != nil {
			t.Fatal(err)
		}
	})
}
