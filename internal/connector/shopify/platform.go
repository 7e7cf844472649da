package shopify

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

// Type is the connector type of Shopify stores.
const Type = "shopify"

// Environment variables the platform reads.
const (
	EnvClientID     = "SHOPIFY_CLIENT_ID"
	EnvClientSecret = "SHOPIFY_CLIENT_SECRET"
	EnvBaseURL      = "PHANTOMOS_SHOPIFY_BASE_URL"
)

// Paths of the platform's routes.
const (
	connectPath  = "/connectors/" + Type
	installPath  = "/connectors/" + Type + "/install"
	callbackPath = "/connectors/" + Type + "/callback"
)

// Registration declares Shopify to the platform registry.
var Registration = platform.Registration{
	Type:  Type,
	Name:  Platform,
	Blurb: "Products, orders and refunds through the Admin API, kept current all day.",
	Env: []platform.EnvVar{
		{Name: EnvClientID + ", " + EnvClientSecret, Help: "a public Shopify app, set both; without them stores connect with their own app's credentials"},
		{Name: EnvBaseURL, Help: "send every Shopify request to this address instead of the stores (tests and demos against a fake only)"},
	},
	New: func(cfg platform.Config) (platform.Platform, error) {
		o := Options{ClientID: cfg.Getenv(EnvClientID), ClientSecret: cfg.Getenv(EnvClientSecret),
			BaseURL: cfg.Getenv(EnvBaseURL), Logger: cfg.Logger}
		if err := o.Validate(); err != nil {
			return nil, err
		}
		if o.BaseURL != "" {
			cfg.Logger.Warn("Shopify requests go to "+EnvBaseURL+" instead of the stores (testing only)", "url", o.BaseURL)
		}
		if o.ClientID != "" {
			cfg.Logger.Info("Shopify app configured: stores connect through its OAuth install", "client_id", o.ClientID)
		}
		return NewPlatform(o), nil
	},
	Routes: []platform.Route{
		{Method: http.MethodPost, Path: installPath, Handle: handleInstall},
		// Public: an install started from Shopify arrives before anyone
		// signs in; Shopify's signature and the signed state are checked
		// instead.
		{Method: http.MethodGet, Path: installPath, Public: true, Handle: handleInstallLink},
		{Method: http.MethodGet, Path: callbackPath, Public: true, Handle: handleCallback},
		// Webhooks: each delivery is verified by its signature.
		{Method: http.MethodPost, Path: WebhookPath, Public: true, Handle: handleWebhook},
	},
}

// Options configure the platform.
type Options struct {
	// ClientID and ClientSecret are the public app's credentials; empty,
	// stores connect with their own app's credentials only.
	ClientID, ClientSecret string
	// BaseURL replaces https://{shop} (tests against the fake).
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

// live is the configured platform.
type live struct {
	opts Options
	app  *App // nil without a public app
}

// NewPlatform returns Shopify configured with o.
func NewPlatform(o Options) platform.Platform {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	p := &live{opts: o}
	if o.ClientID != "" && o.ClientSecret != "" {
		p.app = &App{ClientID: o.ClientID, ClientSecret: o.ClientSecret, StateKey: platform.StateKey(Type, o.ClientSecret), BaseURL: o.BaseURL}
	}
	return p
}

// Account implements platform.Credentials: the shop's myshopify.com
// domain.
func (c Credentials) Account() string { return c.Shop }

// ConnectMode is how the store was connected, for the audit log.
func (c Credentials) ConnectMode() string { return c.Mode }

var shopField = platform.Field{Name: "shop", Label: "Store address", Placeholder: "your-store.myshopify.com", Required: true, MaxLen: 255, Account: true}

func (p *live) Info() platform.Info {
	i := platform.Info{Type: Type, Name: Platform, Account: "Store address", Pushes: true,
		Reading: "Reading products, orders and refunds from Shopify…"}
	devTitle := "Use your own Dev Dashboard app"
	if p.app != nil {
		devTitle = "Or use your own Dev Dashboard app"
		i.FormAction = []string{"https://*.myshopify.com"}
		if u, err := url.Parse(p.opts.BaseURL); err == nil && u.Host != "" {
			i.FormAction = append(i.FormAction, u.Scheme+"://"+u.Host)
		}
		i.Methods = append(i.Methods, platform.Method{ID: ModeOAuth, Section: "oauth", Title: "Install the PhantomOS app", Badge: "recommended",
			Intro:  "Shopify shows the store owner what PhantomOS asks for — read access to products and orders — and brings you back here.",
			Hint:   "Shopify lets apps read the last 60 days of orders. Older history needs the read_all_orders permission, which Shopify grants to the app on request.",
			Action: installPath, Fields: []platform.Field{shopField}, Submit: "Continue to Shopify", ButtonID: "install", Primary: true})
	}
	i.Methods = append(i.Methods,
		platform.Method{ID: ModeClientCredentials, Section: "dev-app", Title: devTitle,
			Intro: "For a store of your own organization. Shopify no longer lets stores create new custom apps in their admin; apps are made in the Dev Dashboard.",
			Steps: []template.HTML{
				`In the Shopify Dev Dashboard: Create app, then on its version select the Admin API scopes <span class="mono">read_products</span>, <span class="mono">read_orders</span> (and <span class="mono">read_all_orders</span> for orders older than 60 days), and release it.`,
				"Install the app on your store.",
				"Copy the app's client ID and client secret from its Settings.",
			},
			Action: connectPath, Submit: "Connect and test", ButtonID: "connect-client", Primary: p.app == nil,
			Fields: []platform.Field{shopField, {Name: "client_id", Label: "Client ID", Required: true, MaxLen: 200},
				{Name: "client_secret", Label: "Client secret", Type: "password", Required: true, MaxLen: 200,
					Hint: "PhantomOS asks Shopify for a fresh access token with it whenever one expires, and checks the app's webhooks with it."}}},
		platform.Method{ID: ModeCustom, Section: "custom-app", Title: "Or paste a legacy custom app token",
			Intro:  "Only for a custom app your store created in its admin before 2026 (Settings → Apps → Develop apps); those tokens keep working.",
			Hint:   "Credentials are encrypted at rest and never shown again.",
			Action: connectPath, Submit: "Connect and test", ButtonID: "connect-token",
			Fields: []platform.Field{shopField, {Name: "token", Label: "Admin API access token", Type: "password", Placeholder: "shpat_…", Required: true},
				{Name: "api_secret", Label: "API secret key", Type: "password",
					Hint: "Optional. With it, Shopify pushes new orders at once instead of waiting for the next sync."}}},
	)
	return i
}

// Credentials implements platform.Platform: a Dev Dashboard app's client
// ID and secret (method client_credentials), which get a first token at
// once, or a legacy custom app's access token and API secret key.
func (p *live) Credentials(ctx context.Context, h platform.Host, method string, form url.Values) (platform.Credentials, error) {
	if method != ModeClientCredentials {
		method = ModeCustom
	}
	m, _ := p.Info().MethodByID(method)
	v, err := m.Values(form)
	if err != nil {
		return nil, err
	}
	if method == ModeCustom {
		return CustomAppCredentials(v["shop"], v["token"], v["api_secret"])
	}
	cr, err := ClientCredentials(v["shop"], v["client_id"], v["client_secret"])
	if err != nil {
		return nil, err
	}
	if cr, err = RequestClientToken(ctx, cr, p.opts.BaseURL, nil, h.Now()); err != nil {
		return nil, userError(err)
	}
	return cr, nil
}

// Decode implements platform.Platform.
func (p *live) Decode(raw []byte) (platform.Credentials, error) {
	var cr Credentials
	if err := json.Unmarshal(raw, &cr); err != nil {
		return nil, fmt.Errorf("shopify: decode credentials: %w", err)
	}
	return cr, nil
}

// Preflight implements platform.Platform: one connection test with the
// credentials' token, without retries.
func (p *live) Preflight(ctx context.Context, pc platform.Credentials) error {
	cr, ok := pc.(Credentials)
	if !ok {
		return fmt.Errorf("shopify: preflight: %T is not Shopify credentials", pc)
	}
	c, err := New(Config{Shop: cr.Shop, AccessToken: cr.AccessToken, BaseURL: p.opts.BaseURL, Logger: p.opts.Logger})
	if err != nil {
		return err
	}
	_, err = c.Test(ctx)
	return err
}

// Open implements platform.Platform: a client whose token is read from the
// vault, and renewed there (once across processes) when it expires.
func (p *live) Open(ctx context.Context, h platform.Host, t connector.Target) (connector.Source, error) {
	c, _, err := p.client(ctx, h, t)
	return c, err
}

func (p *live) client(ctx context.Context, h platform.Host, t connector.Target) (*Client, Credentials, error) {
	var cr Credentials
	if err := h.Vault().Load(ctx, t, &cr); err != nil {
		if phantomos.ErrorCode(err) == phantomos.EINVALID {
			return nil, cr, phantomos.Errorf(phantomos.EINVALID, "This connector has no credentials: reconnect the store.")
		}
		return nil, cr, err
	}
	tokens := &StoredTokens{Vault: h.Vault(), Target: t, App: p.app, BaseURL: p.opts.BaseURL}
	c, err := New(Config{Shop: cr.Shop, Tokens: tokens, BaseURL: p.opts.BaseURL, Logger: h.Logger()})
	return c, cr, err
}

// Subscribe implements platform.Subscriber: the store is subscribed to
// WebhookTopics when its deliveries can be verified (the app's secret, or
// the custom app's API secret key). Shopify deletes subscriptions whose
// deliveries keep failing, so this re-creates what is missing.
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
	if cr.Mode == ModeCustom && cr.WebhookSecret == "" || cr.Mode == ModeOAuth && p.app == nil {
		return nil
	}
	n, err := c.RegisterWebhooks(ctx, strings.TrimSuffix(base, "/")+WebhookPath, WebhookTopics)
	if err == nil && n > 0 {
		h.Logger().Info("webhook subscriptions created", "publisher", t.Publisher, "connector", t.ConnectorID, "created", n)
	}
	return err
}

// oauthApp is the public app with the host's nonces and callback address.
func (p *live) oauthApp(h platform.Host, r *http.Request) (*App, error) {
	if p.app == nil {
		return nil, phantomos.Errorf(phantomos.ENOTFOUND, "The Shopify app is not configured on this server (%s and %s): connect with your own app's credentials.", EnvClientID, EnvClientSecret)
	}
	app := *p.app
	app.Nonces = h.Nonces()
	app.RedirectURL = h.PublicURL(r) + callbackPath
	return &app, nil
}

// userError turns a source failure into a coded error with its message
// for the user; other errors pass through.
func userError(err error) error {
	if _, ok := errors.AsType[*connector.Error](err); ok {
		return phantomos.Errorf(phantomos.EINVALID, "%s", connector.UserMessage(err))
	}
	return err
}

var _ platform.Subscriber = (*live)(nil)
