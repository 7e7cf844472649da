package forecast

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// classicDataDir locates the shared classic series, skipping when absent.
func classicDataDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "eval-data", classicDir)
	if _, err := os.Stat(filepath.Join(dir, classicFiles[0])); err != nil {
		t.Skipf("classic series not present: %v", err)
	}
	return dir
}

// TestClassicSetBacktests checks the classic backtests: four origins six
// months apart per series, each followed by the next 18 months of data.
func TestClassicSetBacktests(t *testing.T) {
	dir := classicDataDir(t)
	set, err := loadClassicSet(dir)
	if err != nil {
		t.Fatal(err)
	}
	y := loadClassic(t, "airpassengers.csv")
	if len(set.series) != 2*classicOrigins {
		t.Fatalf("%d backtests, want %d", len(set.series), 2*classicOrigins)
	}
	for k, s := range set.series[:classicOrigins] {
		n := len(y) - classicHorizon - (classicOrigins-1-k)*classicStep
		if s.category != "airpassengers" || len(s.train) != n || len(s.test) != classicHorizon || s.test[0] != y[n] || s.train[n-1] != y[n-1] {
			t.Errorf("backtest %d: %s, %d train, %d test", k, s.id, len(s.train), len(s.test))
		}
	}
}

// TestEvalAllSkipsAbsentSets evaluates a data folder holding the monthly
// M3 series and the classic series but no quarterly ones: the quarterly
// set is reported as skipped, the others scored, with the seasonal naive
// row and the summary; an unknown set name is an error.
func TestEvalAllSkipsAbsentSets(t *testing.T) {
	m3 := m3Dir(t)
	classic := classicDataDir(t)
	data := t.TempDir()
	for name, src := range map[string]string{m3MonthlyDir: m3, classicDir: classic} {
		abs, err := filepath.Abs(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(abs, filepath.Join(data, name)); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	reps, err := EvalAll(data, &out, EvalOptions{Limit: 12, RNote: "R: skipped (test)"})
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 2 || reps[0].Name != "M3 monthly" || reps[1].Name != "classic series" {
		t.Fatalf("reports %+v", reps)
	}
	if reps[1].Series != 8 || reps[1].Horizon != 18 || reps[1].SeasonalNaive.Method != "Seasonal naive" {
		t.Errorf("classic report %+v", reps[1])
	}
	for _, want := range []string{"skipped", m3QuarterlyDir, "SUMMARY", "Seasonal naive", "R: skipped (test)", "classic series (8 series, horizon 18)"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if _, err := EvalAll(data, nil, EvalOptions{Sets: []string{"yearly"}}); err == nil || !strings.Contains(err.Error(), `"yearly"`) {
		t.Errorf("unknown set: err = %v", err)
	}
	reps, err = EvalAll(data, nil, EvalOptions{Sets: []string{"classic"}})
	if err != nil || len(reps) != 1 || reps[0].Name != "classic series" {
		t.Errorf("classic only: %d reports, err %v", len(reps), err)
	}
}

// TestQuarterlyBands scores an 8-step horizon in blocks of 4.
func TestQuarterlyBands(t *testing.T) {
	series := []m3Series{{id: "q", train: []float64{1, 2, 3, 4, 2, 3, 4, 5, 3, 4, 5, 6}, test: []float64{4, 5, 6, 7, 5, 6, 7, 8}}}
	f := Forecast{Point: []float64{4, 5, 6, 7, 6, 7, 8, 9}}
	s := scoreSet("x", series, 4, 4, func(int) *Forecast { return &f })
	// Seasonal naive in-sample MAE at lag 4 is 1; errors 0 then 1.
	if len(s.Bands) != 2 || s.Bands[0].To != 4 || s.Bands[1].From != 5 || s.Bands[0].MASE != 0 || s.Bands[1].MASE != 1 || s.MASE != 0.5 {
		t.Errorf("score %+v", s)
	}
}

func TestParseROutputRejects(t *testing.T) {
	series := []m3Series{{id: "a", test: make([]float64, 2)}}
	head := "series_id,method,model,point,lo80,hi80,lo95,hi95\n"
	ok := head + "a,ets,ETS(ANN),1 2,0 1,2 3,-1 0,3 4\n"
	if _, err := parseROutput([]byte(ok), series, []string{"ets"}); err != nil {
		t.Fatalf("valid output: %v", err)
	}
	for name, body := range map[string]string{
		"short":   head + "a,ets,ETS(ANN),1,0 1,2 3,-1 0,3 4\n",
		"nan":     head + "a,ets,ETS(ANN),1 NaN,0 1,2 3,-1 0,3 4\n",
		"unknown": head + "b,ets,ETS(ANN),1 2,0 1,2 3,-1 0,3 4\n",
		"missing": head,
		"column":  "series_id,method,point\na,ets,1 2\n",
	} {
		if _, err := parseROutput([]byte(body), series, []string{"ets"}); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestRunRets runs R's forecast::ets() on two classic backtests when
// Rscript is installed: the forecasts are R's (a multiplicative seasonal
// model for AirPassengers, intervals around the point), and a second run
// reuses the cache.
func TestRunRets(t *testing.T) {
	rscript, err := FindRscript()
	if err != nil {
		t.Skip(err)
	}
	set, err := loadClassicSet(classicDataDir(t))
	if err != nil {
		t.Fatal(err)
	}
	series := []m3Series{set.series[classicOrigins-1], set.series[2*classicOrigins-1]}
	o := rOptions{rscript: rscript, methods: []string{"ets"}, cores: 1, cacheDir: t.TempDir()}
	out, note, err := runR(context.Background(), series, 12, o)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(note, "cached in") {
		t.Errorf("note %q", note)
	}
	air := out["ets"][0]
	if !strings.HasPrefix(air.Model, "ETS(M") || !strings.HasSuffix(air.Model, "M)") {
		t.Errorf("AirPassengers model %q, want multiplicative seasonality", air.Model)
	}
	for i, p := range air.Point {
		if !(air.Lo95[i] < air.Lo80[i] && air.Lo80[i] < p && p < air.Hi80[i] && air.Hi80[i] < air.Hi95[i]) {
			t.Errorf("step %d: bounds %.1f %.1f %.1f %.1f %.1f", i+1, air.Lo95[i], air.Lo80[i], p, air.Hi80[i], air.Hi95[i])
		}
		if math.Abs(p-series[0].test[i]) > 0.25*series[0].test[i] {
			t.Errorf("step %d: R's point %.0f far from the actual %.0f", i+1, p, series[0].test[i])
		}
	}
	again, note, err := runR(context.Background(), series, 12, o)
	if err != nil || !strings.HasPrefix(note, "reused") || again["ets"][1].Point[5] != out["ets"][1].Point[5] {
		t.Errorf("second run: note %q, err %v", note, err)
	}
	if _, _, err := runR(context.Background(), series, 12, rOptions{rscript: rscript, methods: []string{"prophet"}}); err == nil {
		t.Error("unknown R method accepted")
	}
}
