package ingest

import (
	"time"

	"github.com/phantomos/phantomos"
)

// Column aliases of the generic sales layout (normalised).
var (
	saleOrderNames    = []string{"order id", "order", "order number", "order no", "order name", "order ref", "order reference", "transaction id", "invoice id", "invoice number"}
	saleLineNames     = []string{"line id", "line", "line number", "line no", "line item id", "lineitem id", "order line id", "item id"}
	saleDateNames     = []string{"date", "order date", "created at", "created", "purchase date", "order created at", "timestamp", "datetime", "sold at", "day"}
	saleProdIDNames   = []string{"product id", "external id", "product external id"}
	saleNameNames     = []string{"name", "title", "product name", "product title", "product", "item name", "item"}
	saleCatNames      = []string{"category", "product category", "product type"}
	saleQtyNames      = []string{"quantity", "qty", "units", "quantity sold", "qty sold"}
	salePriceNames    = []string{"price", "unit price", "item price", "unit amount"}
	saleGrossNames    = []string{"gross", "gross revenue", "gross sales", "gross amount", "subtotal", "line subtotal"}
	saleDiscountNames = []string{"discount", "discounts", "discount amount", "line discount"}
	saleRefundNames   = []string{"refunded", "refund", "refunds", "refunded amount", "refund amount", "returns"}
	saleRefundAtNames = []string{"refund date", "refunded at", "refunded on", "refunded date", "date refunded", "refund at",
		"refund created at", "refund time", "refund timestamp"}
	// The order's last update at the source: a newer version of an order
	// replaces an older one, and an order deleted through the API comes
	// back only in a version updated after its deletion.
	saleUpdatedNames = []string{"updated at", "updated", "order updated at", "last updated", "last updated at", "last updated date",
		"modified at", "last modified", "modified", "updated date", "date modified"}
	saleNetNames      = []string{"net", "net revenue", "net sales", "revenue", "total", "amount", "line total", "sales", "net amount"}
	saleCountryNames  = []string{"country", "country code", "country region", "ship country", "shipping country", "billing country"}
	saleRegionNames   = []string{"region", "state", "province", "ship state", "shipping state", "shipping province"}
	saleChannelNames  = []string{"channel", "sales channel", "source", "store", "marketplace", "platform"}
	saleShippingNames = []string{"shipping", "shipping cost", "shipping amount", "shipping price"}
	saleTaxNames      = []string{"tax", "taxes", "tax amount", "vat"}
	saleTipNames      = []string{"tip", "tips"}
)

// genericSales reads the generic sales layout: one row per order line.
type genericSales struct {
	cfg                                           Config
	order, line, date, pid, sku, name, cat, qty   int
	price, gross, discount, refunded, net         int
	cur, country, region, channel, ship, tax, tip int
	refundedAt, updated                           int
	lines                                         lineNamer
}

func newGenericSales(t *table, cfg Config) (*genericSales, error) {
	p := &genericSales{
		cfg: cfg, order: t.col(saleOrderNames...), line: t.col(saleLineNames...), date: t.col(saleDateNames...),
		pid: t.col(saleProdIDNames...), sku: t.col(prodSKUNames...), name: t.col(saleNameNames...), cat: t.col(saleCatNames...),
		qty: t.col(saleQtyNames...), price: t.col(salePriceNames...), gross: t.col(saleGrossNames...),
		discount: t.col(saleDiscountNames...), refunded: t.col(saleRefundNames...), net: t.col(saleNetNames...),
		cur: t.col(currencyNames...), country: t.col(saleCountryNames...), region: t.col(saleRegionNames...),
		channel: t.col(saleChannelNames...), ship: t.col(saleShippingNames...), tax: t.col(saleTaxNames...), tip: t.col(saleTipNames...),
		refundedAt: t.col(saleRefundAtNames...), updated: t.col(saleUpdatedNames...),
	}
	if p.country < 0 && p.region >= 0 {
		// "country/region" style: a lone region column holds the country.
		p.country, p.region = p.region, -1
	}
	switch {
	case p.order < 0:
		return nil, t.errMissing("order id", saleOrderNames...)
	case p.date < 0:
		return nil, t.errMissing("order date", saleDateNames...)
	case p.pid < 0 && p.sku < 0 && p.name < 0:
		return nil, t.errMissing("product (id, SKU or name)", append(append(saleProdIDNames, prodSKUNames...), saleNameNames...)...)
	case p.gross < 0 && p.price < 0 && p.net < 0:
		return nil, t.errMissing("amount (gross, price or net)", append(append(saleGrossNames, salePriceNames...), saleNetNames...)...)
	}
	return p, nil
}

func (p *genericSales) row(t *table, s *Sink[Sale]) error {
	r, e := p.parse(t)
	if e != nil {
		s.Reject(*e, 1)
		return nil
	}
	return s.Record(r)
}

func (p *genericSales) parse(t *table) (Sale, *RowError) {
	fail := func(i int, format string, args ...any) (Sale, *RowError) {
		e := t.errAt(i, format, args...)
		return Sale{}, &e
	}
	r := Sale{Line: t.line(), OrderID: t.get(p.order), ProductID: t.get(p.pid), SKU: t.get(p.sku), Name: t.get(p.name)}
	if r.OrderID == "" {
		return fail(p.order, "the order id is empty")
	}
	var err error
	if r.OrderDate, err = parseTime(t.get(p.date), p.cfg.loc(), isoLayouts); err != nil {
		return fail(p.date, "date %v", err)
	}
	if r.ProductID == "" && r.SKU == "" && r.Name == "" {
		return fail(max(p.name, p.sku, p.pid), "the line names no product (id, SKU or name)")
	}
	r.Currency = p.cfg.currency()
	if p.cur >= 0 {
		if r.Currency, err = normCurrency(t.get(p.cur)); err != nil {
			return fail(p.cur, "currency %v", err)
		}
	}
	r.Quantity = 1
	if p.qty >= 0 {
		if r.Quantity, err = parseQuantity(t.get(p.qty)); err != nil {
			return fail(p.qty, "quantity %v", err)
		}
		if r.Quantity < 1 {
			return fail(p.qty, "the quantity must be at least 1 (a return is a refund: use the refunded column)")
		}
	}
	digits := phantomos.MinorDigits(r.Currency)
	amount := func(i int) (int64, bool, *RowError) {
		if t.get(i) == "" {
			return 0, false, nil
		}
		v, err := parseMinor(t.get(i), digits)
		if err != nil {
			e := t.errAt(i, "amount %v", err)
			return 0, false, &e
		}
		return v, true, nil
	}
	price, hasPrice, e := amount(p.price)
	if e != nil {
		return Sale{}, e
	}
	if price < 0 {
		return fail(p.price, "the price is negative")
	}
	r.UnitPrice = price
	gross, hasGross, e := amount(p.gross)
	if e != nil {
		return Sale{}, e
	}
	if !hasGross && hasPrice {
		if gross, err = mulMinor(price, r.Quantity); err != nil {
			return fail(p.price, "%v", err)
		}
		hasGross = true
	}
	discount, hasDiscount, e := amount(p.discount)
	if e != nil {
		return Sale{}, e
	}
	// "refunded" may be an amount or a flag meaning the whole line.
	var refunded int64
	refundAll := false
	if v := t.get(p.refunded); v != "" {
		if b, ok := parseBool(v); ok {
			refundAll = b
		} else if refunded, _, e = amount(p.refunded); e != nil {
			return Sale{}, e
		}
	}
	net, hasNet, e := amount(p.net)
	if e != nil {
		return Sale{}, e
	}
	switch {
	case hasGross && refundAll:
		refunded = gross - discount
		if hasNet && net != 0 {
			return fail(p.net, "a fully refunded line has net 0")
		}
	case hasGross && hasNet && !hasDiscount:
		discount = gross - net - refunded
		if discount < 0 {
			return fail(p.net, "net is more than gross minus refunds (%s)", amountText(gross-refunded, r.Currency))
		}
	case hasGross && hasNet:
		if want := gross - discount - refunded; want != net {
			return fail(p.net, "net must equal gross - discount - refunded = %s", amountText(want, r.Currency))
		}
	case hasGross:
	case hasNet && !refundAll:
		gross = net + discount + refunded
	case refundAll:
		return fail(p.refunded, "a refund flag needs the line's gross amount or price")
	default:
		return fail(max(p.net, p.gross, p.price), "the line has no amount (gross, price × quantity or net)")
	}
	if gross < 0 {
		return fail(max(p.gross, p.net), "the line's gross amount is negative (a return is a refund: use the refunded column)")
	}
	r.Gross, r.Discount, r.Refunded = gross, discount, refunded
	if v := t.get(p.refundedAt); v != "" && refunded != 0 {
		// A refund date says when the refund was made; on a line without a
		// refund it has nothing to date and is ignored.
		if r.RefundedAt, err = parseTime(v, p.cfg.loc(), isoLayouts); err != nil {
			return fail(p.refundedAt, "refund date %v", err)
		}
		if e := refundBeforeOrder(t, p.refundedAt, r, p.cfg.loc()); e != nil {
			return Sale{}, e
		}
	}
	if v := t.get(p.updated); v != "" {
		if r.UpdatedAt, err = parseTime(v, p.cfg.loc(), isoLayouts); err != nil {
			return fail(p.updated, "updated date %v", err)
		}
		r.UpdatedAt = r.UpdatedAt.UTC()
	}
	for _, c := range []struct {
		col int
		dst *int64
	}{{p.ship, &r.Shipping}, {p.tax, &r.Tax}, {p.tip, &r.Tip}} {
		v, _, e := amount(c.col)
		if e != nil {
			return Sale{}, e
		}
		*c.dst = v
	}
	if r.Country, err = normCountry(t.get(p.country)); err != nil {
		return fail(p.country, "country %v", err)
	}
	r.Region, r.Channel = t.get(p.region), t.get(p.channel)
	r.Category = classify(t.get(p.cat), r.Name)
	r.LineID = t.get(p.line)
	if r.LineID == "" {
		// Without a line id, a line is named by its product, numbered when
		// the product repeats within the order's run of rows, so the same
		// file always yields the same keys.
		r.LineID = p.lines.name(r.OrderID, cmpOr(r.ProductID, r.SKU, r.Name))
	}
	return r, nil
}

func (p *genericSales) end(*Sink[Sale]) error { return nil }

// refundBeforeOrder refuses a refund dated (in the publisher's time zone)
// before its order's day.
func refundBeforeOrder(t *table, col int, r Sale, loc *time.Location) *RowError {
	if rd, od := phantomos.DayOf(r.RefundedAt, loc), phantomos.DayOf(r.OrderDate, loc); rd < od {
		e := t.errAt(col, "the refund date is before the order date (%s)", od)
		return &e
	}
	return nil
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// amountText formats minor units for messages.
func amountText(v int64, cur string) string {
	return phantomos.Money{Amount: v, Currency: cur}.String()
}

// emitOrder allocates an order's discount, refund and charges over its
// lines and emits them. It is shared by the exports that give totals per
// order (Shopify, BigCommerce). lines carry Gross (and, when the source
// allocated it per line, Discount); the order carries the rest.
type orderTotals struct {
	discount      int64 // merchandise discount of the whole order
	lineDiscounts bool  // lines already carry their Discount
	refunded      int64 // refunded amount of the whole order
	shipping, tax int64
	tip           int64
}

func allocateOrder(lines []Sale, o orderTotals) {
	gross := make([]int64, len(lines))
	var merch int64
	for i := range lines {
		gross[i] = lines[i].Gross
		merch += lines[i].Gross
	}
	if !o.lineDiscounts {
		for i, d := range allocate(o.discount, gross) {
			lines[i].Discount = d
		}
	}
	merch -= o.discount
	// A refund reduces the merchandise first; what exceeds it refunded
	// charges (shipping, tax, tip).
	merchRefund := min(o.refunded, max(merch, 0))
	chargesRefund := o.refunded - merchRefund
	nets := make([]int64, len(lines))
	for i := range lines {
		nets[i] = lines[i].Gross - lines[i].Discount
	}
	for i, v := range allocate(merchRefund, nets) {
		lines[i].Refunded = v
	}
	for _, c := range []struct {
		total int64
		set   func(i int, v int64)
	}{
		{o.shipping, func(i int, v int64) { lines[i].Shipping = v }},
		{o.tax, func(i int, v int64) { lines[i].Tax = v }},
		{o.tip, func(i int, v int64) { lines[i].Tip = v }},
		{chargesRefund, func(i int, v int64) { lines[i].ChargesRefunded = v }},
	} {
		for i, v := range allocate(c.total, gross) {
			c.set(i, v)
		}
	}
}
