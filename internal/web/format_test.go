package web

import "testing"

func TestFormatMoney(t *testing.T) {
	for _, tc := range []struct {
		amount   int64
		currency string
		want     string
	}{
		{123456, "USD", "$1,234.56"},
		{5, "EUR", "€0.05"},
		{-250, "GBP", "−£2.50"},
		{1234567, "JPY", "¥1,234,567"},
		{1000, "CHF", "10.00 CHF"},
		{1234, "KWD", "1.234 KWD"},
	} {
		if got := formatMoney(tc.amount, tc.currency); got != tc.want {
			t.Errorf("formatMoney(%d, %s) = %q, want %q", tc.amount, tc.currency, got, tc.want)
		}
	}
}

func TestFormatMoneyCompact(t *testing.T) {
	for _, tc := range []struct {
		amount int64
		want   string
	}{
		{95000, "$950"},
		{4830000, "$48.3K"},
		{123456789, "$1.2M"},
		{999, "$10"},
	} {
		if got := formatMoneyCompact(tc.amount, "USD"); got != tc.want {
			t.Errorf("formatMoneyCompact(%d) = %q, want %q", tc.amount, got, tc.want)
		}
	}
}

func TestFormatNumber(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", -1234567: "−1,234,567"} {
		if got := formatNumber(n); got != want {
			t.Errorf("formatNumber(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestTitleCase(t *testing.T) {
	for in, want := range map[string]string{"online_store": "Online store", "": "Unknown", "x": "X"} {
		if got := titleCase(in); got != want {
			t.Errorf("titleCase(%q) = %q, want %q", in, got, want)
		}
	}
}
