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

// TestStoreSinkKeepsRefundDates: a synced line's refund date is stored, so
// a publisher booking refunds on the refund date sees a March order's April
// refund in April.
func TestStoreSinkKeepsRefundDates(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pub := &phantomos.Publisher{Name: "Pub", Slug: "pub", Timezone: "UTC", ReportingCurrency: "USD",
			Settings: phantomos.PublisherSettings{AttributionModel: phantomos.AttributionEqual, RefundBooking: phantomos.RefundOnRefundDate}}
		if err := s.CreatePublisher(ctx, pub); err != nil {
			t.Fatal(err)
		}
		c := &phantomos.Connector{Type: phantomos.ConnectorShopify, Name: "Shop"}
		if err := s.CreateConnector(ctx, pub.ID, c); err != nil {
			t.Fatal(err)
		}
		march := time.Date(2025, 3, 28, 15, 0, 0, 0, time.UTC)
		order := connector.Order{ExternalID: "1", Name: "#1001", CreatedAt: march, UpdatedAt: march.AddDate(0, 0, 7), Currency: "USD", Country: "US",
			Lines: []connector.OrderLine{
				{ExternalID: "11", SKU: "MUG", Name: "Mug", Quantity: 1, UnitPrice: 3000, Gross: 3000, Refunded: 1000, Net: 2000,
					RefundedQuantity: 1, RefundedAt: march.AddDate(0, 0, 7)},
				{ExternalID: "12", SKU: "TEE", Name: "Tee", Quantity: 1, UnitPrice: 2000, Gross: 2000, Net: 2000},
			}}
		sink := &connector.StoreSink{Store: s}
		if _, err := sink.Commit(ctx, connector.Target{Publisher: pub.ID, ConnectorID: c.ID}, connector.Batch{Orders: []connector.Order{order}}, nil); err != nil {
			t.Fatal(err)
		}
		for _, m := range []struct {
			from, to phantomos.Day
			net      int64
		}{{"2025-03-01", "2025-03-31", 5000}, {"2025-04-01", "2025-04-30", -1000}} {
			sum, err := s.Summary(ctx, pub.ID, m.from, m.to)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Net != m.net {
				t.Errorf("%s..%s: net %d, want %d", m.from, m.to, sum.Net, m.net)
			}
		}
		if err := s.CheckRollups(ctx, pub.ID); err != nil {
			t.Error(err)
		}
	})
}
