package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestWritesBumpDataVersion walks every write that changes what analytics
// read and checks that it bumps the publisher's data version (cached
// answers are keyed by it), that writes changing nothing leave it alone,
// and that another publisher's version never moves.
func TestWritesBumpDataVersion(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pub := ingestPublisher(t, s, "alpha", "USD")
		other := ingestPublisher(t, s, "beta", "USD")
		otherBefore, err := s.DataVersion(ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		var (
			ip    = &phantomos.GameIP{Name: "Star Quest", Slug: "star-quest"}
			asset = &phantomos.Asset{Name: "Nova", AssetType: phantomos.AssetCharacter}
			conn  = &phantomos.Connector{Type: phantomos.ConnectorCSV, Name: "Shop"}
			prod  = &phantomos.Product{ExternalID: "p1", Name: "Nova Hoodie", Category: "apparel", Currency: "USD", Price: 5000}
		)
		at := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
		sale := store.SaleRow{Line: 2, OrderID: "o1", LineID: "1", SKU: "S1", Name: "Nova Mug", OrderDate: at, Quantity: 1,
			Gross: 1500, Currency: "EUR", Country: "DE", Channel: "web"}
		rates := []store.FXRow{{Line: 2, Day: "2026-03-04", Currency: "EUR", Rate: 1.1}}
		imp := func(spec store.ImportSpec, write func(w *store.ImportWriter) error) error {
			if spec.Source == "" {
				spec.Source = "Feed"
			}
			_, err := s.Import(ctx, pub, spec, write)
			return err
		}
		sales := func(rows ...store.SaleRow) func(w *store.ImportWriter) error {
			return func(w *store.ImportWriter) error { w.AddSeen(int64(len(rows))); return w.WriteSales(ctx, rows) }
		}
		steps := []struct {
			name  string
			write func() error
			bump  bool
		}{
			{"create game IP", func() error { return s.CreateGameIP(ctx, pub, ip) }, true},
			{"create asset", func() error { asset.GameIPID = ip.ID; return s.CreateAsset(ctx, pub, asset) }, true},
			{"create connector (no sales yet)", func() error { return s.CreateConnector(ctx, pub, conn) }, false},
			{"create products", func() error {
				prod.ConnectorID = conn.ID
				return s.CreateProducts(ctx, pub, []*phantomos.Product{prod}, nil)
			}, true},
			{"link products to assets", func() error {
				return s.CreateProducts(ctx, pub, nil, []phantomos.ProductAsset{{ProductID: prod.ID, AssetID: asset.ID, IsPrimary: true, Weight: 1, Source: "human", Confidence: 1}})
			}, true},
			{"bulk load sales", func() error {
				_, err := s.BulkLoadSales(ctx, pub, slices.Values([]*phantomos.Sale{{ProductID: prod.ID, ConnectorID: conn.ID, ExternalOrderID: "b1",
					ExternalLineID: "1", OrderDate: at, Day: "2026-03-04", Quantity: 1, Gross: 5000, Net: 5000, Currency: "USD",
					NetReporting: 5000, GrossReporting: 5000, Country: "US", Channel: "web"}}))
				return err
			}, true},
			{"import FX rates", func() error {
				return imp(store.ImportSpec{Kind: store.ImportFX}, func(w *store.ImportWriter) error { return w.WriteFXRates(ctx, rates) })
			}, true},
			{"import the same FX rates", func() error {
				return imp(store.ImportSpec{Kind: store.ImportFX}, func(w *store.ImportWriter) error { return w.WriteFXRates(ctx, rates) })
			}, false},
			{"import sales", func() error { return imp(store.ImportSpec{Kind: store.ImportSales}, sales(sale)) }, true},
			{"import the same sales", func() error { return imp(store.ImportSpec{Kind: store.ImportSales}, sales(sale)) }, false},
			{"import a corrected sale", func() error {
				fixed := sale
				fixed.Gross = 1400
				return imp(store.ImportSpec{Kind: store.ImportSales}, sales(fixed))
			}, true},
			{"dry run of new sales", func() error {
				next := sale
				next.OrderID = "o2"
				return imp(store.ImportSpec{Kind: store.ImportSales, DryRun: true}, sales(next))
			}, false},
			{"refused import (a row without a rate)", func() error {
				next, bad := sale, sale
				next.OrderID, bad.OrderID, bad.Currency = "o3", "o4", "JPY"
				err := imp(store.ImportSpec{Kind: store.ImportSales}, sales(next, bad))
				if phantomos.ErrorCode(err) != phantomos.EINVALID {
					t.Errorf("refused import: %v", err)
				}
				return nil
			}, false},
			{"import products", func() error {
				return imp(store.ImportSpec{Kind: store.ImportProducts}, func(w *store.ImportWriter) error {
					return w.WriteProducts(ctx, []store.ProductRow{{Line: 2, ExternalID: "p9", Name: "Nova Cap", Category: "apparel"}})
				})
			}, true},
			{"import a product's new category", func() error {
				return imp(store.ImportSpec{Kind: store.ImportProducts}, func(w *store.ImportWriter) error {
					return w.WriteProducts(ctx, []store.ProductRow{{Line: 2, ExternalID: "p9", Name: "Nova Cap", Category: "accessories"}})
				})
			}, true},
			{"import assets", func() error {
				return imp(store.ImportSpec{Kind: store.ImportAssets}, func(w *store.ImportWriter) error {
					return w.WriteAssets(ctx, []store.AssetRow{{Line: 2, GameIP: "Star Quest", Name: "Drake", AssetType: "character"}})
				})
			}, true},
			{"sync page under a connector", func() error {
				next := sale
				next.OrderID = "s1"
				return imp(store.ImportSpec{Kind: store.ImportSales, ConnectorID: conn.ID}, func(w *store.ImportWriter) error {
					if err := sales(next)(w); err != nil {
						return err
					}
					return w.SaveConnectorCursor(ctx, conn.ID, []byte(`{"page":2}`))
				})
			}, true},
			{"sync page with nothing new, only a cursor", func() error {
				return imp(store.ImportSpec{Kind: store.ImportSales, ConnectorID: conn.ID}, func(w *store.ImportWriter) error {
					return w.SaveConnectorCursor(ctx, conn.ID, []byte(`{"page":3}`))
				})
			}, false},
			{"change the attribution model", func() error {
				p, err := s.Publisher(ctx, pub)
				if err != nil {
					return err
				}
				p.Settings.AttributionModel = phantomos.AttributionEqual
				return s.UpdatePublisher(ctx, p)
			}, true},
			{"change the time zone", func() error {
				p, err := s.Publisher(ctx, pub)
				if err != nil {
					return err
				}
				p.Timezone = "Asia/Tokyo"
				return s.UpdatePublisher(ctx, p)
			}, true},
			{"disconnect a connector (its data stays)", func() error { return s.DisconnectConnector(ctx, pub, conn.ID) }, false},
		}
		for _, st := range steps {
			before, err := s.DataVersion(ctx, pub)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.write(); err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			after, err := s.DataVersion(ctx, pub)
			if err != nil {
				t.Fatal(err)
			}
			if bumped := after > before; bumped != st.bump {
				t.Errorf("%s: data version %d → %d, want bumped=%v", st.name, before, after, st.bump)
			}
		}
		if v, err := s.DataVersion(ctx, other); err != nil || v != otherBefore {
			t.Errorf("another publisher's data version moved: %d → %d (%v)", otherBefore, v, err)
		}
		p, v, err := s.PublisherVersion(ctx, pub)
		if want, _ := s.DataVersion(ctx, pub); err != nil || p.ID != pub || v != want {
			t.Errorf("PublisherVersion = %v, %d, %v; want %s, %d", p, v, err, pub, want)
		}
		if _, _, err := s.PublisherVersion(ctx, phantomos.PublisherID(phantomos.NewID())); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("unknown publisher: %v", err)
		}
	})
}
