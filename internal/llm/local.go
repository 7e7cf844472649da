package llm

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// Local writes narratives from templates, offline. It uses the findings'
// own titles and suggestions, so every number it writes is one the
// detectors computed.
type Local struct{}

// typeOrder ranks finding types for the summary: risks first, then trends,
// opportunities and forecasts.
var typeOrder = map[string]int{"risk_alert": 0, "trend_detection": 1, "growth_opportunity": 2, "forecast": 3, "recommendation": 4}

// typeNoun names a finding type in a count ("2 risk alerts").
var typeNoun = map[string][2]string{
	"risk_alert":         {"risk alert", "risk alerts"},
	"trend_detection":    {"trend", "trends"},
	"growth_opportunity": {"growth opportunity", "growth opportunities"},
	"forecast":           {"forecast note", "forecast notes"},
	"recommendation":     {"recommendation", "recommendations"},
}

// Narrate summarises the three most important findings in a few sentences
// and turns each finding's suggestion into a recommendation, most confident
// first.
func (Local) Narrate(_ context.Context, b *Brief) (*Narrative, error) {
	fs := append([]Finding(nil), b.Findings...)
	sort.SliceStable(fs, func(i, j int) bool {
		if typeOrder[fs[i].Type] != typeOrder[fs[j].Type] {
			return typeOrder[fs[i].Type] < typeOrder[fs[j].Type]
		}
		return fs[i].Confidence > fs[j].Confidence
	})
	n := &Narrative{Source: SourceLocal}
	if len(fs) == 0 {
		n.Summary = "Nothing stands out in the data at the moment: no significant trend, risk or opportunity was found. Findings appear here as sales accumulate."
		return n, nil
	}
	var b2 strings.Builder
	for i, f := range fs {
		if i == 3 {
			break
		}
		b2.WriteString(sentence(f.Title))
		b2.WriteString(" ")
	}
	counts := map[string]int{}
	for _, f := range fs {
		counts[f.Type]++
	}
	var parts []string
	for _, t := range []string{"risk_alert", "trend_detection", "growth_opportunity", "forecast"} {
		if c := counts[t]; c > 0 {
			noun := typeNoun[t][0]
			if c > 1 {
				noun = typeNoun[t][1]
			}
			parts = append(parts, fmt.Sprintf("%d %s", c, noun))
		}
	}
	if len(parts) > 0 {
		b2.WriteString("In all: " + joinWords(parts) + ", each with its evidence below.")
	}
	n.Summary = strings.TrimSpace(b2.String())

	byConfidence := append([]Finding(nil), b.Findings...)
	sort.SliceStable(byConfidence, func(i, j int) bool { return byConfidence[i].Confidence > byConfidence[j].Confidence })
	for _, f := range byConfidence {
		if f.Suggestion == "" {
			continue
		}
		n.Recommendations = append(n.Recommendations, Recommendation{Text: f.Suggestion, Findings: []string{f.ID}})
		if len(n.Recommendations) == 5 {
			break
		}
	}
	return n, nil
}

// sentence ends s with a full stop unless it has one.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasSuffix(s, ".") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

// joinWords joins ["a", "b", "c"] as "a, b and c".
func joinWords(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
