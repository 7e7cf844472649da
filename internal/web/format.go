package web

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"

	"github.com/phantomos/phantomos"
)

var funcs = template.FuncMap{
	"int64":        func(n int) int64 { return int64(n) },
	"money":        formatMoney,
	"moneyCompact": formatMoneyCompact,
	"number":       formatNumber,
	"date":         func(t time.Time) string { return t.Format("2 Jan 2006") },
	"datetime":     func(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") },
	"abs": func(f float64) float64 {
		if f < 0 {
			return -f
		}
		return f
	},
	"percent": func(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" },
	"can": func(a *phantomos.Actor, perm string) bool {
		return a != nil && a.Role.Can(phantomos.Permission(perm))
	},
	"country":  countryName,
	"channel":  channelName,
	"platform": platformName,
	"div": func(a, b int64) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	},
	"growth": func(cur int64, prev *int64) string {
		if prev == nil || *prev == 0 {
			return "—"
		}
		return pctChange(float64(cur-*prev) / float64(abs64(*prev)))
	},
	"pctchange": func(r *float64) string {
		if r == nil {
			return "—"
		}
		return pctChange(*r)
	},
	"title": titleCase,
	"list":  func(v ...string) []string { return v },
	// dict passes several values to a template: dict "Key" value ….
	"dict": func(kv ...any) (map[string]any, error) {
		if len(kv)%2 != 0 {
			return nil, fmt.Errorf("dict: odd number of arguments")
		}
		m := make(map[string]any, len(kv)/2)
		for i := 0; i < len(kv); i += 2 {
			k, ok := kv[i].(string)
			if !ok {
				return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
			}
			m[k] = kv[i+1]
		}
		return m, nil
	},
	// confidence shows a confidence as a whole percentage.
	"confidence": func(f float64) string { return strconv.Itoa(int(f*100+0.5)) + "%" },
}

var currencySymbols = map[string]string{"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}

func symbol(currency string) (prefix, suffix string) {
	if s, ok := currencySymbols[currency]; ok {
		return s, ""
	}
	return "", " " + currency
}

// formatMoney formats minor units with grouping and the currency's decimal
// places: 123456 USD is "$1,234.56".
func formatMoney(amount int64, currency string) string {
	digits := phantomos.MinorDigits(currency)
	neg := amount < 0
	if neg {
		amount = -amount
	}
	div := int64(1)
	for range digits {
		div *= 10
	}
	out := formatNumber(amount / div)
	if digits > 0 {
		out += fmt.Sprintf(".%0*d", digits, amount%div)
	}
	pre, suf := symbol(currency)
	if neg {
		pre = "−" + pre
	}
	return pre + out + suf
}

// formatMoneyCompact rounds to whole units and abbreviates large amounts:
// "$1.2M", "$48.3K", "$950".
func formatMoneyCompact(amount int64, currency string) string {
	units := float64(amount)
	for range phantomos.MinorDigits(currency) {
		units /= 10
	}
	pre, suf := symbol(currency)
	if units < 0 {
		pre = "−" + pre
		units = -units
	}
	switch {
	case units >= 1e9:
		return pre + strconv.FormatFloat(units/1e9, 'f', 1, 64) + "B" + suf
	case units >= 1e6:
		return pre + strconv.FormatFloat(units/1e6, 'f', 1, 64) + "M" + suf
	case units >= 1e4:
		return pre + strconv.FormatFloat(units/1e3, 'f', 1, 64) + "K" + suf
	}
	return pre + formatNumber(int64(units+0.5)) + suf
}

// formatNumber groups thousands: 1234567 is "1,234,567".
func formatNumber(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "−" + b.String()
	}
	return b.String()
}

// pctChange formats a relative change with its direction: "▲ 12.5%".
func pctChange(r float64) string {
	arrow := "▲ "
	if r < 0 {
		arrow, r = "▼ ", -r
	}
	return arrow + strconv.FormatFloat(r*100, 'f', 1, 64) + "%"
}
