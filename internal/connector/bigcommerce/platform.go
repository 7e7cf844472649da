package bigcommerce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
)

// Type is the connector type of BigCommerce stores.
const Type = "bigcommerce"

// Environment variables the platform reads.
const (
	EnvClientID     = "BIGCOMMERCE_CLIENT_ID"
	EnvClientSecret = "BIGCOMMERCE_CLIENT_SECRET"
	EnvBaseURL      = "PHANTOMOS_BIGCOMMERCE_BASE_URL"
)

// Paths of the platform's routes: the app's auth, load and uninstall
// callbacks (as registered with the app in BigCommerce's Developer
// Portal) and the webhook endpoint.
const (
	connectPath   = "/connectors/" + Type
	authPath      = "/connectors/" + Type + "/auth"
	loadPath      = "/connectors/" + Type + "/load"
	uninstallPath = "/connectors/" + Type + "/uninstall"
)

// Registration declares BigCommerce to the platform registry.
var Registration = platform.Registration{
	Type:  Type,
	Name:  Platform,
	Blurb: "Orders, refunds and catalog through the BigCommerce API, with order webhooks.",
	Env: []platform.EnvVar{
		{Name: EnvClientID + ", " + EnvClientSecret, Help: "a BigCommerce app (Developer Portal), set both; without them stores connect with a store-level API account"},
		{Name: EnvBaseURL, Help: "send every BigCommerce request (API and login service) to this address (tests and demos against a fake only)"},
	},
	New: func(cfg platform.Config) (platform.Platform, error) {
		o := Options{ClientID: cfg.Getenv(EnvClientID), ClientSecret: cfg.Getenv(EnvClientSecret), BaseURL: cfg.Getenv(EnvBaseURL), Logger: cfg.Logger}
		if err := o.Validate(); err != nil {
			return nil, err
		}
		if o.BaseURL != "" {
			cfg.Logger.Warn("BigCommerce requests go to "+EnvBaseURL+" instead of BigCommerce (testing only)", "url", o.BaseURL)
		}
		return NewPlatform(o), nil
	},
	Routes: []platform.Route{
		// Public: BigCommerce calls them from the store's control panel;
		// the code exchange and the signed payloads are their proof.
		{Method: http.MethodGet, Path: authPath, Public: true, Handle: handleAuth},
		{Method: http.MethodGet, Path: loadPath, Public: true, Handle: handleLoad},
		{Method: http.MethodGet, Path: uninstallPath, Public: true, Handle: handleUninstall},
		// Webhooks: each delivery carries its connector's hook token.
		{Method: http.MethodPost, Path: WebhookPath, Public: true, Handle: handleWebhook},
	},
}

// Options configure the platform.
type Options struct {
	ClientID, ClientSecret string
	// BaseURL replaces both https://api.bigcommerce.com and
	// https://login.bigcommerce.com (tests against the fake).
	BaseURL string
	Logger  *slog.Logger
}

// Validate reports a half-configured app or a bad base URL.
func (o Options) Validate() error {
	if err := platform.CheckAppPair(EnvClientID, o.ClientID, EnvClientSecret, o.ClientSecret); err != nil {
		return err
	}
	return platform.CheckURLSetting(EnvBaseURL, o.BaseURL)
}

type live struct {
	opts Options
	app  *App // nil without an app
}

// NewPlatform returns BigCommerce configured with o.
func NewPlatform(o Options) platform.Platform {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	p := &live{opts: o}
	if o.ClientID != "" {
		p.app = &App{ClientID: o.ClientID, ClientSecret: o.ClientSecret, LoginURL: o.BaseURL}
	}
	return p
}

// Account implements platform.Credentials: the store hash.
func (c Credentials) Account() string { return c.StoreHash }

var storeField = platform.Field{Name: "store_hash", Label: "Store hash or API path", Placeholder: "https://api.bigcommerce.com/stores/abc123de/v3/",
	Required: true, MaxLen: 255, Account: true}

func (p *live) Info() platform.Info {
	i := platform.Info{Type: Type, Name: Platform, Account: "Store hash", Pushes: true,
		Reading: "Reading products, orders and refunds from BigCommerce…"}
	title := "Create a store-level API account"
	if p.app != nil {
		title = "Or create a store-level API account"
		u := LoginBase
		if p.opts.BaseURL != "" {
			u = strings.TrimSuffix(p.opts.BaseURL, "/")
		}
		i.Methods = append(i.Methods, platform.Method{ID: ModeOAuth, Section: "oauth", Title: "Install the PhantomOS app", Badge: "recommended",
			Intro: "BigCommerce shows the store owner what PhantomOS asks for — read-only access to orders, products and store information — and brings you back here to sign in and claim the store.",
			Steps: []template.HTML{template.HTML(`Open <a href="` + template.HTMLEscapeString(u+"/app/"+url.PathEscape(p.app.ClientID)+"/install") + `" rel="noopener" target="_blank">the app's install page</a> while signed in to your store's control panel, and install it.`)},
		})
	}
	i.Methods = append(i.Methods, platform.Method{ID: ModeAPIAccount, Section: "api-account", Title: title, Primary: p.app == nil,
		Intro: "For a store you run: BigCommerce lets its owner create API accounts for tools like PhantomOS.",
		Steps: []template.HTML{
			"In the store's control panel: Settings → Store-level API accounts → Create API account (type V2/V3 API token).",
			`Set <span class="mono">Orders</span>, <span class="mono">Products</span> and <span class="mono">Information &amp; settings</span> to read-only; leave the rest at none.`,
			"Save, then copy the API path and the access token (BigCommerce shows the token once).",
		},
		Hint:   "Credentials are encrypted at rest and never shown again.",
		Action: connectPath, Submit: "Connect and test", ButtonID: "connect-token",
		Fields: []platform.Field{storeField, {Name: "token", Label: "Access token", Type: "password", Required: true, MaxLen: 256}}})
	return i
}

// Credentials implements platform.Platform: a store-level API account.
func (p *live) Credentials(ctx context.Context, h platform.Host, method string, form url.Values) (platform.Credentials, error) {
	m, ok := p.Info().MethodByID(ModeAPIAccount)
	if !ok || method != ModeAPIAccount && method != "" {
		return nil, phantomos.Errorf(phantomos.EINVALID, "Connect a BigCommerce store with an API account, or install the app from BigCommerce.")
	}
	v, err := m.Values(form)
	if err != nil {
		return nil, err
	}
	cr, err := APIAccountCredentials(v["store_hash"], v["token"])
	if err != nil {
		return nil, err
	}
	cr.WebhookToken = NewWebhookToken()
	return cr, nil
}

// Decode implements platform.Platform.
func (p *live) Decode(raw []byte) (platform.Credentials, error) {
	var cr Credentials
	if err := json.Unmarshal(raw, &cr); err != nil {
		return nil, fmt.Errorf("bigcommerce: decode credentials: %w", err)
	}
	return cr, nil
}

// Preflight implements platform.Platform: one connection test.
func (p *live) Preflight(ctx context.Context, pc platform.Credentials) error {
	cr, ok := pc.(Credentials)
	if !ok {
		return fmt.Errorf("bigcommerce: preflight: %T is not BigCommerce credentials", pc)
	}
	c, err := FromCredentials(cr, Config{BaseURL: p.opts.BaseURL, Logger: p.opts.Logger})
	if err != nil {
		return err
	}
	_, err = c.Test(ctx)
	return userError(err)
}

// Open implements platform.Platform.
func (p *live) Open(ctx context.Context, h platform.Host, t connector.Target) (connector.Source, error) {
	var cr Credentials
	if err := h.Vault().Load(ctx, t, &cr); err != nil {
		if phantomos.ErrorCode(err) == phantomos.EINVALID {
			return nil, phantomos.Errorf(phantomos.EINVALID, "This connector has no credentials: reconnect the store.")
		}
		return nil, err
	}
	return FromCredentials(cr, Config{BaseURL: p.opts.BaseURL, Logger: h.Logger()})
}

// Subscribe implements platform.Subscriber: the store gets one active
// store/order/* hook carrying the connector's token; BigCommerce
// deactivates hooks whose deliveries fail, and this switches them back on.
func (p *live) Subscribe(ctx context.Context, h platform.Host, t connector.Target, src connector.Source) error {
	base := h.WebhookBase()
	c, ok := src.(*Client)
	if base == "" || !ok {
		return nil
	}
	var cr Credentials
	version, err := h.Vault().LoadVersion(ctx, t, &cr)
	if err != nil {
		return err
	}
	if cr.WebhookToken == "" {
		cr.WebhookToken = NewWebhookToken()
		swapped, err := h.Vault().SwapCredentials(ctx, t, version, cr)
		if err != nil {
			return err
		}
		if !swapped {
			return nil // changed meanwhile: the next sync subscribes
		}
	}
	rep, err := c.EnsureHooks(ctx, strings.TrimSuffix(base, "/")+WebhookPath, cr.WebhookToken)
	if err == nil && rep != (HookReport{}) {
		h.Logger().Info("bigcommerce hooks", "publisher", t.Publisher, "connector", t.ConnectorID, "created", rep.Created, "reactivated", rep.Reactivated)
	}
	return err
}

func (p *live) oauthApp(h platform.Host, r *http.Request) (*App, error) {
	if p.app == nil {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "The BigCommerce app is not configured on this server (%s and %s): connect with an API account.", EnvClientID, EnvClientSecret)
	}
	app := *p.app
	app.RedirectURL = h.PublicURL(r) + authPath
	app.Now = h.Now
	// Signed payloads work once, whichever replica receives them.
	app.JTIs = StoreJTIs{Store: h.Replays()}
	return &app, nil
}

// handleAuth is the app's auth callback: the code is exchanged for the
// store's token, which is parked for whoever signs in and claims it. The
// callback carries no state of ours (BigCommerce starts installs), so it
// never connects a store to a session by itself: a link crafted with
// someone else's code could otherwise attach their store to a victim's
// organization.
func handleAuth(pl platform.Platform, h platform.Host, w http.ResponseWriter, r *http.Request) error {
	p := pl.(*live)
	app, err := p.oauthApp(h, r)
	if err != nil {
		return err
	}
	cr, err := app.Exchange(r.Context(), r.URL.Query())
	if err != nil {
		return userError(err)
	}
	cr.WebhookToken = NewWebhookToken()
	return h.Park(w, r, p, cr)
}

// handleLoad is the load callback (the app opened from the control
// panel): a verified payload sends the browser to the connectors page.
func handleLoad(pl platform.Platform, h platform.Host, w http.ResponseWriter, r *http.Request) error {
	p := pl.(*live)
	app, err := p.oauthApp(h, r)
	if err != nil {
		return err
	}
	if _, err := app.Load(r.Context(), r.URL.Query()); err != nil {
		return err
	}
	http.Redirect(w, r, "/connectors", http.StatusSeeOther)
	return nil
}

// handleUninstall is the uninstall callback: the store's connectors are
// disconnected (their token is dead).
func handleUninstall(pl platform.Platform, h platform.Host, w http.ResponseWriter, r *http.Request) error {
	p := pl.(*live)
	app, err := p.oauthApp(h, r)
	if err != nil {
		return err
	}
	sp, err := app.Uninstall(r.Context(), r.URL.Query())
	if err != nil {
		return err
	}
	ts, err := h.Connectors(r.Context(), Type, sp.StoreHash, false)
	if err != nil {
		return err
	}
	for _, t := range ts {
		var cr Credentials
		if err := h.Vault().Load(r.Context(), t, &cr); err != nil || cr.Mode != ModeOAuth {
			continue // an API account of the store still works
		}
		if err := h.Uninstalled(r.Context(), t, Type); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleWebhook receives every store's BigCommerce webhooks.
func handleWebhook(_ platform.Platform, h platform.Host, w http.ResponseWriter, r *http.Request) error {
	wh := &WebhookHandler{
		Targets: func(ctx context.Context, hash string) ([]WebhookTarget, error) {
			ts, err := h.Connectors(ctx, Type, hash, false)
			if err != nil {
				return nil, err
			}
			var out []WebhookTarget
			for _, t := range ts {
				var cr Credentials
				if err := h.Vault().Load(ctx, t, &cr); err != nil || cr.WebhookToken == "" {
					continue
				}
				out = append(out, WebhookTarget{Target: t, StoreHash: cr.StoreHash, Token: cr.WebhookToken})
			}
			return out, nil
		},
		Enqueue: h.FetchLater,
		Logger:  h.Logger(),
	}
	wh.ServeHTTP(w, r)
	return nil
}

// Fetch implements platform.Fetcher: the orders a delivery named, read
// from the API by a job.
func (p *live) Fetch(ctx context.Context, h platform.Host, t connector.Target, d platform.Delivery) (connector.Batch, error) {
	src, err := p.Open(ctx, h, t)
	if err != nil {
		return connector.Batch{}, err
	}
	c, ok := src.(*Client)
	if !ok {
		return connector.Batch{}, fmt.Errorf("bigcommerce: source %T", src)
	}
	return FetchOrders(ctx, c, d.Orders)
}

// userError turns a source failure into a coded error with its message
// for the user; other errors pass through.
func userError(err error) error {
	if _, ok := errors.AsType[*connector.Error](err); ok {
		return phantomos.Errorf(phantomos.EINVALID, "%s", connector.UserMessage(err))
	}
	return err
}

var (
	_ platform.Subscriber = (*live)(nil)
	_ platform.Fetcher    = (*live)(nil)
)
