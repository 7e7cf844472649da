package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
	"github.com/phantomos/phantomos/internal/report"
	"github.com/phantomos/phantomos/internal/store"
)

// view is the range, comparison and filters of an analytics page or
// endpoint, parsed from the query string so that every link and export
// carries them.
type view struct {
	Preset      string // a preset key, or "custom"
	Period      analytics.Period
	CompareMode string
	Compare     analytics.Period
	HasCompare  bool
	Filter      store.Filter
	query       url.Values
	// version is the publisher's data version when the request began.
	version int64
	// Elsewhere is where the publisher's sales lie when the range holds
	// none of them (pages only; see noteDataElsewhere).
	Elsewhere *dataSpan
}

// parseView reads the view of the request's query string (report.Parse).
func (s *Server) parseView(r *http.Request, pub *phantomos.Publisher) (*view, error) {
	sp, err := report.Parse(r.URL.Query(), s.now(), s.location(pub))
	if err != nil {
		return nil, err
	}
	return &view{Preset: sp.Preset, Period: sp.Period, CompareMode: sp.CompareMode, Compare: sp.Compare,
		HasCompare: sp.HasCompare, Filter: sp.Filter, query: sp.Values}, nil
}

// Query returns the view's query string with key set to val (or removed
// when val is empty), for links that change one thing.
func (v *view) Query(key, val string) string {
	q := url.Values{}
	for k, vs := range v.query {
		q[k] = vs
	}
	if val == "" {
		q.Del(key)
	} else {
		q.Set(key, val)
	}
	if s := q.Encode(); s != "" {
		return "?" + s
	}
	return ""
}

// QueryString is the view's full query string, for exports.
func (v *view) QueryString() string { return v.Query("", "") }

// One returns the single selected value of a filter, for the filter form.
func (v *view) One(key string) string { return v.query.Get(key) }

// Filtered reports whether any filter is set.
func (v *view) Filtered() bool {
	f := v.Filter
	return len(f.GameIPs)+len(f.Assets)+len(f.Categories)+len(f.Channels)+len(f.Connectors)+len(f.Countries) > 0
}

// Presets are the range choices, for the form.
func (v *view) Presets() any { return analytics.Presets }

// location returns the publisher's time zone, loaded once per name.
func (s *Server) location(pub *phantomos.Publisher) *time.Location {
	if loc, ok := s.zones.Load(pub.Timezone); ok {
		return loc.(*time.Location)
	}
	loc := pub.Location()
	s.zones.Store(pub.Timezone, loc)
	return loc
}

// publisherView returns the request's publisher and its analytics view,
// the start of every analytics page and endpoint. The publisher and its
// data version are one primary-key read.
func (s *Server) publisherView(r *http.Request) (*phantomos.Publisher, *view, error) {
	a := phantomos.ActorFrom(r.Context())
	pub, version, err := s.store.PublisherVersion(r.Context(), a.PublisherID)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.parseView(r, pub)
	if err != nil {
		return nil, nil, err
	}
	v.version = version
	return pub, v, nil
}

// key names the answer of kind (with its own arguments, such as an asset
// id) to the view's question for the answer cache: the publisher and its
// data version, the settings the answer depends on, and the resolved
// periods and filters. Periods are resolved dates, so a relative range
// ("last 30 days") names a new question when the publisher's day changes.
// Filter values are sorted, as their order changes nothing; the order of
// the arguments is kept.
func (v *view) key(pub *phantomos.Publisher, kind string, args ...string) string {
	settings, _ := json.Marshal(pub.Settings)
	q := url.Values{
		"pub": {string(pub.ID)}, "version": {strconv.FormatInt(v.version, 10)}, "kind": {kind}, "args": args,
		"currency": {pub.ReportingCurrency}, "tz": {pub.Timezone}, "settings": {string(settings)},
		"period": {string(v.Period.From), string(v.Period.To)},
	}
	if v.HasCompare {
		q["compare"] = []string{string(v.Compare.From), string(v.Compare.To)}
	}
	f := v.Filter
	for k, vals := range map[string][]string{"ip": f.GameIPs, "asset": f.Assets, "category": f.Categories,
		"channel": f.Channels, "connector": f.Connectors, "country": f.Countries, "product": f.Products} {
		if len(vals) > 0 {
			q[k] = slices.Sorted(slices.Values(vals))
		}
	}
	return q.Encode()
}

// assetOverview is the overview of the products featuring the asset of the
// request's {id}, for its page and its endpoint.
func (s *Server) assetOverview(r *http.Request) (*phantomos.Publisher, *phantomos.Asset, *view, *analytics.Overview, error) {
	pub, v, err := s.publisherView(r)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	asset, err := s.store.Asset(r.Context(), pub.ID, r.PathValue("id"))
	if err != nil {
		return nil, nil, nil, nil, err
	}
	f := v.Filter
	f.Assets = []string{asset.ID}
	o, _, err := cached(r.Context(), s.answers, v.key(pub, "asset", asset.ID), func(ctx context.Context) (*analytics.Overview, error) {
		return analytics.BuildOverview(ctx, s.store, pub, v.Period, v.Compare, v.HasCompare, f)
	})
	return pub, asset, v, o, err
}
