package amazon

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/ingest"
)

// FinancesAPIVersion is the Finances API version the client calls.
const FinancesAPIVersion = "2024-06-19"

// maxRefundPages bounds the transaction pages read for one order.
const maxRefundPages = 20

type transaction struct {
	TransactionType    string       `json:"transactionType"`
	PostedDate         time.Time    `json:"postedDate"`
	RelatedIdentifiers []identifier `json:"relatedIdentifiers"`
	Items              []struct {
		Breakdowns []breakdown `json:"breakdowns"`
		Contexts   []struct {
			ContextType     string `json:"contextType"`
			ASIN            string `json:"asin"`
			SKU             string `json:"sku"`
			QuantityShipped int64  `json:"quantityShipped"`
		} `json:"contexts"`
	} `json:"items"`
}

type identifier struct {
	Name  string `json:"relatedIdentifierName"`
	Value string `json:"relatedIdentifierValue"`
}

type breakdown struct {
	Type   string `json:"breakdownType"`
	Amount struct {
		CurrencyCode   string      `json:"currencyCode"`
		CurrencyAmount json.Number `json:"currencyAmount"`
	} `json:"breakdownAmount"`
	Breakdowns []breakdown `json:"breakdowns"`
}

type transactionsResponse struct {
	Payload struct {
		NextToken    string        `json:"nextToken"`
		Transactions []transaction `json:"transactions"`
	} `json:"payload"`
}

func (t *transaction) orderID() string {
	for _, id := range t.RelatedIdentifiers {
		if id.Name == "ORDER_ID" {
			return id.Value
		}
	}
	return ""
}

func isRefund(t *transaction) bool { return strings.EqualFold(t.TransactionType, "Refund") }

// refundsPage reads one page of the transactions posted in the current
// window and returns every order a refund of the page touches, whole and
// with all its refunds, so that writing it replaces the stored version.
func (c *Client) refundsPage(ctx context.Context, t *pageToken) ([]connector.Order, error) {
	if !t.From.Before(t.Until) {
		t.Phase = ""
		return nil, nil
	}
	end := earliest(t.From.Add(refundWindow), t.Until)
	q := url.Values{"postedAfter": {t.From.UTC().Format(time.RFC3339)}, "postedBefore": {end.UTC().Format(time.RFC3339)}}
	if t.Next != "" {
		q.Set("nextToken", t.Next)
	}
	var resp transactionsResponse
	if err := c.call(ctx, "listTransactions", http.MethodGet, "/finances/"+FinancesAPIVersion+"/transactions", q, nil, &resp); err != nil {
		return nil, err
	}
	var ids []string
	seen := map[string]bool{}
	for i := range resp.Payload.Transactions {
		tr := &resp.Payload.Transactions[i]
		if id := tr.orderID(); isRefund(tr) && id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	var out []connector.Order
	for _, id := range ids {
		o, err := c.refundedOrder(ctx, id)
		if errors.Is(err, errNoOrder) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if o != nil && !o.UpdatedAt.After(t.Until) {
			out = append(out, *o)
		}
	}
	t.Next = resp.Payload.NextToken
	if t.Next == "" {
		t.From = end
	}
	return out, nil
}

// refundedOrder reads an order and all its refunds, and returns it with
// the refunds booked on its lines. Orders of marketplaces not synced, and
// orders not priced yet, are nil.
func (c *Client) refundedOrder(ctx context.Context, id string) (*connector.Order, error) {
	ms, err := c.participations(ctx)
	if err != nil {
		return nil, err
	}
	var resp struct {
		Order apiOrder `json:"order"`
	}
	q := url.Values{"includedData": {"PROCEEDS,RECIPIENT,FULFILLMENT,PROMOTION"}}
	err = c.call(ctx, "getOrder", http.MethodGet, "/orders/"+OrdersAPIVersion+"/orders/"+url.PathEscape(id), q, nil, &resp)
	if e, ok := errors.AsType[*connector.Error](err); ok && e.Status == http.StatusNotFound {
		return nil, errNoOrder
	}
	if err != nil {
		return nil, err
	}
	synced := false
	for _, m := range ms {
		synced = synced || m.ID == resp.Order.SalesChannel.MarketplaceID
	}
	if !synced {
		return nil, nil
	}
	o, err := convertOrder(&resp.Order)
	if err != nil || o == nil {
		return o, err
	}
	return o, c.orderRefunds(ctx, o)
}

// orderRefunds books every refund of o on it.
func (c *Client) orderRefunds(ctx context.Context, o *connector.Order) error {
	id := o.ExternalID
	next := ""
	for range maxRefundPages {
		q := url.Values{"relatedIdentifierName": {"ORDER_ID"}, "relatedIdentifierValue": {id}}
		if next != "" {
			q.Set("nextToken", next)
		}
		var tr transactionsResponse
		if err := c.call(ctx, "listTransactions", http.MethodGet, "/finances/"+FinancesAPIVersion+"/transactions", q, nil, &tr); err != nil {
			return err
		}
		for i := range tr.Payload.Transactions {
			if t := &tr.Payload.Transactions[i]; isRefund(t) {
				if err := applyRefund(o, t); err != nil {
					return err
				}
			}
		}
		if next = tr.Payload.NextToken; next == "" {
			break
		}
	}
	return nil
}

// applyRefund books one refund transaction on the order's lines: per item,
// the refunded merchandise is the principal given back less the
// promotions taken back (tax and shipping stay out of net), on the first
// line of the item's SKU (else ASIN) with something left to refund.
func applyRefund(o *connector.Order, t *transaction) error {
	for _, it := range t.Items {
		var sku, asin string
		var qty int64
		for _, cx := range it.Contexts {
			if cx.SKU != "" || cx.ASIN != "" {
				sku, asin, qty = cx.SKU, cx.ASIN, cx.QuantityShipped
			}
		}
		var principal, promo int64
		if err := sumBreakdowns(it.Breakdowns, o.Currency, false, &principal, &promo); err != nil {
			return err
		}
		left := -(principal + promo)
		if left <= 0 {
			continue
		}
		for i := range o.Lines {
			l := &o.Lines[i]
			if !(sku != "" && l.SKU == sku || sku == "" && asin != "" && l.ProductExternalID == asin) {
				continue
			}
			room := l.Gross - l.Discount - l.Refunded
			n := min(room, left)
			if n <= 0 {
				continue
			}
			l.Refunded += n
			l.Net = l.Gross - l.Discount - l.Refunded
			l.RefundedQuantity = min(l.Quantity, l.RefundedQuantity+max(qty, 0))
			if t.PostedDate.After(l.RefundedAt) {
				l.RefundedAt = t.PostedDate.UTC()
			}
			left -= n
			if left == 0 {
				break
			}
		}
	}
	if t.PostedDate.After(o.UpdatedAt) {
		o.UpdatedAt = t.PostedDate.UTC()
	}
	return nil
}

// sumBreakdowns adds the leaves of a breakdown tree: "Principal" to
// principal, anything under a promotion to promo.
func sumBreakdowns(bs []breakdown, cur string, inPromo bool, principal, promo *int64) error {
	for _, b := range bs {
		typ := strings.ToLower(strings.ReplaceAll(b.Type, " ", ""))
		p := inPromo || strings.Contains(typ, "promotion")
		if len(b.Breakdowns) > 0 {
			if err := sumBreakdowns(b.Breakdowns, cur, p, principal, promo); err != nil {
				return err
			}
			continue
		}
		if b.Amount.CurrencyAmount == "" {
			continue
		}
		if b.Amount.CurrencyCode != "" && !strings.EqualFold(b.Amount.CurrencyCode, cur) {
			return connector.Errorf(connector.Permanent, "Amazon booked a refund in %s on an order in %s.", b.Amount.CurrencyCode, cur)
		}
		v, err := ingest.ParseAmount(b.Amount.CurrencyAmount.String(), cur)
		if err != nil {
			return connector.Errorf(connector.Permanent, "Amazon sent a refund amount %q: %v", b.Amount.CurrencyAmount, err)
		}
		switch {
		case p:
			*promo += v
		case typ == "principal":
			*principal += v
		}
	}
	return nil
}
