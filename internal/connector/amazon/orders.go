package amazon

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/ingest"
)

// settle is how far before now a query ends: searchOrders and
// listTransactions refuse an end less than two minutes before the request,
// and orders updated in the last minutes may still be settling.
const settle = 3 * time.Minute

// refundLag is how late the Finances API may post a refund: each pass
// reads refunds from this long before its start.
const refundLag = 48 * time.Hour

// Window lengths the APIs allow: a report of orders by last update covers
// at most 30 days; listTransactions answers nothing beyond 180.
const (
	reportWindow = 30 * 24 * time.Hour
	refundWindow = 180 * 24 * time.Hour
)

// Phases of an orders pass, in order.
const (
	phaseReports = "reports" // backfill through order reports, window by window
	phaseOrders  = "orders"  // searchOrders by last update
	phaseRefunds = "refunds" // refund transactions, window by window
)

// A pass writes no order changed after its Until: the engine makes the
// latest update written the watermark, and one beyond Until would let the
// next pass skip orders changed in between. Such orders are read by the
// next pass instead.

// pageToken is where an orders pass stands; the engine stores it as the
// page token, so it survives a restart.
type pageToken struct {
	Phase string    `json:"p"`
	Until time.Time `json:"u"` // end of the pass: every query stops here
	// After is the lower bound of the orders phase (last update).
	After time.Time `json:"a,omitzero"`
	// From is the start of the current report or refund window.
	From time.Time `json:"f,omitzero"`
	// RefundsFrom is where the refunds phase starts.
	RefundsFrom time.Time `json:"rf,omitzero"`
	// Report is the report of the current window, Doc its document once
	// done, Offset the orders of it already written, Polls how often it
	// was polled (so that every page token differs).
	Report string `json:"r,omitempty"`
	Doc    string `json:"d,omitempty"`
	Offset int    `json:"o,omitempty"`
	Polls  int    `json:"n,omitempty"`
	// Next is the platform's page token within the phase.
	Next string `json:"t,omitempty"`
}

func (t *pageToken) encode() string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s string) (*pageToken, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	var t pageToken
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil || t.Until.IsZero() {
		return nil, connector.Errorf(connector.Permanent, "The stored Amazon page token is unreadable.")
	}
	return &t, nil
}

// Orders reads one page of the orders pass that starts at q.Since (the
// whole history when zero): on a first sync, order reports in 30-day
// windows (unless PagedBackfill); then orders updated since, through
// searchOrders; then refunds posted since (less two days for late ones).
func (c *Client) Orders(ctx context.Context, q connector.Query) (connector.Page[connector.Order], error) {
	var t *pageToken
	if q.Page == "" {
		now := c.now().UTC()
		t = &pageToken{Until: now.Add(-settle).Truncate(time.Second)}
		start := q.Since
		if start.IsZero() {
			start = t.Until.Add(-c.cfg.History)
			t.RefundsFrom = start
			if !c.cfg.PagedBackfill {
				t.Phase, t.From = phaseReports, start
			}
		} else {
			t.RefundsFrom = start.Add(-refundLag)
		}
		if t.Phase == "" {
			t.Phase, t.After = phaseOrders, start
		}
	} else {
		var err error
		if t, err = decodeToken(q.Page); err != nil {
			return connector.Page[connector.Order]{}, err
		}
	}
	var (
		orders []connector.Order
		err    error
	)
	switch t.Phase {
	case phaseReports:
		orders, err = c.reportPage(ctx, t)
	case phaseOrders:
		orders, err = c.ordersPage(ctx, t)
	case phaseRefunds:
		orders, err = c.refundsPage(ctx, t)
	default:
		err = connector.Errorf(connector.Permanent, "The stored Amazon page token names an unknown phase.")
	}
	if err != nil {
		return connector.Page[connector.Order]{}, err
	}
	page := connector.Page[connector.Order]{Items: orders}
	if t.Phase != "" {
		page.Next = t.encode()
	}
	return page, nil
}

// apiOrder is an order as searchOrders returns it (the fields read).
type apiOrder struct {
	OrderID         string    `json:"orderId"`
	CreatedTime     time.Time `json:"createdTime"`
	LastUpdatedTime time.Time `json:"lastUpdatedTime"`
	SalesChannel    struct {
		ChannelName     string `json:"channelName"`
		MarketplaceID   string `json:"marketplaceId"`
		MarketplaceName string `json:"marketplaceName"`
	} `json:"salesChannel"`
	Recipient *struct {
		DeliveryAddress *struct {
			StateOrRegion string `json:"stateOrRegion"`
			CountryCode   string `json:"countryCode"`
		} `json:"deliveryAddress"`
	} `json:"recipient"`
	Fulfillment struct {
		FulfillmentStatus string `json:"fulfillmentStatus"`
		FulfilledBy       string `json:"fulfilledBy"`
	} `json:"fulfillment"`
	OrderItems []apiItem `json:"orderItems"`
}

type apiItem struct {
	OrderItemID     string `json:"orderItemId"`
	QuantityOrdered int64  `json:"quantityOrdered"`
	Product         struct {
		ASIN      string `json:"asin"`
		Title     string `json:"title"`
		SellerSKU string `json:"sellerSku"`
	} `json:"product"`
	Proceeds *struct {
		Breakdowns []struct {
			Type     string `json:"type"`
			Subtotal money  `json:"subtotal"`
			Detailed []struct {
				Subtype string `json:"subtype"`
				Value   money  `json:"value"`
			} `json:"detailedBreakdowns"`
		} `json:"breakdowns"`
	} `json:"proceeds"`
}

type money struct {
	Amount       string `json:"amount"`
	CurrencyCode string `json:"currencyCode"`
}

// searchStatuses are the orders a pass reads: pending orders carry no
// price yet and are read when they ship (their update brings them in).
var searchStatuses = "UNSHIPPED,PARTIALLY_SHIPPED,SHIPPED,CANCELLED,UNFULFILLABLE"

// ordersPage reads one page of searchOrders and moves t on.
func (c *Client) ordersPage(ctx context.Context, t *pageToken) ([]connector.Order, error) {
	ids, err := c.marketIDs(ctx)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if t.Next != "" {
		q.Set("paginationToken", t.Next)
	}
	q.Set("lastUpdatedAfter", t.After.UTC().Format(time.RFC3339))
	q.Set("lastUpdatedBefore", t.Until.UTC().Format(time.RFC3339))
	q.Set("marketplaceIds", strings.Join(ids, ","))
	q.Set("fulfillmentStatuses", searchStatuses)
	q.Set("includedData", "PROCEEDS,RECIPIENT,FULFILLMENT,PROMOTION")
	q.Set("maxResultsPerPage", strconv.Itoa(c.cfg.PageSize))
	var resp struct {
		Orders     []apiOrder `json:"orders"`
		Pagination *struct {
			NextToken string `json:"nextToken"`
		} `json:"pagination"`
	}
	if err := c.call(ctx, "searchOrders", http.MethodGet, "/orders/"+OrdersAPIVersion+"/orders", q, nil, &resp); err != nil {
		return nil, err
	}
	out := make([]connector.Order, 0, len(resp.Orders))
	for i := range resp.Orders {
		o, err := convertOrder(&resp.Orders[i])
		if err != nil {
			return nil, err
		}
		if o == nil || o.UpdatedAt.After(t.Until) {
			continue // pending, or changed after the pass began: the next pass reads it
		}
		// An order placed before the refunds this pass reads, updated
		// now (a return, a late change), may have older refunds: they
		// are booked again, or writing the order would drop them.
		// Recent orders, the bulk of a pass, skip this call.
		if o.CancelledAt == nil && o.CreatedAt.Before(t.RefundsFrom) {
			if err := c.orderRefunds(ctx, o); err != nil {
				return nil, err
			}
		}
		out = append(out, *o)
	}
	t.Next = ""
	if resp.Pagination != nil && resp.Pagination.NextToken != "" {
		t.Next = resp.Pagination.NextToken
	} else {
		t.Phase, t.From = phaseRefunds, t.RefundsFrom
	}
	return out, nil
}

// Channel names the channel of a sale: the marketplace and who fulfilled
// it, e.g. "Amazon.com FBA" or "Amazon.de Merchant".
func Channel(marketplace, fulfilledBy string) string {
	switch strings.ToUpper(fulfilledBy) {
	case "AMAZON", "AFN":
		return strings.TrimSpace(marketplace + " FBA")
	case "MERCHANT", "MFN":
		return strings.TrimSpace(marketplace + " Merchant")
	}
	return marketplace
}

// convertOrder normalises an API order the way the flat-file parser reads
// the same order from a report: lines keyed by SKU (else ASIN), numbered
// when repeated; gross = the item subtotal, discount = item promotions,
// shipping = shipping + gift wrap - shipping promotions, tax apart. A
// pending order (no price yet) is nil.
func convertOrder(a *apiOrder) (*connector.Order, error) {
	status := strings.ToUpper(a.Fulfillment.FulfillmentStatus)
	if status == "PENDING" || status == "PENDING_AVAILABILITY" {
		return nil, nil
	}
	if a.OrderID == "" || a.CreatedTime.IsZero() {
		return nil, connector.Errorf(connector.Permanent, "Amazon sent an order without id or creation time.")
	}
	m, ok := MarketplaceByID(a.SalesChannel.MarketplaceID)
	if !ok {
		m = Marketplace{ID: a.SalesChannel.MarketplaceID, Name: a.SalesChannel.MarketplaceName}
	}
	o := &connector.Order{ExternalID: a.OrderID, Name: a.OrderID, CreatedAt: a.CreatedTime.UTC(), ProcessedAt: a.CreatedTime.UTC(),
		UpdatedAt: a.LastUpdatedTime.UTC(), Currency: m.Currency, Country: m.Country,
		Channel: Channel(cmpOr(m.Name, a.SalesChannel.MarketplaceName), a.Fulfillment.FulfilledBy)}
	if a.Recipient != nil && a.Recipient.DeliveryAddress != nil {
		if cc := a.Recipient.DeliveryAddress.CountryCode; cc != "" {
			if norm, err := ingest.ParseCountry(cc); err == nil {
				o.Country = norm
			}
		}
		o.Region = a.Recipient.DeliveryAddress.StateOrRegion
	}
	if status == "CANCELLED" {
		// A cancelled order sold nothing and is no order: its stored lines
		// go, as the flat-file parser has it for the same order in a
		// report or an imported file.
		at := o.UpdatedAt
		o.CancelledAt = &at
		o.Removed = true
		return o, nil
	}
	seen := map[string]int{}
	for _, it := range a.OrderItems {
		key := cmpOr(it.Product.SellerSKU, it.Product.ASIN)
		if key == "" {
			return nil, connector.Errorf(connector.Permanent, "Amazon order %s has an item with neither SKU nor ASIN.", a.OrderID)
		}
		seen[key]++
		id := key
		if n := seen[key]; n > 1 {
			id = key + "#" + strconv.Itoa(n)
		}
		l := connector.OrderLine{ExternalID: id, ProductExternalID: it.Product.ASIN, ProductShared: it.Product.ASIN != "", SKU: it.Product.SellerSKU,
			Name: cmpOr(it.Product.Title, key), Quantity: it.QuantityOrdered}
		if it.Proceeds != nil {
			for _, b := range it.Proceeds.Breakdowns {
				if o.Currency == "" {
					o.Currency = strings.ToUpper(b.Subtotal.CurrencyCode)
				}
				v, err := amount(b.Subtotal, o.Currency)
				if err != nil {
					return nil, fmt.Errorf("amazon: order %s item %s %s: %w", a.OrderID, id, b.Type, err)
				}
				switch strings.ToUpper(b.Type) {
				case "ITEM":
					l.Gross += v
				case "SHIPPING", "GIFT_WRAP":
					l.Shipping += v
				case "TAX":
					l.Tax += v
				case "DISCOUNT":
					if len(b.Detailed) == 0 {
						l.Discount += abs(v)
						continue
					}
					for _, d := range b.Detailed {
						dv, err := amount(d.Value, o.Currency)
						if err != nil {
							return nil, fmt.Errorf("amazon: order %s item %s discount: %w", a.OrderID, id, err)
						}
						if strings.ToUpper(d.Subtype) == "SHIPPING" {
							l.Shipping -= abs(dv)
						} else {
							l.Discount += abs(dv)
						}
					}
				}
			}
		}
		if l.Quantity > 0 {
			l.UnitPrice = l.Gross / l.Quantity
		}
		l.Net = l.Gross - l.Discount
		o.Lines = append(o.Lines, l)
	}
	if o.Currency == "" {
		return nil, connector.Errorf(connector.Permanent, "Amazon order %s is in an unknown marketplace (%s) and has no amounts.", a.OrderID, a.SalesChannel.MarketplaceID)
	}
	return o, nil
}

func amount(m money, cur string) (int64, error) {
	if m.Amount == "" {
		return 0, nil
	}
	if m.CurrencyCode != "" && !strings.EqualFold(m.CurrencyCode, cur) {
		return 0, fmt.Errorf("amount in %s in an order in %s", m.CurrencyCode, cur)
	}
	return ingest.ParseAmount(m.Amount, cur)
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

var errNoOrder = errors.New("amazon: order not found")

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
