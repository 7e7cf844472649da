package forecast

import (
	"math"
	"testing"
)

// m3LikeSeries returns a deterministic 126-month series with trend,
// multiplicative seasonality and noise, the length of the longest M3
// monthly training series.
func m3LikeSeries() []float64 {
	y := make([]float64, 126)
	state := uint64(42)
	for t := range y {
		state = state*6364136223846793005 + 1442695040888963407
		noise := float64(state>>11)/float64(1<<53) - 0.5
		season := 1 + 0.25*math.Sin(2*math.Pi*float64(t)/12)
		y[t] = (1000 + 8*float64(t)) * season * (1 + 0.1*noise)
	}
	return y
}

// BenchmarkAuto measures the automatic engine on one M3-length monthly
// series with an 18-month horizon.
func BenchmarkAuto(b *testing.B) {
	y := m3LikeSeries()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Auto(y, 12, 18); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "series/s")
}
