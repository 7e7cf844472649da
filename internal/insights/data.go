package insights

import (
	"context"
	"net/url"
	"sort"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
	"github.com/phantomos/phantomos/internal/store"
)

// maxMonths is how far back the detectors and forecasts look.
const maxMonths = 36

// dataset is a publisher's data as the detectors read it: whole calendar
// months up to the last complete one, in the publisher's time zone.
type dataset struct {
	pub   *phantomos.Publisher
	today phantomos.Day
	// months are the complete months with data, oldest first ("2006-01").
	months []string
	index  map[string]int

	// byProduct holds each product's figures per month (index of months).
	byProduct map[string][]figs
	// total holds the whole business per month.
	total []figs
	// channels and countries hold each segment's figures per month.
	channels  map[string][]figs
	countries map[string][]figs

	products map[string]*phantomos.Product
	assets   []*phantomos.Asset
	assetBy  map[string]*phantomos.Asset
	ipName   map[string]string
	links    []store.AssetLink
	model    string
	// assetsOf lists the asset ids of each product with confirmed links.
	assetsOf map[string][]string
}

// figs are one month's figures of a product or segment.
type figs struct {
	net, gross, refunded, orders int64
}

// load reads what the detectors need for publisher pub as of now.
func load(ctx context.Context, s *store.Store, pub *phantomos.Publisher, now time.Time) (*dataset, error) {
	d := &dataset{pub: pub, today: phantomos.DayOf(now, pub.Location()), index: map[string]int{},
		byProduct: map[string][]figs{}, channels: map[string][]figs{}, countries: map[string][]figs{},
		products: map[string]*phantomos.Product{}, assetBy: map[string]*phantomos.Asset{}, ipName: map[string]string{},
		assetsOf: map[string][]string{}, model: pub.Settings.AttributionModel}
	first, ok, err := s.FirstSaleDay(ctx, pub.ID)
	if err != nil {
		return nil, err
	}
	last := addMonths(string(d.today)[:7], -1)
	if ok {
		start := string(first)[:7]
		if string(first)[8:] != "01" {
			start = addMonths(start, 1) // the first month is partial
		}
		if earliest := addMonths(last, -(maxMonths - 1)); start < earliest {
			start = earliest
		}
		for m := start; m <= last; m = addMonths(m, 1) {
			d.index[m] = len(d.months)
			d.months = append(d.months, m)
		}
	}
	d.total = make([]figs, len(d.months))
	if len(d.months) == 0 {
		return d, nil
	}
	from, to := d.months[0], d.months[len(d.months)-1]
	rows, err := s.MonthlyProducts(ctx, pub.ID, from, to)
	if err != nil {
		return nil, err
	}
	for _, r := range rows {
		i, ok := d.index[r.Month]
		if !ok {
			continue
		}
		v := d.byProduct[r.ProductID]
		if v == nil {
			v = make([]figs, len(d.months))
			d.byProduct[r.ProductID] = v
		}
		f := figs{net: r.Net, gross: r.Gross, refunded: r.Refunded, orders: r.Orders}
		v[i] = f
		d.total[i].net += f.net
		d.total[i].gross += f.gross
		d.total[i].refunded += f.refunded
		d.total[i].orders += f.orders
	}
	for dim, dst := range map[store.Dimension]map[string][]figs{store.ByChannel: d.channels, store.ByCountry: d.countries} {
		segs, err := s.MonthlySegments(ctx, pub.ID, dim, from, to)
		if err != nil {
			return nil, err
		}
		for _, r := range segs {
			i, ok := d.index[r.Month]
			if !ok {
				continue
			}
			v := dst[r.Key]
			if v == nil {
				v = make([]figs, len(d.months))
				dst[r.Key] = v
			}
			v[i] = figs{net: r.Net, gross: r.Gross, refunded: r.Refunded, orders: r.Orders}
		}
	}
	products, err := s.Products(ctx, pub.ID, 1<<30)
	if err != nil {
		return nil, err
	}
	for _, p := range products {
		d.products[p.ID] = p
	}
	if d.assets, err = s.Assets(ctx, pub.ID); err != nil {
		return nil, err
	}
	for _, a := range d.assets {
		d.assetBy[a.ID] = a
	}
	ips, err := s.GameIPs(ctx, pub.ID)
	if err != nil {
		return nil, err
	}
	for _, g := range ips {
		d.ipName[g.ID] = g.Name
	}
	if d.links, err = s.ConfirmedLinks(ctx, pub.ID); err != nil {
		return nil, err
	}
	for _, l := range d.links {
		d.assetsOf[l.ProductID] = append(d.assetsOf[l.ProductID], l.AssetID)
	}
	return d, nil
}

// addMonths moves month m ("2006-01") by n months.
func addMonths(m string, n int) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	return t.AddDate(0, n, 0).Format("2006-01")
}

// period returns the days of months i..j (indexes of d.months).
func (d *dataset) period(i, j int) analytics.Period {
	return monthsPeriod(d.months[i], d.months[j])
}

// monthsPeriod returns the days from the first of month a to the last of
// month b.
func monthsPeriod(a, b string) analytics.Period {
	end, _ := time.Parse("2006-01", addMonths(b, 1))
	return analytics.Period{From: phantomos.Day(a + "-01"), To: phantomos.DayOf(end.AddDate(0, 0, -1), time.UTC)}
}

// window returns the last n complete months (fewer when there are not
// that many).
func (d *dataset) window(n int) analytics.Period {
	if len(d.months) == 0 {
		m := addMonths(string(d.today)[:7], -1)
		return monthsPeriod(m, m)
	}
	last := len(d.months) - 1
	return d.period(max(0, last-n+1), last)
}

// productNet sums each product's net revenue over months i..j, keeping
// only products keep accepts (all when keep is nil).
func (d *dataset) productNet(i, j int, keep func(p string) bool) map[string]int64 {
	out := map[string]int64{}
	for id, v := range d.byProduct {
		if keep != nil && !keep(id) {
			continue
		}
		var s int64
		for k := i; k <= j; k++ {
			s += v[k].net
		}
		if s != 0 {
			out[id] = s
		}
	}
	return out
}

// attributed returns each asset's revenue over months i..j of the products
// keep accepts, attributed as the Assets page does it: over the period as
// a whole.
func (d *dataset) attributed(i, j int, keep func(p string) bool) analytics.Attribution {
	return analytics.Attribute(d.productNet(i, j, keep), d.links, d.model)
}

// assetSeries returns every asset's attributed revenue per month.
func (d *dataset) assetSeries() map[string][]int64 {
	out := map[string][]int64{}
	for _, a := range d.assets {
		out[a.ID] = make([]int64, len(d.months))
	}
	for i := range d.months {
		at := d.attributed(i, i, nil)
		for id, v := range at.ByAsset {
			if s, ok := out[id]; ok {
				s[i] = v
			}
		}
	}
	return out
}

// sumNet sums the net revenue of v over months i..j.
func sumNet(v []figs, i, j int) int64 {
	var s int64
	for k := i; k <= j; k++ {
		s += v[k].net
	}
	return s
}

// netSeries returns the net revenue of v per month.
func netSeries(v []figs) []int64 {
	out := make([]int64, len(v))
	for i, f := range v {
		out[i] = f.net
	}
	return out
}

// series returns the months and amounts of values from month i on.
func (d *dataset) series(values []int64, i int) []MonthAmount {
	var out []MonthAmount
	for k := max(0, i); k < len(values); k++ {
		out = append(out, MonthAmount{Month: d.months[k], Amount: values[k]})
	}
	return out
}

// sortedKeys returns the keys of m by descending value of score.
func sortedKeys[V any](m map[string]V, score func(V) int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		sa, sb := score(m[keys[a]]), score(m[keys[b]])
		if sa != sb {
			return sa > sb
		}
		return keys[a] < keys[b]
	})
	return keys
}

// query builds a link's query string for a period of whole months.
func query(p analytics.Period, extra ...string) string {
	q := "?from=" + string(p.From) + "&to=" + string(p.To)
	for i := 0; i+1 < len(extra); i += 2 {
		q += "&" + extra[i] + "=" + url.QueryEscape(extra[i+1])
	}
	return q
}
