package insights

import (
	"fmt"
	"math"
	"sort"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// Thresholds of the expand-the-line detector.
const (
	// expandMinRatio is how much better than the category's typical
	// product an asset's products must sell.
	expandMinRatio = 1.5
	// expandAlpha is the family-wise false-alarm rate of the asset pull
	// test over all assets.
	expandAlpha = 0.05
	// expandMinConfidence is the least confidence reported.
	expandMinConfidence = 0.8
	// expandMax is how many opportunities are reported at most.
	expandMax = 5
	// minCategoryProducts is how many selling products a category needs
	// for its typical product to be measured.
	minCategoryProducts = 6
)

// expandLines finds categories where an asset sells well but has few
// products: places to expand its line.
//
// Over the last 12 complete months, each selling product's revenue is
// taken in logs relative to the mean of its category, so that a poster and
// a statue compare fairly. An asset's pull is the mean of that over all its
// products (with confirmed links), t-tested against zero with the pooled
// spread and Bonferroni-adjusted over the assets. For an asset with a
// significant pull of at least 1.5 times the typical product, every
// category where it has few products (at most two, or half the number a
// typical asset has there) but those sell at least 1.5 times the
// category's typical product is an opportunity. Its confidence is the
// pull's confidence times the probability, from a z test against the
// category's spread, that its products there really beat the category's
// typical product.
func expandLines(d *dataset) []finding {
	last := len(d.months) - 1
	from := max(0, last-11)
	if last-from < 5 {
		return nil
	}
	p := d.period(from, last)
	pn := d.productNet(from, last, nil)

	// Each category's typical product.
	logs := map[string][]float64{}
	for id, v := range pn {
		if pr := d.products[id]; pr != nil && v > 0 {
			logs[pr.Category] = append(logs[pr.Category], math.Log(float64(v)))
		}
	}
	type stats struct{ mean, sd float64 }
	cats := map[string]stats{}
	var pooled []float64
	for c, l := range logs {
		if len(l) < minCategoryProducts {
			continue
		}
		m, sd := meanSD(l)
		cats[c] = stats{m, sd}
		for _, x := range l {
			pooled = append(pooled, x-m)
		}
	}
	_, pooledSD := meanSD(pooled)
	if len(cats) == 0 || pooledSD == 0 {
		return nil
	}

	// Each asset's products per category.
	type catProducts struct {
		all     int
		relLogs []float64
	}
	byAsset := map[string]map[string]*catProducts{}
	for id, assets := range d.assetsOf {
		pr := d.products[id]
		if pr == nil {
			continue
		}
		for _, a := range assets {
			m := byAsset[a]
			if m == nil {
				m = map[string]*catProducts{}
				byAsset[a] = m
			}
			cp := m[pr.Category]
			if cp == nil {
				cp = &catProducts{}
				m[pr.Category] = cp
			}
			cp.all++
			if st, ok := cats[pr.Category]; ok && pn[id] > 0 {
				cp.relLogs = append(cp.relLogs, math.Log(float64(pn[id]))-st.mean)
			}
		}
	}
	// The number of products a typical asset has in each category.
	typicalCount := map[string]float64{}
	for c := range cats {
		var counts []float64
		for _, m := range byAsset {
			if cp := m[c]; cp != nil && cp.all > 0 {
				counts = append(counts, float64(cp.all))
			}
		}
		typicalCount[c] = median(counts)
	}

	type pull struct {
		asset *phantomos.Asset
		mean  float64
		t     float64
		p     float64
		n     int
	}
	var pulls []pull
	for _, a := range d.assets {
		var all []float64
		for _, cp := range byAsset[a.ID] {
			all = append(all, cp.relLogs...)
		}
		if len(all) < 3 {
			continue
		}
		m, _ := meanSD(all)
		t := m / (pooledSD / math.Sqrt(float64(len(all))))
		pulls = append(pulls, pull{asset: a, mean: m, t: t, p: upperTail(t, len(pooled)-len(cats)), n: len(all)})
	}

	at := map[string]map[string]int64{} // category → asset → attributed revenue
	catNet := map[string]int64{}
	var out []finding
	for _, pl := range pulls {
		adj := bonferroni(pl.p, len(pulls))
		if adj >= expandAlpha || math.Exp(pl.mean) < expandMinRatio {
			continue
		}
		a := pl.asset
		for _, c := range phantomos.Categories {
			st, ok := cats[c]
			cp := byAsset[a.ID][c]
			if !ok || cp == nil || len(cp.relLogs) == 0 || cp.all > 2 && float64(cp.all) > typicalCount[c]/2 {
				continue
			}
			m, _ := meanSD(cp.relLogs)
			if math.Exp(m) < expandMinRatio {
				continue
			}
			z := m / (st.sd / math.Sqrt(float64(len(cp.relLogs))))
			conf := confidence(adj) * normalCDF(z)
			if conf < expandMinConfidence {
				continue
			}
			if at[c] == nil {
				keep := func(id string) bool { pr := d.products[id]; return pr != nil && pr.Category == c }
				at[c] = d.attributed(from, last, keep).ByAsset
				for _, v := range d.productNet(from, last, keep) {
					catNet[c] += v
				}
			}
			rev := at[c][a.ID]
			if rev <= 0 {
				continue
			}
			cat := titleWord(c)
			its := fmt.Sprintf("%d %s products", cp.all, c)
			if cp.all == 1 {
				its = "only " + c + " product"
			}
			ratio := math.Exp(m)
			rangeSize := 0
			for _, cp := range byAsset[a.ID] {
				rangeSize += cp.all
			}
			out = append(out, finding{typ: store.InsightGrowth, fingerprint: "expand:" + a.ID + ":" + c, confidence: conf,
				title: expandTitle(a.Name, c, cp.all, typicalCount[c], ratio),
				description: fmt.Sprintf("In %s, %s's %s earned %s (attributed), selling about %.1f times the typical %s product per product, yet %s only %d of its %d products. "+
					"Across its range, %s's products sell %.1f times their category's typical product (t = %.1f over %d selling products, %s after allowing for the %d assets tested).",
					periodName(p), a.Name, its, money(rev, d.pub.ReportingCurrency), ratio, c, c+" makes", cp.all, rangeSize,
					a.Name, math.Exp(pl.mean), pl.t, pl.n, pValue(adj), len(pulls)),
				evidence: Evidence{Kind: KindExpandLine, Subject: Subject{Kind: "asset", ID: a.ID, Name: a.Name}, Period: p, Metric: ratio,
					Suggestion: fmt.Sprintf("Expand %s's %s line: add products of the kinds that sell best in %s, starting with variations of its best seller there.", a.Name, c, cat),
					Figures: []Figure{
						{Label: a.Name + " in " + c + ", attributed net revenue, " + periodName(p), Measure: MeasureAttributed, Amount: rev, Period: p, Filter: Filter{Asset: a.ID, Category: c}},
						{Label: cat + ", net revenue, " + periodName(p), Measure: MeasureNet, Amount: catNet[c], Period: p, Filter: Filter{Category: c}},
					},
					Stats: []Stat{
						{Key: "products", Label: "Products of " + a.Name + " in " + c, Value: float64(cp.all), Unit: "number"},
						{Key: "typical_products", Label: "Products of a typical asset in " + c, Value: typicalCount[c], Unit: "number"},
						{Key: "range", Label: "Products of " + a.Name, Value: float64(rangeSize), Unit: "number"},
						{Key: "category_ratio", Label: "Sales per product against the typical " + c + " product", Value: ratio, Unit: "number"},
						{Key: "pull_ratio", Label: "Sales per product against the category, all " + a.Name + " products", Value: math.Exp(pl.mean), Unit: "number"},
						{Key: "z_category", Label: "z statistic in " + c, Value: z, Unit: "number"},
						{Key: "t_pull", Label: "t statistic of the asset's pull", Value: pl.t, Unit: "number"},
						{Key: "p_value", Label: "p-value of the pull, adjusted for the assets tested", Value: adj, Unit: "p"},
					},
					Links: []Link{
						{Label: "Assets in " + c + ", " + periodName(p), Href: "/assets" + query(p, "category", c)},
						{Label: "Products featuring " + a.Name + " in " + c, Href: "/assets/" + a.ID + query(p, "category", c)},
					}}})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].confidence > out[j].confidence })
	if len(out) > expandMax {
		out = out[:expandMax]
	}
	return out
}

// expandTitle is the headline of an expand-the-line finding. It says
// "only" when the asset has fewer products in the category than the
// typical asset has there; otherwise (two products where the typical asset
// has one, say) that would contradict the evidence, and the headline gives
// how much better its products sell instead.
func expandTitle(asset, category string, products int, typical, ratio float64) string {
	noun := "products"
	if products == 1 {
		noun = "product"
	}
	if float64(products) < typical {
		return fmt.Sprintf("%s sells well in %s but has only %d %s there", asset, category, products, noun)
	}
	verb := "sell"
	if products == 1 {
		verb = "sells"
	}
	return fmt.Sprintf("%s sells well in %s: its %d %s there %s %.1f times the typical %s product", asset, category, products, noun, verb, ratio, category)
}
