package bigcommerce_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/bigcommerce"
	"github.com/phantomos/phantomos/internal/connector/bigcommerce/bctest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// harness is a fake store synced into the real store (one engine) through
// StoreSink.
type harness struct {
	srv    *bctest.Server
	s      *store.Store
	engine *connector.Engine
	target connector.Target
	token  string
}

const allScopes = "store_v2_orders_read_only store_v2_products_read_only store_v2_information_read_only"

func newHarness(t *testing.T, s *store.Store, opt bctest.Options) *harness {
	t.Helper()
	h := &harness{srv: bctest.New(t, opt), s: s}
	ctx := context.Background()
	pub := &phantomos.Publisher{Name: "Pub", Slug: "pub", Timezone: "UTC", ReportingCurrency: "USD", SubscriptionTier: "starter",
		Settings: phantomos.PublisherSettings{AttributionModel: phantomos.AttributionEqual, RefundBooking: phantomos.RefundOnOrderDate}}
	if err := s.CreatePublisher(ctx, pub); err != nil {
		t.Fatal(err)
	}
	c := &phantomos.Connector{Type: phantomos.ConnectorBigCommerce, Name: "Phantom Merch"}
	if err := s.CreateConnector(ctx, pub.ID, c); err != nil {
		t.Fatal(err)
	}
	h.target = connector.Target{Publisher: pub.ID, ConnectorID: c.ID}
	h.engine = connector.NewEngine(&connector.StoreSink{Store: s}, s, connector.Config{
		BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Rate: 5000, Burst: 100, Logger: quiet})
	h.token = h.srv.IssueToken(allScopes)
	return h
}

func (h *harness) client(t *testing.T, pageSize int) *bigcommerce.Client {
	t.Helper()
	return h.clientWith(t, h.token, pageSize)
}

func (h *harness) clientWith(t *testing.T, token string, pageSize int) *bigcommerce.Client {
	t.Helper()
	c, err := bigcommerce.New(bigcommerce.Config{StoreHash: h.srv.StoreHash(), AccessToken: token, BaseURL: h.srv.URL, Logger: quiet, PageSize: pageSize})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (h *harness) sync(t *testing.T, ctx context.Context, src connector.Source) *connector.Result {
	t.Helper()
	res, err := h.engine.Sync(ctx, h.target, src, connector.SyncOptions{})
	if err != nil {
		t.Fatalf("sync: %v (result %+v)", err, res)
	}
	return res
}

// totals are sums over the connector's stored sale lines.
type totals struct {
	Lines, Orders, Units, Gross, Discount, Refunded, Net, Tax int64
}

func (h *harness) stored(t *testing.T) totals {
	t.Helper()
	var tot totals
	err := h.s.DB().QueryRow(`SELECT COUNT(*), COUNT(DISTINCT external_order_id), COALESCE(SUM(quantity), 0), COALESCE(SUM(gross), 0),
		COALESCE(SUM(discount), 0), COALESCE(SUM(refunded), 0), COALESCE(SUM(net), 0), COALESCE(SUM(tax), 0)
		FROM sales WHERE publisher_id = $1 AND connector_id = $2`, h.target.Publisher, h.target.ConnectorID).
		Scan(&tot.Lines, &tot.Orders, &tot.Units, &tot.Gross, &tot.Discount, &tot.Refunded, &tot.Net, &tot.Tax)
	if err != nil {
		t.Fatal(err)
	}
	return tot
}

// roundDiv is a×b/c rounded half up, for non-negative values.
func roundDiv(a, b, c int64) int64 { return (2*a*b + c) / (2 * c) }

// want computes, from the fake store's own orders, what a correct sync
// stores: deleted, incomplete, pending and declined orders not at all;
// gross = price × quantity without tax; refunded = the refunded share of
// gross − discount per refund item, all of it when cancelled.
func (h *harness) want(taxRate int64) totals {
	var tot totals
	orders := map[int64]bool{}
	for _, o := range h.srv.Orders() {
		if o.Deleted || o.StatusID == 0 || o.StatusID == 1 || o.StatusID == 6 {
			continue
		}
		orders[o.ID] = true
		for _, l := range o.Lines {
			gross := l.Price * l.Quantity
			var refunded int64
			for _, r := range o.Refunds {
				for _, it := range r.Items {
					if it.Type == "PRODUCT" && it.ItemID == l.ID {
						refunded += roundDiv(gross-l.Discount, it.Quantity, l.Quantity)
					}
				}
			}
			if o.StatusID == 5 {
				refunded = gross - l.Discount
			}
			refunded = min(refunded, gross-l.Discount)
			tot.Lines++
			tot.Units += l.Quantity
			tot.Gross += gross
			tot.Discount += l.Discount
			tot.Refunded += refunded
			tot.Net += gross - l.Discount - refunded
			tot.Tax += (gross - l.Discount) * taxRate / 100
		}
	}
	tot.Orders = int64(len(orders))
	return tot
}

func (h *harness) check(t *testing.T, taxRate int64) {
	t.Helper()
	if diff := cmp.Diff(h.want(taxRate), h.stored(t)); diff != "" {
		t.Errorf("stored totals differ from the store's (-want +got):\n%s", diff)
	}
	if err := h.s.CheckRollups(context.Background(), h.target.Publisher); err != nil {
		t.Errorf("rollups: %v", err)
	}
}

func (h *harness) checkpoint(t *testing.T) connector.Checkpoint {
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

// seed adds products and n orders a few minutes apart, of every kind:
// discounted, refunded by quantity, cancelled, deleted, pending and
// declined, several sharing one modification second.
func seed(srv *bctest.Server, n int, rng *rand.Rand) {
	var products []bctest.Product
	for i := range 5 {
		p := bctest.Product{Name: "Hoodie " + strconv.Itoa(i), SKU: "HOOD-" + strconv.Itoa(i), Price: int64(2000 + 500*i)}
		price := p.Price + 300
		p.Variants = []bctest.Variant{{SKU: p.SKU + "-S", Label: "S"}, {SKU: p.SKU + "-XL", Label: "XL", Price: &price}}
		products = append(products, srv.AddProduct(p))
		srv.Advance(time.Second)
	}
	countries := []string{"US", "GB", "DE", "FR", "CA"}
	for i := range n {
		o := bctest.Order{Country: countries[rng.IntN(len(countries))], State: "CA", Shipping: int64(rng.IntN(3)) * 500}
		for j := range 1 + rng.IntN(3) {
			p := products[rng.IntN(len(products))]
			l := bctest.Line{ProductID: p.ID, VariantID: p.Variants[j%2].ID, Name: p.Name, SKU: p.Variants[j%2].SKU, Quantity: int64(1 + rng.IntN(3)), Price: p.Price}
			if rng.IntN(4) == 0 {
				l.Discount = 100 * l.Quantity
			}
			o.Lines = append(o.Lines, l)
		}
		switch i % 11 {
		case 3:
			o.StatusID = 5 // cancelled
		case 5:
			o.StatusID = 1 // pending: not a sale
		case 7:
			o.Deleted = true
		case 9:
			o.StatusID = 6 // declined
		}
		added := srv.AddOrder(o)
		if i%4 == 1 {
			l := added.Lines[0]
			srv.AddRefund(added.ID, bctest.Refund{Items: []bctest.RefundItem{{Type: "PRODUCT", ItemID: l.ID, Quantity: 1}}})
		}
		if i%3 != 0 { // every third order shares the previous one's second
			srv.Advance(time.Duration(1+rng.IntN(300)) * time.Second)
		}
	}
}

func TestFullSync(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, bctest.Options{TaxRate: 10})
		seed(h.srv, 40, rand.New(rand.NewPCG(1, 2)))
		res := h.sync(t, context.Background(), h.client(t, 6))
		h.check(t, 10)
		if res.Pages < 8 {
			t.Errorf("%d pages; want the orders read in pages of 6", res.Pages)
		}
		if got := h.stored(t); got.Refunded == 0 || got.Discount == 0 {
			t.Errorf("the seed has no refunds or discounts: %+v", got)
		}
		var n int
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM products WHERE publisher_id = $1`, h.target.Publisher).Scan(&n); err != nil || n != 5 {
			t.Errorf("%d products stored (%v), want 5", n, err)
		}
	})
}

// TestExclusiveDateFilters: whether BigCommerce's min date filters include
// their bound or not, paging by modification time loses nothing.
func TestExclusiveDateFilters(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, bctest.Options{ExclusiveMin: true})
		seed(h.srv, 30, rand.New(rand.NewPCG(31, 32)))
		h.sync(t, context.Background(), h.client(t, 4))
		h.check(t, 0)
	})
}

func TestIncrementalAndRepeatedSync(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, bctest.Options{})
		rng := rand.New(rand.NewPCG(3, 4))
		seed(h.srv, 25, rng)
		ctx := context.Background()
		h.sync(t, ctx, h.client(t, 250))
		h.check(t, 0)

		// Nothing changed: a repeated sync writes nothing new.
		res := h.sync(t, ctx, h.client(t, 250))
		if res.Counts.Inserted != 0 || res.Counts.Updated != 0 {
			t.Errorf("repeated sync changed records: %+v", res.Counts)
		}
		h.check(t, 0)

		// New orders, a refund and a cancellation: an incremental sync
		// reads only what changed since the watermark (minus the lookback).
		h.srv.Advance(time.Hour)
		before := h.srv.Requests("/v2/orders/")
		orders := h.srv.Orders()
		h.srv.AddRefund(orders[0].ID, bctest.Refund{Items: []bctest.RefundItem{{Type: "PRODUCT", ItemID: orders[0].Lines[0].ID, Quantity: orders[0].Lines[0].Quantity}}})
		h.srv.UpdateOrder(orders[2].ID, func(o *bctest.Order) { o.StatusID = 5 })
		h.srv.AddOrder(bctest.Order{Country: "US", Lines: []bctest.Line{{Name: "Mug", SKU: "MUG", Quantity: 2, Price: 1500}}})
		res = h.sync(t, ctx, h.client(t, 250))
		h.check(t, 0)
		if got := h.srv.Requests("/v2/orders/") - before; got > 3*3 {
			t.Errorf("incremental sync made %d order requests; want those of the 3 changed orders", got)
		}
		if res.Counts.Inserted == 0 || res.Counts.Updated == 0 {
			t.Errorf("incremental counts: %+v", res.Counts)
		}
	})
}

// TestKilledAndResumed: a sync killed after its first page of orders
// resumes from the stored page position and ends with the exact totals.
func TestKilledAndResumed(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, bctest.Options{})
		seed(h.srv, 30, rand.New(rand.NewPCG(5, 6)))
		ctx, cancel := context.WithCancel(context.Background())
		res, err := h.engine.Sync(ctx, h.target, h.client(t, 5), connector.SyncOptions{Progress: func(p connector.Progress) {
			if p.Stream == connector.StreamOrders && p.Pages >= 3 {
				cancel()
			}
		}})
		cancel()
		if err == nil || res.State != store.SyncCancelled {
			t.Fatalf("killed sync: %v, %+v", err, res)
		}
		if cp := h.checkpoint(t); !cp.Orders.InPass() {
			t.Fatalf("the cursor holds no page position after the kill: %+v", cp.Orders)
		}
		if got, all := h.stored(t), h.want(0); got.Lines == 0 || got.Lines >= all.Lines {
			t.Fatalf("after the kill %d of %d lines are stored; want some, not all", got.Lines, all.Lines)
		}
		// Meanwhile an order of an early page is modified: it moves to the
		// end of the pass and is read there.
		first := h.srv.Orders()[0]
		h.srv.Advance(time.Minute)
		h.srv.AddRefund(first.ID, bctest.Refund{Items: []bctest.RefundItem{{Type: "PRODUCT", ItemID: first.Lines[0].ID, Quantity: 1}}})
		h.sync(t, context.Background(), h.client(t, 5))
		h.check(t, 0)
		if cp := h.checkpoint(t); cp.Orders.InPass() || cp.Orders.Passes != 1 {
			t.Errorf("after resuming: %+v", cp.Orders)
		}
	})
}

// TestThrottledSync: another app spends the store's shared quota; the
// client waits for the window to reset on 429s and when no request is
// left, and the sync still ends with the exact totals.
func TestThrottledSync(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, bctest.Options{Quota: 12, Window: 150 * time.Millisecond})
		seed(h.srv, 20, rand.New(rand.NewPCG(7, 8)))
		other := h.srv.IssueToken(allScopes)
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // the other app
			defer wg.Done()
			for ctx.Err() == nil {
				r, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.srv.URL+"/stores/"+h.srv.StoreHash()+"/v2/store", nil)
				r.Header.Set("X-Auth-Token", other)
				if resp, err := http.DefaultClient.Do(r); err == nil {
					resp.Body.Close()
				}
				time.Sleep(15 * time.Millisecond)
			}
		}()
		res := h.sync(t, context.Background(), h.client(t, 10))
		stop()
		wg.Wait()
		h.check(t, 0)
		if h.srv.Throttled() == 0 {
			t.Error("the fake never throttled; the test proves nothing")
		}
		t.Logf("throttled %d times, %d retries", h.srv.Throttled(), res.Retries)
	})
}

// TestFaults: 5xx answers and a malformed page are retried.
func TestFaults(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, bctest.Options{})
		seed(h.srv, 15, rand.New(rand.NewPCG(9, 10)))
		h.srv.Fail(500, 0, 503, 0, 502)
		res := h.sync(t, context.Background(), h.client(t, 4))
		h.check(t, 0)
		if res.Retries < 5 {
			t.Errorf("%d retries; want the 5 faults retried", res.Retries)
		}
	})
}

func TestRevokedTokenAndReconnect(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, bctest.Options{})
		seed(h.srv, 8, rand.New(rand.NewPCG(11, 12)))
		ctx := context.Background()
		h.sync(t, ctx, h.client(t, 250))
		h.srv.Revoke(h.token) // the merchant uninstalled the app
		res, err := h.engine.Sync(ctx, h.target, h.client(t, 250), connector.SyncOptions{})
		if connector.KindOf(err) != connector.Auth || res.State != store.SyncFailed {
			t.Fatalf("sync with a revoked token: %+v, %v", res, err)
		}
		conn, err := s.Connector(ctx, h.target.Publisher, h.target.ConnectorID)
		if err != nil || conn.Status != store.ConnectorError || conn.LastError == "" {
			t.Fatalf("connector after revocation: %+v, %v", conn, err)
		}
		// A token without the orders scope is an auth failure too.
		if _, err := h.engine.Test(ctx, h.target, h.clientWith(t, h.srv.IssueToken("store_v2_information_read_only"), 250)); connector.KindOf(err) != connector.Auth {
			t.Errorf("test with a token lacking scopes: %v", err)
		}
		// Reconnect.
		h.token = h.srv.IssueToken(allScopes)
		acc, err := h.engine.Test(ctx, h.target, h.client(t, 250))
		if err != nil || acc.Currency != "USD" || acc.Name != "Phantom Merch" {
			t.Fatalf("test after reconnect: %+v, %v", acc, err)
		}
		h.sync(t, ctx, h.client(t, 250))
		h.check(t, 0)
		conn, _ = s.Connector(ctx, h.target.Publisher, h.target.ConnectorID)
		if conn.Status != store.ConnectorActive {
			t.Errorf("connector after reconnect: %q %q", conn.Status, conn.LastError)
		}
	})
}

// TestTaxInclusivePricing: in a store whose prices include tax, gross and
// discounts are stored without it, and the tax apart.
func TestTaxInclusivePricing(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, bctest.Options{TaxRate: 20, TaxInclusive: true})
		h.srv.AddOrder(bctest.Order{Country: "GB", Lines: []bctest.Line{{Name: "Tee", SKU: "TEE", Quantity: 3, Price: 1000, Discount: 300}}})
		h.sync(t, context.Background(), h.client(t, 250))
		want := totals{Lines: 1, Orders: 1, Units: 3, Gross: 3000, Discount: 300, Net: 2700, Tax: 540}
		if diff := cmp.Diff(want, h.stored(t)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

// TestDeletedOrdersDisappear: an order archived after a sync goes at the
// next sync, as does one that stopped being a sale, also when they were
// placed long before the engine's reconciliation window: the page itself
// removes them.
func TestDeletedOrdersDisappear(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, bctest.Options{})
		h.srv.AddOrder(bctest.Order{Country: "US", Created: h.srv.Now().AddDate(-1, 0, 0), Lines: []bctest.Line{{Name: "Old", SKU: "OLD", Quantity: 1, Price: 700}}})
		h.srv.AddOrder(bctest.Order{Country: "US", Created: h.srv.Now().AddDate(-1, 0, 0), Lines: []bctest.Line{{Name: "Old", SKU: "OLD", Quantity: 1, Price: 800}}})
		h.srv.Advance(time.Hour)
		seed(h.srv, 12, rand.New(rand.NewPCG(13, 14)))
		ctx := context.Background()
		h.sync(t, ctx, h.client(t, 250))
		h.check(t, 0)
		orders := h.srv.Orders()
		h.srv.Advance(time.Minute)
		h.srv.UpdateOrder(orders[0].ID, func(o *bctest.Order) { o.Deleted = true })
		h.srv.UpdateOrder(orders[1].ID, func(o *bctest.Order) { o.StatusID = 6 })
		h.srv.UpdateOrder(orders[3].ID, func(o *bctest.Order) { o.Deleted = true })
		h.sync(t, ctx, h.client(t, 250))
		h.check(t, 0)
		if got := h.stored(t); got.Orders != h.want(0).Orders {
			t.Fatalf("orders: %+v", got)
		}
	})
}

func TestRequestedAmountRefundAndCharges(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, bctest.Options{TaxRate: 10})
		o := h.srv.AddOrder(bctest.Order{Country: "US", Shipping: 500, Lines: []bctest.Line{{Name: "Cap", SKU: "CAP", Quantity: 2, Price: 2000}}})
		amt, ship := int64(1100), int64(500) // 10.00 of merchandise and its 1.00 tax; the shipping
		h.srv.AddRefund(o.ID, bctest.Refund{Items: []bctest.RefundItem{{Type: "PRODUCT", ItemID: o.Lines[0].ID, Amount: &amt}, {Type: "SHIPPING", ItemID: o.ID, Amount: &ship}}})
		h.sync(t, context.Background(), h.client(t, 250))
		want := totals{Lines: 1, Orders: 1, Units: 2, Gross: 4000, Refunded: 1000, Net: 3000, Tax: 400}
		if diff := cmp.Diff(want, h.stored(t)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}
