package tagging

import (
	"fmt"
	"html"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"
)

// Options tune a Tagger. The zero value gives the defaults.
type Options struct {
	// MinConfidence is the confidence below which the tagger abstains
	// rather than suggest; 0 means 0.6.
	MinConfidence float64
	// MaxSuggestions caps suggestions per product; 0 means 8.
	MaxSuggestions int
	// CommonWords are extra words to treat as ordinary (weak evidence),
	// for a catalogue whose names collide with its own product vocabulary.
	CommonWords []string
	// GameIPAliases gives other names of a game IP, keyed by the
	// Asset.GameIP spelling: {"The Legend of Zelda": {"Zelda", "TLoZ"}}.
	// They count as context for the IP's assets.
	GameIPAliases map[string][]string
	// NoTypos turns off edit-distance and plural matching.
	NoTypos bool
}

func (o Options) withDefaults() Options {
	if o.MinConfidence <= 0 {
		o.MinConfidence = 0.6
	}
	if o.MaxSuggestions <= 0 {
		o.MaxSuggestions = 8
	}
	return o
}

// Tagger suggests the assets a product depicts. It is immutable once built
// and safe for concurrent use.
type Tagger struct {
	idx  *index
	opts Options
	fb   *overlay // one publisher's learned adjustments; nil for none
	pool sync.Pool
}

// Field weights: the title says what a product is; a description also
// tells stories about other things.
const (
	fieldTitle = iota
	fieldTags
	fieldSKU
	fieldDescription
	fieldVendor
)

func fieldName(f uint8) string {
	switch f {
	case fieldTitle:
		return "title"
	case fieldTags:
		return "tags"
	case fieldSKU:
		return "sku"
	case fieldDescription:
		return "description"
	}
	return "vendor"
}

func fieldFactor(f uint8) float64 {
	switch f {
	case fieldTitle:
		return 1
	case fieldTags:
		return 0.95
	case fieldSKU:
		return 0.8
	case fieldDescription:
		return 0.75
	}
	return 0.7
}

// Match quality of a text word against a catalogue word.
const (
	exact  = 0
	plural = 1 // "goombas" for "goomba"
	typo   = 2 // one edit: "pikachoo" for "pikachu"
)

func fuzzFactor(f uint8) float64 {
	switch f {
	case plural:
		return 0.95
	case typo:
		return 0.8
	}
	return 1
}

// contextGain is how far (in log-odds) full context from the same game IP
// lifts an asset: a weak name (0.15) with its IP named nearby reaches ~0.85.
const contextGain = 3.5

// textTok is one word of a product, resolved against the vocabulary.
type textTok struct {
	text  string
	id    int32 // vocabulary id, -1 if none
	field uint8
	brk   bool // a phrase cannot continue across the gap before this word
	fuzz  uint8
	lex   lexClass
	poss  bool
}

// match is one phrase found in the text.
type match struct {
	ph         int32 // index.phrases, or -(k+1) for overlay.learned[k]
	start, end int   // token span [start, end)
	factor     float64
}

// cand is one asset a match may mean.
type cand struct {
	asset   int32
	ip      int32
	m       int32 // index into matches
	s       float64
	conf    float64
	partial bool
	learned bool
	ctxText string
}

type scratch struct {
	toks    []textTok
	raw     []token
	matches []match
	cands   []cand
	claimed []bool
	ipHits  []cand // ip, m and s only
}

// Suggest returns the assets p most likely depicts, strongest first, the
// first one Primary (a character ranks before its own IP's logo or theme
// when their confidences are within 0.1); nil when the tagger abstains.
func (t *Tagger) Suggest(p Product) []Suggestion {
	sc, _ := t.pool.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	defer t.pool.Put(sc)
	cands := t.analyze(p, sc)
	return t.finish(cands, sc)
}

// analyze finds every candidate asset with its confidence, before the
// threshold. The result aliases sc.
func (t *Tagger) analyze(p Product, sc *scratch) []cand {
	idx := t.idx
	sc.toks = sc.toks[:0]
	t.addField(sc, clip(p.Title, maxTitleBytes), fieldTitle)
	for _, tag := range firstN(p.Tags, maxTags) {
		t.addField(sc, clip(tag, maxShortBytes), fieldTags)
	}
	t.addField(sc, clip(p.SKU, maxShortBytes), fieldSKU)
	if p.Description != "" {
		t.addField(sc, stripMarkup(clip(p.Description, maxDescriptionBytes)), fieldDescription)
	}
	t.addField(sc, clip(p.Vendor, maxShortBytes), fieldVendor)
	toks := sc.toks

	// Phrases.
	sc.matches = sc.matches[:0]
	for i := 0; i < len(toks) && len(sc.matches) < maxMatches; i++ {
		if id := toks[i].id; id >= 0 {
			for _, pi := range idx.byFirst[id] {
				ph := &idx.phrases[pi]
				if end, ok := spanMatches(toks, i, ph.toks); ok {
					sc.matches = append(sc.matches, match{ph: pi, start: i, end: end, factor: spanFactor(toks, i, end)})
				}
			}
		}
		if t.fb != nil {
			for _, k := range t.fb.byFirst[toks[i].text] {
				lp := &t.fb.learned[k]
				if end, ok := spanMatchesText(toks, i, lp.toks); ok {
					sc.matches = append(sc.matches, match{ph: -(k + 1), start: i, end: end, factor: fieldFactor(toks[i].field)})
				}
			}
		}
	}
	if len(sc.matches) == 0 {
		return nil
	}

	// A longer name claims its words: "Luke Skywalker" is not "Luke",
	// "Baby Mario" is not "Mario".
	ms := sc.matches
	sort.SliceStable(ms, func(a, b int) bool { return ms[a].end-ms[a].start > ms[b].end-ms[b].start })
	if cap(sc.claimed) < len(toks) {
		sc.claimed = make([]bool, len(toks))
	}
	claimed := sc.claimed[:len(toks)]
	clear(claimed)
	kept := ms[:0]
	for g := 0; g < len(ms); {
		n := ms[g].end - ms[g].start
		h := g
		for h < len(ms) && ms[h].end-ms[h].start == n {
			h++
		}
		for _, m := range ms[g:h] {
			free := true
			for k := m.start; k < m.end; k++ {
				if claimed[k] {
					free = false
					break
				}
			}
			if free {
				kept = append(kept, m)
			}
		}
		for _, m := range kept {
			if m.end-m.start == n {
				for k := m.start; k < m.end; k++ {
					claimed[k] = true
				}
			}
		}
		g = h
	}
	sc.matches = kept
	ms = kept

	// Candidates and game-IP mentions.
	sc.cands = sc.cands[:0]
	sc.ipHits = sc.ipHits[:0]
	for mi, m := range ms {
		if len(sc.cands) >= maxCandidates {
			break
		}
		if m.ph < 0 {
			lp := &t.fb.learned[-m.ph-1]
			sc.cands = append(sc.cands, cand{asset: lp.asset, ip: idx.assets[lp.asset].ip, m: int32(mi), s: lp.strength * m.factor, learned: true})
			continue
		}
		ph := &idx.phrases[m.ph]
		if ph.ip >= 0 {
			sc.ipHits = append(sc.ipHits, cand{ip: ph.ip, m: int32(mi), s: ph.ipWeight * m.factor})
		}
		person := len(ph.toks) == 1 && looksLikePersonName(toks, m.start, idx)
		unknownPair := len(ph.toks) == 1 && !person && nextToUnknownName(toks, m.start)
		typoed := false
		for k := m.start; k < m.end; k++ {
			typoed = typoed || toks[k].fuzz == typo
		}
		for _, tg := range ph.targets {
			if t.fb != nil && t.fb.disabled[aliasKey{tg.asset, ph.text}] {
				continue
			}
			if typoed && tg.partial {
				continue // a typo of part of a name is too little
			}
			s := tg.strength * m.factor
			if person {
				s *= 0.25
			}
			if unknownPair {
				// "Draco Malfoy", "Franklin Webb": one word of a longer
				// name the catalogue does not know.
				s *= 0.6
			}
			if typoed && len(ph.toks) == 1 {
				// A lone misspelt word is as likely another word: it
				// needs context.
				s *= 0.6
			}
			sc.cands = append(sc.cands, cand{asset: tg.asset, ip: idx.assets[tg.asset].ip, m: int32(mi), s: s, partial: tg.partial})
		}
	}

	// Context: the IP named elsewhere in the text, or another of its assets.
	cs := sc.cands
	for i := range cs {
		c := &cs[i]
		ctx, ctxText := 0.0, ""
		mc := ms[c.m]
		for _, h := range sc.ipHits {
			if h.ip == c.ip && h.s > ctx && disjoint(mc, ms[h.m]) {
				ctx, ctxText = h.s, t.matchText(ms[h.m], toks)
			}
		}
		for j := range cs {
			o := &cs[j]
			if o.ip == c.ip && o.asset != c.asset && o.s*0.9 > ctx && disjoint(mc, ms[o.m]) {
				ctx, ctxText = o.s*0.9, t.matchText(ms[o.m], toks)
			}
		}
		c.conf = c.s
		if ctx > 0 {
			c.conf = sigmoid(logit(c.s) + contextGain*ctx)
			c.ctxText = ctxText
		}
	}

	// One span means one thing: where a name is shared by assets of
	// different IPs the best-supported IP takes it, and a tie abstains.
	for mi := range ms {
		best, second := -1, -1
		for i := range cs {
			if int(cs[i].m) != mi {
				continue
			}
			if best < 0 || cs[i].conf > cs[best].conf {
				if best >= 0 && cs[best].ip != cs[i].ip {
					second = best
				}
				best = i
			} else if cs[i].ip != cs[best].ip && (second < 0 || cs[i].conf > cs[second].conf) {
				second = i
			}
		}
		if best < 0 {
			continue
		}
		// A tie keeps both IPs, discounted: the name is genuinely shared.
		tie := second >= 0 && cs[best].conf-cs[second].conf < 0.15
		// Twins (names that differ only by a symbol or an accent): the
		// exact spelling picks one, else all are kept, discounted.
		var twins []int
		if bt := idx.assets[cs[best].asset].twin; bt >= 0 && !tie {
			for i := range cs {
				if int(cs[i].m) == mi && idx.assets[cs[i].asset].twin == bt && cs[i].conf >= cs[best].conf-1e-9 {
					twins = append(twins, i)
				}
			}
		}
		var keep []int
		if len(twins) > 1 {
			text := exactName(fieldText(p, toks[ms[mi].start].field))
			keep = pickTwin(text, twins, func(i int) string { return idx.assets[cs[i].asset].exact })
			f := 1.0
			if len(keep) != 1 {
				f = twinFactor
			}
			if len(keep) == 0 {
				keep = twins
			}
			conf := cs[best].conf
			for _, i := range twins {
				cs[i].conf = 0
			}
			for _, i := range keep {
				cs[i].conf = conf * f
			}
			best = keep[0]
		}
		dupAsset := false
		for i := range cs {
			if int(cs[i].m) != mi || i == best || slices.Contains(keep, i) {
				continue
			}
			if cs[i].ip == cs[best].ip && !tie {
				if cs[i].conf >= cs[best].conf-1e-9 {
					dupAsset = true
				}
				cs[i].conf = 0 // same IP, another asset: the best one names it
				continue
			}
			if tie && cs[i].conf >= cs[best].conf-0.15 {
				cs[i].conf *= 0.65
			} else {
				cs[i].conf = 0
			}
		}
		if tie {
			cs[best].conf *= 0.65
		} else if dupAsset {
			cs[best].conf *= 0.85
		}
	}
	return cs
}

// finish aggregates candidates per asset, applies the threshold and writes
// the suggestions.
func (t *Tagger) finish(cs []cand, sc *scratch) []Suggestion {
	type agg struct {
		asset int32
		conf  float64
		best  int
		pos   int
	}
	var aggs []agg
	for i, c := range cs {
		if c.conf <= 0 {
			continue
		}
		found := false
		for k := range aggs {
			a := &aggs[k]
			if a.asset != c.asset {
				continue
			}
			found = true
			hi, lo := a.conf, c.conf
			if lo > hi {
				hi, lo = lo, hi
				a.best = i
			}
			// A second, independent mention adds a little.
			a.conf = 1 - (1-hi)*(1-0.5*lo)
			if p := sc.matches[c.m].start; p < a.pos {
				a.pos = p
			}
		}
		if !found {
			aggs = append(aggs, agg{asset: c.asset, conf: c.conf, best: i, pos: sc.matches[c.m].start})
		}
	}
	out := make([]Suggestion, 0, len(aggs))
	sort.SliceStable(aggs, func(i, j int) bool {
		if aggs[i].conf != aggs[j].conf {
			return aggs[i].conf > aggs[j].conf
		}
		return aggs[i].pos < aggs[j].pos
	})
	// A wordmark (a logo or theme named like its IP) next to a character of
	// the same IP is mostly context: the character is the primary subject.
	if len(aggs) > 1 {
		top := t.idx.assets[aggs[0].asset]
		if top.Type == Logo || top.Type == Theme {
			for k := 1; k < len(aggs); k++ {
				e := t.idx.assets[aggs[k].asset]
				if e.ip == top.ip && e.Type == Character && aggs[k].conf >= aggs[0].conf-0.1 {
					aggs[0], aggs[k] = aggs[k], aggs[0]
					break
				}
			}
		}
	}
	for _, a := range aggs {
		conf := math.Min(a.conf, 0.99)
		if conf < t.opts.MinConfidence || len(out) == t.opts.MaxSuggestions {
			continue
		}
		e := t.idx.assets[a.asset]
		out = append(out, Suggestion{
			AssetID:    e.ID,
			GameIP:     e.GameIP,
			Asset:      e.Name,
			Confidence: math.Round(conf*1000) / 1000,
			Primary:    len(out) == 0,
			Evidence:   t.evidence(cs[a.best], sc),
		})
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// evidence describes, for a reviewer, the words behind a candidate.
func (t *Tagger) evidence(c cand, sc *scratch) string {
	m := sc.matches[c.m]
	toks := sc.toks
	var b strings.Builder
	fmt.Fprintf(&b, "%s %q", fieldName(toks[m.start].field), t.matchText(m, toks))
	switch {
	case c.learned:
		b.WriteString(" (confirmed pattern)")
	case c.partial:
		fmt.Fprintf(&b, " (part of %q)", t.idx.assets[c.asset].Name)
	}
	for k := m.start; k < m.end; k++ {
		if toks[k].fuzz == typo {
			fmt.Fprintf(&b, " (typo of %q)", t.idx.toks[toks[k].id].text)
		}
	}
	if c.ctxText != "" {
		fmt.Fprintf(&b, " with %q", c.ctxText)
	}
	return b.String()
}

func (t *Tagger) matchText(m match, toks []textTok) string {
	parts := make([]string, 0, m.end-m.start)
	for k := m.start; k < m.end; k++ {
		parts = append(parts, toks[k].text)
	}
	return strings.Join(parts, " ")
}

// addField tokenizes one field and resolves its words, up to
// maxProductWords for the whole product. The caller clips text.
func (t *Tagger) addField(sc *scratch, text string, field uint8) {
	if text == "" || len(sc.toks) >= maxProductWords {
		return
	}
	sc.raw = appendTokens(sc.raw[:0], fold(text))
	if room := maxProductWords - len(sc.toks); len(sc.raw) > room {
		sc.raw = sc.raw[:room]
	}
	idx := t.idx
	for i, r := range sc.raw {
		tt := textTok{text: r.text, id: -1, field: field, brk: r.brk || i == 0, poss: r.poss}
		if id, ok := idx.vocab[r.text]; ok {
			tt.id = id
			tt.lex = idx.toks[id].lex
		} else {
			tt.lex = lexOf(idx.lex, r.text)
			// Typos only where text is short and deliberate: a long
			// description has too many words that are one edit away
			// from some name.
			if !t.opts.NoTypos && tt.lex == lexNone && !r.cjk && field <= fieldTags {
				tt.id, tt.fuzz = idx.fuzzy(r.text)
			}
		}
		sc.toks = append(sc.toks, tt)
	}
}

// fuzzy finds the one catalogue word that w is a plural or a one-edit typo
// of. Only distinctive words of five letters or more are eligible: short
// words are too close to each other for a typo to be told from another word.
func (idx *index) fuzzy(w string) (int32, uint8) {
	n := utf8.RuneCountInString(w)
	if n >= 7 && w[len(w)-1] == 's' {
		if id, ok := idx.vocab[w[:len(w)-1]]; ok && idx.toks[id].lex == lexNone && idx.toks[id].spec >= 0.8 {
			return id, plural
		}
	}
	if n < 5 || n > maxFuzzyRunes || !allLetters(w) {
		return -1, exact
	}
	found := int32(-1)
	try := func(key string) bool {
		for _, c := range idx.deletes[key] {
			if c == found {
				continue
			}
			if editDistance1(w, idx.toks[c].text) {
				if found >= 0 {
					return false // ambiguous
				}
				found = c
			}
		}
		return true
	}
	if !try(w) {
		return -1, exact
	}
	for _, d := range deletions(w) {
		if !try(d) {
			return -1, exact
		}
	}
	if found < 0 {
		return -1, exact
	}
	return found, typo
}

// spanMatches reports whether phrase toks occurs at position i without
// crossing a field or a phrase break, returning its end.
func spanMatches(toks []textTok, i int, want []int32) (int, bool) {
	if i+len(want) > len(toks) {
		return 0, false
	}
	f := toks[i].field
	for k, id := range want {
		tt := &toks[i+k]
		if tt.id != id || tt.field != f || (k > 0 && tt.brk) {
			return 0, false
		}
	}
	return i + len(want), true
}

func spanMatchesText(toks []textTok, i int, want []string) (int, bool) {
	if i+len(want) > len(toks) {
		return 0, false
	}
	f := toks[i].field
	for k, w := range want {
		tt := &toks[i+k]
		if tt.text != w || tt.field != f || (k > 0 && tt.brk) {
			return 0, false
		}
	}
	return i + len(want), true
}

// spanFactor is the field weight times the fuzziness discount of the span.
func spanFactor(toks []textTok, start, end int) float64 {
	f := fieldFactor(toks[start].field)
	for k := start; k < end; k++ {
		f *= fuzzFactor(toks[k].fuzz)
	}
	return f
}

// looksLikePersonName reports whether the one-word name at i is a given
// name followed by what looks like a surname ("Mario Gotze", "Steve
// Trevor"): a different person who shares the character's first name.
func looksLikePersonName(toks []textTok, i int, idx *index) bool {
	// "Harley Quinn": a given name right before the name.
	if i > 0 && toks[i-1].lex == lexGiven && !toks[i].brk && toks[i-1].field == toks[i].field && toks[i-1].id < 0 {
		return true
	}
	if toks[i].lex != lexGiven || i+1 >= len(toks) {
		return false
	}
	n := &toks[i+1]
	if n.brk || n.field != toks[i].field || (n.id >= 0 && n.fuzz == exact && n.lex != lexGiven) {
		return false
	}
	if n.lex != lexNone && n.lex != lexGiven {
		return false
	}
	return utf8.RuneCountInString(n.text) >= 3 && allLetters(n.text)
}

// nextToUnknownName reports whether the one-word name at i sits right next
// to a word that is neither in the catalogue nor an ordinary word, with
// nothing between them, so that the two read as one unknown name. A
// possessive ends a name: "Sebulba's Podracer" is Sebulba's.
func nextToUnknownName(toks []textTok, i int) bool {
	unknown := func(j int) bool {
		t := &toks[j]
		return t.id < 0 && t.lex == lexNone && t.field == toks[i].field && utf8.RuneCountInString(t.text) >= 3 && allLetters(t.text)
	}
	if !toks[i].poss && i+1 < len(toks) && !toks[i+1].brk && unknown(i+1) {
		return true
	}
	return i > 0 && !toks[i].brk && !toks[i-1].poss && unknown(i-1)
}

func disjoint(a, b match) bool { return a.end <= b.start || b.end <= a.start }

func logit(p float64) float64 {
	p = math.Min(math.Max(p, 1e-4), 1-1e-4)
	return math.Log(p / (1 - p))
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// stripMarkup turns an HTML description into text: tags become spaces and
// the common entities their characters.
func stripMarkup(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>' && in:
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return html.UnescapeString(b.String())
}
