package ingest

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// assets reads game_ip,asset,asset_type,aliases: one asset per row,
// aliases separated by "|".
type assets struct {
	ip, name, typ, aliases int
}

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
	case r.Name == "":
		s.Reject(t.errAt(p.name, "the asset name is empty"), 1)
		return nil
	case r.AssetType == "":
		r.AssetType = phantomos.AssetOther
	case !slices.Contains(phantomos.AssetTypes, r.AssetType):
		s.Reject(t.errAt(p.typ, "the asset type must be one of %s", strings.Join(phantomos.AssetTypes, ", ")), 1)
		return nil
	}
	r.Aliases = splitList(t.get(p.aliases), "|")
	// Names and aliases feed the tagger, whose work grows with their
	// length: the same bounds as product names and tags.
	switch {
	case utf8.RuneCountInString(r.GameIP) > store.MaxLabelLen:
		s.Reject(t.errAt(p.ip, "the game IP is longer than %d characters", store.MaxLabelLen), 1)
		return nil
	case utf8.RuneCountInString(r.Name) > store.MaxLabelLen:
		s.Reject(t.errAt(p.name, "the asset name is longer than %d characters", store.MaxLabelLen), 1)
		return nil
	case len(r.Aliases) > maxAliases:
		s.Reject(t.errAt(p.aliases, "an asset may have at most %d aliases (it has %d)", maxAliases, len(r.Aliases)), 1)
		return nil
	}
	for _, a := range r.Aliases {
		if utf8.RuneCountInString(a) > store.MaxLabelLen {
			s.Reject(t.errAt(p.aliases, "an alias is longer than %d characters", store.MaxLabelLen), 1)
			return nil
		}
	}
	return s.Record(r)
}

// maxAliases bounds the aliases of one asset.
const maxAliases = 100

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
