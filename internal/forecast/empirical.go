package forecast

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// Empirical intervals. Analytical ETS variances assume the model is right
// and its parameters known; on real data (M3) they are too narrow at long
// horizons. So the engine also measures the spread of the model's own
// in-sample multi-step errors: from every origin after a warm-up it
// forecasts up to h steps ahead with the fitted parameters and records the
// errors against what happened. Each bound is then the wider of the
// analytical one and the empirical one, which uses the errors' standard
// deviation per step and, where the errors are heavier-tailed than normal,
// their own 80% and 95% quantiles instead of the normal ones.

// warmup is the number of observations before the first origin: the states
// need a season (or a few points) to settle.
func warmup(n, m int) int {
	return max(1, min(max(m, 4), n/3))
}

// multiStepSD returns the root mean squared in-sample error of the k-step
// forecasts for k = 1..h (NaN where no origin reaches k), given a function
// that forecasts observation t+k-1 from the origin after observation t-1.
func multiStepSD(y []float64, h, start int, fc func(t, k int) float64) empirical {
	n := len(y)
	sd := make([]float64, h)
	errs := make([][]float64, h)
	for k := 1; k <= h; k++ {
		var s float64
		cnt := 0
		for t := start; t+k-1 < n; t++ {
			e := y[t+k-1] - fc(t, k)
			errs[k-1] = append(errs[k-1], e)
			s += e * e
			cnt++
		}
		if cnt < 3 {
			sd[k-1] = math.NaN()
			continue
		}
		sd[k-1] = math.Sqrt(s / float64(cnt))
	}
	var z []float64
	for k, es := range errs {
		if math.IsNaN(sd[k]) || sd[k] == 0 {
			continue
		}
		for _, e := range es {
			z = append(z, math.Abs(e)/sd[k])
		}
	}
	q80, q95 := z80, z95
	if len(z) >= 20 {
		sort.Float64s(z)
		q80 = math.Max(q80, z[int(0.8*float64(len(z)-1))])
		q95 = math.Max(q95, z[int(0.95*float64(len(z)-1))])
	}
	// Too few origins at long horizons: extrapolate from the last estimate
	// as a random walk would.
	last := -1
	for k := range sd {
		if !math.IsNaN(sd[k]) {
			last = k
		}
	}
	for k := last + 1; k < h && last >= 0; k++ {
		sd[k] = sd[last] * math.Sqrt(float64(k+1)/float64(last+1))
	}
	// Uncertainty does not shrink with the horizon; a dip is noise.
	for k := 1; k < h; k++ {
		if sd[k] < sd[k-1] {
			sd[k] = sd[k-1]
		}
	}
	return empirical{sd: sd, q80: q80, q95: q95}
}

// empirical is the spread of in-sample multi-step errors: their standard
// deviation per step and the quantiles of the standardised absolute errors
// pooled over steps, which capture tails heavier than the normal's.
type empirical struct {
	sd       []float64
	q80, q95 float64
}

// empiricalSD returns the in-sample k-step error spread of the model for
// k = 1..h, in data units.
func (mod *ETSModel) empiricalSD(h int) empirical {
	y, p, m := mod.y, mod.path, mod.Period
	damp := make([]float64, h+1) // damp[k] = phi + … + phi^k
	pw := 1.0
	for k := 1; k <= h; k++ {
		pw *= mod.Phi
		damp[k] = damp[k-1] + pw
	}
	params := mod.Spec.numSmoothing() + mod.Spec.numStates(m)
	e := multiStepSD(y, h, warmup(len(y), m), func(t, k int) float64 {
		point := p.level[t-1] + damp[k]*p.slope[t-1]
		if mod.Spec.Season != NoSeason {
			// The seasonal state for observation t+k-1 was last written
			// whole seasons earlier, before the origin.
			tau := t + k - 1 - m*((k+m-1)/m)
			s := mod.s0[(t+k-1)%m]
			if tau >= 0 {
				s = p.season[tau]
			}
			if mod.Spec.Season == AdditiveSeason {
				point += s
			} else {
				point *= s
			}
		}
		return point
	})
	return e.dfScaled(len(y), params)
}

// widen widens each bound to the empirical one where that is wider.
func (f *Forecast) widen(e empirical) {
	for i := range f.Point {
		if i >= len(e.sd) || math.IsNaN(e.sd[i]) {
			continue
		}
		p := f.Point[i]
		f.Lo80[i] = math.Min(f.Lo80[i], p-e.q80*e.sd[i])
		f.Hi80[i] = math.Max(f.Hi80[i], p+e.q80*e.sd[i])
		f.Lo95[i] = math.Min(f.Lo95[i], p-e.q95*e.sd[i])
		f.Hi95[i] = math.Max(f.Hi95[i], p+e.q95*e.sd[i])
	}
}

// thetaEmpiricalSD returns the in-sample k-step error spread of the Theta
// method for k = 1..h: the exponential smoothing level at each origin plus
// the drift, with the season put back.
func thetaEmpiricalSD(y []float64, d deseason, ses *ETSModel, drift float64, h int) empirical {
	a := ses.Alpha
	params := 3
	if d.valid {
		params += d.m - 1
	}
	e := multiStepSD(y, h, warmup(len(y), d.m), func(t, k int) float64 {
		point := ses.path.level[t-1] + drift*(float64(k-1)+(1-math.Pow(1-a, float64(t)))/a)
		if d.valid {
			s := d.idx[(t+k-1)%d.m]
			if d.mult {
				point *= s
			} else {
				point += s
			}
		}
		return point
	})
	return e.dfScaled(len(y), params)
}

// dfScaled corrects the spread of in-sample errors for the k parameters
// fitted to the same n observations: errors on data the parameters were
// chosen for are smaller than those ahead, as a residual variance divided
// by n rather than n-k is. The standard deviations are multiplied by
// sqrt(n/(n-k)), at most doubled, and the quantiles are at least Student's
// t ones with n-k degrees of freedom (the normal's for long series; wider
// in the tails for short ones).
func (e empirical) dfScaled(n, k int) empirical {
	df := n - k
	f := 2.0
	if df > 0 {
		f = math.Min(2, math.Sqrt(float64(n)/float64(df)))
	}
	for i := range e.sd {
		e.sd[i] *= f
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(max(df, 2))}
	e.q80 = math.Max(e.q80, t.Quantile(0.9))
	e.q95 = math.Max(e.q95, t.Quantile(0.975))
	return e
}
