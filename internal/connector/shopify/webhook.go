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
	TopicOrdersDelete   = "orders/delete"
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
	// Batch holds the records to write (orders/* and products/update),
	// or the order to remove (orders/delete).
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
	body, err := ReadWebhookBody(r.Body)
	if err != nil {
		return nil, err
	}
	if !VerifyWebhook(body, r.Header.Get(HeaderHMAC), t.Secrets...) {
		return nil, phantomos.Errorf(phantomos.EUNAUTHORIZED, "The webhook signature is not valid.")
	}
	if t.Shop != "" && r.Header.Get(HeaderShopDomain) != t.Shop {
		return nil, phantomos.Errorf(phantomos.EUNAUTHORIZED, "The webhook is from another shop.")
	}
	return DecodeWebhook(r.Header, body, t.Currency)
}

// ReadWebhookBody reads the raw body of a webhook, which its signature
// covers byte for byte. A body over the limit is EINVALID.
func ReadWebhookBody(r io.Reader) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, maxWebhookBody+1))
	if err != nil {
		return nil, fmt.Errorf("shopify: read webhook: %w", err)
	}
	if len(body) > maxWebhookBody {
		return nil, phantomos.Errorf(phantomos.EINVALID, "The webhook body is too large.")
	}
	return body, nil
}

// DecodeWebhook parses a webhook whose signature the caller verified: the
// topic, shop, id and version from its headers, and the records of its
// body, product prices read in currency (the shop's). A body that does not
// parse is EINVALID.
func DecodeWebhook(h http.Header, body []byte, currency string) (*Webhook, error) {
	w := &Webhook{Topic: h.Get(HeaderTopic), Shop: h.Get(HeaderShopDomain), ID: h.Get(HeaderWebhookID),
		APIVersion: h.Get(HeaderAPIVersion)}
	if err := w.parse(body, currency); err != nil {
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
	case TopicOrdersDelete:
		var o struct {
			ID json.Number `json:"id"`
		}
		if err := decodeNumbers(body, &o); err != nil || o.ID.String() == "" {
			return phantomos.Errorf(phantomos.EINVALID, "The %s webhook body does not name an order.", w.Topic)
		}
		w.Batch.DeletedOrders = []string{o.ID.String()}
	case TopicProductsUpdate:
		if currency == "" {
			// Prices cannot be read without the shop's currency (REST
			// payloads do not carry it); the next sync reads the product.
			w.Ignored = true
			return nil
		}
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
	ID                  json.Number   `json:"id"`
	Name                string        `json:"name"`
	CreatedAt           time.Time     `json:"created_at"`
	ProcessedAt         *time.Time    `json:"processed_at"`
	UpdatedAt           time.Time     `json:"updated_at"`
	CancelledAt         *time.Time    `json:"cancelled_at"`
	Test                bool          `json:"test"`
	Currency            string        `json:"currency"`
	PresentmentCurrency string        `json:"presentment_currency"`
	TaxesIncluded       bool          `json:"taxes_included"`
	TotalShippingSet    *restMoneySet `json:"total_shipping_price_set"`
	ShippingAddress     *restAddress  `json:"shipping_address"`
	BillingAddress      *restAddress  `json:"billing_address"`
	LineItems           []struct {
		ID              json.Number  `json:"id"`
		ProductID       *json.Number `json:"product_id"`
		VariantID       *json.Number `json:"variant_id"`
		SKU             string       `json:"sku"`
		Name            string       `json:"name"`
		Quantity        int64        `json:"quantity"`
		CurrentQuantity *int64       `json:"current_quantity"`
		PriceSet        restMoneySet `json:"price_set"`
		TaxLines        []struct {
			PriceSet restMoneySet `json:"price_set"`
		} `json:"tax_lines"`
		DiscountAllocations []struct {
			AmountSet restMoneySet `json:"amount_set"`
		} `json:"discount_allocations"`
	} `json:"line_items"`
	Refunds []struct {
		ID              json.Number `json:"id"`
		CreatedAt       time.Time   `json:"created_at"`
		RefundLineItems []struct {
			LineItemID  json.Number  `json:"line_item_id"`
			Quantity    int64        `json:"quantity"`
			SubtotalSet restMoneySet `json:"subtotal_set"`
			TotalTaxSet restMoneySet `json:"total_tax_set"`
		} `json:"refund_line_items"`
		OrderAdjustments []struct {
			AmountSet restMoneySet `json:"amount_set"`
		} `json:"order_adjustments"`
		RefundShippingLines []struct {
			SubtotalAmountSet restMoneySet `json:"subtotal_amount_set"`
		} `json:"refund_shipping_lines"`
	} `json:"refunds"`
}

// connector maps the payload through the same rules as the GraphQL sync,
// so a webhook and a sync write identical records.
func (o *restOrder) connector() (connector.Order, error) {
	g := gqlOrder{ID: o.ID.String(), Name: o.Name, CreatedAt: o.CreatedAt, ProcessedAt: o.ProcessedAt, UpdatedAt: o.UpdatedAt,
		CancelledAt: o.CancelledAt, Test: o.Test, CurrencyCode: o.Currency, PresentmentCurrencyCode: o.PresentmentCurrency,
		TaxesIncluded: o.TaxesIncluded}
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
	if o.TotalShippingSet != nil {
		b := bag(*o.TotalShippingSet)
		g.TotalShippingPriceSet = &b
	}
	for _, l := range o.LineItems {
		gl := gqlLine{ID: l.ID.String(), Name: l.Name, SKU: l.SKU, Quantity: l.Quantity, CurrentQuantity: l.CurrentQuantity,
			OriginalUnitPriceSet: bag(l.PriceSet)}
		for _, t := range l.TaxLines {
			gl.TaxLines = append(gl.TaxLines, taxLine{PriceSet: bag(t.PriceSet)})
		}
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
		// The refund's date books it on the day it was made, as a sync does.
		gr := gqlRefund{ID: r.ID.String(), CreatedAt: r.CreatedAt}
		for _, rl := range r.RefundLineItems {
			gr.RefundLineItems.Nodes = append(gr.RefundLineItems.Nodes, gqlRefundLine{Quantity: rl.Quantity, LineItem: idRef{ID: rl.LineItemID.String()},
				SubtotalSet: bag(rl.SubtotalSet), TotalTaxSet: bag(rl.TotalTaxSet)})
		}
		for _, a := range r.OrderAdjustments {
			b := bag(a.AmountSet)
			gr.OrderAdjustments.Nodes = append(gr.OrderAdjustments.Nodes, amountNode{AmountSet: &b})
		}
		for _, sl := range r.RefundShippingLines {
			b := bag(sl.SubtotalAmountSet)
			gr.RefundShippingLines.Nodes = append(gr.RefundShippingLines.Nodes, amountNode{SubtotalAmountSet: &b})
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
		price, err := connector.Minor(v.Price, currency)
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

// WebhookTarget is one connector a webhook may be for.
type WebhookTarget struct {
	Target connector.Target
	// Shop the connector is connected to; webhooks from others are refused.
	Shop string
	// Secrets verify the signature: the public app's client secret, or the
	// custom app's API secret key (plus an old one during rotation).
	Secrets []string
	// Currency is the shop currency, in which product webhooks are priced;
	// when it is unknown, product webhooks are ignored.
	Currency string
}

// WebhookHandler receives the Shopify webhooks of every connector at one
// endpoint (WebhookPath). A delivery names its shop (X-Shopify-Shop-Domain):
// Targets lists the connectors connected to that shop, and the delivery is
// applied to each whose secrets verify its signature: orders and products
// through Apply, app/uninstalled through Uninstalled. Responses follow
// Shopify's retry rules:
//
//   - 200 when applied, or when there is nothing to do: a topic the
//     connector does not use, or a delivery signed with the app's secret
//     (AppSecrets) for a shop no connector reaches (any longer);
//   - 401 when no secret verifies the signature: not from Shopify, or
//     altered. A shop PhantomOS does not know gets the same answer as a
//     known one, so the endpoint does not reveal which shops are connected;
//   - 400 for a verified body that does not parse;
//   - 500 when writing failed: Shopify retries, and writes are idempotent.
type WebhookHandler struct {
	Targets func(ctx context.Context, shop string) ([]WebhookTarget, error)
	// AppSecrets verify deliveries for shops that no target matches (the
	// public app's client secret; none without a public app).
	AppSecrets  []string
	Apply       func(ctx context.Context, t connector.Target, b connector.Batch) error
	Uninstalled func(ctx context.Context, t connector.Target) error
	// Compliance acts on a verified compliance webhook (compliance.go).
	Compliance func(ctx context.Context, req ComplianceRequest) error
	Logger     *slog.Logger
}

func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := h.Logger
	if log == nil {
		log = slog.Default()
	}
	reply := func(status int) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(status)
		io.WriteString(w, strings.ToLower(http.StatusText(status))+"\n")
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reply(http.StatusMethodNotAllowed)
		return
	}
	body, err := ReadWebhookBody(r.Body)
	if err != nil {
		if phantomos.ErrorCode(err) == phantomos.EINVALID {
			reply(http.StatusRequestEntityTooLarge)
			return
		}
		reply(http.StatusBadRequest)
		return
	}
	shop, topic, sig := r.Header.Get(HeaderShopDomain), r.Header.Get(HeaderTopic), r.Header.Get(HeaderHMAC)
	if IsComplianceTopic(topic) {
		secrets, err := h.complianceSecrets(r.Context(), shop)
		if err != nil {
			log.Error("shopify webhook: find connectors", "shop", shop, "err", err)
			reply(http.StatusInternalServerError)
			return
		}
		h.serveCompliance(w, r, body, secrets, log, reply)
		return
	}
	var targets []WebhookTarget
	if ValidShop(shop) {
		if targets, err = h.Targets(r.Context(), shop); err != nil {
			log.Error("shopify webhook: find connectors", "shop", shop, "err", err)
			reply(http.StatusInternalServerError)
			return
		}
	}
	var verified []WebhookTarget
	for _, t := range targets {
		if t.Shop == shop && VerifyWebhook(body, sig, t.Secrets...) {
			verified = append(verified, t)
		}
	}
	if len(verified) == 0 {
		if VerifyWebhook(body, sig, h.AppSecrets...) {
			log.Info("shopify webhook for no connected store; ignored", "topic", topic)
			reply(http.StatusOK)
			return
		}
		log.Warn("shopify webhook refused: signature not valid", "topic", topic)
		reply(http.StatusUnauthorized)
		return
	}
	for _, t := range verified {
		wh, err := DecodeWebhook(r.Header, body, t.Currency)
		if err != nil {
			log.Warn("shopify webhook refused: body", "connector", t.Target.ConnectorID, "topic", topic, "err", err)
			reply(http.StatusBadRequest)
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
			log.Error("shopify webhook: apply", "publisher", t.Target.Publisher, "connector", t.Target.ConnectorID, "topic", topic, "webhook", wh.ID, "err", err)
			reply(http.StatusInternalServerError)
			return
		}
		log.Info("shopify webhook applied", "publisher", t.Target.Publisher, "connector", t.Target.ConnectorID, "topic", topic, "webhook", wh.ID)
	}
	reply(http.StatusOK)
}

// WebhookPath is the path of the server's Shopify webhook endpoint. It is
// the same for every connector: deliveries name their shop
// (X-Shopify-Shop-Domain), and the signature tells whose they are.
const WebhookPath = "/webhooks/shopify"
