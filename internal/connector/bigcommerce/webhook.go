package bigcommerce

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
)

// WebhookPath is the path of the server's BigCommerce webhook endpoint,
// the same for every connector: a delivery names its store (producer),
// and its token header tells whose it is.
const WebhookPath = "/webhooks/bigcommerce"

// HeaderHookToken is the custom header every hook of a connector is
// created with, carrying Credentials.WebhookToken. BigCommerce does not
// sign deliveries; it sends back the headers a hook was created with.
const HeaderHookToken = "X-Phantomos-Hook-Token"

// HookScope is the one subscription a connector needs: every order event
// (created, updated, archived, statusUpdated, refund/created, …).
const HookScope = "store/order/*"

// NewWebhookToken returns a fresh random hook token.
func NewWebhookToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

type hook struct {
	ID          int64             `json:"id"`
	Scope       string            `json:"scope"`
	Destination string            `json:"destination"`
	IsActive    bool              `json:"is_active"`
	Headers     map[string]string `json:"headers"`
}

// HookReport says what EnsureHooks changed.
type HookReport struct {
	Created, Reactivated int
}

// EnsureHooks makes sure the store has an active HookScope hook to
// destination carrying token. BigCommerce deactivates a hook whose
// deliveries keep failing (and after 90 days without events): such a hook
// is switched back on, and a missing one is created. Syncs call it, so a
// deactivated hook comes back at the next sync; events missed meanwhile
// are read by that sync.
func (c *Client) EnsureHooks(ctx context.Context, destination, token string) (HookReport, error) {
	var rep HookReport
	if destination == "" || token == "" {
		return rep, errors.New("bigcommerce: hooks need a destination and a token")
	}
	var page v3Page[hook]
	if _, err := c.get(ctx, "/v3/hooks?limit=250", &page); err != nil {
		return rep, err
	}
	headers := map[string]string{HeaderHookToken: token}
	for _, h := range page.Data {
		if h.Scope != HookScope || h.Destination != destination {
			continue
		}
		if h.IsActive && h.Headers[HeaderHookToken] == token {
			return rep, nil
		}
		body, _ := json.Marshal(map[string]any{"is_active": true, "headers": headers})
		if _, err := c.do(ctx, http.MethodPut, "/v3/hooks/"+strconv.FormatInt(h.ID, 10), body, nil); err != nil {
			return rep, err
		}
		rep.Reactivated++
		return rep, nil
	}
	body, _ := json.Marshal(map[string]any{"scope": HookScope, "destination": destination, "is_active": true, "headers": headers})
	if _, err := c.do(ctx, http.MethodPost, "/v3/hooks", body, nil); err != nil {
		return rep, err
	}
	rep.Created++
	return rep, nil
}

// Payload is a webhook delivery: thin, naming the resource only.
type Payload struct {
	Scope    string `json:"scope"`
	StoreID  string `json:"store_id"`
	Producer string `json:"producer"` // stores/{hash}
	Hash     string `json:"hash"`     // the same on every delivery of one event
	Created  int64  `json:"created_at"`
	Data     struct {
		Type string      `json:"type"`
		ID   json.Number `json:"id"`
	} `json:"data"`
}

// maxWebhookBody bounds a delivery; BigCommerce's are a few hundred bytes.
const maxWebhookBody = 64 << 10

// WebhookTarget is one connector a delivery may be for.
type WebhookTarget struct {
	Target    connector.Target
	StoreHash string
	Token     string // Credentials.WebhookToken
}

// OrderReader reads one order; *Client implements it.
type OrderReader interface {
	Order(ctx context.Context, id string) (connector.Order, bool, error)
}

// FetchOrders reads the orders ids as the store has them now, whatever
// the event: a late or out-of-order delivery writes the newest version
// (and the store keeps the newer of two versions anyway). An order that
// is gone (archived, deleted, or no longer a sale) comes Removed.
func FetchOrders(ctx context.Context, c OrderReader, ids []string) (connector.Batch, error) {
	var b connector.Batch
	for _, id := range ids {
		o, _, err := c.Order(ctx, id)
		if err != nil {
			return connector.Batch{}, fmt.Errorf("bigcommerce: read order %s: %w", id, err)
		}
		b.Orders = append(b.Orders, o)
	}
	return b, nil
}

// WebhookHandler receives the BigCommerce webhooks of every connector at
// WebhookPath. A delivery names its store (producer "stores/{hash}");
// Targets lists the connectors of that store, and the delivery is for
// those whose hook token it carries (compared in constant time). Payloads
// are thin, so the order a delivery names is handed to Enqueue, which
// stores it for a job to read from the API and write
// (platform.Host.FetchLater): the request never calls the store back.
// The delivery's key is its payload hash, the same on every delivery of
// one event, so that an event delivered twice is read once. Responses:
//
//   - 200 when stored, a duplicate, or nothing to do (another resource);
//   - 401 when no connector's token matches (forged, or an unknown store:
//     the same answer, so the endpoint does not reveal connected stores);
//   - 400 for a body that does not parse;
//   - 500 when the delivery could not be stored: BigCommerce retries.
type WebhookHandler struct {
	Targets func(ctx context.Context, storeHash string) ([]WebhookTarget, error)
	Enqueue func(ctx context.Context, t connector.Target, d platform.Delivery) error
	Logger  *slog.Logger
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
	body, err := io.ReadAll(io.LimitReader(r.Body, maxWebhookBody+1))
	if err != nil || len(body) > maxWebhookBody {
		reply(http.StatusRequestEntityTooLarge)
		return
	}
	var p Payload
	if err := decodeJSON(body, &p); err != nil {
		reply(http.StatusBadRequest)
		return
	}
	hash, _ := storeHashOf(p.Producer)
	var targets []WebhookTarget
	if hash != "" {
		if targets, err = h.Targets(r.Context(), hash); err != nil {
			log.Error("bigcommerce webhook: find connectors", "store", hash, "err", err)
			reply(http.StatusInternalServerError)
			return
		}
	}
	got := r.Header.Get(HeaderHookToken)
	var verified []WebhookTarget
	for _, t := range targets {
		if t.StoreHash == hash && t.Token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(t.Token)) == 1 {
			verified = append(verified, t)
		}
	}
	if len(verified) == 0 {
		log.Warn("bigcommerce webhook refused: no connector's token", "scope", p.Scope)
		reply(http.StatusUnauthorized)
		return
	}
	if !strings.HasPrefix(p.Scope, "store/order/") || p.Data.ID.String() == "" {
		reply(http.StatusOK)
		return
	}
	id := p.Data.ID.String()
	if _, err := strconv.ParseUint(id, 10, 63); err != nil {
		reply(http.StatusBadRequest)
		return
	}
	event := p.Hash
	if event == "" || len(event) > 128 {
		sum := sha256.Sum256(body)
		event = hex.EncodeToString(sum[:])
	}
	for _, t := range verified {
		if err := h.Enqueue(r.Context(), t.Target, platform.Delivery{Key: "bc:" + event, Orders: []string{id}}); err != nil {
			log.Error("bigcommerce webhook: store delivery", "connector", t.Target.ConnectorID, "order", id, "err", err)
			reply(http.StatusInternalServerError)
			return
		}
		log.Info("bigcommerce webhook stored", "connector", t.Target.ConnectorID, "scope", p.Scope, "order", id)
	}
	reply(http.StatusOK)
}
