package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/api"
	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/store"
)

// Bounds of one push: a batch is small enough to validate in memory and
// to write in one transaction that holds no lock for long.
const (
	maxPushBody  = 1 << 20 // bytes
	maxPushLines = 1000    // order lines, or products
	// pushRetention is how long a push's response is kept for replays of
	// its Idempotency-Key.
	pushRetention = 24 * time.Hour
	// pushAbandoned is how old a claim in progress must be before it is
	// taken to be left by a process that died.
	pushAbandoned = 5 * time.Minute
	// pushFuture is how far ahead of now a date may be (clocks differ).
	pushFuture  = 24 * time.Hour
	maxPushText = 255
)

// ingestRoute reports whether an API key of ingest scope may use the route:
// only the push API.
func ingestRoute(pattern string) bool {
	switch pattern {
	case "POST /api/v1/orders", "POST /api/v1/products", "DELETE /api/v1/orders/{source}/{order_id}":
		return true
	}
	return false
}

// pushResponse is what a push answers: a status and a JSON value, kept as
// bytes so that a replay of its Idempotency-Key answers the same.
type pushResponse struct {
	status  int
	problem bool
	body    any
	// finished says the response is stored under the request's
	// Idempotency-Key already, by the transaction that wrote the batch.
	finished bool
}

func pushProblem(status int, code, detail string, extra map[string]any) pushResponse {
	p := map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail, "code": code}
	for k, v := range extra {
		p[k] = v
	}
	return pushResponse{status: status, problem: true, body: p}
}

// renderPushResponse returns the content type and the bytes of resp, as
// answered to a request for path: the same bytes each time, so that a
// response stored before it is written is the one written.
func renderPushResponse(path string, resp pushResponse) (string, []byte, error) {
	b, err := json.Marshal(resp.body)
	if err != nil {
		return "", nil, err
	}
	ct := "application/json"
	if resp.problem {
		ct = "application/problem+json"
	}
	if resp.problem {
		if p, ok := resp.body.(map[string]any); ok {
			p["instance"] = path
			b, _ = json.Marshal(p)
		}
	}
	return ct, append(b, '\n'), nil
}

func writePushResponse(w http.ResponseWriter, r *http.Request, resp pushResponse) (string, []byte, error) {
	ct, b, err := renderPushResponse(r.URL.Path, resp)
	if err != nil {
		return "", nil, err
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(resp.status)
	w.Write(b)
	return ct, b, nil
}

// pushBody reads a push's body, refusing one over maxPushBody before
// reading it whole: an announced length is refused at once, and an
// unannounced one stops at the limit.
func pushBody(w http.ResponseWriter, r *http.Request) ([]byte, *pushResponse) {
	tooLarge := pushProblem(http.StatusRequestEntityTooLarge, phantomos.ETOOLARGE,
		fmt.Sprintf("The body is over %d bytes; send at most %d lines per request.", maxPushBody, maxPushLines), nil)
	if r.ContentLength > maxPushBody {
		return nil, &tooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPushBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, &tooLarge
		}
		p := pushProblem(http.StatusBadRequest, phantomos.EINVALID, "The body could not be read.", nil)
		return nil, &p
	}
	return b, nil
}

// decodePush decodes a JSON body strictly into v: unknown fields, wrong
// types and trailing data are refused with the field's path.
func decodePush(b []byte, v any) *pushResponse {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON value")
	}
	if err == nil {
		return nil
	}
	detail := "The body is not valid JSON: " + err.Error() + "."
	extra := map[string]any{}
	if e, ok := errors.AsType[*json.SyntaxError](err); ok {
		detail = fmt.Sprintf("The body is not valid JSON at byte %d: %s.", e.Offset, e.Error())
	} else if e, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		detail = fmt.Sprintf("Field %s must be %s, not a JSON %s.", e.Field, jsonKind(e.Type.Kind().String()), e.Value)
		extra["field"] = e.Field
	} else if errors.Is(err, io.EOF) {
		detail = "The body is empty; send a JSON object."
	} else if errors.Is(err, io.ErrUnexpectedEOF) {
		detail = fmt.Sprintf("The body is not valid JSON: it ends at byte %d before the JSON value is complete.", len(b))
	} else if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		detail = "Unknown field " + f + "."
		extra["field"] = strings.Trim(f, `"`)
	}
	p := pushProblem(http.StatusBadRequest, phantomos.EINVALID, detail, extra)
	return &p
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string (amounts are decimal strings such as \"19.99\")"
	case "slice":
		return "an array"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	}
	return "a " + k
}

// idempotent runs a push under the request's Idempotency-Key, if it has
// one: a retry with the same key and the same request answers what the
// first answered, the same key with another request is 422, and a retry
// while the first is still running is 409 with Retry-After. run takes the
// publisher's write turn itself, when it writes: the key is claimed, and
// the body checked, beside the pushes that are being written.
func (s *Server) idempotent(w http.ResponseWriter, r *http.Request, route string, body []byte, run func() (pushResponse, error)) error {
	a := phantomos.ActorFrom(r.Context())
	key := r.Header.Get("Idempotency-Key")
	if key == "" {
		resp, err := run()
		if err != nil {
			return err
		}
		_, _, err = writePushResponse(w, r, resp)
		return err
	}
	if len(key) > 255 || strings.ContainsFunc(key, func(c rune) bool { return c < ' ' || c > '~' }) {
		return phantomos.Errorf(phantomos.EINVALID, "The Idempotency-Key header must be at most 255 printable ASCII characters.")
	}
	h := sha256.New()
	h.Write([]byte(route + "\n" + r.URL.RawQuery + "\n"))
	h.Write(body)
	sum := hex.EncodeToString(h.Sum(nil))
	prev, claimed, err := s.store.ClaimPush(r.Context(), a.PublisherID, key, route, sum, pushRetention, pushAbandoned)
	if err != nil {
		if phantomos.ErrorCode(err) == phantomos.ECONFLICT {
			w.Header().Set("Retry-After", "1")
		}
		return err
	}
	if !claimed {
		if prev.Route != route || prev.BodySHA256 != sum {
			_, _, err := writePushResponse(w, r, pushProblem(http.StatusUnprocessableEntity, "idempotency_key_reused",
				"This Idempotency-Key was used with another request; use a new key for a new request.", nil))
			return err
		}
		if prev.Running {
			w.Header().Set("Retry-After", "1")
			return phantomos.Errorf(phantomos.ECONFLICT, "A request with this Idempotency-Key is in progress; retry shortly.")
		}
		w.Header().Set("Content-Type", prev.ContentType)
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(prev.Status)
		w.Write(prev.Response)
		return nil
	}
	resp, err := run()
	if err != nil {
		// Ours to fix, not the client's: a retry with the key runs again.
		if rerr := s.store.ReleasePush(context.WithoutCancel(r.Context()), a.PublisherID, key); rerr != nil {
			s.logger.Error("release push", "err", rerr)
		}
		return err
	}
	ct, b, err := writePushResponse(w, r, resp)
	if err != nil || resp.finished {
		return err
	}
	if err := s.store.FinishPush(context.WithoutCancel(r.Context()), a.PublisherID, key, resp.status, ct, b); err != nil {
		s.logger.Error("finish push", "request_id", RequestID(r.Context()), "err", err)
	}
	return nil
}

// customSource returns the id of the custom source a push names, creating
// it on its first push unless the push is a dry run (then "" when new).
// It is looked up first: a write per push would queue behind the pushes
// being written.
func (s *Server) customSource(ctx context.Context, pub phantomos.PublisherID, source string, dry bool) (string, error) {
	id, err := s.store.FindCustomConnector(ctx, pub, source)
	if phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
		return id, err
	}
	if dry {
		return "", nil
	}
	return s.store.CustomConnector(ctx, pub, source)
}

// pushOrders is the body of POST /api/v1/orders.
type pushOrders struct {
	Source string      `json:"source"`
	Test   bool        `json:"test"`
	Orders []pushOrder `json:"orders"`
}

type pushOrder struct {
	OrderID   string     `json:"order_id"`
	OrderDate string     `json:"order_date"`
	UpdatedAt string     `json:"updated_at"`
	Currency  string     `json:"currency"`
	Country   string     `json:"country"`
	Region    string     `json:"region"`
	Channel   string     `json:"channel"`
	Lines     []pushLine `json:"lines"`
}

type pushLine struct {
	LineID     string      `json:"line_id"`
	ProductID  string      `json:"product_id"`
	SKU        string      `json:"sku"`
	Name       string      `json:"name"`
	Category   string      `json:"category"`
	Quantity   json.Number `json:"quantity"`
	Gross      string      `json:"gross"`
	Discount   string      `json:"discount"`
	Tax        string      `json:"tax"`
	Shipping   string      `json:"shipping"`
	Refunded   string      `json:"refunded"`
	RefundDate string      `json:"refund_date"`
}

// pushResult is the answer to a push.
type pushResult struct {
	Source      string                `json:"source"`
	ConnectorID string                `json:"connector_id,omitempty"`
	DryRun      bool                  `json:"dry_run"`
	Received    int                   `json:"received"` // orders or products in the batch
	Lines       int                   `json:"lines,omitempty"`
	Accepted    int                   `json:"accepted"` // orders or products that passed validation
	Inserted    int64                 `json:"inserted"`
	Updated     int64                 `json:"updated"`
	Unchanged   int64                 `json:"unchanged"`
	Removed     int64                 `json:"removed_lines"` // stored lines an order's new version no longer has
	Stale       int64                 `json:"stale"`
	StaleOrders []string              `json:"stale_orders,omitempty"`
	Rejected    int                   `json:"rejected"`
	Errors      []store.PushRejection `json:"errors"`
}

// pushChecker collects per-row errors of one batch.
type pushChecker struct {
	now      time.Time
	errs     []store.PushRejection
	rejected map[int]bool // indexes of refused orders or products
}

func (c *pushChecker) fail(index, line int, field, value, reason string) {
	if len(value) > 100 {
		value = value[:100] + "…"
	}
	c.errs = append(c.errs, store.PushRejection{Index: index, Line: line, Field: field, Value: value, Reason: reason})
	c.rejected[index] = true
}

func fieldName(index, line int, kind, name string) string {
	if line < 0 {
		return fmt.Sprintf("%s[%d].%s", kind, index, name)
	}
	return fmt.Sprintf("%s[%d].lines[%d].%s", kind, index, line, name)
}

func (c *pushChecker) text(index, line int, kind, name, v string, required bool) string {
	v = strings.TrimSpace(v)
	switch {
	case v == "" && required:
		c.fail(index, line, fieldName(index, line, kind, name), v, "is required")
	case len(v) > maxPushText:
		c.fail(index, line, fieldName(index, line, kind, name), v, fmt.Sprintf("is longer than %d bytes", maxPushText))
	}
	return v
}

// time reads an RFC 3339 timestamp or a date, refusing one far ahead.
func (c *pushChecker) time(index, line int, name, v string, required bool) time.Time {
	v = strings.TrimSpace(v)
	f := func() string { return fieldName(index, line, "orders", name) }
	if v == "" {
		if required {
			c.fail(index, line, f(), v, "is required")
		}
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		if t, err = time.Parse(time.DateOnly, v); err != nil {
			c.fail(index, line, f(), v, "is not a date-time (use RFC 3339, such as 2026-12-01T10:30:00Z)")
			return time.Time{}
		}
	}
	if t.Year() < 1970 || t.After(c.now.Add(pushFuture)) {
		c.fail(index, line, f(), v, "is out of range (before 1970 or in the future)")
		return time.Time{}
	}
	return t.UTC()
}

func (c *pushChecker) amount(index, line int, name, v, cur string, required bool) int64 {
	// The field's name only for an error: built for every amount, it took
	// a third of the check.
	f := func() string { return fieldName(index, line, "orders", name) }
	if strings.TrimSpace(v) == "" {
		if required {
			c.fail(index, line, f(), v, "is required")
		}
		return 0
	}
	if cur == "" {
		return 0 // the currency's own error says why
	}
	n, err := ingest.ParseAmount(v, cur)
	if err != nil {
		c.fail(index, line, f(), v, err.Error())
		return 0
	}
	if n < 0 {
		c.fail(index, line, f(), v, "must not be negative")
		return 0
	}
	return n
}

// checkOrders validates a batch of orders and returns the sale rows of the
// orders that passed, and for each row its order and line index.
func checkOrders(body *pushOrders, c *pushChecker) ([]store.SaleRow, [][2]int) {
	seenOrders := map[string]int{}
	var rows []store.SaleRow
	var where [][2]int
	for i, o := range body.Orders {
		id := c.text(i, -1, "orders", "order_id", o.OrderID, true)
		if j, dup := seenOrders[id]; dup && id != "" {
			c.fail(i, -1, fieldName(i, -1, "orders", "order_id"), id, fmt.Sprintf("repeats order %d of the batch; send an order once", j))
		} else {
			seenOrders[id] = i
		}
		date := c.time(i, -1, "order_date", o.OrderDate, true)
		updated := c.time(i, -1, "updated_at", o.UpdatedAt, false)
		cur, err := ingest.ParseCurrency(o.Currency)
		if err != nil {
			c.fail(i, -1, fieldName(i, -1, "orders", "currency"), o.Currency, err.Error())
			cur = ""
		}
		country, err := ingest.ParseCountry(o.Country)
		if err != nil {
			c.fail(i, -1, fieldName(i, -1, "orders", "country"), o.Country, err.Error())
		}
		region := c.text(i, -1, "orders", "region", o.Region, false)
		channel := c.text(i, -1, "orders", "channel", o.Channel, false)
		if len(o.Lines) == 0 {
			c.fail(i, -1, fieldName(i, -1, "orders", "lines"), "", "has no lines (to remove an order, DELETE /api/v1/orders/{source}/{order_id})")
		}
		seenLines := map[string]int{}
		for j, l := range o.Lines {
			lineID := c.text(i, j, "orders", "line_id", l.LineID, true)
			if k, dup := seenLines[lineID]; dup && lineID != "" {
				c.fail(i, j, fieldName(i, j, "orders", "line_id"), lineID, fmt.Sprintf("repeats line %d of the order", k))
			} else {
				seenLines[lineID] = j
			}
			pid := c.text(i, j, "orders", "product_id", l.ProductID, false)
			sku := c.text(i, j, "orders", "sku", l.SKU, false)
			name := c.text(i, j, "orders", "name", l.Name, false)
			if pid == "" && sku == "" && name == "" {
				c.fail(i, j, fieldName(i, j, "orders", "product_id"), "", "is required unless sku or name is given")
			}
			category := strings.ToLower(strings.TrimSpace(l.Category))
			if category != "" && !slices.Contains(phantomos.Categories, category) {
				c.fail(i, j, fieldName(i, j, "orders", "category"), l.Category, "is not one of "+strings.Join(phantomos.Categories, ", "))
			}
			qty, err := strconv.ParseInt(l.Quantity.String(), 10, 64)
			if l.Quantity == "" {
				c.fail(i, j, fieldName(i, j, "orders", "quantity"), "", "is required")
			} else if err != nil || qty < 0 || qty > 1_000_000_000 {
				c.fail(i, j, fieldName(i, j, "orders", "quantity"), l.Quantity.String(), "must be a whole number from 0 to 1000000000")
			}
			row := store.SaleRow{
				OrderID: id, LineID: lineID, ProductID: pid, SKU: sku, Name: name, Category: category,
				OrderDate: date, Quantity: qty, Currency: cur, Country: country, Region: region, Channel: channel,
				Gross:      c.amount(i, j, "gross", l.Gross, cur, true),
				Discount:   c.amount(i, j, "discount", l.Discount, cur, false),
				Tax:        c.amount(i, j, "tax", l.Tax, cur, false),
				Shipping:   c.amount(i, j, "shipping", l.Shipping, cur, false),
				Refunded:   c.amount(i, j, "refunded", l.Refunded, cur, false),
				RefundedAt: c.time(i, j, "refund_date", l.RefundDate, false),
			}
			setUpdatedAt(&row, updated)
			rows = append(rows, row)
			where = append(where, [2]int{i, j})
		}
	}
	// Keep the rows of orders that passed.
	kept, keptWhere := rows[:0], where[:0]
	for k, row := range rows {
		if !c.rejected[where[k][0]] {
			row.Line = int64(len(kept) + 1)
			kept = append(kept, row)
			keptWhere = append(keptWhere, where[k])
		}
	}
	return kept, keptWhere
}

// pushBatchOptions reads what every push batch shares: whether it only checks
// (dry_run, or "test" in the body), whether it writes its valid records
// only, and its source name; a missing or over-long source or an empty
// batch of what (n records, each a single) is refused.
func pushBatchOptions(r *http.Request, test bool, source, what, single string, n int) (dry, validOnly bool, src string, bad *pushResponse) {
	q := r.URL.Query()
	dry, validOnly = test || q.Get("dry_run") == "true", q.Get("valid_only") == "true"
	src = strings.TrimSpace(source)
	if src == "" || len(src) > 100 {
		p := pushProblem(http.StatusUnprocessableEntity, phantomos.EINVALID, "Field source must name the system that sends the "+what+" (1 to 100 characters).",
			map[string]any{"field": "source"})
		return dry, validOnly, src, &p
	}
	if n == 0 {
		p := pushProblem(http.StatusUnprocessableEntity, phantomos.EINVALID, "Field "+what+" must hold at least one "+single+".", map[string]any{"field": what})
		return dry, validOnly, src, &p
	}
	return dry, validOnly, src, nil
}

// admitPush runs push handler h for pushes of the request's publisher that
// pushLocks.admit admits, before anything of the request is read, until h
// has answered; others are refused with 429 and Retry-After.
func (s *Server) admitPush(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		release, ok := s.pushes.admit(string(phantomos.ActorFrom(r.Context()).PublisherID))
		if !ok {
			w.Header().Set("Retry-After", "1")
			return phantomos.Errorf(phantomos.ERATELIMIT,
				"Too many pushes of this publisher are waiting to be written; retry after the number of seconds in Retry-After.")
		}
		defer release()
		return h(w, r)
	}
}

func (s *Server) handlePushOrders(w http.ResponseWriter, r *http.Request) error {
	body, bad := pushBody(w, r)
	if bad != nil {
		_, _, err := writePushResponse(w, r, *bad)
		return err
	}
	arrival := s.pushes.arrive(string(phantomos.ActorFrom(r.Context()).PublisherID))
	defer arrival.leave()
	return s.idempotent(w, r, "orders", body, func() (pushResponse, error) { return s.pushOrders(r, body, arrival) })
}

func (s *Server) pushOrders(r *http.Request, raw []byte, arrival *pushArrival) (pushResponse, error) {
	ctx := r.Context()
	a := phantomos.ActorFrom(ctx)
	var body pushOrders
	if p := decodePush(raw, &body); p != nil {
		return *p, nil
	}
	dry, validOnly, source, bad := pushBatchOptions(r, body.Test, body.Source, "orders", "order", len(body.Orders))
	if bad != nil {
		return *bad, nil
	}
	lines := 0
	for _, o := range body.Orders {
		lines += len(o.Lines)
	}
	if lines > maxPushLines {
		return pushProblem(http.StatusRequestEntityTooLarge, phantomos.ETOOLARGE,
			fmt.Sprintf("The batch has %d lines; send at most %d per request.", lines, maxPushLines), nil), nil
	}
	res := &pushResult{Source: source, DryRun: dry, Received: len(body.Orders), Lines: lines}
	connID, err := s.customSource(ctx, a.PublisherID, source, dry)
	if err != nil {
		if phantomos.ErrorCode(err) == phantomos.EINVALID {
			return pushProblem(http.StatusUnprocessableEntity, phantomos.EINVALID, phantomos.ErrorMessage(err), map[string]any{"field": "source"}), nil
		}
		return pushResponse{}, err
	}
	res.ConnectorID = connID
	c := &pushChecker{now: s.now().UTC(), rejected: map[int]bool{}}
	rows, where := checkOrders(&body, c)
	b := &orderBatch{ctx: ctx, actor: a, res: res, c: c, rows: rows, where: where, validOnly: validOnly, orders: len(body.Orders),
		idemKey: r.Header.Get("Idempotency-Key"), path: r.URL.Path, arrival: arrival, done: make(chan batchOutcome, 1)}
	if dry || len(rows) == 0 || (len(c.rejected) > 0 && !validOnly) {
		// Nothing to write: a refusal, a batch without a valid order, or a
		// dry run (rolled back).
		if dry {
			unlock, err := s.pushes.lock(ctx, string(a.PublisherID))
			if err != nil {
				return pushResponse{}, err
			}
			defer unlock()
		}
		return s.writeOrdersAlone(ctx, b, dry)
	}
	return s.pushes.submit(b, s.writeOrderGroup)
}

// writeOrdersAlone writes batch b in an import of its own, and logs it.
func (s *Server) writeOrdersAlone(ctx context.Context, b *orderBatch, dry bool) (pushResponse, error) {
	resp, err := s.writePushedOrders(ctx, b.actor, b.res, b.c, b.rows, b.where, dry, b.validOnly)
	if err != nil {
		return resp, err
	}
	if !dry && b.res.ConnectorID != "" {
		l := store.PushLog{ConnectorID: b.res.ConnectorID, Kind: "orders", Status: resp.status, Orders: int64(b.orders), Lines: int64(b.res.Lines),
			Failed: int64(len(b.c.rejected)), Rejected: b.c.errs}
		if err := s.store.LogPush(context.WithoutCancel(ctx), b.actor.PublisherID, l); err != nil {
			s.logger.Error("log push", "err", err)
		}
	}
	return resp, nil
}

func (s *Server) writePushedOrders(ctx context.Context, a *phantomos.Actor, res *pushResult, c *pushChecker, rows []store.SaleRow, where [][2]int,
	dry, validOnly bool) (pushResponse, error) {
	refuse := func() pushResponse {
		res.Rejected = len(c.rejected)
		res.Accepted = res.Received - res.Rejected
		res.Inserted, res.Updated, res.Unchanged = 0, 0, 0
		return pushProblem(http.StatusUnprocessableEntity, phantomos.EINVALID,
			fmt.Sprintf("%d of %d orders are invalid; nothing was written. Fix them, or send ?valid_only=true to write the valid ones.",
				res.Rejected, res.Received),
			map[string]any{"errors": c.errs, "result": res})
	}
	if len(c.rejected) > 0 && !validOnly {
		return refuse(), nil
	}
	if len(rows) > 0 {
		spec := store.ImportSpec{Kind: store.ImportSales, Format: "push", FileName: "POST /api/v1/orders", ConnectorID: res.ConnectorID,
			ValidOnly: validOnly, DryRun: dry, CreatedBy: a.UserID}
		if res.ConnectorID == "" {
			spec.Source = res.Source // a dry run of a new source: created and rolled back
		}
		rep, err := s.store.Import(ctx, a.PublisherID, spec, func(w *store.ImportWriter) error {
			w.AddSeen(int64(len(rows)))
			// An order deleted as of this version or later stays deleted
			// (WriteSales keeps tombstones on every path).
			return w.WriteSales(ctx, rows)
		})
		if rep != nil {
			// Rows the store refused (an amount without an exchange rate).
			for _, e := range rep.Errors {
				if k := int(e.Line) - 1; k >= 0 && k < len(where) {
					c.fail(where[k][0], where[k][1], fieldName(where[k][0], where[k][1], "orders", e.Column), e.Value, e.Reason)
				}
			}
		}
		if err != nil {
			if phantomos.ErrorCode(err) == phantomos.EINVALID && rep != nil {
				return refuse(), nil
			}
			return pushResponse{}, err
		}
		res.Inserted, res.Updated, res.Unchanged, res.Removed = rep.Inserted, rep.Updated, rep.Skipped, rep.Deleted
		staleReport(res, rep)
	}
	res.Rejected = len(c.rejected)
	res.Accepted = res.Received - res.Rejected
	res.Errors = c.errs
	if res.Errors == nil {
		res.Errors = []store.PushRejection{}
	}
	return pushResponse{status: http.StatusOK, body: res}, nil
}

// handleDeleteOrder removes an order a custom source pushed: a tombstone.
// ?updated_at= says as of when (the source's time of the deletion; now
// when absent): a stored version newer than that is kept, and a later
// push of a version not newer than it does not bring the order back.
func (s *Server) handleDeleteOrder(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	a := phantomos.ActorFrom(ctx)
	source, orderID := r.PathValue("source"), r.PathValue("order_id")
	if orderID == "" || len(orderID) > maxPushText {
		return phantomos.Errorf(phantomos.EINVALID, "The order id must be 1 to %d bytes.", maxPushText)
	}
	at := s.now().UTC()
	if v := r.URL.Query().Get("updated_at"); v != "" {
		c := &pushChecker{now: at, rejected: map[int]bool{}}
		t := c.time(0, -1, "updated_at", v, true)
		if len(c.errs) > 0 {
			return phantomos.Errorf(phantomos.EINVALID, "Parameter updated_at %s.", c.errs[0].Reason)
		}
		at = t
	}
	unlock, err := s.pushes.lock(ctx, string(a.PublisherID))
	if err != nil {
		return err
	}
	defer unlock()
	connID, err := s.store.FindCustomConnector(ctx, a.PublisherID, source)
	if err != nil {
		return err
	}
	dry := r.URL.Query().Get("dry_run") == "true"
	var deleted int64
	rep, err := s.store.Import(ctx, a.PublisherID, store.ImportSpec{Kind: store.ImportSales, Format: "push", FileName: "DELETE /api/v1/orders",
		ConnectorID: connID, DryRun: dry, CreatedBy: a.UserID}, func(w *store.ImportWriter) error {
		n, err := w.RemoveOrders(ctx, []store.RemovedOrder{{ID: orderID, UpdatedAt: at}})
		deleted = n
		if err != nil || w.Report().Stale > 0 {
			return err // a newer version is stored: it stays, with no tombstone
		}
		return w.Tombstone(ctx, orderID, at)
	})
	if err != nil {
		return err
	}
	if !dry {
		if err := s.store.LogPush(context.WithoutCancel(ctx), a.PublisherID, store.PushLog{ConnectorID: connID, Kind: "delete", Status: http.StatusOK, Orders: 1, Lines: deleted}); err != nil {
			s.logger.Error("log push", "err", err)
		}
	}
	return api.WriteJSON(w, http.StatusOK, map[string]any{"source": source, "order_id": orderID, "deleted_lines": deleted, "dry_run": dry,
		"stale": rep.Stale > 0, "deleted_as_of": at.Format(time.RFC3339Nano)})
}

// pushProducts is the body of POST /api/v1/products.
type pushProducts struct {
	Source   string        `json:"source"`
	Test     bool          `json:"test"`
	Products []pushProduct `json:"products"`
}

type pushProduct struct {
	ExternalID  string   `json:"external_id"`
	SKU         string   `json:"sku"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Category    string   `json:"category"`
	Price       string   `json:"price"`
	Currency    string   `json:"currency"`
	ImageURL    string   `json:"image_url"`
	Tags        []string `json:"tags"`
}

func (s *Server) handlePushProducts(w http.ResponseWriter, r *http.Request) error {
	body, bad := pushBody(w, r)
	if bad != nil {
		_, _, err := writePushResponse(w, r, *bad)
		return err
	}
	return s.idempotent(w, r, "products", body, func() (pushResponse, error) {
		unlock, err := s.pushes.lock(r.Context(), string(phantomos.ActorFrom(r.Context()).PublisherID))
		if err != nil {
			return pushResponse{}, err
		}
		defer unlock()
		return s.pushProducts(r, body)
	})
}

func (s *Server) pushProducts(r *http.Request, raw []byte) (pushResponse, error) {
	ctx := r.Context()
	a := phantomos.ActorFrom(ctx)
	var body pushProducts
	if p := decodePush(raw, &body); p != nil {
		return *p, nil
	}
	dry, validOnly, source, bad := pushBatchOptions(r, body.Test, body.Source, "products", "product", len(body.Products))
	if bad != nil {
		return *bad, nil
	}
	if len(body.Products) > maxPushLines {
		return pushProblem(http.StatusRequestEntityTooLarge, phantomos.ETOOLARGE,
			fmt.Sprintf("The batch has %d products; send at most %d per request.", len(body.Products), maxPushLines), nil), nil
	}
	connID, err := s.customSource(ctx, a.PublisherID, source, dry)
	if err != nil {
		if phantomos.ErrorCode(err) == phantomos.EINVALID {
			return pushProblem(http.StatusUnprocessableEntity, phantomos.EINVALID, phantomos.ErrorMessage(err), map[string]any{"field": "source"}), nil
		}
		return pushResponse{}, err
	}
	res := &pushResult{Source: source, ConnectorID: connID, DryRun: dry, Received: len(body.Products)}
	c := &pushChecker{now: s.now().UTC(), rejected: map[int]bool{}}
	seen := map[string]int{}
	var rows []store.ProductRow
	for i, p := range body.Products {
		f := func(name string) string { return fmt.Sprintf("products[%d].%s", i, name) }
		text := func(name, v string, required bool) string {
			v = strings.TrimSpace(v)
			if v == "" && required {
				c.fail(i, -1, f(name), v, "is required")
			} else if len(v) > maxPushText && name != "description" {
				c.fail(i, -1, f(name), v, fmt.Sprintf("is longer than %d bytes", maxPushText))
			}
			return v
		}
		row := store.ProductRow{Line: int64(i + 1), ExternalID: text("external_id", p.ExternalID, true), SKU: text("sku", p.SKU, false),
			Name: text("name", p.Name, true), Description: strings.TrimSpace(p.Description), ImageURL: text("image_url", p.ImageURL, false)}
		if j, dup := seen[row.ExternalID]; dup && row.ExternalID != "" {
			c.fail(i, -1, f("external_id"), row.ExternalID, fmt.Sprintf("repeats product %d of the batch", j))
		} else {
			seen[row.ExternalID] = i
		}
		if len(row.Description) > 4000 {
			c.fail(i, -1, f("description"), row.Description, "is longer than 4000 bytes")
		}
		if row.ImageURL != "" && !strings.HasPrefix(row.ImageURL, "https://") {
			c.fail(i, -1, f("image_url"), row.ImageURL, "must be an https URL")
		}
		row.Category = strings.ToLower(strings.TrimSpace(p.Category))
		if row.Category != "" && !slices.Contains(phantomos.Categories, row.Category) {
			c.fail(i, -1, f("category"), p.Category, "is not one of "+strings.Join(phantomos.Categories, ", "))
		}
		if len(p.Tags) > 50 {
			c.fail(i, -1, f("tags"), "", "has more than 50 tags")
		}
		for _, t := range p.Tags {
			if t = strings.TrimSpace(t); t != "" && len(t) <= 100 {
				row.Tags = append(row.Tags, t)
			}
		}
		if strings.TrimSpace(p.Price) != "" {
			cur, err := ingest.ParseCurrency(p.Currency)
			if err != nil {
				c.fail(i, -1, f("currency"), p.Currency, err.Error()+" (required with a price)")
			} else if n, err := ingest.ParseAmount(p.Price, cur); err != nil {
				c.fail(i, -1, f("price"), p.Price, err.Error())
			} else if n < 0 {
				c.fail(i, -1, f("price"), p.Price, "must not be negative")
			} else {
				row.Price, row.PriceSet, row.Currency = n, true, cur
			}
		}
		if !c.rejected[i] {
			rows = append(rows, row)
		}
	}
	refuse := func() pushResponse {
		res.Rejected = len(c.rejected)
		res.Accepted = res.Received - res.Rejected
		res.Inserted, res.Updated, res.Unchanged = 0, 0, 0
		return pushProblem(http.StatusUnprocessableEntity, phantomos.EINVALID,
			fmt.Sprintf("%d of %d products are invalid; nothing was written. Fix them, or send ?valid_only=true to write the valid ones.",
				res.Rejected, res.Received), map[string]any{"errors": c.errs, "result": res})
	}
	var resp pushResponse
	switch {
	case len(c.rejected) > 0 && !validOnly:
		resp = refuse()
	case len(rows) == 0:
		resp = pushResponse{status: http.StatusOK, body: res}
	default:
		spec := store.ImportSpec{Kind: store.ImportProducts, Format: "push", FileName: "POST /api/v1/products", ConnectorID: connID,
			ValidOnly: validOnly, DryRun: dry, CreatedBy: a.UserID}
		if connID == "" {
			spec.Source = source
		}
		rep, err := s.store.Import(ctx, a.PublisherID, spec, func(w *store.ImportWriter) error {
			w.AddSeen(int64(len(rows)))
			return w.WriteProducts(ctx, rows)
		})
		if err != nil {
			if phantomos.ErrorCode(err) == phantomos.EINVALID && rep != nil {
				for _, e := range rep.Errors {
					c.fail(int(e.Line)-1, -1, fmt.Sprintf("products[%d].%s", e.Line-1, e.Column), e.Value, e.Reason)
				}
				resp = refuse()
				break
			}
			return pushResponse{}, err
		}
		res.Inserted, res.Updated, res.Unchanged = rep.Inserted, rep.Updated, rep.Skipped
		resp = pushResponse{status: http.StatusOK, body: res}
	}
	res.Rejected = len(c.rejected)
	res.Accepted = res.Received - res.Rejected
	res.Errors = c.errs
	if res.Errors == nil {
		res.Errors = []store.PushRejection{}
	}
	if !dry && connID != "" {
		l := store.PushLog{ConnectorID: connID, Kind: "products", Status: resp.status, Orders: int64(len(body.Products)),
			Failed: int64(len(c.rejected)), Rejected: c.errs}
		if err := s.store.LogPush(context.WithoutCancel(ctx), a.PublisherID, l); err != nil {
			s.logger.Error("log push", "err", err)
		}
	}
	return resp, nil
}
