package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestRollupDeltasStayExact drives imports that create, correct, move,
// shrink, refund, re-send (stale and unchanged) and delete orders, in
// batches that split orders, across two connectors and both refund
// bookings, and checks after every import that each rollup equals the
// naive aggregation of the sales (CheckRollups compares every row both
// ways, so a group left as zeros fails too).
//
// It runs three times: with the new orders' deltas summed in memory as the
// lines are inserted (rollup_fold.go); with every delta taken from sales,
// as an import of more lines than it may sum in memory does; and with a
// bound of a few lines, which imports pass halfway.
func TestRollupDeltasStayExact(t *testing.T) {
	for name, foldLines := range map[string]int{"in memory": 0, "from sales": -1, "past the bound": 7} {
		t.Run(name, func(t *testing.T) { testRollupDeltasStayExact(t, foldLines) })
	}
}

func testRollupDeltasStayExact(t *testing.T, foldLines int) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		s.SetFoldLines(foldLines)
		ctx := context.Background()
		pub := ingestPublisher(t, s, "delta", "USD")
		r := rand.New(rand.NewPCG(20, 26))
		base := time.Date(2026, 2, 20, 10, 0, 0, 0, time.UTC)
		type order struct {
			id     string
			source string
			last   []store.SaleRow // the version stored
		}
		var orders []*order
		skus := []string{"MUG", "TEE", "CAP"}
		countries := []string{"US", "DE"}
		// lines draws a version of an order: its day, place and lines may
		// all differ from the last version's.
		lines := func(o *order, updated time.Time) []store.SaleRow {
			day := base.AddDate(0, 0, r.IntN(8)) // few days and places: groups shared by many orders
			country, channel := countries[r.IntN(len(countries))], []string{"web", "pos"}[r.IntN(2)]
			n := 1 + r.IntN(4)
			out := make([]store.SaleRow, 0, n)
			for i := range n {
				sku := skus[r.IntN(len(skus))]
				row := store.SaleRow{Line: int64(2 + i), OrderID: o.id, LineID: strconv.Itoa(i + 1 + r.IntN(2)*10), SKU: sku, Name: sku,
					OrderDate: day, Quantity: int64(1 + r.IntN(3)), Gross: int64(500 + r.IntN(5000)), Discount: int64(r.IntN(3) * 100),
					Currency: "USD", Country: country, Channel: channel, UpdatedAt: updated}
				if r.IntN(4) == 0 {
					row.Refunded = row.Gross / 2
					row.RefundedAt = day.AddDate(0, 0, r.IntN(10))
				}
				if r.IntN(12) == 0 {
					row.NoOrder = true
				}
				out = append(out, row)
			}
			// Line ids are unique within an order.
			seen := map[string]bool{}
			kept := out[:0]
			for _, l := range out {
				if !seen[l.LineID] {
					seen[l.LineID] = true
					kept = append(kept, l)
				}
			}
			return kept
		}
		for step := range 24 {
			if step == 8 || step == 16 {
				booking := phantomos.RefundOnRefundDate
				if step == 16 {
					booking = ""
				}
				setRefundBooking(t, s, pub, booking)
			}
			source := []string{"Store one", "Store two"}[r.IntN(2)]
			var rows []store.SaleRow
			var deletes []store.SaleRow
			for range 3 + r.IntN(12) {
				now := base.Add(time.Duration(step+1) * time.Hour)
				switch k := r.IntN(10); {
				case k < 4 || len(orders) == 0: // a new order
					o := &order{id: fmt.Sprintf("O%d", len(orders)+1), source: source}
					orders = append(orders, o)
					o.last = lines(o, now)
					rows = append(rows, o.last...)
					if r.IntN(6) == 0 { // deleted again by the import that creates it
						deletes = append(deletes, store.SaleRow{OrderID: o.id})
						o.last = nil
					}
				case k < 6: // a newer version of an order of this source
					o := orders[r.IntN(len(orders))]
					if o.source != source || containsOrder(rows, o.id) || containsOrder(deletes, o.id) {
						continue
					}
					o.last = lines(o, now)
					rows = append(rows, o.last...)
				case k < 8: // the stored version again: no change
					o := orders[r.IntN(len(orders))]
					if o.source != source || containsOrder(rows, o.id) || containsOrder(deletes, o.id) || o.last == nil {
						continue
					}
					rows = append(rows, o.last...)
				case k < 9: // an older version: ignored as stale
					o := orders[r.IntN(len(orders))]
					if o.source != source || containsOrder(rows, o.id) || containsOrder(deletes, o.id) || o.last == nil {
						continue
					}
					rows = append(rows, lines(o, base.Add(-time.Hour))...)
				default: // a deletion
					o := orders[r.IntN(len(orders))]
					if o.source == source && !containsOrder(rows, o.id) {
						deletes = append(deletes, store.SaleRow{OrderID: o.id})
						o.last = nil
					}
				}
			}
			spec := store.ImportSpec{Kind: store.ImportSales, Source: source}
			_, err := s.Import(ctx, pub, spec, func(w *store.ImportWriter) error {
				w.AddSeen(int64(len(rows)))
				// Batches of a few lines split orders across WriteSales calls.
				for len(rows) > 0 {
					n := min(len(rows), 1+r.IntN(5))
					if err := w.WriteSales(ctx, rows[:n]); err != nil {
						return err
					}
					rows = rows[n:]
				}
				if len(deletes) > 0 {
					var ids []string
					for _, d := range deletes {
						ids = append(ids, d.OrderID)
					}
					if _, err := w.DeleteOrders(ctx, ids); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
			if err := s.CheckRollups(ctx, pub); err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
		}
	})
}

func containsOrder(rows []store.SaleRow, id string) bool {
	for _, r := range rows {
		if r.OrderID == id {
			return true
		}
	}
	return false
}

// When the refund booking changes while an import runs (its deltas were
// taken under the old one), the import recomputes every day its orders
// were and are on instead: the rollups still equal the sales. Only
// PostgreSQL lets another transaction change the booking meanwhile; SQLite
// has one writer at a time.
func TestRollupDeltasBookingChangedDuringImport(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		if s.Dialect() != store.Postgres {
			t.Skip("SQLite runs one writer at a time: no booking change can happen during an import")
		}
		ctx := context.Background()
		pub := ingestPublisher(t, s, "booking", "USD")
		day := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		row := func(order string, d time.Time, gross int64, updated time.Time) store.SaleRow {
			return store.SaleRow{Line: 2, OrderID: order, LineID: "1", SKU: "MUG", Name: "Mug", OrderDate: d, Quantity: 1, Gross: gross,
				Refunded: gross / 2, RefundedAt: d.AddDate(0, 1, 5), Currency: "USD", Country: "US", UpdatedAt: updated}
		}
		// An order that the import will move five weeks later, and one it leaves alone.
		if _, err := importRows(t, s, pub, store.ImportSpec{Kind: store.ImportSales}, []store.SaleRow{row("A", day, 1000, day), row("B", day, 700, day)}, writeSales); err != nil {
			t.Fatal(err)
		}
		_, err := s.Import(ctx, pub, store.ImportSpec{Kind: store.ImportSales, Source: "Test feed"}, func(w *store.ImportWriter) error {
			// Another request, committed after the import read the booking
			// and before its first write (after which the booking change
			// would wait for the import: its rows lock the publisher's key).
			setRefundBooking(t, s, pub, phantomos.RefundOnRefundDate)
			return w.WriteSales(ctx, []store.SaleRow{row("A", day.AddDate(0, 0, 35), 3000, day.Add(time.Hour)), row("C", day.AddDate(0, 2, 0), 500, day)})
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.CheckRollups(ctx, pub); err != nil {
			t.Fatal(err)
		}
	})
}
