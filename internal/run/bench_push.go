package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/config"
	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/web"
)

// pushClients is how many clients push at once in the push benchmark.
const pushClients = 8

// benchPushLine is one generated order line, written both as a CSV row of
// the generic format and as a line of a push.
type benchPushLine struct {
	order, line     string
	at              time.Time
	sku, name       string
	qty, price, dis int64
	country, chann  string
}

func benchPushLines(rows int) []benchPushLine {
	r := rand.New(rand.NewPCG(3, 5))
	countries := []string{"US", "US", "GB", "DE", "CA", "JP"}
	channels := []string{"web", "web", "pos"}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	step := float64(365*24*time.Hour) / float64(rows)
	out := make([]benchPushLine, 0, rows)
	for order := 0; len(out) < rows; order++ {
		at := start.Add(time.Duration(float64(len(out)) * step)).Truncate(time.Second)
		country, channel := countries[r.IntN(len(countries))], channels[r.IntN(len(channels))]
		for l := range 1 + r.IntN(3) {
			if len(out) == rows {
				break
			}
			p := r.IntN(1000)
			x := benchPushLine{order: "P" + strconv.Itoa(100000+order), line: strconv.Itoa(l + 1), at: at,
				sku: "SKU-" + strconv.Itoa(10000+p), name: "Benchmark product " + strconv.Itoa(p),
				qty: int64(1 + r.IntN(3)), price: int64(500 + (p*7919)%9500), country: country, chann: channel}
			if r.IntN(4) == 0 {
				x.dis = x.price * x.qty / 10
			}
			out = append(out, x)
		}
	}
	return out
}

func cents(v int64) string { return fmt.Sprintf("%d.%02d", v/100, v%100) }

// benchPushBatches groups the lines into push bodies of whole orders of at
// most 1,000 lines.
func benchPushBatches(lines []benchPushLine) [][]byte {
	type line struct {
		LineID   string `json:"line_id"`
		SKU      string `json:"sku"`
		Name     string `json:"name"`
		Quantity int64  `json:"quantity"`
		Gross    string `json:"gross"`
		Discount string `json:"discount"`
	}
	type order struct {
		OrderID   string `json:"order_id"`
		OrderDate string `json:"order_date"`
		Currency  string `json:"currency"`
		Country   string `json:"country"`
		Channel   string `json:"channel"`
		Lines     []line `json:"lines"`
	}
	var out [][]byte
	var orders []*order
	n := 0
	flush := func() {
		if len(orders) > 0 {
			b, _ := json.Marshal(map[string]any{"source": "Benchmark push", "orders": orders})
			out = append(out, b)
		}
		orders, n = nil, 0
	}
	for i := 0; i < len(lines); {
		j := i
		for j < len(lines) && lines[j].order == lines[i].order {
			j++
		}
		if n+(j-i) > 1000 {
			flush()
		}
		o := &order{OrderID: lines[i].order, OrderDate: lines[i].at.Format(time.RFC3339), Currency: "USD", Country: lines[i].country, Channel: lines[i].chann}
		for _, l := range lines[i:j] {
			o.Lines = append(o.Lines, line{LineID: l.line, SKU: l.sku, Name: l.name, Quantity: l.qty, Gross: cents(l.price * l.qty), Discount: cents(l.dis)})
		}
		orders = append(orders, o)
		n += j - i
		i = j
	}
	flush()
	return out
}

func benchPushCSV(lines []benchPushLine) []byte {
	var b bytes.Buffer
	b.WriteString("order_id,line_id,date,sku,product_name,quantity,price,discount,currency,country,channel\n")
	for _, l := range lines {
		fmt.Fprintf(&b, "%s,%s,%s,%s,%s,%d,%s,%s,USD,%s,%s\n", l.order, l.line, l.at.Format(time.RFC3339), l.sku, l.name, l.qty, cents(l.price), cents(l.dis), l.country, l.chann)
	}
	return b.Bytes()
}

// pushRounds is how many times the push benchmark measures the file import
// and the push, one after the other: a single import is one sample, and on
// a small machine two samples of the same code differed by a quarter.
const pushRounds = 3

// cmdBenchPush measures lines per second through POST /api/v1/orders with
// pushClients concurrent clients against a file import of the same rows,
// each into a publisher of its own that is deleted after its round, in
// pushRounds rounds, and prints every round, the median rates and their
// ratio. The per-key rate limit is lifted: this measures the server, not
// the limit. With filterRollups, the push publisher's filter rollups are
// built before its push, so that each group keeps them current as an
// established publisher's pushes do (filter_delta.go), and the round fails
// if they end stale.
func cmdBenchPush(ctx context.Context, e *env, s *store.Store, cfg config.Config, rows int, filterRollups bool) error {
	if rows <= 0 {
		return phantomos.Errorf(phantomos.EINVALID, "The number of rows must be positive.")
	}
	lines := benchPushLines(rows)
	csv := benchPushCSV(lines)
	batches := benchPushBatches(lines)
	quiet := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := web.New(s, cfg, quiet, version())
	if err != nil {
		return err
	}
	srv.SetKeyRate(1e9, 1e9)
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()

	w := e.stdout
	fmt.Fprintf(w, "push benchmark on %s (%s): %d lines in %d orders' batches of up to 1,000 lines, %d rounds\n",
		s.Dialect(), s.Where(), rows, len(batches), pushRounds)
	if filterRollups {
		fmt.Fprintf(w, "  the push publisher's filter rollups are built before its push, and each group keeps them current\n")
	}
	rate := func(d time.Duration) float64 { return float64(rows) / d.Seconds() }
	var fileTimes, pushTimes []time.Duration
	for round := 1; round <= pushRounds; round++ {
		g0, b0, w0 := srv.PushGroups()
		fileTime, pushTime, lookups, err := benchPushRound(ctx, s, ts.URL, csv, batches, rows, filterRollups)
		if err != nil {
			return err
		}
		g1, b1, w1 := srv.PushGroups()
		fileTimes, pushTimes = append(fileTimes, fileTime), append(pushTimes, pushTime)
		fmt.Fprintf(w, "  round %d      file import %8s %9.0f lines/s, push API %8s %9.0f lines/s, ratio %.2f\n", round,
			fileTime.Round(time.Millisecond), rate(fileTime), pushTime.Round(time.Millisecond), rate(pushTime), rate(pushTime)/rate(fileTime))
		// Where the push's time went: its groups' writes (group commit),
		// and between them the clients' round trips and the requests'
		// reading, checking and claiming.
		if groups := g1 - g0; groups > 0 {
			writing := w1 - w0
			fmt.Fprintf(w, "               push: %d groups of %.1f batches, %s writing each, %.0f%% of the push time, %.1f product lookups each\n", groups,
				float64(b1-b0)/float64(groups), (writing / time.Duration(groups)).Round(time.Millisecond), 100*writing.Seconds()/pushTime.Seconds(),
				float64(lookups)/float64(groups))
		}
	}
	fileTime, pushTime := medianDuration(fileTimes), medianDuration(pushTimes)
	ratio := rate(pushTime) / rate(fileTime)
	verdict := "meets"
	if ratio < 0.8 {
		verdict = "misses"
	}
	fmt.Fprintf(w, "  file import  %8d lines in %8s  %9.0f lines/s  (median; generic CSV, one import)\n", rows, fileTime.Round(time.Millisecond), rate(fileTime))
	fmt.Fprintf(w, "  push API     %8d lines in %8s  %9.0f lines/s  (median; %d clients, %d requests with Idempotency-Key)\n",
		rows, pushTime.Round(time.Millisecond), rate(pushTime), pushClients, len(batches))
	fmt.Fprintf(w, "  ratio        %.2f of the file import (medians; target 0.80: %s)\n", ratio, verdict)
	return nil
}

// medianDuration returns the median of ds (the lower middle one of an even
// count); ds is sorted in place.
func medianDuration(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[(len(ds)-1)/2]
}

// benchPushRound imports the CSV into a new publisher and pushes the
// batches into another through the server at url, checks that each wrote
// every line, deletes both publishers, and returns the two times.
func benchPushRound(ctx context.Context, s *store.Store, url string, csv []byte, batches [][]byte, rows int, filterRollups bool) (fileTime, pushTime time.Duration, pushLookups int64, err error) {
	suffix := phantomos.NewID()[24:]
	var live []phantomos.PublisherID
	defer func() {
		for _, p := range live {
			err = errors.Join(err, s.DeletePublisher(context.WithoutCancel(ctx), p))
		}
	}()
	newPub := func(kind string) (phantomos.PublisherID, error) {
		p := &phantomos.Publisher{Name: "Push benchmark (" + kind + ")", Slug: "bench-push-" + kind + "-" + suffix, ReportingCurrency: "USD", Timezone: "UTC"}
		if err := s.CreatePublisher(ctx, p); err != nil {
			return "", err
		}
		live = append(live, p.ID)
		return p.ID, nil
	}

	// The file import.
	filePub, err := newPub("file")
	if err != nil {
		return 0, 0, 0, err
	}
	if err := s.Settle(ctx); err != nil {
		return 0, 0, 0, err
	}
	start := time.Now()
	res, err := ingest.Import(ctx, s, filePub, ingest.KindSales, ingest.FormatGeneric, bytes.NewReader(csv), ingest.Options{FileName: "bench-push.csv"})
	if err != nil {
		return 0, 0, 0, fmt.Errorf("bench: file import: %w", err)
	}
	fileTime = time.Since(start)
	if res.Inserted != int64(rows) {
		return 0, 0, 0, fmt.Errorf("bench: the file import wrote %d of %d lines", res.Inserted, rows)
	}

	// The push API.
	pushPub, err := newPub("api")
	if err != nil {
		return 0, 0, 0, err
	}
	tok := "phk_" + auth.NewToken()
	keyID, err := s.CreateAPIKey(ctx, pushPub, "", "bench", tok[:10], auth.HashToken(tok), phantomos.RoleMember)
	if err != nil {
		return 0, 0, 0, err
	}
	if err := s.SetAPIKeyScope(ctx, pushPub, keyID, phantomos.ScopeIngest); err != nil {
		return 0, 0, 0, err
	}
	if filterRollups {
		if err := s.RefreshFilterRollups(ctx, pushPub); err != nil {
			return 0, 0, 0, err
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: pushClients}}
	defer client.CloseIdleConnections()
	if err := s.Settle(ctx); err != nil {
		return 0, 0, 0, err
	}
	work := make(chan int)
	var mu sync.Mutex
	var inserted int64
	var failures []string
	var wg sync.WaitGroup
	l0 := s.ProductLookups()
	start = time.Now()
	for range pushClients {
		wg.Go(func() {
			for i := range work {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/api/v1/orders", bytes.NewReader(batches[i]))
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", "bench-"+suffix+"-"+strconv.Itoa(i))
				resp, err := client.Do(req)
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var out struct {
					Inserted int64 `json:"inserted"`
				}
				json.Unmarshal(body, &out)
				mu.Lock()
				if resp.StatusCode != http.StatusOK {
					failures = append(failures, fmt.Sprintf("%d %.200s", resp.StatusCode, body))
				}
				inserted += out.Inserted
				mu.Unlock()
			}
		})
	}
	for i := range batches {
		work <- i
	}
	close(work)
	wg.Wait()
	pushTime = time.Since(start)
	pushLookups = s.ProductLookups() - l0
	if len(failures) > 0 {
		return 0, 0, 0, fmt.Errorf("bench: %d pushes failed, first: %s", len(failures), failures[0])
	}
	if inserted != int64(rows) {
		return 0, 0, 0, fmt.Errorf("bench: the pushes wrote %d of %d lines", inserted, rows)
	}
	if filterRollups {
		if ok, err := s.FilterRollupsCurrent(ctx, pushPub); err != nil || !ok {
			return 0, 0, 0, errors.Join(err, errors.New("bench: the push left the filter rollups stale"))
		}
	}
	return fileTime, pushTime, pushLookups, nil
}

// flagSet reports whether the flag name was given on the command line.
func flagSet(fs interface{ Visit(func(*flag.Flag)) }, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
