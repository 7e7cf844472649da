package shopify_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/shopify"
	"github.com/phantomos/phantomos/internal/connector/shopify/shopifytest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// storeHarness is a fake shop synced into the real store (both engines)
// through StoreSink, with webhooks applied the way the app applies them.
type storeHarness struct {
	srv    *shopifytest.Server
	s      *store.Store
	engine *connector.Engine
	target connector.Target
	token  string
	hooks  *httptest.Server
}

func newStoreHarness(t *testing.T, s *store.Store, booking string) *storeHarness {
	t.Helper()
	h := &storeHarness{srv: shopifytest.New(t, shopifytest.Options{RestoreRate: 50000}), s: s}
	ctx := context.Background()
	pub := &phantomos.Publisher{Name: "Pub", Slug: "pub", Timezone: "UTC", ReportingCurrency: "USD", SubscriptionTier: "starter",
		Settings: phantomos.PublisherSettings{AttributionModel: phantomos.AttributionEqual, RefundBooking: booking}}
	if err := s.CreatePublisher(ctx, pub); err != nil {
		t.Fatal(err)
	}
	c := &phantomos.Connector{Type: phantomos.ConnectorShopify, Name: "Phantom Merch"}
	if err := s.CreateConnector(ctx, pub.ID, c); err != nil {
		t.Fatal(err)
	}
	h.target = connector.Target{Publisher: pub.ID, ConnectorID: c.ID}
	h.engine = connector.NewEngine(&connector.StoreSink{Store: s}, s, connector.Config{
		BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Rate: 1000, Burst: 50, BulkPoll: time.Millisecond, Logger: quiet})
	h.token = h.srv.IssueToken("read_products,read_orders,read_all_orders")
	mux := http.NewServeMux()
	mux.Handle("POST "+shopify.WebhookPath, &shopify.WebhookHandler{
		Targets: func(ctx context.Context, shop string) ([]shopify.WebhookTarget, error) {
			return []shopify.WebhookTarget{{Target: h.target, Shop: h.srv.Shop(), Secrets: []string{h.srv.ClientSecret()}, Currency: h.srv.Currency()}}, nil
		},
		Apply: func(ctx context.Context, tg connector.Target, b connector.Batch) error {
			_, err := h.engine.Apply(ctx, tg, b)
			return err
		},
		Logger: quiet,
	})
	h.hooks = httptest.NewServer(mux)
	t.Cleanup(h.hooks.Close)
	return h
}

func (h *storeHarness) client(t *testing.T, paged bool) *shopify.Client {
	t.Helper()
	c, err := shopify.New(shopify.Config{Shop: h.srv.Shop(), AccessToken: h.token, BaseURL: h.srv.URL, Logger: quiet, PagedBackfill: paged})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (h *storeHarness) sync(t *testing.T, ctx context.Context, src connector.Source, opt connector.SyncOptions) *connector.Result {
	t.Helper()
	res, err := h.engine.Sync(ctx, h.target, src, opt)
	if err != nil {
		t.Fatalf("sync: %v (result %+v)", err, res)
	}
	return res
}

// deliver posts a signed webhook the way Shopify does.
func (h *storeHarness) deliver(t *testing.T, topic string, body []byte) {
	t.Helper()
	r := h.srv.WebhookRequest(h.hooks.URL+shopify.WebhookPath, topic, body, "")
	r.RequestURI = ""
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook %s: status %d", topic, resp.StatusCode)
	}
}

// totals are sums over the connector's stored sale lines.
type totals struct {
	Lines, Orders, Units, Gross, Discount, Refunded, Net int64
}

func (h *storeHarness) stored(t *testing.T) totals {
	t.Helper()
	var tot totals
	err := h.s.DB().QueryRow(`SELECT COUNT(*), COUNT(DISTINCT external_order_id), COALESCE(SUM(quantity), 0), COALESCE(SUM(gross), 0),
		COALESCE(SUM(discount), 0), COALESCE(SUM(refunded), 0), COALESCE(SUM(net), 0)
		FROM sales WHERE publisher_id = $1 AND connector_id = $2`, h.target.Publisher, h.target.ConnectorID).
		Scan(&tot.Lines, &tot.Orders, &tot.Units, &tot.Gross, &tot.Discount, &tot.Refunded, &tot.Net)
	if err != nil {
		t.Fatal(err)
	}
	return tot
}

// want sums the fake shop's own order lines as a correct sync stores them
// (test orders are not revenue).
func (h *storeHarness) want() totals {
	var tot totals
	orders := map[string]bool{}
	for _, s := range expected(h.srv) {
		if s.Test {
			continue
		}
		orders[s.OrderID] = true
		tot.Lines++
		tot.Units += s.Quantity
		tot.Gross += s.Gross
		tot.Discount += s.Discount
		tot.Refunded += s.Refunded
		tot.Net += s.Net
	}
	tot.Orders = int64(len(orders))
	return tot
}

func (h *storeHarness) checkTotals(t *testing.T) {
	t.Helper()
	if diff := cmp.Diff(h.want(), h.stored(t)); diff != "" {
		t.Errorf("stored totals differ from the shop's (-want +got):\n%s", diff)
	}
	if err := h.s.CheckRollups(context.Background(), h.target.Publisher); err != nil {
		t.Errorf("rollups: %v", err)
	}
}

func (h *storeHarness) checkpoint(t *testing.T) connector.Checkpoint {
	t.Helper()
	b, err := h.s.ConnectorCursor(context.Background(), h.target.Publisher, h.target.ConnectorID)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := connector.ParseCursor(b)
	if err != nil {
		t.Fatal(err)
	}
	return cp
}

// killAfterBulkPage runs a first (bulk) sync and cancels it as soon as a
// page of the export is written, as a kill would stop it.
func (h *storeHarness) killAfterBulkPage(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := h.engine.Sync(ctx, h.target, h.client(t, false), connector.SyncOptions{Progress: func(p connector.Progress) {
		if p.Stream == connector.StreamOrders && !p.Through.IsZero() {
			cancel()
		}
	}})
	if err == nil || res.State != store.SyncCancelled {
		t.Fatalf("killed sync: %v, state %s", err, res.State)
	}
	cp := h.checkpoint(t)
	if cp.Orders.Bulk == nil || cp.Orders.Bulk.Applied == 0 {
		t.Fatalf("after the kill the cursor holds no bulk progress: %+v", cp.Orders)
	}
	if got, all := h.stored(t), h.want(); got.Lines == 0 || got.Lines >= all.Lines {
		t.Fatalf("after the kill %d of %d lines are stored; want some, not all", got.Lines, all.Lines)
	}
}

// TestBulkBackfillKilledAndResumed: a first sync exports the orders in
// bulk; killed after a page and resumed (the download then cut off
// mid-stream once), it polls the same export, skips what is written, and
// ends with exactly the shop's totals. The next sync is paged.
func TestBulkBackfillKilledAndResumed(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newStoreHarness(t, s, phantomos.RefundOnRefundDate)
		seedSpread(h.srv, 700, rand.New(rand.NewPCG(7, 8)), time.Minute) // the incremental lookback re-reads few
		h.killAfterBulkPage(t)
		applied := h.checkpoint(t).Orders.Bulk.Applied
		h.srv.InjectBulk(shopifytest.BulkFault{DropAfter: int(applied) + 300})

		res := h.sync(t, context.Background(), h.client(t, false), connector.SyncOptions{})
		h.checkTotals(t)
		if ops := h.srv.BulkOps(); len(ops) != 1 {
			t.Errorf("%d bulk operations ran; the resumed sync must poll the first again", len(ops))
		}
		if n := h.srv.BulkDownloads(); n != 3 {
			t.Errorf("%d downloads, want 3 (killed, cut off, resumed)", n)
		}
		if res.Retries == 0 {
			t.Error("the cut-off download was not retried")
		}
		cp := h.checkpoint(t)
		if cp.Orders.Bulk != nil || cp.Orders.Synced.IsZero() || cp.Orders.Passes != 1 {
			t.Errorf("cursor after the backfill: %+v", cp.Orders)
		}
		// Incremental syncs page from the watermark.
		h.srv.Advance(time.Hour)
		o := h.srv.Orders()[0]
		h.srv.AddRefund(o.ID, shopifytest.Refund{Lines: []shopifytest.RefundLine{{LineItemID: o.Lines[0].ID, Quantity: 1, Subtotal: "1.00"}}})
		before := h.srv.Requests("orders")
		h.sync(t, context.Background(), h.client(t, false), connector.SyncOptions{})
		if len(h.srv.BulkOps()) != 1 || h.srv.Requests("orders") == before {
			t.Errorf("incremental sync: %d bulk operations, %d order requests", len(h.srv.BulkOps()), h.srv.Requests("orders")-before)
		}
		h.checkTotals(t)
	})
}

// TestBulkBackfillExpiredResult: when the export's result expired before a
// killed backfill resumes, a new export is run and the totals are exact.
func TestBulkBackfillExpiredResult(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newStoreHarness(t, s, phantomos.RefundOnOrderDate)
		seedSpread(h.srv, 600, rand.New(rand.NewPCG(9, 10)), time.Minute)
		h.killAfterBulkPage(t)
		h.srv.ExpireBulk()
		h.sync(t, context.Background(), h.client(t, false), connector.SyncOptions{})
		if ops := h.srv.BulkOps(); len(ops) != 2 {
			t.Errorf("%d bulk operations; an expired one must be replaced once", len(ops))
		}
		h.checkTotals(t)
	})
}

// TestBulkBackfillFailures: a failed export is replaced once, then the sync
// fails and the next starts afresh; ACCESS_DENIED puts the connector in
// its error state.
func TestBulkBackfillFailures(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newStoreHarness(t, s, phantomos.RefundOnOrderDate)
		seed(h.srv, 20, rand.New(rand.NewPCG(11, 12)))
		ctx := context.Background()
		h.srv.InjectBulk(shopifytest.BulkFault{FailWith: "INTERNAL_SERVER_ERROR"})
		h.srv.InjectBulk(shopifytest.BulkFault{FailWith: "TIMEOUT"})
		_, err := h.engine.Sync(ctx, h.target, h.client(t, false), connector.SyncOptions{})
		if err == nil || !strings.Contains(connector.UserMessage(err), "bulk export failed") {
			t.Fatalf("sync with two failed exports: %v", err)
		}
		if n := len(h.srv.BulkOps()); n != 2 || h.checkpoint(t).Orders.Bulk != nil {
			t.Fatalf("%d operations, cursor %+v", n, h.checkpoint(t).Orders)
		}
		h.sync(t, ctx, h.client(t, false), connector.SyncOptions{})
		h.checkTotals(t)

	})
}

// TestBulkBackfillAccessDenied: an export Shopify fails with ACCESS_DENIED
// puts the connector in its error state, for the user to reconnect.
func TestBulkBackfillAccessDenied(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newStoreHarness(t, s, phantomos.RefundOnOrderDate)
		ctx := context.Background()
		h.srv.AddOrder(shopifytest.Order{Lines: []shopifytest.LineItem{{Name: "Mug", SKU: "MUG", Quantity: 1, Price: "9.00"}}})
		h.srv.InjectBulk(shopifytest.BulkFault{FailWith: "ACCESS_DENIED"})
		_, err := h.engine.Sync(ctx, h.target, h.client(t, false), connector.SyncOptions{})
		if connector.KindOf(err) != connector.Auth {
			t.Errorf("ACCESS_DENIED export: %v (kind %s)", err, connector.KindOf(err))
		}
		if c, err := s.Connector(ctx, h.target.Publisher, h.target.ConnectorID); err != nil || c.Status != store.ConnectorError {
			t.Errorf("connector after ACCESS_DENIED: %+v, %v", c, err)
		}
	})
}

// TestBulkLineTooLong: a line beyond MaxBulkLine is a clear error, not a
// memory blow-up.
func TestBulkLineTooLong(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"id":"gid://shopify/Order/1","name":"#1001","createdAt":"2026-01-05T10:00:00Z","updatedAt":"2026-01-05T10:00:00Z","currencyCode":"USD","presentmentCurrencyCode":"USD","refunds":[]}` + "\n"))
		w.Write([]byte(`{"name":"` + strings.Repeat("x", shopify.MaxBulkLine) + `"}` + "\n"))
	}))
	defer srv.Close()
	c, err := shopify.New(shopify.Config{Shop: "x.myshopify.com", AccessToken: "t", BaseURL: srv.URL, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	err = c.ReadBulkOrders(context.Background(), srv.URL, 0, func([]connector.Order, int64) error { return nil })
	if err == nil || !strings.Contains(connector.UserMessage(err), "Line 2 of Shopify's bulk result is longer than 4 MiB") {
		t.Errorf("over-long line: %v", err)
	}
}

// line is one stored sale line's columns.
type line struct {
	Quantity, Gross, Discount, Refunded, Net, Tax, Shipping, ChargesRefunded int64
	RefundDay                                                                string
}

func (h *storeHarness) line(t *testing.T, orderID int64) line {
	t.Helper()
	var l line
	var day any
	err := h.s.DB().QueryRow(`SELECT quantity, gross, discount, refunded, net, tax, shipping, charges_refunded, refund_day
		FROM sales WHERE publisher_id = $1 AND connector_id = $2 AND external_order_id = $3`,
		h.target.Publisher, h.target.ConnectorID, strconv.FormatInt(orderID, 10)).
		Scan(&l.Quantity, &l.Gross, &l.Discount, &l.Refunded, &l.Net, &l.Tax, &l.Shipping, &l.ChargesRefunded, &day)
	if err != nil {
		t.Fatalf("order %d: %v", orderID, err)
	}
	switch d := day.(type) {
	case time.Time:
		l.RefundDay = d.Format(time.DateOnly)
	case string:
		l.RefundDay = d[:min(10, len(d))]
	}
	return l
}

func (h *storeHarness) net(t *testing.T, from, to phantomos.Day) int64 {
	t.Helper()
	sum, err := h.s.Summary(context.Background(), h.target.Publisher, from, to)
	if err != nil {
		t.Fatal(err)
	}
	return sum.Net
}

// TestRevenueSemantics syncs (in bulk, then paged) orders of each shape
// that revenue gets wrong when read naively, and reads the stored lines
// and the booking by day, with refunds booked on their own day.
func TestRevenueSemantics(t *testing.T) {
	for _, paged := range []bool{false, true} {
		t.Run(map[bool]string{false: "bulk", true: "paged"}[paged], func(t *testing.T) {
			storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
				h := newStoreHarness(t, s, phantomos.RefundOnRefundDate)
				day := func(n int) time.Time { return time.Date(2026, 3, n, 12, 0, 0, 0, time.UTC) }
				// Units edited away: 3 ordered, 2 removed by an edit.
				edited := h.srv.AddOrder(shopifytest.Order{CreatedAt: day(2), Country: "US",
					Lines: []shopifytest.LineItem{{Name: "Tee", SKU: "TEE", Quantity: 3, Removed: 2, Price: "10.00", Discounts: []string{"3.00"}}}})
				// Cancelled three days after it was placed.
				cancelledAt := day(5)
				cancelled := h.srv.AddOrder(shopifytest.Order{CreatedAt: day(2), CancelledAt: &cancelledAt, Country: "US",
					Lines: []shopifytest.LineItem{{Name: "Mug", SKU: "MUG", Quantity: 1, Price: "20.00", Discounts: []string{"2.00"}}}})
				// A tax-inclusive shop's order: 120.00 of which 20.00 VAT,
				// plus 10.00 shipping.
				vat := h.srv.AddOrder(shopifytest.Order{CreatedAt: day(3), Country: "DE", TaxesIncluded: true, Shipping: "10.00",
					Lines: []shopifytest.LineItem{{Name: "Hoodie", SKU: "HOOD", Quantity: 1, Price: "120.00", Tax: "20.00"}}})
				// Refunded whole the same day: the refunded subtotal includes
				// its VAT, which is not merchandise either.
				vatRefunded := h.srv.AddOrder(shopifytest.Order{CreatedAt: day(3), Country: "DE", TaxesIncluded: true,
					Lines: []shopifytest.LineItem{{Name: "Scarf", SKU: "SCARF", Quantity: 1, Price: "60.00", Tax: "10.00"}}})
				h.srv.AddRefund(vatRefunded.ID, shopifytest.Refund{CreatedAt: day(3),
					Lines: []shopifytest.RefundLine{{LineItemID: vatRefunded.Lines[0].ID, Quantity: 1, Subtotal: "60.00", Tax: "10.00"}}})
				// Refunded on the 20th with its shipping and an adjustment.
				refunded := h.srv.AddOrder(shopifytest.Order{CreatedAt: day(4), Country: "FR", Shipping: "5.00",
					Lines: []shopifytest.LineItem{{Name: "Cap", SKU: "CAP", Quantity: 2, Price: "25.00"}}})
				h.srv.AddRefund(refunded.ID, shopifytest.Refund{CreatedAt: day(20), Shipping: "5.00", Adjustments: []string{"-1.50"},
					Lines: []shopifytest.RefundLine{{LineItemID: refunded.Lines[0].ID, Quantity: 2, Subtotal: "50.00"}}})

				h.sync(t, context.Background(), h.client(t, paged), connector.SyncOptions{})
				got := map[string]line{"edited": h.line(t, edited.ID), "cancelled": h.line(t, cancelled.ID), "vat": h.line(t, vat.ID), "refunded": h.line(t, refunded.ID),
					"vat refunded": h.line(t, vatRefunded.ID)}
				want := map[string]line{
					"edited":       {Quantity: 1, Gross: 1000, Discount: 100, Net: 900},
					"cancelled":    {Quantity: 1, Gross: 2000, Discount: 200, Refunded: 1800, Net: 0, RefundDay: "2026-03-05"},
					"vat":          {Quantity: 1, Gross: 10000, Net: 10000, Tax: 2000, Shipping: 1000},
					"vat refunded": {Quantity: 1, Gross: 5000, Refunded: 5000, Tax: 1000, RefundDay: "2026-03-03"},
					"refunded":     {Quantity: 2, Gross: 5000, Refunded: 5000, Net: 0, Shipping: 500, ChargesRefunded: 650, RefundDay: "2026-03-20"},
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("stored lines (-want +got):\n%s", diff)
				}
				// Booked by day: the cancellation and the refund on their days.
				for _, c := range []struct {
					from, to phantomos.Day
					net      int64
				}{{"2026-03-02", "2026-03-04", 900 + 1800 + 10000 + 5000}, {"2026-03-05", "2026-03-05", -1800}, {"2026-03-20", "2026-03-20", -5000}, {"2026-03-01", "2026-03-31", 10900}} {
					if got := h.net(t, c.from, c.to); got != c.net {
						t.Errorf("net %s..%s = %d, want %d", c.from, c.to, got, c.net)
					}
				}
				if err := s.CheckRollups(context.Background(), h.target.Publisher); err != nil {
					t.Error(err)
				}
			})
		})
	}
}

// TestWebhookRefundKeepsItsDate: a refund delivered by orders/updated is
// booked on the day it was made, as a sync books it.
func TestWebhookRefundKeepsItsDate(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newStoreHarness(t, s, phantomos.RefundOnRefundDate)
		o := h.srv.AddOrder(shopifytest.Order{CreatedAt: time.Date(2026, 3, 28, 15, 0, 0, 0, time.UTC), Country: "US",
			Lines: []shopifytest.LineItem{{Name: "Mug", SKU: "MUG", Quantity: 1, Price: "30.00"}}})
		h.deliver(t, shopify.TopicOrdersCreate, h.srv.OrderPayload(o.ID))
		h.srv.AddRefund(o.ID, shopifytest.Refund{CreatedAt: time.Date(2026, 4, 4, 9, 0, 0, 0, time.UTC),
			Lines: []shopifytest.RefundLine{{LineItemID: o.Lines[0].ID, Quantity: 1, Subtotal: "10.00"}}})
		h.deliver(t, shopify.TopicOrdersUpdated, h.srv.OrderPayload(o.ID))
		if l := h.line(t, o.ID); l.Refunded != 1000 || l.RefundDay != "2026-04-04" {
			t.Errorf("after the refund webhook: %+v", l)
		}
		if march, april := h.net(t, "2026-03-01", "2026-03-31"), h.net(t, "2026-04-01", "2026-04-30"); march != 3000 || april != -1000 {
			t.Errorf("net March %d, April %d; want 3000 and -1000", march, april)
		}
	})
}

// TestLateWebhookIgnored: a delivery retried late, carrying an older
// version of the order, does not overwrite the newer one.
func TestLateWebhookIgnored(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newStoreHarness(t, s, phantomos.RefundOnOrderDate)
		o := h.srv.AddOrder(shopifytest.Order{Country: "US", Lines: []shopifytest.LineItem{{Name: "Mug", SKU: "MUG", Quantity: 2, Price: "15.00"}}})
		old := h.srv.OrderPayload(o.ID)
		h.srv.Advance(time.Minute)
		h.srv.AddRefund(o.ID, shopifytest.Refund{Lines: []shopifytest.RefundLine{{LineItemID: o.Lines[0].ID, Quantity: 1, Subtotal: "15.00"}}})
		h.deliver(t, shopify.TopicOrdersUpdated, h.srv.OrderPayload(o.ID))
		h.deliver(t, shopify.TopicOrdersCreate, old) // the first delivery, retried late
		if l := h.line(t, o.ID); l.Refunded != 1500 || l.Net != 1500 {
			t.Errorf("the late, older payload overwrote the newer: %+v", l)
		}
		h.sync(t, context.Background(), h.client(t, true), connector.SyncOptions{})
		h.checkTotals(t)
	})
}

// TestDeletedOrdersDisappear: an order deleted in Shopify goes with its
// orders/delete webhook, and one whose webhook never came goes at the
// next sync's reconciliation; totals and rollups stay exact.
func TestDeletedOrdersDisappear(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newStoreHarness(t, s, phantomos.RefundOnRefundDate)
		seed(h.srv, 12, rand.New(rand.NewPCG(13, 14)))
		ctx := context.Background()
		h.sync(t, ctx, h.client(t, false), connector.SyncOptions{})
		h.checkTotals(t)
		orders := h.srv.Orders()
		h.deliver(t, shopify.TopicOrdersDelete, h.srv.DeleteOrder(orders[0].ID))
		h.deliver(t, shopify.TopicOrdersDelete, []byte(`{"id":`+strconv.FormatInt(orders[0].ID, 10)+`}`)) // redelivered
		h.checkTotals(t)
		h.srv.DeleteOrder(orders[1].ID) // its webhook is lost
		if got, want := h.stored(t).Orders, h.want().Orders; got != want+1 {
			t.Fatalf("%d orders stored before reconciliation, want %d", got, want+1)
		}
		res := h.sync(t, ctx, h.client(t, false), connector.SyncOptions{})
		h.checkTotals(t)
		if res.Counts.Updated == 0 {
			t.Errorf("reconciliation counted nothing: %+v", res.Counts)
		}
	})
}

// TestMissingCountryNotice: without access to protected customer data
// Shopify sends orders without addresses; the sync says so once instead of
// leaving countries silently empty.
func TestMissingCountryNotice(t *testing.T) {
	h := newHarness(t, shopifytest.Options{})
	for range 4 {
		h.srv.AddOrder(shopifytest.Order{Country: "US", NoAddress: true, Lines: []shopifytest.LineItem{{Name: "Mug", SKU: "MUG", Quantity: 1, Price: "9.00"}}})
	}
	res := h.sync(t, h.bulkClient(t, shopify.Config{}), connector.SyncOptions{})
	n := 0
	for _, msg := range res.Notices {
		if msg == shopify.NoAddressNotice {
			n++
		}
	}
	if n != 1 {
		t.Errorf("notices = %q; want the missing-address notice once", res.Notices)
	}
	// With addresses, no notice.
	h2 := newHarness(t, shopifytest.Options{})
	for range 4 {
		h2.srv.AddOrder(shopifytest.Order{Country: "US", Lines: []shopifytest.LineItem{{Name: "Mug", SKU: "MUG", Quantity: 1, Price: "9.00"}}})
	}
	if res := h2.sync(t, h2.client(t, shopify.Config{}), connector.SyncOptions{}); len(res.Notices) != 0 {
		t.Errorf("notices with addresses: %q", res.Notices)
	}
}
