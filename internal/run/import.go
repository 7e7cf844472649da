package run

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/store"
)

// cmdImport imports a file of products, sales, assets or FX rates for a
// publisher and prints a summary. A refused file exits non-zero, names each
// bad row's line and column, and writes nothing.
func cmdImport(ctx context.Context, e *env, args []string) error {
	const usageArgs = "{products|sales|assets|fx} --publisher S [--format auto|generic|shopify|woocommerce|amazon|bigcommerce] [--valid-only] [--dry-run] [--source NAME] FILE"
	if len(args) == 0 || !slices.Contains(ingest.Kinds, ingest.Kind(args[0])) {
		fmt.Fprintln(e.stderr, "Usage: phantomos import "+usageArgs)
		return fmt.Errorf("%w: import needs products, sales, assets or fx", ErrUsage)
	}
	kind := ingest.Kind(args[0])
	fs := flags(e, "import "+string(kind), usageArgs[strings.Index(usageArgs, "--publisher"):])
	db := fs.String("db", "", "database URL or SQLite file")
	slug := fs.String("publisher", "", "publisher slug (required)")
	format := fs.String("format", ingest.FormatAuto, "file format; auto detects it from the header")
	validOnly := fs.Bool("valid-only", false, "import the valid rows of a file that has invalid ones (default: all or nothing)")
	dryRun := fs.Bool("dry-run", false, "check the file and report what would change, writing nothing")
	source := fs.String("source", "", "name of the source the rows are keyed under (default by format, e.g. \"Shopify export\")")
	// Flags may come after the file name, as people type them.
	var file string
	rest := args[1:]
	for len(rest) > 0 {
		if err := fs.Parse(rest); err != nil {
			return fmt.Errorf("%w: %v", ErrUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		if file != "" {
			fs.Usage()
			return fmt.Errorf("%w: one file at a time (got %q and %q)", ErrUsage, file, fs.Arg(0))
		}
		file, rest = fs.Arg(0), fs.Args()[1:]
	}
	if *slug == "" || file == "" {
		fs.Usage()
		return fmt.Errorf("%w: --publisher and a FILE are required", ErrUsage)
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	s, _, err := openStore(ctx, e, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	pub, err := s.PublisherBySlug(ctx, *slug)
	if err != nil {
		return userError(err)
	}
	start := time.Now()
	last := start
	res, err := ingest.Import(ctx, s, pub.ID, kind, *format, f, ingest.Options{
		ValidOnly: *validOnly, DryRun: *dryRun, FileName: filepath.Base(file), Source: *source,
		Progress: func(rows int64) {
			if time.Since(last) > 2*time.Second {
				last = time.Now()
				fmt.Fprintf(e.stderr, "  %d rows (%.0f rows/s)\n", rows, float64(rows)/time.Since(start).Seconds())
			}
		},
	})
	if res != nil {
		printImport(e, file, res, time.Since(start))
	}
	if err != nil {
		return userError(err)
	}
	return nil
}

func printImport(e *env, file string, res *ingest.Result, took time.Duration) {
	verb := "Imported"
	if res.DryRun {
		verb = "Checked (dry run, nothing written)"
	}
	fmt.Fprintf(e.stdout, "%s %s: %s, format %s, source %q\n", verb, file, res.Kind, res.Format, res.Source)
	fmt.Fprintf(e.stdout, "  rows read %d · inserted %d · updated %d · unchanged %d · failed %d", res.Seen, res.Inserted, res.Updated, res.Skipped, res.Failed)
	if res.ProductsCreated > 0 {
		fmt.Fprintf(e.stdout, " · new unmapped products %d", res.ProductsCreated)
	}
	fmt.Fprintf(e.stdout, " · %s\n", took.Round(time.Millisecond))
	for _, re := range res.Errors {
		fmt.Fprintf(e.stdout, "  %s\n", re.Error())
	}
	if n := res.ErrorCount - int64(len(res.Errors)); n > 0 {
		fmt.Fprintf(e.stdout, "  … and %d more errors\n", n)
	}
}

// cmdBenchImport generates a sales CSV of --rows rows, imports it and
// prints its rate next to the raw bulk-load rate of the same engine.
func cmdBenchImport(ctx context.Context, e *env, s *store.Store, rows int) error {
	return ingest.BenchImport(ctx, s, rows, e.stdout)
}
