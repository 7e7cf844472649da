package store_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestProductNetByBucketMatchesNaive: revenue per product and day, week or
// month (what the asset comparison attributes) equals the same sums over
// raw sales, for random ranges, product lists and filters, on both engines.
func TestProductNetByBucketMatchesNaive(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(5, 9))
		rp := newRandomPublisher(t, s, "alpha", rng, 2000)
		newRandomPublisher(t, s, "beta", rng, 300)
		for trial := range 24 {
			a := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(300))
			from := phantomos.DayOf(a, time.UTC)
			to := phantomos.DayOf(a.AddDate(0, 0, 1+rng.IntN(200)), time.UTC)
			grain := []string{"day", "week", "month"}[trial%3]
			switch trial % 8 {
			case 4:
				// Whole weeks only: Monday to Sunday (product_weekly alone).
				from = phantomos.DayOf(a.AddDate(0, 0, -((int(a.Weekday())+6)%7)), time.UTC)
				to = phantomos.DayOf(from.Time().AddDate(0, 0, 7*(1+rng.IntN(20))-1), time.UTC)
			case 7:
				// Within one week: days only.
				to = phantomos.DayOf(a.AddDate(0, 0, rng.IntN(3)), time.UTC)
			}
			var f store.Filter
			for _, p := range rp.products {
				if rng.IntN(3) == 0 {
					f.Products = append(f.Products, p.ID)
				}
			}
			if trial%6 == 4 {
				f.Products = nil // every product: PostgreSQL sums the weeks itself
			}
			switch trial % 4 {
			case 1:
				f.Countries = []string{"US", "DE"} // the full-grain rollup
			case 2:
				f.Categories = phantomos.Categories[:3]
			}
			rows, err := s.ProductNetByBucket(ctx, rp.pub.ID, from, to, f, grain)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][2]int64{}
			for i, r := range rows {
				if i > 0 && (rows[i-1].Start > r.Start || rows[i-1].Start == r.Start && rows[i-1].ProductID >= r.ProductID) {
					t.Fatalf("trial %d: rows out of order at %d", trial, i)
				}
				got[string(r.Start)+" "+r.ProductID] = [2]int64{r.Net, 0}
			}
			// The naive side buckets days with Go's calendar, by day rows.
			days := naive(t, s, rp.pub.ID, from, to, f, "SUM(t.net_reporting), 0", s.DayText("t.day")+" || ' ' || CAST(t.product_id AS TEXT)")
			only := map[string]bool{}
			for _, id := range f.Products {
				only[id] = true
			}
			want := map[string][2]int64{}
			for k, v := range days {
				d, product := phantomos.Day(k[:10]), k[11:]
				if len(only) > 0 && !only[product] {
					continue // naive filters everything but the product list
				}
				start := d
				switch grain {
				case "week":
					start = phantomos.DayOf(d.Time().AddDate(0, 0, -((int(d.Time().Weekday())+6)%7)), time.UTC)
				case "month":
					start = phantomos.Day(k[:8] + "01")
				}
				w := want[string(start)+" "+product]
				want[string(start)+" "+product] = [2]int64{w[0] + v[0], 0}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("trial %d %s..%s by %s %+v (-naive +got):\n%s", trial, from, to, grain, f, diff)
			}
		}
	})
}
