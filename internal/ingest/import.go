package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/csvexport"
	"github.com/phantomos/phantomos/internal/store"
)

// DefaultFXFallbackDays is how far back an order day without its own FX
// rate may borrow the most recent one: a week covers weekends and holidays,
// on which central banks publish no rates.
const DefaultFXFallbackDays = 7

// Options tune an import.
type Options struct {
	// ValidOnly imports the valid rows of a file that has invalid ones.
	// By default one invalid row rejects the whole file and nothing is
	// written.
	ValidOnly bool
	// DryRun parses, validates and runs the whole import in a transaction
	// that is rolled back: a preview with exact counts and every error,
	// nothing written and no run recorded.
	DryRun bool
	// FileName is recorded with the run.
	FileName string
	// Source names the connector sales and products are keyed under, by
	// name or id: an existing connector (a synced store, so its history
	// file and its sync key each order once) or a new source. The default
	// depends on the format ("Shopify export", "Amazon report", "CSV
	// import", …). Orders are keyed by the platform's order id, so two
	// stores under one source collide only where a format lacks ids (a
	// Shopify file without Id, generic files): give each store its source.
	Source string
	// Currency is assumed where a file has no currency column; the default
	// is the publisher's reporting currency.
	Currency string
	// FXFallbackDays: an order day without an FX rate uses the most recent
	// rate of up to this many days before. 0 means DefaultFXFallbackDays;
	// a negative value requires the exact day's rate.
	FXFallbackDays int
	// MaxErrors caps the row errors kept (counts stay exact); 0 means 1000.
	MaxErrors int
	// Progress, if set, is called after each batch with the rows read so far.
	Progress func(rows int64)
	// CreatedBy is the importing user's id, recorded with the run.
	CreatedBy string
}

// Result is the outcome of an import. Seen counts file rows; Inserted,
// Updated and Skipped (unchanged) count records — products, sale lines,
// assets, rates — and Failed counts refused rows. A refused file reports
// Inserted = Updated = 0 because nothing was written.
type Result struct {
	RunID           string // the import_runs row; empty for a dry run
	Kind            Kind
	Format          string
	Source          string
	DryRun          bool
	Seen            int64
	Inserted        int64
	Updated         int64
	Skipped         int64
	Failed          int64
	ProductsCreated int64 // unmapped products created for sales of unknown products
	Stale           int64 // orders skipped: the stored version is newer (a sync's)
	Deleted         int64 // stored lines removed: their order's new version lacks them
	// OrdersChanged counts orders that existed before and that the import
	// changes (a line added, changed or removed), ChangedExamples names a
	// few: what a preview asks about before it overwrites anything.
	OrdersChanged   int64
	ChangedExamples []string
	Errors          []RowError
	ErrorCount      int64         // all row errors, also beyond the cap on Errors
	From, To        phantomos.Day // days whose rollups were refreshed
}

// defaultSource names the connector of each format.
var defaultSource = map[string]string{
	FormatGeneric: "CSV import", FormatShopify: "Shopify export", FormatWooCommerce: "WooCommerce export",
	FormatAmazon: "Amazon report", FormatBigCommerce: "BigCommerce export",
}

// batch sizes: rows handed to the store at once.
const (
	salesBatch   = 10000
	catalogBatch = 1000
)

// Import reads a file of kind from r in the given format (FormatAuto
// detects it from the header) and writes it for publisher pub through the
// store's idempotent write path, streaming: memory stays flat whatever the
// file's size. It returns the result also when the file is refused (then
// with an EINVALID error whose message says why, and Result.Errors listing
// line, column, value and reason of each bad row).
func Import(ctx context.Context, s *store.Store, pub phantomos.PublisherID, kind Kind, format string, r io.Reader, opts Options) (*Result, error) {
	switch kind {
	case KindProducts, KindSales, KindAssets, KindFX:
	default:
		return nil, phantomos.Errorf(phantomos.EINVALID, "Unknown import kind %q (choose products, sales, assets or fx).", kind)
	}
	p, err := s.Publisher(ctx, pub)
	if err != nil {
		return nil, err
	}
	cfg := Config{Currency: p.ReportingCurrency, Location: p.Location()}
	if opts.Currency != "" {
		if cfg.Currency, err = normCurrency(opts.Currency); err != nil {
			return nil, phantomos.Errorf(phantomos.EINVALID, "Currency %q %v.", opts.Currency, err)
		}
	}
	fallback := opts.FXFallbackDays
	switch {
	case fallback == 0:
		fallback = DefaultFXFallbackDays
	case fallback < 0:
		fallback = 0
	}
	t, format, openErr := openKind(r, kind, format)
	if format == FormatAuto || format == "" {
		format = FormatGeneric
	}
	source := opts.Source
	if source == "" {
		source = defaultSource[format]
	}
	spec := store.ImportSpec{
		Kind: string(kind), Format: format, FileName: opts.FileName, Source: source, ValidOnly: opts.ValidOnly,
		DryRun: opts.DryRun, FXFallbackDays: fallback, MaxErrors: opts.MaxErrors, CreatedBy: opts.CreatedBy,
	}
	if openErr == nil {
		spec.Columns = errorColumns(t, format)
	}
	rep, err := s.Import(ctx, pub, spec, func(w *store.ImportWriter) error {
		if openErr != nil {
			return openErr
		}
		switch kind {
		case KindProducts:
			pp, err := productParser(t, format, cfg)
			if err != nil {
				return err
			}
			if err := pump(ctx, t, pp, w, catalogBatch, w.WriteProducts, opts.Progress); err != nil {
				return err
			}
		case KindSales:
			sp, err := salesParser(t, format, cfg)
			if err != nil {
				return err
			}
			if err := pump(ctx, t, sp, w, salesBatch, w.WriteSales, opts.Progress); err != nil {
				return err
			}
		case KindAssets:
			ap, err := newAssets(t)
			if err != nil {
				return err
			}
			if err := pump(ctx, t, parser[Asset](ap), w, catalogBatch, w.WriteAssets, opts.Progress); err != nil {
				return err
			}
		default:
			rp, err := newRates(t)
			if err != nil {
				return err
			}
			if err := pump(ctx, t, parser[Rate](rp), w, catalogBatch, w.WriteFXRates, opts.Progress); err != nil {
				return err
			}
		}
		if w.Report().Seen == 0 {
			return phantomos.Errorf(phantomos.EINVALID, "The file has no rows, only its header: nothing to import.")
		}
		return nil
	})
	if rep == nil {
		return nil, err
	}
	res := &Result{
		RunID: rep.RunID, Kind: kind, Format: format, Source: source, DryRun: opts.DryRun, Seen: rep.Seen,
		Inserted: rep.Inserted, Updated: rep.Updated, Skipped: rep.Skipped, Failed: rep.Failed,
		ProductsCreated: rep.ProductsCreated, Stale: rep.Stale, Deleted: rep.Deleted, OrdersChanged: rep.OrdersChanged,
		ChangedExamples: rep.ChangedExamples, Errors: rep.Errors, ErrorCount: rep.ErrorCount, From: rep.From, To: rep.To,
	}
	if rep.ConnectorName != "" {
		res.Source = rep.ConnectorName
	}
	if kind != KindProducts && kind != KindSales {
		res.Source = ""
	}
	return res, err
}

func productParser(t *table, format string, cfg Config) (parser[Product], error) {
	switch format {
	case FormatShopify:
		return newShopifyProducts(t, cfg)
	case FormatWooCommerce:
		return newWooProducts(t, cfg)
	}
	return newGenericProducts(t, cfg)
}

func salesParser(t *table, format string, cfg Config) (parser[Sale], error) {
	switch format {
	case FormatShopify:
		return newShopifyOrders(t, cfg)
	case FormatAmazon:
		return newAmazonOrders(t, cfg)
	case FormatBigCommerce:
		return newBigCommerceOrders(t, cfg)
	case FormatWooCommerce:
		return newWooOrders(t, cfg)
	}
	return newGenericSales(t, cfg)
}

// errorColumns names the columns the store's own checks report on: each
// field of a record (see store.ImportSpec.Columns) is named by the first of
// its candidate headers the file has.
func errorColumns(t *table, format string) map[string]string {
	var fields map[string][]string
	switch format {
	case FormatShopify:
		fields = map[string][]string{
			"order": {"id", "name"}, "order name": {"name"}, "line": {"id", "name"}, "name": {"lineitem name", "title"},
			"sku": {"lineitem sku", "variant sku"}, "date": {"created at"}, "channel": {"source"}, "currency": {"currency"},
			"region": {"shipping province", "billing province"}, "country": {"shipping country", "billing country"},
			"product id": {"handle"}, "description": {"body (html)", "body html", "body"}, "category": {"type", "product type"},
			"tags": {"tags"}, "image": {"image src"},
		}
	case FormatAmazon:
		fields = map[string][]string{
			"order": {"amazon order id"}, "line": {"sku", "asin"}, "name": {"product name"}, "sku": {"sku"}, "product id": {"asin"},
			"date": {"purchase date"}, "updated": {"last updated date"}, "channel": {"sales channel"}, "region": {"ship state"}, "country": {"ship country"},
			"currency": {"currency"},
		}
	case FormatBigCommerce:
		fields = map[string][]string{
			"order": {"order id"}, "line": {"product details"}, "name": {"product details"}, "sku": {"product details"},
			"product id": {"product details"}, "date": {"order date", "date created"}, "channel": {"channel name"},
			"region": {"shipping state", "billing state"}, "country": {"shipping country", "billing country"},
			"currency": {"order currency code", "currency code", "currency"},
		}
	case FormatWooCommerce:
		if t.has("order id") { // the orders export
			fields = map[string][]string{
				"order": {"order id"}, "order name": {"order number"}, "line": {"item id"}, "name": {"item name"}, "sku": {"item sku"},
				"product id": {"item product id"}, "date": {"date", "order date"}, "currency": {"order currency", "currency"},
				"region": {"shipping state", "billing state"}, "country": {"shipping country", "billing country"},
			}
			break
		}
		fields = map[string][]string{
			"product id": {"id", "sku"}, "name": {"name"}, "sku": {"sku"}, "description": {"description", "short description"},
			"category": {"categories"}, "tags": {"tags"}, "image": {"images"},
		}
	default:
		line := saleLineNames
		if t.col(saleLineNames...) < 0 {
			// Without line ids, a line is named by its product.
			line = append(append(append([]string{}, saleProdIDNames...), prodSKUNames...), saleNameNames...)
		}
		fields = map[string][]string{
			"order": saleOrderNames, "line": line, "product id": append(append([]string{}, saleProdIDNames...), prodIDNames...),
			"sku": prodSKUNames, "name": append(append([]string{}, saleNameNames...), prodNameNames...), "category": saleCatNames,
			"date": saleDateNames, "channel": saleChannelNames, "region": saleRegionNames, "country": saleCountryNames,
			"currency": currencyNames, "description": prodDescNames, "tags": prodTagNames, "image": prodImageNames,
			"updated": saleUpdatedNames,
		}
	}
	m := map[string]string{}
	for field, names := range fields {
		if i := t.col(names...); i >= 0 {
			m[field] = t.name(i)
		}
	}
	if _, ok := m["currency"]; !ok {
		m["currency"] = "(default currency)"
	}
	if i := t.col(rateRateNames...); i >= 0 {
		m["rate"] = t.name(i)
	}
	return m
}

// maxPendingRejects bounds the refusals a batch collects before it is sent.
const maxPendingRejects = 1000

// batch is what the parsing goroutine hands to the writer.
type batch[T any] struct {
	recs    []T
	rejects []reject
	rows    int64
	err     error
}

type reject struct {
	e    RowError
	rows int64
}

// pump parses t on its own goroutine while the store writes the previous
// batch, so parsing and writing overlap. The writer owns w; the parser only
// fills batches.
func pump[T any](ctx context.Context, t *table, p parser[T], w *store.ImportWriter, size int,
	write func(context.Context, []T) error, progress func(int64)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	full := make(chan *batch[T], 2)
	free := make(chan *batch[T], 3)
	for range 3 {
		free <- &batch[T]{recs: make([]T, 0, size)}
	}
	go func() {
		defer close(full)
		var cur *batch[T]
		take := func() bool {
			select {
			case cur = <-free:
				cur.recs, cur.rejects, cur.rows, cur.err = cur.recs[:0], cur.rejects[:0], 0, nil
				return true
			case <-ctx.Done():
				return false
			}
		}
		send := func() bool {
			select {
			case full <- cur:
				return take()
			case <-ctx.Done():
				return false
			}
		}
		if !take() {
			return
		}
		errStop := errors.New("stop")
		stopped := false
		sink := Sink[T]{
			Record: func(r T) error {
				if stopped {
					return errStop
				}
				cur.recs = append(cur.recs, r)
				if len(cur.recs) >= size && !send() {
					stopped = true
					return errStop
				}
				return nil
			},
			Reject: func(e RowError, rows int64) {
				if stopped {
					return
				}
				// A file of nothing but bad rows must not pile them up here.
				cur.rejects = append(cur.rejects, reject{e, rows})
				if len(cur.rejects) >= maxPendingRejects && !send() {
					stopped = true
				}
			},
			Row: func() { cur.rows++ },
		}
		err := run(t, p, &sink)
		if errors.Is(err, errStop) || stopped {
			return
		}
		cur.err = err
		select {
		case full <- cur:
		case <-ctx.Done():
		}
	}()
	var seen int64
	for b := range full {
		w.AddSeen(b.rows)
		seen += b.rows
		for _, r := range b.rejects {
			w.Reject(r.e, r.rows)
		}
		if b.err != nil {
			var se *syntaxError
			if errors.As(b.err, &se) {
				w.Reject(se.row, 1)
			}
			return b.err
		}
		if len(b.recs) > 0 {
			if err := write(ctx, b.recs); err != nil {
				return err
			}
		}
		if progress != nil {
			progress(seen)
		}
		select {
		case free <- b:
		default:
		}
	}
	return ctx.Err()
}

// WriteErrorReport writes row errors as CSV with the columns
// line,column,value,reason — the downloadable error report.
func WriteErrorReport(w io.Writer, errs []RowError) error {
	cw := csvexport.NewWriter(w)
	if err := cw.Write([]string{"line", "column", "value", "reason"}); err != nil {
		return err
	}
	for _, e := range errs {
		if err := cw.Write([]string{strconv.FormatInt(e.Line, 10), e.Column, e.Value, e.Reason}); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("ingest: error report: %w", err)
	}
	return nil
}
