package forecast

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path/filepath"
	"strconv"
	"strings"
)

// Folders and files of the evaluation data sets, inside the eval-data
// directory.
const (
	m3MonthlyDir         = "forecast-m3-monthly"
	m3QuarterlyDir       = "forecast-m3-quarterly"
	m3QuarterlyFile      = "m3_quarterly.csv"
	m3QuarterlyPublished = "m3_quarterly_published_forecasts.csv"
	classicDir           = "forecast-classic-series"
)

// Classic series backtest: each series is forecast classicHorizon months
// ahead from classicOrigins origins, classicStep months apart, the last
// one classicHorizon months before the end.
const (
	classicHorizon = 18
	classicOrigins = 4
	classicStep    = 6
)

// classicFiles are the classic monthly series (month,value CSV files).
var classicFiles = []string{"airpassengers.csv", "wineind.csv"}

// EvalAll evaluates the engine on every forecast data set in dataDir (or
// those named by opts.Sets): M3 monthly (required; 18 months ahead, blocks
// of 6), M3 quarterly (8
// quarters ahead, blocks of 4; folder forecast-m3-quarterly, made by
// eval/forecast/m3-quarterly.R) and the classic series (AirPassengers and
// wineind, 18 months ahead from 4 origins), each with R's methods beside
// the engine when opts.Rscript is set. Absent optional sets are reported
// as skipped. It ends with a summary of the long-horizon accuracy.
func EvalAll(dataDir string, w io.Writer, opts EvalOptions) ([]EvalReport, error) {
	if w == nil {
		w = io.Discard
	}
	sets := []struct {
		name string
		load func() (evalSet, error)
	}{
		{"monthly", func() (evalSet, error) {
			return loadM3Set(filepath.Join(dataDir, m3MonthlyDir), "M3 monthly", m3SeriesFile, m3PublishedFile, m3Season, 6)
		}},
		{"quarterly", func() (evalSet, error) {
			return loadM3Set(filepath.Join(dataDir, m3QuarterlyDir), "M3 quarterly", m3QuarterlyFile, m3QuarterlyPublished, 4, 4)
		}},
		{"classic", func() (evalSet, error) { return loadClassicSet(filepath.Join(dataDir, classicDir)) }},
	}
	want := map[string]bool{}
	for _, s := range opts.Sets {
		known := false
		for _, set := range sets {
			known = known || set.name == s
		}
		if !known {
			return nil, fmt.Errorf("forecast: eval: unknown data set %q (want monthly, quarterly or classic)", s)
		}
		want[s] = true
	}
	var reps []EvalReport
	for i, s := range sets {
		if len(want) > 0 && !want[s.name] {
			continue
		}
		set, err := s.load()
		if errors.Is(err, fs.ErrNotExist) && i > 0 {
			fmt.Fprintf(w, "%s\nskipped: %v\n\n", strings.Repeat("=", 78), err)
			continue
		}
		if err != nil {
			return reps, err
		}
		fmt.Fprintf(w, "%s\n", strings.Repeat("=", 78))
		rep, err := set.eval(w, opts)
		if err != nil {
			return reps, err
		}
		fmt.Fprintln(w)
		reps = append(reps, rep)
	}
	printSummary(w, reps)
	return reps, nil
}

// printSummary writes the long-horizon summary of every data set: the
// engine, R's methods and seasonal naive, MASE by horizon block and
// interval coverage over the whole horizon.
func printSummary(w io.Writer, reps []EvalReport) {
	fmt.Fprintf(w, "%s\nSUMMARY: MASE by horizon block, coverage of the 80%%/95%% intervals\n", strings.Repeat("=", 78))
	for _, r := range reps {
		fmt.Fprintf(w, "\n%s (%d series, horizon %d)\n", r.Name, r.Series, r.Horizon)
		fmt.Fprintf(w, "%-20s", "method")
		for _, b := range r.Engine.Bands {
			fmt.Fprintf(w, " %8s", fmt.Sprintf("h=%d-%d", b.From, b.To))
		}
		fmt.Fprintf(w, " %8s %6s %6s\n", "all", "cov80", "cov95")
		for _, s := range r.headline() {
			fmt.Fprintf(w, "%-20s", s.Method)
			for _, b := range s.Bands {
				fmt.Fprintf(w, " %8.3f", b.MASE)
			}
			fmt.Fprintf(w, " %8.3f %6.1f %6.1f\n", s.MASE, s.Coverage80, s.Coverage95)
		}
		if r.RNote != "" {
			fmt.Fprintf(w, "(%s)\n", r.RNote)
		}
	}
}

// loadClassicSet reads the classic series in dir and cuts each into
// backtests: classicOrigins training parts, each followed by a test part
// of classicHorizon months.
func loadClassicSet(dir string) (evalSet, error) {
	set := evalSet{name: "classic series", season: 12, band: 6}
	for _, name := range classicFiles {
		path := filepath.Join(dir, name)
		recs, err := readCSVFile(path)
		if err != nil {
			return evalSet{}, err
		}
		if len(recs[0]) < 2 {
			return evalSet{}, fmt.Errorf("forecast: %s: want columns month,value", path)
		}
		y := make([]float64, 0, len(recs)-1)
		for i, rec := range recs[1:] {
			v, err := strconv.ParseFloat(strings.TrimSpace(rec[1]), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return evalSet{}, fmt.Errorf("forecast: %s:%d: value %q is not a number", path, i+2, rec[1])
			}
			y = append(y, v)
		}
		base := strings.TrimSuffix(name, ".csv")
		for k := classicOrigins - 1; k >= 0; k-- {
			n := len(y) - classicHorizon - k*classicStep
			if n < 2*set.season+2 {
				continue
			}
			set.series = append(set.series, m3Series{
				id: fmt.Sprintf("%s@%d", base, n), category: base,
				train: y[:n], test: y[n : n+classicHorizon],
			})
		}
	}
	if len(set.series) == 0 {
		return evalSet{}, fmt.Errorf("forecast: %s: series too short to backtest", dir)
	}
	return set, nil
}
