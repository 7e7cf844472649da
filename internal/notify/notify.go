// Package notify decides which insights reach whom and renders and sends
// them: email (through internal/mail), outbound webhooks signed in the
// Standard Webhooks style, and Slack incoming webhooks in Block Kit. It
// also renders the weekly digest (with its PNG chart) and scheduled CSV
// reports, and makes the unsubscribe links' tokens.
//
// What is due is decided by the caller (the web server's sweep, run as a
// River job); this package holds no state.
package notify

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/store"
)

// Kinds a rule chooses among, in the order pages list them.
var Kinds = []string{"risk", "trend", "opportunity", "forecast"}

// kindTypes maps a rule's kinds to the insight types they cover.
var kindTypes = map[string][]string{
	"risk":        {store.InsightRisk},
	"trend":       {store.InsightTrend},
	"opportunity": {store.InsightGrowth, store.InsightRecommendation},
	"forecast":    {store.InsightForecast},
}

// KindOf returns the rule kind of insight type typ ("" when none).
func KindOf(typ string) string {
	for k, ts := range kindTypes {
		if slices.Contains(ts, typ) {
			return k
		}
	}
	return ""
}

// Bounds of what a user enters.
const (
	MaxURLLength   = 500
	MaxEmailLength = 254
)

// Alert is one insight as a notification carries it: what it says and
// where its evidence is.
type Alert struct {
	Fingerprint string  `json:"fingerprint"`
	Kind        string  `json:"kind"` // risk, trend, opportunity, forecast
	Title       string  `json:"title"`
	Description string  `json:"description"`
	Confidence  float64 `json:"confidence"`
	// Link is the absolute address of the evidence.
	Link string `json:"link"`
}

// Subject is what an insight is about, for matching a rule's scope.
type Subject struct {
	GameIPs []string // the game IPs it concerns (its own, or its asset's)
	Assets  []string
}

// Matches reports whether rule p wants an insight of type typ, of
// confidence conf, about subj.
func Matches(p *store.NotifyPref, typ string, conf float64, subj Subject) bool {
	if !slices.Contains(p.Kinds, KindOf(typ)) || conf < p.MinConfidence {
		return false
	}
	if len(p.GameIPs) == 0 && len(p.Assets) == 0 {
		return true
	}
	for _, id := range subj.Assets {
		if slices.Contains(p.Assets, id) {
			return true
		}
	}
	for _, id := range subj.GameIPs {
		if slices.Contains(p.GameIPs, id) {
			return true
		}
	}
	return false
}

// Validate checks rule p's values (not its target, see CheckTarget) and
// cleans them.
func Validate(p *store.NotifyPref) error {
	var kinds []string
	for _, k := range p.Kinds {
		if _, ok := kindTypes[k]; !ok {
			return phantomos.Errorf(phantomos.EINVALID, "Insight kind %q must be one of %s.", k, strings.Join(Kinds, ", "))
		}
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return phantomos.Errorf(phantomos.EINVALID, "Choose at least one kind of insight.")
	}
	p.Kinds = kinds
	if p.MinConfidence < 0 || p.MinConfidence > 1 || p.MinConfidence != p.MinConfidence {
		return phantomos.Errorf(phantomos.EINVALID, "Minimum confidence must be between 0 and 100%%.")
	}
	switch p.Rhythm {
	case store.RhythmImmediate, store.RhythmDaily, store.RhythmWeekly:
	default:
		return phantomos.Errorf(phantomos.EINVALID, "Rhythm %q must be immediate, daily or weekly.", p.Rhythm)
	}
	if len(p.GameIPs)+len(p.Assets) > store.MaxNotifyScope {
		return phantomos.Errorf(phantomos.EINVALID, "A rule names at most %d game IPs and assets.", store.MaxNotifyScope)
	}
	for _, id := range append(slices.Clone(p.GameIPs), p.Assets...) {
		if !phantomos.ValidID(id) {
			return phantomos.Errorf(phantomos.EINVALID, "%q is not a game IP or asset id.", id)
		}
	}
	switch p.Channel {
	case store.ChannelEmail:
		if p.Target != "" {
			if err := CheckEmail(p.Target); err != nil {
				return err
			}
		}
	case store.ChannelWebhook, store.ChannelSlack:
	default:
		return phantomos.Errorf(phantomos.EINVALID, "Channel %q must be email, webhook or slack.", p.Channel)
	}
	return nil
}

// CheckEmail checks that e is one plain address.
func CheckEmail(e string) error {
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || len(e) > MaxEmailLength {
		return phantomos.Errorf(phantomos.EINVALID, "%q is not an email address.", truncate(e, 80))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Percent formats a confidence for people.
func Percent(c float64) string { return fmt.Sprintf("%.0f%%", c*100) }
