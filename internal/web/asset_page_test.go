package web

import (
	"context"
	"net/http"
	"regexp"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestAssetPageTotalsAreLabelled: an asset's page shows its attributed
// revenue (the Assets page's figure) and, labelled apart, the revenue of the
// products featuring it. Under the default (equal) model two assets of one
// product each earn half of it, while the product's whole revenue features
// both. Both engines.
func TestAssetPageTotalsAreLabelled(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		ct := newCacheTenant(t, s, "alpha", 10000, "2026-03-02", "2026-03-03", "2026-03-04")
		ips, err := s.GameIPs(ctx, ct.pub.ID)
		if err != nil {
			t.Fatal(err)
		}
		zed := &phantomos.Asset{GameIPID: ips[0].ID, Name: "Zed", AssetType: phantomos.AssetCharacter}
		if err := s.CreateAsset(ctx, ct.pub.ID, zed); err != nil {
			t.Fatal(err)
		}
		link := phantomos.ProductAsset{ProductID: ct.products[0], AssetID: zed.ID, Weight: 1, Source: "human", Confidence: 1}
		if err := s.CreateProducts(ctx, ct.pub.ID, nil, []phantomos.ProductAsset{link}); err != nil {
			t.Fatal(err)
		}
		_, ts := newTestServer(t, s)
		c := cookie(t, s, ct.users[phantomos.RoleAnalyst])
		kpi := regexp.MustCompile(`(?s)id="kpi-(attributed|featuring)"><span class="label">[^<]*</span><span class="value">([^<]*)</span>`)
		for _, tc := range []struct {
			asset                 string
			attributed, featuring string
		}{{ct.asset, "$100.00", "$200.00"}, {zed.ID, "$100.00", "$200.00"}} {
			st, body := getAs(t, ts, c, "/assets/"+tc.asset+"?from=2026-03-01&to=2026-03-31")
			if st != http.StatusOK {
				t.Fatalf("asset page: %d", st)
			}
			got := map[string]string{}
			for _, m := range kpi.FindAllSubmatch(body, -1) {
				got[string(m[1])] = string(m[2])
			}
			if got["attributed"] != tc.attributed || got["featuring"] != tc.featuring {
				t.Errorf("asset %s: attributed %q, featuring %q; want %q and %q", tc.asset, got["attributed"], got["featuring"], tc.attributed, tc.featuring)
			}
		}
	})
}
