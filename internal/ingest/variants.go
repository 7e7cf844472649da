package ingest

import (
	"strings"
	"unicode"
)

// splitVariant splits a line item's name into its product and variant when
// the name is a product's with a variant after the last " - ", as Shopify
// names line items ("White Hoodie - S", "Logo Tee - Black / XL"). The part
// after the dash counts as a variant only when every " / " option of it is
// a size or a colour, or a number: a title that merely contains a dash
// ("Spider-Man - Homecoming Tee") stays whole.
func splitVariant(name string) (product, variant string, ok bool) {
	i := strings.LastIndex(name, " - ")
	if i <= 0 {
		return "", "", false
	}
	product, variant = strings.TrimSpace(name[:i]), strings.TrimSpace(name[i+3:])
	if product == "" || variant == "" || len(variant) > 60 {
		return "", "", false
	}
	for _, opt := range strings.Split(variant, "/") {
		if !variantOption(strings.ToLower(strings.TrimSpace(opt))) {
			return "", "", false
		}
	}
	return product, variant, true
}

// variantWords are the sizes and colours variants are named by (read
// only).
var variantWords = wordSet(`xxs xs s m l xl xxl xxxl 2xl 3xl 4xl 5xl os small medium large x-large xx-large
	youth adult kids toddler infant regular tall petite one size us eu uk months years light dark
	black white grey gray red blue navy green olive yellow orange pink purple brown beige cream tan gold silver
	maroon burgundy teal charcoal heather natural sand khaki mint lavender royal forest cardinal ivory multi multicolor clear`)

func wordSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// variantOption reports whether opt (lower case) names a size, a colour
// (possibly two words, "heather grey", "one size") or a number ("10",
// "32x34", "us 9", "6-12 months").
func variantOption(opt string) bool {
	if opt == "" {
		return false
	}
	words := strings.Fields(strings.NewReplacer("-", " ").Replace(opt))
	if len(words) > 3 {
		return false
	}
	for _, w := range words {
		if variantWords[w] {
			continue
		}
		if strings.IndexFunc(w, func(r rune) bool { return !unicode.IsDigit(r) && r != 'x' && r != '.' }) < 0 {
			continue // 10, 32x34, 7.5
		}
		return false
	}
	return true
}
