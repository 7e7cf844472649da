package run

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/phantomos/phantomos/internal/tagging"
)

// cmdTag tags products offline: no database, no network.
func cmdTag(ctx context.Context, e *env, args []string) error {
	fs := flags(e, "tag", "--assets ASSETS.csv --products PRODUCTS.csv")
	assets := fs.String("assets", "", "CSV with columns game_ip,asset,asset_type,aliases (aliases |-separated)")
	products := fs.String("products", "", "CSV with columns id,title[,description]")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *assets == "" || *products == "" {
		fs.Usage()
		return fmt.Errorf("%w: --assets and --products are required", ErrUsage)
	}
	af, err := os.Open(*assets)
	if err != nil {
		return err
	}
	defer af.Close()
	pf, err := os.Open(*products)
	if err != nil {
		return err
	}
	defer pf.Close()
	return tagging.RunCSV(af, pf, e.stdout)
}

// defaultEvalData is where the evaluation data lives beside a checkout.
const defaultEvalData = "../shared/eval-data"

// cmdEval runs the evaluations the issues ask for on the public data in
// ../shared/eval-data.
func cmdEval(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "ask" {
		return evalAsk(ctx, e, args[1:])
	}
	if len(args) == 0 || (args[0] != "tagging" && args[0] != "forecast") {
		fmt.Fprintln(e.stderr, "Usage: phantomos eval {tagging|forecast|ask} [--data DIR] [--validation] [--r auto|on|off]")
		return fmt.Errorf("%w: eval needs tagging, forecast or ask", ErrUsage)
	}
	what := args[0]
	fs := flags(e, "eval "+what, "[--data DIR]")
	data := fs.String("data", defaultEvalData, "the eval-data folder")
	validation := fs.Bool("validation", false, "forecast: score on the training parts only, holding out their last test-length values")
	rMode := fs.String("r", "auto", "forecast: score R's forecast::ets() beside the engine: auto (when Rscript is installed), on or off")
	rMethods := fs.String("r-methods", "ets", "forecast: R methods, comma-separated: ets, arima (auto.arima)")
	rCores := fs.Int("r-cores", 2, "forecast: R processes in parallel")
	sets := fs.String("sets", "", "forecast: data sets, comma-separated: monthly, quarterly, classic (default all)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if _, err := os.Stat(*data); err != nil {
		return fmt.Errorf("evaluation data not found at %s (it lives in shared/eval-data beside the checkout): %w", *data, errors.Unwrap(err))
	}
	switch what {
	case "tagging":
		_, err := tagging.Eval(*data, e.stdout, tagging.EvalOptions{})
		return err
	default:
		return evalForecast(ctx, e, *data, *validation, *rMode, *rMethods, *rCores, *sets)
	}
}
