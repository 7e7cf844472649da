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
	places   numbering[foldPlace]
	products numbering[string]

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
		places: newNumbering[foldPlace](), products: newNumbering[string](),
		sales: map[foldGroup]*foldSums{}, orders: map[int32]int64{},
		counted: map[orderInGroup]struct{}{}, placed: map[orderAtPlace]struct{}{},
	}
}

// numbering gives each distinct value a number, from 0 in order of first
// sight, and back.
type numbering[K comparable] struct {
	num    map[K]int32
	values []K
}

func newNumbering[K comparable]() numbering[K] { return numbering[K]{num: map[K]int32{}} }

func (n *numbering[K]) of(v K) int32 {
	i, ok := n.num[v]
	if !ok {
		i = int32(len(n.values))
		n.values = append(n.values, v)
		n.num[v] = i
	}
	return i
}

// sumAt returns the sums of m at k, added as zeros when absent.
func sumAt[K comparable](m map[K]*foldSums, k K) *foldSums {
	s := m[k]
	if s == nil {
		s = &foldSums{}
		m[k] = s
	}
	return s
}

// addOnce adds k to set and reports whether it was not there.
func addOnce[K comparable](set map[K]struct{}, k K) bool {
	if _, ok := set[k]; ok {
		return false
	}
	set[k] = struct{}{}
	return true
}

// addLine adds the contribution of a new line of connector's, under the
// refund booking refundDate, as perOrderContribution takes it from sales.
func (f *rollupFold) addLine(r *saleRecord, connector string, refundDate bool) {
	f.lines++
	p := f.places.of(foldPlace{r.day, r.country, r.channel, connector})
	g := foldGroup{p, f.products.of(r.productID)}
	s := sumAt(f.sales, g)
	s.units += r.quantity
	s.gross += r.grossR
	s.discount += r.discountR
	refunded, net := r.refR, r.netR
	// refundMoved: the refund is booked on its own day.
	if refundDate && r.refundDay != "" && r.refundDay != r.day && r.refR != 0 {
		rs := sumAt(f.sales, foldGroup{f.places.of(foldPlace{r.refundDay, r.country, r.channel, connector}), g.product})
		rs.refunded += r.refR
		rs.net -= r.refR
		net += refunded
		refunded = 0
	}
	s.refunded += refunded
	s.net += net
	if r.hasOrder {
		if addOnce(f.counted, orderInGroup{r.orderID, g}) {
			s.orders++
		}
		if addOnce(f.placed, orderAtPlace{r.orderID, p}) {
			f.orders[p]++
		}
	}
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
		sumAt(f.sales, foldGroup{f.places.of(p), f.products.of(product)}).add(&x)
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
		f.orders[f.places.of(p)] += n
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
	day := d.dayValue
	type productKey struct {
		period  phantomos.Day // a day, a Monday or a month ("2006-01")
		product int32
	}
	type geoMonthKey struct {
		month                       string
		country, channel, connector string
	}
	productDaily := map[productKey]*foldSums{}
	productWeekly := map[productKey]*foldSums{}
	productMonthly := map[productKey]*foldSums{}
	geoDaily := map[int32]*foldSums{}
	geoMonthly := map[geoMonthKey]*foldSums{}
	monthOf := func(p int32) geoMonthKey {
		pl := f.places.values[p]
		return geoMonthKey{string(pl.day[:7]), pl.country, pl.channel, pl.connector}
	}
	for g, s := range f.sales {
		pl := f.places.values[g.place]
		sumAt(productDaily, productKey{pl.day, g.product}).add(s)
		sumAt(productWeekly, productKey{mondayOf(pl.day), g.product}).add(s)
		sumAt(productMonthly, productKey{pl.day[:7], g.product}).add(s)
		// A place's orders are its orders' (below), not its groups' sum.
		amounts := *s
		amounts.orders = 0
		sumAt(geoDaily, g.place).add(&amounts)
		sumAt(geoMonthly, monthOf(g.place)).add(&amounts)
	}
	for p, n := range f.orders {
		sumAt(geoMonthly, monthOf(p)).orders += n
	}

	productRows := func(m map[productKey]*foldSums, key func(period any, product string) []any, asDay bool) []rollupRow {
		out := make([]rollupRow, 0, len(m))
		for k, s := range m {
			var period any = string(k.period)
			if asDay {
				period = day(k.period)
			}
			out = append(out, rollupRow{key(period, f.products.values[k.product]), *s})
		}
		return out
	}
	periodFirst := func(period any, product string) []any { return []any{period, product} }
	placeKey := func(p int32) []any {
		pl := f.places.values[p]
		return []any{day(pl.day), pl.country, pl.channel, pl.connector}
	}
	var orders, geo, geoM []rollupRow
	for p, n := range f.orders {
		orders = append(orders, rollupRow{placeKey(p), foldSums{orders: n}})
	}
	for p, s := range geoDaily {
		s.orders = f.orders[p]
		geo = append(geo, rollupRow{placeKey(p), *s})
	}
	for k, s := range geoMonthly {
		geoM = append(geoM, rollupRow{[]any{k.month, k.country, k.channel, k.connector}, *s})
	}

	adds := []struct {
		rollup rollupUpsert
		rows   []rollupRow
		daily  bool // a daily rollup: rows it leaves all zero are reported
	}{
		{ordersDaily, orders, true},
		{productDailyRollup, productRows(productDaily, periodFirst, true), true},
		{geoDailyRollup, geo, true},
		{productWeeklyRollup, productRows(productWeekly, func(week any, product string) []any { return []any{product, week} }, true), false},
		{productMonthlyRollup, productRows(productMonthly, periodFirst, false), false},
		{geoMonthlyRollup, geoM, false},
	}
	zero := map[phantomos.Day]struct{}{}
	for _, a := range adds {
		// In key order, the rows go into the rollup's index page after page.
		slices.SortFunc(a.rows, func(x, y rollupRow) int { return compareKeys(x.key, y.key) })
		// A row whose orders grow cannot end as zeros (stored orders are
		// never negative); only the others need their result back.
		unsafe := func(r rollupRow) bool { return a.daily && r.sums.orders <= 0 }
		var err error
		if d == Postgres {
			err = a.rollup.copy(ctx, conn, tx, pub, a.rows, slices.ContainsFunc(a.rows, unsafe), zero)
		} else {
			err = a.rollup.write(ctx, tx, pub, a.rows, unsafe, zero)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", a.rollup.table, err)
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

// rollupUpsert adds rows into one rollup: its key columns (after
// publisher_id) and the amounts it adds up.
type rollupUpsert struct {
	table         string
	keys, amounts []string
}

// The rollups kept from sales, as the folds write them.
var (
	rollupAmounts        = []string{"orders", "units", "gross", "discount", "refunded", "net"}
	ordersDaily          = rollupUpsert{"orders_daily", []string{"day", "country", "channel", "connector_id"}, rollupAmounts[:1]}
	productDailyRollup   = rollupUpsert{"product_daily", []string{"day", "product_id"}, rollupAmounts}
	geoDailyRollup       = rollupUpsert{"geo_daily", []string{"day", "country", "channel", "connector_id"}, rollupAmounts}
	productWeeklyRollup  = rollupUpsert{"product_weekly", []string{"product_id", "week"}, rollupAmounts}
	productMonthlyRollup = rollupUpsert{"product_monthly", []string{"month", "product_id"}, rollupAmounts}
	geoMonthlyRollup     = rollupUpsert{"geo_monthly", []string{"month", "country", "channel", "connector_id"}, rollupAmounts}
)

// columns returns the columns a row of the rollup gives, in order.
func (u rollupUpsert) columns() []string {
	return append(append([]string{"publisher_id"}, u.keys...), u.amounts...)
}

// appendRow appends the values of r, for publisher pub, in columns' order.
func (u rollupUpsert) appendRow(dst []any, pub phantomos.PublisherID, r *rollupRow) []any {
	dst = append(dst, string(pub))
	dst = append(dst, r.key...)
	for _, v := range r.sums.values()[:len(u.amounts)] {
		dst = append(dst, v)
	}
	return dst
}

// returning is the clause by which an upsert gives back each row's day
// and amounts (scanZeroDays reads them).
func (u rollupUpsert) returning() string {
	return " RETURNING day, " + strings.Join(u.amounts, ", ")
}

// copy adds rows (in key order) on PostgreSQL: they are copied into a
// temporary table, then added by one upsert, or, when some are unsafe (see
// apply), by one for the rows with orders and one that returns the
// results of the others. Statements of a few hundred rows' parameters took
// three times as long for product_daily.
func (u rollupUpsert) copy(ctx context.Context, conn *sql.Conn, tx *sql.Tx, pub phantomos.PublisherID, rows []rollupRow, unsafe bool, zeros map[phantomos.Day]struct{}) error {
	if len(rows) == 0 {
		return nil
	}
	temp := "ingest_add_" + u.table
	cols := strings.Join(u.columns(), ", ")
	if _, err := tx.ExecContext(ctx, pgTempTable(temp, `AS SELECT `+cols+` FROM `+u.table+` WITH NO DATA`)); err != nil {
		return err
	}
	err := conn.Raw(func(dc any) error {
		_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{temp}, u.columns(), u.copySource(pub, rows))
		return err
	})
	if err != nil {
		return err
	}
	upsert := func(where string) string {
		return `INSERT INTO ` + u.table + ` (` + cols + `) SELECT ` + cols + ` FROM ` + temp + where + addOnConflict(u.table, u.keys, u.amounts)
	}
	if !unsafe {
		_, err := tx.ExecContext(ctx, upsert(""))
		return err
	}
	if _, err := tx.ExecContext(ctx, upsert(` WHERE orders > 0`)); err != nil {
		return err
	}
	res, err := tx.QueryContext(ctx, upsert(` WHERE orders <= 0`)+u.returning())
	if err != nil {
		return err
	}
	return scanZeroDays(res, len(u.amounts), zeros)
}

// copySource gives rows, for publisher pub, to COPY: ids as their 16
// bytes (pgcopy.go), days as the times the rows hold on PostgreSQL.
func (u rollupUpsert) copySource(pub phantomos.PublisherID, rows []rollupRow) pgx.CopyFromSource {
	var ids []int
	for i, c := range u.columns() {
		if strings.HasSuffix(c, "_id") {
			ids = append(ids, i)
		}
	}
	i := -1
	return pgx.CopyFromFunc(func() ([]any, error) {
		if i++; i >= len(rows) {
			return nil, nil
		}
		row := u.appendRow(nil, pub, &rows[i])
		copyIDs(row, ids...)
		return row, nil
	})
}

// rollupChunk is the rows of one statement: 500 rows of at most nine
// parameters stay far below either engine's limit.
const rollupChunk = 500

// write adds rows (in key order) on SQLite, in statements of rollupChunk
// rows: those unsafe (see apply) by statements that return their results,
// from which it records in zeros the day of every row left all zero.
func (u rollupUpsert) write(ctx context.Context, tx *sql.Tx, pub phantomos.PublisherID, rows []rollupRow, unsafe func(rollupRow) bool, zeros map[phantomos.Day]struct{}) error {
	var plain, returning []rollupRow
	for _, r := range rows {
		if unsafe(r) {
			returning = append(returning, r)
		} else {
			plain = append(plain, r)
		}
	}
	for _, part := range []struct {
		rows      []rollupRow
		returning bool
	}{{plain, false}, {returning, true}} {
		if err := u.writeChunks(ctx, tx, pub, part.rows, part.returning, zeros); err != nil {
			return err
		}
	}
	return nil
}

func (u rollupUpsert) writeChunks(ctx context.Context, tx *sql.Tx, pub phantomos.PublisherID, rows []rollupRow, returning bool, zeros map[phantomos.Day]struct{}) error {
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	args := make([]any, 0, rollupChunk*(1+len(u.keys)+len(u.amounts)))
	for len(rows) > 0 {
		part := rows[:min(len(rows), rollupChunk)]
		rows = rows[len(part):]
		stmt, done, err := chunkStatement(ctx, tx, &full, rollupChunk, len(part), func(n int) string { return u.statement(n, returning) })
		if err != nil {
			return err
		}
		args = args[:0]
		for i := range part {
			args = u.appendRow(args, pub, &part[i])
		}
		if !returning {
			_, err = stmt.ExecContext(ctx, args...)
		} else {
			var res *sql.Rows
			if res, err = stmt.QueryContext(ctx, args...); err == nil {
				err = scanZeroDays(res, len(u.amounts), zeros)
			}
		}
		done()
		if err != nil {
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

// statement is the SQLite upsert of n rows (anonymous parameters: the
// driver looks each numbered one up by a scan of them all), returning each
// row's day and amounts when asked.
func (u rollupUpsert) statement(n int, returning bool) string {
	cols := u.columns()
	q := "INSERT INTO " + u.table + " (" + strings.Join(cols, ", ") + ") VALUES " +
		valuesRows(len(cols), n) + addOnConflict(u.table, u.keys, u.amounts)
	if returning {
		q += u.returning()
	}
	return q
}
