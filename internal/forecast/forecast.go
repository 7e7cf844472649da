// Package forecast is PhantomOS's offline statistical forecasting engine.
//
// It fits exponential smoothing models (simple, Holt, damped trend and
// Holt-Winters with additive or multiplicative seasonality, each with
// additive or multiplicative errors), the Theta method, naive and seasonal
// naive benchmarks and Croston-type methods for intermittent demand. Auto
// picks an exponential smoothing model per series by AICc, averages it with
// Theta, handles short and intermittent series, and returns point forecasts
// with 80% and 95% prediction intervals. Everything runs locally with no
// network access; the accuracy of the engine is measured on the M3
// competition's monthly series by EvalM3, and RunCSV serves the command
// line.
//
// All fitters take the observations oldest first and a season length (12 for
// monthly data, 52 for weekly data, 0 or 1 for none). Auto and Croston never
// forecast below zero for non-negative data; the individual model fitters
// return the model's forecast as it is.
package forecast

import (
	"errors"
	"fmt"
	"math"
)

// Errors returned for input that cannot be forecast. They are wrapped with
// details, so test for them with errors.Is.
var (
	// ErrEmpty reports a series without observations.
	ErrEmpty = errors.New("forecast: empty series")
	// ErrNonFinite reports a NaN or infinite observation.
	ErrNonFinite = errors.New("forecast: non-finite value")
	// ErrHorizon reports a horizon that is not positive.
	ErrHorizon = errors.New("forecast: horizon must be positive")
	// ErrSeason reports a negative season length.
	ErrSeason = errors.New("forecast: season must not be negative")
	// ErrTooShort reports a series too short for the requested model.
	ErrTooShort = errors.New("forecast: series too short for model")
	// ErrNotPositive reports non-positive data given to a model with
	// multiplicative components.
	ErrNotPositive = errors.New("forecast: model needs strictly positive data")
)

// maxHorizon bounds the horizon so that a typo cannot allocate gigabytes.
const maxHorizon = 10000

// Series is one time series: observations at a regular grain, oldest first.
type Series struct {
	// ID names the series (a product, asset, category or total).
	ID string
	// Values are the observations, oldest first.
	Values []float64
	// Season is the number of periods in a seasonal cycle: 12 for monthly
	// data, 52 for weekly data, 0 or 1 for none.
	Season int
}

// Forecast forecasts the series horizon periods ahead with Auto.
func (s Series) Forecast(horizon int) (Forecast, error) {
	f, err := Auto(s.Values, s.Season, horizon)
	if err != nil {
		return Forecast{}, fmt.Errorf("%w (series %q)", err, s.ID)
	}
	return f, nil
}

// Forecast holds point forecasts and prediction intervals for the periods
// following the data, all slices having the horizon's length. Intervals are
// nested: Lo95 <= Lo80 <= Point <= Hi80 <= Hi95 at every step.
type Forecast struct {
	// Model names the method that produced the forecast, for example
	// "ETS(MAdM)", "Theta", "Croston-SBA" or, for a combination, the
	// parts joined by "+": "ETS(AAdM)+Theta".
	Model string
	// Point is the point forecast (the expected value).
	Point []float64
	// Lo80 and Hi80 bound the 80% prediction interval.
	Lo80, Hi80 []float64
	// Lo95 and Hi95 bound the 95% prediction interval.
	Lo95, Hi95 []float64
}

// Horizon returns the number of forecast periods.
func (f Forecast) Horizon() int { return len(f.Point) }

// Quantiles of the standard normal distribution for central intervals.
const (
	z80 = 1.2815515655446004 // 90th percentile: 80% central interval
	z95 = 1.959963984540054  // 97.5th percentile: 95% central interval
)

// newForecast allocates a forecast of horizon h.
func newForecast(model string, h int) Forecast {
	buf := make([]float64, 5*h)
	return Forecast{
		Model: model,
		Point: buf[0:h:h],
		Lo80:  buf[h : 2*h : 2*h],
		Hi80:  buf[2*h : 3*h : 3*h],
		Lo95:  buf[3*h : 4*h : 4*h],
		Hi95:  buf[4*h : 5*h : 5*h],
	}
}

// setNormal sets step i to a symmetric normal interval with standard
// deviation sd around point.
func (f *Forecast) setNormal(i int, point, sd float64) {
	if !(sd >= 0) || math.IsInf(sd, 0) {
		sd = 0
	}
	f.Point[i] = point
	f.Lo80[i] = point - z80*sd
	f.Hi80[i] = point + z80*sd
	f.Lo95[i] = point - z95*sd
	f.Hi95[i] = point + z95*sd
}

// clampNonNegative raises every value below zero to zero. It is applied to
// forecasts of data that cannot be negative (sales, units).
func (f *Forecast) clampNonNegative() {
	for _, s := range [][]float64{f.Point, f.Lo80, f.Hi80, f.Lo95, f.Hi95} {
		for i, v := range s {
			if v < 0 {
				s[i] = 0
			}
		}
	}
}

// checkInput validates the arguments common to every fitter.
func checkInput(values []float64, season, horizon int) error {
	if len(values) == 0 {
		return ErrEmpty
	}
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: value %d is %v", ErrNonFinite, i+1, v)
		}
	}
	if horizon <= 0 {
		return fmt.Errorf("%w: got %d", ErrHorizon, horizon)
	}
	if horizon > maxHorizon {
		return fmt.Errorf("%w: %d exceeds the maximum of %d", ErrHorizon, horizon, maxHorizon)
	}
	if season < 0 {
		return fmt.Errorf("%w: got %d", ErrSeason, season)
	}
	return nil
}

// allPositive reports whether every value is strictly positive.
func allPositive(y []float64) bool {
	for _, v := range y {
		if !(v > 0) {
			return false
		}
	}
	return true
}

// allNonNegative reports whether no value is negative.
func allNonNegative(y []float64) bool {
	for _, v := range y {
		if v < 0 {
			return false
		}
	}
	return true
}
