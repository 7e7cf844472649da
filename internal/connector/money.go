package connector

import (
	"fmt"
	"math"
	"strings"

	"github.com/phantomos/phantomos"
)

// Minor converts a decimal amount as platform APIs write it ("19.99",
// "-3.5", "1200", BigCommerce's "35.6300") to minor units of currency,
// exactly (no floating point). Digits beyond the currency's minor unit
// round half away from zero; "" is zero. Unlike ingest.ParseAmount, which
// refuses extra decimals in a person's file, an API's extra precision is
// rounded.
func Minor(amount, currency string) (int64, error) {
	s := strings.TrimSpace(amount)
	if s == "" {
		return 0, nil
	}
	neg := false
	switch s[0] {
	case '-':
		neg, s = true, s[1:]
	case '+':
		s = s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || !digits(whole) || !digits(frac) {
		return 0, fmt.Errorf("amount %q is not a decimal number", amount)
	}
	d := phantomos.MinorDigits(currency)
	roundUp := false
	if len(frac) > d {
		roundUp = frac[d] >= '5'
		frac = frac[:d]
	}
	frac += strings.Repeat("0", d-len(frac))
	var v int64
	tooLarge := fmt.Errorf("amount %q is too large", amount)
	for _, r := range whole + frac {
		digit := int64(r - '0')
		if v > (math.MaxInt64-digit)/10 {
			return 0, tooLarge
		}
		v = v*10 + digit
	}
	if roundUp {
		if v == math.MaxInt64 {
			return 0, tooLarge
		}
		v++
	}
	if neg {
		v = -v
	}
	return v, nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
