package store

import (
	"context"
	"fmt"

	"github.com/phantomos/phantomos"
)

// A bulk load into a publisher that already has sales adds the rollups of
// the lines it loaded to the stored ones, instead of recomputing whole days
// from the sales table: the cost follows what the load writes, not what the
// publisher already holds on the days it touches.
//
// Amounts are sums, so the loaded lines' sums are simply added. Orders are
// distinct counts: a loaded line may belong to an order that already has
// lines stored (the bulk path refuses existing line keys only), so a
// loaded order adds one to a group only when none of its lines stored
// before the load counts it there already. Loaded lines only add rows and
// amounts, never remove any, so no group is left as a row of zeros that a
// recomputation would not have.

// loadedLines names the lines a bulk load wrote, for addLoadedRollups.
type loadedLines struct {
	// from is a FROM item holding the loaded lines under the alias b, and
	// where the condition on b that selects them.
	from, where string
	// before is a condition on e, a row of sales, true when e was stored
	// before the load.
	before string
	// args are the statements' arguments: $1 is the publisher, the rest
	// those the conditions use.
	args []any
}

// addLoadedRollups adds the contribution of the loaded lines to every
// rollup of publisher pub (the tables refreshRollups keeps), under the
// publisher's refund booking (see refreshRollups), inside tx.
func addLoadedRollups(ctx context.Context, tx execer, d Dialect, pub phantomos.PublisherID, l loadedLines, refundDate bool) error {
	// An order already counted in a group by a line stored before the load.
	counted := func(withProduct bool) string {
		day := `e.day`
		if !withProduct && d == SQLite {
			// Without a product, SQLite would look the order up by
			// (publisher, day), reading every line of the day for each
			// order; +e.day leaves it the key (publisher, connector, order).
			day = `+e.day`
		}
		q := `SELECT 1 FROM sales e WHERE e.publisher_id = $1 AND e.connector_id = l.connector_id AND e.external_order_id = l.external_order_id
			AND ` + day + ` = l.day AND e.country = l.country AND e.channel = l.channel AND e.has_order AND ` + l.before
		if withProduct {
			q += ` AND e.product_id = l.product_id`
		}
		return q
	}
	r, n := `SUM(refunded_reporting)`, `SUM(net_reporting)`
	if refundDate {
		r = `SUM(CASE WHEN ` + refundMoved + ` THEN 0 ELSE refunded_reporting END)`
		n = `SUM(CASE WHEN ` + refundMoved + ` THEN net_reporting + refunded_reporting ELSE net_reporting END)`
	}
	salesDelta := `SELECT day, product_id, country, channel, connector_id, SUM(o) AS orders, SUM(q) AS units, SUM(g) AS gross,
			SUM(dd) AS discount, SUM(r) AS refunded, SUM(n) AS net
		FROM (SELECT l.day, l.product_id, l.country, l.channel, l.connector_id,
				CASE WHEN l.ho = 1 AND NOT EXISTS (` + counted(true) + `) THEN 1 ELSE 0 END AS o, l.q, l.g, l.dd, l.r, l.n
			FROM (SELECT day, product_id, country, channel, connector_id, external_order_id,
					MAX(CASE WHEN has_order THEN 1 ELSE 0 END) AS ho, SUM(quantity) AS q, SUM(gross_reporting) AS g,
					SUM(discount_reporting) AS dd, ` + r + ` AS r, ` + n + ` AS n
				FROM ` + l.from + ` WHERE ` + l.where + `
				GROUP BY day, product_id, country, channel, connector_id, external_order_id) l`
	if refundDate {
		salesDelta += `
			UNION ALL
			SELECT refund_day, product_id, country, channel, connector_id, 0, 0, 0, 0, SUM(refunded_reporting), -SUM(refunded_reporting)
			FROM ` + l.from + ` WHERE ` + l.where + ` AND ` + refundMoved + `
			GROUP BY refund_day, product_id, country, channel, connector_id`
	}
	salesDelta += `) x
		GROUP BY day, product_id, country, channel, connector_id`
	ordersDelta := `SELECT day, country, channel, connector_id, COUNT(*) AS orders
		FROM (SELECT DISTINCT day, country, channel, connector_id, external_order_id FROM ` + l.from + ` WHERE ` + l.where + ` AND b.has_order) l
		WHERE NOT EXISTS (` + counted(false) + `)
		GROUP BY day, country, channel, connector_id`

	temp := func(name, query string) string {
		if d == Postgres {
			return `CREATE TEMP TABLE ` + name + ` ON COMMIT DROP AS ` + query
		}
		return `CREATE TEMP TABLE ` + name + ` AS ` + query
	}
	var stmts []string
	if d == SQLite {
		// A connection of the pool may hold the tables of an earlier load
		// that failed before dropping them.
		stmts = append(stmts, `DROP TABLE IF EXISTS temp.bulk_delta_sales`, `DROP TABLE IF EXISTS temp.bulk_delta_orders`)
	}
	stmts = append(stmts, temp("bulk_delta_sales", salesDelta), temp("bulk_delta_orders", ordersDelta))
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q, l.args...); err != nil {
			return fmt.Errorf("loaded rollups: %w", err)
		}
	}
	if d == Postgres {
		// Without statistics the planner takes the new tables for nearly
		// empty and may join them by nested loops.
		if _, err := tx.ExecContext(ctx, `ANALYZE bulk_delta_sales, bulk_delta_orders`); err != nil {
			return fmt.Errorf("loaded rollups: %w", err)
		}
	}

	if err := addDeltas(ctx, tx, d, pub, "bulk_delta_sales", "bulk_delta_orders"); err != nil {
		return fmt.Errorf("loaded rollups: %w", err)
	}
	if d == SQLite {
		for _, q := range []string{`DROP TABLE temp.bulk_delta_sales`, `DROP TABLE temp.bulk_delta_orders`} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("loaded rollups: %w", err)
			}
		}
	}
	return nil
}
