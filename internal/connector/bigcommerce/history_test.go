package bigcommerce_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos/internal/connector/bigcommerce/bctest"
	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestExportFileThenSyncCountsEachOrderOnce: a store's order history is
// imported from its Orders › Export file (Default template) into the
// store's connector, then the store syncs. Both key an order by
// BigCommerce's order id, and the sync's version (with order product ids
// the file lacks) replaces the file's lines whole: every order counts
// once, with the fake's totals. The file again afterwards changes nothing.
func TestExportFileThenSyncCountsEachOrderOnce(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, bctest.Options{TaxRate: 10})
		for i := range 9 {
			var lines []bctest.Line
			for j := range 1 + i%3 {
				lines = append(lines, bctest.Line{ProductID: int64(500 + j), Name: fmt.Sprintf("Nova Figure, Deluxe %d", j), SKU: fmt.Sprintf("NOVA-%d", j),
					Quantity: int64(1 + (i+j)%2), Price: int64(1000 + 250*j)})
			}
			o := h.srv.AddOrder(bctest.Order{Country: "DE", Shipping: 500, Lines: lines})
			if i%4 == 1 {
				h.srv.AddRefund(o.ID, bctest.Refund{Items: []bctest.RefundItem{{Type: "PRODUCT", ItemID: o.Lines[0].ID, Quantity: o.Lines[0].Quantity}}})
			}
			h.srv.Advance(time.Hour)
		}
		ctx := context.Background()
		file := exportOrders(h.srv.Orders(), 10)
		res, err := ingest.Import(ctx, s, h.target.Publisher, ingest.KindSales, ingest.FormatAuto, strings.NewReader(file), ingest.Options{Source: h.target.ConnectorID})
		if err != nil || res.Inserted == 0 {
			t.Fatalf("export file: %+v, %v", res, err)
		}
		want := h.want(10)
		if got := h.stored(t); got.Orders != want.Orders || got.Net != want.Net {
			t.Fatalf("after the file: %+v; want %d orders, net %d", got, want.Orders, want.Net)
		}
		h.sync(t, ctx, h.client(t, 250))
		h.check(t, 10)
		res, err = ingest.Import(ctx, s, h.target.Publisher, ingest.KindSales, ingest.FormatAuto, strings.NewReader(file), ingest.Options{Source: h.target.ConnectorID})
		if err != nil || res.Inserted+res.Updated+res.Deleted != 0 {
			t.Errorf("the file again after the sync: %+v, %v", res, err)
		}
		h.check(t, 10)
	})
}

func dec(c int64) string { return fmt.Sprintf("%d.%02d00", c/100, c%100) }

// exportOrders writes orders as the Default export template does: one row
// per order, its products packed into Product Details.
func exportOrders(orders []bctest.Order, taxRate int64) string {
	var b strings.Builder
	b.WriteString("Order ID,Order Date,Order Status,Subtotal (ex tax),Tax Total,Shipping Cost (ex tax),Order Total (inc tax),Order Currency Code,Shipping Country,Product Details,Refund Amount,Channel Name\n")
	for _, o := range orders {
		var sub, tax int64
		var details []string
		for _, l := range o.Lines {
			sub += l.Price * l.Quantity
			tax += (l.Price*l.Quantity - l.Discount) * taxRate / 100
			details = append(details, fmt.Sprintf("Product ID: %d, Product Qty: %d, Product SKU: %s, Product Name: %s, Product Weight: 0.5000, Product Variation Details: , Product Unit Price: %s, Product Total Price: %s",
				l.ProductID, l.Quantity, l.SKU, l.Name, dec(l.Price), dec(l.Price*l.Quantity)))
		}
		var refunded int64
		for _, r := range o.Refunds {
			for _, it := range r.Items {
				for _, l := range o.Lines {
					if l.ID == it.ItemID {
						refunded += (l.Price*l.Quantity - l.Discount) * it.Quantity / l.Quantity
					}
				}
			}
		}
		total := sub + tax + o.Shipping
		fmt.Fprintf(&b, "%d,%s,Completed,%s,%s,%s,%s,USD,Germany,%q,%s,Storefront\n", o.ID, o.Created.Format("01/02/2006"), dec(sub), dec(tax),
			dec(o.Shipping), dec(total), strings.Join(details, "|"), dec(refunded))
	}
	return b.String()
}
