package woocommerce_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
	"github.com/phantomos/phantomos/internal/connector/woocommerce"
	"github.com/phantomos/phantomos/internal/connector/woocommerce/wootest"
	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var day0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// harness is a fake store synced into the real store (both engines)
// through StoreSink, with the webhook endpoint mounted as the app mounts it.
type harness struct {
	srv    *wootest.Server
	s      *store.Store
	engine *connector.Engine
	target connector.Target
	hooks  *httptest.Server
	secret string
	// failHooks makes the webhook endpoint answer 500.
	failHooks bool
}

func newHarness(t *testing.T, s *store.Store, booking string) *harness {
	t.Helper()
	h := &harness{srv: wootest.New(), s: s, secret: "whsec-nova-0123456789"}
	t.Cleanup(h.srv.Close)
	ctx := context.Background()
	pub := &phantomos.Publisher{Name: "Pub", Slug: "pub", Timezone: "UTC", ReportingCurrency: "USD", SubscriptionTier: "starter",
		Settings: phantomos.PublisherSettings{AttributionModel: phantomos.AttributionEqual, RefundBooking: booking}}
	if err := s.CreatePublisher(ctx, pub); err != nil {
		t.Fatal(err)
	}
	c := &phantomos.Connector{Type: phantomos.ConnectorWooCommerce, Name: "Nova Merch"}
	if err := s.CreateConnector(ctx, pub.ID, c); err != nil {
		t.Fatal(err)
	}
	h.target = connector.Target{Publisher: pub.ID, ConnectorID: c.ID}
	h.engine = connector.NewEngine(&connector.StoreSink{Store: s}, s, connector.Config{
		BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Rate: 1000, Burst: 50, MaxRetryAfter: 3 * time.Second, Logger: quiet})
	mux := http.NewServeMux()
	mux.Handle("POST "+woocommerce.WebhookPath+"{connector}", &woocommerce.WebhookHandler{
		Target: func(ctx context.Context, id string) (woocommerce.WebhookTarget, error) {
			if id != h.target.ConnectorID {
				return woocommerce.WebhookTarget{}, phantomos.Errorf(phantomos.ENOTFOUND, "no such connector")
			}
			return woocommerce.WebhookTarget{Target: h.target, Secret: h.secret}, nil
		},
		// Done at once here; the server stores it as a job instead.
		Enqueue: func(ctx context.Context, tg connector.Target, d platform.Delivery) error {
			if h.failHooks {
				return errors.New("database down")
			}
			b, err := woocommerce.FetchOrders(ctx, h.client(t), d.Orders)
			if err != nil {
				return err
			}
			_, err = h.engine.Apply(ctx, tg, b)
			return err
		},
		Logger: quiet,
	})
	h.hooks = httptest.NewServer(mux)
	t.Cleanup(h.hooks.Close)
	return h
}

func (h *harness) hookURL() string {
	return h.hooks.URL + woocommerce.WebhookPath + h.target.ConnectorID
}

func (h *harness) client(t *testing.T) *woocommerce.Client {
	t.Helper()
	c, err := woocommerce.FromCredentials(woocommerce.Credentials{URL: h.srv.URL, ConsumerKey: h.srv.Key, ConsumerSecret: h.srv.Secret,
		WebhookSecret: h.secret}, woocommerce.Config{Logger: quiet, WebhookURL: h.hookURL()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (h *harness) sync(t *testing.T, opt connector.SyncOptions) *connector.Result {
	t.Helper()
	res, err := h.engine.Sync(context.Background(), h.target, h.client(t), opt)
	if err != nil {
		t.Fatalf("sync: %v (%+v)", err, res)
	}
	return res
}

// stored sums the connector's sale lines as the store holds them.
func (h *harness) stored(t *testing.T) wootest.Totals {
	t.Helper()
	var tot wootest.Totals
	var orders int64
	var lines int64
	if err := h.s.DB().QueryRow(`SELECT COUNT(DISTINCT external_order_id), COUNT(*), COALESCE(SUM(quantity), 0), COALESCE(SUM(gross), 0),
		COALESCE(SUM(discount), 0), COALESCE(SUM(refunded), 0), COALESCE(SUM(net), 0)
		FROM sales WHERE publisher_id = $1 AND connector_id = $2`, h.target.Publisher, h.target.ConnectorID).
		Scan(&orders, &lines, &tot.Units, &tot.Gross, &tot.Discount, &tot.Refunded, &tot.Net); err != nil {
		t.Fatal(err)
	}
	tot.Orders, tot.Lines = int(orders), int(lines)
	return tot
}

func (h *harness) checkTotals(t *testing.T, when string) {
	t.Helper()
	want := h.srv.Totals()
	if want.Orders == 0 {
		t.Fatalf("%s: the fake has no sales", when)
	}
	if diff := cmp.Diff(want, h.stored(t)); diff != "" {
		t.Errorf("%s: totals (-fake +stored):\n%s", when, diff)
	}
	if err := h.s.CheckRollups(context.Background(), h.target.Publisher); err != nil {
		t.Errorf("%s: %v", when, err)
	}
}

// seed fills the fake with n orders of every status, some discounted,
// refunded in part or whole, taxed, and with shipping, plus products.
func seed(srv *wootest.Server, n int) {
	statuses := []string{"processing", "completed", "on-hold", "pending", "failed", "cancelled", "completed", "refunded", "processing", "completed"}
	for i := 1; i <= n; i++ {
		id := int64(1000 + i)
		at := day0.Add(time.Duration(i) * time.Minute)
		o := wootest.Order{ID: id, Status: statuses[i%len(statuses)], Created: at, Modified: at, Paid: at, Shipping: 500, Country: "DE",
			Lines: []wootest.Line{
				{ID: id*10 + 1, ProductID: 11, VariationID: 111, SKU: "HOODIE-S", Name: "Hoodie - S", Quantity: 2, Subtotal: 8000, Total: 7200, Tax: 1368},
				{ID: id*10 + 2, ProductID: 12, SKU: "MUG", Name: "Mug", Quantity: 1, Subtotal: 1500, Total: 1500, Tax: 285},
			}}
		if i%7 == 0 {
			o.Refunds = []wootest.Refund{{ID: id*10 + 9, At: at.Add(48 * time.Hour), Amount: 1500 + 285 + 500,
				Lines: []wootest.RefundLine{{LineID: id*10 + 2, Quantity: 1, Total: 1500, Tax: 285}}}}
		}
		if o.Status == "refunded" {
			o.Refunds = append(o.Refunds, wootest.Refund{ID: id*10 + 8, At: at.Add(72 * time.Hour), Amount: 9000})
		}
		srv.AddOrder(o)
	}
	srv.AddProduct(wootest.Product{ID: 11, Name: "Phantom Hoodie", Price: 4000, Modified: day0, Category: "Apparel",
		Variations: []wootest.Variation{{ID: 111, SKU: "HOODIE-S", Price: 4000, Size: "S"}, {ID: 112, SKU: "HOODIE-M", Price: 4200, Size: "M"}}})
	srv.AddProduct(wootest.Product{ID: 12, Name: "Phantom Mug", SKU: "MUG", Price: 1500, Modified: day0, Category: "Drinkware"})
}

// TestSyncTotals: full, incremental, repeated, throttled and HTML-error
// syncs end with the fake's exact totals, on both engines.
func TestSyncTotals(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, phantomos.RefundOnOrderDate)
		seed(h.srv, 230)
		res := h.sync(t, connector.SyncOptions{})
		if res.State != store.SyncSucceeded {
			t.Fatalf("full sync: %+v", res)
		}
		h.checkTotals(t, "after the full sync")
		// 230 orders at 100 a page: three pages of orders.
		var pages int
		for _, r := range h.srv.Requests() {
			if strings.HasPrefix(r, "GET /wp-json/wc/v3/orders?") && strings.Contains(r, "per_page=100") && !strings.Contains(r, "_fields") {
				pages++
			}
		}
		if pages != 3 {
			t.Errorf("order pages asked: %d, want 3", pages)
		}
		var products int64
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM products WHERE publisher_id = $1`, h.target.Publisher).Scan(&products); err != nil || products != 2 {
			t.Errorf("products: %d, %v", products, err)
		}

		// Incremental: one order cancelled, one refunded in part, one new.
		later := day0.Add(30 * 24 * time.Hour)
		h.srv.UpdateOrder(1001, later, func(o *wootest.Order) { o.Status = "cancelled" })
		h.srv.UpdateOrder(1002, later, func(o *wootest.Order) {
			o.Refunds = append(o.Refunds, wootest.Refund{ID: 99, At: later, Amount: 3600, Lines: []wootest.RefundLine{{LineID: 10021, Quantity: 1, Total: 3600}}})
		})
		h.srv.AddOrder(wootest.Order{ID: 5000, Status: "processing", Created: later, Paid: later, Country: "US",
			Lines: []wootest.Line{{ID: 50001, ProductID: 12, SKU: "MUG", Name: "Mug", Quantity: 3, Subtotal: 4500, Total: 4500}}})
		before := len(h.srv.Requests())
		res = h.sync(t, connector.SyncOptions{})
		h.checkTotals(t, "after the incremental sync")
		for _, r := range h.srv.Requests()[before:] {
			if strings.HasPrefix(r, "GET /wp-json/wc/v3/orders?") && !strings.Contains(r, "_fields") && !strings.Contains(r, "modified_after=") {
				t.Errorf("incremental sync read orders without modified_after: %s", r)
			}
		}
		if res.Counts.Inserted < 1 {
			t.Errorf("incremental counts %+v", res.Counts)
		}

		// Repeated: nothing changes.
		res = h.sync(t, connector.SyncOptions{Full: true})
		if res.Counts.Inserted != 0 || res.Counts.Updated != 0 {
			t.Errorf("repeated full sync wrote %+v", res.Counts)
		}
		h.checkTotals(t, "after a repeated full sync")

		// Throttled and HTML maintenance pages: retried.
		h.srv.UpdateOrder(1003, later.Add(time.Hour), func(o *wootest.Order) { o.Status = "completed" })
		h.srv.Throttle(2)
		res = h.sync(t, connector.SyncOptions{})
		if res.Retries < 2 {
			t.Errorf("throttled sync retried %d times", res.Retries)
		}
		h.srv.HTMLErrors(2)
		res = h.sync(t, connector.SyncOptions{})
		if res.Retries < 2 {
			t.Errorf("sync through maintenance pages retried %d times", res.Retries)
		}
		h.checkTotals(t, "after throttled syncs")
	})
}

// TestSyncKilledAndResumed: a sync stopped after its first page of orders
// resumes from the page after it and ends with the fake's totals.
func TestSyncKilledAndResumed(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, phantomos.RefundOnOrderDate)
		seed(h.srv, 250)
		ctx, cancel := context.WithCancel(context.Background())
		res, err := h.engine.Sync(ctx, h.target, h.client(t), connector.SyncOptions{Progress: func(p connector.Progress) {
			if p.Stream == connector.StreamOrders {
				cancel()
			}
		}})
		if err == nil || res.State != store.SyncCancelled {
			t.Fatalf("killed sync: %v, %+v", err, res)
		}
		if res.Checkpoint.Orders.Page != "2" {
			t.Fatalf("checkpoint after the kill: %+v", res.Checkpoint.Orders)
		}
		before := len(h.srv.Requests())
		h.sync(t, connector.SyncOptions{})
		for _, r := range h.srv.Requests()[before:] {
			if strings.HasPrefix(r, "GET /wp-json/wc/v3/orders?") && strings.Contains(r, "page=1&") && !strings.Contains(r, "_fields") {
				t.Errorf("the resumed sync read the first page again: %s", r)
			}
		}
		h.checkTotals(t, "after the resumed sync")
	})
}

// TestRevokedKey: a revoked key fails the sync and puts the connector in
// the error state with a message saying what to do.
func TestRevokedKey(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, phantomos.RefundOnOrderDate)
		seed(h.srv, 5)
		h.sync(t, connector.SyncOptions{})
		h.srv.Revoke()
		res, err := h.engine.Sync(context.Background(), h.target, h.client(t), connector.SyncOptions{})
		if err == nil || connector.KindOf(err) != connector.Auth || res.State != store.SyncFailed {
			t.Fatalf("sync with a revoked key: %v, %+v", err, res)
		}
		c, err := s.Connector(context.Background(), h.target.Publisher, h.target.ConnectorID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != store.ConnectorError || !strings.Contains(c.LastError, "revoked") {
			t.Errorf("connector %s: %q", c.Status, c.LastError)
		}
		if _, err := h.engine.Test(context.Background(), h.target, h.client(t)); connector.KindOf(err) != connector.Auth {
			t.Errorf("test with a revoked key: %v", err)
		}
	})
}

// TestQuirks: a site that ignores modified_after and the ordering, caches
// REST answers by URL and sends nulls still ends with the fake's totals,
// also after an update that a cached page would hide.
func TestQuirks(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, phantomos.RefundOnOrderDate)
		seed(h.srv, 120)
		h.srv.SetQuirks(wootest.Quirks{IgnoreModifiedAfter: true, PageCache: true, Nulls: true})
		h.sync(t, connector.SyncOptions{})
		h.checkTotals(t, "after the first sync")
		h.sync(t, connector.SyncOptions{}) // the same URLs as the next one
		h.srv.UpdateOrder(1001, day0.Add(40*24*time.Hour), func(o *wootest.Order) { o.Status = "cancelled" })
		h.srv.UpdateOrder(1002, day0.Add(40*24*time.Hour), func(o *wootest.Order) { o.Lines[1].Total = 1000 })
		h.sync(t, connector.SyncOptions{})
		h.checkTotals(t, "after an update behind a page cache")
	})
}

// TestHTMLPageMessage: a site that keeps answering with an HTML page fails
// with a message naming it, instead of a JSON error.
func TestHTMLPageMessage(t *testing.T) {
	for _, n := range []int{1000, -1000} {
		srv := wootest.New()
		defer srv.Close()
		srv.HTMLErrors(n)
		c, err := woocommerce.New(woocommerce.Config{URL: srv.URL, ConsumerKey: srv.Key, ConsumerSecret: srv.Secret})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Test(context.Background())
		if connector.KindOf(err) != connector.Transient || !strings.Contains(connector.UserMessage(err), "Briefly unavailable for scheduled maintenance") {
			t.Errorf("HTML answer (%d): %v", n, err)
		}
	}
}

// TestPricesIncludeTax: WooCommerce keeps line subtotals and totals
// without tax whether the store's prices include tax or not
// (prices_include_tax says how they were entered), so an order of a
// tax-inclusive store is stored like its twin of a tax-exclusive one:
// gross and discount without tax, the tax apart. On both engines.
func TestPricesIncludeTax(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, phantomos.RefundOnOrderDate)
		for i, incl := range []bool{false, true} {
			id := int64(81 + i)
			// 2 × 11.90 with 19% VAT included, 1.19 off: 20.00 + 3.80 tax
			// before the discount, 19.00 + 3.61 after.
			h.srv.AddOrder(wootest.Order{ID: id, Status: "completed", Created: day0, Paid: day0, PricesIncludeTax: incl,
				Lines: []wootest.Line{{ID: id * 10, ProductID: 12, SKU: "MUG", Name: "Mug", Quantity: 2, Subtotal: 2000, Total: 1900, Tax: 361}}})
		}
		h.sync(t, connector.SyncOptions{})
		h.checkTotals(t, "prices with and without tax")
		rows, err := s.DB().Query(`SELECT external_order_id, gross, discount, net FROM sales WHERE publisher_id = $1 ORDER BY external_order_id`, h.target.Publisher)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		type line struct {
			Order                string
			Gross, Discount, Net int64
		}
		var got []line
		for rows.Next() {
			var l line
			if err := rows.Scan(&l.Order, &l.Gross, &l.Discount, &l.Net); err != nil {
				t.Fatal(err)
			}
			got = append(got, l)
		}
		want := []line{{"81", 2000, 100, 1900}, {"82", 2000, 100, 1900}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("lines (-want +got):\n%s", diff)
		}
	})
}

// TestRefundDay: with refunds booked on their own day, an order of March
// refunded in April lowers April.
func TestRefundDay(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, phantomos.RefundOnRefundDate)
		march := time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC)
		april := time.Date(2026, 4, 3, 12, 0, 0, 0, time.UTC)
		h.srv.AddOrder(wootest.Order{ID: 77, Status: "completed", Created: march, Modified: april, Paid: march,
			Lines:   []wootest.Line{{ID: 771, ProductID: 12, SKU: "MUG", Name: "Mug", Quantity: 2, Subtotal: 3000, Total: 3000, Tax: 570}},
			Refunds: []wootest.Refund{{ID: 78, At: april, Amount: 1785, Lines: []wootest.RefundLine{{LineID: 771, Quantity: 1, Total: 1500, Tax: 285}}}}})
		h.sync(t, connector.SyncOptions{})
		for _, m := range []struct {
			from, to phantomos.Day
			net      int64
		}{{"2026-03-01", "2026-03-31", 3000}, {"2026-04-01", "2026-04-30", -1500}} {
			sum, err := s.Summary(context.Background(), h.target.Publisher, m.from, m.to)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Net != m.net {
				t.Errorf("%s..%s: net %d, want %d", m.from, m.to, sum.Net, m.net)
			}
		}
		h.checkTotals(t, "refund day")
	})
}

// TestFileThenSyncCountsOnce: the store's order history imported from
// its orders export (the Customer / Order / Coupon Export extension's
// "Default - One Row per Item" file, detected from its header) into the
// store's connector, then synced: both key an order and its lines by
// WooCommerce's own ids, so every order counts once, with the fake's
// totals after the file, after the sync, and after the file again (which
// changes nothing a sync wrote). Orders that are not sales bring nothing
// in either path. On both engines.
func TestFileThenSyncCountsOnce(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, phantomos.RefundOnOrderDate)
		seed(h.srv, 30)
		ctx := context.Background()
		file := h.srv.ExportCSV()
		res, err := ingest.Import(ctx, s, h.target.Publisher, ingest.KindSales, ingest.FormatAuto, strings.NewReader(file), ingest.Options{Source: h.target.ConnectorID})
		if err != nil || res.Format != ingest.FormatWooCommerce || res.Failed != 0 || res.Inserted == 0 {
			t.Fatalf("export file: %+v, %v", res, err)
		}
		h.checkTotals(t, "after the file")
		h.sync(t, connector.SyncOptions{})
		h.checkTotals(t, "file then sync")
		var lines int
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM sales WHERE publisher_id = $1`, h.target.Publisher).Scan(&lines); err != nil || lines != h.srv.Totals().Lines {
			t.Errorf("%d sale lines in all (%v), want the fake's %d: the file's and the sync's are not one", lines, err, h.srv.Totals().Lines)
		}
		res, err = ingest.Import(ctx, s, h.target.Publisher, ingest.KindSales, ingest.FormatAuto, strings.NewReader(file), ingest.Options{Source: h.target.ConnectorID})
		if err != nil || res.Inserted+res.Updated+res.Deleted != 0 {
			t.Errorf("the file again after the sync: %+v, %v", res, err)
		}
		h.checkTotals(t, "the file again")
	})
}

func TestNormalizeURL(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{"shop.example.com", "https://shop.example.com", ""},
		{"https://Shop.Example.com/store/", "https://shop.example.com/store", ""},
		{"https://shop.example.com/wp-json/wc/v3", "https://shop.example.com", ""},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", ""},
		{"http://localhost", "http://localhost", ""},
		{"http://[::1]:9000/", "http://[::1]:9000", ""},
		{"http://shop.example.com", "", "plain http"},
		{"http://10.0.0.5", "", "plain http"},
		{"ftp://shop.example.com", "", "https://"},
		{"", "", "Enter the store's address"},
		{"https://user:pw@shop.example.com", "", "not a web address"},
	} {
		got, err := woocommerce.NormalizeURL(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("NormalizeURL(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(connector.UserMessage(err), tc.err)):
			t.Errorf("NormalizeURL(%q) = %q, %v; want an error with %q", tc.in, got, err, tc.err)
		}
	}
}

func TestCredentialsValidate(t *testing.T) {
	good := woocommerce.Credentials{URL: "shop.example.com", ConsumerKey: " ck_" + strings.Repeat("a1", 20), ConsumerSecret: "cs_" + strings.Repeat("b2", 20)}
	if err := good.Validate(); err != nil || good.URL != "https://shop.example.com" || strings.HasPrefix(good.ConsumerKey, " ") {
		t.Errorf("valid credentials: %v %+v", err, good)
	}
	for _, bad := range []woocommerce.Credentials{
		{URL: "shop.example.com", ConsumerKey: "cs_" + strings.Repeat("a", 40), ConsumerSecret: "cs_" + strings.Repeat("b", 40)},
		{URL: "shop.example.com", ConsumerKey: "ck_" + strings.Repeat("a", 40), ConsumerSecret: "cs_short"},
		{URL: "http://shop.example.com", ConsumerKey: "ck_" + strings.Repeat("a", 40), ConsumerSecret: "cs_" + strings.Repeat("b", 40)},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) accepted", bad)
		}
	}
}

func ExampleSign() {
	fmt.Println(woocommerce.Sign([]byte(`{"id":1}`), "secret"))
	// Output: A971iWIMgT8Zj9A9eWfikrFj7wQ16/Qwcc4OlRl2PLc=
}
