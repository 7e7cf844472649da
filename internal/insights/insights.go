// Package insights finds what a publisher should know about its sales:
// assets accelerating or declining against their own seasonality, revenue
// concentrated on one asset or channel, categories where a popular asset
// has few products, assets gaining share in a channel or country, forecast
// shortfalls against last year and refund-rate spikes.
//
// Each detector is a statistical test on the monthly rollups. A finding is
// reported only when its test says it is unlikely to be noise, and its
// confidence is derived from that test (one minus the adjusted p-value, or
// the forecast probability). Every finding carries its evidence: the
// figures and periods it rests on, each a number the Overview or Assets
// page shows for the same period and filter, the test statistics, and
// links to those pages. Generate runs the detectors, asks a narrator
// (internal/llm) for a summary and recommendations grounded on the
// findings, and merges the result with earlier runs by fingerprint.
//
// Forecast forecasts one scope of revenue (total, game IP, asset, category
// or channel) by month or by ISO week on demand, with its measured
// accuracy, and stores it, serving the stored forecast again until the
// publisher's data or the last complete period changes; TopAssets compares
// the leading assets month by month for the Intelligence page.
package insights

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
	"github.com/phantomos/phantomos/internal/llm"
	"github.com/phantomos/phantomos/internal/store"
)

// Insight is a finding with its evidence, as stored and as the API returns
// it.
type Insight struct {
	ID          string    `json:"id"`
	Type        string    `json:"type"`
	Fingerprint string    `json:"fingerprint"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Confidence  float64   `json:"confidence"`
	Evidence    Evidence  `json:"evidence"`
	Status      string    `json:"status"`
	Source      string    `json:"source"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Kinds of findings: which detector produced one.
const (
	KindAssetRising       = "asset_rising"
	KindAssetDeclining    = "asset_declining"
	KindConcentration     = "concentration"
	KindExpandLine        = "expand_line"
	KindSegmentShare      = "segment_share"
	KindForecastShortfall = "forecast_shortfall"
	KindForecastOutlook   = "forecast_outlook"
	KindRefundSpike       = "refund_spike"
	KindRecommendation    = "recommendation"
	KindSummary           = "summary"
)

// SummaryFingerprint is the fingerprint of the stored narrative summary (a
// recommendation insight whose evidence kind is KindSummary).
const SummaryFingerprint = "summary"

// Evidence is what a finding rests on.
type Evidence struct {
	Kind     string            `json:"kind"`
	Subject  Subject           `json:"subject"`
	Period   analytics.Period  `json:"period"`
	Baseline *analytics.Period `json:"baseline,omitempty"`
	Currency string            `json:"currency"`
	// Figures are amounts the pages show for the same period and filter.
	Figures []Figure `json:"figures"`
	// Stats are the test's numbers: changes, shares, statistics, p-values.
	Stats []Stat `json:"stats"`
	// Series is the monthly series the finding is about, when it has one.
	Series []MonthAmount `json:"series,omitempty"`
	Links  []Link        `json:"links"`
	// Metric is the headline number of the finding; a run that finds it
	// changed materially reopens a dismissed or done insight.
	Metric float64 `json:"metric"`
	// Suggestion is the local engine's recommendation.
	Suggestion string `json:"suggestion,omitempty"`
	// Findings are the fingerprints of the findings a recommendation or
	// the summary rests on.
	Findings []string `json:"findings,omitempty"`
	// Model is the language model that wrote a recommendation, if any.
	Model string `json:"model,omitempty"`
}

// Subject is what a finding is about.
type Subject struct {
	Kind string `json:"kind"` // total, asset, category, channel, country, game_ip
	ID   string `json:"id,omitempty"`
	Name string `json:"name"`
}

// Measures of figures.
const (
	// MeasureAttributed is revenue attributed to the filter's asset (the
	// Assets page's figure for it under the same other filters).
	MeasureAttributed = "attributed_net_revenue"
	// MeasureNet, MeasureGross and MeasureRefunds are the Overview's
	// headline figures under the filter.
	MeasureNet     = "net_revenue"
	MeasureGross   = "gross_revenue"
	MeasureRefunds = "refunds"
	// MeasureForecast is a forecast, which no page can confirm yet.
	MeasureForecast = "forecast_net_revenue"
)

// Figure is one amount in minor units of the evidence's currency.
type Figure struct {
	Label   string           `json:"label"`
	Measure string           `json:"measure"`
	Amount  int64            `json:"amount"`
	Period  analytics.Period `json:"period"`
	Filter  Filter           `json:"filter"`
}

// Filter is the slice of the business a figure covers.
type Filter struct {
	Asset    string `json:"asset,omitempty"`
	Category string `json:"category,omitempty"`
	Channel  string `json:"channel,omitempty"`
	Country  string `json:"country,omitempty"`
	GameIP   string `json:"game_ip,omitempty"`
}

// StoreFilter returns the analytics filter of f without its asset (which
// the Assets page reads as a row, not a filter).
func (f Filter) StoreFilter() store.Filter {
	var sf store.Filter
	add := func(dst *[]string, v string) {
		if v != "" {
			*dst = append(*dst, v)
		}
	}
	add(&sf.Categories, f.Category)
	add(&sf.Channels, f.Channel)
	add(&sf.Countries, f.Country)
	add(&sf.GameIPs, f.GameIP)
	return sf
}

// Stat is one number of a test.
type Stat struct {
	Key   string  `json:"key"`
	Label string  `json:"label"`
	Value float64 `json:"value"`
	// Unit is "fraction" (shown as a percentage), "p" (a p-value),
	// "number" or "index" (HHI, 0 to 10,000).
	Unit string `json:"unit"`
}

// MonthAmount is one month of a series, in minor units.
type MonthAmount struct {
	Month  string `json:"month"`
	Amount int64  `json:"amount"`
}

// Link points at the page and chart that show a finding.
type Link struct {
	Label string `json:"label"`
	Href  string `json:"href"`
}

// finding is a detector's result before it is stored.
type finding struct {
	typ         string
	fingerprint string
	title       string
	description string
	confidence  float64
	evidence    Evidence
	source      string
}

// Generate runs the detectors on publisher pub's data as of now, writes
// the local narrative, stores the findings (merged with earlier runs) and
// returns the publisher's current insights.
func Generate(ctx context.Context, s *store.Store, pub *phantomos.Publisher, now time.Time) ([]Insight, error) {
	return GenerateWith(ctx, s, pub, now, llm.Local{})
}

// GenerateWith is Generate with the narrative written by n (which should
// be guarded: see llm.New). A finding no longer found is removed unless
// someone dismissed it or marked it done; one found again keeps its
// status unless its headline number changed materially.
func GenerateWith(ctx context.Context, s *store.Store, pub *phantomos.Publisher, now time.Time, n llm.Narrator) ([]Insight, error) {
	d, err := load(ctx, s, pub, now)
	if err != nil {
		return nil, err
	}
	fs, err := detect(ctx, s, d)
	if err != nil {
		return nil, err
	}
	narrated, err := narrate(ctx, d, fs, n)
	if err != nil {
		return nil, err
	}
	fs = append(fs, narrated...)
	rows := make([]*store.Insight, 0, len(fs))
	for _, f := range fs {
		ev, err := json.Marshal(f.evidence)
		if err != nil {
			return nil, fmt.Errorf("insights: evidence of %s: %w", f.fingerprint, err)
		}
		rows = append(rows, &store.Insight{Type: f.typ, Fingerprint: f.fingerprint, Title: f.title, Description: f.description,
			Confidence: math.Round(f.confidence*1000) / 1000, Evidence: ev, Source: f.source})
	}
	if err := s.UpsertInsights(ctx, pub.ID, rows, reopen); err != nil {
		return nil, err
	}
	// Rows stamped before this run's were not found again.
	seen := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	if len(rows) > 0 {
		seen = rows[0].UpdatedAt
	}
	if _, err := s.DeleteStaleInsights(ctx, pub.ID, seen); err != nil {
		return nil, err
	}
	return List(ctx, s, pub.ID, store.InsightFilter{})
}

// List returns publisher pub's stored insights under f.
func List(ctx context.Context, s *store.Store, pub phantomos.PublisherID, f store.InsightFilter) ([]Insight, error) {
	rows, err := s.Insights(ctx, pub, f)
	if err != nil {
		return nil, err
	}
	out := make([]Insight, 0, len(rows))
	for _, r := range rows {
		in, err := fromStore(r)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

func fromStore(r *store.Insight) (Insight, error) {
	in := Insight{ID: r.ID, Type: r.Type, Fingerprint: r.Fingerprint, Title: r.Title, Description: r.Description,
		Confidence: r.Confidence, Status: r.Status, Source: r.Source, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	if err := json.Unmarshal(r.Evidence, &in.Evidence); err != nil {
		return in, fmt.Errorf("insights: evidence of %s: %w", r.Fingerprint, err)
	}
	return in, nil
}

// reopen reports whether a finding changed materially since a person
// dismissed it or marked it done: its headline number changed direction,
// or moved by more than half of what it was (and by more than 0.05).
func reopen(old, new *store.Insight) bool {
	var o, n Evidence
	if json.Unmarshal(old.Evidence, &o) != nil || json.Unmarshal(new.Evidence, &n) != nil {
		return false
	}
	if o.Metric == 0 && n.Metric == 0 {
		return false
	}
	if o.Metric*n.Metric < 0 {
		return true
	}
	diff := math.Abs(n.Metric - o.Metric)
	return diff > 0.05 && diff > 0.5*math.Abs(o.Metric)
}

// detect runs every detector on d.
func detect(ctx context.Context, s *store.Store, d *dataset) ([]finding, error) {
	if len(d.months) < 3 {
		return nil, nil
	}
	var out []finding
	out = append(out, assetTrends(d)...)
	out = append(out, concentration(d)...)
	out = append(out, expandLines(d)...)
	seg, err := segmentShares(ctx, s, d)
	if err != nil {
		return nil, err
	}
	out = append(out, seg...)
	out = append(out, forecastFindings(d)...)
	refunds, err := refundSpikes(ctx, s, d)
	if err != nil {
		return nil, err
	}
	out = append(out, refunds...)
	out = withoutContradictions(out)
	for i := range out {
		out[i].source = store.SourceLocal
		out[i].evidence.Currency = d.pub.ReportingCurrency
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].fingerprint < out[j].fingerprint })
	return out, nil
}

// withoutContradictions drops the advice to expand the line of an asset
// that is declining: the decline is the more urgent news, and the two
// recommendations would pull against each other.
func withoutContradictions(fs []finding) []finding {
	declining := map[string]bool{}
	for _, f := range fs {
		if f.evidence.Kind == KindAssetDeclining {
			declining[f.evidence.Subject.ID] = true
		}
	}
	out := fs[:0]
	for _, f := range fs {
		if f.evidence.Kind == KindExpandLine && declining[f.evidence.Subject.ID] {
			continue
		}
		out = append(out, f)
	}
	return out
}

// narrate asks n for the narrative of the findings and turns it into a
// summary insight and recommendation insights, each carrying the evidence
// of the findings it rests on.
func narrate(ctx context.Context, d *dataset, fs []finding, n llm.Narrator) ([]finding, error) {
	b := &llm.Brief{Publisher: d.pub.Name, Currency: d.pub.ReportingCurrency, AsOf: string(d.today)}
	byFP := map[string]*finding{}
	for i := range fs {
		f := &fs[i]
		byFP[f.fingerprint] = f
		ev, err := json.Marshal(briefEvidence(f.evidence))
		if err != nil {
			return nil, err
		}
		b.Findings = append(b.Findings, llm.Finding{ID: f.fingerprint, Type: f.typ, Title: f.title, Description: f.description,
			Confidence: math.Round(f.confidence*1000) / 1000, Evidence: ev, Suggestion: f.evidence.Suggestion})
	}
	if len(fs) == 0 {
		// Nothing to explain: the local words say so without a call.
		n = llm.Local{}
	}
	nar, err := n.Narrate(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("insights: narrative: %w", err)
	}
	source := store.SourceLocal
	if nar.Source == llm.SourceLLM {
		source = store.SourceLLM
	}
	var out []finding
	if len(d.months) > 0 {
		// The summary is stored even when nothing was found, so that the
		// run is remembered and says so.
		var all []string
		for _, f := range fs {
			all = append(all, f.fingerprint)
		}
		p := d.window(12)
		last := len(d.months) - 1
		out = append(out, finding{typ: store.InsightRecommendation, fingerprint: SummaryFingerprint, title: "Summary",
			description: nar.Summary, confidence: meanConfidence(fs), source: source,
			evidence: Evidence{Kind: KindSummary, Subject: Subject{Kind: "total", Name: d.pub.Name}, Period: p,
				Currency: d.pub.ReportingCurrency, Findings: all, Model: nar.Model,
				Figures: []Figure{{Label: "Total net revenue, " + periodName(p), Measure: MeasureNet, Amount: sumNet(d.total, max(0, last-11), last), Period: p}},
				Links:   []Link{{Label: "Overview, " + periodName(p), Href: "/overview" + query(p)}}}})
	}
	// A recommendation is known by the findings it rests on, so that the
	// same advice merges across runs however it is worded.
	seen := map[string]bool{}
	for _, r := range nar.Recommendations {
		var refs []*finding
		var ids []string
		for _, id := range r.Findings {
			if f, ok := byFP[id]; ok && !slices.Contains(ids, id) {
				refs = append(refs, f)
				ids = append(ids, id)
			}
		}
		if len(refs) == 0 {
			continue
		}
		sort.Strings(ids)
		key := strings.Join(ids, "|")
		if seen[key] {
			continue
		}
		seen[key] = true
		ev := Evidence{Kind: KindRecommendation, Subject: refs[0].evidence.Subject, Period: refs[0].evidence.Period,
			Baseline: refs[0].evidence.Baseline, Currency: d.pub.ReportingCurrency, Findings: ids, Model: nar.Model}
		conf := 1.0
		for _, f := range refs {
			ev.Figures = append(ev.Figures, f.evidence.Figures...)
			ev.Stats = append(ev.Stats, f.evidence.Stats...)
			ev.Links = append(ev.Links, f.evidence.Links...)
			conf = math.Min(conf, f.confidence)
		}
		out = append(out, finding{typ: store.InsightRecommendation, fingerprint: "rec:" + shortHash(key), title: firstSentence(r.Text),
			description: r.Text, confidence: conf, evidence: ev, source: source})
	}
	return out, nil
}

// briefEvidence is the evidence given to a narrator: everything but the
// links and the local suggestion, which the brief carries apart.
func briefEvidence(e Evidence) Evidence {
	e.Links, e.Suggestion = nil, ""
	return e
}

func meanConfidence(fs []finding) float64 {
	if len(fs) == 0 {
		return 0.5
	}
	var s float64
	for _, f := range fs {
		s += f.confidence
	}
	return s / float64(len(fs))
}

func shortHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// firstSentence returns the headline of a recommendation: its part before
// a colon when that is short, else its first sentence, at most 140
// characters.
func firstSentence(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, ": "); i > 0 && i <= 80 {
		return s[:i]
	}
	if i := strings.Index(s, ". "); i > 0 {
		s = s[:i+1]
	}
	if r := []rune(s); len(r) > 140 {
		s = string(r[:139]) + "…"
	}
	return s
}
