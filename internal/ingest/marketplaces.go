package ingest

import (
	"errors"
	"sort"
	"strconv"
	"strings"

	"github.com/phantomos/phantomos"
)

// lineNamer numbers repeated keys within a run of rows of the same order,
// so a line key derived from the product stays unique and stable.
type lineNamer struct {
	order string
	keys  map[string]int
}

func (n *lineNamer) name(order, key string) string {
	if order != n.order || n.keys == nil {
		n.order = order
		n.keys = map[string]int{}
	}
	n.keys[key]++
	if c := n.keys[key]; c > 1 {
		return key + "#" + strconv.Itoa(c)
	}
	return key
}

// amazonOrders reads Amazon's "All Orders" flat-file report (tab
// separated, one row per order item; the 32 columns are listed in the
// package documentation). Mapping, per row:
//
//	gross    = item-price (Amazon gives the price of the whole quantity)
//	discount = |item-promotion-discount|
//	shipping = shipping-price + gift-wrap-price - |ship-promotion-discount|
//	tax      = item-tax + shipping-tax + gift-wrap-tax
//
// Empty amounts are zero: Amazon leaves them empty for pending and
// cancelled orders, whose currency is then the default. The product is the
// ASIN (external id) or the SKU; the line id is the SKU (or ASIN), numbered
// if it repeats within the order. The channel is sales-channel (Amazon.com,
// Amazon.de, …) followed by who fulfilled the order ("Amazon.com FBA",
// "Amazon.de Merchant") when the file has fulfillment-channel, and the
// country ship-country. last-updated-date, when present, is the order's
// version: an older version never overwrites a newer one (the Amazon
// connector writes the same orders, keyed the same way, through the same
// parser).
type amazonOrders struct {
	cfg                                                          Config
	order, date, name, sku, asin, qty, cur, price, itemTax       int
	shipPrice, shipTax, wrapPrice, wrapTax, itemPromo, shipPromo int
	country, state, channel, fulfilment, updated, status         int
	lines                                                        lineNamer
}

// AmazonColumns are the 32 columns of Amazon's "All Orders" report.
var AmazonColumns = []string{
	"amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status", "fulfillment-channel",
	"sales-channel", "order-channel", "url", "ship-service-level", "product-name", "sku", "asin", "item-status", "quantity",
	"currency", "item-price", "item-tax", "shipping-price", "shipping-tax", "gift-wrap-price", "gift-wrap-tax",
	"item-promotion-discount", "ship-promotion-discount", "ship-city", "ship-state", "ship-postal-code", "ship-country",
	"promotion-ids", "is-business-order", "purchase-order-number", "price-designation",
}

func newAmazonOrders(t *table, cfg Config) (*amazonOrders, error) {
	p := &amazonOrders{
		cfg: cfg, order: t.col("amazon order id"), date: t.col("purchase date"), name: t.col("product name"),
		sku: t.col("sku"), asin: t.col("asin"), qty: t.col("quantity"), cur: t.col("currency"), price: t.col("item price"),
		itemTax: t.col("item tax"), shipPrice: t.col("shipping price"), shipTax: t.col("shipping tax"),
		wrapPrice: t.col("gift wrap price"), wrapTax: t.col("gift wrap tax"), itemPromo: t.col("item promotion discount"),
		shipPromo: t.col("ship promotion discount"), country: t.col("ship country"), state: t.col("ship state"),
		channel: t.col("sales channel"), fulfilment: t.col("fulfillment channel"), updated: t.col("last updated date"),
		status: t.col("order status"),
	}
	for _, c := range []struct {
		i    int
		name string
	}{{p.order, "amazon-order-id"}, {p.date, "purchase-date"}, {p.qty, "quantity"}, {p.price, "item-price"}} {
		if c.i < 0 {
			return nil, t.errMissing(c.name, c.name)
		}
	}
	if p.sku < 0 && p.asin < 0 {
		return nil, t.errMissing("sku or asin", "sku", "asin")
	}
	return p, nil
}

func (p *amazonOrders) row(t *table, s *Sink[Sale]) error {
	r, e := p.parse(t)
	if e != nil {
		s.Reject(*e, 1)
		return nil
	}
	return s.Record(r)
}

func (p *amazonOrders) parse(t *table) (Sale, *RowError) {
	fail := func(i int, format string, args ...any) (Sale, *RowError) {
		e := t.errAt(i, format, args...)
		return Sale{}, &e
	}
	r := Sale{Line: t.line(), OrderID: t.get(p.order), ProductID: t.get(p.asin), SKU: t.get(p.sku), Name: t.get(p.name),
		Channel: t.get(p.channel), Region: t.get(p.state)}
	if r.OrderID == "" {
		return fail(p.order, "the order id is empty")
	}
	if r.ProductID == "" && r.SKU == "" {
		return fail(max(p.sku, p.asin), "the line has neither SKU nor ASIN")
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
	// An item cancelled within an order that goes on has quantity 0 (and no
	// price): it stays as a line of no revenue. Negative quantities are no
	// Amazon report's.
	if r.Quantity < 0 {
		return fail(p.qty, "the quantity is negative")
	}
	var v [10]int64
	for i, col := range []int{p.price, p.itemTax, p.shipPrice, p.shipTax, p.wrapPrice, p.wrapTax, p.itemPromo, p.shipPromo} {
		var e *RowError
		if v[i], e = optMoney(t, col, r.Currency); e != nil {
			return Sale{}, e
		}
	}
	if v[0] < 0 {
		return fail(p.price, "the item price is negative")
	}
	r.Gross, r.Discount = v[0], abs64(v[6])
	r.Shipping = v[2] + v[4] - abs64(v[7])
	r.Tax = v[1] + v[3] + v[5]
	if r.Quantity > 0 {
		r.UnitPrice = r.Gross / r.Quantity
	}
	if r.Country, err = normCountry(t.get(p.country)); err != nil {
		return fail(p.country, "country %v", err)
	}
	if v := t.get(p.updated); v != "" {
		if r.UpdatedAt, err = parseTime(v, p.cfg.loc(), isoLayouts); err != nil {
			return fail(p.updated, "date %v", err)
		}
		r.UpdatedAt = r.UpdatedAt.UTC()
	}
	switch strings.ToLower(t.get(p.fulfilment)) {
	case "amazon", "afn":
		r.Channel = strings.TrimSpace(r.Channel + " FBA")
	case "merchant", "mfn":
		r.Channel = strings.TrimSpace(r.Channel + " Merchant")
	}
	if r.Name == "" {
		r.Name = cmpOr(r.SKU, r.ProductID)
	}
	r.Category = classify(r.Name)
	r.LineID = p.lines.name(r.OrderID, cmpOr(r.SKU, r.ProductID))
	// The ASIN names the product across Amazon accounts (a vendor's
	// sell-through reports only ASINs).
	r.SharedProductID = r.ProductID != ""
	// A cancelled order sold nothing and is no order: it is removed (the
	// Amazon connector removes the same order when the API says it was
	// cancelled), so that it counts neither in revenue nor as an order.
	r.Removed = strings.EqualFold(t.get(p.status), "Cancelled")
	return r, nil
}

func (p *amazonOrders) end(*Sink[Sale]) error { return nil }

// bigCommerceOrders reads BigCommerce's order export (Orders › Export,
// "Default" template): one row per order, its products packed into
// "Product Details" as entries separated by "|", each a list of
// "Product ID: …, Product Qty: …, Product SKU: …, Product Name: …, Product
// Weight: …, Product Variation Details: …, Product Unit Price: …, Product
// Total Price: …". Mapping, per order:
//
//	gross    = Product Total Price (else Unit Price × Qty), per product;
//	           they must add up to Subtotal (ex tax)
//	discount = Discount Amount (or Coupon Value) when the template has it,
//	           else Subtotal + shipping + tax - Order Total (the Default
//	           template names coupons only in Coupon Details); spread by gross
//	shipping = Shipping Cost (ex tax) + Handling Cost (ex tax)
//	           + Wrapping Cost (ex tax), spread by gross
//	tax      = Tax Total, spread by gross
//	refunded = Refund Amount, merchandise first (as for Shopify)
//
// and Σ (gross - discount + shipping + tax) = Order Total (inc tax), or the
// order is refused. Product prices are taken as excluding tax, as the
// Subtotal (ex tax) check requires. Order Date is read month first (MM/DD/YYYY, the
// default store setting) or ISO, with Order Time when the template has it,
// in the publisher's time zone. The line id is the product's position in
// Product Details; the country comes from Shipping Country (a name or a
// code; else Billing Country), the channel from Channel Name.
type bigCommerceOrders struct {
	cfg                                                     Config
	t                                                       *table
	order, date, time, cur, subtotal, tax, ship, handling   int
	wrapping, discount, total, refund, details              int
	shipCountry, billCountry, shipState, billState, channel int
	refundedAt                                              int
}

func newBigCommerceOrders(t *table, cfg Config) (*bigCommerceOrders, error) {
	p := &bigCommerceOrders{
		cfg: cfg, t: t, order: t.col("order id"), date: t.col("order date", "date created"), time: t.col("order time"),
		cur: t.col("order currency code", "currency code", "currency"), subtotal: t.col("subtotal (ex tax)", "subtotal"),
		tax: t.col("tax total", "total tax"), ship: t.col("shipping cost (ex tax)"), handling: t.col("handling cost (ex tax)"),
		wrapping: t.col("wrapping cost (ex tax)"), discount: t.col("discount amount", "coupon value", "coupon discount"),
		total: t.col("order total (inc tax)", "total (inc tax)"), refund: t.col("refund amount", "refunded amount"),
		details: t.col("product details"), shipCountry: t.col("shipping country"), billCountry: t.col("billing country"),
		shipState: t.col("shipping state"), billState: t.col("billing state"), channel: t.col("channel name"),
		refundedAt: t.col(saleRefundAtNames...),
	}
	for _, c := range []struct {
		i    int
		name string
	}{{p.order, "Order ID"}, {p.date, "Order Date"}, {p.subtotal, "Subtotal (ex tax)"}, {p.total, "Order Total (inc tax)"}, {p.details, "Product Details"}} {
		if c.i < 0 {
			return nil, t.errMissing(c.name, c.name)
		}
	}
	return p, nil
}

func (p *bigCommerceOrders) row(t *table, s *Sink[Sale]) error {
	lines, e := p.parse(t)
	if e != nil {
		s.Reject(*e, 1)
		return nil
	}
	for _, l := range lines {
		if err := s.Record(l); err != nil {
			return err
		}
	}
	return nil
}

func (p *bigCommerceOrders) parse(t *table) ([]Sale, *RowError) {
	fail := func(i int, format string, args ...any) ([]Sale, *RowError) {
		e := t.errAt(i, format, args...)
		return nil, &e
	}
	order := t.get(p.order)
	if order == "" {
		return fail(p.order, "the order id is empty")
	}
	when := t.get(p.date)
	if tm := t.get(p.time); tm != "" {
		when += " " + tm
	}
	date, err := parseTime(when, p.cfg.loc(), bigCommerceLayouts)
	if err != nil {
		return fail(p.date, "date %v", err)
	}
	cur := p.cfg.currency()
	if t.get(p.cur) != "" {
		if cur, err = normCurrency(t.get(p.cur)); err != nil {
			return fail(p.cur, "currency %v", err)
		}
	}
	var v [8]int64
	for i, col := range []int{p.subtotal, p.total, p.tax, p.ship, p.handling, p.wrapping, p.discount, p.refund} {
		var e *RowError
		if i < 2 {
			v[i], e = money(t, col, cur)
		} else {
			v[i], e = optMoney(t, col, cur)
		}
		if e != nil {
			return nil, e
		}
	}
	subtotal, total, tax, shipping, discount, refunded := v[0], v[1], v[2], v[3]+v[4]+v[5], abs64(v[6]), v[7]
	countryCol := p.shipCountry
	if t.get(countryCol) == "" {
		countryCol = p.billCountry
	}
	country, err := normCountry(t.get(countryCol))
	if err != nil {
		return fail(countryCol, "country %v", err)
	}
	region := t.get(p.shipState)
	if region == "" {
		region = t.get(p.billState)
	}
	channel := t.get(p.channel)
	if channel == "" {
		channel = "bigcommerce"
	}
	items, err := parseProductDetails(t.get(p.details), cur)
	if err != nil {
		return fail(p.details, "%v", err)
	}
	lines := make([]Sale, len(items))
	var merch int64
	for i, it := range items {
		lines[i] = Sale{
			Line: t.line(), OrderID: order, LineID: strconv.Itoa(i + 1), ProductID: it.id, SKU: it.sku, Name: it.name,
			Category: classify(it.name), UnitPrice: it.unit, OrderDate: date, Quantity: it.qty, Gross: it.total,
			Currency: cur, Country: country, Region: region, Channel: channel,
		}
		merch += it.total
	}
	if merch != subtotal {
		return fail(p.subtotal, "the products in Product Details add up to %s", amountText(merch, cur))
	}
	if p.discount < 0 {
		// The Default template has no discount column (coupons are only
		// described in Coupon Details): the discount is what the total
		// lacks.
		discount = subtotal + shipping + tax - total
		if discount < 0 {
			return fail(p.total, "the order total is more than Subtotal (ex tax) + shipping, handling and wrapping (ex tax) + Tax Total = %s", amountText(subtotal+shipping+tax, cur))
		}
	}
	if want := subtotal - discount + shipping + tax; want != total {
		return fail(p.total, "the order total must be Subtotal (ex tax) - discount + shipping, handling and wrapping (ex tax) + Tax Total = %s", amountText(want, cur))
	}
	if refunded < 0 || refunded > total {
		return fail(p.refund, "the refund must be between 0 and the order total")
	}
	allocateOrder(lines, orderTotals{discount: discount, refunded: refunded, shipping: shipping, tax: tax})
	if v := t.get(p.refundedAt); v != "" && refunded != 0 {
		at, err := parseTime(v, p.cfg.loc(), bigCommerceLayouts)
		if err != nil {
			return fail(p.refundedAt, "refund date %v", err)
		}
		for i := range lines {
			if lines[i].Refunded != 0 {
				lines[i].RefundedAt = at
			}
		}
		if e := refundBeforeOrder(t, p.refundedAt, Sale{RefundedAt: at, OrderDate: date}, p.cfg.loc()); e != nil {
			return nil, e
		}
	}
	return lines, nil
}

func (p *bigCommerceOrders) end(*Sink[Sale]) error { return nil }

type bcItem struct {
	id, sku, name string
	qty           int64
	unit, total   int64
}

var bcKeys = []string{"Product ID", "Product Qty", "Product SKU", "Product Name", "Product Weight", "Product Variation Details", "Product Unit Price", "Product Total Price"}

// parseProductDetails splits BigCommerce's Product Details field. Values
// may contain commas (product names do): a value runs up to the next
// ", Product <known key>:".
func parseProductDetails(s, cur string) ([]bcItem, error) {
	if strings.TrimSpace(s) == "" {
		return nil, errors.New("the order has no products")
	}
	var out []bcItem
	for _, entry := range strings.Split(s, "|") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		type pos struct {
			at  int
			key string
		}
		var found []pos
		for _, k := range bcKeys {
			from := 0
			for {
				i := strings.Index(entry[from:], k+":")
				if i < 0 {
					break
				}
				i += from
				if i == 0 || strings.HasSuffix(strings.TrimRight(entry[:i], " "), ",") {
					found = append(found, pos{i, k})
				}
				from = i + len(k) + 1
			}
		}
		sort.Slice(found, func(a, b int) bool { return found[a].at < found[b].at })
		vals := map[string]string{}
		for i, f := range found {
			end := len(entry)
			if i+1 < len(found) {
				end = found[i+1].at
			}
			v := strings.TrimSpace(entry[f.at+len(f.key)+1 : end])
			vals[f.key] = strings.TrimSpace(strings.TrimSuffix(v, ","))
		}
		it := bcItem{id: vals["Product ID"], sku: vals["Product SKU"], name: vals["Product Name"]}
		if it.id == "" && it.sku == "" && it.name == "" {
			return nil, errors.New("a product entry has no Product ID, SKU or Name")
		}
		if it.name == "" {
			it.name = cmpOr(it.sku, it.id)
		}
		qty, err := parseQuantity(vals["Product Qty"])
		if err != nil {
			return nil, errors.New("Product Qty of " + strconv.Quote(it.name) + " " + err.Error())
		}
		if qty < 1 {
			return nil, errors.New("Product Qty of " + strconv.Quote(it.name) + " must be at least 1")
		}
		it.qty = qty
		digits := phantomos.MinorDigits(cur)
		if u := vals["Product Unit Price"]; u != "" {
			if it.unit, err = parseMinor(u, digits); err != nil {
				return nil, errors.New("Product Unit Price of " + strconv.Quote(it.name) + " " + err.Error())
			}
		}
		if tp := vals["Product Total Price"]; tp != "" {
			if it.total, err = parseMinor(tp, digits); err != nil {
				return nil, errors.New("Product Total Price of " + strconv.Quote(it.name) + " " + err.Error())
			}
		} else if vals["Product Unit Price"] != "" {
			if it.total, err = mulMinor(it.unit, qty); err != nil {
				return nil, err
			}
		} else {
			return nil, errors.New("product " + strconv.Quote(it.name) + " has no Product Total Price or Unit Price")
		}
		if it.unit < 0 || it.total < 0 {
			return nil, errors.New("the price of " + strconv.Quote(it.name) + " is negative")
		}
		out = append(out, it)
	}
	if len(out) == 0 {
		return nil, errors.New("the order has no products")
	}
	return out, nil
}
