package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// maxFilterDeltaLines is the most new lines an import adds to the filter
// rollups itself. A push group (at most 8,000 lines), a sync page or a
// small file stays within it and keeps the filtered questions on the
// rollups; a backfill larger than this leaves them stale, and the
// scheduled rebuild reads its lines outside the import's transaction
// instead of inside it.
const maxFilterDeltaLines = 20_000

// advanceFilterRollups adds the import's new orders to the publisher's
// filter rollups (filter_rollup.go) and stamps them with the data version
// the import's commit will have, when they were current before it and the
// import only added orders: it changed, replaced and deleted none, so
// every figure they hold moves by what the new orders add, which is also
// what a rebuild would find. Distinct orders stay exact: a new order was
// counted nowhere before, and an order has one day and one place. Products
// the import made carry only their category, and only its new lines.
//
// Any other write leaves them stale, as before: the reads take the lines
// until the scheduled rebuild. It runs in updateRollups, after the order
// ledger is complete and, on PostgreSQL, with the publisher's row locked;
// a rebuild copying into the tables at that moment (it holds their
// advisory lock) makes the import leave them to it rather than wait.
func (w *ImportWriter) advanceFilterRollups(ctx context.Context, refundDate bool) error {
	limit := int64(maxFilterDeltaLines)
	if w.s.filterDeltaLines != 0 {
		limit = int64(w.s.filterDeltaLines)
	}
	if w.spec.Kind != ImportSales || w.spec.DryRun || w.orders == nil || w.rep.Inserted == 0 ||
		w.rep.Inserted > limit || w.rep.Updated > 0 || w.rep.Deleted > 0 ||
		len(w.touched) > 0 || len(w.spans) > 0 || refundDate != w.refundDate {
		return nil
	}
	tx := w.tx
	var current bool
	err := tx.QueryRowContext(ctx, `SELECT f.data_version = p.data_version FROM filter_rollup_state f
		JOIN publishers p ON p.id = f.publisher_id WHERE f.publisher_id = $1`, w.pub).Scan(&current)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !current) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("filter rollups: %w", err)
	}
	// A rebuild that committed since leaves the stamp behind the version
	// (it was built from an earlier snapshot) or at it (its copy is what
	// the delta adds to): either way the stamp, moved by one, stays right.
	if w.s.dialect == Postgres {
		var locked bool
		if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))`,
			"phantomos-filter-rollups/"+string(w.pub)).Scan(&locked); err != nil {
			return fmt.Errorf("filter rollups: %w", err)
		}
		if !locked {
			return nil
		}
	}

	// The import's new orders: the orders it wrote lines of (ingest_keys)
	// that did not exist before it (ingest_orders holds those that did).
	// Their lines are copied once into a temporary table, through the
	// unique key, and aggregated from there. On PostgreSQL they are found
	// by an array of their ids (at most the bound above): temporary tables
	// have no statistics, and joined to them the planner scanned the
	// publisher's lines.
	const lineCols = `publisher_id, day, product_id, country, channel, connector_id, has_order, external_order_id, quantity,
		gross_reporting, discount_reporting, refunded_reporting, net_reporting, refund_day`
	linesTable := `CREATE TEMP TABLE IF NOT EXISTS ingest_filter_lines AS SELECT ` + lineCols + ` FROM sales WHERE 1 = 0`
	fill := `INSERT INTO ingest_filter_lines (` + lineCols + `) SELECT ` + lineCols + ` FROM sales
		WHERE publisher_id = $1 AND connector_id = $2 AND external_order_id IN (SELECT order_id FROM ingest_keys)
		AND external_order_id NOT IN (SELECT order_id FROM ingest_orders)`
	fillArgs := []any{w.pub, w.connectorID}
	if w.s.dialect == Postgres {
		ids, err := sqlTx{tx}.texts(ctx, `SELECT DISTINCT order_id FROM ingest_keys WHERE order_id NOT IN (SELECT order_id FROM ingest_orders)`)
		if err != nil {
			return fmt.Errorf("filter rollups: %w", err)
		}
		linesTable = pgTempTable("ingest_filter_lines", `AS SELECT `+lineCols+` FROM sales WITH NO DATA`)
		fill = `INSERT INTO ingest_filter_lines (` + lineCols + `) SELECT ` + lineCols + ` FROM sales
			WHERE publisher_id = $1 AND connector_id = $2 AND external_order_id = ANY($3)`
		fillArgs = append(fillArgs, ids)
	}
	for _, q := range []string{linesTable, `DELETE FROM ingest_filter_lines`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("filter rollups: %w", err)
		}
	}
	res, err := tx.ExecContext(ctx, fill, fillArgs...)
	if err != nil {
		return fmt.Errorf("filter rollups: %w", err)
	}
	// Every line the import inserted must be theirs: a line added to an
	// order that existed changes what that order counts under a value
	// (once already, or not yet), which no sum of new orders holds. Rows
	// of products, assets or rates written in the same import count as
	// inserted or updated too, so an import that changed the mapping or
	// the rates the tables were built with goes no further.
	if n, err := res.RowsAffected(); err != nil || n != w.rep.Inserted {
		return err
	}
	booked := bookedSalesOf(refundDate, "ingest_filter_lines")
	idType := "TEXT"
	if w.s.dialect == Postgres {
		idType = "UUID"
	}
	def := `(dim TEXT NOT NULL, value TEXT NOT NULL, day DATE NOT NULL, country TEXT NOT NULL, channel TEXT NOT NULL,
		connector_id ` + idType + ` NOT NULL, orders BIGINT NOT NULL, units BIGINT NOT NULL, gross BIGINT NOT NULL,
		discount BIGINT NOT NULL, refunded BIGINT NOT NULL, net BIGINT NOT NULL)`
	temp := `CREATE TEMP TABLE IF NOT EXISTS ingest_filter_daily ` + def
	if w.s.dialect == Postgres {
		temp = pgTempTable("ingest_filter_daily", def)
	}
	month := w.s.dialect.monthOf("day")
	const sums = `orders = %[1]s.orders + excluded.orders, units = %[1]s.units + excluded.units, gross = %[1]s.gross + excluded.gross,
		discount = %[1]s.discount + excluded.discount, refunded = %[1]s.refunded + excluded.refunded, net = %[1]s.net + excluded.net`
	pub := []any{w.pub}
	for _, st := range []struct {
		q    string
		args []any
	}{
		{temp, nil},
		{`DELETE FROM ingest_filter_daily`, nil},
		// The rebuild's aggregations (snapshotFilterRollups), over the new
		// orders' lines only.
		{`INSERT INTO ingest_filter_daily (dim, value, day, country, channel, connector_id, orders, units, gross, discount, refunded, net) ` +
			filterDailyOf(booked), pub},
		{`INSERT INTO filter_daily (publisher_id, dim, value, day, country, channel, connector_id, orders, units, gross, discount, refunded, net)
		SELECT $1, dim, value, day, country, channel, connector_id, orders, units, gross, discount, refunded, net FROM ingest_filter_daily WHERE 1 = 1
		ON CONFLICT (publisher_id, dim, value, day, country, channel, connector_id) DO UPDATE SET ` + fmt.Sprintf(sums, "filter_daily"), pub},
		// An order has one day: a month's new orders are its days' new
		// orders summed.
		{`INSERT INTO filter_monthly (publisher_id, dim, value, month, country, channel, connector_id, orders, units, gross, discount, refunded, net)
		SELECT $1, dim, value, ` + month + `, country, channel, connector_id, SUM(orders), SUM(units), SUM(gross), SUM(discount), SUM(refunded), SUM(net)
		FROM ingest_filter_daily WHERE 1 = 1 GROUP BY dim, value, ` + month + `, country, channel, connector_id
		ON CONFLICT (publisher_id, dim, value, month, country, channel, connector_id) DO UPDATE SET ` + fmt.Sprintf(sums, "filter_monthly"), pub},
		{`INSERT INTO product_geo_monthly (publisher_id, month, country, channel, connector_id, product_id, orders, units, gross, discount, refunded, net)
		SELECT $1, month, country, channel, connector_id, product_id, orders, units, gross, discount, refunded, net
		FROM (` + productGeoOf(month, booked) + `) g WHERE 1 = 1
		ON CONFLICT (publisher_id, month, country, channel, connector_id, product_id) DO UPDATE SET ` + fmt.Sprintf(sums, "product_geo_monthly"), pub},
		// run bumps the data version once more before it commits.
		{`UPDATE filter_rollup_state SET data_version = data_version + 1 WHERE publisher_id = $1`, pub},
	} {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return fmt.Errorf("filter rollups: %w", err)
		}
	}
	w.s.filterDeltas.Add(1)
	return nil
}
