package tagging

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"
)

// EvalOptions tune Eval.
type EvalOptions struct {
	// Tagger are the options of the tagger under evaluation.
	Tagger Options
	// SampleEvery scores only every n-th LEGO title (and negative), for a
	// quick run; 0 or 1 scores all.
	SampleEvery int
	// Examples is how many errors of each kind the report lists; 0 means
	// 8, negative none.
	Examples int
	// ThroughputAssets, when larger than the catalogue, pads a copy of it
	// with synthetic assets to this size to measure throughput on a large
	// catalogue as well; 0 means 5000.
	ThroughputAssets int
}

// PRF is precision, recall and F1 with their counts.
type PRF struct {
	TP, FP, FN            int
	Precision, Recall, F1 float64
}

func (m *PRF) compute() {
	m.Precision = ratio(m.TP, m.TP+m.FP)
	m.Recall = ratio(m.TP, m.TP+m.FN)
	if m.Precision+m.Recall > 0 {
		m.F1 = 2 * m.Precision * m.Recall / (m.Precision + m.Recall)
	}
}

// Band is one row of the calibration table: suggestions whose confidence
// lies in [Lo, Hi) and how many of them named the right game IP.
type Band struct {
	Lo, Hi    float64
	N         int
	Correct   int
	Precision float64
}

// SweepRow is game-IP precision and recall at one confidence threshold.
type SweepRow struct {
	Threshold float64
	IP        PRF
	// VerbatimRecall is the recall over positives naming a catalogue name.
	VerbatimRecall float64
}

// GroupStat counts titles of one franchise or negative category.
type GroupStat struct {
	Group     string
	Titles    int
	Suggested int // titles with at least one suggestion
	Correct   int // covered: every suggestion names a right IP; others: abstained
}

// EvalReport holds the figures Eval prints.
type EvalReport struct {
	Assets, GameIPs int
	// Titles scored: LEGO titles of covered franchises (Positives), of
	// other themes (Uncovered), and shop/superhero negatives (Negatives).
	Positives, Uncovered, Negatives, Unlabelled int
	// IP is game-IP precision/recall/F1 over all scored LEGO titles: a
	// suggested IP is a true positive when it is the title's franchise.
	IP PRF
	// IPVerbatim is the same restricted (for recall) to positives whose
	// title contains a catalogue name of their franchise verbatim.
	IPVerbatim PRF
	// Asset is asset-level precision/recall/F1 over positives that name
	// catalogue assets of their franchise verbatim (the ground truth).
	Asset PRF
	// UncoveredAbstain and NegativeAbstain are the share of those titles
	// with no suggestion at all.
	UncoveredAbstain, LicensedAbstain, NegativeAbstain float64
	// NegativeFP counts negatives with any suggestion.
	NegativeFP int
	// PrecisionAt90 is the game-IP precision of suggestions with
	// confidence ≥ 0.9, over N90 suggestions.
	PrecisionAt90 float64
	N90           int
	Calibration   []Band
	Groups        []GroupStat
	// ProductsPerSecond is Suggest throughput on one goroutine over every
	// title, with the evaluation catalogue and with it padded to
	// PaddedAssets assets.
	ProductsPerSecond, PaddedProductsPerSecond float64
	PaddedAssets                               int
	// Sweep gives game-IP precision and recall (over all positives) when
	// only suggestions at or above each threshold are kept.
	Sweep []SweepRow
	// FrequentErrors are the assets most often suggested wrongly, with
	// their counts.
	FrequentErrors []string
	// UnlabelledSuggested counts merchandise-line titles (no label) with a
	// suggestion; they are not scored.
	UnlabelledSuggested int
}

// Eval runs the tagging evaluation over the eval-data directory dir (see
// its README, "Tagging evaluation") and prints the report to w.
func Eval(dir string, w io.Writer, opts EvalOptions) (EvalReport, error) {
	var rep EvalReport
	d, err := loadEvalData(dir)
	if err != nil {
		return rep, err
	}
	if opts.Examples == 0 {
		opts.Examples = 8
	}
	if opts.ThroughputAssets == 0 {
		opts.ThroughputAssets = 5000
	}
	tg, err := NewTagger(d.assets, opts.Tagger)
	if err != nil {
		return rep, err
	}
	rep.Assets = len(d.assets)
	ips := map[string]bool{}
	for _, a := range d.assets {
		ips[a.GameIP] = true
	}
	rep.GameIPs = len(ips)

	sample := func(items []evalItem) []evalItem {
		if opts.SampleEvery <= 1 {
			return items
		}
		var out []evalItem
		for i := 0; i < len(items); i += opts.SampleEvery {
			out = append(out, items[i])
		}
		return out
	}
	items, negs, unl := sample(d.items), sample(d.negatives), sample(d.unlabelled)

	// Throughput: every title once, one goroutine.
	all := make([]Product, 0, len(items)+len(negs)+len(unl))
	for _, set := range [][]evalItem{items, negs, unl} {
		for _, it := range set {
			all = append(all, it.p)
		}
	}
	results := make([][]Suggestion, len(all))
	start := time.Now()
	for i, p := range all {
		results[i] = tg.Suggest(p)
	}
	rep.ProductsPerSecond = float64(len(all)) / time.Since(start).Seconds()
	if opts.ThroughputAssets > len(d.assets) {
		padded, err := NewTagger(padCatalogue(d.assets, opts.ThroughputAssets), opts.Tagger)
		if err != nil {
			return rep, err
		}
		start = time.Now()
		for _, p := range all {
			padded.Suggest(p)
		}
		rep.PaddedProductsPerSecond = float64(len(all)) / time.Since(start).Seconds()
		rep.PaddedAssets = opts.ThroughputAssets
	}
	resItems := results[:len(items)]
	resNegs := results[len(items) : len(items)+len(negs)]
	resUnl := results[len(items)+len(negs):]

	// Ground truth helpers.
	truth := newVerbatim(tg.idx)
	bands := []float64{0, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0001}
	cal := make([]Band, len(bands)-1)
	for i := range cal {
		cal[i] = Band{Lo: bands[i], Hi: math.Min(bands[i+1], 1)}
	}
	groups := map[string]*GroupStat{}
	var fpExamples, missExamples, assetExamples, negExamples []string
	var uncovered, uncoveredSuggested, licensed, licensedSuggested int
	wrongAssets := map[string]int{}
	for i, it := range items {
		sugs := resItems[i]
		g := groups[it.group]
		if g == nil {
			g = &GroupStat{Group: it.group}
			groups[it.group] = g
		}
		g.Titles++
		if len(sugs) > 0 {
			g.Suggested++
		}
		// Game-IP level.
		suggestedIPs := map[string]bool{}
		allRight := len(sugs) > 0
		for _, s := range sugs {
			right := containsString(it.labels, s.GameIP)
			for b := range cal {
				if s.Confidence >= cal[b].Lo && s.Confidence < bands[b+1] {
					cal[b].N++
					if right {
						cal[b].Correct++
					}
				}
			}
			if s.Confidence >= 0.9 {
				rep.N90++
				if right {
					rep.PrecisionAt90++
				}
			}
			if !right {
				allRight = false
				wrongAssets[s.GameIP+" / "+s.Asset]++
			}
			if suggestedIPs[s.GameIP] {
				continue
			}
			suggestedIPs[s.GameIP] = true
			if right {
				rep.IP.TP++
			} else {
				rep.IP.FP++
				rep.IPVerbatim.FP++
				if len(fpExamples) < opts.Examples {
					fpExamples = append(fpExamples, fmt.Sprintf("%q (%s) → %s / %s %.2f [%s]", it.p.Title, it.group, s.GameIP, s.Asset, s.Confidence, s.Evidence))
				}
			}
		}
		if allRight || (!it.covered && len(sugs) == 0) {
			g.Correct++
		}
		if !it.covered {
			uncovered++
			if len(sugs) > 0 {
				uncoveredSuggested++
			}
			if it.licensed {
				licensed++
				if len(sugs) > 0 {
					licensedSuggested++
				}
			}
			continue
		}
		rep.Positives++
		hit := false
		for ip := range suggestedIPs {
			if containsString(it.labels, ip) {
				hit = true
			}
		}
		verbatim := truth.names(it.p.Title, it.labels)
		if !hit {
			rep.IP.FN++
			if len(verbatim) > 0 {
				rep.IPVerbatim.FN++
				if len(missExamples) < opts.Examples {
					missExamples = append(missExamples, fmt.Sprintf("%q (%s) names %s", it.p.Title, it.group, strings.Join(truth.assetNames(verbatim), ", ")))
				}
			}
		} else if len(verbatim) > 0 {
			rep.IPVerbatim.TP++
		}
		// Asset level, where the title names catalogue assets.
		if len(verbatim) == 0 {
			continue
		}
		want := map[string]bool{}
		for _, a := range verbatim {
			want[tg.idx.assets[a].ID] = true
		}
		got := map[string]bool{}
		for _, s := range sugs {
			got[s.AssetID] = true
			if want[s.AssetID] {
				rep.Asset.TP++
			} else {
				rep.Asset.FP++
				if len(assetExamples) < opts.Examples {
					assetExamples = append(assetExamples, fmt.Sprintf("%q → %s %.2f, truth %s", it.p.Title, s.Asset, s.Confidence, strings.Join(truth.assetNames(verbatim), ", ")))
				}
			}
		}
		for id := range want {
			if !got[id] {
				rep.Asset.FN++
			}
		}
	}
	rep.Uncovered = uncovered
	rep.UncoveredAbstain = 1 - ratio(uncoveredSuggested, uncovered)
	rep.LicensedAbstain = 1 - ratio(licensedSuggested, licensed)
	for i, it := range negs {
		g := groups[it.group]
		if g == nil {
			g = &GroupStat{Group: it.group}
			groups[it.group] = g
		}
		g.Titles++
		if sugs := resNegs[i]; len(sugs) > 0 {
			g.Suggested++
			rep.NegativeFP++
			if len(negExamples) < opts.Examples {
				negExamples = append(negExamples, fmt.Sprintf("%q (%s) → %s / %s %.2f [%s]", it.p.Title, it.source, sugs[0].GameIP, sugs[0].Asset, sugs[0].Confidence, sugs[0].Evidence))
			}
		} else {
			g.Correct++
		}
	}
	rep.Negatives = len(negs)
	rep.NegativeAbstain = 1 - ratio(rep.NegativeFP, len(negs))
	rep.Unlabelled = len(unl)
	var unlExamples []string
	for i, sugs := range resUnl {
		if len(sugs) > 0 {
			rep.UnlabelledSuggested++
			if len(unlExamples) < opts.Examples && i%7 == 0 {
				unlExamples = append(unlExamples, fmt.Sprintf("%q → %s / %s %.2f", unl[i].p.Title, sugs[0].GameIP, sugs[0].Asset, sugs[0].Confidence))
			}
		}
	}
	for _, th := range []float64{0.5, 0.6, 0.7, 0.8, 0.9} {
		row := SweepRow{Threshold: th}
		verbatimHit, verbatimN := 0, 0
		for i, it := range items {
			ips := map[string]bool{}
			for _, s := range resItems[i] {
				if s.Confidence >= th {
					ips[s.GameIP] = true
				}
			}
			hit := false
			for ip := range ips {
				if containsString(it.labels, ip) {
					row.IP.TP++
					hit = true
				} else {
					row.IP.FP++
				}
			}
			if it.covered && !hit {
				row.IP.FN++
			}
			if it.covered && len(truth.names(it.p.Title, it.labels)) > 0 {
				verbatimN++
				if hit {
					verbatimHit++
				}
			}
		}
		row.IP.compute()
		row.VerbatimRecall = ratio(verbatimHit, verbatimN)
		rep.Sweep = append(rep.Sweep, row)
	}
	rep.IP.compute()
	rep.IPVerbatim.compute()
	rep.Asset.compute()
	rep.PrecisionAt90 = ratio(int(rep.PrecisionAt90), rep.N90)
	for i := range cal {
		cal[i].Precision = ratio(cal[i].Correct, cal[i].N)
	}
	rep.Calibration = cal
	for _, g := range groups {
		rep.Groups = append(rep.Groups, *g)
	}
	sort.Slice(rep.Groups, func(i, j int) bool {
		if rep.Groups[i].Titles != rep.Groups[j].Titles {
			return rep.Groups[i].Titles > rep.Groups[j].Titles
		}
		return rep.Groups[i].Group < rep.Groups[j].Group
	})

	rep.FrequentErrors = topCounts(wrongAssets, 15)
	printReport(w, &rep, d, fpExamples, missExamples, assetExamples, negExamples, unlExamples, opts)
	return rep, nil
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func printReport(w io.Writer, r *EvalReport, d *evalData, fp, miss, assetErr, neg, unl []string, opts EvalOptions) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("Tagging evaluation (local tagger, no network)\n")
	p("catalogue: %d assets in %d game IPs (amiibo characters, Pokémon in 10 languages, Star Wars names, one logo per IP)\n", r.Assets, r.GameIPs)
	p("titles: %d LEGO titles of covered franchises, %d of other themes, %d shop/superhero negatives; %d merchandise-line titles unlabelled (not scored)\n",
		r.Positives, r.Uncovered, r.Negatives, r.Unlabelled)
	if opts.SampleEvery > 1 {
		p("sample: every %d-th title\n", opts.SampleEvery)
	}
	p("\n%-44s %9s %9s %9s %7s %7s %7s\n", "", "precision", "recall", "F1", "TP", "FP", "FN")
	row := func(name string, m PRF) {
		p("%-44s %9.3f %9.3f %9.3f %7d %7d %7d\n", name, m.Precision, m.Recall, m.F1, m.TP, m.FP, m.FN)
	}
	row("game IP, all scored LEGO titles", r.IP)
	row("game IP, titles naming a catalogue name", r.IPVerbatim)
	row("asset, titles naming catalogue assets", r.Asset)
	p("\nabstain rate: uncovered LEGO themes %.3f (licensed franchises %.3f), shop/superhero negatives %.3f (%d of %d suggested)\n",
		r.UncoveredAbstain, r.LicensedAbstain, r.NegativeAbstain, r.NegativeFP, r.Negatives)
	p("unlabelled merchandise-line titles with a suggestion: %d of %d\n", r.UnlabelledSuggested, r.Unlabelled)
	p("\ncalibration (suggestions on scored LEGO titles; right = game IP is the title's franchise)\n")
	p("%-14s %7s %7s %9s\n", "confidence", "n", "right", "precision")
	for _, b := range r.Calibration {
		p("[%.2f, %.2f%s %7d %7d %9.3f\n", b.Lo, b.Hi, map[bool]string{true: "]", false: ")"}[b.Hi >= 1], b.N, b.Correct, b.Precision)
	}
	p("precision at confidence ≥ 0.9: %.3f over %d suggestions\n", r.PrecisionAt90, r.N90)
	p("\ngame IP precision / recall (all positives) keeping suggestions at or above a threshold\n")
	for _, s := range r.Sweep {
		p("  ≥ %.1f   precision %.3f   recall %.3f (naming titles %.3f)   F1 %.3f   (TP %d, FP %d)\n", s.Threshold, s.IP.Precision, s.IP.Recall, s.VerbatimRecall, s.IP.F1, s.IP.TP, s.IP.FP)
	}
	p("\nby franchise / category: titles, titles with a suggestion, titles handled right (covered: every\n" +
		"suggestion names the franchise; others: no suggestion). Categories under 100 titles without a suggestion omitted.\n")
	for _, g := range r.Groups {
		if g.Titles < 100 && g.Suggested == 0 {
			continue
		}
		p("  %-48s %6d %6d %6d\n", truncate(g.Group, 48), g.Titles, g.Suggested, g.Correct)
	}
	p("\nthroughput: %.0f products/s with %d assets", r.ProductsPerSecond, r.Assets)
	if r.PaddedAssets > 0 {
		p(", %.0f products/s with %d assets", r.PaddedProductsPerSecond, r.PaddedAssets)
	}
	p(" (one goroutine)\n")
	if len(d.excluded) > 0 {
		p("not counted as negatives (the lists' entries that are catalogue characters): %s\n", strings.Join(d.excluded, ", "))
	}
	list := func(title string, xs []string) {
		if len(xs) == 0 || opts.Examples < 0 {
			return
		}
		p("\n%s:\n", title)
		for _, x := range xs {
			p("  %s\n", x)
		}
	}
	p("\nmethod: labels are LEGO root themes (licensed sub-theme under product-line roots; merchandise lines such as\n" +
		"Gear, Books, BrickHeadz, Dimensions, Icons are unscored); covered franchises: Star Wars, Super Mario (+ Donkey Kong),\n" +
		"Minecraft, Sonic. A suggested IP is right when it is the title's franchise. Asset ground truth = the catalogue names\n" +
		"or aliases of the title's franchise that the title contains as whole words after folding (longest occurrence wins);\n" +
		"titles without one are not scored at asset level. \"Naming titles\" = positives containing such a name.\n")
	list("assets most often suggested wrongly", r.FrequentErrors)
	list("wrong game IP (first ones)", fp)
	list("missed titles that name a catalogue asset (first ones)", miss)
	list("wrong asset (first ones)", assetErr)
	list("suggestions on negatives (first ones)", neg)
	list("suggestions on unlabelled titles (sample)", unl)
}

func truncate(s string, n int) string {
	if len([]rune(s)) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// verbatim finds the catalogue names a title contains as whole words
// after folding: the ground truth of the asset-level score.
type verbatim struct {
	idx *index
}

func newVerbatim(idx *index) verbatim { return verbatim{idx: idx} }

// names returns the assets of the given game IPs whose name or alias (not
// a part of it, no typo) occurs in title, longest occurrences first and
// without occurrences inside longer ones.
func (v verbatim) names(title string, ips []string) []int32 {
	toks := tokenize(fold(title))
	type occ struct {
		start, end int
		assets     []int32
	}
	var occs []occ
	for i := range toks {
		id, ok := v.idx.vocab[toks[i].text]
		if !ok {
			continue
		}
		for _, pi := range v.idx.byFirst[id] {
			ph := &v.idx.phrases[pi]
			if i+len(ph.toks) > len(toks) {
				continue
			}
			same := true
			for k, t := range ph.toks {
				if v.idx.toks[t].text != toks[i+k].text {
					same = false
					break
				}
			}
			if !same {
				continue
			}
			var as []int32
			for _, t := range ph.targets {
				if !t.partial && containsString(ips, v.idx.ips[v.idx.assets[t.asset].ip]) {
					as = append(as, t.asset)
				}
			}
			if len(as) > 0 {
				occs = append(occs, occ{i, i + len(ph.toks), as})
			}
		}
	}
	sort.SliceStable(occs, func(a, b int) bool { return occs[a].end-occs[a].start > occs[b].end-occs[b].start })
	claimed := make([]int, len(toks))
	var out []int32
	for _, o := range occs {
		n := o.end - o.start
		inside := false
		for k := o.start; k < o.end; k++ {
			if claimed[k] > n {
				inside = true
			}
		}
		if inside {
			continue
		}
		for k := o.start; k < o.end; k++ {
			claimed[k] = n
		}
		for _, a := range o.assets {
			out = appendUnique(out, a)
		}
	}
	return out
}

func (v verbatim) assetNames(as []int32) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = v.idx.assets[a].Name
	}
	return out
}

// padCatalogue returns assets plus synthetic ones (invented, pronounceable
// names in invented IPs) up to n assets, for throughput measurement.
func padCatalogue(assets []Asset, n int) []Asset {
	out := append([]Asset(nil), assets...)
	syl := []string{"ka", "ro", "mi", "zen", "tor", "vel", "qua", "dri", "lo", "nex", "sha", "bru", "pim", "gor", "ta", "xil"}
	x := uint32(2463534242)
	next := func() int {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		return int(x % uint32(len(syl)))
	}
	word := func() string {
		var b strings.Builder
		for k := 0; k < 3; k++ {
			b.WriteString(syl[next()])
		}
		return b.String()
	}
	for i := 0; len(out) < n; i++ {
		name := word()
		if i%3 == 0 {
			name += " " + word()
		}
		out = append(out, Asset{ID: fmt.Sprintf("synthetic:%d", i), GameIP: fmt.Sprintf("Synthetic %d", i/50), Name: name, Type: Character})
	}
	return out
}

func topCounts(m map[string]int, n int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	if len(keys) > n {
		keys = keys[:n]
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = fmt.Sprintf("%4d  %s", m[k], k)
	}
	return out
}
