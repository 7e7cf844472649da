package insights

import (
	"context"
	"fmt"
	"math"

	"github.com/phantomos/phantomos/internal/analytics"
	"github.com/phantomos/phantomos/internal/store"
)

// Thresholds of the segment share detector.
const (
	// segmentMinShare is the share of total revenue a channel or country
	// needs to be examined.
	segmentMinShare = 0.05
	// segmentMaxCountries is how many of the largest countries are
	// examined.
	segmentMaxCountries = 8
	// segmentMinAssetShare is the share of a segment's revenue an asset
	// needs in the recent months to be worth a finding.
	segmentMinAssetShare = 0.01
	// segmentMinRise is the smallest rise of an asset's share in a segment,
	// beyond its rise everywhere, that is reported.
	segmentMinRise = 0.25
	// segmentAlpha is the family-wise false-alarm rate over all the asset
	// and segment pairs tested.
	segmentAlpha = 0.05
)

// segment is a channel or a country.
type segment struct {
	dim  store.Dimension
	key  string
	name string
	figs []figs
}

func (g segment) filter(asset string) Filter {
	if g.dim == store.ByChannel {
		return Filter{Asset: asset, Channel: g.key}
	}
	return Filter{Asset: asset, Country: g.key}
}

// segmentShares finds assets gaining share in one channel or country
// beyond what they gain everywhere: a local breakout worth backing there.
//
// For each channel and large country, and each asset, the log of the
// asset's share of the segment's monthly revenue minus the log of its share
// of all revenue is tested like an asset trend (the last three months
// against the same months a year earlier, against month-to-month noise;
// and the trend over 24 months), one-sided upwards, Bonferroni-adjusted
// over both tests and every pair tested.
func segmentShares(ctx context.Context, s *store.Store, d *dataset) ([]finding, error) {
	n := len(d.months)
	if n < 12+trendMonths {
		return nil, nil
	}
	last := n - 1
	first := max(0, n-24)
	tot := sumNet(d.total, max(0, last-11), last)
	if tot <= 0 {
		return nil, nil
	}
	var segs []segment
	for _, k := range sortedKeys(d.channels, func(v []figs) int64 { return sumNet(v, max(0, last-11), last) }) {
		if float64(sumNet(d.channels[k], max(0, last-11), last)) >= segmentMinShare*float64(tot) && len(d.channels) > 1 {
			segs = append(segs, segment{dim: store.ByChannel, key: k, name: titleWord(k), figs: d.channels[k]})
		}
	}
	var countries []string
	for _, k := range sortedKeys(d.countries, func(v []figs) int64 { return sumNet(v, max(0, last-11), last) }) {
		if len(countries) < segmentMaxCountries && len(d.countries) > 1 && float64(sumNet(d.countries[k], max(0, last-11), last)) >= segmentMinShare*float64(tot) {
			countries = append(countries, k)
			segs = append(segs, segment{dim: store.ByCountry, key: k, name: countryName(k), figs: d.countries[k]})
		}
	}
	if len(segs) == 0 {
		return nil, nil
	}
	perSeg, err := loadSegments(ctx, s, d, first, countries)
	if err != nil {
		return nil, err
	}
	return segmentFindings(d, segs, perSeg), nil
}

// segmentSales holds each product's net revenue per segment and month:
// dimension → segment key → month index → product → net.
type segmentSales map[store.Dimension]map[string][]map[string]int64

// loadSegments reads the product revenue of every channel and of the given
// countries per month, from month first on.
func loadSegments(ctx context.Context, s *store.Store, d *dataset, first int, countries []string) (segmentSales, error) {
	n := len(d.months)
	from, to := d.period(first, n-1).From, d.period(first, n-1).To
	perSeg := segmentSales{}
	for dim, keys := range map[store.Dimension][]string{store.ByChannel: nil, store.ByCountry: countries} {
		if dim == store.ByCountry && len(keys) == 0 {
			continue
		}
		rows, err := s.MonthlyProductSegments(ctx, d.pub.ID, dim, from, to, keys)
		if err != nil {
			return nil, err
		}
		m := map[string][]map[string]int64{}
		for _, r := range rows {
			i, ok := d.index[r.Month]
			if !ok {
				continue
			}
			if m[r.Key] == nil {
				m[r.Key] = make([]map[string]int64, n)
			}
			if m[r.Key][i] == nil {
				m[r.Key][i] = map[string]int64{}
			}
			m[r.Key][i][r.ProductID] += r.Net
		}
		perSeg[dim] = m
	}
	return perSeg, nil
}

// segmentFindings runs the segment share tests of segmentShares on loaded
// data.
func segmentFindings(d *dataset, segs []segment, perSeg segmentSales) []finding {
	n := len(d.months)
	last := n - 1
	first := max(0, n-24)
	recentFrom, yearFrom := last-trendMonths+1, last-12-trendMonths+1
	overall := d.assetSeries()
	total := netSeries(d.total)

	type candidate struct {
		g     segment
		asset string
		t     float64
		trend float64
		p     float64
	}
	var cands []candidate
	for _, g := range segs {
		months := perSeg[g.dim][g.key]
		if months == nil {
			continue
		}
		bySeg := map[string][]float64{}
		for i := first; i <= last; i++ {
			at := analytics.Attribute(months[i], d.links, d.model)
			for _, a := range d.assets {
				if bySeg[a.ID] == nil {
					bySeg[a.ID] = make([]float64, n-first)
				}
				bySeg[a.ID][i-first] = logOf(float64(at.ByAsset[a.ID])) - logOf(float64(g.figs[i].net)) -
					(logOf(float64(overall[a.ID][i])) - logOf(float64(total[i])))
			}
		}
		for _, a := range d.assets {
			r := bySeg[a.ID]
			_, yoyT, _, pYoY, ok := yoyTest(r, trendMonths)
			if !ok {
				continue
			}
			b, se, df, ok := slopeTest(r)
			if !ok {
				continue
			}
			p := 1.0
			if yoyT > 0 && b > 0 {
				p = math.Min(pYoY, upperTail(b/se, df))
			}
			cands = append(cands, candidate{g: g, asset: a.ID, t: yoyT, trend: b, p: p})
		}
	}
	recent, yearAgo := d.period(recentFrom, last), d.period(yearFrom, last-12)
	atR, atY := d.attributed(recentFrom, last, nil), d.attributed(yearFrom, last-12, nil)
	totR, totY := sumNet(d.total, recentFrom, last), sumNet(d.total, yearFrom, last-12)
	var out []finding
	for _, c := range cands {
		adj := bonferroni(c.p, 2*len(cands))
		if adj >= segmentAlpha {
			continue
		}
		g, a := c.g, d.assetBy[c.asset]
		sum := func(i, j int) map[string]int64 {
			out := map[string]int64{}
			for k := i; k <= j; k++ {
				for id, v := range perSeg[g.dim][g.key][k] {
					out[id] += v
				}
			}
			return out
		}
		inR := analytics.Attribute(sum(recentFrom, last), d.links, d.model).ByAsset[a.ID]
		inY := analytics.Attribute(sum(yearFrom, last-12), d.links, d.model).ByAsset[a.ID]
		segR, segY := sumNet(g.figs, recentFrom, last), sumNet(g.figs, yearFrom, last-12)
		if inR <= 0 || inY <= 0 || segR <= 0 || segY <= 0 || atR.ByAsset[a.ID] <= 0 || atY.ByAsset[a.ID] <= 0 {
			continue
		}
		shareR, shareY := float64(inR)/float64(segR), float64(inY)/float64(segY)
		allR, allY := float64(atR.ByAsset[a.ID])/float64(totR), float64(atY.ByAsset[a.ID])/float64(totY)
		rise := (shareR/shareY)/(allR/allY) - 1
		// The share must have grown where the headline says so, not only
		// against the asset's share everywhere (which may have fallen more).
		if shareR < segmentMinAssetShare || rise < segmentMinRise || shareR <= shareY || pct(shareR) == pct(shareY) {
			continue
		}
		where := g.name
		filterKey := "country"
		if g.dim == store.ByChannel {
			filterKey = "channel"
		}
		out = append(out, finding{typ: store.InsightGrowth, fingerprint: "segment:" + string(g.dim) + ":" + g.key + ":" + a.ID, confidence: confidence(adj),
			title: fmt.Sprintf("%s is gaining share in %s: %s of sales there, up from %s", a.Name, where, pct(shareR), pct(shareY)),
			description: fmt.Sprintf("In %s, %s earned %s in %s (%s of sales there) against %s a year earlier (%s). Everywhere, its share went from %s to %s, "+
				"so %s is moving faster than the rest of the business (%s, allowing for both tests and the %d asset and segment pairs tested).",
				where, a.Name, money(inR, d.pub.ReportingCurrency), periodName(recent), pct(shareR), money(inY, d.pub.ReportingCurrency), pct(shareY),
				pct(allY), pct(allR), where, pValue(adj), len(cands)),
			evidence: Evidence{Kind: KindSegmentShare, Subject: Subject{Kind: filterKey, ID: g.key, Name: where}, Period: recent, Baseline: &yearAgo, Metric: rise,
				Suggestion: fmt.Sprintf("Back %s in %s: feature it in that %s's storefront and promotions and make sure its best sellers are in stock there.", a.Name, where, filterKey),
				Figures: []Figure{
					{Label: a.Name + " in " + where + ", attributed net revenue, " + periodName(recent), Measure: MeasureAttributed, Amount: inR, Period: recent, Filter: g.filter(a.ID)},
					{Label: a.Name + " in " + where + ", attributed net revenue, " + periodName(yearAgo), Measure: MeasureAttributed, Amount: inY, Period: yearAgo, Filter: g.filter(a.ID)},
					{Label: where + ", net revenue, " + periodName(recent), Measure: MeasureNet, Amount: segR, Period: recent, Filter: g.filter("")},
					{Label: where + ", net revenue, " + periodName(yearAgo), Measure: MeasureNet, Amount: segY, Period: yearAgo, Filter: g.filter("")},
				},
				Stats: []Stat{
					{Key: "share_recent", Label: "Share of sales in " + where + ", " + periodName(recent), Value: shareR, Unit: "fraction"},
					{Key: "share_year_ago", Label: "Share of sales in " + where + ", " + periodName(yearAgo), Value: shareY, Unit: "fraction"},
					{Key: "overall_share_recent", Label: "Share of all sales, " + periodName(recent), Value: allR, Unit: "fraction"},
					{Key: "overall_share_year_ago", Label: "Share of all sales, " + periodName(yearAgo), Value: allY, Unit: "fraction"},
					{Key: "relative_rise", Label: "Rise in " + where + " beyond the rise everywhere", Value: rise, Unit: "fraction"},
					{Key: "t_year_on_year", Label: "t statistic, year on year against monthly noise", Value: c.t, Unit: "number"},
					{Key: "p_value", Label: "p-value, adjusted for both tests and the pairs tested", Value: adj, Unit: "p"},
				},
				Links: []Link{{Label: "Assets in " + where + ", " + periodName(recent) + " against last year", Href: "/assets" + query(recent, filterKey, g.key, "compare", "year")}}}})
	}
	return out
}
