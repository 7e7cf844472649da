package amazon

import (
	"fmt"
	"strings"
)

// Regions of the Selling Partner API. A seller's authorization belongs to
// one region, which serves all of its marketplaces there.
const (
	RegionNA = "NA" // North America (and Brazil)
	RegionEU = "EU" // Europe, Middle East, India
	RegionFE = "FE" // Far East: Japan, Australia, Singapore
)

// Endpoint returns the SP-API host of a region.
func Endpoint(region string) (string, error) {
	switch strings.ToUpper(region) {
	case RegionNA:
		return "https://sellingpartnerapi-na.amazon.com", nil
	case RegionEU:
		return "https://sellingpartnerapi-eu.amazon.com", nil
	case RegionFE:
		return "https://sellingpartnerapi-fe.amazon.com", nil
	}
	return "", fmt.Errorf("amazon: unknown region %q (NA, EU or FE)", region)
}

// ConsentHost returns the Seller Central (or Vendor Central) host where a
// seller of region authorizes an app.
func ConsentHost(region string, vendor bool) string {
	if vendor {
		switch strings.ToUpper(region) {
		case RegionEU:
			return "https://vendorcentral.amazon.co.uk"
		case RegionFE:
			return "https://vendorcentral.amazon.co.jp"
		}
		return "https://vendorcentral.amazon.com"
	}
	switch strings.ToUpper(region) {
	case RegionEU:
		return "https://sellercentral-europe.amazon.com"
	case RegionFE:
		return "https://sellercentral.amazon.co.jp"
	}
	return "https://sellercentral.amazon.com"
}

// Marketplace is one Amazon store front: it fixes the currency a sale is
// in and, when the shipping address is not readable, its country.
type Marketplace struct {
	ID       string
	Name     string // the sales channel as reports write it, e.g. Amazon.com
	Country  string // ISO 3166-1 alpha-2
	Currency string // ISO 4217
	Region   string
}

// Marketplaces are the store fronts the connector knows, by marketplace id
// (Amazon's published list).
var marketplaces = []Marketplace{
	{"ATVPDKIKX0DER", "Amazon.com", "US", "USD", RegionNA},
	{"A2EUQ1WTGCTBG2", "Amazon.ca", "CA", "CAD", RegionNA},
	{"A1AM78C64UM0Y8", "Amazon.com.mx", "MX", "MXN", RegionNA},
	{"A2Q3Y263D00KWC", "Amazon.com.br", "BR", "BRL", RegionNA},
	{"A1F83G8C2ARO7P", "Amazon.co.uk", "GB", "GBP", RegionEU},
	{"A1PA6795UKMFR9", "Amazon.de", "DE", "EUR", RegionEU},
	{"A13V1IB3VIYZZH", "Amazon.fr", "FR", "EUR", RegionEU},
	{"APJ6JRA9NG5V4", "Amazon.it", "IT", "EUR", RegionEU},
	{"A1RKKUPIHCS9HS", "Amazon.es", "ES", "EUR", RegionEU},
	{"A1805IZSGTT6HS", "Amazon.nl", "NL", "EUR", RegionEU},
	{"AMEN7PMS3EDWL", "Amazon.com.be", "BE", "EUR", RegionEU},
	{"A2NODRKZP88ZB9", "Amazon.se", "SE", "SEK", RegionEU},
	{"A1C3SOZRARQ6R3", "Amazon.pl", "PL", "PLN", RegionEU},
	{"A33AVAJ2PDY3EV", "Amazon.com.tr", "TR", "TRY", RegionEU},
	{"A21TJRUUN4KGV", "Amazon.in", "IN", "INR", RegionEU},
	{"A2VIGQ35RCS4UG", "Amazon.ae", "AE", "AED", RegionEU},
	{"A17E79C6D8DWNP", "Amazon.sa", "SA", "SAR", RegionEU},
	{"ARBP9OOSHTCHU", "Amazon.eg", "EG", "EGP", RegionEU},
	{"A1VC38T7YXB528", "Amazon.co.jp", "JP", "JPY", RegionFE},
	{"A39IBJ37TRP1C6", "Amazon.com.au", "AU", "AUD", RegionFE},
	{"A19VAU5U5O7RUS", "Amazon.sg", "SG", "SGD", RegionFE},
}

// MarketplaceByID returns a known marketplace.
func MarketplaceByID(id string) (Marketplace, bool) {
	for _, m := range marketplaces {
		if m.ID == id {
			return m, true
		}
	}
	return Marketplace{}, false
}

// marketplaceByChannel returns the marketplace of a sales channel as
// reports and Channel write it ("Amazon.ca", "Amazon.ca Merchant").
func marketplaceByChannel(channel string) (Marketplace, bool) {
	name := strings.TrimSuffix(strings.TrimSuffix(channel, " FBA"), " Merchant")
	for _, m := range marketplaces {
		if strings.EqualFold(m.Name, name) {
			return m, true
		}
	}
	return Marketplace{}, false
}
