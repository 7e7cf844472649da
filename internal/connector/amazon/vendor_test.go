package amazon_test

import (
	"context"
	"testing"
	"time"

	"github.com/phantomos/phantomos/internal/connector/amazon"
	"github.com/phantomos/phantomos/internal/connector/amazon/amazontest"
)

// TestVendorSales reads a vendor's sell-through by day and ASIN over two
// report windows, in both distributor views.
func TestVendorSales(t *testing.T) {
	srv := amazontest.New(t, amazontest.Options{})
	day0 := time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
	var want struct{ orderedUnits, orderedRevenue, shippedUnits, shippedRevenue, returns int64 }
	for i := range 40 {
		for j, asin := range []string{"B0NOVA0001", "B0DRAKE001"} {
			d := amazontest.VendorDay{Day: day0.AddDate(0, 0, i), ASIN: asin, OrderedUnits: int64(3 + i%4 + j), OrderedRevenue: int64(3+i%4+j) * 2999,
				ShippedUnits: int64(2 + i%3), ShippedRevenue: int64(2+i%3) * 2999, CustomerReturns: int64(i % 5 / 4)}
			srv.AddVendorDay(d)
			want.orderedUnits += d.OrderedUnits
			want.orderedRevenue += d.OrderedRevenue
			want.shippedUnits += d.ShippedUnits
			want.shippedRevenue += d.ShippedRevenue
			want.returns += d.CustomerReturns
		}
	}
	cred := amazon.Credentials{Region: "NA", ClientID: srv.ClientID(), ClientSecret: srv.ClientSecret(), RefreshToken: srv.IssueRefreshToken()}
	c, err := amazon.New(amazon.Config{Credentials: cred, BaseURL: srv.URL, TokenURL: srv.TokenURL(), Logger: quiet, Now: srv.Now, ReportPoll: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sales, err := c.VendorSales(ctx, day0, day0.AddDate(0, 0, 39), amazon.VendorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ orderedUnits, orderedRevenue, shippedUnits, shippedRevenue, returns int64 }
	for _, s := range sales {
		if s.Currency != "USD" || s.Day.Before(day0) || s.Day.After(day0.AddDate(0, 0, 39)) {
			t.Fatalf("line %+v", s)
		}
		got.orderedUnits += s.OrderedUnits
		got.orderedRevenue += s.OrderedRevenue
		got.shippedUnits += s.ShippedUnits
		got.shippedRevenue += s.ShippedRevenue
		got.returns += s.CustomerReturns
	}
	if len(sales) != 80 || got != want {
		t.Errorf("%d lines, totals %+v; want 80 lines, %+v", len(sales), got, want)
	}
	if n := srv.Requests("createReport"); n != 2 {
		t.Errorf("%d reports for 40 days, want 2 (30-day windows)", n)
	}
	sourcing, err := c.VendorSales(ctx, day0, day0, amazon.VendorOptions{DistributorView: amazon.ViewSourcing})
	if err != nil {
		t.Fatal(err)
	}
	if len(sourcing) != 2 || sourcing[0].OrderedRevenue != 0 || sourcing[0].ShippedRevenue == 0 {
		t.Errorf("sourcing view %+v: ordered revenue is a manufacturing figure", sourcing)
	}
	if _, err := c.VendorSales(ctx, day0, day0, amazon.VendorOptions{SellingProgram: "WHOLESALE"}); err == nil {
		t.Error("an unknown selling program was accepted")
	}
}
