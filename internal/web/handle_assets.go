package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
	"github.com/phantomos/phantomos/internal/chart"
	"github.com/phantomos/phantomos/internal/report"
)

type assetsPage struct {
	View        *view
	Report      *analytics.AssetReport
	AssetsChart any
	TypesChart  any
	IPsChart    any
	FilterLists filterLists
}

// assetReport builds the attribution report of the request's view.
func (s *Server) assetReport(r *http.Request) (*phantomos.Publisher, *view, *analytics.AssetReport, error) {
	pub, v, err := s.publisherView(r)
	if err != nil {
		return nil, nil, nil, err
	}
	rep, _, err := s.assetReportOf(r.Context(), pub, v)
	return pub, v, rep, err
}

// assetReportOf returns the attribution report of view v and its JSON,
// from the answer cache when the publisher's data has not changed.
func (s *Server) assetReportOf(ctx context.Context, pub *phantomos.Publisher, v *view) (*analytics.AssetReport, []byte, error) {
	return cached(ctx, s.answers, v.key(pub, "assets"), func(ctx context.Context) (*analytics.AssetReport, error) {
		return analytics.BuildAssetReport(ctx, s.store, pub, v.Period, v.Compare, v.HasCompare, v.Filter)
	})
}

// comparisonOf compares assets ids over view v (whose own asset filter is
// ignored) and returns the comparison and its JSON, from the answer cache
// when the publisher's data has not changed.
func (s *Server) comparisonOf(ctx context.Context, pub *phantomos.Publisher, v *view, ids []string) (*analytics.Comparison, []byte, error) {
	f := v.Filter
	f.Assets = nil
	return cached(ctx, s.answers, v.key(pub, "compare", ids...), func(ctx context.Context) (*analytics.Comparison, error) {
		return analytics.BuildComparison(ctx, s.store, pub, ids, v.Period, v.Compare, v.HasCompare, f)
	})
}

func (s *Server) handleAssets(w http.ResponseWriter, r *http.Request) error {
	pub, v, rep, err := s.assetReport(r)
	if err != nil {
		return err
	}
	money := func(x int64) string { return formatMoneyCompact(x, pub.ReportingCurrency) }
	var pts []chart.Point
	for _, a := range rep.Assets {
		if a.NetRevenue != 0 && len(pts) < 15 {
			pts = append(pts, chart.Point{Label: a.Name, Value: a.NetRevenue})
		}
	}
	p := assetsPage{View: v, Report: rep, AssetsChart: chart.HBarsWide("Net revenue by asset", pts, money),
		TypesChart: chart.HBars("Net revenue by asset type", rowPoints(rep.Types, titleCase), money),
		IPsChart:   chart.HBars("Net revenue by game IP", rowPoints(rep.GameIPs, func(s string) string { return s }), money)}
	o := &analytics.Overview{}
	if p.FilterLists, err = s.filterLists(r, pub, v, o); err != nil {
		return err
	}
	data := s.pageData(r, "Assets", "overview")
	data.Data = p
	return s.render(w, http.StatusOK, "assets", data)
}

func (s *Server) handleAssetsCSV(w http.ResponseWriter, r *http.Request) error {
	pub, _, rep, err := s.assetReport(r)
	if err != nil {
		return err
	}
	name, b, err := report.AssetsCSV(pub, rep)
	return sendCSV(w, name, b, err)
}

type assetPage struct {
	View        *view
	Asset       *phantomos.Asset
	Report      *analytics.Overview
	Trend       any
	Categories  any
	Countries   any
	FilterLists filterLists
	// Attributed is the asset's share of the revenue of the products that
	// feature it under Model (the figure the Assets page ranks by);
	// Report's revenue is those products' whole revenue.
	Attributed int64
	Model      string
}

// handleAsset is an asset's detail: the trend, categories, products and
// countries of the products that depict it.
func (s *Server) handleAsset(w http.ResponseWriter, r *http.Request) error {
	pub, asset, v, o, err := s.assetOverview(r)
	if err != nil {
		return err
	}
	money := func(x int64) string { return formatMoneyCompact(x, pub.ReportingCurrency) }
	p := assetPage{View: v, Asset: asset, Report: o,
		Trend:      trendChart("Revenue of products featuring "+asset.Name, asset.Name, o, money),
		Categories: chart.HBars("By category", rowPoints(o.Categories, titleCase), money),
		Countries:  chart.HBars("By country", rowPoints(top(o.Countries, 10), countryName), money)}
	if p.FilterLists, err = s.filterLists(r, pub, v, o); err != nil {
		return err
	}
	rep, _, err := s.assetReportOf(r.Context(), pub, v)
	if err != nil {
		return err
	}
	p.Model = rep.Model
	for _, a := range rep.Assets {
		if a.ID == asset.ID {
			p.Attributed = a.NetRevenue
		}
	}
	data := s.pageData(r, asset.Name, "overview")
	data.Data = p
	return s.render(w, http.StatusOK, "asset", data)
}

type comparePage struct {
	View        *view
	Comparison  *analytics.Comparison
	Choices     []analytics.AssetRow
	Selected    map[string]bool
	Trend       any
	Share       any
	FilterLists filterLists
}

// handleCompare sets two or more assets side by side. Without a choice it
// compares the two top earners.
func (s *Server) handleCompare(w http.ResponseWriter, r *http.Request) error {
	pub, v, rep, err := s.assetReport(r)
	if err != nil {
		return err
	}
	ids := v.Filter.Assets
	if len(ids) < 2 {
		ids = nil
		for _, a := range rep.Assets {
			if len(ids) < 2 {
				ids = append(ids, a.ID)
			}
		}
	}
	cmp, _, err := s.comparisonOf(r.Context(), pub, v, ids)
	if err != nil {
		return err
	}
	p := comparePage{View: v, Comparison: cmp, Choices: rep.Assets, Selected: map[string]bool{}}
	for _, id := range ids {
		p.Selected[id] = true
	}
	money := func(x int64) string { return formatMoneyCompact(x, pub.ReportingCurrency) }
	labels := make([]string, len(cmp.Buckets))
	for i, b := range cmp.Buckets {
		labels[i] = trendLabel(b, cmp.Grain)
	}
	var series []chart.Series
	var shares []chart.Series
	for i, a := range cmp.Assets {
		series = append(series, chart.Series{Name: a.Name, Values: a.Trend, Muted: i > 0})
		pct := make([]int64, len(a.Shares))
		for j, sh := range a.Shares {
			pct[j] = int64(sh*1000 + 0.5)
		}
		shares = append(shares, chart.Series{Name: a.Name, Values: pct, Muted: i > 0})
	}
	p.Trend = chart.Lines("Attributed revenue", labels, series, money)
	p.Share = chart.Lines("Share of the compared assets' revenue", labels, shares, func(x int64) string { return strconv.FormatFloat(float64(x)/10, 'f', 1, 64) + "%" })
	o := &analytics.Overview{}
	if p.FilterLists, err = s.filterLists(r, pub, v, o); err != nil {
		return err
	}
	data := s.pageData(r, "Compare assets", "overview")
	data.Data = p
	return s.render(w, http.StatusOK, "compare", data)
}
