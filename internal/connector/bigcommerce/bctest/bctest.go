// Package bctest is a fake BigCommerce: the store API at
// /stores/{store_hash}/… (V2 store and orders with their products, V3
// catalog products with variants, V3 payment-action refunds and webhooks
// management) and the login service's /oauth2/token, following the
// documented wire formats: X-Auth-Token authentication, V2 dates in RFC
// 2822 and amounts as four-decimal strings, V2 lists answering 204 when
// empty, V3 envelopes with meta.pagination, and the store's shared request
// quota reported in X-Rate-Limit-* headers and enforced with 429s. Tests
// inject 5xx answers and malformed bodies, revoke tokens, deactivate hooks
// and deliver webhooks the way BigCommerce does.
package bctest

import (
	"cmp"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options shape a fake store.
type Options struct {
	StoreHash string // "abc123de"
	Currency  string // "USD"
	// TaxRate is the tax rate in percent applied to every line (0: none).
	TaxRate int64
	// TaxInclusive makes the store's prices include tax: base_price is
	// price_inc_tax and discounts are written with their tax.
	TaxInclusive bool
	// ExclusiveMin makes the min_date_modified and date_modified:min
	// filters exclude their bound (the documentation does not say which).
	ExclusiveMin bool
	// Quota and Window are the store's request quota (0: unlimited) per
	// window (30 s, BigCommerce's standard).
	Quota  int
	Window time.Duration
}

// Line is an order product. Price and Discount are without tax.
type Line struct {
	ID        int64
	ProductID int64
	VariantID int64
	Name      string
	SKU       string
	Quantity  int64
	Price     int64 // cents, ex tax
	Discount  int64 // cents, ex tax, for the whole line
}

// RefundItem is one item of a refund.
type RefundItem struct {
	Type     string // PRODUCT, SHIPPING, ORDER…
	ItemID   int64
	Quantity int64
	Amount   *int64 // requested_amount in cents, nil when refunded by quantity
}

// Refund is a V3 payment-action refund.
type Refund struct {
	ID      int64
	Created time.Time
	Items   []RefundItem
}

// Order is a store order.
type Order struct {
	ID       int64
	Created  time.Time
	Modified time.Time
	StatusID int
	Deleted  bool
	Country  string
	State    string
	Shipping int64 // cents ex tax
	Lines    []Line
	Refunds  []Refund
}

// Variant is a catalog variant.
type Variant struct {
	ID    int64
	SKU   string
	Price *int64
	Label string
}

// Product is a catalog product.
type Product struct {
	ID       int64
	Name     string
	SKU      string
	Price    int64
	Modified time.Time
	Variants []Variant
}

// Hook is a webhook subscription.
type Hook struct {
	ID          int64             `json:"id"`
	Scope       string            `json:"scope"`
	Destination string            `json:"destination"`
	IsActive    bool              `json:"is_active"`
	Headers     map[string]string `json:"headers"`
	CreatedAt   int64             `json:"created_at"`
	UpdatedAt   int64             `json:"updated_at"`
}

// Server is a fake BigCommerce store and login service.
type Server struct {
	*httptest.Server
	opt Options

	mu        sync.Mutex
	now       time.Time
	nextID    int64
	orders    []*Order
	products  []*Product
	hooks     []*Hook
	tokens    map[string]string // token → scopes
	codes     map[string]string // OAuth code → scopes
	clientID  string
	secret    string
	faults    []int // statuses to answer next (0: malformed body)
	used      int
	windowEnd time.Time
	requests  map[string]int
	throttled int
	spent     int // responses that left no request in the window
}

// New starts a fake store, closed at cleanup.
func New(t testing.TB, opt Options) *Server {
	opt.StoreHash = cmp.Or(opt.StoreHash, "abc123de")
	opt.Currency = cmp.Or(opt.Currency, "USD")
	if opt.Window <= 0 {
		opt.Window = 30 * time.Second
	}
	s := &Server{opt: opt, now: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), nextID: 100, tokens: map[string]string{}, codes: map[string]string{},
		clientID: "bc-client-id", secret: "bc-client-secret-" + randHex(8), requests: map[string]int{}}
	mux := http.NewServeMux()
	p := "/stores/" + opt.StoreHash
	mux.HandleFunc("GET "+p+"/v2/store", s.api(s.handleStore))
	mux.HandleFunc("GET "+p+"/v2/orders", s.api(s.handleOrders))
	mux.HandleFunc("GET "+p+"/v2/orders/{id}", s.api(s.handleOrder))
	mux.HandleFunc("GET "+p+"/v2/orders/{id}/products", s.api(s.handleOrderProducts))
	mux.HandleFunc("GET "+p+"/v3/orders/payment_actions/refunds", s.api(s.handleRefunds))
	mux.HandleFunc("GET "+p+"/v3/orders/{id}/payment_actions/refunds", s.api(s.handleRefunds))
	mux.HandleFunc("GET "+p+"/v3/catalog/products", s.api(s.handleProducts))
	mux.HandleFunc("GET "+p+"/v3/hooks", s.api(s.handleHooks))
	mux.HandleFunc("POST "+p+"/v3/hooks", s.api(s.handleHookCreate))
	mux.HandleFunc("PUT "+p+"/v3/hooks/{id}", s.api(s.handleHookUpdate))
	mux.HandleFunc("POST /oauth2/token", s.handleToken)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	return s
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// StoreHash is the store's hash.
func (s *Server) StoreHash() string { return s.opt.StoreHash }

// Currency is the store's currency.
func (s *Server) Currency() string { return s.opt.Currency }

// ClientID and ClientSecret are the app's credentials at the login service.
func (s *Server) ClientID() string     { return s.clientID }
func (s *Server) ClientSecret() string { return s.secret }

// IssueToken returns a new access token with scopes.
func (s *Server) IssueToken(scopes string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tok := randHex(16)
	s.tokens[tok] = scopes
	return tok
}

// Revoke makes token stop working, as uninstalling the app or deleting
// the API account does.
func (s *Server) Revoke(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tokens, token)
}

// Fail makes the next requests answer these statuses in turn; 0 answers
// 200 with a malformed body.
func (s *Server) Fail(statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, statuses...)
}

// Advance moves the store's clock.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = s.now.Add(d)
}

// Now is the store's clock.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

// Requests counts requests whose path (without the store prefix) starts
// with prefix.
func (s *Server) Requests(prefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for p, c := range s.requests {
		if strings.HasPrefix(p, prefix) {
			n += c
		}
	}
	return n
}

// Spent counts the answers that used the window's last request
// (X-Rate-Limit-Requests-Left: 0): a client that paces itself waits after
// them instead of meeting a 429.
func (s *Server) Spent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.spent
}

// Throttled counts the 429s answered.
func (s *Server) Throttled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.throttled
}

func (s *Server) id() int64 {
	s.nextID++
	return s.nextID
}

// AddOrder adds an order (ids of the order and its lines are assigned
// when zero; Created defaults to the clock) and returns it.
func (s *Server) AddOrder(o Order) Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.ID == 0 {
		o.ID = s.id()
	}
	if o.Created.IsZero() {
		o.Created = s.now
	}
	o.Modified = s.now
	if o.StatusID == 0 && !o.Deleted {
		o.StatusID = 11 // Awaiting Fulfillment
	}
	for i := range o.Lines {
		if o.Lines[i].ID == 0 {
			o.Lines[i].ID = s.id()
		}
	}
	cp := o
	cp.Lines = slices.Clone(o.Lines)
	s.orders = append(s.orders, &cp)
	return cp
}

// UpdateOrder changes an order through fn and stamps it modified now.
func (s *Server) UpdateOrder(id int64, fn func(*Order)) Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.orders {
		if o.ID == id {
			fn(o)
			o.Modified = s.now
			return *o
		}
	}
	panic(fmt.Sprintf("bctest: no order %d", id))
}

// AddRefund records a refund on an order (which BigCommerce stamps
// modified, its status becoming Refunded or Partially Refunded).
func (s *Server) AddRefund(orderID int64, r Refund) Refund {
	var out Refund
	s.UpdateOrder(orderID, func(o *Order) {
		r.ID = s.id()
		if r.Created.IsZero() {
			r.Created = s.now
		}
		o.Refunds = append(o.Refunds, r)
		o.StatusID = 14
		out = r
	})
	return out
}

// Orders returns a copy of every order, deleted ones included.
func (s *Server) Orders() []Order {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Order, len(s.orders))
	for i, o := range s.orders {
		out[i] = *o
		out[i].Lines = slices.Clone(o.Lines)
		out[i].Refunds = slices.Clone(o.Refunds)
	}
	return out
}

// AddProduct adds a catalog product stamped modified now.
func (s *Server) AddProduct(p Product) Product {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.ID == 0 {
		p.ID = s.id()
	}
	p.Modified = s.now
	for i := range p.Variants {
		if p.Variants[i].ID == 0 {
			p.Variants[i].ID = s.id()
		}
	}
	cp := p
	s.products = append(s.products, &cp)
	return cp
}

// Products returns a copy of the catalog.
func (s *Server) Products() []Product {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Product, len(s.products))
	for i, p := range s.products {
		out[i] = *p
	}
	return out
}

// Hooks returns the webhook subscriptions.
func (s *Server) Hooks() []Hook {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Hook, len(s.hooks))
	for i, h := range s.hooks {
		out[i] = *h
	}
	return out
}

// DeactivateHooks marks every hook inactive, as BigCommerce does after
// deliveries keep failing.
func (s *Server) DeactivateHooks() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.hooks {
		h.IsActive = false
	}
}

// api wraps a store API handler with authentication, fault injection and
// the request quota.
func (s *Server) api(h func(w http.ResponseWriter, r *http.Request, scopes string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		path := strings.TrimPrefix(r.URL.Path, "/stores/"+s.opt.StoreHash)
		s.requests[path]++
		scopes, ok := s.tokens[r.Header.Get("X-Auth-Token")]
		// The quota: requests in the current window.
		wall := time.Now()
		if s.opt.Quota > 0 {
			if wall.After(s.windowEnd) {
				s.windowEnd, s.used = wall.Add(s.opt.Window), 0
			}
			s.used++
			left := s.opt.Quota - s.used
			reset := s.windowEnd.Sub(wall)
			w.Header().Set("X-Rate-Limit-Requests-Quota", strconv.Itoa(s.opt.Quota))
			w.Header().Set("X-Rate-Limit-Time-Window-Ms", strconv.FormatInt(s.opt.Window.Milliseconds(), 10))
			w.Header().Set("X-Rate-Limit-Time-Reset-Ms", strconv.FormatInt(max(reset.Milliseconds(), 1), 10))
			w.Header().Set("X-Rate-Limit-Requests-Left", strconv.Itoa(max(left, 0)))
			if left == 0 {
				s.spent++
			}
			if left < 0 {
				s.throttled++
				s.mu.Unlock()
				writeJSON(w, http.StatusTooManyRequests, map[string]any{"status": 429, "title": "Too many requests"})
				return
			}
		}
		var fault = -1
		if len(s.faults) > 0 {
			fault, s.faults = s.faults[0], s.faults[1:]
		}
		s.mu.Unlock()
		if !ok {
			writeJSON(w, http.StatusUnauthorized, []map[string]any{{"status": 401, "message": "You are not authorized."}})
			return
		}
		switch {
		case fault == 0:
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"data": [{"id": 1, "na`)
			return
		case fault > 0:
			writeJSON(w, fault, map[string]any{"status": fault, "title": http.StatusText(fault)})
			return
		}
		h(w, r, scopes)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func hasScope(scopes, want string) bool {
	for _, s := range strings.Fields(scopes) {
		if s == want || s == strings.TrimSuffix(want, "_read_only") {
			return true
		}
	}
	return false
}

func (s *Server) requireScope(w http.ResponseWriter, scopes, want string) bool {
	if hasScope(scopes, want) {
		return true
	}
	writeJSON(w, http.StatusForbidden, map[string]any{"status": 403, "title": "You don't have a required scope to access the endpoint"})
	return false
}

// money writes cents as BigCommerce's four-decimal strings.
func money(c int64) string {
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d00", sign, c/100, c%100)
}

func (s *Server) withTax(c int64) int64 { return c + c*s.opt.TaxRate/100 }

func (s *Server) handleStore(w http.ResponseWriter, r *http.Request, scopes string) {
	if !s.requireScope(w, scopes, "store_v2_information_read_only") {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": s.opt.StoreHash, "domain": "merch.example.com", "secure_url": "https://merch.example.com",
		"name": "Phantom Merch", "currency": s.opt.Currency, "decimal_places": 2})
}

func rfc2822(t time.Time) string { return t.UTC().Format(time.RFC1123Z) }

func (s *Server) v2Order(o *Order) map[string]any {
	var subtotal, tax int64
	for _, l := range o.Lines {
		subtotal += l.Price * l.Quantity
		tax += (l.Price*l.Quantity - l.Discount) * s.opt.TaxRate / 100
	}
	status := map[int]string{0: "Incomplete", 1: "Pending", 5: "Cancelled", 6: "Declined", 11: "Awaiting Fulfillment", 10: "Completed", 14: "Partially Refunded", 4: "Refunded"}[o.StatusID]
	return map[string]any{
		"id": o.ID, "customer_id": 0, "date_created": rfc2822(o.Created), "date_modified": rfc2822(o.Modified), "date_shipped": "",
		"status_id": o.StatusID, "status": status, "subtotal_ex_tax": money(subtotal), "subtotal_inc_tax": money(subtotal + tax),
		"subtotal_tax": money(tax), "total_tax": money(tax), "shipping_cost_ex_tax": money(o.Shipping), "shipping_cost_inc_tax": money(s.withTax(o.Shipping)),
		"handling_cost_ex_tax": "0.0000", "wrapping_cost_ex_tax": "0.0000", "currency_code": s.opt.Currency, "default_currency_code": s.opt.Currency,
		"currency_exchange_rate": "1.0000000000", "is_deleted": o.Deleted, "order_source": "www", "items_total": len(o.Lines),
		"billing_address": map[string]any{"country_iso2": o.Country, "state": o.State, "first_name": "Sam"},
		"products":        map[string]any{"url": s.URL + "/stores/" + s.opt.StoreHash + "/v2/orders/" + strconv.FormatInt(o.ID, 10) + "/products", "resource": "/orders/" + strconv.FormatInt(o.ID, 10) + "/products"},
	}
}

func pageParams(q url.Values) (limit, page int, ok bool) {
	limit, page = 50, 1
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 250 {
			return 0, 0, false
		}
		limit = n
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return 0, 0, false
		}
		page = n
	}
	return limit, page, true
}

// parseV2Date reads a V2 filter date: RFC 2822 or ISO 8601.
func parseV2Date(v string) (time.Time, bool) {
	for _, l := range []string{time.RFC1123Z, time.RFC3339} {
		if t, err := time.Parse(l, v); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (s *Server) handleOrders(w http.ResponseWriter, r *http.Request, scopes string) {
	if !s.requireScope(w, scopes, "store_v2_orders_read_only") {
		return
	}
	q := r.URL.Query()
	limit, page, ok := pageParams(q)
	if !ok {
		writeJSON(w, http.StatusBadRequest, []map[string]any{{"status": 400, "message": "The field 'limit' or 'page' is invalid."}})
		return
	}
	var filters []func(*Order) bool
	for _, f := range []struct {
		name string
		keep func(o *Order, t time.Time) bool
	}{
		{"min_date_modified", func(o *Order, t time.Time) bool {
			return o.Modified.After(t) || !s.opt.ExclusiveMin && o.Modified.Equal(t)
		}},
		{"min_date_created", func(o *Order, t time.Time) bool { return !o.Created.Before(t) }},
		{"max_date_created", func(o *Order, t time.Time) bool { return !o.Created.After(t) }},
	} {
		if v := q.Get(f.name); v != "" {
			t, ok := parseV2Date(v)
			if !ok {
				writeJSON(w, http.StatusBadRequest, []map[string]any{{"status": 400, "message": "The field '" + f.name + "' is invalid."}})
				return
			}
			filters = append(filters, func(o *Order) bool { return f.keep(o, t) })
		}
	}
	s.mu.Lock()
	var list []*Order
	for _, o := range s.orders {
		if slices.IndexFunc(filters, func(f func(*Order) bool) bool { return !f(o) }) < 0 {
			list = append(list, o)
		}
	}
	switch q.Get("sort") {
	case "date_modified:asc":
		slices.SortStableFunc(list, func(a, b *Order) int { return cmp.Or(a.Modified.Compare(b.Modified), cmp.Compare(a.ID, b.ID)) })
	default:
		slices.SortStableFunc(list, func(a, b *Order) int { return cmp.Compare(a.ID, b.ID) })
	}
	var out []map[string]any
	for i := (page - 1) * limit; i < len(list) && i < page*limit; i++ {
		out = append(out, s.v2Order(list[i]))
	}
	s.mu.Unlock()
	if len(out) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) order(id string) *Order {
	n, _ := strconv.ParseInt(id, 10, 64)
	for _, o := range s.orders {
		if o.ID == n {
			return o
		}
	}
	return nil
}

func (s *Server) handleOrder(w http.ResponseWriter, r *http.Request, scopes string) {
	if !s.requireScope(w, scopes, "store_v2_orders_read_only") {
		return
	}
	s.mu.Lock()
	o := s.order(r.PathValue("id"))
	var out map[string]any
	if o != nil {
		out = s.v2Order(o)
	}
	s.mu.Unlock()
	if out == nil {
		writeJSON(w, http.StatusNotFound, []map[string]any{{"status": 404, "message": "The requested resource was not found."}})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleOrderProducts(w http.ResponseWriter, r *http.Request, scopes string) {
	if !s.requireScope(w, scopes, "store_v2_orders_read_only") {
		return
	}
	limit, page, ok := pageParams(r.URL.Query())
	if !ok {
		writeJSON(w, http.StatusBadRequest, []map[string]any{{"status": 400, "message": "The field 'limit' or 'page' is invalid."}})
		return
	}
	s.mu.Lock()
	o := s.order(r.PathValue("id"))
	var out []map[string]any
	if o != nil {
		for i := (page - 1) * limit; i < len(o.Lines) && i < page*limit; i++ {
			l := o.Lines[i]
			inc := s.withTax(l.Price)
			tax := (l.Price*l.Quantity - l.Discount) * s.opt.TaxRate / 100
			base, disc := l.Price, l.Discount
			if s.opt.TaxInclusive {
				base, disc = inc, s.withTax(l.Discount)
			}
			var discounts []map[string]any
			if l.Discount != 0 {
				discounts = append(discounts, map[string]any{"id": "coupon", "amount": money(disc), "name": "MERCH10", "code": "MERCH10", "target": "product"})
			}
			out = append(out, map[string]any{
				"id": l.ID, "order_id": o.ID, "product_id": l.ProductID, "variant_id": l.VariantID, "name": l.Name, "sku": l.SKU, "type": "physical",
				"base_price": money(base), "price_ex_tax": money(l.Price), "price_inc_tax": money(inc), "price_tax": money(inc - l.Price),
				"base_total": money(base * l.Quantity), "total_ex_tax": money(l.Price * l.Quantity), "total_inc_tax": money(l.Price*l.Quantity - l.Discount + tax),
				"total_tax": money(tax), "quantity": l.Quantity, "is_refunded": false, "applied_discounts": discounts,
			})
		}
	}
	s.mu.Unlock()
	if o == nil {
		writeJSON(w, http.StatusNotFound, []map[string]any{{"status": 404, "message": "The requested resource was not found."}})
		return
	}
	if len(out) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func pagination(total, limit, page int) map[string]any {
	pages := (total + limit - 1) / limit
	return map[string]any{"pagination": map[string]any{"total": total, "count": max(0, min(limit, total-(page-1)*limit)), "per_page": limit,
		"current_page": page, "total_pages": pages, "links": map[string]any{"current": fmt.Sprintf("?page=%d&limit=%d", page, limit)}}}
}

func (s *Server) handleRefunds(w http.ResponseWriter, r *http.Request, scopes string) {
	if !s.requireScope(w, scopes, "store_v2_orders_read_only") {
		return
	}
	q := r.URL.Query()
	limit, page, ok := pageParams(q)
	if !ok {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"status": 422, "title": "Invalid paging"})
		return
	}
	want := map[string]bool{}
	if id := r.PathValue("id"); id != "" {
		want[id] = true
	}
	for _, id := range strings.Split(q.Get("order_id:in"), ",") {
		if id != "" {
			want[id] = true
		}
	}
	s.mu.Lock()
	var all []map[string]any
	for _, o := range s.orders {
		if len(want) > 0 && !want[strconv.FormatInt(o.ID, 10)] {
			continue
		}
		for _, rf := range o.Refunds {
			var items []map[string]any
			var total int64
			for _, it := range rf.Items {
				m := map[string]any{"item_type": it.Type, "item_id": it.ItemID, "quantity": it.Quantity, "requested_amount": nil, "reason": ""}
				if it.Amount != nil {
					m["requested_amount"] = strings.TrimSuffix(money(*it.Amount), "00")
					total += *it.Amount
				} else {
					for _, l := range o.Lines {
						if l.ID == it.ItemID && l.Quantity > 0 {
							net := (l.Price*l.Quantity - l.Discount) * it.Quantity / l.Quantity
							total += s.withTax(net)
						}
					}
				}
				items = append(items, m)
			}
			all = append(all, map[string]any{"id": rf.ID, "order_id": o.ID, "user_id": 0, "created": rf.Created.UTC().Format(time.RFC3339),
				"reason": "", "total_amount": json.Number(strings.TrimSuffix(money(total), "00")), "total_tax": 0, "uses_merchant_override_values": false,
				"items": items, "payments": []map[string]any{{"id": rf.ID, "provider_id": "storecredit", "amount": json.Number(strings.TrimSuffix(money(total), "00")), "offline": true, "is_declined": false}}})
		}
	}
	s.mu.Unlock()
	var data []map[string]any
	for i := (page - 1) * limit; i < len(all) && i < page*limit; i++ {
		data = append(data, all[i])
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": nonNil(data), "meta": pagination(len(all), limit, page)})
}

func (s *Server) handleProducts(w http.ResponseWriter, r *http.Request, scopes string) {
	if !s.requireScope(w, scopes, "store_v2_products_read_only") {
		return
	}
	q := r.URL.Query()
	limit, page, ok := pageParams(q)
	if !ok {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"status": 422, "title": "Invalid paging"})
		return
	}
	var since time.Time
	if v := q.Get("date_modified:min"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"status": 422, "title": "date_modified:min is not a date"})
			return
		}
		since = t
	}
	include := strings.Split(q.Get("include"), ",")
	s.mu.Lock()
	var list []*Product
	for _, p := range s.products {
		if p.Modified.After(since) || !s.opt.ExclusiveMin && p.Modified.Equal(since) {
			list = append(list, p)
		}
	}
	if q.Get("sort") == "date_modified" {
		slices.SortStableFunc(list, func(a, b *Product) int { return cmp.Or(a.Modified.Compare(b.Modified), cmp.Compare(a.ID, b.ID)) })
		if q.Get("direction") == "desc" {
			slices.Reverse(list)
		}
	}
	var data []map[string]any
	for i := (page - 1) * limit; i < len(list) && i < page*limit; i++ {
		p := list[i]
		m := map[string]any{"id": p.ID, "name": p.Name, "type": "physical", "sku": p.SKU, "description": "<p>" + p.Name + "</p>",
			"price": json.Number(strings.TrimSuffix(money(p.Price), "00")), "is_visible": true, "availability": "available",
			"date_modified": p.Modified.UTC().Format("2006-01-02T15:04:05-07:00"), "custom_url": map[string]any{"url": "/" + strings.ToLower(strings.ReplaceAll(p.Name, " ", "-")) + "/"}}
		if slices.Contains(include, "variants") {
			var vs []map[string]any
			for _, v := range p.Variants {
				vm := map[string]any{"id": v.ID, "product_id": p.ID, "sku": v.SKU, "price": nil, "calculated_price": json.Number(strings.TrimSuffix(money(p.Price), "00")),
					"option_values": []map[string]any{{"label": v.Label, "option_display_name": "Size"}}}
				if v.Price != nil {
					vm["price"] = json.Number(strings.TrimSuffix(money(*v.Price), "00"))
					vm["calculated_price"] = vm["price"]
				}
				vs = append(vs, vm)
			}
			m["variants"] = vs
		}
		if slices.Contains(include, "images") {
			m["images"] = []map[string]any{{"url_standard": "https://cdn.example.com/" + strconv.FormatInt(p.ID, 10) + ".jpg", "is_thumbnail": true}}
		}
		data = append(data, m)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": nonNil(data), "meta": pagination(len(list), limit, page)})
}

func (s *Server) handleHooks(w http.ResponseWriter, r *http.Request, scopes string) {
	s.mu.Lock()
	data := make([]Hook, len(s.hooks))
	for i, h := range s.hooks {
		data[i] = *h
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "meta": pagination(len(data), 250, 1)})
}

func (s *Server) handleHookCreate(w http.ResponseWriter, r *http.Request, scopes string) {
	var h Hook
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&h); err != nil || h.Scope == "" || !strings.HasPrefix(h.Destination, "http") {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"status": 422, "title": "scope and destination are required"})
		return
	}
	s.mu.Lock()
	for _, o := range s.hooks {
		if o.Scope == h.Scope && o.Destination == h.Destination {
			s.mu.Unlock()
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"status": 422, "title": "A webhook with this scope and destination already exists"})
			return
		}
	}
	h.ID = s.id()
	h.CreatedAt, h.UpdatedAt = s.now.Unix(), s.now.Unix()
	s.hooks = append(s.hooks, &h)
	out := h
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"data": out, "meta": map[string]any{}})
}

func (s *Server) handleHookUpdate(w http.ResponseWriter, r *http.Request, scopes string) {
	var in struct {
		IsActive    *bool             `json:"is_active"`
		Destination string            `json:"destination"`
		Headers     map[string]string `json:"headers"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"status": 422, "title": "bad body"})
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.hooks {
		if h.ID == id {
			if in.IsActive != nil {
				h.IsActive = *in.IsActive
			}
			if in.Destination != "" {
				h.Destination = in.Destination
			}
			if in.Headers != nil {
				h.Headers = in.Headers
			}
			h.UpdatedAt = s.now.Unix()
			writeJSON(w, http.StatusOK, map[string]any{"data": *h, "meta": map[string]any{}})
			return
		}
	}
	writeJSON(w, http.StatusNotFound, map[string]any{"status": 404, "title": "Webhook not found"})
}

// Authorize simulates a merchant approving the app: it returns the
// authorization code BigCommerce sends to the auth callback with scopes.
func (s *Server) Authorize(scopes string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	code := randHex(12)
	s.codes[code] = scopes
	return code
}

// handleToken is the login service's token exchange: a JSON or form body
// with client_id, client_secret, code, scope, grant_type, redirect_uri and
// context; each code works once.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	form := url.Values{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var in map[string]string
		if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&in); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request"})
			return
		}
		for k, v := range in {
			form.Set(k, v)
		}
	} else if err := r.ParseForm(); err == nil {
		form = r.PostForm
	}
	s.mu.Lock()
	scopes, ok := s.codes[form.Get("code")]
	delete(s.codes, form.Get("code"))
	good := ok && form.Get("client_id") == s.clientID && form.Get("client_secret") == s.secret &&
		form.Get("grant_type") == "authorization_code" && form.Get("context") == "stores/"+s.opt.StoreHash && form.Get("redirect_uri") != ""
	var tok string
	if good {
		tok = randHex(16)
		s.tokens[tok] = scopes
	}
	s.mu.Unlock()
	if !good {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "Invalid client id or secret, or code"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "scope": scopes, "context": "stores/" + s.opt.StoreHash,
		"account_uuid": "5b1b1b1b-0000-4000-8000-000000000001", "user": map[string]any{"id": 24654, "username": "owner@merch.example", "email": "owner@merch.example"}})
}

// SignedPayload returns a signed_payload_jwt as BigCommerce sends to the
// load and uninstall callbacks, signed HS256 with secret, expiring at exp.
func (s *Server) SignedPayload(secret string, exp time.Time) string {
	now := s.Now()
	claims := map[string]any{"aud": s.clientID, "iss": "bc", "iat": now.Unix(), "nbf": now.Unix() - 5, "exp": exp.Unix(),
		"jti": randHex(16), "sub": "stores/" + s.opt.StoreHash, "url": "/",
		"user":  map[string]any{"id": 24654, "email": "owner@merch.example", "locale": "en-US"},
		"owner": map[string]any{"id": 24654, "email": "owner@merch.example"}}
	return SignJWT(claims, secret)
}

// SignJWT encodes claims as an HS256 JWT under secret.
func SignJWT(claims map[string]any, secret string) string {
	h, _ := json.Marshal(map[string]string{"typ": "JWT", "alg": "HS256"})
	c, _ := json.Marshal(claims)
	msg := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return msg + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// WebhookBody is the thin payload BigCommerce posts for scope about
// order id, with its hash (the SHA-1 of the payload without it, the same
// on every delivery of one event).
func (s *Server) WebhookBody(scope string, orderID int64) []byte {
	created := s.Now().Unix()
	base := fmt.Sprintf(`{"scope":%q,"store_id":"1001","data":{"type":"order","id":%d},"created_at":%d,"producer":"stores/%s"}`,
		scope, orderID, created, s.opt.StoreHash)
	sum := sha1.Sum([]byte(base))
	return []byte(fmt.Sprintf(`{"scope":%q,"store_id":"1001","data":{"type":"order","id":%d},"hash":"%s","created_at":%d,"producer":"stores/%s"}`,
		scope, orderID, hex.EncodeToString(sum[:]), created, s.opt.StoreHash))
}

// WebhookRequest builds the delivery of body to the active hook whose
// destination is dest, with the custom headers it was created with. It
// returns nil when no active hook matches the body's scope.
func (s *Server) WebhookRequest(dest string, body []byte) *http.Request {
	var p struct {
		Scope string `json:"scope"`
	}
	json.Unmarshal(body, &p)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, h := range s.hooks {
		if !h.IsActive || h.Destination != dest || !scopeMatches(h.Scope, p.Scope) {
			continue
		}
		r, _ := http.NewRequest(http.MethodPost, dest, strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		for k, v := range h.Headers {
			r.Header.Set(k, v)
		}
		return r
	}
	return nil
}

func scopeMatches(hook, event string) bool {
	if prefix, ok := strings.CutSuffix(hook, "*"); ok {
		return strings.HasPrefix(event, prefix)
	}
	return hook == event
}

func nonNil(v []map[string]any) []map[string]any {
	if v == nil {
		return []map[string]any{}
	}
	return v
}
