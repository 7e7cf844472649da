package store_test

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// singleFilters are the questions the filter rollups answer (one category,
// game IP or asset, alone or with places), and product questions under
// places (product_geo_monthly), each over ranges with and without whole
// months.
func singleFilters(rp randomPublisher) []store.Filter {
	var product []store.Filter
	for _, c := range phantomos.Categories {
		product = append(product, store.Filter{Categories: []string{c}})
	}
	for _, g := range rp.gameIPs {
		product = append(product, store.Filter{GameIPs: []string{g}})
	}
	for _, a := range rp.assets {
		product = append(product, store.Filter{Assets: []string{a}})
	}
	var out []store.Filter
	for _, f := range product {
		out = append(out, f)
		g := f
		g.Countries = []string{"US"}
		out = append(out, g)
		g = f
		g.Channels, g.Connectors = []string{"web", "retail"}, []string{rp.connectors[0]}
		out = append(out, g)
	}
	// Several product values with a place: product by place, not the
	// filter rollups.
	out = append(out, store.Filter{Countries: []string{"DE", "JP"}}, store.Filter{Categories: phantomos.Categories[:2], Countries: []string{"FR"}},
		store.Filter{Assets: rp.assets[:2], Channels: []string{"marketplace"}})
	return out
}

var filterRanges = [][2]phantomos.Day{{"2025-01-01", "2025-12-31"}, {"2025-02-15", "2025-04-30"}, {"2025-03-01", "2025-03-31"},
	{"2025-06-10", "2026-02-28"}}

// checkAgainstNaive compares every figure the pages read under the filters
// with the same figure computed from raw sales.
func checkAgainstNaive(t *testing.T, s *store.Store, rp randomPublisher, label string) {
	t.Helper()
	ctx := context.Background()
	for _, r := range filterRanges {
		from, to := r[0], r[1]
		for _, f := range singleFilters(rp) {
			got, err := s.Totals(ctx, rp.pub.ID, from, to, f)
			if err != nil {
				t.Fatal(err)
			}
			tot := naive(t, s, rp.pub.ID, from, to, f, "COALESCE(SUM(t.net_reporting),0), COALESCE(SUM(t.quantity),0)", "'all'")["all"]
			ord := naive(t, s, rp.pub.ID, from, to, f, "COUNT(DISTINCT CASE WHEN t.has_order THEN CAST(t.connector_id AS TEXT) || '/' || t.external_order_id END), COALESCE(SUM(t.gross_reporting),0)", "'all'")["all"]
			want := store.Summary{Net: tot[0], Units: tot[1], Orders: ord[0], Gross: ord[1]}
			got.Discount, got.Refunded, got.OrderlessNet = 0, 0, 0
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s: %s..%s %+v: totals (-naive +got):\n%s", label, from, to, f, diff)
			}
			for dim, group := range map[store.Dimension]string{
				store.ByCountry: "t.country", store.ByChannel: "t.channel", store.ByConnector: "CAST(t.connector_id AS TEXT)",
				store.ByProduct: "CAST(t.product_id AS TEXT)", store.ByCategory: "p.category", store.ByGameIP: "COALESCE(CAST(p.game_ip_id AS TEXT), '')",
			} {
				rows, err := s.Breakdown(ctx, rp.pub.ID, from, to, f, dim)
				if err != nil {
					t.Fatal(err)
				}
				gotM := map[string][2]int64{}
				for _, r := range rows {
					gotM[r.Key] = [2]int64{r.Net, r.Units}
				}
				wantM := naive(t, s, rp.pub.ID, from, to, f, "SUM(t.net_reporting), SUM(t.quantity)", group)
				if diff := cmp.Diff(wantM, gotM); diff != "" {
					t.Fatalf("%s: %s..%s %+v: breakdown by %s (-naive +got):\n%s", label, from, to, f, dim, diff)
				}
			}
			days, err := s.DailyNet(ctx, rp.pub.ID, from, to, f)
			if err != nil {
				t.Fatal(err)
			}
			gotD := map[string][2]int64{}
			for _, d := range days {
				gotD[string(d.Day)] = [2]int64{d.Net, 0}
			}
			wantD := naive(t, s, rp.pub.ID, from, to, f, "SUM(t.net_reporting), 0", s.DayText("t.day"))
			if diff := cmp.Diff(wantD, gotD); diff != "" {
				t.Fatalf("%s: %s..%s %+v: daily (-naive +got):\n%s", label, from, to, f, diff)
			}
		}
	}
}

// current asserts whether the filter rollups are current.
func current(t *testing.T, s *store.Store, pub phantomos.PublisherID, want bool, when string) {
	t.Helper()
	got, err := s.FilterRollupsCurrent(context.Background(), pub)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("%s: filter rollups current = %v, want %v", when, got, want)
	}
}

// rebuilder returns what rebuilds the filter rollups of rp and other and
// checks that rp's are then current.
func rebuilder(t *testing.T, s *store.Store, rp, other randomPublisher) func(when string) {
	return func(when string) {
		t.Helper()
		for _, p := range []phantomos.PublisherID{rp.pub.ID, other.pub.ID} {
			if err := s.RefreshFilterRollups(context.Background(), p); err != nil {
				t.Fatal(err)
			}
		}
		current(t, s, rp.pub.ID, true, when)
	}
}

// TestFilterRollupsMatchNaiveQueries: with the filter rollups current, and
// after each kind of write (mapping changes, a re-import that changes and
// adds orders, deleted orders, a change of refund booking) while they are
// stale and once rebuilt, every figure under one category, game IP or
// asset, and every product figure under a place, equals raw SQL over the
// sales, distinct orders included.
func TestFilterRollupsMatchNaiveQueries(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(45, 46))
		rp := newRandomPublisher(t, s, "alpha", rng, 2500)
		other := newRandomPublisher(t, s, "beta", rng, 400) // must never count
		refresh := rebuilder(t, s, rp, other)
		refresh("built")
		checkAgainstNaive(t, s, rp, "built")

		// A mapping change: one product gains an asset, another's links
		// are merged into another asset.
		if _, err := s.AssignAsset(ctx, rp.pub.ID, []string{rp.products[3].ID, rp.products[4].ID}, rp.assets[0], ""); err != nil {
			t.Fatal(err)
		}
		// Followed (TestFilterRollupsFollowMappingChanges): still current.
		current(t, s, rp.pub.ID, true, "after assigning an asset")
		checkAgainstNaive(t, s, rp, "after assigning an asset")
		if _, err := s.MergeAssets(ctx, rp.pub.ID, rp.assets[1], rp.assets[2]); err != nil {
			t.Fatal(err)
		}
		rp.assets = append(rp.assets[:1], rp.assets[2:]...)
		current(t, s, rp.pub.ID, false, "after merging assets")
		checkAgainstNaive(t, s, rp, "stale after merging assets")
		refresh("rebuilt after merging assets")
		checkAgainstNaive(t, s, rp, "rebuilt after merging assets")

		// A re-import into the first connector: existing orders gain a line
		// of a new product and change place, new orders arrive; then some
		// orders are deleted.
		var rows []store.SaleRow
		for i := range 40 {
			day := time.Date(2025, 3, 1+i%28, 9, 0, 0, 0, time.UTC)
			rows = append(rows, store.SaleRow{Line: int64(2 + i), OrderID: fmt.Sprintf("o%d", i*3), LineID: "new", SKU: "NEW-1", Name: "New mug",
				OrderDate: day, Quantity: 2, Gross: 1500, Currency: "USD", Country: "US", Channel: "web", UpdatedAt: day.Add(24 * time.Hour)},
				store.SaleRow{Line: int64(100 + i), OrderID: fmt.Sprintf("n%d", i), LineID: "1", SKU: "NEW-1", Name: "New mug",
					OrderDate: day, Quantity: 1, Gross: 900, Currency: "USD", Country: "DE", Channel: "retail", UpdatedAt: day})
		}
		if _, err := importRows(t, s, rp.pub.ID, store.ImportSpec{Kind: store.ImportSales, ConnectorID: rp.connectors[0]}, rows, writeSales); err != nil {
			t.Fatal(err)
		}
		// Imports move the rollups by their orders' deltas
		// (TestFilterRollupsFollowImports): still current.
		current(t, s, rp.pub.ID, true, "after a re-import")
		checkAgainstNaive(t, s, rp, "after a re-import")
		_, err := s.Import(ctx, rp.pub.ID, store.ImportSpec{Kind: store.ImportSales, ConnectorID: rp.connectors[0], Source: "deletes"}, func(w *store.ImportWriter) error {
			_, err := w.DeleteOrders(ctx, []string{"o0", "o3", "o6", "n1", "n2"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		current(t, s, rp.pub.ID, true, "after deleting orders")
		checkAgainstNaive(t, s, rp, "after deleting orders")
		refresh("rebuilt after deleting orders")
		checkAgainstNaive(t, s, rp, "rebuilt after deleting orders")

		// Refunds booked on their own day.
		rp.pub.Settings.RefundBooking = phantomos.RefundOnRefundDate
		if err := s.UpdatePublisher(ctx, rp.pub); err != nil {
			t.Fatal(err)
		}
		current(t, s, rp.pub.ID, false, "after changing the refund booking")
		checkAgainstNaive(t, s, rp, "stale after changing the refund booking")
		refresh("rebuilt after changing the refund booking")
		checkAgainstNaive(t, s, rp, "rebuilt after changing the refund booking")
	})
}

// TestFilterRollupsFollowImports: imports keep current filter rollups
// current, exactly what a rebuild would make of the same data, under both
// refund bookings: new orders, changed orders (amounts, a refund, a line
// gained, a line dropped, moved to another day and place), an orderless
// line of no amount, orders removed by the platform (one alone in its
// groups, whose rows must go, and one sharing them with that line, whose
// rows must stay at zero). Imports that change the catalogue, that delete
// an order they also wrote, or that write more lines than the bound leave
// them stale.
func TestFilterRollupsFollowImports(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(47, 48))
		rp := newRandomPublisher(t, s, "alpha", rng, 1500)
		other := newRandomPublisher(t, s, "beta", rng, 300) // must never count
		refresh := rebuilder(t, s, rp, other)
		// The connector's own products by external id, and one product
		// per batch that the import makes.
		var own []string
		for _, p := range rp.products {
			if p.ConnectorID == rp.connectors[0] {
				own = append(own, p.ExternalID)
			}
		}
		places := [][2]string{{"US", "web"}, {"DE", "retail"}, {"FR", "marketplace"}, {"JP", "web"}}
		batch := func(prefix string, orders int) []store.SaleRow {
			var rows []store.SaleRow
			for i := range orders {
				day := time.Date(2025, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 10, 0, 0, 0, time.UTC)
				place := places[rng.IntN(len(places))]
				for l := range 1 + rng.IntN(3) {
					r := store.SaleRow{Line: int64(len(rows) + 2), OrderID: fmt.Sprintf("%s-%d", prefix, i), LineID: fmt.Sprint(l + 1),
						ProductID: own[rng.IntN(len(own))], Name: "Item", OrderDate: day, Quantity: int64(1 + rng.IntN(3)), Gross: int64(500 + rng.IntN(5000)),
						Currency: "USD", Country: place[0], Channel: place[1], UpdatedAt: day}
					if i%5 == 0 && l == 0 {
						r.ProductID, r.Name, r.Category = "new-"+prefix, "New "+prefix, phantomos.Categories[0]
					}
					if rng.IntN(4) == 0 {
						r.Refunded, r.RefundedAt = r.Gross/2, day.Add(time.Duration(rng.IntN(40))*24*time.Hour)
					}
					rows = append(rows, r)
				}
			}
			return rows
		}
		spec := store.ImportSpec{Kind: store.ImportSales, ConnectorID: rp.connectors[0]}
		imp := func(rows []store.SaleRow) *store.ImportReport {
			t.Helper()
			rep, err := importRows(t, s, rp.pub.ID, spec, rows, writeSales)
			if err != nil {
				t.Fatal(err)
			}
			return rep
		}
		followed := follower(t, s, rp, refresh)
		// stale runs an import that must leave them stale.
		stale := func(label string, run func()) {
			t.Helper()
			d0 := s.FilterDeltas()
			run()
			if s.FilterDeltas() != d0 {
				t.Fatalf("%s: the import moved the filter rollups", label)
			}
			current(t, s, rp.pub.ID, false, label)
			checkAgainstNaive(t, s, rp, label+" (stale)")
			refresh(label + ", rebuilt")
		}
		byOrder := func(rows []store.SaleRow) map[string][]store.SaleRow {
			m := map[string][]store.SaleRow{}
			for _, r := range rows {
				m[r.OrderID] = append(m[r.OrderID], r)
			}
			return m
		}
		later := func(r store.SaleRow) store.SaleRow {
			r.UpdatedAt = r.UpdatedAt.Add(24 * time.Hour)
			return r
		}
		refresh("built")
		for _, booking := range bookings(t, s, rp, refresh) {
			label := "refunds booked " + booking + ": "
			rows := batch(booking, 80)
			followed(label+"new orders", func() error { imp(rows); return nil })
			// The same orders again: nothing written, still current.
			imp(rows)
			current(t, s, rp.pub.ID, true, label+"the same orders again")

			// Changed orders, with new ones in the same import. The moved
			// order goes to a day and place of its own, where an orderless
			// line of no amount of one of its products joins it.
			orders := byOrder(rows)
			island := time.Date(2025, 6, 15, 9, 0, 0, 0, time.UTC)
			var changed []store.SaleRow
			for i := range 6 {
				for _, r := range orders[fmt.Sprintf("%s-%d", booking, i)] {
					r = later(r)
					switch i {
					case 0: // amounts
						r.Gross += 100
					case 1: // a refund
						r.Refunded, r.RefundedAt = r.Gross, r.OrderDate.Add(3*24*time.Hour)
					case 2: // moved to another day and place
						r.OrderDate, r.Country, r.Channel = island, "IS", "retail"
						if !r.RefundedAt.IsZero() {
							r.RefundedAt = island.Add(24 * time.Hour)
						}
					case 3: // another product
						r.ProductID = own[0]
					}
					if i == 4 && r.LineID != "1" {
						continue // lines dropped
					}
					changed = append(changed, r)
				}
				if i == 5 { // a line gained
					r := later(orders[fmt.Sprintf("%s-%d", booking, i)][0])
					r.LineID, r.ProductID = "9", own[1]
					changed = append(changed, r)
				}
			}
			moved := orders[booking+"-2"][0]
			changed = append(changed, store.SaleRow{OrderID: "vendor-" + booking, LineID: "1", NoOrder: true, ProductID: moved.ProductID,
				Name: "Item", OrderDate: island, Currency: "USD", Country: "IS", Channel: "retail", UpdatedAt: island})
			changed = append(changed, batch(booking+"-more", 10)...)
			followed(label+"changed orders", func() error {
				if rep := imp(changed); rep.OrdersChanged != 6 || rep.Updated == 0 || rep.Deleted == 0 {
					return fmt.Errorf("%+v", rep)
				}
				return nil
			})

			// Removed by the platform: the moved order (its groups then
			// hold only the orderless line, so the rows of its product's
			// values stay at zero, the others go) and two others.
			followed(label+"removed orders", func() error {
				rep := imp([]store.SaleRow{{OrderID: booking + "-2", Removed: true}, {OrderID: booking + "-7", Removed: true},
					{OrderID: booking + "-more-3", Removed: true}})
				if rep.Deleted == 0 {
					return fmt.Errorf("%+v", rep)
				}
				return nil
			})
			zeros := 0
			for k, v := range filterTables(t, s, rp.pub.ID) {
				if v == [6]int64{} && strings.Contains(k, "|IS|") {
					zeros++
				}
			}
			if zeros == 0 {
				t.Fatalf("%sno row of zeros where only the orderless line is left", label)
			}
		}

		// An import that also changes a product's category: stale.
		stale("a product changed in the same import", func() {
			_, err := s.Import(ctx, rp.pub.ID, spec, func(w *store.ImportWriter) error {
				if err := w.WriteProducts(ctx, []store.ProductRow{{ExternalID: own[2], Name: "Renamed", Category: phantomos.Categories[1]}}); err != nil {
					return err
				}
				return w.WriteSales(ctx, batch("catalog", 3))
			})
			if err != nil {
				t.Fatal(err)
			}
		})
		// An order written and then removed by the same import: stale.
		stale("an order written and removed", func() {
			_, err := s.Import(ctx, rp.pub.ID, spec, func(w *store.ImportWriter) error {
				if err := w.WriteSales(ctx, batch("brief", 3)); err != nil {
					return err
				}
				return w.WriteSales(ctx, []store.SaleRow{{OrderID: "brief-1", Removed: true}})
			})
			if err != nil {
				t.Fatal(err)
			}
		})
		// More lines than the bound: stale.
		s.SetFilterDeltaLines(10)
		defer s.SetFilterDeltaLines(0)
		stale("an import past the bound", func() { imp(batch("large", 20)) })
	})
}

// bookings returns both refund bookings, order date first, for a loop
// over them: reaching the second switches rp to it and rebuilds its filter
// rollups.
func bookings(t *testing.T, s *store.Store, rp randomPublisher, refresh func(string)) iter.Seq2[int, string] {
	return func(yield func(int, string) bool) {
		for i, booking := range []string{phantomos.RefundOnOrderDate, phantomos.RefundOnRefundDate} {
			if booking == phantomos.RefundOnRefundDate {
				rp.pub.Settings.RefundBooking = booking
				if err := s.UpdatePublisher(context.Background(), rp.pub); err != nil {
					t.Fatal(err)
				}
				refresh("rebuilt under refund-date booking")
			}
			if !yield(i, booking) {
				return
			}
		}
	}
}

// follower returns what runs a write that must move rp's current filter
// rollups itself (FilterDeltas grows by one) and keep them current and
// exact: every figure equal to raw SQL's, and the tables to a rebuild's
// (which refresh then makes).
func follower(t *testing.T, s *store.Store, rp randomPublisher, refresh func(string)) func(label string, write func() error) {
	return func(label string, write func() error) {
		t.Helper()
		d0 := s.FilterDeltas()
		if err := write(); err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		if s.FilterDeltas() != d0+1 {
			t.Fatalf("%s: the filter rollups did not follow", label)
		}
		current(t, s, rp.pub.ID, true, label)
		checkAgainstNaive(t, s, rp, label)
		followed := filterTables(t, s, rp.pub.ID)
		refresh(label + ", rebuilt")
		if diff := cmp.Diff(filterTables(t, s, rp.pub.ID), followed); diff != "" {
			t.Fatalf("%s: the filter rollups (-rebuilt +followed):\n%s", label, diff)
		}
	}
}

// filterTables returns what publisher pub's filter rollups hold, by key.
func filterTables(t *testing.T, s *store.Store, pub phantomos.PublisherID) map[string][6]int64 {
	t.Helper()
	out := map[string][6]int64{}
	for _, q := range []string{
		`SELECT 'daily|' || dim || '|' || value || '|' || ` + s.DayText("day") + ` || '|' || country || '|' || channel || '|' || CAST(connector_id AS TEXT),
			orders, units, gross, discount, refunded, net FROM filter_daily WHERE publisher_id = $1`,
		`SELECT 'monthly|' || dim || '|' || value || '|' || month || '|' || country || '|' || channel || '|' || CAST(connector_id AS TEXT),
			orders, units, gross, discount, refunded, net FROM filter_monthly WHERE publisher_id = $1`,
		`SELECT 'geo|' || month || '|' || country || '|' || channel || '|' || CAST(connector_id AS TEXT) || '|' || CAST(product_id AS TEXT),
			orders, units, gross, discount, refunded, net FROM product_geo_monthly WHERE publisher_id = $1`,
	} {
		rows, err := s.DB().Query(q, pub)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k string
			var v [6]int64
			if err := rows.Scan(&k, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]); err != nil {
				t.Fatal(err)
			}
			out[k] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// TestFilterRollupsReadOnlyWhenCurrent: a read under one category takes
// its orders from the filter rollups while they are current (a figure
// planted there shows), and from the sales as soon as any write makes them
// stale (the planted figure no longer shows).
func TestFilterRollupsReadOnlyWhenCurrent(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(8, 9))
		rp := newRandomPublisher(t, s, "alpha", rng, 600)
		if err := s.RefreshFilterRollups(ctx, rp.pub.ID); err != nil {
			t.Fatal(err)
		}
		f := store.Filter{Categories: []string{rp.products[0].Category}}
		from, to := phantomos.Day("2025-01-01"), phantomos.Day("2025-12-31")
		exact, err := s.Totals(ctx, rp.pub.ID, from, to, f)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.DB().Exec(`UPDATE filter_monthly SET orders = orders + 1000 WHERE publisher_id = $1 AND dim = 'category' AND value = $2 AND month = '2025-05'`,
			rp.pub.ID, f.Categories[0])
		if err != nil {
			t.Fatal(err)
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			t.Fatalf("planting: %d rows, %v", n, err)
		}
		planted, err := s.Totals(ctx, rp.pub.ID, from, to, f)
		if err != nil {
			t.Fatal(err)
		}
		if planted.Orders != exact.Orders+1000*n {
			t.Fatalf("current filter rollups: orders %d, want the planted %d", planted.Orders, exact.Orders+1000*n)
		}
		// Any write that analytics read bumps the data version; an asset
		// merge is one the filter rollups do not follow.
		if _, err := s.MergeAssets(ctx, rp.pub.ID, rp.assets[1], rp.assets[2]); err != nil {
			t.Fatal(err)
		}
		after, err := s.Totals(ctx, rp.pub.ID, from, to, f)
		if err != nil {
			t.Fatal(err)
		}
		if after.Orders != exact.Orders {
			t.Fatalf("stale filter rollups: orders %d, want %d counted from the sales", after.Orders, exact.Orders)
		}
	})
}

// BenchmarkChangedOrdersFilterRollups prices keeping the filter rollups
// current through changed orders: each op imports one sync page of 250
// existing orders whose refunds changed into two publishers holding the
// same 100,000 lines, one with current filter rollups (the import moves
// them) and one without (the baseline, in the same run). It reports
// milliseconds per page for each and their ratio.
func BenchmarkChangedOrdersFilterRollups(b *testing.B) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			s := storetest.New(b, d)
			type side struct {
				rp    randomPublisher
				pages [][]store.SaleRow
				took  time.Duration
			}
			var sides [2]*side
			for i := range sides {
				rng := rand.New(rand.NewPCG(5, 6))
				rp := newRandomPublisher(b, s, fmt.Sprintf("p%d", i), rng, 0)
				lines := rp.randomSales(rng, 100_000)
				if _, err := s.BulkLoadSales(ctx, rp.pub.ID, slices.Values(lines)); err != nil {
					b.Fatal(err)
				}
				// Pages of whole orders of the first connector whose
				// products are its own, so an import finds them by id.
				ext := map[string]string{}
				for _, p := range rp.products {
					if p.ConnectorID == rp.connectors[0] {
						ext[p.ID] = p.ExternalID
					}
				}
				byOrder := map[string][]store.SaleRow{}
				var order []string
				for _, l := range lines {
					if l.ConnectorID != rp.connectors[0] {
						continue
					}
					id, own := ext[l.ProductID]
					if !own {
						byOrder[l.ExternalOrderID] = nil
						continue
					}
					rows, seen := byOrder[l.ExternalOrderID]
					if seen && rows == nil {
						continue
					}
					if !seen {
						order = append(order, l.ExternalOrderID)
					}
					byOrder[l.ExternalOrderID] = append(rows, store.SaleRow{OrderID: l.ExternalOrderID, LineID: l.ExternalLineID,
						ProductID: id, Name: "Item", OrderDate: l.OrderDate, Quantity: l.Quantity, Gross: l.Gross, Discount: l.Discount,
						Currency: "USD", Country: l.Country, Channel: l.Channel})
				}
				sd := &side{rp: rp}
				var page []store.SaleRow
				for _, o := range order {
					if byOrder[o] == nil {
						continue
					}
					page = append(page, byOrder[o]...)
					if len(page) >= 250 {
						sd.pages = append(sd.pages, page)
						page = nil
					}
				}
				sides[i] = sd
			}
			if err := s.RefreshFilterRollups(ctx, sides[0].rp.pub.ID); err != nil {
				b.Fatal(err)
			}
			d0 := s.FilterDeltas()
			b.ResetTimer()
			for n := 0; b.Loop(); n++ {
				for _, sd := range sides {
					// A refund of half of each page's first line per order,
					// or none, in turn; each version newer than the last.
					page := slices.Clone(sd.pages[n%len(sd.pages)])
					at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Minute)
					for j := range page {
						page[j].UpdatedAt = at
						if page[j].LineID == "0" && (n/len(sd.pages))%2 == 0 {
							page[j].Refunded, page[j].RefundedAt = page[j].Gross/2, page[j].OrderDate.Add(72*time.Hour)
						}
					}
					start := time.Now()
					_, err := s.Import(ctx, sd.rp.pub.ID, store.ImportSpec{Kind: store.ImportSales, ConnectorID: sd.rp.connectors[0], Source: "bench"},
						func(w *store.ImportWriter) error { return w.WriteSales(ctx, page) })
					sd.took += time.Since(start)
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.StopTimer()
			if ok, err := s.FilterRollupsCurrent(ctx, sides[0].rp.pub.ID); err != nil || !ok || s.FilterDeltas() == d0 {
				b.Fatalf("the filter rollups did not follow the pages: current %v, %v", ok, err)
			}
			ms := func(t time.Duration) float64 { return float64(t.Microseconds()) / 1000 / float64(b.N) }
			b.ReportMetric(ms(sides[0].took), "ms-current/page")
			b.ReportMetric(ms(sides[1].took), "ms-stale/page")
			b.ReportMetric(float64(sides[0].took)/float64(sides[1].took), "ratio")
		})
	}
}

// TestFilterRollupsSurviveCatalogEdits: writes that change nothing the
// filter rollups are built from (the tagger's suggestions, game IPs and
// assets created, renamed or archived) bump the data version and leave
// current filter rollups current and exact; moving an asset to another
// game IP (which moves its products) leaves them stale.
func TestFilterRollupsSurviveCatalogEdits(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(11, 12))
		rp := newRandomPublisher(t, s, "alpha", rng, 600)
		other := newRandomPublisher(t, s, "beta", rng, 100)
		refresh := rebuilder(t, s, rp, other)
		refresh("built")
		pub := rp.pub.ID
		g := &phantomos.GameIP{Name: "Later IP", Slug: "later-ip"}
		a := &phantomos.Asset{Name: "Later hero", AssetType: phantomos.AssetCharacter}
		for _, step := range []struct {
			name  string
			write func() error
		}{
			{"suggestions saved", func() error {
				var unmapped string
				for _, p := range rp.products {
					if p.MappingStatus != phantomos.MappingConfirmed {
						unmapped = p.ID
					}
				}
				n, err := s.SaveSuggestions(ctx, pub, map[string][]store.Suggestion{unmapped: {{AssetID: rp.assets[0], Confidence: 0.8, Source: "local"}}})
				if err == nil && n != 1 {
					err = fmt.Errorf("%d products updated", n)
				}
				return err
			}},
			{"game IP created", func() error { return s.CreateGameIP(ctx, pub, g) }},
			{"game IP renamed", func() error { g.Name = "Later IP, renamed"; return s.UpdateGameIP(ctx, pub, g) }},
			{"asset created", func() error { a.GameIPID = g.ID; return s.CreateAsset(ctx, pub, a) }},
			{"asset archived", func() error { return s.SetAssetArchived(ctx, pub, rp.assets[1], true) }},
			{"game IP archived", func() error { return s.SetGameIPArchived(ctx, pub, rp.gameIPs[1], true) }},
		} {
			v0, err := s.DataVersion(ctx, pub)
			if err != nil {
				t.Fatal(err)
			}
			if err := step.write(); err != nil {
				t.Fatalf("%s: %v", step.name, err)
			}
			if v, err := s.DataVersion(ctx, pub); err != nil || v != v0+1 {
				t.Fatalf("%s: data version %d, want %d (%v)", step.name, v, v0+1, err)
			}
			current(t, s, pub, true, step.name)
		}
		checkAgainstNaive(t, s, rp, "after catalog edits")
		// Its products follow an asset to another game IP: stale.
		moved, err := s.Asset(ctx, pub, rp.assets[0])
		if err != nil {
			t.Fatal(err)
		}
		moved.GameIPID = g.ID
		if err := s.UpdateAsset(ctx, pub, moved); err != nil {
			t.Fatal(err)
		}
		current(t, s, pub, false, "after an asset moved to another game IP")
		checkAgainstNaive(t, s, rp, "stale after an asset moved")
	})
}

// TestFilterRollupsFollowMappingChanges: reviews, accepted suggestions and
// bulk assignments move current filter rollups by what the orders of the
// changed products contribute before and after, under both refund
// bookings: the tables equal a rebuild's and every figure raw SQL's,
// including an asset left with no product (its rows go). More orders than
// the bound leave them stale.
func TestFilterRollupsFollowMappingChanges(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(61, 62))
		rp := newRandomPublisher(t, s, "alpha", rng, 1500)
		other := newRandomPublisher(t, s, "beta", rng, 300)
		refresh := rebuilder(t, s, rp, other)
		pub := rp.pub.ID
		followed := follower(t, s, rp, refresh)
		// An asset of no product yet: a product takes it alone, then
		// leaves it, so its rows come and go.
		lone := &phantomos.Asset{GameIPID: rp.gameIPs[0], Name: "Lone", AssetType: phantomos.AssetCharacter}
		if err := s.CreateAsset(ctx, pub, lone); err != nil {
			t.Fatal(err)
		}
		refresh("built")
		accepted := map[string]bool{}
		for _, booking := range bookings(t, s, rp, refresh) {
			label := "refunds booked " + booking + ": "
			p0, p1, p2 := rp.products[0].ID, rp.products[1].ID, rp.products[2].ID
			followed(label+"a product confirmed as the lone asset", func() error {
				_, err := s.ReviewProduct(ctx, pub, p0, store.Review{Action: store.ReviewConfirm,
					Assets: []store.ReviewAsset{{AssetID: lone.ID, Primary: true, Weight: 1}}})
				return err
			})
			followed(label+"the same product confirmed as two other assets", func() error {
				_, err := s.ReviewProduct(ctx, pub, p0, store.Review{Action: store.ReviewConfirm,
					Assets: []store.ReviewAsset{{AssetID: rp.assets[2], Primary: true, Weight: 1}, {AssetID: rp.assets[3], Weight: 2}}})
				return err
			})
			followed(label+"an asset assigned to three products", func() error {
				_, err := s.AssignAsset(ctx, pub, []string{p0, p1, p2}, rp.assets[4], "")
				return err
			})
			var undecided string
			for _, p := range rp.products[6:] {
				if p.MappingStatus != phantomos.MappingConfirmed && !accepted[p.ID] {
					undecided = p.ID
					break
				}
			}
			accepted[undecided] = true
			followed(label+"a suggestion accepted", func() error {
				if _, err := s.SaveSuggestions(ctx, pub, map[string][]store.Suggestion{undecided: {{AssetID: rp.assets[5], Confidence: 0.9, Source: "local"}}}); err != nil {
					return err
				}
				res, err := s.AcceptSuggestions(ctx, pub, 0.5, []string{undecided}, "")
				if err == nil && res.Products != 1 {
					err = fmt.Errorf("%d products accepted", res.Products)
				}
				return err
			})
		}
		// More orders than the bound: stale.
		s.SetFilterDeltaLines(1)
		defer s.SetFilterDeltaLines(0)
		if _, err := s.AssignAsset(ctx, pub, []string{rp.products[5].ID}, rp.assets[0], ""); err != nil {
			t.Fatal(err)
		}
		current(t, s, pub, false, "after an assignment past the bound")
		checkAgainstNaive(t, s, rp, "stale after an assignment past the bound")
	})
}

// BenchmarkReviewFilterRollups prices following reviews in the filter
// rollups: each op confirms one product's assets (another set each time)
// in two publishers holding the same 10,000 lines (25 products, about
// 400 lines each, within maxMappingOrders), one with current filter rollups (the review moves
// them) and one without (the baseline, in the same run). It reports
// milliseconds per review for each and their ratio.
func BenchmarkReviewFilterRollups(b *testing.B) {
	for _, d := range []store.Dialect{store.SQLite, store.Postgres} {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			s := storetest.New(b, d)
			var sides [2]randomPublisher
			var took [2]time.Duration
			for i := range sides {
				rng := rand.New(rand.NewPCG(7, 8))
				sides[i] = newRandomPublisher(b, s, fmt.Sprintf("p%d", i), rng, 10_000)
			}
			if err := s.RefreshFilterRollups(ctx, sides[0].pub.ID); err != nil {
				b.Fatal(err)
			}
			d0 := s.FilterDeltas()
			for n := 0; b.Loop(); n++ {
				for i, rp := range sides {
					p := rp.products[n%len(rp.products)]
					rv := store.Review{Action: store.ReviewConfirm, Assets: []store.ReviewAsset{
						{AssetID: rp.assets[n%len(rp.assets)], Primary: true, Weight: 1},
						{AssetID: rp.assets[(n+1+n/len(rp.products))%len(rp.assets)], Weight: 1}}}
					if rv.Assets[0].AssetID == rv.Assets[1].AssetID {
						rv.Assets = rv.Assets[:1]
					}
					start := time.Now()
					if _, err := s.ReviewProduct(ctx, rp.pub.ID, p.ID, rv); err != nil {
						b.Fatal(err)
					}
					took[i] += time.Since(start)
				}
			}
			if ok, err := s.FilterRollupsCurrent(ctx, sides[0].pub.ID); err != nil || !ok || s.FilterDeltas() != d0+int64(b.N) {
				b.Fatalf("the filter rollups did not follow every review: current %v (%v), %d of %d followed", ok, err, s.FilterDeltas()-d0, b.N)
			}
			ms := func(t time.Duration) float64 { return float64(t.Microseconds()) / 1000 / float64(b.N) }
			b.ReportMetric(ms(took[0]), "ms-current/review")
			b.ReportMetric(ms(took[1]), "ms-stale/review")
			b.ReportMetric(float64(took[0])/float64(took[1]), "ratio")
		})
	}
}
