package insights

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
	"github.com/phantomos/phantomos/internal/store"
)

// maxWeeks is how far back weekly forecasts look: three years.
const maxWeeks = 156

// weekStart returns the Monday starting the ISO week of day d.
func weekStart(d phantomos.Day) phantomos.Day {
	t := d.Time()
	return phantomos.DayOf(t.AddDate(0, 0, -(int(t.Weekday())+6)%7), time.UTC)
}

// lastCompleteWeek returns the Monday of the last whole ISO week before
// today: the week in progress, today's, is not complete even on a Sunday
// evening.
func lastCompleteWeek(today phantomos.Day) phantomos.Day {
	return addDays(weekStart(today), -7)
}

// lastCompleteMonth returns the last whole month before today's
// ("2006-01").
func lastCompleteMonth(today phantomos.Day) string {
	return addMonths(string(today)[:7], -1)
}

// addDays moves day d by n days.
func addDays(d phantomos.Day, n int) phantomos.Day {
	return phantomos.DayOf(d.Time().AddDate(0, 0, n), time.UTC)
}

// isoWeek names the ISO week starting on Monday d: "2026-W11".
func isoWeek(d phantomos.Day) string {
	y, w := d.Time().ISOWeek()
	return fmt.Sprintf("%d-W%02d", y, w)
}

// weekSeries is one scope's net revenue per complete ISO week.
type weekSeries struct {
	// weeks are the Mondays of the complete weeks since the first whole
	// week of sales (at most maxWeeks), oldest first.
	weeks  []string
	values []int64
	name   string
}

// completeWeeks returns the Mondays of the whole weeks of sales of a
// publisher whose first sale was on first (ok false: no sale yet), up to
// the last complete week before today. A first week that began before the
// first sale is partial and left out, like the week in progress.
func completeWeeks(first phantomos.Day, ok bool, today phantomos.Day) []string {
	if !ok {
		return nil
	}
	last := lastCompleteWeek(today)
	start := weekStart(first)
	if start != first {
		start = addDays(start, 7)
	}
	if earliest := addDays(last, -7*(maxWeeks-1)); start < earliest {
		start = earliest
	}
	var out []string
	for w := start; w <= last; w = addDays(w, 7) {
		out = append(out, string(w))
	}
	return out
}

// loadWeeks reads the weekly net revenue of a validated scope of publisher
// pub as of now, the days bucketed into ISO weeks in the publisher's time
// zone (sales days are stored in it). An asset's revenue is attributed
// week by week as the Assets page does it.
func loadWeeks(ctx context.Context, s *store.Store, pub *phantomos.Publisher, now time.Time, scope, id string) (*weekSeries, error) {
	out := &weekSeries{name: "All revenue"}
	var f store.Filter
	var assetLinks []store.AssetLink
	switch scope {
	case store.ScopeGameIP:
		ips, err := s.GameIPs(ctx, pub.ID)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(ips, func(g *phantomos.GameIP) bool { return g.ID == id })
		if i < 0 {
			return nil, notFound("game IP", id)
		}
		out.name = ips[i].Name
		f.GameIPs = []string{id}
	case store.ScopeAsset:
		a, err := s.Asset(ctx, pub.ID, id)
		if phantomos.ErrorCode(err) == phantomos.ENOTFOUND {
			return nil, notFound("asset", id)
		}
		if err != nil {
			return nil, err
		}
		out.name = a.Name
		links, err := s.ConfirmedLinks(ctx, pub.ID)
		if err != nil {
			return nil, err
		}
		linked := map[string]bool{}
		for _, l := range links {
			if l.AssetID == id {
				linked[l.ProductID] = true
			}
		}
		for _, l := range links {
			if linked[l.ProductID] {
				assetLinks = append(assetLinks, l)
			}
		}
		for p := range linked {
			f.Products = append(f.Products, p)
		}
	case store.ScopeCategory:
		out.name = titleWord(id)
		f.Categories = []string{id}
	case store.ScopeChannel:
		out.name = titleWord(id)
		f.Channels = []string{id}
	}
	first, ok, err := s.FirstSaleDay(ctx, pub.ID)
	if err != nil {
		return nil, err
	}
	out.weeks = completeWeeks(first, ok, phantomos.DayOf(now, pub.Location()))
	out.values = make([]int64, len(out.weeks))
	if len(out.weeks) == 0 || scope == store.ScopeAsset && len(f.Products) == 0 {
		return out, nil
	}
	index := make(map[string]int, len(out.weeks))
	for i, w := range out.weeks {
		index[w] = i
	}
	from, to := phantomos.Day(out.weeks[0]), addDays(phantomos.Day(out.weeks[len(out.weeks)-1]), 6)
	rows, err := s.ProductNetByBucket(ctx, pub.ID, from, to, f, "week")
	if err != nil {
		return nil, err
	}
	if scope == store.ScopeChannel && len(rows) == 0 {
		return nil, notFound("channel", id)
	}
	perWeek := make([]map[string]int64, len(out.weeks))
	for _, r := range rows {
		i, ok := index[string(r.Start)]
		if !ok {
			continue
		}
		if scope != store.ScopeAsset {
			out.values[i] += r.Net
			continue
		}
		if perWeek[i] == nil {
			perWeek[i] = map[string]int64{}
		}
		perWeek[i][r.ProductID] += r.Net
	}
	if scope == store.ScopeAsset {
		for i, net := range perWeek {
			if net != nil {
				out.values[i] = analytics.Attribute(net, assetLinks, pub.Settings.AttributionModel).ByAsset[id]
			}
		}
	}
	return out, nil
}
