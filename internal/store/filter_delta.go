package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/phantomos/phantomos"
)

// maxFilterDeltaLines is the most lines an import may write (insert,
// change or delete) and still move the filter rollups itself. A push group
// (at most 8,000 lines), a sync page or a small file stays within it and
// keeps the filtered questions on the rollups; a backfill larger than
// this leaves them stale, and the scheduled rebuild reads its lines
// outside the import's transaction instead of inside it.
const maxFilterDeltaLines = 20_000

// maxFilterZeroRows is the most filter rollup rows an import's deltas may
// leave at zero (orders that moved or went, alone in their group): each is
// checked against the lines, and more than this leaves the rollups stale.
const maxFilterZeroRows = 1_000

// contributionCols are the columns of contributionColumns, in order.
const contributionCols = `order_id, sign, day, product_id, country, channel, connector_id, ho, q, g, d, r, n`

// recordGone adds to ingest_filter_gone, before the import deletes the
// orders ids of its connector outside the order ledger (tombstones, orders
// the platform deleted), what they contribute as they stand, so that
// advanceFilterRollups can take it away. On PostgreSQL it takes the
// connector's import lock first (as startDelta does), so no other import
// changes those orders between this read and the deletion.
func (w *ImportWriter) recordGone(ctx context.Context, ids []string) error {
	d := w.s.dialect
	if !w.goneTable {
		stmts := []string{d.tempTable("ingest_filter_gone", contributionColumns), `DELETE FROM ingest_filter_gone`}
		args := [][]any{nil, nil}
		if d == Postgres {
			stmts[1] = `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`
			args[1] = []any{"phantomos-import/" + string(w.pub) + "/" + w.connectorID}
		}
		for i, q := range stmts {
			if _, err := w.tx.ExecContext(ctx, q, args[i]...); err != nil {
				return fmt.Errorf("filter rollups: %w", err)
			}
		}
		w.goneTable = true
	}
	sub, args := d.orderIDs(ids)
	if _, err := w.tx.ExecContext(ctx, perOrderContribution(d, "ingest_filter_gone", w.refundDate, -1, sub),
		append([]any{w.pub, w.connectorID}, args...)...); err != nil {
		return fmt.Errorf("filter rollups: %w", err)
	}
	return nil
}

// advanceFilterRollups moves the publisher's filter rollups
// (filter_rollup.go) by what the import wrote, and stamps them with the
// data version the import's commit will have, when they were current
// before it. Each of the three tables is a sum of per-order contributions
// (an order has one day and one place, and counts once under each value
// one of its lines' products has), so the import adds the contributions
// of the orders it created or changed, and takes away what the orders it
// changed or deleted contributed before: the same per-order deltas the
// other rollups take (rollup_delta.go), grouped by category, game IP and
// asset. Rows left at zero are deleted unless lines still back them, as a
// rebuild would have them.
//
// It leaves them stale (the reads take the lines until the scheduled
// rebuild) when the import also wrote products, assets or rates (the
// mapping and amounts they were built with), when the refund booking
// changed while it ran, when it wrote more than maxFilterDeltaLines lines
// or left more than maxFilterZeroRows rows at zero, and when an order it
// deleted outside its ledger is also one it wrote. It runs in
// updateRollups, after the order ledger is complete and, on PostgreSQL,
// with the publisher's row locked; a rebuild copying into the tables at
// that moment (it holds their advisory lock) makes the import leave them
// to it rather than wait.
func (w *ImportWriter) advanceFilterRollups(ctx context.Context, refundDate bool) error {
	limit := int64(maxFilterDeltaLines)
	if w.s.filterDeltaLines != 0 {
		limit = int64(w.s.filterDeltaLines)
	}
	written := w.rep.Inserted + w.rep.Updated + w.rep.Deleted
	if w.spec.Kind != ImportSales || w.spec.DryRun || written == 0 || written > limit || w.catalog > 0 ||
		len(w.spans) > 0 || refundDate != w.refundDate {
		return nil
	}
	tx, d := w.tx, w.s.dialect
	if ok, err := w.s.startFilterDelta(ctx, tx, w.pub); err != nil || !ok {
		return err
	}
	exec := func(q string, args ...any) error {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("filter rollups: %w", err)
		}
		return nil
	}
	if w.orders != nil {
		if w.goneTable {
			// An order deleted outside the ledger and also written (before
			// or after) would be counted twice or taken away twice.
			var both bool
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM ingest_filter_gone
				WHERE order_id IN (SELECT order_id FROM ingest_keys) OR order_id IN (SELECT order_id FROM ingest_orders))`).Scan(&both); err != nil {
				return fmt.Errorf("filter rollups: %w", err)
			}
			if both {
				return nil
			}
		}
		// The new orders (written, without a ledger entry: they did not
		// exist) as they are now. On PostgreSQL they are looked up one by
		// one by an array of their ids (at most the bound above):
		// temporary tables have no statistics, and joined to them the
		// planner scanned the publisher's lines.
		sub := `SELECT DISTINCT order_id FROM ingest_keys WHERE order_id NOT IN (SELECT order_id FROM ingest_orders)`
		args := []any{w.pub, w.connectorID}
		if d == Postgres {
			ids, err := sqlTx{tx}.texts(ctx, sub)
			if err != nil {
				return fmt.Errorf("filter rollups: %w", err)
			}
			var more []any
			sub, more = d.orderIDs(ids)
			args = append(args, more...)
		}
		if err := exec(perOrderContribution(d, "ingest_filter_orders", refundDate, 1, sub), args...); err != nil {
			return err
		}
		// The changed orders, before (-1) and after (+1), as the other
		// rollups' deltas took them.
		if err := exec(`INSERT INTO ingest_filter_orders (` + contributionCols + `) SELECT ` + contributionCols + `
			FROM ingest_delta WHERE order_id IN (SELECT order_id FROM ingest_orders WHERE changed = 1)`); err != nil {
			return err
		}
	}
	if w.goneTable {
		if err := exec(`INSERT INTO ingest_filter_orders (` + contributionCols + `) SELECT ` + contributionCols + ` FROM ingest_filter_gone`); err != nil {
			return err
		}
	}
	if err := w.s.sumFilterDelta(ctx, tx, w.pub, true); err != nil {
		return err
	}
	// Only changed and deleted orders take anything away.
	_, err := w.s.applyFilterDelta(ctx, tx, w.pub, refundDate, w.rep.OrdersChanged > 0 || w.goneTable)
	return err
}

// maxMappingProducts is the most products whose mapping change one
// transaction follows in the filter rollups; a larger bulk decision leaves
// them stale.
const maxMappingProducts = 500

// maxMappingOrders is the most orders (of the changed products, as
// product_monthly counts them) one mapping change follows in the filter
// rollups: the change is a click in the review workbench, and it costs
// 0.4-0.75 ms an order, most of it checking the rows left at zero
// (BenchmarkReviewFilterRollups).
const maxMappingOrders = 1_000

// mappingDelta follows a change of the mapping of some products (their
// category, game IP or assets) in the filter rollups, inside the
// transaction that makes it: see followMapping.
type mappingDelta struct {
	s          *Store
	tx         *sql.Tx
	pub        phantomos.PublisherID
	refundDate bool
	on         bool
}

// followMapping begins following, in publisher pub's filter rollups, a
// change of the mapping of products ids that tx has locked. A mapping
// change moves whole orders from one filter value to another, so when the
// rollups are current it takes, as the mapping stands, what every order
// with a line of those products contributes under each value (to be taken
// away); done adds what the same orders contribute under the changed
// mapping, and the rows left at zero go as after an import. The lines do
// not change meanwhile: tx holds the publisher's row (on PostgreSQL), which
// imports take before they touch the rollups.
//
// The rollups are left stale, and the scheduled rebuild takes over, for
// more than maxMappingProducts products, or more than maxMappingOrders of
// their orders (product_monthly's order counts, an upper bound). The
// caller calls done instead of bumpDataVersion.
func (s *Store) followMapping(ctx context.Context, tx *sql.Tx, pub phantomos.PublisherID, ids []string) (*mappingDelta, error) {
	m := &mappingDelta{s: s, tx: tx, pub: pub}
	if len(ids) == 0 || len(ids) > maxMappingProducts {
		return m, nil
	}
	var err error
	if m.refundDate, err = refundDateBooking(ctx, tx, s.dialect, pub); err != nil {
		return nil, err
	}
	limit := int64(maxMappingOrders)
	if s.filterDeltaLines != 0 {
		limit = int64(s.filterDeltaLines)
	}
	args := []any{pub}
	for _, id := range ids {
		args = append(args, id)
	}
	in := inList(2, len(ids))
	var orders int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(orders), 0) FROM product_monthly WHERE publisher_id = $1 AND product_id IN (`+in+`)`,
		args...).Scan(&orders); err != nil {
		return nil, fmt.Errorf("filter rollups: %w", err)
	}
	if orders > limit {
		return m, nil
	}
	if ok, err := s.startFilterDelta(ctx, tx, pub); err != nil || !ok {
		return m, err
	}
	d := s.dialect
	lines := `(SELECT s.* FROM ingest_map_orders k CROSS JOIN sales s
		WHERE s.publisher_id = $1 AND s.connector_id = k.connector_id AND s.external_order_id = k.order_id) AS sales`
	if d == Postgres {
		// Each order looked up in the sales key, whatever the statistics.
		lines = `(SELECT l.* FROM ingest_map_orders k CROSS JOIN LATERAL
			(SELECT * FROM sales WHERE publisher_id = $1 AND connector_id = k.connector_id AND external_order_id = k.order_id OFFSET 0) AS l) AS sales`
	}
	for _, st := range []struct {
		q    string
		args []any
	}{
		{d.tempTable("ingest_map_orders", `(connector_id IDTYPE NOT NULL, order_id TEXT NOT NULL)`), nil},
		{`DELETE FROM ingest_map_orders`, nil},
		{`INSERT INTO ingest_map_orders (connector_id, order_id)
			SELECT DISTINCT connector_id, external_order_id FROM sales WHERE publisher_id = $1 AND product_id IN (` + in + `)`, args},
		{contributionFrom("ingest_filter_orders", m.refundDate, -1, lines), []any{pub}},
	} {
		if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
			return nil, fmt.Errorf("filter rollups: %w", err)
		}
	}
	if err := s.sumFilterDelta(ctx, tx, pub, false); err != nil {
		return nil, err
	}
	m.on = true
	return m, nil
}

// done ends a mapping change followed by followMapping: it adds what the
// orders contribute under the mapping as it now stands, and bumps the
// publisher's data version.
func (m *mappingDelta) done(ctx context.Context) error {
	if m.on {
		if _, err := m.tx.ExecContext(ctx, `UPDATE ingest_filter_orders SET sign = 1`); err != nil {
			return fmt.Errorf("filter rollups: %w", err)
		}
		if err := m.s.sumFilterDelta(ctx, m.tx, m.pub, false); err != nil {
			return err
		}
		if _, err := m.s.applyFilterDelta(ctx, m.tx, m.pub, m.refundDate, true); err != nil {
			return err
		}
	}
	return bumpDataVersion(ctx, m.tx, m.pub)
}

// filterDeltaTables are the temporary tables a filter delta goes through:
// contributions per order (contributionColumns), and their sums per filter
// value and per product, as filter_daily and product_geo_monthly key them.
var filterDeltaTables = [][2]string{
	{"ingest_filter_orders", contributionColumns},
	{"ingest_filter_daily", `(dim TEXT NOT NULL, value TEXT NOT NULL, day DATE NOT NULL, country TEXT NOT NULL,
		channel TEXT NOT NULL, connector_id IDTYPE NOT NULL, ` + filterAmounts},
	{"ingest_filter_geo", `(month TEXT NOT NULL, country TEXT NOT NULL, channel TEXT NOT NULL,
		connector_id IDTYPE NOT NULL, product_id IDTYPE NOT NULL, ` + filterAmounts},
}

const filterAmounts = `orders BIGINT NOT NULL, units BIGINT NOT NULL, gross BIGINT NOT NULL,
		discount BIGINT NOT NULL, refunded BIGINT NOT NULL, net BIGINT NOT NULL)`

// startFilterDelta reports whether publisher pub's filter rollups are
// current, and if so readies the filter delta's tables in tx. The caller
// holds the publisher's row (on PostgreSQL, refundDateBooking locks it),
// so no import moves the stamp meanwhile. On PostgreSQL it also takes the
// rebuild's advisory lock without waiting, and reports false when a
// rebuild is copying into the tables: the write leaves them to it. A
// rebuild that committed since the write began leaves the stamp behind
// the version (it was built from an earlier snapshot) or at it (its copy
// is what the delta adds to): either way the stamp, moved by one, stays
// right.
func (s *Store) startFilterDelta(ctx context.Context, tx *sql.Tx, pub phantomos.PublisherID) (bool, error) {
	var current bool
	err := tx.QueryRowContext(ctx, `SELECT f.data_version = p.data_version FROM filter_rollup_state f
		JOIN publishers p ON p.id = f.publisher_id WHERE f.publisher_id = $1`, pub).Scan(&current)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !current) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("filter rollups: %w", err)
	}
	if s.dialect == Postgres {
		var locked bool
		if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0))`,
			"phantomos-filter-rollups/"+string(pub)).Scan(&locked); err != nil {
			return false, fmt.Errorf("filter rollups: %w", err)
		}
		if !locked {
			return false, nil
		}
	}
	for _, t := range filterDeltaTables {
		for _, q := range []string{s.dialect.tempTable(t[0], t[1]), `DELETE FROM ` + t[0]} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return false, fmt.Errorf("filter rollups: %w", err)
			}
		}
	}
	return true, nil
}

// sumFilterDelta adds to ingest_filter_daily what the contributions in
// ingest_filter_orders add under each filter value as the mapping now
// stands (each order once as an order, and its lines' amounts), summed
// with their signs; with geo, also to ingest_filter_geo what they add to
// each product, month and place.
func (s *Store) sumFilterDelta(ctx context.Context, tx *sql.Tx, pub phantomos.PublisherID, geo bool) error {
	const signed = `SUM(sign * o), SUM(sign * q), SUM(sign * g), SUM(sign * d), SUM(sign * r), SUM(sign * n)`
	const perOrder = `MAX(x.ho) AS o, SUM(x.q) AS q, SUM(x.g) AS g, SUM(x.d) AS d, SUM(x.r) AS r, SUM(x.n) AS n`
	month := s.dialect.monthOf("x.day")
	stmts := []string{`INSERT INTO ingest_filter_daily (dim, value, day, country, channel, connector_id, orders, units, gross, discount, refunded, net)
		SELECT dim, value, day, country, channel, connector_id, ` + signed + `
		FROM (SELECT x.sign, pd.dim, pd.value, x.day, x.country, x.channel, x.connector_id, ` + perOrder + `
			FROM ingest_filter_orders x JOIN ` + productDims + ` pd ON pd.product_id = x.product_id
			GROUP BY x.order_id, x.sign, pd.dim, pd.value, x.day, x.country, x.channel, x.connector_id) y
		GROUP BY dim, value, day, country, channel, connector_id`}
	if geo {
		stmts = append(stmts, `INSERT INTO ingest_filter_geo (month, country, channel, connector_id, product_id, orders, units, gross, discount, refunded, net)
		SELECT month, country, channel, connector_id, product_id, `+signed+`
		FROM (SELECT x.sign, `+month+` AS month, x.country, x.channel, x.connector_id, x.product_id, `+perOrder+`
			FROM ingest_filter_orders x
			GROUP BY x.order_id, x.sign, `+month+`, x.country, x.channel, x.connector_id, x.product_id) y
		GROUP BY month, country, channel, connector_id, product_id`)
	}
	for i, q := range stmts {
		var args []any
		if i == 0 {
			args = []any{pub}
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("filter rollups: %w", err)
		}
	}
	return nil
}

// applyFilterDelta adds the sums of ingest_filter_daily and
// ingest_filter_geo into publisher pub's filter rollups, deletes the rows
// that taking contributions away may have left empty (when shrank), and
// moves the stamp by one, to the version the caller's commit gives. It reports false, leaving the
// rollups stale, when more rows were left at zero than it checks.
func (s *Store) applyFilterDelta(ctx context.Context, tx *sql.Tx, pub phantomos.PublisherID, refundDate, shrank bool) (bool, error) {
	month := s.dialect.monthOf("day")
	const sums = `orders = %[1]s.orders + excluded.orders, units = %[1]s.units + excluded.units, gross = %[1]s.gross + excluded.gross,
		discount = %[1]s.discount + excluded.discount, refunded = %[1]s.refunded + excluded.refunded, net = %[1]s.net + excluded.net`
	const total = `SUM(orders), SUM(units), SUM(gross), SUM(discount), SUM(refunded), SUM(net)`
	const nothing = `SUM(orders) = 0 AND SUM(units) = 0 AND SUM(gross) = 0 AND SUM(discount) = 0 AND SUM(refunded) = 0 AND SUM(net) = 0`
	for _, q := range []string{
		// A key may have rows of several sums (a mapping change sums before
		// and after). Keys whose sums come to nothing are left alone
		// (after a mapping change, every value the change did not touch),
		// unless they are new: a group of lines of no amount has a row.
		`INSERT INTO filter_daily (publisher_id, dim, value, day, country, channel, connector_id, orders, units, gross, discount, refunded, net)
		SELECT $1, dim, value, day, country, channel, connector_id, ` + total + ` FROM ingest_filter_daily WHERE 1 = 1
		GROUP BY dim, value, day, country, channel, connector_id HAVING NOT (` + nothing + `)
		ON CONFLICT (publisher_id, dim, value, day, country, channel, connector_id) DO UPDATE SET ` + fmt.Sprintf(sums, "filter_daily"),
		`INSERT INTO filter_daily (publisher_id, dim, value, day, country, channel, connector_id, orders, units, gross, discount, refunded, net)
		SELECT $1, dim, value, day, country, channel, connector_id, 0, 0, 0, 0, 0, 0 FROM ingest_filter_daily WHERE 1 = 1
		GROUP BY dim, value, day, country, channel, connector_id HAVING ` + nothing + `
		ON CONFLICT (publisher_id, dim, value, day, country, channel, connector_id) DO NOTHING`,
		// An order has one day: a month's orders are its days' summed.
		`INSERT INTO filter_monthly (publisher_id, dim, value, month, country, channel, connector_id, orders, units, gross, discount, refunded, net)
		SELECT $1, dim, value, ` + month + `, country, channel, connector_id, ` + total + `
		FROM ingest_filter_daily WHERE 1 = 1 GROUP BY dim, value, ` + month + `, country, channel, connector_id HAVING NOT (` + nothing + `)
		ON CONFLICT (publisher_id, dim, value, month, country, channel, connector_id) DO UPDATE SET ` + fmt.Sprintf(sums, "filter_monthly"),
		`INSERT INTO filter_monthly (publisher_id, dim, value, month, country, channel, connector_id, orders, units, gross, discount, refunded, net)
		SELECT $1, dim, value, ` + month + `, country, channel, connector_id, 0, 0, 0, 0, 0, 0
		FROM ingest_filter_daily WHERE 1 = 1 GROUP BY dim, value, ` + month + `, country, channel, connector_id HAVING ` + nothing + `
		ON CONFLICT (publisher_id, dim, value, month, country, channel, connector_id) DO NOTHING`,
		`INSERT INTO product_geo_monthly (publisher_id, month, country, channel, connector_id, product_id, orders, units, gross, discount, refunded, net)
		SELECT $1, month, country, channel, connector_id, product_id, orders, units, gross, discount, refunded, net FROM ingest_filter_geo WHERE 1 = 1
		ON CONFLICT (publisher_id, month, country, channel, connector_id, product_id) DO UPDATE SET ` + fmt.Sprintf(sums, "product_geo_monthly"),
	} {
		if _, err := tx.ExecContext(ctx, q, pub); err != nil {
			return false, fmt.Errorf("filter rollups: %w", err)
		}
	}
	if shrank {
		ok, err := s.dropEmptyFilterRows(ctx, tx, pub, refundDate)
		if err != nil || !ok {
			return false, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE filter_rollup_state SET data_version = data_version + 1 WHERE publisher_id = $1`, pub); err != nil {
		return false, fmt.Errorf("filter rollups: %w", err)
	}
	s.filterDeltas.Add(1)
	return true, nil
}

// dropEmptyFilterRows deletes the filter rollup rows that the import's
// deltas (ingest_filter_daily, ingest_filter_geo) left at zero and that no
// line backs any more: the group of an order that moved or went, alone in
// it. A rebuild has a row for every group with lines, also when they sum
// to zero, and none for a group without. It reports false, leaving the
// rollups stale, when there are more than maxFilterZeroRows such rows to
// check.
func (s *Store) dropEmptyFilterRows(ctx context.Context, tx *sql.Tx, pub phantomos.PublisherID, refundDate bool) (bool, error) {
	d := s.dialect
	if d == Postgres {
		// Without statistics the planner may join the small temporary
		// tables to the rollups by scanning the publisher's rows.
		if _, err := tx.ExecContext(ctx, `ANALYZE ingest_filter_daily, ingest_filter_geo`); err != nil {
			return false, fmt.Errorf("filter rollups: %w", err)
		}
	}
	const zero = `f.orders = 0 AND f.units = 0 AND f.gross = 0 AND f.discount = 0 AND f.refunded = 0 AND f.net = 0`
	const place = `f.country = i.country AND f.channel = i.channel AND f.connector_id = i.connector_id`
	// Each row of the (small) deltas probes the rollup's key: CROSS JOIN
	// keeps SQLite to that order, which otherwise scanned the publisher's
	// filter_daily rows for the deltas (45 ms a sync page of 250 orders
	// at 100,000 lines, 4 ms now); PostgreSQL has the deltas' statistics.
	// More rows than the bound are not read: one past it says enough.
	limit := fmt.Sprintf(" LIMIT %d", maxFilterZeroRows+1)
	var keys [3][][]any
	for n, q := range []string{
		`SELECT DISTINCT i.dim, i.value, i.day, i.country, i.channel, CAST(i.connector_id AS TEXT) FROM ingest_filter_daily i
		CROSS JOIN filter_daily f WHERE f.publisher_id = $1 AND f.dim = i.dim AND f.value = i.value AND f.day = i.day AND ` + place + ` AND ` + zero,
		`SELECT i.dim, i.value, i.month, i.country, i.channel, CAST(i.connector_id AS TEXT)
		FROM (SELECT DISTINCT dim, value, ` + d.monthOf("day") + ` AS month, country, channel, connector_id FROM ingest_filter_daily) i
		CROSS JOIN filter_monthly f WHERE f.publisher_id = $1 AND f.dim = i.dim AND f.value = i.value AND f.month = i.month AND ` + place + ` AND ` + zero,
		`SELECT i.month, i.country, i.channel, CAST(i.connector_id AS TEXT), CAST(i.product_id AS TEXT) FROM ingest_filter_geo i
		CROSS JOIN product_geo_monthly f WHERE f.publisher_id = $1 AND f.month = i.month AND f.product_id = i.product_id AND ` + place + ` AND ` + zero,
	} {
		rows, err := tx.QueryContext(ctx, q+limit, pub)
		if err != nil {
			return false, fmt.Errorf("filter rollups: %w", err)
		}
		cols, err := rows.Columns()
		if err != nil {
			rows.Close()
			return false, fmt.Errorf("filter rollups: %w", err)
		}
		for rows.Next() {
			k := make([]any, len(cols))
			dest := make([]any, len(k))
			for i := range k {
				dest[i] = &k[i]
			}
			if err := rows.Scan(dest...); err != nil {
				rows.Close()
				return false, fmt.Errorf("filter rollups: %w", err)
			}
			keys[n] = append(keys[n], k)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return false, fmt.Errorf("filter rollups: %w", err)
		}
	}
	if len(keys[0])+len(keys[1])+len(keys[2]) > maxFilterZeroRows {
		return false, nil
	}
	// The lines of a place ($1 the publisher, $3..$5 country, channel and
	// connector) booked on the days $6 to $7 (exclusive) that qualify (a
	// condition on s), as bookedSalesOf books them.
	//
	// The connector is compared as text so that no plan takes the sales
	// key (publisher, connector, …), which SQLite preferred without
	// statistics and which reads every line of the connector: 25 ms a row
	// at 100,000 lines. The day (one, or a month's range) and the products
	// then go by sales_product_orders or sales_day.
	booked := func(qualify string) string {
		q := `NOT EXISTS (SELECT 1 FROM sales s WHERE s.publisher_id = $1 AND s.day >= $6 AND s.day < $7
			AND s.country = $3 AND s.channel = $4 AND CAST(s.connector_id AS TEXT) = CAST($5 AS TEXT) AND ` + qualify + `)`
		if refundDate {
			q += ` AND NOT EXISTS (SELECT 1 FROM sales s WHERE s.publisher_id = $1 AND s.refund_day >= $6 AND s.refund_day < $7
				AND s.country = $3 AND s.channel = $4 AND CAST(s.connector_id AS TEXT) = CAST($5 AS TEXT) AND ` + qualify + ` AND s.refund_day <> s.day AND s.refunded_reporting <> 0)`
		}
		return q
	}
	// A day's group of a value; a month's, which its days' rows back (an
	// order has one day, so a month has lines of a value and place exactly
	// when one of its days has); a month's group of a product.
	// The products with a value, per dimension, as productDims has them
	// (one subquery over the union of all three was evaluated for every
	// row: 29 ms a row on SQLite).
	daily := map[string]string{}
	for dim, products := range map[string]string{
		"category": `SELECT id FROM products WHERE publisher_id = $1 AND category = $2`,
		"game_ip":  `SELECT id FROM products WHERE publisher_id = $1 AND CAST(game_ip_id AS TEXT) = $2`,
		"asset":    `SELECT product_id FROM product_assets WHERE publisher_id = $1 AND CAST(asset_id AS TEXT) = $2`,
	} {
		daily[dim] = `DELETE FROM filter_daily WHERE publisher_id = $1 AND dim = $8 AND value = $2 AND day = $6
		AND country = $3 AND channel = $4 AND connector_id = $5 AND ` + booked(`s.product_id IN (`+products+`)`)
	}
	monthly := `DELETE FROM filter_monthly WHERE publisher_id = $1 AND dim = $8 AND value = $2 AND month = $9
		AND country = $3 AND channel = $4 AND connector_id = $5
		AND NOT EXISTS (SELECT 1 FROM filter_daily f WHERE f.publisher_id = $1 AND f.dim = $8 AND f.value = $2
			AND f.day >= $6 AND f.day < $7 AND f.country = $3 AND f.channel = $4 AND f.connector_id = $5)`
	geo := `DELETE FROM product_geo_monthly WHERE publisher_id = $1 AND product_id = $2 AND month = $8
		AND country = $3 AND channel = $4 AND connector_id = $5 AND ` + booked(`s.product_id = $2`)
	del := func(q string, args ...any) error {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("filter rollups: %w", err)
		}
		return nil
	}
	for _, k := range keys[0] {
		day, err := dayValue(k[2])
		if err != nil {
			return false, err
		}
		next := phantomos.DayOf(day.Time().AddDate(0, 0, 1), time.UTC)
		q, ok := daily[fmt.Sprint(k[0])]
		if !ok {
			return false, fmt.Errorf("filter rollups: dimension %v", k[0])
		}
		if err := del(q, pub, k[1], k[3], k[4], k[5], d.dayValue(day), d.dayValue(next), k[0]); err != nil {
			return false, err
		}
	}
	for _, k := range keys[1] {
		from, to, err := monthDays(k[2])
		if err != nil {
			return false, err
		}
		if err := del(monthly, pub, k[1], k[3], k[4], k[5], d.dayValue(from), d.dayValue(to), k[0], k[2]); err != nil {
			return false, err
		}
	}
	for _, k := range keys[2] {
		from, to, err := monthDays(k[0])
		if err != nil {
			return false, err
		}
		if err := del(geo, pub, k[4], k[1], k[2], k[3], d.dayValue(from), d.dayValue(to), k[0]); err != nil {
			return false, err
		}
	}
	return true, nil
}

// monthDays returns the first day of month m ("2006-01", as scanned) and
// of the month after it.
func monthDays(m any) (from, to phantomos.Day, err error) {
	s, _ := m.(string)
	if b, ok := m.([]byte); ok {
		s = string(b)
	}
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return "", "", fmt.Errorf("filter rollups: month %v: %w", m, err)
	}
	return phantomos.Day(t.Format("2006-01-02")), phantomos.Day(t.AddDate(0, 1, 0).Format("2006-01-02")), nil
}
