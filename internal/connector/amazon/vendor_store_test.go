package amazon_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/amazon"
	"github.com/phantomos/phantomos/internal/connector/amazon/amazontest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestVendorBesideSeller: a Vendor Central account's sell-through imports
// with its exact revenue and units, beside a Seller Central account of the
// same publisher, and orders and average order value stay those of the
// seller's orders: vendor lines are never orders.
func TestVendorBesideSeller(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		h := newHarness(t, s, amazontest.Options{})
		seed(h.srv, 40, rand.New(rand.NewPCG(11, 12)))
		h.srv.Advance(time.Hour)
		h.sync(t, h.client(t, nil), connector.SyncOptions{})
		ctx := context.Background()
		from, to := phantomos.Day("2026-01-01"), phantomos.Day("2026-12-31")
		before, err := s.Summary(ctx, h.target.Publisher, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if before.Orders == 0 || before.OrderlessNet != 0 {
			t.Fatalf("seller summary %+v", before)
		}

		// The vendor: 45 days of two ASINs' sell-through, one of them sold
		// by the seller too (the same product).
		var units, revenue int64
		start := h.srv.Now().Truncate(24*time.Hour).AddDate(0, 0, -45)
		for i := range 45 {
			for j, asin := range []string{"B0NOVA0001", "B0VENDOR01"} {
				d := amazontest.VendorDay{Day: start.AddDate(0, 0, i), ASIN: asin, OrderedUnits: int64(5 + i%3 + j),
					OrderedRevenue: int64(5+i%3+j) * 2799, ShippedUnits: 4, ShippedRevenue: 4 * 2799}
				h.srv.AddVendorDay(d)
				units += d.OrderedUnits
				revenue += d.OrderedRevenue
			}
		}
		vc := &phantomos.Connector{Type: phantomos.ConnectorAmazon, Name: "Amazon Vendor Central"}
		if err := s.CreateConnector(ctx, h.target.Publisher, vc); err != nil {
			t.Fatal(err)
		}
		vt := connector.Target{Publisher: h.target.Publisher, ConnectorID: vc.ID}
		vendor := h.client(t, func(c *amazon.Config) { c.History = 60 * 24 * time.Hour }).Vendor(amazon.VendorOptions{})
		for range 2 { // the second sync re-reads the last week: nothing doubles
			if _, err := h.engine.Sync(ctx, vt, vendor, connector.SyncOptions{}); err != nil {
				t.Fatal(err)
			}
			h.srv.Advance(time.Hour)
		}
		var gotUnits, gotGross, gotNet, lines int64
		if err := s.DB().QueryRow(`SELECT COUNT(*), SUM(quantity), SUM(gross), SUM(net) FROM sales WHERE publisher_id = $1 AND connector_id = $2`,
			vt.Publisher, vt.ConnectorID).Scan(&lines, &gotUnits, &gotGross, &gotNet); err != nil {
			t.Fatal(err)
		}
		if lines != 90 || gotUnits != units || gotGross != revenue || gotNet != revenue {
			t.Errorf("vendor lines %d, units %d, gross %d, net %d; want 90, %d, %d, %d", lines, gotUnits, gotGross, gotNet, units, revenue, revenue)
		}
		after, err := s.Summary(ctx, h.target.Publisher, from, to)
		if err != nil {
			t.Fatal(err)
		}
		want := before
		want.Net += revenue
		want.Gross += revenue
		want.Units += units
		want.OrderlessNet = revenue
		if after != want {
			t.Errorf("summary with the vendor %+v, want %+v", after, want)
		}
		if after.AverageOrderValue() != before.AverageOrderValue() {
			t.Errorf("average order value %d with the vendor, %d without", after.AverageOrderValue(), before.AverageOrderValue())
		}
		// Filtered by connector (the geographic rollups) and by product
		// (the sales table): still no vendor orders.
		byConn, err := s.Totals(ctx, h.target.Publisher, from, to, store.Filter{Connectors: []string{vc.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if byConn.Orders != 0 || byConn.Net != revenue || byConn.AverageOrderValue() != 0 {
			t.Errorf("vendor connector totals %+v", byConn)
		}
		var nova string
		if err := s.DB().QueryRow(`SELECT product_id FROM sales WHERE publisher_id = $1 AND connector_id = $2 AND external_line_id = 'B0NOVA0001' LIMIT 1`,
			vt.Publisher, vt.ConnectorID).Scan(&nova); err != nil {
			t.Fatal(err)
		}
		// The ASIN the seller sells too is the seller's product (the
		// catalog's, by ASIN), not a new one; the other ASIN is new.
		var sellerNova string
		if err := s.DB().QueryRow(`SELECT id FROM products WHERE publisher_id = $1 AND connector_id = $2 AND external_id = 'B0NOVA0001'`,
			vt.Publisher, h.target.ConnectorID).Scan(&sellerNova); err != nil {
			t.Fatal(err)
		}
		if nova != sellerNova {
			t.Errorf("the vendor's B0NOVA0001 is product %s, not the seller's %s", nova, sellerNova)
		}
		var vendorProducts int64
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM products WHERE publisher_id = $1 AND connector_id = $2`, vt.Publisher, vt.ConnectorID).Scan(&vendorProducts); err != nil || vendorProducts != 1 {
			t.Errorf("the vendor created %d products (%v), want 1 (B0VENDOR01)", vendorProducts, err)
		}
		var sellerNovaOrders int64
		if err := s.DB().QueryRow(`SELECT COUNT(DISTINCT external_order_id) FROM sales WHERE publisher_id = $1 AND product_id = $2 AND connector_id = $3`,
			vt.Publisher, nova, h.target.ConnectorID).Scan(&sellerNovaOrders); err != nil {
			t.Fatal(err)
		}
		byProduct, err := s.Totals(ctx, h.target.Publisher, from, to, store.Filter{Products: []string{nova}})
		if err != nil {
			t.Fatal(err)
		}
		if byProduct.Orders != sellerNovaOrders {
			t.Errorf("orders of B0NOVA0001 = %d, want the seller's %d", byProduct.Orders, sellerNovaOrders)
		}
		if err := s.CheckRollups(ctx, h.target.Publisher); err != nil {
			t.Error(err)
		}
	})
}
