package ingest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// shopifyOrders reads Shopify's orders export (Orders › Export, 78 or 79
// columns). An order spans consecutive rows with the same Name: only the
// first carries the order's totals (Financial Status, Currency, Subtotal,
// Shipping, Taxes, Total, Discount Amount, Refunded Amount, addresses); each
// row carries one line item. Line items named "Tip" are tips, not
// merchandise.
//
// How the stored amounts map to the export, per order:
//
//	gross    = Lineitem price × Lineitem quantity, per line (tips excluded)
//	discount = Σ gross − Subtotal, on the lines as Lineitem discount gives
//	           it when that adds up, else in proportion to gross
//	shipping = Shipping, tax = Taxes (+ Duties), tip = Σ tip lines,
//	           each spread over the lines in proportion to gross
//	refunded = Refunded Amount, up to the merchandise (Subtotal), spread in
//	           proportion to the lines' gross - discount; any excess is
//	           charges_refunded
//
// so that for every order Σ (gross - discount + shipping + tax + tip) over
// its lines equals Total, and net = gross - discount - refunded is its
// merchandise revenue after refunds. An order whose Total is not Subtotal +
// Shipping + Taxes + Duties + tips is refused rather than guessed at.
// The order id is the Id column, Shopify's numeric id of the order — the
// same id its API, webhooks and our sync key the order by — so a store's
// history imported from a file and then synced counts each order once; a
// file without Ids falls back to the Name ("#1001"), which is unique only
// within one store. The line id is the row's position within the order
// ("1", "2", …): the export has no line item ids, and the sync's version of
// the order replaces the file's lines whole. Quantities may be 0 (an order
// edit can leave a line without units) but not negative, and prices not
// negative. The channel the Source (web, pos,
// shopify_draft_order, …), the country the shipping country (else billing).
type shopifyOrders struct {
	cfg                                                                Config
	t                                                                  *table
	name, fin, currency, subtotal, shipping, taxes, total, discount    int
	created, qty, liName, liPrice, liSKU, liDiscount, refunded, duties int
	shipCountry, billCountry, shipProv, billProv, source, id           int
	o                                                                  *shopifyOrder
}

type shopifyOrder struct {
	name, id                                           string
	line                                               int64 // of the first row
	rows                                               int64
	err                                                *RowError
	currency                                           string
	created                                            time.Time
	subtotal, shipping, taxes, total, refunded, duties int64
	subtotalText, totalText, refundedText              string
	country, region, channel                           string
	lines, tipLines                                    []Sale
	tips, lineDiscounts                                int64
}

func newShopifyOrders(t *table, cfg Config) (*shopifyOrders, error) {
	p := &shopifyOrders{
		cfg: cfg, t: t, name: t.col("name"), fin: t.col("financial status"), currency: t.col("currency"),
		subtotal: t.col("subtotal"), shipping: t.col("shipping"), taxes: t.col("taxes"), total: t.col("total"),
		discount: t.col("discount amount"), created: t.col("created at"), qty: t.col("lineitem quantity"),
		liName: t.col("lineitem name"), liPrice: t.col("lineitem price"), liSKU: t.col("lineitem sku"),
		liDiscount: t.col("lineitem discount"), refunded: t.col("refunded amount"), duties: t.col("duties"),
		shipCountry: t.col("shipping country"), billCountry: t.col("billing country"),
		shipProv: t.col("shipping province"), billProv: t.col("billing province"), source: t.col("source"),
		id: t.col("id"),
	}
	for _, c := range []struct {
		i    int
		name string
	}{{p.name, "Name"}, {p.fin, "Financial Status"}, {p.currency, "Currency"}, {p.subtotal, "Subtotal"}, {p.shipping, "Shipping"},
		{p.taxes, "Taxes"}, {p.total, "Total"}, {p.created, "Created at"}, {p.qty, "Lineitem quantity"}, {p.liName, "Lineitem name"},
		{p.liPrice, "Lineitem price"}} {
		if c.i < 0 {
			return nil, t.errMissing(c.name, c.name)
		}
	}
	return p, nil
}

func (p *shopifyOrders) row(t *table, s *Sink[Sale]) error {
	name := t.get(p.name)
	if name == "" {
		s.Reject(t.errAt(p.name, "the order Name is empty"), 1)
		return nil
	}
	if p.o == nil || name != p.o.name {
		if err := p.flush(s); err != nil {
			return err
		}
		p.o = &shopifyOrder{name: name, line: t.line()}
		p.header(t)
	}
	o := p.o
	o.rows++
	if o.err != nil {
		return nil
	}
	fail := func(e RowError) { o.err = &e }
	qty, err := parseQuantity(t.get(p.qty))
	if err != nil {
		fail(t.errAt(p.qty, "quantity %v", err))
		return nil
	}
	if qty < 0 {
		fail(t.errAt(p.qty, "the quantity is negative; refunds belong in Refunded Amount"))
		return nil
	}
	price, e := money(t, p.liPrice, o.currency)
	if e != nil {
		o.err = e
		return nil
	}
	if price < 0 {
		fail(t.errAt(p.liPrice, "the price is negative"))
		return nil
	}
	liDiscount, e := optMoney(t, p.liDiscount, o.currency)
	if e != nil {
		o.err = e
		return nil
	}
	gross, err := mulMinor(price, qty)
	if err != nil {
		fail(t.errAt(p.liPrice, "%v", err))
		return nil
	}
	item := t.get(p.liName)
	if item == "" {
		fail(t.errAt(p.liName, "the line item has no name"))
		return nil
	}
	line := Sale{
		Line: t.line(), OrderID: cmpOr(o.id, o.name), OrderName: o.name, LineID: strconv.FormatInt(o.rows, 10), SKU: t.get(p.liSKU), Name: item,
		Category: classify(item), UnitPrice: price, OrderDate: o.created, Quantity: qty, Gross: gross, Discount: liDiscount,
		Currency: o.currency, Country: o.country, Region: o.region, Channel: o.channel,
	}
	if product, _, ok := splitVariant(item); ok {
		line.ProductName = product
	}
	if strings.EqualFold(item, "tip") {
		o.tips += gross
		o.tipLines = append(o.tipLines, line)
		return nil
	}
	o.lineDiscounts += liDiscount
	o.lines = append(o.lines, line)
	return nil
}

// header reads the order fields of an order's first row.
func (p *shopifyOrders) header(t *table) {
	o := p.o
	o.id = t.get(p.id)
	fail := func(e RowError) { o.err = &e }
	if t.get(p.fin) == "" {
		fail(t.errAt(p.fin, "the first row of order %s has no Financial Status, so it lacks the order's totals (rows of an order must follow each other, the one with the totals first)", o.name))
		return
	}
	var err error
	if o.currency, err = normCurrency(t.get(p.currency)); err != nil {
		fail(t.errAt(p.currency, "currency %v", err))
		return
	}
	if o.created, err = parseTime(t.get(p.created), p.cfg.loc(), isoLayouts); err != nil {
		fail(t.errAt(p.created, "date %v", err))
		return
	}
	for _, f := range []struct {
		col      int
		dst      *int64
		optional bool
	}{{p.subtotal, &o.subtotal, false}, {p.shipping, &o.shipping, false}, {p.taxes, &o.taxes, false}, {p.total, &o.total, false},
		{p.refunded, &o.refunded, true}, {p.duties, &o.duties, true}} {
		var e *RowError
		if f.optional {
			*f.dst, e = optMoney(t, f.col, o.currency)
		} else {
			*f.dst, e = money(t, f.col, o.currency)
		}
		if e != nil {
			o.err = e
			return
		}
	}
	o.subtotalText, o.totalText, o.refundedText = t.get(p.subtotal), t.get(p.total), t.get(p.refunded)
	countryCol := p.shipCountry
	if t.get(countryCol) == "" {
		countryCol = p.billCountry
	}
	if o.country, err = normCountry(strings.TrimPrefix(t.get(countryCol), "'")); err != nil {
		fail(t.errAt(countryCol, "country %v", err))
		return
	}
	o.region = t.get(p.shipProv)
	if o.region == "" {
		o.region = t.get(p.billProv)
	}
	o.channel = t.get(p.source)
}

// flush allocates the pending order's totals over its lines and emits them.
func (p *shopifyOrders) flush(s *Sink[Sale]) error {
	o := p.o
	p.o = nil
	if o == nil {
		return nil
	}
	if o.err != nil {
		s.Reject(*o.err, o.rows)
		return nil
	}
	lines, tips := o.lines, o.tips
	if len(lines) == 0 {
		// An order of tips only keeps them as its lines, so no money is lost.
		lines, tips = o.tipLines, 0
	}
	orderErr := func(col int, value, format string, args ...any) error {
		s.Reject(RowError{Line: o.line, Column: p.t.name(col), Value: value, Reason: fmt.Sprintf(format, args...)}, o.rows)
		return nil
	}
	var merch int64
	for _, l := range lines {
		merch += l.Gross
	}
	discount := merch - o.subtotal
	if discount < 0 {
		return orderErr(p.subtotal, o.subtotalText, "Subtotal is more than the order's line items (%s)", amountText(merch, o.currency))
	}
	if want := o.subtotal + o.shipping + o.taxes + o.duties + tips; want != o.total {
		return orderErr(p.total, o.totalText, "Total must equal Subtotal + Shipping + Taxes + Duties + tips = %s", amountText(want, o.currency))
	}
	if o.refunded > o.total || o.refunded < 0 {
		return orderErr(p.refunded, o.refundedText, "Refunded Amount must be between 0 and the order's Total")
	}
	allocateOrder(lines, orderTotals{
		discount: discount, lineDiscounts: discount > 0 && o.lineDiscounts == discount, refunded: o.refunded,
		shipping: o.shipping, tax: o.taxes + o.duties, tip: tips,
	})
	for _, l := range lines {
		if err := s.Record(l); err != nil {
			return err
		}
	}
	return nil
}

func (p *shopifyOrders) end(s *Sink[Sale]) error { return p.flush(s) }
