package store_test

import (
	"cmp"
	"context"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

func newInsightPublisher(t *testing.T, s *store.Store, slug string) *phantomos.Publisher {
	t.Helper()
	p := &phantomos.Publisher{Name: slug, Slug: slug}
	if err := s.CreatePublisher(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

func insight(fp, evidence string) *store.Insight {
	return &store.Insight{Type: store.InsightTrend, Fingerprint: fp, Title: "Title " + fp, Description: "Because.",
		Confidence: 0.9, Evidence: json.RawMessage(evidence), Source: store.SourceLocal}
}

func TestInsightsUpsertStatusAndTenancy(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newInsightPublisher(t, s, "alpha")
		b := newInsightPublisher(t, s, "beta")
		clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		s.SetClock(func() time.Time { return clock })

		first := []*store.Insight{insight("x", `{"metric": 1}`), insight("y", `{"metric": 2}`)}
		if err := s.UpsertInsights(ctx, a.ID, first, nil); err != nil {
			t.Fatal(err)
		}
		if first[0].ID == "" || first[0].Status != store.InsightNew {
			t.Fatalf("inserted = %+v", first[0])
		}
		if err := s.SetInsightStatus(ctx, a.ID, first[0].ID, store.InsightDismissed); err != nil {
			t.Fatal(err)
		}
		if err := s.SetInsightStatus(ctx, a.ID, first[1].ID, store.InsightDone); err != nil {
			t.Fatal(err)
		}

		// A later run: x again with its evidence unchanged, y changed
		// materially; the dismissal of x stands, y is new again.
		clock = clock.Add(24 * time.Hour)
		second := []*store.Insight{insight("x", `{"metric": 1}`), insight("y", `{"metric": 20}`)}
		reopen := func(old, new *store.Insight) bool {
			var o, n struct{ Metric float64 }
			json.Unmarshal(old.Evidence, &o)
			json.Unmarshal(new.Evidence, &n)
			return n.Metric > 2*o.Metric
		}
		if err := s.UpsertInsights(ctx, a.ID, second, reopen); err != nil {
			t.Fatal(err)
		}
		if second[0].ID != first[0].ID || second[0].Status != store.InsightDismissed {
			t.Errorf("x after the second run = %+v, want the same id, still dismissed", second[0])
		}
		if second[1].ID != first[1].ID || second[1].Status != store.InsightNew {
			t.Errorf("y after the second run = %+v, want the same id, new again", second[1])
		}
		got, err := s.Insight(ctx, a.ID, second[1].ID)
		if err != nil {
			t.Fatal(err)
		}
		var ev struct{ Metric float64 }
		if err := json.Unmarshal(got.Evidence, &ev); err != nil || ev.Metric != 20 || !got.UpdatedAt.Equal(clock) || !got.CreatedAt.Equal(first[1].CreatedAt) {
			t.Errorf("stored y = %+v (evidence %s), want the new evidence, updated now, created at the first run", got, got.Evidence)
		}
		last, err := s.LastInsightRun(ctx, a.ID)
		if err != nil || !last.Equal(clock) {
			t.Errorf("last run = %v, %v; want %v", last, err, clock)
		}

		// A third run that finds only y: stale new insights go, the
		// dismissed x stays.
		clock = clock.Add(24 * time.Hour)
		if err := s.UpsertInsights(ctx, a.ID, []*store.Insight{insight("y", `{"metric": 20}`), insight("z", `{}`)}, reopen); err != nil {
			t.Fatal(err)
		}
		if err := s.UpsertInsights(ctx, a.ID, []*store.Insight{insight("q", `{}`)}, nil); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(time.Hour)
		if err := s.UpsertInsights(ctx, a.ID, []*store.Insight{insight("y", `{"metric": 20}`)}, nil); err != nil {
			t.Fatal(err)
		}
		if n, err := s.DeleteStaleInsights(ctx, a.ID, clock); err != nil || n != 2 {
			t.Errorf("deleted %d stale, %v; want 2 (z and q)", n, err)
		}
		list, err := s.Insights(ctx, a.ID, store.InsightFilter{})
		if err != nil {
			t.Fatal(err)
		}
		var fps []string
		for _, in := range list {
			fps = append(fps, in.Fingerprint+":"+in.Status)
		}
		if len(fps) != 2 || fps[0] != "y:new" || fps[1] != "x:dismissed" {
			t.Errorf("insights = %v, want [y:new x:dismissed]", fps)
		}
		if l, _ := s.Insights(ctx, a.ID, store.InsightFilter{Status: store.InsightDismissed}); len(l) != 1 || l[0].Fingerprint != "x" {
			t.Errorf("dismissed = %v", l)
		}

		// The other tenant sees and touches nothing of A's.
		if _, err := s.Insight(ctx, b.ID, first[0].ID); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("A's insight as B: %v, want not found", err)
		}
		if err := s.SetInsightStatus(ctx, b.ID, first[1].ID, store.InsightDone); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("set A's insight status as B: %v, want not found", err)
		}
		if l, err := s.Insights(ctx, b.ID, store.InsightFilter{}); err != nil || len(l) != 0 {
			t.Errorf("B's insights = %v, %v; want none", l, err)
		}
		if n, err := s.DeleteStaleInsights(ctx, b.ID, clock.Add(time.Hour)); err != nil || n != 0 {
			t.Errorf("B's stale delete = %d, %v", n, err)
		}
		if got, _ := s.Insight(ctx, a.ID, first[1].ID); got.Status != store.InsightNew {
			t.Errorf("A's insight changed by B: %+v", got)
		}
		// B may use the same fingerprint for its own finding.
		if err := s.UpsertInsights(ctx, b.ID, []*store.Insight{insight("x", `{}`)}, nil); err != nil {
			t.Fatal(err)
		}

		// Bad input is refused before anything is written.
		for name, in := range map[string]*store.Insight{
			"type":       {Type: "gossip", Fingerprint: "k", Title: "t", Confidence: 0.5, Evidence: json.RawMessage(`{}`), Source: store.SourceLocal},
			"confidence": {Type: store.InsightRisk, Fingerprint: "k", Title: "t", Confidence: 1.5, Evidence: json.RawMessage(`{}`), Source: store.SourceLocal},
			"evidence":   {Type: store.InsightRisk, Fingerprint: "k", Title: "t", Confidence: 0.5, Evidence: json.RawMessage(`{`), Source: store.SourceLocal},
			"source":     {Type: store.InsightRisk, Fingerprint: "k", Title: "t", Confidence: 0.5, Evidence: json.RawMessage(`{}`), Source: "oracle"},
		} {
			if err := s.UpsertInsights(ctx, a.ID, []*store.Insight{insight("ok", `{}`), in}, nil); phantomos.ErrorCode(err) != phantomos.EINVALID {
				t.Errorf("%s: %v, want invalid", name, err)
			}
		}
		if l, _ := s.Insights(ctx, a.ID, store.InsightFilter{}); len(l) != 2 {
			t.Errorf("%d insights after refused writes, want 2", len(l))
		}
		if err := s.SetInsightStatus(ctx, a.ID, first[0].ID, "archived"); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("bad status: %v", err)
		}
		if err := s.SetInsightStatus(ctx, a.ID, "not-an-id", store.InsightDone); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("malformed id: %v", err)
		}
	})
}

func TestForecastsSaveReplaceAndTenancy(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newInsightPublisher(t, s, "alpha")
		b := newInsightPublisher(t, s, "beta")
		mape := 0.08
		f := &store.Forecast{Scope: store.ScopeAsset, ScopeID: "hero", Grain: "month", Model: "Theta",
			Points: json.RawMessage(`[{"period": "2026-04", "point": 10}]`), BacktestError: &mape}
		if err := s.SaveForecast(ctx, a.ID, f); err != nil {
			t.Fatal(err)
		}
		again := &store.Forecast{Scope: store.ScopeAsset, ScopeID: "hero", Grain: "month", Model: "ETS(AAN)", Points: json.RawMessage(`[]`)}
		if err := s.SaveForecast(ctx, a.ID, again); err != nil {
			t.Fatal(err)
		}
		if again.ID != f.ID {
			t.Errorf("replacing forecast got id %s, want %s", again.ID, f.ID)
		}
		got, err := s.StoredForecast(ctx, a.ID, store.ScopeAsset, "hero", "month")
		if err != nil {
			t.Fatal(err)
		}
		if got.Model != "ETS(AAN)" || got.BacktestError != nil || string(got.Points) != "[]" {
			t.Errorf("stored = %+v, want the replacement", got)
		}
		if _, err := s.StoredForecast(ctx, b.ID, store.ScopeAsset, "hero", "month"); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("A's forecast as B: %v, want not found", err)
		}
		if l, err := s.StoredForecasts(ctx, b.ID); err != nil || len(l) != 0 {
			t.Errorf("B's forecasts = %v, %v", l, err)
		}
		if l, err := s.StoredForecasts(ctx, a.ID); err != nil || len(l) != 1 {
			t.Errorf("A's forecasts = %v, %v", l, err)
		}
		if err := s.SaveForecast(ctx, a.ID, &store.Forecast{Scope: "galaxy", Grain: "month", Points: json.RawMessage(`[]`)}); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("bad scope: %v", err)
		}
	})
}

// TestMonthlyReadsMatchTotals: the monthly reads the insight detectors use
// add up to the analytics totals of the same months, per product, channel
// and country, and see nothing of another tenant.
func TestMonthlyReadsMatchTotals(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rng := rand.New(rand.NewPCG(7, 7))
		rp := newRandomPublisher(t, s, "monthly", rng, 600)
		// Another tenant's sales, which no read may count.
		newRandomPublisher(t, s, "other", rng, 100)
		from, to := phantomos.Day("2025-03-01"), phantomos.Day("2025-05-31")

		byProduct, err := s.MonthlyProducts(ctx, rp.pub.ID, "2025-03", "2025-05")
		if err != nil {
			t.Fatal(err)
		}
		tot, err := s.Totals(ctx, rp.pub.ID, from, to, store.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		var net, refunded, gross int64
		for _, m := range byProduct {
			net, refunded, gross = net+m.Net, refunded+m.Refunded, gross+m.Gross
		}
		if net != tot.Net || refunded != tot.Refunded || gross != tot.Gross || net == 0 {
			t.Errorf("monthly products add up to net %d refunded %d gross %d; totals %+v", net, refunded, gross, tot)
		}
		for _, dim := range []store.Dimension{store.ByChannel, store.ByCountry} {
			segs, err := s.MonthlySegments(ctx, rp.pub.ID, dim, "2025-03", "2025-05")
			if err != nil {
				t.Fatal(err)
			}
			rows, err := s.Breakdown(ctx, rp.pub.ID, from, to, store.Filter{}, dim)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int64{}
			for _, r := range rows {
				want[r.Key] = r.Net
			}
			got, gotPS := map[string]int64{}, map[string]int64{}
			for _, m := range segs {
				got[m.Key] += m.Net
			}
			ps, err := s.MonthlyProductSegments(ctx, rp.pub.ID, dim, from, to, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ps {
				gotPS[m.Key] += m.Net
			}
			for k, v := range want {
				if got[k] != v || gotPS[k] != v {
					t.Errorf("%s %s: monthly segments %d, by product %d, breakdown %d", dim, k, got[k], gotPS[k], v)
				}
			}
			if len(got) != len(want) {
				t.Errorf("%s: %d segments, breakdown has %d", dim, len(got), len(want))
			}
		}
		ps, err := s.MonthlyProductSegments(ctx, rp.pub.ID, store.ByCountry, from, to, []string{"JP"})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ps {
			if m.Key != "JP" {
				t.Fatalf("keys filter let %q through", m.Key)
			}
		}
		// Read from the lines above; from product_geo_monthly once the
		// filter rollups are current: the same rows.
		segments := func() [][]store.MonthProductSegment {
			var out [][]store.MonthProductSegment
			for _, dim := range []store.Dimension{store.ByChannel, store.ByCountry} {
				for _, keys := range [][]string{nil, {"JP", "US"}} {
					ps, err := s.MonthlyProductSegments(ctx, rp.pub.ID, dim, from, to, keys)
					if err != nil {
						t.Fatal(err)
					}
					slices.SortFunc(ps, func(a, b store.MonthProductSegment) int {
						return cmp.Or(strings.Compare(a.Month, b.Month), strings.Compare(a.ProductID, b.ProductID), strings.Compare(a.Key, b.Key))
					})
					out = append(out, ps)
				}
			}
			return out
		}
		if ok, err := s.FilterRollupsCurrent(ctx, rp.pub.ID); err != nil || ok {
			t.Fatalf("filter rollups current before any build: %v, %v", ok, err)
		}
		fromLines := segments()
		if err := s.RefreshFilterRollups(ctx, rp.pub.ID); err != nil {
			t.Fatal(err)
		}
		if fromRollup := segments(); !reflect.DeepEqual(fromLines, fromRollup) {
			t.Errorf("monthly product segments differ between the lines and product_geo_monthly:\n%v\n%v", fromLines, fromRollup)
		}
		if _, err := s.MonthlySegments(ctx, rp.pub.ID, store.ByCategory, "2025-03", "2025-05"); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("segments by category: %v, want invalid", err)
		}
		counts, err := s.MonthlyRefundLines(ctx, rp.pub.ID, from, to)
		if err != nil {
			t.Fatal(err)
		}
		var lines, refundedLines int64
		for _, c := range counts {
			lines, refundedLines = lines+c.Lines, refundedLines+c.Refunded
			if c.Month < "2025-03" || c.Month > "2025-05" || c.Category == "" || c.Channel == "" {
				t.Errorf("refund lines: row %+v", c)
			}
		}
		var wantLines, wantRefunded int64
		if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*), COUNT(CASE WHEN refunded > 0 THEN 1 END) FROM sales WHERE publisher_id = $1 AND day BETWEEN $2 AND $3`,
			rp.pub.ID, string(from), string(to)).Scan(&wantLines, &wantRefunded); err != nil {
			t.Fatal(err)
		}
		if lines != wantLines || refundedLines != wantRefunded || refundedLines == 0 {
			t.Errorf("refund lines: %d lines, %d refunded; sales have %d and %d", lines, refundedLines, wantLines, wantRefunded)
		}
		first, ok, err := s.FirstSaleDay(ctx, rp.pub.ID)
		if err != nil || !ok || first < "2025-01-01" || first > "2025-01-31" {
			t.Errorf("first sale = %q, %v, %v", first, ok, err)
		}
		empty := newInsightPublisher(t, s, "empty")
		if _, ok, err := s.FirstSaleDay(ctx, empty.ID); ok || err != nil {
			t.Errorf("first sale of an empty publisher: %v, %v", ok, err)
		}
		if l, _ := s.MonthlyProducts(ctx, empty.ID, "2025-01", "2025-12"); len(l) != 0 {
			t.Errorf("empty publisher has %d monthly rows", len(l))
		}
	})
}
