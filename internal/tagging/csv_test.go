package tagging

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const testAssetsCSV = `game_ip,asset,asset_type,aliases
Star Wars,Darth Vader,character,Vader|Lord Vader
Star Wars,Star Wars,logo,
Star Wars,Luke Skywalker,character,
Pokémon,Pikachu,character,ピカチュウ|Pikatchu
Super Mario,Mario,character,
The Legend of Zelda,Link,character,
`

func TestRunCSV(t *testing.T) {
	products := "\ufeffid,title,description\n" +
		"p1,Darth Vader vs Luke Skywalker Duel,\n" +
		"p2,Ocean Blue Shirt,Soft cotton\n" +
		"p3,\"Pokémon Pikachu Plush, 30 cm\",\"Cuddly \"\"electric\"\" mouse\"\n" +
		"p4,Mario Gotze (CMF),\n" +
		"p5,Link Bracelet,\n" +
		"p6,Cufflinks,From The Legend of Zelda\n"
	var out strings.Builder
	if err := RunCSV(strings.NewReader(testAssetsCSV), strings.NewReader(products), &out); err != nil {
		t.Fatal(err)
	}
	want := "id,game_ip,asset,confidence\n" +
		"p1,Star Wars,Darth Vader,0.99\n" +
		"p1,Star Wars,Luke Skywalker,0.99\n" +
		"p3,Pokémon,Pikachu,0.98\n"
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("output (-want +got):\n%s", diff)
	}
}

func TestRunCSVColumnsAnyOrder(t *testing.T) {
	assets := "aliases,asset,game_ip\nVader,Darth Vader,Star Wars\n"
	products := "title,id\nVader Helmet,x\n"
	var out strings.Builder
	if err := RunCSV(strings.NewReader(assets), strings.NewReader(products), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "id,game_ip,asset,confidence\nx,Star Wars,Darth Vader,") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestRunCSVErrors(t *testing.T) {
	goodProducts := "id,title\np1,Vader Mug\n"
	tests := []struct {
		name, assets, products, want string
	}{
		{"empty assets", "", goodProducts, "tagging: assets file: empty, want a header row game_ip,asset,asset_type,aliases"},
		{"missing column", "game_ip,name\nStar Wars,Yoda\n", goodProducts, `tagging: assets file: line 1: missing column "asset"`},
		{"duplicate column", "game_ip,asset,asset\nStar Wars,Yoda,Yoda\n", goodProducts, `tagging: assets file: line 1, column 3: duplicate column "asset"`},
		{"bad type", "game_ip,asset,asset_type\nStar Wars,Yoda,character\nStar Wars,Vader,villain\n", goodProducts,
			`tagging: assets file: line 3, column 3 (asset_type): unknown asset type "villain"`},
		{"empty asset", "game_ip,asset\nStar Wars,Yoda\nStar Wars,\n", goodProducts, "tagging: assets file: line 3, column 2 (asset): empty asset name"},
		{"empty game ip", "game_ip,asset\n,Yoda\n", goodProducts, "tagging: assets file: line 2, column 1 (game_ip): empty game IP"},
		{"duplicate asset", "game_ip,asset\nStar Wars,Yoda\nStar Wars,YODA\n", goodProducts, `tagging: assets file: line 3, column 2 (asset): asset "YODA" of "Star Wars" already defined on line 2`},
		{"bad quoting", "game_ip,asset\nStar Wars,\"Yo\"da\n", goodProducts, "tagging: assets file: line 2, character 14: extraneous or missing \" in quoted-field"},
		{"no assets", "game_ip,asset\n", goodProducts, "tagging: assets file: no assets"},
		{"products missing title", testAssetsCSV, "id,name\np1,Vader\n", `tagging: products file: line 1: missing column "title"`},
		{"empty id", testAssetsCSV, "id,title\np1,Vader Mug\n,Yoda Mug\n", "tagging: products file: line 3, column 1 (id): empty product id"},
		{"duplicate id", testAssetsCSV, "id,title\np1,Vader Mug\np1,Yoda Mug\n", `tagging: products file: line 3, column 1 (id): product id "p1" already used on line 2`},
		{"empty title", testAssetsCSV, "id,title,description\np1,,\n", "tagging: products file: line 2, column 2 (title): empty title"},
		{"multi-line field keeps line numbers", testAssetsCSV, "id,title,description\np1,Vader,\"two\nlines\"\n,Yoda,\n", "tagging: products file: line 4, column 1 (id): empty product id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			err := RunCSV(strings.NewReader(tt.assets), strings.NewReader(tt.products), &out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("wrote output despite the error: %q", out.String())
			}
		})
	}
}
