package connector

import (
	"context"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// StoreSink writes synced pages through the store's idempotent import path
// (the same as file imports: keyed upserts, FX conversion, rollups in the
// same transaction) and saves the cursor in that transaction.
type StoreSink struct {
	Store *store.Store
	// Category guesses a product's category from its type, tags and name;
	// nil leaves it "other".
	Category func(productType string, tags []string, name string) string
}

// Cursor returns the connector's committed cursor.
func (k *StoreSink) Cursor(ctx context.Context, t Target) (Cursor, error) {
	b, err := k.Store.ConnectorCursor(ctx, t.Publisher, t.ConnectorID)
	if err != nil {
		return nil, err
	}
	return Cursor(b), nil
}

// Commit writes one page of products or orders and the new cursor
// atomically.
func (k *StoreSink) Commit(ctx context.Context, t Target, b Batch, cursor Cursor) (store.SyncCounts, error) {
	kind := store.ImportSales
	if len(b.Products) > 0 {
		kind = store.ImportProducts
	}
	spec := store.ImportSpec{Kind: kind, Format: "sync", ConnectorID: t.ConnectorID, Source: "sync", FXFallbackDays: 7}
	rep, err := k.Store.Import(ctx, t.Publisher, spec, func(w *store.ImportWriter) error {
		if len(b.Products) > 0 {
			rows := make([]store.ProductRow, 0, len(b.Products))
			for i, p := range b.Products {
				row := store.ProductRow{Line: int64(i + 1), ExternalID: p.ExternalID, SKU: p.SKU, Name: p.Name, Description: p.Description,
					ImageURL: p.ImageURL, Tags: p.Tags, Category: phantomos.CategoryOther}
				if k.Category != nil {
					row.Category = k.Category(p.ProductType, p.Tags, p.Name)
				}
				if len(p.Variants) > 0 {
					row.Price, row.PriceSet, row.Currency = p.Variants[0].Price, true, strings.ToUpper(p.Currency)
				}
				rows = append(rows, row)
			}
			w.AddSeen(int64(len(rows)))
			if err := w.WriteProducts(ctx, rows); err != nil {
				return err
			}
		}
		var sales []store.SaleRow
		var removed []store.RemovedOrder
		for _, o := range b.Orders {
			if o.Removed {
				removed = append(removed, store.RemovedOrder{ID: o.ExternalID, UpdatedAt: o.UpdatedAt})
				continue
			}
			if o.Test {
				continue // test orders are not revenue
			}
			for _, l := range o.Lines {
				sales = append(sales, store.SaleRow{
					Line: int64(len(sales) + 1), OrderID: o.ExternalID, OrderName: o.Name, UpdatedAt: o.UpdatedAt,
					LineID: l.ExternalID, ProductID: l.ProductExternalID, SharedProductID: l.ProductShared,
					SKU: l.SKU, Name: l.Name, UnitPrice: l.UnitPrice, OrderDate: o.Date(), RefundedAt: l.RefundedAt, Quantity: l.Quantity,
					Gross: l.Gross, Discount: l.Discount, Refunded: l.Refunded, Tax: l.Tax, Shipping: l.Shipping,
					ChargesRefunded: l.ChargesRefunded, Currency: o.Currency,
					Country: o.Country, Region: o.Region, Channel: o.Channel, NoOrder: o.Orderless,
				})
			}
		}
		if len(sales) > 0 {
			w.AddSeen(int64(len(sales)))
			if err := w.WriteSales(ctx, sales); err != nil {
				return err
			}
		}
		if len(removed) > 0 {
			w.AddSeen(int64(len(removed)))
			if _, err := w.RemoveOrders(ctx, removed); err != nil {
				return err
			}
		}
		if len(b.DeletedOrders) > 0 {
			w.AddSeen(int64(len(b.DeletedOrders)))
			if _, err := w.DeleteOrders(ctx, b.DeletedOrders); err != nil {
				return err
			}
		}
		if cursor != nil {
			return w.SaveConnectorCursor(ctx, t.ConnectorID, cursor)
		}
		return nil
	})
	if err != nil {
		return store.SyncCounts{}, err
	}
	return store.SyncCounts{Inserted: rep.Inserted, Updated: rep.Updated, Skipped: rep.Skipped, Failed: rep.Failed}, nil
}

// OrderIDs lists the orders of t's sales placed in [from, to).
func (k *StoreSink) OrderIDs(ctx context.Context, t Target, from, to time.Time) ([]string, error) {
	return k.Store.ConnectorOrderIDs(ctx, t.Publisher, t.ConnectorID, from, to)
}
