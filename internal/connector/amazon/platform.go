package amazon

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
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
	"github.com/phantomos/phantomos/internal/connector/platform"
)

// Type is the connector type of Amazon Seller Central accounts.
const Type = "amazon"

// Environment variables the platform reads.
const (
	// EnvApplicationID, EnvClientID and EnvClientSecret are a public
	// SP-API application (Solution Provider Portal): its application id
	// (amzn1.sp.solution.…), for the consent page, and its LWA client
	// credentials, for the code exchange. With them the wizard offers
	// "Authorize with Amazon". EnvDraft ("true") says the application is
	// still a draft, whose consent page needs version=beta.
	EnvApplicationID = "AMAZON_APPLICATION_ID"
	EnvClientID      = "AMAZON_CLIENT_ID"
	EnvClientSecret  = "AMAZON_CLIENT_SECRET"
	EnvDraft         = "AMAZON_APP_DRAFT"
	// EnvBaseURL and EnvTokenURL send every SP-API and LWA request to a
	// fake, and EnvConsentURL the consent page (tests and demos only).
	EnvBaseURL    = "PHANTOMOS_AMAZON_BASE_URL"
	EnvTokenURL   = "PHANTOMOS_AMAZON_TOKEN_URL"
	EnvConsentURL = "PHANTOMOS_AMAZON_CONSENT_URL"
)

// Connect methods: the Seller Central authorization of the public app
// (consent, then spapi_oauth_code, then a refresh token), or a private
// app's refresh token pasted by a seller (Seller Central) or a vendor
// (Vendor Central).
const (
	ModeConsent        = "consent"
	ModeSelfAuthorized = "self_authorized"
	ModeVendor         = "vendor_self_authorized"
)

// Paths of the consent flow: the wizard's "Authorize with Amazon" form
// posts to authorizePath, which sends the browser to Seller Central;
// Seller Central sends it back to callbackPath (the app's OAuth redirect
// URI, as registered with the application).
const (
	authorizePath = "/connectors/" + Type + "/authorize"
	callbackPath  = "/connectors/" + Type + "/callback"
)

// KindVendor marks Vendor Central credentials (Credentials.Kind).
const KindVendor = "vendor"

const connectPath = "/connectors/" + Type

// Registration declares Amazon Seller Central to the platform registry.
var Registration = platform.Registration{
	Type:  Type,
	Name:  "Amazon",
	Blurb: "Seller Central orders, refunds and history, or Vendor Central sell-through, through the Selling Partner API.",
	Env: []platform.EnvVar{
		{Name: EnvApplicationID + ", " + EnvClientID + ", " + EnvClientSecret, Help: "a public SP-API application (its id and LWA client credentials), set all three; without them accounts connect with a private app's self-authorization"},
		{Name: EnvDraft, Help: "true while the SP-API application is a draft (its consent page then asks for version=beta)"},
		{Name: EnvBaseURL + ", " + EnvTokenURL + ", " + EnvConsentURL, Help: "send every Amazon SP-API, Login with Amazon and consent-page request to these addresses (tests and demos against a fake only)"},
	},
	New: func(cfg platform.Config) (platform.Platform, error) {
		o := PlatformOptions{BaseURL: cfg.Getenv(EnvBaseURL), TokenURL: cfg.Getenv(EnvTokenURL), ConsentURL: cfg.Getenv(EnvConsentURL),
			ApplicationID: cfg.Getenv(EnvApplicationID), ClientID: cfg.Getenv(EnvClientID), ClientSecret: cfg.Getenv(EnvClientSecret), Logger: cfg.Logger}
		switch v := strings.ToLower(strings.TrimSpace(cfg.Getenv(EnvDraft))); v {
		case "", "false", "0", "no":
		case "true", "1", "yes":
			o.Draft = true
		default:
			return nil, fmt.Errorf("%s %q must be true or false", EnvDraft, v)
		}
		if err := o.Validate(); err != nil {
			return nil, err
		}
		if o.BaseURL != "" {
			cfg.Logger.Warn("Amazon requests go to "+EnvBaseURL+" instead of Amazon (testing only)", "url", o.BaseURL)
		}
		return NewPlatform(o), nil
	},
	Routes: []platform.Route{
		// For those who manage connectors: the consent flow is started by,
		// and comes back to, the person signed in; the signed single-use
		// state binds the two.
		{Method: http.MethodPost, Path: authorizePath, Handle: handleAuthorize},
		{Method: http.MethodGet, Path: callbackPath, Handle: handleCallback},
	},
}

// PlatformOptions configure the platform.
type PlatformOptions struct {
	BaseURL, TokenURL string
	// ConsentURL replaces the Seller Central host of the consent page
	// (tests).
	ConsentURL string
	// ApplicationID, ClientID and ClientSecret are the public application;
	// empty without one. Draft asks for version=beta on the consent page.
	ApplicationID, ClientID, ClientSecret string
	Draft                                 bool
	Logger                                *slog.Logger
	// Cache shares access tokens across the syncs of the process.
	Cache *TokenCache
}

// Validate reports a bad override URL or a half-configured application.
func (o PlatformOptions) Validate() error {
	if err := platform.CheckAppPair(EnvClientID, o.ClientID, EnvClientSecret, o.ClientSecret); err != nil {
		return err
	}
	if (o.ApplicationID == "") != (o.ClientID == "") {
		return fmt.Errorf("%s, %s and %s must be set together", EnvApplicationID, EnvClientID, EnvClientSecret)
	}
	if o.ApplicationID != "" && !strings.HasPrefix(o.ApplicationID, "amzn1.") {
		return fmt.Errorf("%s %q is not an SP-API application id (amzn1.sp.solution.…)", EnvApplicationID, o.ApplicationID)
	}
	for _, u := range []struct{ name, value string }{{EnvBaseURL, o.BaseURL}, {EnvTokenURL, o.TokenURL}, {EnvConsentURL, o.ConsentURL}} {
		if err := platform.CheckURLSetting(u.name, u.value); err != nil {
			return err
		}
	}
	return nil
}

type live struct {
	opts PlatformOptions
	// app is the public application, nil without one; stateKey signs
	// the states of its consent flows.
	app      *App
	stateKey []byte
}

// NewPlatform returns Amazon configured with o.
func NewPlatform(o PlatformOptions) platform.Platform {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Cache == nil {
		o.Cache = NewTokenCache()
	}
	p := &live{opts: o}
	if o.ApplicationID != "" && o.ClientID != "" && o.ClientSecret != "" {
		p.app = &App{ApplicationID: o.ApplicationID, ClientID: o.ClientID, ClientSecret: o.ClientSecret, Draft: o.Draft,
			TokenURL: o.TokenURL, ConsentHost: o.ConsentURL}
		p.stateKey = platform.StateKey(Type, o.ClientSecret)
	}
	return p
}

// Account implements platform.Credentials: the selling partner id (the
// merchant token Seller Central shows under Account Info) and region.
func (c Credentials) Account() string {
	a := strings.ToUpper(c.Region) + ":" + c.SellingPartnerID
	if c.Kind == KindVendor {
		a += ":vendor"
	}
	return a
}

func (p *live) Info() platform.Info {
	fields := func(account string) []platform.Field {
		return []platform.Field{
			{Name: "seller_id", Label: account, Placeholder: "A1B2C3D4E5F6G7", Required: true, MaxLen: 32, Account: true},
			{Name: "region", Label: "Region", Placeholder: "NA, EU or FE", Required: true, MaxLen: 2},
			{Name: "client_id", Label: "LWA client identifier", Placeholder: "amzn1.application-oa2-client.…", Required: true, MaxLen: 200},
			{Name: "client_secret", Label: "LWA client secret", Type: "password", Required: true, MaxLen: 200},
			{Name: "refresh_token", Label: "Refresh token", Type: "password", Placeholder: "Atzr|…", Required: true, MaxLen: 2048},
		}
	}
	i := platform.Info{Type: Type, Name: "Amazon", Account: "Merchant token", SyncEvery: 6 * time.Hour,
		Reading: "Reading orders, reports and refunds from Amazon…"}
	selfTitle := "Seller Central: authorize your private SP-API app"
	if p.app != nil {
		selfTitle = "Or Seller Central with your own private SP-API app"
		i.FormAction = p.consentOrigins()
		i.Methods = append(i.Methods, platform.Method{ID: ModeConsent, Section: "consent", Title: "Seller Central: authorize PhantomOS", Badge: "recommended", Primary: true,
			Intro: "Amazon shows you what PhantomOS asks for — read-only access to orders, reports and finances — and brings you back here once you confirm.",
			Steps: []template.HTML{
				"Choose the region of your Seller Central account: NA (North America and Brazil), EU (Europe, Middle East and India) or FE (Japan, Australia, Singapore).",
				"Sign in to Seller Central if asked, check the access PhantomOS requests, and confirm.",
			},
			Hint:   "PhantomOS receives a token that it encrypts at rest; you can revoke it any time under Apps and Services → Manage Your Apps. Amazon authorizations expire after a year: you are warned a month ahead.",
			Action: authorizePath, Submit: "Authorize with Amazon", ButtonID: "authorize-amazon",
			Fields: []platform.Field{{Name: "region", Label: "Region", Placeholder: "NA, EU or FE", Required: true, MaxLen: 2}}})
	}
	i.Methods = append(i.Methods,
		platform.Method{ID: ModeSelfAuthorized, Section: "seller", Title: selfTitle, Primary: p.app == nil,
			Intro: "For a seller's own app registered in Seller Central's Developer Central, with the Orders, Reports and Finances roles.",
			Steps: []template.HTML{
				"In Seller Central: Apps and Services → Develop Apps, then Authorize on your app: Amazon shows the refresh token once.",
				"Copy the app's LWA client identifier and client secret (View under LWA credentials).",
				"Your merchant token is under Settings → Account Info → Business Information.",
			},
			Hint:   "Credentials are encrypted at rest and never shown again. Amazon authorizations expire after a year: you are warned a month ahead.",
			Action: connectPath, Submit: "Connect and test", ButtonID: "connect-amazon", Fields: fields("Merchant token")},
		platform.Method{ID: ModeVendor, Section: "vendor", Title: "Or Vendor Central: sell-through of the products Amazon buys from you",
			Intro: "Daily ordered revenue and units per ASIN from Amazon's vendor sales report. These are sales without orders: they add to revenue and units, not to orders or average order value.",
			Steps: []template.HTML{
				"In Vendor Central: Integration → API Integration, then authorize your app with the Brand Analytics (vendor reports) role.",
				"Copy the refresh token, and the app's LWA client identifier and secret.",
			},
			Hint:   "Credentials are encrypted at rest and never shown again.",
			Action: connectPath, Submit: "Connect and test", ButtonID: "connect-amazon-vendor", Fields: fields("Vendor code")})
	return i
}

// Credentials implements platform.Platform for a pasted refresh token.
func (p *live) Credentials(ctx context.Context, h platform.Host, method string, form url.Values) (platform.Credentials, error) {
	switch method {
	case ModeConsent:
		return nil, phantomos.Errorf(phantomos.EINVALID, "Authorize PhantomOS with the Authorize with Amazon button.")
	case ModeVendor:
	default:
		method = ModeSelfAuthorized
	}
	m, _ := p.Info().MethodByID(method)
	v, err := m.Values(form)
	if err != nil {
		return nil, err
	}
	cr := Credentials{Region: strings.ToUpper(v["region"]), ClientID: v["client_id"], ClientSecret: v["client_secret"],
		RefreshToken: v["refresh_token"], SellingPartnerID: v["seller_id"], AuthorizedAt: h.Now().UTC()}
	if method == ModeVendor {
		cr.Kind = KindVendor
	}
	if err := cr.Validate(); err != nil {
		return nil, phantomos.Errorf(phantomos.EINVALID, "%s", strings.TrimPrefix(err.Error(), "amazon: "))
	}
	return cr, nil
}

// Decode implements platform.Platform.
func (p *live) Decode(raw []byte) (platform.Credentials, error) {
	var cr Credentials
	if err := json.Unmarshal(raw, &cr); err != nil {
		return nil, fmt.Errorf("amazon: decode credentials: %w", err)
	}
	return cr, nil
}

// Preflight implements platform.Platform: one connection test.
func (p *live) Preflight(ctx context.Context, pc platform.Credentials) error {
	cr, ok := pc.(Credentials)
	if !ok {
		return fmt.Errorf("amazon: preflight: %T is not Amazon credentials", pc)
	}
	src, err := p.source(cr, p.opts.Logger)
	if err != nil {
		return err
	}
	if _, err := src.Test(ctx); err != nil {
		if _, ok := errors.AsType[*connector.Error](err); ok {
			return phantomos.Errorf(phantomos.EINVALID, "%s", connector.UserMessage(err))
		}
		return err
	}
	return nil
}

// Open implements platform.Platform.
func (p *live) Open(ctx context.Context, h platform.Host, t connector.Target) (connector.Source, error) {
	var cr Credentials
	if err := h.Vault().Load(ctx, t, &cr); err != nil {
		if phantomos.ErrorCode(err) == phantomos.EINVALID {
			return nil, phantomos.Errorf(phantomos.EINVALID, "This connector has no credentials: reconnect the account.")
		}
		return nil, err
	}
	return p.source(cr, h.Logger())
}

// source is the seller's orders, or the vendor's sell-through.
func (p *live) source(cr Credentials, log *slog.Logger) (connector.Source, error) {
	c, err := New(Config{Credentials: cr, BaseURL: p.opts.BaseURL, TokenURL: p.opts.TokenURL, Logger: log, Cache: p.opts.Cache})
	if err != nil {
		return nil, err
	}
	if cr.Kind == KindVendor {
		return c.Vendor(VendorOptions{}), nil
	}
	return c, nil
}
