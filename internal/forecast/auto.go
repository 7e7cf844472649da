package forecast

import (
	"math"
	"sort"
	"strings"
)

// Thresholds of the automatic engine.
const (
	// minModelLength is the shortest series given fitted models; shorter
	// ones get the mean with wide intervals.
	minModelLength = 4
	// intermittentShare is the share of zero periods from which non-negative
	// data is treated as intermittent demand.
	intermittentShare = 0.3
)

// Auto forecasts values horizon steps ahead with the automatic engine:
//
//   - Leading zeros of non-negative data are dropped (the product did not
//     exist yet), and an all-zero series is forecast as zero.
//   - Fewer than 4 observations: the mean, with wide intervals.
//   - Non-negative data with at least 30% zero periods: Croston-SBA.
//   - Otherwise the series is tested for seasonality (lag-season
//     autocorrelation, 90%, as for Theta in M3; needs more than two full
//     seasons). Additive-error ETS models with no or a damped trend, and
//     additive or (for positive data) multiplicative seasonality when the
//     test finds it, none otherwise, are fitted; their forecasts, averaged
//     with Akaike weights (exp(-ΔAICc/2)), are averaged with the Theta
//     method, equally up to 6 steps ahead, with Theta's weight rising to
//     3/4 by 18 steps. This combination beat each of its parts and the
//     other rules tried on the M3 monthly and quarterly series (see
//     EvalAll with CompareRules and Validation).
//
// Intervals: each model's interval is the wider of its analytical one and
// one from the spread of its own in-sample multi-step errors (with their
// empirical tail quantiles, corrected for the parameters fitted to the
// same data: see dfScaled); the combination averages the bounds and adds
// the models' disagreement as mixture variance. Forecasts of non-negative
// data are never negative.
//
// season is the cycle length (12 monthly, 52 weekly; 0 or 1 for none);
// seasonal models need more than two full cycles of data.
func Auto(values []float64, season, horizon int) (Forecast, error) {
	if err := checkInput(values, season, horizon); err != nil {
		return Forecast{}, err
	}
	return autoRules(values, season, horizon, ruleDefault)[0], nil
}

// rule combines the candidate forecasts of a long enough series.
type rule func(c *candidates) Forecast

// autoRules is Auto on validated input with the combination rule as a
// parameter, so that the evaluation can compare rules on the same fits. It
// returns one forecast per rule.
func autoRules(values []float64, season, h int, rules ...rule) []Forecast {
	out := make([]Forecast, len(rules))
	nonNeg := allNonNegative(values)
	y := values
	if nonNeg {
		first := 0
		for first < len(y) && y[first] == 0 {
			first++
		}
		y = y[first:]
	}
	var c *candidates
	for i, r := range rules {
		var f Forecast
		switch {
		case len(y) == 0:
			f = newForecast("Zero", h)
		case len(y) < minModelLength:
			f = meanForecast(y, h)
		case nonNeg && zeroShare(y) >= intermittentShare:
			f, _ = Croston(y, h)
		default:
			if c == nil {
				c = newCandidates(y, season, h)
			}
			f = r(c)
		}
		f = f.clone()
		if nonNeg {
			f.clampNonNegative()
		}
		out[i] = f
	}
	return out
}

// zeroShare returns the share of zero values in y.
func zeroShare(y []float64) float64 {
	var z int
	for _, v := range y {
		if v == 0 {
			z++
		}
	}
	return float64(z) / float64(len(y))
}

// candidates holds the models fitted to one series, fitted lazily so that a
// rule pays only for what it uses.
type candidates struct {
	y   []float64
	m   int // season length, 0 when the series cannot be seasonal
	h   int
	pos bool

	ets      *ETSModel
	fits     []*ETSModel // every model fitted by bestETS
	avgFcast *Forecast
	sa       *deseason
	theta    *Forecast
	etsFcast *Forecast
	logFcast *Forecast
}

// newCandidates prepares the candidates for y with season m.
func newCandidates(y []float64, m, h int) *candidates {
	if m < 2 || len(y) < 2*m {
		m = 0
	}
	return &candidates{y: y, m: m, h: h, pos: allPositive(y)}
}

// etsSpecs lists the ETS models Auto considers for the data. All have
// additive errors (on M3, selecting among multiplicative-error models by
// AICc lost accuracy) and either no trend or a damped one (undamped trends
// extrapolated over long horizons were the largest source of error).
// Seasonal models need two full seasons; multiplicative seasonality needs
// positive data.
func (c *candidates) etsSpecs() []ETSSpec {
	seasons := []SeasonKind{NoSeason}
	if c.m >= 2 {
		seasons = append(seasons, AdditiveSeason)
		if c.pos {
			seasons = append(seasons, MultiplicativeSeason)
		}
	}
	var specs []ETSSpec
	n := len(c.y)
	for _, t := range []TrendKind{NoTrend, DampedTrend} {
		for _, s := range seasons {
			spec := ETSSpec{Trend: t, Season: s}
			m := 1
			if s != NoSeason {
				m = c.m
			}
			// AICc needs more observations than parameters plus one.
			if k := spec.numSmoothing() + spec.numStates(m) + 1; n <= k+1 {
				continue
			}
			specs = append(specs, spec)
		}
	}
	return specs
}

// seasonal decides whether the decomposition-based methods (Theta) adjust
// for seasonality: when the 90% seasonality test finds it, as in M3, or
// when the ETS model chosen by AICc is seasonal. The test alone misses
// strong seasonality in short or trending series (three years of monthly
// sales); letting the likelihood overrule it also scored better on M3.
func (c *candidates) seasonal() bool {
	if c.m < 2 {
		return false
	}
	return seasonalityTest(c.y, c.m) || c.bestETS().Spec.Season != NoSeason
}

// bestETS fits every admissible ETS model and returns the one with the
// lowest AICc.
func (c *candidates) bestETS() *ETSModel {
	if c.ets != nil {
		return c.ets
	}
	for _, spec := range c.etsSpecs() {
		m := 1
		if spec.Season != NoSeason {
			m = c.m
		}
		mod := fitETS(c.y, m, spec)
		c.fits = append(c.fits, mod)
		if c.ets == nil || mod.AICc < c.ets.AICc {
			c.ets = mod
		}
	}
	if c.ets == nil {
		// Too short for AICc: simple exponential smoothing.
		c.ets = fitETS(c.y, 1, ETSSpec{})
	}
	return c.ets
}

// etsForecast returns the forecast of the best ETS model.
func (c *candidates) etsForecast() Forecast {
	if c.etsFcast == nil {
		mod := c.bestETS()
		f, _ := mod.Forecast(c.h)
		f.widen(mod.empiricalSD(c.h))
		c.etsFcast = &f
	}
	return *c.etsFcast
}

// logETSForecast returns the forecast of the best ETS model by AICc fitted
// to the logs of a positive series (a multiplicative model, whose trend
// compounds and whose errors scale with the level), transformed back: the
// point is the median. For a series with a zero or negative value it is
// the ETS forecast.
func (c *candidates) logETSForecast() Forecast {
	if c.logFcast != nil {
		return *c.logFcast
	}
	if !c.pos {
		f := c.etsForecast()
		c.logFcast = &f
		return f
	}
	ly := make([]float64, len(c.y))
	for i, v := range c.y {
		ly[i] = math.Log(v)
	}
	lc := &candidates{y: ly, m: c.m, h: c.h}
	f := lc.etsForecast()
	f = f.clone()
	for _, s := range [][]float64{f.Point, f.Lo80, f.Hi80, f.Lo95, f.Hi95} {
		for i, v := range s {
			s[i] = math.Exp(math.Min(v, 700))
		}
	}
	f.Model = "log " + f.Model
	c.logFcast = &f
	return f
}

// adjusted returns the seasonal adjustment used by Theta and the
// decomposition-based methods.
func (c *candidates) adjusted() deseason {
	if c.sa == nil {
		d := adjustSeason(c.y, c.m, c.seasonal())
		c.sa = &d
	}
	return *c.sa
}

// thetaForecast returns the Theta forecast.
func (c *candidates) thetaForecast() Forecast {
	if c.theta == nil {
		f := theta(c.y, c.adjusted(), c.h)
		c.theta = &f
	}
	return *c.theta
}

// adjustedETS forecasts the seasonally adjusted series with spec and puts
// the season back (the M3 "SINGLE", "HOLT" and "DAMPEN" benchmarks).
func (c *candidates) adjustedETS(spec ETSSpec, name string) Forecast {
	d := c.adjusted()
	f, _ := fitETS(d.adj, 1, spec).Forecast(c.h)
	d.reseason(&f, len(c.y))
	f.Model = name
	return f
}

// Horizons of the combination weights: up to shortHorizon steps ETS and
// Theta weigh the same; Theta's weight then rises linearly to
// longThetaWeight at longHorizon steps and stays there.
const (
	shortHorizon    = 6
	longHorizon     = 18
	longThetaWeight = 0.75
)

// ruleDefault is the rule Auto uses: the best ETS model by AICc averaged
// with Theta, Theta weighing more at long horizons. On the M3 monthly
// series' training parts (each forecast over its own last 18 months), the
// equal average was best up to six months ahead, but Theta alone beat it
// from 13 months on (MASE 1.061 against 1.083): the ETS model chosen by
// AICc extrapolates its damped trend and season further than the data
// bears. Shifting the weight to 3/4 Theta by 18 months kept the short
// horizons and nearly all of Theta's long-horizon gain, with the same
// interval coverage; all the way to Theta alone cost sMAPE.
//
// The ETS part is the AICc-weighted average of the ETS models rather than
// the single best one: on the training parts it lowered MASE at 13–18
// months (1.062 to 1.058), at 5–8 quarters (1.442 to 1.432) and on the
// classic series, at the same coverage.
func ruleDefault(c *candidates) Forecast {
	return horizonWeighted(longThetaWeight, true)(c)
}

// horizonWeighted returns the rule combining the best ETS model (or, with
// avg, the AICc-weighted average of the ETS models) and Theta with Theta's
// weight one half up to shortHorizon steps, rising linearly to last at
// longHorizon steps.
func horizonWeighted(last float64, avg bool) rule {
	return func(c *candidates) Forecast {
		ets := c.etsForecast
		if avg {
			ets = c.etsAverage
		}
		return combineWeighted([]Forecast{ets(), c.thetaForecast()}, func(k, i int) float64 {
			ramp := math.Min(1, math.Max(0, float64(i+1-shortHorizon)/float64(longHorizon-shortHorizon)))
			theta := 0.5 + (last-0.5)*ramp
			if k == 1 {
				return theta
			}
			return 1 - theta
		})
	}
}

// combine averages forecasts step by step, bounds included. Averaging the
// bounds is the quantile average of the forecasts' predictive
// distributions.
func combine(fs ...Forecast) Forecast {
	if len(fs) == 1 {
		return fs[0]
	}
	w := 1 / float64(len(fs))
	return combineWeighted(fs, func(int, int) float64 { return w })
}

// combineWeighted is combine with weight w(k, i) for forecast k at step i
// (the weights of a step sum to one).
func combineWeighted(fs []Forecast, w func(k, i int) float64) Forecast {
	h := len(fs[0].Point)
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Model
	}
	out := newForecast(strings.Join(names, "+"), h)
	for k, f := range fs {
		for i := range h {
			w := w(k, i)
			out.Point[i] += w * f.Point[i]
			out.Lo80[i] += w * f.Lo80[i]
			out.Hi80[i] += w * f.Hi80[i]
			out.Lo95[i] += w * f.Lo95[i]
			out.Hi95[i] += w * f.Hi95[i]
		}
	}
	// The models' disagreement is uncertainty too: treat the combination
	// as a mixture and add the variance of the points to each half-width.
	for i := range h {
		var v float64
		for k, f := range fs {
			d := f.Point[i] - out.Point[i]
			v += w(k, i) * d * d
		}
		p := out.Point[i]
		grow := func(lo, hi *float64, z float64) {
			*lo = p - math.Sqrt((p-*lo)*(p-*lo)+z*z*v)
			*hi = p + math.Sqrt((*hi-p)*(*hi-p)+z*z*v)
		}
		grow(&out.Lo80[i], &out.Hi80[i], z80)
		grow(&out.Lo95[i], &out.Hi95[i], z95)
	}
	return out
}

// combineMedian takes the step-by-step median of forecasts, bounds included.
func combineMedian(fs ...Forecast) Forecast {
	h := len(fs[0].Point)
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Model
	}
	out := newForecast("Median("+strings.Join(names, "+")+")", h)
	buf := make([]float64, len(fs))
	med := func(get func(Forecast) []float64, i int) float64 {
		for j, f := range fs {
			buf[j] = get(f)[i]
		}
		sort.Float64s(buf)
		k := len(buf)
		if k%2 == 1 {
			return buf[k/2]
		}
		return (buf[k/2-1] + buf[k/2]) / 2
	}
	for i := range h {
		out.Point[i] = med(func(f Forecast) []float64 { return f.Point }, i)
		out.Lo80[i] = med(func(f Forecast) []float64 { return f.Lo80 }, i)
		out.Hi80[i] = med(func(f Forecast) []float64 { return f.Hi80 }, i)
		out.Lo95[i] = med(func(f Forecast) []float64 { return f.Lo95 }, i)
		out.Hi95[i] = med(func(f Forecast) []float64 { return f.Hi95 }, i)
	}
	return out
}

// clone returns a deep copy of f, so that cached candidate forecasts are
// never changed through a returned one.
func (f Forecast) clone() Forecast {
	out := newForecast(f.Model, len(f.Point))
	copy(out.Point, f.Point)
	copy(out.Lo80, f.Lo80)
	copy(out.Hi80, f.Hi80)
	copy(out.Lo95, f.Lo95)
	copy(out.Hi95, f.Hi95)
	return out
}

// isFinite reports whether every value of f is finite.
func (f Forecast) isFinite() bool {
	for _, s := range [][]float64{f.Point, f.Lo80, f.Hi80, f.Lo95, f.Hi95} {
		for _, v := range s {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return false
			}
		}
	}
	return true
}

// etsAverage returns the forecasts of every ETS model fitted by bestETS,
// averaged with their Akaike weights exp(-ΔAICc/2) (models below 1/1000
// of the best one's weight left out), bounds included, with the models'
// disagreement added as mixture variance. Averaging hedges the choice
// between damped and flat trends and between seasonal forms that AICc
// makes on little evidence; on the M3 training parts (held-out last 18
// months and 8 quarters) and the classic series it beat the single best
// model at every horizon block.
func (c *candidates) etsAverage() Forecast {
	if c.avgFcast != nil {
		return *c.avgFcast
	}
	best := c.bestETS()
	if len(c.fits) < 2 {
		f := c.etsForecast()
		c.avgFcast = &f
		return f
	}
	type weighted struct {
		f    Forecast
		w    float64
		code string
	}
	var parts []weighted
	var tot float64
	for _, mod := range c.fits {
		w := math.Exp(-0.5 * (mod.AICc - best.AICc))
		if !(w > 1e-3) {
			continue
		}
		f, _ := mod.Forecast(c.h)
		f.widen(mod.empiricalSD(c.h))
		code := mod.Spec.String()
		parts = append(parts, weighted{f, w, code[len("ETS(") : len(code)-1]})
		tot += w
	}
	sort.SliceStable(parts, func(i, j int) bool { return parts[i].w > parts[j].w })
	fs := make([]Forecast, len(parts))
	var codes []string
	for i, p := range parts {
		fs[i] = p.f
		if p.w/tot >= 0.1 {
			codes = append(codes, p.code)
		}
	}
	f := combineWeighted(fs, func(k, i int) float64 { return parts[k].w / tot })
	// The models holding at least a tenth of the weight, heaviest first:
	// "ETS(AAdA/ANA)".
	f.Model = "ETS(" + strings.Join(codes, "/") + ")"
	c.avgFcast = &f
	return f
}
