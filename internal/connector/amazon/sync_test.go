package amazon_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/amazon"
	"github.com/phantomos/phantomos/internal/connector/amazon/amazontest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

const us = "ATVPDKIKX0DER"

// harness is a fake seller, a real store (one engine per run of
// storetest.ForEachDialect) written through the StoreSink, an engine and
// one Amazon connector.
type harness struct {
	srv     *amazontest.Server
	store   *store.Store
	engine  *connector.Engine
	target  connector.Target
	refresh string
	cache   *amazon.TokenCache
}

func newHarness(t *testing.T, s *store.Store, opts amazontest.Options) *harness {
	t.Helper()
	h := &harness{srv: amazontest.New(t, opts), store: s, cache: amazon.NewTokenCache()}
	ctx := context.Background()
	pub := &phantomos.Publisher{Name: "Pub", Slug: "pub", Timezone: "UTC", ReportingCurrency: "USD", SubscriptionTier: "starter"}
	if err := s.CreatePublisher(ctx, pub); err != nil {
		t.Fatal(err)
	}
	c := &phantomos.Connector{Type: phantomos.ConnectorAmazon, Name: "Amazon Seller Central"}
	if err := s.CreateConnector(ctx, pub.ID, c); err != nil {
		t.Fatal(err)
	}
	h.target = connector.Target{Publisher: pub.ID, ConnectorID: c.ID}
	h.engine = connector.NewEngine(&connector.StoreSink{Store: s}, s, connector.Config{
		BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, Rate: 1000, Burst: 100, Logger: quiet})
	h.refresh = h.srv.IssueRefreshToken()
	return h
}

// client is a new client, as a new process (or a new sync job) makes one.
func (h *harness) client(t *testing.T, mod func(*amazon.Config)) *amazon.Client {
	t.Helper()
	cfg := amazon.Config{
		Credentials: amazon.Credentials{Region: "NA", ClientID: h.srv.ClientID(), ClientSecret: h.srv.ClientSecret(), RefreshToken: h.refresh},
		BaseURL:     h.srv.URL, TokenURL: h.srv.TokenURL(), Logger: quiet, Now: h.srv.Now, History: 100 * 24 * time.Hour,
		ReportPoll: time.Millisecond, ReportWait: 20 * time.Millisecond, PageSize: 7, Cache: h.cache,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := amazon.New(cfg)
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

type totals struct {
	Orders, Lines                         int64
	Units, Gross, Discount, Refunded, Net int64
}

// stored sums the connector's sale lines in the database.
func (h *harness) stored(t *testing.T) totals {
	t.Helper()
	var tot totals
	err := h.store.DB().QueryRow(`SELECT COUNT(DISTINCT external_order_id), COUNT(*), COALESCE(SUM(quantity), 0), COALESCE(SUM(gross), 0),
		COALESCE(SUM(discount), 0), COALESCE(SUM(refunded), 0), COALESCE(SUM(net), 0) FROM sales WHERE publisher_id = $1 AND connector_id = $2`,
		h.target.Publisher, h.target.ConnectorID).Scan(&tot.Orders, &tot.Lines, &tot.Units, &tot.Gross, &tot.Discount, &tot.Refunded, &tot.Net)
	if err != nil {
		t.Fatal(err)
	}
	return tot
}

// expected computes from the fake seller's own data what a correct sync
// stores: every priced order (pending ones wait until they ship), one line
// per item; cancelled orders are no sales and no orders; gross = unit price × quantity,
// discount = item promotions, refunded = the principal refunds less the
// promotions taken back.
func expected(srv *amazontest.Server) totals {
	refunded := map[string]int64{}
	for _, r := range srv.Refunds() {
		for _, it := range r.Items {
			refunded[r.OrderID+"|"+it.SKU] += it.Principal - it.Promo
		}
	}
	var tot totals
	for _, o := range srv.Orders() {
		if o.Status == "PENDING" || o.Status == "CANCELLED" {
			continue
		}
		tot.Orders++
		for _, it := range o.Items {
			tot.Lines++
			ref := min(refunded[o.ID+"|"+it.SKU], it.Price*it.Qty-it.Discount)
			tot.Units += it.Qty
			tot.Gross += it.Price * it.Qty
			tot.Discount += it.Discount
			tot.Refunded += ref
			tot.Net += it.Price*it.Qty - it.Discount - ref
		}
	}
	return tot
}

func (h *harness) check(t *testing.T, when string) {
	t.Helper()
	if diff := cmp.Diff(expected(h.srv), h.stored(t)); diff != "" {
		t.Errorf("%s: stored totals differ from the seller's (-want +got):\n%s", when, diff)
	}
	if err := h.store.CheckRollups(context.Background(), h.target.Publisher); err != nil {
		t.Errorf("%s: %v", when, err)
	}
}

var skus = []struct {
	sku, asin, title string
	price            int64
}{
	{"NOVA-FIG-01", "B0NOVA0001", "Nova Figure", 2999},
	{"NOVA-MUG-01", "B0NOVA0002", "Nova Mug", 1499},
	{"DRAKE-PLUSH", "B0DRAKE001", "Drake Plush", 2450},
	{"DRAKE-TEE-M", "B0DRAKE002", "Drake Tee M", 1999},
}

// seed fills the seller with n orders spread over the last 90 days: most
// shipped (FBA or merchant), some cancelled, some pending, a few with
// promotions and refunds.
func seed(srv *amazontest.Server, n int, rng *rand.Rand) {
	now := srv.Now()
	for i := range n {
		created := now.Add(-time.Duration(rng.IntN(90*24)+1) * time.Hour)
		o := amazontest.Order{ID: fmt.Sprintf("111-%07d-%07d", i, rng.IntN(10000000)), Marketplace: us, Created: created,
			Updated: created.Add(time.Duration(rng.IntN(60)) * time.Minute), Status: "SHIPPED", FulfilledBy: "AMAZON", Country: "US", State: "WA"}
		switch {
		case i%11 == 3:
			o.Status = "CANCELLED"
		case i%13 == 5:
			o.Status = "PENDING"
		case i%7 == 2:
			o.Status = "UNSHIPPED"
			o.FulfilledBy = "MERCHANT"
		case i%3 == 0:
			o.FulfilledBy = "MERCHANT"
		}
		perm := rng.Perm(len(skus))
		for j := range 1 + rng.IntN(3) {
			p := skus[perm[j]]
			it := amazontest.Item{ID: fmt.Sprintf("%d%02d", 40000+i, j), SKU: p.sku, ASIN: p.asin, Title: p.title, Qty: int64(1 + rng.IntN(3)),
				Price: p.price, Tax: p.price / 10, Shipping: 499}
			if rng.IntN(4) == 0 {
				it.Discount = 300
				it.ShipDiscount = 100
			}
			o.Items = append(o.Items, it)
		}
		srv.Put(o)
		if o.Status == "SHIPPED" && i%5 == 1 {
			it := o.Items[0]
			srv.AddRefund(amazontest.Refund{OrderID: o.ID, Posted: o.Updated.Add(48 * time.Hour).Add(-time.Duration(rng.IntN(40)) * time.Hour),
				Items: []amazontest.RefundItem{{SKU: it.SKU, ASIN: it.ASIN, Qty: 1, Principal: it.Price, Promo: min(it.Discount, it.Price), Tax: it.Tax}}})
		}
	}
}

func TestSyncFullIncrementalRepeated(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, amazontest.Options{TransactionsPage: 3})
		seed(h.srv, 60, rand.New(rand.NewPCG(1, 2)))
		h.srv.Advance(time.Hour)
		res := h.sync(t, h.client(t, nil), connector.SyncOptions{})
		h.check(t, "full sync")
		if res.Counts.Inserted == 0 || h.srv.Requests("createReport") < 4 {
			t.Errorf("full sync: %+v, %d reports: the backfill should read 100 days in 30-day reports", res.Counts, h.srv.Requests("createReport"))
		}

		// A refund is booked when Amazon posted it (the store files it by
		// the publisher's refund-day setting).
		r := h.srv.Refunds()[0]
		var refundedAt time.Time
		if err := s.DB().QueryRow(`SELECT refunded_at FROM sales WHERE publisher_id = $1 AND external_order_id = $2 AND external_line_id = $3`,
			h.target.Publisher, r.OrderID, r.Items[0].SKU).Scan(&refundedAt); err != nil || !refundedAt.Equal(r.Posted) {
			t.Errorf("refunded_at of %s = %v, %v; want %v", r.OrderID, refundedAt, err, r.Posted)
		}

		// Changes: a pending order ships (it gets its price), an order is
		// cancelled, a new order, a refund posted a day ago that shows up
		// only now (late).
		var pendingID, shippedID string
		for _, o := range h.srv.Orders() {
			if o.Status == "PENDING" && pendingID == "" {
				pendingID = o.ID
			}
			if o.Status == "SHIPPED" && shippedID == "" {
				shippedID = o.ID
			}
		}
		// An old order with an old refund changes now: writing it again
		// must keep its refund.
		var oldRefunded string
		for _, r := range h.srv.Refunds() {
			if r.Posted.Before(h.srv.Now().Add(-10 * 24 * time.Hour)) {
				oldRefunded = r.OrderID
				break
			}
		}
		if oldRefunded == "" {
			t.Fatal("the seed has no old refund")
		}
		h.srv.Update(oldRefunded, func(o *amazontest.Order) { o.State = "OR" })
		h.srv.Update(pendingID, func(o *amazontest.Order) { o.Status = "SHIPPED" })
		h.srv.Update(shippedID, func(o *amazontest.Order) { o.Status = "CANCELLED" })
		now := h.srv.Now()
		h.srv.Put(amazontest.Order{ID: "114-9999999-0000001", Marketplace: us, Created: now, Updated: now, Status: "SHIPPED", FulfilledBy: "AMAZON",
			Country: "US", Items: []amazontest.Item{{ID: "9", SKU: "NOVA-FIG-01", ASIN: "B0NOVA0001", Title: "Nova Figure", Qty: 2, Price: 2999}}})
		var refundable amazontest.Order
		for _, o := range h.srv.Orders() {
			if o.Status == "SHIPPED" && o.ID != "114-9999999-0000001" && o.ID != pendingID && len(o.Items) > 1 {
				refundable = o
				break
			}
		}
		it := refundable.Items[1]
		h.srv.AddRefund(amazontest.Refund{OrderID: refundable.ID, Posted: now.Add(-24 * time.Hour), Visible: now.Add(30 * time.Minute),
			Items: []amazontest.RefundItem{{SKU: it.SKU, ASIN: it.ASIN, Qty: 1, Principal: it.Price}}})
		h.srv.Advance(time.Hour)
		before := h.srv.Requests("createReport")
		h.sync(t, h.client(t, nil), connector.SyncOptions{})
		h.check(t, "incremental sync")
		if h.srv.Requests("createReport") != before {
			t.Error("an incremental sync asked for reports")
		}
		var channel string
		if err := s.DB().QueryRow(`SELECT channel FROM sales WHERE publisher_id = $1 AND external_order_id = $2`, h.target.Publisher, "114-9999999-0000001").Scan(&channel); err != nil || channel != "Amazon.com FBA" {
			t.Errorf("channel of the new order = %q, %v; want Amazon.com FBA", channel, err)
		}

		// Repeated: nothing changed, nothing written.
		h.srv.Advance(time.Hour)
		res = h.sync(t, h.client(t, nil), connector.SyncOptions{})
		if res.Counts.Inserted != 0 || res.Counts.Updated != 0 {
			t.Errorf("repeated sync changed records: %+v", res.Counts)
		}
		h.check(t, "repeated sync")
	})
}

// TestBackfillThenIncrementalCountsOnce: orders the reports backfill read
// and the orders phase reads again (updated in the pass's last hour), and
// orders a later incremental sync reads again, count once.
func TestBackfillThenIncrementalCountsOnce(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, amazontest.Options{})
		now := h.srv.Now()
		for i := range 12 {
			at := now.Add(-time.Duration(10+i*3) * time.Minute)
			h.srv.Put(amazontest.Order{ID: fmt.Sprintf("112-%07d-0000000", i), Marketplace: us, Created: at.Add(-time.Hour), Updated: at, Status: "SHIPPED",
				FulfilledBy: "MERCHANT", Country: "US", Items: []amazontest.Item{
					{ID: "1", SKU: "NOVA-MUG-01", ASIN: "B0NOVA0002", Title: "Nova Mug", Qty: 1, Price: 1499, Discount: 200},
					{ID: "2", SKU: "NOVA-MUG-01", ASIN: "B0NOVA0002", Title: "Nova Mug", Qty: 2, Price: 1499}, // same SKU twice: NOVA-MUG-01#2
				}})
		}
		h.sync(t, h.client(t, nil), connector.SyncOptions{})
		if h.srv.Requests("getReportDocument") == 0 || h.srv.Requests("searchOrders") == 0 {
			t.Fatalf("expected both reports (%d) and searchOrders (%d)", h.srv.Requests("getReportDocument"), h.srv.Requests("searchOrders"))
		}
		h.check(t, "backfill and orders phase")
		h.srv.Advance(2 * time.Hour)
		h.sync(t, h.client(t, nil), connector.SyncOptions{Full: true})
		h.check(t, "full re-sync")
		var lines []string
		rows, err := s.DB().Query(`SELECT external_line_id FROM sales WHERE publisher_id = $1 AND external_order_id = $2 ORDER BY external_line_id`, h.target.Publisher, "112-0000000-0000000")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var l string
			_ = rows.Scan(&l)
			lines = append(lines, l)
		}
		rows.Close()
		if diff := cmp.Diff([]string{"NOVA-MUG-01", "NOVA-MUG-01#2"}, lines); diff != "" {
			t.Errorf("line ids (-want +got):\n%s", diff)
		}
	})
}

// TestKilledAndResumed stops syncs after every few pages, in the report
// backfill (or the paged one) and in the orders and refunds phases, and
// checks that resuming ends with the seller's exact totals. In the paged
// mode the clock jumps a day after the first kill, so the stored
// paginationToken has expired and the pass restarts.
func TestKilledAndResumed(t *testing.T) {
	for _, paged := range []bool{false, true} {
		t.Run(fmt.Sprintf("paged=%v", paged), func(t *testing.T) {
			storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
				h := newHarness(t, s, amazontest.Options{ReportPolls: 3, TransactionsPage: 2})
				seed(h.srv, 40, rand.New(rand.NewPCG(3, 4)))
				h.srv.Advance(time.Hour)
				client := func() *amazon.Client { return h.client(t, func(c *amazon.Config) { c.PagedBackfill = paged }) }
				for kill := 1; kill < 100; kill++ {
					ctx, cancel := context.WithCancel(context.Background())
					pages := 0
					res, err := h.engine.Sync(ctx, h.target, client(), connector.SyncOptions{Progress: func(connector.Progress) {
						if pages++; pages == 2 {
							cancel()
						}
					}})
					cancel()
					if err == nil {
						if kill < 3 {
							t.Fatalf("the sync finished after %d kills: the test kills nothing", kill-1)
						}
						break
					}
					if !errors.Is(err, context.Canceled) || res.State != store.SyncCancelled {
						t.Fatalf("kill %d: %v (%+v)", kill, err, res)
					}
					if paged && kill == 1 {
						h.srv.Advance(25 * time.Hour)
					}
				}
				h.check(t, "after kills")
				if n := h.srv.Requests("searchOrders: expired token"); paged && n == 0 {
					t.Error("no expired pagination token was refused: the restart is untested")
				}
				// A new order after the kills: the next sync is incremental.
				h.srv.Put(amazontest.Order{ID: "113-0000001-0000001", Marketplace: us, Created: h.srv.Now(), Updated: h.srv.Now(), Status: "SHIPPED",
					FulfilledBy: "AMAZON", Items: []amazontest.Item{{ID: "1", SKU: "DRAKE-PLUSH", ASIN: "B0DRAKE001", Title: "Drake Plush", Qty: 1, Price: 2450}}})
				h.srv.Advance(10 * time.Minute)
				h.sync(t, client(), connector.SyncOptions{})
				h.check(t, "after an incremental sync")
			})
		})
	}
}

// TestThrottled: tight usage plans answer 429s and injected 5xx; the
// client adopts the rate the header reports and the sync still ends with
// the exact totals.
func TestThrottled(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, amazontest.Options{Rates: map[string]float64{"searchOrders": 40, "getOrder": 40, "listTransactions": 40}, Burst: 3})
		seed(h.srv, 30, rand.New(rand.NewPCG(5, 6)))
		h.srv.Advance(time.Hour)
		h.srv.Fail("searchOrders", http.StatusTooManyRequests, http.StatusInternalServerError)
		h.srv.Fail("getReport", http.StatusServiceUnavailable)
		h.srv.Fail("listTransactions", http.StatusTooManyRequests)
		c := h.client(t, func(c *amazon.Config) { c.PagedBackfill = true; c.PageSize = 3 })
		res := h.sync(t, c, connector.SyncOptions{})
		h.check(t, "throttled sync")
		// The 500 is the engine's to retry; the client absorbs 429s
		// itself, at a slower pace, so a page is not redone for them.
		if res.Retries < 1 {
			t.Errorf("retries = %d, want the injected 500 retried", res.Retries)
		}
		for _, op := range []string{"searchOrders", "listTransactions"} {
			if r := c.OperationRate(op); r != 40 {
				t.Errorf("%s paced at %v/s; the header says 40", op, r)
			}
		}
	})
}

// TestRevoked: a revoked authorization puts the connector in error with a
// message asking to reconnect.
func TestRevoked(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, amazontest.Options{})
		seed(h.srv, 5, rand.New(rand.NewPCG(7, 8)))
		h.srv.Advance(time.Hour)
		h.sync(t, h.client(t, nil), connector.SyncOptions{})
		h.srv.Revoke()
		h.srv.Advance(time.Hour)
		res, err := h.engine.Sync(context.Background(), h.target, h.client(t, nil), connector.SyncOptions{})
		if err == nil || connector.KindOf(err) != connector.Auth || res.State != store.SyncFailed {
			t.Fatalf("sync after revocation: %v (%+v)", err, res)
		}
		c, err := s.Connector(context.Background(), h.target.Publisher, h.target.ConnectorID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != store.ConnectorError || !strings.Contains(c.LastError, "Reconnect") {
			t.Errorf("connector %s: %q", c.Status, c.LastError)
		}
	})
}

// TestChangedDuringPass: an order changed while a pass runs (after its
// end) is not written by it, so the watermark never passes the pass's end;
// the next sync reads the change.
func TestChangedDuringPass(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, amazontest.Options{})
		seed(h.srv, 30, rand.New(rand.NewPCG(9, 10)))
		h.srv.Advance(time.Hour)
		until := h.srv.Now().Add(-3 * time.Minute)
		// The shipped order updated last is on the pass's last page.
		var last string
		var lastAt time.Time
		for _, o := range h.srv.Orders() {
			if o.Status == "SHIPPED" && o.Updated.After(lastAt) {
				last, lastAt = o.ID, o.Updated
			}
		}
		changed := false
		res := h.sync(t, h.client(t, func(c *amazon.Config) { c.PagedBackfill = true }), connector.SyncOptions{Progress: func(p connector.Progress) {
			if p.Stream == connector.StreamOrders && !changed {
				changed = true
				h.srv.Advance(time.Hour)
				h.srv.Update(last, func(o *amazontest.Order) { o.Items[0].Qty++ })
			}
		}})
		if !changed {
			t.Fatal("nothing changed during the pass")
		}
		if w := res.Checkpoint.Orders.Synced; w.After(until) {
			t.Errorf("watermark %v is after the pass's end %v", w, until)
		}
		h.srv.Advance(10 * time.Minute)
		h.sync(t, h.client(t, nil), connector.SyncOptions{})
		h.check(t, "after the next sync")
	})
}
