package insights

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/forecast"
	"github.com/phantomos/phantomos/internal/store"
)

// Forecast grains.
const (
	GrainMonth = store.GrainMonth
	GrainWeek  = store.GrainWeek
)

// MaxHorizon is the longest monthly forecast served, in months.
const MaxHorizon = 24

// MaxWeekHorizon is the longest weekly forecast served, in weeks.
const MaxWeekHorizon = 52

// forecastRevision names the forecasting rules. A stored forecast made
// under other rules is computed again rather than reused; change it when
// the methods or the shape of the stored answer change.
const forecastRevision = "2"

// grainSpec is how series of one grain are forecast, checked and
// described.
type grainSpec struct {
	name       string // month or week
	unit       string // the period in words: month, week
	season     int    // periods in a year
	maxHorizon int
	defHorizon int // the horizon when none is asked for
	// maxHistory is how many complete periods are read at most.
	maxHistory int
	// origins is how many recent periods the one-step-ahead backtests
	// forecast, each from the periods before it; minTrain is the least
	// history (since the series' first sale) a backtest forecasts from.
	origins, minTrain int
	// ratioWindow is how many recent periods the seasonal ratio compares
	// with the same periods a year before; ratioSmooth is the half-width of
	// the year-ago periods it averages for each forecast period (weeks
	// move against the calendar, and one week is noisy).
	ratioWindow, ratioSmooth int
}

var (
	monthly = grainSpec{name: GrainMonth, unit: "month", season: 12, maxHorizon: MaxHorizon, defHorizon: 6, maxHistory: maxMonths,
		origins: 6, minTrain: 12, ratioWindow: 3}
	weekly = grainSpec{name: GrainWeek, unit: "week", season: 52, maxHorizon: MaxWeekHorizon, defHorizon: 13, maxHistory: maxWeeks,
		origins: 13, minTrain: 8, ratioWindow: 8, ratioSmooth: 1}
)

// ratioMin is the shortest history the seasonal ratio forecasts from: a
// year plus the periods it compares.
func (g grainSpec) ratioMin() int { return g.season + g.ratioWindow }

// units is the plural of the grain's unit.
func (g grainSpec) units() string { return g.unit + "s" }

// grainOf returns the spec of grain name ("" is month).
func grainOf(name string) (grainSpec, error) {
	switch name {
	case GrainMonth, "":
		return monthly, nil
	case GrainWeek:
		return weekly, nil
	}
	return grainSpec{}, phantomos.Errorf(phantomos.EINVALID, "Unknown grain %q (field grain): use month or week.", name)
}

// DefaultHorizon returns the horizon served when none is asked for: six
// months or thirteen weeks; 0 for an unknown grain.
func DefaultHorizon(grain string) int {
	g, err := grainOf(grain)
	if err != nil {
		return 0
	}
	return g.defHorizon
}

// ForecastPoint is one forecast period, in minor units: the expected value
// and the 80% and 95% prediction intervals.
type ForecastPoint struct {
	// Period is the month ("2006-01") or the Monday starting the ISO week
	// ("2006-01-02").
	Period string `json:"period"`
	// Month repeats Period for monthly forecasts; Week is the ISO week of
	// a weekly one ("2026-W11").
	Month string `json:"month,omitempty"`
	Week  string `json:"week,omitempty"`
	Point int64  `json:"point"`
	Lo80  int64  `json:"lo80"`
	Hi80  int64  `json:"hi80"`
	Lo95  int64  `json:"lo95"`
	Hi95  int64  `json:"hi95"`
}

// PeriodAmount is one complete period of a forecast's history, in minor
// units; its period fields are those of ForecastPoint.
type PeriodAmount struct {
	Period string `json:"period"`
	Month  string `json:"month,omitempty"`
	Week   string `json:"week,omitempty"`
	Amount int64  `json:"amount"`
}

// Accuracy is how far off the engine's forecasts of the same series were,
// measured by rolling-origin backtests one period ahead.
type Accuracy struct {
	Backtests int `json:"backtests"`
	// MAPE is the mean absolute percentage error (0.08 = 8%), nil without
	// enough history.
	MAPE  *float64 `json:"mape"`
	Words string   `json:"words"`
}

// ForecastResult is a revenue forecast of one scope at one grain.
type ForecastResult struct {
	Scope    string `json:"scope"`
	ID       string `json:"id,omitempty"`
	Name     string `json:"name"`
	Currency string `json:"currency"`
	Grain    string `json:"grain"`
	Model    string `json:"model"`
	// History is the complete periods the forecast rests on (at most
	// three years); the period in progress is never part of it.
	History  []PeriodAmount  `json:"history"`
	Points   []ForecastPoint `json:"points"`
	Accuracy Accuracy        `json:"accuracy"`
	// Note explains a forecast that had to do with little or patchy
	// history ("too little history for a seasonal model").
	Note        string    `json:"note,omitempty"`
	GeneratedAt time.Time `json:"generated_at"`
}

// ForecastRequest names what to forecast.
type ForecastRequest struct {
	// Scope is total, game_ip, asset, category or channel; ID names the
	// game IP, asset, category or channel ("" for total).
	Scope, ID string
	// Grain is month (the default) or week.
	Grain string
	// Horizon is how many periods ahead: 1 to MaxHorizon months or 1 to
	// MaxWeekHorizon weeks; 0 is DefaultHorizon.
	Horizon int
}

// Forecast forecasts publisher pub's net revenue of one scope as of now,
// by month or by ISO week (Monday to Sunday) in the publisher's time zone:
// the whole business (scope "total"), a game IP, an asset (attributed
// revenue), a category or a channel, named by id. It reads the complete
// periods (at most three years; the month or week in progress is left
// out, as a partial period would look like a collapse) and measures the
// engine's accuracy on the same series.
//
// Forecasts are stored. A stored forecast is served again while the
// publisher's data version and the last complete period are the same as
// when it was made; it is computed to the grain's longest horizon, so that
// any shorter one is its beginning. An unknown scope, grain or category
// or a bad horizon is EINVALID; an id the publisher does not have is
// ENOTFOUND. Messages name the request field at fault.
func Forecast(ctx context.Context, s *store.Store, pub *phantomos.Publisher, now time.Time, req ForecastRequest) (*ForecastResult, error) {
	g, err := grainOf(req.Grain)
	if err != nil {
		return nil, err
	}
	h := req.Horizon
	if h == 0 {
		h = g.defHorizon
	}
	if h < 1 || h > g.maxHorizon {
		return nil, phantomos.Errorf(phantomos.EINVALID, "The horizon (field horizon) must be between 1 and %d %s (got %d).", g.maxHorizon, g.units(), h)
	}
	scope, id := req.Scope, req.ID
	switch scope {
	case store.ScopeTotal, store.ScopeGameIP, store.ScopeAsset, store.ScopeCategory, store.ScopeChannel:
	default:
		return nil, phantomos.Errorf(phantomos.EINVALID, "Unknown forecast scope %q (field scope): use total, game_ip, asset, category or channel.", scope)
	}
	switch {
	case scope == store.ScopeTotal:
		id = ""
	case id == "":
		return nil, phantomos.Errorf(phantomos.EINVALID, "A %s forecast needs the %s in the field id.", strings.ReplaceAll(scope, "_", " "), strings.ReplaceAll(scope, "_", " "))
	case scope == store.ScopeCategory && !slices.Contains(phantomos.Categories, id):
		return nil, phantomos.Errorf(phantomos.EINVALID, "Unknown category %q (field id): use %s.", id, strings.Join(phantomos.Categories, ", "))
	}

	today := phantomos.DayOf(now, pub.Location())
	version, err := s.DataVersion(ctx, pub.ID)
	if err != nil {
		return nil, err
	}
	basis := forecastBasis(g, today, pub)
	stored, err := s.StoredForecast(ctx, pub.ID, scope, id, g.name)
	switch {
	case err == nil && stored.DataVersion == version && stored.Basis == basis:
		if r, ok := fromStored(stored, pub, g); ok {
			return r.upTo(h), nil
		}
	case err != nil && phantomos.ErrorCode(err) != phantomos.ENOTFOUND:
		return nil, err
	}

	r, err := computeForecast(ctx, s, pub, now, g, scope, id)
	if err != nil {
		return nil, err
	}
	points, err := json.Marshal(r.Points)
	if err != nil {
		return nil, err
	}
	detail, err := json.Marshal(forecastDetail{Name: r.Name, History: r.History, Accuracy: r.Accuracy, Note: r.Note})
	if err != nil {
		return nil, err
	}
	err = s.SaveForecast(ctx, pub.ID, &store.Forecast{Scope: scope, ScopeID: id, Grain: g.name, Model: r.Model,
		Points: points, BacktestError: r.Accuracy.MAPE, GeneratedAt: r.GeneratedAt, DataVersion: version, Basis: basis, Detail: detail})
	if err != nil {
		return nil, err
	}
	return r.upTo(h), nil
}

// forecastBasis names what a forecast depends on besides the data: the
// rules, the last complete period, and the settings that shape the series.
func forecastBasis(g grainSpec, today phantomos.Day, pub *phantomos.Publisher) string {
	last := lastCompleteMonth(today)
	if g.name == GrainWeek {
		last = string(lastCompleteWeek(today))
	}
	return strings.Join([]string{"r" + forecastRevision, g.name, last, pub.Location().String(), pub.ReportingCurrency,
		pub.Settings.AttributionModel}, "|")
}

// forecastDetail is the part of a stored forecast the forecasts table has
// no column for.
type forecastDetail struct {
	Name     string         `json:"name"`
	History  []PeriodAmount `json:"history"`
	Accuracy Accuracy       `json:"accuracy"`
	Note     string         `json:"note,omitempty"`
}

// fromStored rebuilds the answer from a stored forecast; false when the
// stored one cannot be read (it is then computed again).
func fromStored(f *store.Forecast, pub *phantomos.Publisher, g grainSpec) (*ForecastResult, bool) {
	var d forecastDetail
	r := &ForecastResult{Scope: f.Scope, ID: f.ScopeID, Currency: pub.ReportingCurrency, Grain: g.name, Model: f.Model,
		GeneratedAt: f.GeneratedAt}
	if json.Unmarshal(f.Points, &r.Points) != nil || json.Unmarshal(f.Detail, &d) != nil || d.Name == "" || d.History == nil {
		return nil, false
	}
	r.Name, r.History, r.Accuracy, r.Note = d.Name, d.History, d.Accuracy, d.Note
	if r.Points == nil {
		r.Points = []ForecastPoint{}
	}
	return r, true
}

// upTo returns r with its first h points.
func (r *ForecastResult) upTo(h int) *ForecastResult {
	out := *r
	out.Points = r.Points[:min(h, len(r.Points))]
	return &out
}

// computeForecast forecasts a validated scope to the grain's longest
// horizon.
func computeForecast(ctx context.Context, s *store.Store, pub *phantomos.Publisher, now time.Time, g grainSpec, scope, id string) (*ForecastResult, error) {
	var (
		periods []string
		values  []int64
		name    string
	)
	if g.name == GrainWeek {
		ws, err := loadWeeks(ctx, s, pub, now, scope, id)
		if err != nil {
			return nil, err
		}
		periods, values, name = ws.weeks, ws.values, ws.name
	} else {
		d, err := load(ctx, s, pub, now)
		if err != nil {
			return nil, err
		}
		if values, name, err = d.scopeSeries(scope, id); err != nil {
			return nil, err
		}
		periods = d.months
	}
	r := &ForecastResult{Scope: scope, ID: id, Name: name, Currency: pub.ReportingCurrency, GeneratedAt: now.UTC().Truncate(time.Second)}
	if err := r.fill(g, periods, values); err != nil {
		return nil, err
	}
	return r, nil
}

// fill forecasts values, the complete periods of grain g named by periods,
// to the grain's longest horizon into r, which has its scope and name.
func (r *ForecastResult) fill(g grainSpec, periods []string, values []int64) error {
	r.Grain, r.History, r.Points = g.name, []PeriodAmount{}, []ForecastPoint{}
	for i, v := range values {
		r.History = append(r.History, g.amount(periods[i], v))
	}
	first := slices.IndexFunc(values, func(v int64) bool { return v != 0 })
	switch {
	case len(values) == 0:
		r.Model = "none"
		r.Accuracy.Words = fmt.Sprintf("No complete %s of sales yet: a forecast needs at least one.", g.unit)
		return nil
	case first < 0:
		r.Model = "none"
		r.Accuracy.Words = "No revenue in " + r.Name + " yet, so there is nothing to forecast."
		return nil
	}
	fc, acc, err := forecastSeries(values, g, g.maxHorizon)
	if err != nil {
		return err
	}
	r.Model, r.Accuracy = fc.Model, acc
	r.Note = historyNote(values[first:], g, fc.Model, r.Name)
	next := periods[len(periods)-1]
	for h := range g.maxHorizon {
		next = g.next(next)
		pt := ForecastPoint{Point: round(fc.Point[h]), Lo80: round(fc.Lo80[h]), Hi80: round(fc.Hi80[h]),
			Lo95: round(fc.Lo95[h]), Hi95: round(fc.Hi95[h])}
		pa := g.amount(next, 0)
		pt.Period, pt.Month, pt.Week = pa.Period, pa.Month, pa.Week
		r.Points = append(r.Points, pt)
	}
	return nil
}

// amount labels one period of the grain.
func (g grainSpec) amount(period string, v int64) PeriodAmount {
	if g.name == GrainWeek {
		return PeriodAmount{Period: period, Week: isoWeek(phantomos.Day(period)), Amount: v}
	}
	return PeriodAmount{Period: period, Month: period, Amount: v}
}

// next returns the period after p.
func (g grainSpec) next(p string) string {
	if g.name == GrainWeek {
		return string(addDays(phantomos.Day(p), 7))
	}
	return addMonths(p, 1)
}

// historyNote explains in words why a series gets no seasonal model, ""
// when it does. life is the series from its first sale on.
func historyNote(life []int64, g grainSpec, model, name string) string {
	n := len(life)
	var zeros int
	for _, v := range life {
		if v == 0 {
			zeros++
		}
	}
	plural := func(k int) string {
		if k == 1 {
			return "1 " + g.unit
		}
		return fmt.Sprintf("%d %s", k, g.units())
	}
	switch {
	case model == "Mean":
		return fmt.Sprintf("Too little history for a seasonal model: %s has sold for %s, so the forecast is the average %s so far, with wide ranges.",
			name, plural(n), g.unit)
	case strings.HasPrefix(model, "Croston"):
		return fmt.Sprintf("Too little history for a seasonal model: %s sold in %s only of the last %s, so the forecast is an average rate per %s (Croston's method for intermittent sales) and the range shows how far one %s can differ.",
			name, plural(n-zeros), plural(n), g.unit, g.unit)
	case n < g.ratioMin():
		return fmt.Sprintf("Too little history for a seasonal model: %s has sold for %s, and a yearly pattern needs at least %d; the forecast follows the recent level and trend.",
			name, plural(n), g.ratioMin())
	}
	return ""
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
			return nil, "", notFound("game IP", id)
		}
		return sumProducts(func(p *phantomos.Product) bool { return p.GameIPID == id }), name, nil
	case store.ScopeAsset:
		a, ok := d.assetBy[id]
		if !ok {
			return nil, "", notFound("asset", id)
		}
		return d.assetSeries()[a.ID], a.Name, nil
	case store.ScopeCategory:
		if !slices.Contains(phantomos.Categories, id) {
			return nil, "", phantomos.Errorf(phantomos.EINVALID, "Unknown category %q (field id).", id)
		}
		return sumProducts(func(p *phantomos.Product) bool { return p.Category == id }), titleWord(id), nil
	case store.ScopeChannel:
		v, ok := d.channels[id]
		if !ok {
			return nil, "", notFound("channel", id)
		}
		return netSeries(v), titleWord(id), nil
	}
	return nil, "", phantomos.Errorf(phantomos.EINVALID, "Unknown forecast scope %q (field scope).", scope)
}

// notFound is the error for an id (field id) the publisher does not have.
func notFound(what, id string) error {
	if what == "channel" {
		return phantomos.Errorf(phantomos.ENOTFOUND, "No sales through a channel %q (field id) in the last three years.", id)
	}
	return phantomos.Errorf(phantomos.ENOTFOUND, "No %s with id %q (field id).", what, id)
}

// forecastMonths forecasts a monthly series horizon months ahead; see
// forecastSeries.
func forecastMonths(values []int64, horizon int) (forecast.Forecast, Accuracy, error) {
	return forecastSeries(values, monthly, horizon)
}

// forecastSeries forecasts a series of grain g horizon periods ahead and
// measures the accuracy of the method chosen by rolling-origin backtests:
// from each of the last g.origins periods (six months, thirteen weeks) the
// periods before it forecast it one period ahead. Backtests start once the
// series has sold for g.minTrain periods, so that a product's launch does
// not count as a forecast error.
//
// Two methods compete on those backtests: the automatic engine
// (internal/forecast), which needs more than two years of data to model
// seasonality, and, from a year and a few periods on, a seasonal ratio:
// each period a year earlier scaled by how the last few periods compare
// with the same periods a year before, with intervals from its own past
// errors. The one with the smaller mean absolute percentage error wins, so
// a series with only a year or two of history still gets its holiday peak
// forecast. Short series (fewer than four periods since the first sale)
// get their mean with wide intervals and intermittent ones Croston's
// method, both from the automatic engine.
func forecastSeries(values []int64, g grainSpec, horizon int) (forecast.Forecast, Accuracy, error) {
	y := make([]float64, len(values))
	for i, v := range values {
		y[i] = float64(v)
	}
	n := len(y)
	first := slices.IndexFunc(y, func(v float64) bool { return v != 0 })
	if first < 0 {
		first = n
	}
	type method struct {
		fit  func([]float64, int) (forecast.Forecast, error)
		next func([]float64) (forecast.Forecast, bool) // one period ahead
		errs []float64                                 // absolute percentage errors
		z    []float64                                 // errors in units of the interval's spread
		ok   bool
	}
	auto := &method{fit: func(train []float64, h int) (forecast.Forecast, error) { return forecast.Auto(train, g.season, h) }, ok: true}
	auto.next = func(train []float64) (forecast.Forecast, bool) {
		f, err := forecast.Auto(train, g.season, 1)
		return f, err == nil
	}
	ratio := &method{fit: func(train []float64, h int) (forecast.Forecast, error) { return seasonalRatio(train, h, g) }, ok: n >= g.ratioMin()+3}
	ratio.next = func(train []float64) (forecast.Forecast, bool) {
		if f, err := seasonalRatio(train, 1, g); err == nil {
			return f, true
		}
		// Too few past errors for an interval yet: the point alone.
		p, ok := ratioPoint(train, len(train), 1, g)
		return forecast.Forecast{Point: []float64{p}}, ok
	}
	start := max(first+g.minTrain, n-g.origins)
	if ratio.ok {
		start = max(start, g.ratioMin())
	}
	for k := start; k < n; k++ {
		for _, m := range []*method{auto, ratio} {
			if !m.ok {
				continue
			}
			f, ok := m.next(y[:k])
			if !ok {
				m.ok = false
				continue
			}
			if y[k] > 0 {
				m.errs = append(m.errs, math.Abs(f.Point[0]-y[k])/y[k])
			}
			if z, ok := spreadError(f, y[k]); ok {
				m.z = append(m.z, z)
			}
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
	calibrate(&fc, best.z)
	acc := Accuracy{Backtests: len(best.errs)}
	if len(best.errs) >= 3 {
		m := math.Round(mean(best.errs)*10000) / 10000
		acc.MAPE = &m
	}
	acc.Words = accuracyWords(acc.MAPE, acc.Backtests, g)
	return fc, acc, nil
}

// spreadError measures how far y fell from a one-step forecast in units of
// its interval: the distance from the point divided by the 80% interval's
// half-width on that side, times the normal quantile, so that errors of a
// well-calibrated interval have a mean square of about one.
func spreadError(f forecast.Forecast, y float64) (float64, bool) {
	if len(f.Hi80) == 0 {
		return 0, false
	}
	p, half := f.Point[0], f.Hi80[0]-f.Point[0]
	if y < p {
		half = p - f.Lo80[0]
	}
	if !(half > 0) {
		return 0, false
	}
	return z80 * (y - p) / half, true
}

// Bounds of the interval calibration.
const (
	// calibrateMin is the least number of backtests that can widen
	// intervals.
	calibrateMin = 5
	// calibrateMax caps the widening.
	calibrateMax = 3.0
)

// calibrate widens the intervals of fc when its method's one-step
// backtests fell outside them more than their nominal coverage allows:
// each half-width is multiplied by the root mean square of the backtest
// errors in units of the interval's spread (see spreadError), when that
// exceeds one. The models' own intervals assume the model is right; on
// sales with a holiday ramp that a short history cannot show as a season,
// it is not, and the backtests say by how much. Intervals are never
// narrowed, and a lower bound at or above zero stays there.
func calibrate(fc *forecast.Forecast, z []float64) {
	if len(z) < calibrateMin {
		return
	}
	var ss float64
	for _, v := range z {
		ss += v * v
	}
	k := math.Min(math.Sqrt(ss/float64(len(z))), calibrateMax)
	if !(k > 1) {
		return
	}
	widen := func(p, bound float64) float64 {
		w := p + k*(bound-p)
		if bound >= 0 && w < 0 {
			return 0
		}
		return w
	}
	for i, p := range fc.Point {
		fc.Lo80[i], fc.Hi80[i] = widen(p, fc.Lo80[i]), widen(p, fc.Hi80[i])
		fc.Lo95[i], fc.Hi95[i] = widen(p, fc.Lo95[i]), widen(p, fc.Hi95[i])
	}
}

func mean(xs []float64) float64 {
	m, _ := meanSD(xs)
	return m
}

// seasonalRatio forecasts y by the same period a year earlier times the
// ratio of the last few periods to the same periods a year before (periods
// more than a year ahead compound the ratio). Its intervals come from the
// spread of its own one-step errors in logs over the series, widening
// slowly with the horizon. It needs positive data over the compared
// periods and at least three past errors.
func seasonalRatio(y []float64, horizon int, g grainSpec) (forecast.Forecast, error) {
	n := len(y)
	if n < g.ratioMin() {
		return forecast.Forecast{}, forecast.ErrTooShort
	}
	var errs []float64
	for k := g.ratioMin(); k < n; k++ {
		if f, ok := ratioPoint(y, k, 1, g); ok && f > 0 && y[k] > 0 {
			errs = append(errs, math.Log(y[k]/f))
		}
	}
	if len(errs) < 3 {
		return forecast.Forecast{}, forecast.ErrTooShort
	}
	_, sd := meanSD(errs)
	fc := forecast.Forecast{Model: "Seasonal ratio"}
	for h := 1; h <= horizon; h++ {
		p, ok := ratioPoint(y, n, h, g)
		if !ok {
			return forecast.Forecast{}, forecast.ErrNotPositive
		}
		s := sd * math.Sqrt(1+float64(h-1)/float64(g.season))
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

// ratioPoint is the seasonal ratio forecast h periods after the first k
// values of y, and false when the compared periods are not positive.
func ratioPoint(y []float64, k, h int, g grainSpec) (float64, bool) {
	m, w := g.season, g.ratioWindow
	if k < g.ratioMin() || k > len(y) {
		return 0, false
	}
	var now, before float64
	for i := k - w; i < k; i++ {
		now += y[i]
		before += y[i-m]
	}
	if now <= 0 || before <= 0 {
		return 0, false
	}
	j := k - m + (h-1)%m
	var base float64
	var cnt int
	for i := max(0, j-g.ratioSmooth); i <= min(k-1, j+g.ratioSmooth); i++ {
		base += y[i]
		cnt++
	}
	base /= float64(cnt)
	if base < 0 {
		return 0, false
	}
	return base * math.Pow(now/before, float64(1+(h-1)/m)), true
}

func round(x float64) int64 { return int64(math.Round(x)) }
