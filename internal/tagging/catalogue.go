// Package tagging maps merchandise products to the game-IP assets they
// depict (characters, logos, scenes, items, themes) without any network:
// the local tagger of PhantomOS.
//
// A Tagger is built once from a publisher's catalogue and then answers
// Suggest for any number of products, concurrently. Matching works on folded
// text (compatibility decomposition, diacritics removed, case folded,
// possessives dropped) split at word boundaries, so "Pokémon" equals
// "pokemon" and "cufflinks" never contains "Link". Each name or alias is
// weighed by how distinctive its words are: a name made of ordinary words
// ("Link", "Apple", "Rocket") is only suggested when the game IP's name or
// another asset of the same IP appears in the text too. Partial names
// ("Vader" for "Darth Vader"), small typos and plurals are accepted at a
// lower confidence. When the evidence is weak the tagger abstains.
//
// Confidences are meant to be read as probabilities: Eval measures, on real
// third-party titles, how often suggestions in each confidence band are
// right. WithFeedback layers one publisher's own review decisions over a
// Tagger (rejected aliases stop firing, confirmed naming patterns gain
// weight) without touching the shared catalogue index.
//
// Every product costs a bounded amount of work, whatever its text: only a
// prefix of each field and a fixed number of words are read (bounds.go).
// Assets of one game IP whose names differ only by a symbol or an accent
// ("Nidoran♀", "Nidoran♂") are distinct twins: the title's exact spelling
// picks one, else all are suggested at a lower confidence (twins.go).
//
// RunCSV is the back-end of `phantomos tag`, Eval of `phantomos eval
// tagging`.
package tagging

import (
	"fmt"
	"strings"
)

// AssetType is the kind of IP asset a product can depict.
type AssetType string

// The asset types of DESIGN.md §3.
const (
	Character AssetType = "character"
	Logo      AssetType = "logo"
	Scene     AssetType = "scene"
	Item      AssetType = "item"
	Theme     AssetType = "theme"
	Other     AssetType = "other"
)

// ParseAssetType returns the AssetType named by s (case-insensitive, spaces
// trimmed). An empty s is Other.
func ParseAssetType(s string) (AssetType, error) {
	switch t := AssetType(strings.ToLower(strings.TrimSpace(s))); t {
	case "":
		return Other, nil
	case Character, Logo, Scene, Item, Theme, Other:
		return t, nil
	}
	return "", fmt.Errorf("tagging: unknown asset type %q (want character, logo, scene, item, theme or other)", s)
}

// Asset is one entry of a publisher's catalogue as the tagger sees it.
type Asset struct {
	// ID identifies the asset; suggestions return it. Required, unique.
	ID string
	// GameIP is the name of the game IP the asset belongs to, e.g.
	// "The Legend of Zelda". Required. Its words serve as context.
	GameIP string
	// Name is the asset's display name, e.g. "Darth Vader". Required.
	Name string
	// Type is the kind of asset; empty means Other. Only characters are
	// matched by part of their name.
	Type AssetType
	// Aliases are other names of the asset: translations, nicknames,
	// spellings. They match like the name.
	Aliases []string
}

// Product is the text of one merchandise product.
type Product struct {
	// ID is returned unchanged; the tagger does not interpret it.
	ID string
	// Title is the product name, the main evidence.
	Title string
	// Description may contain HTML; tags are ignored.
	Description string
	// Tags are the shop's tags or categories.
	Tags []string
	// SKU is the stock-keeping unit; product lines often encode the
	// franchise or character in it.
	SKU string
	// Vendor is the brand or supplier.
	Vendor string
}

// Suggestion proposes that a product depicts an asset.
type Suggestion struct {
	// AssetID is the Asset.ID suggested.
	AssetID string
	// GameIP is the asset's game IP name.
	GameIP string
	// Asset is the asset's name.
	Asset string
	// Confidence estimates the probability that the suggestion is right,
	// in [0, 1].
	Confidence float64
	// Primary marks the product's main asset: the strongest suggestion,
	// or a character over its IP's wordmark of similar confidence.
	// Exactly one suggestion of a non-empty result has it.
	Primary bool
	// Evidence says which words triggered the suggestion, for reviewers.
	Evidence string
}
