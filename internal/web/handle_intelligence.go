package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/api"
	"github.com/phantomos/phantomos/internal/chart"
	"github.com/phantomos/phantomos/internal/insights"
	"github.com/phantomos/phantomos/internal/llm"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/worker"
)

func (s *Server) llmConfig() llm.Config { return llm.Config{APIKey: s.cfg.AnthropicAPIKey} }

type intelligencePage struct {
	Today string
	// DataEnd is the publisher's last day of sales when it lies so far back
	// that the page analyses up to it rather than up to today.
	DataEnd   phantomos.Day
	LastRun   time.Time
	Narration string
	CanEdit   bool
	Notice    string
	HasSales  bool

	Summary  *insightView
	Sections []insightSection
	Closed   int
	ShowAll  bool

	Performance     *insights.AssetPerformance
	HasPrevious     bool
	PerformanceSVG  any
	PerformanceCols []string
	CompareHref     string

	Forecast      *insights.ForecastResult
	ForecastSVG   any
	ForecastRows  []forecastRow
	ForecastNotes []insightView
	ForecastError string
	Choice        string
	Grain         string
	Grains        []choice
	Horizon       int
	Horizons      []int
	HorizonUnit   string
	TimeZone      string
	Choices       []choiceGroup
}

type insightSection struct {
	ID, Title, Empty string
	Items            []insightView
}

// insightView is an insight with its numbers formatted for the page.
type insightView struct {
	insights.Insight
	ConfidenceText string
	Figures        []labelValue
	Stats          []labelValue
	SourceText     string
	// SeriesSVG charts the monthly series the finding is about, with
	// SeriesRows as its table.
	SeriesSVG  any
	SeriesRows []labelValue
	// CanEdit shows the status buttons; ShowAll keeps the page's choice to
	// show closed insights across them.
	CanEdit, ShowAll bool
}

type labelValue struct{ Label, Value string }

type forecastRow struct {
	Period                  string
	Point, Range80, Range95 string
}

type choiceGroup struct {
	Label   string
	Options []choice
}

type choice struct{ Value, Label string }

// handleIntelligencePage serves GET /intelligence: the narrative, the top
// assets compared month by month, the insights by kind (each expandable to
// its evidence), and a forecast with its intervals and measured accuracy,
// of total revenue or of the asset, category, game IP or channel chosen in
// the form (?forecast=scope:id&horizon=n). Insights older than a day are
// regenerated first.
func (s *Server) handleIntelligencePage(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	pub, err := s.store.Publisher(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	now := s.now()
	p := intelligencePage{Today: string(phantomos.DayOf(now, pub.Location())), Narration: llm.Describe(s.llmConfig()),
		CanEdit: a.Role.Can(phantomos.PermEdit), ShowAll: r.URL.Query().Get("show") == "all"}
	// Imported history that ended long ago is analysed up to its end.
	asOf, lastDay, err := s.work.AsOf(r.Context(), pub)
	if err != nil {
		return err
	}
	p.DataEnd = lastDay

	last, err := s.store.LastInsightRun(r.Context(), pub.ID)
	if err != nil {
		return err
	}
	if (last.IsZero() || now.Sub(last) > worker.InsightsMaxAge) && s.jobs != nil {
		// An insights_run job refreshes them; the page waits a bounded
		// while for it, then shows the last ones and says it is under way.
		id, err := s.jobs.EnqueueInsightsRunJob(r.Context(), pub.ID)
		if err != nil {
			return err
		}
		j, err := s.waitJob(r.Context(), pub.ID, id, s.jobWait.page)
		if err != nil {
			return err
		}
		if jobState(j) == "failed" {
			p.Notice = "The insights could not be refreshed just now; these are from the last run."
		}
		if last, err = s.store.LastInsightRun(r.Context(), pub.ID); err != nil {
			return err
		}
	} else if last.IsZero() || now.Sub(last) > worker.InsightsMaxAge {
		if _, err := s.work.GenerateInsights(r.Context(), pub); err != nil {
			s.logger.Error("generate insights", "request_id", RequestID(r.Context()), "publisher", pub.ID, "err", err)
			p.Notice = "The insights could not be refreshed just now; these are from the last run."
		}
		if last, err = s.store.LastInsightRun(r.Context(), pub.ID); err != nil {
			return err
		}
	}
	p.LastRun = last
	if s.jobs != nil && p.Notice == "" {
		if pending, err := s.jobs.InsightsPending(r.Context(), pub.ID); err == nil && pending {
			p.Notice = "Finding insights now: refresh in a moment to see them."
		}
	}
	list, err := insights.List(r.Context(), s.store, pub.ID, store.InsightFilter{})
	if err != nil {
		return err
	}
	p.Sections = []insightSection{
		{ID: "trends", Title: "Trending assets", Empty: "No asset is moving significantly against its own seasonality and the rest of the range."},
		{ID: "risks", Title: "Risk alerts", Empty: "No declining asset, concentration, forecast shortfall or refund spike."},
		{ID: "opportunities", Title: "Growth opportunities", Empty: "No category or market where an asset clearly outsells its range."},
		{ID: "recommendations", Title: "Recommendations", Empty: "Recommendations follow from the findings above."},
	}
	section := map[string]int{store.InsightTrend: 0, store.InsightRisk: 1, store.InsightGrowth: 2, store.InsightRecommendation: 3}
	for _, in := range list {
		v := s.insightView(in, pub.ReportingCurrency)
		v.CanEdit, v.ShowAll = p.CanEdit, p.ShowAll
		switch {
		case in.Fingerprint == insights.SummaryFingerprint:
			p.Summary = &v
			continue
		case in.Status != store.InsightNew && !p.ShowAll:
			p.Closed++
			continue
		case in.Type == store.InsightForecast:
			p.ForecastNotes = append(p.ForecastNotes, v)
			continue
		}
		if i, ok := section[in.Type]; ok {
			p.Sections[i].Items = append(p.Sections[i].Items, v)
		}
	}

	money := func(x int64) string { return formatMoneyCompact(x, pub.ReportingCurrency) }
	if p.Performance, err = insights.TopAssets(r.Context(), s.store, pub, asOf, 5); err != nil {
		return err
	}
	p.HasSales = len(p.Performance.Months) > 0
	if len(p.Performance.Assets) > 0 {
		var series []chart.Series
		href := "/assets/compare?from=" + string(p.Performance.Period.From) + "&to=" + string(p.Performance.Period.To)
		for _, l := range p.Performance.Assets {
			series = append(series, chart.Series{Name: l.Name, Values: l.Monthly})
			href += "&asset=" + l.ID
			p.HasPrevious = p.HasPrevious || l.Previous != nil
		}
		for _, m := range p.Performance.Months {
			p.PerformanceCols = append(p.PerformanceCols, monthLabel(m))
		}
		p.PerformanceSVG = chart.MultiLines("Attributed revenue of the top assets per month", p.PerformanceCols, series, money)
		p.CompareHref = href
	}

	if err := s.intelligenceForecast(r, pub, asOf, &p, money); err != nil {
		return err
	}
	data := s.pageData(r, "Intelligence", "intelligence")
	data.Data = p
	return s.render(w, http.StatusOK, "intelligence", data)
}

// intelligenceForecast fills the forecast part of the page: the scope
// asked for, or total revenue, by month or by week; a scope that does not
// exist is reported on the page rather than failing it. Switching the
// grain (the form carries the grain shown as "shown") starts from that
// grain's usual horizon, since 13 weeks and 13 months are different asks.
func (s *Server) intelligenceForecast(r *http.Request, pub *phantomos.Publisher, asOf time.Time, p *intelligencePage, money func(int64) string) error {
	q := r.URL.Query()
	p.Choice, p.Grain = q.Get("forecast"), insights.GrainMonth
	if q.Get("grain") == insights.GrainWeek {
		p.Grain = insights.GrainWeek
	}
	p.Grains = []choice{{insights.GrainMonth, "By month"}, {insights.GrainWeek, "By week"}}
	p.Horizons, p.HorizonUnit = []int{3, 6, 12, 24}, "Months"
	maxH := insights.MaxHorizon
	if p.Grain == insights.GrainWeek {
		p.Horizons, p.HorizonUnit, maxH = []int{4, 8, 13, 26, 52}, "Weeks", insights.MaxWeekHorizon
	}
	p.Horizon = insights.DefaultHorizon(p.Grain)
	if h, err := strconv.Atoi(q.Get("horizon")); err == nil && h >= 1 && h <= maxH && (q.Get("shown") == "" || q.Get("shown") == p.Grain) {
		p.Horizon = h
	}
	if !slices.Contains(p.Horizons, p.Horizon) {
		p.Horizons = append(p.Horizons, p.Horizon)
		slices.Sort(p.Horizons)
	}
	scope, id, _ := strings.Cut(p.Choice, ":")
	if scope == "" {
		scope, p.Choice = store.ScopeTotal, "total:"
	}
	req := insights.ForecastRequest{Scope: scope, ID: id, Grain: p.Grain, Horizon: p.Horizon}
	fc, err := insights.Forecast(r.Context(), s.store, pub, asOf, req)
	switch phantomos.ErrorCode(err) {
	case "":
	case phantomos.EINVALID, phantomos.ENOTFOUND:
		what := map[string]string{store.ScopeGameIP: "Game IP", store.ScopeAsset: "Asset", store.ScopeCategory: "Category", store.ScopeChannel: "Channel"}[scope]
		p.ForecastError = what + " not found. Showing total revenue instead."
		if what == "" {
			p.ForecastError = "Unknown forecast choice. Showing total revenue instead."
		}
		p.Choice = "total:"
		req.Scope, req.ID = store.ScopeTotal, ""
		if fc, err = insights.Forecast(r.Context(), s.store, pub, asOf, req); err != nil {
			return err
		}
	default:
		return err
	}
	p.Forecast = fc
	label, keep := monthLabel, 24
	if fc.Grain == insights.GrainWeek {
		label, keep = weekLabel, 52
	}
	if len(fc.Points) > 0 {
		var labels []string
		var history []int64
		// The chart shows at most two years of months, or a year of weeks,
		// before the forecast.
		for _, h := range fc.History[max(0, len(fc.History)-keep):] {
			labels = append(labels, label(h.Period))
			history = append(history, h.Amount)
		}
		var band chart.Forecast
		for _, pt := range fc.Points {
			labels = append(labels, label(pt.Period))
			band.Point = append(band.Point, pt.Point)
			band.Lo80, band.Hi80 = append(band.Lo80, pt.Lo80), append(band.Hi80, pt.Hi80)
			band.Lo95, band.Hi95 = append(band.Lo95, pt.Lo95), append(band.Hi95, pt.Hi95)
			row := forecastRow{Period: label(pt.Period), Point: money(pt.Point),
				Range80: money(pt.Lo80) + " – " + money(pt.Hi80), Range95: money(pt.Lo95) + " – " + money(pt.Hi95)}
			if pt.Week != "" {
				row.Period = "Week " + pt.Week[len(pt.Week)-2:] + ", from " + row.Period
			}
			p.ForecastRows = append(p.ForecastRows, row)
		}
		what := "Monthly"
		if fc.Grain == insights.GrainWeek {
			what = "Weekly"
		}
		p.ForecastSVG = chart.Bands(what+" net revenue of "+fc.Name+" with its forecast", labels, history, band, money)
	}
	p.TimeZone = pub.Location().String()

	groups := []choiceGroup{{Label: "Business", Options: []choice{{"total:", "Total revenue"}}}}
	ips, err := s.store.GameIPs(r.Context(), pub.ID)
	if err != nil {
		return err
	}
	var g choiceGroup
	g.Label = "Game IPs"
	for _, ip := range ips {
		g.Options = append(g.Options, choice{"game_ip:" + ip.ID, ip.Name})
	}
	groups = append(groups, g)
	assets, err := s.store.Assets(r.Context(), pub.ID)
	if err != nil {
		return err
	}
	g = choiceGroup{Label: "Assets"}
	for _, a := range assets {
		g.Options = append(g.Options, choice{"asset:" + a.ID, a.Name})
	}
	groups = append(groups, g)
	g = choiceGroup{Label: "Categories"}
	for _, c := range phantomos.Categories {
		g.Options = append(g.Options, choice{"category:" + c, titleCase(c)})
	}
	groups = append(groups, g)
	rows, err := s.store.Breakdown(r.Context(), pub.ID, phantomos.DayOf(asOf.AddDate(-1, 0, 0), pub.Location()), phantomos.DayOf(asOf, pub.Location()), store.Filter{}, store.ByChannel)
	if err != nil {
		return err
	}
	g = choiceGroup{Label: "Channels"}
	for _, row := range rows {
		g.Options = append(g.Options, choice{"channel:" + row.Key, titleCase(row.Key)})
	}
	groups = append(groups, g)
	for _, g := range groups {
		if len(g.Options) > 0 {
			p.Choices = append(p.Choices, g)
		}
	}
	return nil
}

// insightView formats an insight's evidence for the page.
func (s *Server) insightView(in insights.Insight, currency string) insightView {
	v := insightView{Insight: in, ConfidenceText: strconv.FormatFloat(in.Confidence*100, 'f', 0, 64) + "%"}
	if in.Confidence >= 0.995 {
		v.ConfidenceText = ">99%"
	}
	for _, f := range in.Evidence.Figures {
		label := f.Label
		if f.Measure == insights.MeasureForecast {
			label += " (forecast)"
		}
		v.Figures = append(v.Figures, labelValue{label, formatMoney(f.Amount, currency)})
	}
	for _, st := range in.Evidence.Stats {
		v.Stats = append(v.Stats, labelValue{st.Label, formatStat(st)})
	}
	if ser := in.Evidence.Series; len(ser) >= 2 {
		labels := make([]string, len(ser))
		values := make([]int64, len(ser))
		for i, m := range ser {
			labels[i], values[i] = monthLabel(m.Month), m.Amount
			v.SeriesRows = append(v.SeriesRows, labelValue{labels[i], formatMoney(m.Amount, currency)})
		}
		name := in.Evidence.Subject.Name
		v.SeriesSVG = chart.Lines("Revenue of "+name+" per month", labels, []chart.Series{{Name: name, Values: values}},
			func(x int64) string { return formatMoneyCompact(x, currency) })
	}
	switch {
	case in.Source == store.SourceLLM && in.Evidence.Model != "":
		v.SourceText = "Written by Claude (" + in.Evidence.Model + ") from the evidence; numbers checked"
	case in.Source == store.SourceLLM:
		v.SourceText = "Written by Claude from the evidence; numbers checked"
	default:
		v.SourceText = "Found by the local engine"
	}
	return v
}

// formatStat shows a test's number by its unit.
func formatStat(st insights.Stat) string {
	switch st.Unit {
	case "fraction":
		return strconv.FormatFloat(st.Value*100, 'f', 1, 64) + "%"
	case "p":
		if st.Value < 0.001 {
			return "< 0.001"
		}
		return strconv.FormatFloat(st.Value, 'f', 3, 64)
	case "index":
		return formatNumber(int64(st.Value + 0.5))
	}
	if st.Value == float64(int64(st.Value)) {
		return formatNumber(int64(st.Value))
	}
	return strconv.FormatFloat(st.Value, 'f', 2, 64)
}

// weekLabel shows the Monday "2026-03-09" of a week as "9 Mar 2026".
func weekLabel(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.Format("2 Jan 2006")
}

// monthLabel shows "2026-02" as "Feb 2026".
func monthLabel(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	return t.Format("Jan 2006")
}

// handleInsightStatus serves POST /intelligence/insights/{id}/status: a
// member dismisses an insight, marks it done or reopens it (form field
// status: dismissed, done or new), then returns to the page.
func (s *Server) handleInsightStatus(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	id := r.PathValue("id")
	in, err := s.store.Insight(r.Context(), a.PublisherID, id)
	if err != nil {
		return err
	}
	status := r.FormValue("status")
	if err := s.store.SetInsightStatus(r.Context(), a.PublisherID, in.ID, status); err != nil {
		return err
	}
	s.audit(r, a.PublisherID, "insight.status", in.ID, map[string]any{"status": status, "title": in.Title})
	target := "/intelligence"
	if r.FormValue("show") == "all" {
		target += "?show=all"
	}
	http.Redirect(w, r, target+"#insight-"+in.ID, http.StatusSeeOther)
	return nil
}

// handleIntelligenceGenerate serves POST /intelligence/generate: an
// insights_run job finds the insights now, and the page shows them once
// it has.
func (s *Server) handleIntelligenceGenerate(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	pub, err := s.store.Publisher(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	if s.jobs != nil {
		// A worker finds them; the page says so until it has.
		if err := s.jobs.EnqueueInsightsRun(r.Context(), pub.ID); err != nil {
			return err
		}
	} else if _, err := s.work.GenerateInsights(r.Context(), pub); err != nil {
		return err
	}
	s.audit(r, pub.ID, "insights.generate", "", nil)
	http.Redirect(w, r, "/intelligence", http.StatusSeeOther)
	return nil
}

// insightsJSON is the answer of the insights endpoints.
type insightsJSON struct {
	Insights    []insights.Insight `json:"insights"`
	GeneratedAt *time.Time         `json:"generated_at"`
	Narrator    string             `json:"narrator"`
}

func (s *Server) insightsResponse(ctx context.Context, pub phantomos.PublisherID, list []insights.Insight) (insightsJSON, error) {
	out := insightsJSON{Insights: list, Narrator: llm.SourceLocal}
	if out.Insights == nil {
		out.Insights = []insights.Insight{}
	}
	if s.cfg.AnthropicAPIKey != "" {
		out.Narrator = "claude"
	}
	last, err := s.store.LastInsightRun(ctx, pub)
	if err != nil {
		return out, err
	}
	if !last.IsZero() {
		out.GeneratedAt = &last
	}
	return out, nil
}

// handleAPIInsightsList serves GET /api/ai/insights?type=…&status=…: the
// stored insights, new first, then by confidence.
func (s *Server) handleAPIInsightsList(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	f := store.InsightFilter{Type: r.URL.Query().Get("type"), Status: r.URL.Query().Get("status")}
	if f.Type != "" && !slices.Contains(store.InsightTypes, f.Type) {
		return phantomos.Errorf(phantomos.EINVALID, "type=%q must be one of %s.", f.Type, strings.Join(store.InsightTypes, ", "))
	}
	if f.Status != "" && !slices.Contains([]string{store.InsightNew, store.InsightDismissed, store.InsightDone}, f.Status) {
		return phantomos.Errorf(phantomos.EINVALID, "status=%q must be new, dismissed or done.", f.Status)
	}
	list, err := insights.List(r.Context(), s.store, a.PublisherID, f)
	if err != nil {
		return err
	}
	out, err := s.insightsResponse(r.Context(), a.PublisherID, list)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

// handleAPIInsightsGenerate serves POST /api/ai/insights: run the
// detectors now and return every stored insight.
func (s *Server) handleAPIInsightsGenerate(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	pub, err := s.store.Publisher(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	var list []insights.Insight
	if s.jobs == nil {
		if list, err = s.work.GenerateInsights(r.Context(), pub); err != nil {
			return err
		}
	} else {
		// An insights_run job does it; the answer waits a bounded while.
		id, err := s.jobs.EnqueueInsightsRunJob(r.Context(), pub.ID)
		if err != nil {
			return err
		}
		s.audit(r, pub.ID, "insights.generate", "", nil)
		j, err := s.waitJob(r.Context(), pub.ID, id, s.jobWait.api)
		if err != nil {
			return err
		}
		switch jobState(j) {
		case "succeeded":
		case "failed":
			return phantomos.Errorf(phantomos.EINTERNAL, "Finding insights failed: %s", jobError(j))
		default:
			return accepted(w, j)
		}
		if list, err = insights.List(r.Context(), s.store, pub.ID, store.InsightFilter{}); err != nil {
			return err
		}
		out, err := s.insightsResponse(r.Context(), pub.ID, list)
		if err != nil {
			return err
		}
		return api.WriteJSON(w, http.StatusOK, out)
	}
	s.audit(r, pub.ID, "insights.generate", "", nil)
	out, err := s.insightsResponse(r.Context(), pub.ID, list)
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, out)
}

// handleAPIForecast serves POST /api/ai/forecast {scope, id, grain,
// horizon}: a monthly or weekly forecast with 80% and 95% intervals and its
// measured accuracy.
func (s *Server) handleAPIForecast(w http.ResponseWriter, r *http.Request) error {
	a := phantomos.ActorFrom(r.Context())
	var req struct {
		Scope   string `json:"scope"`
		ID      string `json:"id"`
		Grain   string `json:"grain"`
		Horizon int    `json:"horizon"`
	}
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	pub, err := s.store.Publisher(r.Context(), a.PublisherID)
	if err != nil {
		return err
	}
	asOf, _, err := s.work.AsOf(r.Context(), pub)
	if err != nil {
		return err
	}
	fc, err := insights.Forecast(r.Context(), s.store, pub, asOf, insights.ForecastRequest{Scope: req.Scope, ID: req.ID, Grain: req.Grain, Horizon: req.Horizon})
	if err != nil {
		return err
	}
	return api.WriteJSON(w, http.StatusOK, fc)
}
