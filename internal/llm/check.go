package llm

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/phantomos/phantomos"
)

// Limits of an acceptable narrative.
const (
	maxSummary         = 1500
	maxRecommendation  = 500
	maxRecommendations = 6
)

// numberToken matches a number as people write it: digits with optional
// thousands separators and decimals, and an optional percent sign or
// magnitude ("1.2M", "12,345.67", "85%", "3k"). A currency sign before it
// does not change its value.
var numberToken = regexp.MustCompile(`(?i)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?:\s?(%|percent\b|per cent\b|k\b|m\b|bn\b|b\b|thousand\b|million\b|billion\b))?`)

// numberWord matches quantities written in words: counts ("seven"),
// multipliers ("doubled", "threefold") and halves.
var numberWord = regexp.MustCompile(`(?i)\b(four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred|thousand|million|billion|` +
	`double|doubled|doubles|doubling|twice|triple|tripled|triples|tripling|thrice|threefold|quadruple|quadrupled|fourfold|fivefold|tenfold|half|halved|halves|halving)\b`)

// wordValues are the values of number words; multipliers and halves are
// marked as ratios.
var wordValues = map[string]struct {
	value float64
	ratio bool
}{
	"four": {4, false}, "five": {5, false}, "six": {6, false}, "seven": {7, false}, "eight": {8, false}, "nine": {9, false},
	"ten": {10, false}, "eleven": {11, false}, "twelve": {12, false}, "twenty": {20, false}, "thirty": {30, false},
	"forty": {40, false}, "fifty": {50, false}, "hundred": {100, false}, "thousand": {1e3, false}, "million": {1e6, false}, "billion": {1e9, false},
	"double": {2, true}, "doubled": {2, true}, "doubles": {2, true}, "doubling": {2, true}, "twice": {2, true},
	"triple": {3, true}, "tripled": {3, true}, "triples": {3, true}, "tripling": {3, true}, "thrice": {3, true}, "threefold": {3, true},
	"quadruple": {4, true}, "quadrupled": {4, true}, "fourfold": {4, true}, "fivefold": {5, true}, "tenfold": {10, true},
	"half": {0.5, true}, "halved": {0.5, true}, "halves": {0.5, true}, "halving": {0.5, true},
}

// uuidToken matches an id.
var uuidToken = regexp.MustCompile(`(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b`)

// Check validates a narrative against the brief it was written from and
// returns a cleaned copy:
//
//   - the summary must be present and short, recommendations short;
//   - every number in the text must be one of the brief's numbers, or one
//     derived from it by rounding or by writing a fraction as a percentage
//     ("0.853" may be written "85%"); amounts (under JSON keys ending in
//     "amount") are minor units, so 123456 cents may be written
//     "$1,234.56", "$1,235" or "$1.2K"; quantities in words count too: a
//     count ("seven") must be a fact, a multiplier ("doubled", "threefold")
//     or a half must match a ratio in the evidence within a tenth;
//   - an id in the summary that the brief does not contain rejects it;
//   - references to unknown findings are dropped, and a recommendation left
//     with none (or naming an unknown id in its text) is dropped.
//
// A rejected narrative is an error that says why.
func Check(n *Narrative, b *Brief) (*Narrative, error) {
	if n == nil {
		return nil, fmt.Errorf("llm: no narrative")
	}
	out := &Narrative{Summary: strings.TrimSpace(n.Summary), Source: n.Source, Model: n.Model}
	switch {
	case out.Summary == "":
		return nil, fmt.Errorf("llm: narrative has no summary")
	case len(out.Summary) > maxSummary:
		return nil, fmt.Errorf("llm: summary is %d characters, more than %d", len(out.Summary), maxSummary)
	}
	known := knownFacts(b)
	if id, ok := unknownID(out.Summary, known); ok {
		return nil, fmt.Errorf("llm: summary names unknown id %s", id)
	}
	if err := known.checkNumbers(out.Summary); err != nil {
		return nil, fmt.Errorf("llm: summary: %w", err)
	}
	findings := map[string]bool{}
	for _, f := range b.Findings {
		findings[f.ID] = true
	}
	for i, r := range n.Recommendations {
		text := strings.TrimSpace(r.Text)
		if text == "" {
			continue
		}
		if len(text) > maxRecommendation {
			return nil, fmt.Errorf("llm: recommendation %d is %d characters, more than %d", i+1, len(text), maxRecommendation)
		}
		if err := known.checkNumbers(text); err != nil {
			return nil, fmt.Errorf("llm: recommendation %d: %w", i+1, err)
		}
		if _, bad := unknownID(text, known); bad {
			continue
		}
		var ids []string
		for _, id := range r.Findings {
			if findings[id] {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			continue
		}
		out.Recommendations = append(out.Recommendations, Recommendation{Text: text, Findings: ids})
		if len(out.Recommendations) == maxRecommendations {
			break
		}
	}
	return out, nil
}

// facts are the numbers and ids a narrative may use.
type facts struct {
	values []float64
	// ratios are the multipliers the evidence states (see knownFacts), the
	// only values a word such as "doubled" may be checked against.
	ratios []float64
	ids    map[string]bool
	// minor is 10 to the number of decimal places of the currency.
	minor float64
}

// knownFacts collects every number of the brief: numeric JSON values
// anywhere in it (evidence included) and numbers written in its strings.
// Values under a key ending in "amount" are money in minor units of the
// brief's currency, and are known in major units.
//
// Ratios come from the evidence's statistics: an object with "unit":
// "fraction" holds a share or a relative change in "value" (a change of
// 0.85 is a ratio of 1.85), and one whose "key" ends in "ratio" holds a
// multiplier.
func knownFacts(b *Brief) *facts {
	f := &facts{ids: map[string]bool{}, minor: math.Pow10(phantomos.MinorDigits(b.Currency))}
	raw, _ := json.Marshal(b)
	var v any
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	dec.Decode(&v)
	f.walk("", v)
	// Counting one thing is never a claim worth checking.
	f.values = append(f.values, 0, 1)
	return f
}

func (f *facts) walk(key string, v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			f.walk(k, e)
		}
		if n, ok := x["value"].(json.Number); ok {
			v, _ := n.Float64()
			unit, _ := x["unit"].(string)
			key, _ := x["key"].(string)
			switch {
			case unit == "fraction":
				f.ratios = append(f.ratios, math.Abs(v), 1+v)
			case strings.HasSuffix(key, "ratio"):
				f.ratios = append(f.ratios, math.Abs(v))
			}
		}
	case []any:
		for _, e := range x {
			f.walk(key, e)
		}
	case json.Number:
		n, err := x.Float64()
		if err != nil {
			return
		}
		if strings.HasSuffix(strings.ToLower(key), "amount") {
			n /= f.minor
		}
		f.values = append(f.values, math.Abs(n))
	case string:
		for _, id := range uuidToken.FindAllString(x, -1) {
			f.ids[strings.ToLower(id)] = true
		}
		for _, t := range tokens(uuidToken.ReplaceAllString(x, " ")) {
			f.values = append(f.values, t.value)
			if t.value != t.written {
				// "$1.2M" in a description also vouches for "1.2".
				f.values = append(f.values, t.written)
			}
		}
	}
}

// token is a number found in text.
type token struct {
	text    string
	written float64 // the digits as written
	value   float64 // scaled by the magnitude
	unit    float64 // one unit of the last digit written, scaled
	percent bool
}

func tokens(s string) []token {
	var out []token
	for _, m := range numberToken.FindAllStringSubmatch(s, -1) {
		digits := strings.ReplaceAll(m[1], ",", "")
		unit := 1.0
		if m[2] != "" {
			digits += "." + m[2]
			unit = math.Pow10(-len(m[2]))
		}
		v, err := strconv.ParseFloat(digits, 64)
		if err != nil {
			continue
		}
		t := token{text: m[0], written: v}
		scale := 1.0
		switch strings.ToLower(m[3]) {
		case "%", "percent", "per cent":
			t.percent = true
		case "k", "thousand":
			scale = 1e3
		case "m", "million":
			scale = 1e6
		case "b", "bn", "billion":
			scale = 1e9
		}
		t.value, t.unit = v*scale, unit*scale
		out = append(out, t)
	}
	return out
}

// checkNumbers returns an error naming the first number of text, in
// digits or in words, that no fact supports. Magnitude words right after
// digits ("1.2 million") belong to the number and are checked with it.
func (f *facts) checkNumbers(text string) error {
	text = uuidToken.ReplaceAllString(text, " ")
	for _, t := range tokens(text) {
		if !f.supports(t) {
			return fmt.Errorf("the number %q is not in the evidence", strings.TrimSpace(t.text))
		}
	}
	for _, w := range numberWord.FindAllString(numberToken.ReplaceAllString(text, " "), -1) {
		w = strings.ToLower(w)
		if !f.supportsWord(w) {
			return fmt.Errorf("the quantity %q is not in the evidence", w)
		}
	}
	return nil
}

// supportsWord reports whether some fact backs a number word: a count
// must be a fact; a multiplier or a half must match a ratio of the
// evidence within a tenth.
func (f *facts) supportsWord(w string) bool {
	wv, ok := wordValues[w]
	if !ok {
		return true
	}
	if !wv.ratio {
		return slices.Contains(f.values, wv.value)
	}
	for _, v := range f.ratios {
		if math.Abs(v-wv.value) <= 0.1*wv.value {
			return true
		}
	}
	return false
}

// supports reports whether some fact equals t to the precision t is
// written with; a percentage may also be a fraction written as one
// (0.853 as "85%").
func (f *facts) supports(t token) bool {
	tol := t.unit + 1e-9*math.Abs(t.value)
	for _, v := range f.values {
		if math.Abs(t.value-v) <= tol || t.percent && v <= 100 && math.Abs(t.value-100*v) <= tol {
			return true
		}
	}
	return false
}

// unknownID returns the first id in text that the facts do not contain.
func unknownID(text string, f *facts) (string, bool) {
	for _, id := range uuidToken.FindAllString(text, -1) {
		if !f.ids[strings.ToLower(id)] {
			return id, true
		}
	}
	return "", false
}
