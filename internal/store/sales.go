package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/phantomos/phantomos"
)

// saleColumns are the columns the bulk path writes, in order.
var saleColumns = []string{
	"publisher_id", "product_id", "connector_id", "external_order_id", "external_line_id",
	"order_date", "day", "quantity", "gross", "discount", "refunded", "net", "currency",
	"net_reporting", "gross_reporting", "discount_reporting", "refunded_reporting",
	"country", "region", "channel", "refunded_at", "refund_day", "updated_at",
}

func saleValues(pub phantomos.PublisherID, x *phantomos.Sale, now time.Time) []any {
	x.PublisherID = pub
	// A refund date means something only for a refunded line.
	var refundedAt, refundDay any
	if x.RefundDay != "" && x.Refunded != 0 {
		refundDay = string(x.RefundDay)
		if !x.RefundedAt.IsZero() {
			refundedAt = x.RefundedAt.UTC()
		}
	}
	return []any{
		string(pub), x.ProductID, x.ConnectorID, x.ExternalOrderID, x.ExternalLineID,
		x.OrderDate.UTC(), string(x.Day), x.Quantity, x.Gross, x.Discount, x.Refunded, x.Net, x.Currency,
		x.NetReporting, x.GrossReporting, x.DiscountReporting, x.RefundedReporting,
		x.Country, x.Region, x.Channel, refundedAt, refundDay, now,
	}
}

// BulkLoadSales appends sales of publisher pub as fast as the engine allows
// (COPY on PostgreSQL, one prepared insert in one transaction on SQLite) and
// brings the rollups up to date in the same transaction, so readers never
// see sales without their rollups: into a publisher without sales it
// computes them from the loaded rows (refreshRollups), into one with sales
// it adds the loaded rows' contribution (addLoadedRollups), which costs
// what the load writes, not what the publisher holds. It is the path for
// new data only: a sale whose key exists fails the whole load (ECONFLICT)
// and nothing is written. It returns the number of rows loaded.
func (s *Store) BulkLoadSales(ctx context.Context, pub phantomos.PublisherID, sales iter.Seq[*phantomos.Sale]) (int64, error) {
	var minDay, maxDay phantomos.Day
	track := func(x *phantomos.Sale) {
		if minDay == "" || x.Day < minDay {
			minDay = x.Day
		}
		if x.Day > maxDay {
			maxDay = x.Day
		}
		// A refund booked on its own day touches that day too.
		if d := x.RefundDay; d != "" && x.Refunded != 0 {
			minDay, maxDay = min(minDay, d), max(maxDay, d)
		}
	}
	now := s.nowUTC()
	if s.dialect == Postgres {
		return s.copySales(ctx, pub, sales, now, track, &minDay, &maxDay)
	}
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		// A large load inserts keys all over the sales indexes; a page cache
		// that holds them avoids re-reading pages for every row. It is set
		// back when the load ends, as the connection returns to the pool.
		if _, err := tx.ExecContext(ctx, `PRAGMA cache_size = -524288`); err != nil {
			return err
		}
		defer tx.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA cache_size = -%d`, sqliteCacheKiB))
		// Every insert would otherwise open a statement journal and copy
		// each page it changes there first, so that a failing row could be
		// undone alone: a constraint on a row that may fail at the end of
		// its statement (the key to publishers) or abort it (the key of
		// sales, NOT NULL). The load is all or nothing anyway: the key to
		// publishers is checked at commit, and a failing row rolls back the
		// whole transaction (INSERT OR ROLLBACK).
		if _, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
			return err
		}
		// The lines already stored, and where the loaded ones start: a
		// rowid table hands the rows inserted after its largest rowid
		// larger ones, so the loaded lines are those above it (read by
		// rowid, NOT INDEXED: through an index of the publisher, SQLite
		// would read all its lines).
		var held bool
		var lastRowid int64
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM sales WHERE publisher_id = $1), COALESCE((SELECT MAX(rowid) FROM sales), 0)`,
			pub).Scan(&held, &lastRowid); err != nil {
			return err
		}
		refundDate, err := refundDateBooking(ctx, tx, s.dialect, pub)
		if err != nil {
			return err
		}
		var fold *bulkFold
		if !held {
			fold = newBulkFold(refundDate, s.bulkFoldLimit())
		}
		restore, err := deferSalesIndexes(ctx, sqlTx{tx}, SQLite)
		if err != nil {
			return err
		}
		ins := bulkInsert{tx: tx, table: "sales", pub: pub, now: now}
		defer ins.close()
		for x := range sales {
			track(x)
			if fold != nil {
				fold.add(x)
			}
			if err := ins.add(ctx, x); err != nil {
				return err
			}
			n++
		}
		if err := ins.flush(ctx); err != nil {
			return err
		}
		if err := restore(); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		switch {
		case held:
			loaded := loadedLines{from: `sales b NOT INDEXED`, where: `b.publisher_id = $1 AND b.rowid > $2`, before: `e.rowid <= $2`, args: []any{pub, lastRowid}}
			err = addLoadedRollups(ctx, tx, s.dialect, pub, loaded, refundDate)
		case fold.exact():
			err = s.writeBulkFold(ctx, sqlTx{tx}, SQLite, pub, fold, minDay, maxDay, func(r dailyRollup) error {
				return r.rollup.writeChunks(ctx, tx, pub, r.rows, false, nil)
			})
		default:
			err = refreshRollups(ctx, tx, s.dialect, pub, minDay, maxDay, refundDate)
		}
		if err != nil {
			return err
		}
		return bumpDataVersion(ctx, tx, pub)
	})
	if err != nil {
		return 0, fmt.Errorf("store: bulk load sales: %w", err)
	}
	return n, nil
}

// bulkChunk is the lines of one SQLite insert of a bulk load. Each
// statement is reset, its bindings cleared and its context watched: with
// a statement a line, that was 3 µs of the 15 µs a line cost at ten
// million lines.
const bulkChunk = 32

// bulkInsert inserts the lines of a bulk load on SQLite, bulkChunk lines a
// statement, into table (sales, or the bare table of BulkLoadBare). A
// failing statement rolls back the whole transaction (INSERT OR ROLLBACK;
// see BulkLoadSales).
type bulkInsert struct {
	tx          *sql.Tx
	table       string
	pub         phantomos.PublisherID
	now         time.Time
	full        *sql.Stmt // the statement of a full chunk
	args        []any
	first, last *phantomos.Sale // of the current chunk
	lines       int
}

func (b *bulkInsert) add(ctx context.Context, x *phantomos.Sale) error {
	if b.lines == 0 {
		b.first = x
	}
	b.last = x
	b.args = append(b.args, saleValues(b.pub, x, b.now)...)
	if b.lines++; b.lines == bulkChunk {
		return b.flush(ctx)
	}
	return nil
}

// flush inserts the lines added since the last flush.
func (b *bulkInsert) flush(ctx context.Context) error {
	if b.lines == 0 {
		return nil
	}
	stmt, done, err := chunkStatement(ctx, b.tx, &b.full, bulkChunk, b.lines, func(rows int) string {
		return `INSERT OR ROLLBACK INTO ` + b.table + ` (` + columnList(saleColumns) + `) VALUES ` + valuesRows(len(saleColumns), rows)
	})
	if err != nil {
		return err
	}
	defer done()
	if _, err := stmt.ExecContext(ctx, b.args...); err != nil {
		if isUniqueViolation(err) {
			if b.first == b.last {
				return phantomos.Errorf(phantomos.ECONFLICT, "Sale %s/%s is already loaded.", b.first.ExternalOrderID, b.first.ExternalLineID)
			}
			return phantomos.Errorf(phantomos.ECONFLICT, "One of the sales %s/%s to %s/%s is already loaded, or given twice.",
				b.first.ExternalOrderID, b.first.ExternalLineID, b.last.ExternalOrderID, b.last.ExternalLineID)
		}
		return err
	}
	b.args, b.lines = b.args[:0], 0
	return nil
}

func (b *bulkInsert) close() {
	if b.full != nil {
		b.full.Close()
	}
}

// copySales is the PostgreSQL bulk path: COPY inside a pgx transaction on
// one connection of the pool.
func (s *Store) copySales(ctx context.Context, pub phantomos.PublisherID, sales iter.Seq[*phantomos.Sale], now time.Time, track func(*phantomos.Sale), minDay, maxDay *phantomos.Day) (int64, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var n int64
	// The planner's estimate of the rows of sales (-1 before it was ever
	// analyzed): enough to tell a small load from a large one.
	var before int64
	if err := conn.QueryRowContext(ctx, `SELECT CAST(reltuples AS BIGINT) FROM pg_class WHERE oid = 'sales'::regclass`).Scan(&before); err != nil {
		return 0, fmt.Errorf("store: bulk load sales: %w", err)
	}
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		next, stop := iter.Pull(sales)
		defer stop()
		conflict := func(err error) error {
			if isUniqueViolation(err) {
				return phantomos.Errorf(phantomos.ECONFLICT, "Some of these sales are already loaded.")
			}
			return err
		}
		// Into a publisher with sales, the rows go through a temporary
		// table first: its rows are the loaded lines, whose rollups are
		// added to the stored ones before the lines join sales.
		var held bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sales WHERE publisher_id = $1)`, string(pub)).Scan(&held); err != nil {
			return err
		}
		var settings string
		if err := tx.QueryRow(ctx, refundBookingQuery(Postgres), string(pub)).Scan(&settings); err != nil {
			return notFound(err, "Publisher")
		}
		refundDate, err := parseRefundBooking(settings)
		if err != nil {
			return err
		}
		var fold *bulkFold
		if !held {
			fold = newBulkFold(refundDate, s.bulkFoldLimit())
			all := track
			track = func(x *phantomos.Sale) {
				all(x)
				fold.add(x)
			}
		}
		restore := func() error { return nil }
		target := "sales"
		if held {
			target = "bulk_sales"
			if _, err := tx.Exec(ctx, `CREATE TEMP TABLE bulk_sales (LIKE sales INCLUDING DEFAULTS) ON COMMIT DROP`); err != nil {
				return err
			}
		} else if restore, err = deferSalesIndexes(ctx, pgxExec{tx}, Postgres); err != nil {
			return err
		}
		src := &saleSource{next: next, pub: pub, now: now, track: track}
		n, err = tx.CopyFrom(ctx, pgx.Identifier{target}, saleColumns, src)
		if err != nil {
			return conflict(err)
		}
		if err := restore(); err != nil {
			return conflict(err)
		}
		if n > 0 {
			if held {
				loaded := loadedLines{from: `bulk_sales b`, where: `true`, before: `true`, args: []any{pub}}
				if err := addLoadedRollups(ctx, pgxExec{tx}, Postgres, pub, loaded, refundDate); err != nil {
					return err
				}
				cols := columnList(saleColumns) + ", has_order"
				if _, err := tx.Exec(ctx, `INSERT INTO sales (`+cols+`) SELECT `+cols+` FROM bulk_sales`); err != nil {
					return conflict(err)
				}
			} else if err := s.refreshLoaded(ctx, tx, pub, *minDay, *maxDay, refundDate, fold); err != nil {
				return err
			}
			if err := bumpDataVersion(ctx, pgxExec{tx}, pub); err != nil {
				return err
			}
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return 0, fmt.Errorf("store: bulk load sales: %w", err)
	}
	// A load of less than a tenth of what the table held leaves its
	// statistics about right (autovacuum analyzes a table once a tenth of
	// it changed), and analyzing and vacuuming tables of every publisher
	// would cost what they hold, not what the load wrote.
	if before > 0 && n*10 < before {
		return n, nil
	}
	// Fresh statistics, or the planner keeps choosing plans for empty
	// tables until autovacuum gets round to them.
	if _, err := s.exec(ctx, `ANALYZE products, product_assets, sales, orders_daily`); err != nil {
		return n, fmt.Errorf("store: analyze after bulk load: %w", err)
	}
	// The rollups the pages read are small: vacuumed, their pages are
	// marked all-visible and the covering indexes answer from the index
	// alone (index-only scans), without waiting for autovacuum.
	if _, err := s.exec(ctx, `VACUUM (ANALYZE) product_daily, product_weekly, product_monthly, geo_daily, geo_monthly`); err != nil {
		return n, fmt.Errorf("store: vacuum after bulk load: %w", err)
	}
	return n, nil
}

// refreshLoaded is refreshRollups after a load into a publisher that had
// no sales, on PostgreSQL. The statistics know nothing of a new publisher,
// so the planner estimates its rows at next to none, and then plans any
// join of them by nested loops (when geo_daily was joined from two other
// rollups, minutes for what a hash join did in a second). Every statement
// of the refresh reads whole days of the publisher, so nested loops are
// never the plan it needs.
func (s *Store) refreshLoaded(ctx context.Context, tx pgx.Tx, pub phantomos.PublisherID, from, to phantomos.Day, refundDate bool, fold *bulkFold) error {
	if _, err := tx.Exec(ctx, `SET LOCAL enable_nestloop = off`); err != nil {
		return err
	}
	if fold.exact() {
		err := s.writeBulkFold(ctx, pgxExec{tx}, Postgres, pub, fold, from, to, func(r dailyRollup) error {
			_, err := tx.CopyFrom(ctx, pgx.Identifier{r.rollup.table}, r.rollup.columns(), r.rollup.copySource(pub, r.rows))
			return err
		})
		if err != nil {
			return err
		}
	} else if err := refreshRollups(ctx, pgxExec{tx}, Postgres, pub, from, to, refundDate); err != nil {
		return err
	}
	// Back to the server's setting for the rest of the transaction.
	_, err := tx.Exec(ctx, `SET LOCAL enable_nestloop TO DEFAULT`)
	return err
}

type saleSource struct {
	next  func() (*phantomos.Sale, bool)
	cur   *phantomos.Sale
	pub   phantomos.PublisherID
	now   time.Time
	track func(*phantomos.Sale)
}

func (src *saleSource) Next() bool {
	x, ok := src.next()
	if ok {
		src.cur = x
		src.track(x)
	}
	return ok
}

// Values gives the current sale in the shapes of the columns of sales (see
// pgcopy.go): ids as 16 bytes, days as times.
func (src *saleSource) Values() ([]any, error) {
	x := src.cur
	row := saleValues(src.pub, x, src.now)
	copyIDs(row, saleIDColumns...)
	for _, i := range saleDayColumns {
		if d, ok := row[i].(string); ok {
			row[i] = phantomos.Day(d).Time()
		}
	}
	return row, nil
}

// The positions in saleColumns of the ids and of the days.
var saleIDColumns, saleDayColumns = func() (ids, days []int) {
	for i, c := range saleColumns {
		switch {
		case strings.HasSuffix(c, "_id") && c != "external_order_id" && c != "external_line_id":
			ids = append(ids, i)
		case c == "day" || strings.HasSuffix(c, "_day"):
			days = append(days, i)
		}
	}
	return ids, days
}()

func (src *saleSource) Err() error { return nil }

// execer is what rollup maintenance needs from a transaction, on either the
// database/sql or the native pgx path.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

type pgxExec struct{ tx pgx.Tx }

// textQuerier runs statements, and queries of one text column, on either
// path (database/sql or native pgx).
type textQuerier interface {
	execer
	texts(ctx context.Context, query string) ([]string, error)
}

func (p pgxExec) texts(ctx context.Context, query string) ([]string, error) {
	rows, err := p.tx.Query(ctx, query)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

type sqlTx struct{ *sql.Tx }

func (t sqlTx) texts(ctx context.Context, query string) ([]string, error) {
	rows, err := t.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// deferSalesIndexes drops the secondary indexes of sales (not those that
// enforce a key; on PostgreSQL the key and the reference to publishers as
// well) when the table holds no row at all, and returns restore,
// which builds them again: a bulk load into an empty table (the demo, a
// benchmark) then writes rows and sorts each index once, instead of
// inserting every key into every B-tree as it goes. Inside the load's
// transaction, so a failed load leaves the indexes as they were. On
// PostgreSQL dropping an index locks the (empty) table until the load
// commits. With rows in the table it does nothing.
func deferSalesIndexes(ctx context.Context, tx textQuerier, d Dialect) (restore func() error, err error) {
	none := func() error { return nil }
	held, err := tx.texts(ctx, `SELECT 'x' FROM sales LIMIT 1`)
	if err != nil || len(held) > 0 {
		return none, err
	}
	// Each index as name and definition, one text: "name\tdefinition".
	// Partial indexes (WHERE) stay: they hold few lines, so keeping them
	// as the rows go in costs little, while building one afterwards reads
	// the whole table again (on SQLite, through the load's write-ahead
	// log: the two took about 16 s at ten million lines).
	q := `SELECT name || char(9) || sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sales' AND sql IS NOT NULL
		AND sql NOT LIKE '% WHERE %' ORDER BY name`
	if d == Postgres {
		q = `SELECT indexname || chr(9) || indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'sales'
			AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'sales'::regclass)
			AND indexdef NOT LIKE '% WHERE %' ORDER BY indexname`
	}
	defs, err := tx.texts(ctx, q)
	if err != nil {
		return none, fmt.Errorf("sales indexes: %w", err)
	}
	// On PostgreSQL the key of sales and its reference to publishers go
	// too: the key's index is built once, sorted, and the reference is
	// checked by one join instead of a trigger per row. Adding the key
	// back fails (as a unique violation) if the load had a line twice.
	var constraints []string
	if d == Postgres {
		constraints, err = tx.texts(ctx, `SELECT conname || chr(9) || pg_get_constraintdef(oid) FROM pg_constraint
			WHERE conrelid = 'sales'::regclass AND contype IN ('u', 'f') ORDER BY contype DESC, conname`)
		if err != nil {
			return none, fmt.Errorf("sales constraints: %w", err)
		}
		for _, def := range constraints {
			name, _, _ := strings.Cut(def, "\t")
			if _, err := tx.ExecContext(ctx, `ALTER TABLE sales DROP CONSTRAINT `+name); err != nil {
				return none, fmt.Errorf("sales constraints: %w", err)
			}
		}
	}
	for _, def := range defs {
		name, _, _ := strings.Cut(def, "\t")
		if _, err := tx.ExecContext(ctx, `DROP INDEX `+name); err != nil {
			return none, fmt.Errorf("sales indexes: %w", err)
		}
	}
	return func() error {
		for _, def := range constraints {
			name, def, _ := strings.Cut(def, "\t")
			if _, err := tx.ExecContext(ctx, `ALTER TABLE sales ADD CONSTRAINT `+name+` `+def); err != nil {
				return fmt.Errorf("sales constraints: %w", err)
			}
		}
		for _, def := range defs {
			_, sql, _ := strings.Cut(def, "\t")
			if _, err := tx.ExecContext(ctx, sql); err != nil {
				return fmt.Errorf("sales indexes: %w", err)
			}
		}
		return nil
	}, nil
}

func (p pgxExec) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	_, err := p.tx.Exec(ctx, query, args...)
	return nil, err
}

// refreshRollups recomputes every rollup of publisher pub for the days
// from..to (inclusive) from the sales table: orders_daily, product_daily
// and geo_daily from the lines of those days, then product_weekly for every
// week and the monthly tables for every month the range touches.
// Recomputing whole days keeps distinct order counts exact whatever was
// inserted, updated or deleted, and costs only the rows of the days (weeks
// and months) touched.
//
// refundDate is the publisher's refund booking (see bookedSales): with it,
// a line's refund is booked on its refund_day, so the caller's range must
// cover the refund days that changed as well as the order days.
func refreshRollups(ctx context.Context, tx execer, d Dialect, pub phantomos.PublisherID, from, to phantomos.Day, refundDate bool) error {
	days := []string{
		`DELETE FROM orders_daily WHERE publisher_id = $1 AND day BETWEEN $2 AND $3`,
		`INSERT INTO orders_daily (publisher_id, day, country, channel, connector_id, orders)
		 SELECT publisher_id, day, country, channel, connector_id, COUNT(*)
		 FROM (SELECT DISTINCT publisher_id, day, country, channel, connector_id, external_order_id
		       FROM sales WHERE publisher_id = $1 AND day BETWEEN $2 AND $3 AND has_order) o
		 GROUP BY publisher_id, day, country, channel, connector_id`,
		`DELETE FROM product_daily WHERE publisher_id = $1 AND day BETWEEN $2 AND $3`,
		`INSERT INTO product_daily (publisher_id, day, product_id, orders, units, gross, discount, refunded, net) ` +
			bookedGroups(refundDate, "publisher_id", "day", "product_id"),
		`DELETE FROM geo_daily WHERE publisher_id = $1 AND day BETWEEN $2 AND $3`,
		`INSERT INTO geo_daily (publisher_id, day, country, channel, connector_id, orders, units, gross, discount, refunded, net) ` +
			bookedGroups(refundDate, "publisher_id", "day", "country", "channel", "connector_id"),
	}
	for _, q := range days {
		if _, err := tx.ExecContext(ctx, q, pub, string(from), string(to)); err != nil {
			return fmt.Errorf("refresh rollups: %w", err)
		}
	}
	return refreshPeriods(ctx, tx, d, pub, from, to)
}

// refreshPeriods recomputes publisher pub's weekly and monthly rollups of
// the days from..to from its daily ones.
func refreshPeriods(ctx context.Context, tx execer, d Dialect, pub phantomos.PublisherID, from, to phantomos.Day) error {
	// Whole weeks, Monday to Sunday, from product_daily: the days of the
	// edge weeks outside from..to are unchanged and summed again with them.
	week := d.weekOf("day")
	firstWeek, lastWeek := weekStart(from), weekStart(to)
	if _, err := tx.ExecContext(ctx, `DELETE FROM product_weekly WHERE publisher_id = $1 AND week BETWEEN $2 AND $3`,
		pub, string(firstWeek), string(lastWeek)); err != nil {
		return fmt.Errorf("refresh weekly rollups: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO product_weekly (publisher_id, week, product_id, orders, units, gross, discount, refunded, net)
		 SELECT publisher_id, `+week+`, product_id, SUM(orders), SUM(units), SUM(gross), SUM(discount), SUM(refunded), SUM(net)
		 FROM product_daily WHERE publisher_id = $1 AND day BETWEEN $2 AND $3
		 GROUP BY publisher_id, `+week+`, product_id`,
		pub, string(firstWeek), string(addDays(lastWeek, 6))); err != nil {
		return fmt.Errorf("refresh weekly rollups: %w", err)
	}
	months := []string{
		`DELETE FROM product_monthly WHERE publisher_id = $1 AND month = $2`,
		`INSERT INTO product_monthly (publisher_id, month, product_id, orders, units, gross, discount, refunded, net)
		 SELECT publisher_id, $2, product_id, SUM(orders), SUM(units), SUM(gross), SUM(discount), SUM(refunded), SUM(net)
		 FROM product_daily WHERE publisher_id = $1 AND day BETWEEN $3 AND $4
		 GROUP BY publisher_id, product_id`,
		`DELETE FROM geo_monthly WHERE publisher_id = $1 AND month = $2`,
		`INSERT INTO geo_monthly (publisher_id, month, country, channel, connector_id, orders, units, gross, discount, refunded, net)
		 SELECT publisher_id, $2, country, channel, connector_id, SUM(orders), SUM(units), SUM(gross), SUM(discount), SUM(refunded), SUM(net)
		 FROM geo_daily WHERE publisher_id = $1 AND day BETWEEN $3 AND $4
		 GROUP BY publisher_id, country, channel, connector_id`,
	}
	for m := monthStart(from); m <= to; m = nextMonth(m) {
		last := addDays(nextMonth(m), -1)
		for i, q := range months {
			args := []any{pub, string(m)[:7], string(m), string(last)}
			if i%2 == 0 { // the deletes take the publisher and the month only
				args = args[:2]
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("refresh monthly rollups: %w", err)
			}
		}
	}
	return nil
}

// A refund booked on the refund date: a line whose refund has a day of its
// own (refund_day, set only for refunded lines) books its quantity, gross,
// discount and order on its order's day with net before the refund, and the
// refunded amount (reducing net) on refund_day, as a row of no order and no
// units. A line without refund_day keeps its refund on the order's day.
const refundMoved = `(refund_day IS NOT NULL AND refund_day <> day AND refunded_reporting <> 0)`

// bookedGroups returns a query of publisher $1's sales booked on the days
// $2..$3 (see bookedSales), grouped by keys (columns of sales, "day" the
// booked day): the keys, then orders (distinct orders with a line in the
// group), units, gross, discount, refunded and net. Orders are counted by
// grouping twice, per order and then per key: two hash aggregations
// instead of a sort per group for COUNT(DISTINCT). An order's id is its
// connector's, so the per-order grouping includes the connector.
func bookedGroups(refundDate bool, keys ...string) string {
	k := strings.Join(keys, ", ")
	perOrder := k + ", external_order_id"
	if !slices.Contains(keys, "connector_id") {
		perOrder = k + ", connector_id, external_order_id"
	}
	r, n := `SUM(refunded_reporting)`, `SUM(net_reporting)`
	if refundDate {
		r = `SUM(CASE WHEN ` + refundMoved + ` THEN 0 ELSE refunded_reporting END)`
		n = `SUM(CASE WHEN ` + refundMoved + ` THEN net_reporting + refunded_reporting ELSE net_reporting END)`
	}
	q := `SELECT ` + k + `, SUM(ho), SUM(q), SUM(g), SUM(d), SUM(r), SUM(n)
		 FROM (SELECT ` + k + `, MAX(CASE WHEN has_order THEN 1 ELSE 0 END) AS ho, SUM(quantity) AS q, SUM(gross_reporting) AS g,
		              SUM(discount_reporting) AS d, ` + r + ` AS r, ` + n + ` AS n
		       FROM sales WHERE publisher_id = $1 AND day BETWEEN $2 AND $3
		       GROUP BY ` + perOrder
	if refundDate {
		refundKeys := make([]string, len(keys))
		for i, c := range keys {
			if c == "day" {
				c = "refund_day"
			}
			refundKeys[i] = c
		}
		rk := strings.Join(refundKeys, ", ")
		q += `
		       UNION ALL
		       SELECT ` + rk + `, 0, 0, 0, 0, SUM(refunded_reporting), -SUM(refunded_reporting)
		       FROM sales WHERE publisher_id = $1 AND refund_day BETWEEN $2 AND $3 AND ` + refundMoved + `
		       GROUP BY ` + rk
	}
	return q + `) o
		 GROUP BY ` + k
}

// bookedSales is a relation with the columns of sales that CheckRollups
// aggregates, with each refund on the day the publisher's booking puts it:
// the sales themselves, or with refund_date booking each line whose refund
// has a day of its own split in two, the refund becoming a row of no order
// (external_order_id NULL), no units and negative net on refund_day.
func bookedSales(refundDate bool) string { return bookedSalesOf(refundDate, "sales") }

// bookedSalesOf is bookedSales over the lines of the relation lines (a
// table or a parenthesised query with the columns of sales).
func bookedSalesOf(refundDate bool, lines string) string {
	// external_order_id is NULL on lines without orders, so that distinct
	// counts of it count orders only.
	const cols = `publisher_id, day, product_id, country, channel, connector_id,
		CASE WHEN has_order THEN external_order_id END AS external_order_id, quantity,
		gross_reporting, discount_reporting, refunded_reporting, net_reporting`
	if !refundDate {
		return `(SELECT ` + cols + ` FROM ` + lines + ` l)`
	}
	return `(SELECT publisher_id, day, product_id, country, channel, connector_id,
			CASE WHEN has_order THEN external_order_id END AS external_order_id, quantity,
			gross_reporting, discount_reporting,
			CASE WHEN ` + refundMoved + ` THEN 0 ELSE refunded_reporting END AS refunded_reporting,
			CASE WHEN ` + refundMoved + ` THEN net_reporting + refunded_reporting ELSE net_reporting END AS net_reporting
		FROM ` + lines + ` l
		UNION ALL
		SELECT publisher_id, refund_day, product_id, country, channel, connector_id, NULL, 0,
			0, 0, refunded_reporting, -refunded_reporting
		FROM ` + lines + ` l WHERE ` + refundMoved + `)`
}

// refundBookingQuery reads a publisher's settings. On PostgreSQL it locks
// the publisher's row, so a write that refreshes rollups and a change of
// the refund booking (which rebuilds them all) wait for each other instead
// of one of them computing with a booking the other is replacing; SQLite
// runs one writer at a time anyway.
func refundBookingQuery(d Dialect) string {
	q := `SELECT CAST(settings AS TEXT) FROM publishers WHERE id = $1`
	if d == Postgres {
		q += ` FOR UPDATE`
	}
	return q
}

func parseRefundBooking(settings string) (bool, error) {
	var st phantomos.PublisherSettings
	if err := json.Unmarshal([]byte(settings), &st); err != nil {
		return false, fmt.Errorf("refund booking: settings: %w", err)
	}
	return st.RefundsOnRefundDate(), nil
}

// refundDateBooking reports, inside tx, whether publisher pub books refunds
// on the refund date (see refundBookingQuery for the lock it takes).
func refundDateBooking(ctx context.Context, tx *sql.Tx, d Dialect, pub phantomos.PublisherID) (bool, error) {
	var settings string
	if err := tx.QueryRowContext(ctx, refundBookingQuery(d), string(pub)).Scan(&settings); err != nil {
		return false, notFound(err, "Publisher")
	}
	return parseRefundBooking(settings)
}

// rebuildRollups recomputes every rollup of publisher pub under the given
// refund booking, inside tx: what changing the booking needs.
func rebuildRollups(ctx context.Context, tx *sql.Tx, d Dialect, pub phantomos.PublisherID, refundDate bool) error {
	for _, table := range rollupTables {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE publisher_id = $1`, pub); err != nil {
			return fmt.Errorf("rebuild rollups: %s: %w", table, err)
		}
	}
	var from, to, refundTo any
	err := tx.QueryRowContext(ctx, `SELECT MIN(day), MAX(day), MAX(refund_day) FROM sales WHERE publisher_id = $1`, pub).Scan(&from, &to, &refundTo)
	if err != nil {
		return fmt.Errorf("rebuild rollups: %w", err)
	}
	first, err := dayValue(from)
	if err != nil || first == "" {
		return err // no sales: nothing to build
	}
	last, err := dayValue(to)
	if err != nil {
		return err
	}
	if rl, err := dayValue(refundTo); err != nil {
		return err
	} else if rl > last {
		last = rl
	}
	return refreshRollups(ctx, tx, d, pub, first, last, refundDate)
}

// rollupTables are the tables refreshRollups keeps.
var rollupTables = []string{"orders_daily", "product_daily", "product_weekly", "product_monthly", "geo_daily", "geo_monthly"}

// monthStart returns the first day of d's month.
func monthStart(d phantomos.Day) phantomos.Day { return phantomos.Day(string(d)[:8] + "01") }

// nextMonth returns the first day of the month after d's.
func nextMonth(d phantomos.Day) phantomos.Day {
	return phantomos.DayOf(monthStart(d).Time().AddDate(0, 1, 0), time.UTC)
}

// SalesCount returns how many sales rows publisher pub has.
func (s *Store) SalesCount(ctx context.Context, pub phantomos.PublisherID) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sales WHERE publisher_id = $1`, pub).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: sales count: %w", err)
	}
	return n, nil
}

func columnList(cols []string) string {
	out := ""
	for i, c := range cols {
		if i > 0 {
			out += ", "
		}
		out += c
	}
	return out
}

// BulkLoadBare loads sales into a bare scratch table with the columns of
// sales and nothing else (no keys, no indexes, no constraints, no rollups),
// the same way BulkLoadSales loads them (COPY on PostgreSQL, one prepared
// insert in one transaction on SQLite), and drops the table. It is the
// physical baseline of the engine that benchmarks compare the import with:
// what writing the bytes costs, before any schema is paid for.
func (s *Store) BulkLoadBare(ctx context.Context, pub phantomos.PublisherID, sales iter.Seq[*phantomos.Sale]) (int64, error) {
	table := "bench_bare_sales_" + phantomos.NewID()[24:]
	if _, err := s.exec(ctx, `CREATE TABLE `+table+` AS SELECT `+columnList(saleColumns)+` FROM sales WHERE 1 = 0`); err != nil {
		return 0, fmt.Errorf("store: bare load: %w", err)
	}
	defer s.exec(context.WithoutCancel(ctx), `DROP TABLE `+table)
	now := s.nowUTC()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	var n int64
	if s.dialect == Postgres {
		err = conn.Raw(func(dc any) error {
			pc := dc.(*stdlib.Conn).Conn()
			tx, err := pc.Begin(ctx)
			if err != nil {
				return err
			}
			defer tx.Rollback(ctx)
			next, stop := iter.Pull(sales)
			defer stop()
			src := &saleSource{next: next, pub: pub, now: now, track: func(*phantomos.Sale) {}}
			if n, err = tx.CopyFrom(ctx, pgx.Identifier{table}, saleColumns, src); err != nil {
				return err
			}
			return tx.Commit(ctx)
		})
	} else {
		err = func() error {
			end := s.beginWrite(ctx)
			defer end()
			tx, err := conn.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer tx.Rollback()
			ins := bulkInsert{tx: tx, table: table, pub: pub, now: now}
			defer ins.close()
			for x := range sales {
				if err := ins.add(ctx, x); err != nil {
					return err
				}
				n++
			}
			if err := ins.flush(ctx); err != nil {
				return err
			}
			return tx.Commit()
		}()
	}
	if err != nil {
		return 0, fmt.Errorf("store: bare load: %w", err)
	}
	return n, nil
}
