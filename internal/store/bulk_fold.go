package store

import (
	"context"
	"fmt"
	"hash/maphash"
	"slices"

	"github.com/phantomos/phantomos"
)

// A bulk load into a publisher without sales (the demo, a first load)
// computed its daily rollups from the loaded lines by three grouping
// queries over them: 8.6 s of a 20 s load of a million lines on
// PostgreSQL, more than the COPY and the index builds together. The sums
// are now taken as the lines go by, as an import's new orders are
// (rollup_fold.go), and written as rows; the weekly and monthly rollups
// are computed from the daily ones as before (refreshPeriods).
//
// An order counts once in each group it has a line in. A load hands its
// lines order by order (the demo does, as any export does), so the fold
// only remembers the groups of the current order, whatever the size of
// the load. That the orders came whole is checked, not assumed: each run
// of lines of one order leaves a 64-bit hash of its key, and when the load
// ends the hashes are sorted; two equal ones (an order whose lines came
// apart, or once in 2^64 two orders' keys) make the load take its rollups
// from the lines by SQL as before, as does a load of more than
// maxBulkFoldOrders orders or maxBulkFoldGroups rollup rows. The sums then
// only cost their time.

// maxBulkFoldOrders bounds the orders whose key hashes a bulk load keeps
// (8 bytes each, 128 MiB at most), and maxBulkFoldGroups the rows of the
// daily rollups it sums (about 100 bytes each: 200 MiB at most; the demo's
// ten million lines make about 300,000).
const (
	maxBulkFoldOrders = 1 << 24
	maxBulkFoldGroups = 1 << 21
)

// dayProduct is a row of product_daily: a day and a product's number.
type dayProduct struct {
	day     phantomos.Day
	product int32
}

// bulkFold holds the daily rollups of the lines added so far.
type bulkFold struct {
	refundDate bool // refunds booked on their own day
	places     numbering[foldPlace]
	products   numbering[string]
	product    map[dayProduct]*foldSums
	geo        map[int32]*foldSums // by place; its orders are orders_daily's

	// The current order, and the groups and places it was counted in.
	order   [2]string
	started bool
	counted smallSet[dayProduct]
	placed  smallSet[int32]

	seed maphash.Seed
	runs []uint64 // a hash of each run's order key
	over bool     // past a bound: the sums were dropped
	max  int      // maxBulkFoldOrders, or a test's bound (which bounds the groups too)
}

func newBulkFold(refundDate bool, maxOrders int) *bulkFold {
	return &bulkFold{
		refundDate: refundDate,
		places:     newNumbering[foldPlace](), products: newNumbering[string](),
		product: map[dayProduct]*foldSums{}, geo: map[int32]*foldSums{},
		seed: maphash.MakeSeed(), max: maxOrders,
	}
}

// add adds a line of the load, as the bulk path stores it: every line has
// an order (has_order), and a refund has a day of its own only when the
// line was refunded (see saleValues).
func (f *bulkFold) add(x *phantomos.Sale) {
	if f.over {
		return
	}
	if !f.started || x.ConnectorID != f.order[0] || x.ExternalOrderID != f.order[1] {
		if len(f.runs) >= f.max || len(f.product)+len(f.geo) >= min(f.max, maxBulkFoldGroups) {
			*f = bulkFold{over: true}
			return
		}
		f.started, f.order = true, [2]string{x.ConnectorID, x.ExternalOrderID}
		f.counted.reset()
		f.placed.reset()
		var h maphash.Hash
		h.SetSeed(f.seed)
		h.WriteString(x.ConnectorID)
		h.WriteByte(0)
		h.WriteString(x.ExternalOrderID)
		f.runs = append(f.runs, h.Sum64())
	}
	place := f.places.of(foldPlace{x.Day, x.Country, x.Channel, x.ConnectorID})
	group := dayProduct{x.Day, f.products.of(x.ProductID)}
	p, g := sumAt(f.product, group), sumAt(f.geo, place)
	if f.counted.add(group) {
		p.orders++
	}
	if f.placed.add(place) {
		g.orders++
	}
	refunded, net := x.RefundedReporting, x.NetReporting
	// The refund on its own day (refundMoved in SQL).
	if f.refundDate && x.RefundDay != "" && x.Refunded != 0 && x.RefundDay != x.Day && refunded != 0 {
		rp := sumAt(f.product, dayProduct{x.RefundDay, group.product})
		rg := sumAt(f.geo, f.places.of(foldPlace{x.RefundDay, x.Country, x.Channel, x.ConnectorID}))
		for _, s := range []*foldSums{rp, rg} {
			s.refunded += refunded
			s.net -= refunded
		}
		net += refunded
		refunded = 0
	}
	for _, s := range []*foldSums{p, g} {
		s.units += x.Quantity
		s.gross += x.GrossReporting
		s.discount += x.DiscountReporting
		s.refunded += refunded
		s.net += net
	}
}

// smallSet is a set that is reset often and usually holds a few values
// (an order's groups): a slice searched in turn, and a map once it holds
// more than smallSetMax, so that an order of many lines costs no more per
// line than a map lookup.
type smallSet[K comparable] struct {
	few  []K
	many map[K]struct{}
}

const smallSetMax = 32

// add adds k and reports whether it was not there.
func (s *smallSet[K]) add(k K) bool {
	if s.many != nil {
		return addOnce(s.many, k)
	}
	if slices.Contains(s.few, k) {
		return false
	}
	if s.few = append(s.few, k); len(s.few) > smallSetMax {
		s.many = make(map[K]struct{}, 2*len(s.few))
		for _, v := range s.few {
			s.many[v] = struct{}{}
		}
	}
	return true
}

// reset empties the set (a map is dropped rather than cleared: clearing
// costs what it once held).
func (s *smallSet[K]) reset() { s.few, s.many = s.few[:0], nil }

// exact reports whether the sums are the loaded lines' rollups: none was
// dropped and no order's lines came apart.
func (f *bulkFold) exact() bool {
	if f.over {
		return false
	}
	slices.Sort(f.runs)
	for i := 1; i < len(f.runs); i++ {
		if f.runs[i] == f.runs[i-1] {
			return false
		}
	}
	return true
}

// dailyRollup is the rows of one daily rollup.
type dailyRollup struct {
	rollup rollupUpsert
	rows   []rollupRow
}

// rows returns the rows of orders_daily, product_daily and geo_daily, each
// in its key's order, with days as d keeps them.
func (f *bulkFold) rows(d Dialect) []dailyRollup {
	day := d.dayValue
	placeKey := func(p int32) []any {
		pl := f.places.values[p]
		return []any{day(pl.day), pl.country, pl.channel, pl.connector}
	}
	var orders, geo []rollupRow
	for p, s := range f.geo {
		geo = append(geo, rollupRow{placeKey(p), *s})
		// A place of refunds only has no orders_daily row.
		if s.orders > 0 {
			orders = append(orders, rollupRow{placeKey(p), foldSums{orders: s.orders}})
		}
	}
	product := make([]rollupRow, 0, len(f.product))
	for k, s := range f.product {
		product = append(product, rollupRow{[]any{day(k.day), f.products.values[k.product]}, *s})
	}
	out := []dailyRollup{{ordersDaily, orders}, {productDailyRollup, product}, {geoDailyRollup, geo}}
	for _, r := range out {
		slices.SortFunc(r.rows, func(x, y rollupRow) int { return compareKeys(x.key, y.key) })
	}
	return out
}

// clearDaily deletes publisher pub's daily rollups of the days from..to,
// before rows are written in their place.
func clearDaily(ctx context.Context, tx execer, pub phantomos.PublisherID, from, to phantomos.Day) error {
	for _, table := range []string{"orders_daily", "product_daily", "geo_daily"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE publisher_id = $1 AND day BETWEEN $2 AND $3`, pub, string(from), string(to)); err != nil {
			return err
		}
	}
	return nil
}

// writeBulkFold puts the daily rollups of fold in place of publisher pub's
// rows of the days from..to, each by write (in key order, into rollups
// with no row left of those days), and computes the weekly and monthly
// ones from them.
func (s *Store) writeBulkFold(ctx context.Context, tx execer, d Dialect, pub phantomos.PublisherID, fold *bulkFold, from, to phantomos.Day, write func(dailyRollup) error) error {
	if err := clearDaily(ctx, tx, pub, from, to); err != nil {
		return fmt.Errorf("daily rollups: %w", err)
	}
	for _, r := range fold.rows(d) {
		if err := write(r); err != nil {
			return fmt.Errorf("%s: %w", r.rollup.table, err)
		}
	}
	if err := refreshPeriods(ctx, tx, d, pub, from, to); err != nil {
		return err
	}
	s.bulkFolds.Add(1)
	return nil
}

// bulkFoldLimit returns the orders a bulk load of s may sum in memory.
func (s *Store) bulkFoldLimit() int {
	if s.bulkFoldOrders != 0 {
		return s.bulkFoldOrders
	}
	return maxBulkFoldOrders
}
