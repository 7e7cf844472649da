package bigcommerce

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/phantomos/phantomos/internal/connector"
)

// pageToken is where a pass stands: the next request asks for records
// modified at or after Modified, page Page of that query. After each page
// Modified moves to just before the page's last modification time
// (re-reading those records is idempotent), so that orders modified while a
// pass runs, which move to its end, are not skipped the way page numbers
// alone would skip them. Page grows only when a whole page shares one
// modification time.
type pageToken struct {
	Modified time.Time `json:"m"`
	Page     int       `json:"p"`
}

func (t pageToken) String() string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

func parseToken(s string, since time.Time) (pageToken, error) {
	if s == "" {
		return pageToken{Modified: since, Page: 1}, nil
	}
	var t pageToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &t) != nil || t.Page < 1 {
		return t, connector.Errorf(connector.Permanent, "The stored BigCommerce page position is not readable.")
	}
	return t, nil
}

// nextToken returns the token after a page whose records were modified
// up to last, or "" when the page was the last one. The next query starts
// a second before last: dates have one-second resolution, and this
// re-reads last's second whether BigCommerce's min filters include their
// bound or not. Each token either raises Modified or the page, so a pass
// ends.
func nextToken(cur pageToken, n, limit int, last time.Time) string {
	if n < limit {
		return ""
	}
	if from := last.Add(-time.Second); from.After(cur.Modified) {
		return pageToken{Modified: from, Page: 1}.String()
	}
	return pageToken{Modified: cur.Modified, Page: cur.Page + 1}.String()
}

// storeInfo is /v2/store.
type storeInfo struct {
	ID        string `json:"id"`
	Domain    string `json:"domain"`
	SecureURL string `json:"secure_url"`
	Name      string `json:"name"`
	Currency  string `json:"currency"`
}

// Test reads the store's profile: it proves the token works for this
// store and the order and product scopes are granted.
func (c *Client) Test(ctx context.Context) (connector.Account, error) {
	var s storeInfo
	if _, err := c.get(ctx, "/v2/store", &s); err != nil {
		return connector.Account{}, err
	}
	// Reading one order and one product checks the scopes a sync needs.
	if _, err := c.get(ctx, "/v2/orders?limit=1", nil); err != nil {
		return connector.Account{}, err
	}
	if _, err := c.get(ctx, "/v3/catalog/products?limit=1", nil); err != nil {
		return connector.Account{}, err
	}
	c.mu.Lock()
	c.currency = strings.ToUpper(s.Currency)
	c.mu.Unlock()
	domain := s.Domain
	if domain == "" {
		domain = "store-" + c.hash + ".mybigcommerce.com"
	}
	return connector.Account{Name: s.Name, Domain: domain, Currency: strings.ToUpper(s.Currency), APIVersion: "v2/v3"}, nil
}

// storeCurrency returns the store's default currency, reading it once.
func (c *Client) storeCurrency(ctx context.Context) (string, error) {
	c.mu.Lock()
	cur := c.currency
	c.mu.Unlock()
	if cur != "" {
		return cur, nil
	}
	var s storeInfo
	if _, err := c.get(ctx, "/v2/store", &s); err != nil {
		return "", err
	}
	if s.Currency == "" {
		return "", connector.Errorf(connector.Permanent, "BigCommerce did not say the store's currency.")
	}
	c.mu.Lock()
	c.currency = strings.ToUpper(s.Currency)
	c.mu.Unlock()
	return strings.ToUpper(s.Currency), nil
}

// v3Page is the envelope of V3 lists.
type v3Page[T any] struct {
	Data []T `json:"data"`
	Meta struct {
		Pagination struct {
			Total       int `json:"total"`
			Count       int `json:"count"`
			PerPage     int `json:"per_page"`
			CurrentPage int `json:"current_page"`
			TotalPages  int `json:"total_pages"`
		} `json:"pagination"`
	} `json:"meta"`
}

type v3Product struct {
	ID           json.Number `json:"id"`
	Name         string      `json:"name"`
	Type         string      `json:"type"`
	SKU          string      `json:"sku"`
	Description  string      `json:"description"`
	Price        json.Number `json:"price"`
	IsVisible    bool        `json:"is_visible"`
	Availability string      `json:"availability"`
	DateModified string      `json:"date_modified"`
	SearchTerms  string      `json:"search_keywords"`
	CustomURL    *struct {
		URL string `json:"url"`
	} `json:"custom_url"`
	Variants []v3Variant `json:"variants"`
	Images   []struct {
		URLStandard string `json:"url_standard"`
		IsThumbnail bool   `json:"is_thumbnail"`
	} `json:"images"`
}

type v3Variant struct {
	ID              json.Number  `json:"id"`
	SKU             string       `json:"sku"`
	Price           *json.Number `json:"price"`
	CalculatedPrice json.Number  `json:"calculated_price"`
	OptionValues    []struct {
		Label string `json:"label"`
	} `json:"option_values"`
}

// Products lists catalog products (V3) with their variants, oldest
// modification first.
func (c *Client) Products(ctx context.Context, q connector.Query) (connector.Page[connector.Product], error) {
	var out connector.Page[connector.Product]
	cur, err := c.storeCurrency(ctx)
	if err != nil {
		return out, err
	}
	tok, err := parseToken(q.Page, q.Since)
	if err != nil {
		return out, err
	}
	v := url.Values{"include": {"variants,images"}, "sort": {"date_modified"}, "direction": {"asc"},
		"limit": {strconv.Itoa(c.limit)}, "page": {strconv.Itoa(tok.Page)}}
	if !tok.Modified.IsZero() {
		v.Set("date_modified:min", tok.Modified.UTC().Format(time.RFC3339))
	}
	var page v3Page[v3Product]
	if _, err := c.get(ctx, "/v3/catalog/products?"+v.Encode(), &page); err != nil {
		return out, err
	}
	var last time.Time
	for _, p := range page.Data {
		m, err := p.connector(cur)
		if err != nil {
			return out, &connector.Error{Kind: connector.Permanent, Message: fmt.Sprintf("BigCommerce product %s could not be read: %v", p.ID, err), Err: err}
		}
		out.Items = append(out.Items, m)
		if m.UpdatedAt.After(last) {
			last = m.UpdatedAt
		}
	}
	out.Next = nextToken(tok, len(page.Data), c.limit, last)
	return out, nil
}

func (p *v3Product) connector(cur string) (connector.Product, error) {
	mod, err := parseDate(p.DateModified)
	if err != nil {
		return connector.Product{}, err
	}
	status := "active"
	if !p.IsVisible || p.Availability == "disabled" {
		status = "draft"
	}
	out := connector.Product{ExternalID: p.ID.String(), Name: p.Name, Description: htmlText(p.Description), SKU: p.SKU,
		ProductType: p.Type, Status: status, Currency: cur, UpdatedAt: mod}
	if out.ExternalID == "" || out.Name == "" {
		return out, errors.New("a product has no id or name")
	}
	if p.CustomURL != nil {
		out.Handle = strings.Trim(p.CustomURL.URL, "/")
	}
	for _, im := range p.Images {
		if out.ImageURL == "" || im.IsThumbnail {
			out.ImageURL = im.URLStandard
		}
	}
	base, err := connector.Minor(p.Price.String(), cur)
	if err != nil {
		return out, err
	}
	out.Price = base
	for i, v := range p.Variants {
		price := base
		if v.Price != nil && v.Price.String() != "" {
			if price, err = connector.Minor(v.Price.String(), cur); err != nil {
				return out, err
			}
		}
		var labels []string
		for _, o := range v.OptionValues {
			labels = append(labels, o.Label)
		}
		out.Variants = append(out.Variants, connector.Variant{ExternalID: v.ID.String(), SKU: v.SKU, Title: strings.Join(labels, " / "), Price: price})
		if out.SKU == "" {
			out.SKU = v.SKU
		}
		if i == 0 || price < out.Price {
			out.Price = price
		}
	}
	return out, nil
}

// htmlText strips tags from a product description.
func htmlText(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
			b.WriteRune(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// Order statuses (status_id) that are not sales: the checkout was not
// finished (Incomplete, Pending) or the merchant declined the order.
// Cancelled orders keep their lines, refunded in full, as Shopify
// cancellations do; refunds are read from the refunds themselves.
const (
	statusIncomplete = 0
	statusPending    = 1
	statusCancelled  = 5
	statusDeclined   = 6
)

type v2Address struct {
	CountryISO2 string `json:"country_iso2"`
	State       string `json:"state"`
}

type v2Order struct {
	ID                   json.Number `json:"id"`
	DateCreated          string      `json:"date_created"`
	DateModified         string      `json:"date_modified"`
	StatusID             int         `json:"status_id"`
	Status               string      `json:"status"`
	CurrencyCode         string      `json:"currency_code"`
	DefaultCurrencyCode  string      `json:"default_currency_code"`
	IsDeleted            bool        `json:"is_deleted"`
	OrderSource          string      `json:"order_source"`
	ShippingCostExTax    json.Number `json:"shipping_cost_ex_tax"`
	HandlingCostExTax    json.Number `json:"handling_cost_ex_tax"`
	WrappingCostExTax    json.Number `json:"wrapping_cost_ex_tax"`
	BillingAddress       *v2Address  `json:"billing_address"`
	GeoipCountryISO2     string      `json:"geoip_country_iso2"`
	ShippingAddressCount int         `json:"shipping_address_count"`
}

type v2OrderProduct struct {
	ID               json.Number `json:"id"`
	OrderID          json.Number `json:"order_id"`
	ProductID        json.Number `json:"product_id"`
	VariantID        json.Number `json:"variant_id"`
	Name             string      `json:"name"`
	SKU              string      `json:"sku"`
	BasePrice        json.Number `json:"base_price"`
	PriceExTax       json.Number `json:"price_ex_tax"`
	PriceIncTax      json.Number `json:"price_inc_tax"`
	TotalExTax       json.Number `json:"total_ex_tax"`
	TotalIncTax      json.Number `json:"total_inc_tax"`
	TotalTax         json.Number `json:"total_tax"`
	Quantity         int64       `json:"quantity"`
	AppliedDiscounts []struct {
		Amount json.Number `json:"amount"`
	} `json:"applied_discounts"`
}

type v3Refund struct {
	ID      json.Number `json:"id"`
	OrderID json.Number `json:"order_id"`
	Created string      `json:"created"`
	Items   []struct {
		ItemType        string       `json:"item_type"`
		ItemID          json.Number  `json:"item_id"`
		Quantity        int64        `json:"quantity"`
		RequestedAmount *json.Number `json:"requested_amount"`
	} `json:"items"`
	TotalAmount json.Number `json:"total_amount"`
}

// Orders lists orders (V2) modified at or after q.Since, oldest
// modification first, each with its lines and refunds. Orders that are not
// sales (incomplete, pending, declined) and deleted (archived) orders come
// as Removed, as of their modification: the sink removes their stored
// lines in the same page write, unless a newer version is stored.
func (c *Client) Orders(ctx context.Context, q connector.Query) (connector.Page[connector.Order], error) {
	var out connector.Page[connector.Order]
	cur, err := c.storeCurrency(ctx)
	if err != nil {
		return out, err
	}
	tok, err := parseToken(q.Page, q.Since)
	if err != nil {
		return out, err
	}
	v := url.Values{"sort": {"date_modified:asc"}, "limit": {strconv.Itoa(c.orderLimit)}, "page": {strconv.Itoa(tok.Page)}}
	if !tok.Modified.IsZero() {
		v.Set("min_date_modified", tok.Modified.UTC().Format(rfc2822))
	}
	var list []v2Order
	if _, err := c.get(ctx, "/v2/orders?"+v.Encode(), &list); err != nil {
		return out, err
	}
	var last time.Time
	var ids []string
	for _, o := range list {
		mod, err := parseDate(o.DateModified)
		if err != nil {
			return out, &connector.Error{Kind: connector.Permanent, Message: fmt.Sprintf("BigCommerce order %s has an unreadable date.", o.ID), Err: err}
		}
		if mod.After(last) {
			last = mod
		}
		if keep(&o) {
			ids = append(ids, o.ID.String())
		}
	}
	refunds, err := c.refunds(ctx, ids)
	if err != nil {
		return out, err
	}
	for i := range list {
		o := &list[i]
		if !keep(o) {
			mod, _ := parseDate(o.DateModified) // read above
			out.Items = append(out.Items, connector.Order{ExternalID: o.ID.String(), UpdatedAt: mod, Removed: true})
			continue
		}
		lines, err := c.orderProducts(ctx, o.ID.String())
		if err != nil {
			return out, err
		}
		m, err := mapOrder(o, lines, refunds[o.ID.String()], cur)
		if err != nil {
			return out, &connector.Error{Kind: connector.Permanent, Message: fmt.Sprintf("BigCommerce order %s could not be read: %v", o.ID, err), Err: err}
		}
		out.Items = append(out.Items, m)
	}
	out.Next = nextToken(tok, len(list), c.orderLimit, last)
	return out, nil
}

// keep reports whether o is a sale to store: not deleted, not an
// unfinished or declined checkout.
func keep(o *v2Order) bool {
	if o.IsDeleted {
		return false
	}
	switch o.StatusID {
	case statusIncomplete, statusPending, statusDeclined:
		return false
	}
	return true
}

// Order reads one order with its lines and refunds (webhooks). gone is
// true when the order no longer counts: deleted (archived or not found),
// or not a sale; the order is then Removed (as of its modification, when
// BigCommerce still has it).
func (c *Client) Order(ctx context.Context, id string) (o connector.Order, gone bool, err error) {
	if _, err := strconv.ParseUint(id, 10, 63); err != nil {
		return o, false, connector.Errorf(connector.Permanent, "%q is not a BigCommerce order id.", id)
	}
	cur, err := c.storeCurrency(ctx)
	if err != nil {
		return o, false, err
	}
	var raw v2Order
	if _, err := c.get(ctx, "/v2/orders/"+id, &raw); err != nil {
		if ce, ok := errors.AsType[*connector.Error](err); ok && ce.Status == 404 {
			return connector.Order{ExternalID: id, Removed: true}, true, nil
		}
		return o, false, err
	}
	if !keep(&raw) {
		mod, err := parseDate(raw.DateModified)
		if err != nil {
			return o, false, &connector.Error{Kind: connector.Permanent, Message: fmt.Sprintf("BigCommerce order %s has an unreadable date.", id), Err: err}
		}
		return connector.Order{ExternalID: id, UpdatedAt: mod, Removed: true}, true, nil
	}
	lines, err := c.orderProducts(ctx, id)
	if err != nil {
		return o, false, err
	}
	refunds, err := c.refunds(ctx, []string{id})
	if err != nil {
		return o, false, err
	}
	o, err = mapOrder(&raw, lines, refunds[id], cur)
	if err != nil {
		return o, false, &connector.Error{Kind: connector.Permanent, Message: fmt.Sprintf("BigCommerce order %s could not be read: %v", id, err), Err: err}
	}
	return o, false, nil
}

// orderProducts reads every line of an order.
func (c *Client) orderProducts(ctx context.Context, id string) ([]v2OrderProduct, error) {
	var all []v2OrderProduct
	for page := 1; ; page++ {
		var lines []v2OrderProduct
		empty, err := c.get(ctx, fmt.Sprintf("/v2/orders/%s/products?limit=%d&page=%d", id, c.limit, page), &lines)
		if err != nil {
			return nil, err
		}
		all = append(all, lines...)
		if empty || len(lines) < c.limit {
			return all, nil
		}
		if page >= maxPages {
			return nil, connector.Errorf(connector.Permanent, "BigCommerce order %s has too many lines.", id)
		}
	}
}

// refunds reads the refunds of the given orders (V3), by order id.
func (c *Client) refunds(ctx context.Context, ids []string) (map[string][]v3Refund, error) {
	out := map[string][]v3Refund{}
	// A URL stays well under limits with 50 ids per request.
	for start := 0; start < len(ids); start += 50 {
		chunk := ids[start:min(start+50, len(ids))]
		for page := 1; ; page++ {
			v := url.Values{"order_id:in": {strings.Join(chunk, ",")}, "limit": {strconv.Itoa(c.limit)}, "page": {strconv.Itoa(page)}}
			var p v3Page[v3Refund]
			if _, err := c.get(ctx, "/v3/orders/payment_actions/refunds?"+v.Encode(), &p); err != nil {
				return nil, err
			}
			for _, r := range p.Data {
				out[r.OrderID.String()] = append(out[r.OrderID.String()], r)
			}
			if p.Meta.Pagination.TotalPages <= page || len(p.Data) == 0 {
				break
			}
			if page >= maxPages {
				return nil, connector.Errorf(connector.Permanent, "BigCommerce listed more than %d pages of refunds for %d orders.", maxPages, len(chunk))
			}
		}
	}
	return out, nil
}

// OrderIDs lists the ids of the orders created in [from, to) that count
// as sales, for the engine's reconciliation.
func (c *Client) OrderIDs(ctx context.Context, from, to time.Time) ([]string, error) {
	var ids []string
	for page := 1; ; page++ {
		v := url.Values{"min_date_created": {from.UTC().Format(rfc2822)}, "max_date_created": {to.UTC().Format(rfc2822)},
			"sort": {"id:asc"}, "limit": {strconv.Itoa(c.limit)}, "page": {strconv.Itoa(page)}}
		var list []v2Order
		empty, err := c.get(ctx, "/v2/orders?"+v.Encode(), &list)
		if err != nil {
			return nil, err
		}
		for i := range list {
			if keep(&list[i]) {
				ids = append(ids, list[i].ID.String())
			}
		}
		if empty || len(list) < c.limit {
			return ids, nil
		}
		if page >= maxPages {
			return nil, connector.Errorf(connector.Permanent, "BigCommerce listed more than %d pages of orders for one month.", maxPages)
		}
	}
}

// maxPages bounds the pages one listing may take, against a server that
// never stops answering full pages.
const maxPages = 4000

// mapOrder turns a V2 order, its lines and its V3 refunds into a
// connector.Order in the order's currency:
//
//	gross    = price_ex_tax × quantity, without tax also in stores whose
//	           prices include it
//	discount = the line's applied discounts, without their tax share in
//	           tax-inclusive stores (where base_price is price_inc_tax)
//	refunded = per product refund item: requested_amount without its tax
//	           share, else quantity × the line's net unit price; all that
//	           is left when the order was cancelled; at most gross − discount
//	tax      = total_tax; shipping = shipping, handling and wrapping (ex
//	           tax) spread by gross; refunds of anything but products
//	           (shipping, handling, order-level amounts) are ChargesRefunded,
//	           spread by gross and kept out of net.
func mapOrder(o *v2Order, products []v2OrderProduct, refunds []v3Refund, storeCurrency string) (connector.Order, error) {
	created, err := parseDate(o.DateCreated)
	if err != nil {
		return connector.Order{}, err
	}
	modified, err := parseDate(o.DateModified)
	if err != nil {
		return connector.Order{}, err
	}
	cur := strings.ToUpper(o.DefaultCurrencyCode)
	if cur == "" {
		cur = strings.ToUpper(o.CurrencyCode)
	}
	if cur == "" {
		cur = storeCurrency
	}
	out := connector.Order{ExternalID: o.ID.String(), Name: "#" + o.ID.String(), CreatedAt: created, ProcessedAt: created, UpdatedAt: modified,
		Currency: cur, PresentmentCurrency: strings.ToUpper(o.CurrencyCode), Channel: "bigcommerce"}
	if out.PresentmentCurrency == "" {
		out.PresentmentCurrency = cur
	}
	if o.BillingAddress != nil {
		out.Country, out.Region = strings.ToUpper(o.BillingAddress.CountryISO2), o.BillingAddress.State
	}
	if o.StatusID == statusCancelled {
		at := modified
		out.CancelledAt = &at
	}
	m := func(n json.Number) (int64, error) { return connector.Minor(n.String(), cur) }
	byID := map[string]int{}
	var grossSum int64
	for _, p := range products {
		unit, err := m(p.PriceExTax)
		if err != nil {
			return out, err
		}
		inc, err := m(p.PriceIncTax)
		if err != nil {
			return out, err
		}
		base, err := m(p.BasePrice)
		if err != nil {
			return out, err
		}
		tax, err := m(p.TotalTax)
		if err != nil {
			return out, err
		}
		if p.Quantity < 0 || p.Quantity > 1_000_000 {
			return out, fmt.Errorf("line %s has quantity %d", p.ID, p.Quantity)
		}
		l := connector.OrderLine{ExternalID: p.ID.String(), SKU: p.SKU, Name: p.Name, Quantity: p.Quantity, UnitPrice: unit,
			Gross: unit * p.Quantity, Tax: tax}
		if id := p.ProductID.String(); id != "" && id != "0" {
			l.ProductExternalID = id
		}
		if id := p.VariantID.String(); id != "" && id != "0" {
			l.VariantExternalID = id
		}
		taxInclusive := inc != unit && base == inc && inc > 0
		for _, d := range p.AppliedDiscounts {
			a, err := m(d.Amount)
			if err != nil {
				return out, err
			}
			if taxInclusive {
				a = mulDiv(a, unit, inc)
			}
			l.Discount += a
		}
		l.Discount = min(max(l.Discount, 0), l.Gross)
		l.Presentment.Currency = out.PresentmentCurrency
		byID[l.ExternalID] = len(out.Lines)
		grossSum += l.Gross
		out.Lines = append(out.Lines, l)
	}
	var shipping int64
	for _, n := range []json.Number{o.ShippingCostExTax, o.HandlingCostExTax, o.WrappingCostExTax} {
		v, err := m(n)
		if err != nil {
			return out, err
		}
		shipping += v
	}
	spread(out.Lines, shipping, grossSum, func(l *connector.OrderLine, v int64) { l.Shipping += v })
	var charges int64
	for _, r := range refunds {
		at, err := parseDate(r.Created)
		if err != nil {
			return out, err
		}
		for _, it := range r.Items {
			var req int64
			if it.RequestedAmount != nil && it.RequestedAmount.String() != "" {
				if req, err = m(*it.RequestedAmount); err != nil {
					return out, err
				}
			}
			i, ok := byID[it.ItemID.String()]
			if strings.ToUpper(it.ItemType) != "PRODUCT" || !ok {
				charges += req
				continue
			}
			l := &out.Lines[i]
			var amt int64
			if it.RequestedAmount != nil {
				// What the customer paid for the line is its net plus its
				// tax (computed on the discounted price); the refund
				// returns both in that proportion.
				paid := l.Gross - l.Discount
				amt = mulDiv(req, paid, paid+l.Tax)
			} else if l.Quantity > 0 {
				amt = mulDiv(l.Gross-l.Discount, it.Quantity, l.Quantity)
			}
			l.Refunded += max(amt, 0)
			l.RefundedQuantity += it.Quantity
			if at.After(l.RefundedAt) {
				l.RefundedAt = at
			}
		}
	}
	spread(out.Lines, charges, grossSum, func(l *connector.OrderLine, v int64) { l.ChargesRefunded += v })
	for i := range out.Lines {
		l := &out.Lines[i]
		left := l.Gross - l.Discount
		if out.CancelledAt != nil {
			l.Refunded = left
			if l.RefundedAt.IsZero() {
				l.RefundedAt = *out.CancelledAt
			}
		}
		l.Refunded = min(l.Refunded, left)
		l.RefundedQuantity = min(l.RefundedQuantity, l.Quantity)
		l.Net = l.Gross - l.Discount - l.Refunded
		l.Presentment.Gross, l.Presentment.Discount, l.Presentment.Refunded, l.Presentment.Net = l.Gross, l.Discount, l.Refunded, l.Net
	}
	return out, nil
}

// spread shares total among lines in proportion to their gross (equally
// when all are zero), the remainder on the last line.
func spread(lines []connector.OrderLine, total, grossSum int64, add func(*connector.OrderLine, int64)) {
	if total == 0 || len(lines) == 0 {
		return
	}
	left := total
	for i := range lines {
		var v int64
		switch {
		case i == len(lines)-1:
			v = left
		case grossSum > 0:
			v = mulDiv(total, lines[i].Gross, grossSum)
		default:
			v = total / int64(len(lines))
		}
		add(&lines[i], v)
		left -= v
	}
}

// mulDiv returns a × b / c rounded half away from zero; 0 when c is 0.
func mulDiv(a, b, c int64) int64 {
	if c == 0 {
		return 0
	}
	p := new(big.Int).Mul(big.NewInt(a), big.NewInt(b))
	cc := big.NewInt(c)
	q, r := new(big.Int).QuoRem(p, cc, new(big.Int))
	if new(big.Int).Abs(new(big.Int).Lsh(r, 1)).Cmp(new(big.Int).Abs(cc)) >= 0 {
		if p.Sign()*cc.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	if !q.IsInt64() {
		return 0
	}
	return q.Int64()
}
