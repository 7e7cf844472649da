package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// workbench is a publisher with three assets of one game IP and four
// products waiting for review, each with sales.
type workbench struct {
	pub      *phantomos.Publisher
	ip       *phantomos.GameIP
	assets   map[string]*phantomos.Asset
	products []*phantomos.Product // revenue: 0 < 1 < 2 < 3
	user     *phantomos.User
}

func newWorkbench(t *testing.T, s *store.Store, slug string) workbench {
	t.Helper()
	ctx := context.Background()
	w := workbench{pub: &phantomos.Publisher{Name: "Pub " + slug, Slug: slug, ReportingCurrency: "USD"}, assets: map[string]*phantomos.Asset{}}
	if err := s.CreatePublisher(ctx, w.pub); err != nil {
		t.Fatal(err)
	}
	w.user = mustUser(t, s, w.pub.ID, "member@"+slug+".test", phantomos.RoleMember)
	conn := &phantomos.Connector{Type: phantomos.ConnectorCSV, Name: "Files"}
	if err := s.CreateConnector(ctx, w.pub.ID, conn); err != nil {
		t.Fatal(err)
	}
	w.ip = &phantomos.GameIP{Name: "Star Quest", Slug: "star-quest"}
	if err := s.CreateGameIP(ctx, w.pub.ID, w.ip); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"Nova", "Rex", "Vega"} {
		a := &phantomos.Asset{GameIPID: w.ip.ID, Name: n, AssetType: phantomos.AssetCharacter, Aliases: []string{"Captain " + n}}
		if err := s.CreateAsset(ctx, w.pub.ID, a); err != nil {
			t.Fatal(err)
		}
		w.assets[n] = a
	}
	for i, name := range []string{"Vega Keychain", "Rex Mug", "Nova and Rex Poster", "Nova Hoodie"} {
		w.products = append(w.products, &phantomos.Product{ConnectorID: conn.ID, ExternalID: name, Name: name, SKU: "SQ-" + name[:3],
			Category: []string{phantomos.CategoryAccessories, phantomos.CategoryHome, phantomos.CategoryHome, phantomos.CategoryApparel}[i], Price: 1000, Currency: "USD"})
	}
	if err := s.CreateProducts(ctx, w.pub.ID, w.products, nil); err != nil {
		t.Fatal(err)
	}
	var sales []*phantomos.Sale
	for i, p := range w.products {
		net := int64(1000 * (i + 1))
		sales = append(sales, &phantomos.Sale{ProductID: p.ID, ConnectorID: conn.ID, ExternalOrderID: "o" + p.ExternalID, ExternalLineID: "1",
			OrderDate: time.Date(2026, 10, 3, 12, 0, 0, 0, time.UTC), Day: "2026-10-03", Quantity: 1, Gross: net, Net: net, Currency: "USD",
			NetReporting: net, GrossReporting: net, Country: "US", Channel: "web"})
	}
	if _, err := s.BulkLoadSales(ctx, w.pub.ID, slices.Values(sales)); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w workbench) id(name string) string { return w.assets[name].ID }

func TestWorkbenchReviewFlow(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorkbench(t, s, "alpha")
		other := newWorkbench(t, s, "beta")
		p := w.products
		n, err := s.SaveSuggestions(ctx, w.pub.ID, map[string][]store.Suggestion{
			p[0].ID: {{AssetID: w.id("Vega"), Confidence: 0.97, Primary: true, Evidence: "title: Vega", Source: "local"}},
			p[1].ID: {{AssetID: w.id("Rex"), Confidence: 0.72, Primary: true, Source: "local"}},
			p[2].ID: {{AssetID: w.id("Nova"), Confidence: 0.95, Primary: true, Source: "local"}, {AssetID: w.id("Rex"), Confidence: 0.91, Source: "local"}, {AssetID: w.id("Vega"), Confidence: 0.62, Source: "llm"}},
			p[3].ID: nil,
			// Another publisher's product is never touched.
			other.products[0].ID: {{AssetID: other.id("Nova"), Confidence: 0.99, Source: "local"}},
		})
		if err != nil || n != 4 {
			t.Fatalf("SaveSuggestions = %d, %v; want 4 products", n, err)
		}
		if got, _ := s.ProductItem(ctx, other.pub.ID, other.products[0].ID, ""); got.MappingStatus != phantomos.MappingUnmapped {
			t.Errorf("other publisher's product became %s", got.MappingStatus)
		}

		// The queue: waiting products by revenue at stake, with filters.
		page, err := s.ProductList(ctx, w.pub.ID, store.ProductQuery{Status: "queue"})
		if err != nil {
			t.Fatal(err)
		}
		if page.Total != 4 || len(page.Rows) != 4 || page.Rows[0].ID != p[3].ID || page.Rows[0].Net != 4000 || page.Rows[3].ID != p[0].ID {
			t.Fatalf("queue = %+v", page)
		}
		if page.Rows[0].MappingStatus != phantomos.MappingUnmapped || page.Rows[1].MappingStatus != phantomos.MappingSuggested || len(page.Rows[1].Suggestions) != 3 {
			t.Errorf("statuses: %s %s, suggestions %d", page.Rows[0].MappingStatus, page.Rows[1].MappingStatus, len(page.Rows[1].Suggestions))
		}
		for _, c := range []struct {
			name string
			q    store.ProductQuery
			want []string
		}{
			{"confident", store.ProductQuery{MinConf: 0.9}, []string{p[2].ID, p[0].ID}},
			{"unsure", store.ProductQuery{Status: "suggested", MaxConf: 0.9}, []string{p[1].ID}},
			{"search sku", store.ProductQuery{Search: "sq-rex"}, []string{p[1].ID}},
			{"search name", store.ProductQuery{Search: "HOODIE"}, []string{p[3].ID}},
			{"search wildcard is literal", store.ProductQuery{Search: "%"}, nil},
			{"category", store.ProductQuery{Category: phantomos.CategoryHome, Sort: "name"}, []string{p[2].ID, p[1].ID}},
			{"revenue", store.ProductQuery{MinNet: 2500}, []string{p[3].ID, p[2].ID}},
			{"page", store.ProductQuery{Limit: 2, Offset: 1}, []string{p[2].ID, p[1].ID}},
		} {
			got, err := s.ProductList(ctx, w.pub.ID, c.q)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			var ids []string
			for _, r := range got.Rows {
				ids = append(ids, r.ID)
			}
			if !slices.Equal(ids, c.want) {
				t.Errorf("%s: got %v, want %v", c.name, ids, c.want)
			}
		}

		// Confirm Nova (primary) and Rex on the poster: Vega's suggestion is
		// rejected implicitly.
		v0, _ := s.DataVersion(ctx, w.pub.ID)
		got, err := s.ReviewProduct(ctx, w.pub.ID, p[2].ID, store.Review{Action: store.ReviewConfirm, By: w.user.ID,
			Assets: []store.ReviewAsset{{AssetID: w.id("Rex"), Weight: 1}, {AssetID: w.id("Nova"), Primary: true, Weight: 3}}})
		if err != nil {
			t.Fatal(err)
		}
		if got.MappingStatus != phantomos.MappingConfirmed || got.GameIPID != w.ip.ID {
			t.Errorf("confirmed product: %+v", got.Product)
		}
		if v1, _ := s.DataVersion(ctx, w.pub.ID); v1 <= v0 {
			t.Errorf("data version %d after a confirmation, was %d", v1, v0)
		}
		links, err := s.ProductLinks(ctx, w.pub.ID, []string{p[2].ID})
		if err != nil {
			t.Fatal(err)
		}
		if l := links[p[2].ID]; len(l) != 2 || l[0].AssetID != w.id("Nova") || !l[0].IsPrimary || l[0].Weight != 3 || l[0].Source != "local" || l[0].Confidence != 0.95 || l[0].DecidedBy != w.user.ID || l[1].IsPrimary {
			t.Errorf("links = %+v", l)
		}
		confirmed, err := s.ConfirmedLinks(ctx, w.pub.ID)
		if err != nil || len(confirmed) != 2 {
			t.Errorf("analytics sees %d confirmed links, %v; want 2", len(confirmed), err)
		}

		// Reject the only suggestion of the mug: back to unmapped.
		got, err = s.ReviewProduct(ctx, w.pub.ID, p[1].ID, store.Review{Action: store.ReviewReject, Reject: []string{w.id("Rex")}, By: w.user.ID})
		if err != nil || got.MappingStatus != phantomos.MappingUnmapped || len(got.Suggestions) != 0 {
			t.Errorf("after reject: %+v, %v", got.MappingStatus, err)
		}
		// Skip the hoodie, then reopen it.
		if got, err = s.ReviewProduct(ctx, w.pub.ID, p[3].ID, store.Review{Action: store.ReviewSkip}); err != nil || got.MappingStatus != phantomos.MappingSkipped {
			t.Errorf("skip: %s, %v", got.MappingStatus, err)
		}
		if got, err = s.ReviewProduct(ctx, w.pub.ID, p[3].ID, store.Review{Action: store.ReviewReopen}); err != nil || got.MappingStatus != phantomos.MappingUnmapped {
			t.Errorf("reopen: %s, %v", got.MappingStatus, err)
		}

		// Bad decisions name the problem and write nothing.
		for _, rv := range []store.Review{
			{Action: store.ReviewConfirm},
			{Action: store.ReviewConfirm, Assets: []store.ReviewAsset{{AssetID: w.id("Nova"), Primary: true}, {AssetID: w.id("Rex"), Primary: true}}},
			{Action: store.ReviewConfirm, Assets: []store.ReviewAsset{{AssetID: w.id("Nova")}, {AssetID: w.id("Nova")}}},
			{Action: store.ReviewReject},
			{Action: "maybe"},
		} {
			if _, err := s.ReviewProduct(ctx, w.pub.ID, p[0].ID, rv); phantomos.ErrorCode(err) != phantomos.EINVALID {
				t.Errorf("review %+v: %v, want EINVALID", rv, err)
			}
		}
		// Another publisher's asset is not found, like any unknown id.
		for _, asset := range []string{other.id("Nova"), "not-an-id"} {
			rv := store.Review{Action: store.ReviewConfirm, Assets: []store.ReviewAsset{{AssetID: asset}}}
			if _, err := s.ReviewProduct(ctx, w.pub.ID, p[0].ID, rv); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
				t.Errorf("review with asset %q: %v, want ENOTFOUND", asset, err)
			}
		}
		if got, _ := s.ProductItem(ctx, w.pub.ID, p[0].ID, ""); got.MappingStatus != phantomos.MappingSuggested {
			t.Errorf("refused reviews changed the keychain to %s", got.MappingStatus)
		}
		// Another publisher's product is not found.
		if _, err := s.ReviewProduct(ctx, other.pub.ID, p[0].ID, store.Review{Action: store.ReviewSkip}); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("cross-tenant review: %v", err)
		}

		// Bulk: accept what is at least 0.9 sure (only the keychain).
		res, err := s.AcceptSuggestions(ctx, w.pub.ID, 0.9, nil, w.user.ID)
		if err != nil || res.Products != 1 || res.Links != 1 {
			t.Errorf("AcceptSuggestions = %+v, %v", res, err)
		}
		// Assign the mug and the hoodie to Rex; the poster keeps Nova as
		// primary and gains nothing twice.
		res, err = s.AssignAsset(ctx, w.pub.ID, []string{p[1].ID, p[3].ID, p[2].ID}, w.id("Rex"), w.user.ID)
		if err != nil || res.Products != 3 {
			t.Errorf("AssignAsset = %+v, %v", res, err)
		}
		links, _ = s.ProductLinks(ctx, w.pub.ID, []string{p[1].ID, p[2].ID})
		if l := links[p[2].ID]; len(l) != 2 || l[0].AssetID != w.id("Nova") || !l[0].IsPrimary {
			t.Errorf("poster links after assign = %+v", l)
		}
		if l := links[p[1].ID]; len(l) != 1 || !l[0].IsPrimary || l[0].Source != "human" {
			t.Errorf("mug links after assign = %+v", l)
		}
		if _, err := s.AssignAsset(ctx, w.pub.ID, []string{p[1].ID, other.products[1].ID}, w.id("Vega"), ""); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("assign with another publisher's product: %v", err)
		}
		if l, _ := s.ProductLinks(ctx, w.pub.ID, []string{p[1].ID}); len(l[p[1].ID]) != 1 {
			t.Errorf("a refused bulk assign wrote links: %+v", l)
		}

		sum, err := s.MappingSummary(ctx, w.pub.ID, "")
		if err != nil || sum.Products[phantomos.MappingConfirmed] != 4 || sum.Net[phantomos.MappingConfirmed] != 10000 {
			t.Errorf("summary = %+v, %v", sum, err)
		}

		// Decisions are the publisher's own, the latest per product and asset:
		// the mug's Rex was rejected, then assigned (confirmed); the poster's
		// Vega stays rejected.
		ds, err := s.MappingDecisions(ctx, w.pub.ID)
		if err != nil {
			t.Fatal(err)
		}
		var yes, no int
		for _, d := range ds {
			if d.Confirmed {
				yes++
			} else {
				no++
			}
			if d.Product.Name == other.products[0].Name && d.AssetID == other.id("Nova") {
				t.Errorf("decision of another publisher: %+v", d)
			}
		}
		if no != 1 || yes != 5 {
			t.Errorf("decisions: %d confirmed, %d rejected; want 5 and 1", yes, no)
		}
		if ds, _ := s.MappingDecisions(ctx, other.pub.ID); len(ds) != 0 {
			t.Errorf("the other publisher has %d decisions", len(ds))
		}
	})
}

func TestMergeAndArchiveAssets(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorkbench(t, s, "alpha")
		other := newWorkbench(t, s, "beta")
		p := w.products
		// The poster depicts Nova and Rex; the mug Rex; the keychain has a
		// suggestion of Rex.
		if _, err := s.AssignAsset(ctx, w.pub.ID, []string{p[2].ID}, w.id("Nova"), ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AssignAsset(ctx, w.pub.ID, []string{p[2].ID, p[1].ID}, w.id("Rex"), ""); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveSuggestions(ctx, w.pub.ID, map[string][]store.Suggestion{p[0].ID: {{AssetID: w.id("Rex"), Confidence: 0.8, Source: "local"}, {AssetID: w.id("Nova"), Confidence: 0.7, Source: "local"}}}); err != nil {
			t.Fatal(err)
		}

		if _, err := s.MergeAssets(ctx, w.pub.ID, w.id("Rex"), other.id("Nova")); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("merge into another publisher's asset: %v", err)
		}
		if _, err := s.MergeAssets(ctx, other.pub.ID, w.id("Rex"), w.id("Nova")); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("merge as another publisher: %v", err)
		}
		res, err := s.MergeAssets(ctx, w.pub.ID, w.id("Rex"), w.id("Nova"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Links != 2 || res.Duplicate != 1 || res.Aliases != 2 {
			t.Errorf("merge = %+v", res)
		}
		if _, err := s.Asset(ctx, w.pub.ID, w.id("Rex")); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("merged asset still there: %v", err)
		}
		nova, _ := s.Asset(ctx, w.pub.ID, w.id("Nova"))
		if !slices.Contains(nova.Aliases, "Rex") || !slices.Contains(nova.Aliases, "Captain Rex") || !slices.Contains(nova.Aliases, "Captain Nova") {
			t.Errorf("aliases after merge = %v", nova.Aliases)
		}
		links, _ := s.ProductLinks(ctx, w.pub.ID, []string{p[1].ID, p[2].ID})
		if l := links[p[2].ID]; len(l) != 1 || l[0].AssetID != w.id("Nova") || !l[0].IsPrimary || l[0].Weight != 2 {
			t.Errorf("poster links = %+v", l)
		}
		if l := links[p[1].ID]; len(l) != 1 || l[0].AssetID != w.id("Nova") {
			t.Errorf("mug links = %+v", l)
		}
		item, _ := s.ProductItem(ctx, w.pub.ID, p[0].ID, "")
		if len(item.Suggestions) != 1 || item.Suggestions[0].AssetID != w.id("Nova") || item.Suggestions[0].Confidence != 0.8 {
			t.Errorf("suggestions after merge = %+v", item.Suggestions)
		}

		// Archived assets cannot take new mappings; a game IP archives its
		// assets and must be restored before them.
		if err := s.SetAssetArchived(ctx, w.pub.ID, w.id("Vega"), true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReviewProduct(ctx, w.pub.ID, p[3].ID, store.Review{Action: store.ReviewConfirm, Assets: []store.ReviewAsset{{AssetID: w.id("Vega")}}}); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("mapping to an archived asset: %v", err)
		}
		if err := s.SetGameIPArchived(ctx, w.pub.ID, w.ip.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := s.SetAssetArchived(ctx, w.pub.ID, w.id("Vega"), false); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("restoring an asset of an archived IP: %v", err)
		}
		if err := s.SetGameIPArchived(ctx, other.pub.ID, w.ip.ID, true); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("archiving another publisher's IP: %v", err)
		}
		if err := s.SetGameIPArchived(ctx, w.pub.ID, w.ip.ID, false); err != nil {
			t.Fatal(err)
		}
		assets, _ := s.Assets(ctx, w.pub.ID)
		for _, a := range assets {
			if a.ArchivedAt != nil {
				t.Errorf("asset %s still archived after restoring its IP", a.Name)
			}
		}

		// Editing: rename with aliases; a duplicate name conflicts.
		nova.Name, nova.Aliases = "Nova Prime", []string{"Nova"}
		if err := s.UpdateAsset(ctx, w.pub.ID, nova); err != nil {
			t.Fatal(err)
		}
		vega, _ := s.Asset(ctx, w.pub.ID, w.id("Vega"))
		vega.Name = "Nova Prime"
		if err := s.UpdateAsset(ctx, w.pub.ID, vega); phantomos.ErrorCode(err) != phantomos.ECONFLICT {
			t.Errorf("duplicate asset name: %v", err)
		}
		vega.Name, vega.GameIPID = "Vega", other.ip.ID
		if err := s.UpdateAsset(ctx, w.pub.ID, vega); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("moving an asset to another publisher's IP: %v", err)
		}
		g, _ := s.GameIP(ctx, w.pub.ID, w.ip.ID)
		g.Name, g.Genre = "Star Quest II", "RPG"
		if err := s.UpdateGameIP(ctx, w.pub.ID, g); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GameIP(ctx, other.pub.ID, w.ip.ID); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("another publisher's IP: %v", err)
		}
	})
}
