package tagging

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func decisions(assetID string, confirmed bool, titles ...string) []Decision {
	var out []Decision
	for i, ti := range titles {
		out = append(out, Decision{Product: Product{ID: assetID + ti + string(rune('a'+i)), Title: ti}, AssetID: assetID, Confirmed: confirmed})
	}
	return out
}

func TestFeedbackRejectedAlias(t *testing.T) {
	base := newTestTagger(t)
	probe := Product{Title: "Bowser Plush"}
	if got := ids(base.Suggest(probe)); !cmp.Equal(got, []string{"m-bowser"}) {
		t.Fatalf("base: got %v", got)
	}
	tests := []struct {
		name string
		fb   Feedback
		want []string
	}{
		{"one rejection is not enough", Feedback{Decisions: decisions("m-bowser", false, "Bowser Street Sign")}, []string{"m-bowser"}},
		{"two rejections silence the alias", Feedback{Decisions: decisions("m-bowser", false, "Bowser Street Sign", "Bowser Family Crest")}, nil},
		{"confirmations outweigh rejections", Feedback{Decisions: append(decisions("m-bowser", false, "Bowser Street Sign", "Bowser Family Crest"),
			decisions("m-bowser", true, "Bowser Figure", "Bowser Mug", "Bowser Tee")...)}, []string{"m-bowser"}},
		{"threshold is configurable", Feedback{MinRejections: 1, Decisions: decisions("m-bowser", false, "Bowser Street Sign")}, nil},
		{"explicit rejection", Feedback{RejectedAliases: []AliasRejection{{AssetID: "m-bowser", Alias: "BOWSER"}}}, nil},
		{"rejection of another asset", Feedback{RejectedAliases: []AliasRejection{{AssetID: "m-mario", Alias: "Bowser"}}}, []string{"m-bowser"}},
		{"unknown asset ignored", Feedback{RejectedAliases: []AliasRejection{{AssetID: "gone", Alias: "Bowser"}},
			Decisions: decisions("gone", false, "Bowser Plush", "Bowser Plush")}, []string{"m-bowser"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ids(base.WithFeedback(tt.fb).Suggest(probe))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	// Only that alias is silenced: other names of the asset still work.
	fb := base.WithFeedback(Feedback{RejectedAliases: []AliasRejection{{AssetID: "m-peach", Alias: "Princess Peach"}}})
	if got := fb.Suggest(Product{Title: "Princess Peach Crown"}); got != nil {
		t.Errorf("rejected alias still fires: %+v", got)
	}
	if got := ids(fb.Suggest(Product{Title: "Mario and Peach Figure"})); !cmp.Equal(got, []string{"m-mario", "m-peach"}) {
		t.Errorf("other alias: got %v", got)
	}
}

func TestFeedbackConfirmedPattern(t *testing.T) {
	base := newTestTagger(t)
	probe := Product{Title: "Hyrule Hero Socks"}
	if got := base.Suggest(probe); got != nil {
		t.Fatalf("base suggests %+v", got)
	}
	line := []string{"Hyrule Hero Tee - Green", "Hyrule Hero Hoodie", "Hyrule Hero Cap", "Hyrule Hero Mug", "Hyrule Hero Poster", "Hyrule Hero Pin"}
	conf := func(fb Feedback) float64 {
		for _, s := range base.WithFeedback(fb).Suggest(probe) {
			if s.AssetID == "z-link" {
				return s.Confidence
			}
		}
		return 0
	}
	if c := conf(Feedback{Decisions: decisions("z-link", true, line[:2]...)}); c != 0 {
		t.Errorf("two confirmations: confidence %.2f, want none", c)
	}
	c3 := conf(Feedback{Decisions: decisions("z-link", true, line[:3]...)})
	c6 := conf(Feedback{Decisions: decisions("z-link", true, line...)})
	if c3 < 0.5 || c6 <= c3 {
		t.Errorf("confidence after 3 confirmations %.2f, after 6 %.2f: want suggested and growing", c3, c6)
	}
	got := base.WithFeedback(Feedback{Decisions: decisions("z-link", true, line...)}).Suggest(probe)
	if len(got) != 1 || got[0].Evidence != `title "hyrule hero" (confirmed pattern)` {
		t.Errorf("evidence: %+v", got)
	}
	// A pattern confirmed for two assets says neither.
	mixed := append(decisions("z-link", true, line[:3]...), decisions("z-zelda", true, line[3:]...)...)
	if c := conf(Feedback{Decisions: mixed}); c != 0 {
		t.Errorf("pattern shared by two assets: confidence %.2f, want none", c)
	}
	// Rejections of the pattern for that asset count against it.
	rejected := append(decisions("z-link", true, line[:3]...), decisions("z-link", false, line[3:]...)...)
	if c := conf(Feedback{Decisions: rejected}); c != 0 {
		t.Errorf("pattern also rejected: confidence %.2f, want none", c)
	}
	// SKU prefixes are product-line patterns too.
	var skus []Decision
	for i, sku := range []string{"HH-LNK-001", "HH-LNK-002", "HH-LNK-003", "HH-LNK-004"} {
		skus = append(skus, Decision{Product: Product{ID: sku, Title: "Adventure Tee " + string(rune('A'+i)), SKU: sku}, AssetID: "z-link", Confirmed: true})
	}
	if got := ids(base.WithFeedback(Feedback{Decisions: skus}).Suggest(Product{Title: "Adventure Hat", SKU: "HH-LNK-010"})); !cmp.Equal(got, []string{"z-link"}) {
		t.Errorf("SKU pattern: got %v", got)
	}
}

// Feedback of one publisher never reaches another, nor the shared tagger.
func TestFeedbackIsolation(t *testing.T) {
	base := newTestTagger(t)
	a := base.WithFeedback(Feedback{RejectedAliases: []AliasRejection{{AssetID: "sw-yoda", Alias: "Yoda"}}})
	b := base.WithFeedback(Feedback{Decisions: decisions("z-link", true, "Hyrule Hero Tee", "Hyrule Hero Cap", "Hyrule Hero Mug")})
	yoda := Product{Title: "Yoda Plush"}
	hero := Product{Title: "Hyrule Hero Socks"}
	if a.Suggest(yoda) != nil {
		t.Error("publisher A: rejected alias fires")
	}
	if b.Suggest(yoda) == nil || base.Suggest(yoda) == nil {
		t.Error("A's rejection leaked to B or to the base tagger")
	}
	if b.Suggest(hero) == nil {
		t.Error("publisher B: pattern not learned")
	}
	if a.Suggest(hero) != nil || base.Suggest(hero) != nil {
		t.Error("B's pattern leaked to A or to the base tagger")
	}
}

// Issue 15 item 15: a confirmed naming pattern that is an ordinary word
// ("Explorer", here confirmed six times for a logo) alone stays below the
// high band; with the game IP's name in the title it is high again, and a
// distinctive pattern is unaffected.
func TestFeedbackOrdinaryPattern(t *testing.T) {
	base := newTestTagger(t)
	line := []string{"White Explorer Hoodie - L", "Explorer Vintage Crewneck - S", "Explorer Embroidered Hoodie - XL", "Explorer Hat", "Explorer Tee", "Explorer Beanie"}
	tg := base.WithFeedback(Feedback{Decisions: decisions("z-triforce", true, line...)})
	conf := func(title string) float64 {
		for _, s := range tg.Suggest(Product{Title: title}) {
			if s.AssetID == "z-triforce" {
				return s.Confidence
			}
		}
		return 0
	}
	if c := conf("Explorer Mug"); c < 0.6 || c > learnedOrdinaryMax {
		t.Errorf("ordinary pattern alone: confidence %.3f, want suggested at most %.2f", c, learnedOrdinaryMax)
	}
	if c := conf("Legend of Zelda Explorer Mug"); c < 0.9 {
		t.Errorf("ordinary pattern with the game IP: confidence %.3f, want ≥ 0.9", c)
	}
	hero := base.WithFeedback(Feedback{Decisions: decisions("z-link", true, "Hyrule Hero Tee - Green", "Hyrule Hero Hoodie", "Hyrule Hero Cap", "Hyrule Hero Mug", "Hyrule Hero Poster", "Hyrule Hero Pin")})
	if got := hero.Suggest(Product{Title: "Hyrule Hero Socks"}); len(got) != 1 || got[0].Confidence < 0.9 {
		t.Errorf("distinctive pattern: %+v, want ≥ 0.9", got)
	}
}

// The same word as a catalogue alias of a logo: alone it is not evidence
// enough; the game IP's name makes it a suggestion.
func TestOrdinaryAlias(t *testing.T) {
	cat := testCatalogue()
	for i := range cat {
		if cat[i].ID == "z-triforce" {
			cat[i].Aliases = []string{"Explorer"}
		}
	}
	tg, err := NewTagger(cat, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := tg.Suggest(Product{Title: "Explorer Hoodie"}); got != nil {
		t.Errorf("ordinary alias alone: %+v, want nothing", got)
	}
	if got := ids(tg.Suggest(Product{Title: "Legend of Zelda Explorer Hoodie"})); len(got) != 1 || got[0] != "z-triforce" {
		t.Errorf("ordinary alias with the game IP: %v", got)
	}
}
