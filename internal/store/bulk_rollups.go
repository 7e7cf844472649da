package store

import (
	"context"
	"fmt"
	"strings"

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

	week, month := d.weekOf("day"), d.monthOf("day")
	add := func(table string, cols ...string) string {
		var set []string
		for _, c := range cols {
			set = append(set, c+" = "+table+"."+c+" + excluded."+c)
		}
		return strings.Join(set, ", ")
	}
	amounts := []string{"orders", "units", "gross", "discount", "refunded", "net"}
	sums := `SUM(orders), SUM(units), SUM(gross), SUM(discount), SUM(refunded), SUM(net)`
	stmts = []string{
		`INSERT INTO sales_daily (publisher_id, day, product_id, country, channel, connector_id, orders, units, gross, discount, refunded, net)
		 SELECT $1, day, product_id, country, channel, connector_id, orders, units, gross, discount, refunded, net FROM bulk_delta_sales WHERE true
		 ON CONFLICT (publisher_id, day, product_id, country, channel, connector_id) DO UPDATE SET ` + add("sales_daily", amounts...),
		`INSERT INTO orders_daily (publisher_id, day, country, channel, connector_id, orders)
		 SELECT $1, day, country, channel, connector_id, orders FROM bulk_delta_orders WHERE true
		 ON CONFLICT (publisher_id, day, country, channel, connector_id) DO UPDATE SET ` + add("orders_daily", "orders"),
		`INSERT INTO product_daily (publisher_id, day, product_id, orders, units, gross, discount, refunded, net)
		 SELECT $1, day, product_id, ` + sums + ` FROM bulk_delta_sales GROUP BY day, product_id
		 ON CONFLICT (publisher_id, day, product_id) DO UPDATE SET ` + add("product_daily", amounts...),
		// A geo_daily row's orders are its orders_daily row's (see
		// refreshRollups), so its delta is that row's delta.
		`INSERT INTO geo_daily (publisher_id, day, country, channel, connector_id, orders, units, gross, discount, refunded, net)
		 SELECT $1, s.day, s.country, s.channel, s.connector_id, COALESCE(MAX(o.orders), 0), SUM(s.units), SUM(s.gross), SUM(s.discount), SUM(s.refunded), SUM(s.net)
		 FROM bulk_delta_sales s LEFT JOIN bulk_delta_orders o ON o.day = s.day AND o.country = s.country AND o.channel = s.channel AND o.connector_id = s.connector_id
		 GROUP BY s.day, s.country, s.channel, s.connector_id
		 ON CONFLICT (publisher_id, day, country, channel, connector_id) DO UPDATE SET ` + add("geo_daily", amounts...),
		`INSERT INTO product_weekly (publisher_id, week, product_id, orders, units, gross, discount, refunded, net)
		 SELECT $1, ` + week + `, product_id, ` + sums + ` FROM bulk_delta_sales GROUP BY product_id, ` + week + `
		 ON CONFLICT (publisher_id, product_id, week) DO UPDATE SET ` + add("product_weekly", amounts...),
		`INSERT INTO product_monthly (publisher_id, month, product_id, orders, units, gross, discount, refunded, net)
		 SELECT $1, ` + month + `, product_id, ` + sums + ` FROM bulk_delta_sales GROUP BY ` + month + `, product_id
		 ON CONFLICT (publisher_id, month, product_id) DO UPDATE SET ` + add("product_monthly", amounts...),
		// Orders per month and place are the sum of the days', as geo_daily
		// has them.
		`INSERT INTO geo_monthly (publisher_id, month, country, channel, connector_id, orders, units, gross, discount, refunded, net)
		 SELECT $1, m, country, channel, connector_id, SUM(o), SUM(units), SUM(gross), SUM(discount), SUM(refunded), SUM(net)
		 FROM (SELECT ` + month + ` AS m, country, channel, connector_id, units, gross, discount, refunded, net, 0 AS o
		       FROM bulk_delta_sales
		       UNION ALL
		       SELECT ` + month + `, country, channel, connector_id, 0, 0, 0, 0, 0, orders FROM bulk_delta_orders) x
		 GROUP BY m, country, channel, connector_id
		 ON CONFLICT (publisher_id, month, country, channel, connector_id) DO UPDATE SET ` + add("geo_monthly", amounts...),
	}
	if d == SQLite {
		stmts = append(stmts, `DROP TABLE temp.bulk_delta_sales`, `DROP TABLE temp.bulk_delta_orders`)
	}
	for _, q := range stmts {
		var args []any
		if strings.Contains(q, "$1") {
			args = []any{pub}
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("loaded rollups: %w", err)
		}
	}
	return nil
}
