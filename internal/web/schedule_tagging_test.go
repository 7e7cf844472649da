package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/mapping"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
	"github.com/phantomos/phantomos/internal/tagging"
)

// tagShop creates a publisher with two assets and the named products, and
// returns the publisher and its product ids by name.
func tagShop(t *testing.T, s *store.Store, slug string, products ...string) (phantomos.PublisherID, map[string]string) {
	t.Helper()
	ctx := context.Background()
	p := &phantomos.Publisher{Name: "Pub " + slug, Slug: slug, ReportingCurrency: "USD"}
	if err := s.CreatePublisher(ctx, p); err != nil {
		t.Fatal(err)
	}
	conn := &phantomos.Connector{Type: phantomos.ConnectorCSV, Name: "Files"}
	if err := s.CreateConnector(ctx, p.ID, conn); err != nil {
		t.Fatal(err)
	}
	ip := &phantomos.GameIP{Name: "Zorbital Quest", Slug: "zorbital-quest"}
	if err := s.CreateGameIP(ctx, p.ID, ip); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"Zorblax", "Quintarra"} {
		if err := s.CreateAsset(ctx, p.ID, &phantomos.Asset{GameIPID: ip.ID, Name: n, AssetType: phantomos.AssetCharacter}); err != nil {
			t.Fatal(err)
		}
	}
	var list []*phantomos.Product
	for i, n := range products {
		list = append(list, &phantomos.Product{ConnectorID: conn.ID, ExternalID: string(rune('a' + i)), Name: n, Category: phantomos.CategoryOther, Currency: "USD"})
	}
	if err := s.CreateProducts(ctx, p.ID, list, nil); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, x := range list {
		ids[x.Name] = x.ID
	}
	return p.ID, ids
}

// panicky is a publisher's real tagger that panics on titles containing
// word.
type panicky struct {
	mapping.Local
	word string
}

func (p panicky) Suggest(tp tagging.Product) []tagging.Suggestion {
	if strings.Contains(tp.Title, p.word) {
		panic("poisoned row")
	}
	return p.Local.Suggest(tp)
}

// A stored product that makes the tagger panic, and a publisher whose
// whole tagging run panics, stop neither the scheduled run of the other
// products nor that of the other publishers.
func TestScheduleIsolatesTaggingFailures(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		// Publishers are visited in creation order: the failing ones first.
		broken, _ := tagShop(t, s, "broken", "Zorblax Cap")
		poisoned, pIDs := tagShop(t, s, "poisoned", "POISON Zorblax Mug", "Zorblax Plush", "Quintarra Keychain")
		healthy, hIDs := tagShop(t, s, "healthy", "Quintarra Poster")
		srv, _ := newTestServer(t, s)
		local := func(ctx context.Context, s *store.Store, pub phantomos.PublisherID) (mapping.Local, error) {
			if pub == broken {
				panic("tagger build failed")
			}
			tg, err := mapping.Tagger(ctx, s, pub)
			if err != nil {
				return nil, err
			}
			return panicky{Local: tg, word: "POISON"}, nil
		}
		srv.work.SetLocalTagger(local)
		srv.work.Tick(ctx)

		tagged := func(pub phantomos.PublisherID, id string) int {
			it, err := s.ProductItem(ctx, pub, id, "2000-01-01")
			if err != nil {
				t.Fatal(err)
			}
			return len(it.Suggestions)
		}
		for _, name := range []string{"Zorblax Plush", "Quintarra Keychain"} {
			if tagged(poisoned, pIDs[name]) != 1 {
				t.Errorf("poisoned publisher's %q not tagged", name)
			}
		}
		if tagged(healthy, hIDs["Quintarra Poster"]) != 1 {
			t.Error("the other publisher's product not tagged")
		}
		log, err := s.AuditLog(ctx, poisoned, time.Time{}, 10)
		if err != nil || len(log) != 1 || log[0].Action != "tagging.failed" {
			t.Errorf("poisoned publisher's audit log = %+v, %v", log, err)
		}
	})
}
