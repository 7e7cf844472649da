package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// On PostgreSQL an import's temporary tables live as long as their
// connection and are emptied at each commit (pgTempTable), so the next
// import on the connection creates none. Each import still starts from
// empty tables: after a committed import, a refused one (rolled back) and
// a dry run, an import of the same orders on the same connection writes
// exactly its own lines and rollups.
func TestImportTempTablesOutliveTheirImport(t *testing.T) {
	s := storetest.New(t, store.Postgres)
	ctx := context.Background()
	db := s.DB()
	db.SetMaxOpenConns(1) // every import on one connection
	a := ingestPublisher(t, s, "alpha", "USD")
	day := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	sale := func(line int64, order, id string, gross int64) store.SaleRow {
		return store.SaleRow{Line: line, OrderID: order, LineID: id, SKU: "MUG", Name: "Mug", OrderDate: day, Quantity: 1, Gross: gross, Currency: "USD"}
	}
	spec := store.ImportSpec{Kind: store.ImportSales, Source: "Default"}
	write := func(spec store.ImportSpec, rows ...store.SaleRow) (*store.ImportReport, error) {
		return importRows(t, s, a, spec, rows, writeSales)
	}
	temps := func() int {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_class WHERE relpersistence = 't' AND relkind = 'r'
			AND relname LIKE 'ingest\_%'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	if _, err := write(spec, sale(2, "A", "1", 100), sale(3, "B", "1", 200)); err != nil {
		t.Fatal(err)
	}
	made := temps()
	if made < 5 {
		t.Fatalf("%d temporary tables kept after an import, want its ledger, delta and rollup tables", made)
	}
	// Refused (a line twice): rolled back after filling the ledger.
	if _, err := write(spec, sale(2, "C", "1", 100), sale(3, "C", "1", 100)); err == nil {
		t.Fatal("duplicate line accepted")
	}
	dry := spec
	dry.DryRun = true
	if rep, err := write(dry, sale(2, "A", "1", 150), sale(3, "D", "1", 5)); err != nil || rep.Failed != 0 {
		t.Fatalf("dry run: %v %+v", err, rep)
	}
	// The same orders again, one changed: nothing of the earlier imports
	// is in the ledger (it would refuse A/1 as a line given twice).
	rep, err := write(spec, sale(2, "A", "1", 150), sale(3, "B", "1", 200), sale(4, "C", "1", 7))
	if err != nil {
		t.Fatalf("%v: %+v", err, rep.Errors)
	}
	if d := cmp.Diff(counts{Inserted: 1, Updated: 1, Skipped: 1}, countsOf(rep)); d != "" {
		t.Fatalf("counts (-want +got):\n%s", d)
	}
	if err := s.CheckRollups(ctx, a); err != nil {
		t.Fatal(err)
	}
	// Once more: unchanged, and no table made.
	kept := temps()
	if rep, err = write(spec, sale(2, "A", "1", 150), sale(3, "B", "1", 200), sale(4, "C", "1", 7)); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(counts{Skipped: 3}, countsOf(rep)); d != "" {
		t.Fatalf("counts (-want +got):\n%s", d)
	}
	if n := temps(); n != kept {
		t.Fatalf("%d temporary tables after a repeated import, %d before", n, kept)
	}
}

// Settle, which benchmarks call between their timed parts, runs on both
// engines (on PostgreSQL, VACUUM outside a transaction and a checkpoint)
// and leaves the data as it was; on PostgreSQL the tables it names are
// vacuumed.
func TestSettle(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := ingestPublisher(t, s, "alpha", "USD")
		day := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		rows := []store.SaleRow{{Line: 2, OrderID: "A", LineID: "1", SKU: "MUG", Name: "Mug", OrderDate: day, Quantity: 1, Gross: 100, Currency: "USD"}}
		if _, err := importRows(t, s, a, store.ImportSpec{Kind: store.ImportSales}, rows, writeSales); err != nil {
			t.Fatal(err)
		}
		if err := s.Settle(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := s.SalesCount(ctx, a); err != nil || n != 1 {
			t.Fatalf("after settling: %d sales, %v", n, err)
		}
		if err := s.CheckRollups(ctx, a); err != nil {
			t.Fatal(err)
		}
		if s.Dialect() == store.Postgres {
			var vacuumed int
			if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_user_tables
				WHERE relname IN ('sales', 'product_daily', 'push_log') AND last_vacuum IS NOT NULL`).Scan(&vacuumed); err != nil {
				t.Fatal(err)
			}
			if vacuumed != 3 {
				t.Fatalf("%d of sales, product_daily and push_log vacuumed", vacuumed)
			}
		}
	})
}

// An order written earlier in the same import, and then removed,
// cancelled or deleted by a later step of it, is gone when the import
// commits, with the rollups exact. On PostgreSQL an import gathers new
// lines before copying them into sales (insertFreshSales): every step that
// removes orders must find them there.
func TestOrderRemovedLaterInItsImport(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		day := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		sale := func(line int64, order string) store.SaleRow {
			return store.SaleRow{Line: line, OrderID: order, LineID: "1", SKU: "MUG", Name: "Mug", OrderDate: day, Quantity: 1, Gross: 100, Currency: "USD"}
		}
		for _, way := range []string{"cancelled", "DeleteOrders", "DeleteOrder"} {
			a := ingestPublisher(t, s, "pub-"+strings.ToLower(way), "USD")
			rep, err := s.Import(ctx, a, store.ImportSpec{Kind: store.ImportSales, Source: "Feed"}, func(w *store.ImportWriter) error {
				w.AddSeen(3)
				if err := w.WriteSales(ctx, []store.SaleRow{sale(2, "X"), sale(3, "Y")}); err != nil {
					return err
				}
				switch way {
				case "cancelled":
					return w.WriteSales(ctx, []store.SaleRow{{Line: 4, OrderID: "X", Removed: true}})
				case "DeleteOrders":
					_, err := w.DeleteOrders(ctx, []string{"X"})
					return err
				default:
					_, err := w.DeleteOrder(ctx, "X")
					return err
				}
			})
			if err != nil {
				t.Fatalf("%s: %v", way, err)
			}
			var got []string
			for _, x := range storedSales(t, s, a) {
				got = append(got, x.Order)
			}
			if d := cmp.Diff([]string{"Y"}, got); d != "" {
				t.Errorf("%s: orders stored (-want +got):\n%s\nreport %+v", way, d, rep)
			}
			if err := s.CheckRollups(ctx, a); err != nil {
				t.Errorf("%s: %v", way, err)
			}
		}
	})
}

// TestSQLiteCheckpointsAfterManyPages: a SQLite commit of about 2,500
// pages (10 MB) leaves them in the WAL, and the database file as it was,
// rather than copying them into the file at once (SQLite's default
// checkpoints past 1,000 pages); a checkpoint then moves them. Push groups
// each dirty more than 1,000 pages, largely the same ones (see
// SQLiteCheckpointPages).
func TestSQLiteCheckpointsAfterManyPages(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wal.db")
	s, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db := s.DB()
	if _, err := db.ExecContext(ctx, `CREATE TABLE pad (v BLOB NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 2500 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO pad (v) VALUES (randomblob(3500))`); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if after := size(); after != before {
		t.Errorf("the commit of 2,500 pages was copied into the database file at once (%d bytes, %d before)", after, before)
	}
	var n int64
	if err := db.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&n); err != nil || n != store.SQLiteCheckpointPages {
		t.Errorf("wal_autocheckpoint %d, %v; want %d", n, err, store.SQLiteCheckpointPages)
	}
	if err := s.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	if after := size(); after < before+2500*3500 {
		t.Errorf("after a checkpoint the database file has %d bytes, want at least %d", after, before+2500*3500)
	}
}
