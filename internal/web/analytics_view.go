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
