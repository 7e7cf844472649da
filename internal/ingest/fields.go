package ingest

import (
	"errors"

	"golang.org/x/text/currency"

	"github.com/phantomos/phantomos"
)

// ParseAmount parses a decimal amount ("19.99", "-3.5") into minor units of
// cur, with the importer's rules: exact, no more decimals than the currency
// has (unless zeros), at most 10^15 minor units. Every path that reads
// money from text (files, the push API) goes through here.
func ParseAmount(s, cur string) (int64, error) {
	return parseMinor(s, phantomos.MinorDigits(cur))
}

// ParseCurrency returns cur as an upper-case ISO 4217 code, refusing codes
// that are well formed but not currencies ("ABC").
func ParseCurrency(cur string) (string, error) {
	c, err := normCurrency(cur)
	if err != nil {
		return "", err
	}
	if _, err := currency.ParseISO(c); err != nil {
		return "", errors.New("is not a known ISO 4217 currency")
	}
	return c, nil
}

// ParseCountry returns an ISO 3166-1 alpha-2 code for a code or an English
// country name, as the importer reads them.
func ParseCountry(s string) (string, error) { return normCountry(s) }
