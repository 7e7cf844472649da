package connector_test

import (
	"context"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestStoreSinkOrderVersions: the sink passes each order's updated_at on,
// so a late, older payload of an order (a retried webhook) changes nothing,
// and a newer one replaces the order whole (a line edited away is gone).
func TestStoreSinkOrderVersions(t *testing.T) {
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
		version := func(updated time.Time, lines ...connector.OrderLine) connector.Batch {
			return connector.Batch{Orders: []connector.Order{{ExternalID: "450789469", Name: "#1001", CreatedAt: at, UpdatedAt: updated,
				Currency: "USD", Country: "US", Lines: lines}}}
		}
		mug := connector.OrderLine{ExternalID: "11", SKU: "MUG", Name: "Mug", Quantity: 1, UnitPrice: 3000, Gross: 3000, Net: 3000}
		tee := connector.OrderLine{ExternalID: "12", SKU: "TEE", Name: "Tee", Quantity: 1, UnitPrice: 2000, Gross: 2000, Net: 2000}
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
			{"created", version(at, mug, tee), 5000},
			{"edited: the tee removed", version(at.Add(time.Hour), mug), 3000},
			{"the older payload, late", version(at, mug, tee), 3000},
		}
		for _, st := range steps {
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
