package tagging

import (
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testCatalogue is a small catalogue with the traps of the issue: short
// names that are ordinary words (Link, Ash, Rock, Toad, Peach), a given
// name that is also a footballer's (Mario), multi-word names, multilingual
// aliases and logos.
func testCatalogue() []Asset {
	return []Asset{
		{ID: "z-link", GameIP: "The Legend of Zelda", Name: "Link", Type: Character, Aliases: []string{"Toon Link"}},
		{ID: "z-zelda", GameIP: "The Legend of Zelda", Name: "Zelda", Type: Character},
		{ID: "z-ganon", GameIP: "The Legend of Zelda", Name: "Ganon", Type: Character, Aliases: []string{"Ganondorf"}},
		{ID: "z-sword", GameIP: "The Legend of Zelda", Name: "Master Sword", Type: Item},
		{ID: "z-triforce", GameIP: "The Legend of Zelda", Name: "Triforce", Type: Logo},
		{ID: "sw-vader", GameIP: "Star Wars", Name: "Darth Vader", Type: Character},
		{ID: "sw-luke", GameIP: "Star Wars", Name: "Luke Skywalker", Type: Character},
		{ID: "sw-yoda", GameIP: "Star Wars", Name: "Yoda", Type: Character},
		{ID: "sw-han", GameIP: "Star Wars", Name: "Han Solo", Type: Character},
		{ID: "sw-logo", GameIP: "Star Wars", Name: "Star Wars", Type: Logo},
		{ID: "m-mario", GameIP: "Super Mario", Name: "Mario", Type: Character},
		{ID: "m-luigi", GameIP: "Super Mario", Name: "Luigi", Type: Character},
		{ID: "m-bowser", GameIP: "Super Mario", Name: "Bowser", Type: Character},
		{ID: "m-peach", GameIP: "Super Mario", Name: "Peach", Type: Character, Aliases: []string{"Princess Peach"}},
		{ID: "m-toad", GameIP: "Super Mario", Name: "Toad", Type: Character},
		{ID: "m-koopa", GameIP: "Super Mario", Name: "Koopa Troopa", Type: Character},
		{ID: "p-pikachu", GameIP: "Pokémon", Name: "Pikachu", Type: Character, Aliases: []string{"ピカチュウ", "皮卡丘"}},
		{ID: "p-charizard", GameIP: "Pokémon", Name: "Charizard", Type: Character, Aliases: []string{"Glurak", "Dracaufeu"}},
		{ID: "p-ash", GameIP: "Pokémon", Name: "Ash", Type: Character},
		{ID: "p-farfetchd", GameIP: "Pokémon", Name: "Farfetch'd", Type: Character},
		{ID: "mm-megaman", GameIP: "Mega Man", Name: "Mega Man", Type: Character, Aliases: []string{"Rock"}},
		{ID: "mc-steve", GameIP: "Minecraft", Name: "Steve", Type: Character},
		{ID: "mc-creeper", GameIP: "Minecraft", Name: "Creeper", Type: Character},
	}
}

func newTestTagger(t testing.TB) *Tagger {
	t.Helper()
	tg, err := NewTagger(testCatalogue(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// ids returns the suggested asset IDs, primary first.
func ids(s []Suggestion) []string {
	var out []string
	for _, x := range s {
		out = append(out, x.AssetID)
	}
	return out
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Pokémon":    "pokemon",
		"ＰＩＫＡＣＨＵ":    "pikachu",
		"Straße":     "strasse",
		"Ærøskøbing": "aeroskobing",
		"CAFÉ Crème": "cafe creme",
		"Łódź":       "lodz",
		"ピカチュウ":      "ピカチュウ", // voicing marks belong to the letter
		"Ｍａｒｉｏ’ｓ":    "mario’s",
	} {
		if got := fold(in); got != want {
			t.Errorf("fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Mario's House", []string{"mario", "house"}},
		{"Tails' Workshop", []string{"tails", "workshop"}},
		{"Farfetch'd Plush", []string{"farfetchd", "plush"}},
		{"R.O.B. and Mr. G&W", []string{"rob", "and", "mr", "g", "w"}},
		{"E.M.M.I. figure", []string{"emmi", "figure"}},
		{"Chun-Li vs M. Bison", []string{"chun", "li", "vs", "m", "bison"}},
		{"Gold Cufflinks", []string{"gold", "cufflinks"}},
		{"R2-D2 (Hoth)", []string{"r2", "d2", "hoth"}},
		{"ピカチュウ ぬいぐるみ", []string{"ピ", "カ", "チ", "ュ", "ウ", "ぬ", "い", "ぐ", "る", "み"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tokenTexts(tokenize(fold(tt.in)))); diff != "" {
			t.Errorf("tokenize(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
	// A spaced dash, comma or bracket ends a phrase; a hyphen inside a word
	// does not.
	toks := tokenize(fold("Spider-Man - Gold, Link (Hoth)"))
	var brk []bool
	for _, tk := range toks {
		brk = append(brk, tk.brk)
	}
	if diff := cmp.Diff([]bool{false, false, true, true, true}, brk); diff != "" {
		t.Errorf("phrase breaks (-want +got):\n%s", diff)
	}
}

func TestSuggest(t *testing.T) {
	tg := newTestTagger(t)
	tests := []struct {
		name  string
		p     Product
		want  []string // asset IDs, primary first; nil = abstain
		check func(t *testing.T, s []Suggestion)
	}{
		// Word boundaries: a name never matches inside a word.
		{name: "link not in cufflinks", p: Product{Title: "Zelda Gold Cufflinks"}, want: []string{"z-zelda"}},
		{name: "ash not in ashford", p: Product{Title: "Ashford Leather Tote"}},
		{name: "rock not in rocket", p: Product{Title: "Rocket Lamp for Kids"}},
		{name: "toad not in toadstool", p: Product{Title: "Toadstool Night Light"}},
		// Diacritics, case and width.
		{name: "accented IP", p: Product{Title: "Pokémon Pikachu Plush"}, want: []string{"p-pikachu"}},
		{name: "plain IP", p: Product{Title: "POKEMON PIKACHU PLUSH"}, want: []string{"p-pikachu"}},
		{name: "japanese alias", p: Product{Title: "ポケモン ピカチュウ ぬいぐるみ"}, want: []string{"p-pikachu"}},
		{name: "german alias", p: Product{Title: "Glurak Kuscheltier"}, want: []string{"p-charizard"}},
		{name: "apostrophe name", p: Product{Title: "Farfetchd Keychain"}, want: []string{"p-farfetchd"}},
		// Possessives.
		{name: "possessive", p: Product{Title: "Yoda's Hut Poster"}, want: []string{"sw-yoda"}},
		{name: "possessive of a multi-word name", p: Product{Title: "Darth Vader's TIE Fighter"}, want: []string{"sw-vader"}},
		// Partial names.
		{name: "partial name", p: Product{Title: "Vader Helmet Replica"}, want: []string{"sw-vader"}, check: func(t *testing.T, s []Suggestion) {
			if !strings.Contains(s[0].Evidence, "part of") {
				t.Errorf("evidence %q does not say it is part of a name", s[0].Evidence)
			}
		}},
		{name: "surname alone", p: Product{Title: "Skywalker Mug"}, want: []string{"sw-luke"}},
		// Typos: long words only, at a discount.
		{name: "typo with context", p: Product{Title: "Pokemon Pikachuu Plush"}, want: []string{"p-pikachu"}, check: func(t *testing.T, s []Suggestion) {
			if !strings.Contains(s[0].Evidence, "typo") {
				t.Errorf("evidence %q does not mention the typo", s[0].Evidence)
			}
		}},
		{name: "transposition in a long name", p: Product{Title: "Charziard Figure, Pokemon Center"}, want: []string{"p-charizard"}},
		{name: "no typos in short names", p: Product{Title: "Yodi Poster"}},
		{name: "plural", p: Product{Title: "Pikachus Sticker Sheet"}, want: []string{"p-pikachu"}},
		// Ambiguous names need context.
		{name: "link alone is a word", p: Product{Title: "Link Bracelet"}},
		{name: "link with the IP named", p: Product{Title: "Legend of Zelda Link Plush"}, want: []string{"z-link"}},
		{name: "link with another asset of the IP", p: Product{Title: "Link and Ganondorf Figure Set"}, want: []string{"z-ganon", "z-link"}},
		{name: "peach alone is fruit", p: Product{Title: "Peach Scented Candle"}},
		{name: "peach with mario", p: Product{Title: "Mario and Peach Wedding Figure"}, want: []string{"m-mario", "m-peach"}},
		{name: "steve alone is a person", p: Product{Title: "Steve's Tee"}},
		{name: "steve in minecraft", p: Product{Title: "Minecraft Steve Action Figure"}, want: []string{"mc-steve"}},
		// The footballer is not Super Mario.
		{name: "mario gotze", p: Product{Title: "Mario Gotze (CMF)"}},
		{name: "mario", p: Product{Title: "Mario Plush 12 inch"}, want: []string{"m-mario"}},
		// A set named after a vehicle names no character.
		{name: "imperial shuttle", p: Product{Title: "Imperial Shuttle"}},
		// Logos, items and multi-word names match as phrases only.
		{name: "logo phrase", p: Product{Title: "Star Wars Logo Tee"}, want: []string{"sw-logo"}},
		{name: "character before wordmark", p: Product{Title: "Star Wars Yoda Plush"}, want: []string{"sw-yoda", "sw-logo"}},
		{name: "logo words apart", p: Product{Title: "Star Shaped Wall Art, Wars of the Roses"}},
		{name: "item phrase", p: Product{Title: "Master Sword Replica"}, want: []string{"z-sword"}},
		{name: "longest name wins", p: Product{Title: "Koopa Troopa Shell"}, want: []string{"m-koopa"}},
		{name: "alias phrase", p: Product{Title: "Princess Peach Crown"}, want: []string{"m-peach"}},
		// Several assets, the strongest primary.
		{name: "multi asset", p: Product{Title: "Darth Vader vs Luke Skywalker Duel Set"}, want: []string{"sw-vader", "sw-luke"}, check: func(t *testing.T, s []Suggestion) {
			n := 0
			for _, x := range s {
				if x.Primary {
					n++
				}
			}
			if n != 1 || !s[0].Primary {
				t.Errorf("want exactly the first suggestion primary, got %+v", s)
			}
		}},
		// Other fields.
		{name: "description context", p: Product{Title: "Link Figure", Description: "<p>From <b>The Legend of Zelda</b>: Breath of the Wild.</p>"}, want: []string{"z-link"}},
		{name: "tags", p: Product{Title: "Collector Figure", Tags: []string{"Bowser", "Nintendo"}}, want: []string{"m-bowser"}},
		// Generic products abstain.
		{name: "generic shirt", p: Product{Title: "Ocean Blue Shirt", Description: "Ocean blue cotton shirt with a narrow collar."}},
		{name: "generic hoodie", p: Product{Title: "Hoodie with Logo"}},
		{name: "generic king", p: Product{Title: "Black King Chess Set"}},
		{name: "empty", p: Product{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tg.Suggest(tt.p)
			if diff := cmp.Diff(tt.want, ids(got)); diff != "" {
				t.Fatalf("Suggest(%q) (-want +got):\n%s\n%+v", tt.p.Title, diff, got)
			}
			for _, s := range got {
				if s.Confidence < 0.5 || s.Confidence > 1 || s.Evidence == "" || s.GameIP == "" || s.Asset == "" {
					t.Errorf("bad suggestion %+v", s)
				}
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

// Context raises confidence, typos and partial names lower it.
func TestConfidenceOrder(t *testing.T) {
	tg := newTestTagger(t)
	conf := func(title, id string) float64 {
		for _, s := range tg.Suggest(Product{Title: title}) {
			if s.AssetID == id {
				return s.Confidence
			}
		}
		return 0
	}
	less := []struct{ weak, strong, id string }{
		{"Pikachuu Pokemon Plush", "Pikachu Pokemon Plush", "p-pikachu"},
		{"Vader Mug", "Darth Vader Mug", "sw-vader"},
		{"Yoda Mug", "Star Wars Yoda Mug", "sw-yoda"},
		{"Toad Plush", "Super Mario Toad Plush", "m-toad"},
	}
	for _, l := range less {
		w, s := conf(l.weak, l.id), conf(l.strong, l.id)
		if !(w < s) {
			t.Errorf("confidence %q = %.3f, want below %q = %.3f", l.weak, w, l.strong, s)
		}
	}
}

func TestOptions(t *testing.T) {
	base := newTestTagger(t)
	if got := base.Suggest(Product{Title: "Bowser Plush"}); len(got) != 1 {
		t.Fatalf("want Bowser, got %+v", got)
	}
	strict, err := NewTagger(testCatalogue(), Options{MinConfidence: 0.99})
	if err != nil {
		t.Fatal(err)
	}
	if got := strict.Suggest(Product{Title: "Bowser Plush"}); got != nil {
		t.Errorf("MinConfidence 0.99: want abstention, got %+v", got)
	}
	common, err := NewTagger(testCatalogue(), Options{CommonWords: []string{"bowser"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := common.Suggest(Product{Title: "Bowser Plush"}); got != nil {
		t.Errorf("CommonWords bowser: want abstention, got %+v", got)
	}
	aliased, err := NewTagger(testCatalogue(), Options{GameIPAliases: map[string][]string{"The Legend of Zelda": {"Hyrule"}}})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(aliased.Suggest(Product{Title: "Hyrule Link Plush"})); !cmp.Equal(got, []string{"z-link"}) {
		t.Errorf("IP alias as context: got %v", got)
	}
	noTypos, err := NewTagger(testCatalogue(), Options{NoTypos: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := noTypos.Suggest(Product{Title: "Pokemon Pikachuu Plush"}); got != nil {
		t.Errorf("NoTypos: got %+v", got)
	}
	one, err := NewTagger(testCatalogue(), Options{MaxSuggestions: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := one.Suggest(Product{Title: "Darth Vader vs Luke Skywalker"}); len(got) != 1 || !got[0].Primary {
		t.Errorf("MaxSuggestions 1: got %+v", got)
	}
}

func TestNewTaggerErrors(t *testing.T) {
	tests := []struct {
		assets []Asset
		want   string
	}{
		{nil, "tagging: empty catalogue"},
		{[]Asset{{GameIP: "X", Name: "A"}}, "tagging: asset 1 (\"A\"): missing id"},
		{[]Asset{{ID: "a", GameIP: "X", Name: "A"}, {ID: "a", GameIP: "X", Name: "B"}}, "tagging: asset 2: duplicate id \"a\""},
		{[]Asset{{ID: "a", GameIP: "X"}}, "tagging: asset 1 (a): missing name"},
		{[]Asset{{ID: "a", Name: "A"}}, "tagging: asset 1 (a): missing game IP"},
		{[]Asset{{ID: "a", GameIP: "X", Name: "A", Type: "villain"}}, "unknown asset type \"villain\""},
	}
	for _, tt := range tests {
		_, err := NewTagger(tt.assets, Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewTagger(%+v) error = %v, want %q", tt.assets, err, tt.want)
		}
	}
}

func TestConcurrentSuggest(t *testing.T) {
	tg := newTestTagger(t)
	titles := []string{"Darth Vader Mug", "Legend of Zelda Link Plush", "Pokémon Pikachu Plush", "Ocean Blue Shirt", "Mario and Peach Figure"}
	want := make([][]Suggestion, len(titles))
	for i, ti := range titles {
		want[i] = tg.Suggest(Product{Title: ti})
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; n < 200; n++ {
				i := n % len(titles)
				if got := tg.Suggest(Product{Title: titles[i]}); !cmp.Equal(want[i], got) {
					t.Errorf("concurrent Suggest(%q) = %+v, want %+v", titles[i], got, want[i])
					return
				}
			}
		}()
	}
	wg.Wait()
}
