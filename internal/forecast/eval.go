package forecast

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// M3 file names inside the evaluation directory.
const (
	m3SeriesFile    = "m3_monthly.csv"
	m3PublishedFile = "m3_monthly_published_forecasts.csv"
	m3Season        = 12
)

// publishedMethods lists the published M3 methods in the order reported.
func publishedMethods() []string {
	return []string{"NAIVE2", "SINGLE", "DAMPEN", "COMB S-H-D", "B-J auto", "ARARMA", "ForecastPro", "THETA"}
}

// EvalOptions tunes EvalM3.
type EvalOptions struct {
	// Workers is the number of series forecast in parallel; 0 means
	// runtime.GOMAXPROCS(0).
	Workers int
	// Limit evaluates only the first Limit series; 0 means all 1428.
	Limit int
	// CompareRules also scores the engine's alternative selection and
	// combination rules on the same series (after the timed run), to show
	// which rule wins.
	CompareRules bool
	// Validation scores on the training parts alone: each series' last
	// test-length training values are held out and forecast from the rest
	// (series too short for that are left out), so that choices can be
	// made without looking at the test part. Published forecasts, which
	// are of the test part, are not scored.
	Validation bool
	// Rscript, when set, is the R interpreter used to forecast the same
	// series with R's forecast package (EvalOptions.RMethods), scored
	// beside the engine. Empty: R is not run.
	Rscript string
	// RMethods names the R methods: "ets" (forecast::ets(), the default)
	// and "arima" (forecast::auto.arima()).
	RMethods []string
	// RCores is the number of R processes (default 1).
	RCores int
	// RCacheDir keeps R's forecasts keyed by their input, so that a
	// second evaluation of the same series reuses them; empty: no cache.
	RCacheDir string
	// Sets restricts EvalAll to the named data sets ("monthly",
	// "quarterly", "classic"); empty: all.
	Sets []string
	// RNote is printed instead of R's rows when Rscript is empty (why R
	// was skipped).
	RNote string
}

// MethodScore is the accuracy of one method over the evaluated series.
type MethodScore struct {
	// Method names the method.
	Method string
	// SMAPE is the M3 symmetric MAPE in percent: the mean over series and
	// horizons of 200|y-f|/(|y|+|f|).
	SMAPE float64
	// MASE is the mean over series of the mean absolute error scaled by the
	// in-sample MAE of the seasonal naive method (m = 12).
	MASE float64
	// Coverage80 and Coverage95 are the shares (in percent) of test values
	// inside the 80% and 95% prediction intervals; NaN for methods without
	// intervals.
	Coverage80, Coverage95 float64
	// Bands scores the horizons in blocks (of six months for monthly data:
	// 1–6, 7–12, 13–18), to show how accuracy holds up at long horizons.
	Bands []BandScore
}

// BandScore is the accuracy of a method over horizons From to To (1-based,
// inclusive).
type BandScore struct {
	From, To int
	// MASE is the mean over series of the band's mean absolute error
	// scaled as MethodScore.MASE.
	MASE float64
	// Coverage80 and Coverage95 are the band's interval coverage in
	// percent; NaN for methods without intervals.
	Coverage80, Coverage95 float64
}

// EvalReport is the outcome of EvalM3.
type EvalReport struct {
	// Name names the data set ("M3 monthly", …); Season is its cycle and
	// Band the width of the horizon blocks.
	Name         string
	Season, Band int
	// Series is the number of series evaluated; Horizon the test length.
	Series, Horizon int
	// Workers is the number of parallel workers used.
	Workers int
	// Engine scores Auto.
	Engine MethodScore
	// Elapsed is the wall time Auto took to forecast every series.
	Elapsed time.Duration
	// CPU is the processor time the process used meanwhile (0 where it is
	// not measured). On a machine shared with other work, CPU divided by
	// Workers estimates the wall time on an idle machine.
	CPU time.Duration
	// SeasonalNaive scores the seasonal naive method, the MASE scale's
	// method, with its intervals.
	SeasonalNaive MethodScore
	// R scores R's methods (EvalOptions.Rscript), in RMethods order; RNote
	// says how R was run, or why not.
	R     []MethodScore
	RNote string
	// Published scores the competition's published forecasts, recomputed
	// from the forecasts themselves.
	Published []MethodScore
	// Rules scores the alternative rules when EvalOptions.CompareRules is
	// set.
	Rules []MethodScore
	// Categories scores Auto per M3 category (MICRO, INDUSTRY, …).
	Categories []MethodScore
	// Validation is EvalOptions.Validation.
	Validation bool
}

// m3Series is one M3 series with its split.
type m3Series struct {
	id, category string
	train, test  []float64
}

// EvalM3 evaluates Auto on the M3 competition's monthly series in dir (the
// files m3_monthly.csv and m3_monthly_published_forecasts.csv): each series
// is forecast from its training part over the 18-month test part, in
// parallel, and scored by sMAPE, MASE and interval coverage beside the
// published methods. It prints a table to w (nil discards it) and returns
// the figures. When the data is absent the error wraps fs.ErrNotExist, so
// that callers can skip the evaluation cleanly.
//
// The forecasts use only each series' training part; the test part is read
// for scoring alone.
func EvalM3(dir string, w io.Writer, opts EvalOptions) (EvalReport, error) {
	set, err := loadM3Set(dir, "M3 monthly", m3SeriesFile, m3PublishedFile, m3Season, 6)
	if err != nil {
		return EvalReport{}, err
	}
	return set.eval(w, opts)
}

// evalSet is a data set to evaluate: series with their split, the season,
// the width of the horizon blocks and any published forecasts.
type evalSet struct {
	name         string
	season, band int
	series       []m3Series
	published    map[string]map[string][]float64
	methods      []string // published methods, in report order
}

// loadM3Set reads an M3 folder: the series file and, when present, the
// published forecasts.
func loadM3Set(dir, name, seriesFile, publishedFile string, season, band int) (evalSet, error) {
	series, err := loadM3(filepath.Join(dir, seriesFile))
	if err != nil {
		return evalSet{}, err
	}
	published, err := loadPublished(filepath.Join(dir, publishedFile))
	if err != nil {
		return evalSet{}, err
	}
	return evalSet{name: name, season: season, band: band, series: series, published: published, methods: publishedMethods()}, nil
}

// eval forecasts every series of the set from its training part, in
// parallel, scores the forecasts and prints the report to w.
func (set evalSet) eval(w io.Writer, opts EvalOptions) (EvalReport, error) {
	if w == nil {
		w = io.Discard
	}
	series, published, m := set.series, set.published, set.season
	if opts.Limit > 0 && opts.Limit < len(series) {
		series = series[:opts.Limit]
	}
	if opts.Validation {
		var held []m3Series
		for _, s := range series {
			h := len(s.test)
			if len(s.train)-h >= 2*m+2 {
				held = append(held, m3Series{id: s.id, category: s.category, train: s.train[:len(s.train)-h], test: s.train[len(s.train)-h:]})
			}
		}
		series, published = held, nil
		if len(series) == 0 {
			return EvalReport{}, fmt.Errorf("forecast: eval: %s: no series long enough to validate on", set.name)
		}
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	horizon := len(series[0].test)
	rep := EvalReport{Name: set.name, Season: m, Band: set.band, Series: len(series), Horizon: horizon, Workers: workers, Validation: opts.Validation}
	score := func(name string, series []m3Series, get func(i int) *Forecast) MethodScore {
		return scoreSet(name, series, m, set.band, get)
	}

	start, startCPU := time.Now(), processCPUTime()
	engine := forecastAll(series, workers, func(s m3Series) []Forecast {
		f, err := Auto(s.train, m, len(s.test))
		if err != nil {
			return nil
		}
		return []Forecast{f}
	})
	rep.Elapsed = time.Since(start)
	if cpu := processCPUTime(); startCPU > 0 {
		rep.CPU = cpu - startCPU
	}
	for i, fs := range engine {
		if fs == nil {
			return rep, fmt.Errorf("forecast: eval: series %s could not be forecast", series[i].id)
		}
	}
	rep.Engine = score("PhantomOS Auto", series, func(i int) *Forecast { return &engine[i][0] })
	snaive := make([]Forecast, len(series))
	for i, s := range series {
		f, err := SeasonalNaive(s.train, m, len(s.test))
		if err != nil {
			return rep, fmt.Errorf("forecast: eval: series %s: %w", s.id, err)
		}
		snaive[i] = f
	}
	rep.SeasonalNaive = score("Seasonal naive", series, func(i int) *Forecast { return &snaive[i] })

	rep.RNote = opts.RNote
	if opts.Rscript != "" {
		methods := opts.RMethods
		if len(methods) == 0 {
			methods = []string{"ets"}
		}
		rf, note, err := runR(context.Background(), series, m, rOptions{rscript: opts.Rscript, methods: methods, cores: opts.RCores, cacheDir: opts.RCacheDir})
		if err != nil {
			return rep, err
		}
		rep.RNote = "R forecast package: " + note
		for _, meth := range methods {
			fs := rf[meth]
			rep.R = append(rep.R, score(rMethodNames[meth], series, func(i int) *Forecast { return &fs[i] }))
		}
	}

	for _, method := range set.methods {
		pf, ok := published[method]
		if !ok {
			continue
		}
		missing := false
		for _, s := range series {
			if len(pf[s.id]) != len(s.test) {
				missing = true
			}
		}
		if missing {
			continue
		}
		rep.Published = append(rep.Published, score(method, series, func(i int) *Forecast {
			return &Forecast{Point: pf[series[i].id]}
		}))
	}

	var cats []string
	seen := map[string][]int{}
	for i, s := range series {
		if _, ok := seen[s.category]; !ok {
			cats = append(cats, s.category)
		}
		seen[s.category] = append(seen[s.category], i)
	}
	for _, cat := range cats {
		idx := seen[cat]
		sub := make([]m3Series, len(idx))
		for j, i := range idx {
			sub[j] = series[i]
		}
		rep.Categories = append(rep.Categories, score(fmt.Sprintf("%s (%d)", cat, len(idx)), sub, func(j int) *Forecast {
			return &engine[idx[j]][0]
		}))
	}

	if opts.CompareRules {
		rules := evalRules()
		all := forecastAll(series, workers, func(s m3Series) []Forecast {
			fns := make([]rule, len(rules))
			for i, r := range rules {
				fns[i] = r.fn
			}
			return autoRules(s.train, m, len(s.test), fns...)
		})
		for k, r := range rules {
			rep.Rules = append(rep.Rules, score(r.name, series, func(i int) *Forecast { return &all[i][k] }))
		}
	}
	rep.print(w)
	return rep, nil
}

// namedRule is a rule with its name in the report.
type namedRule struct {
	name string
	fn   rule
}

// evalRules lists the rules compared by EvalM3.
func evalRules() []namedRule {
	damped := func(c *candidates) Forecast { return c.adjustedETS(ETSSpec{Trend: DampedTrend}, "Damped") }
	return []namedRule{
		{"ETS by AICc", func(c *candidates) Forecast { return c.etsForecast() }},
		{"Theta", func(c *candidates) Forecast { return c.thetaForecast() }},
		{"SES (seas. adj.)", func(c *candidates) Forecast { return c.adjustedETS(ETSSpec{}, "SES") }},
		{"Damped (seas. adj.)", damped},
		{"Comb S-H-D", func(c *candidates) Forecast {
			return combine(c.adjustedETS(ETSSpec{}, "SES"),
				c.adjustedETS(ETSSpec{Trend: AdditiveTrend}, "Holt"), damped(c))
		}},
		{"Mean(ETS,Theta) (old Auto)", func(c *candidates) Forecast { return combine(c.etsForecast(), c.thetaForecast()) }},
		{"Mean(ETS,Theta,Damped)", func(c *candidates) Forecast {
			return combine(c.etsForecast(), c.thetaForecast(), damped(c))
		}},
		{"Median(ETS,Theta,Damped)", func(c *candidates) Forecast {
			return combineMedian(c.etsForecast(), c.thetaForecast(), damped(c))
		}},
		{"log ETS", func(c *candidates) Forecast { return c.logETSForecast() }},
		{"Mean(ETS,Theta,logETS)", func(c *candidates) Forecast {
			return combine(c.etsForecast(), c.thetaForecast(), c.logETSForecast())
		}},
		{"Mean(ETS,Theta,Damped,logETS)", func(c *candidates) Forecast {
			return combine(c.etsForecast(), c.thetaForecast(), damped(c), c.logETSForecast())
		}},
		{"Mean(logETS,Theta)", func(c *candidates) Forecast { return combine(c.logETSForecast(), c.thetaForecast()) }},
		{"ETS,Theta by horizon, to 1", horizonWeighted(1, true)},
		{"Auto", ruleDefault},
		{"ETS averaged by AICc weights", func(c *candidates) Forecast { return c.etsAverage() }},
		{"Mean(ETS avg,Theta)", func(c *candidates) Forecast { return combine(c.etsAverage(), c.thetaForecast()) }},
		{"best ETS,Theta by horizon", horizonWeighted(longThetaWeight, false)},
	}
}

// forecastAll runs fn over every series on a pool of workers, keeping the
// series order.
func forecastAll(series []m3Series, workers int, fn func(m3Series) []Forecast) [][]Forecast {
	out := make([][]Forecast, len(series))
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = fn(series[i])
			}
		}()
	}
	for i := range series {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// score computes the accuracy of the forecasts get(i) of monthly series i.
func score(name string, series []m3Series, get func(i int) *Forecast) MethodScore {
	return scoreSet(name, series, m3Season, 6, get)
}

// scoreSet computes the accuracy of the forecasts get(i) of series i with
// season m (the MASE scale) in horizon blocks of bandWidth.
func scoreSet(name string, series []m3Series, m, bandWidth int, get func(i int) *Forecast) MethodScore {
	var smape, mase float64
	var in80, in95, points, scaled int
	horizon := 0
	if len(series) > 0 {
		horizon = len(series[0].test)
	}
	nb := (horizon + bandWidth - 1) / bandWidth
	type band struct {
		mase            float64
		in80, in95, pts int
	}
	bands := make([]band, nb)
	intervals := true
	for i, s := range series {
		f := get(i)
		if f.Lo80 == nil {
			intervals = false
		}
		sc := seasonalNaiveMAE(s.train, m)
		var ss, ae float64
		bandAE := make([]float64, nb)
		for k, y := range s.test {
			p := f.Point[k]
			if d := math.Abs(y) + math.Abs(p); d > 0 {
				ss += 200 * math.Abs(y-p) / d
			}
			ae += math.Abs(y - p)
			b := min(k/bandWidth, nb-1)
			bandAE[b] += math.Abs(y - p)
			if intervals {
				if y >= f.Lo80[k] && y <= f.Hi80[k] {
					in80++
					bands[b].in80++
				}
				if y >= f.Lo95[k] && y <= f.Hi95[k] {
					in95++
					bands[b].in95++
				}
			}
			points++
			bands[b].pts++
		}
		h := float64(len(s.test))
		smape += ss / h
		// A constant training series has no scale; it is left out of MASE.
		if sc > 0 {
			mase += ae / h / sc
			scaled++
			for b := range bands {
				width := float64(min(len(s.test), (b+1)*bandWidth) - b*bandWidth)
				if width > 0 {
					bands[b].mase += bandAE[b] / width / sc
				}
			}
		}
	}
	n := float64(len(series))
	ms := MethodScore{Method: name, SMAPE: smape / n, MASE: mase / float64(max(scaled, 1)), Coverage80: math.NaN(), Coverage95: math.NaN()}
	if intervals && points > 0 {
		ms.Coverage80 = 100 * float64(in80) / float64(points)
		ms.Coverage95 = 100 * float64(in95) / float64(points)
	}
	for b, bs := range bands {
		sc := BandScore{From: b*bandWidth + 1, To: min(horizon, (b+1)*bandWidth), MASE: bs.mase / float64(max(scaled, 1)),
			Coverage80: math.NaN(), Coverage95: math.NaN()}
		if intervals && bs.pts > 0 {
			sc.Coverage80 = 100 * float64(bs.in80) / float64(bs.pts)
			sc.Coverage95 = 100 * float64(bs.in95) / float64(bs.pts)
		}
		ms.Bands = append(ms.Bands, sc)
	}
	return ms
}

// seasonalNaiveMAE is the in-sample mean absolute error of the seasonal
// naive method, the MASE scale.
func seasonalNaiveMAE(y []float64, m int) float64 {
	if len(y) <= m {
		m = 1
	}
	var s float64
	for t := m; t < len(y); t++ {
		s += math.Abs(y[t] - y[t-m])
	}
	return s / float64(len(y)-m)
}

// print writes the report as a table.
func (r EvalReport) print(w io.Writer) {
	name := r.Name
	if name == "" {
		name = "M3 monthly"
	}
	if r.Validation {
		fmt.Fprintf(w, "VALIDATION on the training parts (last %d steps of each held out; the test part is not read)\n", r.Horizon)
	}
	fmt.Fprintf(w, "%s: %d series, horizon %d, %d workers, Auto took %.2f s wall (%.0f series/s), %.2f s CPU\n",
		name, r.Series, r.Horizon, r.Workers, r.Elapsed.Seconds(), float64(r.Series)/r.Elapsed.Seconds(), r.CPU.Seconds())
	if r.RNote != "" {
		fmt.Fprintf(w, "%s\n", r.RNote)
	}
	fmt.Fprintln(w)
	const format = "%-28s %7s %7s %7s %7s\n"
	fmt.Fprintf(w, format, "method", "sMAPE", "MASE", "cov80", "cov95")
	row := func(s MethodScore) {
		cov := func(v float64) string {
			if math.IsNaN(v) {
				return "-"
			}
			return strconv.FormatFloat(v, 'f', 1, 64)
		}
		fmt.Fprintf(w, format, s.Method, strconv.FormatFloat(s.SMAPE, 'f', 2, 64),
			strconv.FormatFloat(s.MASE, 'f', 3, 64), cov(s.Coverage80), cov(s.Coverage95))
	}
	for _, s := range r.headline() {
		row(s)
	}
	section := func(title string, scores []MethodScore) {
		if len(scores) == 0 {
			return
		}
		fmt.Fprintf(w, "\n%s\n", title)
		for _, s := range scores {
			row(s)
		}
	}
	section("published M3 forecasts (sMAPE recomputed from the forecasts)", r.Published)
	section("engine rules on the same fits (selection uses training data only)", r.Rules)
	section("Auto by category", r.Categories)
	r.printBands(w)
}

// headline returns the engine, R's methods and the seasonal naive method,
// the rows the report leads with.
func (r EvalReport) headline() []MethodScore {
	out := append([]MethodScore{r.Engine}, r.R...)
	if r.SeasonalNaive.Method != "" {
		out = append(out, r.SeasonalNaive)
	}
	return out
}

// printBands writes the long-horizon table: MASE and interval coverage by
// block of horizons for the engine, R's methods, seasonal naive, the
// engine's rules and the published methods.
func (r EvalReport) printBands(w io.Writer) {
	if len(r.Engine.Bands) == 0 {
		return
	}
	fmt.Fprintf(w, "\nlong horizons: MASE (and coverage 80%%/95%%) by horizon\n")
	fmt.Fprintf(w, "%-28s", "method")
	for _, b := range r.Engine.Bands {
		fmt.Fprintf(w, " %15s", fmt.Sprintf("h=%d-%d", b.From, b.To))
	}
	fmt.Fprintln(w)
	row := func(s MethodScore) {
		fmt.Fprintf(w, "%-28s", s.Method)
		for _, b := range s.Bands {
			cell := strconv.FormatFloat(b.MASE, 'f', 3, 64)
			if !math.IsNaN(b.Coverage80) {
				cell += fmt.Sprintf(" %2.0f/%2.0f", b.Coverage80, b.Coverage95)
			}
			fmt.Fprintf(w, " %15s", cell)
		}
		fmt.Fprintln(w)
	}
	for _, s := range r.headline() {
		row(s)
	}
	for _, s := range r.Rules {
		row(s)
	}
	for _, s := range r.Published {
		row(s)
	}
}

// loadM3 reads the series file.
func loadM3(path string) ([]m3Series, error) {
	recs, err := readCSVFile(path)
	if err != nil {
		return nil, err
	}
	col, err := columns(path, recs[0], "series_id", "category", "train", "test")
	if err != nil {
		return nil, err
	}
	var out []m3Series
	for i, rec := range recs[1:] {
		s := m3Series{id: rec[col["series_id"]], category: rec[col["category"]]}
		if s.train, err = parseFields(rec[col["train"]]); err != nil {
			return nil, fmt.Errorf("forecast: %s:%d: train: %w", path, i+2, err)
		}
		if s.test, err = parseFields(rec[col["test"]]); err != nil {
			return nil, fmt.Errorf("forecast: %s:%d: test: %w", path, i+2, err)
		}
		if len(s.train) == 0 || len(s.test) == 0 {
			return nil, fmt.Errorf("forecast: %s:%d: empty train or test", path, i+2)
		}
		if len(out) > 0 && len(s.test) != len(out[0].test) {
			return nil, fmt.Errorf("forecast: %s:%d: test length %d differs from %d", path, i+2, len(s.test), len(out[0].test))
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("forecast: %s: no series", path)
	}
	return out, nil
}

// loadPublished reads the published forecasts: method → series → values.
func loadPublished(path string) (map[string]map[string][]float64, error) {
	recs, err := readCSVFile(path)
	if err != nil {
		return nil, err
	}
	col, err := columns(path, recs[0], "series_id", "method", "forecast")
	if err != nil {
		return nil, err
	}
	out := map[string]map[string][]float64{}
	for i, rec := range recs[1:] {
		v, err := parseFields(rec[col["forecast"]])
		if err != nil {
			return nil, fmt.Errorf("forecast: %s:%d: %w", path, i+2, err)
		}
		method := rec[col["method"]]
		if out[method] == nil {
			out[method] = map[string][]float64{}
		}
		out[method][rec[col["series_id"]]] = v
	}
	return out, nil
}

// readCSVFile reads a whole CSV file with a header row.
func readCSVFile(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("forecast: %w", err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("forecast: %s: %w", path, err)
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("forecast: %s: no data rows", path)
	}
	return recs, nil
}

// columns maps the wanted header names to their positions.
func columns(path string, header []string, want ...string) (map[string]int, error) {
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	for _, w := range want {
		if _, ok := col[w]; !ok {
			return nil, fmt.Errorf("forecast: %s: missing column %q", path, w)
		}
	}
	return col, nil
}

// parseFields parses space-separated numbers.
func parseFields(s string) ([]float64, error) {
	fields := strings.Fields(s)
	out := make([]float64, len(fields))
	for i, f := range fields {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return nil, fmt.Errorf("value %d (%q) is not a number", i+1, f)
		}
		out[i] = v
	}
	return out, nil
}
