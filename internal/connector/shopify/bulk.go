package shopify

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/phantomos/phantomos/internal/connector"
)

// bulkOrdersQuery is the export of every order. A bulk query has no
// variables and no page sizes; it may hold five connections, nested two
// deep: orders, their lineItems, and each refund's refundLineItems,
// orderAdjustments and refundShippingLines. Each object of a nested
// connection comes as its own line of the JSONL result, naming its parent
// in __parentId, right after it (groupObjects).
const bulkOrdersQuery = `{
  orders(sortKey: UPDATED_AT) {
    edges { node {
      id name createdAt processedAt updatedAt cancelledAt test currencyCode presentmentCurrencyCode taxesIncluded
      totalShippingPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }%s
      lineItems { edges { node {
        id name sku quantity currentQuantity
        product { id }
        variant { id }
        originalUnitPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
        discountAllocations { allocatedAmountSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } }
        taxLines { priceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } }
      } } }
      refunds {
        id createdAt
        refundLineItems { edges { node { id quantity lineItem { id }
          subtotalSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
          totalTaxSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } } } }
        orderAdjustments { edges { node { id amountSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } } } }
        refundShippingLines { edges { node { id subtotalAmountSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } } } }
      }
    } }
  }
}`

// bulkAddresses selects the countries, which need access to protected
// customer data.
const bulkAddresses = "\n      shippingAddress { countryCodeV2 provinceCode }\n      billingAddress { countryCodeV2 provinceCode }"

const bulkRunMutation = `mutation BulkOrders($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: true) {
    bulkOperation { id status createdAt }
    userErrors { field message code }
  }
}`

const bulkStatusQuery = `query BulkStatus($id: ID!) {
  bulkOperation(id: $id) { id status errorCode createdAt completedAt objectCount url partialDataUrl }
}`

// MaxBulkLine bounds one line of a bulk result. An order's own line holds
// its scalars and refunds; its lines and refund lines come on their own.
const MaxBulkLine = 4 << 20

// bulkPage is how many orders one commit of a bulk result writes.
const bulkPage = 250

type gqlBulkOp struct {
	ID          string     `json:"id"`
	Status      string     `json:"status"`
	ErrorCode   *string    `json:"errorCode"`
	CreatedAt   time.Time  `json:"createdAt"`
	CompletedAt *time.Time `json:"completedAt"`
	ObjectCount string     `json:"objectCount"` // UnsignedInt64, a string
	URL         *string    `json:"url"`
}

func (b *gqlBulkOp) op() connector.BulkOp {
	out := connector.BulkOp{ID: b.ID, CreatedAt: b.CreatedAt.UTC(), Done: b.Status == "COMPLETED"}
	fmt.Sscan(b.ObjectCount, &out.Objects)
	if b.URL != nil {
		out.URL = *b.URL
	}
	return out
}

// BulkBackfill implements connector.BulkOrderSource: first syncs export
// the orders in bulk unless Config.PagedBackfill.
func (c *Client) BulkBackfill() bool { return !c.paged }

// StartBulkOrders implements connector.BulkOrderSource.
func (c *Client) StartBulkOrders(ctx context.Context) (connector.BulkOp, error) {
	addr := ""
	if c.addresses {
		addr = bulkAddresses
	}
	var data struct {
		BulkOperationRunQuery struct {
			BulkOperation *gqlBulkOp `json:"bulkOperation"`
			UserErrors    []struct {
				Message string `json:"message"`
				Code    string `json:"code"`
			} `json:"userErrors"`
		} `json:"bulkOperationRunQuery"`
	}
	if err := c.query(ctx, bulkRunMutation, map[string]any{"query": fmt.Sprintf(bulkOrdersQuery, addr)}, 10, &data); err != nil {
		return connector.BulkOp{}, err
	}
	r := data.BulkOperationRunQuery
	if len(r.UserErrors) > 0 {
		msg := r.UserErrors[0].Message
		if strings.Contains(strings.ToLower(msg), "in progress") {
			// Another export of this app runs on the shop (another
			// process, or one we lost track of): wait for it to end.
			return connector.BulkOp{}, &connector.Error{Kind: connector.RateLimited, RetryAfter: 30 * time.Second,
				Message: "Shopify is running another bulk export for this store; the backfill waits for it.", Err: errors.New(msg)}
		}
		return connector.BulkOp{}, &connector.Error{Kind: connector.Permanent, Message: "Shopify refused the bulk export: " + msg}
	}
	if r.BulkOperation == nil {
		return connector.BulkOp{}, &connector.Error{Kind: connector.Transient, Message: "Shopify did not start the bulk export."}
	}
	return r.BulkOperation.op(), nil
}

// BulkStatus implements connector.BulkOrderSource.
func (c *Client) BulkStatus(ctx context.Context, id string) (connector.BulkOp, error) {
	var data struct {
		BulkOperation *gqlBulkOp `json:"bulkOperation"`
	}
	if err := c.query(ctx, bulkStatusQuery, map[string]any{"id": id}, 1, &data); err != nil {
		return connector.BulkOp{}, err
	}
	b := data.BulkOperation
	if b == nil {
		return connector.BulkOp{}, &connector.Error{Kind: connector.Permanent, Message: "Shopify no longer knows the bulk export.",
			Err: fmt.Errorf("shopify: bulk operation %s: %w", id, connector.ErrBulkGone)}
	}
	switch b.Status {
	case "CREATED", "RUNNING", "COMPLETED":
		return b.op(), nil
	case "FAILED":
		code := ""
		if b.ErrorCode != nil {
			code = *b.ErrorCode
		}
		if code == "ACCESS_DENIED" {
			return connector.BulkOp{}, &connector.Error{Kind: connector.Auth,
				Message: "Shopify denied the bulk export access to orders: the app needs the read_orders permission. Reconnect the store and approve it."}
		}
		return connector.BulkOp{}, &connector.Error{Kind: connector.Permanent, Message: fmt.Sprintf("Shopify's bulk export failed (%s).", strings.ToLower(code)),
			Err: fmt.Errorf("shopify: bulk operation %s failed %s: %w", id, code, connector.ErrBulkGone)}
	default: // CANCELED, CANCELING, EXPIRED
		return connector.BulkOp{}, &connector.Error{Kind: connector.Permanent, Message: fmt.Sprintf("Shopify's bulk export is %s.", strings.ToLower(b.Status)),
			Err: fmt.Errorf("shopify: bulk operation %s %s: %w", id, b.Status, connector.ErrBulkGone)}
	}
}

// bulkLine is any line of the orders export: an order, or one of its
// lines, refund lines, order adjustments or refunded shipping lines,
// told apart by the fields they carry.
type bulkLine struct {
	gqlOrder
	ParentID string `json:"__parentId"`
	// Line items.
	SKU                  *string   `json:"sku"`
	Quantity             *int64    `json:"quantity"`
	CurrentQuantity      *int64    `json:"currentQuantity"`
	Product              *idRef    `json:"product"`
	Variant              *idRef    `json:"variant"`
	OriginalUnitPriceSet *moneyBag `json:"originalUnitPriceSet"`
	DiscountAllocations  []struct {
		AllocatedAmountSet moneyBag `json:"allocatedAmountSet"`
	} `json:"discountAllocations"`
	TaxLines []taxLine `json:"taxLines"`
	// Refund lines.
	LineItem    *idRef    `json:"lineItem"`
	SubtotalSet *moneyBag `json:"subtotalSet"`
	TotalTaxSet *moneyBag `json:"totalTaxSet"`
	// Adjustments and refunded shipping lines.
	AmountSet         *moneyBag `json:"amountSet"`
	SubtotalAmountSet *moneyBag `json:"subtotalAmountSet"`
}

// ReadBulkOrders implements connector.BulkOrderSource. It reads the JSONL
// result line by line (each at most MaxBulkLine bytes), keeping one order
// in memory, and hands over orders bulkPage at a time.
func (c *Client) ReadBulkOrders(ctx context.Context, url string, skip int64, fn func([]connector.Order, int64) error) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("shopify: bulk result: %w", err)
	}
	req.Header.Set("User-Agent", "PhantomOS")
	// The result URL is signed; the download needs no token and must not
	// time out as API requests do.
	hc := *c.http
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &connector.Error{Kind: connector.Transient, Message: "Shopify's bulk result could not be downloaded.", Err: err}
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return &connector.Error{Kind: connector.Permanent, Message: "Shopify's bulk result has expired.",
			Err: fmt.Errorf("shopify: bulk result: %s: %w", resp.Status, connector.ErrBulkGone)}
	case resp.StatusCode != http.StatusOK:
		e := connector.HTTPError(Platform, resp.StatusCode, resp.Header)
		e.Err = fmt.Errorf("shopify: bulk result: %s", resp.Status)
		return e
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), MaxBulkLine)
	var (
		n       int64 // lines read
		cur     *gqlOrder
		refunds map[string]int // refund id → index in cur.Refunds
		page    []connector.Order
	)
	flush := func(through int64) error {
		if cur != nil {
			o, err := mapOrder(cur)
			if err != nil {
				return err
			}
			c.countAddress(cur)
			page = append(page, o)
			cur = nil
		}
		if len(page) == 0 {
			return nil
		}
		err := fn(page, through)
		page = nil
		return err
	}
	for sc.Scan() {
		n++
		if n <= skip {
			continue
		}
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		var l bulkLine
		if err := json.Unmarshal(raw, &l); err != nil {
			return &connector.Error{Kind: connector.Permanent, Message: fmt.Sprintf("Line %d of Shopify's bulk result is not valid JSON.", n), Err: err}
		}
		if l.ParentID == "" {
			// A new order: the previous one is complete.
			if cur != nil {
				o, err := mapOrder(cur)
				if err != nil {
					return err
				}
				c.countAddress(cur)
				page = append(page, o)
				cur = nil
				if len(page) >= bulkPage {
					if err := flush(n - 1); err != nil {
						return err
					}
				}
			}
			o := l.gqlOrder
			cur = &o
			refunds = map[string]int{}
			for i, r := range cur.Refunds {
				refunds[r.ID] = i
				// The nested connections of refunds come as their own lines.
				cur.Refunds[i].RefundLineItems.Nodes = nil
				cur.Refunds[i].OrderAdjustments.Nodes = nil
				cur.Refunds[i].RefundShippingLines.Nodes = nil
			}
			continue
		}
		if cur == nil {
			return &connector.Error{Kind: connector.Permanent, Message: fmt.Sprintf("Line %d of Shopify's bulk result has no order before it.", n)}
		}
		switch {
		case l.ParentID == cur.ID && l.OriginalUnitPriceSet != nil:
			line := gqlLine{ID: l.ID, Name: l.Name, Product: l.Product, Variant: l.Variant, OriginalUnitPriceSet: *l.OriginalUnitPriceSet,
				DiscountAllocations: l.DiscountAllocations, TaxLines: l.TaxLines, CurrentQuantity: l.CurrentQuantity}
			if l.SKU != nil {
				line.SKU = *l.SKU
			}
			if l.Quantity != nil {
				line.Quantity = *l.Quantity
			}
			cur.LineItems.Nodes = append(cur.LineItems.Nodes, line)
		default:
			ri, ok := refunds[l.ParentID]
			if !ok {
				return &connector.Error{Kind: connector.Permanent, Message: fmt.Sprintf("Line %d of Shopify's bulk result belongs to no order or refund before it.", n)}
			}
			r := &cur.Refunds[ri]
			switch {
			case l.SubtotalSet != nil && l.LineItem != nil:
				rl := gqlRefundLine{LineItem: *l.LineItem, SubtotalSet: *l.SubtotalSet}
				if l.Quantity != nil {
					rl.Quantity = *l.Quantity
				}
				if l.TotalTaxSet != nil {
					rl.TotalTaxSet = *l.TotalTaxSet
				}
				r.RefundLineItems.Nodes = append(r.RefundLineItems.Nodes, rl)
			case l.AmountSet != nil:
				r.OrderAdjustments.Nodes = append(r.OrderAdjustments.Nodes, amountNode{AmountSet: l.AmountSet})
			case l.SubtotalAmountSet != nil:
				r.RefundShippingLines.Nodes = append(r.RefundShippingLines.Nodes, amountNode{SubtotalAmountSet: l.SubtotalAmountSet})
			}
		}
	}
	if err := sc.Err(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, bufio.ErrTooLong) {
			return &connector.Error{Kind: connector.Permanent,
				Message: fmt.Sprintf("Line %d of Shopify's bulk result is longer than %d MiB; it cannot be read.", n+1, MaxBulkLine>>20), Err: err}
		}
		return &connector.Error{Kind: connector.Transient, Message: "Shopify's bulk result was cut off.", Err: err}
	}
	return flush(n)
}

const orderIDsQuery = `query OrderIDs($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: PROCESSED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { id }
  }
}`

// OrderIDs implements connector.OrderLister: the ids of the orders
// processed in [from, to), 250 a page.
func (c *Client) OrderIDs(ctx context.Context, from, to time.Time) ([]string, error) {
	q := fmt.Sprintf("processed_at:>='%s' processed_at:<'%s'", from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	var out []string
	after := ""
	for {
		var data struct {
			Orders struct {
				PageInfo pageInfo `json:"pageInfo"`
				Nodes    []idRef  `json:"nodes"`
			} `json:"orders"`
		}
		vars := map[string]any{"first": 250, "after": nilIfEmpty(after), "query": q}
		if err := c.query(ctx, orderIDsQuery, vars, 2+250, &data); err != nil {
			return nil, err
		}
		for _, n := range data.Orders.Nodes {
			out = append(out, legacyID(n.ID))
		}
		if !data.Orders.PageInfo.HasNextPage {
			return out, nil
		}
		if data.Orders.PageInfo.EndCursor == after {
			return nil, &connector.Error{Kind: connector.Permanent, Message: "Shopify returned the same page of orders twice."}
		}
		after = data.Orders.PageInfo.EndCursor
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
