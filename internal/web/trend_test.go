package web

import (
	"strings"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
)

// TestTrendChartMarksPartialBuckets: a week or month only partly inside the
// range says which days it holds, so its smaller sum does not read as a
// drop; whole buckets are labelled plainly.
func TestTrendChartMarksPartialBuckets(t *testing.T) {
	money := func(v int64) string { return formatMoneyCompact(v, "USD") }
	for _, tc := range []struct {
		from, to, grain string
		starts          []phantomos.Day
		want, not       []string
	}{
		{"2026-01-01", "2026-01-21", "week", []phantomos.Day{"2025-12-29", "2026-01-05", "2026-01-12", "2026-01-19"},
			[]string{"29 Dec (from 1 Jan)", "19 Jan (to 21 Jan)"}, []string{"5 Jan (", "12 Jan ("}},
		{"2026-01-05", "2026-01-18", "week", []phantomos.Day{"2026-01-05", "2026-01-12"},
			nil, []string{"(from", "(to"}},
		{"2024-01-01", "2026-12-02", "month", []phantomos.Day{"2024-01-01", "2026-11-01", "2026-12-01"},
			[]string{"Dec 26 (to 2 Dec)"}, []string{"(from", "Nov 26 ("}},
	} {
		o := &analytics.Overview{Period: analytics.Period{From: phantomos.Day(tc.from), To: phantomos.Day(tc.to)}, Grain: tc.grain}
		for i, d := range tc.starts {
			o.Trend = append(o.Trend, analytics.Point{Start: d, NetRevenue: int64(100 * (i + 1))})
		}
		got := string(trendChart("Net revenue", "This period", o, money))
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s..%s by %s: no %q in the chart", tc.from, tc.to, tc.grain, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%s..%s by %s: %q in the chart", tc.from, tc.to, tc.grain, n)
			}
		}
	}
}
