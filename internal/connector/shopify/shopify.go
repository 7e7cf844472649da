// Package shopify connects a Shopify store: a connector.Source over the
// GraphQL Admin API at a pinned version, the OAuth install flow of a public
// app, custom-app access tokens, and webhook verification and parsing.
//
// The client respects Shopify's cost-based throttling: it reads
// extensions.cost.throttleStatus from every response and, before the next
// query, waits until the bucket has restored enough for that query's
// requested cost. A THROTTLED answer or a 429 becomes a rate-limited
// connector.Error carrying how long to wait, which the engine honours.
package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/phantomos/phantomos/internal/connector"
)

// APIVersion is the GraphQL Admin API version the client requests.
// Shopify releases a version each quarter (YYYY-01, -04, -07, -10) and
// supports it for twelve months, so 2026-10 is served until 2027-10-01
// (VersionRetirement). When it retires a version, it answers with the
// oldest supported one instead ("falls forward") and the client reports it
// (see Client.Notices). A test fails 60 days before retirement; move this
// forward after checking the release notes, and validate the documents
// against the new version's schema (shopifytest.SchemaVersion).
const APIVersion = "2026-10"

// VersionRetirement returns when Shopify stops serving an Admin API
// version: twelve months after its release on the first day of its
// quarter's month.
func VersionRetirement(version string) (time.Time, error) {
	t, err := time.Parse("2006-01", version)
	if err != nil || (t.Month()-1)%3 != 0 {
		return time.Time{}, fmt.Errorf("shopify: %q is not a quarterly API version (YYYY-01, -04, -07 or -10)", version)
	}
	return t.AddDate(1, 0, 0), nil
}

// Platform is the name used in messages.
const Platform = "Shopify"

// Credentials are what a Shopify connector stores (sealed, see
// connector.Vault).
type Credentials struct {
	Shop        string `json:"shop"` // e.g. nova.myshopify.com
	AccessToken string `json:"access_token"`
	Scopes      string `json:"scopes,omitempty"` // as granted, comma separated
	// Mode is ModeOAuth (public app install), ModeClientCredentials (a Dev
	// Dashboard app of the store's organization) or ModeCustom (a legacy
	// Admin API token of a custom app created in the store's admin).
	Mode string `json:"mode"`
	// WebhookSecret verifies webhooks of a custom app (its API secret key).
	// Webhooks of the public app are verified with the app's client secret.
	WebhookSecret string `json:"webhook_secret,omitempty"`
	// ExpiresAt is when AccessToken stops working; zero for tokens that do
	// not expire (legacy custom-app tokens, non-expiring offline tokens).
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// RefreshToken renews an expiring offline token (ModeOAuth); Shopify
	// replaces it at every refresh. RefreshExpiresAt is when it lapses.
	RefreshToken     string    `json:"refresh_token,omitempty"`
	RefreshExpiresAt time.Time `json:"refresh_expires_at,omitzero"`
	// ClientID and ClientSecret are a Dev Dashboard app's credentials
	// (ModeClientCredentials): a new token is requested with them when the
	// current one expires. The secret also verifies that app's webhooks.
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
}

// Connection modes.
const (
	ModeOAuth             = "oauth"
	ModeClientCredentials = "client_credentials"
	ModeCustom            = "custom"
)

// Config configures a Client.
type Config struct {
	Shop        string // *.myshopify.com host; NormalizeShop accepts more
	AccessToken string
	// APIVersion defaults to the pinned APIVersion.
	APIVersion string
	// BaseURL replaces https://{shop} (tests and the fake server).
	BaseURL    string
	HTTPClient *http.Client
	Logger     *slog.Logger
	// OrdersPerPage and ProductsPerPage size the pages (4 and 25). Nested
	// connections make an order cost far more than a product; these keep
	// a page's requested cost well under Shopify's 1,000-point limit.
	OrdersPerPage   int
	ProductsPerPage int
	// PagedBackfill makes first syncs page through the orders instead of
	// exporting them in one bulk operation.
	PagedBackfill bool
	// SkipAddresses leaves out shipping and billing countries, for apps
	// without access to protected customer data (addresses need it).
	SkipAddresses bool
	// Tokens supplies the access token instead of AccessToken: tokens that
	// expire are renewed before they do, and once more when Shopify
	// answers 401 (see StoredTokens).
	Tokens TokenSource
}

// Client is a Shopify store reached through the GraphQL Admin API. It
// implements connector.Source and connector.Noticer and is safe for
// concurrent use.
type Client struct {
	shop, token, version, endpoint string
	tokens                         TokenSource // nil: token is fixed
	http                           *http.Client
	log                            *slog.Logger
	ordersPerPage, productsPerPage int
	addresses, paged               bool

	mu       sync.Mutex
	throttle throttleState
	notices  []string
	served   string
	// Orders read with and without an address (see NoAddressNotice).
	withAddress, withoutAddress int
}

// throttleState is the cost bucket as last reported.
type throttleState struct {
	max, available, restore float64
	at                      time.Time
}

var shopPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*\.myshopify\.com$`)

// ValidShop reports whether shop is a *.myshopify.com host name.
func ValidShop(shop string) bool { return len(shop) <= 255 && shopPattern.MatchString(shop) }

// NormalizeShop turns what a user types ("nova", "Nova.myshopify.com",
// "https://nova.myshopify.com/admin") into the shop host, or an error that
// says what is expected.
func NormalizeShop(input string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(input))
	s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if s != "" && !strings.Contains(s, ".") {
		s += ".myshopify.com"
	}
	if !ValidShop(s) {
		return "", fmt.Errorf("%q is not a Shopify store address: enter the store's myshopify.com domain, e.g. nova-merch.myshopify.com", input)
	}
	return s, nil
}

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	if !ValidShop(cfg.Shop) {
		return nil, fmt.Errorf("shopify: %q is not a *.myshopify.com shop", cfg.Shop)
	}
	if cfg.AccessToken == "" && cfg.Tokens == nil {
		return nil, errors.New("shopify: no access token")
	}
	c := &Client{shop: cfg.Shop, token: cfg.AccessToken, tokens: cfg.Tokens, version: cfg.APIVersion, http: cfg.HTTPClient, log: cfg.Logger,
		ordersPerPage: cfg.OrdersPerPage, productsPerPage: cfg.ProductsPerPage, addresses: !cfg.SkipAddresses, paged: cfg.PagedBackfill}
	if c.version == "" {
		c.version = APIVersion
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 2 * time.Minute}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.ordersPerPage <= 0 {
		c.ordersPerPage = 4
	}
	if c.productsPerPage <= 0 {
		c.productsPerPage = 25
	}
	base := "https://" + cfg.Shop
	if cfg.BaseURL != "" {
		base = strings.TrimSuffix(cfg.BaseURL, "/")
	}
	c.endpoint = base + "/admin/api/" + c.version + "/graphql.json"
	return c, nil
}

// FromCredentials returns a client for stored credentials; opts supplies
// everything else (BaseURL, HTTPClient, Logger, page sizes).
func FromCredentials(cr Credentials, opts Config) (*Client, error) {
	opts.Shop, opts.AccessToken = cr.Shop, cr.AccessToken
	return New(opts)
}

// Notices returns what the user should know about this client's requests,
// such as an API version fall-forward.
func (c *Client) Notices() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := append([]string(nil), c.notices...)
	// Orders without any address can be legitimate (digital goods, point
	// of sale); none at all among several means they are withheld.
	if c.withoutAddress >= minOrdersForAddressNotice && c.withAddress == 0 {
		out = append(out, NoAddressNotice)
	}
	return out
}

// minOrdersForAddressNotice is how many orders without an address, and
// none with one, make the client say addresses are withheld.
const minOrdersForAddressNotice = 3

// ServedVersion is the API version Shopify last answered with.
func (c *Client) ServedVersion() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.served
}

func (c *Client) notice(msg string) {
	for _, n := range c.notices {
		if n == msg {
			return
		}
	}
	c.notices = append(c.notices, msg)
	c.log.Warn("shopify notice", "shop", c.shop, "notice", msg)
}

// wait sleeps until the cost bucket, as last reported and restored since,
// holds cost points.
func (c *Client) wait(ctx context.Context, cost float64) error {
	c.mu.Lock()
	ts := c.throttle
	c.mu.Unlock()
	if ts.at.IsZero() || ts.restore <= 0 {
		return nil
	}
	cost = min(cost, ts.max)
	avail := min(ts.max, ts.available+time.Since(ts.at).Seconds()*ts.restore)
	if avail >= cost {
		return nil
	}
	d := time.Duration((cost - avail) / ts.restore * float64(time.Second))
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type gqlRequest struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables,omitempty"`
}

type gqlResponse struct {
	Data       json.RawMessage `json:"data"`
	Errors     json.RawMessage `json:"errors"`
	Extensions struct {
		Cost *gqlCost `json:"cost"`
	} `json:"extensions"`
}

type gqlCost struct {
	RequestedQueryCost float64  `json:"requestedQueryCost"`
	ActualQueryCost    *float64 `json:"actualQueryCost"`
	ThrottleStatus     struct {
		MaximumAvailable   float64 `json:"maximumAvailable"`
		CurrentlyAvailable float64 `json:"currentlyAvailable"`
		RestoreRate        float64 `json:"restoreRate"`
	} `json:"throttleStatus"`
}

type gqlError struct {
	Message    string `json:"message"`
	Extensions struct {
		Code string `json:"code"`
	} `json:"extensions"`
}

// query runs one GraphQL query whose requested cost is about cost and
// decodes its data into out.
func (c *Client) query(ctx context.Context, q string, vars map[string]any, cost float64, out any) error {
	return c.run(ctx, q, vars, cost, out, false)
}

// accessToken is the token to send: the fixed one, or the token source's
// (renewed first when about to expire).
func (c *Client) accessToken(ctx context.Context) (string, error) {
	if c.tokens == nil {
		return c.token, nil
	}
	return c.tokens.Token(ctx)
}

func (c *Client) run(ctx context.Context, q string, vars map[string]any, cost float64, out any, renewed bool) error {
	if err := c.wait(ctx, cost); err != nil {
		return err
	}
	token, err := c.accessToken(ctx)
	if err != nil {
		return err
	}
	body, err := json.Marshal(gqlRequest{Query: q, Variables: vars})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "PhantomOS")
	req.Header.Set("X-Shopify-Access-Token", token)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &connector.Error{Kind: connector.Transient, Message: "Shopify could not be reached.", Err: err}
	}
	defer resp.Body.Close()
	c.checkVersion(resp.Header.Get("X-Shopify-API-Version"))
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &connector.Error{Kind: connector.Transient, Message: "Shopify's response was cut off.", Err: err}
	}
	if resp.StatusCode == http.StatusUnauthorized && c.tokens != nil && !renewed {
		// The token expired early or was replaced: renew it once and retry.
		_, err := c.tokens.Refresh(ctx, token)
		if err == nil {
			return c.run(ctx, q, vars, cost, out, true)
		}
		if !errors.Is(err, errNotRenewable) {
			return err
		}
		// Nothing renews this token: report Shopify's refusal below.
	}
	if resp.StatusCode != http.StatusOK {
		e := connector.HTTPError(Platform, resp.StatusCode, resp.Header)
		e.Err = fmt.Errorf("shopify: %s: %s", resp.Status, snippet(raw))
		return e
	}
	var r gqlResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		return &connector.Error{Kind: connector.Transient, Message: "Shopify sent a malformed response.", Err: fmt.Errorf("shopify: %w: %s", err, snippet(raw))}
	}
	c.noteCost(r.Extensions.Cost)
	if len(r.Errors) > 0 && string(r.Errors) != "null" {
		return c.graphQLError(r.Errors, r.Extensions.Cost)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(r.Data, out); err != nil {
		return &connector.Error{Kind: connector.Permanent, Message: fmt.Sprintf("Shopify's response did not have the expected shape (API version %s).", c.ServedVersion()), Err: err}
	}
	return nil
}

func snippet(b []byte) string {
	const n = 300
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

func (c *Client) checkVersion(v string) {
	if v == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.served = v
	if v != c.version {
		c.notice(fmt.Sprintf("Shopify answered with API version %s instead of the requested %s: the requested version is no longer served, so Shopify fell forward. PhantomOS needs an update to a supported version.", v, c.version))
	}
}

func (c *Client) noteCost(cost *gqlCost) {
	if cost == nil || cost.ThrottleStatus.MaximumAvailable <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.throttle = throttleState{
		max:       cost.ThrottleStatus.MaximumAvailable,
		available: cost.ThrottleStatus.CurrentlyAvailable,
		restore:   cost.ThrottleStatus.RestoreRate,
		at:        time.Now(),
	}
}

// graphQLError classifies the errors member of a response: a list of
// errors with codes, or (for some auth failures) a plain string.
func (c *Client) graphQLError(raw json.RawMessage, cost *gqlCost) error {
	var list []gqlError
	if err := json.Unmarshal(raw, &list); err != nil {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return &connector.Error{Kind: connector.Permanent, Message: "Shopify refused the request: " + s}
		}
		return &connector.Error{Kind: connector.Transient, Message: "Shopify sent a malformed response.", Err: err}
	}
	var msgs []string
	for _, e := range list {
		switch e.Extensions.Code {
		case "THROTTLED":
			wait := time.Second
			if cost != nil && cost.ThrottleStatus.RestoreRate > 0 {
				need := min(cost.RequestedQueryCost, cost.ThrottleStatus.MaximumAvailable) - cost.ThrottleStatus.CurrentlyAvailable
				wait = max(time.Duration(need/cost.ThrottleStatus.RestoreRate*float64(time.Second)), 50*time.Millisecond)
			}
			return &connector.Error{Kind: connector.RateLimited, RetryAfter: wait, Message: "Shopify is throttling requests (query cost limit)."}
		case "ACCESS_DENIED":
			return &connector.Error{Kind: connector.Auth, Message: "Shopify denied access: the app needs the read_products and read_orders permissions. Reconnect the store and approve them.",
				Err: errors.New(e.Message)}
		case "INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE", "TIMEOUT":
			return &connector.Error{Kind: connector.Transient, Message: "Shopify had a temporary problem.", Err: errors.New(e.Message)}
		case "MAX_COST_EXCEEDED":
			return &connector.Error{Kind: connector.Permanent, Message: "A Shopify query was too expensive; the page size must be lowered.", Err: errors.New(e.Message)}
		}
		msgs = append(msgs, e.Message)
	}
	return &connector.Error{Kind: connector.Permanent, Message: "Shopify refused the query: " + strings.Join(msgs, "; ")}
}
