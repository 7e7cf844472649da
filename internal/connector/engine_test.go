package connector_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/connectortest"
	"github.com/phantomos/phantomos/internal/secret"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// listSource is a Source over in-memory records, paged by offset in
// (updated, id) order, with errors injected per call.
type listSource struct {
	mu       sync.Mutex
	products []connector.Product
	orders   []connector.Order
	pageSize int
	errs     []error // returned by the next calls, in order (nil = succeed)
	calls    int
	queries  []connector.Query
}

func (s *listSource) next() error {
	s.calls++
	if len(s.errs) == 0 {
		return nil
	}
	err := s.errs[0]
	s.errs = s.errs[1:]
	return err
}

func (s *listSource) fail(errs ...error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs = append(s.errs, errs...)
}

func (s *listSource) Test(ctx context.Context) (connector.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.next(); err != nil {
		return connector.Account{}, err
	}
	return connector.Account{Name: "List", Currency: "EUR"}, nil
}

func page[T any](s *listSource, q connector.Query, all []T, updated func(*T) time.Time, id func(*T) string) (connector.Page[T], error) {
	s.queries = append(s.queries, q)
	if err := s.next(); err != nil {
		return connector.Page[T]{}, err
	}
	var match []T
	for i := range all {
		if !updated(&all[i]).Before(q.Since) {
			match = append(match, all[i])
		}
	}
	slices.SortFunc(match, func(a, b T) int {
		if c := updated(&a).Compare(updated(&b)); c != 0 {
			return c
		}
		return cmpString(id(&a), id(&b))
	})
	off := 0
	if q.Page != "" {
		off, _ = strconv.Atoi(q.Page)
	}
	end := min(off+s.pageSize, len(match))
	p := connector.Page[T]{Items: slices.Clone(match[off:end])}
	if end < len(match) {
		p.Next = strconv.Itoa(end)
	}
	return p, nil
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *listSource) Products(ctx context.Context, q connector.Query) (connector.Page[connector.Product], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return page(s, q, s.products, func(p *connector.Product) time.Time { return p.UpdatedAt }, func(p *connector.Product) string { return p.ExternalID })
}

func (s *listSource) Orders(ctx context.Context, q connector.Query) (connector.Page[connector.Order], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return page(s, q, s.orders, func(o *connector.Order) time.Time { return o.UpdatedAt }, func(o *connector.Order) string { return o.ExternalID })
}

var t0 = time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC)

func order(i int, updated time.Time) connector.Order {
	return connector.Order{ExternalID: fmt.Sprintf("o%03d", i), Name: fmt.Sprintf("#%d", 1000+i), CreatedAt: t0, UpdatedAt: updated, Currency: "EUR",
		Lines: []connector.OrderLine{{ExternalID: "1", ProductExternalID: "p1", Quantity: 1, Gross: 1000, Net: 1000}}}
}

func (s *listSource) addOrders(from, n int, updated time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := from; i < from+n; i++ {
		s.orders = append(s.orders, order(i, updated.Add(time.Duration(i)*time.Second)))
	}
}

// env is a store with one publisher and connector, a memory sink and an engine.
type env struct {
	store  *store.Store
	sink   *connectortest.MemorySink
	engine *connector.Engine
	target connector.Target
}

func newEnv(t *testing.T, cfg connector.Config) *env {
	t.Helper()
	s := storetest.New(t, store.SQLite)
	ctx := context.Background()
	pub := &phantomos.Publisher{Name: "Pub", Slug: "pub", Timezone: "UTC", ReportingCurrency: "EUR", SubscriptionTier: "starter"}
	if err := s.CreatePublisher(ctx, pub); err != nil {
		t.Fatal(err)
	}
	c := &phantomos.Connector{Type: phantomos.ConnectorShopify, Name: "Shop"}
	if err := s.CreateConnector(ctx, pub.ID, c); err != nil {
		t.Fatal(err)
	}
	if cfg.BaseBackoff == 0 {
		cfg.BaseBackoff = time.Millisecond
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 5 * time.Millisecond
	}
	if cfg.Rate == 0 {
		cfg.Rate = -1
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	sink := connectortest.NewMemorySink()
	return &env{store: s, sink: sink, engine: connector.NewEngine(sink, s, cfg), target: connector.Target{Publisher: pub.ID, ConnectorID: c.ID}}
}

func (e *env) connector(t *testing.T) *phantomos.Connector {
	t.Helper()
	c, err := e.store.Connector(context.Background(), e.target.Publisher, e.target.ConnectorID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) checkpoint(t *testing.T) connector.Checkpoint {
	t.Helper()
	cur, _ := e.sink.Cursor(context.Background(), e.target)
	cp, err := connector.ParseCursor(cur)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

func TestEngineFullThenIncremental(t *testing.T) {
	e := newEnv(t, connector.Config{Lookback: 10 * time.Minute})
	src := &listSource{pageSize: 10}
	src.products = []connector.Product{{ExternalID: "p1", Name: "Hoodie", UpdatedAt: t0}}
	src.addOrders(0, 25, t0)
	ctx := context.Background()

	var progress []connector.Progress
	res, err := e.engine.Sync(ctx, e.target, src, connector.SyncOptions{Progress: func(p connector.Progress) { progress = append(progress, p) }})
	if err != nil {
		t.Fatal(err)
	}
	// One product page, three order pages.
	if res.State != store.SyncSucceeded || res.Pages != 4 || len(progress) != 4 {
		t.Fatalf("result %+v, %d progress calls", res, len(progress))
	}
	want := store.SyncCounts{Seen: 26, Inserted: 26}
	if diff := cmp.Diff(want, res.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	if last := progress[3]; last.Stream != connector.StreamOrders || last.Counts != want || !last.Through.Equal(t0.Add(24*time.Second)) {
		t.Errorf("last progress = %+v", last)
	}
	cp := e.checkpoint(t)
	if cp.Orders.InPass() || !cp.Orders.Synced.Equal(t0.Add(24*time.Second)) || cp.Orders.Passes != 1 {
		t.Errorf("orders checkpoint = %+v", cp.Orders)
	}
	runs, _ := e.store.SyncRuns(ctx, e.target.Publisher, e.target.ConnectorID, 0)
	if len(runs) != 1 || runs[0].State != store.SyncSucceeded || runs[0].Counts != want {
		t.Errorf("runs = %+v", runs)
	}
	if c := e.connector(t); c.Status != store.ConnectorActive || c.LastSyncAt == nil {
		t.Errorf("connector = %+v", c)
	}

	// An update and a new order after the first sync: the next pass starts
	// at the watermark minus the lookback and re-reads only what is recent.
	src.mu.Lock()
	src.orders[3].UpdatedAt = t0.Add(time.Hour)
	src.orders[3].Lines[0].Refunded, src.orders[3].Lines[0].Net = 400, 600
	src.queries = nil
	src.mu.Unlock()
	src.addOrders(25, 1, t0.Add(time.Hour))
	res, err = e.engine.Sync(ctx, e.target, src, connector.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := src.queries[len(src.queries)-1].Since; !got.Equal(t0.Add(24*time.Second - 10*time.Minute)) {
		t.Errorf("incremental since = %v", got)
	}
	// Lookback re-reads the product and the 24 other older orders (all
	// within 10 minutes of the watermark) as unchanged.
	want = store.SyncCounts{Seen: 27, Inserted: 1, Updated: 1, Skipped: 25}
	if diff := cmp.Diff(want, res.Counts); diff != "" {
		t.Errorf("incremental counts (-want +got):\n%s", diff)
	}
	tot := e.sink.Totals(e.target)
	if tot.Orders != 26 || tot.Lines != 26 || tot.Refunded != 400 || tot.Net != 26*1000-400 {
		t.Errorf("totals = %+v", tot)
	}
	// A re-sync writes nothing new.
	res, err = e.engine.Sync(ctx, e.target, src, connector.SyncOptions{Full: true})
	if err != nil || res.Counts.Inserted != 0 || res.Counts.Updated != 0 || res.Counts.Skipped != 27 {
		t.Errorf("full re-sync = %+v, %v", res.Counts, err)
	}
}

func TestEngineResumesAfterKill(t *testing.T) {
	e := newEnv(t, connector.Config{})
	src := &listSource{pageSize: 4}
	src.addOrders(0, 30, t0)
	ctx, cancel := context.WithCancel(context.Background())
	// Kill after the second order page is committed.
	res, err := e.engine.Sync(ctx, e.target, src, connector.SyncOptions{Progress: func(p connector.Progress) {
		if p.Stream == connector.StreamOrders && p.Pages == 3 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || res.State != store.SyncCancelled {
		t.Fatalf("killed sync = %+v, %v", res, err)
	}
	if n := len(e.sink.Sales(e.target)); n != 8 {
		t.Fatalf("after kill: %d sales, want 8", n)
	}
	cp := e.checkpoint(t)
	if !cp.Orders.InPass() || cp.Orders.Page != "8" {
		t.Fatalf("checkpoint after kill = %+v", cp.Orders)
	}
	// A crash between fetching and committing a page loses that page's
	// writes and cursor together.
	// (Commit 1 is the empty products page, 2 the orders page resumed at 8.)
	e.sink.FailCommit(3, errors.New("power cut"))
	if _, err := e.engine.Sync(context.Background(), e.target, src, connector.SyncOptions{}); err == nil {
		t.Fatal("sync with a failed commit succeeded")
	}
	if n := len(e.sink.Sales(e.target)); n != 12 {
		t.Fatalf("after failed commit: %d sales, want 12", n)
	}
	src.mu.Lock()
	src.queries = nil
	src.mu.Unlock()
	res, err = e.engine.Sync(context.Background(), e.target, src, connector.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// It resumed at the first page not committed, without re-reading.
	if first := src.queries[1]; first.Page != "12" {
		t.Errorf("resumed at page %q, want 12", first.Page)
	}
	if res.Counts.Inserted != 18 || res.Counts.Updated != 0 || res.Counts.Skipped != 0 {
		t.Errorf("resumed counts = %+v", res.Counts)
	}
	sales := e.sink.Sales(e.target)
	if len(sales) != 30 {
		t.Fatalf("final: %d sales, want 30", len(sales))
	}
	// A stored page token the source no longer accepts restarts the pass
	// instead of blocking the connector.
	ctx2, cancel2 := context.WithCancel(context.Background())
	src.addOrders(30, 10, t0.Add(time.Hour))
	e.engine.Sync(ctx2, e.target, src, connector.SyncOptions{Progress: func(p connector.Progress) {
		if p.Stream == connector.StreamOrders {
			cancel2()
		}
	}})
	if cp := e.checkpoint(t); !cp.Orders.InPass() {
		t.Fatalf("no pass in progress: %+v", cp.Orders)
	}
	src.fail(nil, connector.Errorf(connector.Permanent, "Invalid cursor"))
	if _, err := e.engine.Sync(context.Background(), e.target, src, connector.SyncOptions{}); err != nil {
		t.Fatalf("sync after a refused token: %v", err)
	}
	if n := len(e.sink.Sales(e.target)); n != 40 {
		t.Errorf("after restarting the pass: %d sales, want 40", n)
	}
	runs, _ := e.store.SyncRuns(context.Background(), e.target.Publisher, e.target.ConnectorID, 0)
	var states []string
	for _, r := range runs {
		states = append(states, r.State)
	}
	if diff := cmp.Diff([]string{store.SyncSucceeded, store.SyncCancelled, store.SyncSucceeded, store.SyncFailed, store.SyncCancelled}, states); diff != "" {
		t.Errorf("run states (-want +got):\n%s", diff)
	}
	if runs[3].Error != "The sync stopped on an unexpected error. It has been logged." {
		t.Errorf("failed commit message = %q", runs[1].Error)
	}
}

func TestEngineRetriesTransientAndRateLimited(t *testing.T) {
	e := newEnv(t, connector.Config{MaxAttempts: 4})
	src := &listSource{pageSize: 10}
	src.addOrders(0, 3, t0)
	src.fail(nil, // products
		connector.HTTPError("Shop", 503, nil),
		&connector.Error{Kind: connector.RateLimited, RetryAfter: 60 * time.Millisecond, Message: "slow down"},
		fmt.Errorf("read: %w", io.ErrUnexpectedEOF))
	start := time.Now()
	res, err := e.engine.Sync(context.Background(), e.target, src, connector.SyncOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 60*time.Millisecond {
		t.Errorf("Retry-After not honoured: took %v", time.Since(start))
	}
	if res.Retries != 3 || res.Counts.Inserted != 3 {
		t.Errorf("result = %+v", res)
	}

	// Failures beyond MaxAttempts fail the run with the platform's message;
	// the connector keeps its status (a later sync may work).
	src.fail(nil, connector.HTTPError("Shop", 502, nil), connector.HTTPError("Shop", 502, nil), connector.HTTPError("Shop", 502, nil), connector.HTTPError("Shop", 502, nil))
	res, err = e.engine.Sync(context.Background(), e.target, src, connector.SyncOptions{})
	if connector.KindOf(err) != connector.Transient || res.State != store.SyncFailed {
		t.Fatalf("exhausted retries = %+v, %v", res, err)
	}
	c := e.connector(t)
	if c.Status != store.ConnectorActive || c.LastError != "Shop had a temporary problem (502). Gave up after 4 attempts; the next sync will try again." {
		t.Errorf("connector = %q %q", c.Status, c.LastError)
	}

	// Permanent errors are not retried.
	calls := src.calls
	src.fail(nil, connector.HTTPError("Shop", 400, nil))
	if _, err := e.engine.Sync(context.Background(), e.target, src, connector.SyncOptions{}); connector.KindOf(err) != connector.Permanent {
		t.Errorf("400: %v", err)
	}
	if src.calls-calls != 2 {
		t.Errorf("400 was retried: %d calls", src.calls-calls)
	}

	// A Retry-After beyond the limit fails the run instead of sleeping.
	e2 := newEnv(t, connector.Config{MaxRetryAfter: time.Second})
	src.fail(nil, &connector.Error{Kind: connector.RateLimited, RetryAfter: time.Hour, Message: "Shop is rate limiting requests (429)."})
	start = time.Now()
	if _, err := e2.engine.Sync(context.Background(), e2.target, src, connector.SyncOptions{}); connector.KindOf(err) != connector.RateLimited || time.Since(start) > time.Second {
		t.Errorf("long Retry-After: %v after %v", err, time.Since(start))
	}
}

func TestEngineAuthErrorAndRecovery(t *testing.T) {
	e := newEnv(t, connector.Config{})
	ctx := context.Background()
	src := &listSource{pageSize: 10}
	src.addOrders(0, 2, t0)
	src.fail(nil, connector.HTTPError("Shopify", http.StatusUnauthorized, nil))
	res, err := e.engine.Sync(ctx, e.target, src, connector.SyncOptions{})
	if connector.KindOf(err) != connector.Auth || res.State != store.SyncFailed {
		t.Fatalf("revoked token: %+v, %v", res, err)
	}
	if src.calls != 2 {
		t.Errorf("auth failure was retried: %d calls", src.calls)
	}
	const msg = "Shopify refused the access token — reconnect the store."
	if c := e.connector(t); c.Status != store.ConnectorError || c.LastError != msg {
		t.Errorf("connector = %q %q", c.Status, c.LastError)
	}
	// Test also reports it.
	src.fail(connector.HTTPError("Shopify", http.StatusUnauthorized, nil))
	if _, err := e.engine.Test(ctx, e.target, src); connector.KindOf(err) != connector.Auth {
		t.Errorf("Test with revoked token: %v", err)
	}
	// Reconnecting stores new credentials (pending) and a test makes it
	// active; the next sync completes.
	if err := e.store.SaveConnectorCredentials(ctx, e.target.Publisher, e.target.ConnectorID, []byte("new"), "k1"); err != nil {
		t.Fatal(err)
	}
	if c := e.connector(t); c.Status != store.ConnectorPending || c.LastError != "" {
		t.Errorf("after reconnect = %q %q", c.Status, c.LastError)
	}
	if acc, err := e.engine.Test(ctx, e.target, src); err != nil || acc.Name != "List" {
		t.Fatalf("Test = %+v, %v", acc, err)
	}
	if c := e.connector(t); c.Status != store.ConnectorActive {
		t.Errorf("after test = %q", c.Status)
	}
	if _, err := e.engine.Sync(ctx, e.target, src, connector.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.sink.Sales(e.target)); n != 2 {
		t.Errorf("sales = %d", n)
	}
}

func TestEngineOneSyncPerConnector(t *testing.T) {
	e := newEnv(t, connector.Config{})
	src := &listSource{pageSize: 1}
	src.addOrders(0, 3, t0)
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		_, err := e.engine.Sync(context.Background(), e.target, src, connector.SyncOptions{Progress: func(p connector.Progress) {
			if p.Pages == 1 {
				close(started)
				<-release
			}
		}})
		done <- err
	}()
	<-started
	if _, err := e.engine.Sync(context.Background(), e.target, src, connector.SyncOptions{}); phantomos.ErrorCode(err) != phantomos.ECONFLICT {
		t.Errorf("second sync: %v", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestEngineApplyIsIdempotent(t *testing.T) {
	e := newEnv(t, connector.Config{})
	b := connector.Batch{Orders: []connector.Order{order(1, t0)}}
	c1, err := e.engine.Apply(context.Background(), e.target, b)
	if err != nil || c1.Inserted != 1 || c1.Seen != 1 {
		t.Fatalf("first apply = %+v, %v", c1, err)
	}
	c2, err := e.engine.Apply(context.Background(), e.target, b)
	if err != nil || c2.Skipped != 1 || c2.Inserted != 0 {
		t.Fatalf("second apply = %+v, %v", c2, err)
	}
	if cur, _ := e.sink.Cursor(context.Background(), e.target); cur != nil {
		t.Errorf("apply touched the cursor: %s", cur)
	}
}

func TestLimiterPacesRequests(t *testing.T) {
	l := connector.NewLimiter(200, 2) // 5 ms apart after a burst of 2
	start := time.Now()
	for range 12 {
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 45*time.Millisecond {
		t.Errorf("12 requests at 200/s with burst 2 took %v, want >= 50ms", d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: %v", err)
	}
}

func TestHTTPErrorClassification(t *testing.T) {
	h := http.Header{}
	h.Set("Retry-After", "2.5")
	cases := []struct {
		status int
		kind   connector.Kind
	}{
		{401, connector.Auth}, {403, connector.Auth}, {402, connector.Auth}, {404, connector.Auth}, {423, connector.Auth},
		{429, connector.RateLimited}, {500, connector.Transient}, {503, connector.Transient}, {408, connector.Transient},
		{400, connector.Permanent}, {422, connector.Permanent},
	}
	for _, c := range cases {
		e := connector.HTTPError("Shopify", c.status, h)
		if e.Kind != c.kind || e.RetryAfter != 2500*time.Millisecond || e.Status != c.status || e.Message == "" {
			t.Errorf("%d: %+v", c.status, e)
		}
		if got := connector.KindOf(fmt.Errorf("wrapped: %w", e)); got != c.kind {
			t.Errorf("%d wrapped: %v", c.status, got)
		}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{"3": 3 * time.Second, "0.25": 250 * time.Millisecond,
		"Thu, 01 Jan 2026 00:00:10 GMT": 10 * time.Second, "Wed, 31 Dec 2025 00:00:00 GMT": 0} {
		if got, ok := connector.ParseRetryAfter(in, now); !ok || got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "soon", "-1", "NaN"} {
		if _, ok := connector.ParseRetryAfter(in, now); ok {
			t.Errorf("ParseRetryAfter(%q) accepted", in)
		}
	}
	if connector.KindOf(context.DeadlineExceeded) != connector.Transient || connector.KindOf(errors.New("x")) != connector.Permanent {
		t.Error("unclassified errors")
	}
}

func TestVault(t *testing.T) {
	e := newEnv(t, connector.Config{})
	ctx := context.Background()
	oldKey := secret.Generate()
	keys, _ := secret.Parse("old:" + oldKey)
	v := connector.NewVault(keys, e.store)
	type creds struct{ Token string }
	if err := v.Save(ctx, e.target, creds{"shpat_abc"}); err != nil {
		t.Fatal(err)
	}
	raw, keyID, _ := e.store.ConnectorCredentials(ctx, e.target.Publisher, e.target.ConnectorID)
	if keyID != "old" || strings.Contains(string(raw), "shpat_abc") {
		t.Fatalf("stored %q under %q", raw, keyID)
	}
	var got creds
	if err := v.Load(ctx, e.target, &got); err != nil || got.Token != "shpat_abc" {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	// The ciphertext is bound to its connector: copied to another, it does
	// not open.
	other := &phantomos.Connector{Type: phantomos.ConnectorShopify, Name: "Other"}
	if err := e.store.CreateConnector(ctx, e.target.Publisher, other); err != nil {
		t.Fatal(err)
	}
	otherT := connector.Target{Publisher: e.target.Publisher, ConnectorID: other.ID}
	e.store.SaveConnectorCredentials(ctx, e.target.Publisher, other.ID, raw, keyID)
	if err := v.Load(ctx, otherT, &got); !errors.Is(err, secret.ErrDecrypt) {
		t.Errorf("copied ciphertext: %v", err)
	}
	if err := v.Save(ctx, otherT, creds{"shpat_other"}); err != nil {
		t.Fatal(err)
	}
	// Rotation: a new current key, then re-keying the stored credentials.
	newKey := secret.Generate()
	rotated, err := secret.Parse("new:" + newKey + ",old:" + oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := connector.Rekey(ctx, rotated, e.store); err != nil || n != 2 {
		t.Fatalf("Rekey = %d, %v", n, err)
	}
	for _, tg := range []connector.Target{e.target, otherT} {
		if _, keyID, _ := e.store.ConnectorCredentials(ctx, tg.Publisher, tg.ConnectorID); keyID != "new" {
			t.Errorf("key after rekey = %q", keyID)
		}
	}
	// Once re-keyed, the old key can go.
	newOnly, _ := secret.Parse("new:" + newKey)
	if err := connector.NewVault(newOnly, e.store).Load(ctx, e.target, &got); err != nil || got.Token != "shpat_abc" {
		t.Errorf("load after rekey = %+v, %v", got, err)
	}
	if n, err := connector.Rekey(ctx, rotated, e.store); err != nil || n != 0 {
		t.Errorf("second Rekey = %d, %v", n, err)
	}
}

// TestEngineBeginThenRun: Begin records the run as running before any
// work, claims the connector until Run ends, and Run finishes that run.
func TestEngineBeginThenRun(t *testing.T) {
	e := newEnv(t, connector.Config{})
	src := &listSource{pageSize: 10}
	src.addOrders(0, 3, t0)
	ctx := context.Background()
	p, err := e.engine.Begin(ctx, e.target)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := e.store.SyncRuns(ctx, e.target.Publisher, e.target.ConnectorID, 5)
	if err != nil || len(runs) != 1 || runs[0].ID != p.RunID() || runs[0].State != store.SyncRunning {
		t.Fatalf("after Begin: %+v, %v", runs, err)
	}
	if _, err := e.engine.Begin(ctx, e.target); phantomos.ErrorCode(err) != phantomos.ECONFLICT {
		t.Errorf("second Begin while pending: %v", err)
	}
	if _, err := e.engine.Sync(ctx, e.target, src, connector.SyncOptions{}); phantomos.ErrorCode(err) != phantomos.ECONFLICT {
		t.Errorf("Sync while pending: %v", err)
	}
	res, err := p.Run(ctx, src, connector.SyncOptions{})
	if err != nil || res.RunID != p.RunID() || res.State != store.SyncSucceeded || res.Counts.Inserted != 3 {
		t.Fatalf("Run: %+v, %v", res, err)
	}
	if _, err := p.Run(ctx, src, connector.SyncOptions{}); err == nil {
		t.Error("a pending sync ran twice")
	}
	if res, err := e.engine.Sync(ctx, e.target, src, connector.SyncOptions{}); err != nil || res.State != store.SyncSucceeded {
		t.Errorf("Sync after Run: %+v, %v", res, err)
	}
}
