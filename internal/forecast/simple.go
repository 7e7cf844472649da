package forecast

import (
	"fmt"
	"math"
)

// rms returns the root mean square of e (0 for an empty slice).
func rms(e []float64) float64 {
	if len(e) == 0 {
		return 0
	}
	var s float64
	for _, v := range e {
		s += v * v
	}
	return math.Sqrt(s / float64(len(e)))
}

// Naive forecasts every step with the last observation (a random walk).
// The h-step interval grows with the square root of h from the spread of
// one-step changes; a single observation gets intervals from the wide
// short-series rule of Mean.
func Naive(values []float64, horizon int) (Forecast, error) {
	if err := checkInput(values, 0, horizon); err != nil {
		return Forecast{}, err
	}
	n := len(values)
	if n == 1 {
		f := meanForecast(values, horizon)
		f.Model = "Naive"
		return f, nil
	}
	diffs := make([]float64, n-1)
	for t := 1; t < n; t++ {
		diffs[t-1] = values[t] - values[t-1]
	}
	sigma := rms(diffs)
	f := newForecast("Naive", horizon)
	last := values[n-1]
	for i := range horizon {
		f.setNormal(i, last, sigma*math.Sqrt(float64(i+1)))
	}
	return f, nil
}

// SeasonalNaive forecasts every step with the observation one season
// earlier. It needs at least one full season; intervals grow with the
// number of seasons ahead from the spread of seasonal differences.
func SeasonalNaive(values []float64, season, horizon int) (Forecast, error) {
	if err := checkInput(values, season, horizon); err != nil {
		return Forecast{}, err
	}
	m := season
	if m < 2 {
		f, err := Naive(values, horizon)
		f.Model = "Seasonal naive"
		return f, err
	}
	n := len(values)
	if n < m {
		return Forecast{}, fmt.Errorf("%w: seasonal naive needs %d values, got %d", ErrTooShort, m, n)
	}
	diffs := make([]float64, 0, n)
	for t := m; t < n; t++ {
		diffs = append(diffs, values[t]-values[t-m])
	}
	sigma := rms(diffs)
	if len(diffs) == 0 {
		sigma = shortSigma(values)
	}
	f := newForecast("Seasonal naive", horizon)
	for i := range horizon {
		k := i/m + 1
		f.setNormal(i, values[n-m+i%m], sigma*math.Sqrt(float64(k)))
	}
	return f, nil
}

// Mean forecasts every step with the mean of the observations. It is the
// engine's choice for very short series, where nothing more can be
// estimated; its intervals are deliberately wide (see shortSigma).
func Mean(values []float64, horizon int) (Forecast, error) {
	if err := checkInput(values, 0, horizon); err != nil {
		return Forecast{}, err
	}
	return meanForecast(values, horizon), nil
}

// meanForecast is Mean on validated input.
func meanForecast(values []float64, h int) Forecast {
	f := newForecast("Mean", h)
	mu := mean(values)
	sigma := shortSigma(values)
	for i := range h {
		f.setNormal(i, mu, sigma*math.Sqrt(float64(i+1)))
	}
	return f
}

// shortSigma is the one-step spread assumed for a series too short to
// estimate one: the sample deviation, but at least half the mean absolute
// level, because a product's second month can easily be half or double its
// first.
func shortSigma(y []float64) float64 {
	var a float64
	for _, v := range y {
		a += math.Abs(v)
	}
	a /= float64(len(y))
	return math.Max(stddev(y), 0.5*a)
}

// Croston forecasts intermittent demand (many zero periods) with the
// Syntetos-Boylan approximation of Croston's method: demand sizes and the
// intervals between demands are smoothed separately and the forecast is
// their ratio times (1 - alpha/2). The smoothing constant is chosen from a
// small grid by in-sample squared error. Forecasts are flat and, for
// non-negative data, never negative; intervals come from the in-sample
// one-step errors.
func Croston(values []float64, horizon int) (Forecast, error) {
	if err := checkInput(values, 0, horizon); err != nil {
		return Forecast{}, err
	}
	var demands int
	for _, v := range values {
		if v != 0 {
			demands++
		}
	}
	if demands == 0 {
		return newForecast("Croston-SBA", horizon), nil
	}
	best, bestSSE := 0.0, math.Inf(1)
	var bestRes []float64
	var bestPoint float64
	for _, a := range []float64{0.05, 0.1, 0.15, 0.2, 0.3} {
		point, res := crostonRun(values, a)
		var sse float64
		for _, e := range res {
			sse += e * e
		}
		if sse < bestSSE || bestRes == nil {
			best, bestSSE, bestRes, bestPoint = a, sse, res, point
		}
	}
	sigma := rms(bestRes)
	if len(bestRes) == 0 {
		sigma = shortSigma(values)
	}
	f := newForecast("Croston-SBA", horizon)
	for i := range horizon {
		f.setNormal(i, bestPoint, sigma*math.Sqrt(1+float64(i)*best*best))
	}
	if allNonNegative(values) {
		f.clampNonNegative()
	}
	return f, nil
}

// crostonRun smooths sizes and intervals with constant a. It returns the
// final SBA forecast and the one-step errors after the first demand.
func crostonRun(y []float64, a float64) (float64, []float64) {
	var size, interval float64
	started := false
	gap := 0
	res := make([]float64, 0, len(y))
	for _, v := range y {
		gap++
		if started {
			res = append(res, v-(1-a/2)*size/interval)
		}
		if v == 0 {
			continue
		}
		if !started {
			size, interval, started = v, float64(gap), true
		} else {
			size += a * (v - size)
			interval += a * (float64(gap) - interval)
		}
		gap = 0
	}
	return (1 - a/2) * size / interval, res
}
