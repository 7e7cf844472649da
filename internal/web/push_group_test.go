package web

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// groupPush is one push of a group test.
type groupPush struct {
	query string // "" or "?valid_only=true"
	idem  string
	body  []byte
}

// queuedPushes sends the pushes while the publisher's write turn is held,
// each once the one before waits for the turn (or has been answered, when
// it is refused before it writes), so that they queue in order; then it
// gives the turn back and returns the replies in order.
func queuedPushes(t *testing.T, srv *Server, ts *httptest.Server, key string, pub phantomos.PublisherID, pushes []groupPush) []pushReply {
	t.Helper()
	sl := srv.pushes.slot(string(pub))
	unlock, err := srv.pushes.lock(context.Background(), string(pub))
	if err != nil {
		t.Fatal(err)
	}
	replies := make([]pushReply, len(pushes))
	var wg sync.WaitGroup
	for i, p := range pushes {
		waiting := func() int { sl.mu.Lock(); defer sl.mu.Unlock(); return len(sl.waiting) }
		before := waiting()
		answered := make(chan struct{})
		wg.Go(func() {
			defer close(answered)
			replies[i] = push(t, ts, key, "POST", "/api/v1/orders"+p.query, p.idem, p.body)
		})
		for deadline := time.Now().Add(10 * time.Second); waiting() == before; {
			select {
			case <-answered:
			case <-time.After(time.Millisecond):
				if time.Now().After(deadline) {
					t.Fatalf("push %d neither waits for the turn nor is answered", i)
				}
				continue
			}
			break
		}
	}
	unlock()
	wg.Wait()
	return replies
}

// comparable strips what differs between two tenants (the source's id)
// and sorts what has no order.
func comparableReply(t *testing.T, r pushReply) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("reply %d is not JSON: %s", r.status, r.body)
	}
	for _, x := range []any{m, m["result"]} {
		if x, ok := x.(map[string]any); ok {
			delete(x, "connector_id")
			if so, ok := x["stale_orders"].([]any); ok {
				sort.Slice(so, func(i, j int) bool { return fmt.Sprint(so[i]) < fmt.Sprint(so[j]) })
			}
		}
	}
	b, _ := json.MarshalIndent(m, "", " ")
	return fmt.Sprintf("%d %s", r.status, b)
}

type storedLine struct {
	Order, Line        string
	Quantity, Gross    int64
	Net, NetReporting  int64
	UpdatedAt, Product string
}

// storedState is a tenant's sales lines and day rollups, with its rollups
// checked against its sales.
func storedState(t *testing.T, s *store.Store, pub phantomos.PublisherID) ([]storedLine, []string) {
	t.Helper()
	ctx := context.Background()
	if err := s.CheckRollups(ctx, pub); err != nil {
		t.Error(err)
	}
	rows, err := s.DB().QueryContext(ctx, `SELECT s.external_order_id, s.external_line_id, s.quantity, s.gross, s.net, s.net_reporting,
			s.order_updated_at, p.external_id
		FROM sales s JOIN products p ON p.id = s.product_id WHERE s.publisher_id = $1 ORDER BY 1, 2`, pub)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []storedLine
	for rows.Next() {
		var l storedLine
		var at sql.NullTime
		if err := rows.Scan(&l.Order, &l.Line, &l.Quantity, &l.Gross, &l.Net, &l.NetReporting, &at, &l.Product); err != nil {
			t.Fatal(err)
		}
		if at.Valid {
			l.UpdatedAt = at.Time.UTC().Format(time.RFC3339)
		}
		lines = append(lines, l)
	}
	days, err := s.DB().QueryContext(ctx, `SELECT CAST(day AS TEXT), SUM(orders), SUM(units), SUM(gross), SUM(net) FROM geo_daily
		WHERE publisher_id = $1 GROUP BY day ORDER BY 1`, pub)
	if err != nil {
		t.Fatal(err)
	}
	defer days.Close()
	var rollups []string
	for days.Next() {
		var day string
		var o, u, g, n int64
		if err := days.Scan(&day, &o, &u, &g, &n); err != nil {
			t.Fatal(err)
		}
		rollups = append(rollups, fmt.Sprintf("%.10s orders %d units %d gross %d net %d", day, o, u, g, n))
	}
	return lines, rollups
}

// pushRuns counts the imports that wrote a tenant's pushed orders.
func pushRuns(t *testing.T, s *store.Store, pub phantomos.PublisherID) map[string]int {
	t.Helper()
	runs, err := s.ImportRuns(context.Background(), pub, 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, r := range runs {
		if r.FileName == "POST /api/v1/orders" {
			n[r.State]++
		}
	}
	return n
}

func linesOf(o map[string]any, n int) map[string]any {
	o["lines"] = o["lines"].([]any)[:n]
	return o
}

// TestPushGroupSameAsOneByOne sends batches that wait for the write turn
// together, some sharing orders, and checks that they are written in fewer
// imports than batches, yet answer, store and roll up exactly as the same
// batches sent one after another; and that each one's Idempotency-Key
// replays its own answer.
func TestPushGroupSameAsOneByOne(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		srv, ts := newTestServer(t, s)
		grouped, alone := newTenant(t, s, "grouped"), newTenant(t, s, "alone")
		const t0, t1, t2, t3 = "2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z", "2026-11-04T00:00:00Z"
		// What both tenants hold before: orders 1 and 2 of three lines at
		// t1, order 3 deleted as of t1.
		seed := pushBatch(t, testOrder("1", t1, 3, "10.00"), testOrder("2", t1, 3, "10.00"), testOrder("3", t1, 1, "10.00"))
		batches := []groupPush{
			// Order 1 loses a line; order 10 is new.
			{"", "k1", pushBatch(t, linesOf(testOrder("1", t2, 3, "12.00"), 2), testOrder("10", t2, 2, "5.00"))},
			// Order 10 again, newer, with a third line: after the first.
			{"", "k2", pushBatch(t, testOrder("10", t3, 3, "6.00"))},
			// Order 2 older than stored (stale), order 3 older than its
			// deletion (stale), order 20 new.
			{"", "k3", pushBatch(t, testOrder("2", t0, 1, "99.00"), testOrder("3", t0, 1, "99.00"), testOrder("20", "", 1, "7.00"))},
			// Order 1 between its stored version and the first batch's:
			// stale once the first is written.
			{"", "k4", pushBatch(t, testOrder("30", t1, 2, "3.00"), testOrder("1", "2026-11-02T12:00:00Z", 1, "50.00"))},
			// Only new orders, one line changed from the seed's product.
			{"", "k5", pushBatch(t, testOrder("40", "", 4, "1.50"), testOrder("50", t3, 1, "2.50"))},
		}
		replies := map[string][]pushReply{}
		for _, tn := range []tenant{grouped, alone} {
			key := ingestKey(t, s, tn)
			if r := push(t, ts, key, "POST", "/api/v1/orders", "", seed); r.status != 200 {
				t.Fatalf("seed: %d %s", r.status, r.body)
			}
			if r := push(t, ts, key, "DELETE", "/api/v1/orders/Web%20store/3?updated_at="+t1, "", nil); r.status != 200 {
				t.Fatalf("delete: %d %s", r.status, r.body)
			}
			before := pushRuns(t, s, tn.pub.ID)
			if tn.pub.ID == grouped.pub.ID {
				m0 := groupMetrics(t, ts)
				replies["grouped"] = queuedPushes(t, srv, ts, key, tn.pub.ID, batches)
				// /metrics counts the two groups and their five batches.
				m1 := groupMetrics(t, ts)
				if d := m1.sub(m0); d.groups != 2 || d.batches != 5 || d.splits != 0 || d.seconds <= 0 {
					t.Errorf("/metrics counted %+v for the grouped pushes, want 2 groups of 5 batches, no split", d)
				}
				if g, b, _ := srv.PushGroups(); float64(g) != m1.groups || float64(b) != m1.batches {
					t.Errorf("PushGroups %d, %d; /metrics %+v", g, b, m1)
				}
			} else {
				for _, b := range batches {
					replies["alone"] = append(replies["alone"], push(t, ts, key, "POST", "/api/v1/orders"+b.query, b.idem, b.body))
				}
			}
			after := pushRuns(t, s, tn.pub.ID)
			// Two groups: 1, 3 and 5; then 2 and 4, which share orders
			// with the first group.
			want := len(batches)
			if tn.pub.ID == grouped.pub.ID {
				want = 2
			}
			if got := after["succeeded"] - before["succeeded"]; got != want || after["failed"] != before["failed"] {
				t.Errorf("%s: %d imports wrote %d batches (%v), want %d", tn.pub.Slug, got, len(batches), after, want)
			}
			// Every key replays its own answer.
			for i, b := range batches {
				r := push(t, ts, key, "POST", "/api/v1/orders"+b.query, b.idem, b.body)
				first := replies[tn.pub.Slug][i]
				if r.status != first.status || r.body != first.body || r.header.Get("Idempotent-Replayed") != "true" {
					t.Errorf("%s: replay of %s: %d %s, want the first answer %d %s", tn.pub.Slug, b.idem, r.status, r.body, first.status, first.body)
				}
			}
		}
		// What each batch does, as counted by hand.
		want := []string{
			"inserted 2 updated 2 unchanged 0 removed_lines 1 stale 0",
			"inserted 1 updated 2 unchanged 0 removed_lines 0 stale 0",
			"inserted 1 updated 0 unchanged 0 removed_lines 0 stale 2",
			"inserted 2 updated 0 unchanged 0 removed_lines 0 stale 1",
			"inserted 5 updated 0 unchanged 0 removed_lines 0 stale 0",
		}
		for i := range batches {
			g, a := comparableReply(t, replies["grouped"][i]), comparableReply(t, replies["alone"][i])
			if diff := cmp.Diff(a, g); diff != "" {
				t.Errorf("answer to batch %d (-one by one +grouped):\n%s", i+1, diff)
			}
			m := replies["grouped"][i].json(t)
			got := fmt.Sprintf("inserted %v updated %v unchanged %v removed_lines %v stale %v", m["inserted"], m["updated"], m["unchanged"], m["removed_lines"], m["stale"])
			if got != want[i] {
				t.Errorf("batch %d: %s, want %s", i+1, got, want[i])
			}
		}
		gl, gr := storedState(t, s, grouped.pub.ID)
		al, ar := storedState(t, s, alone.pub.ID)
		if diff := cmp.Diff(al, gl); diff != "" {
			t.Errorf("stored lines (-one by one +grouped):\n%s", diff)
		}
		if diff := cmp.Diff(ar, gr); diff != "" {
			t.Errorf("day rollups (-one by one +grouped):\n%s", diff)
		}
		if len(gl) != 16 {
			t.Errorf("%d lines stored, want 16", len(gl))
		}
	})
}

// TestPushGroupLooksUpProductsOnce: the batches of a group find the
// products their connector already has in one statement before they are
// written, not one statement per batch; a product new to the connector is
// still looked up and made by its own batch, and every line gets its
// product.
func TestPushGroupLooksUpProductsOnce(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		srv, ts := newTestServer(t, s)
		tn := newTenant(t, s, "lookups")
		key := ingestKey(t, s, tn)
		order := func(id string, products ...string) map[string]any {
			var lines []any
			for i, p := range products {
				lines = append(lines, map[string]any{"line_id": strconv.Itoa(i + 1), "product_id": p, "name": "Item " + p, "quantity": 1, "gross": "10.00"})
			}
			return map[string]any{"order_id": id, "order_date": "2026-11-02T10:00:00Z", "currency": "USD", "lines": lines}
		}
		if r := push(t, ts, key, "POST", "/api/v1/orders", "", pushBatch(t, order("1", "p1", "p2", "p3", "p4"))); r.status != 200 {
			t.Fatalf("seed: %d %s", r.status, r.body)
		}
		batches := []groupPush{
			{"", "", pushBatch(t, order("10", "p1"))},
			{"", "", pushBatch(t, order("20", "p2"))},
			{"", "", pushBatch(t, order("30", "p3", "p5"))},
			{"", "", pushBatch(t, order("40", "p4"))},
		}
		m0, l0 := groupMetrics(t, ts), s.ProductLookups()
		for i, r := range queuedPushes(t, srv, ts, key, tn.pub.ID, batches) {
			if r.status != 200 {
				t.Fatalf("batch %d: %d %s", i+1, r.status, r.body)
			}
		}
		if d := groupMetrics(t, ts).sub(m0); d.groups != 1 || d.batches != 4 || d.splits != 0 {
			t.Fatalf("/metrics counted %+v, want one group of 4 batches", d)
		}
		// p1–p4 in one statement ahead; p5, new, in its batch (then made).
		// Batch by batch, each of the four looked its product up.
		if got := s.ProductLookups() - l0; got != 2 {
			t.Errorf("the group ran %d product lookups, want 2", got)
		}
		rows, err := s.DB().Query(`SELECT s.external_order_id, s.external_line_id, p.external_id FROM sales s
			JOIN products p ON p.publisher_id = s.publisher_id AND p.id = s.product_id
			WHERE s.publisher_id = $1 ORDER BY 1, 2`, tn.pub.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var o, l, p string
			if err := rows.Scan(&o, &l, &p); err != nil {
				t.Fatal(err)
			}
			got = append(got, o+"/"+l+" "+p)
		}
		want := []string{"1/1 p1", "1/2 p2", "1/3 p3", "1/4 p4", "10/1 p1", "20/1 p2", "30/1 p3", "30/2 p5", "40/1 p4"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("lines and their products (-want +got):\n%s", diff)
		}
		var products int
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM products WHERE publisher_id = $1`, tn.pub.ID).Scan(&products); err != nil || products != 5 {
			t.Errorf("%d products, %v; want 5", products, err)
		}
	})
}

// TestPushGroupBadNeighbour puts a batch the store refuses (a currency
// without an exchange rate) in a group, with and without valid_only: its
// neighbours are written and answered as if each had been alone.
func TestPushGroupBadNeighbour(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		srv, ts := newTestServer(t, s)
		grouped, alone := newTenant(t, s, "grouped"), newTenant(t, s, "alone")
		gbp := testOrder("66", "", 2, "8.00")
		gbp["currency"] = "GBP"
		xyz := testOrder("77", "", 1, "8.00")
		xyz["currency"] = "XYZ"
		batches := []groupPush{
			{"", "k1", pushBatch(t, testOrder("1", "", 2, "10.00"))},
			{"", "k2", pushBatch(t, testOrder("2", "", 1, "10.00"), gbp)},                // refused by the store: nothing written
			{"", "k3", pushBatch(t, testOrder("3", "", 3, "10.00"), xyz)},                // refused before the store
			{"", "k4", pushBatch(t, testOrder("4", "", 1, "10.00"))},                     // beside the refused ones
			{"?valid_only=true", "k5", pushBatch(t, testOrder("5", "", 1, "9.00"), gbp)}, // writes order 5 only
			{"?valid_only=true", "k6", pushBatch(t, testOrder("6", "", 2, "9.00"), xyz)}, // writes order 6 only
		}
		replies := map[string][]pushReply{}
		for _, tn := range []tenant{grouped, alone} {
			key := ingestKey(t, s, tn)
			if tn.pub.ID == grouped.pub.ID {
				m0 := groupMetrics(t, ts)
				replies["grouped"] = queuedPushes(t, srv, ts, key, tn.pub.ID, batches)
				// Two groups (with and without valid_only; the third batch
				// is refused before it waits), each with a batch the store
				// refuses, so each given up: /metrics counts them as split.
				if d := groupMetrics(t, ts).sub(m0); d.groups != 2 || d.batches != 5 || d.splits != 2 {
					t.Errorf("/metrics counted %+v for the grouped pushes, want 2 groups of 5 batches, both split", d)
				}
			} else {
				for _, b := range batches {
					replies["alone"] = append(replies["alone"], push(t, ts, key, "POST", "/api/v1/orders"+b.query, b.idem, b.body))
				}
			}
		}
		wantStatus := []int{200, 422, 422, 200, 200, 200}
		for i := range batches {
			if got := replies["grouped"][i].status; got != wantStatus[i] {
				t.Errorf("batch %d: %d %s, want %d", i+1, got, replies["grouped"][i].body, wantStatus[i])
			}
			g, a := comparableReply(t, replies["grouped"][i]), comparableReply(t, replies["alone"][i])
			if diff := cmp.Diff(a, g); diff != "" {
				t.Errorf("answer to batch %d (-one by one +grouped):\n%s", i+1, diff)
			}
		}
		gl, gr := storedState(t, s, grouped.pub.ID)
		al, ar := storedState(t, s, alone.pub.ID)
		if diff := cmp.Diff(al, gl); diff != "" {
			t.Errorf("stored lines (-one by one +grouped):\n%s", diff)
		}
		if diff := cmp.Diff(ar, gr); diff != "" {
			t.Errorf("day rollups (-one by one +grouped):\n%s", diff)
		}
		var orders []string
		for _, l := range gl {
			if len(orders) == 0 || orders[len(orders)-1] != l.Order {
				orders = append(orders, l.Order)
			}
		}
		if diff := cmp.Diff([]string{"1", "4", "5", "6"}, orders); diff != "" {
			t.Errorf("orders stored (-want +got):\n%s", diff)
		}
	})
}

// TestPushGroupCancelled checks that clients that go away do not break a
// group: a batch whose client leaves while it waits is not written (its key
// may be used again), and a group whose clients all leave once it is taken
// (the one that writes it among them) is written whole, each batch's
// answer kept for its key.
func TestPushGroupCancelled(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		srv, ts := newTestServer(t, s)
		tn := newTenant(t, s, "alpha")
		key := ingestKey(t, s, tn)
		bodies := [][]byte{
			pushBatch(t, testOrder("1", "", 2, "10.00")),
			pushBatch(t, testOrder("2", "", 3, "10.00")),
			pushBatch(t, testOrder("3", "", 4, "10.00")),
		}
		sl := srv.pushes.slot(string(tn.pub.ID))
		waiting := func() int { sl.mu.Lock(); defer sl.mu.Unlock(); return len(sl.waiting) }
		waitFor := func(what string, ok func() bool) {
			t.Helper()
			for deadline := time.Now().Add(10 * time.Second); !ok(); time.Sleep(time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("timed out waiting until %s", what)
				}
			}
		}
		unlock, err := srv.pushes.lock(context.Background(), string(tn.pub.ID))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		cancels := make([]context.CancelFunc, len(bodies))
		for i, b := range bodies {
			ctx, cancel := context.WithCancel(context.Background())
			cancels[i] = cancel
			req, err := http.NewRequestWithContext(ctx, "POST", ts.URL+"/api/v1/orders", bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", fmt.Sprint("c", i+1))
			wg.Go(func() {
				if resp, err := http.DefaultClient.Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			})
			waitFor(fmt.Sprintf("push %d waits", i+1), func() bool { return waiting() == i+1 })
		}
		// The third client leaves while its batch waits: it leaves the queue.
		cancels[2]()
		waitFor("the third batch leaves the queue", func() bool { return waiting() == 2 })
		// The others leave once their group is taken, before it is written.
		written := make(chan int, 1)
		srv.pushGroupHook = func(g []*orderBatch) {
			for _, c := range cancels {
				c()
			}
			for _, b := range g {
				select {
				case <-b.ctx.Done():
				case <-time.After(10 * time.Second):
					t.Error("a request's context is not cancelled when its client leaves")
				}
			}
			written <- len(g)
		}
		unlock()
		wg.Wait()
		if n := <-written; n != 2 {
			t.Errorf("group of %d batches, want 2", n)
		}
		srv.pushGroupHook = nil
		// The group is written; each key answers what its batch got.
		for i, want := range []int64{2, 3} {
			var r pushReply
			waitFor(fmt.Sprintf("batch %d is answered", i+1), func() bool {
				r = push(t, ts, key, "POST", "/api/v1/orders", fmt.Sprint("c", i+1), bodies[i])
				return r.status != http.StatusConflict
			})
			if got := r.json(t); r.status != 200 || r.header.Get("Idempotent-Replayed") != "true" || got["inserted"] != float64(want) {
				t.Errorf("batch %d after its client left: %d replayed %q %s, want its answer kept (%d inserted)",
					i+1, r.status, r.header.Get("Idempotent-Replayed"), r.body, want)
			}
		}
		// In one import, not cancelled and written again batch by batch.
		if runs := pushRuns(t, s, tn.pub.ID); runs["succeeded"] != 1 || runs["failed"] != 0 {
			t.Errorf("imports %v, want the group's one", runs)
		}
		// The batch that left was not written, and its key runs it now.
		var r pushReply
		waitFor("the third key is released", func() bool {
			r = push(t, ts, key, "POST", "/api/v1/orders", "c3", bodies[2])
			return r.status != http.StatusConflict
		})
		if got := r.json(t); r.status != 200 || r.header.Get("Idempotent-Replayed") != "" || got["inserted"] != float64(4) {
			t.Errorf("batch 3 sent again: %d replayed %q %s, want it written now", r.status, r.header.Get("Idempotent-Replayed"), r.body)
		}
		if n, _ := salesCount(t, s, tn.pub.ID); n != 9 {
			t.Errorf("%d lines stored, want 9", n)
		}
		if err := s.CheckRollups(context.Background(), tn.pub.ID); err != nil {
			t.Error(err)
		}
	})
}

// TestPushTurnWaitEndsWithTheClient checks that a tombstone, a product push
// and a dry run waiting for the publisher's write turn (held here, as a
// long group would) end when their client goes away, write nothing, and
// leave their Idempotency-Key free for a retry.
func TestPushTurnWaitEndsWithTheClient(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		srv, ts := newTestServer(t, s)
		tn := newTenant(t, s, "alpha")
		key := ingestKey(t, s, tn)
		if r := push(t, ts, key, "POST", "/api/v1/orders", "", pushBatch(t, testOrder("1", "", 2, "10.00"))); r.status != http.StatusOK {
			t.Fatalf("first push: %d %s", r.status, r.body)
		}
		productBody, err := json.Marshal(map[string]any{"source": "Web store", "products": []any{map[string]any{"external_id": "mug-1", "sku": "MUG-1", "name": "Hero Mug"}}})
		if err != nil {
			t.Fatal(err)
		}
		unlock := holdPushTurn(t, srv, tn.pub.ID)
		h := srv.Handler()
		for _, c := range []struct {
			method, path, idem string
			body               []byte
		}{
			{"DELETE", "/api/v1/orders/Web%20store/1", "", nil},
			{"POST", "/api/v1/products", "p-1", productBody},
			{"POST", "/api/v1/orders?dry_run=true", "", pushBatch(t, testOrder("2", "", 1, "5.00"))},
		} {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			req := httptest.NewRequestWithContext(ctx, c.method, c.path, bytes.NewReader(c.body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/json")
			if c.idem != "" {
				req.Header.Set("Idempotency-Key", c.idem)
			}
			done := make(chan struct{})
			go func() {
				defer close(done)
				h.ServeHTTP(httptest.NewRecorder(), req)
			}()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Fatalf("%s %s still waits for the write turn after its client left", c.method, c.path)
			}
			cancel()
		}
		unlock()
		var lines, mugs int
		if err := s.DB().QueryRow(`SELECT (SELECT COUNT(*) FROM sales WHERE publisher_id = $1), (SELECT COUNT(*) FROM products WHERE publisher_id = $1 AND name = 'Hero Mug')`,
			tn.pub.ID).Scan(&lines, &mugs); err != nil {
			t.Fatal(err)
		}
		if lines != 2 || mugs != 0 {
			t.Errorf("after the abandoned requests: %d lines (want 2, the order not deleted), %d mugs (want 0)", lines, mugs)
		}
		if r := push(t, ts, key, "POST", "/api/v1/products", "p-1", productBody); r.status != http.StatusOK || r.header.Get("Idempotent-Replayed") != "" {
			t.Errorf("retry of the abandoned product push: %d (replayed %q) %s", r.status, r.header.Get("Idempotent-Replayed"), r.body)
		}
	})
}

// TestPushBacklogBounded: the pushes of a publisher waiting for its write
// turn are bounded; beyond the bound a push is refused with 429 and
// Retry-After before its body is read, writes nothing, and another
// publisher's pushes are still admitted. Once the waiting pushes are
// answered, the publisher pushes again. Both engines.
func TestPushBacklogBounded(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		srv, ts := newTestServer(t, s)
		alpha, beta := newTenant(t, s, "alpha"), newTenant(t, s, "beta")
		ka, kb := ingestKey(t, s, alpha), ingestKey(t, s, beta)
		srv.pushes.pubLimit = 2
		unlock := holdPushTurn(t, srv, alpha.pub.ID)
		// send pushes in the background and reports its status.
		send := func(key, id string) chan int {
			status := make(chan int, 1)
			req := pushRequest(t, ts, key, "POST", "/api/v1/orders", "", pushBatch(t, testOrder(id, "", 1, "3.00")))
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					status <- -1
					return
				}
				resp.Body.Close()
				status <- resp.StatusCode
			}()
			return status
		}
		waitAdmitted := func(pub phantomos.PublisherID, n int) {
			t.Helper()
			admitted := func() int {
				srv.pushes.mu.Lock()
				defer srv.pushes.mu.Unlock()
				return srv.pushes.perPub[string(pub)]
			}
			deadline := time.Now().Add(30 * time.Second)
			for admitted() != n {
				if time.Now().After(deadline) {
					t.Fatalf("%d pushes of %s admitted, want %d", admitted(), pub, n)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		first, second := send(ka, "101"), send(ka, "102")
		waitAdmitted(alpha.pub.ID, 2)
		// A push admitted beyond the bound would wait for the turn: the
		// client gives up after a few seconds.
		impatient := &http.Client{Timeout: 5 * time.Second}
		for _, c := range []struct{ method, path string }{{"POST", "/api/v1/orders"}, {"POST", "/api/v1/products"}, {"DELETE", "/api/v1/orders/Web%20store/101"}} {
			resp, err := impatient.Do(pushRequest(t, ts, ka, c.method, c.path, "k-"+c.method, pushBatch(t, testOrder("103", "", 1, "3.00"))))
			if err != nil {
				t.Errorf("%s %s beyond the publisher's bound: %v, want 429 at once", c.method, c.path, err)
				continue
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" || !strings.Contains(string(b), "rate_limited") {
				t.Errorf("%s %s beyond the publisher's bound: %d (Retry-After %q) %s, want 429", c.method, c.path, resp.StatusCode, resp.Header.Get("Retry-After"), b)
			}
		}
		other := send(kb, "201")
		waitAdmitted(beta.pub.ID, 1) // admitted (on SQLite it waits for the one write turn)
		unlock()
		for i, ch := range []chan int{first, second, other} {
			select {
			case st := <-ch:
				if st != http.StatusOK {
					t.Errorf("waiting push %d: %d, want 200", i, st)
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("waiting push %d not answered", i)
			}
		}
		waitAdmitted(alpha.pub.ID, 0)
		if r := push(t, ts, ka, "POST", "/api/v1/orders", "k-POST", pushBatch(t, testOrder("103", "", 1, "3.00"))); r.status != http.StatusOK {
			t.Errorf("push after the waiting ones were answered: %d %s", r.status, r.body)
		}
		var orders []string
		rows, err := s.DB().Query(`SELECT DISTINCT external_order_id FROM sales WHERE publisher_id = $1 ORDER BY 1`, alpha.pub.ID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var o string
			if err := rows.Scan(&o); err != nil {
				t.Fatal(err)
			}
			orders = append(orders, o)
		}
		if want := []string{"101", "102", "103"}; !slices.Equal(orders, want) {
			t.Errorf("alpha's orders %q, want %q (a refused push writes nothing, its key is free)", orders, want)
		}
	})
}

func TestPushAdmissionBounds(t *testing.T) {
	p := newPushLocks(false)
	p.limit, p.pubLimit = 3, 2
	var held []func()
	for _, pub := range []string{"a", "a", "b"} {
		release, ok := p.admit(pub)
		if !ok {
			t.Fatalf("push of %s refused under the bounds", pub)
		}
		held = append(held, release)
	}
	if _, ok := p.admit("a"); ok {
		t.Error("third push of a admitted, publisher bound 2")
	}
	if _, ok := p.admit("c"); ok {
		t.Error("fourth push in all admitted, bound 3")
	}
	held[0]()
	if _, ok := p.admit("c"); !ok {
		t.Error("push refused after one was released")
	}
	held[1]()
	held[2]()
	if p.backlog != 1 || len(p.perPub) != 1 {
		t.Errorf("backlog %d, publishers %v after releases, want 1 and c alone", p.backlog, p.perPub)
	}
}

// holdPushTurn takes publisher pub's write turn and returns what gives it
// back (once; the test's cleanup gives it back if the test did not).
func holdPushTurn(t *testing.T, srv *Server, pub phantomos.PublisherID) func() {
	t.Helper()
	unlock, err := srv.pushes.lock(context.Background(), string(pub))
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release := func() { once.Do(unlock) }
	t.Cleanup(release)
	return release
}

// pushGroupCounts are the push group counters of /metrics.
type pushGroupCounts struct{ groups, batches, seconds, splits float64 }

func (a pushGroupCounts) sub(b pushGroupCounts) pushGroupCounts {
	return pushGroupCounts{a.groups - b.groups, a.batches - b.batches, a.seconds - b.seconds, a.splits - b.splits}
}

// groupMetrics reads the push group counters from the server's /metrics.
func groupMetrics(t *testing.T, ts *httptest.Server) pushGroupCounts {
	t.Helper()
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var c pushGroupCounts
	for name, v := range map[string]*float64{"phantomos_push_groups_total": &c.groups, "phantomos_push_group_batches_total": &c.batches,
		"phantomos_push_group_write_seconds_total": &c.seconds, "phantomos_push_group_splits_total": &c.splits} {
		m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(body)
		if m == nil {
			t.Fatalf("/metrics has no %s:\n%s", name, body)
		}
		if *v, err = strconv.ParseFloat(string(m[1]), 64); err != nil {
			t.Fatal(err)
		}
	}
	return c
}
