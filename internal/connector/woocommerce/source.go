package woocommerce

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/ingest"
)

// str is a JSON value read as text: a string, a number, a boolean, or
// null (""). WooCommerce and its plugins send any of these where the
// documentation promises a string.
type str string

func (s *str) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*s = ""
	case len(b) > 0 && b[0] == '"':
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = str(v)
	case len(b) > 0 && (b[0] == '{' || b[0] == '['):
		*s = "" // an object where text was expected: nothing usable
	default:
		*s = str(b)
	}
	return nil
}

// date is a WooCommerce date: "2026-02-01T09:00:00" (the _gmt fields are
// UTC without a zone), RFC 3339, or null (zero).
type date time.Time

func (d *date) UnmarshalJSON(b []byte) error {
	var s str
	if err := s.UnmarshalJSON(b); err != nil {
		return err
	}
	v := strings.TrimSpace(string(s))
	if v == "" {
		*d = date{}
		return nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", time.RFC3339Nano, "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			*d = date(t.UTC())
			return nil
		}
	}
	return fmt.Errorf("unreadable date %q", clip(v, 40))
}

func (d date) time() time.Time { return time.Time(d) }

// metaData is one meta_data entry; values may be of any type.
type metaData struct {
	Key   str `json:"key"`
	Value str `json:"value"`
}

type wooAddress struct {
	Country str `json:"country"`
	State   str `json:"state"`
}

type wooLine struct {
	ID          str        `json:"id"`
	Name        str        `json:"name"`
	ProductID   str        `json:"product_id"`
	VariationID str        `json:"variation_id"`
	Quantity    str        `json:"quantity"`
	Subtotal    str        `json:"subtotal"`
	SubtotalTax str        `json:"subtotal_tax"`
	Total       str        `json:"total"`
	TotalTax    str        `json:"total_tax"`
	SKU         str        `json:"sku"`
	MetaData    []metaData `json:"meta_data"`
}

type wooOrder struct {
	ID               str         `json:"id"`
	Number           str         `json:"number"`
	Status           str         `json:"status"`
	Currency         str         `json:"currency"`
	PricesIncludeTax bool        `json:"prices_include_tax"`
	DateCreatedGMT   date        `json:"date_created_gmt"`
	DateModifiedGMT  date        `json:"date_modified_gmt"`
	DatePaidGMT      date        `json:"date_paid_gmt"`
	ShippingTotal    str         `json:"shipping_total"`
	Billing          *wooAddress `json:"billing"`
	Shipping         *wooAddress `json:"shipping"`
	CreatedVia       str         `json:"created_via"`
	LineItems        []wooLine   `json:"line_items"`
	Refunds          []struct {
		ID    str `json:"id"`
		Total str `json:"total"`
	} `json:"refunds"`
}

type wooRefund struct {
	ID             str       `json:"id"`
	DateCreatedGMT date      `json:"date_created_gmt"`
	Amount         str       `json:"amount"`
	LineItems      []wooLine `json:"line_items"`
}

type wooProduct struct {
	ID              str     `json:"id"`
	Name            str     `json:"name"`
	Slug            str     `json:"slug"`
	Type            str     `json:"type"`
	Status          str     `json:"status"`
	Description     str     `json:"description"`
	Short           str     `json:"short_description"`
	SKU             str     `json:"sku"`
	Price           str     `json:"price"`
	DateModifiedGMT date    `json:"date_modified_gmt"`
	Variations      []str   `json:"variations"`
	Categories      []named `json:"categories"`
	Tags            []named `json:"tags"`
	Images          []struct {
		Src str `json:"src"`
	} `json:"images"`
}

type named struct {
	Name str `json:"name"`
}

type wooVariation struct {
	ID         str `json:"id"`
	SKU        str `json:"sku"`
	Price      str `json:"price"`
	Attributes []struct {
		Option str `json:"option"`
	} `json:"attributes"`
}

// SaleStatus reports whether an order in status counts as a sale.
// Processing, on-hold and completed orders do; refunded ones do too, with
// their refunds (the money came in, then went back). Pending, failed,
// cancelled, draft and trashed orders do not. A status WooCommerce does not
// define (a plugin's, such as "shipped") counts when the order was paid.
func SaleStatus(status string, paid bool) bool {
	switch strings.TrimPrefix(strings.ToLower(status), "wc-") {
	case "processing", "on-hold", "completed", "refunded":
		return true
	case "pending", "failed", "cancelled", "trash", "draft", "checkout-draft", "auto-draft":
		return false
	}
	return paid
}

// amount converts a WooCommerce amount ("19.99", "-3.5", "", null) to minor
// units of currency through the importer's parser. Digits beyond the
// currency's (sites may show three decimals) round half away from zero.
func amount(s str, currency string) (int64, error) {
	v := strings.TrimSpace(string(s))
	if v == "" {
		return 0, nil
	}
	n, err := ingest.ParseAmount(v, currency)
	if err == nil {
		return n, nil
	}
	whole, frac, ok := strings.Cut(v, ".")
	d := phantomos.MinorDigits(currency)
	if !ok || len(frac) <= d {
		return 0, fmt.Errorf("amount %q: %w", clip(v, 40), err)
	}
	up := frac[d] >= '5'
	r := whole
	if d > 0 {
		r += "." + frac[:d]
	}
	n, err2 := ingest.ParseAmount(r, currency)
	if err2 != nil {
		return 0, fmt.Errorf("amount %q: %w", clip(v, 40), err)
	}
	if up {
		if strings.HasPrefix(whole, "-") {
			n--
		} else {
			n++
		}
	}
	return n, nil
}

// quantity reads a line quantity (an integer; WooCommerce sends a number).
func quantity(s str) (int64, error) {
	v := strings.TrimSpace(string(s))
	if v == "" {
		return 0, nil
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f != float64(int64(f)) {
		return 0, fmt.Errorf("quantity %q is not a whole number", clip(v, 40))
	}
	return int64(f), nil
}

// plain turns a product description (HTML) into text.
func plain(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
			b.WriteByte(' ')
		case r == '>' && in:
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return clip(strings.Join(strings.Fields(html.UnescapeString(b.String())), " "), 4000)
}

// listQuery is the query of a list of records modified since q.Since,
// read by id so that records updated during a pass do not move between
// pages.
func (c *Client) listQuery(q connector.Query, page int) url.Values {
	v := url.Values{"per_page": {strconv.Itoa(c.perPage)}, "page": {strconv.Itoa(page)}, "orderby": {"id"}, "order": {"asc"}}
	if !q.Since.IsZero() {
		// modified_after is exclusive and to the second: one second back
		// keeps records updated exactly at Since.
		v.Set("modified_after", gmt(q.Since.Add(-time.Second)))
		v.Set("dates_are_gmt", "true")
	}
	return v
}

// Products implements connector.Source: products modified at or after
// q.Since, each variable product with its variations.
func (c *Client) Products(ctx context.Context, q connector.Query) (connector.Page[connector.Product], error) {
	var out connector.Page[connector.Product]
	page, err := pageNumber(q.Page)
	if err != nil {
		return out, err
	}
	cur, err := c.storeCurrency(ctx)
	if err != nil {
		return out, err
	}
	var list []wooProduct
	r, err := c.get(ctx, "/products", c.listQuery(q, page), &list)
	if err != nil {
		return out, err
	}
	for i := range list {
		p := &list[i]
		// A server that ignores modified_after returns everything.
		if !q.Since.IsZero() && p.DateModifiedGMT.time().Before(q.Since) {
			continue
		}
		prod, err := c.product(ctx, p, cur)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, prod)
	}
	out.Next = nextPage(page, r, len(list), c.perPage)
	return out, nil
}

func (c *Client) product(ctx context.Context, p *wooProduct, cur string) (connector.Product, error) {
	out := connector.Product{ExternalID: string(p.ID), Name: strings.TrimSpace(string(p.Name)), Handle: string(p.Slug),
		SKU: string(p.SKU), Currency: cur, UpdatedAt: p.DateModifiedGMT.time()}
	if out.ExternalID == "" {
		return out, connector.Errorf(connector.Permanent, "WooCommerce sent a product without id.")
	}
	if out.Name == "" {
		out.Name = "Product " + out.ExternalID
	}
	out.Description = plain(string(p.Description))
	if out.Description == "" {
		out.Description = plain(string(p.Short))
	}
	switch p.Status {
	case "publish":
		out.Status = "active"
	case "trash":
		out.Status = "archived"
	default:
		out.Status = "draft"
	}
	if len(p.Categories) > 0 {
		out.ProductType = string(p.Categories[0].Name)
	}
	for _, t := range p.Tags {
		if t.Name != "" {
			out.Tags = append(out.Tags, string(t.Name))
		}
	}
	if len(p.Images) > 0 {
		out.ImageURL = string(p.Images[0].Src)
	}
	price, err := amount(p.Price, cur)
	if err != nil {
		return out, connector.Errorf(connector.Permanent, "Product %s has an unreadable price: %v", out.ExternalID, err)
	}
	out.Price = price
	if p.Type == "variable" && len(p.Variations) > 0 {
		vars, err := c.variations(ctx, out.ExternalID, cur)
		if err != nil {
			return out, err
		}
		out.Variants = vars
		for i, v := range vars {
			if i == 0 || v.Price < out.Price {
				out.Price = v.Price
			}
			if out.SKU == "" {
				out.SKU = v.SKU
			}
		}
	} else {
		out.Variants = []connector.Variant{{ExternalID: out.ExternalID, SKU: out.SKU, Title: out.Name, Price: price}}
	}
	return out, nil
}

// maxVariationPages bounds the variations read for one product (100 per
// page).
const maxVariationPages = 20

func (c *Client) variations(ctx context.Context, productID, cur string) ([]connector.Variant, error) {
	var out []connector.Variant
	for page := 1; page <= maxVariationPages; page++ {
		var list []wooVariation
		r, err := c.get(ctx, "/products/"+url.PathEscape(productID)+"/variations",
			url.Values{"per_page": {strconv.Itoa(c.perPage)}, "page": {strconv.Itoa(page)}, "orderby": {"id"}, "order": {"asc"}}, &list)
		if err != nil {
			return nil, err
		}
		for _, v := range list {
			price, err := amount(v.Price, cur)
			if err != nil {
				return nil, connector.Errorf(connector.Permanent, "Variation %s of product %s has an unreadable price: %v", v.ID, productID, err)
			}
			var opts []string
			for _, a := range v.Attributes {
				if a.Option != "" {
					opts = append(opts, string(a.Option))
				}
			}
			out = append(out, connector.Variant{ExternalID: string(v.ID), SKU: string(v.SKU), Title: strings.Join(opts, " / "), Price: price})
		}
		if nextPage(page, r, len(list), c.perPage) == "" {
			return out, nil
		}
	}
	return out, nil
}

// Orders implements connector.Source: orders modified at or after q.Since
// with their refunds. Orders that are not sales (SaleStatus) come back
// Removed, so that an order cancelled after a sync leaves the totals.
func (c *Client) Orders(ctx context.Context, q connector.Query) (connector.Page[connector.Order], error) {
	var out connector.Page[connector.Order]
	page, err := pageNumber(q.Page)
	if err != nil {
		return out, err
	}
	if page == 1 && c.hookURL != "" {
		c.checkWebhooks(ctx)
	}
	var list []wooOrder
	r, err := c.get(ctx, "/orders", c.listQuery(q, page), &list)
	if err != nil {
		return out, err
	}
	for i := range list {
		o := &list[i]
		if !q.Since.IsZero() && o.DateModifiedGMT.time().Before(q.Since) {
			continue
		}
		ord, err := c.order(ctx, o)
		if err != nil {
			return out, err
		}
		out.Items = append(out.Items, ord)
	}
	out.Next = nextPage(page, r, len(list), c.perPage)
	return out, nil
}

// checkWebhooks makes sure the store's order webhooks exist and are
// active; failures become notices, not sync failures (a key with read
// access may not manage webhooks).
func (c *Client) checkWebhooks(ctx context.Context) {
	rep, err := c.EnsureWebhooks(ctx, c.hookURL, c.hookKey)
	switch {
	case err != nil:
		c.log.Warn("woocommerce: check webhooks", "err", err)
		c.notice("PhantomOS could not check the store's webhooks (" + connector.UserMessage(err) + "); orders still arrive with each sync.")
	case len(rep.Recreated) > 0:
		c.notice(fmt.Sprintf("WooCommerce had disabled %d of PhantomOS's webhooks after failed deliveries; they were re-created.", len(rep.Recreated)))
	}
}

// Order reads one order with its refunds, for a webhook. An order
// WooCommerce no longer has comes back Removed.
func (c *Client) Order(ctx context.Context, id string) (connector.Order, error) {
	if _, err := strconv.ParseUint(id, 10, 64); err != nil {
		return connector.Order{}, connector.Errorf(connector.Permanent, "%q is not a WooCommerce order id.", clip(id, 40))
	}
	var o wooOrder
	_, err := c.get(ctx, "/orders/"+id, nil, &o)
	var ce *connector.Error
	if errors.As(err, &ce) && ce.Status == http.StatusNotFound && ce.Kind == connector.Permanent {
		return connector.Order{ExternalID: id, Removed: true}, nil
	}
	if err != nil {
		return connector.Order{}, err
	}
	return c.order(ctx, &o)
}

// order maps an order, reading its refunds when it has any.
func (c *Client) order(ctx context.Context, o *wooOrder) (connector.Order, error) {
	id := string(o.ID)
	if id == "" {
		return connector.Order{}, connector.Errorf(connector.Permanent, "WooCommerce sent an order without id.")
	}
	cur := strings.ToUpper(strings.TrimSpace(string(o.Currency)))
	out := connector.Order{ExternalID: id, Name: "#" + string(o.Number), CreatedAt: o.DateCreatedGMT.time(), UpdatedAt: o.DateModifiedGMT.time(),
		Currency: cur, PresentmentCurrency: cur, Channel: "woocommerce"}
	if o.Number == "" {
		out.Name = "#" + id
	}
	if out.UpdatedAt.IsZero() {
		out.UpdatedAt = out.CreatedAt
	}
	if !SaleStatus(string(o.Status), !o.DatePaidGMT.time().IsZero()) {
		out.Removed = true
		return out, nil
	}
	if cur == "" || out.CreatedAt.IsZero() {
		return out, connector.Errorf(connector.Permanent, "WooCommerce order %s has no currency or creation date.", id)
	}
	for _, a := range []*wooAddress{o.Shipping, o.Billing} {
		if a == nil || a.Country == "" {
			continue
		}
		if cc, err := ingest.ParseCountry(string(a.Country)); err == nil {
			out.Country, out.Region = cc, clip(string(a.State), 100)
			break
		}
	}
	var refunds []wooRefund
	if len(o.Refunds) > 0 {
		var err error
		if refunds, err = c.refunds(ctx, id); err != nil {
			return out, err
		}
	}
	lines, err := mapLines(o, refunds, cur)
	if err != nil {
		return out, connector.Errorf(connector.Permanent, "WooCommerce order %s: %v", id, err)
	}
	out.Lines = lines
	return out, nil
}

// maxRefundPages bounds the refunds read for one order.
const maxRefundPages = 10

func (c *Client) refunds(ctx context.Context, orderID string) ([]wooRefund, error) {
	var out []wooRefund
	for page := 1; page <= maxRefundPages; page++ {
		var list []wooRefund
		r, err := c.get(ctx, "/orders/"+orderID+"/refunds",
			url.Values{"per_page": {strconv.Itoa(c.perPage)}, "page": {strconv.Itoa(page)}}, &list)
		if err != nil {
			return nil, err
		}
		out = append(out, list...)
		if nextPage(page, r, len(list), c.perPage) == "" {
			break
		}
	}
	return out, nil
}

// mapLines computes an order's lines. WooCommerce keeps a line's subtotal
// (before discounts) and total (after) without tax whether or not the
// store's prices include tax (prices_include_tax only says how they were
// entered), so Gross is the subtotal and Discount the difference, in both
// modes; the tax is the line's total_tax. Refund lines point to the line
// they refund through the _refunded_item_id meta (negative amounts); a
// refunded order's lines are refunded whole, whatever its refunds itemise.
// The order's shipping is shared over the lines by their net value.
func mapLines(o *wooOrder, refunds []wooRefund, cur string) ([]connector.OrderLine, error) {
	var lines []connector.OrderLine
	index := map[string]int{}
	for _, li := range o.LineItems {
		l := connector.OrderLine{ExternalID: string(li.ID), ProductExternalID: string(li.ProductID), SKU: string(li.SKU), Name: clip(string(li.Name), 500)}
		if l.ExternalID == "" {
			return nil, errors.New("a line without id")
		}
		if l.ProductExternalID == "0" {
			l.ProductExternalID = "" // a deleted product or a custom line
		}
		if li.VariationID != "" && li.VariationID != "0" {
			l.VariantExternalID = string(li.VariationID)
		}
		var err error
		if l.Quantity, err = quantity(li.Quantity); err != nil {
			return nil, err
		}
		sub, err := amount(li.Subtotal, cur)
		if err != nil {
			return nil, err
		}
		total, err := amount(li.Total, cur)
		if err != nil {
			return nil, err
		}
		if l.Tax, err = amount(li.TotalTax, cur); err != nil {
			return nil, err
		}
		if o.PricesIncludeTax && sub < total {
			// A plugin that stored the subtotal after tax removal but
			// the total before would make a negative discount.
			sub = total
		}
		l.Gross, l.Discount = sub, max(sub-total, 0)
		if l.Quantity > 0 {
			l.UnitPrice = sub / l.Quantity
		}
		index[l.ExternalID] = len(lines)
		lines = append(lines, l)
	}
	var lastRefund time.Time
	for _, r := range refunds {
		at := r.DateCreatedGMT.time()
		if at.After(lastRefund) {
			lastRefund = at
		}
		var itemised int64
		for _, rl := range r.LineItems {
			target := ""
			for _, m := range rl.MetaData {
				if m.Key == "_refunded_item_id" {
					target = strings.TrimSpace(string(m.Value))
				}
			}
			i, ok := index[target]
			if !ok {
				i, ok = matchProduct(lines, string(rl.ProductID), string(rl.VariationID))
			}
			total, err := amount(rl.Total, cur)
			if err != nil {
				return nil, err
			}
			tax, err := amount(rl.TotalTax, cur)
			if err != nil {
				return nil, err
			}
			itemised += -total - tax
			if !ok {
				continue
			}
			q, err := quantity(rl.Quantity)
			if err != nil {
				return nil, err
			}
			l := &lines[i]
			l.Refunded += -total
			l.RefundedQuantity += -q
			if at.After(l.RefundedAt) {
				l.RefundedAt = at
			}
		}
		amt, err := amount(r.Amount, cur)
		if err != nil {
			return nil, err
		}
		// What a refund returned beyond its itemised lines (shipping,
		// fees, an amount typed by hand) is kept out of Net.
		if rest := amt - itemised; rest > 0 && len(lines) > 0 {
			shares := share(rest, lines)
			for i := range lines {
				lines[i].ChargesRefunded += shares[i]
			}
		}
	}
	refundedWhole := strings.EqualFold(string(o.Status), "refunded")
	for i := range lines {
		l := &lines[i]
		left := l.Gross - l.Discount
		if refundedWhole {
			l.Refunded, l.RefundedQuantity, l.ChargesRefunded = left, l.Quantity, 0
			if l.RefundedAt.IsZero() {
				l.RefundedAt = lastRefund
			}
		}
		l.Refunded = min(max(l.Refunded, 0), left)
		l.RefundedQuantity = min(max(l.RefundedQuantity, 0), l.Quantity)
		l.Net = l.Gross - l.Discount - l.Refunded
	}
	shipping, err := amount(o.ShippingTotal, cur)
	if err != nil {
		return nil, err
	}
	if shipping > 0 && len(lines) > 0 {
		for i, s := range share(shipping, lines) {
			lines[i].Shipping = s
		}
	}
	for i := range lines {
		l := &lines[i]
		l.Presentment = connector.Amounts{Currency: cur, Gross: l.Gross, Discount: l.Discount, Refunded: l.Refunded, Net: l.Net}
	}
	return lines, nil
}

// matchProduct finds the line of a refund line that does not say which
// line it refunds (older WooCommerce versions): the first with its product
// and variation.
func matchProduct(lines []connector.OrderLine, product, variation string) (int, bool) {
	if variation == "0" {
		variation = ""
	}
	for i, l := range lines {
		if product != "" && product != "0" && l.ProductExternalID == product && l.VariantExternalID == variation {
			return i, true
		}
	}
	return 0, false
}

// share splits amount over lines in proportion to their value before
// refunds, the remainder going to the largest shares, so the parts add up
// exactly.
func share(total int64, lines []connector.OrderLine) []int64 {
	out := make([]int64, len(lines))
	var base int64
	for _, l := range lines {
		base += max(l.Gross-l.Discount, 0)
	}
	if base == 0 {
		out[0] = total
		return out
	}
	type rem struct {
		i int
		r int64
	}
	var given int64
	rems := make([]rem, len(lines))
	for i, l := range lines {
		w := max(l.Gross-l.Discount, 0)
		out[i] = total * w / base
		given += out[i]
		rems[i] = rem{i, total * w % base}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for k := 0; given < total; k++ {
		out[rems[k%len(rems)].i]++
		given++
	}
	return out
}

// OrderIDs implements connector.OrderLister: the ids of the orders created
// in [from, to), trashed ones excepted (WooCommerce lists every other
// status by default).
func (c *Client) OrderIDs(ctx context.Context, from, to time.Time) ([]string, error) {
	var ids []string
	seen := map[string]bool{}
	for page := 1; ; page++ {
		if page > 10_000 {
			return nil, connector.Errorf(connector.Permanent, "WooCommerce keeps answering with more pages of orders.")
		}
		var list []struct {
			ID             str  `json:"id"`
			DateCreatedGMT date `json:"date_created_gmt"`
		}
		q := url.Values{"per_page": {strconv.Itoa(c.perPage)}, "page": {strconv.Itoa(page)}, "orderby": {"id"}, "order": {"asc"},
			"after": {gmt(from.Add(-time.Second))}, "before": {gmt(to)}, "dates_are_gmt": {"true"}, "_fields": {"id,date_created_gmt"}}
		r, err := c.get(ctx, "/orders", q, &list)
		if err != nil {
			return nil, err
		}
		for _, o := range list {
			at := o.DateCreatedGMT.time()
			if o.ID == "" || seen[string(o.ID)] || (!at.IsZero() && (at.Before(from) || !at.Before(to))) {
				continue
			}
			seen[string(o.ID)] = true
			ids = append(ids, string(o.ID))
		}
		if nextPage(page, r, len(list), c.perPage) == "" {
			return ids, nil
		}
	}
}
