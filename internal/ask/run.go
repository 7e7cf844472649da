package ask

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/url"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
	"github.com/phantomos/phantomos/internal/chart"
	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/insights"
	"github.com/phantomos/phantomos/internal/store"
)

// Row is one line of an answer: a ranked thing, a compared subject or a
// trend bucket. Value is in minor units for revenue, a count otherwise.
type Row struct {
	Key      string   `json:"key"`
	Label    string   `json:"label"`
	Value    int64    `json:"value"`
	Previous *int64   `json:"previous,omitempty"`
	Growth   *float64 `json:"growth,omitempty"`
	Share    *float64 `json:"share,omitempty"`
	// Display is Value as people read it ("$1,234.50", "56 units").
	Display string `json:"display,omitempty"`
}

// Answer is a question's answer: one sentence, the rows it rests on, the
// interpretation in words, the page that shows the same and a chart.
type Answer struct {
	Question       string           `json:"question"`
	Query          *Query           `json:"query"`
	Interpreter    string           `json:"interpreter"`
	Sentence       string           `json:"answer"`
	Interpretation string           `json:"interpretation"`
	Unit           string           `json:"unit"` // a currency code, "units" or "orders"
	Rows           []Row            `json:"rows"`
	Period         analytics.Period `json:"period"`
	Link           string           `json:"link"`
	Chart          template.HTML    `json:"-"`
}

// Asker answers one publisher's questions.
type Asker struct {
	store *store.Store
	pub   *phantomos.Publisher
	cat   *Catalogue
	first phantomos.Day
	now   func() time.Time
	// claude reads what the local interpreter cannot; nil without a key.
	claude *Claude
}

// New loads publisher pub's catalogue from s and returns its Asker; now is
// the clock relative dates are read against.
func New(ctx context.Context, s *store.Store, pub *phantomos.Publisher, now func() time.Time) (*Asker, error) {
	c, err := LoadCatalogue(ctx, s, pub.ID)
	if err != nil {
		return nil, err
	}
	return NewWith(s, pub, c, now), nil
}

// NewWith returns the Asker of publisher pub with its catalogue c, loaded
// by LoadCatalogue (callers may keep it as long as the publisher's data
// version is unchanged). c is only read.
func NewWith(s *store.Store, pub *phantomos.Publisher, c *Catalogue, now func() time.Time) *Asker {
	return &Asker{store: s, pub: pub, cat: c, first: c.FirstDay, now: now}
}

// LoadCatalogue reads publisher pub's catalogue from s: its game IPs,
// assets, categories, and the channels and countries it has sold in.
func LoadCatalogue(ctx context.Context, s *store.Store, pub phantomos.PublisherID) (*Catalogue, error) {
	c := &Catalogue{}
	var err error
	if c.GameIPs, err = s.GameIPs(ctx, pub); err != nil {
		return nil, err
	}
	if c.Assets, err = s.Assets(ctx, pub); err != nil {
		return nil, err
	}
	cats, err := s.ProductCategories(ctx, pub)
	if err != nil {
		return nil, err
	}
	for _, v := range cats {
		if v != "" && !slices.Contains(c.Categories, v) {
			c.Categories = append(c.Categories, v)
		}
	}
	for _, v := range phantomos.Categories {
		if !slices.Contains(c.Categories, v) {
			c.Categories = append(c.Categories, v)
		}
	}
	sort.Strings(c.Categories)
	from, to, err := s.SalesSpan(ctx, pub)
	if err != nil {
		return nil, err
	}
	c.FirstDay = from
	if from != "" {
		for _, dim := range []store.Dimension{store.ByChannel, store.ByCountry} {
			rows, err := s.Breakdown(ctx, pub, from, to, store.Filter{}, dim)
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				if r.Key == "" {
					continue
				}
				if dim == store.ByChannel {
					c.Channels = append(c.Channels, r.Key)
				} else {
					c.Countries = append(c.Countries, r.Key)
				}
			}
		}
	}
	return c, nil
}

// Catalogue returns the catalogue questions are checked against.
func (a *Asker) Catalogue() *Catalogue { return a.cat }

// Interpreter returns the local interpreter of a's publisher.
func (a *Asker) Interpreter() *Interpreter {
	return NewInterpreter(a.cat, a.pub.Location(), a.first)
}

// UseClaude makes a ask Claude, when not nil, the questions the local
// interpreter cannot read.
func (a *Asker) UseClaude(c *Claude) { a.claude = c }

// Ask interprets question locally and answers it; a question the local
// interpreter cannot read goes to Claude when a has it. A question neither
// could read returns a *NotUnderstood. Claude's query is validated and run
// exactly as the local interpreter's, and the answer names which
// interpreter understood the question.
func (a *Asker) Ask(ctx context.Context, question string) (*Answer, error) {
	q, err := a.Interpreter().Interpret(question, a.now())
	var nu *NotUnderstood
	if errors.As(err, &nu) && a.claude != nil {
		return a.askClaude(ctx, question, nu)
	}
	if err != nil {
		return nil, err
	}
	ans, err := a.Run(ctx, q)
	if err != nil {
		return nil, err
	}
	ans.Question, ans.Interpreter = question, InterpreterLocal
	return ans, nil
}

// askClaude asks Claude a question the local interpreter refused for
// local's reason.
func (a *Asker) askClaude(ctx context.Context, question string, local *NotUnderstood) (*Answer, error) {
	q, err := a.claude.Interpret(ctx, question, a.cat, a.pub.Location(), a.first, a.now())
	var nu *NotUnderstood
	switch {
	case errors.As(err, &nu):
		return nil, &NotUnderstood{Reason: local.Reason + " " + nu.Reason, Interpreter: InterpreterClaude}
	case err != nil:
		// Claude unreachable, overloaded, or its output not a query of the
		// schema: the local refusal stands.
		return nil, &NotUnderstood{Reason: local.Reason + " Claude, which reads the questions the local interpreter cannot, gave no usable reading.", Interpreter: InterpreterClaude, Cause: err}
	}
	ans, err := a.Run(ctx, q)
	var pe *phantomos.Error
	if errors.As(err, &pe) && pe.Code == phantomos.EINVALID {
		b, _ := json.Marshal(q)
		return nil, &NotUnderstood{Reason: local.Reason + " Claude's reading of it was refused: " + pe.Message, Interpreter: InterpreterClaude,
			Cause: fmt.Errorf("ask: claude's query %s refused: %w", b, err)}
	}
	if err != nil {
		return nil, err
	}
	ans.Question, ans.Interpreter = question, InterpreterClaude
	return ans, nil
}

// Run validates q against the catalogue and computes its answer with the
// analytics code.
func (a *Asker) Run(ctx context.Context, q *Query) (*Answer, error) {
	if err := q.Validate(a.cat); err != nil {
		return nil, err
	}
	q.Model = a.pub.Settings.AttributionModel
	loc := a.pub.Location()
	p, err := q.period(a.now(), loc)
	if err != nil {
		return nil, err
	}
	mode := q.Compare
	if mode == "" {
		mode = analytics.CompareNone
	}
	cmp, hasCmp, err := analytics.Compare(p, mode)
	if err != nil {
		return nil, err
	}
	r := &run{a: a, q: q, p: p, cmp: cmp, hasCmp: hasCmp, ans: &Answer{Query: q, Period: p, Unit: a.pub.ReportingCurrency}}
	if q.Measure == MeasureUnits || q.Measure == MeasureOrders {
		r.ans.Unit = q.Measure
	}
	switch q.Kind {
	case KindRank:
		err = r.rank(ctx, false)
	case KindChange:
		err = r.rank(ctx, true)
	case KindTotal:
		err = r.total(ctx)
	case KindCompare:
		err = r.compare(ctx)
	case KindTrend:
		err = r.trend(ctx)
	case KindShare:
		err = r.share(ctx)
	case KindExpansion:
		err = r.expansion(ctx)
	case KindForecast:
		err = r.forecast(ctx)
	case KindInsight:
		err = r.insight(ctx)
	}
	if err != nil {
		return nil, err
	}
	r.ans.Interpretation = r.interpretation()
	if r.ans.Unit != "" {
		for i := range r.ans.Rows {
			r.ans.Rows[i].Display = r.fmt(r.ans.Rows[i].Value)
		}
	}
	return r.ans, nil
}

type run struct {
	a      *Asker
	q      *Query
	p, cmp analytics.Period
	hasCmp bool
	ans    *Answer
	// resolved are the subjects with tags replaced by assets.
	resolved []Ref
}

func plural(noun string) string {
	switch {
	case strings.HasSuffix(noun, "y"):
		return noun[:len(noun)-1] + "ies"
	case strings.HasSuffix(noun, "ip"):
		return noun + "s"
	}
	return noun + "s"
}

func (r *run) filter() store.Filter {
	f := r.q.Filter
	return store.Filter{GameIPs: f.GameIPs, Assets: f.Assets, Categories: f.Categories, Channels: f.Channels, Countries: f.Countries}
}

// rows returns the rows of a grouping in p (and cmp), in minor units or units.
func (r *run) rows(ctx context.Context, group string, p analytics.Period) ([]Row, error) {
	s, pub, f := r.a.store, r.a.pub, r.filter()
	switch group {
	case GroupAsset, GroupAssetType:
		rep, err := analytics.BuildAssetReport(ctx, s, pub, p, p, false, f)
		if err != nil {
			return nil, err
		}
		var out []Row
		if group == GroupAssetType {
			for _, t := range rep.Types {
				if t.Key != "unmapped" {
					out = append(out, Row{Key: t.Key, Label: t.Label, Value: t.NetRevenue})
				}
			}
			return out, nil
		}
		for _, as := range rep.Assets {
			if len(r.q.Filter.AssetTypes) > 0 && !slices.Contains(r.q.Filter.AssetTypes, as.Type) {
				continue
			}
			if len(r.q.Filter.GameIPs) > 0 && !slices.Contains(r.q.Filter.GameIPs, as.GameIPID) {
				continue
			}
			if len(r.q.Filter.Assets) > 0 && !slices.Contains(r.q.Filter.Assets, as.ID) {
				continue
			}
			out = append(out, Row{Key: as.ID, Label: as.Name, Value: as.NetRevenue})
		}
		return out, nil
	}
	dim := map[string]store.Dimension{GroupGameIP: store.ByGameIP, GroupCategory: store.ByCategory, GroupProduct: store.ByProduct,
		GroupCountry: store.ByCountry, GroupChannel: store.ByChannel}[group]
	br, err := s.Breakdown(ctx, pub.ID, p.From, p.To, f, dim)
	if err != nil {
		return nil, err
	}
	out := make([]Row, 0, len(br))
	for _, b := range br {
		if b.Key == "" {
			// Sales without a game IP, category, country or channel are not
			// one of them: they are left out of rankings.
			continue
		}
		v := b.Net
		if r.q.Measure == MeasureUnits {
			v = b.Units
		}
		out = append(out, Row{Key: b.Key, Label: r.label(group, b.Key, b.Label), Value: v})
	}
	return out, nil
}

// label names a key for people.
func (r *run) label(group, key, fallback string) string {
	switch group {
	case GroupCountry:
		if n, ok := ingest.CountryName(key); ok {
			return n
		}
	case GroupChannel:
		return strings.ToUpper(key[:min(1, len(key))]) + strings.ReplaceAll(key[min(1, len(key)):], "_", " ")
	case GroupCategory, GroupAssetType:
		if key == "" {
			return "Uncategorised"
		}
		return strings.ToUpper(key[:1]) + key[1:]
	case GroupGameIP:
		if key == "" {
			return "No game IP"
		}
	}
	if fallback == "" {
		return key
	}
	return fallback
}

func (r *run) rank(ctx context.Context, change bool) error {
	q := r.q
	cur, err := r.rows(ctx, q.GroupBy, r.p)
	if err != nil {
		return err
	}
	if r.hasCmp {
		prev, err := r.rows(ctx, q.GroupBy, r.cmp)
		if err != nil {
			return err
		}
		pv := map[string]int64{}
		for _, row := range prev {
			pv[row.Key] = row.Value
		}
		for i := range cur {
			v := pv[cur[i].Key]
			cur[i].Previous = &v
			if v > 0 {
				g := float64(cur[i].Value-v) / float64(v)
				cur[i].Growth = &g
			}
		}
	}
	key := func(row Row) float64 { return float64(row.Value) }
	switch {
	case change:
		key = func(row Row) float64 { return math.Abs(float64(row.Value - *row.Previous)) }
	case q.Measure == MeasureGrowth:
		// Growth is only ranked where there was something to grow from.
		cur = slices.DeleteFunc(cur, func(row Row) bool { return row.Growth == nil })
		key = func(row Row) float64 { return *row.Growth }
	}
	sort.SliceStable(cur, func(i, j int) bool {
		ki, kj := key(cur[i]), key(cur[j])
		if ki != kj {
			if q.Order == "bottom" {
				return ki < kj
			}
			return ki > kj
		}
		return cur[i].Key < cur[j].Key
	})
	limit := max(q.Limit, 1)
	if len(cur) > limit {
		cur = cur[:limit]
	}
	r.ans.Rows = cur
	noun := strings.ReplaceAll(q.GroupBy, "_", " ")
	if len(q.Filter.AssetTypes) == 1 {
		noun = q.Filter.AssetTypes[0]
	}
	if len(cur) == 0 {
		r.ans.Sentence = fmt.Sprintf("No %s had sales in %s.", noun, r.periodWords())
		return nil
	}
	top := cur[0]
	switch {
	case change:
		r.ans.Sentence = fmt.Sprintf("%s changed most: %s in %s against %s before (%s).", top.Label, r.fmt(top.Value), r.periodWords(), r.fmt(*top.Previous), signed(r, top.Value-*top.Previous))
	case q.Measure == MeasureGrowth:
		word := "grew fastest"
		if q.Order == "bottom" {
			word = "grew slowest"
		}
		r.ans.Sentence = fmt.Sprintf("%s %s: %s in %s (%s to %s).", top.Label, word, pct(*top.Growth, true), r.periodWords(), r.fmt(*top.Previous), r.fmt(top.Value))
	default:
		word := "the most"
		if q.Order == "bottom" {
			word = "the least"
		}
		what := "revenue"
		if q.Measure == MeasureUnits {
			what = "units"
		}
		r.ans.Sentence = fmt.Sprintf("%s generated %s %s in %s: %s.", top.Label, word, what, r.periodWords(), r.fmt(top.Value))
		if len(cur) > 1 {
			r.ans.Sentence = fmt.Sprintf("%s led with %s in %s, then %s (%s).", top.Label, r.fmt(top.Value), r.periodWords(), cur[1].Label, r.fmt(cur[1].Value))
			if q.Order == "bottom" {
				r.ans.Sentence = fmt.Sprintf("%s had the least %s in %s: %s.", top.Label, what, r.periodWords(), r.fmt(top.Value))
			}
		}
	}
	r.barChart()
	r.ans.Link = r.link()
	return nil
}

func (r *run) total(ctx context.Context) error {
	s, pub := r.a.store, r.a.pub
	cur, err := s.Totals(ctx, pub.ID, r.p.From, r.p.To, r.filter())
	if err != nil {
		return err
	}
	pick := func(m store.Summary) int64 {
		switch r.q.Measure {
		case MeasureUnits:
			return m.Units
		case MeasureOrders:
			return m.Orders
		}
		return m.Net
	}
	row := Row{Key: "total", Label: "Total", Value: pick(cur)}
	if r.hasCmp {
		prev, err := s.Totals(ctx, pub.ID, r.cmp.From, r.cmp.To, r.filter())
		if err != nil {
			return err
		}
		v := pick(prev)
		row.Previous = &v
		if v > 0 {
			g := float64(row.Value-v) / float64(v)
			row.Growth = &g
		}
	}
	r.ans.Rows = []Row{row}
	what := map[string]string{MeasureRevenue: "Net revenue", MeasureUnits: "Units sold", MeasureOrders: "Orders"}[r.q.Measure]
	r.ans.Sentence = fmt.Sprintf("%s in %s: %s.", what, r.periodWords(), r.fmt(row.Value))
	if row.Growth != nil {
		r.ans.Sentence = fmt.Sprintf("%s in %s: %s, %s on the period before (%s).", what, r.periodWords(), r.fmt(row.Value), pct(*row.Growth, true), r.fmt(*row.Previous))
	}
	r.ans.Link = r.link()
	return nil
}

// resolve turns a tag into the top-earning asset carrying it in the period.
func (r *run) resolve(ctx context.Context, refs []Ref) ([]Ref, error) {
	out := make([]Ref, 0, len(refs))
	var rep *analytics.AssetReport
	for _, ref := range refs {
		if ref.Kind != RefTag {
			out = append(out, ref)
			continue
		}
		if rep == nil {
			var err error
			if rep, err = analytics.BuildAssetReport(ctx, r.a.store, r.a.pub, r.p, r.p, false, store.Filter{}); err != nil {
				return nil, err
			}
		}
		found := false
		for _, row := range rep.Assets { // largest first
			if as := r.a.cat.asset(row.ID); as != nil && slices.Contains(as.Tags, ref.ID) && !slices.Contains(out, Ref{GroupAsset, as.ID}) {
				out = append(out, Ref{GroupAsset, as.ID})
				found = true
				break
			}
		}
		if !found {
			return nil, phantomos.Errorf(phantomos.ENOTFOUND, "No asset tagged %q.", ref.ID)
		}
	}
	r.resolved = out
	return out, nil
}

func (r *run) compare(ctx context.Context) error {
	subjects, err := r.resolve(ctx, r.q.Subjects)
	if err != nil {
		return err
	}
	if kindOf(subjects[0]) == GroupAsset {
		ids := make([]string, len(subjects))
		for i, s := range subjects {
			ids[i] = s.ID
		}
		c, err := analytics.BuildComparison(ctx, r.a.store, r.a.pub, ids, r.p, r.cmp, r.hasCmp, r.filter())
		if err != nil {
			return err
		}
		var series []chart.Series
		for _, as := range c.Assets {
			r.ans.Rows = append(r.ans.Rows, Row{Key: as.ID, Label: as.Name, Value: as.NetRevenue, Previous: as.Previous, Growth: as.Growth})
			series = append(series, chart.Series{Name: as.Name, Values: as.Trend})
		}
		labels := make([]string, len(c.Buckets))
		for i, b := range c.Buckets {
			labels[i] = string(b)
		}
		r.ans.Chart = chart.MultiLines("Net revenue over time", labels, series, r.fmt)
		v := url.Values{}
		for _, id := range ids {
			v.Add("asset", id)
		}
		r.addRange(v)
		r.ans.Link = "/assets/compare?" + v.Encode()
	} else {
		for _, s := range subjects {
			f := r.filter()
			addTo(&f, s)
			cur, err := r.a.store.Totals(ctx, r.a.pub.ID, r.p.From, r.p.To, f)
			if err != nil {
				return err
			}
			row := Row{Key: s.ID, Label: r.refLabel(s), Value: r.measure(cur)}
			if r.hasCmp {
				prev, err := r.a.store.Totals(ctx, r.a.pub.ID, r.cmp.From, r.cmp.To, f)
				if err != nil {
					return err
				}
				v := r.measure(prev)
				row.Previous = &v
				if v > 0 {
					g := float64(row.Value-v) / float64(v)
					row.Growth = &g
				}
			}
			r.ans.Rows = append(r.ans.Rows, row)
		}
		r.barChart()
		r.ans.Link = r.link()
	}
	a, b := r.ans.Rows[0], r.ans.Rows[1]
	lead, lag := a, b
	if b.Value > a.Value {
		lead, lag = b, a
	}
	r.ans.Sentence = fmt.Sprintf("%s: %s against %s for %s in %s", lead.Label, r.fmt(lead.Value), r.fmt(lag.Value), lag.Label, r.periodWords())
	if lag.Value > 0 {
		r.ans.Sentence += fmt.Sprintf(" (%.1f×)", float64(lead.Value)/float64(lag.Value))
	}
	if a.Growth != nil && b.Growth != nil {
		r.ans.Sentence += fmt.Sprintf("; %s %s and %s %s on the period before", a.Label, pct(*a.Growth, true), b.Label, pct(*b.Growth, true))
	}
	r.ans.Sentence += "."
	return nil
}

func (r *run) measure(m store.Summary) int64 {
	switch r.q.Measure {
	case MeasureUnits:
		return m.Units
	case MeasureOrders:
		return m.Orders
	}
	return m.Net
}

func addTo(f *store.Filter, s Ref) {
	switch s.Kind {
	case GroupGameIP:
		f.GameIPs = append(f.GameIPs, s.ID)
	case GroupAsset:
		f.Assets = append(f.Assets, s.ID)
	case GroupCategory:
		f.Categories = append(f.Categories, s.ID)
	case GroupChannel:
		f.Channels = append(f.Channels, s.ID)
	case GroupCountry:
		f.Countries = append(f.Countries, s.ID)
	}
}

func (r *run) refLabel(s Ref) string {
	switch s.Kind {
	case GroupAsset:
		if a := r.a.cat.asset(s.ID); a != nil {
			return a.Name
		}
	case GroupGameIP:
		if g := r.a.cat.gameIP(s.ID); g != nil {
			return g.Name
		}
	case RefTag:
		return "the " + s.ID
	}
	return r.label(s.Kind, s.ID, s.ID)
}

func (r *run) trend(ctx context.Context) error {
	subjects, err := r.resolve(ctx, r.q.Subjects)
	if err != nil {
		return err
	}
	var labels []string
	var values []int64
	name := "All sales"
	if len(subjects) == 1 && subjects[0].Kind == GroupAsset {
		c, err := analytics.BuildComparison(ctx, r.a.store, r.a.pub, []string{subjects[0].ID}, r.p, r.cmp, false, r.filter())
		if err != nil {
			return err
		}
		for i, b := range c.Buckets {
			labels = append(labels, string(b))
			values = append(values, c.Assets[0].Trend[i])
		}
		name = c.Assets[0].Name
		r.ans.Link = "/assets/compare?" + r.withRange(url.Values{"asset": {subjects[0].ID}})
	} else {
		f := r.filter()
		if len(subjects) == 1 {
			addTo(&f, subjects[0])
			name = r.refLabel(subjects[0])
		}
		// The daily series alone, bucketed as the Overview's trend is:
		// the Overview's other figures are not needed here.
		days, err := r.a.store.DailyNet(ctx, r.a.pub.ID, r.p.From, r.p.To, f)
		if err != nil {
			return err
		}
		grain := analytics.Grain(r.p)
		index := map[phantomos.Day]int{}
		for d := r.p.From.Time(); !d.After(r.p.To.Time()); d = d.AddDate(0, 0, 1) {
			b := analytics.Bucket(phantomos.DayOf(d, time.UTC), grain)
			if _, ok := index[b]; !ok {
				index[b] = len(labels)
				labels = append(labels, string(b))
				values = append(values, 0)
			}
		}
		for _, d := range days {
			if i, ok := index[analytics.Bucket(d.Day, grain)]; ok {
				values[i] += d.Net
			}
		}
		r.ans.Link = r.overviewLink(f)
	}
	for i := range labels {
		r.ans.Rows = append(r.ans.Rows, Row{Key: labels[i], Label: labels[i], Value: values[i]})
	}
	if len(values) == 0 {
		r.ans.Sentence = "No sales in " + r.periodWords() + "."
		return nil
	}
	// Compare the first and last third: a single bucket is too noisy.
	n := max(len(values)/3, 1)
	var head, tail int64
	for i := 0; i < n; i++ {
		head += values[i]
		tail += values[len(values)-1-i]
	}
	var total int64
	for _, v := range values {
		total += v
	}
	dir := "held steady"
	if head > 0 {
		g := float64(tail-head) / float64(head)
		switch {
		case g > 0.05:
			dir = "rose " + pct(g, false)
		case g < -0.05:
			dir = "fell " + pct(-g, false)
		}
	}
	r.ans.Sentence = fmt.Sprintf("%s: %s in %s; revenue %s from the first third of the period to the last.", name, r.fmt(total), r.periodWords(), dir)
	r.ans.Chart = chart.Lines(name+": net revenue per "+analytics.Grain(r.p), labels, []chart.Series{{Name: name, Values: values}}, r.fmt)
	return nil
}

func (r *run) share(ctx context.Context) error {
	subjects, err := r.resolve(ctx, r.q.Subjects)
	if err != nil {
		return err
	}
	s := subjects[0]
	group := kindOf(s)
	if r.q.Measure == MeasureGrowth || r.q.Measure == MeasureOrders {
		r.q.Measure = MeasureRevenue
	}
	rows, err := r.rows(ctx, group, r.p)
	if err != nil {
		return err
	}
	var part int64
	for _, row := range rows {
		if row.Key == s.ID {
			part = row.Value
		}
	}
	whole, err := r.a.store.Totals(ctx, r.a.pub.ID, r.p.From, r.p.To, r.filter())
	if err != nil {
		return err
	}
	total := r.measure(whole)
	if group == GroupAsset || group == GroupAssetType {
		// The whole includes unmapped revenue, as on the Assets page.
		rep, err := analytics.BuildAssetReport(ctx, r.a.store, r.a.pub, r.p, r.p, false, r.filter())
		if err != nil {
			return err
		}
		total = rep.Total
	}
	sh := 0.0
	if total != 0 {
		sh = float64(part) / float64(total)
	}
	r.ans.Rows = []Row{{Key: s.ID, Label: r.refLabel(s), Value: part, Share: &sh}, {Key: "rest", Label: "Everything else", Value: total - part}}
	of := "all net revenue"
	if r.q.Measure == MeasureUnits {
		of = "all units sold"
	}
	if len(r.q.Filter.GameIPs)+len(r.q.Filter.Categories)+len(r.q.Filter.Channels)+len(r.q.Filter.Countries) > 0 {
		of += " " + r.filterWords()
	}
	r.ans.Sentence = fmt.Sprintf("%s was %s of %s in %s (%s of %s).", r.refLabel(s), pct(sh, false), of, r.periodWords(), r.fmt(part), r.fmt(total))
	r.barChart()
	r.q.GroupBy = group
	r.ans.Link = r.link()
	r.q.GroupBy = ""
	return nil
}

// expansion finds the categories where each game IP (or the named ones)
// sells less than the catalogue's mix says it could: the gap is the
// revenue the IP would make in the category at the catalogue's share,
// less what it made.
func (r *run) expansion(ctx context.Context) error {
	s, pub := r.a.store, r.a.pub
	base := r.filter()
	ips := r.q.Filter.GameIPs
	if len(ips) == 0 {
		for _, g := range r.a.cat.GameIPs {
			ips = append(ips, g.ID)
		}
	}
	base.GameIPs = nil
	all, err := s.Breakdown(ctx, pub.ID, r.p.From, r.p.To, base, store.ByCategory)
	if err != nil {
		return err
	}
	var whole int64
	mix := map[string]int64{}
	for _, row := range all {
		whole += row.Net
		mix[row.Key] = row.Net
	}
	if whole <= 0 {
		r.ans.Sentence = "No sales in " + r.periodWords() + " to compare categories by."
		return nil
	}
	type gap struct {
		ip, cat     string
		actual, exp int64
	}
	var gaps []gap
	for _, ip := range ips {
		f := base
		f.GameIPs = []string{ip}
		rows, err := s.Breakdown(ctx, pub.ID, r.p.From, r.p.To, f, store.ByCategory)
		if err != nil {
			return err
		}
		var ipTotal int64
		got := map[string]int64{}
		for _, row := range rows {
			ipTotal += row.Net
			got[row.Key] = row.Net
		}
		for cat, v := range mix {
			if cat == "" || v <= 0 {
				continue
			}
			exp := int64(math.Round(float64(ipTotal) * float64(v) / float64(whole)))
			if exp > got[cat] {
				gaps = append(gaps, gap{ip, cat, got[cat], exp})
			}
		}
	}
	sort.Slice(gaps, func(i, j int) bool {
		di, dj := gaps[i].exp-gaps[i].actual, gaps[j].exp-gaps[j].actual
		if di != dj {
			return di > dj
		}
		return gaps[i].ip+gaps[i].cat < gaps[j].ip+gaps[j].cat
	})
	if len(gaps) > max(r.q.Limit, 1) {
		gaps = gaps[:max(r.q.Limit, 1)]
	}
	if len(gaps) == 0 {
		r.ans.Sentence = "Every game IP sells in each category at least at the catalogue's mix: no category stands out."
		return nil
	}
	for _, g := range gaps {
		name := r.refLabel(Ref{GroupGameIP, g.ip})
		cat := r.label(GroupCategory, g.cat, g.cat)
		prev := g.exp
		r.ans.Rows = append(r.ans.Rows, Row{Key: g.ip + "/" + g.cat, Label: name + " × " + cat, Value: g.exp - g.actual, Previous: &prev})
	}
	top := gaps[0]
	r.ans.Sentence = fmt.Sprintf("Expand %s into %s: it made %s there in %s, %s less than its size and the catalogue's category mix suggest.",
		r.refLabel(Ref{GroupGameIP, top.ip}), r.label(GroupCategory, top.cat, top.cat), r.fmt(top.actual), r.periodWords(), r.fmt(top.exp-top.actual))
	r.barChart()
	v := url.Values{"ip": {top.ip}}
	r.addRange(v)
	r.ans.Link = "/overview?" + v.Encode()
	return nil
}

func (r *run) forecast(ctx context.Context) error {
	subjects, err := r.resolve(ctx, r.q.Subjects)
	if err != nil {
		return err
	}
	req := insights.ForecastRequest{Scope: store.ScopeTotal, Grain: "month", Horizon: 3}
	name := "Total net revenue"
	if len(subjects) == 1 {
		req.Scope, req.ID = subjects[0].Kind, subjects[0].ID
		name = r.refLabel(subjects[0])
	}
	fc, err := insights.Forecast(ctx, r.a.store, r.a.pub, r.a.now(), req)
	if err != nil {
		return err
	}
	var sum int64
	for _, pt := range fc.Points {
		lo, hi := pt.Lo80, pt.Hi80
		_ = lo
		_ = hi
		r.ans.Rows = append(r.ans.Rows, Row{Key: pt.Period, Label: pt.Period, Value: pt.Point})
		sum += pt.Point
	}
	if len(fc.Points) == 0 {
		r.ans.Sentence = "There is too little history to forecast " + name + "."
	} else {
		r.ans.Sentence = fmt.Sprintf("%s is forecast at %s over the next %d months (%s in %s, 80%% range %s–%s).", name, r.fmt(sum), len(fc.Points),
			r.fmt(fc.Points[0].Point), fc.Points[0].Period, r.fmt(fc.Points[0].Lo80), r.fmt(fc.Points[0].Hi80))
	}
	r.ans.Link = "/intelligence"
	return nil
}

func (r *run) insight(ctx context.Context) error {
	list, err := r.a.store.Insights(ctx, r.a.pub.ID, store.InsightFilter{Limit: 200})
	if err != nil {
		return err
	}
	var names []string
	if len(r.q.Subjects) == 1 {
		s := r.q.Subjects[0]
		names = append(names, normalize(r.refLabel(s)))
		if s.Kind == GroupAsset {
			if a := r.a.cat.asset(s.ID); a != nil {
				for _, al := range a.Aliases {
					names = append(names, normalize(al))
				}
			}
		}
	}
	for _, in := range list {
		if in.Status == store.InsightDismissed {
			continue
		}
		text := normalize(in.Title + " " + in.Description)
		match := len(names) == 0
		for _, n := range names {
			match = match || indexWord(text, n) >= 0
		}
		if match {
			r.ans.Rows = append(r.ans.Rows, Row{Key: in.ID, Label: in.Title})
		}
		if len(r.ans.Rows) == 5 {
			break
		}
	}
	what := "your data"
	if len(r.q.Subjects) == 1 {
		what = r.refLabel(r.q.Subjects[0])
	}
	switch len(r.ans.Rows) {
	case 0:
		r.ans.Sentence = "The Intelligence page has no finding about " + what + " at the moment."
	default:
		r.ans.Sentence = fmt.Sprintf("The Intelligence page has %d finding(s) about %s; first: %s.", len(r.ans.Rows), what, r.ans.Rows[0].Label)
	}
	r.ans.Unit = ""
	r.ans.Link = "/intelligence"
	return nil
}

func (r *run) barChart() {
	if len(r.ans.Rows) < 2 {
		return
	}
	pts := make([]chart.Point, len(r.ans.Rows))
	for i, row := range r.ans.Rows {
		pts[i] = chart.Point{Label: row.Label, Value: row.Value}
	}
	r.ans.Chart = chart.HBars("Answer", pts, r.fmt)
}

// fmt formats a value of the answer's unit.
func (r *run) fmt(v int64) string {
	switch r.ans.Unit {
	case MeasureUnits:
		return fmt.Sprintf("%s units", group3(v))
	case MeasureOrders:
		return fmt.Sprintf("%s orders", group3(v))
	}
	return money(v, r.a.pub.ReportingCurrency)
}

var symbols = map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}

// money shows an amount as people read it: "$17,351.94".
func money(v int64, currency string) string {
	s := phantomos.Money{Amount: v, Currency: currency}.String()
	num, _, _ := strings.Cut(s, " ")
	neg := strings.HasPrefix(num, "-")
	num = strings.TrimPrefix(num, "-")
	whole, frac, hasFrac := strings.Cut(num, ".")
	var n int64
	fmt.Sscan(whole, &n)
	out := group3(n)
	if hasFrac {
		out += "." + frac
	}
	if sym, ok := symbols[currency]; ok {
		out = sym + out
	} else {
		out += " " + currency
	}
	if neg {
		out = "−" + out
	}
	return out
}

func signed(r *run, v int64) string {
	if v >= 0 {
		return "+" + r.fmt(v)
	}
	return "−" + r.fmt(-v)
}

func group3(v int64) string {
	s := fmt.Sprint(v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func pct(g float64, sign bool) string {
	s := fmt.Sprintf("%.1f%%", g*100)
	if sign && g >= 0 {
		s = "+" + s
	}
	return s
}

// periodWords names the period: the question's words and the dates.
func (r *run) periodWords() string {
	return fmt.Sprintf("%s (%s)", r.q.RangeLabelOr(), dayRange(r.p))
}

// RangeLabelOr is the period's words, the preset's label without them.
func (q *Query) RangeLabelOr() string {
	if q.RangeLabel != "" {
		return q.RangeLabel
	}
	for _, p := range analytics.Presets {
		if p.Key == q.Range {
			return strings.ToLower(p.Label)
		}
	}
	return "the period"
}

func dayRange(p analytics.Period) string {
	f, t := p.From.Time(), p.To.Time()
	if f.Year() == t.Year() {
		return f.Format("2 Jan") + "–" + t.Format("2 Jan 2006")
	}
	return f.Format("2 Jan 2006") + "–" + t.Format("2 Jan 2006")
}

func (r *run) filterWords() string {
	var parts []string
	f := r.q.Filter
	for _, id := range f.GameIPs {
		parts = append(parts, r.refLabel(Ref{GroupGameIP, id}))
	}
	for _, id := range f.Assets {
		parts = append(parts, r.refLabel(Ref{GroupAsset, id}))
	}
	for _, id := range f.Categories {
		parts = append(parts, r.label(GroupCategory, id, id))
	}
	for _, id := range f.Channels {
		parts = append(parts, r.label(GroupChannel, id, id))
	}
	for _, id := range f.Countries {
		parts = append(parts, r.label(GroupCountry, id, id))
	}
	if len(parts) == 0 {
		return ""
	}
	return "in " + strings.Join(parts, ", ")
}

func (r *run) interpretation() string {
	q := r.q
	measure := map[string]string{MeasureRevenue: "net revenue", MeasureUnits: "units sold", MeasureOrders: "orders", MeasureGrowth: "net revenue growth"}[q.Measure]
	var parts []string
	switch q.Kind {
	case KindRank:
		noun := strings.ReplaceAll(q.GroupBy, "_", " ")
		if len(q.Filter.AssetTypes) == 1 {
			noun = q.Filter.AssetTypes[0]
		}
		if q.Limit <= 1 {
			parts = append(parts, fmt.Sprintf("the %s %s by %s", q.Order, noun, measure))
		} else {
			parts = append(parts, fmt.Sprintf("the %s %d %s by %s", q.Order, q.Limit, plural(noun), measure))
		}
	case KindChange:
		parts = append(parts, fmt.Sprintf("the %d %s whose %s changed most", max(q.Limit, 1), plural(strings.ReplaceAll(q.GroupBy, "_", " ")), measure))
	case KindExpansion:
		parts = append(parts, "categories where a game IP sells below the catalogue's category mix, by net revenue")
	case KindForecast:
		parts = append(parts, "the monthly net revenue forecast of the Intelligence page")
	case KindInsight:
		parts = append(parts, "findings of the Intelligence page")
	default:
		parts = append(parts, q.Kind+" of "+measure)
	}
	if len(q.Subjects) > 0 {
		var names []string
		for i, s := range q.Subjects {
			n := r.refLabel(s)
			if s.Kind == RefTag && i < len(r.resolved) {
				n += " (" + r.refLabel(r.resolved[i]) + ", the top-earning asset tagged " + s.ID + ")"
			}
			names = append(names, n)
		}
		parts = append(parts, "for "+strings.Join(names, " and "))
	}
	if w := r.filterWords(); w != "" {
		parts = append(parts, w)
	}
	if len(q.Filter.AssetTypes) > 1 {
		parts = append(parts, "asset types "+strings.Join(q.Filter.AssetTypes, ", "))
	}
	if q.Kind == KindRank && (q.GroupBy == GroupAsset || q.GroupBy == GroupAssetType) || q.Kind == KindCompare && kindOf(q.Subjects[0]) == GroupAsset || q.Kind == KindShare && q.GroupBy == GroupAsset {
		parts = append(parts, "attributed by the "+q.Model+" model")
	}
	if q.Kind != KindForecast && q.Kind != KindInsight {
		parts = append(parts, dayRange(r.p))
	}
	if r.hasCmp {
		c := "compared with the period before"
		if q.Compare == "year" {
			c = "compared with the same dates a year earlier"
		}
		parts = append(parts, c+" ("+dayRange(r.cmp)+")")
	}
	return strings.Join(parts, ", ")
}

// addRange puts the period on page filters the way the pages read it.
func (r *run) addRange(v url.Values) {
	if r.q.Range == "custom" {
		v.Set("from", r.q.From)
		v.Set("to", r.q.To)
	} else {
		v.Set("range", r.q.Range)
	}
	if r.hasCmp {
		v.Set("compare", r.q.Compare)
	}
}

func (r *run) withRange(v url.Values) string {
	r.addRange(v)
	return v.Encode()
}

func (r *run) overviewLink(f store.Filter) string {
	v := url.Values{}
	for _, id := range f.GameIPs {
		v.Add("ip", id)
	}
	for _, id := range f.Assets {
		v.Add("asset", id)
	}
	for _, id := range f.Categories {
		v.Add("category", id)
	}
	for _, id := range f.Channels {
		v.Add("channel", id)
	}
	for _, id := range f.Countries {
		v.Add("country", id)
	}
	r.addRange(v)
	return "/overview?" + v.Encode()
}

// link is the page showing the same grouping and filters.
func (r *run) link() string {
	switch r.q.GroupBy {
	case GroupAsset, GroupAssetType:
		v := url.Values{}
		for _, id := range r.q.Filter.GameIPs {
			v.Add("ip", id)
		}
		r.addRange(v)
		return "/assets?" + v.Encode()
	}
	return r.overviewLink(r.filter())
}
