package connector

import "testing"

func TestMinor(t *testing.T) {
	for _, c := range []struct {
		amount, currency string
		want             int64
	}{
		{"19.99", "USD", 1999}, {"19.9", "USD", 1990}, {"19", "USD", 1900}, {"0.0", "EUR", 0}, {"", "EUR", 0},
		{"-3.50", "USD", -350}, {"+1.01", "USD", 101}, {".5", "USD", 50},
		{"1200", "JPY", 1200}, {"1200.0", "JPY", 1200}, {"1200.5", "JPY", 1201}, {"1.234", "BHD", 1234},
		{"10.005", "USD", 1001}, {"10.004", "USD", 1000}, {"-10.005", "USD", -1001},
		{"92233720368547758.07", "USD", 9223372036854775807},
	} {
		got, err := Minor(c.amount, c.currency)
		if err != nil || got != c.want {
			t.Errorf("Minor(%q, %s) = %d, %v; want %d", c.amount, c.currency, got, err, c.want)
		}
	}
	for _, bad := range []string{"abc", "1.2.3", "1,50", "1e3", "-", ".", "92233720368547758.08", "99999999999999999999"} {
		if got, err := Minor(bad, "USD"); err == nil {
			t.Errorf("Minor(%q) = %d, want error", bad, got)
		}
	}
}
