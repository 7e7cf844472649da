package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// A bulk load into a publisher without sales sums its daily rollups as the
// lines go by (bulk_fold.go). Whichever way it takes — in memory, by SQL
// when told never to sum, past the bound on orders, or because an order's
// lines came apart — every rollup equals its recomputation from the lines,
// under both refund bookings; and the loads that can be summed are.
func TestBulkLoadIntoNewPublisherKeepsRollupsExact(t *testing.T) {
	cases := []struct {
		name   string
		bound  int  // SetBulkFoldOrders
		apart  bool // some orders' lines come apart
		folded bool // the load is summed in memory
	}{
		{"in memory", 0, false, true},
		{"from sales", -1, false, false},
		{"past the bound", 40, false, false},
		{"orders apart", 0, true, false},
	}
	for _, booking := range []string{"", phantomos.RefundOnRefundDate} {
		for _, c := range cases {
			t.Run(fmt.Sprintf("booking=%s/%s", booking, c.name), func(t *testing.T) {
				storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
					ctx := context.Background()
					s.SetBulkFoldOrders(c.bound)
					rng := rand.New(rand.NewPCG(11, 3))
					rp := newRandomPublisher(t, s, "fresh", rng, 0)
					setRefundBooking(t, s, rp.pub.ID, booking)
					lines := rp.randomSales(rng, 400)
					// And one order of 120 lines of 60 products, each twice:
					// more groups than the fold keeps in a slice.
					var many []*phantomos.Product
					for i := range 60 {
						many = append(many, &phantomos.Product{ConnectorID: rp.connectors[0], ExternalID: fmt.Sprint("many-", i),
							Name: fmt.Sprint("Many ", i), Category: phantomos.Categories[0], Currency: "USD", Price: 900})
					}
					if err := s.CreateProducts(ctx, rp.pub.ID, many, nil); err != nil {
						t.Fatal(err)
					}
					for i := range 120 {
						day := phantomos.Day("2025-02-10")
						lines = append(lines, &phantomos.Sale{ProductID: many[i%60].ID, ConnectorID: rp.connectors[0], ExternalOrderID: "big",
							ExternalLineID: fmt.Sprint(i), OrderDate: day.Time().Add(time.Hour), Day: day, Quantity: 1, Gross: 900, Net: 900,
							Currency: "USD", NetReporting: 900, GrossReporting: 900, Country: "DE", Channel: "web"})
					}
					if c.apart {
						// The first line of every fifth order goes to the
						// end: those orders come in two runs of lines.
						var moved, kept []*phantomos.Sale
						orders := 0
						for i, x := range lines {
							first := i == 0 || lines[i-1].ExternalOrderID != x.ExternalOrderID
							last := i == len(lines)-1 || lines[i+1].ExternalOrderID != x.ExternalOrderID
							if first {
								orders++
							}
							if first && !last && orders%5 == 0 {
								moved = append(moved, x)
							} else {
								kept = append(kept, x)
							}
						}
						if len(moved) == 0 {
							t.Fatal("no order comes apart")
						}
						lines = append(kept, moved...)
					}
					before := s.BulkFolds()
					if n, err := s.BulkLoadSales(ctx, rp.pub.ID, slices.Values(lines)); err != nil || n != int64(len(lines)) {
						t.Fatalf("BulkLoadSales = %d, %v", n, err)
					}
					if folded := s.BulkFolds() > before; folded != c.folded {
						t.Errorf("summed in memory: %v, want %v", folded, c.folded)
					}
					if err := s.CheckRollups(ctx, rp.pub.ID); err != nil {
						t.Fatal(err)
					}
				})
			})
		}
	}
}
