package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestFootprint: the sales table and the rollups grow with the lines
// loaded, and both are parts of the database's size.
func TestFootprint(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		before, err := s.Footprint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		f := newFixture(t, s, "footprint")
		sales := func(yield func(*phantomos.Sale) bool) {
			for i := range 3000 {
				day := phantomos.Day(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%300).Format(time.DateOnly))
				x := &phantomos.Sale{ProductID: f.products[i%len(f.products)].ID, ConnectorID: f.conn.ID, ExternalOrderID: fmt.Sprint("o", i), ExternalLineID: "1",
					OrderDate: day.Time().Add(time.Hour), Day: day, Quantity: 1, Gross: 100, Net: 100, Currency: "EUR",
					NetReporting: 100, GrossReporting: 100, Country: []string{"DE", "FR", "US"}[i%3], Channel: "web"}
				if !yield(x) {
					return
				}
			}
		}
		if _, err := s.BulkLoadSales(ctx, f.pub.ID, sales); err != nil {
			t.Fatal(err)
		}
		after, err := s.Footprint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// 3,000 lines take well over 100 bytes each, keys and indexes
		// included; the rollups hold a row per day, product and place.
		if after.Sales-before.Sales < 300_000 || after.Rollups <= before.Rollups {
			t.Errorf("footprint before %+v, after 3,000 lines %+v: sales and rollups should grow", before, after)
		}
		if after.Sales+after.Rollups > after.Database {
			t.Errorf("footprint %+v: sales and rollups exceed the database", after)
		}
	})
}
