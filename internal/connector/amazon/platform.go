package amazon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
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
	// EnvBaseURL and EnvTokenURL send every SP-API and LWA request to a
	// fake (tests and demos only).
	EnvBaseURL  = "PHANTOMOS_AMAZON_BASE_URL"
	EnvTokenURL = "PHANTOMOS_AMAZON_TOKEN_URL"
)

// Connect methods: a private app's refresh token pasted by a seller
// (Seller Central) or a vendor (Vendor Central).
const (
	ModeSelfAuthorized = "self_authorized"
	ModeVendor         = "vendor_self_authorized"
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
		{Name: EnvBaseURL + ", " + EnvTokenURL, Help: "send every Amazon SP-API and Login with Amazon request to these addresses (tests and demos against a fake only)"},
	},
	New: func(cfg platform.Config) (platform.Platform, error) {
		o := PlatformOptions{BaseURL: cfg.Getenv(EnvBaseURL), TokenURL: cfg.Getenv(EnvTokenURL), Logger: cfg.Logger}
		if err := o.Validate(); err != nil {
			return nil, err
		}
		if o.BaseURL != "" {
			cfg.Logger.Warn("Amazon requests go to "+EnvBaseURL+" instead of Amazon (testing only)", "url", o.BaseURL)
		}
		return NewPlatform(o), nil
	},
}

// PlatformOptions configure the platform.
type PlatformOptions struct {
	BaseURL, TokenURL string
	Logger            *slog.Logger
	// Cache shares access tokens across the syncs of the process.
	Cache *TokenCache
}

// Validate reports a bad override URL.
func (o PlatformOptions) Validate() error {
	if err := platform.CheckURLSetting(EnvBaseURL, o.BaseURL); err != nil {
		return err
	}
	return platform.CheckURLSetting(EnvTokenURL, o.TokenURL)
}

type live struct{ opts PlatformOptions }

// NewPlatform returns Amazon configured with o.
func NewPlatform(o PlatformOptions) platform.Platform {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Cache == nil {
		o.Cache = NewTokenCache()
	}
	return &live{opts: o}
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
	return platform.Info{Type: Type, Name: "Amazon", Account: "Merchant token", SyncEvery: 6 * time.Hour,
		Reading: "Reading orders, reports and refunds from Amazon…",
		Methods: []platform.Method{
			{ID: ModeSelfAuthorized, Section: "seller", Title: "Seller Central: authorize your private SP-API app", Primary: true,
				Intro: "For a seller's own app registered in Seller Central's Developer Central, with the Orders, Reports and Finances roles.",
				Steps: []template.HTML{
					"In Seller Central: Apps and Services → Develop Apps, then Authorize on your app: Amazon shows the refresh token once.",
					"Copy the app's LWA client identifier and client secret (View under LWA credentials).",
					"Your merchant token is under Settings → Account Info → Business Information.",
				},
				Hint:   "Credentials are encrypted at rest and never shown again. Amazon authorizations expire after a year: you are warned a month ahead.",
				Action: connectPath, Submit: "Connect and test", ButtonID: "connect-amazon", Fields: fields("Merchant token")},
			{ID: ModeVendor, Section: "vendor", Title: "Or Vendor Central: sell-through of the products Amazon buys from you",
				Intro: "Daily ordered revenue and units per ASIN from Amazon's vendor sales report. These are sales without orders: they add to revenue and units, not to orders or average order value.",
				Steps: []template.HTML{
					"In Vendor Central: Integration → API Integration, then authorize your app with the Brand Analytics (vendor reports) role.",
					"Copy the refresh token, and the app's LWA client identifier and secret.",
				},
				Hint:   "Credentials are encrypted at rest and never shown again.",
				Action: connectPath, Submit: "Connect and test", ButtonID: "connect-amazon-vendor", Fields: fields("Vendor code")},
		}}
}

// Credentials implements platform.Platform for a pasted refresh token.
func (p *live) Credentials(ctx context.Context, h platform.Host, method string, form url.Values) (platform.Credentials, error) {
	if method != ModeVendor {
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
