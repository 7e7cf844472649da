package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
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
}

// parseView reads range=7d|30d|90d|12m|qtd|ytd|lq or from/to, compare=
// previous|year|none, and the filters ip, asset, category, channel,
// connector and country (each repeatable).
func (s *Server) parseView(r *http.Request, pub *phantomos.Publisher) (*view, error) {
	q := r.URL.Query()
	v := &view{Preset: q.Get("range"), CompareMode: q.Get("compare")}
	var err error
	if from, to := q.Get("from"), q.Get("to"); from != "" || to != "" {
		v.Preset = "custom"
		v.Period, err = analytics.Custom(from, to)
	} else {
		if v.Preset == "" {
			v.Preset = "12m"
		}
		v.Period, err = analytics.Range(v.Preset, s.now(), pub.Location())
	}
	if err != nil {
		return nil, err
	}
	if v.CompareMode == "" {
		v.CompareMode = analytics.ComparePrevious
	}
	if v.Compare, v.HasCompare, err = analytics.Compare(v.Period, v.CompareMode); err != nil {
		return nil, err
	}
	clean := func(key string, upper bool) []string {
		var out []string
		for _, val := range q[key] {
			val = strings.TrimSpace(val)
			if upper {
				val = strings.ToUpper(val)
			}
			if val != "" && len(val) <= 100 {
				out = append(out, val)
			}
		}
		return out
	}
	v.Filter = store.Filter{
		GameIPs: clean("ip", false), Assets: clean("asset", false), Categories: clean("category", false),
		Channels: clean("channel", false), Connectors: clean("connector", false), Countries: clean("country", true),
	}
	for _, ids := range [][]string{v.Filter.GameIPs, v.Filter.Assets, v.Filter.Connectors} {
		for _, id := range ids {
			if !phantomos.ValidID(id) {
				return nil, phantomos.Errorf(phantomos.EINVALID, "Filter value %q is not an id.", id)
			}
		}
	}
	v.query = url.Values{}
	for _, k := range []string{"range", "from", "to", "compare", "ip", "asset", "category", "channel", "connector", "country"} {
		if vals, ok := q[k]; ok {
			v.query[k] = vals
		}
	}
	return v, nil
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

// publisherView returns the request's publisher and its analytics view,
// the start of every analytics page and endpoint.
func (s *Server) publisherView(r *http.Request) (*phantomos.Publisher, *view, error) {
	a := phantomos.ActorFrom(r.Context())
	pub, err := s.store.Publisher(r.Context(), a.PublisherID)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.parseView(r, pub)
	if err != nil {
		return nil, nil, err
	}
	return pub, v, nil
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
	o, err := analytics.BuildOverview(r.Context(), s.store, pub, v.Period, v.Compare, v.HasCompare, f)
	return pub, asset, v, o, err
}
