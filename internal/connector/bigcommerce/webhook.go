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
	"time"

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

// Deduper remembers deliveries already applied.
type Deduper interface {
	// Claim records delivery key of connector t for ttl and reports
	// whether it is new.
	Claim(ctx context.Context, t connector.Target, key string, ttl time.Duration) (bool, error)
	// Release forgets key: its delivery failed, and the retry must be
	// applied.
	Release(ctx context.Context, t connector.Target, key string) error
}

// StoreDeduper is a Deduper in the database, shared by every replica: a
// delivery retried to another replica, or after a restart, is applied
// once.
type StoreDeduper struct{ Store platform.ReplayStore }

// Claim implements Deduper.
func (d StoreDeduper) Claim(ctx context.Context, t connector.Target, key string, ttl time.Duration) (bool, error) {
	return d.Store.ClaimDelivery(ctx, t.Publisher, t.ConnectorID, key, ttl)
}

// Release implements Deduper.
func (d StoreDeduper) Release(ctx context.Context, t connector.Target, key string) error {
	return d.Store.ReleaseDelivery(ctx, t.Publisher, t.ConnectorID, key)
}

// dedupeTTL is how long a delivery's hash is remembered: BigCommerce
// retries a failed delivery for about two days.
const dedupeTTL = 72 * time.Hour

// WebhookHandler receives the BigCommerce webhooks of every connector at
// WebhookPath. A delivery names its store (producer "stores/{hash}");
// Targets lists the connectors of that store, and the delivery is for
// those whose hook token it carries (compared in constant time). Payloads
// are thin, so the order is read from the API (Orders) and written
// through Apply: its current state, whatever the event, so a late or
// out-of-order delivery writes the newest version (and the store keeps
// the newer of two versions anyway). An order that is gone (archived,
// deleted, or no longer a sale) is removed (connector.Order.Removed).
// Deliveries are deduplicated by connector and payload hash (Dedupe, in
// the database: every replica sees the same). Responses:
//
//   - 200 when applied, a duplicate, or nothing to do (another resource);
//   - 401 when no connector's token matches (forged, or an unknown store:
//     the same answer, so the endpoint does not reveal connected stores);
//   - 400 for a body that does not parse;
//   - 500 when reading the order or writing failed transiently:
//     BigCommerce retries. An order that cannot be read for good (revoked
//     token, refused) is answered 200: retrying cannot help, and the next
//     sync reports the problem and reads the order.
type WebhookHandler struct {
	Targets func(ctx context.Context, storeHash string) ([]WebhookTarget, error)
	Orders  func(ctx context.Context, t connector.Target) (OrderReader, error)
	Apply   func(ctx context.Context, t connector.Target, b connector.Batch) error
	Dedupe  Deduper
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
	if event == "" {
		sum := sha256.Sum256(body)
		event = hex.EncodeToString(sum[:])
	}
	for _, t := range verified {
		// Claimed before it is applied, so that of two replicas handed one
		// event (BigCommerce retries, or delivers twice) one applies it;
		// released when applying fails, so that the retry is applied.
		if h.Dedupe != nil {
			fresh, err := h.Dedupe.Claim(r.Context(), t.Target, event, dedupeTTL)
			if err != nil {
				log.Error("bigcommerce webhook: claim delivery", "connector", t.Target.ConnectorID, "err", err)
				reply(http.StatusInternalServerError)
				return
			}
			if !fresh {
				log.Info("bigcommerce webhook: duplicate delivery", "connector", t.Target.ConnectorID, "order", id)
				continue
			}
		}
		if readErr, err := h.apply(r.Context(), t.Target, id); err != nil {
			if h.Dedupe != nil {
				if err := h.Dedupe.Release(r.Context(), t.Target, event); err != nil {
					log.Warn("bigcommerce webhook: release delivery", "err", err)
				}
			}
			if k := connector.KindOf(err); readErr && (k == connector.Auth || k == connector.Permanent) {
				log.Warn("bigcommerce webhook: order not readable; the next sync reads it", "connector", t.Target.ConnectorID, "order", id, "err", err)
				continue
			}
			log.Error("bigcommerce webhook: apply", "connector", t.Target.ConnectorID, "order", id, "err", err)
			reply(http.StatusInternalServerError)
			return
		}
		log.Info("bigcommerce webhook applied", "connector", t.Target.ConnectorID, "scope", p.Scope, "order", id)
	}
	reply(http.StatusOK)
}

// apply reads order id for t and writes it; readErr tells a failure to
// read the order from one to write it.
func (h *WebhookHandler) apply(ctx context.Context, t connector.Target, id string) (readErr bool, err error) {
	src, err := h.Orders(ctx, t)
	if err != nil {
		return false, err
	}
	o, _, err := src.Order(ctx, id)
	if err != nil {
		return true, err
	}
	// A gone order comes Removed: its lines go, unless a newer version is
	// stored.
	if err := h.Apply(ctx, t, connector.Batch{Orders: []connector.Order{o}}); err != nil {
		return false, fmt.Errorf("bigcommerce: apply order %s: %w", id, err)
	}
	return false, nil
}
