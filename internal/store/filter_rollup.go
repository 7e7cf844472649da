package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/phantomos/phantomos"
)

// Filter rollups answer analytics under a product filter without reading
// sale lines.
//
// Distinct orders under a product filter cannot come from the product
// rollups (an order with two matching products counts once), so they were
// counted from the publisher's lines: a year under one category is a
// million lines at ten million sales. filter_daily and filter_monthly hold,
// per filter value (a category, a game IP or an asset), day or month and
// place, the distinct orders with a line of a product carrying that value
// and those lines' amounts. Summing them over days and places is exact,
// because an order has one day and one place. product_geo_monthly holds
// the lines summed to months per product and place, for product questions
// under a place filter (a country's products over a year).
//
// They depend on the mapping (which products carry a category, a game IP
// or an asset) as well as on sales, and many writes change one or the
// other. Rather than hooking every such write, they are rebuilt as a whole
// from one consistent snapshot and stamped with the publisher's data
// version at that snapshot. Every write that changes what analytics read
// bumps the data version in its own transaction (bumpDataVersion), so a
// read uses these tables only while the stamp equals the current version:
// then they are exactly what a rebuild would produce now. Otherwise the
// read takes the exact path it always had (the lines); the
// worker's periodic schedule enqueues a rebuild (a filter_rollups job) for
// each publisher whose tables are stale.

// filterRollupTables are the filter rollups.
var filterRollupTables = []string{"filter_daily", "filter_monthly", "product_geo_monthly"}

// FilterRollupsCurrent reports whether publisher pub's filter rollups are
// built at its current data version: reads under one product filter use
// them only then, and the worker's schedule rebuilds them when they are not.
func (s *Store) FilterRollupsCurrent(ctx context.Context, pub phantomos.PublisherID) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM filter_rollup_state f JOIN publishers p ON p.id = f.publisher_id
		WHERE f.publisher_id = $1 AND f.data_version = p.data_version`, pub).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: filter rollups: %w", err)
	}
	return n > 0, nil
}

// productDims is, for publisher $1, one row per product and filter value
// it carries: its category, its game IP and each asset it is linked to,
// exactly as Filter.conds selects products.
const productDims = `(SELECT id AS product_id, 'category' AS dim, category AS value FROM products WHERE publisher_id = $1
	UNION ALL SELECT id, 'game_ip', CAST(game_ip_id AS TEXT) FROM products WHERE publisher_id = $1 AND game_ip_id IS NOT NULL
	UNION SELECT product_id, 'asset', CAST(asset_id AS TEXT) FROM product_assets WHERE publisher_id = $1)`

// RefreshFilterRollups rebuilds publisher pub's filter rollups from its
// sales and mapping as one snapshot sees them, stamped with
// the data version of that snapshot. The aggregation runs in a reading
// transaction (into temporary tables of its connection), so writers are not
// held up by it; only the copy into the rollups takes a write transaction.
func (s *Store) RefreshFilterRollups(ctx context.Context, pub phantomos.PublisherID) (err error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: filter rollups: %w", err)
	}
	defer conn.Close()
	idType := "TEXT"
	if s.dialect == Postgres {
		idType = "UUID"
	}
	exec := func(q string, args ...any) error {
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("store: filter rollups: %w", err)
		}
		return nil
	}
	for _, q := range []string{
		`CREATE TEMP TABLE IF NOT EXISTS fr_daily_tmp (dim TEXT NOT NULL, value TEXT NOT NULL, day DATE NOT NULL, country TEXT NOT NULL,
			channel TEXT NOT NULL, connector_id ` + idType + ` NOT NULL, orders BIGINT NOT NULL, units BIGINT NOT NULL, gross BIGINT NOT NULL,
			discount BIGINT NOT NULL, refunded BIGINT NOT NULL, net BIGINT NOT NULL)`,
		`CREATE TEMP TABLE IF NOT EXISTS fr_geo_tmp (month TEXT NOT NULL, country TEXT NOT NULL, channel TEXT NOT NULL,
			connector_id ` + idType + ` NOT NULL, product_id ` + idType + ` NOT NULL, orders BIGINT NOT NULL, units BIGINT NOT NULL,
			gross BIGINT NOT NULL, discount BIGINT NOT NULL, refunded BIGINT NOT NULL, net BIGINT NOT NULL)`,
		`DELETE FROM fr_daily_tmp`,
		`DELETE FROM fr_geo_tmp`,
	} {
		if err := exec(q); err != nil {
			return err
		}
	}
	defer func() {
		// The connection goes back to the pool: leave nothing behind.
		if _, derr := conn.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS fr_daily_tmp`); derr != nil && err == nil {
			err = fmt.Errorf("store: filter rollups: %w", derr)
		}
		if _, derr := conn.ExecContext(context.WithoutCancel(ctx), `DROP TABLE IF EXISTS fr_geo_tmp`); derr != nil && err == nil {
			err = fmt.Errorf("store: filter rollups: %w", derr)
		}
	}()

	// One snapshot: the version, the booking, the sales and the mapping.
	// SQLite's deferred transaction reads one snapshot of the database file
	// and writes only its temporary tables, so it takes no write lock.
	begin := "BEGIN"
	if s.dialect == Postgres {
		begin = "BEGIN ISOLATION LEVEL REPEATABLE READ"
	}
	if err := exec(begin); err != nil {
		return err
	}
	version, err := s.snapshotFilterRollups(ctx, conn, pub)
	if err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	if err := exec("COMMIT"); err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}

	// The copy: all three tables and the stamp together, in the store's
	// write turn (on SQLite it waits for a running import to commit, where
	// the file's lock alone gave up after busy_timeout).
	end := s.beginWrite(ctx)
	defer end()
	begin = "BEGIN IMMEDIATE"
	if s.dialect == Postgres {
		begin = "BEGIN"
	}
	if err := exec(begin); err != nil {
		return err
	}
	if s.dialect == Postgres {
		// Two rebuilds of one publisher (two replicas) take turns here.
		if err := exec(`SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "phantomos-filter-rollups/"+string(pub)); err != nil {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			return err
		}
	}
	// A rebuild from a later snapshot committed meanwhile: keep it.
	var stored int64
	err = conn.QueryRowContext(ctx, `SELECT data_version FROM filter_rollup_state WHERE publisher_id = $1`, pub).Scan(&stored)
	if err != nil && err != sql.ErrNoRows {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return fmt.Errorf("store: filter rollups: %w", err)
	}
	if err == nil && stored > version {
		_, err = conn.ExecContext(ctx, "ROLLBACK")
		return err
	}
	month := s.dialect.monthOf("day")
	for _, q := range []string{
		`DELETE FROM filter_daily WHERE publisher_id = $1`,
		`INSERT INTO filter_daily (publisher_id, dim, value, day, country, channel, connector_id, orders, units, gross, discount, refunded, net)
		 SELECT $1, dim, value, day, country, channel, connector_id, orders, units, gross, discount, refunded, net FROM fr_daily_tmp`,
		`DELETE FROM filter_monthly WHERE publisher_id = $1`,
		// An order has one day: its month's distinct count is the sum of
		// its days'.
		`INSERT INTO filter_monthly (publisher_id, dim, value, month, country, channel, connector_id, orders, units, gross, discount, refunded, net)
		 SELECT $1, dim, value, ` + month + `, country, channel, connector_id, SUM(orders), SUM(units), SUM(gross), SUM(discount), SUM(refunded), SUM(net)
		 FROM fr_daily_tmp GROUP BY dim, value, ` + month + `, country, channel, connector_id`,
		`DELETE FROM product_geo_monthly WHERE publisher_id = $1`,
		`INSERT INTO product_geo_monthly (publisher_id, month, country, channel, connector_id, product_id, orders, units, gross, discount, refunded, net)
		 SELECT $1, month, country, channel, connector_id, product_id, orders, units, gross, discount, refunded, net FROM fr_geo_tmp`,
	} {
		if err := exec(q, pub); err != nil {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			return err
		}
	}
	if err := exec(`INSERT INTO filter_rollup_state (publisher_id, data_version, built_at) VALUES ($1, $2, $3)
		ON CONFLICT (publisher_id) DO UPDATE SET data_version = excluded.data_version, built_at = excluded.built_at`,
		pub, version, s.nowUTC()); err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	if err := exec("COMMIT"); err != nil {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
		return err
	}
	if s.dialect == Postgres {
		// The tables were just replaced: without fresh statistics the
		// planner takes a month range of product_geo_monthly for one row and
		// sorts it on disk instead of hashing it.
		return exec(`ANALYZE filter_daily, filter_monthly, product_geo_monthly`)
	}
	return nil
}

// snapshotFilterRollups fills the connection's temporary tables with pub's
// filter rollups inside the snapshot transaction open on conn, and returns
// the data version they are exact for.
func (s *Store) snapshotFilterRollups(ctx context.Context, conn *sql.Conn, pub phantomos.PublisherID) (int64, error) {
	var settings string
	var version int64
	if err := conn.QueryRowContext(ctx, `SELECT CAST(settings AS TEXT), data_version FROM publishers WHERE id = $1`, pub).Scan(&settings, &version); err != nil {
		return 0, notFound(err, "Publisher")
	}
	refundDate, err := parseRefundBooking(settings)
	if err != nil {
		return 0, err
	}
	daily := `INSERT INTO fr_daily_tmp (dim, value, day, country, channel, connector_id, orders, units, gross, discount, refunded, net) ` +
		filterDailyOf(bookedSales(refundDate))
	geo := `INSERT INTO fr_geo_tmp (month, country, channel, connector_id, product_id, orders, units, gross, discount, refunded, net) ` +
		productGeoOf(s.dialect.monthOf("day"), bookedSales(refundDate))
	for _, q := range []string{daily, geo} {
		if _, err := conn.ExecContext(ctx, q, pub); err != nil {
			return 0, fmt.Errorf("store: filter rollups: %w", err)
		}
	}
	return version, nil
}

// filterDailyOf is filter_daily's aggregation of publisher $1's lines in
// booked (bookedSales or bookedSalesOf): per filter value, day and place,
// the columns dim, value, day, country, channel, connector_id, orders,
// units, gross, discount, refunded and net. Lines per order first (its
// amounts under the value, and whether it is an order at all: booked gives
// lines without orders, and refunds booked apart, no order id), then
// orders per value, day and place. Imports move the table by the same
// sums per order instead (filter_delta.go); TestFilterRollupsFollowImports
// holds the two to the same result.
func filterDailyOf(booked string) string {
	return `SELECT dim, value, day, country, channel, connector_id, SUM(o) AS orders, SUM(q) AS units, SUM(g) AS gross,
			SUM(d) AS discount, SUM(r) AS refunded, SUM(n) AS net
		FROM (SELECT pd.dim, pd.value, b.day, b.country, b.channel, b.connector_id, b.external_order_id,
				MAX(CASE WHEN b.external_order_id IS NULL THEN 0 ELSE 1 END) AS o, SUM(b.quantity) AS q, SUM(b.gross_reporting) AS g,
				SUM(b.discount_reporting) AS d, SUM(b.refunded_reporting) AS r, SUM(b.net_reporting) AS n
			FROM ` + booked + ` b JOIN ` + productDims + ` pd ON pd.product_id = b.product_id
			WHERE b.publisher_id = $1
			GROUP BY pd.dim, pd.value, b.day, b.country, b.channel, b.connector_id, b.external_order_id) x
		GROUP BY dim, value, day, country, channel, connector_id`
}

// productGeoOf is product_geo_monthly's aggregation of publisher $1's
// lines in booked, month being the dialect's month of day: the columns
// month, country, channel, connector_id, product_id, orders, units, gross,
// discount, refunded and net. An order has one day and place, and
// external_order_id is NULL on what is not an order.
func productGeoOf(month, booked string) string {
	return `SELECT ` + month + ` AS month, country, channel, connector_id, product_id, COUNT(DISTINCT external_order_id) AS orders,
			SUM(quantity) AS units, SUM(gross_reporting) AS gross, SUM(discount_reporting) AS discount,
			SUM(refunded_reporting) AS refunded, SUM(net_reporting) AS net
		FROM ` + booked + ` b WHERE publisher_id = $1
		GROUP BY ` + month + `, country, channel, connector_id, product_id`
}

// single returns the filter's one product condition when it has exactly
// one, with one value, and no product list: the questions the filter
// rollups answer. Ids are compared as text there, so an id not in the
// canonical lower case is left to the other paths.
func (f Filter) single() (dim, value string, ok bool) {
	if len(f.Products) > 0 {
		return "", "", false
	}
	n := 0
	for _, c := range []struct {
		dim  string
		vals []string
	}{{"category", f.Categories}, {"game_ip", f.GameIPs}, {"asset", f.Assets}} {
		if len(c.vals) == 0 {
			continue
		}
		n++
		if len(c.vals) > 1 {
			return "", "", false
		}
		dim, value = c.dim, c.vals[0]
	}
	if n != 1 || (dim != "category" && value != strings.ToLower(value)) {
		return "", "", false
	}
	return dim, value, true
}

// geoConds returns the filter's place conditions on unaliased columns,
// each starting with " AND ", with their arguments appended to args.
func (f Filter) geoConds(args []any) (string, []any) {
	var b strings.Builder
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		ph := make([]string, len(vals))
		for i, v := range vals {
			args = append(args, v)
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		b.WriteString(" AND " + col + " IN (" + strings.Join(ph, ", ") + ")")
	}
	in("country", f.Countries)
	in("channel", f.Channels)
	in("connector_id", f.Connectors)
	return b.String(), args
}

// segment is a part of a range read from a monthly table (whole months,
// from..to as their first days) or from a daily one (days from..to).
type segment struct {
	monthly  bool
	from, to phantomos.Day
}

// segments splits from..to into whole months and the days at its edges,
// as rollup reads them (see rollup for dataEnd).
func segments(from, to, dataEnd phantomos.Day) []segment {
	end := to
	if dataEnd != "" && dataEnd <= to && monthStart(dataEnd) == monthStart(to) {
		end = addDays(nextMonth(to), -1)
	}
	firstWhole, lastWhole := wholeMonths(from, end)
	if firstWhole == "" {
		return []segment{{false, from, to}}
	}
	out := []segment{{true, firstWhole, lastWhole}}
	if from < firstWhole {
		out = append(out, segment{false, from, addDays(firstWhole, -1)})
	}
	if last := addDays(nextMonth(lastWhole), -1); last < to {
		out = append(out, segment{false, nextMonth(lastWhole), to})
	}
	return out
}

// filterRollup is rollup for the filter rollups:
// filterGrain (f.single() must hold) reads filter_daily and filter_monthly, keyed by place;
// productGeoGrain reads product_geo_monthly and, for the days at the
// edges, the lines (bookedLines under refundDate), keyed by product and
// place, without orders. The place conditions apply inside the parts,
// before any sum.
func (f Filter) filterRollup(g grain, pub phantomos.PublisherID, refundDate bool, from, to, dataEnd phantomos.Day, byDay, needProducts bool) (string, string, []any) {
	args := []any{pub}
	ph := func(v string) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if g == filterGrain {
		dim, value, _ := f.single()
		if byDay {
			cond, a := f.where(args, from, to, false)
			args = a
			cond += " AND t.dim = " + ph(dim) + " AND t.value = " + ph(value)
			return "filter_daily t", cond, args
		}
		keys := "country, channel, connector_id, publisher_id"
		measures := "orders, units, gross, discount, refunded, net"
		head := " WHERE publisher_id = $1 AND dim = " + ph(dim) + " AND value = " + ph(value)
		geo, a := f.geoConds(args)
		args = a
		var parts []string
		for _, sg := range segments(from, to, dataEnd) {
			if sg.monthly {
				parts = append(parts, "SELECT "+keys+", "+measures+" FROM filter_monthly"+head+geo+
					" AND month BETWEEN "+ph(string(sg.from)[:7])+" AND "+ph(string(sg.to)[:7]))
			} else {
				parts = append(parts, "SELECT "+keys+", "+measures+" FROM filter_daily"+head+geo+
					" AND day BETWEEN "+ph(string(sg.from))+" AND "+ph(string(sg.to)))
			}
		}
		src := "(SELECT " + keys + ", SUM(orders) AS orders, SUM(units) AS units, SUM(gross) AS gross, SUM(discount) AS discount, " +
			"SUM(refunded) AS refunded, SUM(net) AS net FROM (" + strings.Join(parts, " UNION ALL ") + ") u GROUP BY " + keys + ") t"
		return src, "t.publisher_id = $1", args
	}
	// productGeoGrain.
	keys := "product_id, country, channel, connector_id, publisher_id"
	var parts []string
	for _, sg := range segments(from, to, dataEnd) {
		if sg.monthly {
			geo, a := f.geoConds(args)
			only, a := productList("product_id", f.Products, a)
			args = a
			parts = append(parts, "SELECT "+keys+", "+lineMeasures+" FROM product_geo_monthly WHERE publisher_id = $1"+geo+only+
				" AND month BETWEEN "+ph(string(sg.from)[:7])+" AND "+ph(string(sg.to)[:7]))
		} else {
			var lines string
			lines, args = f.bookedLines(args, refundDate, sg.from, sg.to)
			parts = append(parts, "SELECT "+keys+", "+lineMeasures+" FROM ("+lines+") e")
		}
	}
	src := "(SELECT " + keys + ", SUM(units) AS units, SUM(gross) AS gross, SUM(discount) AS discount, " +
		"SUM(refunded) AS refunded, SUM(net) AS net FROM (" + strings.Join(parts, " UNION ALL ") + ") u GROUP BY " + keys + ") t"
	product := Filter{GameIPs: f.GameIPs, Assets: f.Assets, Categories: f.Categories}
	join := needProducts || product.productLevel()
	if join {
		src += " JOIN products p ON p.publisher_id = t.publisher_id AND p.id = t.product_id"
	}
	cond, args := product.conds([]string{"t.publisher_id = $1"}, args, join)
	return src, cond, args
}
