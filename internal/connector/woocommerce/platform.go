package woocommerce

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
)

// Type is the connector type of WooCommerce stores.
const Type = "woocommerce"

// Method is the connect method of pasted keys.
const MethodKeys = "keys"

// webhookRoute is where the store delivers; the connector is named by the
// query (?connector=id), the store by X-WC-Webhook-Source.
const webhookRoute = "/webhooks/" + Type

// Registration declares WooCommerce to the platform registry. It reads no
// environment: each store brings its own keys.
var Registration = platform.Registration{
	Type:  Type,
	Name:  Platform,
	Blurb: "Orders, refunds and products through the WooCommerce REST API, with order webhooks.",
	New: func(cfg platform.Config) (platform.Platform, error) {
		return &live{}, nil
	},
	Routes: []platform.Route{
		{Method: http.MethodPost, Path: webhookRoute, Public: true, Handle: handleWebhook},
		// The key-generation flow: started and finished by the signed-in
		// user; the keys arrive from the store itself, proven by the
		// sealed single-use state they carry.
		{Method: http.MethodPost, Path: authorizePath, Handle: handleAuthorize},
		{Method: http.MethodPost, Path: keysPath, Public: true, Handle: handleKeys},
		{Method: http.MethodGet, Path: returnPath, Handle: handleReturn},
	},
}

type live struct{}

// Account is the store's site root.
func (c Credentials) Account() string { return c.URL }

// Info implements platform.Platform.
func (p *live) Info() platform.Info {
	return platform.Info{Type: Type, Name: Platform, Account: "Store address", Pushes: true,
		Reading: "Reading products, orders and refunds from WooCommerce…",
		// The key-generation flow's form leads to the store's own address,
		// which can be any https site (or one on this machine).
		FormAction: []string{"https:", "http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"},
		Methods: []platform.Method{{ID: MethodAuthorize, Section: "authorize", Title: "Connect with WooCommerce", Badge: "recommended", Primary: true,
			Intro: "Your store makes a key for PhantomOS after you approve it: no key to copy.",
			Steps: []template.HTML{
				"Enter the store's address and continue: the store asks you to sign in to WordPress as an administrator or shop manager if you are not.",
				"Approve PhantomOS on the store's page. It asks for read/write access: write is only used to create PhantomOS's order webhooks.",
				"You come back here, and the first sync starts.",
			},
			Hint:   "The store must be reached over https. The key is encrypted at rest and never shown.",
			Action: authorizePath, Submit: "Connect with WooCommerce", ButtonID: "connect-woo",
			Fields: []platform.Field{{Name: "url", Label: "Store address", Placeholder: "https://shop.example.com", Required: true, MaxLen: 2048, Account: true}},
		}, {ID: MethodKeys, Section: "keys", Title: "Or paste a REST API key",
			Intro: "PhantomOS reads orders, refunds and products with a key of your store, and keeps its own order webhooks there.",
			Steps: []template.HTML{
				"In WordPress: WooCommerce → Settings → Advanced → REST API → Add key.",
				"Choose an administrator or shop manager as the user and Read/Write permissions (write is only used to create PhantomOS's webhooks), then Generate API key.",
				"Copy the consumer key and consumer secret: WooCommerce shows the secret once.",
			},
			Hint:   "The store must be reached over https: WooCommerce keys travel with every request. Credentials are encrypted at rest and never shown again.",
			Action: "/connectors/" + Type, Submit: "Connect and test", ButtonID: "connect-keys",
			Fields: []platform.Field{
				{Name: "url", Label: "Store address", Placeholder: "https://shop.example.com", Required: true, MaxLen: 2048, Account: true},
				{Name: "consumer_key", Label: "Consumer key", Placeholder: "ck_…", Required: true, MaxLen: 128},
				{Name: "consumer_secret", Label: "Consumer secret", Type: "password", Placeholder: "cs_…", Required: true, MaxLen: 128},
			}}}}
}

// Credentials implements platform.Platform: the pasted key, checked for
// shape (the store is asked by Preflight).
func (p *live) Credentials(ctx context.Context, h platform.Host, method string, form url.Values) (platform.Credentials, error) {
	m, _ := p.Info().MethodByID(MethodKeys)
	v, err := m.Values(form)
	if err != nil {
		return nil, err
	}
	cr := Credentials{URL: v["url"], ConsumerKey: v["consumer_key"], ConsumerSecret: v["consumer_secret"]}
	if err := cr.Validate(); err != nil {
		return nil, phantomos.Errorf(phantomos.EINVALID, "%s", connector.UserMessage(err))
	}
	if cr.WebhookSecret, err = newSecret(); err != nil {
		return nil, err
	}
	return cr, nil
}

// Decode implements platform.Platform.
func (p *live) Decode(raw []byte) (platform.Credentials, error) {
	var cr Credentials
	if err := json.Unmarshal(raw, &cr); err != nil {
		return nil, fmt.Errorf("woocommerce: decode credentials: %w", err)
	}
	return cr, nil
}

// Preflight implements platform.Platform.
func (p *live) Preflight(ctx context.Context, pc platform.Credentials) error {
	cr, ok := pc.(Credentials)
	if !ok {
		return fmt.Errorf("woocommerce: preflight: %T is not WooCommerce credentials", pc)
	}
	c, err := FromCredentials(cr, Config{})
	if err != nil {
		return err
	}
	_, err = c.Test(ctx)
	return err
}

// Open implements platform.Platform.
func (p *live) Open(ctx context.Context, h platform.Host, t connector.Target) (connector.Source, error) {
	c, _, err := Open(ctx, h.Vault(), t, Config{Logger: h.Logger()})
	if err != nil && phantomos.ErrorCode(err) == phantomos.EINVALID {
		return nil, phantomos.Errorf(phantomos.EINVALID, "This connector has no credentials: reconnect the store.")
	}
	return c, err
}

// DeliveryURL is where connector id's webhooks are delivered under base.
func DeliveryURL(base, connectorID string) string {
	return strings.TrimSuffix(base, "/") + webhookRoute + "?connector=" + url.QueryEscape(connectorID)
}

// Subscribe implements platform.Subscriber: the store's order webhooks
// exist and are active (EnsureWebhooks).
func (p *live) Subscribe(ctx context.Context, h platform.Host, t connector.Target, src connector.Source) error {
	base := h.WebhookBase()
	c, ok := src.(*Client)
	if base == "" || !ok {
		return nil
	}
	var cr Credentials
	if err := h.Vault().Load(ctx, t, &cr); err != nil {
		return err
	}
	if cr.WebhookSecret == "" {
		return nil
	}
	rep, err := c.EnsureWebhooks(ctx, DeliveryURL(base, t.ConnectorID), cr.WebhookSecret)
	if err == nil && len(rep.Created)+len(rep.Recreated) > 0 {
		h.Logger().Info("woocommerce webhooks created", "publisher", t.Publisher, "connector", t.ConnectorID,
			"created", len(rep.Created), "recreated", len(rep.Recreated))
	}
	return err
}

// handleWebhook serves deliveries: the connector is the one of the
// delivery URL among those connected to the delivering store.
func handleWebhook(_ platform.Platform, h platform.Host, w http.ResponseWriter, r *http.Request) error {
	wh := &WebhookHandler{
		Target: func(ctx context.Context, id string) (WebhookTarget, error) {
			account, err := NormalizeURL(r.Header.Get(HeaderSource))
			if err != nil {
				return WebhookTarget{}, phantomos.Errorf(phantomos.ENOTFOUND, "unknown store")
			}
			ts, err := h.Connectors(ctx, Type, account, false)
			if err != nil {
				return WebhookTarget{}, err
			}
			for _, t := range ts {
				if t.ConnectorID != id {
					continue
				}
				var cr Credentials
				if err := h.Vault().Load(ctx, t, &cr); err != nil {
					return WebhookTarget{}, err
				}
				return WebhookTarget{Target: t, Secret: cr.WebhookSecret}, nil
			}
			return WebhookTarget{}, phantomos.Errorf(phantomos.ENOTFOUND, "unknown connector")
		},
		Enqueue: h.FetchLater,
		Logger:  h.Logger(),
	}
	wh.ServeHTTP(w, r)
	return nil
}

// Fetch implements platform.Fetcher: the orders a delivery named, read
// from the store by a job.
func (p *live) Fetch(ctx context.Context, h platform.Host, t connector.Target, d platform.Delivery) (connector.Batch, error) {
	c, _, err := Open(ctx, h.Vault(), t, Config{Logger: h.Logger()})
	if err != nil && phantomos.ErrorCode(err) == phantomos.EINVALID {
		return connector.Batch{}, phantomos.Errorf(phantomos.EINVALID, "This connector has no credentials: reconnect the store.")
	}
	if err != nil {
		return connector.Batch{}, err
	}
	return FetchOrders(ctx, c, d.Orders)
}

var (
	_ platform.Subscriber = (*live)(nil)
	_ platform.Fetcher    = (*live)(nil)
)
