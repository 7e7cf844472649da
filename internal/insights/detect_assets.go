package insights

import (
	"fmt"
	"math"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// Thresholds of the asset trend detector.
const (
	// trendMonths is how many recent months are compared with the same
	// months a year earlier.
	trendMonths = 3
	// trendAlpha is the family-wise false-alarm rate over all assets tested.
	trendAlpha = 0.05
	// trendMinChange is the smallest move reported: the change against the
	// typical asset on last year, or the fitted trend over twelve months.
	trendMinChange = 0.20
	// trendMinShare is the smallest share of revenue (in either period) an
	// asset needs to be worth a finding.
	trendMinShare = 0.005
)

// assetTrends finds assets accelerating or declining against their own
// seasonality and the business as a whole.
//
// Each asset's monthly attributed revenue is taken in logs, relative to the
// typical asset: the median, over the assets selling in every month, of
// each month's deviation from their own average. That takes out the
// holiday peaks, the summer dip and the growth everyone shares, and, unlike
// a share of total revenue, is not dragged down when a new game launches.
// Two tests are run on that relative series:
//
//   - year on year: the last three months against the same months a year
//     earlier (which cancels the asset's own seasonality), the mean change
//     tested against the asset's month-to-month noise (each month against
//     its neighbours, robustly estimated);
//   - trend: the least-squares slope over the last 24 months against its
//     standard error.
//
// The smaller (two-sided) p-value is Bonferroni-adjusted for the two tests
// and for the number of assets tested; an asset is reported when the adjusted p-value
// is below 5%, both tests point the same way and its revenue moved at least
// 20% against the typical asset. The confidence is one minus the adjusted
// p-value.
func assetTrends(d *dataset) []finding {
	n := len(d.months)
	if n < 12+trendMonths {
		return nil
	}
	last := n - 1
	first := max(0, n-24)
	series := d.assetSeries()
	logs := map[string][]float64{}
	for _, a := range d.assets {
		v := series[a.ID]
		l := make([]float64, n-first)
		for i := range l {
			l[i] = logOf(float64(v[first+i]))
		}
		logs[a.ID] = l
	}
	common := commonComponent(d.assets, logs, netSeries(d.total)[first:])

	recentFrom, yearFrom := last-trendMonths+1, last-12-trendMonths+1
	recent, yearAgo := d.period(recentFrom, last), d.period(yearFrom, last-12)
	atR, atY := d.attributed(recentFrom, last, nil), d.attributed(yearFrom, last-12, nil)
	totR, totY := sumNet(d.total, recentFrom, last), sumNet(d.total, yearFrom, last-12)
	if totR <= 0 || totY <= 0 {
		return nil
	}
	// The typical asset's change on last year, to judge each against.
	var changes []float64
	for _, a := range d.assets {
		if r, y := atR.ByAsset[a.ID], atY.ByAsset[a.ID]; r > 0 && y > 0 && established(logs[a.ID]) {
			changes = append(changes, math.Log(float64(r)/float64(y)))
		}
	}
	typical := math.Expm1(median(changes))

	type candidate struct {
		asset        *phantomos.Asset
		yoyT, trendT float64
		trend        float64
		p            float64
	}
	var cands []candidate
	for _, a := range d.assets {
		r := make([]float64, len(common))
		for i := range r {
			r[i] = logs[a.ID][i] - common[i]
		}
		_, yoyT, _, pYoY, ok := yoyTest(r, trendMonths)
		if !ok {
			continue
		}
		b, se, df, ok := slopeTest(r)
		if !ok {
			continue
		}
		// Either direction counts, so both p-values are two-sided.
		p := 1.0
		if b*yoyT > 0 {
			p = 2 * math.Min(pYoY, upperTail(math.Abs(b/se), df))
		}
		cands = append(cands, candidate{asset: a, yoyT: yoyT, trendT: b / se, trend: b, p: p})
	}
	var out []finding
	for _, c := range cands {
		adj := bonferroni(c.p, 2*len(cands))
		if adj >= trendAlpha {
			continue
		}
		a := c.asset
		revR, revY := atR.ByAsset[a.ID], atY.ByAsset[a.ID]
		if revR <= 0 || revY <= 0 {
			continue
		}
		shareR, shareY := float64(revR)/float64(totR), float64(revY)/float64(totY)
		revChange, totalChange := float64(revR)/float64(revY)-1, float64(totR)/float64(totY)-1
		relative := (1+revChange)/(1+typical) - 1
		// The move is large enough when either measure of it is: the change
		// on the same months last year against the typical asset, or the
		// fitted trend over a year (steadier than three months' noise).
		size := math.Max(math.Abs(relative), math.Abs(math.Expm1(12*c.trend)))
		if math.Max(shareR, shareY) < trendMinShare || size < trendMinChange || relative*c.trend <= 0 {
			continue
		}
		rising := relative > 0
		f := finding{typ: store.InsightRisk, fingerprint: "asset-trend:" + a.ID + ":down", confidence: confidence(adj)}
		if rising {
			f.typ, f.fingerprint = store.InsightTrend, "asset-trend:"+a.ID+":up"
		}
		f.title = trendTitle(a.Name, rising, revChange, typical)
		cur := d.pub.ReportingCurrency
		f.description = fmt.Sprintf("%s earned %s in %s against %s in the same months a year earlier (%s), while the typical asset changed %s and total revenue %s. "+
			"%s, and over the last %d months it has %s by about %s a month against the typical asset. "+
			"A move this large is unlikely to be month-to-month noise (%s, allowing for both tests and the %d assets tested).",
			a.Name, money(revR, cur), periodName(recent), money(revY, cur), signedPct(revChange), signedPct(typical), signedPct(totalChange),
			shareMove(shareY, shareR), len(common), map[bool]string{true: "grown", false: "shrunk"}[rising], pct(math.Expm1(c.trend)),
			pValue(adj), len(cands))
		suggestion := fmt.Sprintf("Review %s's range: slow reorders of its weakest products and test a refresh, such as new designs or bundles with a rising asset, before cutting the line.", a.Name)
		kind := KindAssetDeclining
		if rising {
			kind = KindAssetRising
			suggestion = fmt.Sprintf("Give %s more room: extend its line into new product kinds and put it forward in licensing talks while demand is growing.", a.Name)
			if best := bestCategory(d, a.ID, recentFrom, last); best != "" {
				suggestion = fmt.Sprintf("Give %s more room: extend its line beyond %s, where it sells best, and put it forward in licensing talks while demand is growing.", a.Name, titleWord(best))
			}
		}
		f.evidence = Evidence{
			Kind: kind, Subject: Subject{Kind: "asset", ID: a.ID, Name: a.Name},
			Period: recent, Baseline: &yearAgo, Metric: revChange, Suggestion: suggestion,
			Figures: []Figure{
				{Label: a.Name + ", attributed net revenue, " + periodName(recent), Measure: MeasureAttributed, Amount: revR, Period: recent, Filter: Filter{Asset: a.ID}},
				{Label: a.Name + ", attributed net revenue, " + periodName(yearAgo), Measure: MeasureAttributed, Amount: revY, Period: yearAgo, Filter: Filter{Asset: a.ID}},
				{Label: "Total net revenue, " + periodName(recent), Measure: MeasureNet, Amount: totR, Period: recent},
				{Label: "Total net revenue, " + periodName(yearAgo), Measure: MeasureNet, Amount: totY, Period: yearAgo},
			},
			Stats: []Stat{
				{Key: "revenue_change", Label: "Revenue change on the same months last year", Value: revChange, Unit: "fraction"},
				{Key: "typical_change", Label: "Change of the typical asset", Value: typical, Unit: "fraction"},
				{Key: "relative_change", Label: "Change against the typical asset", Value: relative, Unit: "fraction"},
				{Key: "total_change", Label: "Change of total revenue", Value: totalChange, Unit: "fraction"},
				{Key: "share_recent", Label: "Share of revenue, " + periodName(recent), Value: shareR, Unit: "fraction"},
				{Key: "share_year_ago", Label: "Share of revenue, " + periodName(yearAgo), Value: shareY, Unit: "fraction"},
				{Key: "trend_per_month", Label: fmt.Sprintf("Trend against the typical asset over %d months, per month", len(common)), Value: math.Expm1(c.trend), Unit: "fraction"},
				{Key: "t_year_on_year", Label: "t statistic, year on year against monthly noise", Value: c.yoyT, Unit: "number"},
				{Key: "t_trend", Label: "t statistic, trend", Value: c.trendT, Unit: "number"},
				{Key: "p_value", Label: "p-value, adjusted for both tests and the assets tested", Value: adj, Unit: "p"},
				{Key: "assets_tested", Label: "Assets tested", Value: float64(len(cands)), Unit: "number"},
			},
			Series: d.series(series[a.ID], first),
			Links: []Link{
				{Label: "Assets, " + periodName(recent) + " against last year", Href: "/assets" + query(recent, "compare", "year")},
				{Label: "Trend of products featuring " + a.Name, Href: "/assets/" + a.ID + "?range=12m"},
			},
		}
		out = append(out, f)
	}
	return out
}

// trendTitle is the headline of an asset trend. The verb follows the
// asset's own revenue, which is what the Assets page shows: an asset whose
// revenue grew, but less than the typical asset's, is "losing ground", not
// "declining" (the demo once said "declining: revenue up 24%"), and one
// whose revenue fell less than the typical asset's is "gaining ground".
func trendTitle(name string, rising bool, change, typical float64) string {
	switch {
	case rising && change > 0:
		return fmt.Sprintf("%s is rising: revenue up %s on the same months last year", name, pct(change))
	case !rising && change < 0:
		return fmt.Sprintf("%s is declining: revenue down %s on the same months last year", name, pct(change))
	case rising:
		return fmt.Sprintf("%s is gaining ground: revenue %s %s on the same months last year, against %s for the typical asset",
			name, upDown(change), pct(change), signedPct(typical))
	}
	return fmt.Sprintf("%s is losing ground: revenue %s %s on the same months last year, against %s for the typical asset",
		name, upDown(change), pct(change), signedPct(typical))
}

// shareMove describes a share of revenue moving from a to b.
func shareMove(a, b float64) string {
	if pct(a) == pct(b) {
		return "Its share of revenue held at " + pct(b)
	}
	return "Its share of revenue moved from " + pct(a) + " to " + pct(b)
}

// established reports whether a log series has a value in every month.
func established(l []float64) bool {
	for _, v := range l {
		if !finite(v) {
			return false
		}
	}
	return len(l) > 0
}

// commonComponent returns, per month, what the assets selling in every
// month have in common: the median of their deviations from their own mean
// log revenue. With fewer than five such assets it falls back to the log
// of total revenue.
func commonComponent(assets []*phantomos.Asset, logs map[string][]float64, total []int64) []float64 {
	var rows [][]float64
	for _, a := range assets {
		l := logs[a.ID]
		if !established(l) {
			continue
		}
		var mean float64
		for _, v := range l {
			mean += v
		}
		mean /= float64(len(l))
		dev := make([]float64, len(l))
		for i, v := range l {
			dev[i] = v - mean
		}
		rows = append(rows, dev)
	}
	out := make([]float64, len(total))
	if len(rows) < 5 {
		for i, v := range total {
			out[i] = logOf(float64(v))
		}
		return out
	}
	col := make([]float64, len(rows))
	for i := range out {
		for k, r := range rows {
			col[k] = r[i]
		}
		out[i] = median(col)
	}
	return out
}

// slopeTest fits a straight line to the finite values of y over time and
// returns its slope, the slope's standard error and the residual degrees
// of freedom; false with fewer than 8 values.
func slopeTest(y []float64) (b, se float64, df int, ok bool) {
	var xs, ys []float64
	for i, v := range y {
		if finite(v) {
			xs, ys = append(xs, float64(i)), append(ys, v)
		}
	}
	n := len(xs)
	if n < 8 {
		return 0, 0, 0, false
	}
	mx, _ := meanSD(xs)
	my, _ := meanSD(ys)
	var sxx, sxy float64
	for i := range xs {
		sxx += (xs[i] - mx) * (xs[i] - mx)
		sxy += (xs[i] - mx) * (ys[i] - my)
	}
	b = sxy / sxx
	var rss float64
	for i := range xs {
		r := ys[i] - my - b*(xs[i]-mx)
		rss += r * r
	}
	df = n - 2
	se = math.Sqrt(rss / float64(df) / sxx)
	if se == 0 {
		return 0, 0, 0, false
	}
	return b, se, df, true
}

// bestCategory returns the category in which asset earns most over months
// i..j, "" when it earns nothing.
func bestCategory(d *dataset, asset string, i, j int) string {
	best, bestV := "", int64(0)
	for _, c := range phantomos.Categories {
		at := d.attributed(i, j, func(p string) bool { pr := d.products[p]; return pr != nil && pr.Category == c })
		if v := at.ByAsset[asset]; v > bestV {
			best, bestV = c, v
		}
	}
	return best
}
