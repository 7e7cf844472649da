// Package report turns an analytics view, as a page's query string
// states it, into its figures and its CSV export, without HTTP: the
// Overview and Assets pages export through it, and so do the scheduled
// reports the notification jobs mail.
package report

import (
	"bytes"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
	"github.com/phantomos/phantomos/internal/csvexport"
	"github.com/phantomos/phantomos/internal/store"
)

// Spec is the range, comparison and filters of an analytics view.
type Spec struct {
	Preset      string // a preset key, or "custom"
	Period      analytics.Period
	CompareMode string
	Compare     analytics.Period
	HasCompare  bool
	Filter      store.Filter
	// Values are the parameters of the query string that state the
	// view, so that links and exports carry them.
	Values url.Values
}

// NoValue is the query value that selects sales whose country or channel
// is unknown: the empty value means "no filter".
const NoValue = "-"

// maxFilterValue bounds one filter value; longer ones are ignored.
const maxFilterValue = 100

// Parse reads range=7d|30d|90d|12m|qtd|ytd|lq or from/to, compare=
// previous|year|none, and the filters ip, asset, category, channel,
// connector and country (each repeatable), with presets counted back from
// now in loc.
func Parse(q url.Values, now time.Time, loc *time.Location) (Spec, error) {
	v := Spec{Preset: q.Get("range"), CompareMode: q.Get("compare")}
	var err error
	if from, to := q.Get("from"), q.Get("to"); from != "" || to != "" {
		v.Preset = "custom"
		v.Period, err = analytics.Custom(from, to)
	} else {
		if v.Preset == "" {
			v.Preset = "12m"
		}
		v.Period, err = analytics.Range(v.Preset, now, loc)
	}
	if err != nil {
		return Spec{}, err
	}
	if v.CompareMode == "" {
		v.CompareMode = analytics.ComparePrevious
	}
	if v.Compare, v.HasCompare, err = analytics.Compare(v.Period, v.CompareMode); err != nil {
		return Spec{}, err
	}
	clean := func(key string, upper bool) []string {
		var out []string
		for _, val := range q[key] {
			val = strings.TrimSpace(val)
			if upper {
				val = strings.ToUpper(val)
			}
			switch {
			case val == NoValue:
				// Sales without a country or channel (a file without
				// that column), as the filter's "Unknown" choice.
				out = append(out, "")
			case val != "" && len(val) <= maxFilterValue:
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
				return Spec{}, phantomos.Errorf(phantomos.EINVALID, "Filter value %q is not an id.", id)
			}
		}
	}
	v.Values = url.Values{}
	for _, k := range []string{"range", "from", "to", "compare", "ip", "asset", "category", "channel", "connector", "country"} {
		if vals, ok := q[k]; ok {
			v.Values[k] = vals
		}
	}
	return v, nil
}

// OverviewCSV is the Overview page's export of o: its file name and
// content.
func OverviewCSV(pub *phantomos.Publisher, o *analytics.Overview) (string, []byte, error) {
	var buf bytes.Buffer
	cw := csvexport.NewWriter(&buf)
	amount := func(v int64) string { return Decimal(v, pub.ReportingCurrency) }
	cw.Write([]string{"section", "key", "label", "net_revenue", "units", "share_or_change", "currency"})
	f := o.Current
	for _, k := range []struct {
		k string
		v string
	}{{"net_revenue", amount(f.NetRevenue)}, {"gross_revenue", amount(f.GrossRevenue)}, {"discounts", amount(f.Discounts)},
		{"refunds", amount(f.Refunds)}, {"orders", strconv.FormatInt(f.Orders, 10)}, {"units", strconv.FormatInt(f.Units, 10)},
		{"average_order_value", amount(f.AverageOrderValue)}} {
		cw.Write([]string{"summary", k.k, string(o.Period.From) + ".." + string(o.Period.To), k.v, "", "", pub.ReportingCurrency})
	}
	for _, pt := range o.Trend {
		cmp := ""
		if pt.Compare != nil {
			cmp = amount(*pt.Compare)
		}
		cw.Write([]string{"trend_" + o.Grain, string(pt.Start), "", amount(pt.NetRevenue), "", cmp, pub.ReportingCurrency})
	}
	// Sections in a fixed order (a map's would change between downloads).
	for _, sec := range []struct {
		name string
		rows []analytics.Row
	}{{"category", o.Categories}, {"top_product", o.Products}, {"country", o.Countries}, {"channel", o.Channels}} {
		name := sec.name
		for _, row := range sec.rows {
			cw.Write([]string{name, row.Key, row.Label, amount(row.NetRevenue), strconv.FormatInt(row.Units, 10), strconv.FormatFloat(row.Share, 'f', 4, 64), pub.ReportingCurrency})
		}
	}
	cw.Flush()
	return fmt.Sprintf("overview-%s-%s.csv", o.Period.From, o.Period.To), buf.Bytes(), cw.Error()
}

// AssetsCSV is the Assets page's export of rep: its file name and
// content.
func AssetsCSV(pub *phantomos.Publisher, rep *analytics.AssetReport) (string, []byte, error) {
	var buf bytes.Buffer
	cw := csvexport.NewWriter(&buf)
	cw.Write([]string{"section", "id", "name", "asset_type", "game_ip", "net_revenue", "share", "previous_net_revenue", "currency", "attribution_model"})
	for _, a := range rep.Assets {
		prev := ""
		if a.Previous != nil {
			prev = Decimal(*a.Previous, pub.ReportingCurrency)
		}
		cw.Write([]string{"asset", a.ID, a.Name, a.Type, a.GameIP, Decimal(a.NetRevenue, pub.ReportingCurrency), strconv.FormatFloat(a.Share, 'f', 4, 64), prev, rep.Currency, rep.Model})
	}
	// Sections in a fixed order (a map's would change between downloads).
	for _, sec := range []struct {
		name string
		rows []analytics.Row
	}{{"asset_type", rep.Types}, {"game_ip", rep.GameIPs}} {
		name := sec.name
		for _, row := range sec.rows {
			cw.Write([]string{name, row.Key, row.Label, "", "", Decimal(row.NetRevenue, pub.ReportingCurrency), strconv.FormatFloat(row.Share, 'f', 4, 64), "", rep.Currency, rep.Model})
		}
	}
	cw.Flush()
	return fmt.Sprintf("assets-%s-%s.csv", rep.Period.From, rep.Period.To), buf.Bytes(), cw.Error()
}

// Decimal formats minor units as a plain decimal for CSV: 123456 →
// "1234.56".
func Decimal(v int64, currency string) string {
	d := phantomos.MinorDigits(currency)
	if d == 0 {
		return strconv.FormatInt(v, 10)
	}
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	div := int64(1)
	for range d {
		div *= 10
	}
	return fmt.Sprintf("%s%d.%0*d", sign, v/div, d, v%div)
}
