// Package bigcommerce connects a BigCommerce store: a connector.Source over
// the REST Management API (V2 orders, V3 catalog and refunds), the app
// OAuth install flow with its signed load and uninstall callbacks, store
// API-account tokens, and webhooks.
//
// Requests go to https://api.bigcommerce.com/stores/{store_hash}/… with
// the X-Auth-Token header. A store's request quota is shared by every app
// installed on it: the client reads X-Rate-Limit-Requests-Left on every
// response and, when the window is spent, waits X-Rate-Limit-Time-Reset-Ms
// before the next request; a 429 becomes a rate-limited connector.Error
// carrying that wait, which the engine honours.
//
// Orders come from V2 (/v2/orders, sorted by date_modified, dates in RFC
// 2822), their lines from /v2/orders/{id}/products and their refunds from
// V3 (/v3/orders/payment_actions/refunds). Order ids are BigCommerce's
// numeric order ids, the "Order ID" of the store's order export, so a file
// imported into the connector and a sync key each order alike.
package bigcommerce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector"
)

// Platform is the name used in messages.
const Platform = "BigCommerce"

// APIBase is where the REST Management API lives.
const APIBase = "https://api.bigcommerce.com"

// Connection modes.
const (
	// ModeOAuth is a store that installed the PhantomOS app.
	ModeOAuth = "oauth"
	// ModeAPIAccount is a store-level API account the merchant created
	// (Settings › Store-level API accounts) and pasted: its access token
	// and the store hash of its API path.
	ModeAPIAccount = "api_account"
)

// Credentials are what a BigCommerce connector stores (sealed, see
// connector.Vault).
type Credentials struct {
	StoreHash   string `json:"store_hash"`
	AccessToken string `json:"access_token"`
	Scopes      string `json:"scopes,omitempty"` // as granted, space separated
	Mode        string `json:"mode"`
	// WebhookToken is sent back by BigCommerce in HeaderHookToken with
	// every webhook of this connector (a custom header set when the hook
	// is created): BigCommerce does not sign its deliveries, so this
	// secret is what tells them from forgeries.
	WebhookToken string `json:"webhook_token,omitempty"`
	// UserEmail is who installed the app (ModeOAuth).
	UserEmail string `json:"user_email,omitempty"`
}

// orderPage is the default size of a page of orders. Every order costs
// one more request for its lines, so a page of 250 would be about 250
// requests, minutes on a store whose quota other apps share, with no
// progress shown and no checkpoint to resume from; 50 keeps both
// frequent while the list request stays a small part of the work.
const orderPage = 50

// Config configures a Client.
type Config struct {
	StoreHash   string
	AccessToken string
	// BaseURL replaces APIBase (tests and the fake server).
	BaseURL    string
	HTTPClient *http.Client
	Logger     *slog.Logger
	// PageSize is the limit of list requests: 250, BigCommerce's maximum,
	// except for orders, where it is 50 unless set (see orderPage).
	PageSize int
	// Now is the clock (time.Now).
	Now func() time.Time
}

// Client is one BigCommerce store reached through the REST API. It
// implements connector.Source and connector.OrderLister and is safe for
// concurrent use.
type Client struct {
	hash, token, base string
	http              *http.Client
	log               *slog.Logger
	limit             int
	orderLimit        int
	now               func() time.Time

	mu sync.Mutex
	// resumeAt is when the quota window resets, set when a response said
	// no requests are left; zero otherwise.
	resumeAt time.Time
	currency string
}

var hashPattern = regexp.MustCompile(`^[a-z0-9]{3,32}$`)

// ValidStoreHash reports whether h looks like a store hash.
func ValidStoreHash(h string) bool { return hashPattern.MatchString(h) }

// NormalizeStoreHash turns what a user pastes (the hash, the API path
// https://api.bigcommerce.com/stores/abc123/v3/, or a control panel
// address store-abc123.mybigcommerce.com) into the store hash, or an
// error that says what is expected.
func NormalizeStoreHash(input string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(input))
	if i := strings.Index(s, "/stores/"); i >= 0 {
		s = s[i+len("/stores/"):]
		if j := strings.IndexAny(s, "/?#"); j >= 0 {
			s = s[:j]
		}
	} else {
		s = strings.TrimPrefix(strings.TrimPrefix(s, "https://"), "http://")
		if j := strings.IndexAny(s, "/?#"); j >= 0 {
			s = s[:j]
		}
		if host, ok := strings.CutSuffix(s, ".mybigcommerce.com"); ok {
			s = strings.TrimPrefix(host, "store-")
		}
	}
	if !ValidStoreHash(s) {
		return "", fmt.Errorf("%q is not a BigCommerce store hash: copy it from the API path of the store's API account, e.g. https://api.bigcommerce.com/stores/abc123de/v3/", input)
	}
	return s, nil
}

// APIAccountCredentials validates what a merchant pastes for a
// store-level API account: the store hash (or API path) and the access
// token. The account needs read-only Orders and Products scopes, and
// Information & settings to read the store's name and currency. Test the
// result with a Client before saving it.
func APIAccountCredentials(storeInput, token string) (Credentials, error) {
	h, err := NormalizeStoreHash(storeInput)
	if err != nil {
		return Credentials{}, phantomos.Errorf(phantomos.EINVALID, "%s", err.Error())
	}
	token = strings.TrimSpace(token)
	if len(token) < 16 || len(token) > 256 || strings.ContainsAny(token, " \t\r\n") {
		return Credentials{}, phantomos.Errorf(phantomos.EINVALID, "The access token looks incomplete: copy the whole Access Token of the API account.")
	}
	return Credentials{StoreHash: h, AccessToken: token, Mode: ModeAPIAccount}, nil
}

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	if !ValidStoreHash(cfg.StoreHash) {
		return nil, fmt.Errorf("bigcommerce: %q is not a store hash", cfg.StoreHash)
	}
	if cfg.AccessToken == "" {
		return nil, errors.New("bigcommerce: no access token")
	}
	c := &Client{hash: cfg.StoreHash, token: cfg.AccessToken, http: cfg.HTTPClient, log: cfg.Logger, limit: cfg.PageSize, now: cfg.Now}
	if c.http == nil {
		c.http = &http.Client{Timeout: 2 * time.Minute}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.limit <= 0 || c.limit > 250 {
		c.limit = 250
	}
	c.orderLimit = c.limit
	if cfg.PageSize <= 0 {
		c.orderLimit = orderPage
	}
	if c.now == nil {
		c.now = time.Now
	}
	base := APIBase
	if cfg.BaseURL != "" {
		base = strings.TrimSuffix(cfg.BaseURL, "/")
	}
	c.base = base + "/stores/" + cfg.StoreHash
	return c, nil
}

// FromCredentials returns a client for stored credentials; opts supplies
// everything else (BaseURL, HTTPClient, Logger).
func FromCredentials(cr Credentials, opts Config) (*Client, error) {
	opts.StoreHash, opts.AccessToken = cr.StoreHash, cr.AccessToken
	return New(opts)
}

// maxBody bounds a response body: a page of 250 orders is far smaller.
const maxBody = 32 << 20

// Rate-limit headers.
const (
	HeaderRequestsLeft = "X-Rate-Limit-Requests-Left"
	HeaderTimeResetMs  = "X-Rate-Limit-Time-Reset-Ms"
	HeaderRequestQuota = "X-Rate-Limit-Requests-Quota"
	HeaderTimeWindowMs = "X-Rate-Limit-Time-Window-Ms"
)

// waitQuota sleeps until the quota window resets when the last response
// said no requests were left.
func (c *Client) waitQuota(ctx context.Context) error {
	c.mu.Lock()
	until := c.resumeAt
	c.mu.Unlock()
	d := until.Sub(c.now())
	if until.IsZero() || d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// resetWait reads X-Rate-Limit-Time-Reset-Ms; ok is false when absent.
func resetWait(h http.Header) (time.Duration, bool) {
	ms, err := strconv.ParseInt(strings.TrimSpace(h.Get(HeaderTimeResetMs)), 10, 64)
	if err != nil || ms < 0 || ms > int64(time.Hour/time.Millisecond) {
		return 0, false
	}
	return time.Duration(ms) * time.Millisecond, true
}

// noteQuota records the quota a response reports: when no request is
// left in the window, the next waits for its reset.
func (c *Client) noteQuota(h http.Header) {
	left, err := strconv.Atoi(strings.TrimSpace(h.Get(HeaderRequestsLeft)))
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resumeAt = time.Time{}
	if left <= 0 {
		if d, ok := resetWait(h); ok {
			c.resumeAt = c.now().Add(d)
		}
	}
}

// get requests path (under the store's API root) and decodes a JSON body
// into out. A 204 No Content leaves out alone and reports empty.
func (c *Client) get(ctx context.Context, path string, out any) (empty bool, err error) {
	return c.do(ctx, http.MethodGet, path, nil, out)
}

func (c *Client) do(ctx context.Context, method, path string, body []byte, out any) (empty bool, err error) {
	if err := c.waitQuota(ctx); err != nil {
		return false, err
	}
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(string(body))
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return false, err
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", "PhantomOS")
	req.Header.Set("X-Auth-Token", c.token)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, &connector.Error{Kind: connector.Transient, Message: "BigCommerce could not be reached.", Err: err}
	}
	defer resp.Body.Close()
	c.noteQuota(resp.Header)
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		return false, &connector.Error{Kind: connector.Transient, Message: "BigCommerce's response was cut off.", Err: err}
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		e := connector.HTTPError(Platform, resp.StatusCode, resp.Header)
		e.Message = "BigCommerce is rate limiting requests (429): the store's request quota, shared by every app installed on it, is spent."
		if d, ok := resetWait(resp.Header); ok {
			e.RetryAfter = max(d, time.Millisecond)
		}
		e.Err = fmt.Errorf("bigcommerce: %s %s: %s", method, path, resp.Status)
		return false, e
	}
	if resp.StatusCode == http.StatusNoContent {
		return true, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := connector.HTTPError(Platform, resp.StatusCode, resp.Header)
		if resp.StatusCode == http.StatusUnauthorized {
			e.Message = "BigCommerce refused the access token: the app was uninstalled or the API account deleted. Reconnect the store."
		}
		if resp.StatusCode == http.StatusForbidden {
			e.Message = "BigCommerce denied access (403): the token lacks a scope. PhantomOS needs read-only Orders, Products and Information & settings. Reconnect the store with them."
		}
		e.Err = fmt.Errorf("bigcommerce: %s %s: %s: %s", method, path, resp.Status, snippet(raw))
		return false, e
	}
	if out == nil {
		return false, nil
	}
	if err := decodeJSON(raw, out); err != nil {
		return false, &connector.Error{Kind: connector.Transient, Message: "BigCommerce sent a malformed response.",
			Err: fmt.Errorf("bigcommerce: %s %s: %w: %s", method, path, err, snippet(raw))}
	}
	return false, nil
}

// decodeJSON decodes with json.Number, so that ids and prices stay exact.
func decodeJSON(raw []byte, out any) error {
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	return d.Decode(out)
}

func snippet(b []byte) string {
	const n = 300
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// rfc2822 is how V2 writes dates: "Tue, 20 Nov 2012 00:00:00 +0000".
const rfc2822 = time.RFC1123Z

// parseDate reads a V2 date (RFC 2822) or a V3 one (RFC 3339); "" is zero.
func parseDate(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{rfc2822, "Mon, 2 Jan 2006 15:04:05 -0700", time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("bigcommerce: date %q is neither RFC 2822 nor RFC 3339", s)
}
