package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// BenchOptions sizes the import benchmark.
type BenchOptions struct {
	Rows     int // rows of the timed import
	Existing int // sales the importing publisher holds before the import (not timed)
	// Profile, when set, receives the CPU profile of the timed import.
	Profile io.Writer
}

// bareRounds is how many times BenchImport measures the bare load.
const bareRounds = 3

// BenchImport measures the import of a generated sales file (generic
// layout, a fifth of it in EUR) into a publisher that already holds
// opt.Existing sales of the same shape on the same days, and compares it in
// the same run with two raw loads of the same rows, each into a publisher
// of its own that is deleted afterwards:
//   - bare: the rows into a scratch table with the columns of sales and no
//     keys, indexes or rollups (store.BulkLoadBare) — the engine's physical
//     baseline, what writing the bytes costs;
//   - indexed: store.BulkLoadSales, the fastest path into the real schema
//     (insert-only, no validation, no identity checks), with its rollups,
//     into a publisher holding the same opt.Existing sales as the import's.
//
// The import's time covers everything a user waits for: parsing,
// validation, FX conversion, order identity, product resolution (creating
// the unknown products), the upserts and the rollups.
func BenchImport(ctx context.Context, s *store.Store, opt BenchOptions, w io.Writer) (err error) {
	rows := opt.Rows
	if rows <= 0 || opt.Existing < 0 {
		return phantomos.Errorf(phantomos.EINVALID, "The number of rows must be positive.")
	}
	suffix := phantomos.NewID()[24:]
	// Each run gets a publisher of its own, deleted right after it: both
	// load into a table without the other's rows.
	var live phantomos.PublisherID
	drop := func() error {
		if live == "" {
			return nil
		}
		p := live
		live = ""
		return s.DeletePublisher(context.WithoutCancel(ctx), p)
	}
	defer func() { err = errors.Join(err, drop()) }()
	newPub := func(kind string) (phantomos.PublisherID, error) {
		p := &phantomos.Publisher{Name: "Import benchmark (" + kind + ")", Slug: "bench-" + kind + "-" + suffix, ReportingCurrency: "USD", Timezone: "UTC"}
		if err := s.CreatePublisher(ctx, p); err != nil {
			return "", err
		}
		live = p.ID
		return p.ID, nil
	}
	g := newBenchGen(rows, "B")

	// The import: rates and the existing sales first (not timed), then the file.
	impPub, err := newPub("import")
	if err != nil {
		return err
	}
	if _, err := Import(ctx, s, impPub, KindFX, FormatGeneric, g.ratesCSV(), Options{FileName: "bench-rates.csv"}); err != nil {
		return fmt.Errorf("bench: rates: %w", err)
	}
	if opt.Existing > 0 {
		conn, products, err := benchCatalog(ctx, s, impPub, "Existing sales")
		if err != nil {
			return err
		}
		if _, err := s.BulkLoadSales(ctx, impPub, newBenchGen(opt.Existing, "E").sales(conn, products)); err != nil {
			return fmt.Errorf("bench: existing sales: %w", err)
		}
	}
	f, err := os.CreateTemp("", "phantomos-bench-*.csv")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if err := g.writeCSV(f); err != nil {
		return fmt.Errorf("bench: write file: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	fi, _ := f.Stat()
	if opt.Profile != nil {
		if err := pprof.StartCPUProfile(opt.Profile); err != nil {
			return err
		}
	}
	start := time.Now()
	res, err := Import(ctx, s, impPub, KindSales, FormatGeneric, f, Options{FileName: "bench.csv"})
	importTime := time.Since(start)
	if opt.Profile != nil {
		pprof.StopCPUProfile()
	}
	if err != nil {
		return fmt.Errorf("bench: import: %w", err)
	}
	if res.Inserted != int64(rows) {
		return fmt.Errorf("bench: import wrote %d of %d rows", res.Inserted, rows)
	}
	if err := drop(); err != nil {
		return err
	}

	// The raw loads of the same rows, with their products made beforehand.
	rawPub, err := newPub("raw")
	if err != nil {
		return err
	}
	conn, products, err := benchCatalog(ctx, s, rawPub, "Benchmark")
	if err != nil {
		return err
	}
	// The indexed load goes into a publisher holding the same existing
	// sales as the import's (not timed), as the import did.
	if opt.Existing > 0 {
		if _, err := s.BulkLoadSales(ctx, rawPub, newBenchGen(opt.Existing, "E").sales(conn, products)); err != nil {
			return fmt.Errorf("bench: existing sales: %w", err)
		}
	}
	// The bare load is short, so that one sample of it moved the ratio by
	// a third on this machine: the median of bareRounds.
	var bareTimes []time.Duration
	for range bareRounds {
		start = time.Now()
		n, err := s.BulkLoadBare(ctx, rawPub, g.sales(conn, products))
		if err != nil {
			return fmt.Errorf("bench: bare load: %w", err)
		}
		bareTimes = append(bareTimes, time.Since(start))
		if n != int64(rows) {
			return fmt.Errorf("bench: the bare load wrote %d of %d rows", n, rows)
		}
	}
	bareSamples := make([]string, len(bareTimes))
	for i, d := range bareTimes {
		bareSamples[i] = d.Round(time.Millisecond).String()
	}
	slices.Sort(bareTimes)
	bareTime := bareTimes[(len(bareTimes)-1)/2]
	start = time.Now()
	n, err := s.BulkLoadSales(ctx, rawPub, g.sales(conn, products))
	if err != nil {
		return fmt.Errorf("bench: raw load: %w", err)
	}
	rawTime := time.Since(start)

	rate := func(d time.Duration) float64 { return float64(rows) / d.Seconds() }
	target := map[store.Dialect]float64{store.Postgres: 100_000, store.SQLite: 60_000}[s.Dialect()]
	verdict := func(ok bool) string {
		if ok {
			return "meets"
		}
		return "misses"
	}
	bulk := map[store.Dialect]string{store.Postgres: "COPY", store.SQLite: "prepared inserts of 32 rows"}[s.Dialect()]
	fmt.Fprintf(w, "import benchmark on %s (%s): %d rows into a publisher holding %d, file %.1f MB\n",
		s.Dialect(), s.Where(), rows, opt.Existing, float64(fi.Size())/1e6)
	fmt.Fprintf(w, "  import   %9d rows in %8s  %9.0f rows/s  (parse, validate, convert, identity, products, upsert, rollups; target %.0f: %s)\n",
		res.Inserted, importTime.Round(time.Millisecond), rate(importTime), target, verdict(rate(importTime) >= target))
	fmt.Fprintf(w, "  bare     %9d rows in %8s  %9.0f rows/s  (%s into a table of the same columns, no keys, indexes or rollups; median of %s)\n",
		rows, bareTime.Round(time.Millisecond), rate(bareTime), bulk, strings.Join(bareSamples, ", "))
	fmt.Fprintf(w, "  indexed  %9d rows in %8s  %9.0f rows/s  (BulkLoadSales: %s into sales, with rollups, into a publisher holding %d)\n",
		n, rawTime.Round(time.Millisecond), rate(rawTime), bulk, opt.Existing)
	fmt.Fprintf(w, "  ratio    %.3f of bare (target 0.20: %s), %.2f of indexed\n",
		rate(importTime)/rate(bareTime), verdict(rate(importTime)/rate(bareTime) >= 0.2), rate(importTime)/rate(rawTime))
	return nil
}

// benchCatalog makes the benchmark's connector and products in publisher pub.
func benchCatalog(ctx context.Context, s *store.Store, pub phantomos.PublisherID, name string) (string, []*phantomos.Product, error) {
	conn := &phantomos.Connector{Type: phantomos.ConnectorCSV, Name: name}
	if err := s.CreateConnector(ctx, pub, conn); err != nil {
		return "", nil, err
	}
	products := make([]*phantomos.Product, benchProducts)
	for i := range products {
		products[i] = &phantomos.Product{ConnectorID: conn.ID, ExternalID: benchSKU(i), SKU: benchSKU(i), Name: benchName(i),
			Category: phantomos.CategoryOther, Price: benchPrice(i), Currency: "USD"}
	}
	if err := s.CreateProducts(ctx, pub, products, nil); err != nil {
		return "", nil, err
	}
	return conn.ID, products, nil
}

const (
	benchProducts = 1000
	benchDays     = 365
)

var benchStart = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func benchSKU(i int) string  { return "SKU-" + strconv.Itoa(10000+i) }
func benchName(i int) string { return "Benchmark product " + strconv.Itoa(i) }
func benchPrice(i int) int64 { return int64(500 + (i*7919)%9500) }
func benchEURRate(day int) float64 {
	return math.Round((1.05+0.05*math.Sin(float64(day)/30))*10000) / 10000
}

// benchGen draws the benchmark's lines deterministically: the file and the
// raw rows are the same sales.
type benchGen struct {
	rows   int
	prefix string // of order ids
}

type benchLine struct {
	order, line       string
	at                time.Time
	day               int
	product           int
	qty, price, disc  int64
	currency, country string
	channel           string
}

func newBenchGen(rows int, prefix string) *benchGen { return &benchGen{rows: rows, prefix: prefix} }

var (
	benchCountries = []string{"US", "US", "US", "GB", "DE", "FR", "CA", "JP", "AU", "BR"}
	benchChannels  = []string{"web", "web", "amazon", "pos"}
)

func (g *benchGen) lines() iter.Seq[benchLine] {
	return func(yield func(benchLine) bool) {
		r := rand.New(rand.NewPCG(7, 11))
		order, inOrder, orderLines := 0, 0, 0
		var cur benchLine
		step := float64(benchDays*24*time.Hour) / float64(g.rows)
		for i := range g.rows {
			if inOrder == orderLines {
				order++
				inOrder, orderLines = 0, 1+r.IntN(3)
				at := benchStart.Add(time.Duration(float64(i) * step)).Truncate(time.Second)
				cur = benchLine{order: g.prefix + strconv.Itoa(100000+order), at: at, day: int(at.Sub(benchStart) / (24 * time.Hour)),
					currency: "USD", country: benchCountries[r.IntN(len(benchCountries))], channel: benchChannels[r.IntN(len(benchChannels))]}
				if r.IntN(5) == 0 {
					cur.currency, cur.country = "EUR", "DE"
				}
			}
			inOrder++
			l := cur
			l.line = strconv.Itoa(inOrder)
			l.product = r.IntN(benchProducts)
			l.qty = int64(1 + r.IntN(3))
			l.price = benchPrice(l.product)
			if r.IntN(4) == 0 {
				l.disc = l.price * l.qty / 10
			}
			if !yield(l) {
				return
			}
		}
	}
}

func (g *benchGen) writeCSV(w io.Writer) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	bw.WriteString("order_id,line_id,date,sku,product_name,quantity,price,discount,currency,country,channel\n")
	var buf []byte
	for l := range g.lines() {
		buf = buf[:0]
		buf = append(buf, l.order...)
		buf = append(buf, ',')
		buf = append(buf, l.line...)
		buf = append(buf, ',')
		buf = l.at.AppendFormat(buf, time.RFC3339)
		buf = append(buf, ',')
		buf = append(buf, benchSKU(l.product)...)
		buf = append(buf, ',')
		buf = append(buf, benchName(l.product)...)
		buf = append(buf, ',')
		buf = strconv.AppendInt(buf, l.qty, 10)
		buf = append(buf, ',')
		buf = appendCents(buf, l.price)
		buf = append(buf, ',')
		buf = appendCents(buf, l.disc)
		buf = append(buf, ',')
		buf = append(buf, l.currency...)
		buf = append(buf, ',')
		buf = append(buf, l.country...)
		buf = append(buf, ',')
		buf = append(buf, l.channel...)
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// appendCents writes a non-negative amount of cents as "12.34".
func appendCents(b []byte, v int64) []byte {
	b = strconv.AppendInt(b, v/100, 10)
	b = append(b, '.')
	if v%100 < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, v%100, 10)
}

func (g *benchGen) ratesCSV() io.Reader {
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriter(pw)
		bw.WriteString("date,currency,rate\n")
		for d := range benchDays + 1 {
			fmt.Fprintf(bw, "%s,EUR,%.4f\n", benchStart.AddDate(0, 0, d).Format(time.DateOnly), benchEURRate(d))
		}
		pw.CloseWithError(bw.Flush())
	}()
	return pr
}

// sales yields the raw rows: the same lines, converted as an import would.
func (g *benchGen) sales(connectorID string, products []*phantomos.Product) iter.Seq[*phantomos.Sale] {
	return func(yield func(*phantomos.Sale) bool) {
		for l := range g.lines() {
			gross := l.price * l.qty
			x := &phantomos.Sale{
				ProductID: products[l.product].ID, ConnectorID: connectorID, ExternalOrderID: l.order, ExternalLineID: l.line,
				OrderDate: l.at, Day: phantomos.DayOf(l.at, time.UTC), Quantity: l.qty, Gross: gross, Discount: l.disc,
				Net: gross - l.disc, Currency: l.currency, Country: l.country, Channel: l.channel,
			}
			rate := 1.0
			if l.currency != "USD" {
				rate = benchEURRate(l.day)
			}
			x.GrossReporting = int64(math.Round(float64(gross) * rate))
			x.DiscountReporting = int64(math.Round(float64(l.disc) * rate))
			x.NetReporting = x.GrossReporting - x.DiscountReporting
			if !yield(x) {
				return
			}
		}
	}
}
