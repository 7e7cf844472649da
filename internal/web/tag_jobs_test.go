package web

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// A catalogue change answers at once and enqueues a tag_run job; a worker
// runs the tagger, and the product waiting for review gets its suggestion
// of the new asset.
func TestCatalogueChangeTagsInAJob(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tn := newTenant(t, s, "alpha")
		f := newCatalogFixture(t, s, tn, "Marisol Enamel Pin")
		srv, ts := newTestServer(t, s)
		startJobs(t, srv, s)
		member := client{t: t, ts: ts, ck: cookie(t, s, tn.users[phantomos.RoleMember])}
		st, _, _ := member.form("/catalog/assets", url.Values{"game_ip": {f.ip.ID}, "name": {"Captain Marisol"}, "asset_type": {"character"}, "aliases": {"Marisol"}})
		if st != http.StatusSeeOther {
			t.Fatalf("create asset: %d", st)
		}
		pin := f.products["Marisol Enamel Pin"]
		for i := 0; ; i++ {
			var done int
			if err := s.DB().QueryRow(`SELECT COUNT(*) FROM river_job WHERE kind = 'tag_run' AND state = 'completed'`).Scan(&done); err != nil {
				t.Fatal(err)
			}
			item, err := s.ProductItem(ctx, tn.pub.ID, pin.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			assets, err := s.Assets(ctx, tn.pub.ID)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, sg := range item.Suggestions {
				for _, a := range assets {
					if a.ID == sg.AssetID && a.Name == "Captain Marisol" {
						found = true
					}
				}
			}
			if done == 1 && found {
				break
			}
			if i == 400 {
				t.Fatalf("after the asset was created: %d tag_run jobs completed, suggestions %+v", done, item.Suggestions)
			}
			time.Sleep(25 * time.Millisecond)
		}
	})
}
