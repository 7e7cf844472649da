package mapping

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
	"github.com/phantomos/phantomos/internal/tagging"
)

// shop is one publisher with a small catalogue and products to tag.
type shop struct {
	pub      phantomos.PublisherID
	assets   map[string]string // name → id
	products map[string]string // name → id
}

func newShop(t *testing.T, s *store.Store, slug string, assets []string, products ...string) shop {
	t.Helper()
	ctx := context.Background()
	p := &phantomos.Publisher{Name: "Pub " + slug, Slug: slug, ReportingCurrency: "USD"}
	if err := s.CreatePublisher(ctx, p); err != nil {
		t.Fatal(err)
	}
	sh := shop{pub: p.ID, assets: map[string]string{}, products: map[string]string{}}
	conn := &phantomos.Connector{Type: phantomos.ConnectorCSV, Name: "Files"}
	if err := s.CreateConnector(ctx, p.ID, conn); err != nil {
		t.Fatal(err)
	}
	ip := &phantomos.GameIP{Name: "Zorbital Quest", Slug: "zorbital-quest"}
	if err := s.CreateGameIP(ctx, p.ID, ip); err != nil {
		t.Fatal(err)
	}
	for _, n := range assets {
		a := &phantomos.Asset{GameIPID: ip.ID, Name: n, AssetType: phantomos.AssetCharacter}
		if err := s.CreateAsset(ctx, p.ID, a); err != nil {
			t.Fatal(err)
		}
		sh.assets[n] = a.ID
	}
	var list []*phantomos.Product
	for i, n := range products {
		list = append(list, &phantomos.Product{ConnectorID: conn.ID, ExternalID: string(rune('a' + i)), Name: n, Category: phantomos.CategoryOther, Currency: "USD"})
	}
	if err := s.CreateProducts(ctx, p.ID, list, nil); err != nil {
		t.Fatal(err)
	}
	for _, x := range list {
		sh.products[x.Name] = x.ID
	}
	return sh
}

// suggested returns the asset ids suggested for a product, and whether the
// product has been looked at.
func suggested(t *testing.T, s *store.Store, pub phantomos.PublisherID, id string) ([]string, bool) {
	t.Helper()
	it, err := s.ProductItem(context.Background(), pub, id, "2000-01-01")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, x := range it.Suggestions {
		ids = append(ids, x.AssetID)
	}
	return ids, it.SuggestedAt != nil
}

// poisoned is the publisher's real tagger, except that it panics on any
// product whose title contains word: a stored row the tagger cannot handle.
type poisoned struct {
	Local
	word string
}

func (p poisoned) Suggest(tp tagging.Product) []tagging.Suggestion {
	if strings.Contains(tp.Title, p.word) {
		panic("tagger: poisoned row")
	}
	return p.Local.Suggest(tp)
}

func poisonedBy(word string) func(context.Context, *store.Store, phantomos.PublisherID) (Local, error) {
	return func(ctx context.Context, s *store.Store, pub phantomos.PublisherID) (Local, error) {
		t, err := Tagger(ctx, s, pub)
		if err != nil || t == nil {
			return nil, err
		}
		return poisoned{Local: t, word: word}, nil
	}
}

// A product the tagger fails on is skipped, counted and recorded; the
// others of the run are tagged, and the schedule does not retry it.
func TestSuggestSkipsAFailingProduct(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sh := newShop(t, s, "poisoned", []string{"Zorblax", "Quintarra"}, "Zorblax Plush", "POISON Quintarra Mug", "Quintarra Keychain")
		run, err := SuggestWith(ctx, s, sh.pub, Options{OnlyNew: true, Local: poisonedBy("POISON")})
		if err != nil {
			t.Fatal(err)
		}
		if run.Products != 3 || run.Suggested != 2 || run.Failed != 1 || len(run.Failures) != 1 || run.Failures[0].ProductID != sh.products["POISON Quintarra Mug"] {
			t.Fatalf("run = %+v", run)
		}
		for name, want := range map[string]string{"Zorblax Plush": "Zorblax", "Quintarra Keychain": "Quintarra"} {
			if got, _ := suggested(t, s, sh.pub, sh.products[name]); len(got) != 1 || got[0] != sh.assets[want] {
				t.Errorf("%s: suggestions %v, want %s", name, got, want)
			}
		}
		if got, looked := suggested(t, s, sh.pub, sh.products["POISON Quintarra Mug"]); len(got) != 0 || !looked {
			t.Errorf("poisoned product: suggestions %v, looked at %v; want none, looked at", got, looked)
		}
		log, err := s.AuditLog(ctx, sh.pub, time.Time{}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(log) != 1 || log[0].Action != "tagging.failed" || log[0].Target != "POISON Quintarra Mug" || log[0].Actor != "tagger" {
			t.Errorf("audit log = %+v", log)
		}
		// The next scheduled run has nothing new to look at.
		again, err := SuggestWith(ctx, s, sh.pub, Options{OnlyNew: true, Local: poisonedBy("POISON")})
		if err != nil || again.Products != 0 || again.Failed != 0 {
			t.Errorf("second run = %+v, %v; want nothing to do", again, err)
		}
	})
}

// The real tagger on the stored row of issue 12 (a 60,000-letter name and a
// 10 MB description): the run completes and tags the other products.
func TestSuggestHugeStoredProduct(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sh := newShop(t, s, "huge", []string{"Zorblax"}, strings.Repeat("z", 60_000), "Zorblax Plush")
		if _, err := s.DB().ExecContext(ctx, `UPDATE products SET description = $1 WHERE publisher_id = $2 AND id = $3`,
			strings.Repeat("zorblax lorem ", 750_000), sh.pub, sh.products[strings.Repeat("z", 60_000)]); err != nil {
			t.Fatal(err)
		}
		run, err := Suggest(ctx, s, sh.pub, true, nil)
		if err != nil || run.Products != 2 || run.Failed != 0 {
			t.Fatalf("run = %+v, %v", run, err)
		}
		if got, _ := suggested(t, s, sh.pub, sh.products["Zorblax Plush"]); len(got) != 1 {
			t.Errorf("Zorblax Plush: suggestions %v", got)
		}
	})
}

// Stored twins (names that differ only by a symbol) are both in the
// publisher's tagger: the title's spelling picks one, else both are
// suggested.
func TestSuggestTwins(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		sh := newShop(t, s, "twins", []string{"Nidoran♀", "Nidoran♂"}, "Nidoran♀ Plush", "Zorbital Quest Nidoran Plush")
		if _, err := Suggest(ctx, s, sh.pub, true, nil); err != nil {
			t.Fatal(err)
		}
		if got, _ := suggested(t, s, sh.pub, sh.products["Nidoran♀ Plush"]); len(got) != 1 || got[0] != sh.assets["Nidoran♀"] {
			t.Errorf("spelt with its symbol: suggestions %v, want Nidoran♀ alone", got)
		}
		if got, _ := suggested(t, s, sh.pub, sh.products["Zorbital Quest Nidoran Plush"]); len(got) != 2 {
			t.Errorf("without a symbol: suggestions %v, want both", got)
		}
	})
}
