package shopify

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/phantomos/phantomos"
)

// The mandatory compliance webhooks of a public app. Shopify sends them to
// the URLs in the app's configuration (compliance_topics), signed with the
// app's client secret like every webhook; an invalid signature must get
// 401. shop/redact arrives 48 hours after a store uninstalls the app.
const (
	TopicCustomersDataRequest = "customers/data_request"
	TopicCustomersRedact      = "customers/redact"
	TopicShopRedact           = "shop/redact"
)

// IsComplianceTopic reports whether topic is one of the three compliance
// topics.
func IsComplianceTopic(topic string) bool {
	switch topic {
	case TopicCustomersDataRequest, TopicCustomersRedact, TopicShopRedact:
		return true
	}
	return false
}

// ComplianceRequest is a verified compliance webhook.
type ComplianceRequest struct {
	Topic  string
	Shop   string // the shop's myshopify.com domain
	ShopID int64
	// WebhookID is X-Shopify-Webhook-Id, the same on redeliveries.
	WebhookID string
	// Customer and the orders concerned (customers/*); DataRequestID for
	// customers/data_request.
	CustomerID    int64
	Orders        []int64
	DataRequestID int64
}

// compliancePayload is the body of the three topics: shop_id and
// shop_domain always; customer and orders_requested (data_request) or
// orders_to_redact (customers/redact); data_request.id.
type compliancePayload struct {
	ShopID     int64  `json:"shop_id"`
	ShopDomain string `json:"shop_domain"`
	Customer   *struct {
		ID int64 `json:"id"`
	} `json:"customer"`
	OrdersRequested []int64 `json:"orders_requested"`
	OrdersToRedact  []int64 `json:"orders_to_redact"`
	DataRequest     *struct {
		ID int64 `json:"id"`
	} `json:"data_request"`
}

// maxComplianceOrders bounds the order ids one request may list.
const maxComplianceOrders = 100_000

// DecodeCompliance parses the body of a compliance webhook whose signature
// the caller verified. The shop in the body must be the one in the
// headers. A body that does not parse is EINVALID.
func DecodeCompliance(topic, headerShop, webhookID string, body []byte) (ComplianceRequest, error) {
	var p compliancePayload
	if err := json.Unmarshal(body, &p); err != nil {
		return ComplianceRequest{}, phantomos.Errorf(phantomos.EINVALID, "The %s webhook body is not valid JSON: %v", topic, err)
	}
	if !ValidShop(p.ShopDomain) || (headerShop != "" && p.ShopDomain != headerShop) {
		return ComplianceRequest{}, phantomos.Errorf(phantomos.EINVALID, "The %s webhook names shop %q, not %q.", topic, p.ShopDomain, headerShop)
	}
	req := ComplianceRequest{Topic: topic, Shop: p.ShopDomain, ShopID: p.ShopID, WebhookID: webhookID}
	if p.Customer != nil {
		req.CustomerID = p.Customer.ID
	}
	req.Orders = p.OrdersToRedact
	if topic == TopicCustomersDataRequest {
		req.Orders = p.OrdersRequested
	}
	if len(req.Orders) > maxComplianceOrders {
		return ComplianceRequest{}, phantomos.Errorf(phantomos.EINVALID, "The %s webhook lists %d orders, more than %d.", topic, len(req.Orders), maxComplianceOrders)
	}
	if p.DataRequest != nil {
		req.DataRequestID = p.DataRequest.ID
	}
	if topic != TopicShopRedact && req.CustomerID == 0 {
		return ComplianceRequest{}, phantomos.Errorf(phantomos.EINVALID, "The %s webhook names no customer.", topic)
	}
	return req, nil
}

// serveCompliance answers a compliance webhook: 401 unless one of secrets
// verifies it, 400 for a body that does not parse, 500 when acting on it
// failed (Shopify retries; the handlers are idempotent), else 200.
func (h *WebhookHandler) serveCompliance(w http.ResponseWriter, r *http.Request, body []byte, secrets []string, log *slog.Logger, reply func(int)) {
	topic, shop := r.Header.Get(HeaderTopic), r.Header.Get(HeaderShopDomain)
	if !VerifyWebhook(body, r.Header.Get(HeaderHMAC), secrets...) {
		log.Warn("shopify compliance webhook refused: signature not valid", "topic", topic)
		reply(http.StatusUnauthorized)
		return
	}
	req, err := DecodeCompliance(topic, shop, r.Header.Get(HeaderWebhookID), body)
	if err != nil {
		log.Warn("shopify compliance webhook refused: body", "topic", topic, "err", err)
		reply(http.StatusBadRequest)
		return
	}
	if h.Compliance == nil {
		log.Error("shopify compliance webhook: no handler", "topic", topic)
		reply(http.StatusInternalServerError)
		return
	}
	if err := h.Compliance(r.Context(), req); err != nil {
		log.Error("shopify compliance webhook", "topic", topic, "shop", req.Shop, "err", err)
		reply(http.StatusInternalServerError)
		return
	}
	log.Info("shopify compliance webhook handled", "topic", topic, "shop", req.Shop, "webhook", req.WebhookID)
	reply(http.StatusOK)
}

// complianceSecrets are the secrets that may sign a compliance webhook for
// shop: the public app's, and those of the connectors reaching the shop
// (a Dev Dashboard app's client secret).
func (h *WebhookHandler) complianceSecrets(ctx context.Context, shop string) ([]string, error) {
	secrets := append([]string(nil), h.AppSecrets...)
	if !ValidShop(shop) {
		return secrets, nil
	}
	targets, err := h.Targets(ctx, shop)
	if err != nil {
		return nil, fmt.Errorf("shopify: compliance webhook: %w", err)
	}
	for _, t := range targets {
		if t.Shop == shop {
			secrets = append(secrets, t.Secrets...)
		}
	}
	return secrets, nil
}
