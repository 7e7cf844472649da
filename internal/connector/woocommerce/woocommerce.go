// Package woocommerce connects a WooCommerce store: a connector.Source over
// the REST API v3 (/wp-json/wc/v3), connected by the store's key-generation
// flow (/wc-auth/v1/authorize, keys POSTed to our callback) or by pasting a
// consumer key and secret, and order webhooks verified by their signature.
//
// Requests authenticate with HTTP Basic auth (key and secret), which is only
// safe over HTTPS: a store URL with plain http is refused unless it is on
// the loopback range (a store on the same machine, and the fake in tests).
//
// WooCommerce sites run on every kind of host, so the client expects
// trouble: pages of orders read by id with modified_after (a server that
// ignores the filter or the ordering only costs a longer read: records are
// filtered and the watermark is the latest update seen), a cache-busting
// parameter and no-cache headers against caching plugins, null where a
// string or object was expected, and HTML pages (maintenance, firewalls)
// where JSON was expected, which are retried as transient failures with a
// message saying what the site answered.
//
// Registration (platform.go) plugs it into the platform registry: two
// connect methods (the key-generation flow started from the wizard, whose
// routes are in keyflow_routes.go, and a pasted key), preflight, sealed
// credentials, Subscribe (webhooks kept active) and the webhook route. Its
// fake is wootest.
package woocommerce

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/phantomos/phantomos/internal/connector"
)

// Platform is the name used in messages.
const Platform = "WooCommerce"

// APIPath is the REST API root under the site URL.
const APIPath = "/wp-json/wc/v3"

// PerPage is the page size the client asks for: WooCommerce's maximum.
const PerPage = 100

// maxBody bounds a response body read into memory. A page of 100 orders
// with many lines stays far below.
const maxBody = 32 << 20

// Credentials are what a WooCommerce connector stores (sealed, see
// connector.Vault).
type Credentials struct {
	URL            string `json:"url"` // the site root, e.g. https://shop.example.com
	ConsumerKey    string `json:"consumer_key"`
	ConsumerSecret string `json:"consumer_secret"`
	// KeyPermissions is what the key may do (read, write, read_write), as
	// the key-generation flow reported it; "" when pasted.
	KeyPermissions string `json:"key_permissions,omitempty"`
	// WebhookSecret signs the webhooks PhantomOS creates in the store.
	WebhookSecret string `json:"webhook_secret,omitempty"`
}

// Validate checks pasted or posted credentials: a usable URL (see
// NormalizeURL) and a key and secret of WooCommerce's shape. Messages name
// the field.
func (c *Credentials) Validate() error {
	u, err := NormalizeURL(c.URL)
	if err != nil {
		return err
	}
	c.URL = u
	c.ConsumerKey, c.ConsumerSecret = strings.TrimSpace(c.ConsumerKey), strings.TrimSpace(c.ConsumerSecret)
	if !validKey(c.ConsumerKey, "ck_") {
		return connector.Errorf(connector.Permanent, "The consumer key should start with ck_ followed by letters and digits, as WooCommerce shows it.")
	}
	if !validKey(c.ConsumerSecret, "cs_") {
		return connector.Errorf(connector.Permanent, "The consumer secret should start with cs_ followed by letters and digits, as WooCommerce shows it.")
	}
	return nil
}

func validKey(s, prefix string) bool {
	if !strings.HasPrefix(s, prefix) || len(s) < len(prefix)+8 || len(s) > 128 {
		return false
	}
	for _, r := range s[len(prefix):] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// NormalizeURL returns the site root of a store URL as the user typed it
// ("shop.example.com", "https://shop.example.com/shop/"): https assumed when
// no scheme is given, no query, fragment or trailing slash. Plain http is
// refused, because Basic auth would send the key in clear, except on
// loopback addresses (127.0.0.0/8, ::1, localhost).
func NormalizeURL(input string) (string, error) {
	s := strings.TrimSpace(input)
	if s == "" {
		return "", connector.Errorf(connector.Permanent, "Enter the store's address, e.g. https://shop.example.com.")
	}
	if len(s) > 2048 {
		return "", connector.Errorf(connector.Permanent, "The store address is too long.")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil {
		return "", connector.Errorf(connector.Permanent, "%q is not a web address; enter the store's address, e.g. https://shop.example.com.", input)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !Loopback(u.Hostname()) {
			return "", connector.Errorf(connector.Permanent,
				"The store address uses plain http: WooCommerce keys would travel unencrypted. Use the store's https:// address (plain http is accepted only for addresses on this machine).")
		}
	default:
		return "", connector.Errorf(connector.Permanent, "The store address must start with https://.")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimRight(u.Path, "/")
	u.Path = strings.TrimSuffix(u.Path, "/wp-json/wc/v3")
	u.Path = strings.TrimSuffix(u.Path, "/wp-json")
	u.RawPath = ""
	return u.String(), nil
}

// Loopback reports whether host is localhost or an address on the
// loopback range.
func Loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Config configures a Client.
type Config struct {
	URL            string // the site root; NormalizeURL applies
	ConsumerKey    string
	ConsumerSecret string
	HTTPClient     *http.Client
	Logger         *slog.Logger
	// PerPage sizes the pages (PerPage, WooCommerce's maximum).
	PerPage int
	// WebhookURL, when set, is where the store delivers order webhooks:
	// every orders pass first checks that the store's hooks for it exist
	// and are active, re-creating those WooCommerce disabled (see
	// EnsureWebhooks). WebhookSecret signs them.
	WebhookURL, WebhookSecret string
}

// Client is a WooCommerce store reached through the REST API v3. It
// implements connector.Source, connector.OrderLister and connector.Noticer
// and is safe for concurrent use.
type Client struct {
	base, key, secret string
	http              *http.Client
	log               *slog.Logger
	perPage           int
	hookURL, hookKey  string

	mu       sync.Mutex
	notices  []string
	currency string
}

// New returns a client for cfg.
func New(cfg Config) (*Client, error) {
	base, err := NormalizeURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.ConsumerKey == "" || cfg.ConsumerSecret == "" {
		return nil, errors.New("woocommerce: no consumer key or secret")
	}
	c := &Client{base: base, key: cfg.ConsumerKey, secret: cfg.ConsumerSecret, http: cfg.HTTPClient, log: cfg.Logger,
		perPage: cfg.PerPage, hookURL: cfg.WebhookURL, hookKey: cfg.WebhookSecret}
	if c.http == nil {
		c.http = &http.Client{Timeout: 2 * time.Minute}
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.perPage <= 0 || c.perPage > PerPage {
		c.perPage = PerPage
	}
	return c, nil
}

// FromCredentials returns a client for stored credentials; opts supplies
// everything else.
func FromCredentials(cr Credentials, opts Config) (*Client, error) {
	opts.URL, opts.ConsumerKey, opts.ConsumerSecret = cr.URL, cr.ConsumerKey, cr.ConsumerSecret
	if opts.WebhookSecret == "" {
		opts.WebhookSecret = cr.WebhookSecret
	}
	return New(opts)
}

// Notices implements connector.Noticer.
func (c *Client) Notices() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.notices...)
}

func (c *Client) notice(msg string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.notices {
		if n == msg {
			return
		}
	}
	c.notices = append(c.notices, msg)
}

// apiError is WooCommerce's error body.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// response is what one request returned.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request to path (under APIPath unless it starts with
// "/wp-json/") with query q and JSON body in, and decodes a 2xx answer
// into out. Every GET carries a cache-busting parameter and no-cache
// headers: caching plugins that serve REST answers from a page cache would
// otherwise return a stale page.
func (c *Client) get(ctx context.Context, path string, q url.Values, out any) (*response, error) {
	return c.do(ctx, http.MethodGet, path, q, nil, out)
}

func (c *Client) do(ctx context.Context, method, path string, q url.Values, in, out any) (*response, error) {
	if q == nil {
		q = url.Values{}
	}
	if method == http.MethodGet {
		q.Set("_nocache", nonce())
	}
	u := c.base + path
	if !strings.HasPrefix(path, "/wp-json/") {
		u = c.base + APIPath + path
	}
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("woocommerce: encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, fmt.Errorf("woocommerce: %w", err)
	}
	req.SetBasicAuth(c.key, c.secret)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Set("Pragma", "no-cache")
	req.Header.Set("User-Agent", "PhantomOS/1 (+https://phantomos.example)")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &connector.Error{Kind: connector.Transient, Message: "The store could not be reached.", Err: redact(err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, &connector.Error{Kind: connector.Transient, Status: resp.StatusCode, Message: "The store's answer was cut off.", Err: err}
	}
	if len(raw) > maxBody {
		return nil, &connector.Error{Kind: connector.Permanent, Status: resp.StatusCode, Message: "The store's answer is too large."}
	}
	r := &response{status: resp.StatusCode, header: resp.Header, body: raw}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return r, classify(r, path)
	}
	if out == nil {
		return r, nil
	}
	if !looksJSON(raw) {
		return r, &connector.Error{Kind: connector.Transient, Status: resp.StatusCode,
			Message: fmt.Sprintf("The site answered %s with a web page instead of WooCommerce data (%s): a maintenance page, a security plugin or a cache may stand in front of the REST API.",
				path, describe(r))}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return r, &connector.Error{Kind: connector.Transient, Status: resp.StatusCode,
			Message: fmt.Sprintf("The store's answer to %s could not be read.", path), Err: err}
	}
	return r, nil
}

// redact drops the URL (whose query could carry keys on some setups) from
// a transport error.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

func nonce() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// looksJSON reports whether body starts like JSON (after a BOM and
// whitespace, which some plugins emit).
func looksJSON(body []byte) bool {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	body = bytes.TrimLeft(body, " \t\r\n")
	return len(body) > 0 && (body[0] == '{' || body[0] == '[')
}

// describe names an answer for messages: its status and, for HTML, its
// title.
func describe(r *response) string {
	s := fmt.Sprintf("HTTP %d", r.status)
	lower := bytes.ToLower(r.body)
	if i := bytes.Index(lower, []byte("<title>")); i >= 0 {
		rest := r.body[i+7:]
		if j := bytes.Index(bytes.ToLower(rest), []byte("</title>")); j >= 0 && j < 200 {
			if t := strings.Join(strings.Fields(string(rest[:j])), " "); t != "" {
				s += ", page titled " + strconv.Quote(t)
			}
		}
	}
	return s
}

// classify turns a non-2xx answer into a connector.Error with a message
// for the user.
func classify(r *response, path string) *connector.Error {
	var ae apiError
	isJSON := looksJSON(r.body) && json.Unmarshal(r.body, &ae) == nil
	e := connector.HTTPError(Platform, r.status, r.header)
	switch {
	case !isJSON && (r.status >= 500 || r.status == http.StatusTooManyRequests):
		e.Message = fmt.Sprintf("The site answered with a web page instead of WooCommerce data (%s); it may be down or under maintenance.", describe(r))
	case r.status == http.StatusUnauthorized || (r.status == http.StatusForbidden && strings.Contains(ae.Code, "authentication")):
		e.Kind = connector.Auth
		e.Message = "WooCommerce refused the consumer key and secret: they were revoked or mistyped. Create a new key (WooCommerce › Settings › Advanced › REST API) and reconnect."
	case r.status == http.StatusForbidden && isJSON:
		e.Kind = connector.Auth
		e.Message = "WooCommerce denied access (403): the key's user may not read orders and products. Use a key with Read access of an administrator or shop manager."
	case r.status == http.StatusForbidden:
		e.Kind = connector.Auth
		e.Message = fmt.Sprintf("The site blocked the request with a web page (%s): a firewall or security plugin may be refusing API calls.", describe(r))
	case r.status == http.StatusNotFound && ae.Code == "rest_no_route":
		e.Kind = connector.Auth
		e.Message = "The site has no WooCommerce REST API at " + APIPath + ": check that WooCommerce is active and that permalinks are not set to Plain."
	case r.status == http.StatusNotFound && !isJSON:
		e.Kind = connector.Auth
		e.Message = fmt.Sprintf("The site answered %s with a page that was not found (%s): is this the WordPress site's address?", path, describe(r))
	case r.status == http.StatusNotFound:
		e.Kind = connector.Permanent
		e.Message = fmt.Sprintf("WooCommerce has no %s.", path)
	case r.status == http.StatusBadRequest && ae.Message != "":
		e.Message = fmt.Sprintf("WooCommerce refused the request (%s): %s", ae.Code, clip(ae.Message, 200))
	}
	return e
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// currencyInfo is /data/currencies/current.
type currencyInfo struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// siteIndex is the WordPress REST index (/wp-json/).
type siteIndex struct {
	Name string `json:"name"`
	URL  string `json:"url"`
}

// Test checks that the key works and may read orders, and returns the
// store's name and currency.
func (c *Client) Test(ctx context.Context) (connector.Account, error) {
	var cur currencyInfo
	if _, err := c.get(ctx, "/data/currencies/current", nil, &cur); err != nil {
		return connector.Account{}, err
	}
	if cur.Code == "" {
		return connector.Account{}, connector.Errorf(connector.Permanent, "WooCommerce did not say the store's currency.")
	}
	var probe []json.RawMessage
	if _, err := c.get(ctx, "/orders", url.Values{"per_page": {"1"}}, &probe); err != nil {
		return connector.Account{}, err
	}
	c.mu.Lock()
	c.currency = strings.ToUpper(cur.Code)
	c.mu.Unlock()
	acc := connector.Account{Name: c.base, Domain: strings.TrimPrefix(strings.TrimPrefix(c.base, "https://"), "http://"),
		Currency: strings.ToUpper(cur.Code), APIVersion: "wc/v3"}
	var idx siteIndex
	if _, err := c.get(ctx, "/wp-json/", nil, &idx); err == nil && strings.TrimSpace(idx.Name) != "" {
		acc.Name = clip(strings.TrimSpace(idx.Name), 200)
	}
	return acc, nil
}

// storeCurrency returns the store's currency, asking once.
func (c *Client) storeCurrency(ctx context.Context) (string, error) {
	c.mu.Lock()
	cur := c.currency
	c.mu.Unlock()
	if cur != "" {
		return cur, nil
	}
	var ci currencyInfo
	if _, err := c.get(ctx, "/data/currencies/current", nil, &ci); err != nil {
		return "", err
	}
	if ci.Code == "" {
		return "", connector.Errorf(connector.Permanent, "WooCommerce did not say the store's currency.")
	}
	c.mu.Lock()
	c.currency = strings.ToUpper(ci.Code)
	c.mu.Unlock()
	return strings.ToUpper(ci.Code), nil
}

// totalPages reads X-WP-TotalPages; ok is false when it is missing or
// unreadable.
func totalPages(h http.Header) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(h.Get("X-WP-TotalPages")))
	return n, err == nil && n >= 0
}

// nextPage returns the token after page of a list answer: from
// X-WP-TotalPages when the site sends it, else from a full page.
func nextPage(page int, r *response, got, perPage int) string {
	if n, ok := totalPages(r.header); ok {
		if page < n && got > 0 {
			return strconv.Itoa(page + 1)
		}
		return ""
	}
	if got >= perPage {
		return strconv.Itoa(page + 1)
	}
	return ""
}

// pageNumber reads a page token ("" is the first page).
func pageNumber(tok string) (int, error) {
	if tok == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(tok)
	if err != nil || n < 1 || n > 1_000_000 {
		return 0, connector.Errorf(connector.Permanent, "Unreadable page token %q.", clip(tok, 40))
	}
	return n, nil
}

// gmt formats t as WooCommerce reads dates with dates_are_gmt.
func gmt(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") }

var (
	_ connector.Source      = (*Client)(nil)
	_ connector.OrderLister = (*Client)(nil)
	_ connector.Noticer     = (*Client)(nil)
)
