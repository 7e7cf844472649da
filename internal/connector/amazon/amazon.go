// Package amazon connects an Amazon Seller Central account through the
// Selling Partner API (SP-API): a connector.Source whose orders stream
// backfills history through the Reports API, then reads orders
// incrementally through the Orders API v2026-01-01 (searchOrders, which
// replaces the v0 getOrders Amazon retires on 2027-03-27), then books
// refunds from the Finances API v2024-06-19 (listTransactions, which
// replaces the v0 financial events retired in 2027).
//
// Authorization is Login with Amazon (LWA): a refresh token, from the
// consent flow (spapi_oauth_code) or pasted for a private app
// (self-authorization), buys access tokens valid for an hour, which the
// client caches and renews. SP-API no longer asks for AWS request signing.
//
// Every operation has its own usage plan (rate and burst), so each is
// paced by its own limiter, started at the documented default and moved to
// whatever x-amzn-RateLimit-Limit reports; a 429 becomes a rate-limited
// connector.Error that the engine backs off from.
//
// One code path for files and sync: report documents are parsed by the
// importer's Amazon flat-file parser (ingest.ParseSales), and orders read
// from the Orders API are keyed the same way (Amazon's order id; the line
// by SKU, else ASIN, numbered when repeated), so an order read by both
// counts once.
package amazon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/phantomos/phantomos/internal/connector"
)

// Platform is the name used in messages.
const Platform = "Amazon"

// OrdersAPIVersion is the Orders API version the client reads.
const OrdersAPIVersion = "2026-01-01"

// maxBody bounds a JSON response read into memory.
const maxBody = 32 << 20

// Credentials are what an Amazon connector stores (sealed, see
// connector.Vault): the LWA app and the seller's refresh token.
type Credentials struct {
	Region       string `json:"region"` // NA, EU or FE
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	RefreshToken string `json:"refresh_token"`
	// SellingPartnerID is the seller's id, as the consent flow returns it.
	SellingPartnerID string `json:"selling_partner_id,omitempty"`
	// Marketplaces limits the sync to these marketplace ids; empty: every
	// marketplace the seller participates in.
	Marketplaces []string `json:"marketplaces,omitempty"`
	// AuthorizedAt is when the seller authorized the app: authorizations
	// expire after a year.
	AuthorizedAt time.Time `json:"authorized_at,omitzero"`
	// Kind is KindVendor for a Vendor Central account, "" for Seller
	// Central.
	Kind string `json:"kind,omitempty"`
}

// Validate checks that c can be used.
func (c *Credentials) Validate() error {
	if _, err := Endpoint(c.Region); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(c.ClientID) == "":
		return errors.New("amazon: the LWA client id is missing")
	case strings.TrimSpace(c.ClientSecret) == "":
		return errors.New("amazon: the LWA client secret is missing")
	case !strings.HasPrefix(strings.TrimSpace(c.RefreshToken), "Atzr|"):
		return errors.New(`amazon: the refresh token is missing or is not an LWA refresh token (it starts with "Atzr|")`)
	}
	for _, id := range c.Marketplaces {
		if m, ok := MarketplaceByID(id); !ok || m.Region != strings.ToUpper(c.Region) {
			return fmt.Errorf("amazon: marketplace %q is not a marketplace of region %s", id, c.Region)
		}
	}
	return nil
}

// Config builds a Client.
type Config struct {
	Credentials Credentials
	// BaseURL and TokenURL override the region's SP-API host and the LWA
	// token endpoint (tests point them at amazontest).
	BaseURL  string
	TokenURL string
	HTTP     *http.Client
	Logger   *slog.Logger
	// Now is the clock (time.Now).
	Now func() time.Time
	// History is how far back the first sync reads (730 days: the Orders
	// API serves two years).
	History time.Duration
	// PagedBackfill reads history through searchOrders instead of reports.
	PagedBackfill bool
	// ReportPoll is the wait between polls of a report (5 s); ReportWait
	// the longest one call waits before handing back a page to commit
	// (20 s).
	ReportPoll, ReportWait time.Duration
	// PageSize is searchOrders' maxResultsPerPage (100).
	PageSize int
	// Cache keeps access tokens across clients of the same connector
	// (one per process); nil keeps them in the client.
	Cache *TokenCache
}

// Client is a connector.Source for one Seller Central account.
type Client struct {
	cfg      Config
	base     string
	tokenURL string
	http     *http.Client
	log      *slog.Logger
	now      func() time.Time
	tokens   *TokenCache

	mu       sync.Mutex
	limiters map[string]*connector.Limiter
	markets  []Marketplace // participating, cached by Test or first use
	doc      *reportDoc    // the report document being written
}

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	if err := cfg.Credentials.Validate(); err != nil {
		return nil, err
	}
	c := &Client{cfg: cfg, base: cfg.BaseURL, tokenURL: cfg.TokenURL, http: cfg.HTTP, log: cfg.Logger, now: cfg.Now,
		tokens: cfg.Cache, limiters: map[string]*connector.Limiter{}}
	if c.base == "" {
		c.base, _ = Endpoint(cfg.Credentials.Region)
	}
	c.base = strings.TrimRight(c.base, "/")
	if c.tokenURL == "" {
		c.tokenURL = TokenURL
	}
	if c.http == nil {
		c.http = &http.Client{Timeout: 60 * time.Second}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.tokens == nil {
		c.tokens = NewTokenCache()
	}
	if c.cfg.History <= 0 {
		c.cfg.History = 730 * 24 * time.Hour
	}
	if c.cfg.ReportPoll <= 0 {
		c.cfg.ReportPoll = 5 * time.Second
	}
	if c.cfg.ReportWait <= 0 {
		c.cfg.ReportWait = 20 * time.Second
	}
	if c.cfg.PageSize <= 0 || c.cfg.PageSize > 100 {
		c.cfg.PageSize = 100
	}
	return c, nil
}

// usage plans: the documented default rate (requests per second) and
// burst of each operation the client calls, until the platform reports
// the seller's own in x-amzn-RateLimit-Limit.
var usagePlans = map[string]struct {
	rate  float64
	burst int
}{
	"searchOrders":                 {0.0056, 20},
	"getOrder":                     {0.5, 30},
	"createReport":                 {0.0167, 15},
	"getReport":                    {2, 15},
	"getReportDocument":            {0.0167, 15},
	"listTransactions":             {0.5, 10},
	"getMarketplaceParticipations": {0.016, 15},
}

// limiter returns the pacer of one operation.
func (c *Client) limiter(op string) *connector.Limiter {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.limiters[op]
	if !ok {
		p, known := usagePlans[op]
		if !known {
			p.rate, p.burst = 1, 5
		}
		l = connector.NewLimiter(p.rate, p.burst)
		c.limiters[op] = l
	}
	return l
}

// OperationRate returns the pace the client keeps for op (requests per
// second), for tests and the connection page.
func (c *Client) OperationRate(op string) float64 { return c.limiter(op).Rate() }

// call sends one SP-API request of operation op and decodes a 2xx JSON
// answer into out (when not nil). Failures are classified connector
// errors.
func (c *Client) call(ctx context.Context, op, method, path string, query url.Values, body any, out any) error {
	err := c.send(ctx, op, method, path, query, body, out)
	if e, ok := errors.AsType[*connector.Error](err); ok && e.Status == http.StatusForbidden {
		// An access token Amazon stopped taking early (the cache is
		// shared): ask for a new one once. A revoked authorization then
		// fails at the token endpoint.
		c.tokens.forget(&c.cfg.Credentials)
		err = c.send(ctx, op, method, path, query, body, out)
	}
	// A 429 has slowed the operation's limiter down (apiError): try
	// again at the new pace a few times before handing the failure to
	// the engine, which would redo the whole page.
	for range throttleRetries {
		if e, ok := errors.AsType[*connector.Error](err); !ok || e.Status != http.StatusTooManyRequests {
			break
		}
		err = c.send(ctx, op, method, path, query, body, out)
	}
	return err
}

// throttleRetries is how often one request is retried after a 429.
const throttleRetries = 4

func (c *Client) send(ctx context.Context, op, method, path string, query url.Values, body any, out any) error {
	if err := c.limiter(op).Wait(ctx); err != nil {
		return err
	}
	token, err := c.accessToken(ctx)
	if err != nil {
		return err
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("amazon: encode %s: %w", op, err)
		}
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("amazon: %s: %w", op, err)
	}
	req.Header.Set("x-amz-access-token", token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "PhantomOS/1.0 (Language=Go)")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("amazon: %s: %w", op, err)
	}
	defer resp.Body.Close()
	c.readRateLimit(op, resp.Header)
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return fmt.Errorf("amazon: %s: read: %w", op, err)
	}
	if len(data) > maxBody {
		return connector.Errorf(connector.Permanent, "Amazon sent a %s response larger than %d MiB.", op, maxBody>>20)
	}
	if resp.StatusCode/100 != 2 {
		return c.apiError(op, resp, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &connector.Error{Kind: connector.Transient, Status: resp.StatusCode,
			Message: fmt.Sprintf("Amazon sent a malformed %s response.", op), Err: err}
	}
	return nil
}

// readRateLimit moves op's limiter to the rate Amazon reports for the
// seller (x-amzn-RateLimit-Limit, requests per second).
func (c *Client) readRateLimit(op string, h http.Header) {
	v := strings.TrimSpace(h.Get("x-amzn-RateLimit-Limit"))
	if v == "" {
		return
	}
	r, err := strconv.ParseFloat(v, 64)
	if err != nil || r <= 0 || r > 1000 {
		return
	}
	l := c.limiter(op)
	if l.Rate() != r {
		l.SetRate(r, 0)
	}
}

// apiError classifies an SP-API error response: {"errors":[{code,message}]}.
func (c *Client) apiError(op string, resp *http.Response, data []byte) error {
	e := connector.HTTPError(Platform, resp.StatusCode, resp.Header)
	var body struct {
		Errors []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	_ = json.Unmarshal(data, &body)
	detail := ""
	if len(body.Errors) > 0 {
		detail = body.Errors[0].Code + ": " + body.Errors[0].Message
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		e.Kind = connector.Auth
		e.Message = "Amazon refused access: the authorization was revoked or lacks a role. Reconnect the account."
	case http.StatusNotFound:
		// A missing report or order is not a missing account.
		e.Kind = connector.Permanent
		e.Message = fmt.Sprintf("Amazon found nothing for %s (404).", op)
	case http.StatusTooManyRequests:
		// Slow the operation down at once: the usage plan is tighter
		// than the limiter thought.
		// No more bursts either: the bucket on Amazon's side is empty.
		l := c.limiter(op)
		l.SetRate(l.Rate()/2, 1)
	}
	e.Err = fmt.Errorf("amazon: %s: %d %s", op, resp.StatusCode, detail)
	return e
}

// Test checks the credentials and lists the seller's marketplaces.
func (c *Client) Test(ctx context.Context) (connector.Account, error) {
	ms, err := c.participations(ctx)
	if err != nil {
		return connector.Account{}, err
	}
	var names, ids []string
	for _, m := range ms {
		names = append(names, m.Name)
		ids = append(ids, m.ID)
	}
	acc := connector.Account{Name: "Amazon Seller Central " + strings.ToUpper(c.cfg.Credentials.Region) + ": " + strings.Join(names, ", "),
		Domain: strings.TrimPrefix(c.base, "https://"), APIVersion: "orders " + OrdersAPIVersion, Scopes: ids}
	if len(ms) > 0 {
		acc.Currency = ms[0].Currency
	}
	if at := c.cfg.Credentials.AuthorizedAt; !at.IsZero() {
		if left := at.AddDate(1, 0, 0).Sub(c.now()); left < 30*24*time.Hour {
			acc.Notices = append(acc.Notices, fmt.Sprintf("The Amazon authorization expires on %s: reconnect the account before then.",
				at.AddDate(1, 0, 0).Format("2 January 2006")))
		}
	}
	return acc, nil
}

// participations returns the marketplaces the seller sells in (within the
// configured ones), cached.
func (c *Client) participations(ctx context.Context) ([]Marketplace, error) {
	c.mu.Lock()
	ms := c.markets
	c.mu.Unlock()
	if ms != nil {
		return ms, nil
	}
	var resp struct {
		Payload []struct {
			Marketplace struct {
				ID                  string `json:"id"`
				Name                string `json:"name"`
				CountryCode         string `json:"countryCode"`
				DefaultCurrencyCode string `json:"defaultCurrencyCode"`
				DomainName          string `json:"domainName"`
			} `json:"marketplace"`
			Participation struct {
				IsParticipating bool `json:"isParticipating"`
			} `json:"participation"`
		} `json:"payload"`
	}
	if err := c.call(ctx, "getMarketplaceParticipations", http.MethodGet, "/sellers/v1/marketplaceParticipations", nil, nil, &resp); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, id := range c.cfg.Credentials.Marketplaces {
		want[id] = true
	}
	ms = []Marketplace{}
	for _, p := range resp.Payload {
		if !p.Participation.IsParticipating || len(want) > 0 && !want[p.Marketplace.ID] {
			continue
		}
		m, ok := MarketplaceByID(p.Marketplace.ID)
		if !ok {
			m = Marketplace{ID: p.Marketplace.ID, Name: p.Marketplace.DomainName, Country: p.Marketplace.CountryCode,
				Currency: p.Marketplace.DefaultCurrencyCode}
		}
		ms = append(ms, m)
	}
	if len(ms) == 0 {
		return nil, connector.Errorf(connector.Auth, "The Amazon account sells in none of the chosen marketplaces.")
	}
	c.mu.Lock()
	c.markets = ms
	c.mu.Unlock()
	return ms, nil
}

// marketIDs returns the ids of the marketplaces synced.
func (c *Client) marketIDs(ctx context.Context) ([]string, error) {
	ms, err := c.participations(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	return ids, nil
}

// Products lists nothing: Amazon orders carry ASIN, SKU and title, from
// which sales create (unmapped) products, as the flat-file import does.
func (c *Client) Products(ctx context.Context, q connector.Query) (connector.Page[connector.Product], error) {
	return connector.Page[connector.Product]{}, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
