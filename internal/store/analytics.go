package store

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
)

// Summary is the headline of a period, in the reporting currency.
type Summary struct {
	Gross    int64
	Discount int64
	Refunded int64
	Net      int64
	Orders   int64
	Units    int64
	// OrderlessNet is the part of Net from totals without orders (Amazon
	// Vendor Central's sell-through): included in revenue, left out of
	// average order value.
	OrderlessNet int64
}

// AverageOrderValue is the net revenue of sales with orders per distinct
// order, 0 without orders.
func (m Summary) AverageOrderValue() int64 {
	if m.Orders == 0 {
		return 0
	}
	return (m.Net - m.OrderlessNet) / m.Orders
}

// Filter narrows analytics to some game IPs, assets, categories, channels,
// connectors and countries. Empty lists do not filter. Within a list values
// are alternatives; lists combine with AND.
type Filter struct {
	GameIPs    []string
	Assets     []string
	Categories []string
	Channels   []string
	Connectors []string
	Countries  []string
	// Products restricts to these product ids (the asset comparison uses it
	// to read only the products of the compared assets).
	Products []string
}

// productLevel reports whether the filter selects products.
func (f Filter) productLevel() bool {
	return len(f.GameIPs) > 0 || len(f.Assets) > 0 || len(f.Categories) > 0 || len(f.Products) > 0
}

// geoLevel reports whether the filter selects countries, channels or
// connectors.
func (f Filter) geoLevel() bool {
	return len(f.Countries) > 0 || len(f.Channels) > 0 || len(f.Connectors) > 0
}

// where builds the filter's conditions on a rollup or sales table aliased
// t (with day, product_id, country, channel, connector_id columns),
// appending arguments after args. Product conditions need products aliased
// p joined; they are skipped when withProducts is false.
func (f Filter) where(args []any, from, to phantomos.Day, withProducts bool) (string, []any) {
	// The publisher is always $1, already in args.
	conds := []string{"t.publisher_id = $1", fmt.Sprintf("t.day BETWEEN $%d AND $%d", len(args)+1, len(args)+2)}
	args = append(args, string(from), string(to))
	return f.conds(conds, args, withProducts)
}

// conds appends the filter's conditions to conds (see where).
func (f Filter) conds(conds []string, args []any, withProducts bool) (string, []any) {
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		ph := make([]string, len(vals))
		for i, v := range vals {
			args = append(args, v)
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		conds = append(conds, col+" IN ("+strings.Join(ph, ", ")+")")
	}
	in("t.country", f.Countries)
	in("t.channel", f.Channels)
	in("t.connector_id", f.Connectors)
	if withProducts {
		in("t.product_id", f.Products)
		in("p.category", f.Categories)
		in("p.game_ip_id", f.GameIPs)
		if len(f.Assets) > 0 {
			ph := make([]string, len(f.Assets))
			for i, v := range f.Assets {
				args = append(args, v)
				ph[i] = fmt.Sprintf("$%d", len(args))
			}
			conds = append(conds, "EXISTS (SELECT 1 FROM product_assets pa WHERE pa.publisher_id = t.publisher_id AND pa.product_id = t.product_id AND pa.asset_id IN ("+strings.Join(ph, ", ")+"))")
		}
	}
	return strings.Join(conds, " AND "), args
}

// grain is a family of rollups.
type grain int

const (
	fullGrain       grain = iota // the sale lines themselves (bookedLines): day × product × country × channel × connector
	productGrain                 // product_daily/product_monthly: day × product
	geoGrain                     // geo_daily/geo_monthly: day × country × channel × connector
	filterGrain                  // filter_daily/filter_monthly: one product filter value × day × place (filter_rollup.go)
	productGeoGrain              // product_geo_monthly, the lines at the edges: product × place (filter_rollup.go)
)

// lineMeasures are the amounts of bookedLines, and of the sources rollup
// builds from it: they have no orders column, since distinct orders of
// lines come from the lines themselves (see Totals).
const lineMeasures = "units, gross, discount, refunded, net"

// bookedLines returns publisher $1's sale lines of the days from..to as the
// rollups book them, as a relation with the columns publisher_id, day,
// product_id, country, channel, connector_id and lineMeasures: one row per
// line on its order's day and, when refunds are booked on the refund date
// (refundDate), the refund of a line whose refund has a day of its own as a
// row of its own on that day (see bookedSales). The filter's places and
// product list apply inside, where the sales indexes serve them; its other
// product conditions are the caller's. The arguments are appended to args.
//
// There is no rollup at this grain: day × product × place has about a row
// per line, so one would cost a line's worth of writing for every line
// imported and save no reading.
func (f Filter) bookedLines(args []any, refundDate bool, from, to phantomos.Day) (string, []any) {
	args = append(args, string(from), string(to))
	span := fmt.Sprintf(" BETWEEN $%d AND $%d", len(args)-1, len(args))
	geo, args := f.geoConds(args)
	only, args := productList("product_id", f.Products, args)
	cols := "publisher_id, day, product_id, country, channel, connector_id"
	if !refundDate {
		return "SELECT " + cols + ", quantity AS units, gross_reporting AS gross, discount_reporting AS discount, " +
			"refunded_reporting AS refunded, net_reporting AS net FROM sales WHERE publisher_id = $1 AND day" + span + geo + only, args
	}
	return "SELECT " + cols + ", quantity AS units, gross_reporting AS gross, discount_reporting AS discount, " +
		"CASE WHEN " + refundMoved + " THEN 0 ELSE refunded_reporting END AS refunded, " +
		"CASE WHEN " + refundMoved + " THEN net_reporting + refunded_reporting ELSE net_reporting END AS net " +
		"FROM sales WHERE publisher_id = $1 AND day" + span + geo + only +
		" UNION ALL SELECT publisher_id, refund_day, product_id, country, channel, connector_id, 0, 0, 0, refunded_reporting, -refunded_reporting " +
		"FROM sales WHERE publisher_id = $1 AND refund_day" + span + " AND " + refundMoved + geo + only, args
}

// rollup returns a FROM clause, aliased t, of the coarsest rollup that
// answers filter f over from..to, with products joined as p when the filter
// or the caller (needProducts) needs them, and the conditions and
// arguments to use with it. Whole months of the range are read from the
// monthly tables and the partial months at its edges from the daily ones;
// byDay reads day rows from the daily table alone. Product questions with a
// geographic filter, or the reverse, read the lines (bookedLines, under
// the publisher's refund booking refundDate); their sources have no orders
// column.
//
// dataEnd is the last day with sales: a trailing month cut short by "to" is
// still read whole from the monthly table when nothing was sold after "to"
// (month to date, the usual case).
func (f Filter) rollup(g grain, pub phantomos.PublisherID, refundDate bool, from, to, dataEnd phantomos.Day, byDay, needProducts bool) (string, string, []any) {
	if g == productGeoGrain && byDay {
		// Day rows of products by place are the lines'.
		g = fullGrain
	}
	if g == filterGrain || g == productGeoGrain {
		return f.filterRollup(g, pub, refundDate, from, to, dataEnd, byDay, needProducts)
	}
	args := []any{pub}
	join := ""
	if needProducts || f.productLevel() {
		join = " JOIN products p ON p.publisher_id = t.publisher_id AND p.id = t.product_id"
	}
	if g == fullGrain {
		lines, args := f.bookedLines(args, refundDate, from, to)
		if byDay {
			product := Filter{GameIPs: f.GameIPs, Assets: f.Assets, Categories: f.Categories}
			cond, args := product.conds([]string{"t.publisher_id = $1"}, args, join != "")
			return "(" + lines + ") t" + join, cond, args
		}
		// Sum the days away first, within the geographic filter, so that
		// products are joined once per product and place rather than once
		// per line (a year is millions of lines).
		keys := "t.product_id, t.country, t.channel, t.connector_id, t.publisher_id"
		src := "(SELECT " + keys + ", SUM(t.units) AS units, SUM(t.gross) AS gross, SUM(t.discount) AS discount, " +
			"SUM(t.refunded) AS refunded, SUM(t.net) AS net FROM (" + lines + ") t GROUP BY " + keys + ") t"
		product := Filter{GameIPs: f.GameIPs, Assets: f.Assets, Categories: f.Categories}
		cond, args := product.conds([]string{"t.publisher_id = $1"}, args, join != "")
		return src + join, cond, args
	}
	table, cols := "product", "product_id"
	if g == geoGrain {
		table, cols = "geo", "country, channel, connector_id"
	}
	if byDay {
		// Day rows are read straight from the daily table, so the planner
		// sees its indexes: the day range is a run of the primary key, a
		// few products over many days are the covering product index.
		cond, args := f.where(args, from, to, join != "")
		if g == productGrain && join == "" {
			// where adds the product list only with products joined.
			var only string
			only, args = productList("t.product_id", f.Products, args)
			cond += only
		}
		return table + "_daily t" + join, cond, args
	}
	measures := "orders, units, gross, discount, refunded, net"
	ph := func(v string) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	// Restricting to given products belongs inside the parts, before they
	// are summed.
	only := ""
	if g == productGrain {
		only, args = productList("product_id", f.Products, args)
	}
	var parts []string
	end := to
	if dataEnd != "" && dataEnd <= to && monthStart(dataEnd) == monthStart(to) {
		end = addDays(nextMonth(to), -1)
	}
	firstWhole, lastWhole := wholeMonths(from, end)
	if firstWhole == "" {
		parts = append(parts, fmt.Sprintf("SELECT publisher_id, day, %s, %s FROM %s_daily WHERE publisher_id = $1 AND day BETWEEN %s AND %s%s",
			cols, measures, table, ph(string(from)), ph(string(to)), only))
	} else {
		parts = append(parts, fmt.Sprintf("SELECT publisher_id, %s, %s FROM %s_monthly WHERE publisher_id = $1 AND month BETWEEN %s AND %s%s",
			cols, measures, table, ph(string(firstWhole)[:7]), ph(string(lastWhole)[:7]), only))
		if from < firstWhole {
			before := addDays(firstWhole, -1)
			parts = append(parts, fmt.Sprintf("SELECT publisher_id, %s, %s FROM %s_daily WHERE publisher_id = $1 AND day BETWEEN %s AND %s%s",
				cols, measures, table, ph(string(from)), ph(string(before)), only))
		}
		if last := addDays(nextMonth(lastWhole), -1); last < to {
			after := nextMonth(lastWhole)
			parts = append(parts, fmt.Sprintf("SELECT publisher_id, %s, %s FROM %s_daily WHERE publisher_id = $1 AND day BETWEEN %s AND %s%s",
				cols, measures, table, ph(string(after)), ph(string(to)), only))
		}
	}
	// Sum the parts per key before any join, so the join meets one row per
	// product (or place) rather than one per day or month.
	cond, args := f.conds([]string{"t.publisher_id = $1"}, args, join != "")
	// The publisher is the same on every row: grouping by it last keeps
	// the sort from comparing its long id first on every comparison.
	keys := cols + ", publisher_id"
	src := "(SELECT " + keys + ", SUM(orders) AS orders, SUM(units) AS units, SUM(gross) AS gross, SUM(discount) AS discount, " +
		"SUM(refunded) AS refunded, SUM(net) AS net FROM (" + strings.Join(parts, " UNION ALL ") + ") u GROUP BY " + keys + ") t"
	return src + join, cond, args
}

// productList returns the condition " AND col IN (...)" restricting col to
// ids, with the ids appended to args as its arguments, or "" when ids is
// empty.
func productList(col string, ids []string, args []any) (string, []any) {
	if len(ids) == 0 {
		return "", args
	}
	ph := make([]string, len(ids))
	for i, id := range ids {
		args = append(args, id)
		ph[i] = fmt.Sprintf("$%d", len(args))
	}
	return " AND " + col + " IN (" + strings.Join(ph, ", ") + ")", args
}

// wholeMonths returns the first days of the first and last calendar months
// lying wholly within from..to, or "" when there is none.
func wholeMonths(from, to phantomos.Day) (first, last phantomos.Day) {
	first = monthStart(from)
	if first < from {
		first = nextMonth(first)
	}
	last = monthStart(to)
	if addDays(nextMonth(last), -1) > to {
		last = phantomos.DayOf(last.Time().AddDate(0, -1, 0), time.UTC)
	}
	if last < first {
		return "", ""
	}
	return first, last
}

// pick chooses the grain for a question about products (wantProducts) or
// geography (wantGeo) under f.
func (f Filter) pick(wantProducts, wantGeo bool) grain {
	products := wantProducts || f.productLevel()
	geo := wantGeo || f.geoLevel()
	switch {
	case products && geo:
		return fullGrain
	case products:
		return productGrain
	}
	return geoGrain
}

// pickGrain is pick with the filter rollups: a question about places under
// one category, game IP or asset reads filter_daily/filter_monthly, and a
// question about products under a place filter reads product_geo_monthly,
// when they are current for pub (FilterRollupsCurrent); otherwise pick's
// choice, which reads the lines.
func (s *Store) pickGrain(ctx context.Context, pub phantomos.PublisherID, f Filter, wantProducts, wantGeo bool) (grain, error) {
	g := f.pick(wantProducts, wantGeo)
	if g != fullGrain && g != productGrain {
		return g, nil
	}
	_, _, single := f.single()
	switch {
	case !wantProducts && single:
		// filterGrain
	case g == fullGrain && (wantProducts || f.productLevel()) && f.geoLevel():
		g = productGeoGrain
	default:
		return g, nil
	}
	ok, err := s.FilterRollupsCurrent(ctx, pub)
	if err != nil || !ok {
		return f.pick(wantProducts, wantGeo), err
	}
	if g != productGeoGrain {
		g = filterGrain
	}
	return g, nil
}

// Totals returns the headline figures of publisher pub for days from..to
// (inclusive) under filter f. Orders are distinct orders: exact from the
// order rollup when f selects no products, from the filter rollups when it
// selects one category, game IP or asset and they are current, and counted
// from the sales table otherwise (an order with two matching products
// counts once).
func (s *Store) Totals(ctx context.Context, pub phantomos.PublisherID, from, to phantomos.Day, f Filter) (Summary, error) {
	var m Summary
	g, err := s.pickGrain(ctx, pub, f, false, false)
	if err != nil {
		return m, err
	}
	end, err := s.dataEnd(ctx, pub)
	if err != nil {
		return m, err
	}
	refundDate, err := s.lineBooking(ctx, pub, g)
	if err != nil {
		return m, err
	}
	src, cond, args := f.rollup(g, pub, refundDate, from, to, end, false, false)
	orders := "0"
	if g == geoGrain || g == filterGrain {
		orders = "COALESCE(SUM(t.orders), 0)"
	}
	err = s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(t.gross), 0), COALESCE(SUM(t.discount), 0), COALESCE(SUM(t.refunded), 0),
			COALESCE(SUM(t.net), 0), COALESCE(SUM(t.units), 0), `+orders+`
		FROM `+src+` WHERE `+cond, args...).Scan(&m.Gross, &m.Discount, &m.Refunded, &m.Net, &m.Units, &m.Orders)
	if err != nil {
		return m, fmt.Errorf("store: totals: %w", err)
	}
	if g != geoGrain && g != filterGrain {
		// Distinct orders over a set of products: an order with two matching
		// products counts once, which no product rollup can tell.
		// The products come first (CROSS JOIN keeps SQLite to that order;
		// PostgreSQL plans by its statistics either way): then each one's
		// lines of the range are a run of the sales_product_orders index,
		// which holds the order key, instead of every line of the range
		// looked up in the table.
		cond, args := f.where([]any{pub}, from, to, true)
		err = s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT DISTINCT t.connector_id, t.external_order_id
			FROM products p CROSS JOIN sales t
			WHERE p.publisher_id = $1 AND t.product_id = p.id AND t.has_order AND `+cond+`) o`, args...).Scan(&m.Orders)
		if err != nil {
			return m, fmt.Errorf("store: totals orders: %w", err)
		}
	}
	// Totals without orders are few (a line per product and day of a
	// platform that reports no orders), read through their own index.
	join := ""
	if f.productLevel() {
		join = " JOIN products p ON p.publisher_id = t.publisher_id AND p.id = t.product_id"
	}
	cond, args = f.where([]any{pub}, from, to, join != "")
	err = s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(t.net_reporting), 0) FROM sales t`+join+`
		WHERE t.has_order = FALSE AND `+cond, args...).Scan(&m.OrderlessNet)
	if err != nil {
		return m, fmt.Errorf("store: totals without orders: %w", err)
	}
	return m, nil
}

// Summary returns the unfiltered totals of publisher pub for days from..to.
func (s *Store) Summary(ctx context.Context, pub phantomos.PublisherID, from, to phantomos.Day) (Summary, error) {
	return s.Totals(ctx, pub, from, to, Filter{})
}

// DayValue is one day's net revenue.
type DayValue struct {
	Day phantomos.Day
	Net int64
}

// DailyNet returns net revenue per day of publisher pub for days from..to
// under f, oldest first; days without sales are absent.
func (s *Store) DailyNet(ctx context.Context, pub phantomos.PublisherID, from, to phantomos.Day, f Filter) ([]DayValue, error) {
	g, err := s.pickGrain(ctx, pub, f, false, false)
	if err != nil {
		return nil, err
	}
	refundDate, err := s.lineBooking(ctx, pub, g)
	if err != nil {
		return nil, err
	}
	src, cond, args := f.rollup(g, pub, refundDate, from, to, "", true, false)
	rows, err := s.db.QueryContext(ctx, `SELECT t.day, SUM(t.net) FROM `+src+` WHERE `+cond+` GROUP BY t.day ORDER BY t.day`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: daily net: %w", err)
	}
	defer rows.Close()
	var out []DayValue
	for rows.Next() {
		var d sql.NullTime
		var v DayValue
		if err := rows.Scan(&d, &v.Net); err != nil {
			return nil, fmt.Errorf("store: daily net: %w", err)
		}
		v.Day = phantomos.Day(d.Time.Format("2006-01-02"))
		out = append(out, v)
	}
	return out, rows.Err()
}

// MonthValue is one month's figure.
type MonthValue struct {
	Month string // "2006-01"
	Value int64
}

// MonthlyNet returns net revenue per calendar month of publisher pub for
// the days from..to, oldest first. Months without sales are absent.
func (s *Store) MonthlyNet(ctx context.Context, pub phantomos.PublisherID, from, to phantomos.Day) ([]MonthValue, error) {
	days, err := s.DailyNet(ctx, pub, from, to, Filter{})
	if err != nil {
		return nil, err
	}
	var out []MonthValue
	for _, d := range days {
		m := string(d.Day[:7])
		if n := len(out); n > 0 && out[n-1].Month == m {
			out[n-1].Value += d.Net
		} else {
			out = append(out, MonthValue{m, d.Net})
		}
	}
	return out, nil
}

// Dimension is what a breakdown groups by.
type Dimension string

// The breakdown dimensions.
const (
	ByCategory  Dimension = "category"
	ByProduct   Dimension = "product"
	ByCountry   Dimension = "country"
	ByChannel   Dimension = "channel"
	ByConnector Dimension = "connector"
	ByGameIP    Dimension = "game_ip"
)

// BreakdownRow is one group of a breakdown.
type BreakdownRow struct {
	Key   string // category, product id, country code, channel, connector id, game IP id ("" = none)
	Label string // a display name where the key is an id
	Net   int64
	Gross int64
	Units int64
}

// Breakdown returns net revenue of publisher pub for days from..to under f,
// grouped by dim, largest first.
func (s *Store) Breakdown(ctx context.Context, pub phantomos.PublisherID, from, to phantomos.Day, f Filter, dim Dimension) ([]BreakdownRow, error) {
	var key, label, join string
	label = "''"
	needProducts := false
	switch dim {
	case ByCategory:
		key, needProducts = "p.category", true
	case ByProduct:
		key, label, needProducts = "CAST(t.product_id AS TEXT)", "MIN(p.name)", true
	case ByCountry:
		key = "t.country"
	case ByChannel:
		key = "t.channel"
	case ByConnector:
		key, label, join = "CAST(t.connector_id AS TEXT)", "MIN(c.name)", " JOIN connectors c ON c.publisher_id = t.publisher_id AND c.id = t.connector_id"
	case ByGameIP:
		key, label, needProducts = "COALESCE(CAST(p.game_ip_id AS TEXT), '')", "COALESCE(MIN(g.name), '')", true
		join = " LEFT JOIN game_ips g ON g.publisher_id = p.publisher_id AND g.id = p.game_ip_id"
	default:
		return nil, phantomos.Errorf(phantomos.EINVALID, "Unknown breakdown %q.", dim)
	}
	end, err := s.dataEnd(ctx, pub)
	if err != nil {
		return nil, err
	}
	g, err := s.pickGrain(ctx, pub, f, needProducts, !needProducts)
	if err != nil {
		return nil, err
	}
	refundDate, err := s.lineBooking(ctx, pub, g)
	if err != nil {
		return nil, err
	}
	src, cond, args := f.rollup(g, pub, refundDate, from, to, end, false, needProducts)
	rows, err := s.db.QueryContext(ctx, `SELECT `+key+` AS k, `+label+`, SUM(t.net), SUM(t.gross), SUM(t.units)
		FROM `+src+join+` WHERE `+cond+` GROUP BY k`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: breakdown by %s: %w", dim, err)
	}
	defer rows.Close()
	var out []BreakdownRow
	for rows.Next() {
		var r BreakdownRow
		if err := rows.Scan(&r.Key, &r.Label, &r.Net, &r.Gross, &r.Units); err != nil {
			return nil, fmt.Errorf("store: breakdown by %s: %w", dim, err)
		}
		if r.Label == "" {
			r.Label = r.Key
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Net != out[j].Net {
			return out[i].Net > out[j].Net
		}
		return out[i].Key < out[j].Key
	})
	return out, rows.Err()
}

// AssetLink is a confirmed link of a product to an asset, for attribution.
type AssetLink struct {
	ProductID string
	AssetID   string
	IsPrimary bool
	Weight    float64
}

// ConfirmedLinks returns the asset links of publisher pub's confirmed
// products, ordered by product and asset.
func (s *Store) ConfirmedLinks(ctx context.Context, pub phantomos.PublisherID) ([]AssetLink, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT CAST(pa.product_id AS TEXT), CAST(pa.asset_id AS TEXT), pa.is_primary, pa.weight
		FROM product_assets pa JOIN products p ON p.publisher_id = pa.publisher_id AND p.id = pa.product_id
		WHERE pa.publisher_id = $1 AND p.mapping_status = 'confirmed'
		ORDER BY pa.product_id, pa.asset_id`, pub)
	if err != nil {
		return nil, fmt.Errorf("store: links: %w", err)
	}
	defer rows.Close()
	var out []AssetLink
	for rows.Next() {
		var l AssetLink
		if err := rows.Scan(&l.ProductID, &l.AssetID, &l.IsPrimary, &l.Weight); err != nil {
			return nil, fmt.Errorf("store: links: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// ProductBucket is one product's net revenue in one bucket (a day, a week
// starting Monday, or a month), keyed by the bucket's first day.
type ProductBucket struct {
	Start     phantomos.Day
	ProductID string
	Net       int64
}

// ProductNetByBucket returns net revenue per product and bucket of grain
// ("day", "week" or "month") of publisher pub for days from..to under f,
// for attribution over time, ordered by bucket and product.
//
// The covering product index yields a few products over many days
// without touching the table.
func (s *Store) ProductNetByBucket(ctx context.Context, pub phantomos.PublisherID, from, to phantomos.Day, f Filter, grain string) ([]ProductBucket, error) {
	g := f.pick(true, false)
	src, cond, args, weekly := "", "", []any(nil), false
	if grain == "week" && g == productGrain {
		src, cond, args, weekly = f.weekly(pub, from, to)
	}
	if !weekly {
		refundDate, err := s.lineBooking(ctx, pub, g)
		if err != nil {
			return nil, err
		}
		src, cond, args = f.rollup(g, pub, refundDate, from, to, "", true, false)
	}
	// On SQLite days and weeks are summed here: product_daily has one row
	// per day and product already, and a GROUP BY, let alone a date function
	// per row, costs it more than reading the rows. PostgreSQL groups for
	// less than the Go side decodes the rows, so it sums weeks and months.
	// Rows of product_weekly are a week each already.
	q := `SELECT ` + s.dialect.dayOut("t.day") + `, CAST(t.product_id AS TEXT), t.net FROM ` + src + ` WHERE ` + cond
	pgWeeks := grain == "week" && s.dialect == Postgres && !weekly
	switch {
	case pgWeeks:
		// Weeks numbered from Monday 1900-01-01 by date arithmetic, which
		// costs PostgreSQL less than date_trunc.
		q = `SELECT (t.day - DATE '1900-01-01') / 7 AS b, CAST(t.product_id AS TEXT), SUM(t.net) FROM ` + src + ` WHERE ` + cond + `
			GROUP BY t.product_id, b`
	case grain == "month":
		q = `SELECT ` + s.dialect.bucket("t.day", grain) + ` AS b, CAST(t.product_id AS TEXT), SUM(t.net) FROM ` + src + ` WHERE ` + cond + `
			GROUP BY t.product_id, b`
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: product net by %s: %w", grain, err)
	}
	defer rows.Close()
	type key struct {
		start   phantomos.Day
		product string
	}
	// A year of days for a few dozen products is tens of thousands of
	// rows: read them into reused buffers and keep one string per distinct
	// day and product.
	sums := make(map[key]int64, 4096)
	starts := make(map[string]phantomos.Day, 512)
	products := make(map[string]string, max(len(f.Products), 64))
	var day, product sql.RawBytes
	var net int64
	for rows.Next() {
		if err := rows.Scan(&day, &product, &net); err != nil {
			return nil, fmt.Errorf("store: product net by %s: %w", grain, err)
		}
		start, ok := starts[string(day)]
		if !ok {
			switch {
			case pgWeeks:
				n, err := strconv.Atoi(string(day))
				if err != nil {
					return nil, fmt.Errorf("store: product net by week: %w", err)
				}
				start = phantomos.DayOf(time.Date(1900, 1, 1+7*n, 0, 0, 0, 0, time.UTC), time.UTC)
			case len(day) < 10:
				return nil, fmt.Errorf("store: product net by %s: unexpected day %q", grain, day)
			case grain == "week":
				start = weekStart(phantomos.Day(day[:10]))
			default:
				start = phantomos.Day(day[:10])
			}
			starts[string(day)] = start
		}
		id, ok := products[string(product)]
		if !ok {
			id = string(product)
			products[id] = id
		}
		sums[key{start, id}] += net
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: product net by %s: %w", grain, err)
	}
	out := make([]ProductBucket, 0, len(sums))
	for k, v := range sums {
		out = append(out, ProductBucket{Start: k.start, ProductID: k.product, Net: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Start != out[j].Start {
			return out[i].Start < out[j].Start
		}
		return out[i].ProductID < out[j].ProductID
	})
	return out, nil
}

// weekly returns, for a question by week about products (no geographic
// filter), a FROM clause aliased t with the columns day, product_id and net
// that reads the whole weeks of from..to from product_weekly (day is the
// Monday) and the days of the partial weeks at its edges from
// product_daily, with the filter's conditions and arguments. ok is false
// when the range holds no whole week.
func (f Filter) weekly(pub phantomos.PublisherID, from, to phantomos.Day) (src, cond string, args []any, ok bool) {
	first := weekStart(from)
	if first < from {
		first = addDays(first, 7)
	}
	last := weekStart(to)
	if addDays(last, 6) > to {
		last = addDays(last, -7)
	}
	if last < first {
		return "", "", nil, false
	}
	only, args := productList("product_id", f.Products, []any{pub})
	ph := func(v phantomos.Day) string {
		args = append(args, string(v))
		return fmt.Sprintf("$%d", len(args))
	}
	parts := []string{fmt.Sprintf("SELECT publisher_id, week AS day, product_id, net FROM product_weekly WHERE publisher_id = $1 AND week BETWEEN %s AND %s%s",
		ph(first), ph(last), only)}
	days := func(a, b phantomos.Day) {
		parts = append(parts, fmt.Sprintf("SELECT publisher_id, day, product_id, net FROM product_daily WHERE publisher_id = $1 AND day BETWEEN %s AND %s%s",
			ph(a), ph(b), only))
	}
	if from < first {
		days(from, addDays(first, -1))
	}
	if after := addDays(last, 7); after <= to {
		days(after, to)
	}
	// The product list is applied inside the parts; the other product
	// conditions need the product joined.
	rest := Filter{GameIPs: f.GameIPs, Assets: f.Assets, Categories: f.Categories}
	src = "(" + strings.Join(parts, " UNION ALL ") + ") t"
	if rest.productLevel() {
		src += " JOIN products p ON p.publisher_id = t.publisher_id AND p.id = t.product_id"
	}
	cond, args = rest.conds([]string{"t.publisher_id = $1"}, args, rest.productLevel())
	return src, cond, args, true
}

// weekStart returns the Monday of d's week.
func weekStart(d phantomos.Day) phantomos.Day {
	t := d.Time()
	return phantomos.DayOf(t.AddDate(0, 0, -((int(t.Weekday())+6)%7)), time.UTC)
}

// addDays returns the day n days after d (before it when n < 0).
func addDays(d phantomos.Day, n int) phantomos.Day {
	return phantomos.DayOf(d.Time().AddDate(0, 0, n), time.UTC)
}

// dayOut returns an expression reading a DATE column for Scan into any:
// PostgreSQL sends a date, SQLite its text (which the driver would
// otherwise parse into a time on every row).
func (d Dialect) dayOut(col string) string {
	if d == Postgres {
		return col
	}
	return "('' || " + col + ")"
}

// SalesSpan returns the first and last days on which publisher pub has
// sales, both "" when it has none: where its data lies, for pages whose
// range holds none of it.
func (s *Store) SalesSpan(ctx context.Context, pub phantomos.PublisherID) (from, to phantomos.Day, err error) {
	var f, t sql.NullString
	err = s.db.QueryRowContext(ctx, `SELECT `+s.DayText("MIN(day)")+`, `+s.DayText("MAX(day)")+` FROM geo_daily WHERE publisher_id = $1`, pub).Scan(&f, &t)
	if err != nil {
		return "", "", fmt.Errorf("store: sales span: %w", err)
	}
	return phantomos.Day(f.String), phantomos.Day(t.String), nil
}

// lineBooking reports whether publisher pub books refunds on the refund
// date, for a read at grain g: only reads of the lines (fullGrain, and the
// edges of productGeoGrain) need it, the rollups are booked already.
func (s *Store) lineBooking(ctx context.Context, pub phantomos.PublisherID, g grain) (bool, error) {
	if g != fullGrain && g != productGeoGrain {
		return false, nil
	}
	var settings string
	if err := s.db.QueryRowContext(ctx, `SELECT CAST(settings AS TEXT) FROM publishers WHERE id = $1`, pub).Scan(&settings); err != nil {
		return false, notFound(err, "Publisher")
	}
	return parseRefundBooking(settings)
}

// dataEnd returns the last day on which publisher pub has sales, "" when
// it has none.
func (s *Store) dataEnd(ctx context.Context, pub phantomos.PublisherID) (phantomos.Day, error) {
	var d sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT `+s.DayText("MAX(day)")+` FROM geo_daily WHERE publisher_id = $1`, pub).Scan(&d)
	if err != nil {
		return "", fmt.Errorf("store: last sales day: %w", err)
	}
	return phantomos.Day(d.String), nil
}
