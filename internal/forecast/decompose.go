package forecast

import "math"

// mean returns the arithmetic mean of y (0 for an empty slice).
func mean(y []float64) float64 {
	if len(y) == 0 {
		return 0
	}
	var s float64
	for _, v := range y {
		s += v
	}
	return s / float64(len(y))
}

// linearFit fits y[i] = a + b*(i+1) by least squares, so that a is the value
// one step before the first observation.
func linearFit(y []float64) (a, b float64) {
	n := float64(len(y))
	if len(y) < 2 {
		return mean(y), 0
	}
	tm := (n + 1) / 2
	ym := mean(y)
	var sxy, sxx float64
	for i, v := range y {
		dt := float64(i+1) - tm
		sxy += dt * (v - ym)
		sxx += dt * dt
	}
	b = sxy / sxx
	return ym - b*tm, b
}

// acf returns the sample autocorrelations r_1..r_maxLag of y.
func acf(y []float64, maxLag int) []float64 {
	n := len(y)
	m := mean(y)
	var den float64
	for _, v := range y {
		den += (v - m) * (v - m)
	}
	r := make([]float64, maxLag)
	if den == 0 {
		return r
	}
	for k := 1; k <= maxLag && k < n; k++ {
		var num float64
		for t := 0; t+k < n; t++ {
			num += (y[t] - m) * (y[t+k] - m)
		}
		r[k-1] = num / den
	}
	return r
}

// seasonalityTest reports whether y shows seasonality of period m. It is
// the test used with the Theta method in the M3 competition (the lag-m
// autocorrelation is significant at 90%, two-sided, against Bartlett's
// standard error), applied to the series as it is and, because a strong
// trend hides seasonality from the raw autocorrelations, to the series less
// its centred moving average. It needs more than two full cycles.
func seasonalityTest(y []float64, m int) bool {
	n := len(y)
	if m <= 1 || n <= 2*m {
		return false
	}
	if acfSignificant(y, m) {
		return true
	}
	tr := movingAverage(y, m)
	d := make([]float64, 0, n)
	for t, v := range tr {
		if !math.IsNaN(v) {
			d = append(d, y[t]-v)
		}
	}
	return acfSignificant(d, m)
}

// acfSignificant reports whether the lag-m autocorrelation of y is
// significant at 90%.
func acfSignificant(y []float64, m int) bool {
	r := acf(y, m)
	var s float64
	for _, v := range r[:m-1] {
		s += v * v
	}
	se := math.Sqrt((1 + 2*s) / float64(len(y)))
	return math.Abs(r[m-1]) > 1.6448536269514722*se
}

// movingAverage returns the centred moving average of order m (a 2×m
// average when m is even) with NaN where the window does not fit.
func movingAverage(y []float64, m int) []float64 {
	n := len(y)
	tr := make([]float64, n)
	for i := range tr {
		tr[i] = math.NaN()
	}
	half := m / 2
	if m%2 == 1 {
		for t := half; t+half < n; t++ {
			var s float64
			for j := t - half; j <= t+half; j++ {
				s += y[j]
			}
			tr[t] = s / float64(m)
		}
		return tr
	}
	for t := half; t+half < n; t++ {
		s := 0.5*y[t-half] + 0.5*y[t+half]
		for j := t - half + 1; j < t+half; j++ {
			s += y[j]
		}
		tr[t] = s / float64(m)
	}
	return tr
}

// seasonalIndices estimates m seasonal indices of y by classical
// decomposition: index j applies to observations t with t%m == j. The
// multiplicative indices average 1; the additive ones average 0. It needs at
// least two full cycles.
func seasonalIndices(y []float64, m int, multiplicative bool) []float64 {
	tr := movingAverage(y, m)
	sum := make([]float64, m)
	cnt := make([]float64, m)
	for t, v := range y {
		if math.IsNaN(tr[t]) {
			continue
		}
		if multiplicative {
			if tr[t] == 0 {
				continue
			}
			sum[t%m] += v / tr[t]
		} else {
			sum[t%m] += v - tr[t]
		}
		cnt[t%m]++
	}
	idx := make([]float64, m)
	neutral := 0.0
	if multiplicative {
		neutral = 1
	}
	for j := range idx {
		if cnt[j] > 0 {
			idx[j] = sum[j] / cnt[j]
		} else {
			idx[j] = neutral
		}
	}
	avg := mean(idx)
	for j := range idx {
		if multiplicative {
			if avg > 0 {
				idx[j] /= avg
			}
		} else {
			idx[j] -= avg
		}
	}
	return idx
}
