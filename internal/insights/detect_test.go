package insights

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/llm"
	"github.com/phantomos/phantomos/internal/store"
)

// synthetic is a dataset built in memory, for testing the detectors on
// data whose truth is known.
type synthetic struct {
	*dataset
	rng *rand.Rand
}

// newSynthetic returns an empty dataset of n complete months ending
// February 2026 (as of 15 March 2026).
func newSynthetic(n int, seed uint64) *synthetic {
	d := &dataset{
		pub:   &phantomos.Publisher{ID: "pub", Name: "Synthetic", ReportingCurrency: "USD", Settings: phantomos.PublisherSettings{AttributionModel: phantomos.AttributionEqual}},
		today: "2026-03-15", index: map[string]int{}, byProduct: map[string][]figs{}, channels: map[string][]figs{}, countries: map[string][]figs{},
		products: map[string]*phantomos.Product{}, assetBy: map[string]*phantomos.Asset{}, ipName: map[string]string{}, assetsOf: map[string][]string{},
		model: phantomos.AttributionEqual,
	}
	for m := addMonths("2026-02", -(n - 1)); m <= "2026-02"; m = addMonths(m, 1) {
		d.index[m] = len(d.months)
		d.months = append(d.months, m)
	}
	d.total = make([]figs, n)
	return &synthetic{dataset: d, rng: rand.New(rand.NewPCG(seed, seed))}
}

func (s *synthetic) asset(name string) string {
	a := &phantomos.Asset{ID: "asset-" + strings.ToLower(strings.ReplaceAll(name, " ", "-")), Name: name, AssetType: phantomos.AssetCharacter}
	s.assets = append(s.assets, a)
	s.assetBy[a.ID] = a
	return a.ID
}

// product adds a product of category featuring assets, with net revenue
// net(i) in month i (times log-normal noise of sd noise) and refund rate
// refund(i).
func (s *synthetic) product(category string, assets []string, net func(i int) float64, noise float64, refund func(i int) float64) string {
	id := fmt.Sprintf("product-%d", len(s.products))
	s.products[id] = &phantomos.Product{ID: id, Category: category}
	v := make([]figs, len(s.months))
	for i := range v {
		n := int64(net(i) * math.Exp(noise*s.rng.NormFloat64()))
		rate := 0.02
		if refund != nil {
			rate = refund(i)
		}
		gross := int64(float64(n) / (1 - rate))
		v[i] = figs{net: n, gross: gross, refunded: gross - n, orders: max(1, n/2000)}
		s.total[i].net += v[i].net
		s.total[i].gross += v[i].gross
		s.total[i].refunded += v[i].refunded
		s.total[i].orders += v[i].orders
	}
	s.byProduct[id] = v
	for _, a := range assets {
		s.links = append(s.links, store.AssetLink{ProductID: id, AssetID: a, IsPrimary: true, Weight: 1})
		s.assetsOf[id] = append(s.assetsOf[id], a)
	}
	return id
}

// season is a holiday-heavy monthly pattern, January first.
func season(m string) float64 {
	return [12]float64{0.85, 0.8, 0.9, 0.9, 0.9, 0.8, 0.75, 0.8, 0.95, 1.05, 1.5, 1.8}[int(m[5]-'0')*10+int(m[6]-'0')-1]
}

func TestAssetTrendsFindsPlantedMovesOnly(t *testing.T) {
	s := newSynthetic(24, 1)
	var flat []string
	for i := range 12 {
		flat = append(flat, s.asset(fmt.Sprintf("Flat %d", i)))
	}
	riser, faller := s.asset("Riser"), s.asset("Faller")
	n := float64(len(s.months))
	for i, a := range append(flat, riser, faller) {
		for k := range 3 {
			level := 100_000.0 * (1 + float64(i%4)) * (1 + 0.5*float64(k))
			grow := func(i int) float64 { return 1 }
			switch a {
			case riser:
				grow = func(i int) float64 { return 0.5 + 1.5*float64(i)/n }
			case faller:
				grow = func(i int) float64 { return 2 - 1.6*float64(i)/n }
			}
			s.product(phantomos.Categories[k], []string{a}, func(i int) float64 { return level * season(s.months[i]) * grow(i) }, 0.15, nil)
		}
	}
	got := map[string]string{}
	for _, f := range assetTrends(s.dataset) {
		got[f.evidence.Subject.ID] = f.typ
		if f.confidence < 0.95 || len(f.evidence.Figures) != 4 || f.evidence.Baseline == nil {
			t.Errorf("%s: confidence %.3f, evidence %+v", f.fingerprint, f.confidence, f.evidence)
		}
	}
	want := map[string]string{riser: store.InsightTrend, faller: store.InsightRisk}
	for id, typ := range want {
		if got[id] != typ {
			t.Errorf("%s: got %q, want %s", id, got[id], typ)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("false alarm on %s", id)
		}
	}
}

// TestAssetTrendsFalseAlarmRate runs the detector on data where nothing
// happens: over 30 publishers of 12 noisy, seasonal, flat assets it may
// raise a false alarm about as often as its 5% family-wise rate allows.
func TestAssetTrendsFalseAlarmRate(t *testing.T) {
	alarms := 0
	for seed := range uint64(30) {
		s := newSynthetic(24, 100+seed)
		for i := range 12 {
			a := s.asset(fmt.Sprintf("Asset %d", i))
			level := 50_000.0 * float64(1+i%3)
			s.product(phantomos.CategoryApparel, []string{a}, func(k int) float64 { return level * season(s.months[k]) }, 0.25, nil)
		}
		alarms += len(assetTrends(s.dataset))
	}
	t.Logf("%d false alarms over 30 publishers of 12 assets", alarms)
	if alarms > 3 {
		t.Errorf("%d false alarms over 30 publishers, expected about 1.5 at most", alarms)
	}
}

// TestYearOnYearTestIsCalibrated: on white noise the one-sided p-value is
// below 5% about 5% of the time.
func TestYearOnYearTestIsCalibrated(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	const runs = 4000
	below := 0
	for range runs {
		l := make([]float64, 24)
		for i := range l {
			l[i] = 0.3 * rng.NormFloat64()
		}
		_, _, _, p, ok := yoyTest(l, 3)
		if !ok {
			t.Fatal("white noise not testable")
		}
		if p < 0.05 {
			below++
		}
	}
	// One-sided in the direction of the change: both tails count, 10%.
	if rate := float64(below) / runs; rate < 0.06 || rate > 0.14 {
		t.Errorf("p < 0.05 in %.1f%% of white-noise series, want about 10%% (both directions)", rate*100)
	}
}

func TestConcentration(t *testing.T) {
	s := newSynthetic(12, 2)
	star := s.asset("Star")
	for i := range 5 {
		a := s.asset(fmt.Sprintf("Minor %d", i))
		s.product(phantomos.CategoryHome, []string{a}, func(int) float64 { return 100_000 }, 0.1, nil)
	}
	s.product(phantomos.CategoryApparel, []string{star}, func(int) float64 { return 900_000 }, 0.1, nil)
	s.channels["online_store"] = make([]figs, 12)
	s.channels["marketplace"] = make([]figs, 12)
	for i := range 12 {
		s.channels["online_store"][i].net = s.total[i].net * 7 / 10
		s.channels["marketplace"][i].net = s.total[i].net - s.channels["online_store"][i].net
	}
	got := map[string]finding{}
	for _, f := range concentration(s.dataset) {
		got[f.fingerprint] = f
	}
	if f, ok := got["concentration:asset:"+star]; !ok || f.typ != store.InsightRisk || f.evidence.Metric < 0.6 || f.confidence < 0.99 {
		t.Errorf("star asset: %+v (found %v)", f, ok)
	}
	if f, ok := got["concentration:channel:online_store"]; !ok || math.Abs(f.evidence.Metric-0.7) > 0.01 {
		t.Errorf("channel: %+v (found %v)", f, ok)
	}
	if len(got) != 2 {
		t.Errorf("%d findings, want 2: %v", len(got), got)
	}

	balanced := newSynthetic(12, 3)
	for i := range 6 {
		a := balanced.asset(fmt.Sprintf("Asset %d", i))
		balanced.product(phantomos.CategoryHome, []string{a}, func(int) float64 { return 100_000 }, 0.1, nil)
	}
	if fs := concentration(balanced.dataset); len(fs) != 0 {
		t.Errorf("balanced portfolio: %+v", fs)
	}
}

func TestRefundSpike(t *testing.T) {
	s := newSynthetic(14, 4)
	a := s.asset("Hero")
	last := len(s.months) - 1
	steady := func(i int) float64 { return 0.02 + 0.002*math.Sin(float64(i)) }
	spike := func(i int) float64 {
		if i == last {
			return 0.09
		}
		return steady(i)
	}
	s.product(phantomos.CategoryApparel, []string{a}, func(int) float64 { return 500_000 }, 0.1, spike)
	s.product(phantomos.CategoryHome, []string{a}, func(int) float64 { return 500_000 }, 0.1, spike)
	s.product(phantomos.CategoryCollectibles, []string{a}, func(int) float64 { return 500_000 }, 0.1, steady)
	// Lines: apparel's refunded lines jump with its money; home's money
	// jump is one large refund on as many refunded lines as usual; the
	// collectibles stay steady.
	counts := map[string][]lineCounts{"total:": make([]lineCounts, 14), "category:apparel": make([]lineCounts, 14),
		"category:home": make([]lineCounts, 14), "category:collectibles": make([]lineCounts, 14)}
	for i := range 14 {
		counts["category:apparel"][i] = lineCounts{400, 8}
		counts["category:home"][i] = lineCounts{400, 8}
		counts["category:collectibles"][i] = lineCounts{400, 8}
	}
	counts["category:apparel"][last] = lineCounts{400, 36}
	counts["category:home"][last] = lineCounts{400, 9}
	for _, k := range []string{"category:apparel", "category:home", "category:collectibles"} {
		for i := range 14 {
			counts["total:"][i].lines += counts[k][i].lines
			counts["total:"][i].refunded += counts[k][i].refunded
		}
	}
	keys := map[string]bool{}
	for _, f := range refundFindings(s.dataset, refundSegments(s.dataset, counts)) {
		keys[f.fingerprint] = true
		if f.fingerprint == "refunds:category:apparel" {
			if f.confidence < 0.99 || !strings.Contains(f.title, "of apparel sales") || f.evidence.Figures[0].Measure != MeasureRefunds || f.evidence.Figures[0].Filter.Category != "apparel" {
				t.Errorf("apparel spike: %+v", f)
			}
		}
	}
	if !keys["refunds:category:apparel"] || keys["refunds:category:home"] || keys["refunds:category:collectibles"] {
		t.Errorf("findings %v: want apparel's spike, not home's one large refund nor the steady collectibles", keys)
	}
}

func TestSegmentShares(t *testing.T) {
	s := newSynthetic(24, 5)
	var ids []string
	for i := range 8 {
		ids = append(ids, s.asset(fmt.Sprintf("Asset %d", i)))
	}
	breakout := ids[0]
	// Each asset has one product; its sales split over two countries. The
	// breakout asset's German sales triple over the two years while its
	// sales elsewhere shrink so that its overall share stays flat.
	perSeg := segmentSales{store.ByCountry: {"DE": make([]map[string]int64, 24), "US": make([]map[string]int64, 24)}}
	s.countries["DE"], s.countries["US"] = make([]figs, 24), make([]figs, 24)
	for _, a := range ids {
		p := s.product(phantomos.CategoryApparel, []string{a}, func(int) float64 { return 200_000 }, 0.1, nil)
		for i := range 24 {
			de := s.byProduct[p][i].net / 4
			if a == breakout {
				de = int64(float64(s.byProduct[p][i].net) * (0.1 + 0.5*float64(i)/23) * math.Exp(0.05*s.rng.NormFloat64()))
			}
			for key, v := range map[string]int64{"DE": de, "US": s.byProduct[p][i].net - de} {
				if perSeg[store.ByCountry][key][i] == nil {
					perSeg[store.ByCountry][key][i] = map[string]int64{}
				}
				perSeg[store.ByCountry][key][i][p] = v
				s.countries[key][i].net += v
			}
		}
	}
	segs := []segment{{dim: store.ByCountry, key: "DE", name: "Germany", figs: s.countries["DE"]}, {dim: store.ByCountry, key: "US", name: "the United States", figs: s.countries["US"]}}
	fs := segmentFindings(s.dataset, segs, perSeg)
	if len(fs) != 1 || fs[0].fingerprint != "segment:country:DE:"+breakout || fs[0].typ != store.InsightGrowth {
		for _, f := range fs {
			t.Logf("%s: %s", f.fingerprint, f.title)
		}
		t.Fatalf("%d findings, want the breakout in Germany", len(fs))
	}
	if ev := fs[0].evidence; ev.Figures[0].Filter != (Filter{Asset: breakout, Country: "DE"}) || ev.Metric < segmentMinRise || !strings.Contains(ev.Links[0].Href, "country=DE") {
		t.Errorf("evidence %+v", ev)
	}
}

func TestExpandLines(t *testing.T) {
	s := newSynthetic(12, 6)
	var ids []string
	for i := range 10 {
		ids = append(ids, s.asset(fmt.Sprintf("Asset %d", i)))
	}
	star := ids[0]
	for i, a := range ids {
		level := 100_000.0
		if a == star {
			level = 400_000
		}
		for k := range 4 {
			s.product(phantomos.CategoryApparel, []string{a}, func(int) float64 { return level * (1 + 0.1*float64(k)) }, 0.3, nil)
		}
		if a == star || i%2 == 0 {
			s.product(phantomos.CategoryHome, []string{a}, func(int) float64 { return level }, 0.3, nil)
		}
		if a != star {
			for k := range 4 {
				s.product(phantomos.CategoryHome, []string{a}, func(int) float64 { return level * (1 + 0.1*float64(k)) }, 0.3, nil)
			}
		}
	}
	fs := expandLines(s.dataset)
	if len(fs) != 1 || fs[0].fingerprint != "expand:"+star+":home" || fs[0].typ != store.InsightGrowth {
		for _, f := range fs {
			t.Logf("%s: %s", f.fingerprint, f.title)
		}
		t.Fatalf("%d findings, want the star asset's home line", len(fs))
	}
	if !strings.Contains(fs[0].title, "only 1 product") || fs[0].evidence.Figures[0].Filter != (Filter{Asset: star, Category: "home"}) {
		t.Errorf("finding %+v", fs[0])
	}
}

func TestForecastMonths(t *testing.T) {
	seasonal := func(n int) []int64 {
		rng := rand.New(rand.NewPCG(7, 7))
		v := make([]int64, n)
		for i := range v {
			m := addMonths("2024-01", i)
			v[i] = int64(1e6 * season(m) * (1 + 0.02*float64(i)) * math.Exp(0.03*rng.NormFloat64()))
		}
		return v
	}
	for _, tc := range []struct {
		n        int
		maxMAPE  float64
		measured bool
	}{{20, 0.08, true}, {36, 0.08, true}, {15, 1, true}, {14, 0, false}, {5, 0, false}} {
		fc, acc, err := forecastMonths(seasonal(tc.n), 12)
		if err != nil {
			t.Fatalf("%d months: %v", tc.n, err)
		}
		if len(fc.Point) != 12 {
			t.Errorf("%d months: %d points", tc.n, len(fc.Point))
		}
		if (acc.MAPE != nil) != tc.measured || acc.MAPE != nil && *acc.MAPE > tc.maxMAPE {
			t.Errorf("%d months: accuracy %+v (model %s)", tc.n, acc, fc.Model)
		}
		if tc.measured && !strings.Contains(acc.Words, "±") && !strings.Contains(acc.Words, "off by") || !tc.measured && !strings.Contains(acc.Words, "Not enough") {
			t.Errorf("%d months: words %q", tc.n, acc.Words)
		}
	}
	// With 20 months the holiday peak is forecast: November and December
	// above October.
	fc, _, _ := forecastMonths(seasonal(20), 12)
	// The series ends in August 2025; points are September onwards.
	if !(fc.Point[2] > fc.Point[1] && fc.Point[3] > fc.Point[1]) {
		t.Errorf("no holiday peak in %v (model %s)", fc.Point, fc.Model)
	}
}

func TestReopen(t *testing.T) {
	ins := func(metric float64) *store.Insight {
		b, _ := json.Marshal(Evidence{Metric: metric})
		return &store.Insight{Evidence: b}
	}
	for _, tc := range []struct {
		old, new float64
		want     bool
	}{
		{0.85, 0.9, false}, {0.85, 1.4, true}, {0.85, -0.2, true}, {-0.7, -0.75, false}, {0.02, 0.06, false}, {0, 0, false},
	} {
		if got := reopen(ins(tc.old), ins(tc.new)); got != tc.want {
			t.Errorf("reopen(%v → %v) = %v, want %v", tc.old, tc.new, got, tc.want)
		}
	}
}

func TestFormats(t *testing.T) {
	for got, want := range map[string]string{
		money(1234567, "USD"): "$12,346", money(-500, "EUR"): "-€5", money(1234, "JPY"): "¥1,234", money(100, "CHF"): "1 CHF",
		pct(0.853): "85%", pct(-0.0612): "6.1%", signedPct(-0.72): "-72%", pValue(0.0004): "p < 0.001", pValue(0.02): "p = 0.02",
		periodName(monthsPeriod("2025-12", "2026-02")): "Dec 2025–Feb 2026", periodName(monthsPeriod("2026-02", "2026-02")): "Feb 2026",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
	if p := monthsPeriod("2024-02", "2024-02"); p.To != "2024-02-29" {
		t.Errorf("February 2024 ends %s", p.To)
	}
}

// TestShortHistory: a publisher with a few months of sales gets no
// finding that needs a year of history, a summary saying nothing stands
// out, and no error.
func TestShortHistory(t *testing.T) {
	for _, n := range []int{1, 3, 6} {
		s := newSynthetic(n, 8)
		a := s.asset("Hero")
		s.product(phantomos.CategoryApparel, []string{a}, func(int) float64 { return 100_000 }, 0.2, nil)
		// With fewer than seven months the detectors never read the store.
		fs, err := detect(context.Background(), nil, s.dataset)
		if err != nil {
			t.Fatalf("%d months: %v", n, err)
		}
		for _, f := range fs {
			if f.evidence.Kind != KindConcentration {
				t.Errorf("%d months: unexpected %s", n, f.fingerprint)
			}
		}
		out, err := narrate(context.Background(), s.dataset, nil, llm.Local{})
		if err != nil || len(out) != 1 || out[0].fingerprint != SummaryFingerprint || !strings.Contains(out[0].description, "Nothing stands out") {
			t.Errorf("%d months: narrative %+v, %v", n, out, err)
		}
	}
}

// TestAssetTrendsLosingGround: in a business where every asset grows fast,
// an asset whose revenue grew only a little is found falling behind, and
// its headline says it is losing ground with its revenue up, never that it
// is declining.
func TestAssetTrendsLosingGround(t *testing.T) {
	s := newSynthetic(24, 3)
	var ids []string
	for i := range 12 {
		ids = append(ids, s.asset(fmt.Sprintf("Grower %d", i)))
	}
	laggard := s.asset("Laggard")
	n := float64(len(s.months))
	for i, a := range append(ids, laggard) {
		for k := range 3 {
			level := 100_000.0 * (1 + float64(i%4)) * (1 + 0.5*float64(k))
			grow := func(i int) float64 { return 0.5 + 1.5*float64(i)/n }
			if a == laggard {
				grow = func(i int) float64 { return 1 + 0.3*float64(i)/n }
			}
			s.product(phantomos.Categories[k], []string{a}, func(i int) float64 { return level * season(s.months[i]) * grow(i) }, 0.1, nil)
		}
	}
	var found bool
	for _, f := range assetTrends(s.dataset) {
		if f.evidence.Subject.ID != laggard {
			continue
		}
		found = true
		if f.evidence.Kind != KindAssetDeclining || f.evidence.Metric <= 0 ||
			!strings.HasPrefix(f.title, "Laggard is losing ground: revenue up "+pct(f.evidence.Metric)+" on the same months last year, against +") {
			t.Errorf("%s: %q, metric %.3f", f.evidence.Kind, f.title, f.evidence.Metric)
		}
	}
	if !found {
		t.Error("the laggard is not found")
	}
}

// TestExpandLinesNotAtTheTypicalCount: where the typical asset has one
// product in a category, an asset with one product there that sells well
// is an opportunity, but not said to have "only 1 product".
func TestExpandLinesNotAtTheTypicalCount(t *testing.T) {
	s := newSynthetic(12, 8)
	var ids []string
	for i := range 10 {
		ids = append(ids, s.asset(fmt.Sprintf("Asset %d", i)))
	}
	star := ids[0]
	for _, a := range ids {
		level := 100_000.0
		if a == star {
			level = 400_000
		}
		for k := range 4 {
			s.product(phantomos.CategoryApparel, []string{a}, func(int) float64 { return level * (1 + 0.1*float64(k)) }, 0.3, nil)
		}
		s.product(phantomos.CategoryHome, []string{a}, func(int) float64 { return level }, 0.3, nil)
	}
	fs := expandLines(s.dataset)
	if len(fs) != 1 || fs[0].fingerprint != "expand:"+star+":home" {
		t.Fatalf("%d findings, want the star's home line", len(fs))
	}
	if want := fmt.Sprintf("Asset 0 sells well in home: its 1 product there sells %.1f times the typical home product", fs[0].evidence.Metric); fs[0].title != want {
		t.Errorf("title %q, want %q", fs[0].title, want)
	}
}
