package shopify_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/connectortest"
	"github.com/phantomos/phantomos/internal/connector/shopify"
	"github.com/phantomos/phantomos/internal/connector/shopify/shopifytest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// harness is a fake shop, a store recording runs, a memory sink and an
// engine, with one connector.
type harness struct {
	srv    *shopifytest.Server
	store  *store.Store
	sink   *connectortest.MemorySink
	engine *connector.Engine
	target connector.Target
	token  string
}

func newHarness(t *testing.T, opts shopifytest.Options) *harness {
	t.Helper()
	if opts.RestoreRate == 0 {
		// Shopify's standard plan restores 100 points a second; tests that
		// are not about throttling should not wait for it.
		opts.RestoreRate = 50000
	}
	h := &harness{srv: shopifytest.New(t, opts), store: storetest.New(t, store.SQLite), sink: connectortest.NewMemorySink()}
	ctx := context.Background()
	pub := &phantomos.Publisher{Name: "Pub", Slug: "pub", Timezone: "UTC", ReportingCurrency: "USD", SubscriptionTier: "starter"}
	if err := h.store.CreatePublisher(ctx, pub); err != nil {
		t.Fatal(err)
	}
	c := &phantomos.Connector{Type: phantomos.ConnectorShopify, Name: "Phantom Merch"}
	if err := h.store.CreateConnector(ctx, pub.ID, c); err != nil {
		t.Fatal(err)
	}
	h.target = connector.Target{Publisher: pub.ID, ConnectorID: c.ID}
	h.engine = connector.NewEngine(h.sink, h.store, connector.Config{
		BaseBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, Rate: 1000, Burst: 50, BulkPoll: time.Millisecond, Logger: quiet})
	h.token = h.srv.IssueToken("read_products,read_orders")
	return h
}

// client returns a client that backfills page by page, as most tests are
// about paging; bulkClient one that backfills by bulk export.
func (h *harness) client(t *testing.T, cfg shopify.Config) *shopify.Client {
	t.Helper()
	cfg.PagedBackfill = true
	return h.bulkClient(t, cfg)
}

func (h *harness) bulkClient(t *testing.T, cfg shopify.Config) *shopify.Client {
	t.Helper()
	cfg.Shop, cfg.BaseURL, cfg.Logger = h.srv.Shop(), h.srv.URL, quiet
	if cfg.AccessToken == "" {
		cfg.AccessToken = h.token
	}
	c, err := shopify.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (h *harness) sync(t *testing.T, src connector.Source, opt connector.SyncOptions) *connector.Result {
	t.Helper()
	res, err := h.engine.Sync(context.Background(), h.target, src, opt)
	if err != nil {
		t.Fatalf("sync: %v (result %+v)", err, res)
	}
	return res
}

// cents reads a two-decimal test amount.
func cents(s string) int64 {
	whole, frac, _ := strings.Cut(s, ".")
	frac = (frac + "00")[:2]
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt(frac, 10, 64)
	return w*100 + f
}

func amount(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }

// expected computes, from the fake shop's own data, the sale lines a
// correct sync stores: gross = unit price × quantity, discount = the
// allocations, refunded = the refunded subtotals of the line, or all of
// gross − discount when the order was cancelled.
func expected(srv *shopifytest.Server) []connectortest.Sale {
	var out []connectortest.Sale
	for _, o := range srv.Orders() {
		refunded := map[int64]int64{}
		for _, r := range o.Refunds {
			for _, rl := range r.Lines {
				refunded[rl.LineItemID] += cents(rl.Subtotal)
			}
		}
		for _, l := range o.Lines {
			s := connectortest.Sale{OrderID: strconv.FormatInt(o.ID, 10), OrderName: o.Name, LineID: strconv.FormatInt(l.ID, 10),
				SKU: l.SKU, Name: l.Name, Date: o.ProcessedAt, Currency: srv.Currency(), Quantity: int64(l.Quantity),
				Gross: cents(l.Price) * int64(l.Quantity), Refunded: refunded[l.ID], Country: o.Country, Test: o.Test, Cancelled: o.CancelledAt != nil}
			if l.ProductID != 0 {
				s.ProductID = strconv.FormatInt(l.ProductID, 10)
			}
			for _, d := range l.Discounts {
				s.Discount += cents(d)
			}
			if o.CancelledAt != nil {
				s.Refunded = s.Gross - s.Discount
			}
			s.Net = s.Gross - s.Discount - s.Refunded
			out = append(out, s)
		}
	}
	return out
}

func sortSales(l []connectortest.Sale) []connectortest.Sale {
	// Same order as MemorySink.Sales: order id, then line id, as strings.
	out := append([]connectortest.Sale(nil), l...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && less(out[j], out[j-1]); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func less(a, b connectortest.Sale) bool {
	if a.OrderID != b.OrderID {
		return a.OrderID < b.OrderID
	}
	return a.LineID < b.LineID
}

// checkMatches asserts the sink holds exactly the fake shop's order lines
// and products: no loss, no duplicates, the same amounts.
func (h *harness) checkMatches(t *testing.T) {
	t.Helper()
	want := sortSales(expected(h.srv))
	if diff := cmp.Diff(want, h.sink.Sales(h.target)); diff != "" {
		t.Errorf("sales differ from the shop's (-want +got):\n%s", diff)
	}
	var wantTot connectortest.Totals
	orders := map[string]bool{}
	for _, s := range want {
		orders[s.OrderID] = true
		wantTot.Lines++
		wantTot.Units += s.Quantity
		wantTot.Gross += s.Gross
		wantTot.Discount += s.Discount
		wantTot.Refunded += s.Refunded
		wantTot.Net += s.Net
	}
	wantTot.Orders = len(orders)
	if got := h.sink.Totals(h.target); got != wantTot {
		t.Errorf("totals = %+v, want %+v", got, wantTot)
	}
	products := h.sink.Products(h.target)
	if len(products) != len(h.srv.Products()) {
		t.Errorf("%d products stored, shop has %d", len(products), len(h.srv.Products()))
	}
}

// seed fills the shop with products and n orders, including the shapes
// that need follow-up queries: an order with more lines than a page holds,
// one with many refunds, a refund with many lines.
func seed(srv *shopifytest.Server, n int, rng *rand.Rand) { seedSpread(srv, n, rng, 0) }

// seedSpread is seed with the shop's clock moved by spread before each order.
func seedSpread(srv *shopifytest.Server, n int, rng *rand.Rand, spread time.Duration) {
	var products []shopifytest.Product
	for i := range 6 {
		p := srv.AddProduct(shopifytest.Product{
			Title: fmt.Sprintf("Nova Figure %d", i), Description: "A figure.", ProductType: "Figures", Vendor: "Phantom",
			Tags: []string{"nova", "figure"}, ImageURL: fmt.Sprintf("https://cdn.example/p%d.png", i),
			Variants: []shopifytest.Variant{
				{SKU: fmt.Sprintf("NOVA-%d-S", i), Title: "Small", Price: amount(1000 + int64(i)*250)},
				{SKU: fmt.Sprintf("NOVA-%d-L", i), Title: "Large", Price: amount(2000 + int64(i)*250)},
			},
		})
		products = append(products, p)
	}
	countries := []string{"US", "DE", "FR", "JP", "GB", ""}
	for i := range n {
		lines := 1 + rng.IntN(3)
		if i == 7 {
			lines = 23 // more than one page of lines
		}
		var ls []shopifytest.LineItem
		for j := range lines {
			p := products[rng.IntN(len(products))]
			v := p.Variants[rng.IntN(2)]
			l := shopifytest.LineItem{ProductID: p.ID, VariantID: v.ID, SKU: v.SKU, Name: p.Title + " - " + v.Title,
				Quantity: 1 + rng.IntN(3), Price: v.Price}
			if rng.IntN(4) == 0 {
				l.Discounts = []string{amount(int64(50 + rng.IntN(200)))}
			}
			if j == 0 && i%11 == 5 {
				l.ProductID, l.VariantID, l.SKU, l.Name = 0, 0, "", "Gift wrapping" // custom item
			}
			ls = append(ls, l)
		}
		o := shopifytest.Order{Lines: ls, Country: countries[i%len(countries)], Test: i == 3}
		if i == 9 {
			t := srv.Now()
			o.CancelledAt = &t
		}
		srv.Advance(spread)
		o = srv.AddOrder(o)
		switch {
		case i == 7: // three refunds, one of twelve lines
			var rls []shopifytest.RefundLine
			for _, l := range o.Lines[:12] {
				rls = append(rls, shopifytest.RefundLine{LineItemID: l.ID, Quantity: 1, Subtotal: l.Price})
			}
			srv.AddRefund(o.ID, shopifytest.Refund{Lines: rls})
			srv.AddRefund(o.ID, shopifytest.Refund{Lines: []shopifytest.RefundLine{{LineItemID: o.Lines[20].ID, Quantity: 1, Subtotal: "1.00"}}})
			srv.AddRefund(o.ID, shopifytest.Refund{Lines: []shopifytest.RefundLine{{LineItemID: o.Lines[21].ID, Quantity: 1, Subtotal: "2.50"}}})
		case i%5 == 2: // a partial refund of the first line
			l := o.Lines[0]
			srv.AddRefund(o.ID, shopifytest.Refund{Lines: []shopifytest.RefundLine{{LineItemID: l.ID, Quantity: 1, Subtotal: l.Price}}})
		}
	}
}

func TestFullSync(t *testing.T) {
	h := newHarness(t, shopifytest.Options{})
	seed(h.srv, 40, rand.New(rand.NewPCG(1, 2)))
	var progress []connector.Progress
	res := h.sync(t, h.client(t, shopify.Config{}), connector.SyncOptions{Progress: func(p connector.Progress) { progress = append(progress, p) }})
	h.checkMatches(t)
	// 6 products on one page; 40 orders at 4 a page.
	if res.Pages != 11 || len(progress) != 11 || res.State != store.SyncSucceeded {
		t.Errorf("pages = %d, progress calls = %d, state %s", res.Pages, len(progress), res.State)
	}
	lines := len(expected(h.srv))
	if want := (store.SyncCounts{Seen: int64(6 + lines), Inserted: int64(6 + lines)}); res.Counts != want {
		t.Errorf("counts = %+v, want %+v", res.Counts, want)
	}
	// The big order needed follow-ups: its remaining lines, its refunds and
	// the refund with many lines.
	if h.srv.Requests("order") < 2 || h.srv.Requests("node") < 1 {
		t.Errorf("follow-up queries: order %d, node %d", h.srv.Requests("order"), h.srv.Requests("node"))
	}
	runs, _ := h.store.SyncRuns(context.Background(), h.target.Publisher, h.target.ConnectorID, 0)
	if len(runs) != 1 || runs[0].State != store.SyncSucceeded || runs[0].Counts != res.Counts || runs[0].FinishedAt == nil {
		t.Errorf("run = %+v", runs[0])
	}
	conn, _ := h.store.Connector(context.Background(), h.target.Publisher, h.target.ConnectorID)
	if conn.Status != store.ConnectorActive || conn.LastSyncAt == nil {
		t.Errorf("connector = %+v", conn)
	}
	// Products carry their variants, lowest price and shop currency.
	p := h.sink.Products(h.target)[0]
	if p.Currency != "USD" || p.Price != 1000 || len(p.Variants) != 2 || p.SKU != "NOVA-0-S" || p.ImageURL == "" || p.Status != "active" {
		t.Errorf("product = %+v", p)
	}
	// Presentment amounts default to the shop's here; the custom item has
	// no product.
	var custom int
	for _, s := range h.sink.Sales(h.target) {
		if s.ProductID == "" {
			custom++
		}
	}
	if custom == 0 {
		t.Error("no custom line item synced")
	}
}

func TestIncrementalSyncWithRefunds(t *testing.T) {
	h := newHarness(t, shopifytest.Options{})
	// Orders an hour apart, so the 15-minute lookback re-reads only the last.
	seedSpread(h.srv, 12, rand.New(rand.NewPCG(3, 4)), time.Hour)
	c := h.client(t, shopify.Config{OrdersPerPage: 5})
	h.sync(t, c, connector.SyncOptions{})
	h.checkMatches(t)

	// An hour later: a refund on an old order, a price change, new orders.
	h.srv.Advance(time.Hour)
	old := h.srv.Orders()[0]
	h.srv.AddRefund(old.ID, shopifytest.Refund{Lines: []shopifytest.RefundLine{{LineItemID: old.Lines[0].ID, Quantity: 1, Subtotal: "3.00"}}})
	prod := h.srv.Products()[2]
	h.srv.UpdateProduct(prod.ID, func(p *shopifytest.Product) { p.Variants[0].Price = "7.77" })
	for range 3 {
		h.srv.AddOrder(shopifytest.Order{Lines: []shopifytest.LineItem{{ProductID: prod.ID, SKU: "NOVA-2-S", Name: "Nova", Quantity: 2, Price: "7.77"}}, Country: "DE"})
	}
	before := h.srv.Requests("orders")
	res := h.sync(t, c, connector.SyncOptions{})
	h.checkMatches(t)
	// Only recent records were read: the last order of the first sync (the
	// lookback window), the refunded order and three new ones fit in one
	// page of five; one more request lists the order ids of the
	// reconciliation window.
	if got := h.srv.Requests("orders") - before; got != 2 {
		t.Errorf("incremental sync read %d order pages, want 1 and the reconciliation's", got)
	}
	if res.Counts.Inserted != 3 || res.Counts.Updated != 2 || res.Counts.Seen > 6+int64(len(old.Lines))+3+30 {
		t.Errorf("incremental counts = %+v", res.Counts)
	}
	if p := h.sink.Products(h.target); p[2].Price != 777 {
		t.Errorf("updated product price = %d", p[2].Price)
	}
}

func TestResumedSyncAfterKill(t *testing.T) {
	h := newHarness(t, shopifytest.Options{})
	seed(h.srv, 30, rand.New(rand.NewPCG(5, 6)))
	c := h.client(t, shopify.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	res, err := h.engine.Sync(ctx, h.target, c, connector.SyncOptions{Progress: func(p connector.Progress) {
		if p.Stream == connector.StreamOrders && p.Pages == 4 { // products + 3 order pages
			cancel()
		}
	}})
	if err == nil || res.State != store.SyncCancelled {
		t.Fatalf("killed sync: %+v, %v", res, err)
	}
	inserted := res.Counts.Inserted
	if n := len(h.sink.Sales(h.target)); n == 0 || n >= len(expected(h.srv)) {
		t.Fatalf("after the kill %d sales were stored", n)
	}
	// While the sync is down, an order already stored is updated (it moves
	// to the end of the updated_at order) and new ones arrive.
	first := h.srv.Orders()[0]
	h.srv.AddRefund(first.ID, shopifytest.Refund{Lines: []shopifytest.RefundLine{{LineItemID: first.Lines[0].ID, Quantity: 1, Subtotal: "1.25"}}})
	h.srv.AddOrder(shopifytest.Order{Lines: []shopifytest.LineItem{{SKU: "X", Name: "Late", Quantity: 1, Price: "9.99"}}})

	// A crash inside a commit later on loses nothing either.
	h.sink.FailCommit(3, fmt.Errorf("disk full"))
	if _, err := h.engine.Sync(context.Background(), h.target, c, connector.SyncOptions{}); err == nil {
		t.Fatal("sync with a failing commit succeeded")
	}
	runs, _ := h.store.SyncRuns(context.Background(), h.target.Publisher, h.target.ConnectorID, 0)
	for _, r := range runs {
		inserted += r.Counts.Inserted
	}
	inserted -= res.Counts.Inserted // counted twice above

	res2 := h.sync(t, c, connector.SyncOptions{})
	inserted += res2.Counts.Inserted
	h.checkMatches(t)
	// Every line was inserted exactly once across the three runs.
	if want := int64(6 + len(expected(h.srv))); inserted != want {
		t.Errorf("inserted %d records over the runs, want %d (each once)", inserted, want)
	}
}

func TestThrottledSync(t *testing.T) {
	h := newHarness(t, shopifytest.Options{BucketMax: 900, RestoreRate: 4000})
	seed(h.srv, 25, rand.New(rand.NewPCG(7, 8)))
	// An empty bucket: the first query is THROTTLED, and the small bucket
	// makes the client wait for restores between pages.
	h.srv.SetBucket(900, 4000, 0)
	res := h.sync(t, h.client(t, shopify.Config{}), connector.SyncOptions{})
	h.checkMatches(t)
	if h.srv.Throttled() == 0 || res.Retries == 0 {
		t.Errorf("throttled %d times, %d retries: the throttle was not exercised", h.srv.Throttled(), res.Retries)
	}
	// After the first THROTTLED answer the client waits for the bucket
	// instead of being throttled again and again.
	if h.srv.Throttled() > 2 {
		t.Errorf("throttled %d times: the client does not wait for restores", h.srv.Throttled())
	}
}

func TestSyncSurvivesFaults(t *testing.T) {
	h := newHarness(t, shopifytest.Options{})
	seed(h.srv, 20, rand.New(rand.NewPCG(9, 10)))
	h.srv.Inject(
		shopifytest.Fault{Op: "orders", Status: 429, RetryAfter: "0.05"},
		shopifytest.Fault{Op: "orders", Status: 503},
		shopifytest.Fault{Op: "orders", Malformed: true},
		shopifytest.Fault{Op: "products", Status: 500},
		shopifytest.Fault{Op: "order", Status: 502},
	)
	start := time.Now()
	res := h.sync(t, h.client(t, shopify.Config{}), connector.SyncOptions{})
	h.checkMatches(t)
	if res.Retries != 5 {
		t.Errorf("retries = %d, want 5", res.Retries)
	}
	if time.Since(start) < 50*time.Millisecond {
		t.Errorf("Retry-After of 0.05 s not honoured (took %v)", time.Since(start))
	}
}

func TestResyncDuplicatesNothing(t *testing.T) {
	h := newHarness(t, shopifytest.Options{})
	seed(h.srv, 15, rand.New(rand.NewPCG(11, 12)))
	c := h.client(t, shopify.Config{OrdersPerPage: 3, ProductsPerPage: 4})
	first := h.sync(t, c, connector.SyncOptions{})
	for _, opt := range []connector.SyncOptions{{}, {Full: true}} {
		res := h.sync(t, c, opt)
		if res.Counts.Inserted != 0 || res.Counts.Updated != 0 {
			t.Errorf("re-sync (full=%v) wrote: %+v", opt.Full, res.Counts)
		}
		if opt.Full && res.Counts.Skipped != first.Counts.Inserted {
			t.Errorf("full re-sync skipped %d, want %d", res.Counts.Skipped, first.Counts.Inserted)
		}
	}
	h.checkMatches(t)
}

func TestRevokedTokenAndReconnect(t *testing.T) {
	h := newHarness(t, shopifytest.Options{})
	seed(h.srv, 8, rand.New(rand.NewPCG(13, 14)))
	ctx := context.Background()
	h.sync(t, h.client(t, shopify.Config{}), connector.SyncOptions{})

	h.srv.RevokeTokens() // the merchant uninstalled the app
	h.srv.AddOrder(shopifytest.Order{Lines: []shopifytest.LineItem{{SKU: "N", Name: "New", Quantity: 1, Price: "5.00"}}})
	res, err := h.engine.Sync(ctx, h.target, h.client(t, shopify.Config{}), connector.SyncOptions{})
	if connector.KindOf(err) != connector.Auth || res.State != store.SyncFailed {
		t.Fatalf("sync with revoked token: %+v, %v", res, err)
	}
	const msg = "Shopify refused the access token — reconnect the store."
	conn, _ := h.store.Connector(ctx, h.target.Publisher, h.target.ConnectorID)
	if conn.Status != store.ConnectorError || conn.LastError != msg {
		t.Errorf("connector after revocation = %q, %q", conn.Status, conn.LastError)
	}
	runs, _ := h.store.SyncRuns(ctx, h.target.Publisher, h.target.ConnectorID, 1)
	if runs[0].State != store.SyncFailed || runs[0].Error != msg {
		t.Errorf("run = %+v", runs[0])
	}
	// Revocation mid-sync (between pages) is classified the same way.
	h.srv.Inject(shopifytest.Fault{Op: "orders", Revoke: true})
	tok := h.srv.IssueToken("")
	if _, err := h.engine.Sync(ctx, h.target, h.client(t, shopify.Config{AccessToken: tok}), connector.SyncOptions{}); connector.KindOf(err) != connector.Auth {
		t.Errorf("mid-sync revocation: %v", err)
	}

	// Reconnect: a new token is stored, tested and synced.
	tok = h.srv.IssueToken("")
	if err := h.store.SaveConnectorCredentials(ctx, h.target.Publisher, h.target.ConnectorID, []byte("sealed"), "k1"); err != nil {
		t.Fatal(err)
	}
	c := h.client(t, shopify.Config{AccessToken: tok})
	if _, err := h.engine.Test(ctx, h.target, c); err != nil {
		t.Fatal(err)
	}
	h.sync(t, c, connector.SyncOptions{})
	h.checkMatches(t)
	conn, _ = h.store.Connector(ctx, h.target.Publisher, h.target.ConnectorID)
	if conn.Status != store.ConnectorActive || conn.LastError != "" {
		t.Errorf("connector after reconnect = %q, %q", conn.Status, conn.LastError)
	}
}

func TestTestConnectionAndVersionFallForward(t *testing.T) {
	h := newHarness(t, shopifytest.Options{})
	ctx := context.Background()
	acc, err := h.engine.Test(ctx, h.target, h.client(t, shopify.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	want := connector.Account{Name: "Phantom Merch", Domain: h.srv.Shop(), Currency: "USD", APIVersion: shopify.APIVersion,
		Scopes:  []string{"read_products", "read_orders"},
		Notices: []string{"Shopify gives access to the last 60 days of orders only; older history needs the read_all_orders permission, which Shopify grants on request."}}
	if diff := cmp.Diff(want, acc); diff != "" {
		t.Errorf("account (-want +got):\n%s", diff)
	}

	// Shopify retires the pinned version: it answers with the oldest
	// supported one, and the client says so.
	h.srv.SetVersions("2026-01", "2026-04")
	c := h.client(t, shopify.Config{})
	acc, err = c.Test(ctx)
	if err != nil || acc.APIVersion != "2026-01" {
		t.Fatalf("after retirement: %+v, %v", acc, err)
	}
	res := h.sync(t, c, connector.SyncOptions{})
	if len(res.Notices) != 1 || !strings.Contains(res.Notices[0], "API version 2026-01 instead of the requested "+shopify.APIVersion) {
		t.Errorf("notices = %q", res.Notices)
	}

	// A token without read_orders cannot sync: an auth error that says which.
	limited := h.srv.IssueToken("read_products")
	_, err = h.engine.Test(ctx, h.target, h.client(t, shopify.Config{AccessToken: limited}))
	if connector.KindOf(err) != connector.Auth || !strings.Contains(connector.UserMessage(err), "read_orders") {
		t.Errorf("limited token: %v", err)
	}
	full := h.srv.IssueToken("read_products,read_orders,read_all_orders")
	if acc, err := h.client(t, shopify.Config{AccessToken: full}).Test(ctx); err != nil || len(acc.Notices) != 0 {
		t.Errorf("full scopes: %+v, %v", acc, err)
	}
}

func TestNormalizeShop(t *testing.T) {
	for in, want := range map[string]string{
		"nova":                                    "nova.myshopify.com",
		" Nova-Merch.myshopify.com ":              "nova-merch.myshopify.com",
		"https://nova.myshopify.com/admin":        "nova.myshopify.com",
		"http://nova.myshopify.com?x=1":           "nova.myshopify.com",
		"nova.myshopify.com.evil.example":         "",
		"evil.example":                            "",
		"-nova.myshopify.com":                     "",
		"nova_merch.myshopify.com":                "",
		"":                                        "",
		"nova.myshopify.com@evil.example":         "",
		"https://evil.example/nova.myshopify.com": "",
	} {
		got, err := shopify.NormalizeShop(in)
		if want == "" {
			if err == nil {
				t.Errorf("NormalizeShop(%q) = %q, want error", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("NormalizeShop(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestGraphQLErrorClassification(t *testing.T) {
	h := newHarness(t, shopifytest.Options{})
	seed(h.srv, 3, rand.New(rand.NewPCG(15, 16)))
	ctx := context.Background()
	c := h.client(t, shopify.Config{})
	for code, want := range map[string]connector.Kind{
		"ACCESS_DENIED": connector.Auth, "INTERNAL_SERVER_ERROR": connector.Transient, "SOMETHING_ELSE": connector.Permanent,
	} {
		h.srv.Inject(shopifytest.Fault{Op: "orders", GraphQLCode: code})
		if _, err := c.Orders(ctx, connector.Query{}); connector.KindOf(err) != want {
			t.Errorf("%s: %v, want %v", code, err, want)
		}
	}
	// A page too expensive for Shopify's single-query limit is refused as
	// permanent: retrying cannot help.
	big := h.client(t, shopify.Config{OrdersPerPage: 10})
	if _, err := big.Orders(ctx, connector.Query{}); connector.KindOf(err) != connector.Permanent || !strings.Contains(connector.UserMessage(err), "too expensive") {
		t.Errorf("oversized page: %v", err)
	}
	// Access denied puts the connector in error through the engine.
	h.srv.Inject(shopifytest.Fault{Op: "products", GraphQLCode: "ACCESS_DENIED"})
	if _, err := h.engine.Sync(ctx, h.target, c, connector.SyncOptions{}); connector.KindOf(err) != connector.Auth {
		t.Fatalf("sync: %v", err)
	}
	conn, _ := h.store.Connector(ctx, h.target.Publisher, h.target.ConnectorID)
	if conn.Status != store.ConnectorError || !strings.Contains(conn.LastError, "read_orders") {
		t.Errorf("connector = %q %q", conn.Status, conn.LastError)
	}
}

func TestPresentmentMoneyAndProcessedAt(t *testing.T) {
	h := newHarness(t, shopifytest.Options{Currency: "USD"})
	imported := time.Date(2025, 11, 20, 8, 0, 0, 0, time.UTC)
	o := h.srv.AddOrder(shopifytest.Order{PresentmentCurrency: "EUR", ProcessedAt: imported, Country: "FR", Province: "IDF",
		Lines: []shopifytest.LineItem{{SKU: "H", Name: "Hoodie", Quantity: 2, Price: "50.00", PresentmentPrice: "46.00",
			Discounts: []string{"10.00"}, PresentmentDiscounts: []string{"9.20"}}}})
	refunded := imported.AddDate(0, 0, 12) // the line's refund date: when its refund was made
	h.srv.AddRefund(o.ID, shopifytest.Refund{CreatedAt: refunded, Lines: []shopifytest.RefundLine{{LineItemID: o.Lines[0].ID, Quantity: 1, Subtotal: "45.00", PresentmentSubtotal: "41.40"}}})
	page, err := h.client(t, shopify.Config{}).Orders(context.Background(), connector.Query{})
	if err != nil {
		t.Fatal(err)
	}
	got := page.Items[0]
	if !got.Date().Equal(imported) || got.CreatedAt.Equal(imported) || got.Currency != "USD" || got.PresentmentCurrency != "EUR" ||
		got.Country != "FR" || got.Region != "IDF" || got.Channel != "shopify" {
		t.Errorf("order = %+v", got)
	}
	want := connector.OrderLine{ExternalID: strconv.FormatInt(o.Lines[0].ID, 10), SKU: "H", Name: "Hoodie", Quantity: 2, RefundedQuantity: 1,
		RefundedAt: refunded, UnitPrice: 5000, Gross: 10000, Discount: 1000, Refunded: 4500, Net: 4500,
		Presentment: connector.Amounts{Currency: "EUR", Gross: 9200, Discount: 920, Refunded: 4140, Net: 4140}}
	if diff := cmp.Diff(want, got.Lines[0]); diff != "" {
		t.Errorf("line (-want +got):\n%s", diff)
	}
}
