package run

import (
	"context"
	"fmt"
	"os"

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

// evalForecast runs the M3 monthly evaluation in dir, on the training
// parts alone when validation is set.
func evalForecast(ctx context.Context, e *env, dir string, validation bool) error {
	_, err := forecast.EvalM3(dir, e.stdout, forecast.EvalOptions{CompareRules: true, Validation: validation})
	return err
}
