package forecast

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/phantomos/phantomos/internal/csvexport"
)

// csvInputColumns returns the input columns of RunCSV (DESIGN.md §5).
func csvInputColumns() []string { return []string{"series_id", "period", "value"} }

// csvOutputColumns returns the output columns of RunCSV (DESIGN.md §5).
func csvOutputColumns() []string {
	return []string{"series_id", "period", "forecast", "lo80", "hi80", "lo95", "hi95", "model"}
}

// csvSeries is one series read by RunCSV.
type csvSeries struct {
	id      string
	periods []string
	values  []float64
	line    int // line of the series' first row, for error messages
}

// RunCSV reads series from r and writes their forecasts to w; it is the
// back-end of `phantomos forecast`.
//
// The input is CSV with a header naming the columns series_id, period and
// value (in any order; other columns are ignored), one row per period, the
// rows of each series in period order. Periods are labels: when all of a
// series' periods look like YYYY-MM or YYYY-MM-DD the output continues them
// as dates (monthly, or by the step between the last two dates); otherwise
// the output periods are integers continuing from the number of rows.
//
// season is the cycle length; 0 infers it from the periods (12 for monthly
// dates, 52 for weekly ones, none otherwise) and 1 turns seasonality off.
//
// The output is CSV with the header
// series_id,period,forecast,lo80,hi80,lo95,hi95,model and horizon rows per
// series, series in input order. Invalid input gives an error naming the
// line and column, and nothing is written.
func RunCSV(r io.Reader, w io.Writer, horizon, season int) error {
	if horizon <= 0 || horizon > maxHorizon {
		return fmt.Errorf("%w: got %d", ErrHorizon, horizon)
	}
	if season < 0 {
		return fmt.Errorf("%w: got %d", ErrSeason, season)
	}
	series, err := readSeriesCSV(r)
	if err != nil {
		return err
	}
	type result struct {
		f       Forecast
		periods []string
		err     error
	}
	results := make([]result, len(series))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(series)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				s := series[i]
				periods, inferred := continuePeriods(s.periods, horizon, season)
				m := season
				if m == 0 {
					m = inferred
				}
				f, err := Auto(s.values, m, horizon)
				if err != nil {
					err = fmt.Errorf("%w (series %q from line %d)", err, s.id, s.line)
				}
				results[i] = result{f, periods, err}
			}
		}()
	}
	for i := range series {
		next <- i
	}
	close(next)
	wg.Wait()

	var buf bytes.Buffer
	cw := csvexport.NewWriter(&buf)
	cw.Write(csvOutputColumns())
	for i, res := range results {
		if res.err != nil {
			return res.err
		}
		f := res.f
		for k := range horizon {
			cw.Write([]string{series[i].id, res.periods[k], formatValue(f.Point[k]),
				formatValue(f.Lo80[k]), formatValue(f.Hi80[k]),
				formatValue(f.Lo95[k]), formatValue(f.Hi95[k]), f.Model})
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("forecast: write csv: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("forecast: write csv: %w", err)
	}
	return nil
}

// formatValue prints a forecast value rounded to 4 decimals, without
// trailing zeros.
func formatValue(v float64) string {
	r := math.Round(v*1e4) / 1e4
	if math.IsInf(r, 0) || math.IsNaN(r) {
		r = v
	}
	if r == 0 {
		r = 0 // no "-0"
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

// readSeriesCSV parses RunCSV's input.
func readSeriesCSV(r io.Reader) ([]csvSeries, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("forecast: line 1: empty input, want a header %s", strings.Join(csvInputColumns(), ","))
	}
	if err != nil {
		return nil, csvError(err)
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if _, dup := col[h]; !dup {
			col[h] = i
		}
	}
	inputColumns := csvInputColumns()
	var idx [3]int
	for i, name := range inputColumns {
		c, ok := col[name]
		if !ok {
			return nil, fmt.Errorf("forecast: line 1: missing column %q (header must name %s)", name, strings.Join(csvInputColumns(), ","))
		}
		idx[i] = c
	}
	var out []csvSeries
	byID := map[string]int{}
	seen := map[string]map[string]int{} // series → period → line
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		field := func(i int) (string, error) {
			c := idx[i]
			if c >= len(rec) {
				return "", fmt.Errorf("forecast: line %d, column %d (%s): missing field", line, c+1, inputColumns[i])
			}
			return strings.TrimSpace(rec[c]), nil
		}
		id, err := field(0)
		if err != nil {
			return nil, err
		}
		if id == "" {
			return nil, fmt.Errorf("forecast: line %d, column %d (series_id): empty", line, idx[0]+1)
		}
		period, err := field(1)
		if err != nil {
			return nil, err
		}
		if period == "" {
			return nil, fmt.Errorf("forecast: line %d, column %d (period): empty", line, idx[1]+1)
		}
		raw, err := field(2)
		if err != nil {
			return nil, err
		}
		v, perr := strconv.ParseFloat(raw, 64)
		if perr != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("forecast: line %d, column %d (value): %q is not a finite number", line, idx[2]+1, raw)
		}
		i, ok := byID[id]
		if !ok {
			i = len(out)
			byID[id] = i
			out = append(out, csvSeries{id: id, line: line})
			seen[id] = map[string]int{}
		}
		if prev, dup := seen[id][period]; dup {
			return nil, fmt.Errorf("forecast: line %d, column %d (period): series %q repeats period %q of line %d", line, idx[1]+1, id, period, prev)
		}
		seen[id][period] = line
		out[i].periods = append(out[i].periods, period)
		out[i].values = append(out[i].values, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("forecast: line 2: no data rows")
	}
	return out, nil
}

// csvError reports a CSV syntax error with its line and column.
func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("forecast: line %d, column %d: %w", pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("forecast: read csv: %w", err)
}

// continuePeriods returns the labels of the h periods after the given ones
// and the season length they suggest (12 monthly, 52 weekly, 1 otherwise).
// season, when set, tells the step of a lone date.
func continuePeriods(periods []string, h, season int) ([]string, int) {
	out := make([]string, h)
	if months, ok := parseAll(periods, "2006-01"); ok {
		last := months[len(months)-1]
		for k := range out {
			out[k] = last.AddDate(0, k+1, 0).Format("2006-01")
		}
		return out, 12
	}
	if dates, ok := parseAll(periods, time.DateOnly); ok {
		last := dates[len(dates)-1]
		monthly, days := true, 7
		if len(dates) >= 2 {
			prev := dates[len(dates)-2]
			monthly = isMonthStep(prev, last)
			days = int(last.Sub(prev).Hours()/24 + 0.5)
		} else if season == 52 {
			monthly = false
		}
		if monthly {
			for k := range out {
				out[k] = addMonths(last, k+1).Format(time.DateOnly)
			}
			return out, 12
		}
		for k := range out {
			out[k] = last.AddDate(0, 0, days*(k+1)).Format(time.DateOnly)
		}
		inferred := 1
		if days == 7 {
			inferred = 52
		}
		return out, inferred
	}
	for k := range out {
		out[k] = strconv.Itoa(len(periods) + k + 1)
	}
	return out, 1
}

// parseAll parses every label with layout ("2006-01" or "2006-01-02") if
// all have exactly its shape: digits where the layout has digits, dashes
// where it has dashes.
func parseAll(labels []string, layout string) ([]time.Time, bool) {
	ts := make([]time.Time, len(labels))
	for i, l := range labels {
		if !sameShape(l, layout) {
			return nil, false
		}
		t, err := time.Parse(layout, l)
		if err != nil {
			return nil, false
		}
		ts[i] = t
	}
	return ts, true
}

// sameShape reports whether s has digits and dashes where layout has them.
func sameShape(s, layout string) bool {
	if len(s) != len(layout) {
		return false
	}
	for i := range len(s) {
		if (layout[i] == '-') != (s[i] == '-') || (s[i] != '-' && (s[i] < '0' || s[i] > '9')) {
			return false
		}
	}
	return true
}

// isMonthStep reports whether b is one calendar month after a: the same day
// of the next month, or both month ends.
func isMonthStep(a, b time.Time) bool {
	if addMonths(a, 1).Equal(b) {
		return true
	}
	ay, am, _ := a.Date()
	by, bm, _ := b.Date()
	next := time.Date(ay, am+1, 1, 0, 0, 0, 0, time.UTC)
	return by == next.Year() && bm == next.Month() && isMonthEnd(a) && isMonthEnd(b)
}

// isMonthEnd reports whether t is the last day of its month.
func isMonthEnd(t time.Time) bool { return t.AddDate(0, 0, 1).Day() == 1 }

// addMonths adds k calendar months to t, keeping month ends at month ends
// and clamping days that the target month lacks (Jan 31 + 1 = Feb 28/29).
func addMonths(t time.Time, k int) time.Time {
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(k), 1, 0, 0, 0, 0, time.UTC)
	lastDay := first.AddDate(0, 1, -1).Day()
	if isMonthEnd(t) || d > lastDay {
		d = lastDay
	}
	return time.Date(first.Year(), first.Month(), d, 0, 0, 0, 0, time.UTC)
}
