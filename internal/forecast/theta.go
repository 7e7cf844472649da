package forecast

import (
	"fmt"
	"math"
)

// deseason holds a seasonal adjustment by classical decomposition.
type deseason struct {
	m     int       // season length; 1 when the series was not adjusted
	idx   []float64 // seasonal indices, idx[t%m]
	mult  bool      // indices are factors (else offsets)
	adj   []float64 // seasonally adjusted series
	valid bool      // an adjustment was made
}

// adjustSeason removes the seasonal component from y when seasonal is set
// (and y holds two full cycles), as the M3 Theta method does after its
// seasonality test: multiplicatively for positive data, additively
// otherwise. The indices come from a classical decomposition of the whole
// series.
func adjustSeason(y []float64, m int, seasonal bool) deseason {
	d := deseason{m: 1, adj: y}
	if m < 2 || !seasonal || len(y) < 2*m {
		return d
	}
	d.m, d.mult, d.valid = m, allPositive(y), true
	d.idx = seasonalIndices(y, m, d.mult)
	d.adj = make([]float64, len(y))
	for t, v := range y {
		if d.mult {
			d.adj[t] = v / d.idx[t%m]
		} else {
			d.adj[t] = v - d.idx[t%m]
		}
	}
	return d
}

// reseason puts the seasonal component back into a forecast of the adjusted
// series that ended after n observations.
func (d deseason) reseason(f *Forecast, n int) {
	if !d.valid {
		return
	}
	for i := range f.Point {
		s := d.idx[(n+i)%d.m]
		for _, v := range [][]float64{f.Point, f.Lo80, f.Hi80, f.Lo95, f.Hi95} {
			if d.mult {
				v[i] *= s
			} else {
				v[i] += s
			}
		}
	}
}

// Theta forecasts with the Theta method as run in the M3 competition
// (Assimakopoulos & Nikolopoulos 2000, in the form of Hyndman & Billah
// 2003): when a 90% test on the lag-season autocorrelation finds
// seasonality (see seasonalityTest; it needs more than two full seasons),
// the series is adjusted by classical multiplicative decomposition; the adjusted series is forecast by simple exponential
// smoothing plus a drift of half its linear-regression slope, and the
// seasonal indices are put back. Intervals are those of the underlying
// exponential smoothing model.
func Theta(values []float64, season, horizon int) (Forecast, error) {
	if err := checkInput(values, season, horizon); err != nil {
		return Forecast{}, err
	}
	if len(values) < 3 {
		return Forecast{}, fmt.Errorf("%w: Theta needs 3 values, got %d", ErrTooShort, len(values))
	}
	return theta(values, adjustSeason(values, season, seasonalityTest(values, season)), horizon), nil
}

// theta runs the Theta method on an already adjusted series.
func theta(y []float64, d deseason, h int) Forecast {
	adj := d.adj
	ses := fitETS(adj, 1, ETSSpec{})
	f, _ := ses.Forecast(h)
	f.Model = "Theta"
	_, slope := linearFit(adj)
	a := ses.Alpha
	n := float64(len(adj))
	drift := slope / 2
	tail := (1 - math.Pow(1-a, n)) / a
	for i := range f.Point {
		shift := drift * (float64(i) + tail)
		f.Point[i] += shift
		f.Lo80[i] += shift
		f.Hi80[i] += shift
		f.Lo95[i] += shift
		f.Hi95[i] += shift
	}
	d.reseason(&f, len(y))
	f.widen(thetaEmpiricalSD(y, d, ses, drift, h))
	return f
}
