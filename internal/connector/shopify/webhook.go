package shopify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
)

// Webhook topics handled.
const (
	TopicOrdersCreate   = "orders/create"
	TopicOrdersUpdated  = "orders/updated"
	TopicProductsUpdate = "products/update"
	TopicAppUninstalled = "app/uninstalled"
)

// Webhook headers.
const (
	HeaderHMAC       = "X-Shopify-Hmac-Sha256"
	HeaderTopic      = "X-Shopify-Topic"
	HeaderShopDomain = "X-Shopify-Shop-Domain"
	HeaderWebhookID  = "X-Shopify-Webhook-Id"
	HeaderAPIVersion = "X-Shopify-API-Version"
)

// maxWebhookBody bounds a webhook body; Shopify's are far smaller.
const maxWebhookBody = 10 << 20

// VerifyWebhook reports whether header (X-Shopify-Hmac-Sha256) is the
// base64 HMAC-SHA256 of the raw body under one of secrets (several during
// a secret rotation). The comparison takes constant time.
func VerifyWebhook(body []byte, header string, secrets ...string) bool {
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(header))
	if err != nil || len(got) != sha256.Size {
		return false
	}
	ok := false
	for _, s := range secrets {
		if s == "" {
			continue
		}
		m := hmac.New(sha256.New, []byte(s))
		m.Write(body)
		if hmac.Equal(m.Sum(nil), got) {
			ok = true
		}
	}
	return ok
}

// SignWebhook returns the X-Shopify-Hmac-Sha256 value of body under secret.
func SignWebhook(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Webhook is a verified, parsed webhook.
type Webhook struct {
	Topic      string
	Shop       string
	ID         string // X-Shopify-Webhook-Id, the same on redeliveries
	APIVersion string
	// Batch holds the records to write (orders/* and products/update).
	Batch connector.Batch
	// Uninstalled is set for app/uninstalled: the token is dead.
	Uninstalled bool
	// Ignored is set for topics the connector does not use.
	Ignored bool
}

// ParseWebhook reads a webhook request, verifies it against t.Secrets and,
// when t.Shop is set, checks that it comes from that shop. Product prices
// are read in t.Currency (REST payloads carry none). A bad or missing
// signature, or another shop, is EUNAUTHORIZED; a body that does not parse
// is EINVALID.
func ParseWebhook(r *http.Request, t WebhookTarget) (*Webhook, error) {
	shop, secrets := t.Shop, t.Secrets
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
	if err != nil {
		return nil, fmt.Errorf("shopify: read webhook: %w", err)
	}
	if len(body) > maxWebhookBody {
		return nil, phantomos.Errorf(phantomos.EINVALID, "The webhook body is too large.")
	}
	if !VerifyWebhook(body, r.Header.Get(HeaderHMAC), secrets...) {
		return nil, phantomos.Errorf(phantomos.EUNAUTHORIZED, "The webhook signature is not valid.")
	}
	w := &Webhook{Topic: r.Header.Get(HeaderTopic), Shop: r.Header.Get(HeaderShopDomain), ID: r.Header.Get(HeaderWebhookID),
		APIVersion: r.Header.Get(HeaderAPIVersion)}
	if shop != "" && w.Shop != shop {
		return nil, phantomos.Errorf(phantomos.EUNAUTHORIZED, "The webhook is from another shop.")
	}
	if err := w.parse(body, t.Currency); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Webhook) parse(body []byte, currency string) error {
	switch w.Topic {
	case TopicOrdersCreate, TopicOrdersUpdated:
		var o restOrder
		if err := decodeNumbers(body, &o); err != nil {
			return phantomos.Errorf(phantomos.EINVALID, "The %s webhook body is not an order: %v", w.Topic, err)
		}
		out, err := o.connector()
		if err != nil {
			return phantomos.Errorf(phantomos.EINVALID, "The %s webhook has an unreadable amount: %v", w.Topic, err)
		}
		w.Batch.Orders = []connector.Order{out}
	case TopicProductsUpdate:
		var p restProduct
		if err := decodeNumbers(body, &p); err != nil {
			return phantomos.Errorf(phantomos.EINVALID, "The %s webhook body is not a product: %v", w.Topic, err)
		}
		out, err := p.connector(currency)
		if err != nil {
			return phantomos.Errorf(phantomos.EINVALID, "The %s webhook has an unreadable price: %v", w.Topic, err)
		}
		w.Batch.Products = []connector.Product{out}
	case TopicAppUninstalled:
		w.Uninstalled = true
	default:
		w.Ignored = true
	}
	return nil
}

// decodeNumbers decodes with json.Number so that 64-bit ids stay exact.
func decodeNumbers(body []byte, v any) error {
	d := json.NewDecoder(strings.NewReader(string(body)))
	d.UseNumber()
	return d.Decode(v)
}

// Webhook payloads use the REST resource format (snake case, numeric ids).

type restMoney struct {
	Amount       string `json:"amount"`
	CurrencyCode string `json:"currency_code"`
}

type restMoneySet struct {
	ShopMoney        restMoney `json:"shop_money"`
	PresentmentMoney restMoney `json:"presentment_money"`
}

type restAddress struct {
	CountryCode  string `json:"country_code"`
	ProvinceCode string `json:"province_code"`
}

type restOrder struct {
	ID                  json.Number  `json:"id"`
	Name                string       `json:"name"`
	CreatedAt           time.Time    `json:"created_at"`
	ProcessedAt         *time.Time   `json:"processed_at"`
	UpdatedAt           time.Time    `json:"updated_at"`
	CancelledAt         *time.Time   `json:"cancelled_at"`
	Test                bool         `json:"test"`
	Currency            string       `json:"currency"`
	PresentmentCurrency string       `json:"presentment_currency"`
	ShippingAddress     *restAddress `json:"shipping_address"`
	BillingAddress      *restAddress `json:"billing_address"`
	LineItems           []struct {
		ID                  json.Number  `json:"id"`
		ProductID           *json.Number `json:"product_id"`
		VariantID           *json.Number `json:"variant_id"`
		SKU                 string       `json:"sku"`
		Name                string       `json:"name"`
		Quantity            int64        `json:"quantity"`
		PriceSet            restMoneySet `json:"price_set"`
		DiscountAllocations []struct {
			AmountSet restMoneySet `json:"amount_set"`
		} `json:"discount_allocations"`
	} `json:"line_items"`
	Refunds []struct {
		ID              json.Number `json:"id"`
		RefundLineItems []struct {
			LineItemID  json.Number  `json:"line_item_id"`
			Quantity    int64        `json:"quantity"`
			SubtotalSet restMoneySet `json:"subtotal_set"`
		} `json:"refund_line_items"`
	} `json:"refunds"`
}

// connector maps the payload through the same rules as the GraphQL sync,
// so a webhook and a sync write identical records.
func (o *restOrder) connector() (connector.Order, error) {
	g := gqlOrder{ID: o.ID.String(), Name: o.Name, CreatedAt: o.CreatedAt, ProcessedAt: o.ProcessedAt, UpdatedAt: o.UpdatedAt,
		CancelledAt: o.CancelledAt, Test: o.Test, CurrencyCode: o.Currency, PresentmentCurrencyCode: o.PresentmentCurrency}
	if g.PresentmentCurrencyCode == "" {
		g.PresentmentCurrencyCode = g.CurrencyCode
	}
	if a := o.ShippingAddress; a != nil {
		g.ShippingAddress = &address{CountryCodeV2: a.CountryCode, ProvinceCode: a.ProvinceCode}
	}
	if a := o.BillingAddress; a != nil {
		g.BillingAddress = &address{CountryCodeV2: a.CountryCode, ProvinceCode: a.ProvinceCode}
	}
	bag := func(s restMoneySet) moneyBag {
		return moneyBag{ShopMoney: money(s.ShopMoney), PresentmentMoney: money(s.PresentmentMoney)}
	}
	for _, l := range o.LineItems {
		gl := gqlLine{ID: l.ID.String(), Name: l.Name, SKU: l.SKU, Quantity: l.Quantity, OriginalUnitPriceSet: bag(l.PriceSet)}
		if l.ProductID != nil && l.ProductID.String() != "" {
			gl.Product = &idRef{ID: l.ProductID.String()}
		}
		if l.VariantID != nil && l.VariantID.String() != "" {
			gl.Variant = &idRef{ID: l.VariantID.String()}
		}
		for _, d := range l.DiscountAllocations {
			gl.DiscountAllocations = append(gl.DiscountAllocations, struct {
				AllocatedAmountSet moneyBag `json:"allocatedAmountSet"`
			}{bag(d.AmountSet)})
		}
		g.LineItems.Nodes = append(g.LineItems.Nodes, gl)
	}
	for _, r := range o.Refunds {
		gr := gqlRefund{ID: r.ID.String()}
		for _, rl := range r.RefundLineItems {
			gr.RefundLineItems.Nodes = append(gr.RefundLineItems.Nodes, gqlRefundLine{Quantity: rl.Quantity, LineItem: idRef{ID: rl.LineItemID.String()}, SubtotalSet: bag(rl.SubtotalSet)})
		}
		g.Refunds = append(g.Refunds, gr)
	}
	if g.ID == "" {
		return connector.Order{}, errors.New("order without id")
	}
	return mapOrder(&g)
}

type restProduct struct {
	ID          json.Number `json:"id"`
	Title       string      `json:"title"`
	BodyHTML    string      `json:"body_html"`
	Handle      string      `json:"handle"`
	ProductType string      `json:"product_type"`
	Vendor      string      `json:"vendor"`
	Status      string      `json:"status"`
	Tags        string      `json:"tags"` // comma separated
	UpdatedAt   time.Time   `json:"updated_at"`
	Image       *struct {
		Src string `json:"src"`
	} `json:"image"`
	Variants []struct {
		ID    json.Number `json:"id"`
		SKU   string      `json:"sku"`
		Title string      `json:"title"`
		Price string      `json:"price"`
	} `json:"variants"`
}

// connector maps a product payload; prices are in the shop's currency.
func (p *restProduct) connector(currency string) (connector.Product, error) {
	out := connector.Product{ExternalID: p.ID.String(), Name: p.Title, Description: htmlText(p.BodyHTML), Handle: p.Handle,
		ProductType: p.ProductType, Vendor: p.Vendor, Status: strings.ToLower(p.Status), Currency: currency, UpdatedAt: p.UpdatedAt.UTC()}
	if out.ExternalID == "" {
		return out, errors.New("product without id")
	}
	for _, t := range strings.Split(p.Tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out.Tags = append(out.Tags, t)
		}
	}
	if p.Image != nil {
		out.ImageURL = p.Image.Src
	}
	for i, v := range p.Variants {
		price, err := minor(v.Price, currency)
		if err != nil {
			return out, err
		}
		out.Variants = append(out.Variants, connector.Variant{ExternalID: v.ID.String(), SKU: v.SKU, Title: v.Title, Price: price})
		if out.SKU == "" {
			out.SKU = v.SKU
		}
		if i == 0 || price < out.Price {
			out.Price = price
		}
	}
	return out, nil
}

// htmlText strips tags from a product description, close enough to the
// plain text GraphQL's description field returns.
func htmlText(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// WebhookTarget is what the handler needs to accept a webhook for one
// connector.
type WebhookTarget struct {
	Target connector.Target
	// Shop the connector is connected to; webhooks from others are refused.
	Shop string
	// Secrets verify the signature: the public app's client secret, or the
	// custom app's API secret key (plus an old one during rotation).
	Secrets []string
	// Currency is the shop currency, in which product webhooks are priced.
	Currency string
}

// WebhookHandler receives Shopify webhooks. It resolves the connector from
// the request (typically the URL path), verifies the signature and the
// shop, applies orders and products through Apply and calls Uninstalled on
// app/uninstalled. Responses follow Shopify's retry rules: 200 when done
// (or for topics it ignores), 401 for a bad signature (not retried by
// design: it is not Shopify), 404 for an unknown connector, 500 when
// writing failed (Shopify retries, and writes are idempotent).
type WebhookHandler struct {
	Resolve     func(r *http.Request) (WebhookTarget, error)
	Apply       func(ctx context.Context, t connector.Target, b connector.Batch) error
	Uninstalled func(ctx context.Context, t connector.Target) error
	Logger      *slog.Logger
}

func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	t, err := h.Resolve(r)
	if err != nil {
		status := http.StatusInternalServerError
		if phantomos.ErrorCode(err) == phantomos.ENOTFOUND || phantomos.ErrorCode(err) == phantomos.EINVALID {
			status = http.StatusNotFound
		} else {
			log.Error("shopify webhook: resolve connector", "err", err)
		}
		http.Error(w, http.StatusText(status), status)
		return
	}
	wh, err := ParseWebhook(r, t)
	if err != nil {
		status := http.StatusInternalServerError
		switch phantomos.ErrorCode(err) {
		case phantomos.EUNAUTHORIZED:
			status = http.StatusUnauthorized
		case phantomos.EINVALID:
			status = http.StatusBadRequest
		}
		log.Warn("shopify webhook refused", "connector", t.Target.ConnectorID, "topic", r.Header.Get(HeaderTopic), "err", err)
		http.Error(w, http.StatusText(status), status)
		return
	}
	switch {
	case wh.Uninstalled:
		if h.Uninstalled != nil {
			err = h.Uninstalled(r.Context(), t.Target)
		}
	case wh.Ignored:
	default:
		err = h.Apply(r.Context(), t.Target, wh.Batch)
	}
	if err != nil {
		log.Error("shopify webhook: apply", "connector", t.Target.ConnectorID, "topic", wh.Topic, "webhook", wh.ID, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "ok\n")
}

// WebhookPath is the path that routes a webhook to its connector; the lead
// registers "POST /webhooks/shopify/{publisher}/{connector}".
func WebhookPath(t connector.Target) string {
	return "/webhooks/shopify/" + string(t.Publisher) + "/" + t.ConnectorID
}
