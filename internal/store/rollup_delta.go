package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/phantomos/phantomos"
)

// An import keeps the rollups exact by deltas that cost in proportion to
// what it writes, not to what the publisher already holds on the days it
// touches (recomputing whole days of a publisher with ten million sales to
// add a thousand was what made imports and pushes slow).
//
// Every order has one day, one country, one channel and one connector, so
// each rollup is a sum of per-order contributions: an order adds 1 to the
// order count of each group it has a line with an order in, and its lines'
// amounts. The import records, per order, the contribution it had before
// the import touched it (sign -1, taken when the order ledger first meets
// an order that existed) and, when the rows are all written, the
// contribution of every order it created or changed (sign +1). The rollups
// then take the sum of both, grouped by each rollup's key, in one upsert
// per table. Orders the import met but left unchanged cancel out and are
// left out of the sum.
//
// A group whose rows all go (a corrected order moved to another day) would
// be left as a row of zeros, which a recomputation does not have; the days
// of such rows are recomputed from sales instead (refreshRollups), and so
// are the days of orders deleted outside the ledger (DeleteOrders,
// tombstones), after the deltas are in.

// contributionColumns define a table of per-order contributions, as
// ingest_delta holds them: one row per order, day, product and place, with
// the order's has-order flag and amounts. IDTYPE is the engine's type of
// ids (Dialect.tempTable).
const contributionColumns = `(order_id TEXT NOT NULL, sign INTEGER NOT NULL, day DATE NOT NULL,
		product_id IDTYPE NOT NULL, country TEXT NOT NULL, channel TEXT NOT NULL, connector_id IDTYPE NOT NULL,
		ho BIGINT NOT NULL, q BIGINT NOT NULL, g BIGINT NOT NULL, d BIGINT NOT NULL, r BIGINT NOT NULL, n BIGINT NOT NULL)`

// deltaTables are the import's delta table and the tables its sums go
// through, by name and column list.
var deltaTables = [][2]string{
	{"ingest_delta", contributionColumns},
	{"ingest_fold_sales", `(day DATE NOT NULL, product_id IDTYPE NOT NULL, country TEXT NOT NULL,
		channel TEXT NOT NULL, connector_id IDTYPE NOT NULL, orders BIGINT NOT NULL, units BIGINT NOT NULL, gross BIGINT NOT NULL,
		discount BIGINT NOT NULL, refunded BIGINT NOT NULL, net BIGINT NOT NULL)`},
	{"ingest_fold_orders", `(day DATE NOT NULL, country TEXT NOT NULL, channel TEXT NOT NULL,
		connector_id IDTYPE NOT NULL, orders BIGINT NOT NULL)`},
}

// tempTable returns the statement creating the temporary table name with
// the column list cols, IDTYPE in it being the engine's type of ids: on
// PostgreSQL kept by the connection and emptied at each commit
// (pgTempTable); on SQLite kept by the connection as it is, so a writer
// empties it before its first use.
func (d Dialect) tempTable(name, cols string) string {
	if d == Postgres {
		return pgTempTable(name, strings.ReplaceAll(cols, "IDTYPE", "UUID"))
	}
	return `CREATE TEMP TABLE IF NOT EXISTS ` + name + ` ` + strings.ReplaceAll(cols, "IDTYPE", "TEXT")
}

// perOrderContribution returns the statement adding to table (of
// contributionColumns) the rows of the orders of the import's connector
// that the subquery orders selects (each once), with the given sign, under
// the publisher's refund booking (see refreshRollups): $1 is the
// publisher, $2 the connector.
func perOrderContribution(d Dialect, table string, refundDate bool, sign int, orders string) string {
	return contributionFrom(table, refundDate, sign, d.orderLines(orders))
}

// contributionFrom is perOrderContribution of the sale lines that the
// relation lines (aliased sales) selects: whole orders.
func contributionFrom(table string, refundDate bool, sign int, lines string) string {
	keys := `external_order_id, day, product_id, country, channel, connector_id`
	r, n := `SUM(refunded_reporting)`, `SUM(net_reporting)`
	if refundDate {
		r = `SUM(CASE WHEN ` + refundMoved + ` THEN 0 ELSE refunded_reporting END)`
		n = `SUM(CASE WHEN ` + refundMoved + ` THEN net_reporting + refunded_reporting ELSE net_reporting END)`
	}
	q := fmt.Sprintf(`INSERT INTO `+table+` (order_id, sign, day, product_id, country, channel, connector_id, ho, q, g, d, r, n)
		SELECT external_order_id, %d, day, product_id, country, channel, connector_id,
			MAX(CASE WHEN has_order THEN 1 ELSE 0 END), SUM(quantity), SUM(gross_reporting), SUM(discount_reporting), %s, %s
		FROM %s GROUP BY %s`, sign, r, n, lines, keys)
	if refundDate {
		q += fmt.Sprintf(`
		UNION ALL
		SELECT external_order_id, %d, refund_day, product_id, country, channel, connector_id, 0, 0, 0, 0, SUM(refunded_reporting), -SUM(refunded_reporting)
		FROM %s WHERE %s
		GROUP BY external_order_id, refund_day, product_id, country, channel, connector_id`, sign, lines, refundMoved)
	}
	return q
}

// startDelta creates (or empties) the import's delta tables.
func (w *ImportWriter) startDelta(ctx context.Context) error {
	var stmts []string
	for _, t := range deltaTables {
		stmts = append(stmts, w.s.dialect.tempTable(t[0], t[1]))
	}
	var args [][]any
	if w.s.dialect == Postgres {
		// Two imports of one connector at once could each take an order's
		// contribution before the other changed it: they take turns, from
		// their first sales to their commit. Imports of other connectors
		// (other orders) go on beside them.
		stmts = append(stmts, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`)
		args = make([][]any, len(stmts))
		args[len(stmts)-1] = []any{"phantomos-import/" + string(w.pub) + "/" + w.connectorID}
	} else {
		// A connection of the pool may hold the tables of an earlier import.
		stmts = append(stmts, `DELETE FROM ingest_delta`, `DELETE FROM ingest_fold_sales`, `DELETE FROM ingest_fold_orders`)
	}
	for i, q := range stmts {
		var a []any
		if i < len(args) {
			a = args[i]
		}
		if _, err := w.tx.ExecContext(ctx, q, a...); err != nil {
			return fmt.Errorf("rollup deltas: %w", err)
		}
	}
	return nil
}

// subtractExisting records the contribution, before any change, of the
// orders that the ledger met for the first time in the current batch and
// that existed before the import (and are not stale).
func (w *ImportWriter) subtractExisting(ctx context.Context) error {
	q := perOrderContribution(w.s.dialect, "ingest_delta", w.refundDate, -1, `SELECT order_id FROM ingest_orders WHERE batch = $3 AND existed = 1 AND stale = 0`)
	if _, err := w.tx.ExecContext(ctx, q, w.pub, w.connectorID, w.orders.batch); err != nil {
		return fmt.Errorf("rollup deltas: %w", err)
	}
	return nil
}

// writtenOrders selects the orders an import wrote, each once: those
// without a ledger entry are its own, and of those with one, the ones that
// changed.
const writtenOrders = `SELECT k.order_id FROM ingest_keys k WHERE NOT EXISTS (SELECT 1 FROM ingest_orders o WHERE o.order_id = k.order_id)
		UNION SELECT order_id FROM ingest_orders WHERE changed = 1`

// foldDeltas adds the contributions of the orders the import created or
// changed, minus what those had before, into every rollup, then recomputes
// the days left with a group of zeros. It runs once, when all rows are
// written and the replaced orders' missing lines are deleted.
func (w *ImportWriter) foldDeltas(ctx context.Context) error {
	if w.orders == nil {
		return nil
	}
	// The new orders' contributions are in w.fold already, unless the
	// import wrote too many lines to keep them.
	written := writtenOrders
	if w.fold != nil {
		written = `SELECT order_id FROM ingest_orders WHERE changed = 1`
	}
	if _, err := w.tx.ExecContext(ctx, perOrderContribution(w.s.dialect, "ingest_delta", w.refundDate, 1, written), w.pub, w.connectorID); err != nil {
		return fmt.Errorf("rollup deltas: %w", err)
	}
	counted := `(sign = 1 OR order_id IN (SELECT order_id FROM ingest_orders WHERE changed = 1))`
	d := w.s.dialect
	fold := []string{
		`INSERT INTO ingest_fold_sales (day, product_id, country, channel, connector_id, orders, units, gross, discount, refunded, net)
		 SELECT day, product_id, country, channel, connector_id, SUM(sign * ho), SUM(sign * q), SUM(sign * g), SUM(sign * d), SUM(sign * r), SUM(sign * n)
		 FROM ingest_delta WHERE ` + counted + ` GROUP BY day, product_id, country, channel, connector_id`,
		`INSERT INTO ingest_fold_orders (day, country, channel, connector_id, orders)
		 SELECT day, country, channel, connector_id, SUM(sign)
		 FROM (SELECT DISTINCT order_id, sign, day, country, channel, connector_id FROM ingest_delta WHERE ho = 1 AND ` + counted + `) o
		 GROUP BY day, country, channel, connector_id`,
	}
	for _, q := range fold {
		if _, err := w.tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("rollup deltas: %w", err)
		}
	}
	if w.fold != nil {
		if err := w.fold.addFolded(ctx, w.tx); err != nil {
			return fmt.Errorf("rollup deltas: %w", err)
		}
		days, err := w.fold.apply(ctx, w.conn, w.tx, d, w.pub)
		if err != nil {
			return fmt.Errorf("rollup deltas: %w", err)
		}
		w.fold = nil
		for _, day := range days {
			if err := w.recompute(day); err != nil {
				return err
			}
		}
		return nil
	}
	if err := addDeltas(ctx, w.tx, d, w.pub, "ingest_fold_sales", "ingest_fold_orders"); err != nil {
		return fmt.Errorf("rollup deltas: %w", err)
	}
	// Groups left with nothing: their days are recomputed.
	const zero = `x.orders = 0 AND x.units = 0 AND x.gross = 0 AND x.discount = 0 AND x.refunded = 0 AND x.net = 0`
	rows, err := w.tx.QueryContext(ctx, `
		SELECT f.day FROM ingest_fold_sales f JOIN product_daily x ON x.publisher_id = $1 AND x.day = f.day AND x.product_id = f.product_id WHERE `+zero+`
		UNION SELECT f.day FROM ingest_fold_sales f JOIN geo_daily x ON x.publisher_id = $1 AND x.day = f.day AND x.country = f.country
			AND x.channel = f.channel AND x.connector_id = f.connector_id WHERE `+zero+`
		UNION SELECT f.day FROM ingest_fold_orders f JOIN orders_daily x ON x.publisher_id = $1 AND x.day = f.day AND x.country = f.country
			AND x.channel = f.channel AND x.connector_id = f.connector_id WHERE x.orders = 0`, w.pub)
	if err != nil {
		return fmt.Errorf("rollup deltas: %w", err)
	}
	defer rows.Close()
	var days []any
	for rows.Next() {
		var day any
		if err := rows.Scan(&day); err != nil {
			return fmt.Errorf("rollup deltas: %w", err)
		}
		days = append(days, day)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("rollup deltas: %w", err)
	}
	rows.Close()
	return w.recompute(days...)
}

// span widens the range of days the import wrote, for its report.
func (w *ImportWriter) span(d phantomos.Day) {
	if d == "" {
		return
	}
	if w.rep.From == "" || d < w.rep.From {
		w.rep.From = d
	}
	if d > w.rep.To {
		w.rep.To = d
	}
}

// addDeltas adds into every rollup of publisher pub the deltas in the
// tables sales (a row per day, product, country, channel and connector:
// orders, units, gross, discount, refunded, net) and orders (a row per day,
// country, channel and connector: orders), as an import's fold and a bulk
// load compute them.
func addDeltas(ctx context.Context, tx execer, d Dialect, pub phantomos.PublisherID, sales, orders string) error {
	week, month := d.weekOf("day"), d.monthOf("day")
	amounts := []string{"orders", "units", "gross", "discount", "refunded", "net"}
	sums := `SUM(orders) AS orders, SUM(units) AS units, SUM(gross) AS gross, SUM(discount) AS discount, SUM(refunded) AS refunded, SUM(net) AS net`
	rollups := []rollupAdd{
		{"orders_daily", []string{"day", "country", "channel", "connector_id"}, []string{"orders"},
			`SELECT day, country, channel, connector_id, orders FROM ` + orders},
		{"product_daily", []string{"day", "product_id"}, amounts,
			`SELECT day, product_id, ` + sums + ` FROM ` + sales + ` GROUP BY day, product_id`},
		// A geo_daily row's orders are its orders_daily row's.
		{"geo_daily", []string{"day", "country", "channel", "connector_id"}, amounts,
			`SELECT s.day AS day, s.country AS country, s.channel AS channel, s.connector_id AS connector_id, COALESCE(MAX(o.orders), 0) AS orders,
			 SUM(s.units) AS units, SUM(s.gross) AS gross, SUM(s.discount) AS discount, SUM(s.refunded) AS refunded, SUM(s.net) AS net
			 FROM ` + sales + ` s LEFT JOIN ` + orders + ` o ON o.day = s.day AND o.country = s.country AND o.channel = s.channel AND o.connector_id = s.connector_id
			 GROUP BY s.day, s.country, s.channel, s.connector_id`},
		{"product_weekly", []string{"product_id", "week"}, amounts,
			`SELECT product_id, ` + week + ` AS week, ` + sums + ` FROM ` + sales + ` GROUP BY product_id, ` + week},
		{"product_monthly", []string{"month", "product_id"}, amounts,
			`SELECT ` + month + ` AS month, product_id, ` + sums + ` FROM ` + sales + ` GROUP BY ` + month + `, product_id`},
		// Orders per month and place are the sum of the days', as geo_daily
		// has them: an order has one day.
		{"geo_monthly", []string{"month", "country", "channel", "connector_id"}, amounts,
			`SELECT m AS month, country, channel, connector_id, SUM(o) AS orders, SUM(units) AS units, SUM(gross) AS gross, SUM(discount) AS discount,
			 SUM(refunded) AS refunded, SUM(net) AS net
			 FROM (SELECT ` + month + ` AS m, country, channel, connector_id, units, gross, discount, refunded, net, 0 AS o
			       FROM ` + sales + `
			       UNION ALL
			       SELECT ` + month + `, country, channel, connector_id, 0, 0, 0, 0, 0, orders FROM ` + orders + `) x
			 GROUP BY m, country, channel, connector_id`},
	}
	for _, r := range rollups {
		if _, err := tx.ExecContext(ctx, d.addInto(r), pub); err != nil {
			return fmt.Errorf("%s: %w", r.table, err)
		}
	}
	return nil
}

// rollupAdd is one rollup a fold adds into: src selects the rollup's key
// columns (keys, publisher_id aside) and then its amounts, named as the
// rollup's columns, one row per key.
type rollupAdd struct {
	table   string
	keys    []string
	amounts []string
	src     string
}

// addInto returns the statement that adds the rows of r.src into r.table
// for publisher $1: a row whose key is there adds its amounts, a new key is
// inserted.
//
// On SQLite, an upsert's DO UPDATE checks the NOT NULL columns it sets
// with ABORT, so SQLite journals every page the statement touches first; an
// update of the present keys and an insert of the others, both with FAIL,
// avoid that journal but measured slower overall (their probes read more
// pages than the journal costs), so both engines upsert.
func (d Dialect) addInto(r rollupAdd) string {
	cols := "publisher_id, " + strings.Join(r.keys, ", ") + ", " + strings.Join(r.amounts, ", ")
	return `INSERT INTO ` + r.table + ` (` + cols + `) SELECT $1, f.* FROM (` + r.src + `) f WHERE true` +
		addOnConflict(r.table, r.keys, r.amounts)
}

// addOnConflict is the clause by which an insert into rollup table adds
// its amounts to a row of the same key (publisher_id, then keys) already
// there.
func addOnConflict(table string, keys, amounts []string) string {
	set := make([]string, len(amounts))
	for i, c := range amounts {
		set[i] = c + " = " + table + "." + c + " + excluded." + c
	}
	return ` ON CONFLICT (publisher_id, ` + strings.Join(keys, ", ") + `) DO UPDATE SET ` + strings.Join(set, ", ")
}
