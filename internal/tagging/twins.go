package tagging

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Twins are assets of one game IP whose names differ only by what folding
// removes: a symbol or an accent ("Nidoran♀" and "Nidoran♂", "Flabébé" and
// "Flabebe"). They are distinct assets; a title that names them matches
// both equally, and then the exact spelling decides: the twin whose exact
// name the title contains is suggested alone, at the confidence a single
// asset would have. When the title spells none of them (or several), every
// twin is suggested, each discounted by twinFactor, so that none reads as
// certain: 0.8 keeps them visible to a reviewer yet below 0.8 (under the
// 0.9 that bulk acceptance takes), so neither is accepted blindly.
const twinFactor = 0.8

// exactName is s as twins are told apart and catalogues are checked for
// duplicates: case-folded and composed, spaces removed, but with accents
// and symbols kept.
func exactName(s string) string {
	s = cases.Fold().String(norm.NFC.String(s))
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// markTwins finds the twins of the catalogue: assets of one IP whose folded
// names are the same words.
func (idx *index) markTwins() {
	groups := map[string][]int{}
	for i := range idx.assets {
		a := &idx.assets[i]
		a.twin = -1
		k := strconv.Itoa(int(a.ip)) + "\x00" + strings.Join(tokenTexts(nameTokens(a.Name)), " ")
		groups[k] = append(groups[k], i)
	}
	n := int32(0)
	for _, g := range groups {
		if len(g) < 2 {
			continue
		}
		for _, i := range g {
			idx.assets[i].twin = n
			idx.assets[i].exact = exactName(clip(idx.assets[i].Name, maxNameBytes))
		}
		n++
	}
}

// fieldText is the text of field f of p as the tagger reads it (clipped).
func fieldText(p Product, f uint8) string {
	switch f {
	case fieldTitle:
		return clip(p.Title, maxTitleBytes)
	case fieldTags:
		var b strings.Builder
		for _, t := range firstN(p.Tags, maxTags) {
			b.WriteString(clip(t, maxShortBytes))
			b.WriteByte(' ')
		}
		return b.String()
	case fieldSKU:
		return clip(p.SKU, maxShortBytes)
	case fieldDescription:
		return stripMarkup(clip(p.Description, maxDescriptionBytes))
	}
	return clip(p.Vendor, maxShortBytes)
}

// pickTwin returns which of the twin candidates is (are) spelled in text:
// those whose exact name text contains, leaving out a twin whose exact name
// is part of another's that is also there ("nidoran" inside "nidoran♀").
// An empty result means no twin is spelled exactly.
func pickTwin(text string, cands []int, exact func(int) string) []int {
	var in []int
	for _, c := range cands {
		if strings.Contains(text, exact(c)) {
			in = append(in, c)
		}
	}
	var out []int
	for _, c := range in {
		inner := false
		for _, o := range in {
			if o != c && len(exact(o)) > len(exact(c)) && strings.Contains(exact(o), exact(c)) {
				inner = true
				break
			}
		}
		if !inner {
			out = append(out, c)
		}
	}
	return out
}
