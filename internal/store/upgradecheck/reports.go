// Package upgradecheck proves that a schema migration keeps every report a
// publisher can see: it renders each report through the same read API the
// pages, the API and the CSV exports use, in a canonical text form, and
// checksums each rendering, so that the reports of a database before a
// migration can be compared with those after it, one by one.
//
// The renderings name values explicitly (a field per column) rather than
// printing Go structs, so that a field added to a result type later does
// not change the checksum of data that did not change.
package upgradecheck

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
	"github.com/phantomos/phantomos/internal/report"
	"github.com/phantomos/phantomos/internal/store"
)

// Reports holds the canonical rendering of each report by name, a name
// being publisher slug / report / filter / range, for example
// "acme/breakdown/country/asset=Hero/2025-03-01..2025-03-31".
type Reports map[string][]byte

// Sums returns the SHA-256 of each report's rendering, in hex, by name.
func (r Reports) Sums() map[string]string {
	out := make(map[string]string, len(r))
	for name, text := range r {
		sum := sha256.Sum256(text)
		out[name] = hex.EncodeToString(sum[:])
	}
	return out
}

// Compute renders every report of every publisher in s, or of the
// publishers of the given slugs only (the list of publishers is rendered
// either way).
func Compute(ctx context.Context, s *store.Store, only ...string) (Reports, error) {
	pubs, err := s.Publishers(ctx)
	if err != nil {
		return nil, err
	}
	out := Reports{}
	var slugs []string
	for _, p := range pubs {
		slugs = append(slugs, p.Slug)
	}
	sort.Strings(slugs)
	// Tenants themselves: a migration must neither lose nor merge them.
	out["publishers"] = []byte(strings.Join(slugs, "\n"))
	for _, p := range pubs {
		if len(only) > 0 && !slices.Contains(only, p.Slug) {
			continue
		}
		c := &computer{s: s, pub: p, out: out}
		if err := c.publisher(ctx); err != nil {
			return nil, fmt.Errorf("upgradecheck: publisher %s: %w", p.Slug, err)
		}
	}
	return out, nil
}

// computer renders the reports of one publisher.
type computer struct {
	s   *store.Store
	pub *phantomos.Publisher
	out Reports
}

// put stores a copy of one rendering (callers reuse their buffers) under
// the publisher's slug and parts of a name.
func (c *computer) put(text []byte, parts ...string) {
	c.out[c.pub.Slug+"/"+strings.Join(parts, "/")] = bytes.Clone(text)
}

// namedFilter is a filter with a stable label (names, not ids, so that the
// same data set loaded twice gives the same report names).
type namedFilter struct {
	label string
	f     store.Filter
	// pages says to render the pages and exports built on the store's
	// reads too. They are rendered under a few filters only: they add no
	// read of their own, and every read is rendered under every filter.
	pages bool
}

func (c *computer) publisher(ctx context.Context) error {
	s, pub := c.s, c.pub.ID
	from, to, err := s.SalesSpan(ctx, pub)
	if err != nil {
		return err
	}
	c.put([]byte(string(from)+".."+string(to)), "span")
	first, ok, err := s.FirstSaleDay(ctx, pub)
	if err != nil {
		return err
	}
	c.put([]byte(fmt.Sprint(first, ok)), "first_sale_day")
	n, err := s.SalesCount(ctx, pub)
	if err != nil {
		return err
	}
	c.put([]byte(strconv.FormatInt(n, 10)), "sales_count")
	if err := c.catalog(ctx); err != nil {
		return err
	}
	if from == "" {
		return nil
	}
	if err := c.monthly(ctx, from, to); err != nil {
		return err
	}
	filters, err := c.filters(ctx, from, to)
	if err != nil {
		return err
	}
	for _, p := range periods(from, to) {
		for _, nf := range filters {
			if err := c.period(ctx, p, nf); err != nil {
				return fmt.Errorf("%s %s..%s: %w", nf.label, p.From, p.To, err)
			}
		}
	}
	return nil
}

// catalog renders what the connectors, catalog and mapping pages count.
func (c *computer) catalog(ctx context.Context) error {
	s, pub := c.s, c.pub.ID
	conns, err := s.Connectors(ctx, pub)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	for _, k := range conns {
		products, lines, err := s.ConnectorTotals(ctx, pub, k.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%d\t%d\n", k.ID, k.Type, k.Name, products, lines)
		// The distinct orders a reconciliation compares with the platform's.
		ids, err := s.ConnectorOrderIDs(ctx, pub, k.ID, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC))
		if err != nil {
			return err
		}
		c.put([]byte(strings.Join(ids, "\n")), "connector_orders", k.Name)
	}
	c.put(b.Bytes(), "connectors")
	counts, err := s.ProductCounts(ctx, pub)
	if err != nil {
		return err
	}
	c.put(renderCounts(counts), "product_counts")
	counts, err = s.AssetProductCounts(ctx, pub)
	if err != nil {
		return err
	}
	c.put(renderCounts(counts), "asset_product_counts")
	cats, err := s.ProductCategories(ctx, pub)
	if err != nil {
		return err
	}
	c.put(renderStrings(cats), "product_categories")
	links, err := s.ConfirmedLinks(ctx, pub)
	if err != nil {
		return err
	}
	b.Reset()
	for _, l := range links {
		fmt.Fprintf(&b, "%s\t%s\t%t\t%s\n", l.ProductID, l.AssetID, l.IsPrimary, strconv.FormatFloat(l.Weight, 'g', -1, 64))
	}
	c.put(b.Bytes(), "confirmed_links")
	return nil
}

// monthly renders the month-by-month reads of the insights.
func (c *computer) monthly(ctx context.Context, from, to phantomos.Day) error {
	s, pub := c.s, c.pub.ID
	fromM, toM := string(from)[:7], string(to)[:7]
	var b bytes.Buffer
	months, err := s.MonthlyNet(ctx, pub, from, to)
	if err != nil {
		return err
	}
	for _, m := range months {
		fmt.Fprintf(&b, "%s\t%d\n", m.Month, m.Value)
	}
	c.put(b.Bytes(), "monthly_net")
	mp, err := s.MonthlyProducts(ctx, pub, fromM, toM)
	if err != nil {
		return err
	}
	b.Reset()
	for _, m := range mp {
		fmt.Fprintf(&b, "%s\t%s\t%d\t%d\t%d\t%d\t%d\n", m.Month, m.ProductID, m.Gross, m.Refunded, m.Net, m.Units, m.Orders)
	}
	c.put(b.Bytes(), "monthly_products")
	// Whole months of the span, as the insights ask.
	wholeFrom := phantomos.Day(fromM + "-01")
	wholeTo := phantomos.DayOf(phantomos.Day(toM+"-01").Time().AddDate(0, 1, -1), time.UTC)
	for _, dim := range []store.Dimension{store.ByChannel, store.ByCountry} {
		ms, err := s.MonthlySegments(ctx, pub, dim, fromM, toM)
		if err != nil {
			return err
		}
		b.Reset()
		for _, m := range ms {
			fmt.Fprintf(&b, "%s\t%s\t%d\t%d\t%d\t%d\n", m.Month, m.Key, m.Gross, m.Refunded, m.Net, m.Orders)
		}
		c.put(b.Bytes(), "monthly_segments", string(dim))
		mps, err := s.MonthlyProductSegments(ctx, pub, dim, wholeFrom, wholeTo, nil)
		if err != nil {
			return err
		}
		sort.Slice(mps, func(i, j int) bool {
			a, b := mps[i], mps[j]
			if a.Month != b.Month {
				return a.Month < b.Month
			}
			if a.ProductID != b.ProductID {
				return a.ProductID < b.ProductID
			}
			return a.Key < b.Key
		})
		b.Reset()
		for _, m := range mps {
			fmt.Fprintf(&b, "%s\t%s\t%s\t%d\n", m.Month, m.ProductID, m.Key, m.Net)
		}
		c.put(b.Bytes(), "monthly_product_segments", string(dim))
	}
	lines, err := s.MonthlyRefundLines(ctx, pub, wholeFrom, wholeTo)
	if err != nil {
		return err
	}
	sort.Slice(lines, func(i, j int) bool {
		a, b := lines[i], lines[j]
		if a.Month != b.Month {
			return a.Month < b.Month
		}
		if a.Category != b.Category {
			return a.Category < b.Category
		}
		return a.Channel < b.Channel
	})
	b.Reset()
	for _, m := range lines {
		fmt.Fprintf(&b, "%s\t%s\t%s\t%d\t%d\n", m.Month, m.Category, m.Channel, m.Lines, m.Refunded)
	}
	c.put(b.Bytes(), "monthly_refund_lines")
	return nil
}

// filters returns the representative filters of the publisher: none, each
// kind of product filter, each kind of geographic filter, every connector
// alone (the vendor's totals without orders among them) and mixes of the
// two levels, which read other rollups.
func (c *computer) filters(ctx context.Context, from, to phantomos.Day) ([]namedFilter, error) {
	s, pub := c.s, c.pub.ID
	out := []namedFilter{{label: "all", pages: true}}
	top := func(dim store.Dimension, n int) ([]store.BreakdownRow, error) {
		rows, err := s.Breakdown(ctx, pub, from, to, store.Filter{}, dim)
		if err != nil {
			return nil, err
		}
		// Largest first, ties by key: the same choice on the same data.
		return rows[:min(n, len(rows))], nil
	}
	keys := func(rows []store.BreakdownRow) []string {
		var ks []string
		for _, r := range rows {
			ks = append(ks, r.Key)
		}
		return ks
	}
	products, err := top(store.ByProduct, 3)
	if err != nil {
		return nil, err
	}
	if len(products) > 0 {
		out = append(out, namedFilter{"products=top3", store.Filter{Products: keys(products)}, false})
	}
	cats, err := top(store.ByCategory, 2)
	if err != nil {
		return nil, err
	}
	if len(cats) > 0 {
		out = append(out, namedFilter{"category=" + cats[0].Key, store.Filter{Categories: keys(cats[:1])}, false})
	}
	ips, err := s.GameIPs(ctx, pub)
	if err != nil {
		return nil, err
	}
	sort.Slice(ips, func(i, j int) bool { return ips[i].Name < ips[j].Name })
	if len(ips) > 0 {
		out = append(out, namedFilter{"game_ip=" + ips[0].Name, store.Filter{GameIPs: []string{ips[0].ID}}, false})
	}
	assets, err := c.topAssets(ctx)
	if err != nil {
		return nil, err
	}
	var hero *phantomos.Asset
	if len(assets) > 0 {
		hero = assets[0]
		out = append(out, namedFilter{"asset=" + hero.Name, store.Filter{Assets: []string{hero.ID}}, true})
	}
	countries, err := top(store.ByCountry, 2)
	if err != nil {
		return nil, err
	}
	if len(countries) > 0 {
		out = append(out, namedFilter{"countries=" + strings.Join(keys(countries), ","), store.Filter{Countries: keys(countries)}, false})
	}
	channels, err := top(store.ByChannel, 1)
	if err != nil {
		return nil, err
	}
	if len(channels) > 0 {
		out = append(out, namedFilter{"channel=" + channels[0].Key, store.Filter{Channels: keys(channels)}, false})
	}
	conns, err := s.Connectors(ctx, pub)
	if err != nil {
		return nil, err
	}
	for _, k := range conns {
		out = append(out, namedFilter{"connector=" + k.Name, store.Filter{Connectors: []string{k.ID}}, false})
	}
	// Product and geographic conditions together read the full rollup.
	if len(cats) > 0 && len(countries) > 0 {
		out = append(out, namedFilter{"category=" + cats[0].Key + "+country=" + countries[0].Key,
			store.Filter{Categories: keys(cats[:1]), Countries: keys(countries[:1])}, true})
	}
	if hero != nil && len(conns) > 0 {
		out = append(out, namedFilter{"asset=" + hero.Name + "+connector=" + conns[0].Name,
			store.Filter{Assets: []string{hero.ID}, Connectors: []string{conns[0].ID}}, false})
	}
	if len(ips) > 0 && len(channels) > 0 && len(cats) > 1 {
		out = append(out, namedFilter{"game_ip=" + ips[0].Name + "+categories=" + strings.Join(keys(cats), ",") + "+channel=" + channels[0].Key,
			store.Filter{GameIPs: []string{ips[0].ID}, Categories: keys(cats), Channels: keys(channels)}, false})
	}
	return out, nil
}

// topAssets returns the publisher's assets with the most products first
// (ties by name).
func (c *computer) topAssets(ctx context.Context) ([]*phantomos.Asset, error) {
	assets, err := c.s.Assets(ctx, c.pub.ID)
	if err != nil {
		return nil, err
	}
	counts, err := c.s.AssetProductCounts(ctx, c.pub.ID)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(assets, func(i, j int) bool {
		a, b := assets[i], assets[j]
		if counts[a.ID] != counts[b.ID] {
			return counts[a.ID] > counts[b.ID]
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.ID < b.ID
	})
	var out []*phantomos.Asset
	for _, a := range assets {
		if counts[a.ID] > 0 {
			out = append(out, a)
		}
	}
	return out, nil
}

// periods returns the representative ranges within the data's span
// from..to: the whole span, a calendar month, a week starting Monday, a
// month's worth crossing a month boundary, five months from mid-month (a
// trend by week), a year crossing New Year when the span allows, and the
// last month to date (read whole from the monthly rollup).
func periods(from, to phantomos.Day) []analytics.Period {
	f, t := from.Time(), to.Time()
	mid := f.Add(t.Sub(f) / 2)
	day := func(x time.Time) phantomos.Day { return phantomos.DayOf(x, time.UTC) }
	clip := func(p analytics.Period) analytics.Period {
		if p.From < from {
			p.From = from
		}
		if p.To > to {
			p.To = to
		}
		return p
	}
	monthStart := time.Date(mid.Year(), mid.Month(), 1, 0, 0, 0, 0, time.UTC)
	monday := mid.AddDate(0, 0, -((int(mid.Weekday()) + 6) % 7))
	midMonth := time.Date(mid.Year(), mid.Month(), 15, 0, 0, 0, 0, time.UTC)
	lastMonth := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	ps := []analytics.Period{
		{From: from, To: to},
		clip(analytics.Period{From: day(monthStart), To: day(monthStart.AddDate(0, 1, -1))}),
		clip(analytics.Period{From: day(monday), To: day(monday.AddDate(0, 0, 6))}),
		clip(analytics.Period{From: day(midMonth), To: day(midMonth.AddDate(0, 1, 0))}),
		clip(analytics.Period{From: day(midMonth), To: day(midMonth.AddDate(0, 5, 0))}),
		clip(analytics.Period{From: day(lastMonth), To: to}),
	}
	if ny := time.Date(f.Year()+1, 1, 1, 0, 0, 0, 0, time.UTC); ny.AddDate(0, 0, -45).After(f) && ny.AddDate(0, 0, 45).Before(t) {
		ps = append(ps, analytics.Period{From: day(ny.AddDate(0, 0, -45)), To: day(ny.AddDate(0, 0, 45))})
	}
	return ps
}

// period renders every report of one range under one filter.
func (c *computer) period(ctx context.Context, p analytics.Period, nf namedFilter) error {
	s, pub, f := c.s, c.pub.ID, nf.f
	rng := string(p.From) + ".." + string(p.To)
	put := func(b []byte, kind ...string) { c.put(b, append(kind, nf.label, rng)...) }

	m, err := s.Totals(ctx, pub, p.From, p.To, f)
	if err != nil {
		return err
	}
	put(fmt.Appendf(nil, "gross=%d discount=%d refunded=%d net=%d orders=%d units=%d orderless_net=%d",
		m.Gross, m.Discount, m.Refunded, m.Net, m.Orders, m.Units, m.OrderlessNet), "totals")

	days, err := s.DailyNet(ctx, pub, p.From, p.To, f)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	for _, d := range days {
		fmt.Fprintf(&b, "%s\t%d\n", d.Day, d.Net)
	}
	put(b.Bytes(), "daily_net")

	for _, dim := range []store.Dimension{store.ByCategory, store.ByProduct, store.ByCountry, store.ByChannel, store.ByConnector, store.ByGameIP} {
		rows, err := s.Breakdown(ctx, pub, p.From, p.To, f, dim)
		if err != nil {
			return err
		}
		b.Reset()
		for _, r := range rows {
			fmt.Fprintf(&b, "%s\t%s\t%d\t%d\t%d\n", r.Key, r.Label, r.Net, r.Gross, r.Units)
		}
		put(b.Bytes(), "breakdown", string(dim))
	}

	byProduct := map[string]int64{}
	for _, grain := range []string{"day", "week", "month"} {
		buckets, err := s.ProductNetByBucket(ctx, pub, p.From, p.To, f, grain)
		if err != nil {
			return err
		}
		b.Reset()
		for _, x := range buckets {
			fmt.Fprintf(&b, "%s\t%s\t%d\n", x.Start, x.ProductID, x.Net)
			if grain == "month" {
				byProduct[x.ProductID] += x.Net
			}
		}
		put(b.Bytes(), "product_net_by", grain)
	}

	links, err := s.ConfirmedLinks(ctx, pub)
	if err != nil {
		return err
	}
	for _, model := range []string{phantomos.AttributionPrimary, phantomos.AttributionEqual, phantomos.AttributionWeighted} {
		a := analytics.Attribute(byProduct, links, model)
		ids := make([]string, 0, len(a.ByAsset))
		for id := range a.ByAsset {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		b.Reset()
		fmt.Fprintf(&b, "unmapped\t%d\n", a.Unmapped)
		for _, id := range ids {
			fmt.Fprintf(&b, "%s\t%d\n", id, a.ByAsset[id])
		}
		put(b.Bytes(), "attribution", model)
	}

	if !nf.pages {
		return nil
	}
	// The pages and their CSV exports, compared with the previous period.
	cmp, hasCmp, err := analytics.Compare(p, analytics.ComparePrevious)
	if err != nil {
		return err
	}
	o, err := analytics.BuildOverview(ctx, s, c.pub, p, cmp, hasCmp, f)
	if err != nil {
		return err
	}
	_, csv, err := report.OverviewCSV(c.pub, o)
	if err != nil {
		return err
	}
	put(csv, "overview_csv")
	for _, model := range []string{phantomos.AttributionPrimary, phantomos.AttributionEqual, phantomos.AttributionWeighted} {
		pub := *c.pub
		pub.Settings.AttributionModel = model
		rep, err := analytics.BuildAssetReport(ctx, s, &pub, p, cmp, hasCmp, f)
		if err != nil {
			return err
		}
		_, csv, err := report.AssetsCSV(&pub, rep)
		if err != nil {
			return err
		}
		put(fmt.Appendf(csv, "total=%d unmapped=%d\n", rep.Total, rep.Unmapped), "assets_csv", model)
	}
	assets, err := c.topAssets(ctx)
	if err != nil {
		return err
	}
	if len(assets) >= 2 {
		ids := []string{assets[0].ID, assets[1].ID}
		cp, err := analytics.BuildComparison(ctx, s, c.pub, ids, p, cmp, hasCmp, f)
		if err != nil {
			return err
		}
		b.Reset()
		fmt.Fprintf(&b, "grain=%s buckets=%v\n", cp.Grain, cp.Buckets)
		for _, a := range cp.Assets {
			prev := "-"
			if a.Previous != nil {
				prev = strconv.FormatInt(*a.Previous, 10)
			}
			fmt.Fprintf(&b, "%s\t%s\t%d\t%s\t%v\n", a.ID, a.Name, a.NetRevenue, prev, a.Trend)
		}
		put(b.Bytes(), "asset_comparison")
	}
	return nil
}

func renderCounts(m map[string]int) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for _, k := range keys {
		fmt.Fprintf(&b, "%s\t%d\n", k, m[k])
	}
	return b.Bytes()
}

func renderStrings(m map[string]string) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	for _, k := range keys {
		fmt.Fprintf(&b, "%s\t%s\n", k, m[k])
	}
	return b.Bytes()
}
