package insights

import (
	"fmt"
	"math"
	"unicode"
	"unicode/utf8"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// Thresholds of the forecast detector.
const (
	// forecastMonthsAhead is the window forecast: the next three months.
	forecastMonthsAhead = 3
	// shortfallMin is the smallest shortfall against last year reported.
	shortfallMin = 0.05
	// shortfallMinProbability is the least probability of falling short
	// reported.
	shortfallMinProbability = 0.8
	// forecastMinShare is the share of revenue a game IP, channel or
	// category needs to be forecast.
	forecastMinShare = 0.05
	// z80 is the standard normal quantile of an 80% central interval.
	z80 = 1.2815515655446004
)

// forecastFindings forecasts the next three months of total revenue and of
// each large game IP, channel and category, and compares them with the
// same months last year. The forecast's 80% intervals give each month's
// spread; taking the months as perfectly correlated (the cautious choice),
// the probability that the three months fall short of last year is read
// from the normal distribution. A shortfall of at least 5% with at least
// 80% probability is reported, with that probability as its confidence.
// Total revenue always gets an outlook, with its measured accuracy.
func forecastFindings(d *dataset) []finding {
	n := len(d.months)
	if n < 13 {
		return nil
	}
	last := n - 1
	lastYear := d.period(last-11, last-12+forecastMonthsAhead)
	next := monthsPeriod(addMonths(d.months[last], 1), addMonths(d.months[last], forecastMonthsAhead))
	total := sumNet(d.total, max(0, last-11), last)
	if total <= 0 {
		return nil
	}
	type scope struct {
		kind, id, name string
		values         []int64
		filter         Filter
		href           string
	}
	scopes := []scope{{kind: store.ScopeTotal, name: "Total revenue", values: netSeries(d.total), href: "/overview" + query(lastYear)}}
	big := func(v []int64) bool {
		var s int64
		for _, x := range v[max(0, last-11):] {
			s += x
		}
		return float64(s) >= forecastMinShare*float64(total)
	}
	for id, name := range d.ipName {
		v, _, _ := d.scopeSeries(store.ScopeGameIP, id)
		if big(v) && len(d.ipName) > 1 {
			scopes = append(scopes, scope{kind: store.ScopeGameIP, id: id, name: name, values: v, filter: Filter{GameIP: id}, href: "/overview" + query(lastYear, "ip", id)})
		}
	}
	for ch, f := range d.channels {
		if v := netSeries(f); big(v) && len(d.channels) > 1 {
			scopes = append(scopes, scope{kind: store.ScopeChannel, id: ch, name: titleWord(ch), values: v, filter: Filter{Channel: ch}, href: "/overview" + query(lastYear, "channel", ch)})
		}
	}
	for _, c := range phantomos.Categories {
		if v, _, _ := d.scopeSeries(store.ScopeCategory, c); big(v) {
			scopes = append(scopes, scope{kind: store.ScopeCategory, id: c, name: titleWord(c), values: v, filter: Filter{Category: c}, href: "/overview" + query(lastYear, "category", c)})
		}
	}
	var out []finding
	for _, sc := range scopes {
		fc, acc, err := forecastMonths(sc.values, forecastMonthsAhead)
		if err != nil {
			continue
		}
		var point, lo, hi, sd float64
		for h := range forecastMonthsAhead {
			point += fc.Point[h]
			lo += fc.Lo80[h]
			hi += fc.Hi80[h]
			sd += (fc.Hi80[h] - fc.Lo80[h]) / (2 * z80)
		}
		ly := sumNet(sliceFigs(sc.values), last-11, last-12+forecastMonthsAhead)
		if ly <= 0 || sd <= 0 {
			continue
		}
		change := point/float64(ly) - 1
		below := normalCDF((float64(ly) - point) / sd)
		shortfall := change <= -shortfallMin && below >= shortfallMinProbability
		if !shortfall && sc.kind != store.ScopeTotal {
			continue
		}
		cur := d.pub.ReportingCurrency
		f := finding{typ: store.InsightForecast, confidence: clamp(below, 0, 0.999)}
		ev := Evidence{Kind: KindForecastShortfall, Subject: Subject{Kind: sc.kind, ID: sc.id, Name: sc.name}, Period: next, Baseline: &lastYear, Metric: change,
			Figures: []Figure{
				{Label: sc.name + ", forecast, " + periodName(next), Measure: MeasureForecast, Amount: round(point), Period: next, Filter: sc.filter},
				{Label: sc.name + ", forecast 80% range low, " + periodName(next), Measure: MeasureForecast, Amount: round(lo), Period: next, Filter: sc.filter},
				{Label: sc.name + ", forecast 80% range high, " + periodName(next), Measure: MeasureForecast, Amount: round(hi), Period: next, Filter: sc.filter},
				{Label: sc.name + ", net revenue, " + periodName(lastYear), Measure: MeasureNet, Amount: ly, Period: lastYear, Filter: sc.filter},
			},
			Stats: []Stat{
				{Key: "change", Label: "Forecast against the same months last year", Value: change, Unit: "fraction"},
				{Key: "probability_below", Label: "Probability of falling short of last year", Value: below, Unit: "fraction"},
			},
			Series: d.series(sc.values, n-24),
			Links: []Link{
				{Label: "Forecast of " + sc.name, Href: "/intelligence?forecast=" + sc.kind + ":" + sc.id + "#forecast"},
				{Label: sc.name + " in " + periodName(lastYear), Href: sc.href},
			}}
		ev.Stats = append(ev.Stats, Stat{Key: "backtests", Label: "One-month-ahead backtests", Value: float64(acc.Backtests), Unit: "number"})
		if acc.MAPE != nil {
			ev.Stats = append(ev.Stats, Stat{Key: "backtest_mape", Label: "Mean absolute error of the backtests", Value: *acc.MAPE, Unit: "fraction"})
		}
		f.fingerprint = "forecast:" + sc.kind + ":" + sc.id
		if shortfall {
			f.title = fmt.Sprintf("%s is forecast %s below last year for %s", sc.name, pct(change), periodName(next))
			f.description = fmt.Sprintf("The forecast for %s is %s (80%% range %s to %s), against %s in the same months last year. "+
				"The chance of matching last year is %s.%s", periodName(next), money(round(point), cur), money(round(lo), cur), money(round(hi), cur),
				money(ly, cur), pct(1-below), accuracySentence(acc))
			ev.Suggestion = fmt.Sprintf("Plan for a weaker %s: refresh the range or schedule a promotion before %s, and size orders to the forecast rather than to last year.",
				sc.name, monthName(string(next.From)[:7]))
		} else {
			ev.Kind = KindForecastOutlook
			f.confidence = clamp(math.Max(below, 1-below), 0, 0.999)
			dir := "above"
			if change < 0 {
				dir = "below"
			}
			f.title = fmt.Sprintf("Revenue forecast for %s: %s, %s %s last year", periodName(next), money(round(point), cur), pct(change), dir)
			f.description = fmt.Sprintf("The forecast for %s is %s (80%% range %s to %s), against %s in the same months last year; the chance it ends %s last year is %s.%s",
				periodName(next), money(round(point), cur), money(round(lo), cur), money(round(hi), cur), money(ly, cur), dir, pct(f.confidence), accuracySentence(acc))
		}
		f.evidence = ev
		out = append(out, f)
	}
	return out
}

// accuracySentence turns the measured accuracy into a sentence, "" when it
// was not measured.
func accuracySentence(acc Accuracy) string {
	if acc.Words == "" {
		return ""
	}
	return " Forecast accuracy: " + lowerFirst(acc.Words)
}

// lowerFirst lowers the first letter of s, for a phrase inside a sentence.
func lowerFirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 {
		return s
	}
	return string(unicode.ToLower(r)) + s[size:]
}

// sliceFigs wraps net values as figures, for sumNet.
func sliceFigs(values []int64) []figs {
	out := make([]figs, len(values))
	for i, v := range values {
		out[i].net = v
	}
	return out
}
