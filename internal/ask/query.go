// Package ask answers plain-language questions from a publisher's own
// numbers. A question becomes a typed Query in the vocabulary the pages use
// (measure, grouping, filters, period, comparison, attribution model,
// limit); the Query is validated against the publisher's catalogue; and the
// analytics code computes the answer. No language model ever produces a
// figure: the local interpreter (and, with a key, Claude) only produces the
// Query.
package ask

import (
	"slices"
	"strings"

	"github.com/phantomos/phantomos"
)

// Query kinds: the shapes of question the interpreter understands.
const (
	KindRank      = "rank"      // top or bottom N of a grouping
	KindTotal     = "total"     // one figure for the period
	KindCompare   = "compare"   // two or more subjects side by side
	KindTrend     = "trend"     // a subject over time
	KindShare     = "share"     // a subject's share of the (filtered) whole
	KindChange    = "change"    // what moved most between two periods
	KindExpansion = "expansion" // categories where a game IP under-indexes
	KindForecast  = "forecast"  // the revenue forecast of a subject
	KindInsight   = "insight"   // stored Intelligence findings about a subject
)

// Measures.
const (
	MeasureRevenue = "revenue" // net revenue in the reporting currency
	MeasureUnits   = "units"
	MeasureOrders  = "orders"
	MeasureGrowth  = "growth" // net revenue growth against the comparison period
)

// Groupings and subject kinds.
const (
	GroupAsset     = "asset"
	GroupGameIP    = "game_ip"
	GroupAssetType = "asset_type"
	GroupCategory  = "category"
	GroupProduct   = "product"
	GroupCountry   = "country"
	GroupChannel   = "channel"
	// RefTag names the top-earning asset carrying a tag ("our villain").
	RefTag = "tag"
)

// Kinds lists every query kind.
var Kinds = []string{KindRank, KindTotal, KindCompare, KindTrend, KindShare, KindChange, KindExpansion, KindForecast, KindInsight}

// Measures lists every measure.
var Measures = []string{MeasureRevenue, MeasureUnits, MeasureOrders, MeasureGrowth}

// Groupings lists every grouping.
var Groupings = []string{GroupAsset, GroupGameIP, GroupAssetType, GroupCategory, GroupProduct, GroupCountry, GroupChannel}

// Ref names one thing of the publisher's catalogue: an asset, game IP,
// asset type, category, country, channel (by id or key), or a tag.
type Ref struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

// Filter narrows a query like the pages' filter form; AssetTypes narrows
// asset rankings to some asset types.
type Filter struct {
	GameIPs    []string `json:"game_ips,omitempty"`
	Assets     []string `json:"assets,omitempty"`
	AssetTypes []string `json:"asset_types,omitempty"`
	Categories []string `json:"categories,omitempty"`
	Channels   []string `json:"channels,omitempty"`
	Countries  []string `json:"countries,omitempty"`
}

// Query is a question in typed form. Range is a preset of the pages
// (7d, 30d, 90d, 12m, qtd, ytd, lq) or "custom" with From and To.
type Query struct {
	Kind     string `json:"kind"`
	Measure  string `json:"measure"`
	GroupBy  string `json:"group_by,omitempty"`
	Subjects []Ref  `json:"subjects,omitempty"`
	Filter   Filter `json:"filter"`
	Range    string `json:"range"`
	From     string `json:"from,omitempty"`
	To       string `json:"to,omitempty"`
	// RangeLabel is how the question named the period ("this quarter").
	RangeLabel string `json:"range_label,omitempty"`
	Compare    string `json:"compare"`
	// Model is the attribution model of asset figures; it is always the
	// publisher's, as on the pages.
	Model string `json:"attribution_model"`
	Order string `json:"order,omitempty"` // top or bottom
	Limit int    `json:"limit,omitempty"`
}

// MaxLimit bounds the rows of a ranking.
const MaxLimit = 50

// Catalogue is what a publisher's questions may name: its game IPs,
// assets, categories, channels and countries. Queries are checked against
// it, so a question can never reach another publisher's names.
type Catalogue struct {
	GameIPs    []*phantomos.GameIP
	Assets     []*phantomos.Asset
	Categories []string
	Channels   []string
	Countries  []string
	// FirstDay is the first day with sales ("since launch"), "" without.
	FirstDay phantomos.Day
}

func (c *Catalogue) asset(id string) *phantomos.Asset {
	for _, a := range c.Assets {
		if a.ID == id {
			return a
		}
	}
	return nil
}

func (c *Catalogue) gameIP(id string) *phantomos.GameIP {
	for _, g := range c.GameIPs {
		if g.ID == id {
			return g
		}
	}
	return nil
}

func (c *Catalogue) hasTag(tag string) bool {
	for _, a := range c.Assets {
		if slices.Contains(a.Tags, tag) {
			return true
		}
	}
	return false
}

var assetTypes = []string{phantomos.AssetCharacter, phantomos.AssetLogo, phantomos.AssetScene, phantomos.AssetItem, phantomos.AssetTheme, phantomos.AssetOther}

// Validate checks q against the catalogue c: every name must be the
// publisher's and every combination one the analytics can answer. Errors
// are EINVALID and name the field at fault.
func (q *Query) Validate(c *Catalogue) error {
	bad := func(format string, args ...any) error { return phantomos.Errorf(phantomos.EINVALID, format, args...) }
	if !slices.Contains(Kinds, q.Kind) {
		return bad("Unknown kind %q (field kind): use %s.", q.Kind, strings.Join(Kinds, ", "))
	}
	if !slices.Contains(Measures, q.Measure) {
		return bad("Unknown measure %q (field measure): use %s.", q.Measure, strings.Join(Measures, ", "))
	}
	if q.GroupBy != "" && !slices.Contains(Groupings, q.GroupBy) {
		return bad("Unknown grouping %q (field group_by): use %s.", q.GroupBy, strings.Join(Groupings, ", "))
	}
	if q.Limit < 0 || q.Limit > MaxLimit {
		return bad("The limit (field limit) must be between 1 and %d.", MaxLimit)
	}
	if q.Order != "" && q.Order != "top" && q.Order != "bottom" {
		return bad("Unknown order %q (field order): use top or bottom.", q.Order)
	}
	if len(q.Subjects) > 6 {
		return bad("At most 6 subjects (field subjects).")
	}
	for i, r := range q.Subjects {
		if err := c.checkRef(r); err != nil {
			return bad("subjects[%d]: %s", i, err.(*phantomos.Error).Message)
		}
	}
	f := q.Filter
	lists := []struct {
		field, kind string
		ids         []string
	}{{"game_ips", GroupGameIP, f.GameIPs}, {"assets", GroupAsset, f.Assets}, {"asset_types", GroupAssetType, f.AssetTypes},
		{"categories", GroupCategory, f.Categories}, {"channels", GroupChannel, f.Channels}, {"countries", GroupCountry, f.Countries}}
	for _, l := range lists {
		if len(l.ids) > 20 {
			return bad("At most 20 values in filter.%s.", l.field)
		}
		for _, id := range l.ids {
			if err := c.checkRef(Ref{Kind: l.kind, ID: id}); err != nil {
				return bad("filter.%s: %s", l.field, err.(*phantomos.Error).Message)
			}
		}
	}
	switch q.Kind {
	case KindRank, KindChange:
		if q.GroupBy == "" {
			return bad("A %s needs a grouping (field group_by).", q.Kind)
		}
		if q.Measure == MeasureOrders {
			return bad("Orders are counted per order, not per %s: rank by revenue, units or growth.", strings.ReplaceAll(q.GroupBy, "_", " "))
		}
		if q.Measure == MeasureUnits && (q.GroupBy == GroupAsset || q.GroupBy == GroupAssetType) {
			return bad("Units are not attributed to assets: rank assets by revenue or growth.")
		}
	case KindCompare:
		if len(q.Subjects) < 2 {
			return bad("A comparison needs two or more subjects (field subjects).")
		}
		k := kindOf(q.Subjects[0])
		for _, r := range q.Subjects[1:] {
			if kindOf(r) != k {
				return bad("A comparison sets things of one kind side by side (field subjects).")
			}
		}
	case KindShare, KindTrend, KindForecast:
		if q.Kind == KindTrend && (q.Measure == MeasureUnits || q.Measure == MeasureOrders) {
			return bad("A trend is of net revenue (field measure): ask for the trend of revenue.")
		}
		if len(q.Subjects) > 1 {
			return bad("A %s is about one subject (field subjects).", q.Kind)
		}
		if q.Kind == KindShare && len(q.Subjects) == 0 {
			return bad("A share needs a subject (field subjects).")
		}
		if q.Kind == KindForecast && len(q.Subjects) == 1 {
			switch q.Subjects[0].Kind {
			case GroupGameIP, GroupAsset, GroupCategory, GroupChannel, RefTag:
			default:
				return bad("Forecasts are made for the whole business, a game IP, an asset, a category or a channel.")
			}
		}
	}
	if q.Compare != "previous" && q.Compare != "year" && q.Compare != "none" {
		return bad("Unknown comparison %q (field compare): use previous, year or none.", q.Compare)
	}
	return nil
}

// kindOf is the kind of thing r stands for: a tag stands for an asset.
func kindOf(r Ref) string {
	if r.Kind == RefTag {
		return GroupAsset
	}
	return r.Kind
}

func (c *Catalogue) checkRef(r Ref) error {
	ok := false
	switch r.Kind {
	case GroupAsset:
		ok = c.asset(r.ID) != nil
	case GroupGameIP:
		ok = c.gameIP(r.ID) != nil
	case GroupAssetType:
		ok = slices.Contains(assetTypes, r.ID)
	case GroupCategory:
		ok = slices.Contains(c.Categories, r.ID)
	case GroupChannel:
		ok = slices.Contains(c.Channels, r.ID)
	case GroupCountry:
		ok = slices.Contains(c.Countries, r.ID)
	case RefTag:
		ok = c.hasTag(r.ID)
	case GroupProduct:
		return phantomos.Errorf(phantomos.EINVALID, "products cannot be named in a question yet.")
	default:
		return phantomos.Errorf(phantomos.EINVALID, "unknown kind %q.", r.Kind)
	}
	if !ok {
		return phantomos.Errorf(phantomos.EINVALID, "no %s %q in this publisher's catalogue.", strings.ReplaceAll(r.Kind, "_", " "), r.ID)
	}
	return nil
}
