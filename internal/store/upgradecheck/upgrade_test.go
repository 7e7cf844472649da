package upgradecheck_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver, to restore the PostgreSQL dump

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
	"github.com/phantomos/phantomos/internal/store/upgradecheck"
)

// TestUpgradeKeepsReports restores a database made by an earlier schema
// version (testdata/<dialect>, see TestGenerateFixture), upgrades it in
// place with the migrations `phantomos migrate` runs, and checks that every
// report of every publisher has the checksum the earlier code computed on
// it, and that imports still work on the upgraded schema: the same order
// again changes nothing, a changed amount moves the totals by exactly the
// difference and no other publisher's reports.
func TestUpgradeKeepsReports(t *testing.T) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			want := readGolden(t, d)
			s := restore(t, d)
			before, _, err := s.MigrationStatus(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if before != want.Version {
				t.Fatalf("restored fixture is at schema version %d, golden.json says %d", before, want.Version)
			}
			n, err := s.Migrate(ctx)
			if err != nil {
				t.Fatalf("upgrade from version %d: %v", before, err)
			}
			current, target, err := s.MigrationStatus(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if current != target {
				t.Fatalf("after migrating: version %d, newest %d", current, target)
			}
			t.Logf("upgraded from version %d to %d (%d migrations applied)", before, current, n)

			pubs := mustPublishers(t, s)
			for _, p := range pubs {
				// The rollups still add up to the sales they summarise.
				if err := s.CheckRollups(ctx, p.ID); err != nil {
					t.Errorf("%s after upgrade: %v", p.Slug, err)
				}
			}
			got, err := upgradecheck.Compute(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			if !compareSums(t, "after upgrade", want.Sums, got, nil) {
				t.FailNow()
			}

			// Writing after the upgrade: the probe order again, unchanged.
			var pub *phantomos.Publisher
			for _, p := range pubs {
				if p.Slug == want.Probe.Publisher {
					pub = p
				}
			}
			if pub == nil || len(want.Probe.Rows) == 0 {
				t.Fatalf("probe order of %q missing from fixture", want.Probe.Publisher)
			}
			spec := store.ImportSpec{Kind: store.ImportSales, Format: "csv", FileName: "again.csv", Source: want.Probe.Source}
			rows := want.Probe.Rows
			rep := importAll(t, s, pub.ID, spec, func(w *store.ImportWriter) error { return w.WriteSales(ctx, rows) })
			if rep.Inserted != 0 || rep.Updated != 0 || rep.Deleted != 0 || rep.Skipped != int64(len(rows)) {
				t.Errorf("unchanged order again: inserted %d, updated %d, deleted %d, skipped %d of %d lines",
					rep.Inserted, rep.Updated, rep.Deleted, rep.Skipped, len(rows))
			}
			// Only its publisher's reports could change.
			got, err = upgradecheck.Compute(ctx, s, pub.Slug)
			if err != nil {
				t.Fatal(err)
			}
			mine := func(name string) bool { return strings.HasPrefix(name, pub.Slug+"/") }
			compareSums(t, "after importing an unchanged order", want.Sums, got, mine)

			// The probe order with a changed amount moves the publisher's
			// totals by exactly the difference, and nobody else's reports.
			from, to, err := s.SalesSpan(ctx, pub.ID)
			if err != nil {
				t.Fatal(err)
			}
			day := phantomos.DayOf(rows[0].OrderDate, mustLocation(t, pub.Timezone))
			product := productOf(t, s, pub.ID, rows[0].SKU)
			all0 := totals(t, s, pub.ID, from, to, store.Filter{})
			day0 := totals(t, s, pub.ID, day, day, store.Filter{})
			prod0 := totals(t, s, pub.ID, from, to, store.Filter{Products: []string{product}})
			const delta = 1234
			changed := append([]store.SaleRow(nil), rows...)
			changed[0].Gross += delta
			spec.FileName = "changed.csv"
			rep = importAll(t, s, pub.ID, spec, func(w *store.ImportWriter) error { return w.WriteSales(ctx, changed) })
			if rep.Updated != 1 || rep.Inserted != 0 || rep.Skipped != int64(len(rows)-1) {
				t.Errorf("changed order: inserted %d, updated %d, skipped %d", rep.Inserted, rep.Updated, rep.Skipped)
			}
			if err := s.CheckRollups(ctx, pub.ID); err != nil {
				t.Errorf("after changing an order: %v", err)
			}
			moved := func(name string, was, now store.Summary) {
				t.Helper()
				want := was
				want.Gross += delta
				want.Net += delta
				if now != want {
					t.Errorf("%s after a line's gross grew by %d:\n was %+v\nwant %+v\n got %+v", name, delta, was, want, now)
				}
			}
			moved("totals", all0, totals(t, s, pub.ID, from, to, store.Filter{}))
			moved("totals of the order's day", day0, totals(t, s, pub.ID, day, day, store.Filter{}))
			moved("totals of the line's product", prod0, totals(t, s, pub.ID, from, to, store.Filter{Products: []string{product}}))
			var others []string
			for _, p := range pubs {
				if p.ID != pub.ID {
					others = append(others, p.Slug)
				}
			}
			got, err = upgradecheck.Compute(ctx, s, others...)
			if err != nil {
				t.Fatal(err)
			}
			compareSums(t, "other publishers after changing an order", want.Sums, got, func(name string) bool { return !mine(name) })

			deletesAfterUpgrade(t, s, want, pub, pubs)
		})
	}
}

// compareSums reports every report whose checksum differs from want (only
// the names keep selects, when not nil), and whether all matched.
func compareSums(t *testing.T, when string, want map[string]string, got upgradecheck.Reports, keep func(string) bool) bool {
	t.Helper()
	missing, extra, changed := diffSums(want, got, keep)
	if len(missing)+len(extra)+len(changed) == 0 {
		return true
	}
	const show = 25
	t.Errorf("%s: %d reports changed, %d missing, %d new (of %d)", when, len(changed), len(missing), len(extra), len(want))
	for i, name := range changed {
		if i == show {
			t.Errorf("… and %d more changed", len(changed)-show)
			break
		}
		text := got[name]
		if len(text) > 600 {
			text = append(text[:600:600], "…"...)
		}
		t.Errorf("changed: %s; now:\n%s", name, text)
	}
	for i, name := range missing {
		if i == show {
			t.Errorf("… and %d more missing", len(missing)-show)
			break
		}
		t.Errorf("missing: %s", name)
	}
	for i, name := range extra {
		if i == show {
			t.Errorf("… and %d more new", len(extra)-show)
			break
		}
		t.Errorf("new: %s", name)
	}
	return false
}

// diffSums returns, sorted, the names of want missing from got, those new
// in got and those whose checksum differs (only names keep selects, when
// not nil).
func diffSums(want map[string]string, got upgradecheck.Reports, keep func(string) bool) (missing, extra, changed []string) {
	sums := got.Sums()
	for name, w := range want {
		if keep != nil && !keep(name) {
			continue
		}
		g, ok := sums[name]
		switch {
		case !ok:
			missing = append(missing, name)
		case g != w:
			changed = append(changed, name)
		}
	}
	for name := range sums {
		if _, ok := want[name]; !ok && (keep == nil || keep(name)) {
			extra = append(extra, name)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	sort.Strings(changed)
	return missing, extra, changed
}

func readGolden(t *testing.T, d store.Dialect) golden {
	t.Helper()
	js, err := os.ReadFile(filepath.Join("testdata", string(d), "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(js, &g); err != nil {
		t.Fatalf("golden.json: %v", err)
	}
	if len(g.Sums) == 0 {
		t.Fatal("golden.json holds no checksums")
	}
	return g
}

// restore loads the fixture of dialect d into a fresh database and opens
// it, not migrated.
func restore(t *testing.T, d store.Dialect) *store.Store {
	t.Helper()
	ctx := context.Background()
	data := readGzip(t, filepath.Join("testdata", string(d), fixtureFile(d)))
	url := storetest.URL(t, d)
	if d == store.SQLite {
		if err := os.WriteFile(url, data, 0o644); err != nil {
			t.Fatal(err)
		}
	} else {
		// A connection of its own: the dump empties search_path for the
		// session that runs it.
		db, err := sql.Open("pgx", url)
		if err != nil {
			t.Fatal(err)
		}
		// Without arguments pgx sends the script as one simple query, so
		// its many statements run in order.
		_, err = db.ExecContext(ctx, string(data))
		db.Close()
		if err != nil {
			t.Fatalf("restore dump: %v", err)
		}
	}
	s, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func readGzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, zr); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return buf.Bytes()
}

func totals(t *testing.T, s *store.Store, pub phantomos.PublisherID, from, to phantomos.Day, f store.Filter) store.Summary {
	t.Helper()
	m, err := s.Totals(context.Background(), pub, from, to, f)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func productOf(t *testing.T, s *store.Store, pub phantomos.PublisherID, sku string) string {
	t.Helper()
	ps, err := s.Products(context.Background(), pub, 10000)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.SKU == sku {
			return p.ID
		}
	}
	t.Fatalf("no product with SKU %s", sku)
	return ""
}

func mustLocation(t *testing.T, tz string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(tz)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// deletesAfterUpgrade erases a connector of pub and deletes another
// publisher on the upgraded schema (where cascades may have become
// explicit deletes): the erased connector's figures leave pub's totals
// exactly, the deleted publisher leaves nothing readable, and the
// remaining publisher's reports do not move.
func deletesAfterUpgrade(t *testing.T, s *store.Store, want golden, pub *phantomos.Publisher, pubs []*phantomos.Publisher) {
	t.Helper()
	ctx := context.Background()
	from, to, err := s.SalesSpan(ctx, pub.ID)
	if err != nil {
		t.Fatal(err)
	}
	conns, err := s.Connectors(ctx, pub.ID)
	if err != nil {
		t.Fatal(err)
	}
	var vendor *phantomos.Connector
	for _, k := range conns {
		if k.Name == "Vendor Central" {
			vendor = k
		}
	}
	if vendor == nil {
		t.Fatalf("%s has no connector Vendor Central", pub.Slug)
	}
	all := totals(t, s, pub.ID, from, to, store.Filter{})
	part := totals(t, s, pub.ID, from, to, store.Filter{Connectors: []string{vendor.ID}})
	count0, err := s.SalesCount(ctx, pub.ID)
	if err != nil {
		t.Fatal(err)
	}
	erased, err := s.EraseConnector(ctx, pub.ID, vendor.ID)
	if err != nil {
		t.Fatalf("erase connector after upgrade: %v", err)
	}
	if erased.Sales == 0 {
		t.Errorf("erasing %s removed no sale lines", vendor.Name)
	}
	count1, err := s.SalesCount(ctx, pub.ID)
	if err != nil {
		t.Fatal(err)
	}
	if count0-count1 != erased.Sales {
		t.Errorf("sale lines %d before erasing, %d after, erased %d", count0, count1, erased.Sales)
	}
	after := totals(t, s, pub.ID, from, to, store.Filter{})
	wantAfter := store.Summary{Gross: all.Gross - part.Gross, Discount: all.Discount - part.Discount, Refunded: all.Refunded - part.Refunded,
		Net: all.Net - part.Net, Orders: all.Orders - part.Orders, Units: all.Units - part.Units, OrderlessNet: all.OrderlessNet - part.OrderlessNet}
	if after != wantAfter {
		t.Errorf("totals after erasing %s:\nwant %+v\n got %+v", vendor.Name, wantAfter, after)
	}
	if err := s.CheckRollups(ctx, pub.ID); err != nil {
		t.Errorf("after erasing a connector: %v", err)
	}

	// Delete a third publisher; the last one keeps every report.
	var gone, kept *phantomos.Publisher
	for _, p := range pubs {
		switch {
		case p.ID == pub.ID:
		case gone == nil:
			gone = p
		default:
			kept = p
		}
	}
	if kept == nil {
		t.Fatal("the fixture needs three publishers")
	}
	gFrom, gTo, err := s.SalesSpan(ctx, gone.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePublisher(ctx, gone.ID); err != nil {
		t.Fatalf("delete publisher after upgrade: %v", err)
	}
	if _, err := s.Publisher(ctx, gone.ID); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
		t.Errorf("deleted publisher: %v", err)
	}
	if n, err := s.SalesCount(ctx, gone.ID); err != nil || n != 0 {
		t.Errorf("deleted publisher's sale lines: %d, %v", n, err)
	}
	if m := totals(t, s, gone.ID, gFrom, gTo, store.Filter{}); m != (store.Summary{}) {
		t.Errorf("deleted publisher's rollups still answer: %+v", m)
	}
	if ps, err := s.Products(ctx, gone.ID, 10); err != nil || len(ps) != 0 {
		t.Errorf("deleted publisher's products: %d, %v", len(ps), err)
	}
	got, err := upgradecheck.Compute(ctx, s, kept.Slug)
	if err != nil {
		t.Fatal(err)
	}
	compareSums(t, "the remaining publisher after deleting another", want.Sums, got, func(name string) bool { return strings.HasPrefix(name, kept.Slug+"/") })
}

// TestChecksumsSeeALostOrder: the checksums are not blind. With one order
// of the fixture gone (as a migration losing its lines would leave it),
// its publisher's totals, counts and order list change, and nobody else's
// reports do.
func TestChecksumsSeeALostOrder(t *testing.T) {
	ctx := context.Background()
	want := readGolden(t, store.SQLite)
	s := restore(t, store.SQLite)
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	pub, err := s.PublisherBySlug(ctx, want.Probe.Publisher)
	if err != nil {
		t.Fatal(err)
	}
	spec := store.ImportSpec{Kind: store.ImportSales, Format: "csv", FileName: "delete", Source: want.Probe.Source}
	importAll(t, s, pub.ID, spec, func(w *store.ImportWriter) error {
		n, err := w.DeleteOrders(ctx, []string{want.Probe.Rows[0].OrderID})
		if err == nil && n != int64(len(want.Probe.Rows)) {
			t.Errorf("deleted %d lines of the probe order, want %d", n, len(want.Probe.Rows))
		}
		return err
	})
	got, err := upgradecheck.Compute(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	missing, extra, changed := diffSums(want.Sums, got, nil)
	if len(missing)+len(extra) > 0 {
		t.Errorf("missing %v, new %v", missing, extra)
	}
	from, to, err := s.SalesSpan(ctx, pub.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{
		pub.Slug + "/sales_count",
		pub.Slug + "/connector_orders/" + want.Probe.Source,
		pub.Slug + "/totals/all/" + string(from) + ".." + string(to),
		pub.Slug + "/breakdown/product/all/" + string(from) + ".." + string(to),
		pub.Slug + "/overview_csv/all/" + string(from) + ".." + string(to),
	} {
		if !slices.Contains(changed, name) {
			t.Errorf("%s did not change", name)
		}
	}
	for _, name := range changed {
		if !strings.HasPrefix(name, pub.Slug+"/") {
			t.Errorf("%s changed", name)
		}
	}
	t.Logf("%d of %d reports changed", len(changed), len(want.Sums))
}
