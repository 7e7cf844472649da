package ingest

import (
	"strings"
)

// wooOrders reads the orders export of WooCommerce's Customer / Order /
// Coupon Export extension in its "Default - One Row per Item" format
// (WooCommerce core exports products only): one row per order item, the
// order's columns repeated on each, headers as the extension writes them
// (order_id, order_number, date, status, shipping_total, tax_total,
// discount_total, order_total, refunded_total, order_currency,
// billing_…/shipping_… address columns, item_id, item_product_id,
// item_name, item_sku, item_quantity, item_subtotal, item_subtotal_tax,
// item_total, item_total_tax, item_refunded, item_refunded_qty, …).
// Mapping, per item:
//
//	order and line ids = order_id and item_id (WooCommerce's own ids, the
//	                     ones the REST API gives, so a sync of the store
//	                     writes the same keys)
//	gross    = item_subtotal (before discounts, without tax)
//	discount = item_subtotal - item_total
//	refunded = item_refunded (capped at item_total); every item of an
//	           order in status refunded is refunded whole
//	tax      = item_total_tax
//	shipping = the order's shipping_total, on its first item
//
// Orders whose status is not a sale (pending, failed, cancelled, drafts,
// trash) bring no lines, as in a sync; a status the file leaves empty
// counts. date is the store's local time, read in the publisher's zone.
type wooOrders struct {
	cfg                                                 Config
	order, number, date, status, cur, ship              int
	item, product, name, sku, qty, sub, total, tax, ref int
	shipCountry, billCountry, shipState, billState      int
	lastOrder                                           string
}

// wooOrderColumns are the columns the importer needs.
var wooOrderColumns = []string{"order_id", "date", "item_id", "item_quantity", "item_subtotal", "item_total"}

func newWooOrders(t *table, cfg Config) (*wooOrders, error) {
	p := &wooOrders{
		cfg: cfg, order: t.col("order id"), number: t.col("order number"), date: t.col("date", "order date"), status: t.col("status"),
		cur: t.col("order currency", "currency"), ship: t.col("shipping total"), item: t.col("item id"), product: t.col("item product id"),
		name: t.col("item name"), sku: t.col("item sku"), qty: t.col("item quantity"), sub: t.col("item subtotal"), total: t.col("item total"),
		tax: t.col("item total tax"), ref: t.col("item refunded"), shipCountry: t.col("shipping country"), billCountry: t.col("billing country"),
		shipState: t.col("shipping state"), billState: t.col("billing state"),
	}
	for i, c := range []int{p.order, p.date, p.item, p.qty, p.sub, p.total} {
		if c < 0 {
			return nil, t.errMissing(wooOrderColumns[i], wooOrderColumns[i])
		}
	}
	return p, nil
}

// wooSale reports whether an order in status counts as a sale; it agrees
// with the WooCommerce connector's rule.
func wooSale(status string) bool {
	switch strings.TrimPrefix(strings.ToLower(strings.TrimSpace(status)), "wc-") {
	case "pending", "failed", "cancelled", "trash", "draft", "checkout-draft", "auto-draft":
		return false
	}
	return true
}

func (p *wooOrders) row(t *table, s *Sink[Sale]) error {
	r, ok, e := p.parse(t)
	if e != nil {
		s.Reject(*e, 1)
		return nil
	}
	if !ok {
		return nil
	}
	return s.Record(r)
}

func (p *wooOrders) parse(t *table) (Sale, bool, *RowError) {
	fail := func(i int, format string, args ...any) (Sale, bool, *RowError) {
		e := t.errAt(i, format, args...)
		return Sale{}, false, &e
	}
	r := Sale{Line: t.line(), OrderID: t.get(p.order), LineID: t.get(p.item), ProductID: t.get(p.product), SKU: t.get(p.sku),
		Name: t.get(p.name), Channel: "woocommerce"}
	if r.OrderID == "" {
		return fail(p.order, "the order id is empty")
	}
	if r.LineID == "" {
		return fail(p.item, "the item id is empty")
	}
	first := r.OrderID != p.lastOrder
	p.lastOrder = r.OrderID
	status := t.get(p.status)
	if !wooSale(status) {
		return Sale{}, false, nil
	}
	if n := t.get(p.number); n != "" {
		r.OrderName = "#" + n
	}
	if r.ProductID == "0" {
		r.ProductID = "" // a deleted product or a custom line
	}
	var err error
	if r.OrderDate, err = parseTime(t.get(p.date), p.cfg.loc(), isoLayouts); err != nil {
		return fail(p.date, "date %v", err)
	}
	r.Currency = p.cfg.currency()
	if t.get(p.cur) != "" {
		if r.Currency, err = normCurrency(t.get(p.cur)); err != nil {
			return fail(p.cur, "currency %v", err)
		}
	}
	if r.Quantity, err = parseQuantity(t.get(p.qty)); err != nil {
		return fail(p.qty, "quantity %v", err)
	}
	if r.Quantity < 0 {
		return fail(p.qty, "the quantity is negative")
	}
	sub, e := money(t, p.sub, r.Currency)
	if e != nil {
		return Sale{}, false, e
	}
	total, e := money(t, p.total, r.Currency)
	if e != nil {
		return Sale{}, false, e
	}
	if sub < 0 || total < 0 {
		return fail(p.sub, "an item's subtotal and total cannot be negative")
	}
	var v [3]int64
	for i, col := range []int{p.tax, p.ref, p.ship} {
		if v[i], e = optMoney(t, col, r.Currency); e != nil {
			return Sale{}, false, e
		}
	}
	// A plugin that keeps the subtotal after tax removal but the total
	// before would make a negative discount (as the connector reads it).
	sub = max(sub, total)
	r.Gross, r.Discount, r.Tax = sub, sub-total, v[0]
	r.Refunded = min(abs64(v[1]), total)
	if strings.EqualFold(strings.TrimPrefix(strings.ToLower(status), "wc-"), "refunded") {
		r.Refunded = total
	}
	if first {
		r.Shipping = v[2]
	}
	if r.Quantity > 0 {
		r.UnitPrice = r.Gross / r.Quantity
	}
	countryCol, regionCol := p.shipCountry, p.shipState
	if t.get(countryCol) == "" {
		countryCol, regionCol = p.billCountry, p.billState
	}
	if r.Country, err = normCountry(t.get(countryCol)); err != nil {
		return fail(countryCol, "country %v", err)
	}
	r.Region = t.get(regionCol)
	if r.Name == "" {
		r.Name = cmpOr(r.SKU, r.ProductID, "Item "+r.LineID)
	}
	r.Category = classify(r.Name)
	return r, true, nil
}

func (p *wooOrders) end(*Sink[Sale]) error { return nil }
