package insights

import (
	"fmt"
	"math"

	"github.com/phantomos/phantomos/internal/analytics"
	"github.com/phantomos/phantomos/internal/store"
)

// Thresholds of the concentration detector.
const (
	// assetShareLimit is the share of revenue one asset may carry before
	// it is a risk.
	assetShareLimit = 0.40
	// channelShareLimit is the share of revenue one channel may carry: a
	// publisher selling through a few channels has one above 40% as a
	// matter of course, but more than half through one is a dependency.
	channelShareLimit = 0.50
	// hhiLimit is the Herfindahl-Hirschman index (0 to 10,000) above which
	// revenue over assets is highly concentrated, the level competition
	// authorities use for markets.
	hhiLimit = 2500
	// minConcentrationConfidence is the least confidence reported.
	minConcentrationConfidence = 0.6
)

// concentration finds revenue carried by one asset or one channel over the
// last 12 complete months, and asset revenue concentrated on a few assets
// (HHI). The share over the whole window must exceed the limit; the
// confidence is that of a one-sided t test of the monthly shares against
// the limit: how surely the dependency is lasting rather than one month's
// accident.
func concentration(d *dataset) []finding {
	last := len(d.months) - 1
	from := max(0, last-11)
	if last-from < 2 {
		return nil
	}
	p := d.period(from, last)
	tot := sumNet(d.total, from, last)
	if tot <= 0 {
		return nil
	}
	var out []finding

	// One asset.
	at := d.attributed(from, last, nil)
	series := d.assetSeries()
	top, topV := "", int64(0)
	var mapped int64
	for _, a := range d.assets {
		v := at.ByAsset[a.ID]
		mapped += max(v, 0)
		if v > topV {
			top, topV = a.ID, v
		}
	}
	share := float64(topV) / float64(tot)
	topFound := false
	if top != "" && share > assetShareLimit {
		monthly := monthlyShares(series[top][from:last+1], netSeries(d.total)[from:last+1])
		if conf, t := shareConfidence(monthly, assetShareLimit); conf >= minConcentrationConfidence {
			topFound = true
			a := d.assetBy[top]
			others := rankedAssets(d, at, top, 2)
			suggestion := fmt.Sprintf("Spread the risk: build up other assets with new products and campaigns, so that a dip in %s's popularity does not hit the whole business.", a.Name)
			if len(others) > 0 {
				suggestion = fmt.Sprintf("Spread the risk: build up %s with new products and campaigns, so that a dip in %s's popularity does not hit the whole business.", joinAnd(others), a.Name)
			}
			out = append(out, finding{typ: store.InsightRisk, fingerprint: "concentration:asset:" + top, confidence: conf,
				title: fmt.Sprintf("%s carries %s of revenue", a.Name, pct(share)),
				description: fmt.Sprintf("Products featuring %s brought in %s of the %s earned in %s (%s). The monthly share stayed above %s on average (t = %.1f over %d months): "+
					"the business depends on one asset's popularity.", a.Name, money(topV, d.pub.ReportingCurrency), money(tot, d.pub.ReportingCurrency),
					periodName(p), pct(share), pct(assetShareLimit), t, len(monthly)),
				evidence: Evidence{Kind: KindConcentration, Subject: Subject{Kind: "asset", ID: top, Name: a.Name}, Period: p, Metric: share, Suggestion: suggestion,
					Figures: []Figure{
						{Label: a.Name + ", attributed net revenue, " + periodName(p), Measure: MeasureAttributed, Amount: topV, Period: p, Filter: Filter{Asset: top}},
						{Label: "Total net revenue, " + periodName(p), Measure: MeasureNet, Amount: tot, Period: p},
					},
					Stats: []Stat{
						{Key: "share", Label: "Share of revenue", Value: share, Unit: "fraction"},
						{Key: "limit", Label: "Limit", Value: assetShareLimit, Unit: "fraction"},
						{Key: "t", Label: "t statistic of the monthly shares against the limit", Value: t, Unit: "number"},
						{Key: "months", Label: "Months", Value: float64(len(monthly)), Unit: "number"},
					},
					Links: []Link{{Label: "Assets, " + periodName(p), Href: "/assets" + query(p)}}}})
		}
	}

	// A few assets.
	if !topFound && mapped > 0 {
		h, n := hhi(at.ByAsset, mapped)
		if h > hhiLimit && n >= 3 {
			var monthly []float64
			for i := from; i <= last; i++ {
				m := d.attributed(i, i, nil)
				var s int64
				for _, v := range m.ByAsset {
					s += max(v, 0)
				}
				if s > 0 {
					hm, _ := hhi(m.ByAsset, s)
					monthly = append(monthly, hm/10000)
				}
			}
			if conf, t := shareConfidence(monthly, hhiLimit/10000.0); conf >= minConcentrationConfidence {
				names := rankedAssets(d, at, "", 3)
				out = append(out, finding{typ: store.InsightRisk, fingerprint: "concentration:assets", confidence: conf,
					title: fmt.Sprintf("Revenue is concentrated on a few assets (HHI %.0f)", h),
					description: fmt.Sprintf("Over %s the revenue attributed to assets has a Herfindahl-Hirschman index of %.0f, above the %d that marks high concentration; %s lead. "+
						"Monthly values stayed above the limit on average (t = %.1f over %d months).", periodName(p), h, hhiLimit, joinAnd(names), t, len(monthly)),
					evidence: Evidence{Kind: KindConcentration, Subject: Subject{Kind: "total", Name: "Assets"}, Period: p, Metric: h / 10000,
						Suggestion: "Broaden the portfolio: give the assets outside the top few their own product lines and promotions.",
						Figures:    []Figure{{Label: "Total net revenue, " + periodName(p), Measure: MeasureNet, Amount: tot, Period: p}},
						Stats: []Stat{
							{Key: "hhi", Label: "Herfindahl-Hirschman index over assets", Value: h, Unit: "index"},
							{Key: "limit", Label: "Limit", Value: hhiLimit, Unit: "index"},
							{Key: "t", Label: "t statistic of the monthly index against the limit", Value: t, Unit: "number"},
							{Key: "months", Label: "Months", Value: float64(len(monthly)), Unit: "number"},
						},
						Links: []Link{{Label: "Assets, " + periodName(p), Href: "/assets" + query(p)}}}})
			}
		}
	}

	// One channel.
	if len(d.channels) >= 2 {
		keys := sortedKeys(d.channels, func(v []figs) int64 { return sumNet(v, from, last) })
		ch := keys[0]
		v := sumNet(d.channels[ch], from, last)
		share := float64(v) / float64(tot)
		if share > channelShareLimit {
			monthly := monthlyShares(netSeries(d.channels[ch])[from:last+1], netSeries(d.total)[from:last+1])
			if conf, t := shareConfidence(monthly, channelShareLimit); conf >= minConcentrationConfidence {
				name := titleWord(ch)
				out = append(out, finding{typ: store.InsightRisk, fingerprint: "concentration:channel:" + ch, confidence: conf,
					title: fmt.Sprintf("%s carries %s of revenue", name, pct(share)),
					description: fmt.Sprintf("%s brought in %s of the %s earned in %s (%s), more than half; the monthly share stayed above %s on average (t = %.1f over %d months). "+
						"A change in that channel's fees, rules or traffic would hit the whole business.", name, money(v, d.pub.ReportingCurrency),
						money(tot, d.pub.ReportingCurrency), periodName(p), pct(share), pct(channelShareLimit), t, len(monthly)),
					evidence: Evidence{Kind: KindConcentration, Subject: Subject{Kind: "channel", ID: ch, Name: name}, Period: p, Metric: share,
						Suggestion: fmt.Sprintf("Grow a second channel (%s) with its own range or promotions, so that %s is not the only way customers buy.", titleWord(keys[1]), name),
						Figures: []Figure{
							{Label: name + ", net revenue, " + periodName(p), Measure: MeasureNet, Amount: v, Period: p, Filter: Filter{Channel: ch}},
							{Label: "Total net revenue, " + periodName(p), Measure: MeasureNet, Amount: tot, Period: p},
						},
						Stats: []Stat{
							{Key: "share", Label: "Share of revenue", Value: share, Unit: "fraction"},
							{Key: "limit", Label: "Limit", Value: channelShareLimit, Unit: "fraction"},
							{Key: "t", Label: "t statistic of the monthly shares against the limit", Value: t, Unit: "number"},
							{Key: "months", Label: "Months", Value: float64(len(monthly)), Unit: "number"},
						},
						Links: []Link{{Label: "Channels on the Overview, " + periodName(p), Href: "/overview" + query(p)}}}})
			}
		}
	}
	return out
}

// monthlyShares returns part/whole per month, skipping months without
// revenue.
func monthlyShares(part, whole []int64) []float64 {
	var out []float64
	for i := range whole {
		if whole[i] > 0 {
			out = append(out, float64(part[i])/float64(whole[i]))
		}
	}
	return out
}

// shareConfidence tests whether the mean of monthly values exceeds limit:
// it returns the confidence (one minus the one-sided p-value of the t test)
// and the t statistic. Perfectly steady values above the limit are certain.
func shareConfidence(monthly []float64, limit float64) (float64, float64) {
	if len(monthly) < 3 {
		return 0, 0
	}
	mean, sd := meanSD(monthly)
	if sd == 0 {
		if mean > limit {
			return confidence(0), math.Inf(1)
		}
		return 0, 0
	}
	t := (mean - limit) / (sd / math.Sqrt(float64(len(monthly))))
	return confidence(upperTail(t, len(monthly)-1)), t
}

// hhi returns the Herfindahl-Hirschman index of positive values over total
// (0 to 10,000) and how many values count.
func hhi(values map[string]int64, total int64) (float64, int) {
	var h float64
	n := 0
	for _, v := range values {
		if v > 0 {
			s := 100 * float64(v) / float64(total)
			h += s * s
			n++
		}
	}
	return h, n
}

// rankedAssets returns the names of the n assets earning most in at,
// except skip.
func rankedAssets(d *dataset, at analytics.Attribution, skip string, n int) []string {
	keys := sortedKeys(at.ByAsset, func(v int64) int64 { return v })
	var out []string
	for _, k := range keys {
		if a, ok := d.assetBy[k]; ok && k != skip && at.ByAsset[k] > 0 {
			out = append(out, a.Name)
			if len(out) == n {
				break
			}
		}
	}
	return out
}

// joinAnd joins names as "a, b and c".
func joinAnd(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	s := names[0]
	for _, n := range names[1 : len(names)-1] {
		s += ", " + n
	}
	return s + " and " + names[len(names)-1]
}

// countryNames names the countries merchandise most often ships to.
var countryNames = map[string]string{
	"US": "the United States", "CA": "Canada", "MX": "Mexico", "BR": "Brazil", "AR": "Argentina", "CL": "Chile",
	"GB": "the United Kingdom", "IE": "Ireland", "FR": "France", "DE": "Germany", "NL": "the Netherlands", "BE": "Belgium",
	"ES": "Spain", "PT": "Portugal", "IT": "Italy", "CH": "Switzerland", "AT": "Austria", "SE": "Sweden", "NO": "Norway",
	"DK": "Denmark", "FI": "Finland", "PL": "Poland", "CZ": "Czechia", "JP": "Japan", "KR": "South Korea", "CN": "China",
	"TW": "Taiwan", "HK": "Hong Kong", "SG": "Singapore", "IN": "India", "AU": "Australia", "NZ": "New Zealand",
	"ZA": "South Africa", "AE": "the United Arab Emirates", "SA": "Saudi Arabia", "TR": "Turkey", "IL": "Israel",
	"PH": "the Philippines", "TH": "Thailand", "MY": "Malaysia", "ID": "Indonesia", "VN": "Vietnam",
}

// countryName names a country code in a sentence: "DE" is "Germany",
// unknown codes stay as they are.
func countryName(code string) string {
	if n, ok := countryNames[code]; ok {
		return n
	}
	return code
}
