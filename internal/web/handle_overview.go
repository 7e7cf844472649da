package web

import (
	"context"
	"html/template"
	"net/http"
	"slices"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
	"github.com/phantomos/phantomos/internal/chart"
	"github.com/phantomos/phantomos/internal/report"
)

// Change is the relative change of a figure against the comparison
// period, and whether it is defined (a comparison exists and was not zero).
type Change struct {
	Ratio float64
	OK    bool
}

func change(cur int64, prev *analytics.Figures, pick func(analytics.Figures) int64) Change {
	if prev == nil || pick(*prev) == 0 {
		return Change{}
	}
	p := pick(*prev)
	return Change{Ratio: float64(cur-p) / float64(abs64(p)), OK: true}
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

type kpi struct {
	ID, Label string
	Value     int64
	Money     bool
	Change    Change
}

type overviewPage struct {
	View        *view
	Report      *analytics.Overview
	KPIs        []kpi
	Trend       any
	Categories  any
	Countries   any
	Channels    any
	HasSales    bool
	FilterLists filterLists
	// TrendLabels name the trend's buckets in its table, as on its chart;
	// Partial says whether one of them is cut short by the range.
	TrendLabels []string
	Partial     bool
}

// filterLists are the choices of the filter form.
type filterLists struct {
	GameIPs    []*phantomos.GameIP
	Connectors []*phantomos.Connector
	Categories []string
	Channels   []analytics.Row
	Countries  []analytics.Row
}

// filterLists returns the choices of the filter form of view v and notes
// where the publisher's sales are when v's range holds none.
func (s *Server) filterLists(r *http.Request, pub *phantomos.Publisher, v *view, o *analytics.Overview) (filterLists, error) {
	if err := s.noteDataElsewhere(r, pub, v); err != nil {
		return filterLists{}, err
	}
	ips, err := s.store.GameIPs(r.Context(), pub.ID)
	if err != nil {
		return filterLists{}, err
	}
	conns, err := s.store.Connectors(r.Context(), pub.ID)
	if err != nil {
		return filterLists{}, err
	}
	return filterLists{GameIPs: ips, Connectors: conns, Categories: phantomos.Categories, Channels: o.Channels, Countries: o.Countries}, nil
}

// overview builds the report of the request's view, shared by the page,
// its CSV export and the API.
func (s *Server) overview(r *http.Request) (*phantomos.Publisher, *view, *analytics.Overview, error) {
	pub, v, err := s.publisherView(r)
	if err != nil {
		return nil, nil, nil, err
	}
	o, _, err := s.overviewOf(r.Context(), pub, v)
	return pub, v, o, err
}

// overviewOf returns the Overview of view v and its JSON, from the answer
// cache when the publisher's data has not changed since it was computed.
func (s *Server) overviewOf(ctx context.Context, pub *phantomos.Publisher, v *view) (*analytics.Overview, []byte, error) {
	return cached(ctx, s.answers, v.key(pub, "overview"), func(ctx context.Context) (*analytics.Overview, error) {
		return analytics.BuildOverview(ctx, s.store, pub, v.Period, v.Compare, v.HasCompare, v.Filter)
	})
}

func (s *Server) handleOverview(w http.ResponseWriter, r *http.Request) error {
	pub, v, o, err := s.overview(r)
	if err != nil {
		return err
	}
	cur := o.Current
	money := func(x int64) string { return formatMoneyCompact(x, pub.ReportingCurrency) }
	p := overviewPage{View: v, Report: o, HasSales: cur.Orders > 0 || cur.NetRevenue != 0}
	p.KPIs = []kpi{
		{"kpi-net", "Net revenue", cur.NetRevenue, true, change(cur.NetRevenue, o.Previous, func(f analytics.Figures) int64 { return f.NetRevenue })},
		{"kpi-orders", "Orders", cur.Orders, false, change(cur.Orders, o.Previous, func(f analytics.Figures) int64 { return f.Orders })},
		{"kpi-units", "Units", cur.Units, false, change(cur.Units, o.Previous, func(f analytics.Figures) int64 { return f.Units })},
		{"kpi-aov", "Average order value", cur.AverageOrderValue, true, change(cur.AverageOrderValue, o.Previous, func(f analytics.Figures) int64 { return f.AverageOrderValue })},
		{"kpi-gross", "Gross sales", cur.GrossRevenue, true, change(cur.GrossRevenue, o.Previous, func(f analytics.Figures) int64 { return f.GrossRevenue })},
		{"kpi-refunds", "Refunds", cur.Refunds, true, change(cur.Refunds, o.Previous, func(f analytics.Figures) int64 { return f.Refunds })},
	}
	p.Trend = trendChart("Net revenue per "+o.Grain, "This period", o, money)
	var partial []bool
	p.TrendLabels, partial = trendLabels(o)
	p.Partial = slices.Contains(partial, true)
	p.Categories = chart.HBars("Net revenue by category", rowPoints(o.Categories, titleCase), money)
	p.Countries = chart.HBars("Net revenue by country", rowPoints(top(o.Countries, 12), countryName), money)
	p.Channels = chart.HBars("Net revenue by channel", rowPoints(o.Channels, channelName), money)
	if p.FilterLists, err = s.filterLists(r, pub, v, o); err != nil {
		return err
	}
	data := s.pageData(r, "Overview", "overview")
	data.Data = p
	return s.render(w, http.StatusOK, "overview", data)
}

func top(rows []analytics.Row, n int) []analytics.Row {
	if len(rows) > n {
		return rows[:n]
	}
	return rows
}

func rowPoints(rows []analytics.Row, label func(string) string) []chart.Point {
	out := make([]chart.Point, len(rows))
	for i, r := range rows {
		out[i] = chart.Point{Label: label(r.Label), Value: r.NetRevenue}
	}
	return out
}

func trendLabel(d phantomos.Day, grain string) string {
	t := d.Time()
	switch grain {
	case "month":
		return t.Format("Jan 06")
	}
	return t.Format("2 Jan")
}

// handleOverviewCSV exports every table of the Overview, for the same view.
func (s *Server) handleOverviewCSV(w http.ResponseWriter, r *http.Request) error {
	pub, _, o, err := s.overview(r)
	if err != nil {
		return err
	}
	name, b, err := report.OverviewCSV(pub, o)
	return sendCSV(w, name, b, err)
}

func sendCSV(w http.ResponseWriter, name string, b []byte, err error) error {
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Write(b)
	return nil
}

// trendChart draws an overview's trend as a line, with the comparison
// period dashed beside it when there is one.
func trendChart(title, name string, o *analytics.Overview, money func(int64) string) template.HTML {
	labels, partial := trendLabels(o)
	cur := chart.Series{Name: name, Partial: partial}
	prev := chart.Series{Name: "Comparison", Muted: true, Partial: partial}
	for _, pt := range o.Trend {
		cur.Values = append(cur.Values, pt.NetRevenue)
		if pt.Compare != nil {
			prev.Values = append(prev.Values, *pt.Compare)
		}
	}
	series := []chart.Series{cur}
	if len(prev.Values) > 0 {
		series = append(series, prev)
	}
	return chart.Lines(title, labels, series, money)
}

// trendLabels names the buckets of o's trend, for its chart and its table,
// and marks those cut short by the range (a week or month only partly in
// it, usually the current one): they say which days they hold, and the
// chart draws them apart, or their smaller sums read as a drop.
func trendLabels(o *analytics.Overview) ([]string, []bool) {
	labels := make([]string, len(o.Trend))
	partial := make([]bool, len(o.Trend))
	for i, pt := range o.Trend {
		labels[i] = trendLabel(pt.Start, o.Grain)
	}
	if n := len(o.Trend); n > 0 && o.Grain != "day" {
		if first := o.Trend[0].Start; first < o.Period.From {
			labels[0] += " (from " + trendLabel(o.Period.From, "day") + ")"
			partial[0] = true
		}
		last := o.Trend[n-1].Start.Time().AddDate(0, 0, 6)
		if o.Grain == "month" {
			last = o.Trend[n-1].Start.Time().AddDate(0, 1, -1)
		}
		if phantomos.DayOf(last, time.UTC) > o.Period.To {
			labels[n-1] += " (to " + trendLabel(o.Period.To, "day") + ")"
			partial[n-1] = true
		}
	}
	return labels, partial
}
