package tagging

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// evalDir locates ../shared/eval-data from the package directory, or skips.
func evalDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join("..", "..", "..", "shared", "eval-data")
	if _, err := os.Stat(filepath.Join(dir, "lego-rebrickable")); err != nil {
		t.Skip("eval data absent: ", dir)
	}
	return dir
}

// TestEvalFull runs the whole evaluation; set PHANTOMOS_EVAL_FULL=1.
func TestEvalFull(t *testing.T) {
	if os.Getenv("PHANTOMOS_EVAL_FULL") == "" {
		t.Skip("set PHANTOMOS_EVAL_FULL=1 to run the full tagging evaluation")
	}
	var b strings.Builder
	_, err := Eval(evalDir(t), &b, EvalOptions{Examples: 40})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + b.String())
}

// TestEvalSample runs the evaluation on every 5th title and checks the
// targets loosely (the full run reports the exact figures).
func TestEvalSample(t *testing.T) {
	dir := evalDir(t)
	if testing.Short() {
		t.Skip("evaluation skipped in -short mode")
	}
	var b strings.Builder
	rep, err := Eval(dir, &b, EvalOptions{SampleEvery: 5, Examples: -1, ThroughputAssets: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + b.String())
	if rep.Positives < 400 || rep.Negatives < 400 || rep.Uncovered < 4000 {
		t.Fatalf("sample too small: %+v", rep)
	}
	checks := []struct {
		name      string
		got, want float64
	}{
		{"precision at confidence ≥ 0.9", rep.PrecisionAt90, 0.9},
		{"game-IP precision", rep.IP.Precision, 0.9},
		{"game-IP recall of titles naming a catalogue name", rep.IPVerbatim.Recall, 0.85},
		{"asset precision", rep.Asset.Precision, 0.95},
		{"abstain rate on negatives", rep.NegativeAbstain, 0.98},
		{"abstain rate on uncovered themes", rep.UncoveredAbstain, 0.98},
	}
	for _, c := range checks {
		if c.got < c.want {
			t.Errorf("%s = %.3f, want ≥ %.2f", c.name, c.got, c.want)
		}
	}
}

// The README's traps, against the real evaluation catalogue.
func TestEvalTraps(t *testing.T) {
	assets, err := loadCatalogue(evalDir(t))
	if err != nil {
		t.Fatal(err)
	}
	tg, err := NewTagger(assets, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, title := range []string{
		"Mario Gotze (CMF)",        // a footballer, not Super Mario
		"Imperial Shuttle",         // Star Wars, but names no character
		"Gold Cufflinks",           // "Link" inside a word
		"Ashford Tote",             // "Ash" inside a word
		"Rocket Launcher",          // "Rock" inside a word
		"Ocean Blue Shirt",         // shop sample
		"Hoodie with Logo",         // shop sample
		"Guardian Angel Earrings",  // "Guardian" is a Zelda enemy and a word
		"Steve - Sand Green Shirt", // a Friends minifigure, not Minecraft
	} {
		if got := tg.Suggest(Product{Title: title}); got != nil {
			t.Errorf("Suggest(%q) = %+v, want abstention", title, got)
		}
	}
	for title, ip := range map[string]string{
		"Darth Vader's Castle":        "Star Wars",
		"Mario Kart – Baby Peach":     "Super Mario",
		"Minecraft Steve BigFig":      "Minecraft",
		"Pokémon Glurak Plüsch":       "Pokemon",
		"Legend of Zelda Link amiibo": "The Legend of Zelda",
	} {
		got := tg.Suggest(Product{Title: title})
		if len(got) == 0 || got[0].GameIP != ip {
			t.Errorf("Suggest(%q) = %+v, want %s first", title, got, ip)
		}
	}
}
