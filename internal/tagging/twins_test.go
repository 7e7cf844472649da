package tagging

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Issue 15 item 14: assets whose names differ only by a symbol or an accent
// are distinct; the title's spelling picks one, else both are suggested
// below the high band.
func TestTwins(t *testing.T) {
	cat := append(testCatalogue(),
		Asset{ID: "p-nidoran-f", GameIP: "Pokémon", Name: "Nidoran♀", Type: Character},
		Asset{ID: "p-nidoran-m", GameIP: "Pokémon", Name: "Nidoran♂", Type: Character},
		Asset{ID: "p-flabebe", GameIP: "Pokémon", Name: "Flabébé", Type: Character},
		Asset{ID: "p-flabebe-plain", GameIP: "Pokemon", Name: "Flabebe", Type: Character},
	)
	tg, err := NewTagger(cat, Options{})
	if err != nil {
		t.Fatal(err)
	}
	single, err := NewTagger(append(testCatalogue(), Asset{ID: "p-nidoran-f", GameIP: "Pokémon", Name: "Nidoran♀", Type: Character}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		title string
		want  []string
	}{
		{"Nidoran♀ Plush", []string{"p-nidoran-f"}},
		{"Pokémon Nidoran ♂ Figure", []string{"p-nidoran-m"}},
		{"Pokémon Nidoran Plush", []string{"p-nidoran-f", "p-nidoran-m"}},
		{"NIDORAN Plush", []string{"p-nidoran-f", "p-nidoran-m"}},
		{"Pokémon Flabébé Pin", []string{"p-flabebe"}},
		{"Pokemon Flabebe Pin", []string{"p-flabebe-plain"}},
	} {
		got := tg.Suggest(Product{Title: c.title})
		if diff := cmp.Diff(c.want, ids(got)); diff != "" {
			t.Errorf("Suggest(%q) (-want +got):\n%s", c.title, diff)
			continue
		}
		// Picked by its spelling: as confident as if it had no twin.
		// Not picked: each below the high band.
		ref := single.Suggest(Product{Title: strings.ReplaceAll(c.title, "♂", "♀")})
		for _, s := range got {
			switch {
			case len(c.want) == 1 && strings.Contains(s.AssetID, "nidoran") && s.Confidence != ref[0].Confidence:
				t.Errorf("Suggest(%q): %s at %.3f, want %.3f as without its twin", c.title, s.AssetID, s.Confidence, ref[0].Confidence)
			case len(c.want) > 1 && s.Confidence >= 0.8:
				t.Errorf("Suggest(%q): %s at %.3f, want below 0.8", c.title, s.AssetID, s.Confidence)
			}
		}
	}
	// A title that spells both names: both, as two mentions.
	if got := ids(tg.Suggest(Product{Title: "Nidoran♀ & Nidoran♂ Twin Pack"})); !cmp.Equal(got, []string{"p-nidoran-f", "p-nidoran-m"}) {
		t.Errorf("both spelt: got %v", got)
	}
}

// `phantomos tag` accepts a catalogue with twins and still refuses a true
// duplicate.
func TestRunCSVTwins(t *testing.T) {
	assets := "game_ip,asset,asset_type\nPokémon,Nidoran♀,character\nPokémon,Nidoran♂,character\nPokemon,Pikachu,character\n"
	products := "id,title\np1,Nidoran♀ Plush\np2,Pokémon Nidoran♂ Figure\n"
	var out strings.Builder
	if err := RunCSV(strings.NewReader(assets), strings.NewReader(products), &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "p1,Pokémon,Nidoran♀,") || !strings.HasPrefix(lines[2], "p2,Pokémon,Nidoran♂,") {
		t.Errorf("output:\n%s", out.String())
	}
	dup := assets + "POKEMON,nidoran ♀,character\n"
	err := RunCSV(strings.NewReader(dup), strings.NewReader(products), &out)
	if err == nil || !strings.Contains(err.Error(), `line 5, column 2 (asset): asset "nidoran ♀" of "POKEMON" already defined on line 2`) {
		t.Errorf("true duplicate: error %v", err)
	}
}
