package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// cacheTenant is a tenant with one connector, two products (one mapped to
// an asset) and a sale of net on each of the given days.
type cacheTenant struct {
	tenant
	conn     string
	products []string
	asset    string
}

func newCacheTenant(t *testing.T, s *store.Store, slug string, net int64, days ...phantomos.Day) cacheTenant {
	t.Helper()
	ctx := context.Background()
	ct := cacheTenant{tenant: newTenant(t, s, slug)}
	c := &phantomos.Connector{Type: phantomos.ConnectorCSV, Name: "Shop"}
	if err := s.CreateConnector(ctx, ct.pub.ID, c); err != nil {
		t.Fatal(err)
	}
	ct.conn = c.ID
	g := &phantomos.GameIP{Name: "Star Quest", Slug: "star-quest"}
	if err := s.CreateGameIP(ctx, ct.pub.ID, g); err != nil {
		t.Fatal(err)
	}
	a := &phantomos.Asset{GameIPID: g.ID, Name: "Nova", AssetType: phantomos.AssetCharacter}
	if err := s.CreateAsset(ctx, ct.pub.ID, a); err != nil {
		t.Fatal(err)
	}
	ct.asset = a.ID
	var products []*phantomos.Product
	for i, name := range []string{"Nova Hoodie", "Plain Mug"} {
		p := &phantomos.Product{ConnectorID: c.ID, ExternalID: fmt.Sprint(i), Name: name, Category: "apparel", Currency: "USD", Price: 1000}
		if i == 0 {
			p.MappingStatus = phantomos.MappingConfirmed
		}
		products = append(products, p)
	}
	links := []phantomos.ProductAsset{{ProductID: "", AssetID: a.ID, IsPrimary: true, Weight: 1, Source: "human", Confidence: 1}}
	if err := s.CreateProducts(ctx, ct.pub.ID, products, nil); err != nil {
		t.Fatal(err)
	}
	links[0].ProductID = products[0].ID
	if err := s.CreateProducts(ctx, ct.pub.ID, nil, links); err != nil {
		t.Fatal(err)
	}
	for _, p := range products {
		ct.products = append(ct.products, p.ID)
	}
	for i, d := range days {
		ct.sell(t, s, fmt.Sprintf("o%d", i), ct.products[i%2], d, net)
	}
	return ct
}

// sell loads one sale through the store's bulk path.
func (ct cacheTenant) sell(t *testing.T, s *store.Store, order, product string, day phantomos.Day, net int64) {
	t.Helper()
	sale := &phantomos.Sale{ProductID: product, ConnectorID: ct.conn, ExternalOrderID: order, ExternalLineID: "1",
		OrderDate: day.Time().Add(12 * time.Hour), Day: day, Quantity: 1, Gross: net, Net: net, Currency: "USD",
		NetReporting: net, GrossReporting: net, Country: "US", Channel: "web"}
	if _, err := s.BulkLoadSales(context.Background(), ct.pub.ID, slices.Values([]*phantomos.Sale{sale})); err != nil {
		t.Fatal(err)
	}
}

// get requests path as u and returns the status and body.
func getAs(t *testing.T, ts *httptest.Server, c *http.Cookie, path string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(c)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func netOf(t *testing.T, body []byte) int64 {
	t.Helper()
	var o analytics.Overview
	if err := json.Unmarshal(body, &o); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	return o.Current.NetRevenue
}

// TestAnswerCache: an analytics answer is computed once and then served
// from the cache as the same bytes, by the API and the pages alike, until a
// store write changes the publisher's data version; the next answer then
// reflects the write. Publishers never share an answer. Both engines.
func TestAnswerCache(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newCacheTenant(t, s, "alpha", 1000, "2026-03-02", "2026-03-10", "2026-04-01")
		b := newCacheTenant(t, s, "beta", 7000, "2026-03-05")
		srv, ts := newTestServer(t, s)
		ca, cb := cookie(t, s, a.users[phantomos.RoleAnalyst]), cookie(t, s, b.users[phantomos.RoleAnalyst])
		const path = "/api/analytics?from=2026-03-01&to=2026-04-30"
		stats := func() [3]int64 { h, m, c := srv.AnswerCacheStats(); return [3]int64{h, m, c} }

		st, first := getAs(t, ts, ca, path)
		if st != http.StatusOK || netOf(t, first) != 3000 {
			t.Fatalf("first answer: %d %s", st, first)
		}
		if got := stats(); got != [3]int64{0, 1, 1} {
			t.Errorf("after the first request: hits, misses, computations = %v, want [0 1 1]", got)
		}
		// The answer is exactly what encoding a fresh computation gives.
		period, _ := analytics.Custom("2026-03-01", "2026-04-30")
		cmpPeriod, _, _ := analytics.Compare(period, analytics.ComparePrevious)
		fresh, err := analytics.BuildOverview(ctx, s, a.pub, period, cmpPeriod, true, store.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := json.Marshal(fresh); !bytes.Equal(append(want, '\n'), first) {
			t.Errorf("the served answer differs from the computed one:\n%s\n%s", first, want)
		}
		_, again := getAs(t, ts, ca, path)
		if !bytes.Equal(first, again) {
			t.Errorf("a cached answer differs from the computed one:\n%s\n%s", first, again)
		}
		if got := stats(); got != [3]int64{1, 1, 1} {
			t.Errorf("after the same request: hits, misses, computations = %v, want [1 1 1]", got)
		}

		// Another publisher asking the same question gets its own answer.
		_, other := getAs(t, ts, cb, path)
		if netOf(t, other) != 7000 {
			t.Errorf("B's answer is not B's: %s", other)
		}
		if got := stats(); got[2] != 2 {
			t.Errorf("B's question was answered from A's entry (computations %d, want 2)", got[2])
		}
		if n, _ := srv.answers.len(); n != 2 {
			t.Errorf("%d cached answers, want one per publisher", n)
		}

		// A write bumps the data version: the next answer reflects it.
		v0, _ := s.DataVersion(ctx, a.pub.ID)
		a.sell(t, s, "late", a.products[1], "2026-04-20", 500)
		if v1, _ := s.DataVersion(ctx, a.pub.ID); v1 <= v0 {
			t.Fatalf("the sale did not bump the data version (%d → %d)", v0, v1)
		}
		if _, after := getAs(t, ts, ca, path); netOf(t, after) != 3500 {
			t.Errorf("after a new sale: %s", after)
		}
		if _, bAgain := getAs(t, ts, cb, path); !bytes.Equal(bAgain, other) {
			t.Error("A's write changed B's answer")
		}

		// The Overview page shares the API's entry for the same question.
		before := stats()
		if st, _ := getAs(t, ts, ca, "/overview?from=2026-03-01&to=2026-04-30"); st != http.StatusOK {
			t.Fatalf("overview page: %d", st)
		}
		if got := stats(); got[0] != before[0]+1 || got[2] != before[2] {
			t.Errorf("the Overview page recomputed a cached answer: %v → %v", before, got)
		}

		// Settings change answers: the attribution report follows a new model.
		const assets = "/api/analytics/assets?from=2026-03-01&to=2026-04-30"
		_, rep := getAs(t, ts, ca, assets)
		var r analytics.AssetReport
		if err := json.Unmarshal(rep, &r); err != nil || r.Model == "" {
			t.Fatalf("asset report: %v %s", err, rep)
		}
		model := phantomos.AttributionWeighted
		if r.Model == model {
			model = phantomos.AttributionPrimary
		}
		p, err := s.Publisher(ctx, a.pub.ID)
		if err != nil {
			t.Fatal(err)
		}
		p.Settings.AttributionModel = model
		if err := s.UpdatePublisher(ctx, p); err != nil {
			t.Fatal(err)
		}
		_, rep = getAs(t, ts, ca, assets)
		if err := json.Unmarshal(rep, &r); err != nil || r.Model != model {
			t.Errorf("after a settings change to %q the report says %q", model, r.Model)
		}
	})
}

// TestAnswerCacheSharesConcurrentMisses: callers missing the same key at
// the same time wait for one computation.
func TestAnswerCacheSharesConcurrentMisses(t *testing.T) {
	c := newAnswerCache(1 << 20)
	const callers = 8
	compute := func(ctx context.Context) (any, error) {
		// Hold the computation until every caller is waiting for an answer,
		// so that none can arrive after it was stored.
		for deadline := time.Now().Add(10 * time.Second); c.waiting.Load() < callers; {
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("only %d of %d callers arrived", c.waiting.Load(), callers)
			}
			time.Sleep(time.Millisecond)
		}
		return map[string]int{"answer": 42}, nil
	}
	var wg sync.WaitGroup
	got := make([]*answer, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = c.get(context.Background(), "k", compute)
		}()
	}
	wg.Wait()
	for i := range callers {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if got[i] != got[0] || string(got[i].body) != "{\"answer\":42}\n" {
			t.Errorf("caller %d got %v", i, got[i])
		}
	}
	if n := c.computed.Load(); n != 1 {
		t.Errorf("%d computations for %d concurrent identical misses, want 1", n, callers)
	}
}

// TestAnswerCacheBound: the cache drops the least recently used answers to
// stay within its size, and keeps nothing when turned off.
func TestAnswerCacheBound(t *testing.T) {
	ctx := context.Background()
	value := func(v string) func(context.Context) (any, error) {
		return func(context.Context) (any, error) { return v, nil }
	}
	c := newAnswerCache(4 * 1024)
	for i := range 20 {
		if _, err := c.get(ctx, fmt.Sprint("k", i), value("v")); err != nil {
			t.Fatal(err)
		}
		if i == 10 {
			c.get(ctx, "k0", value("v")) // recently used: kept
		}
	}
	n, size := c.len()
	if size > 4*1024 || n == 0 || n == 20 {
		t.Errorf("%d answers of %d bytes in a cache of 4096", n, size)
	}
	if c.lookup("k0") == nil || c.lookup("k1") != nil || c.lookup("k19") == nil {
		t.Error("eviction is not least recently used first")
	}

	c.resize(0)
	if n, size := c.len(); n != 0 || size != 0 {
		t.Errorf("a cache turned off holds %d answers (%d bytes)", n, size)
	}
	before := c.computed.Load()
	c.get(ctx, "k19", value("v"))
	c.get(ctx, "k19", value("v"))
	if c.computed.Load() != before+2 {
		t.Error("a cache turned off served a stored answer")
	}
}
