package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/phantomos/phantomos"
)

// The lines of the orders an import creates are summed into the rollups'
// deltas in memory, as they are inserted, instead of being read back from
// sales and grouped by SQL when the import ends. A first backfill is all
// new orders, and reading its lines back, grouping them in a temporary
// table and grouping that again for each rollup made the fold 40% of an
// import (for 200,000 lines on SQLite, 3.9 s of 9.6; reading and grouping
// the lines back 1.5 s of it). The orders the import changed
// keep their SQL deltas (rollup_delta.go); their sums join these before
// the rollups take them, one sorted upsert per rollup.
//
// Only the lines of new orders are summed here: those the import inserts
// (insertFreshSales) and nothing else changes while it runs, except an
// order it deletes again (DeleteOrders, RemoveOrders), whose days are then
// recomputed from sales after the deltas are in, as before.

// maxFoldLines bounds the lines whose contributions an import sums in
// memory (about 70 bytes each at most); an import of more sums them by SQL
// at its end instead, as it did for all.
const maxFoldLines = 1 << 20

// foldLimit returns the lines an import of s may sum in memory.
func (s *Store) foldLimit() int {
	if s.foldLines != 0 {
		return s.foldLines
	}
	return maxFoldLines
}

// foldPlace is where an order is booked: its day, country, channel and
// connector.
type foldPlace struct {
	day                         phantomos.Day
	country, channel, connector string
}

// foldSums are the amounts of a rollup row.
type foldSums struct{ orders, units, gross, discount, refunded, net int64 }

func (a *foldSums) add(b *foldSums) {
	a.orders += b.orders
	a.units += b.units
	a.gross += b.gross
	a.discount += b.discount
	a.refunded += b.refunded
	a.net += b.net
}

// values returns the amounts in the rollups' column order.
func (a *foldSums) values() []int64 {
	return []int64{a.orders, a.units, a.gross, a.discount, a.refunded, a.net}
}

// foldGroup is a row of the finest grouping (ingest_fold_sales): a place
// and a product, by their numbers in the fold.
type foldGroup struct{ place, product int32 }

// rollupFold holds the summed deltas: per place and product, and the
// orders per place. Places and products are numbered, so that what it
// keeps per line (the orders already counted in a group) stays small.
type rollupFold struct {
	places     []foldPlace
	placeNum   map[foldPlace]int32
	products   []string
	productNum map[string]int32

	sales  map[foldGroup]*foldSums
	orders map[int32]int64

	// The orders counted in a group, and at a place: an order counts once
	// in each, whatever its lines there.
	counted map[orderInGroup]struct{}
	placed  map[orderAtPlace]struct{}
	lines   int
}

type orderInGroup struct {
	order string
	group foldGroup
}

type orderAtPlace struct {
	order string
	place int32
}

func newRollupFold() *rollupFold {
	return &rollupFold{
		placeNum: map[foldPlace]int32{}, productNum: map[string]int32{},
		sales: map[foldGroup]*foldSums{}, orders: map[int32]int64{},
		counted: map[orderInGroup]struct{}{}, placed: map[orderAtPlace]struct{}{},
	}
}

func (f *rollupFold) place(p foldPlace) int32 {
	n, ok := f.placeNum[p]
	if !ok {
		n = int32(len(f.places))
		f.places = append(f.places, p)
		f.placeNum[p] = n
	}
	return n
}

func (f *rollupFold) product(id string) int32 {
	n, ok := f.productNum[id]
	if !ok {
		n = int32(len(f.products))
		f.products = append(f.products, id)
		f.productNum[id] = n
	}
	return n
}

func (f *rollupFold) group(g foldGroup) *foldSums {
	s := f.sales[g]
	if s == nil {
		s = &foldSums{}
		f.sales[g] = s
	}
	return s
}

// addLine adds the contribution of a new line of connector's, under the
// refund booking refundDate, as perOrderContribution takes it from sales.
func (f *rollupFold) addLine(r *saleRecord, connector string, refundDate bool) {
	f.lines++
	p := f.place(foldPlace{r.day, r.country, r.channel, connector})
	g := foldGroup{p, f.product(r.productID)}
	s := f.group(g)
	s.units += r.quantity
	s.gross += r.grossR
	s.discount += r.discountR
	refunded, net := r.refR, r.netR
	// refundMoved: the refund is booked on its own day.
	if refundDate && r.refundDay != "" && r.refundDay != r.day && r.refR != 0 {
		rs := f.group(foldGroup{f.place(foldPlace{r.refundDay, r.country, r.channel, connector}), g.product})
		rs.refunded += r.refR
		rs.net -= r.refR
		net += refunded
		refunded = 0
	}
	s.refunded += refunded
	s.net += net
	if r.hasOrder {
		if k := (orderInGroup{r.orderID, g}); !inSet(f.counted, k) {
			f.counted[k] = struct{}{}
			s.orders++
		}
		if k := (orderAtPlace{r.orderID, p}); !inSet(f.placed, k) {
			f.placed[k] = struct{}{}
			f.orders[p]++
		}
	}
}

func inSet[K comparable](m map[K]struct{}, k K) bool {
	_, ok := m[k]
	return ok
}

// addFolded adds the rows of the SQL fold's tables (ingest_fold_sales and
// ingest_fold_orders).
func (f *rollupFold) addFolded(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT day, product_id, country, channel, connector_id, orders, units, gross, discount, refunded, net
		FROM ingest_fold_sales`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var day any
		var p foldPlace
		var product string
		var x foldSums
		if err := rows.Scan(&day, &product, &p.country, &p.channel, &p.connector, &x.orders, &x.units, &x.gross, &x.discount, &x.refunded, &x.net); err != nil {
			return err
		}
		if p.day, err = dayValue(day); err != nil {
			return err
		}
		f.group(foldGroup{f.place(p), f.product(product)}).add(&x)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	rows, err = tx.QueryContext(ctx, `SELECT day, country, channel, connector_id, orders FROM ingest_fold_orders`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var day any
		var p foldPlace
		var n int64
		if err := rows.Scan(&day, &p.country, &p.channel, &p.connector, &n); err != nil {
			return err
		}
		if p.day, err = dayValue(day); err != nil {
			return err
		}
		f.orders[f.place(p)] += n
	}
	return rows.Err()
}

// rollupRow is a row to add into a rollup: its key (after the publisher)
// and its amounts.
type rollupRow struct {
	key  []any
	sums foldSums
}

// apply adds the fold into every rollup of publisher pub, as addDeltas
// does, through tx on conn, and returns the days left with a row of zeros
// (see foldDeltas).
func (f *rollupFold) apply(ctx context.Context, conn *sql.Conn, tx *sql.Tx, d Dialect, pub phantomos.PublisherID) ([]phantomos.Day, error) {
	day := func(x phantomos.Day) any {
		if d == Postgres {
			return x.Time()
		}
		return string(x)
	}
	type geoKey struct {
		month                       string
		country, channel, connector string
	}
	type productKey struct {
		period  phantomos.Day // a day, a Monday or a month ("2006-01")
		product int32
	}
	productDaily := map[productKey]*foldSums{}
	productWeekly := map[productKey]*foldSums{}
	productMonthly := map[productKey]*foldSums{}
	geoDaily := map[int32]*foldSums{}
	geoMonthly := map[geoKey]*foldSums{}
	sum := func(m map[productKey]*foldSums, k productKey) *foldSums {
		s := m[k]
		if s == nil {
			s = &foldSums{}
			m[k] = s
		}
		return s
	}
	geoMonth := func(p int32) *foldSums {
		pl := f.places[p]
		k := geoKey{string(pl.day[:7]), pl.country, pl.channel, pl.connector}
		s := geoMonthly[k]
		if s == nil {
			s = &foldSums{}
			geoMonthly[k] = s
		}
		return s
	}
	for g, s := range f.sales {
		pl := f.places[g.place]
		sum(productDaily, productKey{pl.day, g.product}).add(s)
		sum(productWeekly, productKey{mondayOf(pl.day), g.product}).add(s)
		sum(productMonthly, productKey{pl.day[:7], g.product}).add(s)
		// A place's orders are its orders' (below), not its groups' sum.
		amounts := *s
		amounts.orders = 0
		gs := geoDaily[g.place]
		if gs == nil {
			gs = &foldSums{orders: f.orders[g.place]}
			geoDaily[g.place] = gs
		}
		gs.add(&amounts)
		geoMonth(g.place).add(&amounts)
	}
	for p, n := range f.orders {
		geoMonth(p).orders += n
	}

	products := func(m map[productKey]*foldSums, periodFirst bool, asDay bool) []rollupRow {
		out := make([]rollupRow, 0, len(m))
		for k, s := range m {
			var period any = string(k.period)
			if asDay {
				period = day(k.period)
			}
			key := []any{period, f.products[k.product]}
			if !periodFirst {
				key[0], key[1] = key[1], key[0]
			}
			out = append(out, rollupRow{key, *s})
		}
		return out
	}
	var daily, orders, geo, geoM []rollupRow
	for p, s := range geoDaily {
		pl := f.places[p]
		geo = append(geo, rollupRow{[]any{day(pl.day), pl.country, pl.channel, pl.connector}, *s})
	}
	for p, n := range f.orders {
		pl := f.places[p]
		orders = append(orders, rollupRow{[]any{day(pl.day), pl.country, pl.channel, pl.connector}, foldSums{orders: n}})
	}
	for k, s := range geoMonthly {
		geoM = append(geoM, rollupRow{[]any{k.month, k.country, k.channel, k.connector}, *s})
	}
	daily = products(productDaily, true, true)

	amounts := []string{"orders", "units", "gross", "discount", "refunded", "net"}
	adds := []struct {
		table   string
		keys    []string
		amounts []string
		rows    []rollupRow
		daily   bool // a daily rollup: rows it leaves all zero are reported
	}{
		{"orders_daily", []string{"day", "country", "channel", "connector_id"}, amounts[:1], orders, true},
		{"product_daily", []string{"day", "product_id"}, amounts, daily, true},
		{"geo_daily", []string{"day", "country", "channel", "connector_id"}, amounts, geo, true},
		{"product_weekly", []string{"product_id", "week"}, amounts, products(productWeekly, false, true), false},
		{"product_monthly", []string{"month", "product_id"}, amounts, products(productMonthly, true, false), false},
		{"geo_monthly", []string{"month", "country", "channel", "connector_id"}, amounts, geoM, false},
	}
	zero := map[phantomos.Day]struct{}{}
	for _, a := range adds {
		// In key order, the rows go into the rollup's index page after page.
		slices.SortFunc(a.rows, func(x, y rollupRow) int { return compareKeys(x.key, y.key) })
		// A row whose orders grow cannot end as zeros (stored orders are
		// never negative); only the others need their result back.
		var safe, unsafe []rollupRow
		for _, r := range a.rows {
			if !a.daily || r.sums.orders > 0 {
				safe = append(safe, r)
			} else {
				unsafe = append(unsafe, r)
			}
		}
		u := rollupUpsert{d: d, pub: pub, table: a.table, keys: a.keys, amounts: a.amounts}
		var err error
		if d == Postgres {
			err = u.copy(ctx, conn, tx, a.rows, len(unsafe) > 0, zero)
		} else if err = u.write(ctx, tx, safe, false, nil); err == nil {
			err = u.write(ctx, tx, unsafe, true, zero)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.table, err)
		}
	}
	days := make([]phantomos.Day, 0, len(zero))
	for d := range zero {
		days = append(days, d)
	}
	return days, nil
}

// mondayOf returns the Monday starting the week of day (weekOf in SQL).
func mondayOf(day phantomos.Day) phantomos.Day {
	t := day.Time()
	back := (int(t.Weekday()) + 6) % 7
	return phantomos.Day(t.AddDate(0, 0, -back).Format(time.DateOnly))
}

// compareKeys orders rollup keys as their index does: days (as times or
// text), months and ids as text.
func compareKeys(a, b []any) int {
	for i := range a {
		var c int
		switch x := a[i].(type) {
		case time.Time:
			c = x.Compare(b[i].(time.Time))
		case string:
			c = cmp.Compare(x, b[i].(string))
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// rollupUpsert adds rows into one rollup of a publisher, in statements of
// rollupChunk rows.
type rollupUpsert struct {
	d             Dialect
	pub           phantomos.PublisherID
	table         string
	keys, amounts []string
}

// copy adds rows (in key order) on PostgreSQL: they are copied into a
// temporary table, then added by one upsert, or, when some are unsafe (see
// apply), one for the safe rows and one for the others that returns their
// results (see write). Statements of a few hundred rows' parameters took
// three times as long for product_daily.
func (u rollupUpsert) copy(ctx context.Context, conn *sql.Conn, tx *sql.Tx, all []rollupRow, unsafe bool, zeros map[phantomos.Day]struct{}) error {
	if len(all) == 0 {
		return nil
	}
	temp := "ingest_add_" + u.table
	cols := append(append([]string{"publisher_id"}, u.keys...), u.amounts...)
	if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE `+temp+` ON COMMIT DROP AS SELECT `+strings.Join(cols, ", ")+` FROM `+u.table+` WITH NO DATA`); err != nil {
		return err
	}
	err := conn.Raw(func(dc any) error {
		i := -1
		src := pgx.CopyFromFunc(func() ([]any, error) {
			i++
			if i >= len(all) {
				return nil, nil
			}
			r := &all[i]
			row := make([]any, 0, len(cols))
			row = append(row, string(u.pub))
			row = append(row, r.key...)
			for _, v := range r.sums.values()[:len(u.amounts)] {
				row = append(row, v)
			}
			return row, nil
		})
		_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{temp}, cols, src)
		return err
	})
	if err != nil {
		return err
	}
	set := make([]string, len(u.amounts))
	for i, c := range u.amounts {
		set[i] = c + " = " + u.table + "." + c + " + excluded." + c
	}
	upsert := func(where string) string {
		return `INSERT INTO ` + u.table + ` (` + strings.Join(cols, ", ") + `) SELECT ` + strings.Join(cols, ", ") + ` FROM ` + temp + where +
			` ON CONFLICT (publisher_id, ` + strings.Join(u.keys, ", ") + `) DO UPDATE SET ` + strings.Join(set, ", ")
	}
	if !unsafe {
		_, err := tx.ExecContext(ctx, upsert(""))
		return err
	}
	if _, err := tx.ExecContext(ctx, upsert(` WHERE orders > 0`)); err != nil {
		return err
	}
	res, err := tx.QueryContext(ctx, upsert(` WHERE orders <= 0`)+` RETURNING day, `+strings.Join(u.amounts, ", "))
	if err != nil {
		return err
	}
	return scanZeroDays(res, len(u.amounts), zeros)
}

// rollupChunk is the rows of one statement: 500 rows of at most nine
// parameters stay far below either engine's limit.
const rollupChunk = 500

// write adds rows; with zeros, it records in zeros the day of every row
// that it leaves with all amounts zero.
func (u rollupUpsert) write(ctx context.Context, tx *sql.Tx, rows []rollupRow, returning bool, zeros map[phantomos.Day]struct{}) error {
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	width := 1 + len(u.keys) + len(u.amounts)
	args := make([]any, 0, rollupChunk*width)
	for len(rows) > 0 {
		part := rows[:min(len(rows), rollupChunk)]
		rows = rows[len(part):]
		args = args[:0]
		for _, r := range part {
			args = append(args, string(u.pub))
			args = append(args, r.key...)
			for _, v := range r.sums.values()[:len(u.amounts)] {
				args = append(args, v)
			}
		}
		query := u.statement(len(part), returning)
		var stmt *sql.Stmt
		if len(part) == rollupChunk {
			if full == nil {
				var err error
				if full, err = tx.PrepareContext(ctx, query); err != nil {
					return err
				}
			}
			stmt = full
		}
		if !returning {
			var err error
			if stmt != nil {
				_, err = stmt.ExecContext(ctx, args...)
			} else {
				_, err = tx.ExecContext(ctx, query, args...)
			}
			if err != nil {
				return err
			}
			continue
		}
		var res *sql.Rows
		var err error
		if stmt != nil {
			res, err = stmt.QueryContext(ctx, args...)
		} else {
			res, err = tx.QueryContext(ctx, query, args...)
		}
		if err != nil {
			return err
		}
		if err := scanZeroDays(res, len(u.amounts), zeros); err != nil {
			return err
		}
	}
	return nil
}

// scanZeroDays reads the day and amounts an upsert returned and records
// the days of rows left all zero.
func scanZeroDays(res *sql.Rows, amounts int, zeros map[phantomos.Day]struct{}) error {
	defer res.Close()
	vals := make([]int64, amounts)
	dest := make([]any, 1+amounts)
	for i := range vals {
		dest[1+i] = &vals[i]
	}
	for res.Next() {
		var day any
		dest[0] = &day
		if err := res.Scan(dest...); err != nil {
			return err
		}
		if slices.ContainsFunc(vals, func(v int64) bool { return v != 0 }) {
			continue
		}
		d, err := dayValue(day)
		if err != nil {
			return err
		}
		zeros[d] = struct{}{}
	}
	return res.Err()
}

// statement is the upsert of n rows, returning each row's day and amounts
// when asked.
func (u rollupUpsert) statement(n int, returning bool) string {
	var b strings.Builder
	cols := append(append([]string{"publisher_id"}, u.keys...), u.amounts...)
	fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", u.table, strings.Join(cols, ", "))
	p := 0
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range cols {
			if j > 0 {
				b.WriteString(", ")
			}
			// Anonymous parameters on SQLite: the driver looks each
			// numbered one up by a scan of them all.
			if u.d == SQLite {
				b.WriteByte('?')
			} else {
				p++
				fmt.Fprintf(&b, "$%d", p)
			}
		}
		b.WriteByte(')')
	}
	set := make([]string, len(u.amounts))
	for i, c := range u.amounts {
		set[i] = c + " = " + u.table + "." + c + " + excluded." + c
	}
	fmt.Fprintf(&b, " ON CONFLICT (publisher_id, %s) DO UPDATE SET %s", strings.Join(u.keys, ", "), strings.Join(set, ", "))
	if returning {
		b.WriteString(" RETURNING day, " + strings.Join(u.amounts, ", "))
	}
	return b.String()
}
