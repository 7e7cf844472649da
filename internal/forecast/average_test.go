package forecast

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestDFScaled checks the correction of in-sample error spreads for
// fitted parameters: 36 observations and 9 parameters widen the standard
// deviations by sqrt(36/27) and raise the quantiles to Student's t with 27
// degrees of freedom; a long series keeps nearly the normal's; wider
// empirical quantiles are kept.
func TestDFScaled(t *testing.T) {
	e := empirical{sd: []float64{1, 2}, q80: z80, q95: z95}.dfScaled(36, 9)
	if f := math.Sqrt(36.0 / 27); math.Abs(e.sd[0]-f) > 1e-12 || math.Abs(e.sd[1]-2*f) > 1e-12 {
		t.Errorf("sd %v, want ×%.4f", e.sd, f)
	}
	// t quantiles, 27 degrees of freedom: 1.3137 (90%) and 2.0518 (97.5%).
	if math.Abs(e.q80-1.3137) > 1e-3 || math.Abs(e.q95-2.0518) > 1e-3 {
		t.Errorf("quantiles %.4f %.4f", e.q80, e.q95)
	}
	long := empirical{sd: []float64{1}, q80: z80, q95: z95}.dfScaled(10000, 10)
	if math.Abs(long.sd[0]-1) > 1e-3 || math.Abs(long.q95-z95) > 1e-3 {
		t.Errorf("long series: %+v", long)
	}
	heavy := empirical{sd: []float64{1}, q80: 1.5, q95: 3}.dfScaled(36, 9)
	if heavy.q80 != 1.5 || heavy.q95 != 3 {
		t.Errorf("empirical quantiles lost: %+v", heavy)
	}
	// As many parameters as observations: at most doubled.
	if e := (empirical{sd: []float64{1}}).dfScaled(5, 5); e.sd[0] != 2 {
		t.Errorf("degenerate: %v", e.sd)
	}
}

// TestETSAverageWeights checks the Akaike-weighted average against the
// models computed one by one, on a seasonal series with a damped rise.
func TestETSAverageWeights(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	y := make([]float64, 60)
	for i := range y {
		y[i] = 100 + 20*(1-math.Pow(0.95, float64(i))) + 15*math.Sin(2*math.Pi*float64(i)/12) + 3*rng.NormFloat64()
	}
	c := newCandidates(y, 12, 12)
	avg := c.etsAverage()
	best := c.bestETS()
	if len(c.fits) != len(c.etsSpecs()) {
		t.Fatalf("%d fits for %d specs", len(c.fits), len(c.etsSpecs()))
	}
	var num [12]float64
	var tot float64
	for _, mod := range c.fits {
		w := math.Exp(-0.5 * (mod.AICc - best.AICc))
		if w <= 1e-3 {
			continue
		}
		f, err := mod.Forecast(12)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range f.Point {
			num[i] += w * p
		}
		tot += w
	}
	for i, p := range avg.Point {
		if want := num[i] / tot; math.Abs(p-want) > 1e-9*math.Abs(want) {
			t.Errorf("step %d: %.6f, want %.6f", i+1, p, want)
		}
		if !(avg.Lo95[i] < avg.Lo80[i] && avg.Lo80[i] < p && p < avg.Hi80[i] && avg.Hi80[i] < avg.Hi95[i]) {
			t.Errorf("step %d: bounds out of order", i+1)
		}
	}
	// The heaviest model is named first, and it is the best by AICc.
	if code := best.Spec.String(); !strings.HasPrefix(avg.Model, code[:len(code)-1]) {
		t.Errorf("model %q, best %s", avg.Model, code)
	}
	if !strings.HasSuffix(best.Spec.String(), "A)") && !strings.HasSuffix(best.Spec.String(), "M)") {
		t.Errorf("best model %s is not seasonal", best.Spec)
	}
}

// TestETSAverageDominant: on a clean straight line the damped trend model
// beats the flat one by far, so the average is the damped model's
// forecast and carries its name alone.
func TestETSAverageDominant(t *testing.T) {
	y := make([]float64, 30)
	for i := range y {
		y[i] = 10 + 2*float64(i) + 0.01*math.Sin(float64(i))
	}
	c := newCandidates(y, 0, 6)
	avg, single := c.etsAverage(), c.etsForecast()
	for i := range avg.Point {
		if math.Abs(avg.Point[i]-single.Point[i]) > 1e-6*math.Abs(single.Point[i]) {
			t.Errorf("step %d: average %.4f, best model %.4f", i+1, avg.Point[i], single.Point[i])
		}
	}
	if avg.Model != "ETS(AAdN)" {
		t.Errorf("model %q", avg.Model)
	}
}
