package woocommerce

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
)

// Webhook topics PhantomOS subscribes to.
const (
	TopicOrderCreated = "order.created"
	TopicOrderUpdated = "order.updated"
	TopicOrderDeleted = "order.deleted"
)

// Topics are the webhooks EnsureWebhooks keeps in a store.
var Topics = []string{TopicOrderCreated, TopicOrderUpdated, TopicOrderDeleted}

// Webhook headers WooCommerce sends.
const (
	HeaderSignature  = "X-WC-Webhook-Signature"
	HeaderTopic      = "X-WC-Webhook-Topic"
	HeaderWebhookID  = "X-WC-Webhook-ID"
	HeaderDeliveryID = "X-WC-Webhook-Delivery-ID"
	HeaderSource     = "X-WC-Webhook-Source"
)

// maxWebhookBody bounds a webhook body; an order is far smaller.
const maxWebhookBody = 5 << 20

// Sign returns the X-WC-Webhook-Signature of body under secret: the base64
// HMAC-SHA256 of the raw body.
func Sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Verify reports whether header is body's signature under secret, in
// constant time. An empty secret verifies nothing.
func Verify(body []byte, header, secret string) bool {
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(header))
	if err != nil || len(got) != sha256.Size || secret == "" {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(m.Sum(nil), got)
}

// WebhookTarget is the connector a delivery URL names.
type WebhookTarget struct {
	Target connector.Target
	// Secret verifies the signature (Credentials.WebhookSecret).
	Secret string
}

// OrderReader reads one order; *Client implements it.
type OrderReader interface {
	Order(ctx context.Context, id string) (connector.Order, error)
}

// FetchOrders reads the orders ids as the store has them now (one gone
// comes Removed): deliveries may arrive late, twice or out of order, so
// what is written is the order now, not a payload.
func FetchOrders(ctx context.Context, c OrderReader, ids []string) (connector.Batch, error) {
	var b connector.Batch
	for _, id := range ids {
		o, err := c.Order(ctx, id)
		if err != nil {
			return connector.Batch{}, err
		}
		b.Orders = append(b.Orders, o)
	}
	return b, nil
}

// WebhookHandler receives a store's order webhooks; the delivery URL names
// the connector (the {connector} path value, a ?connector= query, or the
// path after WebhookPath; the registry uses DeliveryURL). It verifies a
// delivery and hands the order it names to Enqueue, which stores it for
// a job to read from the store and write (platform.Host.FetchLater): the
// request never calls the store back. Responses follow WooCommerce's
// delivery rules (any 2xx is a success; other answers count towards
// disabling the hook):
//
//   - 200 for WooCommerce's ping when a hook is saved (form body
//     webhook_id=N, unsigned), for topics the connector does not use, and
//     when the delivery was stored (or was a duplicate);
//   - 401 when the signature does not verify, or the connector is unknown
//     (the same answer, so the endpoint reveals nothing);
//   - 400 for a verified body without an order id;
//   - 500 when the delivery could not be stored: WooCommerce retries.
type WebhookHandler struct {
	// Target returns the connector of a delivery URL; an unknown one is
	// ENOTFOUND.
	Target  func(ctx context.Context, connectorID string) (WebhookTarget, error)
	Enqueue func(ctx context.Context, t connector.Target, d platform.Delivery) error
	Logger  *slog.Logger
}

// WebhookPath is a prefix under which the connector id may follow (for
// servers mounting the handler without the registry).
const WebhookPath = "/webhooks/woocommerce/"

var pingBody = regexp.MustCompile(`^webhook_id=[0-9]+$`)

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
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
	if err != nil {
		reply(http.StatusBadRequest)
		return
	}
	if len(body) > maxWebhookBody {
		reply(http.StatusRequestEntityTooLarge)
		return
	}
	if r.Header.Get(HeaderSignature) == "" && pingBody.Match(body) {
		reply(http.StatusOK) // WooCommerce pings a hook when it is saved
		return
	}
	id := r.PathValue("connector")
	if id == "" {
		id = r.URL.Query().Get("connector")
	}
	if id == "" {
		id = strings.Trim(strings.TrimPrefix(r.URL.Path, WebhookPath), "/")
	}
	var t WebhookTarget
	if len(id) <= 64 && id != "" {
		t, err = h.Target(r.Context(), id)
		if err != nil && phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			log.Error("woocommerce webhook: find connector", "connector", id, "err", err)
			reply(http.StatusInternalServerError)
			return
		}
	}
	topic := r.Header.Get(HeaderTopic)
	if t.Secret == "" || !Verify(body, r.Header.Get(HeaderSignature), t.Secret) {
		log.Warn("woocommerce webhook refused: signature not valid", "topic", topic)
		reply(http.StatusUnauthorized)
		return
	}
	switch topic {
	case TopicOrderCreated, TopicOrderUpdated, TopicOrderDeleted:
	default:
		reply(http.StatusOK)
		return
	}
	var p struct {
		ID str `json:"id"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.ID == "" {
		reply(http.StatusBadRequest)
		return
	}
	if _, err := strconv.ParseUint(string(p.ID), 10, 64); err != nil {
		reply(http.StatusBadRequest)
		return
	}
	d := platform.Delivery{Key: deliveryKey(r.Header, topic, body), Orders: []string{string(p.ID)}}
	if err := h.Enqueue(r.Context(), t.Target, d); err != nil {
		log.Error("woocommerce webhook: store delivery", "publisher", t.Target.Publisher, "connector", t.Target.ConnectorID, "topic", topic,
			"delivery", r.Header.Get(HeaderDeliveryID), "err", err)
		reply(http.StatusInternalServerError)
		return
	}
	log.Info("woocommerce webhook stored", "publisher", t.Target.Publisher, "connector", t.Target.ConnectorID, "topic", topic, "order", p.ID)
	reply(http.StatusOK)
}

// deliveryKey identifies a delivery: its hook and delivery ids, which a
// repeated request carries unchanged, or else a hash of its topic and
// body.
func deliveryKey(hd http.Header, topic string, body []byte) string {
	hookID, deliveryID := hd.Get(HeaderWebhookID), hd.Get(HeaderDeliveryID)
	if deliveryID != "" && len(hookID)+len(deliveryID) <= 200 {
		return "wc:" + hookID + ":" + deliveryID
	}
	sum := sha256.Sum256(append([]byte(topic+"\n"), body...))
	return "wc-body:" + base64.RawURLEncoding.EncodeToString(sum[:])
}

// hook is a webhook as the REST API lists it.
type hook struct {
	ID          str `json:"id"`
	Name        str `json:"name"`
	Status      str `json:"status"`
	Topic       str `json:"topic"`
	DeliveryURL str `json:"delivery_url"`
}

// WebhookReport says what EnsureWebhooks did.
type WebhookReport struct {
	Created   []string // topics whose hook was missing
	Recreated []string // topics whose hook WooCommerce had disabled or paused
}

// EnsureWebhooks makes sure the store delivers order.created, .updated and
// .deleted to deliveryURL, signed with secret. WooCommerce disables a hook
// after repeated failed deliveries (five by default): a hook of ours that
// is not active is deleted and created anew, which also resets its
// failure count.
func (c *Client) EnsureWebhooks(ctx context.Context, deliveryURL, secret string) (WebhookReport, error) {
	var rep WebhookReport
	if deliveryURL == "" || secret == "" {
		return rep, fmt.Errorf("woocommerce: webhooks need a delivery URL and a secret")
	}
	var ours []hook
	for page := 1; page <= 20; page++ {
		var list []hook
		r, err := c.get(ctx, "/webhooks", url.Values{"per_page": {strconv.Itoa(c.perPage)}, "page": {strconv.Itoa(page)}}, &list)
		if err != nil {
			return rep, err
		}
		for _, h := range list {
			if string(h.DeliveryURL) == deliveryURL {
				ours = append(ours, h)
			}
		}
		if nextPage(page, r, len(list), c.perPage) == "" {
			break
		}
	}
	for _, topic := range Topics {
		active, stale := false, []hook(nil)
		for _, h := range ours {
			if string(h.Topic) != topic {
				continue
			}
			if h.Status == "active" && !active {
				active = true
				continue
			}
			stale = append(stale, h)
		}
		for _, h := range stale {
			if h.Status == "active" {
				continue // a duplicate active hook does no harm; leave it
			}
			if _, err := c.do(ctx, http.MethodDelete, "/webhooks/"+url.PathEscape(string(h.ID)), url.Values{"force": {"true"}}, nil, nil); err != nil {
				return rep, err
			}
		}
		if active {
			continue
		}
		in := map[string]string{"name": "PhantomOS " + topic, "topic": topic, "delivery_url": deliveryURL, "secret": secret, "status": "active"}
		var created hook
		if _, err := c.do(ctx, http.MethodPost, "/webhooks", nil, in, &created); err != nil {
			return rep, err
		}
		if len(stale) > 0 {
			rep.Recreated = append(rep.Recreated, topic)
		} else {
			rep.Created = append(rep.Created, topic)
		}
	}
	return rep, nil
}
