package shopify

import (
	"cmp"
	"context"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"time"

	"github.com/phantomos/phantomos/internal/connector"
)

// Sizes of nested connections. The first page of an order's lines and
// refunds comes with the order; the rest, rarely needed, is fetched by
// follow-up queries so that ordinary pages stay cheap.
const (
	lineItemsFirst   = 8
	refundsFirst     = 2
	refundLinesFirst = 5

	lineItemsMore   = 50
	refundsMore     = 20
	refundLinesMore = 50
)

// Requested-cost estimates, following Shopify's calculation: an object
// costs 1, a connection 2 plus first × its node's cost, scalars nothing.
const (
	lineCost       = 12            // line, product, variant, price bag (3), discount allocations (4), tax lines (2)
	refundLineCost = 8             // refund line, line item ref, subtotal and tax bags (3 each)
	chargesCost    = 2 * (2 + 2*4) // adjustments and shipping lines: 2 × (node, bag)
)

func linesCost(first int) float64 { return 2 + float64(first)*lineCost }
func refundCost(lines int) float64 {
	return 1 + 2 + float64(lines)*refundLineCost + chargesCost
}
func orderCost(addresses bool) float64 {
	c := 1 + 3 + linesCost(lineItemsFirst) + refundsFirst*refundCost(refundLinesFirst)
	if addresses {
		c += 2
	}
	return c
}

const moneyFragment = `fragment Money on MoneyBag { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }`

const lineFragment = `fragment Line on LineItem {
  id name sku quantity currentQuantity
  product { id }
  variant { id }
  originalUnitPriceSet { ...Money }
  discountAllocations { allocatedAmountSet { ...Money } }
  taxLines { priceSet { ...Money } }
}`

const refundLineFragment = `fragment RefundLine on RefundLineItem { quantity lineItem { id } subtotalSet { ...Money } totalTaxSet { ...Money } }`

// refundCharges selects what a refund returned beyond merchandise.
const refundCharges = `orderAdjustments(first: 2) { nodes { amountSet { ...Money } } } refundShippingLines(first: 2) { nodes { subtotalAmountSet { ...Money } } }`

func ordersQuery(addresses bool) string {
	addr := ""
	if addresses {
		addr = "\n      shippingAddress { countryCodeV2 provinceCode }\n      billingAddress { countryCodeV2 provinceCode }"
	}
	return fmt.Sprintf(`query Orders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id name createdAt processedAt updatedAt cancelledAt test currencyCode presentmentCurrencyCode taxesIncluded
      totalShippingPriceSet { ...Money }%s
      lineItems(first: %d) { pageInfo { hasNextPage endCursor } nodes { ...Line } }
      refunds(first: %d) { id createdAt refundLineItems(first: %d) { pageInfo { hasNextPage endCursor } nodes { ...RefundLine } } %s }
    }
  }
}
%s
%s
%s`, addr, lineItemsFirst, refundsFirst, refundLinesFirst, refundCharges, lineFragment, refundLineFragment, moneyFragment)
}

var orderLinesQuery = fmt.Sprintf(`query OrderLines($id: ID!, $after: String) {
  order(id: $id) { lineItems(first: %d, after: $after) { pageInfo { hasNextPage endCursor } nodes { ...Line } } }
}
%s
%s`, lineItemsMore, lineFragment, moneyFragment)

var orderRefundsQuery = fmt.Sprintf(`query OrderRefunds($id: ID!) {
  order(id: $id) { refunds(first: %d) { id createdAt refundLineItems(first: %d) { pageInfo { hasNextPage endCursor } nodes { ...RefundLine } } %s } }
}
%s
%s`, refundsMore, refundLinesFirst, refundCharges, refundLineFragment, moneyFragment)

var refundLinesQuery = fmt.Sprintf(`query RefundLines($id: ID!, $after: String) {
  node(id: $id) { ... on Refund { refundLineItems(first: %d, after: $after) { pageInfo { hasNextPage endCursor } nodes { ...RefundLine } } } }
}
%s
%s`, refundLinesMore, refundLineFragment, moneyFragment)

const productsQuery = `query Products($first: Int!, $after: String, $query: String) {
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id title handle description productType vendor status tags updatedAt
      featuredMedia { preview { image { url } } }
      priceRangeV2 { minVariantPrice { amount currencyCode } }
      variants(first: 10) { nodes { id sku title price } }
    }
  }
}`

// productCost: product, media (3), price range (2), variants 2 + 10.
const productCost = 1 + 3 + 2 + 2 + 10

const shopQuery = `query Shop {
  shop { name myshopifyDomain currencyCode }
  currentAppInstallation { accessScopes { handle } }
}`

type money struct {
	Amount       string `json:"amount"`
	CurrencyCode string `json:"currencyCode"`
}

type moneyBag struct {
	ShopMoney        money `json:"shopMoney"`
	PresentmentMoney money `json:"presentmentMoney"`
}

type pageInfo struct {
	HasNextPage bool   `json:"hasNextPage"`
	EndCursor   string `json:"endCursor"`
}

type idRef struct {
	ID string `json:"id"`
}

type gqlProduct struct {
	ID            string    `json:"id"`
	Title         string    `json:"title"`
	Handle        string    `json:"handle"`
	Description   string    `json:"description"`
	ProductType   string    `json:"productType"`
	Vendor        string    `json:"vendor"`
	Status        string    `json:"status"`
	Tags          []string  `json:"tags"`
	UpdatedAt     time.Time `json:"updatedAt"`
	FeaturedMedia *struct {
		Preview *struct {
			Image *struct {
				URL string `json:"url"`
			} `json:"image"`
		} `json:"preview"`
	} `json:"featuredMedia"`
	PriceRangeV2 struct {
		MinVariantPrice money `json:"minVariantPrice"`
	} `json:"priceRangeV2"`
	Variants struct {
		Nodes []struct {
			ID    string `json:"id"`
			SKU   string `json:"sku"`
			Title string `json:"title"`
			Price string `json:"price"`
		} `json:"nodes"`
	} `json:"variants"`
}

type address struct {
	CountryCodeV2 string `json:"countryCodeV2"`
	ProvinceCode  string `json:"provinceCode"`
}

type gqlOrder struct {
	ID                      string      `json:"id"`
	Name                    string      `json:"name"`
	CreatedAt               time.Time   `json:"createdAt"`
	ProcessedAt             *time.Time  `json:"processedAt"`
	UpdatedAt               time.Time   `json:"updatedAt"`
	CancelledAt             *time.Time  `json:"cancelledAt"`
	Test                    bool        `json:"test"`
	CurrencyCode            string      `json:"currencyCode"`
	PresentmentCurrencyCode string      `json:"presentmentCurrencyCode"`
	TaxesIncluded           bool        `json:"taxesIncluded"`
	TotalShippingPriceSet   *moneyBag   `json:"totalShippingPriceSet"`
	ShippingAddress         *address    `json:"shippingAddress"`
	BillingAddress          *address    `json:"billingAddress"`
	LineItems               lineConn    `json:"lineItems"`
	Refunds                 []gqlRefund `json:"refunds"`
}

type lineConn struct {
	PageInfo pageInfo  `json:"pageInfo"`
	Nodes    []gqlLine `json:"nodes"`
}

type gqlLine struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	SKU      string `json:"sku"`
	Quantity int64  `json:"quantity"`
	// CurrentQuantity excludes units refunded and units removed by order
	// edits; nil when the payload does not carry it.
	CurrentQuantity      *int64   `json:"currentQuantity"`
	Product              *idRef   `json:"product"`
	Variant              *idRef   `json:"variant"`
	OriginalUnitPriceSet moneyBag `json:"originalUnitPriceSet"`
	DiscountAllocations  []struct {
		AllocatedAmountSet moneyBag `json:"allocatedAmountSet"`
	} `json:"discountAllocations"`
	TaxLines []taxLine `json:"taxLines"`
}

type taxLine struct {
	PriceSet moneyBag `json:"priceSet"`
}

type gqlRefund struct {
	ID                  string         `json:"id"`
	CreatedAt           time.Time      `json:"createdAt"`
	RefundLineItems     refundLineConn `json:"refundLineItems"`
	OrderAdjustments    amountConn     `json:"orderAdjustments"`
	RefundShippingLines amountConn     `json:"refundShippingLines"`
}

type refundLineConn struct {
	PageInfo pageInfo        `json:"pageInfo"`
	Nodes    []gqlRefundLine `json:"nodes"`
}

type gqlRefundLine struct {
	Quantity    int64    `json:"quantity"`
	LineItem    idRef    `json:"lineItem"`
	SubtotalSet moneyBag `json:"subtotalSet"`
	TotalTaxSet moneyBag `json:"totalTaxSet"`
}

// amountConn holds what a refund returned beyond merchandise: order
// adjustments (amountSet, negative when money went back) and refunded
// shipping lines (subtotalAmountSet).
type amountConn struct {
	Nodes []amountNode `json:"nodes"`
}

type amountNode struct {
	AmountSet         *moneyBag `json:"amountSet"`
	SubtotalAmountSet *moneyBag `json:"subtotalAmountSet"`
}

// legacyID returns the numeric id of a global id
// ("gid://shopify/Order/450789469" → "450789469"): the same id the REST
// webhooks carry, so records from both key alike.
func legacyID(gid string) string {
	if i := strings.IndexByte(gid, '?'); i >= 0 {
		gid = gid[:i]
	}
	if i := strings.LastIndexByte(gid, '/'); i >= 0 {
		return gid[i+1:]
	}
	return gid
}

// searchSince is the search filter for records updated at or after since.
func searchSince(since time.Time) any {
	if since.IsZero() {
		return nil
	}
	return fmt.Sprintf("updated_at:>='%s'", since.UTC().Truncate(time.Second).Format(time.RFC3339))
}

func after(page string) any {
	if page == "" {
		return nil
	}
	return page
}

// Test implements connector.Source: it reads the shop and the scopes the
// app was granted.
func (c *Client) Test(ctx context.Context) (connector.Account, error) {
	var data struct {
		Shop struct {
			Name            string `json:"name"`
			MyshopifyDomain string `json:"myshopifyDomain"`
			CurrencyCode    string `json:"currencyCode"`
		} `json:"shop"`
		CurrentAppInstallation struct {
			AccessScopes []struct {
				Handle string `json:"handle"`
			} `json:"accessScopes"`
		} `json:"currentAppInstallation"`
	}
	if err := c.query(ctx, shopQuery, nil, 5, &data); err != nil {
		return connector.Account{}, err
	}
	acc := connector.Account{Name: data.Shop.Name, Domain: data.Shop.MyshopifyDomain, Currency: data.Shop.CurrencyCode, APIVersion: c.ServedVersion()}
	for _, s := range data.CurrentAppInstallation.AccessScopes {
		acc.Scopes = append(acc.Scopes, s.Handle)
	}
	var missing []string
	for _, need := range []string{"read_products", "read_orders"} {
		// write_ scopes imply read_ ones.
		if !slices.Contains(acc.Scopes, need) && !slices.Contains(acc.Scopes, "write_"+strings.TrimPrefix(need, "read_")) {
			missing = append(missing, need)
		}
	}
	if len(missing) > 0 {
		return acc, &connector.Error{Kind: connector.Auth, Message: fmt.Sprintf("The Shopify app lacks the %s permission: reconnect the store and approve it (custom apps: enable the scope in the app's Admin API configuration).", strings.Join(missing, " and "))}
	}
	if !slices.Contains(acc.Scopes, "read_all_orders") {
		acc.Notices = append(acc.Notices, "Shopify gives access to the last 60 days of orders only; older history needs the read_all_orders permission, which Shopify grants on request.")
	}
	return acc, nil
}

// Products implements connector.Source.
func (c *Client) Products(ctx context.Context, q connector.Query) (connector.Page[connector.Product], error) {
	var data struct {
		Products struct {
			PageInfo pageInfo     `json:"pageInfo"`
			Nodes    []gqlProduct `json:"nodes"`
		} `json:"products"`
	}
	vars := map[string]any{"first": c.productsPerPage, "after": after(q.Page), "query": searchSince(q.Since)}
	if err := c.query(ctx, productsQuery, vars, 2+float64(c.productsPerPage)*productCost, &data); err != nil {
		return connector.Page[connector.Product]{}, err
	}
	var page connector.Page[connector.Product]
	for _, p := range data.Products.Nodes {
		out, err := mapProduct(&p)
		if err != nil {
			return page, err
		}
		page.Items = append(page.Items, out)
	}
	if data.Products.PageInfo.HasNextPage {
		page.Next = data.Products.PageInfo.EndCursor
	}
	return page, nil
}

func mapProduct(p *gqlProduct) (connector.Product, error) {
	cur := p.PriceRangeV2.MinVariantPrice.CurrencyCode
	out := connector.Product{ExternalID: legacyID(p.ID), Name: p.Title, Description: p.Description, Handle: p.Handle,
		ProductType: p.ProductType, Vendor: p.Vendor, Status: strings.ToLower(p.Status), Currency: cur, Tags: p.Tags, UpdatedAt: p.UpdatedAt.UTC()}
	if p.FeaturedMedia != nil && p.FeaturedMedia.Preview != nil && p.FeaturedMedia.Preview.Image != nil {
		out.ImageURL = p.FeaturedMedia.Preview.Image.URL
	}
	var err error
	if out.Price, err = connector.Minor(p.PriceRangeV2.MinVariantPrice.Amount, cur); err != nil {
		return out, productError(p, err)
	}
	for _, v := range p.Variants.Nodes {
		price, err := connector.Minor(v.Price, cur)
		if err != nil {
			return out, productError(p, err)
		}
		out.Variants = append(out.Variants, connector.Variant{ExternalID: legacyID(v.ID), SKU: v.SKU, Title: v.Title, Price: price})
		if out.SKU == "" {
			out.SKU = v.SKU
		}
	}
	return out, nil
}

func productError(p *gqlProduct, err error) error {
	return &connector.Error{Kind: connector.Permanent, Message: fmt.Sprintf("Shopify product %q has an unreadable price.", p.Title), Err: err}
}

// Orders implements connector.Source. Orders whose lines or refunds do
// not fit in the page are completed with follow-up queries.
func (c *Client) Orders(ctx context.Context, q connector.Query) (connector.Page[connector.Order], error) {
	var data struct {
		Orders struct {
			PageInfo pageInfo   `json:"pageInfo"`
			Nodes    []gqlOrder `json:"nodes"`
		} `json:"orders"`
	}
	vars := map[string]any{"first": c.ordersPerPage, "after": after(q.Page), "query": searchSince(q.Since)}
	cost := 2 + float64(c.ordersPerPage)*orderCost(c.addresses)
	if err := c.query(ctx, ordersQuery(c.addresses), vars, cost, &data); err != nil {
		return connector.Page[connector.Order]{}, err
	}
	var page connector.Page[connector.Order]
	for i := range data.Orders.Nodes {
		o := &data.Orders.Nodes[i]
		if err := c.complete(ctx, o); err != nil {
			return page, err
		}
		out, err := mapOrder(o)
		if err != nil {
			return page, err
		}
		c.countAddress(o)
		page.Items = append(page.Items, out)
	}
	if data.Orders.PageInfo.HasNextPage {
		page.Next = data.Orders.PageInfo.EndCursor
	}
	return page, nil
}

// complete fetches the lines and refunds of o that its page left out.
func (c *Client) complete(ctx context.Context, o *gqlOrder) error {
	for pi := o.LineItems.PageInfo; pi.HasNextPage; {
		var data struct {
			Order *struct {
				LineItems lineConn `json:"lineItems"`
			} `json:"order"`
		}
		if err := c.query(ctx, orderLinesQuery, map[string]any{"id": o.ID, "after": pi.EndCursor}, 1+linesCost(lineItemsMore), &data); err != nil {
			return err
		}
		if data.Order == nil {
			return &connector.Error{Kind: connector.Transient, Message: fmt.Sprintf("Shopify order %s vanished while it was read.", o.Name)}
		}
		o.LineItems.Nodes = append(o.LineItems.Nodes, data.Order.LineItems.Nodes...)
		pi = data.Order.LineItems.PageInfo
	}
	if len(o.Refunds) >= refundsFirst {
		var data struct {
			Order *struct {
				Refunds []gqlRefund `json:"refunds"`
			} `json:"order"`
		}
		if err := c.query(ctx, orderRefundsQuery, map[string]any{"id": o.ID}, 1+refundsMore*refundCost(refundLinesFirst), &data); err != nil {
			return err
		}
		if data.Order == nil {
			return &connector.Error{Kind: connector.Transient, Message: fmt.Sprintf("Shopify order %s vanished while it was read.", o.Name)}
		}
		o.Refunds = data.Order.Refunds
		if len(o.Refunds) >= refundsMore {
			c.mu.Lock()
			c.notice(fmt.Sprintf("Shopify order %s has more than %d refunds; later refunds were not counted.", o.Name, refundsMore))
			c.mu.Unlock()
		}
	}
	for i := range o.Refunds {
		r := &o.Refunds[i]
		for pi := r.RefundLineItems.PageInfo; pi.HasNextPage; {
			var data struct {
				Node *struct {
					RefundLineItems refundLineConn `json:"refundLineItems"`
				} `json:"node"`
			}
			if err := c.query(ctx, refundLinesQuery, map[string]any{"id": r.ID, "after": pi.EndCursor}, 1+2+refundLinesMore*refundLineCost, &data); err != nil {
				return err
			}
			if data.Node == nil {
				return &connector.Error{Kind: connector.Transient, Message: fmt.Sprintf("A refund of Shopify order %s vanished while it was read.", o.Name)}
			}
			r.RefundLineItems.Nodes = append(r.RefundLineItems.Nodes, data.Node.RefundLineItems.Nodes...)
			pi = data.Node.RefundLineItems.PageInfo
		}
	}
	return nil
}

func mapOrder(o *gqlOrder) (connector.Order, error) {
	out := connector.Order{ExternalID: legacyID(o.ID), Name: o.Name, CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(),
		Test: o.Test, Currency: o.CurrencyCode, PresentmentCurrency: o.PresentmentCurrencyCode, Channel: "shopify"}
	if o.ProcessedAt != nil {
		out.ProcessedAt = o.ProcessedAt.UTC()
	}
	if o.CancelledAt != nil {
		t := o.CancelledAt.UTC()
		out.CancelledAt = &t
	}
	for _, a := range []*address{o.ShippingAddress, o.BillingAddress} {
		if a != nil && a.CountryCodeV2 != "" {
			out.Country, out.Region = a.CountryCodeV2, a.ProvinceCode
			break
		}
	}
	shop := func(b moneyBag) (int64, error) { return connector.Minor(b.ShopMoney.Amount, o.CurrencyCode) }
	pres := func(b moneyBag) (int64, error) {
		return connector.Minor(b.PresentmentMoney.Amount, o.PresentmentCurrencyCode)
	}
	// Refunded subtotals per line, in both currencies, and when the last
	// refund of the line was made: a line refunded in several steps books
	// its whole refund on that day. In shops whose prices include tax the
	// subtotals do too, and the refunded tax is taken out of them.
	type refunded struct {
		shop, presentment, qty int64
		at                     time.Time
	}
	refunds := map[string]*refunded{}
	var charges int64 // refunded beyond merchandise
	var lastRefund time.Time
	for _, r := range o.Refunds {
		at := r.CreatedAt.UTC()
		for _, rl := range r.RefundLineItems.Nodes {
			s, err := shop(rl.SubtotalSet)
			if err != nil {
				return out, orderError(o, err)
			}
			p, err := pres(rl.SubtotalSet)
			if err != nil {
				return out, orderError(o, err)
			}
			if o.TaxesIncluded {
				st, err := shop(rl.TotalTaxSet)
				if err != nil {
					return out, orderError(o, err)
				}
				pt, err := pres(rl.TotalTaxSet)
				if err != nil {
					return out, orderError(o, err)
				}
				s, p = s-st, p-pt
			}
			id := legacyID(rl.LineItem.ID)
			if refunds[id] == nil {
				refunds[id] = &refunded{}
			}
			refunds[id].shop += s
			refunds[id].presentment += p
			refunds[id].qty += rl.Quantity
			if at.After(refunds[id].at) {
				refunds[id].at = at
			}
		}
		for _, n := range r.RefundShippingLines.Nodes {
			if n.SubtotalAmountSet != nil {
				v, err := shop(*n.SubtotalAmountSet)
				if err != nil {
					return out, orderError(o, err)
				}
				charges += v
			}
		}
		for _, n := range r.OrderAdjustments.Nodes {
			if n.AmountSet != nil {
				v, err := shop(*n.AmountSet)
				if err != nil {
					return out, orderError(o, err)
				}
				charges -= v // negative: money given back
			}
		}
		if at.After(lastRefund) {
			lastRefund = at
		}
	}
	for _, l := range o.LineItems.Nodes {
		line := connector.OrderLine{ExternalID: legacyID(l.ID), SKU: l.SKU, Name: l.Name}
		if l.Product != nil {
			line.ProductExternalID = legacyID(l.Product.ID)
		}
		if l.Variant != nil {
			line.VariantExternalID = legacyID(l.Variant.ID)
		}
		unit, err := shop(l.OriginalUnitPriceSet)
		if err != nil {
			return out, orderError(o, err)
		}
		presUnit, err := pres(l.OriginalUnitPriceSet)
		if err != nil {
			return out, orderError(o, err)
		}
		r := refunds[line.ExternalID]
		if r == nil {
			r = &refunded{}
		}
		// Units removed by an order edit were never sold: quantity counts
		// them, currentQuantity counts neither them nor refunded units. A
		// cancelled order keeps every unit, all of them refunded below.
		sold := l.Quantity
		if l.CurrentQuantity != nil && out.CancelledAt == nil {
			removed := l.Quantity - *l.CurrentQuantity - r.qty
			sold = max(l.Quantity-max(removed, 0), 0)
		}
		// Discounts and taxes are allocated over every unit ordered,
		// removed ones included; the removed units' share goes with them.
		part := func(v int64) int64 {
			if sold == l.Quantity || l.Quantity == 0 {
				return v
			}
			return v * sold / l.Quantity
		}
		var discount, presDiscount, tax, presTax int64
		for _, d := range l.DiscountAllocations {
			s, err := shop(d.AllocatedAmountSet)
			if err != nil {
				return out, orderError(o, err)
			}
			p, err := pres(d.AllocatedAmountSet)
			if err != nil {
				return out, orderError(o, err)
			}
			discount, presDiscount = discount+s, presDiscount+p
		}
		for _, t := range l.TaxLines {
			s, err := shop(t.PriceSet)
			if err != nil {
				return out, orderError(o, err)
			}
			p, err := pres(t.PriceSet)
			if err != nil {
				return out, orderError(o, err)
			}
			tax, presTax = tax+s, presTax+p
		}
		line.Quantity, line.UnitPrice = sold, unit
		line.Discount, line.Tax = part(discount), part(tax)
		line.Gross = unit * sold
		line.Presentment = connector.Amounts{Currency: o.PresentmentCurrencyCode, Gross: presUnit * sold, Discount: part(presDiscount)}
		if o.TaxesIncluded {
			// Prices include tax: gross is kept without it, so that net is
			// merchandise revenue as in any other shop.
			line.Gross -= line.Tax
			line.Presentment.Gross -= part(presTax)
		}
		line.Refunded, line.Presentment.Refunded, line.RefundedQuantity, line.RefundedAt = r.shop, r.presentment, r.qty, r.at
		if out.CancelledAt != nil {
			// A cancelled order is worth nothing: whatever its refunds left
			// is refunded on the day it was cancelled (or of its last
			// refund, when later).
			line.Refunded = line.Gross - line.Discount
			line.Presentment.Refunded = line.Presentment.Gross - line.Presentment.Discount
			line.RefundedQuantity = sold
			line.RefundedAt = *out.CancelledAt
			if lastRefund.After(line.RefundedAt) {
				line.RefundedAt = lastRefund
			}
		}
		line.Net = line.Gross - line.Discount - line.Refunded
		line.Presentment.Net = line.Presentment.Gross - line.Presentment.Discount - line.Presentment.Refunded
		out.Lines = append(out.Lines, line)
	}
	// Order-level charges go to the lines in proportion to their gross.
	weights := make([]int64, len(out.Lines))
	for i := range out.Lines {
		weights[i] = out.Lines[i].Gross
	}
	if o.TotalShippingPriceSet != nil {
		ship, err := shop(*o.TotalShippingPriceSet)
		if err != nil {
			return out, orderError(o, err)
		}
		for i, v := range allocate(ship, weights) {
			out.Lines[i].Shipping = v
		}
	}
	for i, v := range allocate(charges, weights) {
		out.Lines[i].ChargesRefunded = v
	}
	return out, nil
}

// allocate splits total over len(weights) parts in proportion to weights
// (equally when they sum to zero), by largest remainder, so that the parts
// add up to total exactly.
func allocate(total int64, weights []int64) []int64 {
	out := make([]int64, len(weights))
	if len(weights) == 0 || total == 0 {
		return out
	}
	var sum int64
	for _, w := range weights {
		sum += max(w, 0)
	}
	if sum == 0 {
		weights = slices.Repeat([]int64{1}, len(weights))
		sum = int64(len(weights))
	}
	sign := int64(1)
	if total < 0 {
		sign, total = -1, -total
	}
	type rem struct {
		i int
		r int64
	}
	rems := make([]rem, len(weights))
	var given int64
	for i, w := range weights {
		w = max(w, 0)
		hi, lo := bits.Mul64(uint64(total), uint64(w))
		q, r := bits.Div64(hi, lo, uint64(sum))
		out[i] = int64(q)
		given += int64(q)
		rems[i] = rem{i, int64(r)}
	}
	slices.SortStableFunc(rems, func(a, b rem) int { return cmp.Compare(b.r, a.r) })
	for k := 0; given < total; k++ {
		out[rems[k%len(rems)].i]++
		given++
	}
	for i := range out {
		out[i] *= sign
	}
	return out
}

// NoAddressNotice is the notice given when no order came with an address:
// Shopify withholds addresses from apps without access to protected
// customer data, and countries stay empty.
const NoAddressNotice = "Shopify sent no shipping or billing address with the orders, so their countries are empty: the app needs access to protected customer data (addresses). Request it for the app in the Shopify Partner Dashboard (API access › Protected customer data), then sync again."

// countAddress counts whether o came with an address, for the notice.
func (c *Client) countAddress(o *gqlOrder) {
	if !c.addresses || o.Test {
		return
	}
	with := o.ShippingAddress != nil || o.BillingAddress != nil
	c.mu.Lock()
	defer c.mu.Unlock()
	if with {
		c.withAddress++
	} else {
		c.withoutAddress++
	}
}

func orderError(o *gqlOrder, err error) error {
	return &connector.Error{Kind: connector.Permanent, Message: fmt.Sprintf("Shopify order %s has an unreadable amount.", o.Name), Err: err}
}

// Webhook topics the connector subscribes to.
var WebhookTopics = []string{TopicOrdersCreate, TopicOrdersUpdated, TopicOrdersDelete, TopicProductsUpdate, TopicAppUninstalled}

const subscribeMutation = `mutation Subscribe($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id }
    userErrors { field message }
  }
}`

const subscriptionsQuery = `query Subscriptions($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { topic uri }
  }
}`

// maxSubscriptionPages bounds the listing of an app's subscriptions on a
// shop (a few topics per connector; 100 a page).
const maxSubscriptionPages = 10

// RegisterWebhooks makes sure uri (the https URL of the webhook endpoint)
// is subscribed to the topics, in JSON format: it lists the app's
// subscriptions on the shop and creates those missing, e.g. because
// Shopify deleted them after deliveries kept failing. It returns how many
// it created. Public apps may instead declare them in the app
// configuration; custom apps need this.
func (c *Client) RegisterWebhooks(ctx context.Context, uri string, topics []string) (int, error) {
	have := map[string]bool{}
	after := ""
	for range maxSubscriptionPages {
		var data struct {
			WebhookSubscriptions struct {
				PageInfo pageInfo `json:"pageInfo"`
				Nodes    []struct {
					Topic string `json:"topic"`
					URI   string `json:"uri"`
				} `json:"nodes"`
			} `json:"webhookSubscriptions"`
		}
		if err := c.query(ctx, subscriptionsQuery, map[string]any{"after": nilIfEmpty(after)}, 2+100, &data); err != nil {
			return 0, err
		}
		for _, n := range data.WebhookSubscriptions.Nodes {
			if n.URI == uri {
				have[n.Topic] = true
			}
		}
		if !data.WebhookSubscriptions.PageInfo.HasNextPage || data.WebhookSubscriptions.PageInfo.EndCursor == after {
			break
		}
		after = data.WebhookSubscriptions.PageInfo.EndCursor
	}
	created := 0
	for _, topic := range topics {
		enum := strings.ToUpper(strings.ReplaceAll(topic, "/", "_"))
		if have[enum] {
			continue
		}
		var data struct {
			WebhookSubscriptionCreate struct {
				UserErrors []struct {
					Message string `json:"message"`
				} `json:"userErrors"`
			} `json:"webhookSubscriptionCreate"`
		}
		vars := map[string]any{"topic": enum, "sub": map[string]any{"uri": uri, "format": "JSON"}}
		if err := c.query(ctx, subscribeMutation, vars, 10, &data); err != nil {
			return created, err
		}
		if ue := data.WebhookSubscriptionCreate.UserErrors; len(ue) > 0 {
			if strings.Contains(strings.ToLower(ue[0].Message), "already been taken") {
				continue // subscribed meanwhile: idempotent
			}
			return created, &connector.Error{Kind: connector.Permanent, Message: fmt.Sprintf("Shopify refused the %s webhook: %s", topic, ue[0].Message)}
		}
		created++
	}
	return created, nil
}
