package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// randomPublisher fills a publisher with random products (some mapped to
// random assets) and random multi-line orders over 2025.
type randomPublisher struct {
	pub        *phantomos.Publisher
	connectors []string
	gameIPs    []string
	assets     []string
	products   []*phantomos.Product
}

func newRandomPublisher(t testing.TB, s *store.Store, slug string, rng *rand.Rand, sales int) randomPublisher {
	t.Helper()
	ctx := context.Background()
	rp := randomPublisher{pub: &phantomos.Publisher{Name: slug, Slug: slug}}
	if err := s.CreatePublisher(ctx, rp.pub); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		c := &phantomos.Connector{Type: phantomos.ConnectorCSV, Name: fmt.Sprintf("c%d", i)}
		if err := s.CreateConnector(ctx, rp.pub.ID, c); err != nil {
			t.Fatal(err)
		}
		rp.connectors = append(rp.connectors, c.ID)
	}
	for i := range 2 {
		g := &phantomos.GameIP{Name: fmt.Sprintf("IP %d", i), Slug: fmt.Sprintf("ip-%d", i)}
		if err := s.CreateGameIP(ctx, rp.pub.ID, g); err != nil {
			t.Fatal(err)
		}
		rp.gameIPs = append(rp.gameIPs, g.ID)
		for j := range 3 {
			a := &phantomos.Asset{GameIPID: g.ID, Name: fmt.Sprintf("A%d-%d", i, j), AssetType: phantomos.AssetCharacter}
			if err := s.CreateAsset(ctx, rp.pub.ID, a); err != nil {
				t.Fatal(err)
			}
			rp.assets = append(rp.assets, a.ID)
		}
	}
	var links []phantomos.ProductAsset
	for i := range 25 {
		p := &phantomos.Product{ConnectorID: rp.connectors[i%3], ExternalID: fmt.Sprint(i), Name: fmt.Sprintf("Product %d", i),
			Category: phantomos.Categories[rng.IntN(len(phantomos.Categories))], Currency: "USD", Price: 1000}
		if rng.IntN(4) > 0 {
			p.GameIPID = rp.gameIPs[rng.IntN(2)]
		}
		if rng.IntN(5) > 0 {
			p.MappingStatus = phantomos.MappingConfirmed
		}
		rp.products = append(rp.products, p)
	}
	if err := s.CreateProducts(ctx, rp.pub.ID, rp.products, nil); err != nil {
		t.Fatal(err)
	}
	for _, p := range rp.products {
		perm := rng.Perm(len(rp.assets))[:rng.IntN(4)]
		for k, ai := range perm {
			links = append(links, phantomos.ProductAsset{ProductID: p.ID, AssetID: rp.assets[ai], IsPrimary: k == 0, Weight: float64(1 + rng.IntN(5)), Source: "human", Confidence: 1})
		}
	}
	if err := s.CreateProducts(ctx, rp.pub.ID, nil, links); err != nil {
		t.Fatal(err)
	}
	if _, err := s.BulkLoadSales(ctx, rp.pub.ID, slices.Values(rp.randomSales(rng, sales))); err != nil {
		t.Fatal(err)
	}
	return rp
}

// randomSales returns n random sale lines of rp's products, order by order:
// orders of one to three lines in five countries and three channels, a
// tenth of the lines refunded (some in part), most refunds on a day of
// their own up to two months later.
func (rp randomPublisher) randomSales(rng *rand.Rand, n int) []*phantomos.Sale {
	countries := []string{"US", "DE", "JP", "FR", "GB"}
	channels := []string{"web", "marketplace", "retail"}
	var rows []*phantomos.Sale
	for o := 0; len(rows) < n; o++ {
		day := phantomos.DayOf(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(365)), time.UTC)
		conn, country, channel := rng.IntN(3), countries[rng.IntN(5)], channels[rng.IntN(3)]
		for l := range 1 + rng.IntN(3) {
			p := rp.products[rng.IntN(len(rp.products))]
			qty := int64(1 + rng.IntN(3))
			gross := qty * int64(500+rng.IntN(5000))
			disc := int64(rng.IntN(2)) * gross / 10
			ref := int64(0)
			var refundDay phantomos.Day
			if rng.IntN(10) == 0 {
				ref = gross - disc
				if rng.IntN(5) == 0 {
					ref = gross / 3 // partial
				}
				// Most refunds have a date of their own, up to two months
				// after the order (some on its day, some past year end).
				if rng.IntN(4) > 0 {
					refundDay = phantomos.DayOf(day.Time().AddDate(0, 0, rng.IntN(60)), time.UTC)
				}
			}
			net := gross - disc - ref
			rows = append(rows, &phantomos.Sale{ProductID: p.ID, ConnectorID: rp.connectors[conn], ExternalOrderID: fmt.Sprintf("o%d", o),
				ExternalLineID: fmt.Sprint(l), OrderDate: day.Time().Add(time.Hour), Day: day, Quantity: qty, Gross: gross, Discount: disc,
				Refunded: ref, Net: net, Currency: "USD", NetReporting: net, GrossReporting: gross, DiscountReporting: disc, RefundedReporting: ref,
				Country: country, Channel: channel, RefundDay: refundDay})
		}
	}
	return rows
}

// naiveSales is the sales table as the publisher books refunds: as stored
// (net after refunds on the order's day), or, booked on the refund date,
// each line refunded on a later day counted at its net before the refund on
// its order's day plus a row of the refund alone (no order, no units,
// negative net) on its refund day.
func naiveSales(refundDate bool) string {
	if !refundDate {
		return "sales"
	}
	const later = `refund_day IS NOT NULL AND refund_day > day AND refunded_reporting <> 0`
	return `(SELECT publisher_id, product_id, connector_id, country, channel, day, external_order_id, has_order, quantity, gross_reporting,
			CASE WHEN ` + later + ` THEN net_reporting + refunded_reporting ELSE net_reporting END AS net_reporting
		FROM sales
		UNION ALL
		SELECT publisher_id, product_id, connector_id, country, channel, refund_day, NULL, FALSE, 0, 0, -refunded_reporting
		FROM sales WHERE ` + later + `)`
}

// naive computes a figure straight from the sales table, refunds booked as
// the publisher chooses.
func naive(t *testing.T, s *store.Store, pub phantomos.PublisherID, from, to phantomos.Day, f store.Filter, sel, group string) map[string][2]int64 {
	t.Helper()
	pp, err := s.Publisher(context.Background(), pub)
	if err != nil {
		t.Fatal(err)
	}
	q := `SELECT ` + group + `, ` + sel + ` FROM ` + naiveSales(pp.Settings.RefundsOnRefundDate()) + ` t
		JOIN products p ON p.id = t.product_id AND p.publisher_id = t.publisher_id
		LEFT JOIN connectors c ON c.id = t.connector_id
		WHERE t.publisher_id = $1 AND t.day BETWEEN $2 AND $3`
	args := []any{pub, string(from), string(to)}
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		q += " AND " + col + " IN ("
		for i, v := range vals {
			args = append(args, v)
			if i > 0 {
				q += ","
			}
			q += fmt.Sprintf("$%d", len(args))
		}
		q += ")"
	}
	in("t.country", f.Countries)
	in("t.channel", f.Channels)
	in("CAST(t.connector_id AS TEXT)", f.Connectors)
	in("p.category", f.Categories)
	in("CAST(p.game_ip_id AS TEXT)", f.GameIPs)
	if len(f.Assets) > 0 {
		q += " AND t.product_id IN (SELECT product_id FROM product_assets WHERE publisher_id = $1 AND CAST(asset_id AS TEXT) IN ("
		for i, v := range f.Assets {
			args = append(args, v)
			if i > 0 {
				q += ","
			}
			q += fmt.Sprintf("$%d", len(args))
		}
		q += "))"
	}
	if group[0] != '\'' { // a constant groups everything
		q += " GROUP BY " + group
	}
	rows, err := s.DB().Query(q, args...)
	if err != nil {
		t.Fatalf("naive: %v\n%s", err, q)
	}
	defer rows.Close()
	out := map[string][2]int64{}
	for rows.Next() {
		var k string
		var a, b int64
		if err := rows.Scan(&k, &a, &b); err != nil {
			t.Fatal(err)
		}
		out[k] = [2]int64{a, b}
	}
	return out
}

// TestAnalyticsMatchesNaiveQueries is the property test of the rollups:
// on random data (refunds on random later days), random ranges and random
// filters, every metric and breakdown read from the rollups equals the same
// figure computed from raw sales, with refunds booked on the order date and
// then, after the publisher switches, on the refund date.
func TestAnalyticsMatchesNaiveQueries(t *testing.T) {
	for _, booking := range []string{phantomos.RefundOnOrderDate, phantomos.RefundOnRefundDate} {
		t.Run(booking, func(t *testing.T) { testAnalyticsMatchesNaiveQueries(t, booking) })
	}
}

func testAnalyticsMatchesNaiveQueries(t *testing.T, booking string) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(7, 11))
		rp := newRandomPublisher(t, s, "alpha", rng, 3000)
		newRandomPublisher(t, s, "beta", rng, 500) // another tenant's data must never count
		if booking != phantomos.RefundOnOrderDate {
			// Switching rebuilds the rollups loaded under the default.
			rp.pub.Settings.RefundBooking = booking
			if err := s.UpdatePublisher(ctx, rp.pub); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.CheckRollups(ctx, rp.pub.ID); err != nil {
			t.Fatal(err)
		}
		pick := func(vals []string) []string {
			if rng.IntN(3) > 0 {
				return nil
			}
			out := []string{}
			for _, v := range vals {
				if rng.IntN(2) == 0 {
					out = append(out, v)
				}
			}
			if len(out) == 0 {
				out = vals[:1]
			}
			return out
		}
		// Month edges first: whole months only, partial edges on either side.
		edges := [][2]phantomos.Day{{"2025-03-01", "2025-05-31"}, {"2025-03-01", "2025-03-31"}, {"2025-02-15", "2025-04-30"},
			{"2025-03-01", "2025-04-10"}, {"2025-03-02", "2025-03-30"}, {"2024-12-01", "2026-01-31"}}
		for trial := range 40 + len(edges) {
			a := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(365))
			b := a.AddDate(0, 0, rng.IntN(200))
			from, to := phantomos.DayOf(a, time.UTC), phantomos.DayOf(b, time.UTC)
			if trial < len(edges) {
				from, to = edges[trial][0], edges[trial][1]
			}
			f := store.Filter{
				GameIPs: pick(rp.gameIPs), Assets: pick(rp.assets), Categories: pick(phantomos.Categories),
				Channels: pick([]string{"web", "marketplace", "retail"}), Connectors: pick(rp.connectors), Countries: pick([]string{"US", "DE", "JP", "FR", "GB"}),
			}
			got, err := s.Totals(ctx, rp.pub.ID, from, to, f)
			if err != nil {
				t.Fatal(err)
			}
			tot := naive(t, s, rp.pub.ID, from, to, f, "COALESCE(SUM(t.net_reporting),0), COALESCE(SUM(t.quantity),0)", "'all'")["all"]
			ord := naive(t, s, rp.pub.ID, from, to, f, "COUNT(DISTINCT CAST(t.connector_id AS TEXT) || '/' || t.external_order_id), COALESCE(SUM(t.gross_reporting),0)", "'all'")["all"]
			want := store.Summary{Net: tot[0], Units: tot[1], Orders: ord[0], Gross: ord[1]}
			got.Discount, got.Refunded = 0, 0
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("trial %d %s..%s %+v: totals (-naive +rollup):\n%s", trial, from, to, f, diff)
			}
			for dim, group := range map[store.Dimension]string{
				store.ByCategory: "p.category", store.ByCountry: "t.country", store.ByChannel: "t.channel",
				store.ByConnector: "CAST(t.connector_id AS TEXT)", store.ByProduct: "CAST(t.product_id AS TEXT)",
				store.ByGameIP: "COALESCE(CAST(p.game_ip_id AS TEXT), '')",
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
					t.Fatalf("trial %d breakdown by %s (-naive +rollup):\n%s", trial, dim, diff)
				}
				if !sort.SliceIsSorted(rows, func(i, j int) bool { return rows[i].Net > rows[j].Net }) {
					t.Errorf("breakdown by %s not sorted by revenue", dim)
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
				t.Fatalf("trial %d daily (-naive +rollup):\n%s", trial, diff)
			}
		}
	})
}

// TestMonthToDateReadsMonthlyRollup: a range ending in the last month with
// sales, after its last sale, is read from the monthly tables for that
// month; the figures must not change.
func TestMonthToDateReadsMonthlyRollup(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(3, 5))
		rp := newRandomPublisher(t, s, "alpha", rng, 800) // sales through 2025
		var last string
		if err := s.DB().QueryRow(`SELECT `+s.DayText("MAX(day)")+` FROM sales WHERE publisher_id = $1`, rp.pub.ID).Scan(&last); err != nil {
			t.Fatal(err)
		}
		end := phantomos.Day(last)
		for _, from := range []phantomos.Day{"2025-01-01", "2025-07-15", phantomos.Day(last[:8] + "01")} {
			for _, f := range []store.Filter{{}, {Categories: phantomos.Categories[:3]}} {
				got, err := s.Totals(ctx, rp.pub.ID, from, end, f)
				if err != nil {
					t.Fatal(err)
				}
				want := naive(t, s, rp.pub.ID, from, end, f, "COALESCE(SUM(t.net_reporting),0), COALESCE(SUM(t.quantity),0)", "'all'")["all"]
				if got.Net != want[0] || got.Units != want[1] {
					t.Errorf("%s..%s %+v: rollup net %d units %d, naive %v", from, end, f, got.Net, got.Units, want)
				}
				rows, err := s.Breakdown(ctx, rp.pub.ID, from, end, f, store.ByProduct)
				if err != nil {
					t.Fatal(err)
				}
				var sum int64
				for _, r := range rows {
					sum += r.Net
				}
				if sum != want[0] {
					t.Errorf("%s..%s: product breakdown sums to %d, naive %d", from, end, sum, want[0])
				}
			}
		}
	})
}
