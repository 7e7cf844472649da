package insights

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/analytics"
)

var currencySymbols = map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}

// money formats minor units as whole units of the currency with grouping:
// 1234567 USD is "$12,346".
func money(amount int64, currency string) string {
	units := float64(amount) / math.Pow10(phantomos.MinorDigits(currency))
	neg := units < 0
	if neg {
		units = -units
	}
	s := group(int64(math.Round(units)))
	pre, suf := "", " "+currency
	if sym, ok := currencySymbols[currency]; ok {
		pre, suf = sym, ""
	}
	if neg {
		pre = "-" + pre
	}
	return pre + s + suf
}

func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// pct formats a fraction as a percentage without sign: whole percents from
// 10% up, one decimal below.
func pct(f float64) string {
	f = math.Abs(f) * 100
	if f >= 9.95 {
		return strconv.FormatFloat(math.Round(f), 'f', 0, 64) + "%"
	}
	return strconv.FormatFloat(f, 'f', 1, 64) + "%"
}

// signedPct formats a change with its direction: "+85%", "-72%".
func signedPct(f float64) string {
	if f < 0 {
		return "-" + pct(f)
	}
	return "+" + pct(f)
}

// upDown names the direction of a change.
func upDown(f float64) string {
	if f < 0 {
		return "down"
	}
	return "up"
}

// pValue formats a p-value the way a reader can take in: "p < 0.001",
// "p = 0.02".
func pValue(p float64) string {
	switch {
	case p < 0.001:
		return "p < 0.001"
	case p < 0.01:
		return "p = " + strconv.FormatFloat(p, 'f', 3, 64)
	}
	return "p = " + strconv.FormatFloat(p, 'f', 2, 64)
}

// monthName formats "2026-02" as "Feb 2026".
func monthName(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	return t.Format("Jan 2006")
}

// periodName formats a period of whole months: "Dec 2025–Feb 2026", or
// one month alone.
func periodName(p analytics.Period) string {
	from, to := string(p.From)[:7], string(p.To)[:7]
	if from == to {
		return monthName(from)
	}
	return monthName(from) + "–" + monthName(to)
}

// titleWord capitalises a category or channel key for text: "home_decor"
// is "Home decor".
func titleWord(s string) string {
	if s == "" {
		return s
	}
	s = strings.ReplaceAll(s, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// accuracyWords states a backtest error of grain g in plain words.
func accuracyWords(mape *float64, origins int, g grainSpec) string {
	if mape == nil {
		return fmt.Sprintf("Not enough history yet to measure accuracy: that takes %d %s of sales.", g.minTrain+3, g.units())
	}
	p := int(math.Ceil(*mape * 100))
	if p < 1 {
		p = 1
	}
	if *mape > 0.5 {
		return fmt.Sprintf("Rough: one %s ahead, past forecasts were off by %d%% on average (%d backtests), so read the range rather than the line.", g.unit, p, origins)
	}
	return fmt.Sprintf("Typically within ±%d%% a %s ahead (average error of %d one-%s-ahead backtests).", p, g.unit, origins, g.unit)
}
