package ingest

import (
	"slices"
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// assets reads game_ip,asset,asset_type,aliases: one asset per row,
// aliases separated by "|".
type assets struct {
	ip, name, typ, aliases int
}

// Bounds of an asset row, as on the catalogue's forms: names of at most
// maxAssetText bytes and at most maxAliases aliases, each as long as a name.
// The tagger indexes every alias of every asset, so they are bounded too.
const (
	maxAssetText = 200
	maxAliases   = 50
)

var (
	assetIPNames    = []string{"game ip", "game", "ip", "franchise", "game ip name"}
	assetNameNames  = []string{"asset", "asset name", "name", "character"}
	assetTypeNames  = []string{"asset type", "type", "kind"}
	assetAliasNames = []string{"aliases", "alias", "also known as", "aka"}
)

func newAssets(t *table) (*assets, error) {
	p := &assets{ip: t.col(assetIPNames...), name: t.col(assetNameNames...), typ: t.col(assetTypeNames...), aliases: t.col(assetAliasNames...)}
	if p.ip < 0 {
		return nil, t.errMissing("game IP", assetIPNames...)
	}
	if p.name < 0 {
		return nil, t.errMissing("asset", assetNameNames...)
	}
	return p, nil
}

func (p *assets) row(t *table, s *Sink[Asset]) error {
	r := Asset{Line: t.line(), GameIP: t.get(p.ip), Name: t.get(p.name), AssetType: strings.ToLower(t.get(p.typ))}
	switch {
	case r.GameIP == "":
		s.Reject(t.errAt(p.ip, "the game IP is empty"), 1)
		return nil
	case store.GameIPSlug(r.GameIP) == "":
		s.Reject(t.errAt(p.ip, "the game IP name needs a letter or digit"), 1)
		return nil
	case len(r.GameIP) > maxAssetText:
		s.Reject(t.errAt(p.ip, "the game IP name is longer than %d characters", maxAssetText), 1)
		return nil
	case r.Name == "":
		s.Reject(t.errAt(p.name, "the asset name is empty"), 1)
		return nil
	case len(r.Name) > maxAssetText:
		s.Reject(t.errAt(p.name, "the asset name is longer than %d characters", maxAssetText), 1)
		return nil
	case r.AssetType == "":
		r.AssetType = phantomos.AssetOther
	case !slices.Contains(phantomos.AssetTypes, r.AssetType):
		s.Reject(t.errAt(p.typ, "the asset type must be one of %s", strings.Join(phantomos.AssetTypes, ", ")), 1)
		return nil
	}
	r.Aliases = splitList(t.get(p.aliases), "|")
	if len(r.Aliases) > maxAliases {
		s.Reject(t.errAt(p.aliases, "%d aliases, more than %d", len(r.Aliases), maxAliases), 1)
		return nil
	}
	for _, al := range r.Aliases {
		if len(al) > maxAssetText {
			s.Reject(t.errAt(p.aliases, "an alias is longer than %d characters", maxAssetText), 1)
			return nil
		}
	}
	return s.Record(r)
}

func (p *assets) end(*Sink[Asset]) error { return nil }

// rates reads date,currency,rate: rate units of the publisher's reporting
// currency buy one unit of currency on that date (reporting USD: "EUR,1.08").
type rates struct {
	date, cur, rate int
}

var (
	rateDateNames = []string{"date", "day", "rate date"}
	rateCurNames  = []string{"currency", "currency code", "code"}
	rateRateNames = []string{"rate", "fx rate", "exchange rate", "rate to reporting"}
)

func newRates(t *table) (*rates, error) {
	p := &rates{date: t.col(rateDateNames...), cur: t.col(rateCurNames...), rate: t.col(rateRateNames...)}
	switch {
	case p.date < 0:
		return nil, t.errMissing("date", rateDateNames...)
	case p.cur < 0:
		return nil, t.errMissing("currency", rateCurNames...)
	case p.rate < 0:
		return nil, t.errMissing("rate", rateRateNames...)
	}
	return p, nil
}

func (p *rates) row(t *table, s *Sink[Rate]) error {
	r := Rate{Line: t.line()}
	var err error
	if r.Day, err = parseDay(t.get(p.date)); err != nil {
		s.Reject(t.errAt(p.date, "date %v", err), 1)
		return nil
	}
	if r.Currency, err = normCurrency(t.get(p.cur)); err != nil {
		s.Reject(t.errAt(p.cur, "currency %v", err), 1)
		return nil
	}
	if r.Rate, err = parseRate(t.get(p.rate)); err != nil {
		s.Reject(t.errAt(p.rate, "rate %v", err), 1)
		return nil
	}
	return s.Record(r)
}

func (p *rates) end(*Sink[Rate]) error { return nil }
