package forecast

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// noisy returns n values of f(t) times (1 + noise·u), u uniform in
// [-0.5, 0.5), from a fixed seed.
func noisy(n int, noise float64, f func(t int) float64) []float64 {
	r := rand.New(rand.NewPCG(1, 2))
	y := make([]float64, n)
	for t := range y {
		y[t] = f(t) * (1 + noise*(r.Float64()-0.5))
	}
	return y
}

// seasonalPattern is a year of monthly factors averaging 1.
func seasonalPattern() []float64 {
	return []float64{0.8, 0.85, 0.95, 1.0, 1.05, 1.1, 1.2, 1.25, 1.1, 0.95, 0.9, 0.85}
}

// checkNested fails unless lo95 <= lo80 <= point <= hi80 <= hi95 at every
// step and every value is finite.
func checkNested(t *testing.T, name string, f Forecast, h int) {
	t.Helper()
	for _, s := range [][]float64{f.Point, f.Lo80, f.Hi80, f.Lo95, f.Hi95} {
		if len(s) != h {
			t.Fatalf("%s: length %d, want %d", name, len(s), h)
		}
	}
	if !f.isFinite() {
		t.Fatalf("%s: non-finite values: %+v", name, f)
	}
	const eps = 1e-9
	for i := range h {
		if !(f.Lo95[i] <= f.Lo80[i]+eps && f.Lo80[i] <= f.Point[i]+eps && f.Point[i] <= f.Hi80[i]+eps && f.Hi80[i] <= f.Hi95[i]+eps) {
			t.Errorf("%s step %d: not nested: %.4f <= %.4f <= %.4f <= %.4f <= %.4f", name, i+1,
				f.Lo95[i], f.Lo80[i], f.Point[i], f.Hi80[i], f.Hi95[i])
		}
	}
}

func TestHoltForecastsALineAsALine(t *testing.T) {
	y := make([]float64, 30)
	for i := range y {
		y[i] = 10 + 2*float64(i)
	}
	for _, damped := range []bool{false} {
		f, err := Holt(y, 12, damped)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float64, 12)
		for k := range want {
			want[k] = 10 + 2*float64(30+k)
		}
		if diff := cmp.Diff(want, f.Point, cmpopts.EquateApprox(0, 1e-6)); diff != "" {
			t.Errorf("Holt on a line (-want +got):\n%s", diff)
		}
	}
	// The automatic engine damps trends (Theta keeps half the slope, ETS a
	// damped one), which wins on real data: it must still rise every month
	// and stay within 10% of the line a year ahead.
	f, err := Auto(y, 0, 12)
	if err != nil {
		t.Fatal(err)
	}
	for k, p := range f.Point {
		want := 10 + 2*float64(30+k)
		if math.Abs(p-want) > 0.1*want || (k > 0 && p <= f.Point[k-1]) || p < y[29] {
			t.Errorf("Auto step %d = %.2f, want rising and about %.2f", k+1, p, want)
		}
	}
}

func TestSeasonalPatternIsReproduced(t *testing.T) {
	pat := seasonalPattern()
	y := make([]float64, 48)
	for i := range y {
		y[i] = 100 * pat[i%12]
	}
	want := make([]float64, 24)
	for k := range want {
		want[k] = 100 * pat[(48+k)%12]
	}
	fit := map[string]func() (Forecast, error){
		"seasonal naive":    func() (Forecast, error) { return SeasonalNaive(y, 12, 24) },
		"HW additive":       func() (Forecast, error) { return HoltWinters(y, 12, 24, false, false) },
		"HW multiplicative": func() (Forecast, error) { return HoltWinters(y, 12, 24, true, false) },
		"HW damped mult":    func() (Forecast, error) { return HoltWinters(y, 12, 24, true, true) },
		"Theta":             func() (Forecast, error) { return Theta(y, 12, 24) },
		"Auto":              func() (Forecast, error) { return Auto(y, 12, 24) },
	}
	for name, fn := range fit {
		t.Run(name, func(t *testing.T) {
			f, err := fn()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, f.Point, cmpopts.EquateApprox(0.01, 0)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestConstantSeries(t *testing.T) {
	y := slices.Repeat([]float64{42}, 36)
	fits := map[string]func() (Forecast, error){
		"Naive":  func() (Forecast, error) { return Naive(y, 6) },
		"SES":    func() (Forecast, error) { return SES(y, 6) },
		"Holt":   func() (Forecast, error) { return Holt(y, 6, true) },
		"HW":     func() (Forecast, error) { return HoltWinters(y, 12, 6, true, true) },
		"Theta":  func() (Forecast, error) { return Theta(y, 12, 6) },
		"Auto":   func() (Forecast, error) { return Auto(y, 12, 6) },
		"Mean":   func() (Forecast, error) { return Mean(y, 6) },
		"SNaive": func() (Forecast, error) { return SeasonalNaive(y, 12, 6) },
	}
	for name, fn := range fits {
		f, err := fn()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkNested(t, name, f, 6)
		if diff := cmp.Diff(slices.Repeat([]float64{42}, 6), f.Point, cmpopts.EquateApprox(0, 1e-6)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

func TestIntervalsAreNestedAndWidenWithHorizon(t *testing.T) {
	pat := seasonalPattern()
	trend := noisy(60, 0.2, func(t int) float64 { return 100 + 3*float64(t) })
	seasonal := noisy(60, 0.15, func(t int) float64 { return (200 + float64(t)) * pat[t%12] })
	h := 18
	fits := []struct {
		name  string
		fn    func() (Forecast, error)
		grows bool // the interval widens at every step
	}{
		{"Naive", func() (Forecast, error) { return Naive(trend, h) }, true},
		{"SES", func() (Forecast, error) { return SES(trend, h) }, true},
		{"Holt", func() (Forecast, error) { return Holt(trend, h, false) }, true},
		{"Holt damped", func() (Forecast, error) { return Holt(trend, h, true) }, true},
		{"Theta", func() (Forecast, error) { return Theta(trend, 0, h) }, true},
		{"Auto", func() (Forecast, error) { return Auto(trend, 0, h) }, true},
		{"HW additive", func() (Forecast, error) { return HoltWinters(seasonal, 12, h, false, false) }, true},
		{"HW multiplicative", func() (Forecast, error) { return HoltWinters(seasonal, 12, h, true, true) }, false},
		{"Seasonal naive", func() (Forecast, error) { return SeasonalNaive(seasonal, 12, h) }, false},
		{"Auto seasonal", func() (Forecast, error) { return Auto(seasonal, 12, h) }, false},
		{"Croston", func() (Forecast, error) { return Croston([]float64{0, 3, 0, 0, 5, 0, 2, 0, 0, 4}, h) }, true},
	}
	for _, tc := range fits {
		t.Run(tc.name, func(t *testing.T) {
			f, err := tc.fn()
			if err != nil {
				t.Fatal(err)
			}
			checkNested(t, tc.name, f, h)
			w1, wh := f.Hi95[0]-f.Lo95[0], f.Hi95[h-1]-f.Lo95[h-1]
			if !(wh > w1) {
				t.Errorf("95%% width %.3f at step %d is not above %.3f at step 1", wh, h, w1)
			}
			if !tc.grows {
				return
			}
			for i := 1; i < h; i++ {
				if f.Hi95[i]-f.Lo95[i] < f.Hi95[i-1]-f.Lo95[i-1]-1e-9 || f.Hi80[i]-f.Lo80[i] < f.Hi80[i-1]-f.Lo80[i-1]-1e-9 {
					t.Errorf("interval narrows at step %d", i+1)
				}
			}
		})
	}
}

func TestNonNegativeDataNeverForecastNegative(t *testing.T) {
	declining := noisy(40, 0.3, func(t int) float64 { return math.Max(0.5, 100-3*float64(t)) })
	intermittent := []float64{0, 0, 4, 0, 0, 0, 1, 0, 7, 0, 0, 2, 0, 0, 0, 3, 0, 1, 0, 0, 0, 0, 5, 0}
	cases := map[string][]float64{
		"declining":    declining,
		"intermittent": intermittent,
		"spiky":        {1, 0, 0, 50, 0, 1, 0, 0, 0, 2},
	}
	for name, y := range cases {
		for _, season := range []int{0, 12} {
			f, err := Auto(y, season, 24)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			checkNested(t, name, f, 24)
			if slices.Min(f.Lo95) < 0 || slices.Min(f.Point) < 0 {
				t.Errorf("%s season %d: negative forecast: %v / %v", name, season, f.Point, f.Lo95)
			}
		}
	}
	f, err := Croston(intermittent, 6)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Min(f.Lo95) < 0 || f.Point[0] <= 0 {
		t.Errorf("Croston: point %v, lower %v", f.Point, f.Lo95)
	}
}

func TestIntermittentSeriesUseCroston(t *testing.T) {
	y := []float64{0, 2, 0, 0, 3, 0, 0, 0, 2, 0, 4, 0, 0, 1, 0, 0, 3, 0}
	f, err := Auto(y, 12, 6)
	if err != nil {
		t.Fatal(err)
	}
	if f.Model != "Croston-SBA" {
		t.Errorf("model = %q, want Croston-SBA", f.Model)
	}
	// The demand rate: about 18 units over 16 periods after the first
	// demand, so the flat forecast is well below the mean demand size.
	for _, p := range f.Point {
		if p != f.Point[0] || p < 0.4 || p > 1.6 {
			t.Fatalf("forecast %v is not a flat demand rate near 1", f.Point)
		}
	}
	zeros, err := Auto(make([]float64, 10), 12, 3)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(make([]float64, 3), zeros.Point); diff != "" {
		t.Errorf("all-zero series (-want +got):\n%s", diff)
	}
}

func TestShortSeries(t *testing.T) {
	tests := []struct {
		name      string
		values    []float64
		season    int
		model     string
		wantPoint float64
	}{
		{"launched last month", []float64{120}, 12, "Mean", 120},
		{"launched last month after zeros", []float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 80}, 12, "Mean", 80},
		{"two months", []float64{100, 140}, 12, "Mean", 120},
		{"three months", []float64{90, 100, 110}, 52, "Mean", 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Auto(tc.values, tc.season, 6)
			if err != nil {
				t.Fatal(err)
			}
			checkNested(t, tc.name, f, 6)
			if f.Model != tc.model {
				t.Errorf("model %q, want %q", f.Model, tc.model)
			}
			if math.Abs(f.Point[0]-tc.wantPoint) > 1e-9 {
				t.Errorf("point %v, want %v", f.Point[0], tc.wantPoint)
			}
			// Wide: the 95% interval spans at least half the level a month
			// ahead, and never goes below zero.
			if f.Hi95[0]-f.Lo95[0] < 0.5*tc.wantPoint || f.Lo95[0] < 0 {
				t.Errorf("95%% interval [%.1f, %.1f] is not wide and non-negative", f.Lo95[0], f.Hi95[0])
			}
		})
	}

	// Less than two seasons: no seasonal model, but still a forecast.
	pat := seasonalPattern()
	y := noisy(20, 0.1, func(t int) float64 { return 100 * pat[t%12] })
	f, err := Auto(y, 12, 12)
	if err != nil {
		t.Fatal(err)
	}
	checkNested(t, "20 months", f, 12)
	if strings.Contains(f.Model, "A)") || strings.Contains(f.Model, "M)") {
		t.Errorf("model %q is seasonal on 20 months of data", f.Model)
	}
	if _, err := HoltWinters(y, 12, 12, true, false); !errors.Is(err, ErrTooShort) {
		t.Errorf("Holt-Winters on 20 months: err = %v, want ErrTooShort", err)
	}
}

func TestWeeklySeries(t *testing.T) {
	// Three years of weekly sales with a yearly peak around week 47.
	y := noisy(156, 0.1, func(t int) float64 {
		w := float64(t % 52)
		return 500 + 2*float64(t) + 300*math.Exp(-(w-47)*(w-47)/8)
	})
	f, err := Auto(y, 52, 52)
	if err != nil {
		t.Fatal(err)
	}
	checkNested(t, "weekly", f, 52)
	peak := slices.Index(f.Point, slices.Max(f.Point))
	if peak < 44 || peak > 50 {
		t.Errorf("forecast peaks in week %d of the next year, want about 47 (model %s)", peak, f.Model)
	}
	// One year of weekly data is too short for a 52-week season.
	f, err = Auto(y[:60], 52, 8)
	if err != nil {
		t.Fatal(err)
	}
	checkNested(t, "one year weekly", f, 8)
}

func TestBadInput(t *testing.T) {
	good := []float64{1, 2, 3, 4, 5, 6}
	tests := []struct {
		name string
		fn   func() error
		want error
	}{
		{"Auto empty", func() error { _, err := Auto(nil, 12, 3); return err }, ErrEmpty},
		{"Auto NaN", func() error { _, err := Auto([]float64{1, math.NaN(), 3}, 12, 3); return err }, ErrNonFinite},
		{"Auto Inf", func() error { _, err := Auto([]float64{1, math.Inf(1)}, 0, 3); return err }, ErrNonFinite},
		{"Auto horizon 0", func() error { _, err := Auto(good, 0, 0); return err }, ErrHorizon},
		{"Auto horizon -1", func() error { _, err := Auto(good, 0, -1); return err }, ErrHorizon},
		{"Auto season -1", func() error { _, err := Auto(good, -1, 3); return err }, ErrSeason},
		{"SES empty", func() error { _, err := SES(nil, 3); return err }, ErrEmpty},
		{"Holt NaN", func() error { _, err := Holt([]float64{math.NaN()}, 3, false); return err }, ErrNonFinite},
		{"Holt too short", func() error { _, err := Holt([]float64{1, 2}, 3, true); return err }, ErrTooShort},
		{"HW too short", func() error { _, err := HoltWinters(good, 12, 3, false, false); return err }, ErrTooShort},
		{"HW multiplicative with zero", func() error {
			y := slices.Repeat([]float64{1, 2, 0, 4}, 6)
			_, err := HoltWinters(y, 4, 3, true, false)
			return err
		}, ErrNotPositive},
		{"Theta horizon 0", func() error { _, err := Theta(good, 0, 0); return err }, ErrHorizon},
		{"Theta too short", func() error { _, err := Theta([]float64{1, 2}, 0, 3); return err }, ErrTooShort},
		{"SeasonalNaive too short", func() error { _, err := SeasonalNaive(good, 12, 3); return err }, ErrTooShort},
		{"Naive empty", func() error { _, err := Naive(nil, 3); return err }, ErrEmpty},
		{"Croston NaN", func() error { _, err := Croston([]float64{0, math.NaN()}, 3); return err }, ErrNonFinite},
		{"Mean horizon", func() error { _, err := Mean(good, 0); return err }, ErrHorizon},
		{"ETS forecast horizon", func() error {
			m, err := FitETS(good, 0, ETSSpec{})
			if err != nil {
				return err
			}
			_, err = m.Forecast(0)
			return err
		}, ErrHorizon},
		{"Series empty", func() error { _, err := Series{ID: "x"}.Forecast(3); return err }, ErrEmpty},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.fn()
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "forecast: ") {
				t.Errorf("error %q lacks the forecast: prefix", err)
			}
		})
	}
}

func TestAutoDoesNotModifyInput(t *testing.T) {
	y := noisy(50, 0.2, func(t int) float64 { return 10 + float64(t%12) })
	orig := slices.Clone(y)
	if _, err := Auto(y, 12, 12); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(orig, y); diff != "" {
		t.Errorf("input changed (-want +got):\n%s", diff)
	}
}

func TestNegativeDataIsAllowed(t *testing.T) {
	// Net revenue after refunds can be negative; forecasts may be too.
	y := noisy(36, 0.1, func(t int) float64 { return 20 - 2*float64(t) })
	f, err := Auto(y, 12, 6)
	if err != nil {
		t.Fatal(err)
	}
	checkNested(t, "negative", f, 6)
	if f.Point[5] >= 0 {
		t.Errorf("a series falling through zero is forecast at %.1f, want below zero", f.Point[5])
	}
}

func TestETSSpecString(t *testing.T) {
	tests := map[ETSSpec]string{
		{}: "ETS(ANN)",
		{Error: MultiplicativeError, Trend: DampedTrend, Season: MultiplicativeSeason}: "ETS(MAdM)",
		{Trend: AdditiveTrend, Season: AdditiveSeason}:                                 "ETS(AAA)",
	}
	for spec, want := range tests {
		if got := spec.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", spec, got, want)
		}
	}
}

func TestFitETSRecoversSmoothingBehaviour(t *testing.T) {
	// A random walk is best smoothed with alpha near 1; white noise around
	// a constant with alpha near 0.
	r := rand.New(rand.NewPCG(3, 4))
	walk, noise := make([]float64, 200), make([]float64, 200)
	level := 100.0
	for i := range walk {
		level += r.NormFloat64()
		walk[i] = level
		noise[i] = 100 + r.NormFloat64()
	}
	mw, err := FitETS(walk, 0, ETSSpec{})
	if err != nil {
		t.Fatal(err)
	}
	mn, err := FitETS(noise, 0, ETSSpec{})
	if err != nil {
		t.Fatal(err)
	}
	if mw.Alpha < 0.8 || mn.Alpha > 0.2 {
		t.Errorf("alpha: random walk %.3f (want > 0.8), white noise %.3f (want < 0.2)", mw.Alpha, mn.Alpha)
	}
	if math.Abs(mw.Sigma-1) > 0.2 || math.Abs(mn.Sigma-1) > 0.2 {
		t.Errorf("sigma: %.3f and %.3f, want about 1", mw.Sigma, mn.Sigma)
	}
	if math.IsInf(mw.AICc, 0) || math.IsNaN(mw.AICc) {
		t.Errorf("AICc = %v", mw.AICc)
	}
}

// TestAutoWeighsThetaAtLongHorizons: Auto averages ETS and Theta equally up
// to six steps ahead, then shifts the weight to Theta, three quarters of it
// from 18 steps on.
func TestAutoWeighsThetaAtLongHorizons(t *testing.T) {
	y := make([]float64, 72)
	for i := range y {
		y[i] = 100 + 2*float64(i) + 15*math.Sin(2*math.Pi*float64(i)/12) + 5*math.Cos(float64(i*i))
	}
	c := newCandidates(y, 12, 24)
	e, th, f := c.etsForecast(), c.thetaForecast(), ruleDefault(c)
	for i := range 24 {
		w := 0.5
		switch {
		case i >= 17:
			w = 0.75
		case i >= 6:
			w = 0.5 + 0.25*float64(i+1-6)/12
		}
		if want := (1-w)*e.Point[i] + w*th.Point[i]; math.Abs(f.Point[i]-want) > 1e-9*math.Abs(want) {
			t.Errorf("step %d: %.4f, want %.4f (ETS %.4f, Theta %.4f, Theta weight %.3f)", i+1, f.Point[i], want, e.Point[i], th.Point[i], w)
		}
	}
	if math.Abs(e.Point[23]-th.Point[23]) < 1 {
		t.Fatalf("ETS and Theta agree at step 24 (%.3f, %.3f): the test shows nothing", e.Point[23], th.Point[23])
	}
	got, err := Auto(y, 12, 24)
	if err != nil || got.Point[23] != f.Point[23] {
		t.Errorf("Auto %.4f, %v; the rule %.4f", got.Point[23], err, f.Point[23])
	}
}
