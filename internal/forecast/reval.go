package forecast

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// etsScript forecasts exported series with R's forecast package (ets() and
// auto.arima()); see the script's header for its input and output.
//
//go:embed rscript/ets.R
var etsScript []byte

// RMethods lists the R methods EvalOptions.RMethods may name, with the
// name of their row in the report.
var rMethodNames = map[string]string{"ets": "R ets()", "arima": "R auto.arima()"}

// maxRSeries bounds the series sent to R in one run.
const maxRSeries = 10000

// rOptions says how to run R.
type rOptions struct {
	rscript  string
	methods  []string
	cores    int
	cacheDir string
	timeout  time.Duration
}

// rInput renders the series as the script's input CSV.
func rInput(series []m3Series, season int) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"series_id", "season", "h", "train"})
	vals := make([]string, 0, 200)
	for _, s := range series {
		vals = vals[:0]
		for _, v := range s.train {
			vals = append(vals, strconv.FormatFloat(v, 'f', -1, 64))
		}
		_ = w.Write([]string{s.id, strconv.Itoa(season), strconv.Itoa(len(s.test)), strings.Join(vals, " ")})
	}
	w.Flush()
	return buf.Bytes()
}

// runR forecasts every series with each R method and returns, per method,
// the forecasts in series order. Results are cached in o.cacheDir (when
// set) under a hash of the script, the methods and the input, so that a
// second run on the same series reuses them; note says which happened.
func runR(ctx context.Context, series []m3Series, season int, o rOptions) (out map[string][]Forecast, note string, err error) {
	if len(series) > maxRSeries {
		return nil, "", fmt.Errorf("forecast: R: %d series, at most %d", len(series), maxRSeries)
	}
	for _, m := range o.methods {
		if _, ok := rMethodNames[m]; !ok {
			return nil, "", fmt.Errorf("forecast: R: unknown method %q (want ets or arima)", m)
		}
	}
	input := rInput(series, season)
	key := rCacheKey(input, o.methods)
	var cached string
	if o.cacheDir != "" {
		cached = filepath.Join(o.cacheDir, "r-"+key+".csv")
		if data, err := os.ReadFile(cached); err == nil {
			if out, err := parseROutput(data, series, o.methods); err == nil {
				return out, "reused " + cached, nil
			}
		}
	}
	tmp, err := os.MkdirTemp("", "phantomos-r-")
	if err != nil {
		return nil, "", fmt.Errorf("forecast: R: %w", err)
	}
	defer os.RemoveAll(tmp)
	script, in, outPath := filepath.Join(tmp, "ets.R"), filepath.Join(tmp, "in.csv"), filepath.Join(tmp, "out.csv")
	if err := os.WriteFile(script, etsScript, 0o600); err != nil {
		return nil, "", fmt.Errorf("forecast: R: %w", err)
	}
	if err := os.WriteFile(in, input, 0o600); err != nil {
		return nil, "", fmt.Errorf("forecast: R: %w", err)
	}
	timeout := o.timeout
	if timeout <= 0 {
		timeout = 2 * time.Hour
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cores := max(o.cores, 1)
	cmd := exec.CommandContext(ctx, o.rscript, script, in, outPath, strings.Join(o.methods, ","), strconv.Itoa(cores))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = "…" + msg[len(msg)-2000:]
		}
		return nil, "", fmt.Errorf("forecast: R (%s): %w: %s", o.rscript, err, msg)
	}
	data, err := os.ReadFile(outPath)
	if err != nil {
		return nil, "", fmt.Errorf("forecast: R: %w", err)
	}
	if out, err = parseROutput(data, series, o.methods); err != nil {
		return nil, "", err
	}
	note = fmt.Sprintf("ran in %.0f s on %d cores", time.Since(start).Seconds(), cores)
	if cached != "" {
		if err := os.MkdirAll(o.cacheDir, 0o700); err == nil && os.WriteFile(cached, data, 0o600) == nil {
			note += ", cached in " + cached
		}
	}
	return out, note, nil
}

// rCacheKey identifies R's forecasts of an input: a hash of the script,
// the methods and the input.
func rCacheKey(input []byte, methods []string) string {
	sum := sha256.New()
	sum.Write(etsScript)
	fmt.Fprintf(sum, "\x00%s\x00", strings.Join(methods, ","))
	sum.Write(input)
	return hex.EncodeToString(sum.Sum(nil))[:24]
}

// parseROutput reads the script's output: every series must have a
// forecast of its test length from every method, with finite values.
func parseROutput(data []byte, series []m3Series, methods []string) (map[string][]Forecast, error) {
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("forecast: R output: %w", err)
	}
	if len(recs) < 1 {
		return nil, fmt.Errorf("forecast: R output: empty")
	}
	col, err := columns("R output", recs[0], "series_id", "method", "model", "point", "lo80", "hi80", "lo95", "hi95")
	if err != nil {
		return nil, err
	}
	index := make(map[string]int, len(series))
	for i, s := range series {
		index[s.id] = i
	}
	out := map[string][]Forecast{}
	for _, m := range methods {
		out[m] = make([]Forecast, len(series))
	}
	for line, rec := range recs[1:] {
		i, ok := index[rec[col["series_id"]]]
		fs, ok2 := out[rec[col["method"]]]
		if !ok || !ok2 {
			return nil, fmt.Errorf("forecast: R output line %d: unexpected series %q or method %q", line+2, rec[col["series_id"]], rec[col["method"]])
		}
		f := Forecast{Model: rec[col["model"]]}
		for _, c := range []struct {
			name string
			dst  *[]float64
		}{{"point", &f.Point}, {"lo80", &f.Lo80}, {"hi80", &f.Hi80}, {"lo95", &f.Lo95}, {"hi95", &f.Hi95}} {
			v, err := parseFields(rec[col[c.name]])
			if err != nil {
				return nil, fmt.Errorf("forecast: R output line %d: %s: %w", line+2, c.name, err)
			}
			if len(v) != len(series[i].test) {
				return nil, fmt.Errorf("forecast: R output line %d: %s has %d values, want %d", line+2, c.name, len(v), len(series[i].test))
			}
			for _, x := range v {
				if math.IsNaN(x) || math.IsInf(x, 0) {
					return nil, fmt.Errorf("forecast: R output line %d: %s is not finite", line+2, c.name)
				}
			}
			*c.dst = v
		}
		fs[i] = f
	}
	for m, fs := range out {
		for i, f := range fs {
			if f.Point == nil {
				return nil, fmt.Errorf("forecast: R output: no %s forecast for series %s", m, series[i].id)
			}
		}
	}
	return out, nil
}

// errNoRscript is returned by findRscript when R is not installed.
var errNoRscript = errors.New("no Rscript on PATH (apt-get install r-cran-forecast)")

// FindRscript returns the path of Rscript on PATH, or an error saying how
// to install it.
func FindRscript() (string, error) {
	p, err := exec.LookPath("Rscript")
	if err != nil {
		return "", errNoRscript
	}
	return p, nil
}
