package insights

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/demo"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

func TestCompleteWeeks(t *testing.T) {
	for _, tc := range []struct {
		name        string
		first       phantomos.Day
		today       phantomos.Day
		start, last string
		n           int
	}{
		// 15 March 2026 is a Sunday: its week is in progress until the day
		// ends, so the last complete week is the one of 2 March.
		{"Sunday", "2026-01-05", "2026-03-15", "2026-01-05", "2026-03-02", 9},
		{"Monday", "2026-01-05", "2026-03-16", "2026-01-05", "2026-03-09", 10},
		// A first sale on a Wednesday makes that week partial.
		{"partial first week", "2026-01-07", "2026-03-16", "2026-01-12", "2026-03-09", 9},
		{"first sale this week", "2026-03-10", "2026-03-15", "", "", 0},
		{"three years at most", "2019-01-01", "2026-03-16", "2023-03-20", "2026-03-09", maxWeeks},
	} {
		got := completeWeeks(tc.first, true, tc.today)
		if len(got) != tc.n || tc.n > 0 && (got[0] != tc.start || got[len(got)-1] != tc.last) {
			t.Errorf("%s: %d weeks %v…, want %d from %s to %s", tc.name, len(got), got[:min(2, len(got))], tc.n, tc.start, tc.last)
		}
		for _, w := range got {
			if phantomos.Day(w).Time().Weekday() != time.Monday {
				t.Errorf("%s: week %s does not start on a Monday", tc.name, w)
			}
		}
	}
	if got := completeWeeks("", false, "2026-03-16"); got != nil {
		t.Errorf("no sales: %v", got)
	}
	for day, want := range map[phantomos.Day]string{"2026-03-09": "2026-W11", "2024-12-30": "2025-W01", "2021-01-04": "2021-W01"} {
		if got := isoWeek(day); got != want {
			t.Errorf("isoWeek(%s) = %s, want %s", day, got, want)
		}
	}
}

// TestShortAndIntermittentSeries: an asset launched last month, one sold
// in a few weeks only and one launched three weeks ago each get a sensible
// forecast (finite, never negative, nested and wide intervals, near what
// they sell) with a note saying why there is no seasonal model.
func TestShortAndIntermittentSeries(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	zeros := func(n int) []int64 { return make([]int64, n) }
	intermittent := zeros(60)
	for i := range intermittent {
		if rng.Float64() < 0.25 {
			intermittent[i] = 20_000 + rng.Int64N(20_000)
		}
	}
	for _, tc := range []struct {
		name      string
		g         grainSpec
		values    []int64
		model     string
		note      string
		level     float64 // what the series sells per period
		measured  bool
		wideRatio float64 // least hi95/point
	}{
		{"launched last month", monthly, append(zeros(20), 90_000), "Mean", "has sold for 1 month", 90_000, false, 1.8},
		{"launched three weeks ago", weekly, append(zeros(80), 30_000, 12_000, 18_000), "Mean", "has sold for 3 weeks", 20_000, false, 1.8},
		{"few weeks of sales", weekly, intermittent, "Croston-SBA", "Croston", 0.25 * 30_000, true, 2},
		{"half a year of months", monthly, append(zeros(18), 50_000, 55_000, 52_000, 60_000, 58_000, 61_000), "", "a yearly pattern needs at least 15", 57_000, false, 1.05},
	} {
		periods := make([]string, len(tc.values))
		p := "2024-01"
		if tc.g.name == GrainWeek {
			p = "2024-01-01"
		}
		for i := range periods {
			periods[i] = p
			p = tc.g.next(p)
		}
		r := &ForecastResult{Scope: store.ScopeAsset, ID: "a", Name: "Nova"}
		if err := r.fill(tc.g, periods, tc.values); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(r.Points) != tc.g.maxHorizon || len(r.History) != len(tc.values) {
			t.Fatalf("%s: %d points, %d history", tc.name, len(r.Points), len(r.History))
		}
		if tc.model != "" && r.Model != tc.model {
			t.Errorf("%s: model %s, want %s", tc.name, r.Model, tc.model)
		}
		if !strings.Contains(r.Note, "Too little history for a seasonal model") || !strings.Contains(r.Note, tc.note) {
			t.Errorf("%s: note %q, want one about too little history mentioning %q", tc.name, r.Note, tc.note)
		}
		if (r.Accuracy.MAPE != nil) != tc.measured || r.Accuracy.Words == "" {
			t.Errorf("%s: accuracy %+v", tc.name, r.Accuracy)
		}
		for _, pt := range r.Points {
			if !(0 <= pt.Lo95 && pt.Lo95 <= pt.Lo80 && pt.Lo80 <= pt.Point && pt.Point <= pt.Hi80 && pt.Hi80 <= pt.Hi95) {
				t.Errorf("%s %s: %+v not nested and non-negative", tc.name, pt.Period, pt)
			}
			if f := float64(pt.Point); f < 0.5*tc.level || f > 2*tc.level {
				t.Errorf("%s %s: forecast %d far from the level %.0f", tc.name, pt.Period, pt.Point, tc.level)
			}
			if float64(pt.Hi95) < tc.wideRatio*float64(pt.Point) {
				t.Errorf("%s %s: 95%% range up to %d is narrow for point %d", tc.name, pt.Period, pt.Hi95, pt.Point)
			}
		}
	}
}

// TestWeeklySeasonalPeak: two years of weekly sales with a holiday peak
// are forecast with the peak in the same weeks.
func TestWeeklySeasonalPeak(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	// 100 weeks from Monday 5 Feb 2024: the peak is the week of
	// 2 December (weeks 43 and 95).
	y := make([]int64, 100)
	for i := range y {
		w := float64(i % 52)
		y[i] = int64((100_000 + 300*float64(i) + 250_000*math.Exp(-(w-43)*(w-43)/6)) * math.Exp(0.08*rng.NormFloat64()))
	}
	fc, acc, err := forecastSeries(y, weekly, 52)
	if err != nil {
		t.Fatal(err)
	}
	peak := slices.Index(fc.Point, slices.Max(fc.Point))
	// The series ends at week 99, so week 43 of the next cycle (147) is
	// step 48.
	if peak < 46 || peak > 50 {
		t.Errorf("forecast peaks at step %d, want about 48 (model %s)", peak+1, fc.Model)
	}
	if acc.MAPE == nil || *acc.MAPE > 0.15 || !strings.Contains(acc.Words, "a week ahead") {
		t.Errorf("accuracy %+v (model %s)", acc, fc.Model)
	}
}

// TestWeeklyIntervalCoverage checks the weekly 80% and 95% intervals on
// the demo publisher's weekly series (total, categories, channels, game
// IPs and the leading assets) by rolling origin: from each of the last 26
// weeks, the weeks before it are forecast four weeks ahead exactly as the
// API does it, and the share of actual weeks inside each interval is
// counted. Intervals too narrow or too wide miss the nominal coverage: the
// models' own intervals, before calibrate widens them by their backtests,
// cover 74% and 89% here.
func TestWeeklyIntervalCoverage(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo publisher")
	}
	t.Parallel()
	s := storetest.New(t, store.SQLite)
	ctx := context.Background()
	now := time.Date(2026, 3, 15, 18, 30, 0, 0, time.UTC)
	pub, err := demo.Load(ctx, s, demo.Options{Sales: 40_000, Seed: 42, Now: now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	type sc struct{ scope, id string }
	scopes := []sc{{store.ScopeTotal, ""}}
	for _, c := range phantomos.Categories {
		scopes = append(scopes, sc{store.ScopeCategory, c})
	}
	for _, ch := range []string{"online_store", "marketplace", "retail_partner"} {
		scopes = append(scopes, sc{store.ScopeChannel, ch})
	}
	ips, err := s.GameIPs(ctx, pub.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range ips {
		scopes = append(scopes, sc{store.ScopeGameIP, g.ID})
	}
	perf, err := TopAssets(ctx, s, pub, now, 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range perf.Assets {
		scopes = append(scopes, sc{store.ScopeAsset, a.ID})
	}
	const h, origins = 4, 26
	var n, in80, in95, series int
	for _, c := range scopes {
		ws, err := loadWeeks(ctx, s, pub, now, c.scope, c.id)
		if phantomos.ErrorCode(err) == phantomos.ENOTFOUND {
			continue // a channel the demo does not sell through
		}
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		for _, v := range ws.values {
			total += v
		}
		if total == 0 {
			continue
		}
		series++
		y := ws.values
		var sn, s80, s95 int
		for k := len(y) - origins - h + 1; k+h <= len(y); k++ {
			fc, _, err := forecastSeries(y[:k], weekly, h)
			if err != nil {
				t.Fatalf("%s %s at week %d: %v", c.scope, ws.name, k, err)
			}
			for j := range h {
				a := float64(y[k+j])
				sn++
				if fc.Lo80[j] <= a && a <= fc.Hi80[j] {
					s80++
				}
				if fc.Lo95[j] <= a && a <= fc.Hi95[j] {
					s95++
				}
			}
		}
		t.Logf("%-8s %-28s %3d weeks: 80%% %.2f, 95%% %.2f", c.scope, ws.name, len(y), float64(s80)/float64(sn), float64(s95)/float64(sn))
		n, in80, in95 = n+sn, in80+s80, in95+s95
	}
	if series < 10 {
		t.Fatalf("only %d weekly series with sales", series)
	}
	c80, c95 := float64(in80)/float64(n), float64(in95)/float64(n)
	t.Logf("%d series, %d forecast weeks: coverage 80%% interval %.1f%%, 95%% interval %.1f%%", series, n, 100*c80, 100*c95)
	// Within five points of nominal, the standard for M3.
	if math.Abs(c80-0.80) > 0.05 {
		t.Errorf("80%% intervals cover %.1f%% of the weeks, want 75–85%%", 100*c80)
	}
	if math.Abs(c95-0.95) > 0.05 {
		t.Errorf("95%% intervals cover %.1f%% of the weeks, want 90–100%%", 100*c95)
	}
}

// TestForecastReuse: a forecast is stored with the data version and the
// last complete period it was made from, and served again, shorter or
// whole, until either changes; the weeks follow the publisher's time zone.
func TestForecastReuse(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
		t.Parallel()
		ctx := context.Background()
		// Sunday 15 March 2026, 18:30 UTC: Monday morning in Auckland.
		now := time.Date(2026, 3, 15, 18, 30, 0, 0, time.UTC)
		pub, err := demo.Load(ctx, s, demo.Options{Sales: 6_000, Seed: 11, Now: now}, nil)
		if err != nil {
			t.Fatal(err)
		}
		week := ForecastRequest{Scope: store.ScopeTotal, Grain: GrainWeek, Horizon: 8}
		first, err := Forecast(ctx, s, pub, now, week)
		if err != nil {
			t.Fatal(err)
		}
		stored, err := s.StoredForecast(ctx, pub.ID, store.ScopeTotal, "", GrainWeek)
		if err != nil {
			t.Fatal(err)
		}
		version, _ := s.DataVersion(ctx, pub.ID)
		if stored.DataVersion != version || !strings.Contains(stored.Basis, "2026-03-02") || len(stored.Points) == 0 {
			t.Errorf("stored version %d (publisher at %d), basis %q", stored.DataVersion, version, stored.Basis)
		}

		// An hour later, a shorter horizon: the same forecast, not a new one.
		later := now.Add(time.Hour)
		week.Horizon = 4
		again, err := Forecast(ctx, s, pub, later, week)
		if err != nil {
			t.Fatal(err)
		}
		if !again.GeneratedAt.Equal(first.GeneratedAt) || len(again.Points) != 4 || again.Points[3] != first.Points[3] || again.Model != first.Model ||
			len(again.History) != len(first.History) || again.Accuracy.Words != first.Accuracy.Words || again.Name != first.Name {
			t.Errorf("not reused: generated %v then %v, %d points", first.GeneratedAt, again.GeneratedAt, len(again.Points))
		}

		// New data: computed again from the new version.
		if _, err := s.DB().ExecContext(ctx, `UPDATE publishers SET data_version = data_version + 1 WHERE id = $1`, string(pub.ID)); err != nil {
			t.Fatal(err)
		}
		fresh, err := Forecast(ctx, s, pub, later, week)
		if err != nil {
			t.Fatal(err)
		}
		if !fresh.GeneratedAt.Equal(later.Truncate(time.Second)) {
			t.Errorf("after a data change the forecast generated at %v was served again", fresh.GeneratedAt)
		}
		if stored, _ = s.StoredForecast(ctx, pub.ID, store.ScopeTotal, "", GrainWeek); stored.DataVersion != version+1 {
			t.Errorf("stored data version %d, want %d", stored.DataVersion, version+1)
		}

		// A new week completes: computed again, one week more history.
		monday := now.Add(30 * time.Hour)
		next, err := Forecast(ctx, s, pub, monday, week)
		if err != nil {
			t.Fatal(err)
		}
		if !next.GeneratedAt.Equal(monday.Truncate(time.Second)) || next.History[len(next.History)-1].Period != "2026-03-09" || next.Points[0].Period != "2026-03-16" {
			t.Errorf("on Monday: generated %v, history ends %s", next.GeneratedAt, next.History[len(next.History)-1].Period)
		}

		// The weeks are the publisher's: in Auckland it is Monday already.
		for tz, want := range map[string]string{"Pacific/Auckland": "2026-03-09", "America/Los_Angeles": "2026-03-02"} {
			p := *pub
			p.Timezone = tz
			r, err := Forecast(ctx, s, &p, now, week)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.History[len(r.History)-1].Period; got != want {
				t.Errorf("%s: last complete week %s, want %s", tz, got, want)
			}
		}

		// Monthly forecasts are kept apart from weekly ones.
		month, err := Forecast(ctx, s, pub, now, ForecastRequest{Scope: store.ScopeTotal})
		if err != nil {
			t.Fatal(err)
		}
		if month.Grain != GrainMonth || len(month.Points) != 6 || month.Points[0].Period != "2026-03" {
			t.Errorf("monthly forecast %+v", month.Points)
		}
		list, err := s.StoredForecasts(ctx, pub.ID)
		if err != nil || len(list) != 2 {
			t.Errorf("%d stored forecasts, want a weekly and a monthly one (%v)", len(list), err)
		}
	})
}
