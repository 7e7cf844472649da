package tagging

import (
	"strings"
	"unicode/utf8"
)

// Bounds on the work one product or one catalogue entry costs. Product
// text comes from shops, files and API clients, so a single row can hold
// megabytes; the tagger reads only a fixed prefix of each field and a fixed
// number of words, so Suggest costs at most a constant amount of memory and
// time per product, however long its text. No real title or name comes
// near these sizes.
const (
	// maxTitleBytes is the part of a title read: 2 KiB is ten times the
	// longest marketplace title limits.
	maxTitleBytes = 2 << 10
	// maxTags is how many tags are read, each up to maxShortBytes.
	maxTags = 64
	// maxShortBytes bounds a tag, the SKU and the vendor.
	maxShortBytes = 256
	// maxDescriptionBytes is the prefix of a description (markup
	// included) that is read: the opening paragraphs say what the product
	// is; the rest is care instructions and shipping.
	maxDescriptionBytes = 8 << 10
	// maxProductWords caps the words examined per product, all fields
	// together, title first.
	maxProductWords = 1024
	// maxMatches and maxCandidates cap the names found in one product and
	// the assets they may mean: the steps that compare candidates with
	// each other are quadratic in them.
	maxMatches    = 2048
	maxCandidates = 1024
	// maxFuzzyRunes is the longest word compared for typos and plurals:
	// a typo index entry costs one string per character, so a long word
	// would cost the square of its length. No name is that long.
	maxFuzzyRunes = 40
	// maxNameBytes and maxNameWords bound each asset name, alias and game
	// IP name the index reads, and maxAliases the aliases per asset.
	maxNameBytes = 256
	maxNameWords = 16
	maxAliases   = 64
)

// clip returns at most the first n bytes of s, cut at the last space when
// there is one in the second half of that prefix (so that no word is cut in
// two), else at a character boundary. It does not copy.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	if i := strings.LastIndexAny(s, " \t\n\r"); i >= n/2 {
		return s[:i]
	}
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if r != utf8.RuneError || size > 1 {
			break
		}
		s = s[:len(s)-1] // drop a character cut in two
	}
	return s
}

// nameTokens tokenizes a catalogue name within the index bounds.
func nameTokens(s string) []token {
	toks := tokenize(fold(clip(s, maxNameBytes)))
	if len(toks) > maxNameWords {
		toks = toks[:maxNameWords]
	}
	return toks
}
