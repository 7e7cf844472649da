package ask

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/ingest"
)

// MaxQuestion bounds a question's length in bytes: the interpreter's work
// grows with it.
const MaxQuestion = 500

// Interpreters.
const (
	InterpreterLocal  = "local"
	InterpreterClaude = "claude"
)

// NotUnderstood is the error of a question the interpreter could not turn
// into a query: Reason says plainly what was missing. Interpreter is the
// last interpreter that read it ("" for the local one), and Cause why
// Claude could not be asked, for the log.
type NotUnderstood struct {
	Reason      string
	Interpreter string
	Cause       error
}

func (e *NotUnderstood) Error() string { return "ask: not understood: " + e.Reason }

// entity is a phrase of the catalogue a question may use.
type entity struct {
	words string // normalised
	ref   Ref
	rank  int // lower wins a tie between phrases of the same length
}

// Interpreter turns questions into queries for one publisher's catalogue.
type Interpreter struct {
	cat      *Catalogue
	loc      *time.Location
	first    phantomos.Day
	entities []entity
}

// NewInterpreter returns an interpreter for catalogue c, reading dates in
// loc; first is the first sale day ("since launch").
func NewInterpreter(c *Catalogue, loc *time.Location, first phantomos.Day) *Interpreter {
	in := &Interpreter{cat: c, loc: loc, first: first}
	add := func(words string, r Ref, rank int) {
		if w := normalize(words); w != "" {
			in.entities = append(in.entities, entity{w, r, rank})
		}
	}
	firstWords := map[string][]string{}
	for _, g := range c.GameIPs {
		add(g.Name, Ref{GroupGameIP, g.ID}, 0)
		add(strings.ReplaceAll(g.Slug, "-", " "), Ref{GroupGameIP, g.ID}, 0)
		if w := strings.Fields(normalize(g.Name)); len(w) > 1 {
			firstWords[w[0]] = append(firstWords[w[0]], g.ID)
		}
	}
	for w, ids := range firstWords {
		if len(ids) == 1 {
			add(w, Ref{GroupGameIP, ids[0]}, 1)
		}
	}
	for _, a := range c.Assets {
		add(a.Name, Ref{GroupAsset, a.ID}, 0)
		for _, al := range a.Aliases {
			add(al, Ref{GroupAsset, a.ID}, 2)
		}
	}
	for _, cat := range c.Categories {
		add(cat, Ref{GroupCategory, cat}, 0)
		for _, syn := range categorySynonyms[cat] {
			add(syn, Ref{GroupCategory, cat}, 3)
		}
	}
	for _, ch := range c.Channels {
		add(strings.ReplaceAll(ch, "_", " "), Ref{GroupChannel, ch}, 0)
		for _, syn := range channelSynonyms[ch] {
			add(syn, Ref{GroupChannel, ch}, 3)
		}
	}
	for _, cc := range c.Countries {
		if n, ok := ingest.CountryName(cc); ok {
			add(n, Ref{GroupCountry, cc}, 0)
		}
		for _, syn := range countrySynonyms[cc] {
			add(syn, Ref{GroupCountry, cc}, 3)
		}
	}
	tags := map[string]bool{}
	for _, a := range c.Assets {
		for _, t := range a.Tags {
			tags[t] = true
		}
	}
	for t := range tags {
		if !keywords[t] {
			add(t, Ref{RefTag, t}, 4)
		}
	}
	// Longest phrases first, so "starfall odyssey logo" beats "starfall odyssey".
	slices.SortStableFunc(in.entities, func(a, b entity) int {
		if d := len(strings.Fields(b.words)) - len(strings.Fields(a.words)); d != 0 {
			return d
		}
		return a.rank - b.rank
	})
	return in
}

var categorySynonyms = map[string][]string{
	phantomos.CategoryApparel:      {"clothing", "clothes", "shirts", "t shirts", "tees", "hoodies", "apparels"},
	phantomos.CategoryCollectibles: {"collectible", "figures", "figurines", "statues"},
	phantomos.CategoryAccessories:  {"accessory"},
	phantomos.CategoryHome:         {"homeware", "home goods", "homewares", "home decor"},
	phantomos.CategoryDigital:      {"digital goods", "downloads"},
}

var channelSynonyms = map[string][]string{
	"online_store":   {"web store", "webshop", "our store", "own store", "shopify", "direct"},
	"marketplace":    {"marketplaces", "amazon"},
	"retail_partner": {"retail partners", "retailers", "retail", "partners", "wholesale"},
}

var countrySynonyms = map[string][]string{
	"US": {"usa", "america", "the us", "the states", "united states of america"}, "GB": {"uk", "britain", "great britain", "england"},
	"DE": {"deutschland"}, "KR": {"korea"}, "NL": {"holland"}, "AU": {"oz"},
}

// keywords are the interpreter's own words: never read as a name, even
// when one is a near miss of a catalogue phrase.
var keywords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`which what who where how top best most highest biggest largest leading worst least lowest bottom
		smallest fewest revenue sales sold sell selling earned earn made make money units unit orders order growth growing grew grow rising
		fastest declining shrinking character characters asset assets game games franchise franchises ip ips title titles type types
		category categories product products country countries market markets channel channels store stores logo logos scene scenes
		item items theme themes compare compared comparison versus vs against between trend trends trending over time share percent
		percentage portion proportion of in the a an our we us is are was were did do does and or for by per this last next
		quarter month year week days day since launch forecast predict projection expect insight insights expand expansion gap gaps
		should into under index changed change moved most performing performance doing show me tell list rank ranking net gross total
		much many generated brought with to from on it its their than more less rest whole business overall all time previous
		prior year ago so far earns earning weakest strongest through via tracking movers opportunities opportunity untapped
		latest recent find found findings intelligence sells underindex whitespace white space missing fraction part swing swung
		shift shifted relative history trajectory outlook projected expect predict prediction copies pieces quantity
		number count take took taken`) {
		m[w] = true
	}
	return m
}()

var reNonWord = regexp.MustCompile(`[^a-z0-9%]+`)

var (
	reUS     = regexp.MustCompile(`\bUS\b`)
	reNumber = regexp.MustCompile(`^\d{1,4}$`)
)

// specificity orders subject kinds from the most specific: in "Mossy's
// share of Ironroot", Mossy is the part.
var specificity = map[string]int{GroupAsset: 0, RefTag: 0, GroupAssetType: 1, GroupCategory: 2, GroupCountry: 2, GroupChannel: 2, GroupGameIP: 3}

// fillers are words a question may hold that change nothing.
var fillers = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`at be been being can could would will has have had i me my you your please there that these those
		about any anything been being up down out as if then so just only also very really currently now right far been them they he
		she his her who whom whose when why kind one ones each every some much many sells sold selling bought buy buys buying come comes
		came from merch merchandise stuff things thing like look looking see give want know need get got going let lets into among
		performed performs perform bring brings brought bringing in on at get been coming is it what`) {
		m[w] = true
	}
	return m
}()

// nearKeyword returns the interpreter word w is a typo of, "" if none.
func nearKeyword(w string) string {
	if len(w) < 5 {
		return ""
	}
	best := ""
	for k := range keywords {
		if len(k) >= 5 && distance(w, k, 1) <= 1 {
			if best != "" && best != k {
				return "" // ambiguous
			}
			best = k
		}
	}
	return best
}

// normalize lower-cases s, drops possessives and punctuation and folds
// accents away, so names and questions compare word by word.
func normalize(s string) string {
	s = strings.ToLower(s)
	s = strings.NewReplacer("’s", "", "'s", "", "’", "", "'", "", "é", "e", "è", "e", "ü", "u", "ö", "o", "ä", "a", "&", " and ").Replace(s)
	s = reNonWord.ReplaceAllString(s, " ")
	return strings.Join(strings.Fields(s), " ")
}

// Interpret turns question into a query as of now, or returns a
// *NotUnderstood saying what it could not read.
func (in *Interpreter) Interpret(question string, now time.Time) (*Query, error) {
	if len(question) > MaxQuestion {
		return nil, phantomos.Errorf(phantomos.EINVALID, "The question is longer than %d characters.", MaxQuestion)
	}
	// "US" in capitals is the country, not the pronoun.
	text := normalize(reUS.ReplaceAllString(question, "USA"))
	if text == "" {
		return nil, &NotUnderstood{Reason: "The question is empty."}
	}
	q := &Query{Compare: "none", Measure: MeasureRevenue}
	text = parsePeriod(text, q, now, in.loc, in.first)
	refs, rest := in.link(text)
	// Near misses of the interpreter's own words ("charcter"), then words
	// it does not know at all: a question about something else is
	// refused rather than answered with a figure it did not ask for.
	words := strings.Fields(rest)
	var unknown []string
	for i, w := range words {
		if keywords[w] || fillers[w] || reNumber.MatchString(w) {
			continue
		}
		if k := nearKeyword(w); k != "" {
			words[i] = k
			continue
		}
		unknown = append(unknown, w)
	}
	if len(unknown) > 0 {
		return nil, &NotUnderstood{Reason: fmt.Sprintf("I do not know %q in this publisher's catalogue or in the questions I answer.", strings.Join(unknown, " "))}
	}
	rest = strings.Join(words, " ")
	has := func(ws ...string) bool {
		for _, w := range ws {
			if indexWord(rest, w) >= 0 {
				return true
			}
		}
		return false
	}
	// Measure.
	switch {
	case has("growth", "growing", "grew", "grow", "rising", "fastest", "gained", "gaining", "up the most", "declining", "shrinking", "fell", "dropped", "decline"):
		q.Measure = MeasureGrowth
	case has("orders", "order count"):
		// Before units: "how many orders" counts orders.
		q.Measure = MeasureOrders
	case has("units", "unit", "how many", "quantity", "pieces", "copies"):
		q.Measure = MeasureUnits
	}
	group, typeFilter, plural := groupWord(rest)
	var subjects []Ref
	for _, r := range refs {
		switch r.Kind {
		case GroupAssetType:
			typeFilter = r.ID
		default:
			subjects = append(subjects, r)
		}
	}
	// Kind.
	switch {
	case has("forecast", "predict", "prediction", "projected", "projection", "expect", "outlook", "next month", "next quarter", "next year"):
		q.Kind = KindForecast
	case has("insight", "insights", "intelligence", "findings", "found", "anything about", "notice", "noticed", "alert", "alerts"):
		q.Kind = KindInsight
	case has("expand", "expansion", "under index", "underindex", "under indexes", "gap", "gaps", "whitespace", "white space", "opportunity", "opportunities", "untapped", "missing out"):
		q.Kind = KindExpansion
	case has("share", "percent", "percentage", "%", "portion", "proportion", "fraction", "what part"):
		q.Kind = KindShare
	case len(subjects) >= 2 && (has("vs", "versus", "compare", "compared", "comparison", "against", "between", "or", "and", "relative")):
		q.Kind = KindCompare
	case has("changed", "change", "moved", "movers", "mover", "swing", "swung", "shift", "shifted"):
		q.Kind = KindChange
	case has("trend", "trends", "trending", "over time", "trajectory", "history", "month by month", "week by week", "performing", "doing", "tracking"):
		if len(subjects) <= 1 && group == "" {
			q.Kind = KindTrend
		}
	}
	if q.Kind == "" {
		switch {
		case group != "" && (has("which", "what", "top", "best", "most", "highest", "biggest", "largest", "leading", "worst", "least", "lowest", "bottom", "smallest", "fewest", "rank", "ranking", "list", "show", "who", "where", "fastest", "strongest", "weakest") || q.Measure == MeasureGrowth):
			q.Kind = KindRank
		case has("how much", "total", "how many", "what was", "what were", "what is", "what are", "revenue", "sales", "units", "orders", "did we", "earn", "earned", "made", "make"):
			q.Kind = KindTotal
		default:
			return nil, &NotUnderstood{Reason: "I could not tell what to measure or rank in that question."}
		}
	}
	switch q.Kind {
	case KindRank, KindChange:
		if group == "" {
			return nil, &NotUnderstood{Reason: "I could not tell what to rank: characters, assets, game IPs, asset types, categories, products, countries or channels."}
		}
		q.GroupBy = group
		q.Order = "top"
		if has("worst", "least", "lowest", "bottom", "smallest", "fewest", "weakest", "declining", "shrinking", "fell", "dropped", "decline") {
			q.Order = "bottom"
		}
		q.Limit = 1
		if plural {
			q.Limit = 5
		}
		if n := limitOf(rest); n > 0 {
			q.Limit = n
		}
		if q.Kind == KindChange {
			q.Limit = max(q.Limit, 5)
			if n := limitOf(rest); n > 0 {
				q.Limit = n
			}
			q.Order = "top"
		}
		if typeFilter != "" && (group == GroupAsset) {
			q.Filter.AssetTypes = []string{typeFilter}
		}
		in.filters(q, subjects)
	case KindCompare:
		q.Subjects = subjects
		if kindOf(subjects[0]) == GroupAsset {
			if q.Measure == MeasureUnits || q.Measure == MeasureOrders {
				// Refused rather than answered with another measure.
				return nil, &NotUnderstood{Reason: "Assets are compared by net revenue: ask how their revenue compares."}
			}
			q.Measure = MeasureRevenue
		}
		q.Compare = "previous"
	case KindTrend, KindForecast, KindShare:
		if len(subjects) > 1 {
			// "share of Mossy in Ironroot": the first is the part, the rest
			// the whole it is a share of.
			if q.Kind != KindShare {
				return nil, &NotUnderstood{Reason: "A " + q.Kind + " is about one thing, and the question names several."}
			}
			// The most specific is the part: an asset is part of a game IP.
			part := 0
			for i, s := range subjects {
				if specificity[s.Kind] < specificity[subjects[part].Kind] {
					part = i
				}
			}
			rest := slices.Delete(slices.Clone(subjects), part, part+1)
			in.filters(q, rest)
			subjects = []Ref{subjects[part]}
		}
		if len(subjects) == 0 && typeFilter != "" && q.Kind == KindShare {
			subjects = []Ref{{GroupAssetType, typeFilter}}
		}
		if len(subjects) == 0 && q.Kind == KindShare {
			return nil, &NotUnderstood{Reason: "I could not tell whose share to work out: name a character, game IP, category, country or channel."}
		}
		q.Subjects = subjects
		if q.Kind != KindShare {
			if q.Measure == MeasureUnits || q.Measure == MeasureOrders {
				// Refused rather than answered with another measure.
				return nil, &NotUnderstood{Reason: "Trends and forecasts are of net revenue: ask for the " + q.Kind + " of revenue."}
			}
			q.Measure = MeasureRevenue
		}
		if q.Kind == KindForecast {
			q.Range, q.From, q.To, q.RangeLabel = "12m", "", "", "the next 3 months"
		}
	case KindExpansion:
		q.GroupBy = GroupCategory
		q.Measure = MeasureRevenue
		q.Limit = 3
		if n := limitOf(rest); n > 0 {
			q.Limit = n
		}
		in.filters(q, subjects)
	case KindInsight:
		q.Subjects = subjects
		if len(q.Subjects) > 1 {
			q.Subjects = q.Subjects[:1]
		}
	case KindTotal:
		if q.Measure == MeasureGrowth {
			q.Measure = MeasureRevenue
		}
		in.filters(q, subjects)
		q.Compare = "previous"
	}
	if q.Measure == MeasureGrowth || q.Kind == KindChange {
		q.Compare = "previous"
	}
	if has("year over year", "yoy", "a year ago", "same period last year", "year on year") {
		q.Compare = "year"
	}
	if err := q.Validate(in.cat); err != nil {
		return nil, &NotUnderstood{Reason: err.(*phantomos.Error).Message}
	}
	return q, nil
}

// filters puts subjects into q's filter.
func (in *Interpreter) filters(q *Query, subjects []Ref) {
	for _, r := range subjects {
		f := &q.Filter
		switch r.Kind {
		case GroupGameIP:
			f.GameIPs = append(f.GameIPs, r.ID)
		case GroupAsset:
			f.Assets = append(f.Assets, r.ID)
		case GroupCategory:
			f.Categories = append(f.Categories, r.ID)
		case GroupChannel:
			f.Channels = append(f.Channels, r.ID)
		case GroupCountry:
			f.Countries = append(f.Countries, r.ID)
		}
	}
}

var reLimit = regexp.MustCompile(`\b(?:top|bottom|best|worst|first|leading|lowest|highest|biggest) (\d{1,2}|three|five|ten|two|four)\b|\b(\d{1,2}|three|five|ten|two|four) (?:best|worst|top|biggest|highest|lowest|leading)\b`)

var numberWords = map[string]int{"two": 2, "three": 3, "four": 4, "five": 5, "ten": 10}

// limitOf reads "top 5" or "three best", 0 without one.
func limitOf(text string) int {
	m := reLimit.FindStringSubmatch(text)
	if m == nil {
		return 0
	}
	s := m[1] + m[2]
	if n, ok := numberWords[s]; ok {
		return n
	}
	n, _ := strconv.Atoi(s)
	return min(max(n, 0), MaxLimit)
}

// groupWord finds what a ranking groups by, an asset type it narrows to,
// and whether the word was plural (a list rather than one answer).
func groupWord(text string) (group, assetType string, plural bool) {
	words := []struct {
		w, group, typ string
		plural        bool
	}{
		{"asset types", GroupAssetType, "", true}, {"asset type", GroupAssetType, "", false}, {"kinds of asset", GroupAssetType, "", true},
		{"kind of asset", GroupAssetType, "", false}, {"types of asset", GroupAssetType, "", true}, {"type of asset", GroupAssetType, "", false},
		{"product categories", GroupCategory, "", true}, {"product category", GroupCategory, "", false},
		{"product types", GroupCategory, "", true}, {"product type", GroupCategory, "", false},
		{"categories", GroupCategory, "", true}, {"category", GroupCategory, "", false},
		{"characters", GroupAsset, phantomos.AssetCharacter, true}, {"character", GroupAsset, phantomos.AssetCharacter, false},
		{"who", GroupAsset, phantomos.AssetCharacter, false},
		{"logos", GroupAsset, phantomos.AssetLogo, true}, {"logo", GroupAsset, phantomos.AssetLogo, false},
		{"scenes", GroupAsset, phantomos.AssetScene, true}, {"scene", GroupAsset, phantomos.AssetScene, false},
		{"locations", GroupAsset, phantomos.AssetScene, true}, {"location", GroupAsset, phantomos.AssetScene, false},
		{"items", GroupAsset, phantomos.AssetItem, true}, {"item", GroupAsset, phantomos.AssetItem, false},
		{"themes", GroupAsset, phantomos.AssetTheme, true}, {"theme", GroupAsset, phantomos.AssetTheme, false},
		{"assets", GroupAsset, "", true}, {"asset", GroupAsset, "", false},
		{"game ips", GroupGameIP, "", true}, {"game ip", GroupGameIP, "", false}, {"ips", GroupGameIP, "", true}, {"ip", GroupGameIP, "", false},
		{"franchises", GroupGameIP, "", true}, {"franchise", GroupGameIP, "", false}, {"games", GroupGameIP, "", true}, {"game", GroupGameIP, "", false},
		{"titles", GroupGameIP, "", true}, {"title", GroupGameIP, "", false},
		{"products", GroupProduct, "", true}, {"product", GroupProduct, "", false}, {"skus", GroupProduct, "", true}, {"sku", GroupProduct, "", false},
		{"countries", GroupCountry, "", true}, {"country", GroupCountry, "", false}, {"markets", GroupCountry, "", true}, {"market", GroupCountry, "", false},
		{"where", GroupCountry, "", false},
		{"channels", GroupChannel, "", true}, {"channel", GroupChannel, "", false}, {"stores", GroupChannel, "", true},
		{"sales channels", GroupChannel, "", true}, {"storefronts", GroupChannel, "", true},
	}
	best := -1
	for _, w := range words {
		if i := indexWord(text, w.w); i >= 0 && (best < 0 || i < best) {
			best, group, assetType, plural = i, w.group, w.typ, w.plural
		}
	}
	return group, assetType, plural
}

// link finds the catalogue's names in text, longest first, then near
// misses of single words, and returns them with the text left over.
func (in *Interpreter) link(text string) ([]Ref, string) {
	words := strings.Fields(text)
	used := make([]bool, len(words))
	type hit struct {
		at  int
		ref Ref
	}
	var hits []hit
	seen := map[Ref]bool{}
	take := func(i, n int, r Ref) {
		for k := i; k < i+n; k++ {
			used[k] = true
		}
		if !seen[r] {
			seen[r] = true
			hits = append(hits, hit{i, r})
		}
	}
	free := func(i, n int) bool {
		for k := i; k < i+n; k++ {
			if used[k] {
				return false
			}
		}
		return true
	}
	// Longest phrases first; at each length, exact matches before near
	// misses, so "captian nova" is Captain Nova before "nova" alone is.
	exact := func(e entity, n, i int, cand string) bool { return cand == e.words || singular(cand) == e.words }
	fuzzy := func(e entity, n, i int, cand string) bool {
		if len(cand) < 5 || (n == 1 && keywords[cand]) || e.rank >= 3 {
			return false
		}
		limit := 1
		if len(e.words) >= 9 {
			limit = 2
		}
		return distance(cand, e.words, limit) <= limit
	}
	for start := 0; start < len(in.entities); {
		n := len(strings.Fields(in.entities[start].words))
		end := start
		for end < len(in.entities) && len(strings.Fields(in.entities[end].words)) == n {
			end++
		}
		for _, match := range []func(entity, int, int, string) bool{exact, fuzzy} {
			for _, e := range in.entities[start:end] {
				for i := 0; i+n <= len(words); i++ {
					if !free(i, n) {
						continue
					}
					if cand := strings.Join(words[i:i+n], " "); match(e, n, i, cand) {
						take(i, n, e.ref)
					}
				}
			}
		}
		start = end
	}
	slices.SortStableFunc(hits, func(a, b hit) int { return a.at - b.at })
	refs := make([]Ref, len(hits))
	for i, h := range hits {
		refs[i] = h.ref
	}
	var rest []string
	for i, w := range words {
		if !used[i] {
			rest = append(rest, w)
		}
	}
	return refs, strings.Join(rest, " ")
}

func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies"):
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(s, "es") && strings.HasSuffix(s[:len(s)-2], "ss"):
		return s[:len(s)-2]
	case strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "ss"):
		return s[:len(s)-1]
	}
	return s
}

// distance is the edit distance of a and b (insertions, deletions,
// substitutions and swaps of neighbours), or limit+1 once it is over limit:
// the work stays proportional to the words' length.
func distance(a, b string, limit int) int {
	ra, rb := []rune(a), []rune(b)
	if d := len(ra) - len(rb); d > limit || -d > limit {
		return limit + 1
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		low := cur[0]
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			low = min(low, cur[j])
		}
		if low > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// Suggestions are questions the interpreter answers for catalogue c,
// naming its own things, for the /ask page and for questions it could not
// read.
func Suggestions(c *Catalogue) []string {
	out := []string{"Which character generated the most revenue this quarter?"}
	if c.hasTag("villain") && c.hasTag("hero") {
		out = append(out, "How is our villain performing compared to our hero?")
	}
	out = append(out, "What product categories should we expand into?", "Top 5 countries by revenue last month")
	if len(c.GameIPs) > 0 {
		out = append(out, "What share of revenue did "+c.GameIPs[0].Name+" bring in this year?")
	}
	for _, a := range c.Assets {
		if a.AssetType == phantomos.AssetCharacter {
			out = append(out, "What is the trend of "+a.Name+" over the last 12 months?")
			break
		}
	}
	return append(out, "Which channel changed most last quarter?", "Fastest growing game IPs year to date")
}
