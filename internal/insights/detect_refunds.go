package insights

import (
	"context"
	"fmt"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// Thresholds of the refund detector.
const (
	// refundBaseline is how many months before the last one make the
	// usual refund rate.
	refundBaseline = 12
	// refundMinBaseline is the fewest baseline months needed.
	refundMinBaseline = 6
	// refundMinRatio and refundMinPoints are how far above usual the last
	// month's refund rate must be: 1.5 times, and one percentage point.
	refundMinRatio  = 1.5
	refundMinPoints = 0.01
	// refundAlpha is the family-wise false-alarm rate over the segments.
	refundAlpha = 0.05
)

// lineCounts are a segment's order lines and refunded lines in one month.
type lineCounts struct{ lines, refunded int64 }

// refundSegment is a slice of sales whose refunds are watched.
type refundSegment struct {
	kind, key, name string
	figs            []figs
	lines           []lineCounts
	filter          Filter
}

// refundSpikes finds a jump in refunds in the last complete month, overall,
// per category and per channel (see refundFindings).
func refundSpikes(ctx context.Context, s *store.Store, d *dataset) ([]finding, error) {
	n := len(d.months)
	if n < refundMinBaseline+1 {
		return nil, nil
	}
	base := max(0, n-1-refundBaseline)
	p := d.period(base, n-1)
	rows, err := s.MonthlyRefundLines(ctx, d.pub.ID, p.From, p.To)
	if err != nil {
		return nil, err
	}
	counts := map[string][]lineCounts{}
	for _, r := range rows {
		i, ok := d.index[r.Month]
		if !ok {
			continue
		}
		for _, k := range []string{"total:", "category:" + r.Category, "channel:" + r.Channel} {
			if counts[k] == nil {
				counts[k] = make([]lineCounts, n)
			}
			counts[k][i].lines += r.Lines
			counts[k][i].refunded += r.Refunded
		}
	}
	return refundFindings(d, refundSegments(d, counts)), nil
}

// refundSegments assembles the segments watched: all sales, each category
// and each channel (when there is more than one), with their money figures
// from d and their line counts from counts (keyed "kind:key").
func refundSegments(d *dataset, counts map[string][]lineCounts) []refundSegment {
	n := len(d.months)
	segs := []refundSegment{{kind: "total", name: "All sales", figs: d.total, lines: counts["total:"]}}
	byCat := map[string][]figs{}
	for id, v := range d.byProduct {
		pr := d.products[id]
		if pr == nil {
			continue
		}
		c := byCat[pr.Category]
		if c == nil {
			c = make([]figs, n)
			byCat[pr.Category] = c
		}
		for i, f := range v {
			c[i].gross += f.gross
			c[i].refunded += f.refunded
			c[i].net += f.net
		}
	}
	for _, c := range phantomos.Categories {
		if v, ok := byCat[c]; ok && len(byCat) > 1 {
			segs = append(segs, refundSegment{kind: "category", key: c, name: titleWord(c), figs: v, lines: counts["category:"+c], filter: Filter{Category: c}})
		}
	}
	if len(d.channels) > 1 {
		for _, ch := range sortedKeys(d.channels, func(v []figs) int64 { return sumNet(v, 0, n-1) }) {
			segs = append(segs, refundSegment{kind: "channel", key: ch, name: titleWord(ch), figs: d.channels[ch], lines: counts["channel:"+ch], filter: Filter{Channel: ch}})
		}
	}
	return segs
}

// refundFindings tests each segment's last complete month against the
// twelve months before it. Refunded money is lumpy (one returned wholesale
// order can double a month's refunds), so the test is on order lines: the
// number refunded in the month against a binomial with the baseline's
// share of refunded lines, one-sided, Bonferroni-adjusted over the
// segments. A finding also needs the refunded share of gross sales to be
// at least 1.5 times and one point above usual. The confidence is one
// minus the adjusted p-value.
func refundFindings(d *dataset, segs []refundSegment) []finding {
	n := len(d.months)
	last := n - 1
	base := max(0, last-refundBaseline)
	type candidate struct {
		s                   refundSegment
		rate, usual         float64
		lineRate, usualLine float64
		p                   float64
		months              int
	}
	var cands []candidate
	for _, s := range segs {
		if s.lines == nil {
			continue
		}
		var lines, refunded, gross, money int64
		months := 0
		for i := base; i < last; i++ {
			if s.lines[i].lines > 0 {
				months++
			}
			lines += s.lines[i].lines
			refunded += s.lines[i].refunded
			gross += s.figs[i].gross
			money += s.figs[i].refunded
		}
		now := s.lines[last]
		if months < refundMinBaseline || lines == 0 || gross <= 0 || now.lines == 0 || s.figs[last].gross <= 0 {
			continue
		}
		p0 := max(float64(refunded), 0.5) / float64(lines)
		p := 1.0
		if now.refunded > 0 {
			p = 1 - distuv.Binomial{N: float64(now.lines), P: p0}.CDF(float64(now.refunded-1))
		}
		cands = append(cands, candidate{s: s, rate: float64(s.figs[last].refunded) / float64(s.figs[last].gross), usual: float64(money) / float64(gross),
			lineRate: float64(now.refunded) / float64(now.lines), usualLine: p0, p: p, months: months})
	}
	month := d.period(last, last)
	baseline := d.period(base, last-1)
	var out []finding
	for _, c := range cands {
		adj := bonferroni(c.p, len(cands))
		if adj >= refundAlpha || c.rate < refundMinRatio*c.usual || c.rate-c.usual < refundMinPoints || c.lineRate < refundMinRatio*c.usualLine {
			continue
		}
		var refB, grossB int64
		for i := base; i < last; i++ {
			refB += c.s.figs[i].refunded
			grossB += c.s.figs[i].gross
		}
		cur := d.pub.ReportingCurrency
		name := c.s.name
		of := lowerFirst(name) + " sales"
		href := "/overview" + query(month, c.s.kind, c.s.key)
		if c.s.kind == "total" {
			of, href = "sales", "/overview"+query(month)
		}
		now := c.s.lines[last]
		out = append(out, finding{typ: store.InsightRisk, fingerprint: "refunds:" + c.s.kind + ":" + c.s.key, confidence: confidence(adj),
			title: fmt.Sprintf("Refunds jumped to %s of %s in %s (usually %s)", pct(c.rate), of, periodName(month), pct(c.usual)),
			description: fmt.Sprintf("%s: refunds were %s on %s of gross sales in %s, %s, against %s over the %d months before. "+
				"%d of %d order lines were refunded (%s) where %s usually are: more than chance explains (binomial test, %s after allowing for the %d segments tested).",
				name, money(c.s.figs[last].refunded, cur), money(c.s.figs[last].gross, cur), periodName(month), pct(c.rate), pct(c.usual), c.months,
				now.refunded, now.lines, pct(c.lineRate), pct(c.usualLine), pValue(adj), len(cands)),
			evidence: Evidence{Kind: KindRefundSpike, Subject: Subject{Kind: c.s.kind, ID: c.s.key, Name: name}, Period: month, Baseline: &baseline, Metric: c.rate,
				Suggestion: fmt.Sprintf("Look into the refunds on %s from %s: check recent orders for a faulty batch, wrong size or product information, or a listing that over-promises.",
					of, periodName(month)),
				Figures: []Figure{
					{Label: name + ", refunds, " + periodName(month), Measure: MeasureRefunds, Amount: c.s.figs[last].refunded, Period: month, Filter: c.s.filter},
					{Label: name + ", gross revenue, " + periodName(month), Measure: MeasureGross, Amount: c.s.figs[last].gross, Period: month, Filter: c.s.filter},
					{Label: name + ", refunds, " + periodName(baseline), Measure: MeasureRefunds, Amount: refB, Period: baseline, Filter: c.s.filter},
					{Label: name + ", gross revenue, " + periodName(baseline), Measure: MeasureGross, Amount: grossB, Period: baseline, Filter: c.s.filter},
				},
				Stats: []Stat{
					{Key: "rate", Label: "Refunds over gross sales, " + periodName(month), Value: c.rate, Unit: "fraction"},
					{Key: "usual_rate", Label: "Refunds over gross sales, " + periodName(baseline), Value: c.usual, Unit: "fraction"},
					{Key: "lines", Label: "Order lines, " + periodName(month), Value: float64(now.lines), Unit: "number"},
					{Key: "refunded_lines", Label: "Refunded order lines, " + periodName(month), Value: float64(now.refunded), Unit: "number"},
					{Key: "line_rate", Label: "Share of lines refunded, " + periodName(month), Value: c.lineRate, Unit: "fraction"},
					{Key: "usual_line_rate", Label: "Share of lines refunded, " + periodName(baseline), Value: c.usualLine, Unit: "fraction"},
					{Key: "p_value", Label: "p-value, adjusted for the segments tested", Value: adj, Unit: "p"},
				},
				Links: []Link{{Label: name + " on the Overview, " + periodName(month), Href: href}}}})
	}
	return out
}
