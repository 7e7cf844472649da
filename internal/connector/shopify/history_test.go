package shopify_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/shopify"
	"github.com/phantomos/phantomos/internal/connector/shopify/shopifytest"
	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestHistoryFileThenSyncCountsEachOrderOnce: a store's order history is
// imported from its Orders › Export file into the store's connector, then
// the store syncs. Both key an order by Shopify's order id, and the sync's
// version (with the line item ids and updated_at the file lacks) replaces
// the file's lines whole: every order counts once, with the fake's totals.
// Importing the file again afterwards changes nothing (the sync's versions
// are newer), on both engines.
func TestHistoryFileThenSyncCountsEachOrderOnce(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		srv := shopifytest.New(t, shopifytest.Options{RestoreRate: 50000, Currency: "USD"})
		var orders []shopifytest.Order
		for i := range 12 {
			var lines []shopifytest.LineItem
			for j := range 1 + i%3 {
				l := shopifytest.LineItem{SKU: fmt.Sprintf("NOVA-%d", j), Name: fmt.Sprintf("Nova Figure %d", j), Quantity: 1 + (i+j)%2,
					Price: fmt.Sprintf("%d.%02d", 10+i, 25*j)}
				if (i+j)%4 == 0 {
					l.Discounts = []string{"1.50"}
				}
				lines = append(lines, l)
			}
			o := srv.AddOrder(shopifytest.Order{Lines: lines, Country: "DE"})
			if i%5 == 2 {
				o = srv.AddRefund(o.ID, shopifytest.Refund{Lines: []shopifytest.RefundLine{{LineItemID: o.Lines[0].ID, Quantity: 1, Subtotal: o.Lines[0].Price}}})
			}
			orders = append(orders, o)
			srv.Advance(time.Hour)
		}
		var wantNet, wantLines int64
		for _, o := range srv.Orders() {
			for _, l := range o.Lines {
				wantNet += historyCents(l.Price) * int64(l.Quantity)
				for _, d := range l.Discounts {
					wantNet -= historyCents(d)
				}
				wantLines++
			}
			for _, r := range o.Refunds {
				for _, rl := range r.Lines {
					wantNet -= historyCents(rl.Subtotal)
				}
			}
		}

		pub := &phantomos.Publisher{Name: "Pub", Slug: "pub", Timezone: "UTC", ReportingCurrency: "USD"}
		if err := s.CreatePublisher(ctx, pub); err != nil {
			t.Fatal(err)
		}
		c := &phantomos.Connector{Type: phantomos.ConnectorShopify, Name: "Nova Merch"}
		if err := s.CreateConnector(ctx, pub.ID, c); err != nil {
			t.Fatal(err)
		}
		check := func(step string, lines int64) {
			t.Helper()
			var n, got, stored int64
			if err := s.DB().QueryRow(`SELECT COUNT(DISTINCT external_order_id), COALESCE(SUM(net), 0), COUNT(*) FROM sales WHERE publisher_id = $1`,
				pub.ID).Scan(&n, &got, &stored); err != nil {
				t.Fatal(err)
			}
			if n != int64(len(orders)) || got != wantNet || stored != lines {
				t.Errorf("%s: %d orders, %d lines, net %d; want %d orders, %d lines, net %d", step, n, stored, got, len(orders), lines, wantNet)
			}
			if err := s.CheckRollups(ctx, pub.ID); err != nil {
				t.Errorf("%s: %v", step, err)
			}
		}
		file := exportOrders(srv.Orders(), srv.Currency())
		res, err := ingest.Import(ctx, s, pub.ID, ingest.KindSales, ingest.FormatAuto, strings.NewReader(file), ingest.Options{Source: c.ID})
		if err != nil {
			t.Fatalf("history file: %v (%+v)", err, res)
		}
		check("after the file", wantLines)

		client, err := shopify.New(shopify.Config{Shop: srv.Shop(), BaseURL: srv.URL, Logger: quiet, AccessToken: srv.IssueToken("read_products,read_orders")})
		if err != nil {
			t.Fatal(err)
		}
		engine := connector.NewEngine(&connector.StoreSink{Store: s}, s, connector.Config{
			BaseBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond, Rate: 1000, Burst: 50, Logger: quiet})
		if _, err := engine.Sync(ctx, connector.Target{Publisher: pub.ID, ConnectorID: c.ID}, client, connector.SyncOptions{}); err != nil {
			t.Fatal(err)
		}
		check("after the sync", wantLines)

		res, err = ingest.Import(ctx, s, pub.ID, ingest.KindSales, ingest.FormatAuto, strings.NewReader(file), ingest.Options{Source: "Nova Merch"})
		if err != nil || res.Stale != int64(len(orders)) || res.Inserted+res.Updated+res.Deleted != 0 {
			t.Errorf("file again after the sync: %+v, %v", res, err)
		}
		check("after the file again", wantLines)
	})
}

// exportOrders writes orders as Shopify's Orders › Export does: one row per
// line item, the order's totals and Id on its first row only, no line ids.
func exportOrders(orders []shopifytest.Order, currency string) string {
	var b strings.Builder
	b.WriteString("Name,Financial Status,Currency,Subtotal,Shipping,Taxes,Total,Discount Amount,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Lineitem discount,Refunded Amount,Shipping Country,Source,Id\n")
	money := func(c int64) string { return fmt.Sprintf("%d.%02d", c/100, c%100) }
	for _, o := range orders {
		var gross, discount, refunded int64
		for _, l := range o.Lines {
			gross += historyCents(l.Price) * int64(l.Quantity)
			for _, d := range l.Discounts {
				discount += historyCents(d)
			}
		}
		for _, r := range o.Refunds {
			for _, rl := range r.Lines {
				refunded += historyCents(rl.Subtotal)
			}
		}
		created := o.CreatedAt.Format("2006-01-02 15:04:05 -0700")
		for i, l := range o.Lines {
			var ld int64
			for _, d := range l.Discounts {
				ld += historyCents(d)
			}
			head := ",,,,,,,"
			if i == 0 {
				status := "paid"
				if refunded > 0 {
					status = "partially_refunded"
				}
				sub := gross - discount
				head = fmt.Sprintf("%s,%s,%s,0.00,0.00,%s,%s,", status, currency, money(sub), money(sub), money(discount))
			}
			id, ref, country, source := "", "", "", ""
			if i == 0 {
				id, ref, country, source = strconv.FormatInt(o.ID, 10), money(refunded), o.Country, "web"
			}
			fmt.Fprintf(&b, "%s,%s%s,%d,%s,%s,%s,%s,%s,%s,%s,%s\n", o.Name, head, created, l.Quantity, l.Name, l.Price, l.SKU, money(ld), ref, country, source, id)
		}
	}
	return b.String()
}

func historyCents(s string) int64 {
	whole, frac, _ := strings.Cut(s, ".")
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt((frac + "00")[:2], 10, 64)
	return w*100 + f
}
