// Package shopifytest is a fake Shopify for tests: an httptest server that
// speaks the documented wire formats of the GraphQL Admin API
// (/admin/api/{version}/graphql.json with X-Shopify-Access-Token), the
// OAuth endpoints (/admin/oauth/authorize, /admin/oauth/access_token) and
// signed webhooks, over an in-memory shop that tests fill and change.
//
// It answers the queries the shopify package sends by recognising the root
// field (shop, products, orders, order, node, webhookSubscriptionCreate)
// and the first/after/query arguments, including those of nested
// connections, and returns full objects (a real server would trim them to
// the selection; clients ignore extra fields). Every response carries
// extensions.cost with a leaky-bucket throttle that answers THROTTLED when
// the bucket cannot pay a query's requested cost. Faults can be injected:
// HTTP errors with Retry-After, malformed bodies, revoked tokens, and API
// version fall-forward.
//
// When Shopify's official Admin schema is on the machine (schema.go), every
// document and its variables are validated against it first, and refused
// as the real API refuses them. The token endpoint (oauth.go) grants
// expiring offline tokens with single-use refresh tokens and
// client-credentials tokens; compliance.go builds the compliance webhooks.
package shopifytest

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options configure a Server. Zero values take the defaults in parentheses.
type Options struct {
	Shop         string // ("phantom-merch.myshopify.com")
	Name         string // shop name ("Phantom Merch")
	Currency     string // shop currency ("USD")
	ClientID     string // public app ("test-client-id")
	ClientSecret string // ("test-client-secret")
	// Versions are the supported API versions, oldest first; a request for
	// another version is served with the oldest (fall-forward)
	// ("2026-01", "2026-04", "2026-07", "2026-10").
	Versions []string
	// BucketMax and RestoreRate shape the cost throttle (2000, 100/s).
	BucketMax   float64
	RestoreRate float64
}

// Server is a fake Shopify store. Its methods are safe for concurrent use.
type Server struct {
	*httptest.Server
	opts Options

	mu        sync.Mutex
	now       time.Time
	nextID    int64
	orderNo   int
	products  map[int64]*Product
	orders    map[int64]*Order
	tokens    map[string]string // token → granted scopes
	codes     map[string]string // authorization code → scopes
	avail     float64
	last      time.Time
	faults    []Fault
	subs      []Subscription
	requests  map[string]int
	throttled int
	versions  []string
	schema    *Schema // nil when the schema file is absent
	refused   int
	auth      authState // expiring tokens, refresh tokens, grants (oauth.go)

	spent         float64  // actual query cost paid, in points
	orderIndex    []*Order // the orders by (updated, id); nil after a change
	bulkOps       []*BulkOp
	bulkFaults    []BulkFault
	bulkDownloads int
}

// Product is a product of the fake shop. Prices are decimal strings in the
// shop currency, as Shopify writes them.
type Product struct {
	ID          int64
	Title       string
	Description string
	Handle      string
	ProductType string
	Vendor      string
	Status      string // ACTIVE, DRAFT, ARCHIVED
	Tags        []string
	ImageURL    string
	Variants    []Variant
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Variant is a product variant.
type Variant struct {
	ID    int64
	SKU   string
	Title string
	Price string
}

// Order is an order of the fake shop. Amounts are decimal strings in the
// shop currency; presentment amounts default to the same.
type Order struct {
	ID                  int64
	Name                string
	CreatedAt           time.Time
	ProcessedAt         time.Time
	UpdatedAt           time.Time
	CancelledAt         *time.Time
	Test                bool
	PresentmentCurrency string
	Country             string
	Province            string
	// NoAddress serves the order without addresses, as Shopify does to
	// an app without access to protected customer data.
	NoAddress bool
	// TaxesIncluded says the line prices include their tax.
	TaxesIncluded bool
	Shipping      string // total shipping charged
	Lines         []LineItem
	Refunds       []Refund
}

// LineItem is an order line.
type LineItem struct {
	ID                   int64
	ProductID            int64 // 0 for a custom item
	VariantID            int64
	SKU                  string
	Name                 string
	Quantity             int
	Removed              int      // units removed by an order edit
	Tax                  string   // tax charged on the line (all units)
	Price                string   // original unit price
	Discounts            []string // allocated discount amounts
	PresentmentPrice     string
	PresentmentDiscounts []string
}

// Refund is a refund of some order lines.
type Refund struct {
	ID          int64
	CreatedAt   time.Time
	Lines       []RefundLine
	Shipping    string   // shipping refunded
	Adjustments []string // order adjustments (negative: money returned)
}

// RefundLine refunds Quantity units of a line for Subtotal.
type RefundLine struct {
	ID                  int64
	LineItemID          int64
	Quantity            int
	Subtotal            string
	Tax                 string // tax refunded with the line
	PresentmentSubtotal string
}

// Subscription is a webhook subscription created through the API.
type Subscription struct {
	ID    int64
	Topic string // e.g. ORDERS_CREATE
	URI   string
}

// Fault is a failure injected into the next GraphQL request (of Op, when
// set: "orders", "products", "shop", "order", "node").
type Fault struct {
	Op         string
	Status     int    // respond with this HTTP status (429, 500, 503, …)
	RetryAfter string // Retry-After header value, e.g. "0.05"
	Malformed  bool   // respond 200 with a truncated JSON body
	Revoke     bool   // revoke every token first (the request gets 401)
	// GraphQLCode answers 200 with a GraphQL error of this code
	// (ACCESS_DENIED, INTERNAL_SERVER_ERROR, …).
	GraphQLCode string
	Count       int // repeat this many times (default 1)
}

// New starts a fake shop; it is closed when the test ends.
func New(t interface{ Cleanup(func()) }, opts Options) *Server {
	if opts.Shop == "" {
		opts.Shop = "phantom-merch.myshopify.com"
	}
	if opts.Name == "" {
		opts.Name = "Phantom Merch"
	}
	if opts.Currency == "" {
		opts.Currency = "USD"
	}
	if opts.ClientID == "" {
		opts.ClientID = "test-client-id"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "test-client-secret"
	}
	if len(opts.Versions) == 0 {
		opts.Versions = []string{"2026-01", "2026-04", "2026-07", "2026-10"}
	}
	if opts.BucketMax == 0 {
		opts.BucketMax = 2000
	}
	if opts.RestoreRate == 0 {
		opts.RestoreRate = 100
	}
	s := &Server{opts: opts, now: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC), nextID: 1000, orderNo: 1000,
		products: map[int64]*Product{}, orders: map[int64]*Order{}, tokens: map[string]string{}, codes: map[string]string{},
		avail: opts.BucketMax, last: time.Now(), requests: map[string]int{}, versions: slices.Clone(opts.Versions)}
	s.schema, _ = AdminSchema() // absent on a fresh clone: documents go unchecked
	s.auth = newAuthState()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /admin/api/{version}/graphql.json", s.handleGraphQL)
	mux.HandleFunc("GET /admin/oauth/authorize", s.handleAuthorize)
	mux.HandleFunc("POST /admin/oauth/access_token", s.handleAccessToken)
	mux.HandleFunc("GET /bulk/{file}", s.handleBulkDownload)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

// Shop returns the shop's myshopify.com domain.
func (s *Server) Shop() string { return s.opts.Shop }

// Currency returns the shop currency.
func (s *Server) Currency() string { return s.opts.Currency }

// ClientID is the public app's client id.
func (s *Server) ClientID() string { return s.opts.ClientID }

// ClientSecret is the public app's client secret, which signs OAuth
// redirects and webhooks.
func (s *Server) ClientSecret() string { return s.opts.ClientSecret }

// Now returns the shop's clock, which stamps created and updated times.
// It starts at 2026-01-05 10:00 UTC and ticks one second per change.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// Advance moves the shop's clock forward.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = s.now.Add(d)
}

func (s *Server) tick() time.Time {
	s.now = s.now.Add(time.Second)
	return s.now
}

func (s *Server) id() int64 {
	s.nextID++
	return s.nextID
}

// AddProduct adds a product (ids assigned when zero) and returns it.
func (s *Server) AddProduct(p Product) Product {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.ID == 0 {
		p.ID = s.id()
	}
	for i := range p.Variants {
		if p.Variants[i].ID == 0 {
			p.Variants[i].ID = s.id()
		}
	}
	if p.Status == "" {
		p.Status = "ACTIVE"
	}
	if p.Handle == "" {
		p.Handle = strings.ToLower(strings.ReplaceAll(p.Title, " ", "-"))
	}
	now := s.tick()
	if p.CreatedAt.IsZero() {
		p.CreatedAt = now
	}
	p.UpdatedAt = now
	cp := cloneProduct(&p)
	s.products[p.ID] = &cp
	return p
}

// UpdateProduct changes a product and stamps it updated.
func (s *Server) UpdateProduct(id int64, fn func(*Product)) Product {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.products[id]
	fn(p)
	p.UpdatedAt = s.tick()
	return cloneProduct(p)
}

// AddOrder adds an order (ids, name and times assigned when zero) and returns it.
func (s *Server) AddOrder(o Order) Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.ID == 0 {
		o.ID = s.id()
	}
	if o.Name == "" {
		s.orderNo++
		o.Name = "#" + strconv.Itoa(s.orderNo)
	}
	for i := range o.Lines {
		if o.Lines[i].ID == 0 {
			o.Lines[i].ID = s.id()
		}
	}
	for i := range o.Refunds {
		s.fillRefund(&o.Refunds[i])
	}
	now := s.tick()
	if o.CreatedAt.IsZero() {
		o.CreatedAt = now
	}
	if o.ProcessedAt.IsZero() {
		o.ProcessedAt = o.CreatedAt
	}
	o.UpdatedAt = now
	cp := cloneOrder(&o)
	s.orders[o.ID] = &cp
	s.orderIndex = nil
	return o
}

func (s *Server) fillRefund(r *Refund) {
	if r.ID == 0 {
		r.ID = s.id()
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.now
	}
	for i := range r.Lines {
		if r.Lines[i].ID == 0 {
			r.Lines[i].ID = s.id()
		}
	}
}

// UpdateOrder changes an order and stamps it updated.
func (s *Server) UpdateOrder(id int64, fn func(*Order)) Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	fn(o)
	o.UpdatedAt = s.tick()
	s.orderIndex = nil
	return cloneOrder(o)
}

// AddRefund refunds lines of an order, which updates it.
func (s *Server) AddRefund(orderID int64, r Refund) Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[orderID]
	o.UpdatedAt = s.tick()
	s.orderIndex = nil
	s.fillRefund(&r)
	o.Refunds = append(o.Refunds, r)
	return cloneOrder(o)
}

// Orders returns every order, by id.
func (s *Server) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Order
	for _, o := range s.orders {
		out = append(out, cloneOrder(o))
	}
	slices.SortFunc(out, func(a, b Order) int { return int(a.ID - b.ID) })
	return out
}

// Products returns every product, by id.
func (s *Server) Products() []Product {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Product
	for _, p := range s.products {
		out = append(out, cloneProduct(p))
	}
	slices.SortFunc(out, func(a, b Product) int { return int(a.ID - b.ID) })
	return out
}

func cloneOrder(o *Order) Order {
	c := *o
	c.Lines = slices.Clone(o.Lines)
	for i := range c.Lines {
		c.Lines[i].Discounts = slices.Clone(c.Lines[i].Discounts)
		c.Lines[i].PresentmentDiscounts = slices.Clone(c.Lines[i].PresentmentDiscounts)
	}
	c.Refunds = slices.Clone(o.Refunds)
	for i := range c.Refunds {
		c.Refunds[i].Lines = slices.Clone(c.Refunds[i].Lines)
	}
	return c
}

func cloneProduct(p *Product) Product {
	c := *p
	c.Tags = slices.Clone(p.Tags)
	c.Variants = slices.Clone(p.Variants)
	return c
}

// IssueToken creates an access token with scopes (default
// "read_products,read_orders"), as installing a custom app in the admin does.
func (s *Server) IssueToken(scopes string) string {
	if scopes == "" {
		scopes = "read_products,read_orders"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := "shpat_" + randomHex(16)
	s.tokens[tok] = scopes
	return tok
}

// RevokeTokens invalidates every access token, as uninstalling the app does.
func (s *Server) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// Inject queues faults for the next GraphQL requests.
func (s *Server) Inject(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range faults {
		for range max(f.Count, 1) {
			f.Count = 1
			s.faults = append(s.faults, f)
		}
	}
}

// SetVersions replaces the supported API versions (oldest first), e.g. to
// retire the version a client pins.
func (s *Server) SetVersions(v ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.versions = slices.Clone(v)
}

// SetBucket reshapes the cost throttle and sets how full it is now.
func (s *Server) SetBucket(maxAvailable, restoreRate, available float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.BucketMax, s.opts.RestoreRate, s.avail, s.last = maxAvailable, restoreRate, available, time.Now()
}

// Requests returns how many GraphQL requests of op were answered (any op
// when op is "").
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op == "" {
		n := 0
		for _, v := range s.requests {
			n += v
		}
		return n
	}
	return s.requests[op]
}

// Throttled returns how many requests were answered THROTTLED.
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled
}

// Subscriptions returns the webhook subscriptions created.
func (s *Server) Subscriptions() []Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.subs)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// --- GraphQL ---

var (
	rootField   = regexp.MustCompile(`(?s)^\s*(?:(?:query|mutation)\b[^{]*)?\{\s*(\w+)`)
	nestedFirst = func(field string) *regexp.Regexp {
		return regexp.MustCompile(`\b` + field + `\(first:\s*(\d+)`)
	}
	lineItemsArg   = nestedFirst("lineItems")
	refundsArg     = nestedFirst("refunds")
	refundLinesArg = nestedFirst("refundLineItems")
	variantsArg    = nestedFirst("variants")
	addressField   = regexp.MustCompile(`\bshippingAddress\b`)
	updatedFilter  = regexp.MustCompile(`updated_at:(>=|<=|>|<)'?([0-9T:\-+.Z]+)'?`)
)

// Cost weights: an object 1, a connection 2 + first × node.
const (
	lineCost       = 10
	refundLineCost = 5
	maxQueryCost   = 1000
)

func firstArg(re *regexp.Regexp, q string) int {
	m := re.FindStringSubmatch(q)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

type gqlRequest struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
}

// shape is what a query asks of nested connections.
type shape struct {
	lines, refunds, refundLines, variants int
	addresses                             bool
	linesAfter, refundLinesAfter          string
}

func (s *Server) handleGraphQL(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	served := r.PathValue("version")
	if !slices.Contains(s.versions, served) {
		served = s.versions[0]
	}
	w.Header().Set("X-Shopify-API-Version", served)
	w.Header().Set("X-Request-Id", randomHex(8))

	body, _ := io.ReadAll(r.Body)
	var req gqlRequest
	if err := json.Unmarshal(body, &req); err != nil || req.Query == "" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []map[string]any{{"message": "Parse error on request body"}}})
		return
	}
	m := rootField.FindStringSubmatch(req.Query)
	op := ""
	if m != nil {
		op = m[1]
	}
	if f, ok := s.takeFault(op); ok {
		if f.Revoke {
			clear(s.tokens)
		} else {
			s.requests[op]++
			switch {
			case f.Status != 0:
				if f.RetryAfter != "" {
					w.Header().Set("Retry-After", f.RetryAfter)
				}
				writeJSON(w, f.Status, map[string]any{"errors": http.StatusText(f.Status)})
			case f.Malformed:
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, `{"data":{"`+op+`":{"pageInfo":{"hasNextPage":tr`)
			case f.GraphQLCode != "":
				writeJSON(w, http.StatusOK, map[string]any{"data": nil, "errors": []map[string]any{{"message": "Injected " + f.GraphQLCode,
					"extensions": map[string]any{"code": f.GraphQLCode}, "path": []string{op}}}})
			}
			return
		}
	}
	if !s.tokenValid(r.Header.Get("X-Shopify-Access-Token")) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"})
		return
	}
	if s.refuseInvalid(w, req.Query, req.OperationName, req.Variables) {
		return
	}
	s.requests[op]++
	vars := req.Variables
	sh := shape{lines: firstArg(lineItemsArg, req.Query), refunds: firstArg(refundsArg, req.Query),
		refundLines: firstArg(refundLinesArg, req.Query), variants: firstArg(variantsArg, req.Query),
		addresses: addressField.MatchString(req.Query)}
	first := intVar(vars, "first")
	requested := s.requestedCost(op, first, sh)

	// Refill the bucket, then make the query pay its requested cost.
	now := time.Now()
	s.avail = min(s.opts.BucketMax, s.avail+now.Sub(s.last).Seconds()*s.opts.RestoreRate)
	s.last = now
	if requested > maxQueryCost {
		writeJSON(w, http.StatusOK, map[string]any{
			"errors":     []map[string]any{{"message": fmt.Sprintf("Query cost is %d, which exceeds the single query max cost limit (%d).", int(requested), maxQueryCost), "extensions": map[string]any{"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": maxQueryCost}}},
			"extensions": s.costExtension(requested, nil),
		})
		return
	}
	if requested > s.avail {
		s.throttled++
		writeJSON(w, http.StatusOK, map[string]any{
			"errors":     []map[string]any{{"message": "Throttled", "extensions": map[string]any{"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}},
			"extensions": s.costExtension(requested, nil),
		})
		return
	}

	var data map[string]any
	var actual float64
	var gqlErr string
	switch op {
	case "shop":
		data, actual = s.shopData(r.Header.Get("X-Shopify-Access-Token")), 3
	case "products":
		data, actual, gqlErr = s.productsData(first, stringVar(vars, "after"), stringVar(vars, "query"), sh)
	case "orders":
		data, actual, gqlErr = s.ordersData(first, stringVar(vars, "after"), stringVar(vars, "query"), sh)
	case "order":
		sh.linesAfter = stringVar(vars, "after")
		data, actual = s.orderData(stringVar(vars, "id"), sh)
	case "node":
		sh.refundLinesAfter = stringVar(vars, "after")
		data, actual = s.nodeData(stringVar(vars, "id"), sh)
	case "webhookSubscriptionCreate":
		data, actual = s.subscribe(vars), 10
	default:
		var ok bool
		if data, actual, gqlErr, ok = s.moreGraphQL(op, vars); !ok {
			gqlErr = fmt.Sprintf("Field '%s' doesn't exist on type 'QueryRoot'", op)
		}
	}
	if gqlErr != "" {
		writeJSON(w, http.StatusOK, map[string]any{"errors": []map[string]any{{"message": gqlErr}}, "extensions": s.costExtension(requested, nil)})
		return
	}
	s.avail -= actual
	s.spent += actual
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "extensions": s.costExtension(requested, &actual)})
}

func (s *Server) takeFault(op string) (Fault, bool) {
	for i, f := range s.faults {
		if f.Op == "" || f.Op == op {
			s.faults = slices.Delete(s.faults, i, i+1)
			return f, true
		}
	}
	return Fault{}, false
}

func (s *Server) requestedCost(op string, first int, sh shape) float64 {
	switch op {
	case "orders":
		return 2 + float64(first)*s.orderCost(sh, sh.lines, sh.refunds, sh.refundLines)
	case "products":
		return 2 + float64(first)*float64(8+sh.variants)
	case "order":
		return 1 + lineConnCost(sh.lines) + float64(sh.refunds)*refundCost(sh.refundLines)
	case "node":
		return 1 + 2 + float64(sh.refundLines)*refundLineCost
	case "webhookSubscriptionCreate":
		return 10
	}
	return 1
}

func lineConnCost(n int) float64 {
	if n == 0 {
		return 0
	}
	return 2 + float64(n)*lineCost
}

func refundCost(lines int) float64 { return 1 + 2 + float64(lines)*refundLineCost }

func (s *Server) orderCost(sh shape, lines, refunds, refundLines int) float64 {
	c := 1 + lineConnCost(lines)
	if sh.refunds > 0 {
		c += float64(refunds) * refundCost(refundLines)
	}
	if sh.addresses {
		c += 2
	}
	return c
}

func (s *Server) costExtension(requested float64, actual *float64) map[string]any {
	cost := map[string]any{
		"requestedQueryCost": requested,
		"actualQueryCost":    nil,
		"throttleStatus": map[string]any{
			"maximumAvailable":   s.opts.BucketMax,
			"currentlyAvailable": int(s.avail),
			"restoreRate":        s.opts.RestoreRate,
		},
	}
	if actual != nil {
		cost["actualQueryCost"] = *actual
	}
	return map[string]any{"cost": cost}
}

func intVar(vars map[string]any, name string) int {
	if v, ok := vars[name].(float64); ok {
		return int(v)
	}
	return 0
}

func stringVar(vars map[string]any, name string) string {
	v, _ := vars[name].(string)
	return v
}

func gid(kind string, id int64) string { return fmt.Sprintf("gid://shopify/%s/%d", kind, id) }

func parseGID(g string) int64 {
	i := strings.LastIndexByte(g, '/')
	n, _ := strconv.ParseInt(g[i+1:], 10, 64)
	return n
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (s *Server) shopData(token string) map[string]any {
	var scopes []map[string]any
	for _, sc := range strings.Split(s.tokens[token], ",") {
		scopes = append(scopes, map[string]any{"handle": sc})
	}
	return map[string]any{
		"shop":                   map[string]any{"name": s.opts.Name, "myshopifyDomain": s.opts.Shop, "currencyCode": s.opts.Currency},
		"currentAppInstallation": map[string]any{"accessScopes": scopes},
	}
}

// topCursor is the opaque cursor of a top-level connection sorted by
// updated time: the sort key and id of the last item.
type topCursor struct {
	U time.Time `json:"u"`
	I int64     `json:"i"`
}

func encodeCursor(c topCursor) string {
	b, _ := json.Marshal(c)
	return base64.StdEncoding.EncodeToString(b)
}

func decodeCursor(s string) (topCursor, bool) {
	var c topCursor
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, false
	}
	return c, true
}

type sortable interface {
	key() (time.Time, int64)
}

func (p *Product) key() (time.Time, int64) { return p.UpdatedAt, p.ID }
func (o *Order) key() (time.Time, int64)   { return o.UpdatedAt, o.ID }

// pageOf applies the filter and cursor to items, sorted by (updated, id),
// and returns up to first of them, with the page info.
func pageOf[T sortable](items []T, first int, after, query string) ([]T, map[string]any, string) {
	if first < 1 || first > 250 {
		return nil, nil, "The first argument must be between 1 and 250."
	}
	// The cursor first (a binary search), then the filter until one item
	// past the page: a page costs the same in a shop of any size.
	start := 0
	if after != "" {
		c, ok := decodeCursor(after)
		if !ok {
			return nil, nil, fmt.Sprintf("Invalid cursor for current pagination: %s", after)
		}
		start = sort.Search(len(items), func(i int) bool {
			t, id := items[i].key()
			return t.After(c.U) || t.Equal(c.U) && id > c.I
		})
	}
	keep := timeFilter(updatedFilter, query)
	var match []T
	for _, it := range items[start:] {
		if t, _ := it.key(); keep(t) {
			match = append(match, it)
			if len(match) > first {
				break
			}
		}
	}
	page := match[:min(first, len(match))]
	info := map[string]any{"hasNextPage": len(match) > first, "endCursor": nil}
	if len(page) > 0 {
		t, id := page[len(page)-1].key()
		info["endCursor"] = encodeCursor(topCursor{t, id})
	}
	return page, info, ""
}

func (s *Server) productsData(first int, after, query string, sh shape) (map[string]any, float64, string) {
	var all []*Product
	for _, p := range s.products {
		all = append(all, p)
	}
	slices.SortFunc(all, func(x, y *Product) int {
		if c := x.UpdatedAt.Compare(y.UpdatedAt); c != 0 {
			return c
		}
		return cmp.Compare(x.ID, y.ID)
	})
	page, info, errMsg := pageOf(all, first, after, query)
	if errMsg != "" {
		return nil, 0, errMsg
	}
	var nodes []map[string]any
	actual := 2.0
	for _, p := range page {
		nodes = append(nodes, s.productJSON(p, sh))
		actual += float64(8 + min(len(p.Variants), sh.variants))
	}
	return map[string]any{"products": map[string]any{"pageInfo": info, "nodes": nonNil(nodes)}}, actual, ""
}

func nonNil(l []map[string]any) []map[string]any {
	if l == nil {
		return []map[string]any{}
	}
	return l
}

func (s *Server) productJSON(p *Product, sh shape) map[string]any {
	minPrice := ""
	var variants []map[string]any
	for i, v := range p.Variants {
		if minPrice == "" || decimalLess(v.Price, minPrice) {
			minPrice = v.Price
		}
		if i < sh.variants {
			variants = append(variants, map[string]any{"id": gid("ProductVariant", v.ID), "sku": v.SKU, "title": v.Title, "price": v.Price})
		}
	}
	if minPrice == "" {
		minPrice = "0.0"
	}
	var media any
	if p.ImageURL != "" {
		media = map[string]any{"preview": map[string]any{"image": map[string]any{"url": p.ImageURL}}}
	}
	return map[string]any{
		"id": gid("Product", p.ID), "title": p.Title, "handle": p.Handle, "description": p.Description,
		"productType": p.ProductType, "vendor": p.Vendor, "status": p.Status, "tags": nonNilStrings(p.Tags),
		"updatedAt": rfc(p.UpdatedAt), "createdAt": rfc(p.CreatedAt), "featuredMedia": media,
		"priceRangeV2": map[string]any{"minVariantPrice": map[string]any{"amount": minPrice, "currencyCode": s.opts.Currency}},
		"variants":     map[string]any{"nodes": nonNil(variants)},
	}
}

func nonNilStrings(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func decimalLess(a, b string) bool {
	fa, _ := strconv.ParseFloat(a, 64)
	fb, _ := strconv.ParseFloat(b, 64)
	return fa < fb
}

func (s *Server) ordersData(first int, after, query string, sh shape) (map[string]any, float64, string) {
	all := s.sortedOrders()
	if processedFilter.MatchString(query) {
		keep := timeFilter(processedFilter, query)
		var in []*Order
		for _, o := range all {
			if keep(o.ProcessedAt) {
				in = append(in, o)
			}
		}
		all = in
	}
	page, info, errMsg := pageOf(all, first, after, query)
	if errMsg != "" {
		return nil, 0, errMsg
	}
	var nodes []map[string]any
	actual := 2.0
	for _, o := range page {
		j, cost := s.orderJSON(o, sh)
		nodes = append(nodes, j)
		actual += cost
	}
	return map[string]any{"orders": map[string]any{"pageInfo": info, "nodes": nonNil(nodes)}}, actual, ""
}

func (s *Server) orderData(id string, sh shape) (map[string]any, float64) {
	o, ok := s.orders[parseGID(id)]
	if !ok {
		return map[string]any{"order": nil}, 1
	}
	j, cost := s.orderJSON(o, sh)
	return map[string]any{"order": j}, cost
}

func (s *Server) nodeData(id string, sh shape) (map[string]any, float64) {
	rid := parseGID(id)
	for _, o := range s.orders {
		for i := range o.Refunds {
			if o.Refunds[i].ID == rid {
				j, n := s.refundJSON(o, &o.Refunds[i], sh.refundLines, sh.refundLinesAfter)
				return map[string]any{"node": j}, 1 + 2 + float64(n)*refundLineCost
			}
		}
	}
	return map[string]any{"node": nil}, 1
}

// indexCursor is the cursor of nested connections: the offset after the item.
func indexCursor(i int) string {
	return base64.StdEncoding.EncodeToString([]byte("i:" + strconv.Itoa(i)))
}

func indexAfter(c string) int {
	b, err := base64.StdEncoding.DecodeString(c)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimPrefix(string(b), "i:"))
	return n
}

func (s *Server) moneyBag(amount, presentment, presentmentCurrency string) map[string]any {
	if presentment == "" {
		presentment = amount
	}
	return map[string]any{
		"shopMoney":        map[string]any{"amount": amount, "currencyCode": s.opts.Currency},
		"presentmentMoney": map[string]any{"amount": presentment, "currencyCode": presentmentCurrency},
	}
}

func (s *Server) presentment(o *Order) string {
	if o.PresentmentCurrency != "" {
		return o.PresentmentCurrency
	}
	return s.opts.Currency
}

// orderJSON renders o with the nested connections sh asks for and returns
// its actual cost.
func (s *Server) orderJSON(o *Order, sh shape) (map[string]any, float64) {
	pc := s.presentment(o)
	j := map[string]any{
		"id": gid("Order", o.ID), "name": o.Name, "createdAt": rfc(o.CreatedAt), "processedAt": rfc(o.ProcessedAt),
		"updatedAt": rfc(o.UpdatedAt), "cancelledAt": nil, "test": o.Test,
		"currencyCode": s.opts.Currency, "presentmentCurrencyCode": pc,
		"taxesIncluded": o.TaxesIncluded, "totalShippingPriceSet": s.moneyBag(zeroAmount(o.Shipping), "", pc),
	}
	if o.CancelledAt != nil {
		j["cancelledAt"] = rfc(*o.CancelledAt)
	}
	if sh.addresses {
		var addr any
		if o.Country != "" && !o.NoAddress {
			addr = map[string]any{"countryCodeV2": o.Country, "provinceCode": o.Province}
		}
		j["shippingAddress"], j["billingAddress"] = addr, addr
	}
	lines, refunds, refundLines := 0, 0, 0
	if sh.lines > 0 {
		off := 0
		if sh.linesAfter != "" {
			off = indexAfter(sh.linesAfter)
		}
		end := min(off+sh.lines, len(o.Lines))
		var nodes []map[string]any
		for i := off; i < end; i++ {
			nodes = append(nodes, s.lineJSON(o, &o.Lines[i], pc))
		}
		lines = end - off
		j["lineItems"] = map[string]any{"pageInfo": map[string]any{"hasNextPage": end < len(o.Lines), "endCursor": indexCursor(end)}, "nodes": nonNil(nodes)}
	}
	if sh.refunds > 0 {
		var rs []map[string]any
		for i := range o.Refunds[:min(sh.refunds, len(o.Refunds))] {
			rj, n := s.refundJSON(o, &o.Refunds[i], sh.refundLines, "")
			rs = append(rs, rj)
			refunds++
			refundLines = max(refundLines, n)
		}
		j["refunds"] = nonNil(rs)
	}
	return j, s.orderCost(sh, lines, refunds, refundLines)
}

// currentQuantity is what Shopify reports as a line's currentQuantity:
// the units neither removed by an edit nor refunded (none once cancelled).
func currentQuantity(o *Order, l *LineItem) int {
	if o.CancelledAt != nil {
		return 0
	}
	n := l.Quantity - l.Removed
	for _, r := range o.Refunds {
		for _, rl := range r.Lines {
			if rl.LineItemID == l.ID {
				n -= rl.Quantity
			}
		}
	}
	return max(n, 0)
}

func zeroAmount(a string) string {
	if a == "" {
		return "0.00"
	}
	return a
}

func (s *Server) lineJSON(o *Order, l *LineItem, pc string) map[string]any {
	var product, variant any
	if l.ProductID != 0 {
		product = map[string]any{"id": gid("Product", l.ProductID)}
	}
	if l.VariantID != 0 {
		variant = map[string]any{"id": gid("ProductVariant", l.VariantID)}
	}
	var allocs []map[string]any
	for i, d := range l.Discounts {
		pd := ""
		if i < len(l.PresentmentDiscounts) {
			pd = l.PresentmentDiscounts[i]
		}
		allocs = append(allocs, map[string]any{"allocatedAmountSet": s.moneyBag(d, pd, pc)})
	}
	var sku any
	if l.SKU != "" {
		sku = l.SKU
	}
	taxLines := []map[string]any{}
	if l.Tax != "" {
		taxLines = append(taxLines, map[string]any{"priceSet": s.moneyBag(l.Tax, "", pc)})
	}
	return map[string]any{
		"id": gid("LineItem", l.ID), "name": l.Name, "sku": sku, "quantity": l.Quantity, "currentQuantity": currentQuantity(o, l),
		"product": product, "variant": variant, "taxLines": taxLines,
		"originalUnitPriceSet": s.moneyBag(l.Price, l.PresentmentPrice, pc),
		"discountAllocations":  nonNil(allocs),
	}
}

func (s *Server) refundJSON(o *Order, r *Refund, first int, after string) (map[string]any, int) {
	off := 0
	if after != "" {
		off = indexAfter(after)
	}
	end := min(off+first, len(r.Lines))
	var nodes []map[string]any
	for i := off; i < end; i++ {
		rl := r.Lines[i]
		nodes = append(nodes, map[string]any{
			"quantity": rl.Quantity, "lineItem": map[string]any{"id": gid("LineItem", rl.LineItemID)},
			"subtotalSet": s.moneyBag(rl.Subtotal, rl.PresentmentSubtotal, s.presentment(o)),
			"totalTaxSet": s.moneyBag(zeroAmount(rl.Tax), "", s.presentment(o)),
		})
	}
	adjustments, shipping := []map[string]any{}, []map[string]any{}
	for _, a := range r.Adjustments {
		adjustments = append(adjustments, map[string]any{"amountSet": s.moneyBag(a, "", s.presentment(o))})
	}
	if r.Shipping != "" {
		shipping = append(shipping, map[string]any{"subtotalAmountSet": s.moneyBag(r.Shipping, "", s.presentment(o))})
	}
	return map[string]any{
		"id": gid("Refund", r.ID), "createdAt": rfc(r.CreatedAt),
		"refundLineItems":     map[string]any{"pageInfo": map[string]any{"hasNextPage": end < len(r.Lines), "endCursor": indexCursor(end)}, "nodes": nonNil(nodes)},
		"orderAdjustments":    map[string]any{"nodes": adjustments},
		"refundShippingLines": map[string]any{"nodes": shipping},
	}, end - off
}

func (s *Server) subscribe(vars map[string]any) map[string]any {
	topic, _ := vars["topic"].(string)
	sub, _ := vars["sub"].(map[string]any)
	if sub == nil {
		sub, _ = vars["webhookSubscription"].(map[string]any)
	}
	uri, _ := sub["uri"].(string)
	if uri == "" {
		uri, _ = sub["callbackUrl"].(string)
	}
	for _, x := range s.subs {
		if x.Topic == topic && x.URI == uri {
			return map[string]any{"webhookSubscriptionCreate": map[string]any{"webhookSubscription": nil,
				"userErrors": []map[string]any{{"field": []string{"webhookSubscription", "callbackUrl"}, "message": "Address for this topic has already been taken"}}}}
		}
	}
	x := Subscription{ID: s.id(), Topic: topic, URI: uri}
	s.subs = append(s.subs, x)
	return map[string]any{"webhookSubscriptionCreate": map[string]any{
		"webhookSubscription": map[string]any{"id": gid("WebhookSubscription", x.ID)}, "userErrors": []map[string]any{}}}
}

// --- OAuth ---

// SignQuery adds the hmac parameter Shopify signs install and callback
// requests with: hex HMAC-SHA256 under the client secret of the sorted
// parameters.
func (s *Server) SignQuery(q url.Values) url.Values {
	q = cloneValues(q)
	q.Del("hmac")
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// Shopify escapes '%' and '&' in names and values, and '=' in names.
	escK := strings.NewReplacer("%", "%25", "&", "%26", "=", "%3D")
	escV := strings.NewReplacer("%", "%25", "&", "%26")
	var parts []string
	for _, k := range keys {
		parts = append(parts, escK.Replace(k)+"="+escV.Replace(q.Get(k)))
	}
	m := hmac.New(sha256.New, []byte(s.opts.ClientSecret))
	m.Write([]byte(strings.Join(parts, "&")))
	q.Set("hmac", hex.EncodeToString(m.Sum(nil)))
	return q
}

func cloneValues(q url.Values) url.Values {
	c := url.Values{}
	for k, v := range q {
		c[k] = slices.Clone(v)
	}
	return c
}

// InstallQuery is the signed query Shopify sends to the app's URL when a
// merchant installs it from the app listing.
func (s *Server) InstallQuery() url.Values {
	q := url.Values{}
	q.Set("shop", s.opts.Shop)
	q.Set("host", base64.RawStdEncoding.EncodeToString([]byte(s.opts.Shop+"/admin")))
	q.Set("timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	return s.SignQuery(q)
}

// handleAuthorize is the merchant's consent screen, approved at once: it
// redirects to redirect_uri with a code and a signed query.
func (s *Server) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != s.opts.ClientID {
		http.Error(w, "Oauth error invalid_request: The client_id is not valid", http.StatusBadRequest)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme == "" {
		http.Error(w, "Oauth error invalid_request: The redirect_uri is missing or not whitelisted", http.StatusBadRequest)
		return
	}
	code := randomHex(16)
	s.mu.Lock()
	s.codes[code] = q.Get("scope")
	s.mu.Unlock()
	back := url.Values{}
	back.Set("code", code)
	back.Set("host", base64.RawStdEncoding.EncodeToString([]byte(s.opts.Shop+"/admin")))
	back.Set("shop", s.opts.Shop)
	back.Set("state", q.Get("state"))
	back.Set("timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	redirect.RawQuery = s.SignQuery(back).Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

// --- Webhooks ---

// OrderPayload is the REST-format body of an orders/* webhook for order id.
func (s *Server) OrderPayload(id int64) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	pc := s.presentment(o)
	set := func(amount, pres string) map[string]any {
		if pres == "" {
			pres = amount
		}
		return map[string]any{"shop_money": map[string]any{"amount": amount, "currency_code": s.opts.Currency},
			"presentment_money": map[string]any{"amount": pres, "currency_code": pc}}
	}
	var lines []map[string]any
	for _, l := range o.Lines {
		var allocs []map[string]any
		for i, d := range l.Discounts {
			pd := ""
			if i < len(l.PresentmentDiscounts) {
				pd = l.PresentmentDiscounts[i]
			}
			allocs = append(allocs, map[string]any{"amount": d, "amount_set": set(d, pd), "discount_application_index": 0})
		}
		var pid, vid any
		if l.ProductID != 0 {
			pid = l.ProductID
		}
		if l.VariantID != 0 {
			vid = l.VariantID
		}
		taxLines := []map[string]any{}
		if l.Tax != "" {
			taxLines = append(taxLines, map[string]any{"price": l.Tax, "price_set": set(l.Tax, ""), "rate": 0.2, "title": "VAT"})
		}
		lines = append(lines, map[string]any{
			"id": l.ID, "admin_graphql_api_id": gid("LineItem", l.ID), "product_id": pid, "variant_id": vid,
			"sku": l.SKU, "name": l.Name, "title": l.Name, "quantity": l.Quantity, "current_quantity": currentQuantity(o, &l), "price": l.Price,
			"price_set": set(l.Price, l.PresentmentPrice), "discount_allocations": nonNil(allocs), "tax_lines": taxLines,
		})
	}
	var refunds []map[string]any
	for _, r := range o.Refunds {
		var rls []map[string]any
		for _, rl := range r.Lines {
			rls = append(rls, map[string]any{"id": rl.ID, "line_item_id": rl.LineItemID, "quantity": rl.Quantity,
				"subtotal": rl.Subtotal, "subtotal_set": set(rl.Subtotal, rl.PresentmentSubtotal),
				"total_tax": zeroAmount(rl.Tax), "total_tax_set": set(zeroAmount(rl.Tax), "")})
		}
		adjustments, shipping := []map[string]any{}, []map[string]any{}
		for _, a := range r.Adjustments {
			adjustments = append(adjustments, map[string]any{"amount": a, "amount_set": set(a, ""), "kind": "refund_discrepancy"})
		}
		if r.Shipping != "" {
			shipping = append(shipping, map[string]any{"subtotal_amount_set": set(r.Shipping, "")})
		}
		refunds = append(refunds, map[string]any{"id": r.ID, "admin_graphql_api_id": gid("Refund", r.ID), "created_at": rfc(r.CreatedAt),
			"refund_line_items": nonNil(rls), "order_adjustments": adjustments, "refund_shipping_lines": shipping})
	}
	var addr any
	if o.Country != "" && !o.NoAddress {
		addr = map[string]any{"country_code": o.Country, "province_code": o.Province}
	}
	var cancelled any
	if o.CancelledAt != nil {
		cancelled = rfc(*o.CancelledAt)
	}
	b, _ := json.Marshal(map[string]any{
		"id": o.ID, "admin_graphql_api_id": gid("Order", o.ID), "name": o.Name, "created_at": rfc(o.CreatedAt),
		"processed_at": rfc(o.ProcessedAt), "updated_at": rfc(o.UpdatedAt), "cancelled_at": cancelled, "test": o.Test,
		"currency": s.opts.Currency, "presentment_currency": pc, "shipping_address": addr, "billing_address": addr,
		"taxes_included": o.TaxesIncluded, "total_shipping_price_set": set(zeroAmount(o.Shipping), ""),
		"line_items": nonNil(lines), "refunds": nonNil(refunds),
	})
	return b
}

// DeleteOrder deletes an order, as a merchant can in the admin (only
// archived or cancelled orders, which the fake does not check), and
// returns the body of its orders/delete webhook.
func (s *Server) DeleteOrder(id int64) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.orders, id)
	s.orderIndex = nil
	s.tick()
	b, _ := json.Marshal(map[string]any{"id": id})
	return b
}

// ProductPayload is the REST-format body of a products/update webhook.
func (s *Server) ProductPayload(id int64) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.products[id]
	var variants []map[string]any
	for _, v := range p.Variants {
		variants = append(variants, map[string]any{"id": v.ID, "product_id": p.ID, "admin_graphql_api_id": gid("ProductVariant", v.ID),
			"sku": v.SKU, "title": v.Title, "price": v.Price})
	}
	var image any
	if p.ImageURL != "" {
		image = map[string]any{"src": p.ImageURL}
	}
	b, _ := json.Marshal(map[string]any{
		"id": p.ID, "admin_graphql_api_id": gid("Product", p.ID), "title": p.Title, "body_html": "<p>" + p.Description + "</p>",
		"handle": p.Handle, "product_type": p.ProductType, "vendor": p.Vendor, "status": strings.ToLower(p.Status),
		"tags": strings.Join(p.Tags, ", "), "created_at": rfc(p.CreatedAt), "updated_at": rfc(p.UpdatedAt),
		"variants": nonNil(variants), "image": image,
	})
	return b
}

// WebhookRequest builds the request Shopify would POST to target for
// topic with body, signed with secret (the client secret when "").
func (s *Server) WebhookRequest(target, topic string, body []byte, secret string) *http.Request {
	if secret == "" {
		secret = s.opts.ClientSecret
	}
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(string(body)))
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Shopify-Topic", topic)
	r.Header.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(m.Sum(nil)))
	r.Header.Set("X-Shopify-Shop-Domain", s.opts.Shop)
	r.Header.Set("X-Shopify-API-Version", s.opts.Versions[len(s.opts.Versions)-1])
	r.Header.Set("X-Shopify-Webhook-Id", randomHex(12))
	r.Header.Set("X-Shopify-Triggered-At", time.Now().UTC().Format(time.RFC3339Nano))
	return r
}

// Deliver posts a webhook of topic ("orders/create") with body to every
// subscription of that topic, signed with the client secret, and returns
// the response statuses.
func (s *Server) Deliver(topic string, body []byte) ([]int, error) {
	enum := strings.ToUpper(strings.ReplaceAll(topic, "/", "_"))
	var statuses []int
	for _, sub := range s.Subscriptions() {
		if sub.Topic != enum {
			continue
		}
		req := s.WebhookRequest(sub.URI, topic, body, "")
		out, err := http.NewRequest(http.MethodPost, sub.URI, strings.NewReader(string(body)))
		if err != nil {
			return statuses, err
		}
		out.Header = req.Header
		resp, err := http.DefaultClient.Do(out)
		if err != nil {
			return statuses, err
		}
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
	}
	return statuses, nil
}
