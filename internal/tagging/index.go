package tagging

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Strength of one matched word, by how ordinary it is. A name made only of
// ordinary words needs context before it is suggested.
const (
	specStop    = 0.0
	specProduct = 0.05
	specCommon  = 0.15
	specGiven   = 0.3
	specCJK     = 0.3 // one character of an unspaced script
	// anchorStrength is the floor for an asset named by a word of its own
	// game IP's name ("Mario" of "Super Mario"): the IP's namesake.
	anchorStrength = 0.8
	// ipPhraseFloor is the floor for a multi-word game IP name: a
	// franchise name written out in full is deliberate.
	ipPhraseFloor = 0.85
	// partialFactor discounts a character named by part of its name.
	partialFactor = 0.85
	// aliasFactor discounts an alias against the asset's own name.
	aliasFactor = 0.92
	maxStrength = 0.97
)

// tokInfo describes one word of the catalogue vocabulary.
type tokInfo struct {
	text string
	lex  lexClass
	spec float64
}

// target is an asset a phrase names, fully or partly.
type target struct {
	asset    int32
	partial  bool
	strength float64
}

// phrase is a token sequence that names assets and/or a game IP.
type phrase struct {
	toks    []int32
	text    string // folded, space-joined
	targets []target
	// ip is the game IP this phrase names or, for a partial name shared by
	// several assets of one IP, points to; -1 if none.
	ip       int32
	ipWeight float64
}

// assetEntry is an Asset with its game IP resolved.
type assetEntry struct {
	Asset
	ip int32
	// twin numbers the asset's group of twins (twins.go), -1 for none;
	// exact is the name as twins are told apart.
	twin  int32
	exact string
}

// index is the immutable, shareable part of a Tagger.
type index struct {
	assets  []assetEntry
	ips     []string
	vocab   map[string]int32
	toks    []tokInfo
	phrases []phrase
	byFirst [][]int32 // token id → phrases starting with it
	// deletes maps each one-character deletion of a distinctive word
	// (and the word itself) to the words, for edit-distance-1 lookups.
	deletes map[string][]int32
	lex     map[string]lexClass
}

// NewTagger builds a tagger over a catalogue. Every asset needs an ID
// (unique), a game IP and a name; the error names the first bad asset.
func NewTagger(assets []Asset, opts Options) (*Tagger, error) {
	idx, err := buildIndex(assets, opts)
	if err != nil {
		return nil, err
	}
	return &Tagger{idx: idx, opts: opts.withDefaults()}, nil
}

func buildIndex(assets []Asset, opts Options) (*index, error) {
	if len(assets) == 0 {
		return nil, errors.New("tagging: empty catalogue")
	}
	idx := &index{
		vocab:   make(map[string]int32),
		deletes: make(map[string][]int32),
		lex:     buildLexicon(opts.CommonWords, fold),
	}
	ipByKey := map[string]int32{}
	seen := map[string]bool{}
	for i, a := range assets {
		a.ID = strings.TrimSpace(a.ID)
		a.Name = strings.TrimSpace(a.Name)
		a.GameIP = strings.TrimSpace(a.GameIP)
		switch {
		case a.ID == "":
			return nil, fmt.Errorf("tagging: asset %d (%q): missing id", i+1, a.Name)
		case seen[a.ID]:
			return nil, fmt.Errorf("tagging: asset %d: duplicate id %q", i+1, a.ID)
		case a.Name == "":
			return nil, fmt.Errorf("tagging: asset %d (%s): missing name", i+1, a.ID)
		case a.GameIP == "":
			return nil, fmt.Errorf("tagging: asset %d (%s): missing game IP", i+1, a.ID)
		}
		t, err := ParseAssetType(string(a.Type))
		if err != nil {
			return nil, fmt.Errorf("tagging: asset %d (%s): %s", i+1, a.ID, strings.TrimPrefix(err.Error(), "tagging: "))
		}
		a.Type = t
		seen[a.ID] = true
		key := strings.Join(tokenTexts(nameTokens(a.GameIP)), " ")
		ip, ok := ipByKey[key]
		if !ok {
			ip = int32(len(idx.ips))
			ipByKey[key] = ip
			idx.ips = append(idx.ips, a.GameIP)
		}
		idx.assets = append(idx.assets, assetEntry{Asset: a, ip: ip})
	}
	idx.markTwins()

	// Collect phrases. The builder keys them by folded text so that one
	// token sequence carries every asset it can mean.
	b := &phraseBuilder{idx: idx, byText: map[string]int32{}}
	for ip, name := range idx.ips {
		names := append([]string{name}, firstN(opts.GameIPAliases[name], maxAliases)...)
		for _, n := range names {
			toks := b.tokens(n)
			if len(toks) > 1 && idx.toks[toks[0]].text == "the" {
				b.ipContext(toks[1:], int32(ip))
			}
			b.ipContext(toks, int32(ip))
			if len(toks) < 2 {
				continue
			}
			// A distinctive word of a longer IP name is context too:
			// "zelda" for "The Legend of Zelda".
			for _, t := range toks {
				if c := idx.toks[t].lex; c == lexNone || c == lexGiven {
					b.ipContext([]int32{t}, int32(ip))
				}
			}
		}
	}
	pool := idx.poolFactors()
	partials := map[string][]target{}
	partialToks := map[string][]int32{}
	for ai, a := range idx.assets {
		names := append([]string{a.Name}, firstN(a.Aliases, maxAliases)...)
		done := map[string]bool{}
		for ni, n := range names {
			toks := b.tokens(n)
			if len(toks) == 0 {
				continue
			}
			for _, variant := range idx.variants(toks) {
				key := b.key(variant)
				if done[key] {
					continue
				}
				done[key] = true
				s := idx.assetStrength(a, variant)
				if len(variant) == 1 && s < anchorStrength+1e-9 {
					s *= pool[a.ip]
				}
				if ni > 0 && len(variant) == 1 {
					// One-word aliases are often translations, which
					// collide with words of other languages more than
					// the catalogue's own name does.
					s *= aliasFactor
				}
				p := b.phrase(variant)
				p.targets = addTarget(p.targets, target{asset: int32(ai), strength: s})
			}
			// Parts of the name (not of aliases, which are often long
			// edition names) for characters.
			if a.Type != Character || len(toks) < 2 || ni > 0 {
				continue
			}
			// Contiguous parts of a multi-word character name.
			for i := 0; i < len(toks); i++ {
				for j := i + 1; j <= len(toks); j++ {
					if j-i == len(toks) {
						continue
					}
					sub := toks[i:j]
					s := idx.fullStrength(sub)
					if s < 0.8 {
						continue
					}
					key := b.key(sub)
					if done["part:"+key] {
						continue
					}
					done["part:"+key] = true
					if len(sub) == 1 {
						s *= pool[a.ip]
					}
					partials[key] = append(partials[key], target{asset: int32(ai), partial: true, strength: math.Min(s*partialFactor, maxStrength)})
					partialToks[key] = sub
				}
			}
		}
	}
	// A part of a name counts only where no asset has it as a full name,
	// and names an asset only when it is unique to that asset. Shared by
	// several assets of one IP it is context for that IP.
	keys := make([]string, 0, len(partials))
	for k := range partials {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if id, ok := b.byText[k]; ok && len(idx.phrases[id].targets) > 0 {
			continue
		}
		ts := partials[k]
		ipSet := map[int32]bool{}
		for _, t := range ts {
			ipSet[idx.assets[t.asset].ip] = true
		}
		p := b.phrase(partialToks[k])
		if len(ts) == 1 {
			p.targets = append(p.targets, ts[0])
			continue
		}
		if len(ipSet) == 1 && p.ip < 0 {
			p.ip = idx.assets[ts[0].asset].ip
			p.ipWeight = ts[0].strength * 0.8
		}
	}

	// First-token index and typo index.
	idx.byFirst = make([][]int32, len(idx.toks))
	for pi, p := range idx.phrases {
		idx.byFirst[p.toks[0]] = append(idx.byFirst[p.toks[0]], int32(pi))
	}
	for ti, t := range idx.toks {
		if n := utf8.RuneCountInString(t.text); t.lex != lexNone || n < 6 || n > maxFuzzyRunes || !allLetters(t.text) {
			continue
		}
		for _, d := range deletions(t.text) {
			idx.deletes[d] = appendUnique(idx.deletes[d], int32(ti))
		}
		idx.deletes[t.text] = appendUnique(idx.deletes[t.text], int32(ti))
	}
	return idx, nil
}

// poolFactors discounts one-word names by the size of their game IP's pool
// of one-word names: the more such names an IP has, the likelier a word of
// an unrelated title hits one of them by chance (an IP with 400 villagers
// called Apple, Bones and Cyrus says less with each hit than one with 20
// invented names). IPs with up to 32 one-word names are not discounted.
func (idx *index) poolFactors() []float64 {
	n := make([]int, len(idx.ips))
	for _, a := range idx.assets {
		if len(nameTokens(a.Name)) == 1 {
			n[a.ip]++
		}
	}
	f := make([]float64, len(idx.ips))
	for ip, k := range n {
		f[ip] = 1
		if k > 32 {
			f[ip] = math.Max(0.6, 1-0.07*math.Log2(float64(k)/32))
		}
	}
	return f
}

// phraseBuilder interns tokens and phrases while the index is built.
type phraseBuilder struct {
	idx    *index
	byText map[string]int32
}

func (b *phraseBuilder) tokens(s string) []int32 {
	toks := nameTokens(s)
	ids := make([]int32, 0, len(toks))
	for _, t := range toks {
		ids = append(ids, b.idx.intern(t.text))
	}
	return ids
}

// ipContext records toks as a mention of game IP ip.
func (b *phraseBuilder) ipContext(toks []int32, ip int32) {
	if len(toks) == 0 {
		return
	}
	idx := b.idx
	s := idx.fullStrength(toks)
	if len(toks) > 1 {
		s = math.Max(s, ipPhraseFloor)
	} else if c := idx.toks[toks[0]].lex; c == lexNone || c == lexGiven {
		s = math.Max(s, anchorStrength)
	}
	s = math.Min(s, maxStrength)
	p := b.phrase(toks)
	if p.ip < 0 || s > p.ipWeight {
		p.ip, p.ipWeight = ip, s
	}
}

func (b *phraseBuilder) key(toks []int32) string {
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = b.idx.toks[t].text
	}
	return strings.Join(parts, " ")
}

func (b *phraseBuilder) phrase(toks []int32) *phrase {
	k := b.key(toks)
	if id, ok := b.byText[k]; ok {
		return &b.idx.phrases[id]
	}
	b.byText[k] = int32(len(b.idx.phrases))
	b.idx.phrases = append(b.idx.phrases, phrase{toks: append([]int32(nil), toks...), text: k, ip: -1})
	return &b.idx.phrases[len(b.idx.phrases)-1]
}

// intern returns the vocabulary id of a folded word, adding it.
func (idx *index) intern(w string) int32 {
	if id, ok := idx.vocab[w]; ok {
		return id
	}
	id := int32(len(idx.toks))
	idx.vocab[w] = id
	c := lexOf(idx.lex, w)
	idx.toks = append(idx.toks, tokInfo{text: w, lex: c, spec: wordSpec(w, c)})
	return id
}

// wordSpec is how much one word, alone, says that its asset is meant.
func wordSpec(w string, c lexClass) float64 {
	switch c {
	case lexStop:
		return specStop
	case lexProduct:
		return specProduct
	case lexCommon:
		return specCommon
	case lexGiven:
		return specGiven
	}
	r, _ := utf8.DecodeRuneInString(w)
	if unspaced(r) {
		return specCJK
	}
	if !hasLetter(w) {
		return 0.05 // numbers
	}
	switch n := utf8.RuneCountInString(w); {
	case n >= 5:
		return 0.8
	case n == 4:
		return 0.65
	case n == 3:
		return 0.45
	case n == 2:
		return 0.25
	}
	return 0.05
}

// fullStrength combines the words of a complete name: any distinctive word
// makes it strong, and every extra word in sequence makes a coincidence
// less likely.
func (idx *index) fullStrength(toks []int32) float64 {
	miss := 1.0
	n := 0
	for _, t := range toks {
		miss *= 1 - idx.toks[t].spec
		if idx.toks[t].spec > 0 {
			n++
		}
	}
	if n >= 2 {
		miss *= math.Pow(0.5, float64(n-1))
	}
	return math.Min(1-miss, maxStrength)
}

// assetStrength is fullStrength with the namesake floor: a one-word asset
// name that is also a word of its game IP's name is the IP's signature.
func (idx *index) assetStrength(a assetEntry, toks []int32) float64 {
	s := idx.fullStrength(toks)
	if c := idx.toks[toks[0]].lex; len(toks) == 1 && s < anchorStrength && (c == lexNone || c == lexGiven) {
		for _, t := range nameTokens(a.GameIP) {
			if t.text == idx.toks[toks[0]].text {
				return anchorStrength
			}
		}
	}
	// A name whose whole text is the game IP name (a logo, a wordmark).
	if len(toks) > 1 && strings.EqualFold(joinTokens(idx, toks), strings.Join(tokenTexts(nameTokens(a.GameIP)), " ")) {
		return math.Max(s, ipPhraseFloor)
	}
	return s
}

func joinTokens(idx *index, toks []int32) string {
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = idx.toks[t].text
	}
	return strings.Join(parts, " ")
}

// variants returns a name's token sequence plus, for a short multi-word or
// hyphenated name, the joined spelling ("pac man" → "pacman").
func (idx *index) variants(toks []int32) [][]int32 {
	out := [][]int32{toks}
	if len(toks) >= 2 && len(toks) <= 3 {
		var sb strings.Builder
		for _, t := range toks {
			sb.WriteString(idx.toks[t].text)
		}
		j := sb.String()
		r, _ := utf8.DecodeRuneInString(j)
		if utf8.RuneCountInString(j) >= 5 && !unspaced(r) {
			out = append(out, []int32{idx.intern(j)})
		}
	}
	return out
}

func addTarget(ts []target, t target) []target {
	for i := range ts {
		if ts[i].asset == t.asset {
			if t.strength > ts[i].strength {
				ts[i] = t
			}
			return ts
		}
	}
	return append(ts, t)
}

// firstN returns at most the first n elements of l.
func firstN(l []string, n int) []string {
	if len(l) > n {
		return l[:n]
	}
	return l
}

func appendUnique(s []int32, v int32) []int32 {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func tokenTexts(ts []token) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.text
	}
	return out
}

// deletions returns every string obtained by deleting one character of w.
func deletions(w string) []string {
	rs := []rune(w)
	out := make([]string, 0, len(rs))
	for i := range rs {
		out = append(out, string(rs[:i])+string(rs[i+1:]))
	}
	return out
}

func allLetters(w string) bool {
	for _, r := range w {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

func hasLetter(w string) bool {
	for _, r := range w {
		if unicode.IsLetter(r) {
			return true
		}
	}
	return false
}

// editDistance1 reports whether a and b differ by exactly one insertion,
// deletion, substitution or transposition of adjacent characters.
func editDistance1(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) < len(rb) {
		ra, rb = rb, ra
	}
	switch len(ra) - len(rb) {
	case 0:
		diff := -1
		for i := range ra {
			if ra[i] != rb[i] {
				if diff >= 0 {
					// transposition of two adjacent characters
					return i == diff+1 && ra[diff] == rb[i] && ra[i] == rb[diff] && string(ra[i+1:]) == string(rb[i+1:])
				}
				diff = i
			}
		}
		return diff >= 0
	case 1:
		for i := range rb {
			if ra[i] != rb[i] {
				return string(ra[i+1:]) == string(rb[i:])
			}
		}
		return true
	}
	return false
}
