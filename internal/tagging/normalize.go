package tagging

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// fold returns s in the form every comparison uses: compatibility
// decomposition (full-width and ligature forms become plain letters),
// diacritics removed from Latin, Greek and Cyrillic letters ("Pokémon" →
// "pokemon", "Götze" → "gotze"), Unicode case folding, and a few letters
// that have no decomposition spelled out ("ø" → "o", "æ" → "ae").
// Marks of other scripts are kept: they are part of the letter (Thai vowels,
// Japanese voicing marks).
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	d := norm.NFKD.String(s)
	var b strings.Builder
	b.Grow(len(d))
	var base rune
	for _, r := range d {
		if unicode.Is(unicode.Mn, r) {
			if stripsMarks(base) {
				continue
			}
		} else {
			base = r
		}
		b.WriteRune(r)
	}
	out := cases.Fold().String(norm.NFC.String(b.String()))
	if !strings.ContainsAny(out, "øæœłđðþı") {
		return out
	}
	// Letters that Unicode does not decompose.
	var sb strings.Builder
	sb.Grow(len(out) + 4)
	for _, r := range out {
		switch r {
		case 'ø':
			sb.WriteByte('o')
		case 'æ':
			sb.WriteString("ae")
		case 'œ':
			sb.WriteString("oe")
		case 'ł':
			sb.WriteByte('l')
		case 'đ', 'ð':
			sb.WriteByte('d')
		case 'þ':
			sb.WriteString("th")
		case 'ı':
			sb.WriteByte('i')
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}

// stripsMarks reports whether combining marks after base are diacritics to
// drop: true for Latin, Greek and Cyrillic letters.
func stripsMarks(base rune) bool {
	return base < 0x0530 || (base >= 0x1E00 && base <= 0x1FFF)
}

// token is one word of folded text.
type token struct {
	text string
	// brk is true when punctuation that ends a phrase (comma, bracket,
	// spaced dash, slash…) separates this token from the previous one.
	brk bool
	// poss is true for a word written as a possessive ("Yoda's").
	poss bool
	// cjk is true for one character of a script written without spaces
	// (Han, kana, Thai…): such scripts are matched character by character.
	cjk bool
}

// unspaced reports whether r belongs to a script written without spaces
// between words.
func unspaced(r rune) bool {
	if r < 0x0E00 {
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar) || r == 'ー'
}

func isApostrophe(r rune) bool {
	return r == '\'' || r == '’' || r == 'ʼ' || r == '‘' || r == '`' || r == '′'
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || '0' <= r && r <= '9' || 'A' <= r && r <= 'Z'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
}

// tokenize splits folded text into words. Word boundaries are the only
// place a name can match, so "cufflinks" never contains "link". It also:
//   - drops possessives: "mario's" → "mario", "tails'" → "tails";
//   - joins other apostrophes: "farfetch'd" → "farfetchd";
//   - joins dotted initials: "r.o.b." → "rob", "e.m.m.i." → "emmi";
//   - splits hyphens: "chun-li" → "chun", "li" (a joined alias variant
//     covers "chunli");
//   - yields one token per character for scripts written without spaces.
func tokenize(s string) []token {
	return appendTokens(nil, s)
}

func appendTokens(dst []token, s string) []token {
	var (
		cur      []byte // current word being built (only when it differs from s)
		start    = -1   // start of current word in s when cur == nil
		brk      bool   // the separator ends a phrase
		segLen   int    // letters since the last dot in the current word
		prevRune rune
	)
	emit := func(end int) {
		if start < 0 && cur == nil {
			return
		}
		var text string
		if cur != nil {
			text = string(cur)
		} else {
			text = s[start:end]
		}
		if text != "" {
			dst = append(dst, token{text: text, brk: brk && len(dst) > 0})
		}
		cur, start, brk, segLen = nil, -1, false, 0
	}
	// toBuf switches the current word to an explicit buffer so that
	// characters can be skipped inside it.
	toBuf := func(end int) {
		if cur == nil && start >= 0 {
			cur = append(make([]byte, 0, end-start+8), s[start:end]...)
			start = -1
		}
	}
	inWord := func() bool { return cur != nil || start >= 0 }
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case unspaced(r):
			emit(i)
			dst = append(dst, token{text: s[i : i+size], brk: brk && len(dst) > 0, cjk: true})
			brk = false
		case isWordRune(r):
			if !inWord() {
				start = i
				segLen = 0
			} else if cur != nil {
				cur = append(cur, s[i:i+size]...)
			}
			segLen++
		case isApostrophe(r) && inWord() && unicode.IsLetter(prevRune):
			next, nsize := utf8.DecodeRuneInString(s[i+size:])
			if next == 's' {
				after, _ := utf8.DecodeRuneInString(s[i+size+nsize:])
				if i+size+nsize >= len(s) || !isWordRune(after) {
					// Possessive: keep the word, drop "'s".
					toBuf(i)
					emit(i)
					dst[len(dst)-1].poss = true
					i += size + nsize
					prevRune = 's'
					continue
				}
			}
			if isWordRune(next) {
				toBuf(i) // join across the apostrophe
			} else {
				emit(i)
				dst[len(dst)-1].poss = true // "Tails'"
			}
		case r == '.' && inWord() && segLen == 1:
			// Dotted initials continue while single letters follow.
			next, nsize := utf8.DecodeRuneInString(s[i+size:])
			after, _ := utf8.DecodeRuneInString(s[i+size+nsize:])
			if unicode.IsLetter(next) && (i+size+nsize >= len(s) || !isWordRune(after)) {
				toBuf(i)
				segLen = 0
			} else {
				emit(i)
			}
		default:
			if inWord() {
				emit(i)
			}
			if breaksPhrase(r) || (r == '-' && (prevRune == ' ' || nextIsSpace(s, i+size))) {
				brk = true
			}
		}
		prevRune = r
		i += size
	}
	emit(len(s))
	return dst
}

func nextIsSpace(s string, i int) bool {
	return i >= len(s) || s[i] == ' ' || s[i] == '\t'
}

// breaksPhrase reports whether r separates two phrases: a multi-word name
// never matches across it.
func breaksPhrase(r rune) bool {
	switch r {
	case ',', ';', ':', '(', ')', '[', ']', '{', '}', '|', '/', '\\', '"', '!', '?', '–', '—', '•', '·', '・', '\n', '<', '>', '«', '»', '“', '”', '+', '=', '*', '#', '@':
		return true
	}
	return false
}
