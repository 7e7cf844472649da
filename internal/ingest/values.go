package ingest

import (
	"errors"
	"fmt"
	"html"
	"math"
	"math/big"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/phantomos/phantomos"
)

// parseMinor parses a decimal amount into minor units of a currency with
// digits decimal places, exactly (no floating point). It accepts an
// optional sign, one currency symbol ($ € £ ¥), thousands separators in
// proper groups of three ("1,234.50") and a dot as the decimal separator.
// Decimals beyond the currency's are refused unless they are zeros
// ("12.5000" is 12.50 USD, "12.505" is an error).
// maxMinor bounds any amount (10^15 minor units, ten trillion dollars), so
// that sums of a few amounts never overflow.
const maxMinor = 1_000_000_000_000_000

func parseMinor(s string, digits int) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("is empty")
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	for _, sym := range []string{"$", "€", "£", "¥"} {
		if strings.HasPrefix(s, sym) {
			s = strings.TrimSpace(s[len(sym):])
			break
		}
	}
	if !neg && strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" && frac == "" {
		return 0, errors.New("is not a number")
	}
	if strings.Contains(intPart, ",") {
		if !validGroups(intPart) {
			if !hasDot && strings.Count(intPart, ",") == 1 {
				return 0, errors.New("uses a comma as decimal separator; use a dot (12.50)")
			}
			return 0, errors.New("is not a number")
		}
		intPart = strings.ReplaceAll(intPart, ",", "")
	}
	var v int64
	for i := 0; i < len(intPart); i++ {
		c := intPart[i]
		if c < '0' || c > '9' {
			return 0, errors.New("is not a number")
		}
		if v > (math.MaxInt64-9)/10 {
			return 0, errors.New("is too large")
		}
		v = v*10 + int64(c-'0')
	}
	for i := 0; i < len(frac); i++ {
		c := frac[i]
		if c < '0' || c > '9' {
			return 0, errors.New("is not a number")
		}
		if i >= digits {
			if c != '0' {
				return 0, fmt.Errorf("has more than %d decimal places", digits)
			}
			continue
		}
	}
	for i := range digits {
		d := int64(0)
		if i < len(frac) {
			d = int64(frac[i] - '0')
		}
		if v > (math.MaxInt64-9)/10 {
			return 0, errors.New("is too large")
		}
		v = v*10 + d
	}
	if v > maxMinor {
		return 0, errors.New("is implausibly large")
	}
	if neg {
		v = -v
	}
	return v, nil
}

func validGroups(s string) bool {
	groups := strings.Split(s, ",")
	if len(groups[0]) == 0 || len(groups[0]) > 3 {
		return false
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return false
		}
	}
	return true
}

// parseQuantity parses a whole number of units ("2", "2.0").
func parseQuantity(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("is empty")
	}
	whole, frac, _ := strings.Cut(s, ".")
	if strings.Trim(frac, "0") != "" {
		return 0, errors.New("is not a whole number")
	}
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || whole == "" {
		return 0, errors.New("is not a whole number")
	}
	if n > 1_000_000_000 || n < -1_000_000_000 {
		return 0, errors.New("is implausibly large")
	}
	return n, nil
}

// mulMinor multiplies a unit price by a quantity, refusing overflow.
func mulMinor(price, qty int64) (int64, error) {
	if qty == 0 || price == 0 {
		return 0, nil
	}
	v := price * qty
	if v/qty != price || v > maxMinor || v < -maxMinor {
		return 0, errors.New("price × quantity is implausibly large")
	}
	return v, nil
}

// parseRate parses a positive exchange rate.
func parseRate(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, errors.New("is not a number")
	}
	if f <= 0 {
		return 0, errors.New("must be greater than zero")
	}
	return f, nil
}

// Timestamp layouts. Those without a zone are read in the publisher's.
var (
	isoLayouts = []string{
		time.RFC3339Nano,
		"2006-01-02 15:04:05 -0700",
		"2006-01-02 15:04:05 -07:00",
		"2006-01-02 15:04:05Z07:00",
		"2006-01-02 15:04:05 MST",
		"2006-01-02T15:04:05",
		"2006-01-02 15:04:05",
		"2006-01-02T15:04",
		"2006-01-02 15:04",
		"2006-01-02",
		"2006/01/02",
	}
	// bigCommerceLayouts adds the store-formatted dates of BigCommerce's
	// exports, read month first as the default (US) store setting has it.
	bigCommerceLayouts = append([]string{
		time.RFC1123Z, time.RFC1123, "01/02/2006 15:04:05", "01/02/2006 15:04", "01/02/2006", "1/2/2006",
		"Jan 2, 2006", "2 Jan 2006", "Jan 2 2006",
	}, isoLayouts...)
)

// parseTime reads a timestamp in one of layouts; one without a zone is in loc.
func parseTime(s string, loc *time.Location, layouts []string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("is empty")
	}
	for _, l := range layouts {
		t, err := time.ParseInLocation(l, s, loc)
		if err != nil {
			continue
		}
		if t.Year() < 1970 || t.Year() > 2200 {
			return time.Time{}, errors.New("is not a plausible date")
		}
		return t, nil
	}
	return time.Time{}, errors.New("is not a date (use 2006-01-02, 2006-01-02 15:04:05 or RFC 3339 such as 2006-01-02T15:04:05Z)")
}

// parseDay reads a calendar date.
func parseDay(s string) (phantomos.Day, error) {
	t, err := parseTime(s, time.UTC, []string{"2006-01-02", "2006/01/02"})
	if err != nil {
		return "", errors.New("is not a date (use 2006-01-02)")
	}
	return phantomos.Day(t.Format(time.DateOnly)), nil
}

// normCurrency returns an ISO 4217 code in upper case.
func normCurrency(s string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(s))
	if len(c) != 3 || strings.IndexFunc(c, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return "", errors.New("is not an ISO 4217 currency code (three letters, such as USD)")
	}
	return c, nil
}

// parseBool reads yes/no style flags.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "y", "t", "x":
		return true, true
	case "", "0", "false", "no", "n", "f":
		return false, true
	}
	return false, false
}

// allocate splits total over weights in proportion, exactly: the parts
// add up to total, and the remainder goes to the largest fractions (ties to
// the earlier). Negative weights count as their magnitude; when every weight
// is zero, the first part takes it all.
func allocate(total int64, weights []int64) []int64 {
	out := make([]int64, len(weights))
	if len(weights) == 0 || total == 0 {
		return out
	}
	abs := make([]*big.Int, len(weights))
	sum := new(big.Int)
	for i, w := range weights {
		abs[i] = new(big.Int).Abs(big.NewInt(w))
		sum.Add(sum, abs[i])
	}
	if sum.Sign() == 0 {
		out[0] = total
		return out
	}
	type rem struct {
		i int
		r *big.Int
	}
	rems := make([]rem, len(weights))
	var given int64
	bt := big.NewInt(total)
	for i := range weights {
		p := new(big.Int).Mul(bt, abs[i])
		q, r := new(big.Int).QuoRem(p, sum, new(big.Int))
		out[i] = q.Int64()
		given += out[i]
		rems[i] = rem{i, r.Abs(r)}
	}
	left := total - given
	step := int64(1)
	if left < 0 {
		step, left = -1, -left
	}
	// Largest remainders first; stable, so ties go to the earlier part.
	order := make([]int, len(rems))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return rems[order[a]].r.Cmp(rems[order[b]].r) > 0 })
	for k := int64(0); k < left; k++ {
		out[order[int(k)%len(order)]] += step
	}
	return out
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// plainText turns an HTML fragment (a product body) into plain text: tags
// dropped, entities decoded, whitespace collapsed, at most 4000 bytes.
func plainText(s string) string {
	var b strings.Builder
	inTag := false
	for _, r := range s {
		switch {
		case r == '<':
			inTag = true
			b.WriteByte(' ')
		case r == '>' && inTag:
			inTag = false
		case !inTag:
			b.WriteRune(r)
		}
	}
	out := strings.Join(strings.Fields(html.UnescapeString(b.String())), " ")
	if len(out) > 4000 {
		cut := 4000
		for cut > 0 && !utf8.RuneStart(out[cut]) {
			cut--
		}
		out = out[:cut] + "…"
	}
	return out
}

// splitList splits a tag or alias list on sep, trimming and dropping empty
// and repeated items.
func splitList(s string, sep string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(s, sep) {
		p = strings.TrimSpace(p)
		if p == "" || seen[strings.ToLower(p)] {
			continue
		}
		seen[strings.ToLower(p)] = true
		out = append(out, p)
	}
	return out
}

// categoryWords maps words of product types, categories, tags and names to
// PhantomOS categories. Plural "s" is dropped before the lookup.
var categoryWords = buildCategoryWords()

func buildCategoryWords() map[string]string {
	m := map[string]string{}
	for cat, words := range map[string]string{
		phantomos.CategoryApparel: "apparel clothing clothe shirt tshirt tee hoodie sweatshirt sweater jumper jacket coat top blouse dress skirt " +
			"pant trouser jean short sock hat cap beanie scarf glove crewneck polo vest legging poncho tank cardigan shoe sneaker boot " +
			"pajama onesie bodysuit jersey costume cosplay outerwear knitwear tuxedo suit",
		phantomos.CategoryAccessories: "accessory accessorie bag backpack tote purse handbag wallet keychain keyring lanyard pin badge patch " +
			"bracelet necklace earring ring jewelry jewellery jewelery pendant charm watch sunglasse belt sticker mousepad cuff anklet",
		phantomos.CategoryCollectibles: "collectible figure figurine statue plush plushie toy funko replica diorama bust nendoroid amiibo " +
			"trading card coin miniature",
		phantomos.CategoryHome: "home garden decor mug cup poster print pillow cushion blanket towel kitchen candle lamp pennant flag " +
			"canvas rug plate bowl coaster planter vase clock ornament frame bed bedding throw furniture sofa armchair chair table " +
			"drawer shelf desk stool pot light beanbag trowel fence",
		phantomos.CategoryDigital: "digital download downloadable virtual ebook soundtrack music mp3 wallpaper dlc software subscription",
	} {
		for _, w := range strings.Fields(words) {
			m[w] = cat
		}
	}
	return m
}

// classify returns the category the texts suggest, trying them in order
// (a category field before tags before the name), or "" when none does.
// A text that is already a PhantomOS category name is taken as is.
func classify(texts ...string) string {
	for _, t := range texts {
		lt := strings.ToLower(strings.TrimSpace(t))
		for _, c := range phantomos.Categories {
			if lt == c {
				return c
			}
		}
		// In a category path ("Clothing > Accessories") the leaf says most.
		var parts []string
		for _, item := range strings.Split(lt, ",") {
			segs := strings.Split(item, ">")
			for i := len(segs) - 1; i >= 0; i-- {
				parts = append(parts, segs[i])
			}
		}
		for _, part := range parts {
			for _, w := range strings.FieldsFunc(part, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
				if c, ok := categoryWords[w]; ok {
					return c
				}
				if c, ok := categoryWords[strings.TrimSuffix(w, "s")]; ok {
					return c
				}
			}
		}
	}
	return ""
}

// maxImageURL bounds an image address (browsers and CDNs take about 2 KB).
const maxImageURL = 2048

// checkImageURL accepts an empty image address or an absolute https URL
// of at most maxImageURL bytes. Pages show product images and Claude is
// sent them: plain http would load mixed content, and javascript:, data:
// or file: addresses have no business there.
func checkImageURL(s string) error {
	if s == "" {
		return nil
	}
	if len(s) > maxImageURL {
		return fmt.Errorf("the image URL is longer than %d characters", maxImageURL)
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return errors.New("the image URL must be an https:// address")
	}
	return nil
}
