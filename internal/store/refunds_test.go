package store_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// monthFigures are the totals of March and April 2025 that refund booking
// moves between them.
type monthFigures struct {
	Net, Refunded, Gross, Units, Orders int64
}

// marchApril reads the figures from the product rollups (no filter) and
// the geo rollups (filtered on the one country of the sales).
func marchApril(t *testing.T, s *store.Store, pub phantomos.PublisherID, country string) [2]monthFigures {
	t.Helper()
	var out [2]monthFigures
	for i, r := range [][2]phantomos.Day{{"2025-03-01", "2025-03-31"}, {"2025-04-01", "2025-04-30"}} {
		for _, f := range []store.Filter{{}, {Countries: []string{country}}} { // product and geo rollups
			got, err := s.Totals(context.Background(), pub, r[0], r[1], f)
			if err != nil {
				t.Fatal(err)
			}
			m := monthFigures{Net: got.Net, Refunded: got.Refunded, Gross: got.Gross, Units: got.Units, Orders: got.Orders}
			if f.Countries == nil {
				out[i] = m
			} else if m != out[i] {
				t.Errorf("%s..%s: the geo rollups say %+v, the product rollups %+v", r[0], r[1], m, out[i])
			}
		}
	}
	return out
}

func setRefundBooking(t *testing.T, s *store.Store, pub phantomos.PublisherID, booking string) {
	t.Helper()
	p, err := s.Publisher(context.Background(), pub)
	if err != nil {
		t.Fatal(err)
	}
	p.Settings.RefundBooking = booking
	if err := s.UpdatePublisher(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

// TestRefundBooking: a sale in March refunded in April shows its refund in
// March when refunds are booked on the order date and in April when they
// are booked on the refund date; the totals over both months are the same.
// Switching rebuilds the rollups and bumps the data version; re-importing
// changes nothing, a corrected refund date moves the refund.
func TestRefundBooking(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pub := ingestPublisher(t, s, "refunds", "EUR") // Europe/Berlin
		other := ingestPublisher(t, s, "other", "EUR")
		berlin, _ := time.LoadLocation("Europe/Berlin")
		march := time.Date(2025, 3, 20, 12, 0, 0, 0, berlin)
		rows := []store.SaleRow{
			// Refunded 40.00 of 100.00 on 3 April.
			{Line: 2, OrderID: "1001", LineID: "1", SKU: "MUG", Name: "Mug", OrderDate: march, Quantity: 2, Gross: 10000,
				Refunded: 4000, RefundedAt: time.Date(2025, 4, 3, 9, 0, 0, 0, berlin), Currency: "EUR", Country: "DE"},
			// Refunded on the evening of 31 March UTC: 1 April in Berlin.
			{Line: 3, OrderID: "1002", LineID: "1", SKU: "TEE", Name: "Tee", OrderDate: march, Quantity: 1, Gross: 3000,
				Refunded: 3000, RefundedAt: time.Date(2025, 3, 31, 22, 30, 0, 0, time.UTC), Currency: "EUR", Country: "DE"},
			// A refund whose date the source does not know stays in March.
			{Line: 4, OrderID: "1003", LineID: "1", SKU: "CAP", Name: "Cap", OrderDate: march, Quantity: 1, Gross: 2000,
				Refunded: 500, Currency: "EUR", Country: "DE"},
			// An April sale with a same-day refund.
			{Line: 5, OrderID: "1004", LineID: "1", SKU: "MUG", Name: "Mug", OrderDate: march.AddDate(0, 0, 20), Quantity: 1, Gross: 5000,
				Refunded: 1000, RefundedAt: march.AddDate(0, 0, 20).Add(time.Hour), Currency: "EUR", Country: "DE"},
			// A refund date without a refund means nothing.
			{Line: 6, OrderID: "1005", LineID: "1", SKU: "CAP", Name: "Cap", OrderDate: march, Quantity: 1, Gross: 2000,
				RefundedAt: time.Date(2025, 4, 9, 9, 0, 0, 0, berlin), Currency: "EUR", Country: "DE"},
		}
		if _, err := importRows(t, s, pub, store.ImportSpec{Kind: store.ImportSales}, rows, writeSales); err != nil {
			t.Fatal(err)
		}
		if _, err := importRows(t, s, other, store.ImportSpec{Kind: store.ImportSales}, rows, writeSales); err != nil {
			t.Fatal(err)
		}
		var days []string
		q, err := s.DB().Query(`SELECT external_order_id, COALESCE(`+s.DayText("refund_day")+`, '-') FROM sales WHERE publisher_id = $1 ORDER BY external_order_id`, pub)
		if err != nil {
			t.Fatal(err)
		}
		for q.Next() {
			var o, d string
			if err := q.Scan(&o, &d); err != nil {
				t.Fatal(err)
			}
			days = append(days, o+" "+d)
		}
		q.Close()
		if diff := cmp.Diff([]string{"1001 2025-04-03", "1002 2025-04-01", "1003 -", "1004 2025-04-09", "1005 -"}, days); diff != "" {
			t.Errorf("stored refund days (-want +got):\n%s", diff)
		}

		orderDate := [2]monthFigures{
			{Net: 10000 - 4000 + 0 + 1500 + 2000, Refunded: 4000 + 3000 + 500, Gross: 17000, Units: 5, Orders: 4},
			{Net: 4000, Refunded: 1000, Gross: 5000, Units: 1, Orders: 1},
		}
		refundDate := [2]monthFigures{
			{Net: 10000 + 3000 + 1500 + 2000, Refunded: 500, Gross: 17000, Units: 5, Orders: 4},
			{Net: 4000 - 3000 - 4000, Refunded: 1000 + 4000 + 3000, Gross: 5000, Units: 1, Orders: 1},
		}
		if orderDate[0].Net+orderDate[1].Net != refundDate[0].Net+refundDate[1].Net {
			t.Fatal("the test's figures do not add up")
		}
		if diff := cmp.Diff(orderDate, marchApril(t, s, pub, "DE")); diff != "" {
			t.Errorf("booked on the order date (-want +got):\n%s", diff)
		}

		v0, err := s.DataVersion(ctx, pub)
		if err != nil {
			t.Fatal(err)
		}
		setRefundBooking(t, s, pub, phantomos.RefundOnRefundDate)
		if v1, _ := s.DataVersion(ctx, pub); v1 <= v0 {
			t.Errorf("data version %d → %d: changing the refund booking must bump it", v0, v1)
		}
		if diff := cmp.Diff(refundDate, marchApril(t, s, pub, "DE")); diff != "" {
			t.Errorf("booked on the refund date (-want +got):\n%s", diff)
		}
		if err := s.CheckRollups(ctx, pub); err != nil {
			t.Error(err)
		}
		// The other publisher's books did not move.
		if diff := cmp.Diff(orderDate, marchApril(t, s, other, "DE")); diff != "" {
			t.Errorf("another publisher (-want +got):\n%s", diff)
		}

		// Re-importing changes nothing.
		rep, err := importRows(t, s, pub, store.ImportSpec{Kind: store.ImportSales}, rows, writeSales)
		if err != nil {
			t.Fatal(err)
		}
		if got := countsOf(rep); got != (counts{Skipped: int64(len(rows))}) {
			t.Errorf("re-import counts %+v, want all skipped", got)
		}
		if diff := cmp.Diff(refundDate, marchApril(t, s, pub, "DE")); diff != "" {
			t.Errorf("after a re-import (-want +got):\n%s", diff)
		}

		// A corrected refund date moves the refund: out of April, into May
		// (the rollups of the day it left are refreshed too).
		fixed := []store.SaleRow{rows[0]}
		fixed[0].RefundedAt = time.Date(2025, 5, 2, 9, 0, 0, 0, berlin)
		rep, err = importRows(t, s, pub, store.ImportSpec{Kind: store.ImportSales}, fixed, writeSales)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Updated != 1 {
			t.Errorf("a corrected refund date updated %d lines, want 1", rep.Updated)
		}
		moved := refundDate
		moved[1].Net += 4000
		moved[1].Refunded -= 4000
		if diff := cmp.Diff(moved, marchApril(t, s, pub, "DE")); diff != "" {
			t.Errorf("after moving a refund to May (-want +got):\n%s", diff)
		}
		may, err := s.Totals(ctx, pub, "2025-05-01", "2025-05-31", store.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if may.Net != -4000 || may.Refunded != 4000 || may.Orders != 0 || may.Units != 0 {
			t.Errorf("May: %+v, want the refund alone (net -40.00, no order, no units)", may)
		}
		if err := s.CheckRollups(ctx, pub); err != nil {
			t.Error(err)
		}

		// Back to the order date: the refunds return to March.
		setRefundBooking(t, s, pub, phantomos.RefundOnOrderDate)
		if diff := cmp.Diff(orderDate, marchApril(t, s, pub, "DE")); diff != "" {
			t.Errorf("back on the order date (-want +got):\n%s", diff)
		}
		if err := s.CheckRollups(ctx, pub); err != nil {
			t.Error(err)
		}

		// A refund dated before its order (a back-dated order from a sync;
		// file parsers refuse it) is booked with its order.
		early := []store.SaleRow{rows[1]}
		early[0].OrderID, early[0].RefundedAt = "1009", march.AddDate(0, 0, -2)
		if _, err := importRows(t, s, pub, store.ImportSpec{Kind: store.ImportSales}, early, writeSales); err != nil {
			t.Fatal(err)
		}
		var rd string
		if err := s.DB().QueryRow(`SELECT `+s.DayText("refund_day")+` FROM sales WHERE publisher_id = $1 AND external_order_id = '1009'`, pub).Scan(&rd); err != nil || rd != "2025-03-20" {
			t.Errorf("refund day of a refund before its order: %q %v, want the order's day 2025-03-20", rd, err)
		}

		// An unknown booking is refused.
		p, _ := s.Publisher(ctx, pub)
		p.Settings.RefundBooking = "payout_date"
		if err := s.UpdatePublisher(ctx, p); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("refund booking payout_date: %v, want EINVALID", err)
		}
	})
}

// TestRefundBookingBulkLoad: the bulk path (COPY on PostgreSQL) books
// refunds as the publisher chooses too.
func TestRefundBookingBulkLoad(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rp := newRandomPublisher(t, s, "bulk", rand.New(rand.NewPCG(1, 2)), 0)
		setRefundBooking(t, s, rp.pub.ID, phantomos.RefundOnRefundDate)
		p := rp.products[0]
		sale := &phantomos.Sale{ProductID: p.ID, ConnectorID: rp.connectors[0], ExternalOrderID: "b1", ExternalLineID: "1",
			OrderDate: time.Date(2025, 3, 30, 10, 0, 0, 0, time.UTC), Day: "2025-03-30", Quantity: 1, Gross: 5000, Refunded: 2000, Net: 3000,
			Currency: "USD", NetReporting: 3000, GrossReporting: 5000, RefundedReporting: 2000, Country: "US", Channel: "web",
			RefundedAt: time.Date(2025, 4, 2, 10, 0, 0, 0, time.UTC), RefundDay: "2025-04-02"}
		if _, err := s.BulkLoadSales(ctx, rp.pub.ID, func(yield func(*phantomos.Sale) bool) { yield(sale) }); err != nil {
			t.Fatal(err)
		}
		got := marchApril(t, s, rp.pub.ID, "US")
		if got[0].Net != 5000 || got[1].Net != -2000 || got[1].Refunded != 2000 {
			t.Errorf("March %+v, April %+v: want net 50.00 in March and the 20.00 refund in April", got[0], got[1])
		}
		if err := s.CheckRollups(ctx, rp.pub.ID); err != nil {
			t.Error(err)
		}
	})
}
