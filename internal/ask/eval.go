package ask

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
)

// EvalCase is one question of the evaluation set with the typed query it
// should become, naming things by name (ids differ between loads), or
// Refuse when no answer is right.
type EvalCase struct {
	Question string     `json:"question"`
	Want     *evalQuery `json:"want,omitempty"`
	Refuse   bool       `json:"refuse,omitempty"`
}

type evalRef struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

type evalQuery struct {
	Kind     string    `json:"kind"`
	Measure  string    `json:"measure"`
	GroupBy  string    `json:"group_by,omitempty"`
	Subjects []evalRef `json:"subjects,omitempty"`
	Filter   struct {
		GameIPs    []string `json:"game_ips,omitempty"`
		Assets     []string `json:"assets,omitempty"`
		AssetTypes []string `json:"asset_types,omitempty"`
		Categories []string `json:"categories,omitempty"`
		Channels   []string `json:"channels,omitempty"`
		Countries  []string `json:"countries,omitempty"`
	} `json:"filter"`
	Range   string `json:"range"`
	From    string `json:"from,omitempty"`
	To      string `json:"to,omitempty"`
	Compare string `json:"compare"`
	Order   string `json:"order,omitempty"`
	Limit   int    `json:"limit,omitempty"`
}

// EvalResult is one question's outcome.
type EvalResult struct {
	Question string
	Outcome  string // exact, refused, wrong
	Why      string
	Took     time.Duration
}

// EvalReport sums up an evaluation.
type EvalReport struct {
	Results               []EvalResult
	Exact, Refused, Wrong int
	P50, P95              time.Duration
}

// ReadEvalCases reads an evaluation set.
func ReadEvalCases(path string) ([]EvalCase, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ask: eval set: %w", err)
	}
	var cases []EvalCase
	if err := json.Unmarshal(b, &cases); err != nil {
		return nil, fmt.Errorf("ask: eval set %s: %w", path, err)
	}
	return cases, nil
}

// Eval asks every case of the set as a's publisher and checks each typed
// query against the expected one and each answer against figures computed
// independently, by naive SQL over the raw sales table (never through the
// analytics code). A refusal is never counted as exact unless the case
// expects one.
func Eval(ctx context.Context, a *Asker, cases []EvalCase) (*EvalReport, error) {
	rep := &EvalReport{}
	in := a.Interpreter()
	var took []time.Duration
	for _, c := range cases {
		start := time.Now()
		q, err := in.Interpret(c.Question, a.now())
		var ans *Answer
		var nu *NotUnderstood
		if err == nil {
			ans, err = a.Run(ctx, q)
		}
		d := time.Since(start)
		took = append(took, d)
		res := EvalResult{Question: c.Question, Took: d}
		switch {
		case errors.As(err, &nu):
			res.Outcome, res.Why = "refused", nu.Reason
			if c.Refuse {
				res.Outcome = "exact"
			}
		case err != nil:
			res.Outcome, res.Why = "wrong", err.Error()
		case c.Refuse:
			res.Outcome, res.Why = "wrong", "answered a question that should be refused: "+ans.Sentence
		default:
			want, werr := a.resolveEval(c.Want, q)
			switch {
			case werr != nil:
				return nil, fmt.Errorf("ask: eval %q: %w", c.Question, werr)
			case !sameQuery(want, q):
				g, _ := json.Marshal(q)
				w, _ := json.Marshal(want)
				res.Outcome, res.Why = "wrong", fmt.Sprintf("query %s, want %s", g, w)
			default:
				if why, err := a.checkAnswer(ctx, q, ans); err != nil {
					return nil, err
				} else if why != "" {
					res.Outcome, res.Why = "wrong", why
				} else {
					res.Outcome = "exact"
				}
			}
		}
		switch res.Outcome {
		case "exact":
			rep.Exact++
		case "refused":
			rep.Refused++
		default:
			rep.Wrong++
		}
		rep.Results = append(rep.Results, res)
	}
	slices.Sort(took)
	if n := len(took); n > 0 {
		rep.P50, rep.P95 = took[n/2], took[min(n-1, n*95/100)]
	}
	return rep, nil
}

// Print writes the report's figures and the questions not answered exactly.
func (r *EvalReport) Print(w io.Writer) {
	n := len(r.Results)
	pc := func(k int) float64 { return 100 * float64(k) / float64(max(n, 1)) }
	fmt.Fprintf(w, "questions          %d\n", n)
	fmt.Fprintf(w, "exact answers      %d (%.1f%%)\n", r.Exact, pc(r.Exact))
	fmt.Fprintf(w, "refused with help  %d (%.1f%%)\n", r.Refused, pc(r.Refused))
	fmt.Fprintf(w, "wrong              %d (%.1f%%)\n", r.Wrong, pc(r.Wrong))
	fmt.Fprintf(w, "answer time        p50 %s, p95 %s\n", r.P50.Round(time.Microsecond), r.P95.Round(time.Microsecond))
	slow := slices.Clone(r.Results)
	sort.SliceStable(slow, func(i, j int) bool { return slow[i].Took > slow[j].Took })
	for _, res := range slow[:min(5, len(slow))] {
		fmt.Fprintf(w, "slow     %s %q\n", res.Took.Round(time.Millisecond), res.Question)
	}
	for _, res := range r.Results {
		if res.Outcome != "exact" {
			fmt.Fprintf(w, "%-8s %q: %s\n", res.Outcome, res.Question, res.Why)
		}
	}
}

// resolveEval turns an expected query by names into one by ids.
func (a *Asker) resolveEval(e *evalQuery, got *Query) (*Query, error) {
	if e == nil {
		return nil, errors.New("case has neither want nor refuse")
	}
	id := func(kind, name string) (string, error) {
		switch kind {
		case GroupAsset:
			for _, as := range a.cat.Assets {
				if as.Name == name {
					return as.ID, nil
				}
			}
		case GroupGameIP:
			for _, g := range a.cat.GameIPs {
				if g.Name == name {
					return g.ID, nil
				}
			}
		default:
			return name, nil
		}
		return "", fmt.Errorf("no %s named %q", kind, name)
	}
	if e.From == "$first" {
		e.From = string(a.first)
	}
	q := &Query{Kind: e.Kind, Measure: e.Measure, GroupBy: e.GroupBy, Range: e.Range, From: e.From, To: e.To, Compare: e.Compare, Order: e.Order, Limit: e.Limit,
		Filter: Filter{AssetTypes: e.Filter.AssetTypes, Categories: e.Filter.Categories, Channels: e.Filter.Channels, Countries: e.Filter.Countries}}
	for _, s := range e.Subjects {
		v, err := id(s.Kind, s.Name)
		if err != nil {
			return nil, err
		}
		q.Subjects = append(q.Subjects, Ref{s.Kind, v})
	}
	for _, n := range e.Filter.GameIPs {
		v, err := id(GroupGameIP, n)
		if err != nil {
			return nil, err
		}
		q.Filter.GameIPs = append(q.Filter.GameIPs, v)
	}
	for _, n := range e.Filter.Assets {
		v, err := id(GroupAsset, n)
		if err != nil {
			return nil, err
		}
		q.Filter.Assets = append(q.Filter.Assets, v)
	}
	return q, nil
}

// sameQuery compares what decides an answer: not the words of the period
// or the model (always the publisher's).
func sameQuery(want, got *Query) bool {
	w, g := *want, *got
	w.RangeLabel, g.RangeLabel, w.Model, g.Model = "", "", "", ""
	norm := func(f *Filter) {
		for _, l := range []*[]string{&f.GameIPs, &f.Assets, &f.AssetTypes, &f.Categories, &f.Channels, &f.Countries} {
			if len(*l) == 0 {
				*l = nil
			}
		}
	}
	norm(&w.Filter)
	norm(&g.Filter)
	if len(w.Subjects) == 0 {
		w.Subjects = nil
	}
	if len(g.Subjects) == 0 {
		g.Subjects = nil
	}
	return reflect.DeepEqual(w, g)
}

// naiveSQL sums raw sales of the publisher by key over from..to, with the
// query's filters, returning net revenue and units per key. key is a SQL
// expression over sales s and products p; the asset filter and asset keys
// go through the confirmed links, each product's revenue split by the
// weighted model in floating point.
func (a *Asker) naiveSQL(ctx context.Context, key string, attributed bool, f Filter, from, to phantomos.Day) (map[string][3]float64, error) {
	args := []any{a.pub.ID, string(from), string(to)}
	where := ""
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		var ph []string
		for _, v := range vals {
			args = append(args, v)
			ph = append(ph, fmt.Sprintf("$%d", len(args)))
		}
		where += " AND " + col + " IN (" + strings.Join(ph, ",") + ")"
	}
	in("s.country", f.Countries)
	in("s.channel", f.Channels)
	in("p.category", f.Categories)
	in("CAST(p.game_ip_id AS TEXT)", f.GameIPs)
	if len(f.Assets) > 0 {
		var ph []string
		for _, v := range f.Assets {
			args = append(args, v)
			ph = append(ph, fmt.Sprintf("$%d", len(args)))
		}
		where += " AND s.product_id IN (SELECT product_id FROM product_assets WHERE publisher_id = $1 AND CAST(asset_id AS TEXT) IN (" + strings.Join(ph, ",") + "))"
	}
	var q string
	if attributed {
		// Each confirmed product's share per asset: its weight over the
		// product's weights (equal shares when they sum to zero).
		q = `SELECT CAST(x.asset_id AS TEXT), SUM(s.net_reporting * x.share), SUM(s.quantity * x.share), 0
			FROM sales s JOIN products p ON p.id = s.product_id AND p.publisher_id = s.publisher_id
			JOIN (SELECT pa.product_id, pa.asset_id,
				CASE WHEN w.total > 0 THEN pa.weight / w.total ELSE 1.0 / w.n END AS share
				FROM product_assets pa
				JOIN products pp ON pp.id = pa.product_id AND pp.publisher_id = pa.publisher_id AND pp.mapping_status = 'confirmed'
				JOIN (SELECT product_id, SUM(weight) AS total, COUNT(*) AS n FROM product_assets WHERE publisher_id = $1 GROUP BY product_id) w ON w.product_id = pa.product_id
				WHERE pa.publisher_id = $1) x ON x.product_id = s.product_id
			WHERE s.publisher_id = $1 AND s.day BETWEEN $2 AND $3` + where + ` GROUP BY x.asset_id`
	} else {
		// Orders are the distinct orders with a line counted: an order's
		// identity is its connector and the platform's own order id.
		q = `SELECT ` + key + `, COALESCE(SUM(s.net_reporting), 0), COALESCE(SUM(s.quantity), 0),
			COUNT(DISTINCT s.connector_id || ':' || s.external_order_id)
			FROM sales s JOIN products p ON p.id = s.product_id AND p.publisher_id = s.publisher_id
			WHERE s.publisher_id = $1 AND s.day BETWEEN $2 AND $3` + where
		if key != "'all'" {
			q += ` GROUP BY ` + key
		}
	}
	rows, err := a.store.DB().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("ask: naive sql: %w", err)
	}
	defer rows.Close()
	out := map[string][3]float64{}
	for rows.Next() {
		var k *string
		var net, units, orders float64
		if err := rows.Scan(&k, &net, &units, &orders); err != nil {
			return nil, fmt.Errorf("ask: naive sql: %w", err)
		}
		kk := ""
		if k != nil {
			kk = *k
		}
		v := out[kk]
		out[kk] = [3]float64{v[0] + net, v[1] + units, v[2] + orders}
	}
	return out, rows.Err()
}

// naiveGroup is naiveSQL by a grouping of the query language.
func (a *Asker) naiveGroup(ctx context.Context, group string, f Filter, p analytics.Period) (map[string][3]float64, error) {
	switch group {
	case GroupAsset, GroupAssetType:
		m, err := a.naiveSQL(ctx, "", true, f, p.From, p.To)
		if err != nil {
			return nil, err
		}
		out := map[string][3]float64{}
		// Every asset of the catalogue counts, with nothing when it sold
		// nothing.
		for _, as := range a.cat.Assets {
			if _, ok := m[as.ID]; !ok {
				m[as.ID] = [3]float64{}
			}
		}
		for id, v := range m {
			as := a.cat.asset(id)
			if as == nil {
				continue
			}
			if len(f.AssetTypes) > 0 && !slices.Contains(f.AssetTypes, as.AssetType) {
				continue
			}
			if len(f.GameIPs) > 0 && !slices.Contains(f.GameIPs, as.GameIPID) {
				continue
			}
			if len(f.Assets) > 0 && !slices.Contains(f.Assets, as.ID) {
				continue
			}
			k := id
			if group == GroupAssetType {
				k = as.AssetType
			}
			w := out[k]
			out[k] = [3]float64{w[0] + v[0], w[1] + v[1]}
		}
		return out, nil
	}
	key := map[string]string{GroupGameIP: "COALESCE(CAST(p.game_ip_id AS TEXT), '')", GroupCategory: "p.category", GroupProduct: "CAST(p.id AS TEXT)",
		GroupCountry: "s.country", GroupChannel: "s.channel", "": "'all'"}[group]
	return a.naiveSQL(ctx, key, false, f, p.From, p.To)
}

// near reports whether got matches a naive figure: exactly for sums of
// whole rows, within rounding for attributed ones (a cent per product).
func near(got int64, want float64, attributed bool) bool {
	if !attributed {
		return float64(got) == math.Round(want)
	}
	return math.Abs(float64(got)-want) <= math.Max(100, math.Abs(want)*0.002)
}

// checkAnswer recomputes the answer of q naively and says what differs.
func (a *Asker) checkAnswer(ctx context.Context, q *Query, ans *Answer) (string, error) {
	p := ans.Period
	cmp, hasCmp, err := analytics.Compare(p, q.Compare)
	if err != nil {
		return "", err
	}
	pick := func(v [3]float64) float64 {
		switch q.Measure {
		case MeasureUnits:
			return v[1]
		case MeasureOrders:
			return v[2]
		}
		return v[0]
	}
	switch q.Kind {
	case KindRank, KindChange:
		attributed := q.GroupBy == GroupAsset || q.GroupBy == GroupAssetType
		cur, err := a.naiveGroup(ctx, q.GroupBy, q.Filter, p)
		if err != nil {
			return "", err
		}
		prev := map[string][3]float64{}
		if hasCmp {
			if prev, err = a.naiveGroup(ctx, q.GroupBy, q.Filter, cmp); err != nil {
				return "", err
			}
		}
		type kv struct {
			k    string
			v, s float64
		}
		var list []kv
		for k, v := range cur {
			if k == "" {
				continue
			}
			x := kv{k: k, v: pick(v)}
			switch {
			case q.Kind == KindChange:
				x.s = math.Abs(math.Round(pick(v)) - math.Round(pick(prev[k])))
			case q.Measure == MeasureGrowth:
				pv := math.Round(prev[k][0])
				if pv <= 0 {
					continue
				}
				x.s = (math.Round(v[0]) - pv) / pv
			default:
				x.s = x.v
			}
			list = append(list, x)
		}
		sort.Slice(list, func(i, j int) bool {
			if list[i].s != list[j].s {
				if q.Order == "bottom" && q.Kind != KindChange {
					return list[i].s < list[j].s
				}
				return list[i].s > list[j].s
			}
			return list[i].k < list[j].k
		})
		if n := max(q.Limit, 1); len(list) > n {
			list = list[:n]
		}
		if len(list) != len(ans.Rows) {
			return fmt.Sprintf("%d rows, want %d", len(ans.Rows), len(list)), nil
		}
		for i, x := range list {
			if ans.Rows[i].Key != x.k || !near(ans.Rows[i].Value, x.v, attributed) {
				return fmt.Sprintf("row %d is %s=%d, want %s=%.0f", i+1, ans.Rows[i].Label, ans.Rows[i].Value, x.k, x.v), nil
			}
		}
	case KindTotal:
		all, err := a.naiveGroup(ctx, "", q.Filter, p)
		if err != nil {
			return "", err
		}
		if !near(ans.Rows[0].Value, pick(all["all"]), false) {
			return fmt.Sprintf("total %d, want %.0f", ans.Rows[0].Value, pick(all["all"])), nil
		}
	case KindCompare, KindShare, KindTrend:
		subjects := ans.Query.Subjects
		// Tags stand for the asset the answer resolved them to; which asset
		// that is is checked here too: the top earner of the tag.
		for i, s := range subjects {
			if s.Kind == RefTag {
				all, err := a.naiveGroup(ctx, GroupAsset, Filter{}, p)
				if err != nil {
					return "", err
				}
				best, bv := "", math.Inf(-1)
				for id, v := range all {
					as := a.cat.asset(id)
					if as != nil && slices.Contains(as.Tags, s.ID) && (v[0] > bv || v[0] == bv && id < best) {
						best, bv = id, v[0]
					}
				}
				subjects = slices.Clone(subjects)
				subjects[i] = Ref{GroupAsset, best}
			}
		}
		values := make([]float64, len(subjects))
		attributed := false
		for i, s := range subjects {
			if s.Kind == GroupAsset && q.Measure == MeasureOrders {
				// Orders are not split between assets: an asset's orders
				// are the orders with a product of it.
				f := q.Filter
				f.Assets = append(slices.Clone(f.Assets), s.ID)
				m, err := a.naiveGroup(ctx, "", f, p)
				if err != nil {
					return "", err
				}
				values[i] = pick(m["all"])
				continue
			}
			if s.Kind == GroupAsset || s.Kind == GroupAssetType {
				attributed = true
				m, err := a.naiveGroup(ctx, s.Kind, q.Filter, p)
				if err != nil {
					return "", err
				}
				values[i] = pick(m[s.ID])
				continue
			}
			f := q.Filter
			switch s.Kind {
			case GroupGameIP:
				f.GameIPs = append(slices.Clone(f.GameIPs), s.ID)
			case GroupCategory:
				f.Categories = append(slices.Clone(f.Categories), s.ID)
			case GroupChannel:
				f.Channels = append(slices.Clone(f.Channels), s.ID)
			case GroupCountry:
				f.Countries = append(slices.Clone(f.Countries), s.ID)
			}
			m, err := a.naiveGroup(ctx, "", f, p)
			if err != nil {
				return "", err
			}
			values[i] = pick(m["all"])
		}
		switch q.Kind {
		case KindCompare:
			for i, v := range values {
				if ans.Rows[i].Key != subjects[i].ID || !near(ans.Rows[i].Value, v, attributed) {
					return fmt.Sprintf("%s is %d, want %s=%.0f", ans.Rows[i].Label, ans.Rows[i].Value, subjects[i].ID, v), nil
				}
			}
		case KindShare:
			all, err := a.naiveGroup(ctx, "", q.Filter, p)
			if err != nil {
				return "", err
			}
			want := values[0] / pick(all["all"])
			if !near(ans.Rows[0].Value, values[0], attributed) || math.Abs(*ans.Rows[0].Share-want) > 0.001 {
				return fmt.Sprintf("share %.4f (%d), want %.4f (%.0f)", *ans.Rows[0].Share, ans.Rows[0].Value, want, values[0]), nil
			}
		case KindTrend:
			if len(subjects) == 0 {
				all, err := a.naiveGroup(ctx, "", q.Filter, p)
				if err != nil {
					return "", err
				}
				values = []float64{pick(all["all"])}
			}
			var sum int64
			for _, r := range ans.Rows {
				sum += r.Value
			}
			if !near(sum, values[0], attributed) {
				return fmt.Sprintf("trend sums to %d, want %.0f", sum, values[0]), nil
			}
		}
	case KindExpansion:
		byCat, err := a.naiveGroup(ctx, GroupCategory, Filter{Categories: q.Filter.Categories, Channels: q.Filter.Channels, Countries: q.Filter.Countries}, p)
		if err != nil {
			return "", err
		}
		var whole float64
		for _, v := range byCat {
			whole += math.Round(v[0])
		}
		ips := q.Filter.GameIPs
		if len(ips) == 0 {
			for _, g := range a.cat.GameIPs {
				ips = append(ips, g.ID)
			}
		}
		best, bestGap := "", 0.0
		for _, ip := range ips {
			m, err := a.naiveGroup(ctx, GroupCategory, Filter{GameIPs: []string{ip}, Categories: q.Filter.Categories, Channels: q.Filter.Channels, Countries: q.Filter.Countries}, p)
			if err != nil {
				return "", err
			}
			var ipTotal float64
			for _, v := range m {
				ipTotal += math.Round(v[0])
			}
			for cat, v := range byCat {
				if cat == "" || v[0] <= 0 {
					continue
				}
				gap := math.Round(ipTotal*math.Round(v[0])/whole) - math.Round(m[cat][0])
				if k := ip + "/" + cat; gap > bestGap || gap == bestGap && k < best {
					best, bestGap = k, gap
				}
			}
		}
		if len(ans.Rows) == 0 || ans.Rows[0].Key != best || !near(ans.Rows[0].Value, bestGap, false) {
			got := "nothing"
			if len(ans.Rows) > 0 {
				got = fmt.Sprintf("%s (%d)", ans.Rows[0].Key, ans.Rows[0].Value)
			}
			return fmt.Sprintf("top gap %s, want %s (%.0f)", got, best, bestGap), nil
		}
	case KindForecast, KindInsight:
		// No naive twin: the query and a non-empty answer are what is checked.
		if ans.Sentence == "" {
			return "empty answer", nil
		}
	}
	return "", nil
}

//go:embed testdata/questions.json
var evalSet []byte

// EvalCases returns the evaluation set kept with the package: questions
// on the demo publisher with their expected typed queries.
func EvalCases() ([]EvalCase, error) {
	var cases []EvalCase
	if err := json.Unmarshal(evalSet, &cases); err != nil {
		return nil, fmt.Errorf("ask: eval set: %w", err)
	}
	return cases, nil
}

// EvalClock is the "as of" time of the evaluation: the demo's sales end
// the day before, and the set's dates are written for it.
var EvalClock = time.Date(2026, 12, 6, 18, 0, 0, 0, time.UTC)
