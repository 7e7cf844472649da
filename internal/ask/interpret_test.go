package ask

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/phantomos/phantomos"
)

func testCatalogue() *Catalogue {
	return &Catalogue{
		GameIPs: []*phantomos.GameIP{{ID: "ip-sf", Name: "Starfall Odyssey", Slug: "starfall-odyssey"}, {ID: "ip-hm", Name: "Hollowmere", Slug: "hollowmere"}},
		Assets: []*phantomos.Asset{
			{ID: "a-nova", GameIPID: "ip-sf", Name: "Captain Nova", AssetType: phantomos.AssetCharacter, Aliases: []string{"Nova"}, Tags: []string{"hero"}},
			{ID: "a-vael", GameIPID: "ip-sf", Name: "Void Empress", AssetType: phantomos.AssetCharacter, Aliases: []string{"The Empress"}, Tags: []string{"villain"}},
			{ID: "a-logo", GameIPID: "ip-sf", Name: "Starfall Odyssey Logo", AssetType: phantomos.AssetLogo},
		},
		Categories: []string{"apparel", "collectibles", "home"},
		Channels:   []string{"marketplace", "online_store"},
		Countries:  []string{"DE", "US"},
	}
}

// TestInterpretDates reads relative dates in the publisher's time zone: at
// 2026-12-06 06:00 UTC it is still 5 December in Los Angeles.
func TestInterpretDates(t *testing.T) {
	loc, err := time.LoadLocation("America/Los_Angeles")
	if err != nil {
		t.Skip("no time zone data")
	}
	in := NewInterpreter(testCatalogue(), loc, "2024-12-06")
	now := time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)
	type period struct{ Range, From, To string }
	for _, c := range []struct {
		question string
		want     period
	}{
		{"total revenue this quarter", period{"qtd", "", ""}},
		{"total revenue last quarter", period{"lq", "", ""}},
		{"total revenue year to date", period{"ytd", "", ""}},
		{"total revenue this year", period{"ytd", "", ""}},
		{"total revenue last 90 days", period{"90d", "", ""}},
		{"total revenue in the last 45 days", period{"custom", "2026-10-22", "2026-12-05"}},
		{"total revenue last month", period{"custom", "2026-11-01", "2026-11-30"}},
		{"total revenue this month", period{"custom", "2026-12-01", "2026-12-05"}},
		{"total revenue Q4 2025", period{"custom", "2025-10-01", "2025-12-31"}},
		{"total revenue 2026 Q1", period{"custom", "2026-01-01", "2026-03-31"}},
		{"total revenue in November 2025", period{"custom", "2025-11-01", "2025-11-30"}},
		{"total revenue last year", period{"custom", "2025-01-01", "2025-12-31"}},
		{"total revenue in 2026", period{"custom", "2026-01-01", "2026-12-05"}},
		{"total revenue since launch", period{"custom", "2024-12-06", "2026-12-05"}},
		{"total revenue last week", period{"custom", "2026-11-23", "2026-11-29"}},
		{"total revenue", period{"12m", "", ""}},
	} {
		q, err := in.Interpret(c.question, now)
		if err != nil {
			t.Errorf("%q: %v", c.question, err)
			continue
		}
		if diff := cmp.Diff(c.want, period{q.Range, q.From, q.To}); diff != "" {
			t.Errorf("%q (-want +got):\n%s", c.question, diff)
		}
	}
}

// TestInterpretShapes checks entity linking (names, aliases, typos, tags)
// and the shapes of question.
func TestInterpretShapes(t *testing.T) {
	in := NewInterpreter(testCatalogue(), time.UTC, "2024-12-06")
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		question string
		want     Query
	}{
		{"Which character generated the most revenue this quarter?", Query{Kind: KindRank, Measure: MeasureRevenue, GroupBy: GroupAsset,
			Filter: Filter{AssetTypes: []string{"character"}}, Range: "qtd", RangeLabel: "this quarter", Compare: "none", Order: "top", Limit: 1}},
		{"How is our villain performing compared to our hero?", Query{Kind: KindCompare, Measure: MeasureRevenue,
			Subjects: []Ref{{RefTag, "villain"}, {RefTag, "hero"}}, Range: "12m", RangeLabel: "the last 12 months", Compare: "previous"}},
		{"Captian Nova vs teh Empress", Query{Kind: KindCompare, Measure: MeasureRevenue,
			Subjects: []Ref{{GroupAsset, "a-nova"}, {GroupAsset, "a-vael"}}, Range: "12m", RangeLabel: "the last 12 months", Compare: "previous"}},
		{"Starfall Odyssey Logo share in Germany", Query{Kind: KindShare, Measure: MeasureRevenue, Subjects: []Ref{{GroupAsset, "a-logo"}},
			Filter: Filter{Countries: []string{"DE"}}, Range: "12m", RangeLabel: "the last 12 months", Compare: "none"}},
		{"top 3 countries by units sold in the US marketplace", Query{Kind: KindRank, Measure: MeasureUnits, GroupBy: GroupCountry,
			Filter: Filter{Channels: []string{"marketplace"}, Countries: []string{"US"}}, Range: "12m", RangeLabel: "the last 12 months", Compare: "none", Order: "top", Limit: 3}},
		{"What product categories should we expand into?", Query{Kind: KindExpansion, Measure: MeasureRevenue, GroupBy: GroupCategory,
			Range: "12m", RangeLabel: "the last 12 months", Compare: "none", Limit: 3}},
	} {
		q, err := in.Interpret(c.question, now)
		if err != nil {
			t.Errorf("%q: %v", c.question, err)
			continue
		}
		if diff := cmp.Diff(&c.want, q); diff != "" {
			t.Errorf("%q (-want +got):\n%s", c.question, diff)
		}
	}
}

// TestInterpretRefuses says plainly what it did not understand, and bounds
// the question.
func TestInterpretRefuses(t *testing.T) {
	in := NewInterpreter(testCatalogue(), time.UTC, "")
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	for _, q := range []string{"", "What's the weather?", "How much did Zorblax make?", "How many employees do we have?", "forecast for Nova and Hollowmere"} {
		_, err := in.Interpret(q, now)
		var nu *NotUnderstood
		if !errors.As(err, &nu) || nu.Reason == "" {
			t.Errorf("%q: %v, want a reason it was not understood", q, err)
		}
	}
	long := make([]byte, MaxQuestion+1)
	for i := range long {
		long[i] = 'a'
	}
	if _, err := in.Interpret(string(long), now); phantomos.ErrorCode(err) != phantomos.EINVALID {
		t.Errorf("a question of %d bytes: %v, want EINVALID", len(long), err)
	}
}

// TestValidate rejects names that are not the publisher's and combinations
// the analytics cannot answer, naming the field.
func TestValidate(t *testing.T) {
	c := testCatalogue()
	ok := Query{Kind: KindRank, Measure: MeasureRevenue, GroupBy: GroupAsset, Range: "12m", Compare: "none", Limit: 5}
	if err := ok.Validate(c); err != nil {
		t.Fatalf("valid query: %v", err)
	}
	for name, mutate := range map[string]func(q *Query){
		"another publisher's asset":   func(q *Query) { q.Filter.Assets = []string{"someone-elses-asset"} },
		"another publisher's game IP": func(q *Query) { q.Filter.GameIPs = []string{"ip-other"} },
		"unknown subject":             func(q *Query) { q.Kind, q.Subjects = KindShare, []Ref{{GroupAsset, "ghost"}} },
		"unknown country":             func(q *Query) { q.Filter.Countries = []string{"FR"} },
		"unknown tag":                 func(q *Query) { q.Kind, q.Subjects = KindCompare, []Ref{{RefTag, "sidekick"}, {RefTag, "hero"}} },
		"unknown kind":                func(q *Query) { q.Kind = "poem" },
		"unknown measure":             func(q *Query) { q.Measure = "vibes" },
		"limit too large":             func(q *Query) { q.Limit = MaxLimit + 1 },
		"units by asset":              func(q *Query) { q.Measure = MeasureUnits },
		"orders by country":           func(q *Query) { q.Measure, q.GroupBy = MeasureOrders, GroupCountry },
		"rank without grouping":       func(q *Query) { q.GroupBy = "" },
		"mixed comparison":            func(q *Query) { q.Kind, q.Subjects = KindCompare, []Ref{{GroupAsset, "a-nova"}, {GroupCountry, "DE"}} },
		"bad comparison mode":         func(q *Query) { q.Compare = "lastweek" },
	} {
		q := ok
		mutate(&q)
		if err := q.Validate(c); phantomos.ErrorCode(err) != phantomos.EINVALID {
			t.Errorf("%s: %v, want EINVALID", name, err)
		}
	}
}
