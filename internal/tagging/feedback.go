package tagging

import (
	"math"
	"sort"
	"strings"
)

// Decision is one review decision a publisher made: product Product does
// (Confirmed) or does not depict asset AssetID.
type Decision struct {
	Product   Product
	AssetID   string
	Confirmed bool
}

// AliasRejection tells the tagger never to suggest AssetID because of Alias
// (a name, alias or learned pattern, in any spelling that folds the same).
type AliasRejection struct {
	AssetID string
	Alias   string
}

// Feedback is one publisher's review history. The caller loads it from that
// publisher's own decisions only: a Tagger built WithFeedback must never
// serve another publisher.
type Feedback struct {
	// Decisions are confirmed and rejected mappings, in any order.
	Decisions []Decision
	// RejectedAliases take effect at once.
	RejectedAliases []AliasRejection
	// MinRejections is how many rejections (outnumbering confirmations)
	// silence an alias that triggered them; 0 means 2.
	MinRejections int
	// MinConfirmations is how many confirmed products must share a naming
	// pattern (a run of one to three words of the title or SKU) before it
	// suggests their asset on its own; 0 means 3. Each further
	// confirmation raises its weight.
	MinConfirmations int
}

// aliasKey names one alias of one asset in folded form.
type aliasKey struct {
	asset int32
	text  string
}

// learnedPhrase is a naming pattern learned from confirmed decisions.
type learnedPhrase struct {
	toks     []string
	asset    int32
	strength float64
}

// overlay is one publisher's adjustments over the shared index.
type overlay struct {
	disabled map[aliasKey]bool
	learned  []learnedPhrase
	byFirst  map[string][]int32
}

// WithFeedback returns a tagger that applies one publisher's decisions on
// top of t: an alias rejected MinRejections times (more often than it was
// confirmed), or listed in RejectedAliases, stops suggesting its asset; a
// word pattern that MinConfirmations confirmed products share, and that
// (nearly) always meant the same asset, becomes a learned alias whose
// weight grows with every confirmation. Decisions about unknown asset IDs
// are ignored (the catalogue may have changed since). t is not modified and
// the two taggers share the catalogue index.
func (t *Tagger) WithFeedback(fb Feedback) *Tagger {
	if fb.MinRejections <= 0 {
		fb.MinRejections = 2
	}
	if fb.MinConfirmations <= 0 {
		fb.MinConfirmations = 3
	}
	byID := make(map[string]int32, len(t.idx.assets))
	for i, a := range t.idx.assets {
		byID[a.ID] = int32(i)
	}
	base := &Tagger{idx: t.idx, opts: t.opts}
	ov := &overlay{disabled: map[aliasKey]bool{}, byFirst: map[string][]int32{}}

	for _, r := range fb.RejectedAliases {
		a, ok := byID[r.AssetID]
		if !ok {
			continue
		}
		toks := tokenTexts(nameTokens(r.Alias))
		if len(toks) == 0 {
			continue
		}
		ov.disabled[aliasKey{a, strings.Join(toks, " ")}] = true
		ov.disabled[aliasKey{a, strings.Join(toks, "")}] = true
	}

	type stat struct{ confirmed, rejected int }
	aliasStats := map[aliasKey]*stat{}
	gramStats := map[aliasKey]*stat{}
	gramProducts := map[string]int{} // confirmed products containing the gram
	bump := func(m map[aliasKey]*stat, k aliasKey, confirmed bool) {
		s := m[k]
		if s == nil {
			s = &stat{}
			m[k] = s
		}
		if confirmed {
			s.confirmed++
		} else {
			s.rejected++
		}
	}
	// Products confirmed for several assets count once per gram.
	seenProduct := map[string]map[string]bool{}
	sc := &scratch{}
	for _, d := range fb.Decisions {
		a, ok := byID[d.AssetID]
		if !ok {
			continue
		}
		// Which aliases fired for this asset, before any feedback?
		cs := base.analyze(d.Product, sc)
		fired := map[string]bool{}
		for _, c := range cs {
			if c.asset != a || c.learned {
				continue
			}
			m := sc.matches[c.m]
			fired[t.idx.phrases[m.ph].text] = true
		}
		for text := range fired {
			bump(aliasStats, aliasKey{a, text}, d.Confirmed)
		}
		pk := productKey(d.Product)
		for _, g := range naming(d.Product, t.idx.lex) {
			bump(gramStats, aliasKey{a, g}, d.Confirmed)
			if d.Confirmed {
				if seenProduct[pk] == nil {
					seenProduct[pk] = map[string]bool{}
				}
				if !seenProduct[pk][g] {
					seenProduct[pk][g] = true
					gramProducts[g]++
				}
			}
		}
	}
	for k, s := range aliasStats {
		if s.rejected >= fb.MinRejections && s.rejected > s.confirmed {
			ov.disabled[k] = true
		}
	}
	keys := make([]aliasKey, 0, len(gramStats))
	for k := range gramStats {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].asset != keys[j].asset {
			return keys[i].asset < keys[j].asset
		}
		return keys[i].text < keys[j].text
	})
	for _, k := range keys {
		s := gramStats[k]
		if s.confirmed < fb.MinConfirmations || ov.disabled[k] {
			continue
		}
		precision := float64(s.confirmed) / float64(gramProducts[k.text]+s.rejected)
		if precision < 0.9 {
			continue
		}
		strength := math.Min(maxStrength, (1-math.Pow(0.5, float64(s.confirmed-1)))*precision)
		toks := strings.Fields(k.text)
		if ordinaryWords(toks, t.idx.lex) {
			strength = math.Min(strength, learnedOrdinaryMax)
		}
		ov.byFirst[toks[0]] = append(ov.byFirst[toks[0]], int32(len(ov.learned)))
		ov.learned = append(ov.learned, learnedPhrase{toks: toks, asset: k.asset, strength: strength})
	}
	return &Tagger{idx: t.idx, opts: t.opts, fb: ov}
}

// learnedOrdinaryMax caps a learned pattern made only of ordinary words
// ("Explorer", "Space Ranger"): a shop confirming its "Explorer" line for a
// logo says that word often means the logo in its titles, not that every
// title using the word does. Alone it stays in the medium band, below what
// bulk acceptance takes; the game IP's name or another of its assets in
// the title (context) still lifts it above 0.9.
const learnedOrdinaryMax = 0.7

// ordinaryWords reports whether every word of a pattern is in the lexicon
// (an ordinary word, a given name or merchandise vocabulary).
func ordinaryWords(toks []string, lex map[string]lexClass) bool {
	for _, w := range toks {
		if lexOf(lex, w) == lexNone {
			return false
		}
	}
	return true
}

// naming returns the word patterns of a product's title and SKU that could
// be a product line's naming: runs of one to three words that start and end
// with a word carrying meaning (not a function word, merchandise word or
// number).
func naming(p Product, lex map[string]lexClass) []string {
	var out []string
	seen := map[string]bool{}
	// The same bounds as Suggest: a stored product's text can be huge.
	for _, field := range []string{clip(p.Title, maxTitleBytes), clip(p.SKU, maxShortBytes)} {
		toks := tokenize(fold(field))
		if len(toks) > maxProductWords {
			toks = toks[:maxProductWords]
		}
		for i := range toks {
			for n := 1; n <= 3 && i+n <= len(toks); n++ {
				if n > 1 && toks[i+n-1].brk {
					break
				}
				if !meaningful(toks[i].text, lex) || !meaningful(toks[i+n-1].text, lex) {
					continue
				}
				g := strings.Join(tokenTexts(toks[i:i+n]), " ")
				if !seen[g] {
					seen[g] = true
					out = append(out, g)
				}
			}
		}
	}
	return out
}

func meaningful(w string, lex map[string]lexClass) bool {
	switch lexOf(lex, w) {
	case lexStop, lexProduct:
		return false
	}
	return hasLetter(w)
}

func productKey(p Product) string {
	if p.ID != "" {
		return "id:" + p.ID
	}
	return "t:" + p.Title + "\x00" + p.SKU
}
