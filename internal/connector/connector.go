// Package connector pulls products and sales from commerce platforms.
//
// A platform package (shopify, …) implements Source: it tests a
// connection and lists products and orders changed since a point in time,
// one page at a time, in normalised records with money in minor units. The
// Engine runs any Source: it pages through each stream, hands every page
// together with the new cursor to a Sink, which writes both in one
// transaction (so a sync killed at any point resumes from the last page
// written, losing and duplicating nothing), re-reads a lookback window for
// late updates, retries transient failures with backoff, paces requests,
// classifies errors, and records each sync run.
//
// Writes are idempotent: products are keyed by connector and external id,
// sale lines by connector, order id and line id. Re-reading a record is
// always safe, which is what makes the lookback window and resumption
// simple.
package connector

import (
	"context"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// Source is one connected store on a platform.
type Source interface {
	// Test checks that the credentials work and returns what they reach.
	Test(ctx context.Context) (Account, error)
	// Products lists products updated at or after q.Since (all when zero),
	// oldest update first, one page per call.
	Products(ctx context.Context, q Query) (Page[Product], error)
	// Orders lists orders, with their lines and refunds, updated at or after
	// q.Since (all when zero), oldest update first, one page per call.
	Orders(ctx context.Context, q Query) (Page[Order], error)
}

// Noticer is implemented by sources that have something to tell the user
// that is not an error (the platform served another API version than the
// one requested, a permission limits history, …). The engine logs notices
// and returns them with the sync result.
type Noticer interface {
	Notices() []string
}

// Query asks a source for one page.
type Query struct {
	// Since is the lower bound of the pass: records updated at or after it.
	// It stays the same for every page of a pass.
	Since time.Time
	// Page is the token a previous page returned as Next; "" asks for the
	// first page.
	Page string
}

// Page is one page of records and the token of the next ("" on the last).
// Tokens are opaque to the engine and stored in the cursor, so they must
// stay valid across process restarts (platform cursors do).
type Page[T any] struct {
	Items []T
	Next  string
}

// Account describes the store a Source reaches.
// It is stored with the connector (as JSON) for the pages.
type Account struct {
	Name       string   `json:"name"`                  // shop name
	Domain     string   `json:"domain"`                // e.g. nova.myshopify.com
	Currency   string   `json:"currency"`              // the shop's currency (ISO 4217)
	APIVersion string   `json:"api_version,omitempty"` // API version that answered
	Scopes     []string `json:"scopes,omitempty"`
	Notices    []string `json:"notices,omitempty"` // things the user should know, e.g. history limited to 60 days
}

// Target names the connector a sync writes for.
type Target struct {
	Publisher   phantomos.PublisherID
	ConnectorID string
}

// Product is a product as the source has it. Money is in minor units of
// Currency.
type Product struct {
	ExternalID  string
	Name        string
	Description string // plain text
	Handle      string
	SKU         string // of the first variant that has one
	ProductType string // the platform's product type, for category guessing
	Vendor      string
	Category    string // a phantomos category when the source knows it, else ""
	Status      string // active, draft or archived
	Price       int64  // lowest variant price
	Currency    string
	ImageURL    string
	Tags        []string
	Variants    []Variant
	UpdatedAt   time.Time // UTC
}

// Variant is one sellable variant of a product.
type Variant struct {
	ExternalID string
	SKU        string
	Title      string
	Price      int64
}

// Order is an order with its lines. Amounts are in the shop's currency
// (Currency), which is what reports convert from; the customer's currency
// is kept per line as Presentment.
type Order struct {
	ExternalID          string
	Name                string    // e.g. #1001
	CreatedAt           time.Time // UTC
	ProcessedAt         time.Time // UTC; when the sale happened (differs for imported orders)
	UpdatedAt           time.Time // UTC
	CancelledAt         *time.Time
	Test                bool
	Currency            string // shop currency
	PresentmentCurrency string
	Country             string // ISO 3166-1 alpha-2 of the shipping (else billing) address, "" if unknown
	Region              string
	Channel             string
	Lines               []OrderLine
	// Orderless marks a total of sales without orders (a platform's sales
	// by day and product, such as Amazon Vendor Central's): its lines
	// count in revenue and units, never as an order, and average order
	// value leaves them out. ExternalID is then a stable key of the total.
	Orderless bool
	// Removed says the order no longer counts: the platform deleted it, or
	// its status is not a sale (cancelled, failed, …). The sink removes its
	// stored lines, as of UpdatedAt (a stored newer version stays), and
	// ignores Lines. A platform that reports such orders among its changes
	// sets Removed rather than dropping them, so that an order cancelled
	// after it was synced leaves the totals in the same page write.
	Removed bool
}

// Date is when the order counts as sold: ProcessedAt, else CreatedAt.
func (o *Order) Date() time.Time {
	if !o.ProcessedAt.IsZero() {
		return o.ProcessedAt
	}
	return o.CreatedAt
}

// OrderLine is one line of an order, in minor units of the order's shop
// currency: Gross is the original unit price × Quantity (without tax, also
// in shops whose prices include it), Discount the discounts allocated to
// the line, Refunded the refunded merchandise of the line (everything left
// when the order was cancelled), and Net = Gross − Discount − Refunded, the
// merchandise revenue. Quantity counts the units sold: units removed by an
// order edit are not counted. Tax and Shipping are the line's tax and its
// share of the order's shipping; ChargesRefunded its share of what refunds
// returned beyond merchandise (shipping refunds, order adjustments), kept
// out of Net.
type OrderLine struct {
	ExternalID        string
	ProductExternalID string // "" when the product was deleted or is a custom item
	// ProductShared says ProductExternalID identifies the product across
	// the platform's accounts (an Amazon ASIN): a product another source
	// of the publisher brought under that id is this line's product.
	ProductShared     bool
	VariantExternalID string
	SKU               string
	Name              string
	Quantity          int64
	RefundedQuantity  int64
	RefundedAt        time.Time // when the last refund of the line was made; zero when none
	UnitPrice         int64
	Gross             int64
	Discount          int64
	Refunded          int64
	Net               int64
	Tax               int64
	Shipping          int64
	ChargesRefunded   int64
	Presentment       Amounts // the same in the customer's currency
}

// Amounts are a line's money in one currency.
type Amounts struct {
	Currency string
	Gross    int64
	Discount int64
	Refunded int64
	Net      int64
}

// Batch is what one Sink.Commit writes.
type Batch struct {
	Products []Product
	Orders   []Order
	// DeletedOrders are ids of orders the platform deleted: their lines
	// are removed.
	DeletedOrders []string
}

// Len counts the records of b: products plus order lines plus deleted
// and removed orders.
func (b *Batch) Len() int {
	n := len(b.Products) + len(b.DeletedOrders)
	for i := range b.Orders {
		if b.Orders[i].Removed {
			n++
			continue
		}
		n += len(b.Orders[i].Lines)
	}
	return n
}

// OrderBatch returns the batch of orders, with the ids of orders the
// platform deleted outright (no version known) appended as removed
// orders: the shape a webhook or a platform's page usually produces.
func OrderBatch(orders []Order, deleted ...string) Batch {
	b := Batch{Orders: orders}
	for _, id := range deleted {
		b.Orders = append(b.Orders, Order{ExternalID: id, Removed: true})
	}
	return b
}

// Sink is the idempotent write path a sync writes through.
type Sink interface {
	// Cursor returns the connector's last committed cursor (empty or "{}"
	// before the first sync).
	Cursor(ctx context.Context, t Target) (Cursor, error)
	// Commit writes the batch and, when cursor is not nil, replaces the
	// connector's cursor with it, in one transaction: either both are
	// stored or neither. Products upsert by (connector, external id), sale
	// lines by (connector, order id, line id), so writing a record again
	// changes nothing but what changed. The counts are per record (product
	// or sale line); Seen is filled in by the engine.
	Commit(ctx context.Context, t Target, b Batch, cursor Cursor) (store.SyncCounts, error)
}

// OrderLister is implemented by sources that can list the ids of every
// order placed (by Order.Date) in [from, to), deleted ones excepted. The
// engine compares the list with what the sink holds and removes the
// orders the platform no longer has (see Config.ReconcileWindow).
type OrderLister interface {
	OrderIDs(ctx context.Context, from, to time.Time) ([]string, error)
}

// StoredOrders is implemented by sinks that can list the ids of the
// orders they hold for t placed in [from, to).
type StoredOrders interface {
	OrderIDs(ctx context.Context, t Target, from, to time.Time) ([]string, error)
}

// Runs records sync history and connector status. *store.Store implements it.
type Runs interface {
	StartSyncRun(ctx context.Context, pub phantomos.PublisherID, connectorID string) (*store.SyncRun, error)
	UpdateSyncRun(ctx context.Context, pub phantomos.PublisherID, runID string, c store.SyncCounts) error
	FinishSyncRun(ctx context.Context, pub phantomos.PublisherID, runID, state string, c store.SyncCounts, message string) error
	SetConnectorStatus(ctx context.Context, pub phantomos.PublisherID, id, status, lastError string) error
}
