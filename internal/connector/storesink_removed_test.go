package connector_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestStoreSinkRemovedOrders: an order marked Removed loses its lines, as
// of its update time: a late removal older than the stored version changes
// nothing, a removal without a time always applies, and a removed order
// written again comes back.
func TestStoreSinkRemovedOrders(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pub := &phantomos.Publisher{Name: "Pub", Slug: "pub", Timezone: "UTC", ReportingCurrency: "USD"}
		if err := s.CreatePublisher(ctx, pub); err != nil {
			t.Fatal(err)
		}
		c := &phantomos.Connector{Type: phantomos.ConnectorShopify, Name: "Shop"}
		if err := s.CreateConnector(ctx, pub.ID, c); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		mug := connector.OrderLine{ExternalID: "11", SKU: "MUG", Name: "Mug", Quantity: 1, UnitPrice: 3000, Gross: 3000, Net: 3000}
		tee := connector.OrderLine{ExternalID: "12", SKU: "TEE", Name: "Tee", Quantity: 1, UnitPrice: 2000, Gross: 2000, Net: 2000}
		live := func(id string, updated time.Time) connector.Order {
			return connector.Order{ExternalID: id, Name: "#" + id, CreatedAt: at, UpdatedAt: updated, Currency: "USD", Lines: []connector.OrderLine{mug, tee}}
		}
		removed := func(id string, updated time.Time) connector.Order {
			return connector.Order{ExternalID: id, UpdatedAt: updated, Removed: true}
		}
		sink := &connector.StoreSink{Store: s}
		target := connector.Target{Publisher: pub.ID, ConnectorID: c.ID}
		net := func() int64 {
			var n int64
			if err := s.DB().QueryRow(`SELECT COALESCE(SUM(net), 0) FROM sales WHERE publisher_id = $1`, pub.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		steps := []struct {
			name string
			b    connector.Batch
			net  int64
		}{
			{"two orders", connector.Batch{Orders: []connector.Order{live("1", at.Add(time.Hour)), live("2", at.Add(time.Hour))}}, 10000},
			{"a removal older than the stored version", connector.Batch{Orders: []connector.Order{removed("1", at)}}, 10000},
			{"a newer removal", connector.Batch{Orders: []connector.Order{removed("1", at.Add(2*time.Hour))}}, 5000},
			{"the same removal again", connector.Batch{Orders: []connector.Order{removed("1", at.Add(2*time.Hour))}}, 5000},
			{"a removal without a time", connector.OrderBatch(nil, "2"), 0},
			{"an order never stored", connector.OrderBatch(nil, "3"), 0},
			{"restored later", connector.Batch{Orders: []connector.Order{live("1", at.Add(3*time.Hour))}}, 5000},
			{"removed with other orders in the page", connector.Batch{Orders: []connector.Order{live("2", at.Add(3*time.Hour)), removed("1", at.Add(4*time.Hour))}}, 5000},
		}
		for _, st := range steps {
			if st.b.Len() == 0 {
				t.Fatalf("%s: empty batch", st.name)
			}
			if _, err := sink.Commit(ctx, target, st.b, nil); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if got := net(); got != st.net {
				t.Errorf("%s: net %d, want %d", st.name, got, st.net)
			}
		}
		if err := s.CheckRollups(ctx, pub.ID); err != nil {
			t.Error(err)
		}
	})
}

// TestEngineRemovesOrdersOfAPage: an order that a later pass reports as
// removed (cancelled on the platform) leaves the totals in the page write,
// on both engines through the store's write path.
func TestEngineRemovesOrdersOfAPage(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pub := &phantomos.Publisher{Name: "Pub", Slug: "pub", Timezone: "UTC", ReportingCurrency: "EUR"}
		if err := s.CreatePublisher(ctx, pub); err != nil {
			t.Fatal(err)
		}
		c := &phantomos.Connector{Type: phantomos.ConnectorShopify, Name: "Shop"}
		if err := s.CreateConnector(ctx, pub.ID, c); err != nil {
			t.Fatal(err)
		}
		eng := connector.NewEngine(&connector.StoreSink{Store: s}, s, connector.Config{Rate: -1, ReconcileWindow: -1,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		target := connector.Target{Publisher: pub.ID, ConnectorID: c.ID}
		src := &listSource{pageSize: 3}
		src.addOrders(0, 7, t0)
		res, err := eng.Sync(ctx, target, src, connector.SyncOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sum := func() (int64, int64) {
			var n, lines int64
			if err := s.DB().QueryRow(`SELECT COALESCE(SUM(net), 0), COUNT(*) FROM sales WHERE publisher_id = $1`, pub.ID).Scan(&n, &lines); err != nil {
				t.Fatal(err)
			}
			return n, lines
		}
		if net, lines := sum(); net != 7000 || lines != 7 {
			t.Fatalf("after the first sync: net %d over %d lines, want 7000 over 7 (%+v)", net, lines, res.Counts)
		}
		src.mu.Lock()
		src.orders[2].Removed, src.orders[2].UpdatedAt = true, t0.Add(time.Hour)
		src.orders[5].Removed, src.orders[5].UpdatedAt = true, t0.Add(time.Hour)
		src.mu.Unlock()
		if _, err := eng.Sync(ctx, target, src, connector.SyncOptions{}); err != nil {
			t.Fatal(err)
		}
		if net, lines := sum(); net != 5000 || lines != 5 {
			t.Errorf("after two orders were cancelled: net %d over %d lines, want 5000 over 5", net, lines)
		}
		// Repeating the sync changes nothing.
		if _, err := eng.Sync(ctx, target, src, connector.SyncOptions{Full: true}); err != nil {
			t.Fatal(err)
		}
		if net, lines := sum(); net != 5000 || lines != 5 {
			t.Errorf("after a repeated full sync: net %d over %d lines, want 5000 over 5", net, lines)
		}
		if err := s.CheckRollups(ctx, pub.ID); err != nil {
			t.Error(err)
		}
	})
}
