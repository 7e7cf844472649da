package run

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/phantomos/phantomos/internal/forecast"
)

// cmdForecast forecasts the series of a CSV file (series_id,period,value)
// and prints series_id,period,forecast,lo80,hi80,lo95,hi95,model.
func cmdForecast(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "forecast", "--input SERIES.csv --horizon H [--season M]")
	input := fs.String("input", "", "CSV with columns series_id,period,value (- for stdin)")
	horizon := fs.Int("horizon", 0, "periods to forecast (required)")
	season := fs.Int("season", 0, "season length (0: inferred from the periods; 1: none)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *input == "" || *horizon <= 0 || *season < 0 {
		fs.Usage()
		return fmt.Errorf("%w: --input and a positive --horizon are required", ErrUsage)
	}
	in := e.stdin
	if *input != "-" {
		f, err := os.Open(*input)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	return forecast.RunCSV(in, e.stdout, *horizon, *season)
}

// evalForecast runs the forecast evaluation on the data sets in dataDir
// (M3 monthly, M3 quarterly, the classic series), on the training parts
// alone when validation is set. rMode says whether R's forecast package is
// scored beside the engine: "auto" when Rscript is installed, "on" (an
// error without it) or "off".
func evalForecast(ctx context.Context, e *env, dataDir string, validation bool, rMode, rMethods string, rCores int, sets string) error {
	opts := forecast.EvalOptions{CompareRules: true, Validation: validation, RCores: rCores}
	if sets != "" {
		opts.Sets = strings.Split(sets, ",")
	}
	if rMethods != "" {
		opts.RMethods = strings.Split(rMethods, ",")
		for _, m := range opts.RMethods {
			if m != "ets" && m != "arima" {
				return fmt.Errorf("%w: --r-methods: %q is not ets or arima", ErrUsage, m)
			}
		}
	}
	if rCores < 1 || rCores > 64 {
		return fmt.Errorf("%w: --r-cores must be between 1 and 64, got %d", ErrUsage, rCores)
	}
	switch rMode {
	case "off":
		opts.RNote = "R: skipped (--r off)"
	case "auto", "on":
		path, err := forecast.FindRscript()
		if err != nil {
			if rMode == "on" {
				return fmt.Errorf("eval forecast --r on: %w", err)
			}
			opts.RNote = "R: skipped ets(): " + err.Error()
			break
		}
		opts.Rscript = path
		if dir, err := os.UserCacheDir(); err == nil {
			opts.RCacheDir = filepath.Join(dir, "phantomos", "eval-r")
		}
	default:
		return fmt.Errorf("%w: --r must be auto, on or off, got %q", ErrUsage, rMode)
	}
	_, err := forecast.EvalAll(dataDir, e.stdout, opts)
	return err
}
