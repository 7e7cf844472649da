package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/auth"
	"github.com/phantomos/phantomos/internal/llm/llmtest"
	"github.com/phantomos/phantomos/internal/mapping"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
	"github.com/phantomos/phantomos/internal/tagging/claudetag"
)

// catalogFixture gives a tenant a game IP with three characters and
// products that name them, each sold ten days ago.
type catalogFixture struct {
	ip       *phantomos.GameIP
	assets   map[string]*phantomos.Asset
	products map[string]*phantomos.Product
}

func newCatalogFixture(t *testing.T, s *store.Store, tn tenant, titles ...string) catalogFixture {
	t.Helper()
	ctx := context.Background()
	f := catalogFixture{assets: map[string]*phantomos.Asset{}, products: map[string]*phantomos.Product{}}
	conn := &phantomos.Connector{Type: phantomos.ConnectorCSV, Name: "Files"}
	if err := s.CreateConnector(ctx, tn.pub.ID, conn); err != nil {
		t.Fatal(err)
	}
	f.ip = &phantomos.GameIP{Name: "Starfall Odyssey", Slug: "starfall-odyssey"}
	if err := s.CreateGameIP(ctx, tn.pub.ID, f.ip); err != nil {
		t.Fatal(err)
	}
	for name, aliases := range map[string][]string{"Zephyrine Vale": {"Zephyrine"}, "Korvath the Undying": {"Korvath"}, "Brambleshade": nil} {
		a := &phantomos.Asset{GameIPID: f.ip.ID, Name: name, AssetType: phantomos.AssetCharacter, Aliases: aliases}
		if err := s.CreateAsset(ctx, tn.pub.ID, a); err != nil {
			t.Fatal(err)
		}
		f.assets[name] = a
	}
	var list []*phantomos.Product
	var sales []*phantomos.Sale
	day := phantomos.DayOf(time.Now().UTC().AddDate(0, 0, -10), time.UTC)
	for i, title := range titles {
		p := &phantomos.Product{ConnectorID: conn.ID, ExternalID: fmt.Sprintf("p%d", i), Name: title, SKU: fmt.Sprintf("SKU-%d", i),
			Category: phantomos.CategoryApparel, Price: 2500, Currency: "USD"}
		list = append(list, p)
		f.products[title] = p
	}
	if err := s.CreateProducts(ctx, tn.pub.ID, list, nil); err != nil {
		t.Fatal(err)
	}
	for i, p := range list {
		net := int64(1000 * (i + 1))
		sales = append(sales, &phantomos.Sale{ProductID: p.ID, ConnectorID: conn.ID, ExternalOrderID: "o" + p.ExternalID, ExternalLineID: "1",
			OrderDate: day.Time().Add(12 * time.Hour), Day: day, Quantity: 1, Gross: net, Net: net, Currency: "USD",
			NetReporting: net, GrossReporting: net, Country: "US", Channel: "web"})
	}
	if _, err := s.BulkLoadSales(ctx, tn.pub.ID, slices.Values(sales)); err != nil {
		t.Fatal(err)
	}
	return f
}

// client is a signed-in browser or API caller of the test server.
type client struct {
	t   *testing.T
	ts  *httptest.Server
	ck  *http.Cookie
	key string
}

func (c client) send(method, path, ct string, body []byte) (int, string, http.Header) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.ts.URL+path, bytes.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Origin", c.ts.URL)
	if c.ck != nil {
		req.AddCookie(c.ck)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String(), resp.Header
}

func (c client) get(path string) (int, string) {
	st, body, _ := c.send(http.MethodGet, path, "", nil)
	return st, body
}

func (c client) form(path string, v url.Values) (int, string, string) {
	st, body, h := c.send(http.MethodPost, path, "application/x-www-form-urlencoded", []byte(v.Encode()))
	return st, body, h.Get("Location")
}

func (c client) json(method, path string, in, out any) int {
	c.t.Helper()
	var body []byte
	if in != nil {
		body, _ = json.Marshal(in)
	}
	st, b, _ := c.send(method, path, "application/json", body)
	if out != nil {
		if err := json.Unmarshal([]byte(b), out); err != nil {
			c.t.Fatalf("%s %s: %d, not JSON: %.300s", method, path, st, b)
		}
	}
	return st
}

func assetRevenue(t *testing.T, c client, assetID string) (net, unmapped int64) {
	t.Helper()
	var rep struct {
		Unmapped int64 `json:"unmapped_net_revenue"`
		Assets   []struct {
			ID         string `json:"id"`
			NetRevenue int64  `json:"net_revenue"`
		} `json:"assets"`
	}
	if st := c.json(http.MethodGet, "/api/analytics/assets?range=30d", nil, &rep); st != http.StatusOK {
		t.Fatalf("/api/analytics/assets: %d", st)
	}
	for _, a := range rep.Assets {
		if a.ID == assetID {
			net = a.NetRevenue
		}
	}
	return net, rep.Unmapped
}

// TestWorkbenchFormsAndAnalytics runs the no-JavaScript workbench: the
// tagger's suggestions appear in the queue by revenue at stake, a decision
// posted from the list counts in revenue by asset at once, and filters,
// bulk acceptance and bulk assignment work.
func TestWorkbenchFormsAndAnalytics(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		tn := newTenant(t, s, "alpha")
		f := newCatalogFixture(t, s, tn,
			"Zephyrine Vale Hoodie", "Korvath the Undying Mug", "Starfall Odyssey Korvath Poster", "Plain Black Tee", "Brambleshade Plush")
		_, ts := newTestServer(t, s)
		member := client{t: t, ts: ts, ck: cookie(t, s, tn.users[phantomos.RoleMember])}

		st, body := member.get("/products")
		if st != http.StatusOK || !strings.Contains(body, "Plain Black Tee") || !strings.Contains(body, "local tagger") {
			t.Fatalf("/products: %d %.3000s", st, body)
		}
		st, _, loc := member.form("/products/suggest", url.Values{"return": {"/products"}})
		if st != http.StatusSeeOther || !strings.Contains(loc, "done=suggest") {
			t.Fatalf("suggest: %d %s", st, loc)
		}
		_, body = member.get(loc)
		if !strings.Contains(body, "suggested assets for 4 products") {
			t.Errorf("suggest notice missing: %.2000s", body)
		}
		// The queue is sorted by revenue at stake: the plush (5th, 5000)
		// first, the tee without suggestion still listed.
		if i, j := strings.Index(body, "Brambleshade Plush"), strings.Index(body, "Zephyrine Vale Hoodie"); i < 0 || j < 0 || i > j {
			t.Errorf("queue order: plush at %d, hoodie at %d", i, j)
		}

		hoodie := f.products["Zephyrine Vale Hoodie"]
		zeph := f.assets["Zephyrine Vale"]
		before, unmappedBefore := assetRevenue(t, member, zeph.ID)
		if before != 0 || unmappedBefore != 15000 {
			t.Fatalf("before review: asset %d, unmapped %d", before, unmappedBefore)
		}
		st, _, loc = member.form("/products/"+hoodie.ID+"/review", url.Values{"action": {"accept"}, "return": {"/products?status=suggested"}})
		if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/products?") || !strings.Contains(loc, "status=suggested") {
			t.Fatalf("accept: %d %s", st, loc)
		}
		if after, unmapped := assetRevenue(t, member, zeph.ID); after != 1000 || unmapped != 14000 {
			t.Errorf("after accepting the hoodie: asset %d (want 1000), unmapped %d (want 14000)", after, unmapped)
		}

		// The product page offers the mapping for change; a reopen takes the
		// revenue away again.
		st, body = member.get("/products/" + hoodie.ID)
		if st != http.StatusOK || !strings.Contains(body, "Change the mapping") || !strings.Contains(body, "Zephyrine Vale") {
			t.Errorf("product page: %d", st)
		}
		if st, _, _ := member.form("/products/"+hoodie.ID+"/review", url.Values{"action": {"reopen"}}); st != http.StatusSeeOther {
			t.Errorf("reopen: %d", st)
		}
		if after, _ := assetRevenue(t, member, zeph.ID); after != 0 {
			t.Errorf("after reopening: asset %d, want 0", after)
		}

		// Confirm a hand-picked asset with "then next": lands on the next
		// product of the queue.
		tee := f.products["Plain Black Tee"]
		st, _, loc = member.form("/products/"+tee.ID+"/review", url.Values{"action": {"confirm"}, "add_asset": {f.assets["Brambleshade"].ID}, "next": {"queue"}})
		if st != http.StatusSeeOther || !strings.HasPrefix(loc, "/products/") || strings.Contains(loc, tee.ID) {
			t.Errorf("confirm then next: %d %s", st, loc)
		}
		// A bad form is a clear error and writes nothing.
		st, body, _ = member.form("/products/"+tee.ID+"/review", url.Values{"action": {"confirm"}})
		if st != http.StatusUnprocessableEntity && st != http.StatusBadRequest || !strings.Contains(body, "at least one asset") {
			t.Errorf("empty confirm: %d %.300s", st, body)
		}

		// Filters.
		_, body = member.get("/products?status=confirmed")
		if !strings.Contains(body, "Plain Black Tee") || strings.Contains(body, "Brambleshade Plush") {
			t.Errorf("status filter shows the wrong products")
		}
		_, body = member.get("/products?status=all&q=mug")
		if !strings.Contains(body, "Korvath the Undying Mug") || strings.Contains(body, "Plain Black Tee") {
			t.Errorf("search shows the wrong products")
		}
		if st, body := member.get("/products?status=maybe"); st == http.StatusOK || !strings.Contains(body, "Unknown status") {
			t.Errorf("bad filter: %d", st)
		}

		// Bulk accept at 0.5 takes every remaining suggestion; bulk assign maps
		// what is selected.
		st, _, loc = member.form("/products/bulk", url.Values{"action": {"accept"}, "min_confidence": {"0.5"}})
		if st != http.StatusSeeOther || !strings.Contains(loc, "done=accept") {
			t.Fatalf("bulk accept: %d %s", st, loc)
		}
		sum, _ := s.MappingSummary(context.Background(), tn.pub.ID, "")
		if sum.Products[phantomos.MappingSuggested] != 0 || sum.Products[phantomos.MappingConfirmed] != 5 {
			t.Errorf("after bulk accept: %+v", sum.Products)
		}
		st, _, _ = member.form("/products/bulk", url.Values{"action": {"assign"}, "assign_asset": {f.assets["Korvath the Undying"].ID},
			"product": {hoodie.ID, tee.ID}})
		if st != http.StatusSeeOther {
			t.Errorf("bulk assign: %d", st)
		}
		links, _ := s.ProductLinks(context.Background(), tn.pub.ID, []string{tee.ID})
		if len(links[tee.ID]) != 2 {
			t.Errorf("tee links after assign: %+v", links[tee.ID])
		}

		// Analysts see the workbench but not its buttons.
		analyst := client{t: t, ts: ts, ck: cookie(t, s, tn.users[phantomos.RoleAnalyst])}
		_, body = analyst.get("/products")
		if strings.Contains(body, "Bulk accept") || strings.Contains(body, `formaction="/products/`) {
			t.Errorf("analyst sees edit controls")
		}
	})
}

// TestMappingAPIAndLearning drives the seed's mapping API with an API key
// and checks that the publisher's rejections silence an alias for that
// publisher only.
func TestMappingAPIAndLearning(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "alpha")
		b := newTenant(t, s, "beta")
		titles := []string{"Korvath Energy Drink Can", "Korvath Energy Drink 12-pack", "Korvath Energy Drink Sampler", "Korvath the Undying Statue"}
		fa := newCatalogFixture(t, s, a, titles...)
		fb := newCatalogFixture(t, s, b, titles...)
		_, ts := newTestServer(t, s)
		key := func(tn tenant) client {
			tok := apiKeyPrefix + "k" + strings.Repeat("x", 30) + string(tn.pub.Slug)
			if _, err := s.CreateAPIKey(ctx, tn.pub.ID, tn.users[phantomos.RoleMember].ID, "k", tok[:10], auth.HashToken(tok), phantomos.RoleMember); err != nil {
				t.Fatal(err)
			}
			return client{t: t, ts: ts, key: tok}
		}
		ca, cb := key(a), key(b)

		var run mapping.Run
		if st := ca.json(http.MethodPost, "/api/ai/tagging", map[string]any{}, &run); st != http.StatusOK || run.Products != 4 || run.Suggested != 4 || run.Tagger != "local" {
			t.Fatalf("tagging run: %d %+v", st, run)
		}
		cb.json(http.MethodPost, "/api/ai/tagging", map[string]any{}, &run)

		korvath := fa.assets["Korvath the Undying"].ID
		var m mappingJSON
		id := func(title string) string { return fa.products[title].ID }
		if st := ca.json(http.MethodGet, "/api/products/mapping?product_id="+id(titles[0]), nil, &m); st != http.StatusOK || len(m.Suggestions) != 1 || m.Suggestions[0].AssetID != korvath {
			t.Fatalf("mapping of %q: %d %+v", titles[0], st, m)
		}
		// The energy drinks are not the character: reject twice.
		for _, title := range titles[:2] {
			if st := ca.json(http.MethodPost, "/api/products/mapping", map[string]any{"product_id": id(title), "action": "reject"}, &m); st != http.StatusOK || m.Status != phantomos.MappingUnmapped {
				t.Fatalf("reject %q: %d %+v", title, st, m)
			}
		}
		// Re-running the tagger over everything: the third drink no longer
		// gets Korvath from the bare alias, while the statue (full name) does.
		if st := ca.json(http.MethodPost, "/api/ai/tagging", map[string]any{"all": true}, &run); st != http.StatusOK {
			t.Fatalf("re-run: %d", st)
		}
		ca.json(http.MethodGet, "/api/products/mapping?product_id="+id(titles[2]), nil, &m)
		if len(m.Suggestions) != 0 {
			t.Errorf("after two rejections the alias still fires: %+v", m.Suggestions)
		}
		ca.json(http.MethodGet, "/api/products/mapping?product_id="+id(titles[3]), nil, &m)
		if len(m.Suggestions) != 1 {
			t.Errorf("the statue lost its suggestion: %+v", m.Suggestions)
		}
		// Beta's identical catalogue learned nothing from alpha.
		var mb mappingJSON
		cb.json(http.MethodGet, "/api/products/mapping?product_id="+fb.products[titles[2]].ID, nil, &mb)
		if len(mb.Suggestions) != 1 {
			t.Errorf("beta's suggestions changed with alpha's decisions: %+v", mb.Suggestions)
		}

		// Pick, skip, bad requests, and another publisher's product.
		if st := ca.json(http.MethodPost, "/api/products/mapping", map[string]any{"product_id": id(titles[3]), "action": "pick", "asset_id": korvath}, &m); st != http.StatusOK || m.Status != phantomos.MappingConfirmed || len(m.Assets) != 1 || !m.Assets[0].Primary {
			t.Errorf("pick: %d %+v", st, m)
		}
		if st := ca.json(http.MethodPost, "/api/products/mapping", map[string]any{"product_id": id(titles[2]), "action": "skip"}, &m); st != http.StatusOK || m.Status != phantomos.MappingSkipped {
			t.Errorf("skip: %d %+v", st, m)
		}
		var problem map[string]any
		if st := ca.json(http.MethodPost, "/api/products/mapping", map[string]any{"product_id": id(titles[0]), "action": "accept"}, &problem); st != http.StatusUnprocessableEntity && st != http.StatusBadRequest {
			t.Errorf("accept without suggestions: %d %v", st, problem)
		}
		if st := cb.json(http.MethodPost, "/api/products/mapping", map[string]any{"product_id": id(titles[0]), "action": "skip"}, &problem); st != http.StatusNotFound {
			t.Errorf("beta deciding alpha's product: %d", st)
		}
		if st := ca.json(http.MethodPost, "/api/products/mapping", map[string]any{"product_id": id(titles[0]), "action": "pick", "asset_id": fb.assets["Brambleshade"].ID}, &problem); st < 400 || st >= 500 {
			t.Errorf("picking beta's asset: %d", st)
		}

		// Bulk assign through the API.
		var res store.BulkResult
		if st := ca.json(http.MethodPost, "/api/products/mapping/bulk", map[string]any{"action": "assign", "asset_id": fa.assets["Brambleshade"].ID,
			"product_ids": []string{id(titles[0]), id(titles[1])}}, &res); st != http.StatusOK || res.Products != 2 {
			t.Errorf("bulk assign: %d %+v", st, res)
		}
		var list struct {
			Total    int           `json:"total"`
			Products []mappingJSON `json:"products"`
		}
		if st := ca.json(http.MethodGet, "/api/products/mapping?status=confirmed", nil, &list); st != http.StatusOK || list.Total != 3 {
			t.Errorf("confirmed list: %d %+v", st, list)
		}
	})
}

// TestCatalogManagement creates, edits, archives and merges game IPs and
// assets through the pages.
func TestCatalogManagement(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tn := newTenant(t, s, "alpha")
		f := newCatalogFixture(t, s, tn, "Korvath Hoodie", "Brambleshade Plush")
		_, ts := newTestServer(t, s)
		member := client{t: t, ts: ts, ck: cookie(t, s, tn.users[phantomos.RoleMember])}

		st, _, loc := member.form("/catalog/game-ips", url.Values{"name": {"Moonlit Harbor"}, "genre": {"Cozy sim"}, "platforms": {"PC, Switch"}})
		if st != http.StatusSeeOther {
			t.Fatalf("create IP: %d", st)
		}
		ips, _ := s.GameIPs(ctx, tn.pub.ID)
		var moon *phantomos.GameIP
		for _, g := range ips {
			if g.Name == "Moonlit Harbor" {
				moon = g
			}
		}
		if moon == nil || moon.Slug != "moonlit-harbor" || !slices.Equal(moon.Platforms, []string{"PC", "Switch"}) || !strings.Contains(loc, moon.ID) {
			t.Fatalf("created IP = %+v (%s)", moon, loc)
		}
		if st, body, _ := member.form("/catalog/game-ips", url.Values{"name": {"Moonlit Harbor"}}); st != http.StatusUnprocessableEntity || !strings.Contains(body, "already exists") {
			t.Errorf("duplicate IP: %d", st)
		}
		st, _, _ = member.form("/catalog/assets", url.Values{"game_ip": {moon.ID}, "name": {"Captain Marisol"}, "asset_type": {"character"}, "aliases": {"Marisol\nCap'n Mari"}})
		if st != http.StatusSeeOther {
			t.Fatalf("create asset: %d", st)
		}
		if st, body, _ := member.form("/catalog/assets", url.Values{"game_ip": {moon.ID}, "name": {"X"}, "asset_type": {"spaceship"}}); st != http.StatusUnprocessableEntity || !strings.Contains(body, "choose character") {
			t.Errorf("bad asset type: %d", st)
		}
		st, body := member.get("/catalog")
		if st != http.StatusOK || !strings.Contains(body, "Captain Marisol") || !strings.Contains(body, "Cap&#39;n Mari") {
			t.Errorf("catalog page: %d", st)
		}

		// Edit: rename and move; archive and restore.
		korvath := f.assets["Korvath the Undying"]
		st, _, _ = member.form("/catalog/assets/"+korvath.ID, url.Values{"game_ip": {f.ip.ID}, "name": {"Korvath"}, "asset_type": {"character"}, "aliases": {"The Undying"}})
		if got, _ := s.Asset(ctx, tn.pub.ID, korvath.ID); st != http.StatusSeeOther || got.Name != "Korvath" || !slices.Equal(got.Aliases, []string{"The Undying"}) {
			t.Errorf("edit asset: %d %+v", st, got)
		}
		member.form("/catalog/assets/"+korvath.ID+"/archive", nil)
		if got, _ := s.Asset(ctx, tn.pub.ID, korvath.ID); got.ArchivedAt == nil {
			t.Errorf("asset not archived")
		}
		// An archived asset is not suggested.
		var run mapping.Run
		member.json(http.MethodPost, "/api/ai/tagging", map[string]any{"all": true}, &run)
		item, _ := s.ProductItem(ctx, tn.pub.ID, f.products["Korvath Hoodie"].ID, "")
		if len(item.Suggestions) != 0 {
			t.Errorf("archived asset suggested: %+v", item.Suggestions)
		}
		member.form("/catalog/assets/"+korvath.ID+"/archive", url.Values{"restore": {"1"}})
		if got, _ := s.Asset(ctx, tn.pub.ID, korvath.ID); got.ArchivedAt != nil {
			t.Errorf("asset not restored")
		}

		// Merge Brambleshade into Korvath: its product follows.
		plush := f.products["Brambleshade Plush"]
		if _, err := s.AssignAsset(ctx, tn.pub.ID, []string{plush.ID}, f.assets["Brambleshade"].ID, ""); err != nil {
			t.Fatal(err)
		}
		st, _, loc = member.form("/catalog/assets/"+f.assets["Brambleshade"].ID+"/merge", url.Values{"into": {korvath.ID}})
		if st != http.StatusSeeOther || !strings.Contains(loc, korvath.ID) {
			t.Fatalf("merge: %d %s", st, loc)
		}
		links, _ := s.ProductLinks(ctx, tn.pub.ID, []string{plush.ID})
		if l := links[plush.ID]; len(l) != 1 || l[0].AssetID != korvath.ID {
			t.Errorf("plush links after merge: %+v", l)
		}
		if st, _ := member.get("/catalog/assets/" + f.assets["Brambleshade"].ID); st != http.StatusNotFound {
			t.Errorf("merged asset page: %d", st)
		}
		// Archiving the IP archives its assets.
		member.form("/catalog/game-ips/"+f.ip.ID+"/archive", nil)
		if got, _ := s.Asset(ctx, tn.pub.ID, korvath.ID); got.ArchivedAt == nil {
			t.Errorf("IP archive left its asset live")
		}
		if st, body := member.get("/catalog"); st != http.StatusOK || strings.Contains(body, "Starfall Odyssey") {
			t.Errorf("archived IP shown by default")
		}
	})
}

// TestClaudeTaggerInTheWorkbench: with an API key, products the local
// tagger is unsure about go to (a fake) Claude with the publisher's own
// confirmed mappings as examples; its suggestions are stored as "llm",
// capped below bulk-acceptance level, and shown as Claude's.
func TestClaudeTaggerInTheWorkbench(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		a := newTenant(t, s, "alpha")
		b := newTenant(t, s, "beta")
		f := newCatalogFixture(t, s, a, "Zephyrine Vale Hoodie", "Sky Dancer Figurine", "Plain Black Tee")
		newCatalogFixture(t, s, b, "Beta Secret Zephyrine Vale Mug")
		// Beta confirmed a mapping: it must never reach alpha's prompt.
		bp, _ := s.ProductList(ctx, b.pub.ID, store.ProductQuery{})
		bassets, _ := s.Assets(ctx, b.pub.ID)
		if _, err := s.AssignAsset(ctx, b.pub.ID, []string{bp.Rows[0].ID}, bassets[0].ID, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AssignAsset(ctx, a.pub.ID, []string{f.products["Zephyrine Vale Hoodie"].ID}, f.assets["Zephyrine Vale"].ID, ""); err != nil {
			t.Fatal(err)
		}
		fake := llmtest.NewServer(t, "sk-test")
		var prompts []string
		fake.Respond(func(r llmtest.Request) llmtest.Reply {
			prompts = append(prompts, r.Body.SystemText())
			// "Sky Dancer" is Zephyrine's nickname that the catalogue lacks.
			ref := ""
			for line := range strings.Lines(r.Body.SystemText()) {
				if f := strings.Split(strings.TrimSpace(line), " | "); len(f) >= 3 && f[1] == "Zephyrine Vale" {
					ref = f[0]
				}
			}
			type asset struct {
				Asset      string  `json:"asset"`
				Confidence float64 `json:"confidence"`
				Reason     string  `json:"reason"`
			}
			var entries []map[string]any
			for _, blk := range r.Body.Blocks(0) {
				var p struct {
					Ref   string `json:"ref"`
					Title string `json:"title"`
				}
				if blk.Type != "text" || json.Unmarshal([]byte(blk.Text), &p) != nil || p.Ref == "" {
					continue
				}
				list := []asset{}
				if strings.Contains(p.Title, "Sky Dancer") {
					list = append(list, asset{ref, 0.99, "Sky Dancer is Zephyrine's title in the game"})
				}
				entries = append(entries, map[string]any{"product": p.Ref, "assets": list})
			}
			input, _ := json.Marshal(map[string]any{"products": entries})
			return llmtest.Reply{ToolInput: input}
		})
		srv, ts := newTestServer(t, s)
		claude, err := claudetag.New(claudetag.Config{APIKey: "sk-test", BaseURL: fake.URL})
		if err != nil {
			t.Fatal(err)
		}
		srv.work.SetClaude(claude)
		member := client{t: t, ts: ts, ck: cookie(t, s, a.users[phantomos.RoleMember])}

		var run mapping.Run
		if st := member.json(http.MethodPost, "/api/ai/tagging", map[string]any{}, &run); st != http.StatusOK || run.Tagger != "claude" {
			t.Fatalf("tagging run: %d %+v", st, run)
		}
		if len(prompts) == 0 {
			t.Fatal("Claude was not asked")
		}
		for _, p := range prompts {
			if strings.Contains(p, "Beta Secret") {
				t.Errorf("another publisher's mapping reached the prompt")
			}
			if !strings.Contains(p, "Zephyrine Vale Hoodie") {
				t.Errorf("the publisher's own confirmed mapping is not among the examples")
			}
		}
		item, _ := s.ProductItem(ctx, a.pub.ID, f.products["Sky Dancer Figurine"].ID, "")
		if len(item.Suggestions) != 1 || item.Suggestions[0].Source != "llm" || item.Suggestions[0].AssetID != f.assets["Zephyrine Vale"].ID || item.Suggestions[0].Confidence >= 0.9 {
			t.Fatalf("Claude's suggestion = %+v", item.Suggestions)
		}
		// Bulk acceptance at 90% leaves Claude's suggestion for a person.
		var res store.BulkResult
		member.json(http.MethodPost, "/api/products/mapping/bulk", map[string]any{"action": "accept", "min_confidence": 0.9}, &res)
		if got, _ := s.ProductItem(ctx, a.pub.ID, item.ID, ""); got.MappingStatus != phantomos.MappingSuggested {
			t.Errorf("bulk accept took Claude's suggestion: %s", got.MappingStatus)
		}
		_, body := member.get("/products")
		if !strings.Contains(body, "Claude") || !strings.Contains(body, "Sky Dancer Figurine") {
			t.Errorf("the workbench does not show Claude's suggestion")
		}
	})
}

// TestImportedProductsGetSuggestions: products that arrive by import are
// run through the local tagger at once, without anyone asking.
func TestImportedProductsGetSuggestions(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		tn := newTenant(t, s, "alpha")
		f := newCatalogFixture(t, s, tn)
		_, ts := newTestServer(t, s)
		member := client{t: t, ts: ts, ck: cookie(t, s, tn.users[phantomos.RoleMember])}
		st, body, _ := member.send(http.MethodPost, "/api/products/import", "text/csv",
			[]byte("name,sku,price,currency\nZephyrine Vale Enamel Pin,ZV-PIN,9.99,USD\nPlain Tote Bag,TOTE,12.00,USD\n"))
		if st != http.StatusOK {
			t.Fatalf("import: %d %s", st, body)
		}
		page, err := s.ProductList(context.Background(), tn.pub.ID, store.ProductQuery{Sort: "name"})
		if err != nil || len(page.Rows) != 2 {
			t.Fatalf("products: %+v %v", page, err)
		}
		pin, tote := page.Rows[1], page.Rows[0]
		if pin.MappingStatus != phantomos.MappingSuggested || len(pin.Suggestions) != 1 || pin.Suggestions[0].AssetID != f.assets["Zephyrine Vale"].ID {
			t.Errorf("imported pin: %s %+v", pin.MappingStatus, pin.Suggestions)
		}
		if tote.MappingStatus != phantomos.MappingUnmapped || tote.SuggestedAt == nil {
			t.Errorf("imported tote: %s, looked at %v", tote.MappingStatus, tote.SuggestedAt)
		}
	})
}
