package insights

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/forecast"
	"github.com/phantomos/phantomos/internal/store"
)

// MaxHorizon is the longest forecast served, in months.
const MaxHorizon = 24

// backtestOrigins is how many recent months the one-month-ahead backtest
// forecasts from the months before each.
const backtestOrigins = 6

// ForecastPoint is one forecast month, in minor units: the expected value
// and the 80% and 95% prediction intervals.
type ForecastPoint struct {
	Month string `json:"month"`
	Point int64  `json:"point"`
	Lo80  int64  `json:"lo80"`
	Hi80  int64  `json:"hi80"`
	Lo95  int64  `json:"lo95"`
	Hi95  int64  `json:"hi95"`
}

// Accuracy is how far off the engine's forecasts of the same series were,
// measured by rolling-origin backtests one month ahead.
type Accuracy struct {
	Backtests int `json:"backtests"`
	// MAPE is the mean absolute percentage error (0.08 = 8%), nil without
	// enough history.
	MAPE  *float64 `json:"mape"`
	Words string   `json:"words"`
}

// ForecastResult is a monthly revenue forecast of one scope.
type ForecastResult struct {
	Scope       string          `json:"scope"`
	ID          string          `json:"id,omitempty"`
	Name        string          `json:"name"`
	Currency    string          `json:"currency"`
	Grain       string          `json:"grain"`
	Model       string          `json:"model"`
	History     []MonthAmount   `json:"history"`
	Points      []ForecastPoint `json:"points"`
	Accuracy    Accuracy        `json:"accuracy"`
	GeneratedAt time.Time       `json:"generated_at"`
}

// Forecast forecasts publisher pub's monthly net revenue of one scope as of
// now, horizon months ahead (1 to MaxHorizon): the whole business (scope
// "total"), a game IP, an asset (attributed revenue), a category or a
// channel, named by id. It uses the complete months of the rollups (at
// most three years), measures the engine's accuracy on the same series and
// stores the forecast. An unknown scope or bad horizon is EINVALID; an id
// the publisher does not have is ENOTFOUND.
func Forecast(ctx context.Context, s *store.Store, pub *phantomos.Publisher, now time.Time, scope, id string, horizon int) (*ForecastResult, error) {
	if horizon < 1 || horizon > MaxHorizon {
		return nil, phantomos.Errorf(phantomos.EINVALID, "The horizon must be between 1 and %d months (got %d).", MaxHorizon, horizon)
	}
	switch scope {
	case store.ScopeTotal, store.ScopeGameIP, store.ScopeAsset, store.ScopeCategory, store.ScopeChannel:
	default:
		return nil, phantomos.Errorf(phantomos.EINVALID, "Unknown forecast scope %q: use total, game_ip, asset, category or channel.", scope)
	}
	if scope == store.ScopeTotal {
		id = ""
	} else if id == "" {
		return nil, phantomos.Errorf(phantomos.EINVALID, "A %s forecast needs the id of the %s.", scope, scope)
	}
	d, err := load(ctx, s, pub, now)
	if err != nil {
		return nil, err
	}
	values, name, err := d.scopeSeries(scope, id)
	if err != nil {
		return nil, err
	}
	r := &ForecastResult{Scope: scope, ID: id, Name: name, Currency: pub.ReportingCurrency, Grain: "month",
		History: d.series(values, 0), GeneratedAt: now.UTC().Truncate(time.Second)}
	if r.History == nil {
		r.History = []MonthAmount{}
	}
	r.Points = []ForecastPoint{}
	var nonzero bool
	for _, v := range values {
		nonzero = nonzero || v != 0
	}
	switch {
	case len(values) == 0:
		r.Model = "none"
		r.Accuracy.Words = "No complete month of sales yet: a forecast needs at least one."
		return r, nil
	case !nonzero:
		r.Model = "none"
		r.Accuracy.Words = "No revenue in " + name + " yet, so there is nothing to forecast."
		return r, nil
	}
	fc, acc, err := forecastMonths(values, horizon)
	if err != nil {
		return nil, err
	}
	r.Model, r.Accuracy = fc.Model, acc
	next := d.months[len(d.months)-1]
	for h := range horizon {
		next = addMonths(next, 1)
		r.Points = append(r.Points, ForecastPoint{Month: next, Point: round(fc.Point[h]), Lo80: round(fc.Lo80[h]), Hi80: round(fc.Hi80[h]),
			Lo95: round(fc.Lo95[h]), Hi95: round(fc.Hi95[h])})
	}
	points, err := json.Marshal(r.Points)
	if err != nil {
		return nil, err
	}
	err = s.SaveForecast(ctx, pub.ID, &store.Forecast{Scope: scope, ScopeID: id, Grain: "month", Model: r.Model,
		Points: points, BacktestError: acc.MAPE, GeneratedAt: r.GeneratedAt})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// scopeSeries returns the monthly net revenue of a scope and its name.
func (d *dataset) scopeSeries(scope, id string) ([]int64, string, error) {
	n := len(d.months)
	sumProducts := func(keep func(*phantomos.Product) bool) []int64 {
		out := make([]int64, n)
		for pid, v := range d.byProduct {
			if pr := d.products[pid]; pr != nil && keep(pr) {
				for i, f := range v {
					out[i] += f.net
				}
			}
		}
		return out
	}
	switch scope {
	case store.ScopeTotal:
		return netSeries(d.total), "All revenue", nil
	case store.ScopeGameIP:
		name, ok := d.ipName[id]
		if !ok {
			return nil, "", phantomos.Errorf(phantomos.ENOTFOUND, "Game IP not found.")
		}
		return sumProducts(func(p *phantomos.Product) bool { return p.GameIPID == id }), name, nil
	case store.ScopeAsset:
		a, ok := d.assetBy[id]
		if !ok {
			return nil, "", phantomos.Errorf(phantomos.ENOTFOUND, "Asset not found.")
		}
		return d.assetSeries()[a.ID], a.Name, nil
	case store.ScopeCategory:
		if !slices.Contains(phantomos.Categories, id) {
			return nil, "", phantomos.Errorf(phantomos.ENOTFOUND, "Category %q not found.", id)
		}
		return sumProducts(func(p *phantomos.Product) bool { return p.Category == id }), titleWord(id), nil
	case store.ScopeChannel:
		v, ok := d.channels[id]
		if !ok {
			return nil, "", phantomos.Errorf(phantomos.ENOTFOUND, "Channel %q not found.", id)
		}
		return netSeries(v), titleWord(id), nil
	}
	return nil, "", phantomos.Errorf(phantomos.EINVALID, "Unknown forecast scope %q.", scope)
}

// forecastMonths forecasts a monthly series horizon months ahead and
// measures the accuracy of the method chosen by rolling-origin backtests:
// from each of the last six months, the months before it forecast it one
// month ahead.
//
// Two methods compete on those backtests: the automatic engine
// (internal/forecast), which needs more than two years of data to model
// seasonality, and, from 15 months on, a seasonal ratio: each month a year
// earlier scaled by how the last three months compare with the same months
// a year before, with intervals from its own past errors. The one with the
// smaller mean absolute percentage error wins, so a series with only a
// year or two of history still gets its holiday peak forecast.
func forecastMonths(values []int64, horizon int) (forecast.Forecast, Accuracy, error) {
	y := make([]float64, len(values))
	for i, v := range values {
		y[i] = float64(v)
	}
	n := len(y)
	type method struct {
		fit  func([]float64, int) (forecast.Forecast, error)
		next func([]float64) (float64, bool) // the one-month-ahead point
		errs []float64
		ok   bool
	}
	auto := &method{fit: func(train []float64, h int) (forecast.Forecast, error) { return forecast.Auto(train, 12, h) }, ok: true}
	auto.next = func(train []float64) (float64, bool) {
		f, err := forecast.Auto(train, 12, 1)
		return f.Point[0], err == nil
	}
	ratio := &method{fit: seasonalRatio, ok: n >= seasonalRatioMin+3,
		next: func(train []float64) (float64, bool) { return ratioPoint(train, len(train), 1) }}
	methods := []*method{auto, ratio}
	start := max(12, n-backtestOrigins)
	if methods[1].ok {
		start = max(seasonalRatioMin, n-backtestOrigins)
	}
	for k := start; k < n; k++ {
		if y[k] <= 0 {
			continue
		}
		for _, m := range methods {
			if !m.ok {
				continue
			}
			f, ok := m.next(y[:k])
			if !ok {
				m.ok = false
				continue
			}
			m.errs = append(m.errs, math.Abs(f-y[k])/y[k])
		}
	}
	best := auto
	if ratio.ok && len(ratio.errs) >= 3 && len(ratio.errs) == len(auto.errs) && mean(ratio.errs) < mean(auto.errs) {
		best = ratio
	}
	fc, err := best.fit(y, horizon)
	if err != nil && best != auto {
		best = auto
		fc, err = best.fit(y, horizon)
	}
	if err != nil {
		return fc, Accuracy{}, err
	}
	acc := Accuracy{Backtests: len(best.errs)}
	if len(best.errs) >= 3 {
		m := math.Round(mean(best.errs)*10000) / 10000
		acc.MAPE = &m
	}
	acc.Words = accuracyWords(acc.MAPE, acc.Backtests)
	return fc, acc, nil
}

func mean(xs []float64) float64 {
	m, _ := meanSD(xs)
	return m
}

// seasonalRatioMin is the shortest series the seasonal ratio forecasts: a
// year plus the three months it compares.
const seasonalRatioMin = 15

// seasonalRatio forecasts y by the same month a year earlier times the
// ratio of the last three months to the same months a year before (months
// more than a year ahead compound the ratio). Its intervals come from the
// spread of its own one-step errors in logs over the series, widening
// slowly with the horizon. It needs positive data over the compared months
// and at least three past errors.
func seasonalRatio(y []float64, horizon int) (forecast.Forecast, error) {
	n := len(y)
	if n < seasonalRatioMin {
		return forecast.Forecast{}, forecast.ErrTooShort
	}
	var errs []float64
	for k := seasonalRatioMin; k < n; k++ {
		if f, ok := ratioPoint(y, k, 1); ok && f > 0 && y[k] > 0 {
			errs = append(errs, math.Log(y[k]/f))
		}
	}
	if len(errs) < 3 {
		return forecast.Forecast{}, forecast.ErrTooShort
	}
	_, sd := meanSD(errs)
	fc := forecast.Forecast{Model: "Seasonal ratio"}
	for h := 1; h <= horizon; h++ {
		p, ok := ratioPoint(y, n, h)
		if !ok {
			return forecast.Forecast{}, forecast.ErrNotPositive
		}
		s := sd * math.Sqrt(1+float64(h-1)/12)
		fc.Point = append(fc.Point, p)
		fc.Lo80 = append(fc.Lo80, p*math.Exp(-z80*s))
		fc.Hi80 = append(fc.Hi80, p*math.Exp(z80*s))
		fc.Lo95 = append(fc.Lo95, p*math.Exp(-z95*s))
		fc.Hi95 = append(fc.Hi95, p*math.Exp(z95*s))
	}
	return fc, nil
}

// z95 is the standard normal quantile of a 95% central interval.
const z95 = 1.959963984540054

// ratioPoint is the seasonal ratio forecast h months after the first k
// values of y, and false when the compared months are not positive.
func ratioPoint(y []float64, k, h int) (float64, bool) {
	if k < seasonalRatioMin || k > len(y) {
		return 0, false
	}
	var now, before float64
	for i := k - 3; i < k; i++ {
		now += y[i]
		before += y[i-12]
	}
	if now <= 0 || before <= 0 {
		return 0, false
	}
	base := y[k-12+(h-1)%12]
	if base < 0 {
		return 0, false
	}
	return base * math.Pow(now/before, float64(1+(h-1)/12)), true
}

func round(x float64) int64 { return int64(math.Round(x)) }
