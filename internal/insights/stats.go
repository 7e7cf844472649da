package insights

import (
	"math"
	"sort"

	"gonum.org/v1/gonum/stat/distuv"
)

// median returns the median of xs (0 for none). xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// robustSD estimates the standard deviation of xs from the median absolute
// deviation, so that a launch spike or a one-off month does not inflate
// it: 1.4826 × MAD is the standard deviation for normal data.
func robustSD(xs []float64) float64 {
	m := median(xs)
	dev := make([]float64, len(xs))
	for i, x := range xs {
		dev[i] = math.Abs(x - m)
	}
	return 1.4826 * median(dev)
}

// meanSD returns the mean and sample standard deviation of xs.
func meanSD(xs []float64) (mean, sd float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	if len(xs) < 2 {
		return mean, 0
	}
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

// upperTail returns P(T > t) for Student's t with df degrees of freedom,
// the one-sided p-value of t.
func upperTail(t float64, df int) float64 {
	if df < 1 {
		df = 1
	}
	return 1 - distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.CDF(t)
}

// normalCDF is the standard normal distribution function.
func normalCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// noiseSD estimates the month-to-month noise of a log series: the standard
// deviation of one month's value around its local trend. Each month is
// compared with the average of its neighbours, which cancels any straight
// trend; for independent noise of standard deviation σ that difference has
// variance 1.5σ². Months that are not finite are skipped; it returns the
// estimate and the number of comparisons it rests on.
func noiseSD(l []float64) (float64, int) {
	var e []float64
	for t := 1; t+1 < len(l); t++ {
		if finite(l[t-1]) && finite(l[t]) && finite(l[t+1]) {
			e = append(e, l[t]-(l[t-1]+l[t+1])/2)
		}
	}
	if len(e) < 4 {
		return 0, len(e)
	}
	return robustSD(e) / math.Sqrt(1.5), len(e)
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// yoyTest tests whether the last k values of the log series l moved away
// from the same months a year earlier (12 values back): it returns the mean
// year-on-year log change of those months, its t statistic against the
// series' own month-to-month noise, the degrees of freedom and the
// one-sided p-value in the direction of the change. ok is false when the
// series is too short, has gaps in the compared months or no measurable
// noise.
func yoyTest(l []float64, k int) (change, t float64, df int, p float64, ok bool) {
	n := len(l)
	if n < 12+k {
		return 0, 0, 0, 1, false
	}
	for i := n - k; i < n; i++ {
		if !finite(l[i]) || !finite(l[i-12]) {
			return 0, 0, 0, 1, false
		}
		change += l[i] - l[i-12]
	}
	change /= float64(k)
	sd, m := noiseSD(l)
	if sd == 0 || m < 6 {
		return 0, 0, 0, 1, false
	}
	// Each year-on-year change is the difference of two noisy months.
	se := math.Sqrt(2 * sd * sd / float64(k))
	t = change / se
	df = m - 1
	return change, t, df, upperTail(math.Abs(t), df), true
}

// bonferroni adjusts a p-value for m tests.
func bonferroni(p float64, m int) float64 {
	if m < 1 {
		m = 1
	}
	return math.Min(1, p*float64(m))
}

// confidence turns an (adjusted) p-value into the confidence shown: the
// probability that the finding is not chance, kept below certainty.
func confidence(p float64) float64 {
	return clamp(1-p, 0, 0.999)
}

func clamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

// logOf returns log(x), NaN for x <= 0.
func logOf(x float64) float64 {
	if x <= 0 {
		return math.NaN()
	}
	return math.Log(x)
}
