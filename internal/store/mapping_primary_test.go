package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestOnePrimaryPerProduct checks that the schema itself refuses a second
// primary asset on a product, and that migration 00014 repairs products
// that already have two before it adds the index.
func TestOnePrimaryPerProduct(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorkbench(t, s, "prim")
		p := w.products[2].ID
		if _, err := s.ReviewProduct(ctx, w.pub.ID, p, store.Review{Action: store.ReviewConfirm,
			Assets: []store.ReviewAsset{{AssetID: w.id("Nova"), Primary: true}, {AssetID: w.id("Rex")}}}); err != nil {
			t.Fatal(err)
		}
		second := `UPDATE product_assets SET is_primary = TRUE WHERE publisher_id = $1 AND product_id = $2 AND asset_id = $3`
		if _, err := s.DB().ExecContext(ctx, second, w.pub.ID, p, w.id("Rex")); err == nil {
			t.Fatal("a second primary asset was accepted by the schema")
		}

		// Data from before the index: two primaries, Rex the heavier.
		for _, q := range []string{`DROP INDEX product_assets_one_primary`, `DELETE FROM goose_db_version WHERE version_id = 14`} {
			if _, err := s.DB().ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.DB().ExecContext(ctx, second, w.pub.ID, p, w.id("Rex")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().ExecContext(ctx, `UPDATE product_assets SET weight = 2 WHERE publisher_id = $1 AND product_id = $2 AND asset_id = $3`, w.pub.ID, p, w.id("Rex")); err != nil {
			t.Fatal(err)
		}
		if n, err := s.Migrate(ctx); err != nil || n != 1 {
			t.Fatalf("Migrate = %d, %v; want migration 14 applied again", n, err)
		}
		links, err := s.ProductLinks(ctx, w.pub.ID, []string{p})
		if err != nil {
			t.Fatal(err)
		}
		var primaries []string
		for _, l := range links[p] {
			if l.IsPrimary {
				primaries = append(primaries, l.AssetID)
			}
		}
		if len(primaries) != 1 || primaries[0] != w.id("Rex") || len(links[p]) != 2 {
			t.Errorf("after repair: links %+v, want both kept and only Rex (heaviest) primary", links[p])
		}
		if _, err := s.DB().ExecContext(ctx, second, w.pub.ID, p, w.id("Nova")); err == nil {
			t.Error("the index was not created again by the migration")
		}
	})
}

// TestBulkIDsChunked sends bulk decisions with more ids than either engine
// takes parameters in one statement (65,535 on PostgreSQL, 32,766 on
// SQLite): they are read in chunks, and a list over MaxBulkProducts is
// refused before any work.
func TestBulkIDsChunked(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorkbench(t, s, "chunk")
		const n = 70_000
		// Products made in one statement: the test is about the id list.
		series := `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < $3)
			INSERT INTO products (id, publisher_id, connector_id, external_id, name, currency, created_at, updated_at)
			SELECT printf('%08x-0000-7000-8000-%012x', i, i), $1, $2, 'bulk-' || i, 'Bulk ' || i, 'USD', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM seq`
		if s.Dialect() == store.Postgres {
			series = `INSERT INTO products (id, publisher_id, connector_id, external_id, name, currency, created_at, updated_at)
				SELECT CAST(lpad(to_hex(i), 8, '0') || '-0000-7000-8000-' || lpad(to_hex(i), 12, '0') AS UUID), $1, $2, 'bulk-' || i, 'Bulk ' || i, 'USD', now(), now()
				FROM generate_series(1, $3::int) AS i`
		}
		if _, err := s.DB().ExecContext(ctx, series, w.pub.ID, w.products[0].ConnectorID, n); err != nil {
			t.Fatal(err)
		}
		ids := make([]string, 0, n+1)
		for i := 1; i <= n; i++ {
			ids = append(ids, fmt.Sprintf("%08x-0000-7000-8000-%012x", i, i))
		}
		ids = append(ids, w.products[0].ID)
		res, err := s.AcceptSuggestions(ctx, w.pub.ID, 0.5, ids, w.user.ID)
		if err != nil || res.Products != 0 {
			t.Errorf("AcceptSuggestions(%d ids) = %+v, %v; want nothing suggested and no error", len(ids), res, err)
		}
		// One foreign id among them: not found, nothing written.
		foreign := append(ids[:n:n], newWorkbench(t, s, "chunk-other").products[0].ID)
		if _, err := s.AssignAsset(ctx, w.pub.ID, foreign, w.id("Nova"), w.user.ID); phantomos.ErrorCode(err) != phantomos.ENOTFOUND {
			t.Errorf("AssignAsset with a foreign id among %d: %v, want ENOTFOUND", len(foreign), err)
		}
		big := make([]string, store.MaxBulkProducts+1)
		for i := range big {
			big[i] = ids[i%n]
		}
		if _, err := s.AcceptSuggestions(ctx, w.pub.ID, 0.5, big, w.user.ID); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("AcceptSuggestions(%d ids) = %v, want EINVALID", len(big), err)
		}
	})
}

// TestAcceptReadsSuggestionsUnderLock: accept and reject-all take the
// suggestions as they stand when the decision runs, so an accept decided
// on an older view does not bring back a suggestion rejected since.
func TestAcceptReadsSuggestionsUnderLock(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		w := newWorkbench(t, s, "acc")
		p := w.products[2].ID
		if _, err := s.SaveSuggestions(ctx, w.pub.ID, map[string][]store.Suggestion{p: {
			{AssetID: w.id("Nova"), Confidence: 0.9, Source: "local"},
			{AssetID: w.id("Rex"), Confidence: 0.8, Primary: true, Source: "local"}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ReviewProduct(ctx, w.pub.ID, p, store.Review{Action: store.ReviewReject, Reject: []string{w.id("Rex")}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.ReviewProduct(ctx, w.pub.ID, p, store.Review{Action: store.ReviewAccept})
		if err != nil || got.MappingStatus != phantomos.MappingConfirmed {
			t.Fatalf("accept: %+v, %v", got.MappingStatus, err)
		}
		links, _ := s.ProductLinks(ctx, w.pub.ID, []string{p})
		if l := links[p]; len(l) != 1 || l[0].AssetID != w.id("Nova") || !l[0].IsPrimary {
			t.Errorf("links after accept = %+v, want Nova alone as primary", l)
		}
		q := w.products[3].ID
		if _, err := s.SaveSuggestions(ctx, w.pub.ID, map[string][]store.Suggestion{q: {{AssetID: w.id("Vega"), Confidence: 0.5, Source: "local"}}}); err != nil {
			t.Fatal(err)
		}
		got, err = s.ReviewProduct(ctx, w.pub.ID, q, store.Review{Action: store.ReviewReject, RejectAll: true})
		if err != nil || got.MappingStatus != phantomos.MappingUnmapped || len(got.Suggestions) != 0 {
			t.Errorf("reject all: %s %+v, %v", got.MappingStatus, got.Suggestions, err)
		}
		if _, err := s.ReviewProduct(ctx, w.pub.ID, q, store.Review{Action: store.ReviewAccept}); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("accept with no suggestion: %v, want EINVALID", err)
		}
	})
}
