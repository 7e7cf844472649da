package store_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// On PostgreSQL a load that adds to existing rollup rows updates them in
// place: each row's new version stays on its page (a heap-only update,
// which writes no index entry), because rollup pages keep room for it
// (migration 00051). With full pages every updated row moved to another
// page and took a new entry in each index.
func TestRollupUpdatesStayOnTheirPage(t *testing.T) {
	s := storetest.New(t, store.Postgres)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(5, 8))
	rp := newRandomPublisher(t, s, "pages", rng, 0)
	// Every product sold on each of 40 days: 1,000 rows of product_daily,
	// a dozen pages of them.
	first := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	sales := func(order string, every int) []*phantomos.Sale {
		var out []*phantomos.Sale
		for d := 0; d < 40; d += every {
			day := phantomos.DayOf(first.AddDate(0, 0, d), time.UTC)
			for i, p := range rp.products {
				out = append(out, &phantomos.Sale{ProductID: p.ID, ConnectorID: p.ConnectorID, ExternalOrderID: order + string(day), ExternalLineID: p.ID,
					OrderDate: day.Time().Add(time.Hour), Day: day, Quantity: 1, Gross: int64(100 + i), Net: int64(100 + i), Currency: "USD",
					NetReporting: int64(100 + i), GrossReporting: int64(100 + i), Country: "US", Channel: "web"})
			}
		}
		return out
	}
	pages := func() map[string]string {
		rows, err := s.DB().QueryContext(ctx, `SELECT CAST(day AS TEXT) || CAST(product_id AS TEXT), split_part(CAST(ctid AS TEXT), ',', 1)
			FROM product_daily WHERE publisher_id = $1`, rp.pub.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[string]string{}
		for rows.Next() {
			var key, page string
			if err := rows.Scan(&key, &page); err != nil {
				t.Fatal(err)
			}
			out[key] = page
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if _, err := s.BulkLoadSales(ctx, rp.pub.ID, slices.Values(sales("a", 1))); err != nil {
		t.Fatal(err)
	}
	before := pages()
	if len(before) != 40*len(rp.products) {
		t.Fatalf("%d rows of product_daily, want %d", len(before), 40*len(rp.products))
	}
	// A second order on every third day and every product adds to a third
	// of the rows, as an import adds to the recent days of a publisher.
	// (A page has room for the new versions of about a third of its rows:
	// when all of them change at once, the rest move.)
	if _, err := s.BulkLoadSales(ctx, rp.pub.ID, slices.Values(sales("b", 3))); err != nil {
		t.Fatal(err)
	}
	after := pages()
	moved, updated := 0, 0
	for key, page := range before {
		if after[key] != page {
			moved++
		}
		if days := phantomos.Day(key[:10]).Time().Sub(first) / (24 * time.Hour); days%3 == 0 {
			updated++
		}
	}
	if moved > updated/10 {
		t.Errorf("%d of %d updated rows of product_daily moved to another page", moved, updated)
	}
	if err := s.CheckRollups(ctx, rp.pub.ID); err != nil {
		t.Fatal(err)
	}
}
