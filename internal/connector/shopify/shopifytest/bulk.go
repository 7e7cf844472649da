package shopifytest

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Bulk operations: bulkOperationRunQuery starts an export of the orders
// (the only root the fake exports), bulkOperation(id) and
// currentBulkOperation poll it, and its url serves the JSONL result: one
// line per order, followed by one line per line item, refund line, order
// adjustment and refunded shipping line, each naming its parent in
// __parentId (groupObjects). Each poll moves an operation one step,
// CREATED → RUNNING → COMPLETED. One operation runs per shop at a time.

// BulkOp is a bulk operation of the fake shop.
type BulkOp struct {
	ID        int64
	Status    string // CREATED, RUNNING, COMPLETED, FAILED, CANCELED, EXPIRED
	ErrorCode string // ACCESS_DENIED, INTERNAL_SERVER_ERROR, TIMEOUT when FAILED
	Query     string
	CreatedAt time.Time
	Objects   int64
	orders    []int64  // the orders exported, by id, in update order
	result    []*Order // their state when the operation completed: the result file is fixed
	polls     int
}

// BulkFault changes how the next bulk operations go.
type BulkFault struct {
	// FailWith makes the next operation fail with this error code
	// (ACCESS_DENIED, INTERNAL_SERVER_ERROR, TIMEOUT) when it would
	// complete.
	FailWith string
	// DropAfter makes the next download of a result break the connection
	// after this many lines (0: no drop).
	DropAfter int
}

var (
	bulkQueryArg    = regexp.MustCompile(`(?s)^\s*\{\s*orders\b`)
	processedFilter = regexp.MustCompile(`processed_at:(>=|<=|>|<)'?([0-9T:\-+.Z]+)'?`)
)

// DropSubscriptions deletes every webhook subscription, as Shopify does
// after deliveries keep failing.
func (s *Server) DropSubscriptions() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.subs = nil
}

// InjectBulk queues a fault for bulk operations.
func (s *Server) InjectBulk(f BulkFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bulkFaults = append(s.bulkFaults, f)
}

// BulkOps returns the bulk operations run so far, oldest first.
func (s *Server) BulkOps() []BulkOp {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []BulkOp
	for _, op := range s.bulkOps {
		c := *op
		c.orders, c.result = nil, nil
		out = append(out, c)
	}
	return out
}

// ExpireBulk makes the results of every completed operation expire, as
// Shopify's do after seven days: their status becomes EXPIRED and their
// URLs answer 403.
func (s *Server) ExpireBulk() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, op := range s.bulkOps {
		if op.Status == "COMPLETED" {
			op.Status = "EXPIRED"
		}
	}
}

// Spent returns the actual query cost paid so far, in points: at
// Shopify's standard restore rate of 100 points a second, a sync takes at
// least Spent()/100 seconds.
func (s *Server) Spent() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.spent
}

// BulkDownloads counts the downloads of bulk results started.
func (s *Server) BulkDownloads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bulkDownloads
}

// moreGraphQL answers the bulk operation fields and the list of webhook
// subscriptions; ok is false for others.
func (s *Server) moreGraphQL(op string, vars map[string]any) (data map[string]any, cost float64, errMsg string, ok bool) {
	switch op {
	case "webhookSubscriptions":
		var nodes []map[string]any
		for _, x := range s.subs {
			nodes = append(nodes, map[string]any{"id": gid("WebhookSubscription", x.ID), "topic": x.Topic, "uri": x.URI})
		}
		return map[string]any{"webhookSubscriptions": map[string]any{"pageInfo": map[string]any{"hasNextPage": false, "endCursor": nil},
			"nodes": nonNil(nodes)}}, float64(2 + len(nodes)), "", true
	case "bulkOperationRunQuery":
		return s.bulkRun(vars), 10, "", true
	case "bulkOperation":
		id := parseGID(stringVar(vars, "id"))
		for _, b := range s.bulkOps {
			if b.ID == id {
				return map[string]any{"bulkOperation": s.bulkPoll(b)}, 1, "", true
			}
		}
		return map[string]any{"bulkOperation": nil}, 1, "", true
	case "currentBulkOperation":
		if len(s.bulkOps) == 0 {
			return map[string]any{"currentBulkOperation": nil}, 1, "", true
		}
		return map[string]any{"currentBulkOperation": s.bulkPoll(s.bulkOps[len(s.bulkOps)-1])}, 1, "", true
	}
	return nil, 0, "", false
}

func (s *Server) bulkRun(vars map[string]any) map[string]any {
	userError := func(code, msg string) map[string]any {
		return map[string]any{"bulkOperationRunQuery": map[string]any{"bulkOperation": nil,
			"userErrors": []map[string]any{{"field": []string{"query"}, "message": msg, "code": code}}}}
	}
	q := stringVar(vars, "query")
	if s.schema != nil {
		// Shopify validates the bulk query as any other document.
		if errs := s.schema.Validate(q); len(errs) > 0 {
			s.refused++
			return userError("INVALID", "Invalid bulk query: "+errs.Error())
		}
	}
	if !bulkQueryArg.MatchString(q) {
		return userError("INVALID", "The fake exports orders only: the query must select orders.")
	}
	for _, b := range s.bulkOps {
		if b.Status == "CREATED" || b.Status == "RUNNING" {
			return userError("OPERATION_IN_PROGRESS", fmt.Sprintf("A bulk query operation for this app and shop is already in progress: %s.", gid("BulkOperation", b.ID)))
		}
	}
	b := &BulkOp{ID: s.id(), Status: "CREATED", Query: q, CreatedAt: s.now}
	var all []*Order
	for _, o := range s.orders {
		all = append(all, o)
	}
	slices.SortFunc(all, func(x, y *Order) int {
		if c := x.UpdatedAt.Compare(y.UpdatedAt); c != 0 {
			return c
		}
		return int(x.ID - y.ID)
	})
	for _, o := range all {
		b.orders = append(b.orders, o.ID)
	}
	s.bulkOps = append(s.bulkOps, b)
	return map[string]any{"bulkOperationRunQuery": map[string]any{"bulkOperation": s.bulkJSON(b), "userErrors": []map[string]any{}}}
}

// bulkPoll moves b one step on and returns it.
func (s *Server) bulkPoll(b *BulkOp) map[string]any {
	b.polls++
	switch b.Status {
	case "CREATED":
		b.Status = "RUNNING"
	case "RUNNING":
		if len(s.bulkFaults) > 0 && s.bulkFaults[0].FailWith != "" {
			b.Status, b.ErrorCode = "FAILED", s.bulkFaults[0].FailWith
			s.bulkFaults = s.bulkFaults[1:]
			break
		}
		b.Status = "COMPLETED"
		b.Objects = 0
		for _, id := range b.orders {
			if o, ok := s.orders[id]; ok {
				c := cloneOrder(o)
				b.result = append(b.result, &c)
				b.Objects += int64(1 + len(o.Lines))
				for _, r := range o.Refunds {
					b.Objects += int64(len(r.Lines) + len(r.Adjustments))
					if r.Shipping != "" {
						b.Objects++
					}
				}
			}
		}
	}
	return s.bulkJSON(b)
}

func (s *Server) bulkJSON(b *BulkOp) map[string]any {
	j := map[string]any{"id": gid("BulkOperation", b.ID), "status": b.Status, "errorCode": nil, "createdAt": rfc(b.CreatedAt),
		"completedAt": nil, "objectCount": fmt.Sprint(b.Objects), "rootObjectCount": fmt.Sprint(len(b.orders)),
		"url": nil, "partialDataUrl": nil, "query": b.Query, "type": "QUERY", "fileSize": nil}
	if b.ErrorCode != "" {
		j["errorCode"] = b.ErrorCode
	}
	if b.Status == "COMPLETED" || b.Status == "EXPIRED" {
		j["completedAt"] = rfc(b.CreatedAt)
		if b.Objects > 0 {
			// Shopify signs a storage URL; the fake's is its own address.
			j["url"] = fmt.Sprintf("%s/bulk/%d.jsonl?X-Goog-Signature=%s", s.URL, b.ID, randomHex(8))
		}
	}
	return j
}

// handleBulkDownload serves a result, rendered one order at a time from
// the orders as they were when the operation completed.
func (s *Server) handleBulkDownload(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	var b *BulkOp
	for _, x := range s.bulkOps {
		if fmt.Sprintf("%d.jsonl", x.ID) == r.PathValue("file") {
			b = x
		}
	}
	if b == nil || b.Status != "COMPLETED" {
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<?xml version='1.0' encoding='UTF-8'?><Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>`)
		return
	}
	s.bulkDownloads++
	drop := 0
	if len(s.bulkFaults) > 0 && s.bulkFaults[0].DropAfter > 0 {
		drop = s.bulkFaults[0].DropAfter
		s.bulkFaults = s.bulkFaults[1:]
	}
	result := b.result
	s.mu.Unlock()

	w.Header().Set("Content-Type", "application/jsonl")
	bw := bufio.NewWriterSize(w, 64<<10)
	lines := 0
	enc := json.NewEncoder(bw)
	addresses := strings.Contains(b.Query, "shippingAddress")
	for start := 0; start < len(result); start += 500 {
		// Render a chunk under the lock (rendering reads the options), write
		// it without.
		var chunk []map[string]any
		s.mu.Lock()
		for _, o := range result[start:min(start+500, len(result))] {
			chunk = append(chunk, s.bulkOrderLines(o, addresses)...)
		}
		s.mu.Unlock()
		for _, l := range chunk {
			if drop > 0 && lines == drop {
				bw.Flush()
				panic(http.ErrAbortHandler) // the connection breaks mid-stream
			}
			if err := enc.Encode(l); err != nil {
				return
			}
			lines++
		}
	}
	bw.Flush()
}

// bulkOrderLines renders o as the lines of a grouped bulk result.
func (s *Server) bulkOrderLines(o *Order, addresses bool) []map[string]any {
	full := shape{lines: len(o.Lines), refunds: len(o.Refunds), addresses: addresses}
	root, _ := s.orderJSON(o, full)
	delete(root, "lineItems")
	pc := s.presentment(o)
	oid := gid("Order", o.ID)
	var refunds []map[string]any
	var children []map[string]any
	for i := range o.Refunds {
		r := &o.Refunds[i]
		rj, _ := s.refundJSON(o, r, len(r.Lines), "")
		rid := gid("Refund", r.ID)
		for _, conn := range []string{"refundLineItems", "orderAdjustments", "refundShippingLines"} {
			nodes, _ := rj[conn].(map[string]any)["nodes"].([]map[string]any)
			for k, n := range nodes {
				n["__parentId"] = rid
				if _, ok := n["id"]; !ok {
					n["id"] = gid(strings.ToUpper(conn[:1])+conn[1:len(conn)-1], r.ID*1000+int64(k))
				}
				children = append(children, n)
			}
			delete(rj, conn)
		}
		refunds = append(refunds, rj)
	}
	root["refunds"] = nonNil(refunds)
	out := []map[string]any{root}
	for i := range o.Lines {
		l := s.lineJSON(o, &o.Lines[i], pc)
		l["__parentId"] = oid
		out = append(out, l)
	}
	return append(out, children...)
}

// timeFilter compiles the comparisons of a search query's field (re
// matches field:OP'TIME') into a test of a time.
func timeFilter(re *regexp.Regexp, query string) func(time.Time) bool {
	type term struct {
		op string
		v  time.Time
	}
	var terms []term
	for _, m := range re.FindAllStringSubmatch(query, -1) {
		v, err := time.Parse(time.RFC3339, m[2])
		if err != nil {
			if v, err = time.Parse(time.DateOnly, m[2]); err != nil {
				continue
			}
		}
		terms = append(terms, term{m[1], v})
	}
	return func(t time.Time) bool {
		for _, c := range terms {
			switch {
			case c.op == ">=" && t.Before(c.v), c.op == ">" && !t.After(c.v),
				c.op == "<=" && t.After(c.v), c.op == "<" && !t.Before(c.v):
				return false
			}
		}
		return true
	}
}

// sortedOrders returns the orders by (updated, id), kept between changes
// so that paging a large shop does not sort it for every page.
func (s *Server) sortedOrders() []*Order {
	if s.orderIndex == nil {
		for _, o := range s.orders {
			s.orderIndex = append(s.orderIndex, o)
		}
		slices.SortFunc(s.orderIndex, func(x, y *Order) int {
			if c := x.UpdatedAt.Compare(y.UpdatedAt); c != 0 {
				return c
			}
			return cmp.Compare(x.ID, y.ID)
		})
	}
	return s.orderIndex
}
