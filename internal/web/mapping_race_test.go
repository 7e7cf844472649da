package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestConcurrentMappingDecisions sends 50 decisions on one product at once
// through the HTTP stack (issue 12: on PostgreSQL, 30 of them gave 500s
// and left two primary assets). Every one must succeed, and the product
// must end exactly as one of the decisions leaves it when run alone.
func TestConcurrentMappingDecisions(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		tn := newTenant(t, s, "race")
		_, ts := newTestServer(t, s)
		g := &phantomos.GameIP{Name: "Race Saga", Slug: "race-saga"}
		if err := s.CreateGameIP(ctx, tn.pub.ID, g); err != nil {
			t.Fatal(err)
		}
		assets := map[string]string{}
		for _, n := range []string{"Nova", "Rex", "Vega"} {
			a := &phantomos.Asset{GameIPID: g.ID, Name: n, AssetType: phantomos.AssetCharacter}
			if err := s.CreateAsset(ctx, tn.pub.ID, a); err != nil {
				t.Fatal(err)
			}
			assets[n] = a.ID
		}
		conn := &phantomos.Connector{Type: phantomos.ConnectorCSV, Name: "Files"}
		if err := s.CreateConnector(ctx, tn.pub.ID, conn); err != nil {
			t.Fatal(err)
		}
		p := &phantomos.Product{ConnectorID: conn.ID, ExternalID: "tee", Name: "Nova Rex Vega Tee", Currency: "USD", Category: phantomos.CategoryApparel}
		if err := s.CreateProducts(ctx, tn.pub.ID, []*phantomos.Product{p}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveSuggestions(ctx, tn.pub.ID, map[string][]store.Suggestion{p.ID: {
			{AssetID: assets["Nova"], Confidence: 0.9, Primary: true, Source: "local"},
			{AssetID: assets["Rex"], Confidence: 0.7, Source: "local"}}}); err != nil {
			t.Fatal(err)
		}
		member := cookie(t, s, tn.users[phantomos.RoleMember])

		// Each decision's outcome does not depend on the state before it.
		type outcome struct {
			status  string
			primary string   // asset name, "" for none
			linked  []string // asset names, sorted
		}
		decisions := []struct {
			body string
			want outcome
		}{
			{fmt.Sprintf(`{"product_id":%q,"action":"confirm","assets":[{"asset_id":%q,"primary":true},{"asset_id":%q}]}`, p.ID, assets["Nova"], assets["Rex"]),
				outcome{phantomos.MappingConfirmed, "Nova", []string{"Nova", "Rex"}}},
			{fmt.Sprintf(`{"product_id":%q,"action":"confirm","assets":[{"asset_id":%q},{"asset_id":%q,"primary":true}]}`, p.ID, assets["Rex"], assets["Vega"]),
				outcome{phantomos.MappingConfirmed, "Vega", []string{"Rex", "Vega"}}},
			{fmt.Sprintf(`{"product_id":%q,"action":"pick","asset_id":%q}`, p.ID, assets["Rex"]),
				outcome{phantomos.MappingConfirmed, "Rex", []string{"Rex"}}},
			{fmt.Sprintf(`{"product_id":%q,"action":"reopen"}`, p.ID),
				outcome{phantomos.MappingSuggested, "", nil}},
		}

		const n = 50
		var wg sync.WaitGroup
		statuses := make([]int, n)
		bodies := make([]string, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				req, err := http.NewRequest(http.MethodPost, ts.URL+"/api/products/mapping", strings.NewReader(decisions[i%len(decisions)].body))
				if err != nil {
					bodies[i] = err.Error()
					return
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Origin", ts.URL)
				req.AddCookie(member)
				<-start
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					bodies[i] = err.Error()
					return
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				statuses[i], bodies[i] = resp.StatusCode, string(b)
			})
		}
		close(start)
		wg.Wait()
		for i, st := range statuses {
			if st != http.StatusOK {
				t.Errorf("decision %d: status %d: %s", i, st, bodies[i])
			}
		}

		names := map[string]string{}
		for n, id := range assets {
			names[id] = n
		}
		links, err := s.ProductLinks(ctx, tn.pub.ID, []string{p.ID})
		if err != nil {
			t.Fatal(err)
		}
		item, err := s.ProductItem(ctx, tn.pub.ID, p.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		got := outcome{status: item.MappingStatus}
		primaries := 0
		for _, l := range links[p.ID] {
			got.linked = append(got.linked, names[l.AssetID])
			if l.IsPrimary {
				primaries++
				got.primary = names[l.AssetID]
			}
		}
		slices.Sort(got.linked)
		if len(got.linked) > 0 && primaries != 1 {
			t.Errorf("product has %d primary assets, want exactly 1: %+v", primaries, links[p.ID])
		}
		serial := slices.ContainsFunc(decisions, func(d struct {
			body string
			want outcome
		}) bool {
			return d.want.status == got.status && d.want.primary == got.primary && slices.Equal(d.want.linked, got.linked)
		})
		if !serial {
			t.Errorf("final state %+v is not the outcome of any single decision", got)
		}
		// The API reads back the same state.
		st, _, body := send(t, ts, member, http.MethodGet, "/api/products/mapping?product_id="+p.ID, "", "")
		var m mappingJSON
		if err := json.Unmarshal([]byte(body), &m); st != http.StatusOK || err != nil || m.Status != got.status || len(m.Assets) != len(got.linked) {
			t.Errorf("GET mapping = %d %s, want status %s with %d assets", st, body, got.status, len(got.linked))
		}
	})
}
