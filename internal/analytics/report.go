package analytics

import (
	"context"
	"slices"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// Figures are the headline numbers of a period, in minor units of the
// reporting currency.
type Figures struct {
	NetRevenue        int64 `json:"net_revenue"`
	GrossRevenue      int64 `json:"gross_revenue"`
	Discounts         int64 `json:"discounts"`
	Refunds           int64 `json:"refunds"`
	Orders            int64 `json:"orders"`
	Units             int64 `json:"units"`
	AverageOrderValue int64 `json:"average_order_value"`
	// OrderlessRevenue is the part of NetRevenue from sales reported
	// without orders (a vendor's sell-through by day and product): it
	// counts in revenue and units, not in Orders, and AverageOrderValue
	// leaves it out, so pages say so when it is not zero.
	OrderlessRevenue int64 `json:"orderless_revenue"`
}

func figures(m store.Summary) Figures {
	return Figures{NetRevenue: m.Net, GrossRevenue: m.Gross, Discounts: m.Discount, Refunds: m.Refunded,
		Orders: m.Orders, Units: m.Units, AverageOrderValue: m.AverageOrderValue(), OrderlessRevenue: m.OrderlessNet}
}

// Point is one bucket of a trend.
type Point struct {
	Start      phantomos.Day `json:"start"`
	NetRevenue int64         `json:"net_revenue"`
	// Compare is the comparison period's bucket at the same position.
	Compare *int64 `json:"compare_net_revenue,omitempty"`
}

// Row is one line of a breakdown.
type Row struct {
	Key        string  `json:"key"`
	Label      string  `json:"label"`
	NetRevenue int64   `json:"net_revenue"`
	Units      int64   `json:"units"`
	Share      float64 `json:"share"`
}

// Overview is everything the Overview page and GET /api/analytics show.
type Overview struct {
	Currency   string   `json:"currency"`
	Period     Period   `json:"period"`
	Compare    *Period  `json:"compare,omitempty"`
	Current    Figures  `json:"current"`
	Previous   *Figures `json:"previous,omitempty"`
	Grain      string   `json:"grain"`
	Trend      []Point  `json:"trend"`
	Categories []Row    `json:"categories"`
	Products   []Row    `json:"top_products"`
	Countries  []Row    `json:"countries"`
	Channels   []Row    `json:"channels"`
	// MappedShare is the share of net revenue on products mapped to assets.
	MappedShare float64 `json:"mapped_share"`
}

// BuildOverview computes the Overview of publisher pub for period p,
// compared with cmp when hasCmp, under filter f.
func BuildOverview(ctx context.Context, s *store.Store, pub *phantomos.Publisher, p Period, cmp Period, hasCmp bool, f store.Filter) (*Overview, error) {
	o := &Overview{Currency: pub.ReportingCurrency, Period: p, Grain: Grain(p)}
	// The queries are independent: run them side by side (SQLite in WAL
	// mode and PostgreSQL both serve concurrent readers).
	g, gctx := errgroup.WithContext(ctx)
	var (
		cur, prev                       store.Summary
		days, cdays                     []store.DayValue
		byProduct, byCountry, byChannel []store.BreakdownRow
		categories                      map[string]string
		links                           []store.AssetLink
	)
	g.Go(func() (err error) { cur, err = s.Totals(gctx, pub.ID, p.From, p.To, f); return })
	g.Go(func() (err error) { days, err = s.DailyNet(gctx, pub.ID, p.From, p.To, f); return })
	if hasCmp {
		g.Go(func() (err error) { prev, err = s.Totals(gctx, pub.ID, cmp.From, cmp.To, f); return })
		g.Go(func() (err error) { cdays, err = s.DailyNet(gctx, pub.ID, cmp.From, cmp.To, f); return })
	}
	g.Go(func() (err error) {
		byProduct, err = s.Breakdown(gctx, pub.ID, p.From, p.To, f, store.ByProduct)
		return
	})
	g.Go(func() (err error) {
		byCountry, err = s.Breakdown(gctx, pub.ID, p.From, p.To, f, store.ByCountry)
		return
	})
	g.Go(func() (err error) {
		byChannel, err = s.Breakdown(gctx, pub.ID, p.From, p.To, f, store.ByChannel)
		return
	})
	g.Go(func() (err error) { categories, err = s.ProductCategories(gctx, pub.ID); return })
	g.Go(func() (err error) { links, err = s.ConfirmedLinks(gctx, pub.ID); return })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	o.Current = figures(cur)
	o.Trend = buckets(p, days, o.Grain)
	if hasCmp {
		o.Compare = &cmp
		pf := figures(prev)
		o.Previous = &pf
		for i, b := range buckets(cmp, cdays, o.Grain) {
			if i < len(o.Trend) {
				v := b.NetRevenue
				o.Trend[i].Compare = &v
			}
		}
	}
	// Categories come from the product breakdown: one query fewer.
	index := map[string]int{}
	var catRows []store.BreakdownRow
	for _, r := range byProduct {
		c := categories[r.Key]
		i, ok := index[c]
		if !ok {
			i = len(catRows)
			index[c] = i
			catRows = append(catRows, store.BreakdownRow{Key: c, Label: c})
		}
		catRows[i].Net += r.Net
		catRows[i].Gross += r.Gross
		catRows[i].Units += r.Units
	}
	sort.SliceStable(catRows, func(i, j int) bool {
		if catRows[i].Net != catRows[j].Net {
			return catRows[i].Net > catRows[j].Net
		}
		return catRows[i].Key < catRows[j].Key
	})
	o.Categories = toRows(catRows, cur.Net)
	o.Countries = toRows(byCountry, cur.Net)
	o.Channels = toRows(byChannel, cur.Net)
	o.Products = toRows(byProduct, cur.Net)
	if len(o.Products) > 10 {
		o.Products = o.Products[:10]
	}
	o.MappedShare = mappedShare(links, byProduct, cur.Net)
	return o, nil
}

func toRows(rows []store.BreakdownRow, total int64) []Row {
	out := make([]Row, 0, len(rows))
	for _, r := range rows {
		row := Row{Key: r.Key, Label: r.Label, NetRevenue: r.Net, Units: r.Units}
		if total != 0 {
			row.Share = float64(r.Net) / float64(total)
		}
		out = append(out, row)
	}
	return out
}

// mappedShare is the share of net revenue on products with confirmed assets.
func mappedShare(links []store.AssetLink, byProduct []store.BreakdownRow, total int64) float64 {
	if total == 0 {
		return 0
	}
	mapped := map[string]bool{}
	for _, l := range links {
		mapped[l.ProductID] = true
	}
	var sum int64
	for _, r := range byProduct {
		if mapped[r.Key] {
			sum += r.Net
		}
	}
	return float64(sum) / float64(total)
}

// buckets sums days into the buckets of grain covering p, empty buckets
// included, oldest first.
func buckets(p Period, days []store.DayValue, grain string) []Point {
	var out []Point
	index := map[phantomos.Day]int{}
	for d := p.From.Time(); !d.After(p.To.Time()); d = d.AddDate(0, 0, 1) {
		b := Bucket(phantomos.DayOf(d, time.UTC), grain)
		if _, ok := index[b]; !ok {
			index[b] = len(out)
			out = append(out, Point{Start: b})
		}
	}
	for _, d := range days {
		if i, ok := index[Bucket(d.Day, grain)]; ok {
			out[i].NetRevenue += d.Net
		}
	}
	return out
}

// AssetRow is an asset's attributed revenue.
type AssetRow struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	Type       string  `json:"asset_type"`
	GameIPID   string  `json:"game_ip_id"`
	GameIP     string  `json:"game_ip"`
	NetRevenue int64   `json:"net_revenue"`
	Share      float64 `json:"share"`
	Previous   *int64  `json:"previous_net_revenue,omitempty"`
}

// AssetReport is revenue attributed to assets, and summed per asset type
// and per game IP, with the unmapped remainder: the rows of each list add
// up exactly to Total.
type AssetReport struct {
	Currency string     `json:"currency"`
	Period   Period     `json:"period"`
	Model    string     `json:"attribution_model"`
	Total    int64      `json:"net_revenue"`
	Unmapped int64      `json:"unmapped_net_revenue"`
	Assets   []AssetRow `json:"assets"`
	Types    []Row      `json:"asset_types"`
	GameIPs  []Row      `json:"game_ips"`
}

// BuildAssetReport attributes publisher pub's revenue in p (under f) to its
// assets with the publisher's attribution model, with each asset's revenue
// in cmp when hasCmp.
func BuildAssetReport(ctx context.Context, s *store.Store, pub *phantomos.Publisher, p Period, cmp Period, hasCmp bool, f store.Filter) (*AssetReport, error) {
	// The reads are independent: run them side by side, as BuildOverview does.
	g, gctx := errgroup.WithContext(ctx)
	var (
		assets           []*phantomos.Asset
		ips              []*phantomos.GameIP
		links            []store.AssetLink
		curRows, cmpRows []store.BreakdownRow
	)
	g.Go(func() (err error) { assets, err = s.Assets(gctx, pub.ID); return })
	g.Go(func() (err error) { ips, err = s.GameIPs(gctx, pub.ID); return })
	g.Go(func() (err error) { links, err = s.ConfirmedLinks(gctx, pub.ID); return })
	g.Go(func() (err error) {
		curRows, err = s.Breakdown(gctx, pub.ID, p.From, p.To, f, store.ByProduct)
		return
	})
	if hasCmp {
		g.Go(func() (err error) {
			cmpRows, err = s.Breakdown(gctx, pub.ID, cmp.From, cmp.To, f, store.ByProduct)
			return
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	attribute := func(rows []store.BreakdownRow) (Attribution, int64) {
		net := map[string]int64{}
		var total int64
		for _, r := range rows {
			net[r.Key] = r.Net
			total += r.Net
		}
		return Attribute(net, links, pub.Settings.AttributionModel), total
	}
	cur, total := attribute(curRows)
	var prev Attribution
	if hasCmp {
		prev, _ = attribute(cmpRows)
	}
	ipName := map[string]string{}
	for _, g := range ips {
		ipName[g.ID] = g.Name
	}
	r := &AssetReport{Currency: pub.ReportingCurrency, Period: p, Model: pub.Settings.AttributionModel, Total: total, Unmapped: cur.Unmapped}
	byType, byIP := map[string]int64{}, map[string]int64{}
	for _, a := range assets {
		row := AssetRow{ID: a.ID, Name: a.Name, Type: a.AssetType, GameIPID: a.GameIPID, GameIP: ipName[a.GameIPID], NetRevenue: cur.ByAsset[a.ID]}
		if total != 0 {
			row.Share = float64(row.NetRevenue) / float64(total)
		}
		if hasCmp {
			v := prev.ByAsset[a.ID]
			row.Previous = &v
		}
		byType[a.AssetType] += row.NetRevenue
		byIP[a.GameIPID] += row.NetRevenue
		r.Assets = append(r.Assets, row)
	}
	sort.SliceStable(r.Assets, func(i, j int) bool { return r.Assets[i].NetRevenue > r.Assets[j].NetRevenue })
	r.Types = sumRows(byType, nil, total, cur.Unmapped)
	r.GameIPs = sumRows(byIP, ipName, total, cur.Unmapped)
	return r, nil
}

// sumRows turns per-key sums into rows, largest first, with the unmapped
// revenue as a last row of its own.
func sumRows(sums map[string]int64, names map[string]string, total, unmapped int64) []Row {
	var out []Row
	for k, v := range sums {
		label := k
		if names != nil {
			label = names[k]
		}
		out = append(out, Row{Key: k, Label: label, NetRevenue: v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].NetRevenue != out[j].NetRevenue {
			return out[i].NetRevenue > out[j].NetRevenue
		}
		return out[i].Key < out[j].Key
	})
	out = append(out, Row{Key: "unmapped", Label: "Unmapped products", NetRevenue: unmapped})
	for i := range out {
		if total != 0 {
			out[i].Share = float64(out[i].NetRevenue) / float64(total)
		}
	}
	return out
}

// ComparedAsset is one asset's attributed revenue over time.
type ComparedAsset struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Type       string   `json:"asset_type"`
	NetRevenue int64    `json:"net_revenue"`
	Previous   *int64   `json:"previous_net_revenue,omitempty"`
	Growth     *float64 `json:"growth,omitempty"`
	Trend      []int64  `json:"trend"`
	// Shares is the asset's share of the compared assets' revenue per bucket.
	Shares []float64 `json:"shares"`
}

// Comparison sets two or more assets side by side ("villain vs hero").
type Comparison struct {
	Currency string          `json:"currency"`
	Period   Period          `json:"period"`
	Grain    string          `json:"grain"`
	Buckets  []phantomos.Day `json:"buckets"`
	Assets   []ComparedAsset `json:"assets"`
}

// BuildComparison attributes revenue to the given assets per bucket of p
// (and in total for cmp when hasCmp), with growth and share over time.
func BuildComparison(ctx context.Context, s *store.Store, pub *phantomos.Publisher, ids []string, p Period, cmp Period, hasCmp bool, f store.Filter) (*Comparison, error) {
	var all []*phantomos.Asset
	var links []store.AssetLink
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { all, err = s.Assets(gctx, pub.ID); return })
	g.Go(func() (err error) { links, err = s.ConfirmedLinks(gctx, pub.ID); return })
	if err := g.Wait(); err != nil {
		return nil, err
	}
	byID := map[string]*phantomos.Asset{}
	for _, a := range all {
		byID[a.ID] = a
	}
	c := &Comparison{Currency: pub.ReportingCurrency, Period: p, Grain: Grain(p)}
	for _, pt := range buckets(p, nil, c.Grain) {
		c.Buckets = append(c.Buckets, pt.Start)
	}
	index := map[phantomos.Day]int{}
	for i, b := range c.Buckets {
		index[b] = i
	}
	for _, id := range ids {
		a, ok := byID[id]
		if !ok {
			return nil, phantomos.Errorf(phantomos.ENOTFOUND, "Asset not found.")
		}
		c.Assets = append(c.Assets, ComparedAsset{ID: a.ID, Name: a.Name, Type: a.AssetType, Trend: make([]int64, len(c.Buckets)), Shares: make([]float64, len(c.Buckets))})
	}
	// Only the products of the compared assets matter: the others' revenue
	// is attributed elsewhere whatever the model.
	wanted := map[string]bool{}
	for _, id := range ids {
		wanted[id] = true
	}
	seen := map[string]bool{}
	for _, l := range links {
		if wanted[l.AssetID] && !seen[l.ProductID] {
			seen[l.ProductID] = true
			f.Products = append(f.Products, l.ProductID)
		}
	}
	// Attribution splits each product by its own links, so the links of
	// these products give the same answer as all of them, for less work
	// per bucket.
	var own []store.AssetLink
	for _, l := range links {
		if seen[l.ProductID] {
			own = append(own, l)
		}
	}
	links = own
	perBucket := make([]map[string]int64, len(c.Buckets))
	// The buckets of p and the totals of cmp are independent reads.
	var rows []store.ProductBucket
	var cmpRows []store.BreakdownRow
	if len(f.Products) > 0 {
		g, gctx := errgroup.WithContext(ctx)
		// A year of days of many products is the largest read of the
		// pages: two halves of the products are read side by side.
		halves := [][]string{f.Products}
		if n := len(f.Products); n >= 16 {
			halves = [][]string{f.Products[:n/2], f.Products[n/2:]}
		}
		parts := make([][]store.ProductBucket, len(halves))
		for i, ids := range halves {
			hf := f
			hf.Products = ids
			g.Go(func() (err error) {
				parts[i], err = s.ProductNetByBucket(gctx, pub.ID, p.From, p.To, hf, c.Grain)
				return
			})
		}
		if hasCmp {
			g.Go(func() (err error) {
				cmpRows, err = s.Breakdown(gctx, pub.ID, cmp.From, cmp.To, f, store.ByProduct)
				return
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		rows = slices.Concat(parts...)
	}
	for _, r := range rows {
		i, ok := index[r.Start]
		if !ok {
			// The range's first week may start before the range.
			i, ok = index[Bucket(r.Start, c.Grain)]
		}
		if !ok {
			i = 0
		}
		if perBucket[i] == nil {
			perBucket[i] = map[string]int64{}
		}
		perBucket[i][r.ProductID] += r.Net
	}
	whole := map[string]int64{}
	for i, net := range perBucket {
		for id, v := range net {
			whole[id] += v
		}
		at := Attribute(net, links, pub.Settings.AttributionModel)
		var sum int64
		for k := range c.Assets {
			v := at.ByAsset[c.Assets[k].ID]
			c.Assets[k].Trend[i] = v
			sum += v
		}
		for k := range c.Assets {
			if sum != 0 {
				c.Assets[k].Shares[i] = float64(c.Assets[k].Trend[i]) / float64(sum)
			}
		}
	}
	// Totals are attributed over the whole period, like the Assets page; the
	// buckets are attributed each on its own, so they may differ from the
	// total by rounding (a unit or two).
	at := Attribute(whole, links, pub.Settings.AttributionModel)
	for k := range c.Assets {
		c.Assets[k].NetRevenue = at.ByAsset[c.Assets[k].ID]
	}
	if hasCmp && len(f.Products) > 0 {
		net := map[string]int64{}
		for _, r := range cmpRows {
			net[r.Key] = r.Net
		}
		at := Attribute(net, links, pub.Settings.AttributionModel)
		for k := range c.Assets {
			v := at.ByAsset[c.Assets[k].ID]
			c.Assets[k].Previous = &v
			if v != 0 {
				g := float64(c.Assets[k].NetRevenue-v) / float64(abs(v))
				c.Assets[k].Growth = &g
			}
		}
	}
	return c, nil
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
