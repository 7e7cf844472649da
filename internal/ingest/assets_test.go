package ingest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/phantomos/phantomos/internal/ingest"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// Issue 15 item 14: assets whose names differ only by a symbol or an accent
// are distinct assets, imported side by side; a name repeated exactly is
// the same asset.
func TestImportAssetTwins(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pub := newPublisher(t, s, "twins", "USD")
		in := "game_ip,asset,asset_type,aliases\nPokémon,Nidoran♀,character,\nPokémon,Nidoran♂,character,\nPokémon,Flabébé,character,\nPokémon,Flabebe,character,\n"
		res, err := importString(t, s, pub, ingest.KindAssets, in, ingest.Options{})
		if err != nil || res.Inserted != 4 || res.Failed != 0 {
			t.Fatalf("import: %+v, %v", res, err)
		}
		as, err := s.Assets(ctx, pub)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range as {
			names = append(names, a.Name)
		}
		if len(as) != 4 || as[0].GameIPID != as[3].GameIPID || as[1].GameIPID != as[2].GameIPID || as[0].GameIPID != as[1].GameIPID {
			t.Errorf("assets %v, want four of one game IP", names)
		}
		// Re-importing changes nothing.
		res, err = importString(t, s, pub, ingest.KindAssets, in, ingest.Options{})
		if err != nil || res.Inserted != 0 || res.Skipped != 4 {
			t.Errorf("re-import: %+v, %v", res, err)
		}
	})
}

// Asset rows are bounded like the catalogue's forms: a clear row error
// names the line and column, and nothing is written.
func TestImportAssetBounds(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		pub := newPublisher(t, s, "bounds", "USD")
		many := strings.TrimSuffix(strings.Repeat("alias|", 60), "|")
		var aliases []string
		for i := range 51 {
			aliases = append(aliases, "Alias "+string(rune('A'+i%26))+string(rune('a'+i/26)))
		}
		for _, c := range []struct {
			name, row, column, reason string
		}{
			{"long name", "Star Quest," + strings.Repeat("n", 201) + ",character,", "asset", "the asset name is longer than 200 characters"},
			{"long game IP", strings.Repeat("g", 201) + ",Nova,character,", "game_ip", "the game IP name is longer than 200 characters"},
			{"long alias", "Star Quest,Nova,character,Nova|" + strings.Repeat("a", 60_000), "aliases", "an alias is longer than 200 characters"},
			{"too many aliases", "Star Quest,Nova,character," + strings.Join(aliases, "|"), "aliases", "51 aliases, more than 50"},
			{"repeated aliases count once", "Star Quest,Nova,character," + many, "", ""},
		} {
			t.Run(c.name, func(t *testing.T) {
				res, err := importString(t, s, pub, ingest.KindAssets, "game_ip,asset,asset_type,aliases\nStar Quest,Rex,character,\n"+c.row+"\n", ingest.Options{DryRun: true})
				if c.reason == "" {
					if err != nil || res.Failed != 0 {
						t.Errorf("got %+v, %v; want accepted", res, err)
					}
					return
				}
				if err == nil && (res == nil || len(res.Errors) == 0) {
					t.Fatalf("accepted: %+v", res)
				}
				if res == nil || len(res.Errors) != 1 || res.Errors[0].Line != 3 || res.Errors[0].Column != c.column || res.Errors[0].Reason != c.reason || len(res.Errors[0].Value) > 300 {
					t.Errorf("got %+v, %v; want line 3, column %s: %s", res, err, c.column, c.reason)
				}
			})
		}
		if as, _ := s.Assets(ctx, pub); len(as) != 0 {
			t.Errorf("%d assets written", len(as))
		}
	})
}
