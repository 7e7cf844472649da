// Package connectortest provides an in-memory connector.Sink that behaves
// like the store's idempotent write path: keyed upserts of products and
// sale lines, the cursor committed atomically with each page, and fault
// injection to simulate a crash before a commit.
package connectortest

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/store"
)

// Sale is a stored sale line.
type Sale struct {
	OrderID   string
	OrderName string
	LineID    string
	ProductID string
	SKU       string
	Name      string
	Date      time.Time
	Currency  string
	Quantity  int64
	Gross     int64
	Discount  int64
	Refunded  int64
	Net       int64
	Country   string
	Test      bool
	Cancelled bool
}

type productKey struct {
	t  connector.Target
	id string
}

type saleKey struct {
	t           connector.Target
	order, line string
}

// MemorySink is an in-memory connector.Sink. It is safe for concurrent use.
type MemorySink struct {
	mu       sync.Mutex
	cursors  map[connector.Target]connector.Cursor
	products map[productKey]connector.Product
	sales    map[saleKey]Sale
	commits  int
	failAt   map[int]error
}

// NewMemorySink returns an empty sink.
func NewMemorySink() *MemorySink {
	return &MemorySink{
		cursors:  map[connector.Target]connector.Cursor{},
		products: map[productKey]connector.Product{},
		sales:    map[saleKey]Sale{},
		failAt:   map[int]error{},
	}
}

// Cursor implements connector.Sink.
func (s *MemorySink) Cursor(ctx context.Context, t connector.Target) (connector.Cursor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cursors[t]), nil
}

// FailCommit makes the n-th commit from now (1 is the next) fail with err
// without writing anything, as a crash or a database error before COMMIT
// would.
func (s *MemorySink) FailCommit(n int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failAt[s.commits+n] = err
}

// Commit implements connector.Sink: it validates the whole batch, then
// upserts every record and stores the cursor, or writes nothing.
func (s *MemorySink) Commit(ctx context.Context, t connector.Target, b connector.Batch, cur connector.Cursor) (store.SyncCounts, error) {
	var c store.SyncCounts
	if err := ctx.Err(); err != nil {
		return c, err
	}
	for _, p := range b.Products {
		if p.ExternalID == "" || p.Name == "" {
			return c, phantomos.Errorf(phantomos.EINVALID, "A product has no id or name.")
		}
	}
	for _, o := range b.Orders {
		if o.Removed {
			if o.ExternalID == "" {
				return c, phantomos.Errorf(phantomos.EINVALID, "A removed order has no id.")
			}
			continue
		}
		if o.ExternalID == "" || o.Currency == "" || o.Date().IsZero() {
			return c, phantomos.Errorf(phantomos.EINVALID, "Order %q has no id, currency or date.", o.Name)
		}
		for _, l := range o.Lines {
			if l.ExternalID == "" {
				return c, phantomos.Errorf(phantomos.EINVALID, "Order %s has a line without id.", o.Name)
			}
			if l.Net != l.Gross-l.Discount-l.Refunded {
				return c, fmt.Errorf("connectortest: order %s line %s: net %d != gross %d - discount %d - refunded %d",
					o.Name, l.ExternalID, l.Net, l.Gross, l.Discount, l.Refunded)
			}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commits++
	if err, ok := s.failAt[s.commits]; ok {
		delete(s.failAt, s.commits)
		return c, err
	}
	for _, p := range b.Products {
		k := productKey{t, p.ExternalID}
		old, ok := s.products[k]
		switch {
		case !ok:
			c.Inserted++
		case reflect.DeepEqual(old, p):
			c.Skipped++
		default:
			c.Updated++
		}
		s.products[k] = p
	}
	deleted := slices.Clone(b.DeletedOrders)
	for _, o := range b.Orders {
		if o.Removed {
			deleted = append(deleted, o.ExternalID)
			continue
		}
		for _, l := range o.Lines {
			sale := Sale{OrderID: o.ExternalID, OrderName: o.Name, LineID: l.ExternalID, ProductID: l.ProductExternalID, SKU: l.SKU,
				Name: l.Name, Date: o.Date().UTC(), Currency: o.Currency, Quantity: l.Quantity, Gross: l.Gross, Discount: l.Discount,
				Refunded: l.Refunded, Net: l.Net, Country: o.Country, Test: o.Test, Cancelled: o.CancelledAt != nil}
			k := saleKey{t, o.ExternalID, l.ExternalID}
			old, ok := s.sales[k]
			switch {
			case !ok:
				c.Inserted++
			case old == sale:
				c.Skipped++
			default:
				c.Updated++
			}
			s.sales[k] = sale
		}
	}
	for _, id := range deleted {
		for k := range s.sales {
			if k.t == t && k.order == id {
				delete(s.sales, k)
				c.Updated++
			}
		}
	}
	if cur != nil {
		s.cursors[t] = slices.Clone(cur)
	}
	return c, nil
}

// OrderIDs implements connector.StoredOrders.
func (s *MemorySink) OrderIDs(ctx context.Context, t connector.Target, from, to time.Time) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for k, sale := range s.sales {
		if k.t == t && !seen[k.order] && !sale.Date.Before(from) && sale.Date.Before(to) {
			seen[k.order] = true
			out = append(out, k.order)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Commits counts the commits attempted so far.
func (s *MemorySink) Commits() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.commits
}

// Sales returns the sale lines of t ordered by order and line id.
func (s *MemorySink) Sales(t connector.Target) []Sale {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Sale
	for k, v := range s.sales {
		if k.t == t {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b Sale) int { return cmp.Or(cmp.Compare(a.OrderID, b.OrderID), cmp.Compare(a.LineID, b.LineID)) })
	return out
}

// Products returns the products of t ordered by external id.
func (s *MemorySink) Products(t connector.Target) []connector.Product {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []connector.Product
	for k, v := range s.products {
		if k.t == t {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b connector.Product) int { return cmp.Compare(a.ExternalID, b.ExternalID) })
	return out
}

// Totals sums the sale lines of one target.
type Totals struct {
	Orders   int
	Lines    int
	Units    int64
	Gross    int64
	Discount int64
	Refunded int64
	Net      int64
}

// Totals returns the totals of t's sale lines.
func (s *MemorySink) Totals(t connector.Target) Totals {
	var tot Totals
	orders := map[string]bool{}
	for _, l := range s.Sales(t) {
		orders[l.OrderID] = true
		tot.Lines++
		tot.Units += l.Quantity
		tot.Gross += l.Gross
		tot.Discount += l.Discount
		tot.Refunded += l.Refunded
		tot.Net += l.Net
	}
	tot.Orders = len(orders)
	return tot
}
