package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// ingestKey creates an ingest-scoped key of the tenant's owner.
func ingestKey(t *testing.T, s *store.Store, tn tenant) string {
	t.Helper()
	ctx := context.Background()
	tok := apiKeyPrefix + auth.NewToken()
	id, err := s.CreateAPIKey(ctx, tn.pub.ID, tn.users[phantomos.RoleOwner].ID, "erp", tok[:10], auth.HashToken(tok), phantomos.RoleMember)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetAPIKeyScope(ctx, tn.pub.ID, id, phantomos.ScopeIngest); err != nil {
		t.Fatal(err)
	}
	return tok
}

type pushReply struct {
	status int
	header http.Header
	body   string
}

func (p pushReply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(p.body), &m); err != nil {
		t.Fatalf("reply %d is not JSON: %v: %s", p.status, err, p.body)
	}
	return m
}

func push(t *testing.T, ts *httptest.Server, key, method, path, idem string, body []byte) pushReply {
	t.Helper()
	resp, err := http.DefaultClient.Do(pushRequest(t, ts, key, method, path, idem, body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return pushReply{resp.StatusCode, resp.Header, string(b)}
}

// pushRequest builds a push API request with key, and Idempotency-Key idem
// unless empty.
func pushRequest(t *testing.T, ts *httptest.Server, key, method, path, idem string, body []byte) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	return req
}

// order builds one order of n lines.
func testOrder(id, updated string, n int, gross string) map[string]any {
	var lines []any
	for i := range n {
		lines = append(lines, map[string]any{"line_id": strconv.Itoa(i + 1), "product_id": "tee-" + strconv.Itoa(i), "name": "Hero Tee",
			"quantity": 2, "gross": gross, "discount": "1.00", "tax": "0.50", "shipping": "0.25"})
	}
	o := map[string]any{"order_id": id, "order_date": "2026-11-02T10:00:00Z", "currency": "USD", "country": "US", "channel": "web", "lines": lines}
	if updated != "" {
		o["updated_at"] = updated
	}
	return o
}

func pushBatch(t *testing.T, orders ...any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"source": "Web store", "orders": orders})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func salesCount(t *testing.T, s *store.Store, pub phantomos.PublisherID) (lines, gross int64) {
	t.Helper()
	err := s.DB().QueryRowContext(context.Background(), `SELECT COUNT(*), COALESCE(SUM(gross), 0) FROM sales WHERE publisher_id = $1`, pub).Scan(&lines, &gross)
	if err != nil {
		t.Fatal(err)
	}
	return lines, gross
}

func TestPushOrdersIdempotency(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		tn := newTenant(t, s, "alpha")
		_, ts := newTestServer(t, s)
		key := ingestKey(t, s, tn)
		body := pushBatch(t, testOrder("1001", "2026-11-02T10:00:00Z", 2, "20.00"), testOrder("1002", "", 1, "5.00"))

		first := push(t, ts, key, "POST", "/api/v1/orders", "key-1", body)
		if first.status != http.StatusOK {
			t.Fatalf("push: %d %s", first.status, first.body)
		}
		if got := first.json(t); got["inserted"] != float64(3) || got["accepted"] != float64(2) {
			t.Errorf("push result %v, want 3 lines inserted of 2 orders", got)
		}
		if n, g := salesCount(t, s, tn.pub.ID); n != 3 || g != 4500 {
			t.Errorf("stored %d lines of %d gross, want 3 of 4500", n, g)
		}
		// The same key and body: the first answer again, nothing written.
		again := push(t, ts, key, "POST", "/api/v1/orders", "key-1", body)
		if again.status != first.status || again.body != first.body || again.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay: %d %q (replayed %q), want the first answer %q", again.status, again.body, again.header.Get("Idempotent-Replayed"), first.body)
		}
		// The same key with another body: 422, nothing written.
		other := push(t, ts, key, "POST", "/api/v1/orders", "key-1", pushBatch(t, testOrder("1003", "", 1, "9.00")))
		if other.status != http.StatusUnprocessableEntity || !strings.Contains(other.header.Get("Content-Type"), "problem+json") {
			t.Errorf("reused key: %d %s, want 422 problem+json", other.status, other.body)
		}
		if n, _ := salesCount(t, s, tn.pub.ID); n != 3 {
			t.Errorf("after replays: %d lines, want 3", n)
		}
		// Without a key, the same body is an upsert: nothing new.
		plain := push(t, ts, key, "POST", "/api/v1/orders", "", body)
		if got := plain.json(t); plain.status != 200 || got["inserted"] != float64(0) || got["unchanged"] != float64(3) {
			t.Errorf("re-push: %d %v, want 3 unchanged", plain.status, got)
		}
		if err := s.CheckRollups(context.Background(), tn.pub.ID); err != nil {
			t.Error(err)
		}
	})
}

// TestPushConcurrentKey sends one key from several clients at once: one
// runs and the others get its answer or 409 with Retry-After; the lines are
// written once.
func TestPushConcurrentKey(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		tn := newTenant(t, s, "alpha")
		_, ts := newTestServer(t, s)
		key := ingestKey(t, s, tn)
		body := pushBatch(t, testOrder("2001", "", 50, "3.00"))
		var wg sync.WaitGroup
		replies := make([]pushReply, 6)
		for i := range replies {
			wg.Go(func() { replies[i] = push(t, ts, key, "POST", "/api/v1/orders", "same", body) })
		}
		wg.Wait()
		ran := 0
		for _, r := range replies {
			switch {
			case r.status == http.StatusOK && r.header.Get("Idempotent-Replayed") == "":
				ran++
			case r.status == http.StatusOK:
			case r.status == http.StatusConflict && r.header.Get("Retry-After") != "":
			default:
				t.Errorf("concurrent push: %d %s", r.status, r.body)
			}
		}
		if ran != 1 {
			t.Errorf("%d pushes ran, want 1", ran)
		}
		if n, _ := salesCount(t, s, tn.pub.ID); n != 50 {
			t.Errorf("%d lines stored, want 50", n)
		}
	})
}

func TestPushValidation(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		tn := newTenant(t, s, "alpha")
		_, ts := newTestServer(t, s)
		key := ingestKey(t, s, tn)
		good := testOrder("3001", "", 1, "10.00")
		bad := func(edit func(o map[string]any)) map[string]any {
			o := testOrder("bad", "", 2, "10.00")
			edit(o)
			return o
		}
		line := func(o map[string]any, i int) map[string]any { return o["lines"].([]any)[i].(map[string]any) }
		cases := []struct {
			name   string
			body   []byte
			status int
			field  string // in the problem's detail or errors
		}{
			{"malformed JSON", []byte(`{"source": "Web store", "orders": [`), 400, "byte"},
			{"wrong type", []byte(`{"source": "Web store", "orders": [{"order_id": "1", "lines": [{"gross": 19.99}]}]}`), 400, "orders.lines.gross"},
			{"unknown field", []byte(`{"source": "Web store", "oders": []}`), 400, "oders"},
			{"unknown currency", pushBatch(t, good, bad(func(o map[string]any) { o["currency"] = "XYZ" })), 422, "orders[1].currency"},
			{"unparseable date", pushBatch(t, good, bad(func(o map[string]any) { o["order_date"] = "yesterday" })), 422, "orders[1].order_date"},
			{"far-future date", pushBatch(t, good, bad(func(o map[string]any) { o["order_date"] = "2999-01-01T00:00:00Z" })), 422, "orders[1].order_date"},
			{"amount overflow", pushBatch(t, good, bad(func(o map[string]any) { line(o, 1)["gross"] = "92233720368547758.08" })), 422, "orders[1].lines[1].gross"},
			{"quantity overflow", pushBatch(t, good, bad(func(o map[string]any) { line(o, 0)["quantity"] = json.Number("9223372036854775808") })), 422, "orders[1].lines[0].quantity"},
			{"duplicate line", pushBatch(t, good, bad(func(o map[string]any) { line(o, 1)["line_id"] = "1" })), 422, "orders[1].lines[1].line_id"},
			{"duplicate order", pushBatch(t, good, testOrder("3001", "", 1, "2.00")), 422, "orders[1].order_id"},
			{"no exchange rate", pushBatch(t, good, bad(func(o map[string]any) { o["currency"] = "GBP" })), 422, "orders[1]"},
		}
		for _, c := range cases {
			r := push(t, ts, key, "POST", "/api/v1/orders", "", c.body)
			if r.status != c.status || !strings.Contains(r.header.Get("Content-Type"), "problem+json") || !strings.Contains(r.body, c.field) {
				t.Errorf("%s: %d %s %s, want %d problem+json naming %s", c.name, r.status, r.header.Get("Content-Type"), r.body, c.status, c.field)
			}
			if n, _ := salesCount(t, s, tn.pub.ID); n != 0 {
				t.Fatalf("%s: %d lines written, want none", c.name, n)
			}
		}
		// Per-row errors say index, field, value and reason.
		r := push(t, ts, key, "POST", "/api/v1/orders", "", pushBatch(t, good, bad(func(o map[string]any) { o["currency"] = "XYZ" })))
		var p struct {
			Errors []store.PushRejection `json:"errors"`
		}
		json.Unmarshal([]byte(r.body), &p)
		if len(p.Errors) != 1 || p.Errors[0] != (store.PushRejection{Index: 1, Line: -1, Field: "orders[1].currency", Value: "XYZ", Reason: "is not a known ISO 4217 currency"}) {
			t.Errorf("errors %+v", p.Errors)
		}
		// valid_only writes the valid order and reports the other.
		r = push(t, ts, key, "POST", "/api/v1/orders?valid_only=true", "", pushBatch(t, good, bad(func(o map[string]any) { o["currency"] = "XYZ" })))
		if got := r.json(t); r.status != 200 || got["accepted"] != float64(1) || got["rejected"] != float64(1) || len(got["errors"].([]any)) != 1 {
			t.Errorf("valid_only: %d %s", r.status, r.body)
		}
		if n, _ := salesCount(t, s, tn.pub.ID); n != 1 {
			t.Errorf("valid_only: %d lines, want the valid order's 1", n)
		}
		// A dry run (flag or test field) validates and writes nothing.
		for _, path := range []string{"/api/v1/orders?dry_run=true", "/api/v1/orders"} {
			b := pushBatch(t, testOrder("3002", "", 4, "1.00"))
			if path == "/api/v1/orders" {
				b = []byte(strings.Replace(string(b), `"source"`, `"test": true, "source"`, 1))
			}
			r := push(t, ts, key, "POST", path, "", b)
			if got := r.json(t); r.status != 200 || got["dry_run"] != true || got["inserted"] != float64(4) {
				t.Errorf("dry run %s: %d %s", path, r.status, r.body)
			}
		}
		if n, _ := salesCount(t, s, tn.pub.ID); n != 1 {
			t.Errorf("after dry runs: %d lines, want 1", n)
		}
		// Too large: refused by the announced length, and by line count.
		big := bytes.Repeat([]byte(" "), maxPushBody+1)
		if r := push(t, ts, key, "POST", "/api/v1/orders", "", big); r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("over 1 MiB: %d %s", r.status, r.body)
		}
		if r := push(t, ts, key, "POST", "/api/v1/orders", "", pushBatch(t, testOrder("4001", "", 1001, "1.00"))); r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("1001 lines: %d %s", r.status, r.body)
		}
	})
}

func TestPushTombstoneAndProducts(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tn := newTenant(t, s, "alpha")
		_, ts := newTestServer(t, s)
		key := ingestKey(t, s, tn)
		prods, _ := json.Marshal(map[string]any{"source": "Web store", "products": []any{
			map[string]any{"external_id": "tee-0", "sku": "T0", "name": "Hero Tee", "category": "apparel", "price": "19.99", "currency": "USD"},
		}})
		if r := push(t, ts, key, "POST", "/api/v1/products", "", prods); r.status != 200 || r.json(t)["inserted"] != float64(1) {
			t.Fatalf("products: %d %s", r.status, r.body)
		}
		if r := push(t, ts, key, "POST", "/api/v1/orders", "", pushBatch(t, testOrder("5001", "", 2, "10.00"), testOrder("5002", "", 1, "7.00"))); r.status != 200 {
			t.Fatalf("push: %d %s", r.status, r.body)
		}
		r := push(t, ts, key, "DELETE", "/api/v1/orders/Web%20store/5001", "", nil)
		if r.status != 200 || r.json(t)["deleted_lines"] != float64(2) {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		if n, g := salesCount(t, s, tn.pub.ID); n != 1 || g != 700 {
			t.Errorf("after tombstone: %d lines %d gross, want 1 of 700", n, g)
		}
		if err := s.CheckRollups(ctx, tn.pub.ID); err != nil {
			t.Error(err)
		}
		var units int64
		if err := s.DB().QueryRowContext(ctx, `SELECT COALESCE(SUM(units), 0) FROM product_daily WHERE publisher_id = $1`, tn.pub.ID).Scan(&units); err != nil || units != 2 {
			t.Errorf("rollup units %d (%v), want 2", units, err)
		}
		if r := push(t, ts, key, "DELETE", "/api/v1/orders/No%20such/5001", "", nil); r.status != 404 {
			t.Errorf("unknown source: %d", r.status)
		}
		// The connector page counts the pushes.
		id, err := s.FindCustomConnector(ctx, tn.pub.ID, "Web store")
		if err != nil {
			t.Fatal(err)
		}
		st, err := s.PushStats(ctx, tn.pub.ID, id, 5)
		if err != nil || st.Pushes != 3 || st.LastPush == nil {
			t.Errorf("push stats %+v, %v", st, err)
		}
	})
}

// TestIngestKeyScope: an ingest key pushes and reads nothing; per-key rate
// limiting answers 429 with Retry-After.
func TestIngestKeyScope(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		tn := newTenant(t, s, "alpha")
		srv, ts := newTestServer(t, s)
		key := ingestKey(t, s, tn)
		for _, path := range []string{"/api/v1/me", "/api/analytics", "/api/v1/connectors", "/api/products/mapping", "/api/openapi.json"} {
			if r := push(t, ts, key, "GET", path, "", nil); r.status != http.StatusForbidden {
				t.Errorf("GET %s with an ingest key: %d, want 403", path, r.status)
			}
		}
		if r := push(t, ts, key, "POST", "/api/sales/import", "", []byte("x")); r.status != http.StatusForbidden {
			t.Errorf("file import with an ingest key: %d, want 403", r.status)
		}
		srv.SetKeyRate(0.01, 2)
		var limited pushReply
		for i := range 3 {
			limited = push(t, ts, key, "POST", "/api/v1/orders", "", pushBatch(t, testOrder(fmt.Sprint(6000+i), "", 1, "1.00")))
		}
		if limited.status != http.StatusTooManyRequests || limited.header.Get("Retry-After") == "" {
			t.Errorf("third request at 2 per burst: %d (Retry-After %q), want 429", limited.status, limited.header.Get("Retry-After"))
		}
		if secs, _ := strconv.Atoi(limited.header.Get("Retry-After")); secs < 1 {
			t.Errorf("Retry-After %q", limited.header.Get("Retry-After"))
		}
	})
}

func TestKeyLimiterBounded(t *testing.T) {
	l := newKeyLimiter(1, 1, 3)
	now := phantomos.Day("2026-12-01").Time()
	for i := range 10 {
		if w := l.take(strconv.Itoa(i), now); w != 0 {
			t.Fatalf("first request of key %d waits %v", i, w)
		}
	}
	if len(l.buckets) > 3 {
		t.Errorf("%d buckets kept, want at most 3", len(l.buckets))
	}
	if w := l.take("9", now); w <= 0 {
		t.Errorf("second request of a key at rate 1/s: wait %v, want > 0", w)
	}
}

// TestCustomConnectorPage: the page of a custom source counts its pushes,
// lists rejected rows and shows a curl example, and creates no key.
func TestCustomConnectorPage(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tn := newTenant(t, s, "alpha")
		_, ts := newTestServer(t, s)
		key := ingestKey(t, s, tn)
		bad := testOrder("7002", "", 1, "1.00")
		bad["currency"] = "XYZ"
		if r := push(t, ts, key, "POST", "/api/v1/orders?valid_only=true", "", pushBatch(t, testOrder("7001", "", 1, "1.00"), bad)); r.status != 200 {
			t.Fatalf("push: %d %s", r.status, r.body)
		}
		if r := push(t, ts, key, "POST", "/api/v1/orders", "", pushBatch(t, bad)); r.status != 422 {
			t.Fatalf("bad push: %d %s", r.status, r.body)
		}
		id, err := s.FindCustomConnector(ctx, tn.pub.ID, "Web store")
		if err != nil {
			t.Fatal(err)
		}
		keys, _ := s.APIKeys(ctx, tn.pub.ID)
		for _, role := range []phantomos.Role{phantomos.RoleOwner, phantomos.RoleAnalyst} {
			req := request(t, ts, "GET /connectors/{id}", id)
			req.AddCookie(cookie(t, s, tn.users[role]))
			st, body := do(t, req)
			for _, want := range []string{`id="push-count">2<`, `id="push-refused">1<`, `id="push-rejected">2<`, "orders[1].currency", "is not a known ISO 4217 currency",
				"curl -X POST " + ts.URL + "/api/v1/orders", "Idempotency-Key", "ingest"} {
				if st != 200 || !strings.Contains(body, want) {
					t.Errorf("custom connector page as %s: %d, missing %q", role, st, want)
				}
			}
		}
		if after, _ := s.APIKeys(ctx, tn.pub.ID); len(after) != len(keys) {
			t.Errorf("the page created keys: %d, then %d", len(keys), len(after))
		}
	})
}

// TestPushOlderUpdateIgnored: an order older (updated_at) than the stored
// one is not written and is named in the answer; a newer one replaces the
// order whole.
func TestPushOlderUpdateIgnored(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		tn := newTenant(t, s, "alpha")
		_, ts := newTestServer(t, s)
		key := ingestKey(t, s, tn)
		if r := push(t, ts, key, "POST", "/api/v1/orders", "", pushBatch(t, testOrder("8001", "2026-11-03T12:00:00Z", 2, "10.00"))); r.status != 200 {
			t.Fatalf("push: %d %s", r.status, r.body)
		}
		old := push(t, ts, key, "POST", "/api/v1/orders", "", pushBatch(t, testOrder("8001", "2026-11-03T11:00:00Z", 2, "99.00"), testOrder("8002", "", 1, "1.00")))
		got := old.json(t)
		if old.status != 200 || got["stale"] != float64(1) || fmt.Sprint(got["stale_orders"]) != "[8001]" || got["inserted"] != float64(1) {
			t.Errorf("older update: %d %s, want order 8001 reported stale and 8002 written", old.status, old.body)
		}
		if n, g := salesCount(t, s, tn.pub.ID); n != 3 || g != 2100 {
			t.Errorf("after the older update: %d lines %d gross, want 3 of 2100", n, g)
		}
		newer := push(t, ts, key, "POST", "/api/v1/orders", "", pushBatch(t, testOrder("8001", "2026-11-04T09:00:00Z", 1, "12.00")))
		if got := newer.json(t); newer.status != 200 || got["stale"] != float64(0) || got["removed_lines"] != float64(1) {
			t.Errorf("newer update: %d %s, want the order replaced (1 line removed)", newer.status, newer.body)
		}
		if n, g := salesCount(t, s, tn.pub.ID); n != 2 || g != 1300 {
			t.Errorf("after the newer update: %d lines %d gross, want 2 of 1300", n, g)
		}
		if err := s.CheckRollups(context.Background(), tn.pub.ID); err != nil {
			t.Error(err)
		}
	})
}

// TestPushTombstoneSurvivesOlderPush: a deleted order stays deleted when a
// late push of a version not newer than the deletion arrives (also one
// without updated_at); a newer version restores it; a deletion older than
// the stored version changes nothing.
func TestPushTombstoneSurvivesOlderPush(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tn := newTenant(t, s, "alpha")
		_, ts := newTestServer(t, s)
		key := ingestKey(t, s, tn)
		old := "2026-11-02T10:00:00Z"
		if r := push(t, ts, key, "POST", "/api/v1/orders", "", pushBatch(t, testOrder("7001", old, 2, "10.00"),
			testOrder("7002", "2026-11-05T10:00:00Z", 1, "3.00"))); r.status != 200 {
			t.Fatalf("push: %d %s", r.status, r.body)
		}
		if r := push(t, ts, key, "DELETE", "/api/v1/orders/Web%20store/7001", "", nil); r.status != 200 || r.json(t)["deleted_lines"] != float64(2) {
			t.Fatalf("delete: %d %s", r.status, r.body)
		}
		// The same old version again, and one without a time: ignored.
		for _, upd := range []string{old, ""} {
			r := push(t, ts, key, "POST", "/api/v1/orders", "", pushBatch(t, testOrder("7001", upd, 2, "10.00")))
			got := r.json(t)
			if r.status != 200 || got["inserted"] != float64(0) || got["stale"] != float64(1) {
				t.Errorf("late push (updated_at %q) of a deleted order: %d %s, want it stale", upd, r.status, r.body)
			}
			if n, g := salesCount(t, s, tn.pub.ID); n != 1 || g != 300 {
				t.Errorf("after a late push: %d lines %d gross, want only 7002", n, g)
			}
		}
		// A deletion as of before the stored version: nothing goes.
		r := push(t, ts, key, "DELETE", "/api/v1/orders/Web%20store/7002?updated_at=2026-11-04T00:00:00Z", "", nil)
		if got := r.json(t); r.status != 200 || got["deleted_lines"] != float64(0) || got["stale"] != true {
			t.Errorf("older delete: %d %s", r.status, r.body)
		}
		if r := push(t, ts, key, "DELETE", "/api/v1/orders/Web%20store/7002?updated_at=tomorrow", "", nil); r.status != http.StatusBadRequest && r.status != http.StatusUnprocessableEntity {
			t.Errorf("bad updated_at: %d", r.status)
		}
		// A newer version restores the order.
		newer := time.Now().UTC().Add(time.Minute).Format(time.RFC3339)
		if r := push(t, ts, key, "POST", "/api/v1/orders", "", pushBatch(t, testOrder("7001", newer, 1, "4.00"))); r.status != 200 || r.json(t)["inserted"] != float64(1) {
			t.Errorf("newer version: %d %s", r.status, r.body)
		}
		if n, g := salesCount(t, s, tn.pub.ID); n != 2 || g != 700 {
			t.Errorf("after restore: %d lines %d gross, want 2, 700", n, g)
		}
		var tombs int
		s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM order_tombstones WHERE publisher_id = $1`, tn.pub.ID).Scan(&tombs)
		if tombs != 0 {
			t.Errorf("%d tombstones after the restore, want 0", tombs)
		}
		if err := s.CheckRollups(ctx, tn.pub.ID); err != nil {
			t.Error(err)
		}
	})
}
