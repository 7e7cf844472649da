package forecast

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/optimize"
)

// ErrorKind is the error term of an exponential smoothing (ETS) model.
type ErrorKind uint8

// Error terms. Both give the same point forecasts for the same parameters;
// they differ in the likelihood that fits the parameters (absolute or
// relative one-step errors) and in how intervals scale with the level.
const (
	AdditiveError ErrorKind = iota
	MultiplicativeError
)

// TrendKind is the trend component of an ETS model.
type TrendKind uint8

// Trend components.
const (
	NoTrend TrendKind = iota
	AdditiveTrend
	DampedTrend // additive trend damped by Phi, flattening out with the horizon
)

// SeasonKind is the seasonal component of an ETS model.
type SeasonKind uint8

// Seasonal components.
const (
	NoSeason SeasonKind = iota
	AdditiveSeason
	MultiplicativeSeason
)

// ETSSpec names an exponential smoothing model in the ETS taxonomy of
// Hyndman et al. (2008): error, trend and seasonal components.
type ETSSpec struct {
	Error  ErrorKind
	Trend  TrendKind
	Season SeasonKind
}

// String returns the model in compact ETS notation (error, trend, season),
// for example "ETS(MAdN)"; it has no commas, so it needs no quoting in CSV.
func (s ETSSpec) String() string {
	e := [...]string{"A", "M"}[s.Error&1]
	t := [...]string{"N", "A", "Ad"}[min(int(s.Trend), 2)]
	se := [...]string{"N", "A", "M"}[min(int(s.Season), 2)]
	return "ETS(" + e + t + se + ")"
}

// multiplicative reports whether the model needs strictly positive data.
func (s ETSSpec) multiplicative() bool {
	return s.Error == MultiplicativeError || s.Season == MultiplicativeSeason
}

// numStates counts the initial states: level, slope and m-1 free seasonal
// states (the last is fixed by normalisation).
func (s ETSSpec) numStates(m int) int {
	k := 1
	if s.Trend != NoTrend {
		k++
	}
	if s.Season != NoSeason {
		k += m - 1
	}
	return k
}

// numSmoothing counts the smoothing parameters (alpha, beta, gamma, phi).
func (s ETSSpec) numSmoothing() int {
	k := 1
	if s.Trend != NoTrend {
		k++
	}
	if s.Trend == DampedTrend {
		k++
	}
	if s.Season != NoSeason {
		k++
	}
	return k
}

// ETSModel is an exponential smoothing model fitted to a series. Its fields
// describe the fit; Forecast extrapolates it.
type ETSModel struct {
	// Spec is the model form.
	Spec ETSSpec
	// Period is the season length used (1 when the model is not seasonal).
	Period int
	// Alpha, Beta, Gamma and Phi are the smoothing parameters of the level,
	// slope and season and the damping factor, in the error-correction
	// form: 0 < Beta < Alpha, 0 < Gamma < 1-Alpha, 0.8 <= Phi <= 0.98.
	// Parameters a model does not have are 0 (Phi is 1 for an undamped
	// trend).
	Alpha, Beta, Gamma, Phi float64
	// Level and Slope are the states after the last observation.
	Level, Slope float64
	// Seasonal holds the seasonal states after the last observation,
	// rotated so that Seasonal[j] applies to forecast step j+1 (modulo
	// Period).
	Seasonal []float64
	// Sigma is the standard deviation of the one-step errors: in data units
	// for additive errors, relative to the fitted value for multiplicative
	// ones.
	Sigma float64
	// LogLik is the maximised Gaussian log-likelihood.
	LogLik float64
	// AICc is Akaike's information criterion corrected for small samples,
	// comparable across ETS models fitted to the same data.
	AICc float64
	// N is the number of observations fitted.
	N int

	y    []float64 // the data, for the empirical intervals
	s0   []float64 // initial seasonal states
	path *etsPath  // states along the data
}

// FitETS fits the model spec to values by maximum likelihood, optimising
// the smoothing parameters and the initial level and slope with
// Nelder-Mead; the initial seasonal states come from a classical
// decomposition of the first cycles. Seasonal models need season >= 2 and
// two full cycles of data; models with a multiplicative component need
// positive data.
func FitETS(values []float64, season int, spec ETSSpec) (*ETSModel, error) {
	if err := checkInput(values, season, 1); err != nil {
		return nil, err
	}
	if spec.Error > MultiplicativeError || spec.Trend > DampedTrend || spec.Season > MultiplicativeSeason {
		return nil, fmt.Errorf("forecast: invalid ETS spec %v", spec)
	}
	m := 1
	if spec.Season != NoSeason {
		if season < 2 {
			return nil, fmt.Errorf("forecast: %v needs a season length of at least 2, got %d", spec, season)
		}
		m = season
		if len(values) < 2*m {
			return nil, fmt.Errorf("%w: %v needs two seasons (%d values), got %d", ErrTooShort, spec, 2*m, len(values))
		}
	}
	if need := spec.numSmoothing() + 2; len(values) < need {
		return nil, fmt.Errorf("%w: %v needs %d values, got %d", ErrTooShort, spec, need, len(values))
	}
	if spec.multiplicative() && !allPositive(values) {
		return nil, fmt.Errorf("%w: %v", ErrNotPositive, spec)
	}
	return fitETS(values, m, spec), nil
}

// etsParams is one point of the parameter space.
type etsParams struct {
	alpha, beta, gamma, phi float64
	l0, b0                  float64
}

// etsCore holds what the likelihood needs, allocated once per fit.
type etsCore struct {
	y      []float64
	m      int
	spec   ETSSpec
	s0     []float64 // initial seasonal states, index t%m
	s      []float64 // work buffer for the seasonal states
	l0, b0 float64   // heuristic initial level and slope
	scaleL float64   // scale of the level offset in the optimiser's space
	scaleB float64   // scale of the slope offset
}

// penalty is the objective of an inadmissible parameter point.
const penalty = 1e100

// etsPath records the states along the data: after observation t the level
// is level[t], the slope slope[t], and the seasonal state written for
// position t%m is season[t].
type etsPath struct {
	level, slope, season []float64
}

// filter runs the model over the data. It returns the sum of squared
// one-step errors (relative errors for multiplicative error models), the sum
// of log |fitted| and the final level and slope, leaving the final seasonal
// states in c.s. If resid is not nil it receives the one-step errors; if
// path is not nil it receives the states.
func (c *etsCore) filter(p etsParams, resid []float64, path *etsPath) (sse, sumLog, l, b float64, ok bool) {
	copy(c.s, c.s0)
	l, b = p.l0, p.b0
	phi := p.phi
	trend, season, multErr := c.spec.Trend, c.spec.Season, c.spec.Error == MultiplicativeError
	m := c.m
	j := 0
	for t, y := range c.y {
		var tb float64
		if trend != NoTrend {
			tb = phi * b
		}
		base := l + tb
		s := 0.0
		yhat := base
		switch season {
		case AdditiveSeason:
			s = c.s[j]
			yhat = base + s
		case MultiplicativeSeason:
			s = c.s[j]
			if !(base > 0) || !(s > 0) {
				return 0, 0, 0, 0, false
			}
			yhat = base * s
		}
		e := y - yhat
		if multErr {
			if !(yhat > 0) {
				return 0, 0, 0, 0, false
			}
			r := e / yhat
			sse += r * r
			sumLog += math.Log(yhat)
		} else {
			sse += e * e
		}
		if resid != nil {
			resid[t] = e
		}
		switch season {
		case NoSeason:
			l = base + p.alpha*e
			if trend != NoTrend {
				b = tb + p.beta*e
			}
		case AdditiveSeason:
			l = base + p.alpha*e
			if trend != NoTrend {
				b = tb + p.beta*e
			}
			c.s[j] = s + p.gamma*e
		case MultiplicativeSeason:
			l = base + p.alpha*e/s
			if trend != NoTrend {
				b = tb + p.beta*e/s
			}
			c.s[j] = s + p.gamma*e/base
		}
		if path != nil {
			path.level[t], path.slope[t], path.season[t] = l, b, c.s[j]
		}
		j++
		if j == m {
			j = 0
		}
	}
	if math.IsNaN(sse) || math.IsInf(sse, 0) || math.IsNaN(l) || math.IsInf(l, 0) {
		return 0, 0, 0, 0, false
	}
	return sse, sumLog, l, b, true
}

// objective is -2 log-likelihood up to a constant: n log(SSE/n), plus
// 2 sum log|fitted| for multiplicative errors.
func (c *etsCore) objective(p etsParams) float64 {
	sse, sumLog, _, _, ok := c.filter(p, nil, nil)
	if !ok {
		return penalty
	}
	n := float64(len(c.y))
	if sse <= 0 {
		sse = 1e-300
	}
	return n*math.Log(sse/n) + 2*sumLog
}

// logistic maps the real line onto (0, 1).
func logistic(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// logit is the inverse of logistic.
func logit(p float64) float64 { return math.Log(p / (1 - p)) }

// Bounds of the smoothing parameters.
const (
	minSmooth = 1e-4
	maxAlpha  = 0.9999
	minPhi    = 0.8
	maxPhi    = 0.98
)

// decode maps the optimiser's unconstrained vector onto admissible
// parameters: each bounded parameter goes through a logistic transform, so
// Nelder-Mead never leaves the admissible region.
func (c *etsCore) decode(x []float64) etsParams {
	p := etsParams{phi: 1, l0: c.l0, b0: c.b0}
	i := 0
	p.alpha = minSmooth + (maxAlpha-minSmooth)*logistic(x[i])
	i++
	if c.spec.Trend != NoTrend {
		p.beta = p.alpha * logistic(x[i])
		i++
	}
	if c.spec.Season != NoSeason {
		p.gamma = (1 - p.alpha) * logistic(x[i])
		i++
	}
	if c.spec.Trend == DampedTrend {
		p.phi = minPhi + (maxPhi-minPhi)*logistic(x[i])
		i++
	}
	p.l0 += c.scaleL * x[i]
	i++
	if c.spec.Trend != NoTrend {
		p.b0 += c.scaleB * x[i]
	} else {
		p.b0 = 0
	}
	return p
}

// encode is the inverse of decode for the starting point.
func (c *etsCore) encode(p etsParams) []float64 {
	x := make([]float64, 0, 6)
	x = append(x, logit((p.alpha-minSmooth)/(maxAlpha-minSmooth)))
	if c.spec.Trend != NoTrend {
		x = append(x, logit(p.beta/p.alpha))
	}
	if c.spec.Season != NoSeason {
		x = append(x, logit(p.gamma/(1-p.alpha)))
	}
	if c.spec.Trend == DampedTrend {
		x = append(x, logit((p.phi-minPhi)/(maxPhi-minPhi)))
	}
	x = append(x, 0)
	if c.spec.Trend != NoTrend {
		x = append(x, 0)
	}
	return x
}

// initialStates sets the heuristic initial states: seasonal indices from a
// classical decomposition of the first cycles, then level and slope from a
// regression on the first seasonally adjusted values.
func (c *etsCore) initialStates() {
	y, m := c.y, c.m
	n := len(y)
	c.s0 = make([]float64, m)
	c.s = make([]float64, m)
	adj := y
	if c.spec.Season != NoSeason {
		mult := c.spec.Season == MultiplicativeSeason
		k := min(n, 3*m)
		copy(c.s0, seasonalIndices(y[:k], m, mult))
		adj = make([]float64, n)
		for t, v := range y {
			if mult {
				adj[t] = v / c.s0[t%m]
			} else {
				adj[t] = v - c.s0[t%m]
			}
		}
	}
	k := min(max(10, 2*m), n)
	if c.spec.Trend != NoTrend {
		c.l0, c.b0 = linearFit(adj[:k])
	} else {
		c.l0 = mean(adj[:k])
	}
	sd := stddev(adj[:k])
	if sd == 0 {
		sd = 1e-3 * (math.Abs(c.l0) + 1e-9)
	}
	c.scaleL = sd
	c.scaleB = sd / float64(k)
	if c.spec.Season == MultiplicativeSeason && c.l0 <= 0 {
		c.l0 = mean(adj[:k])
	}
}

// stddev returns the sample standard deviation of y (0 below two values).
func stddev(y []float64) float64 {
	if len(y) < 2 {
		return 0
	}
	m := mean(y)
	var s float64
	for _, v := range y {
		s += (v - m) * (v - m)
	}
	return math.Sqrt(s / float64(len(y)-1))
}

// fitETS fits a validated model; m is 1 for non-seasonal specs.
func fitETS(y []float64, m int, spec ETSSpec) *ETSModel {
	c := &etsCore{y: y, m: m, spec: spec}
	c.initialStates()
	start := etsParams{alpha: 0.3, beta: 0.03, gamma: 0.07, phi: 0.95}
	if spec.Season != NoSeason {
		start.alpha = 0.2
		start.beta = 0.02
	}
	x0 := c.encode(start)
	p := c.decode(x0)
	if res, err := minimizeNM(func(x []float64) float64 { return c.objective(c.decode(x)) }, x0); err == nil {
		p = c.decode(res)
	}
	return c.model(p)
}

// minimizeNM minimises f from x0 with gonum's Nelder-Mead.
func minimizeNM(f func([]float64) float64, x0 []float64) ([]float64, error) {
	prob := optimize.Problem{Func: f}
	// The objective is -2 log-likelihood: improvements below 1e-4 change
	// neither the model choice nor the forecasts.
	settings := &optimize.Settings{
		Converger:       &optimize.FunctionConverge{Absolute: 1e-4, Iterations: 10 * len(x0)},
		FuncEvaluations: 400 * len(x0),
	}
	res, err := optimize.Minimize(prob, x0, settings, &optimize.NelderMead{SimplexSize: 0.5})
	if res == nil {
		return nil, err
	}
	if res.F >= penalty {
		return nil, fmt.Errorf("forecast: optimiser found no admissible point")
	}
	return res.X, nil
}

// model builds the fitted model for parameters p.
func (c *etsCore) model(p etsParams) *ETSModel {
	n := len(c.y)
	resid := make([]float64, n)
	path := &etsPath{level: make([]float64, n), slope: make([]float64, n), season: make([]float64, n)}
	sse, sumLog, l, b, ok := c.filter(p, resid, path)
	if !ok {
		// The starting point itself was inadmissible: fall back to
		// parameters that keep every state positive for positive data.
		p = etsParams{alpha: minSmooth, beta: 0, gamma: 0, phi: 1, l0: c.l0, b0: 0}
		sse, sumLog, l, b, ok = c.filter(p, resid, path)
		if !ok {
			// Nothing admissible: a flat forecast at the recent mean,
			// with the spread of the data around it as the error.
			l, b, sumLog = mean(c.y[max(0, n-c.m):]), 0, 0
			copy(c.s, c.s0)
			sse = 0
			for t, v := range c.y {
				e := v - l
				if c.spec.Error == MultiplicativeError {
					e /= l
				}
				sse += e * e
				path.level[t], path.slope[t], path.season[t] = l, 0, c.s0[t%c.m]
			}
		}
	}
	spec := c.spec
	k := spec.numSmoothing() + spec.numStates(c.m) + 1
	nf := float64(n)
	if sse <= 0 {
		sse = 1e-300
	}
	loglik := -0.5*nf*(math.Log(2*math.Pi*sse/nf)+1) - sumLog
	aicc := math.Inf(1)
	if n-k-1 > 0 {
		aicc = -2*loglik + 2*float64(k) + 2*float64(k*(k+1))/float64(n-k-1)
	}
	dof := max(n-spec.numSmoothing()-spec.numStates(1), 1)
	phi := p.phi
	if spec.Trend != DampedTrend {
		phi = 1
		if spec.Trend == NoTrend {
			phi = 0
		}
	}
	mod := &ETSModel{
		Spec:   spec,
		Period: c.m,
		Alpha:  p.alpha,
		Beta:   p.beta,
		Gamma:  p.gamma,
		Phi:    phi,
		Level:  l,
		Slope:  b,
		Sigma:  math.Sqrt(sse / float64(dof)),
		LogLik: loglik,
		AICc:   aicc,
		N:      n,
		y:      c.y,
		s0:     c.s0,
		path:   path,
	}
	if spec.Trend == NoTrend {
		mod.Slope = 0
	}
	if spec.Season != NoSeason {
		mod.Seasonal = make([]float64, c.m)
		for j := range mod.Seasonal {
			mod.Seasonal[j] = c.s[(n+j)%c.m]
		}
	}
	return mod
}

// Forecast extrapolates the model horizon steps ahead with analytical
// prediction intervals: the h-step variance is sigma² (1 + Σ c_j²) with
// c_j = alpha + beta·(phi+…+phi^j) + gamma·[j a multiple of the period],
// scaled by the forecast level for multiplicative errors.
func (mod *ETSModel) Forecast(horizon int) (Forecast, error) {
	if horizon <= 0 || horizon > maxHorizon {
		return Forecast{}, fmt.Errorf("%w: got %d", ErrHorizon, horizon)
	}
	f := newForecast(mod.Spec.String(), horizon)
	var damp, phiPow, sumC2 float64
	phiPow = 1
	for i := range horizon {
		if mod.Spec.Trend != NoTrend {
			phiPow *= mod.Phi
			damp += phiPow
		}
		point := mod.Level + damp*mod.Slope
		switch mod.Spec.Season {
		case AdditiveSeason:
			point += mod.Seasonal[i%mod.Period]
		case MultiplicativeSeason:
			point *= mod.Seasonal[i%mod.Period]
		}
		sd := mod.Sigma * math.Sqrt(1+sumC2)
		if mod.Spec.Error == MultiplicativeError {
			sd *= math.Abs(point)
		}
		f.setNormal(i, point, sd)
		// c_j for j = i+1, used from the next step on.
		c := mod.Alpha + mod.Beta*damp
		if mod.Spec.Season != NoSeason && (i+1)%mod.Period == 0 {
			c += mod.Gamma
		}
		sumC2 += c * c
	}
	return f, nil
}

// fitAndForecast fits spec and forecasts, naming the result model.
func fitAndForecast(values []float64, season, horizon int, spec ETSSpec, name string) (Forecast, error) {
	if err := checkInput(values, season, horizon); err != nil {
		return Forecast{}, err
	}
	mod, err := FitETS(values, season, spec)
	if err != nil {
		return Forecast{}, err
	}
	f, err := mod.Forecast(horizon)
	if err != nil {
		return Forecast{}, err
	}
	f.Model = name
	f.widen(mod.empiricalSD(horizon))
	return f, nil
}

// SES forecasts with simple exponential smoothing (ETS(A,N,N)): a flat
// forecast at the smoothed level.
func SES(values []float64, horizon int) (Forecast, error) {
	return fitAndForecast(values, 0, horizon, ETSSpec{Trend: NoTrend}, "SES")
}

// Holt forecasts with Holt's linear trend method (ETS(A,A,N)), or with an
// additive damped trend (ETS(A,Ad,N)) when damped is set.
func Holt(values []float64, horizon int, damped bool) (Forecast, error) {
	if damped {
		return fitAndForecast(values, 0, horizon, ETSSpec{Trend: DampedTrend}, "Holt damped")
	}
	return fitAndForecast(values, 0, horizon, ETSSpec{Trend: AdditiveTrend}, "Holt")
}

// HoltWinters forecasts with the Holt-Winters method: additive trend (damped
// when damped is set) and additive or, when multiplicative is set,
// multiplicative seasonality of length season. It needs two full seasons.
func HoltWinters(values []float64, season, horizon int, multiplicative, damped bool) (Forecast, error) {
	spec := ETSSpec{Trend: AdditiveTrend, Season: AdditiveSeason}
	name := "Holt-Winters additive"
	if multiplicative {
		spec.Season = MultiplicativeSeason
		name = "Holt-Winters multiplicative"
	}
	if damped {
		spec.Trend = DampedTrend
		name += " damped"
	}
	return fitAndForecast(values, season, horizon, spec, name)
}
