package ingest_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// parseRefunds parses a sales file in New York time and returns each
// line's refund date ("-" when none) and the refusals.
func parseRefunds(t *testing.T, format, in string) ([]string, []ingest.RowError) {
	t.Helper()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var rejects []ingest.RowError
	sink := ingest.Sink[ingest.Sale]{
		Record: func(s ingest.Sale) error {
			d := "-"
			if !s.RefundedAt.IsZero() {
				d = s.RefundedAt.In(ny).Format("2006-01-02 15:04")
			}
			got = append(got, s.OrderID+"/"+s.LineID+" "+d)
			return nil
		},
		Reject: func(e ingest.RowError, _ int64) { rejects = append(rejects, e) },
	}
	if _, err := ingest.ParseSales(strings.NewReader(in), format, ingest.Config{Currency: "USD", Location: ny}, sink); err != nil {
		t.Fatalf("ParseSales: %v", err)
	}
	return got, rejects
}

func TestGenericSalesRefundDate(t *testing.T) {
	for _, col := range []string{"refund_date", "Refunded At", "REFUNDED-ON", "Date Refunded"} {
		in := "order_id,date,sku,price,refunded," + col + "\n" +
			"o1,2025-03-20,A,10.00,4.00,2025-04-02\n" + // a date alone: midnight, publisher time
			"o2,2025-03-20,A,10.00,yes,2025-03-31T23:30:00-04:00\n" +
			"o3,2025-03-20,A,10.00,,2025-04-02\n" + // no refund: the date is ignored
			"o4,2025-03-20,A,10.00,4.00,\n" + // a refund of unknown date
			"o5,2025-03-20 10:00,A,10.00,4.00,2025-03-19 23:00\n" + // before the order
			"o6,2025-03-20,A,10.00,4.00,next week\n"
		got, rejects := parseRefunds(t, ingest.FormatAuto, in)
		want := []string{"o1/A 2025-04-02 00:00", "o2/A 2025-03-31 23:30", "o3/A -", "o4/A -"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: refund dates (-want +got):\n%s", col, diff)
		}
		if len(rejects) != 2 {
			t.Fatalf("%s: rejects %+v, want 2", col, rejects)
		}
		if e := rejects[0]; e.Line != 6 || e.Column != col || e.Reason != "the refund date is before the order date (2025-03-20)" {
			t.Errorf("%s: %+v", col, e)
		}
		if e := rejects[1]; e.Line != 7 || e.Column != col || e.Value != "next week" || !strings.HasPrefix(e.Reason, "refund date ") {
			t.Errorf("%s: %+v", col, e)
		}
	}
}

func TestBigCommerceRefundDate(t *testing.T) {
	head := "Order ID,Order Date,Order Currency Code,Subtotal (ex tax),Tax Total,Order Total (inc tax),Refund Amount,Refund Date,Product Details\n"
	details := `"Product ID: 1, Product Qty: 1, Product SKU: A, Product Name: Mug, Product Unit Price: 6.0000, Product Total Price: 6.0000|` +
		`Product ID: 2, Product Qty: 1, Product SKU: B, Product Name: Tee, Product Unit Price: 4.0000, Product Total Price: 4.0000"`
	in := head +
		"100,03/20/2025,USD,10.00,0.00,10.00,5.00,04/02/2025," + details + "\n" +
		"101,03/20/2025,USD,10.00,0.00,10.00,0.00,04/02/2025," + details + "\n"
	got, rejects := parseRefunds(t, ingest.FormatBigCommerce, in)
	if len(rejects) > 0 {
		t.Fatalf("rejects: %+v", rejects)
	}
	want := []string{"100/1 2025-04-02 00:00", "100/2 2025-04-02 00:00", "101/1 -", "101/2 -"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("refund dates (-want +got):\n%s", diff)
	}
}

// TestImportRefundDates: a file of March sales refunded in April books the
// refunds in March or in April as the publisher chooses, the two months
// adding up to the same; re-importing the file changes nothing.
func TestImportRefundDates(t *testing.T) {
	file := "Order ID,Order Date,SKU,Product Name,Quantity,Price,Refunded,Refund Date,Currency,Country\n" +
		"M1,2025-03-30 18:00,NOVA-1,Nova Figure,2,25.00,20.00,2025-04-02 10:00,USD,US\n" +
		"M2,2025-03-31 23:30,NOVA-1,Nova Figure,1,25.00,yes,2025-03-31 23:45,USD,US\n" + // refunded the same day
		"M3,2025-03-15 12:00,DRAKE-1,Drake Plush,1,15.00,5.00,,USD,US\n" + // date unknown
		"A1,2025-04-10 09:00,DRAKE-1,Drake Plush,1,15.00,,,USD,US\n"
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pub := newPublisher(t, s, "alpha", "USD")
		res, err := importString(t, s, pub, ingest.KindSales, file, ingest.Options{})
		if err != nil || countsOf(res) != (counts{Seen: 4, Inserted: 4, Created: 2}) {
			t.Fatalf("import: %+v, %v", res, err)
		}
		months := func() [2]store.Summary {
			var out [2]store.Summary
			for i, r := range [][2]phantomos.Day{{"2025-03-01", "2025-03-31"}, {"2025-04-01", "2025-04-30"}} {
				sum, err := s.Summary(ctx, pub, r[0], r[1])
				if err != nil {
					t.Fatal(err)
				}
				out[i] = sum
			}
			return out
		}
		byOrder := months()
		if byOrder[0].Net != 5000-2000+0+1500-500 || byOrder[0].Refunded != 2000+2500+500 || byOrder[1].Net != 1500 {
			t.Errorf("booked on the order date: March %+v, April %+v", byOrder[0], byOrder[1])
		}
		p, err := s.Publisher(ctx, pub)
		if err != nil {
			t.Fatal(err)
		}
		p.Settings.RefundBooking = phantomos.RefundOnRefundDate
		if err := s.UpdatePublisher(ctx, p); err != nil {
			t.Fatal(err)
		}
		byRefund := months()
		if byRefund[0].Net != 5000+0+1500-500 || byRefund[0].Refunded != 2500+500 ||
			byRefund[1].Net != 1500-2000 || byRefund[1].Refunded != 2000 {
			t.Errorf("booked on the refund date: March %+v, April %+v", byRefund[0], byRefund[1])
		}
		if byOrder[0].Net+byOrder[1].Net != byRefund[0].Net+byRefund[1].Net {
			t.Errorf("the two months add up to %d on the order date, %d on the refund date",
				byOrder[0].Net+byOrder[1].Net, byRefund[0].Net+byRefund[1].Net)
		}
		for i := range 2 {
			if byOrder[i].Gross != byRefund[i].Gross || byOrder[i].Units != byRefund[i].Units || byOrder[i].Orders != byRefund[i].Orders {
				t.Errorf("month %d: gross, units and orders must stay on the order's day: %+v vs %+v", i, byOrder[i], byRefund[i])
			}
		}
		res, err = importString(t, s, pub, ingest.KindSales, file, ingest.Options{})
		if err != nil || countsOf(res) != (counts{Seen: 4, Skipped: 4}) {
			t.Errorf("re-import: %+v, %v", res, err)
		}
		if diff := cmp.Diff(byRefund, months()); diff != "" {
			t.Errorf("after re-import (-want +got):\n%s", diff)
		}
		if err := s.CheckRollups(ctx, pub); err != nil {
			t.Error(err)
		}
	})
}
