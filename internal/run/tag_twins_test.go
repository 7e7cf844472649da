package run

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Issue 15 item 14: `phantomos tag` accepts a catalogue whose assets differ
// only by a symbol, and the title's symbol picks the asset.
func TestTagCommandTwins(t *testing.T) {
	dir := t.TempDir()
	assets := filepath.Join(dir, "assets.csv")
	products := filepath.Join(dir, "products.csv")
	os.WriteFile(assets, []byte("game_ip,asset,asset_type,aliases\nPokémon,Nidoran♀,character,\nPokémon,Nidoran♂,character,\n"), 0o644)
	os.WriteFile(products, []byte("id,title\np1,Nidoran♂ Figure\np2,Nidoran Plush\n"), 0o644)
	out, _, err := runCLI(t, nil, "", "tag", "--assets", assets, "--products", products)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[1], "p1,Pokémon,Nidoran♂,") || !strings.HasPrefix(lines[2], "p2,Pokémon,Nidoran♀,0.6") || !strings.HasPrefix(lines[3], "p2,Pokémon,Nidoran♂,0.6") {
		t.Errorf("tag output:\n%s", out)
	}
}
