package forecast

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// loadClassic reads a month,value fixture from the shared evaluation data,
// skipping the test when it is absent.
func loadClassic(t *testing.T, name string) []float64 {
	t.Helper()
	path := filepath.Join("..", "..", "..", "shared", "eval-data", "forecast-classic-series", name)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("classic series not present: %v", err)
	}
	recs, err := readCSVFile(path)
	if err != nil {
		t.Fatal(err)
	}
	y := make([]float64, 0, len(recs)-1)
	for _, r := range recs[1:] {
		v, err := strconv.ParseFloat(r[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		y = append(y, v)
	}
	return y
}

func mae(y, f []float64) float64 {
	var s float64
	for i := range y {
		s += math.Abs(y[i] - f[i])
	}
	return s / float64(len(y))
}

func TestAirPassengersHoldout(t *testing.T) {
	y := loadClassic(t, "airpassengers.csv")
	if len(y) != 144 {
		t.Fatalf("%d months, want 144", len(y))
	}
	train, test := y[:132], y[132:]
	snaive, err := SeasonalNaive(train, 12, 12)
	if err != nil {
		t.Fatal(err)
	}
	base := mae(test, snaive.Point)
	fits := map[string]func() (Forecast, error){
		"Holt-Winters multiplicative": func() (Forecast, error) { return HoltWinters(train, 12, 12, true, false) },
		"Auto":                        func() (Forecast, error) { return Auto(train, 12, 12) },
	}
	for name, fn := range fits {
		f, err := fn()
		if err != nil {
			t.Fatal(err)
		}
		got := mae(test, f.Point)
		t.Logf("%s: MAE %.1f vs seasonal naive %.1f (%s)", name, got, base, f.Model)
		if got >= 0.8*base {
			t.Errorf("%s: holdout MAE %.1f, want well below seasonal naive's %.1f", name, got, base)
		}
		var in95 int
		for i, v := range test {
			if v >= f.Lo95[i] && v <= f.Hi95[i] {
				in95++
			}
		}
		if in95 < 10 {
			t.Errorf("%s: only %d of 12 holdout months inside the 95%% interval", name, in95)
		}
	}
}

func TestWineindHoldout(t *testing.T) {
	y := loadClassic(t, "wineind.csv")
	train, test := y[:len(y)-12], y[len(y)-12:]
	snaive, err := SeasonalNaive(train, 12, 12)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Auto(train, 12, 12)
	if err != nil {
		t.Fatal(err)
	}
	got, base := mae(test, f.Point), mae(test, snaive.Point)
	t.Logf("Auto: MAE %.0f vs seasonal naive %.0f (%s)", got, base, f.Model)
	if got >= base {
		t.Errorf("Auto holdout MAE %.0f, want below seasonal naive's %.0f", got, base)
	}
}
