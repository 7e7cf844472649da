package run

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/phantomos/phantomos/internal/ingest"
)

// cmdImport imports a file of products, sales, assets or FX rates for a
// publisher and prints a summary. A refused file exits non-zero, names each
// bad row's line and column, and writes nothing.
func cmdImport(ctx context.Context, e *env, args []string) error {
	const usageArgs = "{products|sales|assets|fx} --publisher S [--format auto|generic|shopify|woocommerce|amazon|bigcommerce] [--valid-only] [--dry-run] [--source NAME] [--progress] FILE"
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
	progress := fs.Bool("progress", false, "report progress on stderr (rows read, rate, share of the file) even when stderr is not a terminal")
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
	in := &countingReader{r: f}
	opts := ingest.Options{ValidOnly: *validOnly, DryRun: *dryRun, FileName: filepath.Base(file), Source: *source}
	var pr *importProgress
	if tty := isTerminal(e.stderr); tty || *progress {
		pr = &importProgress{w: e.stderr, tty: tty, forced: *progress, in: in, start: start}
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			pr.size = fi.Size()
		}
		opts.Progress = func(rows int64) { pr.report(rows, false) }
	}
	res, err := ingest.Import(ctx, s, pub.ID, kind, *format, in, opts)
	if pr != nil && res != nil {
		pr.report(res.Seen, true)
	}
	if res != nil {
		printImport(e, file, res, time.Since(start))
	}
	if err != nil {
		return userError(err)
	}
	return nil
}

// countingReader counts the bytes read through it, for progress read on
// another goroutine than the parser's.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progressEvery is how often import progress is reported, and how long an
// import runs before a terminal shows any (short files show none).
const progressEvery = time.Second

// importProgress reports a running import on stderr: rows read, the rate
// and, when the file's size is known, the share of its bytes read. A
// terminal gets one line redrawn in place; with --progress elsewhere (a
// pipe or a log file) it gets a line per report, the first batch's at once.
// The final summary stays on stdout either way.
type importProgress struct {
	w      io.Writer
	tty    bool
	forced bool // --progress: report from the first batch on
	in     *countingReader
	size   int64 // bytes; 0 when unknown (not a regular file)
	start  time.Time
	last   time.Time
	shown  bool
	now    func() time.Time // nil: time.Now
}

func (p *importProgress) report(rows int64, final bool) {
	now := time.Now()
	if p.now != nil {
		now = p.now()
	}
	switch {
	case final && !p.shown:
		return // nothing to close
	case final:
	case !p.forced && now.Sub(p.start) < progressEvery:
		return
	case p.shown && now.Sub(p.last) < progressEvery:
		return
	}
	p.last, p.shown = now, true
	line := "import: " + groupDigits(rows) + " rows read"
	if secs := now.Sub(p.start).Seconds(); secs > 0 {
		line += " · " + groupDigits(int64(float64(rows)/secs)) + " rows/s"
	}
	if p.size > 0 {
		pct := min(100, p.in.n.Load()*100/p.size)
		line += fmt.Sprintf(" · %d%% of %s", pct, byteSize(p.size))
	}
	if final {
		line += " · done"
	}
	if !p.tty {
		fmt.Fprintln(p.w, line)
		return
	}
	fmt.Fprint(p.w, "\r\033[K"+line) // back to the line's start, clear it
	if final {
		fmt.Fprintln(p.w)
	}
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// groupDigits writes n with thousands separators: 1234567 → "1,234,567".
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// byteSize writes a size in bytes for people: "912 B", "48.2 MB".
func byteSize(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 3 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %cB", v, "kMGT"[i])
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
	if res.Deleted > 0 {
		fmt.Fprintf(e.stdout, " · lines removed %d", res.Deleted)
	}
	fmt.Fprintf(e.stdout, " · %s\n", took.Round(time.Millisecond))
	if res.Stale > 0 {
		fmt.Fprintf(e.stdout, "  %d orders skipped: the stored version is newer (written by a sync)\n", res.Stale)
	}
	if res.OrdersChanged > 0 {
		what := "changed"
		if res.DryRun {
			what = "would change"
		}
		fmt.Fprintf(e.stdout, "  %s %d existing orders of source %q, e.g. %s\n", what, res.OrdersChanged, res.Source, strings.Join(res.ChangedExamples, ", "))
		if res.DryRun {
			fmt.Fprintln(e.stdout, "  (if this file is another store's, import it with --source NAME)")
		}
	}
	for _, re := range res.Errors {
		fmt.Fprintf(e.stdout, "  %s\n", re.Error())
	}
	if n := res.ErrorCount - int64(len(res.Errors)); n > 0 {
		fmt.Fprintf(e.stdout, "  … and %d more errors\n", n)
	}
}
