package web

import (
	"strings"

	"github.com/phantomos/phantomos"
	"github.com/phantomos/phantomos/internal/connector/platforms"
	"github.com/phantomos/phantomos/internal/ingest"
)

// countryName shows "Germany (DE)"; unknown or empty codes as themselves.
func countryName(code string) string {
	if code == "" {
		return "Unknown"
	}
	if n, ok := ingest.CountryName(code); ok {
		return n + " (" + code + ")"
	}
	return code
}

// titleCase turns "online_store" into "Online store", and "" into
// "Unknown" (a file without a channel column, say).
func titleCase(s string) string {
	if s == "" {
		return "Unknown"
	}
	s = strings.ReplaceAll(s, "_", " ")
	return strings.ToUpper(s[:1]) + s[1:]
}

// channelNames are the readable names of the channel values stores and
// their exports write: Shopify's order sources (web, pos, …) and the names
// marketplaces give themselves. Keys are lower case.
var channelNames = map[string]string{
	"web": "Online Store", "online_store": "Online Store", "pos": "Point of Sale",
	"shopify_draft_order": "Draft orders", "draft_order": "Draft orders",
	"iphone": "Shopify mobile (iPhone)", "android": "Shopify mobile (Android)",
	"sell-on-amazon": "Amazon (through Shopify)", "shop": "Shop app",
	"checkout": "Checkout", "buy_button": "Buy Button", "subscription_contract": "Subscriptions",
	"shopify": "Shopify", "amazon": "Amazon", "woocommerce": "WooCommerce", "bigcommerce": "BigCommerce",
	"checkout-draft": "WooCommerce checkout", "admin": "Admin",
}

// channelName names a sale's channel for people: known values by name, a
// bare number (Shopify writes the id of the app that created an order) as
// "Other app (580111)", anything else in title case.
func channelName(raw string) string {
	if raw == "" {
		return "Unknown"
	}
	if n, ok := channelNames[strings.ToLower(raw)]; ok {
		return n
	}
	if strings.Trim(raw, "0123456789") == "" {
		return "Other app (" + raw + ")"
	}
	return titleCase(strings.ReplaceAll(raw, "-", " "))
}

// platformName names a connector type for people: a platform as its
// registration spells it (as its makers do).
func platformName(t string) string {
	for _, reg := range platforms.All() {
		if reg.Type == t {
			return reg.Name
		}
	}
	switch t {
	case phantomos.ConnectorCustom:
		return "Custom API"
	case phantomos.ConnectorCSV:
		return "File import"
	}
	return titleCase(t)
}
