// Package amazontest is a fake Selling Partner API for tests: an httptest
// server speaking the documented wire formats of Seller Central's consent
// page (/apps/authorize/consent: application_id, state, redirect_uri,
// version=beta for a draft application; it sends the browser back with
// state, selling_partner_id and spapi_oauth_code), Login with Amazon's token
// endpoint (/auth/o2/token: refresh_token and authorization_code grants),
// the Sellers API (marketplaceParticipations), the Orders API v2026-01-01
// (searchOrders with lastUpdatedAfter/Before, marketplace and status
// filters, paginationToken; getOrder), the Reports API 2021-06-30
// (createReport, getReport, getReportDocument with gzip documents behind
// pre-signed URLs that expire), and the Finances API v2024-06-19
// (listTransactions by posted window or by order id, with refunds that
// become visible late), over an in-memory seller that tests fill and
// change.
//
// Every SP-API answer carries x-amzn-RateLimit-Limit; each operation has
// its own token bucket and answers 429 QuotaExceeded when it is empty.
// Faults can be injected per operation (any status, e.g. 500 or 429), and
// the authorization revoked.
package amazontest

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a Server. Zero values take the defaults in parentheses.
type Options struct {
	ClientID     string // ("amzn1.application-oa2-client.test")
	ClientSecret string // ("test-secret")
	// Marketplaces the seller participates in (ATVPDKIKX0DER, Amazon.com).
	Marketplaces []string
	// Rates are the usage plans per operation (requests per second,
	// reported in x-amzn-RateLimit-Limit); missing ones get Rate (1000),
	// all with burst Burst (1000).
	Rates map[string]float64
	Rate  float64
	Burst int
	// ReportPolls is how many getReport calls a report stays IN_PROGRESS
	// (1; negative: none).
	ReportPolls int
	// URLTTL is how long a document URL works on the fake clock (5 min).
	URLTTL time.Duration
	// TransactionsPage is listTransactions' page size (100).
	TransactionsPage int
	// Start is the fake clock's start (2026-11-01T12:00:00Z).
	Start time.Time
	// ApplicationID is the public application the consent page knows
	// ("amzn1.sp.solution.test"); Draft says it is a draft, whose consent
	// URL must carry version=beta (and a published one's must not).
	ApplicationID string
	Draft         bool
	// SellerID is the selling partner who consents ("A2FAKESELLER01").
	SellerID string
}

// Item is one item of an order. Amounts are minor units of the
// marketplace currency: Price per unit; Discount the item promotions;
// Shipping, ShipDiscount and Tax as Amazon splits them.
type Item struct {
	ID           string
	SKU, ASIN    string
	Title        string
	Qty          int64
	Price        int64
	Discount     int64
	Shipping     int64
	ShipDiscount int64
	Tax          int64
}

// Order is a seller's order.
type Order struct {
	ID          string
	Marketplace string
	Created     time.Time
	Updated     time.Time
	// Status is a FulfillmentStatus: PENDING, UNSHIPPED, SHIPPED,
	// CANCELLED, …
	Status      string
	FulfilledBy string // AMAZON or MERCHANT
	Country     string
	State       string
	Items       []Item
}

// Refund is a refund transaction: money given back on items of an order.
// It is listed from Visible (on the fake clock), which may be days after
// Posted, as Amazon's financial events are.
type Refund struct {
	OrderID string
	Posted  time.Time
	Visible time.Time
	Items   []RefundItem
}

// RefundItem is the refund of one item: Principal is the price given back,
// Promo the promotion taken back, Tax the tax given back (all positive).
type RefundItem struct {
	SKU, ASIN string
	Qty       int64
	Principal int64
	Promo     int64
	Tax       int64
}

type report struct {
	id, doc    string
	start, end time.Time
	markets    []string
	polls      int
	status     string
	content    []byte
	// vendor sales reports: the options asked for ("" when missing).
	vendor                bool
	period, view, program string
}

// VendorDay is one ASIN's sell-through on one day in Vendor Central, in
// minor units of the marketplace currency.
type VendorDay struct {
	Day             time.Time
	ASIN            string
	OrderedUnits    int64
	OrderedRevenue  int64
	ShippedUnits    int64
	ShippedRevenue  int64
	CustomerReturns int64
}

// AddVendorDay records a day of vendor sales.
func (s *Server) AddVendorDay(d VendorDay) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vendor = append(s.vendor, d)
}

type bucket struct {
	tokens float64
	last   time.Time
}

type page struct {
	ids     []string
	offset  int
	expires time.Time
}

// Server is a fake SP-API. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server
	opts Options

	mu       sync.Mutex
	now      time.Time
	orders   map[string]*Order
	refunds  []Refund
	vendor   []VendorDay
	refresh  map[string]bool      // refresh token → valid
	access   map[string]time.Time // access token → expiry
	codes    map[string]string    // authorization code → refresh token
	redirect map[string]string    // authorization code → the redirect_uri of its consent
	reports  map[string]*report
	docs     map[string]*report
	urls     map[string]time.Time // document URL key → expiry
	pages    map[string]*page
	buckets  map[string]*bucket
	faults   map[string][]int
	expire   int // document URLs to hand out already expired
	requests map[string]int
	limited  int
	tokenReq int
	seq      int
}

// New starts a fake seller; it closes with t.
func New(t interface{ Cleanup(func()) }, opts Options) *Server {
	if opts.ClientID == "" {
		opts.ClientID = "amzn1.application-oa2-client.test"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "test-secret"
	}
	if len(opts.Marketplaces) == 0 {
		opts.Marketplaces = []string{"ATVPDKIKX0DER"}
	}
	if opts.Rate <= 0 {
		opts.Rate = 1000
	}
	if opts.Burst <= 0 {
		opts.Burst = 1000
	}
	switch {
	case opts.ReportPolls == 0:
		opts.ReportPolls = 1
	case opts.ReportPolls < 0:
		opts.ReportPolls = 0 // done at the first poll
	}
	if opts.URLTTL <= 0 {
		opts.URLTTL = 5 * time.Minute
	}
	if opts.TransactionsPage <= 0 {
		opts.TransactionsPage = 100
	}
	if opts.ApplicationID == "" {
		opts.ApplicationID = "amzn1.sp.solution.test"
	}
	if opts.SellerID == "" {
		opts.SellerID = "A2FAKESELLER01"
	}
	if opts.Start.IsZero() {
		opts.Start = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	}
	s := &Server{opts: opts, now: opts.Start, orders: map[string]*Order{}, refresh: map[string]bool{}, access: map[string]time.Time{},
		codes: map[string]string{}, redirect: map[string]string{}, reports: map[string]*report{}, docs: map[string]*report{}, urls: map[string]time.Time{},
		pages: map[string]*page{}, buckets: map[string]*bucket{}, faults: map[string][]int{}, requests: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/o2/token", s.handleToken)
	mux.HandleFunc("GET /apps/authorize/consent", s.handleConsentPage)
	mux.HandleFunc("POST /apps/authorize/consent", s.handleConsentConfirm)
	mux.HandleFunc("GET /sellers/v1/marketplaceParticipations", s.api("getMarketplaceParticipations", s.handleParticipations))
	mux.HandleFunc("GET /orders/2026-01-01/orders", s.api("searchOrders", s.handleSearchOrders))
	mux.HandleFunc("GET /orders/2026-01-01/orders/{id}", s.api("getOrder", s.handleGetOrder))
	mux.HandleFunc("POST /reports/2021-06-30/reports", s.api("createReport", s.handleCreateReport))
	mux.HandleFunc("GET /reports/2021-06-30/reports/{id}", s.api("getReport", s.handleGetReport))
	mux.HandleFunc("GET /reports/2021-06-30/documents/{id}", s.api("getReportDocument", s.handleGetDocument))
	mux.HandleFunc("GET /finances/2024-06-19/transactions", s.api("listTransactions", s.handleTransactions))
	mux.HandleFunc("GET /bucket/{key}", s.handleDownload)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// ClientID and ClientSecret are the app's LWA credentials.
func (s *Server) ClientID() string     { return s.opts.ClientID }
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

// TokenURL is the fake LWA token endpoint.
func (s *Server) TokenURL() string { return s.URL + "/auth/o2/token" }

// Now returns the fake clock.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// Advance moves the fake clock on.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = s.now.Add(d)
}

func (s *Server) newID(prefix string) string {
	s.seq++
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s%d-%s", prefix, s.seq, hex.EncodeToString(b[:]))
}

// IssueRefreshToken returns a refresh token a seller granted the app
// (self-authorization).
func (s *Server) IssueRefreshToken() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := "Atzr|" + s.newID("refresh")
	s.refresh[tok] = true
	return tok
}

// IssueCode returns an spapi_oauth_code, as the consent page hands the
// app, for a new refresh token.
func (s *Server) IssueCode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := s.newID("code")
	tok := "Atzr|" + s.newID("refresh")
	s.codes[code] = tok
	return code
}

// SellerID is the selling partner who consents on the consent page.
func (s *Server) SellerID() string { return s.opts.SellerID }

// ApplicationID is the public application the consent page knows.
func (s *Server) ApplicationID() string { return s.opts.ApplicationID }

// checkConsent validates the query of a consent URL as Seller Central
// does: this application, version=beta exactly for a draft, and an
// absolute redirect URI (the application's registered one).
func (s *Server) checkConsent(q url.Values) error {
	switch {
	case q.Get("application_id") != s.opts.ApplicationID:
		return fmt.Errorf("unknown application %q", q.Get("application_id"))
	case s.opts.Draft && q.Get("version") != "beta":
		return fmt.Errorf("the application is a draft: its consent URL needs version=beta")
	case !s.opts.Draft && q.Get("version") != "":
		return fmt.Errorf("the application is published: version=%s is for drafts", q.Get("version"))
	case q.Get("state") == "":
		return fmt.Errorf("no state")
	}
	u, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("redirect_uri %q is not the application's redirect URI", q.Get("redirect_uri"))
	}
	return nil
}

// Approve is the seller confirming on the consent page of consentURL: it
// returns where Seller Central sends the browser (the redirect URI with
// state, selling_partner_id, mws_auth_token and spapi_oauth_code), or why
// the page refuses the URL.
func (s *Server) Approve(consentURL string) (string, error) {
	u, err := url.Parse(consentURL)
	if err != nil || u.Path != "/apps/authorize/consent" {
		return "", fmt.Errorf("not a consent URL: %q", consentURL)
	}
	q := u.Query()
	if err := s.checkConsent(q); err != nil {
		return "", err
	}
	code := s.IssueCode()
	s.mu.Lock()
	s.redirect[code] = q.Get("redirect_uri")
	s.mu.Unlock()
	back := url.Values{"state": {q.Get("state")}, "selling_partner_id": {s.opts.SellerID}, "mws_auth_token": {"amzn.mws." + code},
		"spapi_oauth_code": {code}}
	return q.Get("redirect_uri") + "?" + back.Encode(), nil
}

// handleConsentPage is Seller Central's consent page: what the
// application asks for, and a button to confirm.
func (s *Server) handleConsentPage(w http.ResponseWriter, r *http.Request) {
	if err := s.checkConsent(r.URL.Query()); err != nil {
		http.Error(w, "We're sorry: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!doctype html><html><head><title>Authorize application</title></head><body>
<h1>Authorize %s</h1><p>This application asks for read-only access to Orders, Reports and Finances of seller %s.</p>
<form method="post" action="/apps/authorize/consent?%s"><button type="submit" id="consent-confirm">Confirm</button></form></body></html>`,
		html.EscapeString(s.opts.ApplicationID), html.EscapeString(s.opts.SellerID), html.EscapeString(r.URL.RawQuery))
}

// handleConsentConfirm is the seller's confirmation: the browser goes to
// the application's redirect URI.
func (s *Server) handleConsentConfirm(w http.ResponseWriter, r *http.Request) {
	back, err := s.Approve(s.URL + r.URL.RequestURI())
	if err != nil {
		http.Error(w, "We're sorry: "+err.Error(), http.StatusBadRequest)
		return
	}
	http.Redirect(w, r, back, http.StatusFound)
}

// Revoke revokes every authorization: refresh tokens stop working and so
// do the access tokens they bought.
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.refresh)
	clear(s.access)
}

// TokenRequests counts refresh-token grants served.
func (s *Server) TokenRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tokenReq
}

// Requests counts the calls of an operation served (faults included);
// "searchOrders: expired token" counts refused pagination tokens.
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[op]
}

// Limited counts 429s answered because a bucket was empty.
func (s *Server) Limited() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limited
}

// Fail makes the next calls of op answer the given statuses, in order.
func (s *Server) Fail(op string, statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[op] = append(s.faults[op], statuses...)
}

// ExpireURLs hands out the next n document URLs already expired.
func (s *Server) ExpireURLs(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire += n
}

// Put adds or replaces an order (a copy is kept).
func (s *Server) Put(o Order) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o.Items = slices.Clone(o.Items)
	s.orders[o.ID] = &o
}

// Update changes an order and stamps its update time with the clock.
func (s *Server) Update(id string, fn func(*Order)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	fn(o)
	o.Updated = s.now
}

// AddRefund records a refund transaction.
func (s *Server) AddRefund(r Refund) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Visible.IsZero() {
		r.Visible = r.Posted
	}
	s.refunds = append(s.refunds, r)
}

// Orders returns copies of every order, by id.
func (s *Server) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Order
	for _, o := range s.orders {
		c := *o
		c.Items = slices.Clone(o.Items)
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Order) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Refunds returns the refunds visible now.
func (s *Server) Refunds() []Refund {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Refund
	for _, r := range s.refunds {
		if !r.Visible.After(s.now) {
			out = append(out, r)
		}
	}
	return out
}

// marketplace facts the fake needs.
var markets = map[string]struct{ name, country, currency string }{
	"ATVPDKIKX0DER":  {"Amazon.com", "US", "USD"},
	"A2EUQ1WTGCTBG2": {"Amazon.ca", "CA", "CAD"},
	"A1PA6795UKMFR9": {"Amazon.de", "DE", "EUR"},
	"A1VC38T7YXB528": {"Amazon.co.jp", "JP", "JPY"},
}

func digits(cur string) int {
	if cur == "JPY" {
		return 0
	}
	return 2
}

// decimal writes minor units as Amazon's decimal string.
func decimal(v int64, cur string) string {
	d := digits(cur)
	if d == 0 {
		return strconv.FormatInt(v, 10)
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func apiErr(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}})
}

// api wraps an SP-API handler: access token, rate limit, faults.
func (s *Server) api(op string, h func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests[op]++
		rate := s.opts.Rate
		if v, ok := s.opts.Rates[op]; ok {
			rate = v
		}
		w.Header().Set("x-amzn-RateLimit-Limit", strconv.FormatFloat(rate, 'f', -1, 64))
		w.Header().Set("x-amzn-RequestId", s.newID("req"))
		exp, ok := s.access[r.Header.Get("x-amz-access-token")]
		if !ok || !s.now.Before(exp) {
			s.mu.Unlock()
			apiErr(w, http.StatusForbidden, "Unauthorized", "Access to requested resource is denied.")
			return
		}
		if f := s.faults[op]; len(f) > 0 {
			s.faults[op] = f[1:]
			s.mu.Unlock()
			apiErr(w, f[0], "InternalFailure", "Injected failure.")
			return
		}
		// The buckets run on the wall clock: that is what throttles a
		// client in a test.
		b, ok := s.buckets[op]
		now := time.Now()
		if !ok {
			b = &bucket{tokens: float64(s.opts.Burst), last: now}
			s.buckets[op] = b
		}
		b.tokens = min(float64(s.opts.Burst), b.tokens+now.Sub(b.last).Seconds()*rate)
		b.last = now
		if b.tokens < 1 {
			s.limited++
			s.mu.Unlock()
			apiErr(w, http.StatusTooManyRequests, "QuotaExceeded", "You exceeded your quota for the requested resource.")
			return
		}
		b.tokens--
		s.mu.Unlock()
		h(w, r)
	}
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "unreadable form"})
		return
	}
	if r.PostForm.Get("client_id") != s.opts.ClientID || r.PostForm.Get("client_secret") != s.opts.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client", "error_description": "Client authentication failed"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var refresh string
	switch r.PostForm.Get("grant_type") {
	case "refresh_token":
		refresh = r.PostForm.Get("refresh_token")
		if !s.refresh[refresh] {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "The request has an invalid grant parameter : refresh_token"})
			return
		}
		s.tokenReq++
	case "authorization_code":
		code := r.PostForm.Get("code")
		refresh = s.codes[code]
		redirect, bound := s.redirect[code]
		delete(s.codes, code) // single use
		delete(s.redirect, code)
		if refresh == "" || bound && r.PostForm.Get("redirect_uri") != redirect {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "The authorization code is invalid or has expired"})
			return
		}
		s.refresh[refresh] = true
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "unsupported_grant_type"})
		return
	}
	access := "Atza|" + s.newID("access")
	s.access[access] = s.now.Add(time.Hour)
	writeJSON(w, http.StatusOK, map[string]any{"access_token": access, "refresh_token": refresh, "token_type": "bearer", "expires_in": 3600})
}

func (s *Server) handleParticipations(w http.ResponseWriter, r *http.Request) {
	var payload []any
	for _, id := range s.opts.Marketplaces {
		m := markets[id]
		payload = append(payload, map[string]any{
			"marketplace":   map[string]any{"id": id, "name": m.name, "countryCode": m.country, "defaultCurrencyCode": m.currency, "defaultLanguageCode": "en_US", "domainName": strings.ToLower(m.name)},
			"participation": map[string]any{"isParticipating": true, "hasSuspendedListings": false},
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"payload": payload})
}

// orderJSON renders an order as the Orders API v2026-01-01 does.
func orderJSON(o *Order) map[string]any {
	m := markets[o.Marketplace]
	cur := m.currency
	out := map[string]any{
		"orderId": o.ID, "createdTime": o.Created.Format(time.RFC3339), "lastUpdatedTime": o.Updated.Format(time.RFC3339),
		"salesChannel": map[string]any{"channelName": "AMAZON", "marketplaceId": o.Marketplace, "marketplaceName": m.name},
		"fulfillment":  map[string]any{"fulfillmentStatus": o.Status, "fulfilledBy": o.FulfilledBy},
	}
	if o.Country != "" {
		out["recipient"] = map[string]any{"deliveryAddress": map[string]any{"countryCode": o.Country, "stateOrRegion": o.State}}
	}
	priced := o.Status != "PENDING" && o.Status != "PENDING_AVAILABILITY"
	var items []any
	for _, it := range o.Items {
		item := map[string]any{"orderItemId": it.ID, "quantityOrdered": it.Qty,
			"product": map[string]any{"asin": it.ASIN, "sellerSku": it.SKU, "title": it.Title}}
		if priced {
			money := func(v int64) map[string]any { return map[string]any{"amount": decimal(v, cur), "currencyCode": cur} }
			bd := []any{map[string]any{"type": "ITEM", "subtotal": money(it.Price * it.Qty)}}
			if it.Shipping != 0 {
				bd = append(bd, map[string]any{"type": "SHIPPING", "subtotal": money(it.Shipping)})
			}
			if it.Tax != 0 {
				bd = append(bd, map[string]any{"type": "TAX", "subtotal": money(it.Tax),
					"detailedBreakdowns": []any{map[string]any{"subtype": "ITEM", "value": money(it.Tax)}}})
			}
			if it.Discount != 0 || it.ShipDiscount != 0 {
				var det []any
				if it.Discount != 0 {
					det = append(det, map[string]any{"subtype": "ITEM", "value": money(-it.Discount)})
				}
				if it.ShipDiscount != 0 {
					det = append(det, map[string]any{"subtype": "SHIPPING", "value": money(-it.ShipDiscount)})
				}
				bd = append(bd, map[string]any{"type": "DISCOUNT", "subtotal": money(-it.Discount - it.ShipDiscount), "detailedBreakdowns": det})
			}
			item["proceeds"] = map[string]any{"proceedsTotal": money(it.Price*it.Qty + it.Shipping + it.Tax - it.Discount - it.ShipDiscount), "breakdowns": bd}
			item["product"].(map[string]any)["price"] = map[string]any{"unitPrice": money(it.Price)}
		}
		items = append(items, item)
	}
	out["orderItems"] = items
	return out
}

func parseTime(v string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		t, err = time.Parse("2006-01-02", v)
	}
	return t, err == nil
}

// vendorDocument builds a vendor sales report (JSON, gzip): by day and
// ASIN, orderedRevenue and orderedUnits in the MANUFACTURING view only.
// Without the three report options the document only explains the
// failure, as Amazon's does.
func (s *Server) vendorDocument(rep *report) (int, []byte) {
	var doc map[string]any
	if rep.period == "" || rep.view == "" || rep.program == "" {
		doc = map[string]any{"errorDetails": "This report type requires the reportPeriod, distributorView, sellingProgram reportOption to be specified."}
	} else {
		cur := markets[rep.markets[0]].currency
		amt := func(v int64) json.Number { return json.Number(decimal(v, cur)) }
		var lines []any
		for _, d := range s.vendor {
			if d.Day.Before(rep.start) || d.Day.After(rep.end) {
				continue
			}
			line := map[string]any{"startDate": d.Day.Format("2006-01-02"), "endDate": d.Day.Format("2006-01-02"), "asin": d.ASIN,
				"customerReturns": d.CustomerReturns, "shippedUnits": d.ShippedUnits,
				"shippedRevenue": map[string]any{"amount": amt(d.ShippedRevenue), "currencyCode": cur},
				"shippedCogs":    map[string]any{"amount": amt(d.ShippedRevenue * 6 / 10), "currencyCode": cur}}
			if rep.view == "MANUFACTURING" {
				line["orderedUnits"] = d.OrderedUnits
				line["orderedRevenue"] = map[string]any{"amount": amt(d.OrderedRevenue), "currencyCode": cur}
			}
			lines = append(lines, line)
		}
		if len(lines) == 0 {
			return 0, nil
		}
		doc = map[string]any{"reportSpecification": map[string]any{"reportType": "GET_VENDOR_SALES_REPORT",
			"reportOptions": map[string]string{"reportPeriod": rep.period, "distributorView": rep.view, "sellingProgram": rep.program},
			"dataStartTime": rep.start.Format("2006-01-02"), "dataEndTime": rep.end.Format("2006-01-02"), "marketplaceIds": rep.markets},
			"salesAggregate": []any{}, "salesByAsin": lines}
	}
	b, _ := json.Marshal(doc)
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return 1, z.Bytes()
}

func (s *Server) handleSearchOrders(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size := 100
	if v := q.Get("maxResultsPerPage"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			apiErr(w, http.StatusBadRequest, "InvalidInput", "maxResultsPerPage must be between 1 and 100.")
			return
		}
		size = n
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var pg *page
	key := q.Get("paginationToken")
	if key != "" {
		// Tokens can be used again (a retried request) until they expire.
		pg = s.pages[key]
		if pg == nil || !s.now.Before(pg.expires) {
			s.requests["searchOrders: expired token"]++
			apiErr(w, http.StatusBadRequest, "InvalidInput", "The paginationToken is invalid or has expired.")
			return
		}
	} else {
		if q.Get("createdAfter") != "" {
			apiErr(w, http.StatusBadRequest, "InvalidInput", "This fake serves lastUpdatedAfter queries only.")
			return
		}
		after, ok := parseTime(q.Get("lastUpdatedAfter"))
		if !ok {
			apiErr(w, http.StatusBadRequest, "InvalidInput", "Exactly one of createdAfter and lastUpdatedAfter is required, in ISO 8601.")
			return
		}
		before := s.now.Add(-2 * time.Minute)
		if v := q.Get("lastUpdatedBefore"); v != "" {
			b, ok := parseTime(v)
			if !ok || b.Before(after) || b.After(s.now.Add(-2*time.Minute)) {
				apiErr(w, http.StatusBadRequest, "InvalidInput", "lastUpdatedBefore must be after lastUpdatedAfter and at least two minutes before now.")
				return
			}
			before = b
		}
		markets := strings.Split(q.Get("marketplaceIds"), ",")
		var statuses []string
		if v := q.Get("fulfillmentStatuses"); v != "" {
			statuses = strings.Split(v, ",")
		}
		var hits []*Order
		for _, o := range s.orders {
			if o.Updated.Before(after) || o.Updated.After(before) || !slices.Contains(markets, o.Marketplace) ||
				len(statuses) > 0 && !slices.Contains(statuses, o.Status) {
				continue
			}
			hits = append(hits, o)
		}
		slices.SortFunc(hits, func(a, b *Order) int {
			if c := a.Updated.Compare(b.Updated); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		pg = &page{}
		for _, o := range hits {
			pg.ids = append(pg.ids, o.ID)
		}
	}
	end := min(pg.offset+size, len(pg.ids))
	var out []any
	for _, id := range pg.ids[pg.offset:end] {
		out = append(out, orderJSON(s.orders[id]))
	}
	resp := map[string]any{"orders": out}
	if end < len(pg.ids) {
		next := s.newID("page")
		s.pages[next] = &page{ids: pg.ids, offset: end, expires: s.now.Add(24 * time.Hour)}
		resp["pagination"] = map[string]any{"nextToken": next}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) handleGetOrder(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[r.PathValue("id")]
	if !ok {
		apiErr(w, http.StatusNotFound, "NotFound", "Order not found.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"order": orderJSON(o)})
}

func (s *Server) handleCreateReport(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ReportType     string            `json:"reportType"`
		MarketplaceIDs []string          `json:"marketplaceIds"`
		DataStartTime  string            `json:"dataStartTime"`
		DataEndTime    string            `json:"dataEndTime"`
		ReportOptions  map[string]string `json:"reportOptions"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		apiErr(w, http.StatusBadRequest, "InvalidInput", "The body is not JSON.")
		return
	}
	start, ok1 := parseTime(body.DataStartTime)
	end, ok2 := parseTime(body.DataEndTime)
	if body.ReportType == "GET_VENDOR_SALES_REPORT" {
		if !ok1 || !ok2 || end.Before(start) || len(body.MarketplaceIDs) != 1 {
			apiErr(w, http.StatusBadRequest, "InvalidInput", "One marketplaceId, dataStartTime and dataEndTime are required.")
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		rep := &report{id: s.newID("report"), start: start, end: end, markets: body.MarketplaceIDs, status: "IN_QUEUE", vendor: true,
			period: body.ReportOptions["reportPeriod"], view: body.ReportOptions["distributorView"], program: body.ReportOptions["sellingProgram"]}
		s.reports[rep.id] = rep
		writeJSON(w, http.StatusAccepted, map[string]any{"reportId": rep.id})
		return
	}
	switch {
	case body.ReportType != "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL":
		apiErr(w, http.StatusBadRequest, "InvalidInput", "This fake builds GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL only.")
		return
	case len(body.MarketplaceIDs) == 0 || !ok1 || !ok2 || end.Before(start):
		apiErr(w, http.StatusBadRequest, "InvalidInput", "marketplaceIds, dataStartTime and dataEndTime are required.")
		return
	case end.Sub(start) > 30*24*time.Hour:
		apiErr(w, http.StatusBadRequest, "InvalidInput", "The report covers at most 30 days.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rep := &report{id: s.newID("report"), start: start, end: end, markets: body.MarketplaceIDs, status: "IN_QUEUE"}
	s.reports[rep.id] = rep
	writeJSON(w, http.StatusAccepted, map[string]any{"reportId": rep.id})
}

func (s *Server) handleGetReport(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rep, ok := s.reports[r.PathValue("id")]
	if !ok {
		apiErr(w, http.StatusNotFound, "NotFound", "Report not found.")
		return
	}
	if rep.status != "DONE" && rep.status != "CANCELLED" {
		rep.polls++
		rep.status = "IN_PROGRESS"
		if rep.polls > s.opts.ReportPolls {
			// The report is built from the orders as they are when it
			// completes.
			rows, content := s.document(rep)
			if rep.vendor {
				rows, content = s.vendorDocument(rep)
			}
			if rows == 0 {
				rep.status = "CANCELLED"
			} else {
				rep.status, rep.content, rep.doc = "DONE", content, s.newID("amzn1.tortuga.doc.")
				s.docs[rep.doc] = rep
			}
		}
	}
	resp := map[string]any{"reportId": rep.id, "reportType": "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL",
		"dataStartTime": rep.start.Format(time.RFC3339), "dataEndTime": rep.end.Format(time.RFC3339),
		"marketplaceIds": rep.markets, "processingStatus": rep.status, "createdTime": s.now.Format(time.RFC3339)}
	if rep.doc != "" {
		resp["reportDocumentId"] = rep.doc
	}
	writeJSON(w, http.StatusOK, resp)
}

// reportColumns are the columns of the All Orders flat file.
var reportColumns = []string{
	"amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status", "fulfillment-channel",
	"sales-channel", "order-channel", "url", "ship-service-level", "product-name", "sku", "asin", "item-status", "quantity",
	"currency", "item-price", "item-tax", "shipping-price", "shipping-tax", "gift-wrap-price", "gift-wrap-tax",
	"item-promotion-discount", "ship-promotion-discount", "ship-city", "ship-state", "ship-postal-code", "ship-country",
	"promotion-ids", "is-business-order", "purchase-order-number", "price-designation",
}

var reportStatus = map[string]string{"PENDING": "Pending", "PENDING_AVAILABILITY": "Pending", "UNSHIPPED": "Unshipped",
	"PARTIALLY_SHIPPED": "Shipped", "SHIPPED": "Shipped", "CANCELLED": "Cancelled", "UNFULFILLABLE": "Unfulfillable"}

// document builds a report's gzip file: one row per item of every order
// last updated in its window, as Amazon writes them (amounts empty for
// pending and cancelled orders, cancelled quantities 0).
func (s *Server) document(rep *report) (int, []byte) {
	var hits []*Order
	for _, o := range s.orders {
		if !o.Updated.Before(rep.start) && o.Updated.Before(rep.end) && slices.Contains(rep.markets, o.Marketplace) {
			hits = append(hits, o)
		}
	}
	slices.SortFunc(hits, func(a, b *Order) int { return strings.Compare(a.ID, b.ID) })
	var buf bytes.Buffer
	buf.WriteString(strings.Join(reportColumns, "\t") + "\n")
	rows := 0
	for _, o := range hits {
		m := markets[o.Marketplace]
		cur := m.currency
		fc := "Amazon"
		if o.FulfilledBy == "MERCHANT" {
			fc = "Merchant"
		}
		status := reportStatus[o.Status]
		for _, it := range o.Items {
			qty := strconv.FormatInt(it.Qty, 10)
			amounts := []string{decimal(it.Price*it.Qty, cur), decimal(it.Tax, cur), decimal(it.Shipping, cur), "", "", "",
				decimal(-it.Discount, cur), decimal(-it.ShipDiscount, cur)}
			currency := cur
			switch status {
			case "Cancelled":
				qty = "0"
				amounts, currency = make([]string, 8), ""
			case "Pending":
				amounts, currency = make([]string, 8), ""
			}
			row := []string{o.ID, "", o.Created.Format(time.RFC3339), o.Updated.Format(time.RFC3339), status, fc, m.name, "", "",
				"Standard", it.Title, it.SKU, it.ASIN, status, qty, currency}
			row = append(row, amounts...)
			row = append(row, "", o.State, "", o.Country, "", "false", "", "")
			buf.WriteString(strings.Join(row, "\t") + "\n")
			rows++
		}
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, _ = zw.Write(buf.Bytes())
	_ = zw.Close()
	return rows, z.Bytes()
}

func (s *Server) handleGetDocument(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rep, ok := s.docs[r.PathValue("id")]
	if !ok {
		apiErr(w, http.StatusNotFound, "NotFound", "Report document not found.")
		return
	}
	key := s.newID("obj")
	s.urls[key+"|"+rep.doc] = s.now.Add(s.opts.URLTTL)
	if s.expire > 0 {
		s.expire--
		s.urls[key+"|"+rep.doc] = s.now.Add(-time.Second)
	}
	writeJSON(w, http.StatusOK, map[string]any{"reportDocumentId": rep.doc, "compressionAlgorithm": "GZIP",
		"url": s.URL + "/bucket/" + url.PathEscape(key) + "?doc=" + url.QueryEscape(rep.doc) + "&X-Amz-Expires=300"})
}

// handleDownload serves a document from its pre-signed URL, refusing it
// as S3 does once it has expired.
func (s *Server) handleDownload(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	doc := r.URL.Query().Get("doc")
	exp, ok := s.urls[r.PathValue("key")+"|"+doc]
	rep := s.docs[doc]
	now := s.now
	s.mu.Unlock()
	if !ok || rep == nil || !now.Before(exp) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>`)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = w.Write(rep.content)
}

func (s *Server) handleTransactions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	var hits []Refund
	if q.Get("relatedIdentifierName") == "ORDER_ID" {
		for _, rf := range s.refunds {
			if rf.OrderID == q.Get("relatedIdentifierValue") && !rf.Visible.After(s.now) {
				hits = append(hits, rf)
			}
		}
	} else {
		after, ok := parseTime(q.Get("postedAfter"))
		if !ok || !after.Before(s.now.Add(-2*time.Minute)) {
			apiErr(w, http.StatusBadRequest, "InvalidInput", "postedAfter is required, more than two minutes before now.")
			return
		}
		before := s.now.Add(-2 * time.Minute)
		if v := q.Get("postedBefore"); v != "" {
			b, ok := parseTime(v)
			if !ok || !b.After(after) || b.After(s.now.Add(-2*time.Minute)) {
				apiErr(w, http.StatusBadRequest, "InvalidInput", "postedBefore must be after postedAfter and more than two minutes before now.")
				return
			}
			before = b
		}
		if before.Sub(after) <= 180*24*time.Hour {
			for _, rf := range s.refunds {
				if !rf.Posted.Before(after) && rf.Posted.Before(before) && !rf.Visible.After(s.now) {
					hits = append(hits, rf)
				}
			}
		}
	}
	slices.SortFunc(hits, func(a, b Refund) int { return a.Posted.Compare(b.Posted) })
	offset := 0
	if v := q.Get("nextToken"); v != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(v, "tx-"))
		if err != nil || n < 0 || n > len(hits) {
			apiErr(w, http.StatusBadRequest, "InvalidInput", "The nextToken is invalid.")
			return
		}
		offset = n
	}
	end := min(offset+s.opts.TransactionsPage, len(hits))
	var txs []any
	for _, rf := range hits[offset:end] {
		o := s.orders[rf.OrderID]
		cur := "USD"
		if o != nil {
			cur = markets[o.Marketplace].currency
		}
		amt := func(v int64) map[string]any {
			f, _ := strconv.ParseFloat(decimal(v, cur), 64)
			return map[string]any{"currencyCode": cur, "currencyAmount": f}
		}
		var items []any
		var total int64
		for _, it := range rf.Items {
			bd := []any{map[string]any{"breakdownType": "ProductCharges", "breakdownAmount": amt(-it.Principal - it.Tax), "breakdowns": []any{
				map[string]any{"breakdownType": "Principal", "breakdownAmount": amt(-it.Principal)},
				map[string]any{"breakdownType": "Tax", "breakdownAmount": amt(-it.Tax)},
			}}}
			if it.Promo != 0 {
				bd = append(bd, map[string]any{"breakdownType": "Promotion", "breakdownAmount": amt(it.Promo), "breakdowns": []any{
					map[string]any{"breakdownType": "PromotionPrincipal", "breakdownAmount": amt(it.Promo)}}})
			}
			t := -it.Principal - it.Tax + it.Promo
			total += t
			items = append(items, map[string]any{"description": it.Title(), "totalAmount": amt(t), "breakdowns": bd,
				"contexts": []any{map[string]any{"contextType": "ProductContext", "asin": it.ASIN, "sku": it.SKU, "quantityShipped": it.Qty, "fulfillmentNetwork": "AFN"}}})
		}
		txs = append(txs, map[string]any{"transactionType": "Refund", "transactionId": s.newID("tx"), "transactionStatus": "RELEASED",
			"description": "Refund Order", "postedDate": rf.Posted.Format(time.RFC3339), "totalAmount": amt(total),
			"relatedIdentifiers": []any{map[string]any{"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": rf.OrderID}},
			"items":              items})
	}
	payload := map[string]any{"transactions": txs}
	if end < len(hits) {
		payload["nextToken"] = "tx-" + strconv.Itoa(end)
	}
	writeJSON(w, http.StatusOK, map[string]any{"payload": payload})
}

// Title is how a refund item is described.
func (it RefundItem) Title() string { return "Refund " + it.SKU }
