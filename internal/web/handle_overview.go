package web

import (
	"net/http"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/api"
	"github.com/phantomos/phantomos/internal/chart"
	"github.com/phantomos/phantomos/internal/store"
)

type overviewPage struct {
	Currency string
	Period   api.Period
	Current  store.Summary
	Previous store.Summary
	Months   []monthRow
	Chart    any
	HasSales bool
}

type monthRow struct {
	Label string
	Net   int64
}

// Change is the relative change of cur against prev, and whether it is
// defined (prev non-zero).
type Change struct {
	Ratio float64
	OK    bool
}

func change(cur, prev int64) Change {
	if prev == 0 {
		return Change{}
	}
	return Change{Ratio: float64(cur-prev) / float64(prev), OK: true}
}

// Changes of the headline figures, for the template.
func (p overviewPage) NetChange() Change    { return change(p.Current.Net, p.Previous.Net) }
func (p overviewPage) OrdersChange() Change { return change(p.Current.Orders, p.Previous.Orders) }
func (p overviewPage) UnitsChange() Change  { return change(p.Current.Units, p.Previous.Units) }
func (p overviewPage) AOVChange() Change {
	return change(p.Current.AverageOrderValue(), p.Previous.AverageOrderValue())
}

func (s *Server) handleOverview(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	data := s.pageData(r, "Overview", "overview")
	pub := data.Publisher
	if pub == nil {
		return phantomos.Errorf(phantomos.ENOTFOUND, "Publisher not found.")
	}
	loc := pub.Location()
	period := api.Last12Months(s.now(), loc)
	cur, err := s.store.Summary(ctx, pub.ID, period.From, period.To)
	if err != nil {
		return err
	}
	before := period.Previous()
	prev, err := s.store.Summary(ctx, pub.ID, before.From, before.To)
	if err != nil {
		return err
	}
	months, err := s.store.MonthlyNet(ctx, pub.ID, period.From, period.To)
	if err != nil {
		return err
	}
	byMonth := map[string]int64{}
	for _, m := range months {
		byMonth[m.Month] = m.Value
	}
	p := overviewPage{Currency: pub.ReportingCurrency, Period: period, Current: cur, Previous: prev, HasSales: cur.Orders > 0}
	var points []chart.Point
	first := period.From.Time()
	for m := time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(period.To.Time()); m = m.AddDate(0, 1, 0) {
		label := m.Format("Jan 2006")
		v := byMonth[m.Format("2006-01")]
		p.Months = append(p.Months, monthRow{Label: label, Net: v})
		points = append(points, chart.Point{Label: m.Format("Jan 06"), Value: v})
	}
	p.Chart = chart.Bars("Net revenue per month", points, func(v int64) string { return formatMoneyCompact(v, pub.ReportingCurrency) })
	data.Data = p
	return s.render(w, http.StatusOK, "overview", data)
}
