package insights_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
	"github.com/phantomos/phantomos/internal/demo"
	"github.com/phantomos/phantomos/internal/insights"
	"github.com/phantomos/phantomos/internal/store"
	"github.com/phantomos/phantomos/internal/store/storetest"
)

// TestInsightsNeverContradict generates the insights of the demo as of
// several dates and seeds and checks each against its own evidence and
// against the pages: the direction a headline names (declining, rising,
// gaining, below, above, jumped) agrees with the sign of the evidence's
// change, every percentage in the headline is one of the evidence's
// fractions as the page would show it, the evidence's changes are the ones
// its figures imply, and every figure is what the Overview or Assets page
// shows for the same period and filter. (The demo's Intelligence page once
// said "Wren the Lanternbearer is declining: revenue up 24% on the same
// months last year".)
//
// The grid runs on SQLite; one case runs on both engines. Set
// PHANTOMOS_INSIGHTS_SWEEP=1 for a wider sweep of seeds and dates.
func TestInsightsNeverContradict(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo many times")
	}
	seeds := []int64{1, 42}
	dates := []time.Time{
		time.Date(2026, 2, 10, 12, 0, 0, 0, time.UTC), time.Date(2026, 5, 21, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 9, 3, 12, 0, 0, 0, time.UTC),
	}
	sales := 10_000
	if os.Getenv("PHANTOMOS_INSIGHTS_SWEEP") != "" {
		seeds = []int64{1, 2, 3, 5, 7, 11, 42, 99}
		dates = nil
		for m := time.January; m <= time.December; m++ {
			dates = append(dates, time.Date(2026, m, 5+int(m), 12, 0, 0, 0, time.UTC))
		}
		sales = 30_000
	}
	t.Run("engines", func(t *testing.T) {
		now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
		storetest.ForEachDialect(t, func(t *testing.T, s *store.Store) {
			t.Parallel()
			checkDemoInsights(t, s, 3, now, sales)
		})
	})
	for _, seed := range seeds {
		for _, now := range dates {
			t.Run(fmt.Sprintf("seed %d as of %s", seed, now.Format(time.DateOnly)), func(t *testing.T) {
				t.Parallel()
				checkDemoInsights(t, storetest.New(t, store.SQLite), seed, now, sales)
			})
		}
	}
}

// checkDemoInsights loads the demo with seed as of now into s, generates
// its insights and checks none contradicts itself or the pages.
func checkDemoInsights(t *testing.T, s *store.Store, seed int64, now time.Time, sales int) {
	t.Helper()
	ctx := context.Background()
	pub, err := demo.Load(ctx, s, demo.Options{Sales: sales, Seed: seed, Now: now}, nil)
	if err != nil {
		t.Fatal(err)
	}
	list, err := insights.Generate(ctx, s, pub, now)
	if err != nil {
		t.Fatal(err)
	}
	pages := pageCache{}
	checked := 0
	for _, in := range list {
		for _, problem := range contradictions(ctx, t, s, pub, &pages, in) {
			t.Errorf("%q: %s", in.Title, problem)
		}
		checked++
	}
	if checked < 5 {
		t.Errorf("only %d insights", checked)
	}
}

// percentRE finds the percentages of a headline, as format.go writes them.
var percentRE = regexp.MustCompile(`(\d+(?:\.\d)?)%`)

// contradictions returns what is wrong with in: each a sentence.
func contradictions(ctx context.Context, t *testing.T, s *store.Store, pub *phantomos.Publisher, pages *pageCache, in insights.Insight) []string {
	t.Helper()
	ev := in.Evidence
	var out []string
	bad := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	stat := func(key string) float64 {
		for _, st := range ev.Stats {
			if st.Key == key {
				return st.Value
			}
		}
		bad("no %s in the evidence", key)
		return math.NaN()
	}
	// Every figure is what its page shows.
	for _, f := range ev.Figures {
		got, ok, err := pages.figure(ctx, s, pub, f)
		if err != nil {
			t.Fatalf("%s: %v", in.Fingerprint, err)
		}
		if ok && got != f.Amount {
			bad("%q is %d in the evidence but %d on the page", f.Label, f.Amount, got)
		}
	}
	// Every percentage of the headline is one of the evidence's fractions.
	var fractions []string
	for _, st := range ev.Stats {
		if st.Unit == "fraction" {
			fractions = append(fractions, percent(st.Value))
		}
	}
	headline := in.Title
	for _, m := range percentRE.FindAllString(headline, -1) {
		if !contains(fractions, m) {
			bad("headline says %s, which is none of the evidence's fractions %v", m, fractions)
		}
	}
	// ratio is a/b-1 for two figures.
	ratio := func(i, j int) float64 {
		if len(ev.Figures) <= max(i, j) || ev.Figures[j].Amount == 0 {
			bad("figures %d and %d missing", i, j)
			return math.NaN()
		}
		return float64(ev.Figures[i].Amount)/float64(ev.Figures[j].Amount) - 1
	}
	near := func(what string, got, want float64) {
		if math.Abs(got-want) > 1e-6*math.Max(1, math.Abs(want)) {
			bad("%s is %g in the evidence but its figures give %g", what, got, want)
		}
	}
	words := func(want ...string) {
		for _, w := range want {
			if !strings.Contains(headline, w) {
				bad("headline lacks %q", w)
			}
		}
	}
	switch ev.Kind {
	case insights.KindAssetRising, insights.KindAssetDeclining:
		change, relative := stat("revenue_change"), stat("relative_change")
		near("revenue_change", change, ratio(0, 1))
		if (ev.Kind == insights.KindAssetRising) != (relative > 0) {
			bad("kind %s with a change of %+.3f against the typical asset", ev.Kind, relative)
		}
		// The headline's verb and "up" or "down" follow the asset's own
		// revenue, which is what the Assets page shows.
		switch {
		case strings.Contains(headline, " is declining"):
			if change >= 0 {
				bad("declining while its revenue changed %+.3f", change)
			}
		case strings.Contains(headline, " is rising"):
			if change <= 0 {
				bad("rising while its revenue changed %+.3f", change)
			}
		}
		words("revenue "+direction(change)+" "+percent(change), "same months last year")
		if ev.Kind == insights.KindAssetDeclining && !strings.Contains(headline, " is declining") && !strings.Contains(headline, " is losing ground") {
			bad("declining finding without a word for it")
		}
		if ev.Kind == insights.KindAssetRising && !strings.Contains(headline, " is rising") && !strings.Contains(headline, " is gaining ground") {
			bad("rising finding without a word for it")
		}
		// The Overview filtered to the asset (its products' net revenue)
		// moves the way the headline says, when it moves by more than a few
		// percent.
		if ev.Baseline != nil && (strings.Contains(headline, " is declining") || strings.Contains(headline, " is rising")) {
			r, err := overviewNet(ctx, s, pub, pages, ev.Period, ev.Subject.ID)
			if err != nil {
				t.Fatal(err)
			}
			y, err := overviewNet(ctx, s, pub, pages, *ev.Baseline, ev.Subject.ID)
			if err != nil {
				t.Fatal(err)
			}
			if y > 0 {
				if ov := float64(r)/float64(y) - 1; math.Abs(ov) > 0.05 && (ov > 0) != (change > 0) {
					bad("the Overview of %s's products shows %+.3f while the headline says %s", ev.Subject.Name, ov, direction(change))
				}
			}
		}
	case insights.KindConcentration:
		if ev.Subject.Kind == "total" {
			if h := stat("hhi"); !strings.Contains(headline, fmt.Sprintf("HHI %.0f", h)) || h <= stat("limit") {
				bad("HHI %.0f against a limit of %.0f", h, stat("limit"))
			}
			break
		}
		share := stat("share")
		if ev.Subject.Kind == "asset" {
			near("share", share, ratio(0, 1)+1)
		}
		words("carries " + percent(share))
		if share <= stat("limit") {
			bad("share %.3f not above the limit %.3f", share, stat("limit"))
		}
	case insights.KindSegmentShare:
		r, y := stat("share_recent"), stat("share_year_ago")
		words(percent(r)+" of sales there", "up from "+percent(y))
		if r <= y || percent(r) == percent(y) {
			bad("gaining share from %.4f to %.4f", y, r)
		}
	case insights.KindForecastShortfall:
		change := stat("change")
		if change >= 0 {
			bad("shortfall with a change of %+.3f", change)
		}
		near("change", change, float64(ev.Figures[0].Amount)/float64(ev.Figures[3].Amount)-1)
		words(percent(change) + " below last year")
	case insights.KindForecastOutlook:
		change := stat("change")
		near("change", change, float64(ev.Figures[0].Amount)/float64(ev.Figures[3].Amount)-1)
		dir := "above"
		if change < 0 {
			dir = "below"
		}
		words(percent(change) + " " + dir + " last year")
	case insights.KindRefundSpike:
		r, u := stat("rate"), stat("usual_rate")
		words("jumped to "+percent(r), "usually "+percent(u))
		if r <= u || percent(r) == percent(u) {
			bad("jumped from %.4f to %.4f", u, r)
		}
	case insights.KindExpandLine:
		// "Only n products" needs fewer than the typical asset has;
		// otherwise the headline gives the sales ratio of the evidence.
		n := int(stat("products"))
		if strings.Contains(headline, " only ") {
			words(fmt.Sprintf("only %d ", n))
			if stat("products") >= stat("typical_products") {
				bad("only %d products where the typical asset has %v", n, stat("typical_products"))
			}
		} else {
			words(fmt.Sprintf("its %d ", n), fmt.Sprintf(" %.1f times the typical", stat("category_ratio")))
		}
	}
	return out
}

// overviewNet is the Overview's net revenue over p filtered to an asset.
func overviewNet(ctx context.Context, s *store.Store, pub *phantomos.Publisher, pages *pageCache, p analytics.Period, asset string) (int64, error) {
	v, _, err := pages.figure(ctx, s, pub, insights.Figure{Measure: insights.MeasureNet, Period: p, Filter: insights.Filter{Asset: asset}})
	return v, err
}

// percent formats a fraction as format.go's pct does; written apart so
// that the test does not trust the code it checks.
func percent(f float64) string {
	f = math.Abs(f) * 100
	if f >= 9.95 {
		return strconv.FormatFloat(math.Round(f), 'f', 0, 64) + "%"
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + "%"
}

// direction is "up" or "down".
func direction(f float64) string {
	if f < 0 {
		return "down"
	}
	return "up"
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
