package run

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/demo"
	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/web"
)

func cmdBench(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || (args[0] != "analytics" && args[0] != "http" && args[0] != "import" && args[0] != "push") {
		fmt.Fprintln(e.stderr, "Usage: phantomos bench {analytics|http|import|push} [--db URL] [--sales N] [--rows N] ...")
		return fmt.Errorf("%w: bench needs analytics, http, import or push", ErrUsage)
	}
	what := args[0]
	fs := flags(e, "bench "+what, "[--db URL] [--sales N]")
	db := fs.String("db", "", "database URL or SQLite file (default $DATABASE_URL or phantomos.db)")
	sales := fs.Int("sales", 10_000_000, "sales rows of the demo publisher to load, or reuse when already loaded")
	requests := fs.Int("requests", 100, "timed requests per endpoint (analytics)")
	conns := fs.Int("connections", 64, "concurrent connections (http)")
	duration := fs.Duration("duration", 10*time.Second, "length of the load (http)")
	rows := fs.Int("rows", 1_000_000, "rows of the generated sales file (import), lines pushed (push: default 100000)")
	existing := fs.Int("existing", 0, "sales the importing publisher already holds (import)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the timed part to this file (go tool pprof)")
	filterRollups := fs.Bool("filter-rollups", false, "build the push publisher's filter rollups before its push, which then keeps them current (push)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	s, cfg, err := openStore(ctx, e, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	if what == "import" {
		opt := ingest.BenchOptions{Rows: *rows, Existing: *existing}
		if *cpuProfile != "" {
			f, err := os.Create(*cpuProfile)
			if err != nil {
				return err
			}
			defer f.Close()
			opt.Profile = f
		}
		return ingest.BenchImport(ctx, s, opt, e.stdout)
	}
	if what == "push" {
		n := *rows
		if !flagSet(fs, "rows") {
			n = 100_000
		}
		stop, err := startProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
		return cmdBenchPush(ctx, e, s, cfg, n, *filterRollups)
	}
	b, err := newBench(ctx, e, s, *sales)
	if err != nil {
		return err
	}
	cfg.Demo = true
	// Request logs would time the terminal, not the server.
	quiet := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	b.serve = func(cacheBytes int64) (*web.Server, string, func(), error) {
		srv, err := web.New(s, cfg, quiet, version())
		if err != nil {
			return nil, "", nil, err
		}
		if cacheBytes >= 0 {
			srv.SetAnswerCache(cacheBytes)
		}
		ts := httptest.NewServer(srv.Handler())
		return srv, ts.URL, ts.Close, nil
	}
	stop, err := startProfile(*cpuProfile)
	if err != nil {
		return err
	}
	defer stop()
	if what == "http" {
		return b.loadTest(ctx, e, *conns, *duration)
	}
	return b.analytics(ctx, e, *requests)
}

// bench is a demo publisher of a known size, signed in as its analyst.
type bench struct {
	s       *store.Store
	pub     *phantomos.Publisher
	cookie  string
	hero    string
	villain string
	// serve starts a server on the store with an empty answer cache of
	// cacheBytes (0: off, -1: the default size) and returns its URL.
	serve func(cacheBytes int64) (srv *web.Server, url string, stop func(), err error)
}

// Answer cache sizes for bench.serve.
const (
	cacheOff     = 0
	cacheDefault = -1
)

func newBench(ctx context.Context, e *env, s *store.Store, sales int) (*bench, error) {
	ok, err := demo.Exists(ctx, s)
	if err != nil {
		return nil, err
	}
	if !ok {
		fmt.Fprintf(e.stderr, "loading a demo publisher with %d sales into %s (once; later runs reuse it)\n", sales, s.Where())
		start := time.Now()
		last := start
		if _, err := demo.Load(ctx, s, demo.Options{Sales: sales, Seed: 1}, func(done, total int64) {
			if time.Since(last) > 5*time.Second || done == total {
				last = time.Now()
				fmt.Fprintf(e.stderr, "  %d/%d (%.0f rows/s)\n", done, total, float64(done)/time.Since(start).Seconds())
			}
		}); err != nil {
			return nil, err
		}
		fmt.Fprintf(e.stderr, "loaded in %s\n", time.Since(start).Round(time.Second))
	}
	pub, err := s.PublisherBySlug(ctx, demo.Slug)
	if err != nil {
		return nil, err
	}
	// A server that has run a while has its filter rollups built (the first
	// filtered read after a change asks for them in the background, and
	// reads take the exact slower path until they are in): build them here,
	// so that the runs time the steady state, and say what it cost.
	if ok, err := s.FilterRollupsCurrent(ctx, pub.ID); err != nil {
		return nil, err
	} else if !ok {
		start := time.Now()
		if err := s.RefreshFilterRollups(ctx, pub.ID); err != nil {
			return nil, err
		}
		fmt.Fprintf(e.stderr, "built the filter rollups in %s\n", time.Since(start).Round(time.Millisecond))
	}
	// The load and the rollups' build are not serving: give their memory
	// back and start the peak over, so that the peaks printed are those of
	// a server on this database (and of the benchmark's client).
	debug.FreeOSMemory()
	resetPeakRSS()
	n, err := s.SalesCount(ctx, pub.ID)
	if err != nil {
		return nil, err
	}
	if n != int64(sales) {
		return nil, fmt.Errorf("the demo publisher in %s has %d sales, not %d: use another database or --sales %d", s.Where(), n, sales, n)
	}
	u, _, err := s.UserForLogin(ctx, demo.AnalystEmail)
	if err != nil {
		return nil, err
	}
	tok := auth.NewToken()
	if _, err := s.CreateSession(ctx, u, auth.HashToken(tok), time.Now().Add(time.Hour), "127.0.0.1", "bench"); err != nil {
		return nil, err
	}
	b := &bench{s: s, pub: pub, cookie: tok}
	assets, err := s.Assets(ctx, pub.ID)
	if err != nil {
		return nil, err
	}
	for _, a := range assets {
		switch a.Name {
		case demo.Hero:
			b.hero = a.ID
		case demo.Villain:
			b.villain = a.ID
		}
	}
	return b, nil
}

func (b *bench) get(client *http.Client, base, path string) ([]byte, error) {
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	req.AddCookie(&http.Cookie{Name: "phantomos_session", Value: b.cookie})
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return body, err
}

// timed runs fn n times after two warm-up runs and returns the durations,
// sorted.
func timed(n int, fn func() error) ([]time.Duration, error) {
	for range 2 {
		if err := fn(); err != nil {
			return nil, err
		}
	}
	d := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		if err := fn(); err != nil {
			return nil, err
		}
		d = append(d, time.Since(start))
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d, nil
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(float64(len(d)-1) * p)
	return d[i]
}

// analytics times the three pages' data through the real HTTP handler,
// computed on every request (a server with its answer cache off: the
// issue's target is about computing the answer) and served from the
// answer cache, and the same answers computed naively from the raw sales
// table, and checks that all agree.
func (b *bench) analytics(ctx context.Context, e *env, n int) error {
	_, uncached, stop, err := b.serve(cacheOff)
	if err != nil {
		return err
	}
	defer stop()
	_, cached, stop2, err := b.serve(cacheDefault)
	if err != nil {
		return err
	}
	defer stop2()
	loc := b.pub.Location()
	p, _ := analytics.Range("12m", time.Now(), loc)
	client := &http.Client{Timeout: 2 * time.Minute}
	naiveN := max(3, n/10)
	fmt.Fprintf(e.stdout, "phantomos bench analytics: %s (%s), publisher %q, period %s..%s, %d requests per endpoint (naive: %d)\n\n",
		b.s.Where(), b.s.Dialect(), b.pub.Name, p.From, p.To, n, naiveN)
	fmt.Fprintf(e.stdout, "%-22s %10s %10s %12s %10s %-8s %12s %12s\n", "page data (computed)", "p50", "p95", "naive p50", "speed-up", "answers",
		"cached p50", "cached p95")

	type job struct {
		name  string
		path  string
		naive func() (int64, error)
		got   func([]byte) (int64, error)
	}
	jobs := []job{
		{"overview", "/api/analytics?range=12m",
			func() (int64, error) { return naiveOverview(ctx, b.s, b.pub.ID, p) },
			func(body []byte) (int64, error) {
				var o analytics.Overview
				err := json.Unmarshal(body, &o)
				return o.Current.NetRevenue + o.Current.Orders, err
			}},
		{"asset attribution", "/api/analytics/assets?range=12m",
			func() (int64, error) { return naiveAttribution(ctx, b.s, b.pub, p, "") },
			func(body []byte) (int64, error) {
				var r analytics.AssetReport
				err := json.Unmarshal(body, &r)
				var top int64
				if len(r.Assets) > 0 {
					top = r.Assets[0].NetRevenue
				}
				return top, err
			}},
		{"asset comparison", "/api/v1/analytics/compare?range=12m&asset=" + b.hero + "&asset=" + b.villain,
			func() (int64, error) { return naiveAttribution(ctx, b.s, b.pub, p, b.hero) },
			func(body []byte) (int64, error) {
				var c analytics.Comparison
				err := json.Unmarshal(body, &c)
				if err == nil && len(c.Assets) == 0 {
					err = fmt.Errorf("no assets compared")
				}
				if err != nil {
					return 0, err
				}
				return c.Assets[0].NetRevenue, nil
			}},
	}
	// The pages first, computed and cached, so that the peak RSS measured
	// before the naive queries is the server's (and the client's): the
	// naive ones scan the whole sales table through the same process.
	type result struct {
		body, cbody []byte
		d, cd       []time.Duration
	}
	results := make([]result, len(jobs))
	for i, j := range jobs {
		r := &results[i]
		var err error
		if r.d, err = timed(n, func() error {
			var err error
			r.body, err = b.get(client, uncached, j.path)
			return err
		}); err != nil {
			return err
		}
		// The warm-up runs of timed fill the cache.
		if r.cd, err = timed(n, func() error {
			var err error
			r.cbody, err = b.get(client, cached, j.path)
			return err
		}); err != nil {
			return err
		}
	}
	serving := peakRSS()
	for i, j := range jobs {
		r := results[i]
		var want int64
		nd, err := timed(naiveN, func() error {
			var err error
			want, err = j.naive()
			return err
		})
		if err != nil {
			return err
		}
		got, err := j.got(r.body)
		if err != nil {
			return err
		}
		agree := "equal"
		if got != want {
			agree = fmt.Sprintf("DIFFER (%d vs naive %d)", got, want)
		} else if !bytes.Equal(r.body, r.cbody) {
			agree = "DIFFER (cached answer is not the computed one)"
		}
		fmt.Fprintf(e.stdout, "%-22s %10s %10s %12s %9.1fx %-8s %12s %12s\n", j.name, ms(pct(r.d, .5)), ms(pct(r.d, .95)), ms(pct(nd, .5)),
			float64(pct(nd, .5))/float64(pct(r.d, .5)), agree, ms(pct(r.cd, .5)), ms(pct(r.cd, .95)))
	}
	fmt.Fprintf(e.stdout, "\npeak RSS of this process serving the pages (server and client, since the setup): %s\n", serving)
	fmt.Fprintf(e.stdout, "peak RSS after the naive queries too: %s\n", peakRSS())
	return nil
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d.Microseconds())/1000, 'f', 1, 64) + " ms"
}

// resetPeakRSS starts the process's high-water resident set size over from
// its current size (Linux 4.0 and later; elsewhere the peak stays the
// process's).
func resetPeakRSS() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS reads the process's high-water resident set size on Linux.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "unknown"
}

// naiveOverview computes the overview's headline, trend and breakdowns
// from the raw sales table, and returns net revenue plus distinct orders
// (the figure checked against the endpoint).
func naiveOverview(ctx context.Context, s *store.Store, pub phantomos.PublisherID, p analytics.Period) (int64, error) {
	db := s.DB()
	var net, orders int64
	err := db.QueryRowContext(ctx, `SELECT COALESCE(SUM(net_reporting), 0), COUNT(DISTINCT CAST(connector_id AS TEXT) || '/' || external_order_id)
		FROM sales WHERE publisher_id = $1 AND day BETWEEN $2 AND $3`, pub, string(p.From), string(p.To)).Scan(&net, &orders)
	if err != nil {
		return 0, err
	}
	for _, q := range []string{
		`SELECT day, SUM(net_reporting) FROM sales WHERE publisher_id = $1 AND day BETWEEN $2 AND $3 GROUP BY day`,
		`SELECT p.category, SUM(t.net_reporting) FROM sales t JOIN products p ON p.id = t.product_id WHERE t.publisher_id = $1 AND t.day BETWEEN $2 AND $3 GROUP BY p.category`,
		`SELECT country, SUM(net_reporting) FROM sales WHERE publisher_id = $1 AND day BETWEEN $2 AND $3 GROUP BY country`,
		`SELECT channel, SUM(net_reporting) FROM sales WHERE publisher_id = $1 AND day BETWEEN $2 AND $3 GROUP BY channel`,
		`SELECT product_id, SUM(net_reporting) FROM sales WHERE publisher_id = $1 AND day BETWEEN $2 AND $3 GROUP BY product_id`,
	} {
		rows, err := db.QueryContext(ctx, q, pub, string(p.From), string(p.To))
		if err != nil {
			return 0, err
		}
		for rows.Next() {
		}
		rows.Close()
	}
	return net + orders, nil
}

// naiveAttribution attributes raw per-product revenue to assets and returns
// the revenue of asset (or of the top asset when asset is empty).
func naiveAttribution(ctx context.Context, s *store.Store, pub *phantomos.Publisher, p analytics.Period, asset string) (int64, error) {
	rows, err := s.DB().QueryContext(ctx, `SELECT CAST(product_id AS TEXT), SUM(net_reporting) FROM sales
		WHERE publisher_id = $1 AND day BETWEEN $2 AND $3 GROUP BY product_id`, pub.ID, string(p.From), string(p.To))
	if err != nil {
		return 0, err
	}
	net := map[string]int64{}
	for rows.Next() {
		var id string
		var v int64
		if err := rows.Scan(&id, &v); err != nil {
			rows.Close()
			return 0, err
		}
		net[id] = v
	}
	rows.Close()
	links, err := s.ConfirmedLinks(ctx, pub.ID)
	if err != nil {
		return 0, err
	}
	at := analytics.Attribute(net, links, pub.Settings.AttributionModel)
	if asset != "" {
		return at.ByAsset[asset], nil
	}
	var top int64
	for _, v := range at.ByAsset {
		top = max(top, v)
	}
	return top, nil
}

// loadTest times each mixed question alone first (eachAlone), then sends
// GET /api/analytics from conns concurrent clients for d in four runs: one question over and over (served from the answer cache after
// the first request); a mix of ranges, comparisons and filters starting
// from an empty cache, then the same mix again on the now warm cache; one
// question with the cache off (every request computes its answer); and the
// mix with the cache off (every request computes its own answer). It
// reports throughput, latency percentiles and how many answers the server
// computed during each run.
func (b *bench) loadTest(ctx context.Context, e *env, conns int, d time.Duration) error {
	single := []string{"/api/analytics?range=12m"}
	mixed := b.mixedPaths()
	runs := []struct {
		name  string
		cache int64
		paths []string
		warm  bool // ask every question once before the run
		again bool // run on the previous run's server and cache
	}{
		{"one question, cached", cacheDefault, single, true, false},
		{"mixed questions, from a cold cache", cacheDefault, mixed, false, false},
		{"mixed questions, warm cache", cacheDefault, mixed, true, true},
		{"one question, cache off", cacheOff, single, false, false},
		{"mixed questions, cache off", cacheOff, mixed, false, false},
	}
	fmt.Fprintf(e.stdout, "phantomos bench http: GET /api/analytics on %s (%s), %d connections for %s per run (client and server share this process)\n\n",
		b.s.Where(), b.s.Dialect(), conns, d)
	if err := b.eachAlone(e, mixed); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%-36s %9s %9s %8s %9s %9s %9s %9s %9s\n", "run", "questions", "ok", "failed", "req/s", "p50", "p95", "p99", "computed")
	var srv *web.Server
	var url string
	stop := func() {}
	defer func() { stop() }()
	for _, run := range runs {
		if !run.again {
			stop()
			var err error
			if srv, url, stop, err = b.serve(run.cache); err != nil {
				return err
			}
		}
		transport := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}
		client := &http.Client{Transport: transport, Timeout: time.Minute}
		if run.warm {
			// Every question once, one at a time: afterwards each answer is
			// cached and no computation left over from an earlier run is
			// still going.
			patient := &http.Client{Transport: transport, Timeout: 5 * time.Minute}
			for _, path := range run.paths {
				if _, err := b.get(patient, url, path); err != nil {
					return err
				}
			}
		}
		_, _, before := srv.AnswerCacheStats()
		var mu sync.Mutex
		var lat []time.Duration
		var failures int
		var firstErr error
		deadline := time.Now().Add(d)
		var wg sync.WaitGroup
		start := time.Now()
		for c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []time.Duration
				bad := 0
				var bErr error
				// Each connection walks the questions from its own offset.
				for i := c; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
					t0 := time.Now()
					if _, err := b.get(client, url, run.paths[i%len(run.paths)]); err != nil {
						bad++
						bErr = err
						continue
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				failures += bad
				if firstErr == nil {
					firstErr = bErr
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		el := time.Since(start)
		_, _, after := srv.AnswerCacheStats()
		transport.CloseIdleConnections()
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		fmt.Fprintf(e.stdout, "%-36s %9d %9d %8d %9.0f %9s %9s %9s %9d\n", run.name, len(run.paths), len(lat), failures,
			float64(len(lat))/el.Seconds(), ms(pct(lat, .5)), ms(pct(lat, .95)), ms(pct(lat, .99)), after-before)
		if firstErr != nil {
			fmt.Fprintf(e.stdout, "  first failure: %v\n", firstErr)
		}
	}
	fmt.Fprintf(e.stdout, "\nquestions: the mixed runs cycle through every range preset under every comparison, and the last 12 months\n"+
		"filtered by each of the top countries, each channel and each category; computed counts the answers the server\n"+
		"computed during the run (concurrent identical misses share one).\n")
	fmt.Fprintf(e.stdout, "peak RSS since the setup (server and client): %s\n", peakRSS())
	return nil
}

// eachAlone computes the answer to each question once, one at a time with
// the cache off, and prints how long each took: what a first visit costs,
// and which questions a load of them queues behind.
func (b *bench) eachAlone(e *env, paths []string) error {
	_, url, stop, err := b.serve(cacheOff)
	if err != nil {
		return err
	}
	defer stop()
	client := &http.Client{Timeout: 5 * time.Minute}
	type timing struct {
		path string
		d    time.Duration
	}
	var all []timing
	var ds []time.Duration
	for _, path := range paths {
		t0 := time.Now()
		if _, err := b.get(client, url, path); err != nil {
			return err
		}
		all = append(all, timing{path, time.Since(t0)})
		ds = append(ds, time.Since(t0))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	sort.SliceStable(all, func(i, j int) bool { return all[i].d > all[j].d })
	fmt.Fprintf(e.stdout, "each of the %d mixed questions alone, computed (cache off): p50 %s, p95 %s, max %s; slowest:\n",
		len(paths), ms(pct(ds, .5)), ms(pct(ds, .95)), ms(ds[len(ds)-1]))
	for _, t := range all[:min(5, len(all))] {
		fmt.Fprintf(e.stdout, "  %10s  %s\n", ms(t.d), t.path)
	}
	fmt.Fprintln(e.stdout)
	return nil
}

// mixedPaths is a dashboard's mix of questions to /api/analytics: every
// range preset under every comparison, and the last 12 months by country,
// channel and category.
func (b *bench) mixedPaths() []string {
	var out []string
	for _, pr := range analytics.Presets {
		for _, c := range []string{analytics.ComparePrevious, analytics.CompareYear, analytics.CompareNone} {
			out = append(out, "/api/analytics?range="+pr.Key+"&compare="+c)
		}
	}
	for _, c := range []string{"US", "GB", "DE", "CA", "AU", "FR"} {
		out = append(out, "/api/analytics?range=12m&country="+c)
	}
	for _, ch := range []string{"online_store", "marketplace", "retail_partner"} {
		out = append(out, "/api/analytics?range=12m&channel="+ch)
	}
	for _, cat := range phantomos.Categories {
		out = append(out, "/api/analytics?range=12m&category="+cat)
	}
	return out
}

// startProfile writes a CPU profile to path (none when empty) until stop.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	// Callers may stop early to leave out what follows (printing a
	// summary) and defer stop as well.
	return sync.OnceFunc(func() { pprof.StopCPUProfile(); f.Close() }), nil
}
