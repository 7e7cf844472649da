package analytics_test

import (
	"context"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
	"github.com/phantomos/phantomos/internal/demo"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestReportsReconcile: on the demo, under every attribution model, asset
// revenue plus unmapped equals total revenue exactly, per asset type and per
// game IP too; the comparison's totals equal the asset report's; and the
// overview's total equals the asset report's.
func TestReportsReconcile(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
		pub, err := demo.Load(ctx, s, demo.Options{Sales: 4000, Seed: 3, Now: now}, nil)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := analytics.Range("12m", now, pub.Location())
		cmp, _, _ := analytics.Compare(p, analytics.ComparePrevious)
		for _, model := range []string{phantomos.AttributionPrimary, phantomos.AttributionEqual, phantomos.AttributionWeighted} {
			pub.Settings.AttributionModel = model
			rep, err := analytics.BuildAssetReport(ctx, s, pub, p, cmp, true, store.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			sum := rep.Unmapped
			for _, a := range rep.Assets {
				sum += a.NetRevenue
			}
			if sum != rep.Total || rep.Total == 0 {
				t.Errorf("%s: assets + unmapped = %d, total %d", model, sum, rep.Total)
			}
			for name, rows := range map[string][]analytics.Row{"types": rep.Types, "game IPs": rep.GameIPs} {
				var s int64
				for _, r := range rows {
					s += r.NetRevenue
				}
				if s != rep.Total {
					t.Errorf("%s: %s add up to %d, total %d", model, name, s, rep.Total)
				}
			}
			o, err := analytics.BuildOverview(ctx, s, pub, p, cmp, true, store.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if o.Current.NetRevenue != rep.Total {
				t.Errorf("%s: overview net %d, asset report total %d", model, o.Current.NetRevenue, rep.Total)
			}
			direct, err := s.Breakdown(ctx, pub.ID, p.From, p.To, store.Filter{}, store.ByCategory)
			if err != nil {
				t.Fatal(err)
			}
			if len(direct) != len(o.Categories) {
				t.Fatalf("%d categories, breakdown has %d", len(o.Categories), len(direct))
			}
			for i, r := range direct {
				if c := o.Categories[i]; c.Key != r.Key || c.NetRevenue != r.Net || c.Units != r.Units {
					t.Errorf("category %d: overview %+v, breakdown %+v", i, c, r)
				}
			}
			ids := []string{rep.Assets[0].ID, rep.Assets[1].ID}
			c, err := analytics.BuildComparison(ctx, s, pub, ids, p, cmp, true, store.Filter{})
			if err != nil {
				t.Fatal(err)
			}
			for i, a := range c.Assets {
				if a.NetRevenue != rep.Assets[i].NetRevenue {
					t.Errorf("%s: comparison total of %s %d, asset report %d", model, a.Name, a.NetRevenue, rep.Assets[i].NetRevenue)
				}
				var trend int64
				for _, v := range a.Trend {
					trend += v
				}
				if d := trend - a.NetRevenue; d > int64(len(a.Trend)) || d < -int64(len(a.Trend)) {
					t.Errorf("%s: %s trend sums to %d, total %d (more than rounding)", model, a.Name, trend, a.NetRevenue)
				}
			}
		}
	})
}
